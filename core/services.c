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

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "audit/audit.h"
#include "auth/auth.h"
#include "auth/identity.h"
#include "net/net.h"
#include "people.h"
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
    ident_registry *idents;
    people *people; /* the web UI's sessions (people.c) */
    uv_timer_t tick;
    bool tick_running; /* a store_tick is queued */
    bool closing;
    void (*closed)(void *udata);
    void *closed_udata;
};

typedef struct svc_instance {
    bool configured_warned; /* identity_configured logged its missing client once */
    store_reader *reader;   /* for short reads on the loop thread */
    feed_consumer *sub;     /* consumer plugins while their set serves */
    int64_t start_at;       /* feed_start_at, or -1: after the newest */
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

/* The services of this process. A handful of the table's functions get no
 * plugin handle to find them by (a reader, an identity); one server runs per
 * process, and svc_open refuses a second. */
static svc_services *svc_current;

static svc_services *svc_of(dtr_plugin *self)
{
    (void)self;
    return svc_current;
}

/* ---- identities ------------------------------------------------------------ */

/* A request's identity ends with its answer. */
static void svc_identity_end(void *udata)
{
    if (svc_current) ident_release(svc_current->idents, udata);
}

static dtr_status svc_req_authenticate(dtr_plugin *self, dtr_request *req, const dtr_identity **who)
{
    svc_services *s = svc_of(self);
    const dtr_host_api *api = plug_registry_api(s->reg);
    *who = NULL;
    if (!api->req_header(req, "Authorization") && people_has_cookie(s->people, req))
        return people_authenticate(s->people, req, who); /* a person's session */
    const auth_client *client = NULL;
    dtr_status st = auth_cache_check(s->auth, api->req_header(req, "Authorization"), &client);
    if (st == DTR_ERROR)
        ops_log_write(s->log, OPS_LOG_ERROR, "auth", "clients cannot be read: %s",
                      auth_cache_error(s->auth));
    if (st == DTR_OK && client) {
        /* the request's own identity, ended with it: a plugin that keeps it
         * past its request without identity_retain is caught */
        const dtr_identity *mine = net_request_end_data(req);
        if (mine && ident_valid(s->idents, mine) && ident_client(mine) == client) {
            *who = mine;
        } else {
            *who = ident_for_request(s->idents, client);
            net_request_on_end(req, svc_identity_end, (void *)*who);
        }
        net_request_set_client(req, client->id);
    }
    return st;
}

static const dtr_identity *svc_identity_configured(dtr_plugin *self)
{
    svc_services *s = svc_of(self);
    svc_instance *in = svc_instance_of(self);
    const char *id = plug_client_id(self);
    if (!id) return NULL;
    const auth_client *client = NULL;
    dtr_status st = auth_cache_find(s->auth, id, &client);
    if (st != DTR_OK) {
        if (!in->configured_warned)
            ops_log_write(s->log, OPS_LOG_WARN, plug_name(self),
                          "its config names client %s, which %s", id,
                          st == DTR_ERROR ? "cannot be read now" : "is unknown or revoked");
        in->configured_warned = true;
        return NULL;
    }
    return ident_of_client(s->idents, client);
}

static dtr_status svc_identity_retain(dtr_plugin *self, const dtr_identity *who)
{
    svc_services *s = svc_of(self);
    if (!ident_valid(s->idents, who)) return DTR_DECLINED;
    ident_retain(s->idents, who);
    return DTR_OK;
}

static void svc_identity_release(dtr_plugin *self, const dtr_identity *who)
{
    ident_release(svc_of(self)->idents, who);
}

static dtr_status svc_identity_info(dtr_plugin *self, const dtr_identity *who,
                                    dtr_identity_info *out)
{
    memset(out, 0, sizeof *out);
    if (!ident_valid(svc_of(self)->idents, who)) return DTR_DECLINED;
    ident_info(who, out);
    return DTR_OK;
}

/* The server's early check (services.h). */
int svc_early_check(void *udata, dtr_request *req, const char **kode, const char **tekst,
                    char *extra, size_t extralen)
{
    svc_services *s = udata;
    const dtr_host_api *api = plug_registry_api(s->reg);
    if (strncmp(api->req_path(req), "/v1/", 4) != 0) return 0;
    if (!api->req_header(req, "Authorization") && people_has_cookie(s->people, req))
        return 0; /* a session: req_authenticate decides (CSRF token, expiry) */
    const auth_client *client = NULL;
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

/* ---- commands --------------------------------------------------------------- */

typedef struct svc_command_call {
    dtr_plugin *owner; /* held (plug_instance_hold) until the callback ran */
    dtr_command_fn done;
    void *udata;
    size_t n;
    reg_op ops[]; /* each step's, for its success status */
} svc_command_call;

static dtr_status svc_result_status(int http_status)
{
    if (http_status == 0) return DTR_OK;
    return http_status == 503 ? DTR_ERROR : DTR_DECLINED;
}

/* The HTTP status of a step's success, as its REST equivalent answers. */
static int svc_step_http(reg_op op)
{
    return op == REG_OP_CREATE ? 201 : op == REG_OP_DELETE ? 204 : 200;
}

/* The store's answer in the ABI's words, handed to the plugin's callback,
 * unless the instance was freed meanwhile (it cannot be while held; the
 * check is a second line). */
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
    size_t n = res->n_steps ? res->n_steps : 1;
    dtr_step_result *steps = calloc(n, sizeof *steps);
    if (!steps) abort();
    if (res->n_steps) {
        for (size_t i = 0; i < n; i++) {
            const store_step *st = &res->steps[i];
            steps[i] = (dtr_step_result){
                .http_status = res->status == 0 && st->done ? svc_step_http(call->ops[i]) : 0,
                .nummer = st->primary,
                .level = (dtr_level)st->level,
                .record = st->record,
                .version = st->version};
        }
    } else {
        steps[0] =
            (dtr_step_result){.http_status = res->status == 0 ? svc_step_http(call->ops[0]) : 0,
                              .nummer = res->primary,
                              .level = (dtr_level)res->level,
                              .record = res->record,
                              .version = res->version};
    }
    dtr_command_result out = {
        .status = svc_result_status(res->status),
        .http_status = res->status,
        .fejl = fejl,
        .failed_step = res->status != 0 ? (res->n_steps ? res->failed_step : 0) : -1,
        .n_steps = n,
        .steps = steps,
        .nummer = steps[n - 1].nummer,
        .level = steps[n - 1].level,
        .record = steps[n - 1].record,
        .version = steps[n - 1].version,
        .seq_first = res->seq_first,
        .seq_last = res->seq_last,
        .replayed = res->replayed ? 1 : 0,
        .dry_run = res->dry_run ? 1 : 0,
    };
    if (!plug_instance_released(call->owner)) call->done(&out, call->udata);
    free(steps);
    json_decref(fejl);
    plug_instance_drop(call->owner);
    free(call);
}
__attribute__((format(printf, 3, 4))) static dtr_status svc_refuse(char *err, size_t errlen,
                                                                   const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (err && errlen) vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return DTR_DECLINED;
}

static dtr_status svc_command_submit(dtr_plugin *self, const dtr_identity *who,
                                     const dtr_submission *sub, dtr_command_fn done, void *udata,
                                     char *err, size_t errlen)
{
    svc_services *s = svc_of(self);
    if (!sub || !done || !sub->commands || sub->n_commands < 1)
        return svc_refuse(err, errlen, "command_submit: a submission and a callback are needed");
    if (sub->n_commands > DTR_MAX_TRANSACTION)
        return svc_refuse(err, errlen, "a transaction takes at most %d commands",
                          DTR_MAX_TRANSACTION);
    /* Only an identity the host issued acts: a plugin cannot make one up. */
    if (!ident_valid(s->idents, who)) {
        ops_log_write(s->log, OPS_LOG_ERROR, plug_name(self),
                      "command refused: %s identity (a plugin may act only for an identity "
                      "the host issued)",
                      who ? "a made-up or released" : "no");
        return svc_refuse(err, errlen, "command_submit: %s identity",
                          who ? "not a host-issued" : "no");
    }
    const auth_client *client = ident_client(who);
    if (client && !auth_cache_current(s->auth, client))
        return svc_refuse(err, errlen, "the client %s was revoked", client->id);
    reg_actor actor;
    if (ident_actor(who, &actor) != 0)
        return svc_refuse(err, errlen, "the identity's role is unknown to the register");
    size_t n = sub->n_commands;
    store_command *steps = calloc(n, sizeof *steps);
    svc_command_call *call = malloc(sizeof *call + n * sizeof call->ops[0]);
    if (!steps || !call) abort();
    for (size_t i = 0; i < n; i++) {
        const dtr_command *cmd = &sub->commands[i];
        if (cmd->op > DTR_OP_REOPEN || cmd->level > DTR_LEVEL_ALTERNATIV_ADRESSE) {
            free(steps);
            free(call);
            return svc_refuse(err, errlen, "command %zu: unknown op or level", i + 1);
        }
        steps[i] = (store_command){
            .op = (reg_op)cmd->op,
            .level = (reg_level)cmd->level,
            .nummer = cmd->nummer,
            .body = cmd->body,
            .has_if_match = cmd->if_match >= 0,
            .if_match = cmd->if_match,
            .actor = actor,
            .request_id = sub->request_id,
            .dry_run = (sub->flags & DTR_SUBMIT_DRY_RUN) != 0,
        };
        call->ops[i] = (reg_op)cmd->op;
    }
    if (sub->idempotency_key && !(sub->flags & DTR_SUBMIT_DRY_RUN)) {
        steps[0].idem_client = actor.id;
        steps[0].idem_key = sub->idempotency_key;
        steps[0].idem_body = sub->body_bytes;
        steps[0].idem_body_len = sub->body_len;
    }
    call->owner = self;
    call->done = done;
    call->udata = udata;
    call->n = n;
    int rc = -1;
    if (!s->closing)
        rc = n == 1 ? store_submit(s->store, &steps[0], svc_command_done, call)
                    : store_submit_transaction(s->store, steps, n, svc_command_done, call);
    free(steps);
    if (rc != 0) {
        free(call);
        if (s->closing) {
            snprintf(err, errlen, "the store is closing");
            return DTR_ERROR;
        }
        return svc_refuse(err, errlen, "a \"$k\" reference names no earlier step");
    }
    plug_instance_hold(self);
    return DTR_OK;
}

/* ---- reads (1.1) ---------------------------------------------------------- */

/* A store read's status (0, 404, 410, 400, 503) in the ABI's words. */
static dtr_status svc_read_status(int st)
{
    switch (st) {
    case 0:
        return DTR_OK;
    case 404:
        return DTR_NOT_FOUND;
    case 410:
        return DTR_GONE;
    case 400:
        return DTR_INVALID;
    case 429:
        return DTR_RETRY; /* the client's share (max_snapshots_per_client) */
    default:
        return DTR_ERROR;
    }
}

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

/* reader_open_for: a reader whose snapshots count against req's client
 * address (limits.max_snapshots_per_client). */
static dtr_reader *svc_reader_open_for(dtr_plugin *self, dtr_request *req)
{
    dtr_reader *r = svc_reader_open(self);
    if (r) store_reader_set_client((store_reader *)r, req ? net_request_peer(req) : NULL);
    return r;
}

static void svc_reader_close(dtr_reader *r)
{
    if (r) store_reader_close((store_reader *)r);
}

static dtr_status svc_read_get(dtr_reader *r, const char *nummer, const char *virkningsdato,
                               int nested, dtr_level *level, json_t **out)
{
    reg_level lv = REG_DAGINSTITUTION;
    *out = NULL;
    if (!r || !nummer) return DTR_ERROR;
    int st =
        store_get((store_reader *)r, nummer, virkningsdato, nested ? STORE_NESTED : 0, &lv, out);
    if (level) *level = (dtr_level)lv;
    return svc_read_status(st);
}

static dtr_status svc_read_list(dtr_reader *r, const dtr_query *q, json_t **items, char next[7])
{
    *items = NULL;
    next[0] = '\0';
    if (!r || !q) return DTR_ERROR;
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
    return svc_read_status(store_list((store_reader *)r, &sq, items, next));
}

static dtr_status svc_read_history(dtr_reader *r, const char *nummer, json_t **out)
{
    *out = NULL;
    return r && nummer ? svc_read_status(store_history((store_reader *)r, nummer, out)) : DTR_ERROR;
}

static dtr_status svc_read_haendelser(dtr_reader *r, int64_t fra, size_t max, json_t **out)
{
    *out = NULL;
    return r ? svc_read_status(store_haendelser((store_reader *)r, fra, max, out)) : DTR_ERROR;
}

static dtr_status svc_read_latest(dtr_reader *r, int64_t *sekvensnummer, char tidspunkt[40])
{
    return r ? svc_read_status(store_latest((store_reader *)r, sekvensnummer, tidspunkt))
             : DTR_ERROR;
}

static dtr_status svc_snapshot_begin(dtr_reader *r, int64_t *sekvensnummer)
{
    return r ? svc_read_status(store_snapshot_begin((store_reader *)r, sekvensnummer)) : DTR_ERROR;
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
                       .wal_max_bytes = l->wal_max_bytes,
                       .max_snapshots_per_client = l->max_snapshots_per_client};
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

svc_services *svc_open(uv_loop_t *loop, const char *data_dir, const char *store_driver,
                       ops_log *log, plug_registry *reg, ops_endpoints *endpoints,
                       const cfg_sessions *sessions, char *err, size_t errlen)
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
                        .driver = store_driver,
                        .audit_key = key,
                        .loop = loop,
                        .build_deferred_indexes = true, /* the host holds the data dir's lock */
                        .log = svc_store_log,
                        .log_udata = s};
    if (store_open(&so, &s->store, err, errlen) != 0) goto fail;
    s->auth = auth_cache_open(data_dir, key, err, errlen);
    if (!s->auth) goto fail;
    feed_options fo = {.loop = loop, .store = s->store, .log = svc_feed_log, .log_udata = s};
    s->feed = feed_new(&fo, err, errlen);
    if (!s->feed) goto fail;
    s->idents = ident_registry_new();
    dtr_host_api *api = plug_registry_api_edit(reg);
    people_options po = {loop, data_dir, key, sessions, s->store, s->idents, log, api, api};
    s->people = people_open(&po, err, errlen);
    if (!s->people) goto fail;
    sodium_memzero(key, sizeof key);
    svc_current = s;

    api->req_authenticate = svc_req_authenticate;
    api->identity_configured = svc_identity_configured;
    api->identity_retain = svc_identity_retain;
    api->identity_release = svc_identity_release;
    api->identity_info = svc_identity_info;
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
    api->reader_open_for = svc_reader_open_for;
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
    if (s->idents) ident_registry_free(s->idents);
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
    people_close(s->people);
    ident_registry_free(s->idents);
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
