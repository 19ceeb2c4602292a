/*
 * good.c -- a test plugin that uses every host service of ABI 1.0, and the
 * worked example of docs/plugins.md. It also describes one route for the
 * OpenAPI document (ABI 1.4, openapi_describe).
 *
 * Config (every key optional):
 *   "greeting": string   echoed by GET /good/greeting (default "hej")
 *   "slow_ms":  integer  how long GET /good/slow waits before it answers
 *                        (default 100; ?ms=N overrides it per request)
 *   "tick_ms":  integer  period of the background timer (default 50)
 *
 * Routes:
 *   GET  /good/greeting     {"greeting", "instance"}: answered at once
 *   GET  /good/slow         answered later from a one-shot timer
 *   POST /good/work         the body is written to <data_dir>/good/last-work.bin
 *                           and fsync'ed on the work queue, then answered
 *                           {"bytes", "fnv1a"} from the loop
 *   GET  /good/info         {"instance", "data_dir", "has_loop", "ticks", "host_abi",
 *                           "slow_waiting"}
 *   GET  /good/items/{id}   {"id", "q", "x_test"}: a path parameter, a query
 *                           parameter and a header
 *   GET  /good/sign?msg=M   {"signature", "public_key"} (hex): M signed with the
 *                           server's key
 *
 * Every instance has a number (1, 2, ... in the order they are created), so
 * that a test can tell the instance of a reload from the one before it. The
 * lifecycle is logged: "instance N started", "instance N stopping",
 * "instance N freed".
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dtr/plugin.h>

typedef struct good {
    dtr_plugin *self;
    const dtr_host_api *api;
    int instance;
    char *greeting;
    uint64_t slow_ms;
    uint64_t tick_ms;
    dtr_timer *tick;
    uint64_t ticks;
    int slow_waiting; /* GET /good/slow requests not yet answered */
} good;

/* Loop thread only, so a plain counter is enough. */
static int good_instances;

/* ---- config --------------------------------------------------------------- */

/* Reads a non-negative integer key, or leaves *out at its default. */
static int good_read_ms(const json_t *config, const char *key, uint64_t *out, char *err,
                        size_t errlen)
{
    json_t *v = json_object_get(config, key);
    if (!v) return 0;
    if (!json_is_integer(v) || json_integer_value(v) < 0) {
        snprintf(err, errlen, "%s: expected a non-negative integer", key);
        return -1;
    }
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

static int good_read_config(good *g, const json_t *config, char *err, size_t errlen)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)config, key, v)
    {
        if (strcmp(key, "greeting") && strcmp(key, "slow_ms") && strcmp(key, "tick_ms")) {
            snprintf(err, errlen, "%s: unknown key", key);
            return -1;
        }
    }
    v = json_object_get(config, "greeting");
    if (v && !json_is_string(v)) {
        snprintf(err, errlen, "greeting: expected a string");
        return -1;
    }
    g->greeting = strdup(v ? json_string_value(v) : "hej");
    g->slow_ms = 100;
    g->tick_ms = 50;
    if (good_read_ms(config, "slow_ms", &g->slow_ms, err, errlen)) return -1;
    if (good_read_ms(config, "tick_ms", &g->tick_ms, err, errlen)) return -1;
    if (g->tick_ms == 0) {
        snprintf(err, errlen, "tick_ms: expected a positive integer");
        return -1;
    }
    return 0;
}

/* ---- GET /good/greeting: an answer at once --------------------------------- */

static dtr_status good_greeting(dtr_request *req, void *udata)
{
    good *g = udata;
    json_t *body = json_pack("{s:s, s:i}", "greeting", g->greeting, "instance", g->instance);
    g->api->respond_json(req, 200, NULL, body);
    return DTR_OK;
}

/* ---- GET /good/slow: an answer later, from a timer --------------------------- */

/* One waiting request. Whichever comes first frees it: the timer (which
 * answers) or the abort callback (the client left; nothing to answer). */
typedef struct good_slow_wait {
    good *g;
    dtr_request *req;
    dtr_timer *timer;
    uint64_t ms;
} good_slow_wait;

static void good_slow_fire(dtr_timer *timer, void *udata)
{
    good_slow_wait *s = udata;
    good *g = s->g;
    g->api->req_on_abort(s->req, NULL, NULL);
    json_t *body = json_pack("{s:s, s:i, s:I}", "greeting", g->greeting, "instance", g->instance,
                             "waited_ms", (json_int_t)s->ms);
    g->api->respond_json(s->req, 200, NULL, body);
    g->api->timer_stop(timer); /* allowed inside its own callback */
    g->slow_waiting--;
    free(s);
}

static void good_slow_abort(dtr_request *req, void *udata)
{
    good_slow_wait *s = udata;
    (void)req;
    s->g->api->timer_stop(s->timer);
    s->g->slow_waiting--;
    free(s);
}

static dtr_status good_slow(dtr_request *req, void *udata)
{
    good *g = udata;
    good_slow_wait *s = calloc(1, sizeof *s);
    if (!s) return DTR_ERROR;
    s->g = g;
    s->req = req;
    s->ms = g->slow_ms;
    const char *q = g->api->req_query(req, "ms");
    if (q) s->ms = strtoull(q, NULL, 10);
    s->timer = g->api->timer_start(g->self, s->ms, 0, good_slow_fire, s);
    if (!s->timer) {
        free(s);
        return DTR_ERROR;
    }
    g->api->req_on_abort(req, good_slow_abort, s);
    g->slow_waiting++;
    return DTR_OK;
}

/* ---- POST /good/work: blocking work on the pool ------------------------------ */

typedef struct good_work_item {
    good *g;
    dtr_request *req; /* NULL once the client left */
    unsigned char *data;
    size_t len;
    char path[4096];
    uint32_t fnv1a;
    int error; /* errno of the write, 0 when it worked */
} good_work_item;

/* Pool thread: no host function but log. */
static void good_work_run(void *udata)
{
    good_work_item *w = udata;
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < w->len; i++)
        h = (h ^ w->data[i]) * 16777619u;
    w->fnv1a = h;
    int fd = open(w->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0) {
        w->error = errno;
        return;
    }
    size_t off = 0;
    while (off < w->len) {
        ssize_t n = write(fd, w->data + off, w->len - off);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            w->error = errno;
            break;
        }
        off += (size_t)n;
    }
    if (!w->error && fsync(fd) != 0) w->error = errno;
    close(fd);
    w->g->api->log(w->g->self, DTR_LOG_DEBUG, "wrote %zu bytes to %s", w->len, w->path);
}

/* Loop thread: answer, unless the client left meanwhile. */
static void good_work_done(void *udata, int status)
{
    good_work_item *w = udata;
    const dtr_host_api *api = w->g->api;
    if (w->req) {
        api->req_on_abort(w->req, NULL, NULL);
        if (status < 0 || w->error) {
            api->respond_problem(w->req, 503, "IKKE_KLAR", NULL,
                                 status < 0 ? "work cancelled" : strerror(w->error));
        } else {
            char hex[9];
            snprintf(hex, sizeof hex, "%08x", w->fnv1a);
            api->respond_json(w->req, 200, NULL,
                              json_pack("{s:I, s:s}", "bytes", (json_int_t)w->len, "fnv1a", hex));
        }
    }
    free(w->data);
    free(w);
}

static void good_work_abort(dtr_request *req, void *udata)
{
    good_work_item *w = udata;
    (void)req;
    w->req = NULL; /* the work still runs; done frees it */
}

static dtr_status good_work(dtr_request *req, void *udata)
{
    good *g = udata;
    size_t len = 0;
    const unsigned char *body = g->api->req_body(req, &len);
    good_work_item *w = calloc(1, sizeof *w);
    if (!w) return DTR_ERROR;
    w->g = g;
    w->req = req;
    w->len = len;
    w->data = malloc(len ? len : 1);
    if (!w->data) {
        free(w);
        return DTR_ERROR;
    }
    if (len) memcpy(w->data, body, len);
    snprintf(w->path, sizeof w->path, "%s/good", g->api->data_dir(g->self));
    mkdir(w->path, 0750); /* short and rare: fine on the loop for a test plugin */
    snprintf(w->path, sizeof w->path, "%s/good/last-work.bin", g->api->data_dir(g->self));
    if (g->api->work_submit(g->self, good_work_run, good_work_done, w) != DTR_OK) {
        free(w->data);
        free(w);
        return DTR_ERROR;
    }
    g->api->req_on_abort(req, good_work_abort, w);
    return DTR_OK;
}

/* ---- GET /good/info and /good/items/{id} ------------------------------------- */

static dtr_status good_info(dtr_request *req, void *udata)
{
    good *g = udata;
    char abi[32];
    snprintf(abi, sizeof abi, "%u.%u", g->api->abi_major, g->api->abi_minor);
    json_t *body =
        json_pack("{s:i, s:s, s:b, s:I, s:s, s:i}", "instance", g->instance, "data_dir",
                  g->api->data_dir(g->self), "has_loop", g->api->loop(g->self) != NULL, "ticks",
                  (json_int_t)g->ticks, "host_abi", abi, "slow_waiting", g->slow_waiting);
    g->api->respond_json(req, 200, NULL, body);
    return DTR_OK;
}

static dtr_status good_item(dtr_request *req, void *udata)
{
    good *g = udata;
    const char *q = g->api->req_query(req, "q");
    const char *x = g->api->req_header(req, "X-Test");
    json_t *body =
        json_pack("{s:s, s:o, s:o}", "id", g->api->req_param(req, "id"), "q",
                  q ? json_string(q) : json_null(), "x_test", x ? json_string(x) : json_null());
    g->api->respond_json(req, 200, NULL, body);
    return DTR_OK;
}

/* ---- GET /good/sign: the server's signing key ----------------------------- */

static void good_hex(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

static dtr_status good_sign(dtr_request *req, void *udata)
{
    good *g = udata;
    const char *msg = g->api->req_query(req, "msg");
    if (!msg) msg = "";
    unsigned char sig[64], pk[32];
    if (g->api->sign(g->self, msg, strlen(msg), sig) != DTR_OK) return DTR_ERROR;
    g->api->signing_public_key(g->self, pk);
    char sig_hex[129], pk_hex[65];
    good_hex(sig, sizeof sig, sig_hex);
    good_hex(pk, sizeof pk, pk_hex);
    g->api->respond_json(req, 200, NULL,
                         json_pack("{s:s, s:s}", "signature", sig_hex, "public_key", pk_hex));
    return DTR_OK;
}

/* ---- lifecycle ------------------------------------------------------------- */

static void good_tick(dtr_timer *timer, void *udata)
{
    good *g = udata;
    (void)timer;
    g->ticks++;
}

static void good_free(void *state)
{
    good *g = state;
    g->api->log(g->self, DTR_LOG_INFO, "instance %d freed", g->instance);
    if (g->tick) g->api->timer_stop(g->tick);
    free(g->greeting);
    free(g);
}

/* ---- the OpenAPI description (ABI 1.4) ---------------------------------------- */

/* Describes GET /good/greeting for GET /v1/openapi.json: an OpenAPI 3.1
 * "paths" object naming only routes this instance registered. Its summary
 * carries the greeting of the config, so a test can tell which instance's
 * description it sees. The host copies it; a refusal is logged by the host
 * and leaves the route undescribed. */
static void good_describe(good *g)
{
    static const char text[] =
        "{\"/good/greeting\": {\"get\": {\"operationId\": \"get_good_greeting\","
        " \"tags\": [\"good\"], \"security\": [{}],"
        " \"responses\": {\"200\": {\"description\": \"OK\", \"content\": {"
        "  \"application/json\": {\"schema\": {\"type\": \"object\","
        "   \"required\": [\"greeting\", \"instance\"], \"properties\": {"
        "    \"greeting\": {\"type\": \"string\"}, \"instance\": {\"type\": \"integer\"}}}}}}}}}}";
    json_t *paths = json_loads(text, 0, NULL);
    json_t *op = json_object_get(json_object_get(paths, "/good/greeting"), "get");
    char summary[200];
    snprintf(summary, sizeof summary, "Says %s", g->greeting);
    json_object_set_new(op, "summary", json_string(summary));
    char err[256];
    if (g->api->openapi_describe(g->self, paths, err, sizeof err) != DTR_OK)
        g->api->log(g->self, DTR_LOG_WARN, "not described: %s", err);
    json_decref(paths);
}

static dtr_status good_init(dtr_plugin *self, const dtr_host_api *api, const json_t *config,
                            void **state, char *err, size_t errlen)
{
    /* An older host lacks the functions appended after its minor. */
    if (api->abi_major != DTR_ABI_MAJOR || api->struct_size < sizeof(dtr_host_api)) {
        snprintf(err, errlen, "host API too old");
        return DTR_ERROR;
    }
    good *g = calloc(1, sizeof *g);
    if (!g) return DTR_ERROR;
    g->self = self;
    g->api = api;
    if (good_read_config(g, config, err, errlen) != 0) {
        free(g->greeting);
        free(g);
        return DTR_DECLINED;
    }
    static const struct {
        const char *method, *pattern;
        dtr_route_fn fn;
    } routes[] = {
        {"GET", "/good/greeting", good_greeting}, {"GET", "/good/slow", good_slow},
        {"POST", "/good/work", good_work},        {"GET", "/good/info", good_info},
        {"GET", "/good/items/{id}", good_item},   {"GET", "/good/sign", good_sign},
    };
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        if (api->route_add(self, routes[i].method, routes[i].pattern, 0, routes[i].fn, g, err,
                           errlen) != DTR_OK) {
            free(g->greeting);
            free(g);
            return DTR_ERROR;
        }
    }
    g->instance = ++good_instances;
    good_describe(g);
    *state = g;
    return DTR_OK;
}

static dtr_status good_start(void *state, char *err, size_t errlen)
{
    good *g = state;
    g->tick = g->api->timer_start(g->self, g->tick_ms, g->tick_ms, good_tick, g);
    if (!g->tick) {
        snprintf(err, errlen, "cannot start the tick timer");
        return DTR_ERROR;
    }
    g->api->log(g->self, DTR_LOG_INFO, "instance %d started (greeting \"%s\")", g->instance,
                g->greeting);
    return DTR_OK;
}

static void good_stop(void *state)
{
    good *g = state;
    g->api->log(g->self, DTR_LOG_INFO, "instance %d stopping", g->instance);
    g->api->timer_stop(g->tick);
    g->tick = NULL;
}

DTR_PLUGIN_EXPORT const dtr_plugin_descriptor dtr_plugin_entry = {
    .abi_major = DTR_ABI_MAJOR,
    .abi_minor = DTR_ABI_MINOR,
    .struct_size = sizeof(dtr_plugin_descriptor),
    .name = "good",
    .version = "1.0.0",
    .kinds = DTR_KIND_PROTOCOL,
    .init = good_init,
    .start = good_start,
    .stop = good_stop,
    .free = good_free,
};
