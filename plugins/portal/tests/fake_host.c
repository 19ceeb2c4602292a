/*
 * fake_host.c -- the portal plugin's fake host (see fake_host.h). The
 * host's rules that matter to the plugin are kept: work runs on the pool
 * and its done on the loop; timers and the loop are libuv's; reads from a
 * reader of its own may run on the pool (so they return deep copies).
 */
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <sodium.h>

#include "fake_host.h"

extern const dtr_plugin_descriptor dtr_plugin_entry;

struct dtr_plugin {
    fake_host *h;
};

struct dtr_request {
    const char *method, *path;
    const char *const *headers;
    const char *body;
    fake_response *resp;
    bool answered;
    dtr_abort_fn abort_fn;
    void *abort_udata;
};

struct dtr_timer {
    uv_timer_t handle;
    dtr_timer_fn fn;
    void *udata;
};

struct dtr_reader {
    int unused;
};

static fake_host *g_host;
static struct dtr_plugin g_plugin;
static struct dtr_reader g_loop_reader;

/* The fake host is the host in these tests, so its identities are its own
 * static structs: one client per role. */
struct dtr_identity {
    dtr_identity_info info;
};

#define F_IDENTITY(r)                                                                              \
    {                                                                                              \
        {                                                                                          \
            .id = r, .name = r, .role = r                                                          \
        }                                                                                          \
    }
static const dtr_identity g_identities[] = {F_IDENTITY("admin"), F_IDENTITY("support"),
                                            F_IDENTITY("laeser"), F_IDENTITY("kommune")};
#define F_N_IDENTITIES (sizeof g_identities / sizeof g_identities[0])

/* ---- log, routes -------------------------------------------------------------- */

__attribute__((format(printf, 3, 4))) static void f_log(dtr_plugin *self, dtr_log_level level,
                                                        const char *fmt, ...)
{
    (void)self;
    if (level >= DTR_LOG_WARN) __atomic_add_fetch(&g_host->warnings, 1, __ATOMIC_SEQ_CST);
    if (!getenv("FAKE_HOST_LOG")) return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "[portal %d] ", (int)level);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static dtr_status f_route_add(dtr_plugin *self, const char *method, const char *pattern,
                              size_t max_body, dtr_route_fn fn, void *udata, char *err,
                              size_t errlen)
{
    (void)self;
    (void)max_body;
    fake_host *h = g_host;
    if (h->n_routes == sizeof h->routes / sizeof h->routes[0]) {
        snprintf(err, errlen, "too many routes");
        return DTR_ERROR;
    }
    fake_route *r = &h->routes[h->n_routes++];
    snprintf(r->method, sizeof r->method, "%s", method);
    snprintf(r->pattern, sizeof r->pattern, "%s", pattern);
    r->fn = fn;
    r->udata = udata;
    return DTR_OK;
}

/* ---- requests ------------------------------------------------------------------- */

static const char *f_req_method(dtr_request *req)
{
    return req->method;
}
static const char *f_req_path(dtr_request *req)
{
    return req->path;
}
static const char *f_req_param(dtr_request *req, const char *name)
{
    (void)req;
    (void)name;
    return NULL;
}
static const char *f_req_query(dtr_request *req, const char *name)
{
    (void)req;
    (void)name;
    return NULL;
}
static const char *f_req_header(dtr_request *req, const char *name)
{
    for (size_t i = 0; req->headers && req->headers[i]; i += 2)
        if (strcasecmp(req->headers[i], name) == 0) return req->headers[i + 1];
    return NULL;
}
static const unsigned char *f_req_body(dtr_request *req, size_t *len)
{
    *len = req->body ? strlen(req->body) : 0;
    return (const unsigned char *)req->body;
}
static const char *f_req_id(dtr_request *req)
{
    (void)req;
    return "test-request";
}
static void f_resp_header(dtr_request *req, const char *name, const char *value)
{
    json_object_set_new(req->resp->headers, name, json_string(value));
}
static void f_respond(dtr_request *req, int status, const char *content_type, const void *body,
                      size_t len)
{
    if (req->answered) abort(); /* a second answer is a plugin bug */
    req->answered = true;
    fake_response *r = req->resp;
    r->status = status;
    r->content_type = content_type ? strdup(content_type) : NULL;
    r->body = calloc(1, len + 1);
    if (len) memcpy(r->body, body, len);
    r->len = len;
    r->json = len ? json_loadb(r->body, len, 0, NULL) : NULL;
}
static void f_respond_problem(dtr_request *req, int status, const char *kode, const char *felt,
                              const char *tekst)
{
    json_t *p = json_pack("{s:i, s:s, s:[{s:s, s:s?, s:s}]}", "status", status, "detail", tekst,
                          "fejl", "kode", kode, "felt", felt, "tekst", tekst);
    char *text = json_dumps(p, JSON_COMPACT);
    f_respond(req, status, "application/problem+json", text, strlen(text));
    free(text);
    json_decref(p);
}
static void f_respond_json(dtr_request *req, int status, const char *content_type, json_t *json)
{
    char *text = json_dumps(json, JSON_COMPACT);
    f_respond(req, status, content_type ? content_type : "application/json", text, strlen(text));
    free(text);
    json_decref(json);
}
static void f_req_on_abort(dtr_request *req, dtr_abort_fn fn, void *udata)
{
    req->abort_fn = fn;
    req->abort_udata = udata;
}

/* ---- work, timers, loop ---------------------------------------------------------- */

typedef struct f_work {
    uv_work_t req;
    dtr_work_fn work;
    dtr_work_done_fn done;
    void *udata;
} f_work;

static void f_work_run(uv_work_t *req)
{
    f_work *w = req->data;
    w->work(w->udata);
}
static void f_work_after(uv_work_t *req, int status)
{
    f_work *w = req->data;
    g_host->work_in_flight--;
    if (w->done) w->done(w->udata, status);
    free(w);
}
static dtr_status f_work_submit(dtr_plugin *self, dtr_work_fn work, dtr_work_done_fn done,
                                void *udata)
{
    (void)self;
    f_work *w = calloc(1, sizeof *w);
    w->req.data = w;
    w->work = work;
    w->done = done;
    w->udata = udata;
    if (uv_queue_work(&g_host->loop, &w->req, f_work_run, f_work_after) != 0) {
        free(w);
        return DTR_ERROR;
    }
    g_host->work_in_flight++;
    return DTR_OK;
}

static void f_timer_fire(uv_timer_t *handle)
{
    struct dtr_timer *t = handle->data;
    t->fn(t, t->udata);
}
static void f_timer_closed(uv_handle_t *handle)
{
    free(handle->data);
}
static dtr_timer *f_timer_start(dtr_plugin *self, uint64_t timeout_ms, uint64_t repeat_ms,
                                dtr_timer_fn fn, void *udata)
{
    (void)self;
    struct dtr_timer *t = calloc(1, sizeof *t);
    uv_timer_init(&g_host->loop, &t->handle);
    t->handle.data = t;
    t->fn = fn;
    t->udata = udata;
    uv_timer_start(&t->handle, f_timer_fire, timeout_ms, repeat_ms);
    g_host->timers_live++;
    return t;
}
static void f_timer_stop(dtr_timer *t)
{
    if (!t || uv_is_closing((uv_handle_t *)&t->handle)) return;
    g_host->timers_live--;
    uv_timer_stop(&t->handle);
    uv_close((uv_handle_t *)&t->handle, f_timer_closed);
}
static void *f_loop(dtr_plugin *self)
{
    (void)self;
    return &g_host->loop;
}
static const char *f_data_dir(dtr_plugin *self)
{
    (void)self;
    return g_host->data_dir;
}

/* ---- code lists, clients ------------------------------------------------------------ */

static const char *f_code_text(dtr_plugin *self, const char *list, int kode)
{
    (void)self;
    if (strcmp(list, "ejerform") == 0) {
        static const char *texts[] = {NULL, "Kommunal", "Selvejende", "Privat", "Udliciteret"};
        return kode >= 1 && kode <= 4 ? texts[kode] : NULL;
    }
    if (strcmp(list, "institutionstype") == 0) {
        if (kode == 6010) return "Vuggestue (0-2 år)";
        if (kode == 6011) return "Børnehave (3-5 år)";
        if (kode == 6012) return "Aldersintegreret (0-5 år)";
        return NULL;
    }
    if (strcmp(list, "kommune") == 0) {
        if (kode == 101) return "København";
        if (kode == 751) return "Aarhus";
        return NULL;
    }
    return NULL;
}

/* "Authorization: Basic <role>" authenticates as a client of that role;
 * any other value is wrong credentials. */
static dtr_status f_req_authenticate(dtr_plugin *self, dtr_request *req, const dtr_identity **who)
{
    (void)self;
    const char *auth = f_req_header(req, "Authorization");
    *who = NULL;
    if (!auth) return DTR_OK;
    for (size_t i = 0; i < F_N_IDENTITIES; i++) {
        if (strncmp(auth, "Basic ", 6) == 0 && strcmp(auth + 6, g_identities[i].info.role) == 0) {
            *who = &g_identities[i];
            return DTR_OK;
        }
    }
    return DTR_DECLINED;
}

/* Whether who is one of the fake host's identities. */
static bool f_identity_valid(const dtr_identity *who)
{
    for (size_t i = 0; i < F_N_IDENTITIES; i++)
        if (who == &g_identities[i]) return true;
    return false;
}
static const dtr_identity *f_identity_configured(dtr_plugin *self)
{
    (void)self;
    return NULL;
}
static dtr_status f_identity_retain(dtr_plugin *self, const dtr_identity *who)
{
    (void)self;
    return f_identity_valid(who) ? DTR_OK : DTR_DECLINED;
}
static void f_identity_release(dtr_plugin *self, const dtr_identity *who)
{
    (void)self;
    (void)who;
}
static dtr_status f_identity_info(dtr_plugin *self, const dtr_identity *who, dtr_identity_info *out)
{
    (void)self;
    memset(out, 0, sizeof *out);
    if (!f_identity_valid(who)) return DTR_DECLINED;
    *out = who->info;
    return DTR_OK;
}
static int f_public_read(dtr_plugin *self)
{
    (void)self;
    return g_host->public_read;
}

/* ---- the register ---------------------------------------------------------------------- */

static dtr_reader *f_reader(dtr_plugin *self)
{
    (void)self;
    return &g_loop_reader;
}
static dtr_reader *f_reader_open(dtr_plugin *self)
{
    (void)self;
    __atomic_add_fetch(&g_host->readers_open, 1, __ATOMIC_SEQ_CST);
    return calloc(1, sizeof(struct dtr_reader));
}
static void f_reader_close(dtr_reader *r)
{
    __atomic_sub_fetch(&g_host->readers_open, 1, __ATOMIC_SEQ_CST);
    free(r);
}
static dtr_status f_read_list(dtr_reader *r, const dtr_query *q, json_t **items, char next[7])
{
    (void)r;
    __atomic_add_fetch(&g_host->list_reads, 1, __ATOMIC_SEQ_CST);
    if (g_host->fail_reads) return DTR_ERROR;
    size_t limit = q->limit ? q->limit : 100;
    *items = json_array();
    next[0] = '\0';
    size_t i;
    json_t *di;
    json_array_foreach(g_host->daginstitutioner, i, di)
    {
        const char *nummer = json_string_value(json_object_get(di, "nummer"));
        if (q->after && strcmp(nummer, q->after) <= 0) continue;
        if (json_array_size(*items) == limit) {
            json_t *last = json_array_get(*items, limit - 1);
            snprintf(next, 7, "%s", json_string_value(json_object_get(last, "nummer")));
            break;
        }
        json_array_append_new(*items, json_deep_copy(di));
    }
    return DTR_OK;
}
static dtr_status f_read_haendelser(dtr_reader *r, int64_t fra, size_t max, json_t **out)
{
    (void)r;
    __atomic_add_fetch(&g_host->haendelser_reads, 1, __ATOMIC_SEQ_CST);
    if (g_host->fail_reads) return DTR_ERROR;
    *out = json_array();
    size_t i;
    json_t *ev;
    json_array_foreach(g_host->haendelser, i, ev)
    {
        if (json_integer_value(json_object_get(ev, "sekvensnummer")) < fra) continue;
        if (json_array_size(*out) == max) break;
        json_array_append_new(*out, json_deep_copy(ev));
    }
    return DTR_OK;
}
static dtr_status f_read_latest(dtr_reader *r, int64_t *seq, char tidspunkt[40])
{
    (void)r;
    if (g_host->fail_reads) return DTR_ERROR;
    *seq = g_host->latest;
    snprintf(tidspunkt, 40, "2026-01-01T00:00:00Z");
    return DTR_OK;
}
static dtr_status f_snapshot_begin(dtr_reader *r, int64_t *seq)
{
    (void)r;
    if (g_host->fail_reads) return DTR_ERROR;
    *seq = g_host->latest;
    return DTR_OK;
}
static void f_snapshot_end(dtr_reader *r)
{
    (void)r;
}

/* ---- the feed, signing -------------------------------------------------------------------- */

static void f_consume_done(dtr_plugin *self, int64_t up_to, dtr_status status)
{
    (void)self;
    g_host->done_calls++;
    g_host->done_up_to = up_to;
    g_host->done_status = status;
}
static void f_feed_start_at(dtr_plugin *self, int64_t fra)
{
    (void)self;
    g_host->start_at = fra;
}
static dtr_status f_sign(dtr_plugin *self, const void *msg, size_t len, unsigned char sig[64])
{
    (void)self;
    crypto_sign_detached(sig, NULL, msg, len, g_host->sk);
    return DTR_OK;
}
static void f_signing_public_key(dtr_plugin *self, unsigned char pk[32])
{
    (void)self;
    memcpy(pk, g_host->pk, 32);
}

/* ---- the fake host itself ------------------------------------------------------------------- */

char *fake_temp_dir(void)
{
    char *dir = strdup("/tmp/portal-test-XXXXXX");
    if (!mkdtemp(dir)) abort();
    return dir;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void fake_remove_tree(const char *dir)
{
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

fake_host *fake_host_new(void)
{
    if (sodium_init() < 0) abort();
    fake_host *h = calloc(1, sizeof *h);
    g_host = h;
    g_plugin.h = h;
    h->self = &g_plugin;
    uv_loop_init(&h->loop);
    h->data_dir = fake_temp_dir();
    h->public_read = 1;
    h->daginstitutioner = json_array();
    h->haendelser = json_array();
    crypto_sign_keypair(h->pk, h->sk);
    dtr_host_api *a = &h->api;
    a->abi_major = DTR_ABI_MAJOR;
    a->abi_minor = DTR_ABI_MINOR;
    a->struct_size = sizeof *a;
    a->log = f_log;
    a->route_add = f_route_add;
    a->req_method = f_req_method;
    a->req_path = f_req_path;
    a->req_param = f_req_param;
    a->req_query = f_req_query;
    a->req_header = f_req_header;
    a->req_body = f_req_body;
    a->req_id = f_req_id;
    a->resp_header = f_resp_header;
    a->respond = f_respond;
    a->respond_problem = f_respond_problem;
    a->respond_json = f_respond_json;
    a->req_on_abort = f_req_on_abort;
    a->work_submit = f_work_submit;
    a->timer_start = f_timer_start;
    a->timer_stop = f_timer_stop;
    a->loop = f_loop;
    a->data_dir = f_data_dir;
    a->code_text = f_code_text;
    a->req_authenticate = f_req_authenticate;
    a->identity_configured = f_identity_configured;
    a->identity_retain = f_identity_retain;
    a->identity_release = f_identity_release;
    a->identity_info = f_identity_info;
    a->public_read = f_public_read;
    a->reader = f_reader;
    a->reader_open = f_reader_open;
    a->reader_close = f_reader_close;
    a->read_list = f_read_list;
    a->read_haendelser = f_read_haendelser;
    a->read_latest = f_read_latest;
    a->snapshot_begin = f_snapshot_begin;
    a->snapshot_end = f_snapshot_end;
    a->consume_done = f_consume_done;
    a->feed_start_at = f_feed_start_at;
    a->sign = f_sign;
    a->signing_public_key = f_signing_public_key;
    return h;
}

static void walk_report(uv_handle_t *handle, void *arg)
{
    (void)arg;
    fprintf(stderr, "handle left open: %s\n", uv_handle_type_name(handle->type));
}

void fake_host_free(fake_host *h)
{
    uv_run(&h->loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&h->loop) != 0) {
        uv_walk(&h->loop, walk_report, NULL);
        abort();
    }
    json_decref(h->daginstitutioner);
    json_decref(h->haendelser);
    fake_remove_tree(h->data_dir);
    free(h->data_dir);
    free(h);
    g_host = NULL;
}

void *fake_plugin_init(fake_host *h, const char *config, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *cfg = json_loads(config, 0, &jerr);
    if (!cfg) {
        snprintf(err, errlen, "test config: %s", jerr.text);
        return NULL;
    }
    h->n_routes = 0;
    void *state = NULL;
    dtr_status st = dtr_plugin_entry.init(h->self, &h->api, cfg, &state, err, errlen);
    json_decref(cfg);
    return st == DTR_OK ? state : NULL;
}

int fake_plugin_start(fake_host *h, void *state)
{
    (void)h;
    char err[256];
    return dtr_plugin_entry.start(state, err, sizeof err) == DTR_OK ? 0 : -1;
}

static bool no_work(void *udata)
{
    fake_host *h = udata;
    return h->work_in_flight == 0;
}

void fake_plugin_stop_free(fake_host *h, void *state)
{
    dtr_plugin_entry.stop(state);
    fake_run_until(h, no_work, h, 10000);
    dtr_plugin_entry.free(state);
    uv_run(&h->loop, UV_RUN_NOWAIT);
}

void fake_add_event(fake_host *h, const char *operation, const char *entitet, const char *nummer)
{
    h->latest++;
    json_array_append_new(h->haendelser,
                          json_pack("{s:I, s:s, s:s, s:s, s:s, s:i, s:{}}", "sekvensnummer",
                                    (json_int_t)h->latest, "tidspunkt", "2026-01-01T00:00:00Z",
                                    "operation", operation, "entitet", entitet, "nummer", nummer,
                                    "version", 1, "data"));
}

void fake_consume(fake_host *h, void *state, int64_t fra, int64_t til)
{
    json_t *batch = json_array();
    size_t i;
    json_t *ev;
    json_array_foreach(h->haendelser, i, ev)
    {
        int64_t seq = json_integer_value(json_object_get(ev, "sekvensnummer"));
        if (seq >= fra && seq <= til) json_array_append(batch, ev);
    }
    dtr_plugin_entry.consume(state, batch);
    json_decref(batch);
}

static void wake(uv_timer_t *t)
{
    (void)t;
}

bool fake_run_until(fake_host *h, bool (*pred)(void *), void *udata, unsigned timeout_ms)
{
    uv_timer_t tick;
    uv_timer_init(&h->loop, &tick);
    uv_timer_start(&tick, wake, 2, 2);
    uint64_t deadline = uv_now(&h->loop) + timeout_ms;
    bool ok;
    while (!(ok = pred ? pred(udata) : false) && uv_now(&h->loop) < deadline)
        uv_run(&h->loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&tick, NULL);
    uv_run(&h->loop, UV_RUN_NOWAIT);
    return ok;
}

void fake_run_for(fake_host *h, unsigned ms)
{
    fake_run_until(h, NULL, NULL, ms);
}

static bool answered(void *udata)
{
    return ((dtr_request *)udata)->answered;
}

fake_response *fake_call(fake_host *h, const char *method, const char *path,
                         const char *const *headers, const char *body)
{
    fake_response *resp = calloc(1, sizeof *resp);
    resp->headers = json_object();
    dtr_request *req = calloc(1, sizeof *req);
    req->method = method;
    req->path = path;
    req->headers = headers;
    req->body = body;
    req->resp = resp;
    fake_route *route = NULL;
    for (size_t i = 0; i < h->n_routes && !route; i++)
        if (strcmp(h->routes[i].method, method) == 0 && strcmp(h->routes[i].pattern, path) == 0)
            route = &h->routes[i];
    if (!route) {
        resp->status = 404;
    } else {
        dtr_status st = route->fn(req, route->udata);
        if (st != DTR_OK && !req->answered) resp->status = 500;
        if (!req->answered && st == DTR_OK) fake_run_until(h, answered, req, 10000);
        if (!req->answered) {
            if (req->abort_fn) req->abort_fn(req, req->abort_udata);
            resp->status = resp->status ? resp->status : -1;
        }
    }
    free(req);
    return resp;
}

void fake_response_free(fake_response *r)
{
    if (!r) return;
    free(r->content_type);
    free(r->body);
    json_decref(r->headers);
    json_decref(r->json);
    free(r);
}

const char *fake_response_header(const fake_response *r, const char *name)
{
    return json_string_value(json_object_get(r->headers, name));
}
