/*
 * fake_host.c -- the in-memory host of the REST plugin's unit tests (see
 * fake_host.h). Single-threaded: the "pool" runs when the test says so.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fake_host.h"
#include "rest.h"

fake_state fake;

struct dtr_plugin {
    int unused;
};
struct dtr_reader {
    bool snapshot;
    bool own;
    bool for_client; /* from reader_open_for */
};

static struct dtr_plugin fake_plugin_handle;
static struct dtr_reader fake_loop_reader;

typedef struct fake_route {
    char method[8];
    char pattern[128];
    dtr_route_fn fn;
    void *udata;
} fake_route;

static fake_route routes[128];
static size_t nroutes;

/* The fake host is the host: it makes the identities it hands out. */
struct dtr_identity {
    const char *id;
    const char *name;
    const char *role;
};

typedef struct fake_clientrec {
    char authorization[128];
    dtr_identity client;
    char id[64];
    char role[16];
} fake_clientrec;

static fake_clientrec clients[16];
static size_t nclients;

static json_t *records; /* nummer -> {"level", "deleted", "record"} */
static json_t *events;  /* sekvensnummer - 1 -> hændelse */

typedef struct fake_pending {
    dtr_command_fn done;
    void *udata;
} fake_pending;
static fake_pending pending[64];

typedef struct fake_work {
    dtr_work_fn work;
    dtr_work_done_fn done;
    void *udata;
} fake_work;
static fake_work works[64];

/* ---- the host table: logging, routes ------------------------------------------ */

static void fake_log(dtr_plugin *self, dtr_log_level level, const char *fmt, ...)
{
    (void)self;
    (void)level;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(fake.last_log, sizeof fake.last_log, fmt, ap);
    va_end(ap);
}

static dtr_status fake_route_add(dtr_plugin *self, const char *method, const char *pattern,
                                 size_t max_body_bytes, dtr_route_fn fn, void *udata, char *err,
                                 size_t errlen)
{
    (void)self;
    (void)max_body_bytes;
    for (size_t i = 0; i < nroutes; i++) {
        if (strcmp(routes[i].method, method) == 0 && strcmp(routes[i].pattern, pattern) == 0) {
            snprintf(err, errlen, "duplicate route %s %s", method, pattern);
            return DTR_ERROR;
        }
    }
    if (nroutes == sizeof routes / sizeof routes[0]) return DTR_ERROR;
    fake_route *r = &routes[nroutes++];
    snprintf(r->method, sizeof r->method, "%s", method);
    snprintf(r->pattern, sizeof r->pattern, "%s", pattern);
    r->fn = fn;
    r->udata = udata;
    return DTR_OK;
}

size_t fake_route_count(void)
{
    return nroutes;
}
const char *fake_route_method(size_t i)
{
    return routes[i].method;
}
const char *fake_route_pattern(size_t i)
{
    return routes[i].pattern;
}

/* ---- work queue, code lists, clients -------------------------------------------- */

static dtr_status fake_work_submit(dtr_plugin *self, dtr_work_fn work, dtr_work_done_fn done,
                                   void *udata)
{
    (void)self;
    if (fake.work_queued == sizeof works / sizeof works[0]) return DTR_ERROR;
    works[fake.work_queued++] = (fake_work){work, done, udata};
    return DTR_OK;
}

size_t fake_run_work(void)
{
    size_t n = fake.work_queued;
    fake_work batch[64];
    memcpy(batch, works, n * sizeof works[0]);
    fake.work_queued = 0;
    for (size_t i = 0; i < n; i++) {
        batch[i].work(batch[i].udata);
        if (batch[i].done) batch[i].done(batch[i].udata, 0);
    }
    return n;
}

static const char *fake_code_text(dtr_plugin *self, const char *list, int kode)
{
    (void)self;
    static const struct {
        const char *list;
        int kode;
        const char *tekst;
    } codes[] = {
        {"kommune", 101, "København"},
        {"kommune", 147, "Frederiksberg"},
        {"kommune", 860, "Hjørring"},
        {"ejerform", 1, "Kommunal"},
        {"ejerform", 2, "Selvejende"},
        {"ejerform", 3, "Privat"},
        {"ejerform", 4, "Udliciteret"},
        {"lovgrundlag", 1, "Dagtilbudsloven § 19, stk. 2"},
        {"lovgrundlag", 10, "Serviceloven § 36"},
        {"institutionstype", 6010, "Vuggestue (0-2 år)"},
        {"institutionstype", 6022, "Særligt dagtilbud"},
    };
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        if (strcmp(codes[i].list, list) == 0 && codes[i].kode == kode) return codes[i].tekst;
    return NULL;
}

void fake_client_add(const char *authorization, const char *id, const char *role)
{
    fake_clientrec *c = &clients[nclients++];
    snprintf(c->authorization, sizeof c->authorization, "%s", authorization);
    snprintf(c->id, sizeof c->id, "%s", id);
    snprintf(c->role, sizeof c->role, "%s", role);
    c->client.id = c->id;
    c->client.name = c->id;
    c->client.role = c->role;
}

static dtr_status fake_authenticate(dtr_plugin *self, dtr_request *req, const dtr_identity **client)
{
    (void)self;
    fake.authenticate_calls++;
    *client = NULL;
    const char *auth = fake_req_header(req, "Authorization");
    if (!auth) return DTR_OK;
    for (size_t i = 0; i < nclients; i++) {
        if (strcmp(clients[i].authorization, auth) == 0) {
            *client = &clients[i].client;
            fake_req_set_client(req, clients[i].id);
            return DTR_OK;
        }
    }
    return DTR_DECLINED;
}

static int fake_public_read(dtr_plugin *self)
{
    (void)self;
    return fake.public_read;
}

/* ---- commands ---------------------------------------------------------------------- */

static dtr_status fake_identity_info(dtr_plugin *self, const dtr_identity *who,
                                     dtr_identity_info *out)
{
    (void)self;
    memset(out, 0, sizeof *out);
    if (!who) return DTR_DECLINED;
    out->id = who->id;
    out->name = who->name;
    out->role = who->role;
    return DTR_OK;
}

static dtr_status fake_command_submit(dtr_plugin *self, const dtr_identity *client,
                                      const dtr_submission *sub, dtr_command_fn done, void *udata,
                                      char *err, size_t errlen)
{
    (void)self;
    const dtr_command *cmd = &sub->commands[0];
    fake.last_n_commands = sub->n_commands;
    fake.last_flags = sub->flags;
    json_decref(fake.last_commands);
    fake.last_commands = json_array();
    for (size_t i = 0; i < sub->n_commands; i++)
        json_array_append_new(
            fake.last_commands,
            json_pack("{s:i, s:i, s:s?, s:O?, s:I}", "op", (int)sub->commands[i].op, "level",
                      (int)sub->commands[i].level, "nummer", sub->commands[i].nummer, "body",
                      sub->commands[i].body, "ifMatch", (json_int_t)sub->commands[i].if_match));
    if (fake.fail_submit) {
        snprintf(err, errlen, "the store is closing");
        return DTR_ERROR;
    }
    fake_command *c = &fake.cmd;
    json_decref(c->body);
    free(c->body_bytes);
    memset(c, 0, sizeof *c);
    c->present = true;
    c->op = cmd->op;
    c->level = cmd->level;
    c->has_nummer = cmd->nummer != NULL;
    snprintf(c->nummer, sizeof c->nummer, "%s", cmd->nummer ? cmd->nummer : "");
    c->body = cmd->body ? json_deep_copy(cmd->body) : NULL;
    c->if_match = cmd->if_match;
    snprintf(c->request_id, sizeof c->request_id, "%s", sub->request_id ? sub->request_id : "");
    c->has_key = sub->idempotency_key != NULL;
    snprintf(c->idempotency_key, sizeof c->idempotency_key, "%s",
             sub->idempotency_key ? sub->idempotency_key : "");
    if (sub->body_bytes) {
        c->body_bytes = malloc(sub->body_len + 1);
        memcpy(c->body_bytes, sub->body_bytes, sub->body_len);
        c->body_bytes[sub->body_len] = '\0';
        c->body_len = sub->body_len;
    }
    c->has_client = client != NULL;
    snprintf(c->client_id, sizeof c->client_id, "%s", client ? client->id : "");
    pending[fake.commands_pending++] = (fake_pending){done, udata};
    return DTR_OK;
}

void fake_command_finish(const dtr_command_result *res)
{
    if (fake.commands_pending == 0) abort();
    fake_pending p = pending[0];
    memmove(pending, pending + 1, (fake.commands_pending - 1) * sizeof pending[0]);
    fake.commands_pending--;
    p.done(res, p.udata);
}

/* ---- the register in memory ------------------------------------------------------------ */

void fake_put(const char *nummer, dtr_level level, const char *json, bool deleted)
{
    json_error_t e;
    json_t *rec = json_loads(json, 0, &e);
    if (!rec) {
        fprintf(stderr, "fake_put: %s\n", e.text);
        abort();
    }
    json_object_set_new(
        records, nummer,
        json_pack("{s:i, s:b, s:o}", "level", (int)level, "deleted", deleted, "record", rec));
}

void fake_event(const char *nummer, const char *data)
{
    fake.seq++;
    while ((int64_t)json_array_size(events) < fake.seq - 1)
        json_array_append_new(events, json_null());
    json_t *d = data ? json_loads(data, 0, NULL) : json_object();
    if (!d) abort();
    json_array_append_new(events, json_pack("{s:I, s:s, s:o}", "sekvensnummer",
                                            (json_int_t)fake.seq, "nummer", nummer, "data", d));
}

static void *fake_loop(dtr_plugin *self)
{
    (void)self;
    return fake.loop;
}

static dtr_reader *fake_reader(dtr_plugin *self)
{
    (void)self;
    return &fake_loop_reader;
}

static dtr_reader *fake_reader_open(dtr_plugin *self)
{
    (void)self;
    if (fake.fail_reads) return NULL;
    dtr_reader *r = calloc(1, sizeof *r);
    r->own = true;
    fake.readers_open++;
    return r;
}

/* reader_open_for (2.1): the real host counts its snapshots per address;
 * here against fake.client_snapshots_max. */
static dtr_reader *fake_reader_open_for(dtr_plugin *self, dtr_request *req)
{
    (void)req;
    dtr_reader *r = fake_reader_open(self);
    if (r) r->for_client = true;
    fake.readers_for++;
    return r;
}

static void fake_reader_close(dtr_reader *r)
{
    if (!r || !r->own) abort();
    if (r->snapshot) abort(); /* the plugin must end its snapshot first */
    fake.readers_open--;
    free(r);
}

static dtr_status fake_read_get(dtr_reader *r, const char *nummer, const char *virkningsdato,
                                int nested, dtr_level *level, json_t **out)
{
    (void)r;
    (void)virkningsdato;
    (void)nested;
    *out = NULL;
    fake.get_calls++;
    if (fake.fail_reads) return DTR_ERROR;
    json_t *e = json_object_get(records, nummer);
    if (!e) return DTR_NOT_FOUND;
    *level = (dtr_level)json_integer_value(json_object_get(e, "level"));
    if (json_is_true(json_object_get(e, "deleted"))) return DTR_GONE;
    *out = json_deep_copy(json_object_get(e, "record"));
    return DTR_OK;
}

static int fake_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void fake_keep(size_t slot, const char **field, const char *value)
{
    if (!value) {
        *field = NULL;
        return;
    }
    snprintf(fake.last_query_text[slot], sizeof fake.last_query_text[slot], "%s", value);
    *field = fake.last_query_text[slot];
}

static dtr_status fake_read_list(dtr_reader *r, const dtr_query *q, json_t **items, char next[7])
{
    (void)r;
    *items = NULL;
    next[0] = '\0';
    fake.list_calls++;
    fake.last_query = *q;
    fake_keep(0, &fake.last_query.virkningsdato, q->virkningsdato);
    fake_keep(1, &fake.last_query.status, q->status);
    fake_keep(2, &fake.last_query.parent, q->parent);
    fake_keep(3, &fake.last_query.p_nummer, q->p_nummer);
    fake_keep(4, &fake.last_query.cvr_nummer, q->cvr_nummer);
    fake_keep(5, &fake.last_query.navn, q->navn);
    fake_keep(6, &fake.last_query.after, q->after);
    if (fake.fail_reads) return DTR_ERROR;
    size_t limit = q->limit ? q->limit : 100;
    size_t n = json_object_size(records), k = 0;
    const char **keys = calloc(n + 1, sizeof *keys);
    const char *key;
    json_t *e;
    json_object_foreach(records, key, e) keys[k++] = key;
    qsort(keys, n, sizeof *keys, fake_cmp);
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++) {
        e = json_object_get(records, keys[i]);
        if (json_integer_value(json_object_get(e, "level")) != (json_int_t)q->level) continue;
        if (json_is_true(json_object_get(e, "deleted"))) continue;
        if (q->after && strcmp(keys[i], q->after) <= 0) continue;
        if (json_array_size(list) == limit) {
            /* one more exists: the page ends at the last one taken */
            json_t *last = json_array_get(list, limit - 1);
            snprintf(next, 7, "%s", json_string_value(json_object_get(last, "nummer")));
            break;
        }
        json_array_append_new(list, json_deep_copy(json_object_get(e, "record")));
    }
    free(keys);
    *items = list;
    return DTR_OK;
}

static dtr_status fake_read_history(dtr_reader *r, const char *nummer, json_t **out)
{
    (void)r;
    *out = NULL;
    if (fake.fail_reads) return DTR_ERROR;
    json_t *e = json_object_get(records, nummer);
    if (!e) return DTR_NOT_FOUND;
    json_t *rec = json_object_get(e, "record");
    *out = json_pack("[{s:O, s:O}]", "version", json_object_get(rec, "version"), "data", rec);
    return DTR_OK;
}

static dtr_status fake_read_haendelser(dtr_reader *r, int64_t fra, size_t max, json_t **out)
{
    (void)r;
    *out = NULL;
    if (fake.fail_reads) return DTR_ERROR;
    json_t *list = json_array();
    for (int64_t s = fra < 1 ? 1 : fra; s <= fake.seq && json_array_size(list) < max; s++) {
        json_t *e = json_array_get(events, (size_t)(s - 1));
        if (e && !json_is_null(e))
            json_array_append(list, e);
        else
            json_array_append_new(list, json_pack("{s:I}", "sekvensnummer", (json_int_t)s));
    }
    *out = list;
    return DTR_OK;
}

static dtr_status fake_read_latest(dtr_reader *r, int64_t *seq, char tidspunkt[40])
{
    (void)r;
    fake.latest_calls++;
    if (fake.fail_reads) return DTR_ERROR;
    *seq = fake.seq;
    snprintf(tidspunkt, 40, "%s", fake.seq ? "2026-01-02T03:04:05Z" : "");
    return DTR_OK;
}

static dtr_status fake_snapshot_begin(dtr_reader *r, int64_t *seq)
{
    if (fake.fail_reads) return DTR_ERROR;
    if (r->snapshot) abort();
    if (r->for_client && fake.client_snapshots_max &&
        fake.snapshots_open >= fake.client_snapshots_max)
        return DTR_RETRY;
    r->snapshot = true;
    fake.snapshots_open++;
    *seq = fake.seq;
    return DTR_OK;
}

static void fake_snapshot_end(dtr_reader *r)
{
    if (!r->snapshot) return;
    r->snapshot = false;
    fake.snapshots_open--;
}

/* ---- OpenAPI descriptions (1.4) ---------------------------------------------------------- */

static json_t *fake_openapi_paths(dtr_plugin *self)
{
    (void)self;
    return fake.openapi_paths ? json_deep_copy(fake.openapi_paths) : json_object();
}

/* ---- the table and the plugin ------------------------------------------------------------ */

static dtr_host_api api;

const dtr_host_api *fake_host(void)
{
    api.abi_major = DTR_ABI_MAJOR;
    api.abi_minor = DTR_ABI_MINOR;
    api.struct_size = fake.host_size ? (uint32_t)fake.host_size : sizeof api;
    api.log = fake_log;
    api.route_add = fake_route_add;
    fake_fill_request_api(&api);
    api.work_submit = fake_work_submit;
    api.loop = fake_loop;
    api.code_text = fake_code_text;
    api.req_authenticate = fake_authenticate;
    api.identity_info = fake_identity_info;
    api.public_read = fake_public_read;
    api.command_submit = fake_command_submit;
    api.reader = fake_reader;
    api.reader_open = fake_reader_open;
    api.reader_open_for = fake_reader_open_for;
    api.reader_close = fake_reader_close;
    api.read_get = fake_read_get;
    api.read_list = fake_read_list;
    api.read_history = fake_read_history;
    api.read_haendelser = fake_read_haendelser;
    api.read_latest = fake_read_latest;
    api.snapshot_begin = fake_snapshot_begin;
    api.snapshot_end = fake_snapshot_end;
    api.openapi_paths = fake_openapi_paths;
    return &api;
}

dtr_plugin *fake_self(void)
{
    return &fake_plugin_handle;
}

void fake_reset(void)
{
    json_decref(fake.cmd.body);
    free(fake.cmd.body_bytes);
    json_decref(fake.openapi_paths);
    json_decref(fake.last_commands);
    memset(&fake, 0, sizeof fake);
    fake.public_read = 1;
    fake.stream_room = 1;
    nroutes = 0;
    nclients = 0;
    json_decref(records);
    records = json_object();
    json_decref(events);
    events = json_array();
}

void *fake_plugin_new(const char *config_json)
{
    json_t *config = config_json ? json_loads(config_json, 0, NULL) : json_object();
    void *state = NULL;
    nroutes = 0; /* the routes of the newest instance only */
    char err[256] = "";
    dtr_status st =
        dtr_plugin_entry.init(fake_self(), fake_host(), config, &state, err, sizeof err);
    json_decref(config);
    if (st != DTR_OK) {
        snprintf(fake.last_log, sizeof fake.last_log, "%s", err);
        return NULL;
    }
    return state;
}

void fake_plugin_free(void *state)
{
    if (dtr_plugin_entry.free) dtr_plugin_entry.free(state);
}

/* Matches path against pattern, filling params; returns the number of
 * literal segments matched (for "most specific wins"), or -1. */
static int fake_match(const char *pattern, const char *path, json_t *params)
{
    int literals = 0;
    const char *p = pattern, *s = path;
    json_t *found = json_object();
    while (*p && *s) {
        if (*p != '/' || *s != '/') break;
        p++;
        s++;
        size_t pn = strcspn(p, "/"), sn = strcspn(s, "/");
        if (p[0] == '{') {
            if (sn == 0) break;
            char name[64];
            snprintf(name, sizeof name, "%.*s", (int)(pn - 2), p + 1);
            json_object_set_new(found, name, json_stringn(s, sn));
        } else {
            if (pn != sn || strncmp(p, s, pn) != 0) break;
            literals++;
        }
        p += pn;
        s += sn;
    }
    int result = *p == '\0' && *s == '\0' ? literals : -1;
    if (result >= 0) json_object_update(params, found);
    json_decref(found);
    return result;
}

/* The route of the method that matches path best (most literal segments),
 * its parameters added to params; NULL when none matches. */
const fake_route_ref *fake_route_lookup(const char *method, const char *path, json_t *params)
{
    static fake_route_ref found;
    int best = -1;
    size_t at = 0;
    for (size_t i = 0; i < nroutes; i++) {
        if (strcmp(routes[i].method, method) != 0) continue;
        json_t *scratch = json_object();
        int m = fake_match(routes[i].pattern, path, scratch);
        json_decref(scratch);
        if (m > best) {
            best = m;
            at = i;
        }
    }
    if (best < 0) return NULL;
    fake_match(routes[at].pattern, path, params);
    found.fn = routes[at].fn;
    found.udata = routes[at].udata;
    return &found;
}
