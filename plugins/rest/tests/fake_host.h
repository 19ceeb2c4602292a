/*
 * fake_host.h -- a fake host for the REST plugin's unit tests: the ABI 1.1
 * table implemented in memory, so that the plugin's handlers run without a
 * server, a store or a socket (DESIGN.md: "tests can hand a plugin a fake
 * host").
 *
 * What it fakes:
 *   - routes: route_add records them; fake_call() matches a method and a
 *     target ("/v1/x/G00001?limit=2") against them like the host's router
 *     (literal segments before {param}) and runs the handler;
 *   - requests and answers: a fake_req holds the request's parts and
 *     captures the answer (status, headers, body; streamed bytes appended);
 *   - clients: the Authorization header value names a client registered
 *     with fake_client_add; other values are wrong credentials;
 *   - the register: records in memory (fake_put), read_get/read_list/
 *     read_history/read_haendelser/read_latest/snapshots over them;
 *   - commands: command_submit records the command (deep copies) and keeps
 *     its callback until fake_command_finish() answers it;
 *   - the work queue: work_submit queues; fake_run_work() runs the queued
 *     items (work, then done) in order;
 *   - the set's OpenAPI descriptions (1.4): openapi_paths answers a copy of
 *     fake.openapi_paths.
 * Everything is global: one fake host per test process, reset by
 * fake_reset().
 */
#ifndef REST_FAKE_HOST_H
#define REST_FAKE_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <dtr/plugin.h>

/* The request type the ABI leaves opaque, defined by the fake. */
struct dtr_request {
    char method[8];
    char *path;
    char *query; /* raw, without '?'; NULL when none */
    json_t *params;
    json_t *headers; /* lower-case name -> value */
    unsigned char *body;
    size_t body_len;
    /* the answer */
    int status; /* 0 until answered or streaming */
    json_t *resp_headers;
    char *content_type;
    char *out;
    size_t out_len;
    bool ended;     /* respond or stream_end ran */
    bool streaming; /* stream_begin ran */
    bool aborted;
    char client_id[64];
    dtr_abort_fn on_abort;
    void *abort_udata;
    dtr_drain_fn on_drain;
    void *drain_udata;
};

typedef struct dtr_request fake_req;

/* The last command submitted, copied. */
typedef struct fake_command {
    bool present;
    dtr_op op;
    dtr_level level;
    char nummer[16];
    bool has_nummer;
    json_t *body; /* copy, NULL when none */
    int64_t if_match;
    char request_id[64];
    char idempotency_key[300];
    bool has_key;
    char *body_bytes;
    size_t body_len;
    char client_id[64];
    bool has_client;
} fake_command;

typedef struct fake_state {
    int public_read;
    int stream_room;             /* what stream_write answers (1 by default) */
    int fail_reads;              /* read_* answer 503 while set */
    int fail_submit;             /* command_submit answers DTR_ERROR while set */
    int64_t seq;                 /* read_latest / snapshot_begin */
    size_t readers_open;         /* reader_open minus reader_close */
    size_t snapshots_open;       /* snapshot_begin minus snapshot_end */
    size_t client_snapshots_max; /* snapshot_begin on a reader_open_for reader answers
                                    DTR_RETRY at this many open (0: no bound) */
    size_t readers_for;          /* reader_open_for calls */
    size_t work_queued;          /* work items not yet run */
    size_t list_calls;           /* read_list calls */
    size_t authenticate_calls;
    size_t get_calls;     /* read_get calls */
    size_t latest_calls;  /* read_latest calls */
    dtr_query last_query; /* the strings copied into last_query_text */
    char last_query_text[8][160];
    fake_command cmd;       /* the first command of the last submission */
    size_t last_n_commands; /* how many commands it had */
    uint32_t last_flags;    /* its flags (DTR_SUBMIT_DRY_RUN) */
    json_t *last_commands;  /* [{"op", "level", "nummer", "body", "ifMatch"}] of it; owned */
    size_t commands_pending;
    char last_log[512];
    void *loop;            /* what api->loop answers (a uv_loop_t * a test made; NULL: none) */
    json_t *openapi_paths; /* what api->openapi_paths answers a copy of (NULL: {}); owned,
                              released by fake_reset */
    size_t host_size;      /* what api->struct_size says (0: sizeof, this header's) */
} fake_state;

extern fake_state fake;

const dtr_host_api *fake_host(void);
dtr_plugin *fake_self(void);
void fake_reset(void);

/* The plugin under test, made with fake_host() and a config (NULL: {}). */
void *fake_plugin_new(const char *config_json);
void fake_plugin_free(void *state);

/* The routes the plugin registered: method and pattern of the i-th. */
size_t fake_route_count(void);
const char *fake_route_method(size_t i);
const char *fake_route_pattern(size_t i);

/* A request: method, target (path with an optional query), body (may be
 * NULL), and headers as "Name: value" strings, NULL-terminated. */
fake_req *fake_req_new(const char *method, const char *target, const char *body,
                       const char *const *headers);
/* Runs the route the request matches (404 "no route" answered by the fake
 * itself as status 404 with body "no route"). Returns the handler's status. */
dtr_status fake_dispatch(fake_req *req);
/* fake_req_new + fake_dispatch. */
fake_req *fake_call(const char *method, const char *target, const char *body,
                    const char *const *headers);
void fake_req_free(fake_req *req);
/* The answer's header (case-insensitive), or NULL. */
const char *fake_resp_header(const fake_req *req, const char *name);
/* The answer's body parsed (new reference), or NULL. */
json_t *fake_resp_json(const fake_req *req);
/* The first fejl kode of a problem answer (static buffer), or "". */
const char *fake_problem_code(const fake_req *req);
/* The client went away: runs the abort callback. */
void fake_abort(fake_req *req);
/* The connection drained: runs the drain callback. */
void fake_drain(fake_req *req);

/* Clients: the Authorization header value that names one. */
void fake_client_add(const char *authorization, const char *id, const char *role);

/* The register in memory. */
void fake_put(const char *nummer, dtr_level level, const char *json, bool deleted);
/* A hændelse: the next sekvensnummer (fake.seq grows by one), for nummer,
 * with data (JSON text; NULL: {}). read_haendelser answers these; a
 * sekvensnummer without one is answered {"sekvensnummer": N}. */
void fake_event(const char *nummer, const char *data);

/* Answers the oldest pending command with res (res->record borrowed). */
void fake_command_finish(const dtr_command_result *res);
/* Runs every queued work item (work, then done, in order); returns how
 * many ran. Items queued while running are left for the next call. */
size_t fake_run_work(void);

/* ---- between the fake's own files (fake_host.c, fake_request.c) ------------ */

typedef struct fake_route_ref {
    dtr_route_fn fn;
    void *udata;
} fake_route_ref;

/* The registered route of method that matches path best (most literal
 * segments), its {param} values added to params; NULL when none does. */
const fake_route_ref *fake_route_lookup(const char *method, const char *path, json_t *params);
/* Fills the request and answer functions of the table. */
void fake_fill_request_api(dtr_host_api *api);
const char *fake_req_header(dtr_request *req, const char *name);
void fake_req_set_client(dtr_request *req, const char *id);

#endif
