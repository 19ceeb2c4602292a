/*
 * testroutes.c -- a test plugin that exercises the HTTP side of the ABI:
 * whole, asynchronous and streamed answers, request bodies, path parameters,
 * queries and headers. The HTTP integration test and the benchmarks serve
 * its routes:
 *
 *   GET  /test/fixed            a small fixed JSON body (the benchmark's)
 *   POST /test/echo             the request body back, same Content-Type
 *   GET  /test/async?ms=N       answers after N ms (a timer); aborts cancel it
 *   GET  /test/stream?kib=N     N KiB streamed (chunked), honouring on_drain
 *   GET  /test/items/{id}       what the request API reads: id, query q,
 *                               header X-Test, path, method, request id
 *   POST /test/small            like echo, with a body limit of 64 bytes
 *
 * Config: {} (any key is refused, naming it). Everything runs on the loop
 * thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dtr/plugin.h"

typedef struct tr_state {
    dtr_plugin *self;
    const dtr_host_api *api;
    size_t open_jobs; /* timers and streams in progress */
} tr_state;

typedef struct tr_job {
    tr_state *st;
    dtr_request *req;
    dtr_timer *timer;
    unsigned long long left; /* stream: bytes still to send */
    char id[80];             /* async: the request id, for the log lines tests wait on */
} tr_job;

static const char tr_fixed_body[] = "{\"status\":\"ok\",\"service\":\"dtr\",\"version\":1}";

static tr_job *tr_job_new(tr_state *st, dtr_request *req)
{
    tr_job *job = calloc(1, sizeof *job);
    if (!job) return NULL;
    job->st = st;
    job->req = req;
    st->open_jobs++;
    return job;
}

static void tr_job_free(tr_job *job)
{
    job->st->open_jobs--;
    free(job);
}

static unsigned long long tr_query_number(tr_state *st, dtr_request *req, const char *name,
                                          unsigned long long fallback, unsigned long long max)
{
    const char *v = st->api->req_query(req, name);
    if (!v || !*v) return fallback;
    char *end;
    unsigned long long n = strtoull(v, &end, 10);
    if (*end || n > max) return max + 1;
    return n;
}

static dtr_status tr_fixed(dtr_request *req, void *udata)
{
    tr_state *st = udata;
    st->api->respond(req, 200, "application/json", tr_fixed_body, sizeof tr_fixed_body - 1);
    return DTR_OK;
}

static dtr_status tr_echo(dtr_request *req, void *udata)
{
    tr_state *st = udata;
    size_t len;
    const unsigned char *body = st->api->req_body(req, &len);
    const char *ct = st->api->req_header(req, "Content-Type");
    st->api->respond(req, 200, ct ? ct : "application/octet-stream", body, len);
    return DTR_OK;
}

static dtr_status tr_item(dtr_request *req, void *udata)
{
    tr_state *st = udata;
    const dtr_host_api *api = st->api;
    const char *q = api->req_query(req, "q");
    const char *x = api->req_header(req, "X-Test");
    json_t *o =
        json_pack("{s:s, s:s, s:s, s:s}", "id", api->req_param(req, "id"), "method",
                  api->req_method(req), "path", api->req_path(req), "request_id", api->req_id(req));
    if (!o) return DTR_ERROR;
    json_object_set_new(o, "q", q ? json_string(q) : json_null());
    json_object_set_new(o, "x_test", x ? json_string(x) : json_null());
    api->respond_json(req, 200, NULL, o);
    return DTR_OK;
}

/* ---- async ---------------------------------------------------------------------- */

static void tr_async_fire(dtr_timer *timer, void *udata)
{
    tr_job *job = udata;
    const dtr_host_api *api = job->st->api;
    api->timer_stop(timer);
    api->respond(job->req, 200, "text/plain", "async\n", 6);
    tr_job_free(job);
}

static void tr_async_abort(dtr_request *req, void *udata)
{
    (void)req;
    tr_job *job = udata;
    job->st->api->timer_stop(job->timer);
    job->st->api->log(job->st->self, DTR_LOG_INFO, "async %s aborted", job->id);
    tr_job_free(job);
}

static dtr_status tr_async(dtr_request *req, void *udata)
{
    tr_state *st = udata;
    unsigned long long ms = tr_query_number(st, req, "ms", 100, 60000);
    if (ms > 60000) {
        st->api->respond_problem(req, 400, "UGYLDIG_PARAMETER", "ms", "ms is 0 to 60000");
        return DTR_OK;
    }
    tr_job *job = tr_job_new(st, req);
    if (!job) return DTR_ERROR;
    job->timer = st->api->timer_start(st->self, ms, 0, tr_async_fire, job);
    if (!job->timer) {
        tr_job_free(job);
        return DTR_ERROR;
    }
    st->api->req_on_abort(req, tr_async_abort, job);
    /* tests wait for these lines instead of sleeping */
    snprintf(job->id, sizeof job->id, "%s", st->api->req_id(req));
    st->api->log(st->self, DTR_LOG_INFO, "async %s waits %llu ms", job->id, ms);
    return DTR_OK;
}

/* ---- stream ----------------------------------------------------------------------- */

/* Writes until done or until the host says to wait (then on_drain calls
 * this again). */
static void tr_stream_pump(dtr_request *req, void *udata)
{
    static char block[16384];
    tr_job *job = udata;
    const dtr_host_api *api = job->st->api;
    if (!block[0]) {
        for (size_t i = 0; i < sizeof block; i++)
            block[i] = (i % 64 == 63) ? '\n' : (char)('a' + i % 26);
    }
    while (job->left) {
        size_t n = job->left < sizeof block ? (size_t)job->left : sizeof block;
        job->left -= n;
        if (api->stream_write(req, block, n) != DTR_OK) return;
    }
    api->stream_end(req);
    tr_job_free(job);
}

static void tr_stream_abort(dtr_request *req, void *udata)
{
    (void)req;
    tr_job_free(udata);
}

static dtr_status tr_stream(dtr_request *req, void *udata)
{
    tr_state *st = udata;
    unsigned long long kib = tr_query_number(st, req, "kib", 64, 16ULL * 1024 * 1024);
    if (kib > 16ULL * 1024 * 1024) {
        st->api->respond_problem(req, 400, "UGYLDIG_PARAMETER", "kib", "kib is 0 to 16777216");
        return DTR_OK;
    }
    tr_job *job = tr_job_new(st, req);
    if (!job) return DTR_ERROR;
    job->left = kib * 1024;
    st->api->req_on_abort(req, tr_stream_abort, job);
    st->api->req_on_drain(req, tr_stream_pump, job);
    st->api->stream_begin(req, 200, "text/plain");
    tr_stream_pump(req, job);
    return DTR_OK;
}

/* ---- the plugin ---------------------------------------------------------------------- */

static dtr_status tr_init(dtr_plugin *self, const dtr_host_api *api, const json_t *config,
                          void **state, char *err, size_t errlen)
{
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)config, key, value)
    {
        (void)value;
        snprintf(err, errlen, "testroutes: unknown config key '%s'", key);
        return DTR_DECLINED;
    }
    tr_state *st = calloc(1, sizeof *st);
    if (!st) {
        snprintf(err, errlen, "testroutes: out of memory");
        return DTR_ERROR;
    }
    st->self = self;
    st->api = api;
    static const struct {
        const char *method, *pattern;
        size_t max_body;
        dtr_route_fn fn;
    } routes[] = {
        {"GET", "/test/fixed", 0, tr_fixed},     {"POST", "/test/echo", 0, tr_echo},
        {"GET", "/test/async", 0, tr_async},     {"GET", "/test/stream", 0, tr_stream},
        {"GET", "/test/items/{id}", 0, tr_item}, {"POST", "/test/small", 64, tr_echo},
    };
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        if (api->route_add(self, routes[i].method, routes[i].pattern, routes[i].max_body,
                           routes[i].fn, st, err, errlen) != DTR_OK) {
            free(st);
            return DTR_ERROR;
        }
    }
    *state = st;
    return DTR_OK;
}

static void tr_free(void *state)
{
    free(state);
}

DTR_PLUGIN_EXPORT const dtr_plugin_descriptor dtr_plugin_entry = {
    .abi_major = DTR_ABI_MAJOR,
    .abi_minor = DTR_ABI_MINOR,
    .struct_size = sizeof(dtr_plugin_descriptor),
    .name = "testroutes",
    .version = "1.0.0",
    .kinds = DTR_KIND_PROTOCOL,
    .init = tr_init,
    .free = tr_free,
};
