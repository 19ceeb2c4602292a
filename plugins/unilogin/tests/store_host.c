/*
 * store_host.c -- a test host backed by the real store and feed (see
 * store_host.h).
 */
#include "store_host_int.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <sodium.h>
static store_host *sh_of(dtr_plugin *self)
{
    return self->h;
}

void sh_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "store_host: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    abort();
}

/* ---- the host API: logging, work, timers ----------------------------------- */

__attribute__((format(printf, 3, 4))) static void sh_api_log(dtr_plugin *self, dtr_log_level level,
                                                             const char *fmt, ...)
{
    (void)self;
    if (!getenv("SH_LOG") && level < DTR_LOG_ERROR) return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "plugin[%d]: ", (int)level);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
}

typedef struct sh_work {
    uv_work_t req;
    store_host *h;
    dtr_work_fn work;
    dtr_work_done_fn done;
    void *udata;
} sh_work;

static void sh_work_run(uv_work_t *w)
{
    sh_work *x = w->data;
    x->work(x->udata);
}

static void sh_work_after(uv_work_t *w, int status)
{
    sh_work *x = w->data;
    x->h->work--;
    if (x->done) x->done(x->udata, status);
    free(x);
}

static dtr_status sh_api_work_submit(dtr_plugin *self, dtr_work_fn work, dtr_work_done_fn done,
                                     void *udata)
{
    store_host *h = sh_of(self);
    sh_work *x = calloc(1, sizeof *x);
    x->req.data = x;
    x->h = h;
    x->work = work;
    x->done = done;
    x->udata = udata;
    if (uv_queue_work(&h->loop, &x->req, sh_work_run, sh_work_after) != 0) {
        free(x);
        return DTR_ERROR;
    }
    h->work++;
    return DTR_OK;
}

static void sh_timer_fire(uv_timer_t *t)
{
    struct dtr_timer *x = t->data;
    x->fn(x, x->udata);
}

static dtr_timer *sh_api_timer_start(dtr_plugin *self, uint64_t timeout_ms, uint64_t repeat_ms,
                                     dtr_timer_fn fn, void *udata)
{
    struct dtr_timer *t = calloc(1, sizeof *t);
    uv_timer_init(&sh_of(self)->loop, &t->handle);
    t->handle.data = t;
    t->fn = fn;
    t->udata = udata;
    uv_timer_start(&t->handle, sh_timer_fire, timeout_ms, repeat_ms);
    return t;
}

static void sh_timer_closed(uv_handle_t *h)
{
    free(h->data);
}

static void sh_api_timer_stop(dtr_timer *t)
{
    if (!t || uv_is_closing((uv_handle_t *)&t->handle)) return;
    uv_timer_stop(&t->handle);
    uv_close((uv_handle_t *)&t->handle, sh_timer_closed);
}

static void *sh_api_loop(dtr_plugin *self)
{
    return &sh_of(self)->loop;
}

static const char *sh_api_data_dir(dtr_plugin *self)
{
    return sh_of(self)->dir;
}

/* ---- the host API: routes and requests ------------------------------------------ */

static sh_route sh_routes[16];
static size_t sh_nroutes;

const sh_route *sh_route_find(const char *path)
{
    for (size_t i = 0; i < sh_nroutes; i++)
        if (strcmp(sh_routes[i].pattern, path) == 0) return &sh_routes[i];
    return NULL;
}

static dtr_status sh_api_route_add(dtr_plugin *self, const char *method, const char *pattern,
                                   size_t max_body_bytes, dtr_route_fn fn, void *udata, char *err,
                                   size_t errlen)
{
    (void)self;
    (void)max_body_bytes;
    if (strcmp(method, "GET") != 0 || sh_nroutes == 16) {
        snprintf(err, errlen, "store_host: only up to 16 GET routes");
        return DTR_ERROR;
    }
    for (size_t i = 0; i < sh_nroutes; i++) {
        if (strcmp(sh_routes[i].pattern, pattern) == 0) {
            snprintf(err, errlen, "route %s registered twice", pattern);
            return DTR_ERROR;
        }
    }
    sh_route *r = &sh_routes[sh_nroutes++];
    snprintf(r->pattern, sizeof r->pattern, "%s", pattern);
    r->fn = fn;
    r->udata = udata;
    return DTR_OK;
}

static const char *sh_req_method(dtr_request *req)
{
    return req->method;
}

static const char *sh_req_path(dtr_request *req)
{
    return req->path;
}

static const char *sh_req_param(dtr_request *req, const char *name)
{
    (void)req;
    (void)name;
    return NULL;
}

static const char *sh_req_query(dtr_request *req, const char *name)
{
    for (size_t i = 0; i < req->nparams; i++)
        if (strcmp(req->params[i][0], name) == 0) return req->params[i][1];
    return NULL;
}

static const char *sh_req_header(dtr_request *req, const char *name)
{
    if (strcasecmp(name, "Accept") == 0) return req->accept;
    if (strcasecmp(name, "Authorization") == 0) return req->authorization;
    return NULL;
}

static const unsigned char *sh_req_body(dtr_request *req, size_t *len)
{
    (void)req;
    *len = 0;
    return NULL;
}

static const char *sh_req_id(dtr_request *req)
{
    (void)req;
    return "test-request";
}

static void sh_resp_header(dtr_request *req, const char *name, const char *value)
{
    if (strcasecmp(name, "WWW-Authenticate") == 0)
        snprintf(req->www_authenticate, sizeof req->www_authenticate, "%s", value);
}

void sh_finish(dtr_request *req, int status, const char *content_type, const void *body, size_t len)
{
    sh_call *c = req->call;
    if (c->answered) sh_die("the plugin answered a request twice");
    c->answered = true;
    sh_response *r = &c->resp;
    r->status = status;
    snprintf(r->content_type, sizeof r->content_type, "%s", content_type ? content_type : "");
    snprintf(r->www_authenticate, sizeof r->www_authenticate, "%s", req->www_authenticate);
    r->body = malloc(len + 1);
    if (len) memcpy(r->body, body, len);
    r->body[len] = '\0';
    r->len = len;
    if (strstr(r->content_type, "json")) r->json = json_loadb(r->body, len, 0, NULL);
    c->req = NULL;
    free(req);
}

static void sh_respond(dtr_request *req, int status, const char *content_type, const void *body,
                       size_t len)
{
    if (req->call->streaming) sh_die("respond after stream_begin");
    sh_finish(req, status, content_type, body, len);
}

static void sh_respond_json(dtr_request *req, int status, const char *content_type, json_t *json)
{
    char *text = json_dumps(json, DTR_JSON_WIRE);
    json_decref(json);
    sh_respond(req, status, content_type ? content_type : "application/json", text, strlen(text));
    free(text);
}

static void sh_respond_problem(dtr_request *req, int status, const char *kode, const char *felt,
                               const char *tekst)
{
    json_t *p = json_pack("{s:s, s:s, s:i, s:s, s:[{s:s, s:s?, s:s}]}", "type", "about:blank",
                          "title", "problem", "status", status, "detail", tekst, "fejl", "kode",
                          kode, "felt", felt, "tekst", tekst);
    sh_respond_json(req, status, "application/problem+json", p);
}

static void sh_stream_begin(dtr_request *req, int status, const char *content_type)
{
    sh_call *c = req->call;
    if (c->streaming) sh_die("stream_begin twice");
    c->streaming = true;
    c->resp.status = status;
    snprintf(c->resp.content_type, sizeof c->resp.content_type, "%s",
             content_type ? content_type : "");
}

/* Queues bytes; as the real host, DTR_OK while the bytes the client has not
 * taken are below the high-water mark, else DTR_RETRY and on_drain comes
 * once the client took enough (sh_call_take). */
static dtr_status sh_stream_write(dtr_request *req, const void *data, size_t len)
{
    sh_call *c = req->call;
    if (!c->streaming) sh_die("stream_write before stream_begin");
    if (c->want_drain) c->writes_over++;
    c->stream = realloc(c->stream, c->stream_len + len + 1);
    memcpy(c->stream + c->stream_len, data, len);
    c->stream_len += len;
    if (!c->high_water || c->stream_len - c->taken < c->high_water) return DTR_OK;
    c->want_drain = true;
    return DTR_RETRY;
}

static void sh_stream_end(dtr_request *req)
{
    sh_call *c = req->call;
    if (!c->streaming) sh_die("stream_end before stream_begin");
    char ctype[128];
    snprintf(ctype, sizeof ctype, "%s", c->resp.content_type);
    sh_finish(req, c->resp.status, ctype, c->stream, c->stream_len);
}

static void sh_req_on_abort(dtr_request *req, dtr_abort_fn fn, void *udata)
{
    req->on_abort = fn;
    req->abort_udata = udata;
}

static void sh_req_on_drain(dtr_request *req, dtr_drain_fn fn, void *udata)
{
    req->on_drain = fn;
    req->drain_udata = udata;
}

/* The one identity this host issues: the client "Basic good" names. The
 * host is the test's own, so its identities are its own static structs. */
struct dtr_identity {
    dtr_identity_info info;
};

static const dtr_identity sh_good = {{.id = "c1", .name = "test", .role = "laeser"}};

static dtr_status sh_req_authenticate(dtr_plugin *self, dtr_request *req, const dtr_identity **who)
{
    (void)self;
    *who = NULL;
    if (!req->authorization) return DTR_OK;
    if (strcmp(req->authorization, "Basic good") != 0) return DTR_DECLINED;
    *who = &sh_good;
    return DTR_OK;
}

static const dtr_identity *sh_identity_configured(dtr_plugin *self)
{
    (void)self;
    return NULL;
}

static dtr_status sh_identity_retain(dtr_plugin *self, const dtr_identity *who)
{
    (void)self;
    return who == &sh_good ? DTR_OK : DTR_DECLINED;
}

static void sh_identity_release(dtr_plugin *self, const dtr_identity *who)
{
    (void)self;
    (void)who;
}

static dtr_status sh_identity_info(dtr_plugin *self, const dtr_identity *who,
                                   dtr_identity_info *out)
{
    (void)self;
    memset(out, 0, sizeof *out);
    if (who != &sh_good) return DTR_DECLINED;
    *out = who->info;
    return DTR_OK;
}

static int sh_public_read(dtr_plugin *self)
{
    return sh_of(self)->public_read;
}

/* ---- the host API: reads, the feed, signing --------------------------------------- */

static dtr_reader *sh_reader(dtr_plugin *self)
{
    return (dtr_reader *)sh_of(self)->loop_reader;
}

static dtr_reader *sh_reader_open(dtr_plugin *self)
{
    char err[256];
    store_reader *r = store_reader_open(sh_of(self)->s, err, sizeof err);
    if (r) sh_of(self)->readers_open++;
    return (dtr_reader *)r;
}

/* The readers the plugin opened are all closed through the plugin's
 * handle; the store has no way back to the host, so one host serves one
 * plugin instance (as everywhere here). */
static store_host *sh_the_host;

static void sh_reader_close(dtr_reader *r)
{
    if (!r) return;
    store_reader_close((store_reader *)r);
    sh_the_host->readers_open--;
}

/* A store read's status (0, 404, 410, 400, 503) in the ABI's words, as the
 * real host's. */
static dtr_status sh_read_status(int rc)
{
    switch (rc) {
    case 0:
        return DTR_OK;
    case 404:
        return DTR_NOT_FOUND;
    case 410:
        return DTR_GONE;
    case 400:
        return DTR_INVALID;
    default:
        return DTR_ERROR;
    }
}

/* Whether a read may go on: false once the test's budget of reads is
 * spent (sh_fail_reads_after). Any thread. */
static bool sh_read_allowed(void)
{
    long left = atomic_load(&sh_the_host->reads_left);
    while (left > 0 && !atomic_compare_exchange_weak(&sh_the_host->reads_left, &left, left - 1)) {
    }
    return left != 0;
}

static dtr_status sh_read_get(dtr_reader *r, const char *nummer, const char *virkningsdato,
                              int nested, dtr_level *level, json_t **out)
{
    if (!sh_read_allowed()) {
        *out = NULL;
        return DTR_ERROR;
    }
    reg_level l = REG_DAGINSTITUTION;
    int rc =
        store_get((store_reader *)r, nummer, virkningsdato, nested ? STORE_NESTED : 0, &l, out);
    *level = (dtr_level)l;
    return sh_read_status(rc);
}

static dtr_status sh_read_list(dtr_reader *r, const dtr_query *q, json_t **items, char next[7])
{
    if (!sh_read_allowed()) {
        *items = NULL;
        next[0] = '\0';
        return DTR_ERROR;
    }
    store_query sq = {.level = (reg_level)q->level,
                      .virkningsdato = q->virkningsdato,
                      .status = q->status,
                      .adm_kommune = q->adm_kommune,
                      .kommune = q->kommune,
                      .inst_type3 = q->inst_type3,
                      .parent = q->parent,
                      .p_nummer = q->p_nummer,
                      .cvr_nummer = q->cvr_nummer,
                      .navn = q->navn,
                      .after = q->after,
                      .limit = q->limit,
                      .flags = q->nested ? STORE_NESTED : 0};
    return sh_read_status(store_list((store_reader *)r, &sq, items, next));
}

static dtr_status sh_read_history(dtr_reader *r, const char *nummer, json_t **out)
{
    return sh_read_status(store_history((store_reader *)r, nummer, out));
}

static dtr_status sh_read_haendelser(dtr_reader *r, int64_t fra, size_t max, json_t **out)
{
    return sh_read_status(store_haendelser((store_reader *)r, fra, max, out));
}

static dtr_status sh_read_latest(dtr_reader *r, int64_t *seq, char tidspunkt[40])
{
    return sh_read_status(store_latest((store_reader *)r, seq, tidspunkt));
}

static dtr_status sh_snapshot_begin(dtr_reader *r, int64_t *seq)
{
    int rc = store_snapshot_begin((store_reader *)r, seq);
    if (rc == 0) atomic_fetch_add(&sh_the_host->snapshots_open, 1);
    return sh_read_status(rc);
}

static void sh_snapshot_end(dtr_reader *r)
{
    store_snapshot_end((store_reader *)r);
    atomic_fetch_sub(&sh_the_host->snapshots_open, 1);
}

static void sh_consume_done(dtr_plugin *self, int64_t up_to, dtr_status status)
{
    store_host *h = sh_of(self);
    if (h->consumer) feed_consumer_done(h->consumer, up_to, status);
}

static void sh_feed_start_at(dtr_plugin *self, int64_t fra)
{
    sh_of(self)->start_at = fra;
}

static dtr_status sh_sign(dtr_plugin *self, const void *msg, size_t len, unsigned char sig[64])
{
    crypto_sign_detached(sig, NULL, msg, len, sh_of(self)->sk);
    return DTR_OK;
}

static void sh_signing_public_key(dtr_plugin *self, unsigned char pk[32])
{
    memcpy(pk, sh_of(self)->pk, 32);
}

static void sh_fill_api(dtr_host_api *a)
{
    memset(a, 0, sizeof *a);
    a->abi_major = DTR_ABI_MAJOR;
    a->abi_minor = DTR_ABI_MINOR;
    a->struct_size = sizeof *a;
    a->log = sh_api_log;
    a->route_add = sh_api_route_add;
    a->req_method = sh_req_method;
    a->req_path = sh_req_path;
    a->req_param = sh_req_param;
    a->req_query = sh_req_query;
    a->req_header = sh_req_header;
    a->req_body = sh_req_body;
    a->req_id = sh_req_id;
    a->resp_header = sh_resp_header;
    a->respond = sh_respond;
    a->respond_problem = sh_respond_problem;
    a->respond_json = sh_respond_json;
    a->stream_begin = sh_stream_begin;
    a->stream_write = sh_stream_write;
    a->stream_end = sh_stream_end;
    a->req_on_abort = sh_req_on_abort;
    a->req_on_drain = sh_req_on_drain;
    a->work_submit = sh_api_work_submit;
    a->timer_start = sh_api_timer_start;
    a->timer_stop = sh_api_timer_stop;
    a->loop = sh_api_loop;
    a->data_dir = sh_api_data_dir;
    a->req_authenticate = sh_req_authenticate;
    a->identity_configured = sh_identity_configured;
    a->identity_retain = sh_identity_retain;
    a->identity_release = sh_identity_release;
    a->identity_info = sh_identity_info;
    a->public_read = sh_public_read;
    a->reader = sh_reader;
    a->reader_open = sh_reader_open;
    a->reader_close = sh_reader_close;
    a->read_get = sh_read_get;
    a->read_list = sh_read_list;
    a->read_history = sh_read_history;
    a->read_haendelser = sh_read_haendelser;
    a->read_latest = sh_read_latest;
    a->snapshot_begin = sh_snapshot_begin;
    a->snapshot_end = sh_snapshot_end;
    a->consume_done = sh_consume_done;
    a->feed_start_at = sh_feed_start_at;
    a->sign = sh_sign;
    a->signing_public_key = sh_signing_public_key;
}

/* ---- the host itself ------------------------------------------------------------------ */

int64_t sh_day_ms(const char *day)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    tm.tm_year = atoi(day) - 1900;
    tm.tm_mon = atoi(day + 5) - 1;
    tm.tm_mday = atoi(day + 8);
    tm.tm_hour = 12;
    return (int64_t)timegm(&tm) * 1000;
}

static int64_t sh_clock(void *udata)
{
    return ((store_host *)udata)->now_ms;
}

static void sh_store_log(void *udata, int level, const char *msg)
{
    (void)udata;
    if (getenv("SH_LOG") || level >= 3) fprintf(stderr, "store[%d]: %s\n", level, msg);
}

static void sh_feed_log(void *udata, int level, const char *msg)
{
    (void)udata;
    if (getenv("SH_LOG") || level >= 3) fprintf(stderr, "feed[%d]: %s\n", level, msg);
}

static void sh_watchdog_fired(uv_timer_t *t)
{
    ((store_host *)t->data)->timed_out = true;
}

store_host *sh_new(const char *name, const char *today_day)
{
    return sh_new_batched(name, today_day, 0);
}

store_host *sh_new_batched(const char *name, const char *today_day, size_t batch_max)
{
    store_host *h = calloc(1, sizeof *h);
    snprintf(h->dir, sizeof h->dir, "/tmp/%s_XXXXXX", name);
    if (!mkdtemp(h->dir)) sh_die("mkdtemp");
    uv_loop_init(&h->loop);
    uv_timer_init(&h->loop, &h->watchdog);
    h->watchdog.data = h;
    uv_unref((uv_handle_t *)&h->watchdog);
    h->now_ms = sh_day_ms(today_day);
    h->public_read = true;
    h->start_at = -1;
    h->self.h = h;
    atomic_init(&h->snapshots_open, 0);
    atomic_init(&h->reads_left, -1);
    if (sh_the_host) sh_die("one store_host at a time");
    sh_the_host = h;
    for (int i = 0; i < AUDIT_KEY_BYTES; i++)
        h->audit_key[i] = (uint8_t)(i * 5 + 3);
    char err[256];
    store_options so = {.data_dir = h->dir,
                        .audit_key = h->audit_key,
                        .loop = &h->loop,
                        .clock = sh_clock,
                        .clock_udata = h,
                        .log = sh_store_log};
    if (store_open(&so, &h->s, err, sizeof err) != 0) sh_die("store_open: %s", err);
    h->loop_reader = store_reader_open(h->s, err, sizeof err);
    if (!h->loop_reader) sh_die("store_reader_open: %s", err);
    feed_options fo = {.loop = &h->loop,
                       .store = h->s,
                       .batch_max = batch_max,
                       .retry_min_ms = 20,
                       .retry_max_ms = 100,
                       .log = sh_feed_log};
    h->feed = feed_new(&fo, err, sizeof err);
    if (!h->feed) sh_die("feed_new: %s", err);
    if (signkey_load_or_create(h->dir, h->sk, h->pk, err, sizeof err) != 0)
        sh_die("signkey: %s", err);
    sh_fill_api(&h->api);
    return h;
}

static void sh_feed_closed(void *udata)
{
    *(bool *)udata = true;
}

bool sh_flag(void *udata)
{
    return *(bool *)udata;
}

void sh_free(store_host *h)
{
    if (!h) return;
    if (h->loaded) sh_unload(h);
    bool closed = false;
    feed_close(h->feed, sh_feed_closed, &closed);
    sh_run_until(h, sh_flag, &closed);
    store_reader_close(h->loop_reader);
    store_close(h->s);
    uv_close((uv_handle_t *)&h->watchdog, NULL);
    uv_run(&h->loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&h->loop) != 0) sh_die("handles left open on the loop");
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", h->dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", h->dir);
    sodium_memzero(h->sk, sizeof h->sk);
    sh_the_host = NULL;
    free(h);
}

const char *sh_data_dir(const store_host *h)
{
    return h->dir;
}

uv_loop_t *sh_loop(store_host *h)
{
    return &h->loop;
}

store *sh_store(store_host *h)
{
    return h->s;
}

feed *sh_feed(store_host *h)
{
    return h->feed;
}

const unsigned char *sh_public_key(const store_host *h)
{
    return h->pk;
}

void sh_set_public_read(store_host *h, bool on)
{
    h->public_read = on;
}

void sh_run_until(store_host *h, bool (*cond)(void *udata), void *udata)
{
    h->timed_out = false;
    uv_timer_start(&h->watchdog, sh_watchdog_fired, 120000, 0);
    while (!cond(udata) && !h->timed_out)
        uv_run(&h->loop, UV_RUN_ONCE);
    uv_timer_stop(&h->watchdog);
    if (!cond(udata)) sh_die("timed out waiting on the loop");
}

static void sh_consume(void *udata, const json_t *events)
{
    store_host *h = udata;
    h->desc->consume(h->state, events);
}

int sh_load(store_host *h, const dtr_plugin_descriptor *d, const char *config, char *err,
            size_t errlen)
{
    json_t *cfg = config ? json_loads(config, 0, NULL) : json_object();
    if (!cfg) sh_die("bad config JSON in the test");
    sh_nroutes = 0;
    h->desc = d;
    h->start_at = -1;
    dtr_status st = d->init(&h->self, &h->api, cfg, &h->state, err, errlen);
    json_decref(cfg);
    if (st != DTR_OK) return -1;
    if (d->start && d->start(h->state, err, errlen) != DTR_OK) {
        if (d->free) d->free(h->state);
        return -1;
    }
    h->loaded = true;
    if ((d->kinds & DTR_KIND_CONSUMER) && d->consume && !h->feed_off) {
        h->consumer = feed_subscribe(h->feed, d->name, h->start_at, sh_consume, h, err, errlen);
        if (!h->consumer) sh_die("feed_subscribe: %s", err);
    }
    return 0;
}

void sh_feed_off(store_host *h)
{
    h->feed_off = true;
}

static bool sh_no_work(void *udata)
{
    return ((store_host *)udata)->work == 0;
}

void sh_unload(store_host *h)
{
    if (!h->loaded) return;
    if (h->desc->stop) h->desc->stop(h->state);
    if (h->consumer) feed_unsubscribe(h->consumer);
    h->consumer = NULL;
    sh_run_until(h, sh_no_work, h);
    if (h->desc->free) h->desc->free(h->state);
    h->state = NULL;
    h->loaded = false;
    uv_run(&h->loop, UV_RUN_NOWAIT); /* timers the plugin closed */
    if (h->readers_open != 0) sh_die("the plugin left %ld readers open", h->readers_open);
    if (atomic_load(&h->snapshots_open) != 0)
        sh_die("the plugin left %ld snapshots open", (long)atomic_load(&h->snapshots_open));
}

int64_t sh_consumer_durable(store_host *h, const char *name)
{
    int64_t seq = -1;
    return store_cursor_get(h->loop_reader, name, &seq) == 0 ? seq : -1;
}
