/*
 * services.c -- the register services of `dtr serve` (see services.h): the
 * dtr_host_api entries of ABI 1.1 (clients, commands, reads) and 1.2 (the
 * feed), over core/store, core/auth and core/feed.
 *
 * Per plugin instance the services keep a small record (svc_instance, the
 * loader's instance pointer): its loop-thread reader, opened on first use,
 * its feed subscription and where a new consumer starts. The loader's
 * release hook frees it just before the instance's free callback.
 */
#include "services.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "audit/audit.h"
#include "auth/auth.h"
#include "feed/feed.h"
#include "register/register.h"
#include "store/store.h"

/* The register's timed changes are checked at start and this often. */
#define SVC_TICK_MS 60000

struct svc_services {
    uv_loop_t *loop;
    ops_log *log;
    plug_registry *reg;
    store *store;
    auth_cache *auth;
    feed *feed;
    uv_timer_t tick;
    bool tick_running; /* a store_tick is queued */
    bool closing;
    void (*closed)(void *udata);
    void *closed_udata;
};

typedef struct svc_instance {
    store_reader *reader; /* for short reads on the loop thread */
    feed_consumer *sub;   /* consumer plugins while their set serves */
    int64_t start_at;     /* feed_start_at, or -1: after the newest */
} svc_instance;

/* The plugin's record, created on first use. */
static svc_instance *svc_instance_of(dtr_plugin *self)
{
    svc_instance *in = plug_instance_udata(self);
    if (in) return in;
    in = calloc(1, sizeof *in);
    if (!in) abort();
    in->start_at = -1;
    plug_set_instance_udata(self, in);
    return in;
}

/* The loader's release hook: what the instance borrowed goes back. */
static void svc_release(dtr_plugin *p, void *udata)
{
    (void)udata;
    svc_instance *in = plug_instance_udata(p);
    if (!in) return;
    if (in->sub) feed_unsubscribe(in->sub);
    if (in->reader) store_reader_close(in->reader);
    free(in);
    plug_set_instance_udata(p, NULL);
}

/* The services of this process. The table's functions reach them through
 * this pointer (req_authenticate gets no plugin handle to find them by);
 * one server runs per process, and svc_open refuses a second. */
static svc_services *svc_current;

static svc_services *svc_of(dtr_plugin *self)
{
    (void)self;
    return svc_current;
}

/* ---- clients (1.1) -------------------------------------------------------- */

static dtr_status svc_req_authenticate(dtr_request *req, const dtr_client **client)
{
    svc_services *s = svc_current;
    const dtr_host_api *api = plug_registry_api(s->reg);
    *client = NULL;
    dtr_status st = auth_cache_check(s->auth, api->req_header(req, "Authorization"), client);
    if (st == DTR_ERROR)
        ops_log_write(s->log, OPS_LOG_ERROR, "auth", "clients cannot be read: %s",
                      auth_cache_error(s->auth));
    if (st == DTR_OK && *client) api->req_set_client(req, (*client)->id);
    return st;
}

/* The server's early check (services.h). */
int svc_early_check(void *udata, dtr_request *req, const char **kode, const char **tekst,
                    char *extra, size_t extralen)
{
    svc_services *s = udata;
    const dtr_host_api *api = plug_registry_api(s->reg);
    if (strncmp(api->req_path(req), "/v1/", 4) != 0) return 0;
    const dtr_client *client = NULL;
    dtr_status st = auth_cache_check(s->auth, api->req_header(req, "Authorization"), &client);
    if (st == DTR_ERROR) {
        *kode = "IKKE_KLAR";
        *tekst = "the register's clients cannot be read now";
        return 503;
    }
    if (st == DTR_OK && client) return 0;
    *kode = "IKKE_AUTENTIFICERET";
    *tekst =
        st == DTR_DECLINED ? "wrong client id or secret" : "a write needs a client's credentials";
    snprintf(extra, extralen, "WWW-Authenticate: Basic realm=\"dtr\"\r\n");
    return 401;
}

/* ---- commands (1.1) ------------------------------------------------------- */

typedef struct svc_command_call {
    dtr_command_fn done;
    void *udata;
} svc_command_call;

/* The store's answer in the ABI's words, handed to the plugin's callback. */
static void svc_command_done(const store_result *res, void *udata)
{
    svc_command_call *call = udata;
    json_t *fejl = NULL;
    if (res->status != 0) {
        fejl = json_array();
        for (size_t i = 0; i < res->n_errors; i++) {
            const reg_error *e = &res->errors[i];
            json_array_append_new(fejl, json_pack("{s:s, s:s?, s:s}", "kode", e->kode, "felt",
                                                  e->felt[0] ? e->felt : NULL, "tekst", e->tekst));
        }
    }
    dtr_command_result out = {
        .status = res->status,
        .fejl = fejl,
        .nummer = res->primary,
        .level = (dtr_level)res->level,
        .record = res->record,
        .version = res->version,
        .seq_first = res->seq_first,
        .seq_last = res->seq_last,
        .replayed = res->replayed ? 1 : 0,
    };
    call->done(&out, call->udata);
    json_decref(fejl);
    free(call);
}

static dtr_status svc_command_submit(dtr_plugin *self, const dtr_client *client,
                                     const dtr_command *cmd, dtr_command_fn done, void *udata,
                                     char *err, size_t errlen)
{
    svc_services *s = svc_of(self);
    if (!cmd || !done || cmd->op > DTR_OP_MOVE || cmd->level > DTR_LEVEL_ALTERNATIV_ADRESSE) {
        snprintf(err, errlen, "command_submit: a command and a callback are needed");
        return DTR_ERROR;
    }
    /* Without a client the register refuses the command itself (403): an
     * actor with no right to write. */
    reg_actor actor = {.id = "anonymous", .role = REG_ROLE_LAESER};
    if (client && auth_client_actor(client, &actor) != 0) {
        actor.id = client->id;
        actor.role = REG_ROLE_LAESER;
    }
    store_command sc = {
        .op = (reg_op)cmd->op,
        .level = (reg_level)cmd->level,
        .nummer = cmd->nummer,
        .body = cmd->body,
        .has_if_match = cmd->if_match >= 0,
        .if_match = cmd->if_match,
        .actor = actor,
        .request_id = cmd->request_id,
    };
    if (cmd->idempotency_key && client) {
        sc.idem_client = client->id;
        sc.idem_key = cmd->idempotency_key;
        sc.idem_body = cmd->body_bytes;
        sc.idem_body_len = cmd->body_len;
    }
    svc_command_call *call = malloc(sizeof *call);
    if (!call) abort();
    call->done = done;
    call->udata = udata;
    if (s->closing || store_submit(s->store, &sc, svc_command_done, call) != 0) {
        free(call);
        snprintf(err, errlen, "the store is closing");
        return DTR_ERROR;
    }
    return DTR_OK;
}

/* ---- reads (1.1) ---------------------------------------------------------- */

static dtr_reader *svc_reader(dtr_plugin *self)
{
    svc_instance *in = svc_instance_of(self);
    if (!in->reader) {
        char err[256];
        in->reader = store_reader_open(svc_of(self)->store, err, sizeof err);
        if (!in->reader)
            ops_log_write(svc_of(self)->log, OPS_LOG_ERROR, plug_name(self),
                          "cannot open a reader: %s", err);
    }
    return (dtr_reader *)in->reader;
}

static dtr_reader *svc_reader_open(dtr_plugin *self)
{
    char err[256];
    store_reader *r = store_reader_open(svc_of(self)->store, err, sizeof err);
    if (!r)
        ops_log_write(svc_of(self)->log, OPS_LOG_ERROR, plug_name(self), "cannot open a reader: %s",
                      err);
    return (dtr_reader *)r;
}

static void svc_reader_close(dtr_reader *r)
{
    if (r) store_reader_close((store_reader *)r);
}

static int svc_read_get(dtr_reader *r, const char *nummer, const char *virkningsdato, int nested,
                        dtr_level *level, json_t **out)
{
    reg_level lv = REG_DAGINSTITUTION;
    *out = NULL;
    if (!r || !nummer) return 503;
    int st =
        store_get((store_reader *)r, nummer, virkningsdato, nested ? STORE_NESTED : 0, &lv, out);
    if (level) *level = (dtr_level)lv;
    return st;
}

static int svc_read_list(dtr_reader *r, const dtr_query *q, json_t **items, char next[7])
{
    *items = NULL;
    next[0] = '\0';
    if (!r || !q) return 503;
    store_query sq = {
        .level = (reg_level)q->level,
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
        .flags = q->nested ? STORE_NESTED : 0,
    };
    return store_list((store_reader *)r, &sq, items, next);
}

static int svc_read_history(dtr_reader *r, const char *nummer, json_t **out)
{
    *out = NULL;
    return r && nummer ? store_history((store_reader *)r, nummer, out) : 503;
}

static int svc_read_haendelser(dtr_reader *r, int64_t fra, size_t max, json_t **out)
{
    *out = NULL;
    return r ? store_haendelser((store_reader *)r, fra, max, out) : 503;
}

static int svc_read_latest(dtr_reader *r, int64_t *sekvensnummer, char tidspunkt[40])
{
    return r ? store_latest((store_reader *)r, sekvensnummer, tidspunkt) : 503;
}

static int svc_snapshot_begin(dtr_reader *r, int64_t *sekvensnummer)
{
    return r ? store_snapshot_begin((store_reader *)r, sekvensnummer) : 503;
}

static void svc_snapshot_end(dtr_reader *r)
{
    if (r) store_snapshot_end((store_reader *)r);
}

/* ---- the feed (1.2) ------------------------------------------------------- */

static void svc_consume(void *udata, const json_t *events)
{
    dtr_plugin *p = udata;
    const dtr_plugin_descriptor *d = plug_descriptor(p);
    d->consume(plug_state(p), events);
}

static void svc_consume_done(dtr_plugin *self, int64_t handled_up_to, dtr_status status)
{
    svc_instance *in = plug_instance_udata(self);
    if (!in || !in->sub) return;
    feed_consumer_done(in->sub, handled_up_to, status == DTR_OK ? 0 : (int)DTR_RETRY);
}

static void svc_feed_start_at(dtr_plugin *self, int64_t fra)
{
    svc_instance_of(self)->start_at = fra < 0 ? -1 : fra;
}

int svc_set_serving(svc_services *s, plug_set *set, plug_set *old, char *err, size_t errlen)
{
    dtr_plugin *p;
    for (size_t i = 0; old && (p = plug_set_instance(old, i)) != NULL; i++) {
        svc_instance *in = plug_instance_udata(p);
        if (in && in->sub) {
            feed_unsubscribe(in->sub);
            in->sub = NULL;
        }
    }
    for (size_t i = 0; (p = plug_set_instance(set, i)) != NULL; i++) {
        const dtr_plugin_descriptor *d = plug_descriptor(p);
        if (!d || !(d->kinds & DTR_KIND_CONSUMER) || !d->consume) continue;
        svc_instance *in = svc_instance_of(p);
        in->sub = feed_subscribe(s->feed, plug_name(p), in->start_at, svc_consume, p, err, errlen);
        if (!in->sub) return -1;
    }
    return 0;
}

/* ---- timed changes, readiness, metrics ------------------------------------ */

static void svc_tick_done(const store_result *res, void *udata)
{
    svc_services *s = udata;
    s->tick_running = false;
    if (res->status != 0)
        ops_log_write(s->log, OPS_LOG_ERROR, "store", "timed changes failed (status %d)",
                      res->status);
    else if (res->n_changes)
        ops_log_write(s->log, OPS_LOG_INFO, "store", "timed changes: %zu record(s) changed",
                      res->n_changes);
}

static void svc_tick(uv_timer_t *t)
{
    svc_services *s = t->data;
    if (s->closing || s->tick_running) return;
    if (store_tick(s->store, svc_tick_done, s) == 0) s->tick_running = true;
}

static bool svc_ready(void *udata, char *why, size_t whylen)
{
    svc_services *s = udata;
    if (s->closing) {
        snprintf(why, whylen, "store closing");
        return false;
    }
    return store_writable(s->store, why, whylen);
}

void svc_set_limits(svc_services *s, const net_limits *l)
{
    store_limits sl = {.max_snapshots = l->max_snapshots,
                       .snapshot_max_ms = l->snapshot_max_ms,
                       .max_children = l->max_children,
                       .creates_per_client_per_minute = l->creates_per_client_per_minute,
                       .wal_max_bytes = l->wal_max_bytes};
    store_set_limits(s->store, &sl);
}

static void svc_feed_gauge(void *udata, const feed_consumer_info *info)
{
    ops_metrics *m = udata;
    char name[256];
    snprintf(name, sizeof name, "dtr_feed_lag{consumer=\"%s\"}", info->name);
    ops_metrics_set(m, name, "gauge", "Hændelser the consumer has not acknowledged yet.",
                    (double)info->lag);
}

static void svc_metrics(void *udata, ops_metrics *m)
{
    svc_services *s = udata;
    store_stats st;
    store_get_stats(s->store, &st);
    ops_metrics_set(m, "dtr_commits_total", "counter", "Write transactions committed.",
                    (double)st.commits);
    ops_metrics_set(m, "dtr_commands_total", "counter", "Register commands answered.",
                    (double)st.commands);
    ops_metrics_set(m, "dtr_commit_failures_total", "counter",
                    "Batches failed with 503 (nothing written).", (double)st.failed_commits);
    ops_metrics_set(m, "dtr_commit_batch_max", "gauge", "The largest group commit so far.",
                    (double)st.max_batch);
    ops_metrics_set(m, "dtr_write_queue", "gauge", "Commands waiting for the writer.",
                    (double)st.queued);
    ops_metrics_set(m, "dtr_wal_bytes", "gauge", "The WAL's size after the last commit.",
                    (double)store_wal_bytes(s->store));
    ops_metrics_set(m, "dtr_snapshots_open", "gauge", "Read snapshots open (udtræk, exports).",
                    (double)store_snapshots_open(s->store));
    ops_metrics_set(m, "dtr_numbers_left", "gauge",
                    "Numbers the issuing series G..Z have left to issue.",
                    (double)store_numbers_left(s->store));
    if (s->feed) {
        ops_metrics_set(m, "dtr_feed_newest", "gauge", "The newest sekvensnummer.",
                        (double)feed_newest(s->feed));
        feed_each_consumer(s->feed, svc_feed_gauge, m);
    }
}

/* ---- open and close -------------------------------------------------------- */

static void svc_store_log(void *udata, int level, const char *msg)
{
    svc_services *s = udata;
    ops_log_write(s->log, (ops_log_level)level, "store", "%s", msg);
}

static void svc_feed_log(void *udata, int level, const char *msg)
{
    svc_services *s = udata;
    ops_log_write(s->log, (ops_log_level)level, "feed", "%s", msg);
}

svc_services *svc_open(uv_loop_t *loop, const char *data_dir, ops_log *log, plug_registry *reg,
                       ops_endpoints *endpoints, char *err, size_t errlen)
{
    uint8_t key[AUDIT_KEY_BYTES];
    if (svc_current) {
        snprintf(err, errlen, "the register services are already open in this process");
        return NULL;
    }
    if (audit_load_or_create_key(data_dir, key, err, errlen) != 0) return NULL;
    svc_services *s = calloc(1, sizeof *s);
    if (!s) abort();
    s->loop = loop;
    s->log = log;
    s->reg = reg;
    store_options so = {.data_dir = data_dir,
                        .audit_key = key,
                        .loop = loop,
                        .build_deferred_indexes = true, /* the host holds the data dir's lock */
                        .log = svc_store_log,
                        .log_udata = s};
    if (store_open(&so, &s->store, err, errlen) != 0) goto fail;
    char db_path[4096];
    snprintf(db_path, sizeof db_path, "%s/dtr.sqlite", data_dir);
    s->auth = auth_cache_open(db_path, key, err, errlen);
    if (!s->auth) goto fail;
    feed_options fo = {.loop = loop, .store = s->store, .log = svc_feed_log, .log_udata = s};
    s->feed = feed_new(&fo, err, errlen);
    if (!s->feed) goto fail;
    sodium_memzero(key, sizeof key);
    svc_current = s;

    dtr_host_api *api = plug_registry_api_edit(reg);
    api->req_authenticate = svc_req_authenticate;
    api->command_submit = svc_command_submit;
    api->reader = svc_reader;
    api->reader_open = svc_reader_open;
    api->reader_close = svc_reader_close;
    api->read_get = svc_read_get;
    api->read_list = svc_read_list;
    api->read_history = svc_read_history;
    api->read_haendelser = svc_read_haendelser;
    api->read_latest = svc_read_latest;
    api->snapshot_begin = svc_snapshot_begin;
    api->snapshot_end = svc_snapshot_end;
    api->consume_done = svc_consume_done;
    api->feed_start_at = svc_feed_start_at;
    plug_registry_set_release_hook(reg, svc_release, s);
    ops_endpoints_add_ready_check(endpoints, "store", svc_ready, s);
    ops_endpoints_add_metrics_hook(endpoints, svc_metrics, s);

    uv_timer_init(loop, &s->tick);
    s->tick.data = s;
    uv_timer_start(&s->tick, svc_tick, 0, SVC_TICK_MS);
    return s;
fail:
    sodium_memzero(key, sizeof key);
    if (s->auth) auth_cache_close(s->auth);
    if (s->store) store_close(s->store);
    free(s);
    return NULL;
}

static void svc_tick_closed(uv_handle_t *h)
{
    svc_services *s = h->data;
    void (*done)(void *) = s->closed;
    void *udata = s->closed_udata;
    store_close(s->store);
    auth_cache_close(s->auth);
    if (svc_current == s) svc_current = NULL;
    free(s);
    if (done) done(udata);
}

static void svc_feed_closed(void *udata)
{
    svc_services *s = udata;
    uv_close((uv_handle_t *)&s->tick, svc_tick_closed);
}

void svc_close(svc_services *s, void (*done)(void *udata), void *udata)
{
    s->closing = true;
    s->closed = done;
    s->closed_udata = udata;
    uv_timer_stop(&s->tick);
    feed *f = s->feed;
    s->feed = NULL;
    feed_close(f, svc_feed_closed, s);
}
