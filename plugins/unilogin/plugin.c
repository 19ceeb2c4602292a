/*
 * plugin.c -- the unilogin plugin (kinds CONSUMER | PROTOCOL): its config,
 * its two read routes and its consumer.
 *
 * Config ({} runs as it is):
 *   "fra":         the first sekvensnummer to handle when the feed has no
 *                  cursor for unilogin yet (default: after the newest)
 *   "interval_ms": the least time between two batches, so that a burst of
 *                  changes makes one file, not hundreds (default 1000)
 *   "max_per_file": the most hændelser one file covers (default 100000)
 *
 * Routes (reads follow public_read like the REST API's):
 *   GET /v1/unilogin/institutioner         the list as of a snapshot, streamed
 *                                          a page at a time (stream.c)
 *   GET /v1/unilogin/aendringer?efter=S    the change set after S (rows.c)
 * Both read on the pool with a reader of their own, and both are described
 * for GET /v1/openapi.json (openapi.c).
 *
 * The consumer: at most once per interval_ms it takes up the batch the feed
 * offers and makes one change set from the batch's first hændelse to the
 * newest (whatever waited beyond the batch is taken in too, up to
 * max_per_file; rows as the register holds them then), written and signed
 * as <data_dir>/export/unilogin/unilogin-<fra>-<til>.json(.sig) on the pool
 * (export.c); then it acknowledges up to til. A change set that touched
 * nothing on the list writes no file. A failure answers DTR_RETRY: the
 * feed offers the hændelser again after its backoff.
 *
 * Threads: everything here on the loop thread, but the work functions.
 */
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "unilogin.h"

#define UNI_INTERVAL_DEFAULT_MS 1000
#define UNI_INTERVAL_MAX_MS 3600000
#define UNI_PER_FILE_DEFAULT 100000
#define UNI_PER_FILE_MAX 1000000
#define UNI_IDLE_READERS 4

typedef struct uni {
    dtr_plugin *self;
    const dtr_host_api *api;
    uint64_t interval_ms;
    char export_dir[PATH_MAX];
    dtr_reader *idle[UNI_IDLE_READERS]; /* readers for the pool, not in use */
    size_t nidle;
    size_t jobs; /* work items and list streams in flight */
    bool stopped;

    /* the consumer: at most one batch at a time */
    bool holding;         /* a batch waits out its pause */
    int64_t held_fra;     /* its first sekvensnummer */
    int64_t max_per_file; /* hændelser one file covers at most */
    dtr_timer *pause;     /* waiting out interval_ms before the batch */
    uint64_t last_ms;     /* monotonic time the last batch was taken up */
    uint64_t files;       /* files written by this instance */
} uni;

static uint64_t uni_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- readers ------------------------------------------------------------------ */

/* A reader for one job on the pool: an idle one, or a new one. */
static dtr_reader *uni_reader_take(uni *u)
{
    if (u->nidle) return u->idle[--u->nidle];
    return u->api->reader_open(u->self);
}

static void uni_reader_give(uni *u, dtr_reader *r)
{
    if (!r) return;
    if (u->nidle < UNI_IDLE_READERS && !u->stopped)
        u->idle[u->nidle++] = r;
    else
        u->api->reader_close(r);
}

/* ---- reads over HTTP -------------------------------------------------------------- */

typedef struct uni_job {
    uni *u;
    dtr_request *req; /* NULL once the client went away */
    dtr_reader *reader;
    int64_t efter;
    json_t *answer;
    uni_error err;
    int rc;
} uni_job;

static void uni_unauthorized(uni *u, dtr_request *req, const char *tekst)
{
    u->api->resp_header(req, "WWW-Authenticate", "Basic realm=\"dtr\"");
    u->api->respond_problem(req, 401, "IKKE_AUTENTIFICERET", NULL, tekst);
}

/* Who may read: anyone when public_read is on, any client otherwise; wrong
 * credentials are refused either way. Answers the request when it refuses. */
static bool uni_may_read(uni *u, dtr_request *req)
{
    const dtr_host_api *api = u->api;
    bool open = api->public_read && api->public_read(u->self);
    if (open && !api->req_header(req, "Authorization")) return true;
    const dtr_identity *who = NULL;
    dtr_status st = api->req_authenticate ? api->req_authenticate(u->self, req, &who) : DTR_OK;
    if (st == DTR_DECLINED) {
        uni_unauthorized(u, req, "ukendt klient eller forkert hemmelighed");
        return false;
    }
    if (st != DTR_OK) {
        api->respond_problem(req, 503, "IKKE_KLAR", NULL, "klienterne kunne ikke læses");
        return false;
    }
    if (!open && !who) {
        uni_unauthorized(u, req, "log ind med HTTP Basic (clientId:secret)");
        return false;
    }
    return true;
}

static void uni_job_aborted(dtr_request *req, void *udata)
{
    (void)req;
    ((uni_job *)udata)->req = NULL;
}

/* Pool thread. */
static void uni_job_work(void *udata)
{
    uni_job *j = udata;
    j->rc = uni_changes_since(j->u->api, j->reader, j->efter, 0, &j->answer, &j->err);
}

static void uni_job_done(void *udata, int status)
{
    uni_job *j = udata;
    uni *u = j->u;
    u->jobs--;
    uni_reader_give(u, j->reader);
    if (j->req) {
        u->api->req_on_abort(j->req, NULL, NULL);
        if (status == 0 && j->rc == 0 && j->answer)
            u->api->respond_json(j->req, 200, NULL, json_incref(j->answer));
        else if (status == 0 && j->rc != 0)
            u->api->respond_problem(j->req, j->err.status, j->err.kode, NULL, j->err.tekst);
        else
            u->api->respond_problem(j->req, 503, "IKKE_KLAR", NULL, "registeret kunne ikke læses");
    }
    json_decref(j->answer);
    free(j);
}

/* Queues the change set's read for the pool; answers 503 when it cannot. */
static dtr_status uni_submit_changes(uni *u, dtr_request *req, int64_t efter)
{
    uni_job *j = calloc(1, sizeof *j);
    if (!j) abort();
    j->u = u;
    j->req = req;
    j->efter = efter;
    j->reader = uni_reader_take(u);
    if (!j->reader) {
        free(j);
        u->api->respond_problem(req, 503, "IKKE_KLAR", NULL, "registeret kunne ikke læses");
        return DTR_OK;
    }
    u->api->req_on_abort(req, uni_job_aborted, j);
    if (u->api->work_submit(u->self, uni_job_work, uni_job_done, j) != DTR_OK) {
        u->api->req_on_abort(req, NULL, NULL);
        uni_reader_give(u, j->reader);
        free(j);
        u->api->respond_problem(req, 503, "IKKE_KLAR", NULL, "serveren er optaget");
        return DTR_OK;
    }
    u->jobs++;
    return DTR_OK;
}

/* The stream is done with its reader (loop thread). */
static void uni_stream_reader_back(void *ctx, dtr_reader *r)
{
    uni *u = ctx;
    u->jobs--;
    uni_reader_give(u, r);
}

/* GET /v1/unilogin/institutioner: the stream (stream.c) answers. */
static dtr_status uni_route_list(dtr_request *req, void *udata)
{
    uni *u = udata;
    if (!uni_may_read(u, req)) return DTR_OK;
    dtr_reader *r = uni_reader_take(u);
    if (!r) {
        u->api->respond_problem(req, 503, "IKKE_KLAR", NULL, "registeret kunne ikke læses");
        return DTR_OK;
    }
    if (!uni_list_stream(u->api, u->self, req, r, uni_stream_reader_back, u)) {
        uni_reader_give(u, r);
        u->api->respond_problem(req, 503, "IKKE_KLAR", NULL, "serveren er optaget");
        return DTR_OK;
    }
    u->jobs++;
    return DTR_OK;
}

/* A sekvensnummer in a query: decimal digits only, at most 18 of them. */
static bool uni_parse_seq(const char *s, int64_t *out)
{
    if (!s || !*s || strlen(s) > 18) return false;
    int64_t v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9') return false;
        v = v * 10 + (*p - '0');
    }
    *out = v;
    return true;
}

static dtr_status uni_route_changes(dtr_request *req, void *udata)
{
    uni *u = udata;
    if (!uni_may_read(u, req)) return DTR_OK;
    int64_t efter = 0;
    if (!uni_parse_seq(u->api->req_query(req, "efter"), &efter)) {
        u->api->respond_problem(req, 400, "UGYLDIG_PARAMETER", "efter",
                                "efter skal være et sekvensnummer (et helt tal, 0 eller større)");
        return DTR_OK;
    }
    return uni_submit_changes(u, req, efter);
}

/* ---- the consumer ------------------------------------------------------------------- */

typedef struct uni_batch_job {
    uni *u;
    dtr_reader *reader;
    int64_t fra, til;
    int64_t max_events;
    bool wrote;
    int rc;
    char err[512];
} uni_batch_job;

/* Pool thread: the change set from the batch's first hændelse up to the
 * newest (at most max_per_file of them: whatever else waited is taken in
 * too), and its files when it holds anything. */
static void uni_batch_work(void *udata)
{
    uni_batch_job *b = udata;
    json_t *changes = NULL;
    uni_error e = {0};
    b->rc = uni_changes_since(b->u->api, b->reader, b->fra - 1, b->max_events, &changes, &e);
    if (b->rc != 0) {
        snprintf(b->err, sizeof b->err, "%s", e.tekst);
        return;
    }
    b->til = json_integer_value(json_object_get(changes, "til"));
    if (!uni_changes_empty(changes)) {
        b->rc = uni_export_write(b->u->api, b->u->self, b->u->export_dir, changes, b->fra, b->til,
                                 b->err, sizeof b->err);
        b->wrote = b->rc == 0;
    }
    json_decref(changes);
}

static void uni_batch_done(void *udata, int status)
{
    uni_batch_job *b = udata;
    uni *u = b->u;
    u->jobs--;
    uni_reader_give(u, b->reader);
    if (status == 0 && b->rc == 0 && b->til >= b->fra) {
        if (b->wrote) {
            u->files++;
            u->api->log(u->self, DTR_LOG_INFO, "wrote unilogin-%lld-%lld.json", (long long)b->fra,
                        (long long)b->til);
        }
        u->api->consume_done(u->self, b->til, DTR_OK);
    } else {
        u->api->log(u->self, DTR_LOG_WARN, "hændelser from %lld not handled: %s", (long long)b->fra,
                    status != 0 ? "cancelled"
                    : b->rc     ? b->err
                                : "none read");
        u->api->consume_done(u->self, 0, DTR_RETRY);
    }
    free(b);
}

/* Takes up the held batch: the work from its first hændelse goes to the
 * pool. */
static void uni_batch_begin(uni *u)
{
    u->holding = false;
    u->last_ms = uni_now_ms();
    uni_batch_job *b = calloc(1, sizeof *b);
    if (!b) abort();
    b->u = u;
    b->fra = u->held_fra;
    b->max_events = u->max_per_file;
    b->reader = uni_reader_take(u);
    if (!b->reader || u->api->work_submit(u->self, uni_batch_work, uni_batch_done, b) != DTR_OK) {
        uni_reader_give(u, b->reader);
        free(b);
        u->api->log(u->self, DTR_LOG_WARN, "cannot take up a batch now");
        u->api->consume_done(u->self, 0, DTR_RETRY);
        return;
    }
    u->jobs++;
}

static void uni_pause_over(dtr_timer *t, void *udata)
{
    uni *u = udata;
    u->api->timer_stop(t);
    u->pause = NULL;
    if (u->holding && !u->stopped) uni_batch_begin(u);
}

/* descriptor.consume: waits until interval_ms have passed since the last
 * batch was taken up, then handles everything from the batch's first
 * hændelse on the pool. Only where the batch starts matters: the work reads
 * the hændelser itself, so that a backlog becomes one file, not one per
 * batch. */
static void uni_consume(void *state, const json_t *events)
{
    uni *u = state;
    if (u->stopped || json_array_size(events) == 0) {
        u->api->consume_done(u->self, 0, DTR_RETRY);
        return;
    }
    u->holding = true;
    u->held_fra = json_integer_value(json_object_get(json_array_get(events, 0), "sekvensnummer"));
    uint64_t now = uni_now_ms();
    uint64_t due = u->last_ms + u->interval_ms;
    if (u->last_ms && now < due) {
        u->pause = u->api->timer_start(u->self, due - now, 0, uni_pause_over, u);
        if (u->pause) return;
    }
    uni_batch_begin(u);
}

/* ---- lifecycle ---------------------------------------------------------------------------- */

static dtr_status uni_config(uni *u, const json_t *config, char *err, size_t errlen)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)config, key, v)
    {
        if (strcmp(key, "fra") == 0) {
            if (!json_is_integer(v) || json_integer_value(v) < 0) {
                snprintf(err, errlen, "unilogin.fra: a sekvensnummer (an integer >= 0)");
                return DTR_DECLINED;
            }
            u->api->feed_start_at(u->self, json_integer_value(v));
        } else if (strcmp(key, "interval_ms") == 0) {
            if (!json_is_integer(v) || json_integer_value(v) < 0 ||
                json_integer_value(v) > UNI_INTERVAL_MAX_MS) {
                snprintf(err, errlen, "unilogin.interval_ms: an integer from 0 to %d",
                         UNI_INTERVAL_MAX_MS);
                return DTR_DECLINED;
            }
            u->interval_ms = (uint64_t)json_integer_value(v);
        } else if (strcmp(key, "max_per_file") == 0) {
            if (!json_is_integer(v) || json_integer_value(v) < 1 ||
                json_integer_value(v) > UNI_PER_FILE_MAX) {
                snprintf(err, errlen, "unilogin.max_per_file: an integer from 1 to %d",
                         UNI_PER_FILE_MAX);
                return DTR_DECLINED;
            }
            u->max_per_file = json_integer_value(v);
        } else {
            snprintf(err, errlen,
                     "unilogin.%s: unknown key (known: fra, interval_ms, max_per_file)", key);
            return DTR_DECLINED;
        }
    }
    return DTR_OK;
}

static dtr_status uni_init(dtr_plugin *self, const dtr_host_api *api, const json_t *config,
                           void **state, char *err, size_t errlen)
{
    if (!api->reader_open || !api->reader_close || !api->read_get || !api->read_list ||
        !api->read_history || !api->read_haendelser || !api->snapshot_begin || !api->snapshot_end ||
        !api->consume_done || !api->feed_start_at || !api->sign) {
        snprintf(err, errlen,
                 "unilogin: the host lacks the register functions (reads, the "
                 "feed, signing)");
        return DTR_ERROR;
    }
    if (config && !json_is_object(config)) {
        snprintf(err, errlen, "unilogin: the config must be an object");
        return DTR_DECLINED;
    }
    uni *u = calloc(1, sizeof *u);
    if (!u) abort();
    u->self = self;
    u->api = api;
    u->interval_ms = UNI_INTERVAL_DEFAULT_MS;
    u->max_per_file = UNI_PER_FILE_DEFAULT;
    if (config && uni_config(u, config, err, errlen) != DTR_OK) {
        free(u);
        return DTR_DECLINED;
    }
    int n =
        snprintf(u->export_dir, sizeof u->export_dir, "%s/export/unilogin", api->data_dir(self));
    if (n < 0 || (size_t)n >= sizeof u->export_dir) {
        snprintf(err, errlen, "unilogin: the data directory path is too long");
        free(u);
        return DTR_ERROR;
    }
    if (api->route_add(self, "GET", "/v1/unilogin/institutioner", 0, uni_route_list, u, err,
                       errlen) != DTR_OK ||
        api->route_add(self, "GET", "/v1/unilogin/aendringer", 0, uni_route_changes, u, err,
                       errlen) != DTR_OK) {
        free(u);
        return DTR_ERROR;
    }
    uni_openapi_describe(api, self);
    *state = u;
    return DTR_OK;
}

/* Stops taking up batches: a batch still waiting out its pause is dropped
 * (the feed offers it again to the next instance or after a restart); work
 * on the pool finishes and is acknowledged. */
static void uni_stop(void *state)
{
    uni *u = state;
    u->stopped = true;
    if (u->pause) {
        u->api->timer_stop(u->pause);
        u->pause = NULL;
    }
    u->holding = false;
}

static void uni_free(void *state)
{
    uni *u = state;
    if (!u) return;
    while (u->nidle)
        u->api->reader_close(u->idle[--u->nidle]);
    free(u);
}

/* The one exported symbol (DTR_PLUGIN_SYMBOL). */
DTR_PLUGIN_EXPORT const dtr_plugin_descriptor dtr_plugin_entry = {
    .abi_major = DTR_ABI_MAJOR,
    .abi_minor = DTR_ABI_MINOR,
    .struct_size = sizeof(dtr_plugin_descriptor),
    .name = "unilogin",
    .version = "1.0.0",
    .kinds = DTR_KIND_CONSUMER | DTR_KIND_PROTOCOL,
    .init = uni_init,
    .stop = uni_stop,
    .free = uni_free,
    .consume = uni_consume,
};
