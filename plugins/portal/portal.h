/*
 * portal.h -- the portal plugin's insides, shared by its files: what
 * Dagtilbudsportalen shows (GET /v1/portal/dagtilbud.geojson) and signed
 * webhooks for every hændelse (Standard Webhooks, Ed25519).
 *
 * The seams:
 *   config.c    the plugin's config, validated strictly (portal_config)
 *   window.c    the shared in-memory window of recent hændelser
 *   state.c     durable positions and parked events: <data_dir>/portal/webhooks.json
 *   curluv.c    libcurl's multi-socket interface driven by the host's libuv loop
 *   deliver.c   one subscriber's delivery: in order, retries, parking, replay
 *   routes.c    GET /v1/portal/webhooks, POST /v1/portal/webhooks/replay
 *   geojson.c   GET /v1/portal/dagtilbud.geojson, built on the pool and cached
 *   openapi.c   the three routes' OpenAPI description (ABI 1.4)
 *   plugin.c    the descriptor: init, start, stop, free, consume
 *
 * Everything runs on the loop thread except the work functions handed to
 * work_submit (state writes, store reads for lagging subscribers, the
 * GeoJSON build), which touch only what their work item owns.
 *
 * The queue (the design in one paragraph). The register's hændelser table
 * is already a durable, gapless, ordered log, so the plugin does not copy
 * events into a file of its own: its queue file holds, per subscriber, the
 * position (the last sekvensnummer delivered or parked) and the parked
 * events, and once for all "queuedUpTo", the newest sekvensnummer the feed
 * has handed over. A subscriber's pending events are exactly
 * (position, queuedUpTo] of the register's log. consume_done(up_to) is
 * called only after a write with queuedUpTo >= up_to is on disk, so the
 * feed's cursor never runs ahead of what the file promises to deliver.
 * Recent events are kept in one window shared by all subscribers, bounded
 * by "memory_events"; a subscriber that lags behind the window's start
 * reads its next events from the register (read_haendelser, a page at a
 * time on the pool) instead, so memory stays bounded however far a dead
 * subscriber lags.
 */
#ifndef PORTAL_H
#define PORTAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <dtr/plugin.h>

/* ---- config (config.c) ------------------------------------------------------ */

#define PORTAL_MAX_RETRIES 32
#define PORTAL_DEFAULT_TIMEOUT_MS 10000
#define PORTAL_DEFAULT_MEMORY_EVENTS 10000

/* A subscriber's Standard Webhooks secret ("whsec_" + base64), decoded:
 * the HMAC-SHA256 key of its v1 signature; len 0 when it has none. */
#define PORTAL_SECRET_MIN 24
#define PORTAL_SECRET_MAX 64
typedef struct portal_secret {
    unsigned char key[PORTAL_SECRET_MAX];
    size_t len;
} portal_secret;

typedef struct portal_config {
    char **urls;            /* the subscribers' URLs, distinct */
    portal_secret *secrets; /* [n_urls] */
    size_t n_urls;
    uint64_t retry_ms[PORTAL_MAX_RETRIES]; /* delays before retry 1, 2, ... */
    size_t n_retry;                        /* N delays: N + 1 attempts */
    uint64_t timeout_ms;                   /* per request */
    int64_t fra;                           /* 0: not given */
    size_t memory_events;                  /* the window's capacity */
} portal_config;

/* Reads and validates config (the plugin's subtree; NULL or {} for the
 * defaults). Returns 0, or -1 with err naming the offending key. */
int portal_config_read(const json_t *config, portal_config *out, char *err, size_t errlen);
void portal_config_free(portal_config *c);

/* ---- events and the window (window.c) ----------------------------------------- */

/* What a webhook carries of one hændelse. */
typedef struct portal_event {
    int64_t seq;
    char operation[16];
    char entitet[24];
    char nummer[8];
} portal_event;

/* Reads an event from a hændelse object ({"sekvensnummer", "operation",
 * "entitet", "nummer", ...}). Returns 0, or -1 when a field is missing. */
int portal_event_from_json(const json_t *j, portal_event *ev);

/* The webhook body of ev: compact JSON, NUL-terminated, malloc'd. */
char *portal_event_body(const portal_event *ev);

/* The webhook id of ev: "dtr-<sekvensnummer>" (stable across retries and
 * subscribers; a parked event is named by it too). */
void portal_event_id(int64_t seq, char out[32]);
/* Parses "dtr-<n>"; returns n, or 0 when id is not one. */
int64_t portal_event_id_parse(const char *id);

/* A ring of the most recent events, contiguous in sekvensnummer: it holds
 * [lo, lo + count). Appending to a full window drops the oldest. */
typedef struct portal_window {
    portal_event *ring;
    size_t cap, head, count; /* head: the slot of lo */
    int64_t lo;
} portal_window;

int portal_window_init(portal_window *w, size_t cap);
void portal_window_free(portal_window *w);
/* Appends ev; an event that does not follow the last one (a gap) restarts
 * the window at ev. */
void portal_window_append(portal_window *w, const portal_event *ev);
/* The event with sekvensnummer seq, or NULL when the window does not hold it. */
const portal_event *portal_window_get(const portal_window *w, int64_t seq);

/* ---- HTTP client (curluv.c) --------------------------------------------------- */

typedef struct portal_http portal_http;

/* One outbound request, owned by the client (curluv.c) until done ran or
 * portal_http_cancel returned. */
typedef struct portal_http_req portal_http_req;
/* Called on the loop thread when a request ended: http_status is the
 * response's status (0 when none came), error a text when the transfer
 * failed (connect error, timeout), else NULL. */
typedef void (*portal_http_done_fn)(void *udata, long http_status, const char *error);

portal_http *portal_http_new(void *uv_loop, char *err, size_t errlen);
/* Stops every request (their done is not called) and closes the handles;
 * the memory goes when the loop has run their close callbacks. */
void portal_http_close(portal_http *h);

/* POSTs body (borrowed until done or cancelled) as application/json to
 * url, with extra headers ("Name: value" lines, copied). Returns a request
 * handle, or NULL on failure (err filled). */
portal_http_req *portal_http_post(portal_http *h, const char *url, const char *body, size_t len,
                                  const char *const *headers, size_t n_headers, uint64_t timeout_ms,
                                  portal_http_done_fn done, void *udata, char *err, size_t errlen);
/* Abandons a request before its done ran; done will not be called. */
void portal_http_cancel(portal_http *h, portal_http_req *r);
/* Requests not yet done. */
size_t portal_http_active(const portal_http *h);

/* ---- the instance ---------------------------------------------------------------- */

/* A parked (dead-letter) event of one subscriber. */
typedef struct portal_parked {
    portal_event ev;
    unsigned attempts;
    int64_t parked_at; /* unix seconds */
    char last_error[128];
    bool replay; /* queued to be sent again (POST .../replay) */
} portal_parked;

typedef struct portal portal;

/* One subscriber: its URL and where its delivery stands. */
typedef struct portal_sub {
    portal *p;
    char *url;
    portal_secret secret; /* len 0: only the v1a (Ed25519) signature */
    int64_t position;     /* the last sekvensnummer delivered or parked; -1: not placed yet
                             (it starts at the first event the feed hands over) */
    /* the attempt in flight or waiting for its retry */
    bool busy;
    bool current_is_replay;
    portal_event current;
    unsigned attempts; /* attempts made for current */
    char last_error[128];
    portal_http_req *req;
    char *body;
    dtr_timer *retry_timer;
    /* events read from the register for a subscriber behind the window */
    portal_event *lag;
    size_t lag_n, lag_pos;
    bool fetching;
    dtr_timer *fetch_timer; /* a fetch that failed is tried again after a pause */
    dtr_reader *reader;     /* its own, for the pool; opened on first need */
    /* dead letters, ordered by sekvensnummer */
    portal_parked *parked;
    size_t n_parked, cap_parked;
    uint64_t delivered;
} portal_sub;

/* The consume batch waiting for its events to be durably queued. */
typedef struct portal_pending_consume {
    bool waiting;
    int64_t up_to;
} portal_pending_consume;

/* The GeoJSON cache and the requests waiting for a build (geojson.c). */
typedef struct portal_geo portal_geo;

struct portal {
    dtr_plugin *self;
    const dtr_host_api *api;
    portal_config cfg;
    char *dir;        /* <data_dir>/portal */
    char *state_path; /* <dir>/webhooks.json */
    portal_sub *subs;
    size_t n_subs;
    portal_window window;
    int64_t queued_up_to; /* the newest sekvensnummer handed over by the feed */
    int64_t durable_queued_up_to;
    portal_pending_consume consume;
    /* state writes (state.c): one at a time, coalesced */
    bool writing, dirty, write_failed;
    dtr_timer *write_retry;
    portal_http *http;
    portal_geo *geo;
    bool started, stopping;
    uint64_t generation; /* the order of instances in this process (plugin.c) */
    portal *next_live;
};

/* Whether p is the newest live instance. During a reload the old and the
 * new instance live side by side for a moment; only the newest writes the
 * state file and starts deliveries, so an old instance's late write can
 * never put the file back behind what the new one told the feed (plugin.c). */
bool portal_is_newest(const portal *p);

/* ---- state (state.c) --------------------------------------------------------- */

/* Reads <data_dir>/portal/webhooks.json (creating the directory) into p's
 * subscribers; subscribers not in the file start unplaced (-1) or, when
 * the file exists, at its queuedUpTo. Blocking: init only. Returns 0 or -1
 * (err filled: an unreadable or corrupt file stops the start rather than
 * losing positions). */
int portal_state_load(portal *p, char *err, size_t errlen);
/* Called when an instance is freed: a write of an older instance may
 * reach the disk again (it is the newest once more). */
void portal_state_forget(const portal *p);
/* Marks the state changed and writes it (on the pool, atomically) as soon
 * as no other write is in flight. */
void portal_state_changed(portal *p);
/* The state as JSON (the file's content; also the base of the listing). */
json_t *portal_state_json(const portal *p);
/* Writes data to path atomically: temp file, fsync, rename, fsync of the
 * directory. Any thread. Returns 0 or -1 (errno kept). */
int portal_write_atomic(const char *dir, const char *path, const char *data, size_t len);

/* ---- delivery (deliver.c) ------------------------------------------------------ */

/* Starts the next delivery of s when it is idle and has one. */
void portal_sub_pump(portal_sub *s);
/* Every subscriber's pump. */
void portal_pump_all(portal *p);
/* Stops s's work on the loop: cancels its request and timers. */
void portal_sub_stop(portal_sub *s);
void portal_sub_free(portal_sub *s);
/* Appends a parked event to s, in sekvensnummer order. */
int portal_sub_park(portal_sub *s, const portal_parked *pk);
/* Queues parked events of s for replay: all (ids NULL) or those named.
 * Returns the number newly queued; each is appended to queued (JSON). */
size_t portal_sub_replay(portal_sub *s, const int64_t *seqs, size_t n, json_t *queued);

/* ---- routes (routes.c, geojson.c) ------------------------------------------------- */

dtr_status portal_routes_add(portal *p, char *err, size_t errlen);
dtr_status portal_geo_routes_add(portal *p, char *err, size_t errlen);
portal_geo *portal_geo_new(portal *p);
/* Answers the waiting requests with 503 and drops the cache. */
void portal_geo_stop(portal_geo *g);
void portal_geo_free(portal_geo *g);

/* Answers 401 / 403 as the API says. */
void portal_respond_401(portal *p, dtr_request *req);

/* ---- openapi.c ---------------------------------------------------------------- */

/* Describes the plugin's three routes to the host (openapi_describe), after
 * they were added. Does nothing on a host without openapi_describe (a
 * test's fake host); a refusal is logged. Loop thread (init). */
void portal_openapi_describe(const dtr_host_api *api, dtr_plugin *self);

#endif
