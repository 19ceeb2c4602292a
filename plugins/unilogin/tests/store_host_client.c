/*
 * store_host_client.c -- the test's side of the test host (see
 * store_host.h): requests made and read as a client would (flow control,
 * going away), register changes straight through the store, and record
 * bodies the register accepts.
 */
#include "store_host_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- requests ---------------------------------------------------------------------------- */

sh_call *sh_call_start(store_host *h, const char *method, const char *target, const char *accept,
                       const char *authorization)
{
    sh_call *c = calloc(1, sizeof *c);
    dtr_request *req = calloc(1, sizeof *req);
    c->h = h;
    c->req = req;
    c->high_water = h->high_water;
    req->call = c;
    snprintf(req->method, sizeof req->method, "%s", method);
    req->accept = accept;
    req->authorization = authorization;
    const char *q = strchr(target, '?');
    size_t plen = q ? (size_t)(q - target) : strlen(target);
    snprintf(req->path, sizeof req->path, "%.*s", (int)plen, target);
    if (q) {
        snprintf(req->query, sizeof req->query, "%s", q + 1);
        char *save = NULL;
        for (char *kv = strtok_r(req->query, "&", &save); kv && req->nparams < 8;
             kv = strtok_r(NULL, "&", &save)) {
            char *eq = strchr(kv, '=');
            snprintf(req->params[req->nparams][0], 128, "%.*s",
                     (int)(eq ? (size_t)(eq - kv) : strlen(kv)), kv);
            snprintf(req->params[req->nparams][1], 128, "%s", eq ? eq + 1 : "");
            req->nparams++;
        }
    }
    const sh_route *route = sh_route_find(req->path);
    if (!route) {
        c->answered = true;
        c->resp.status = 404;
        c->resp.body = strdup("");
        c->req = NULL;
        free(req);
    } else {
        dtr_status st = route->fn(req, route->udata);
        if (st != DTR_OK && !c->answered) sh_finish(req, 500, "text/plain", "", 0);
    }
    return c;
}

/* The plugin waits for the client: it was told to (stream_write said DTR_RETRY)
 * and has no work on the pool. */
static bool sh_call_settled(void *udata)
{
    sh_call *c = udata;
    return c->answered || (c->want_drain && c->h->work == 0);
}

void sh_call_wait(sh_call *c)
{
    sh_run_until(c->h, sh_call_settled, c);
}

size_t sh_call_take(sh_call *c, size_t n)
{
    size_t unsent = c->stream_len - c->taken;
    if (n > unsent) n = unsent;
    c->taken += n;
    unsent -= n;
    if (c->req && c->want_drain && unsent < c->high_water / 4 + 1) {
        c->want_drain = false;
        if (c->req->on_drain) c->req->on_drain(c->req, c->req->drain_udata);
    }
    return n;
}

void sh_call_abort(sh_call *c)
{
    dtr_request *req = c->req;
    if (!req) return;
    c->req = NULL;
    if (req->on_abort) req->on_abort(req, req->abort_udata);
    free(req);
}

bool sh_call_answered(const sh_call *c)
{
    return c->answered;
}

size_t sh_call_sent(const sh_call *c)
{
    return c->stream_len;
}

size_t sh_call_unsent(const sh_call *c)
{
    return c->stream_len - c->taken;
}

bool sh_call_waits(const sh_call *c)
{
    return !c->answered && c->want_drain && c->h->work == 0;
}

size_t sh_call_writes_over(const sh_call *c)
{
    return c->writes_over;
}

sh_response sh_call_finish(sh_call *c)
{
    for (;;) {
        sh_call_wait(c);
        if (c->answered) break;
        sh_call_take(c, SIZE_MAX);
    }
    sh_response r = c->resp;
    free(c->stream);
    free(c);
    return r;
}

void sh_call_free(sh_call *c)
{
    if (!c) return;
    if (c->req) sh_die("sh_call_free on a request still in flight");
    sh_response_clear(&c->resp);
    free(c->stream);
    free(c);
}

sh_response sh_get(store_host *h, const char *target, const char *accept, const char *authorization)
{
    return sh_call_finish(sh_call_start(h, "GET", target, accept, authorization));
}

void sh_response_clear(sh_response *r)
{
    free(r->body);
    json_decref(r->json);
    memset(r, 0, sizeof *r);
}

const char *sh_problem_kode(const sh_response *r)
{
    const char *k = json_string_value(
        json_object_get(json_array_get(json_object_get(r->json, "fejl"), 0), "kode"));
    return k ? k : "";
}

void sh_set_high_water(store_host *h, size_t bytes)
{
    h->high_water = bytes;
}

long sh_readers_open(const store_host *h)
{
    return h->readers_open;
}

long sh_snapshots_open(store_host *h)
{
    return atomic_load(&h->snapshots_open);
}

void sh_fail_reads_after(store_host *h, long n)
{
    atomic_store(&h->reads_left, n);
}

size_t sh_work_in_flight(const store_host *h)
{
    return h->work;
}

/* ---- register changes -------------------------------------------------------------------- */

typedef struct sh_wait {
    bool called;
    sh_result res;
} sh_wait;

static void sh_cmd_done(const store_result *res, void *udata)
{
    sh_wait *w = udata;
    w->called = true;
    w->res.status = res->status;
    memcpy(w->res.nummer, res->primary, 7);
    w->res.seq_last = res->seq_last;
    if (res->status != 0 && getenv("SH_LOG"))
        for (size_t i = 0; i < res->n_errors; i++)
            fprintf(stderr, "refused: %s %s %s\n", res->errors[i].kode, res->errors[i].felt,
                    res->errors[i].tekst);
}

static bool sh_called(void *udata)
{
    return ((sh_wait *)udata)->called;
}

sh_result sh_run(store_host *h, reg_op op, reg_level level, const char *nummer, json_t *body)
{
    sh_wait w;
    memset(&w, 0, sizeof w);
    store_command cmd = {.op = op,
                         .level = level,
                         .nummer = nummer,
                         .body = body,
                         .actor = {.id = "support-1", .role = REG_ROLE_SUPPORT},
                         .request_id = "test"};
    if (store_submit(h->s, &cmd, sh_cmd_done, &w) != 0) sh_die("store_submit refused");
    sh_run_until(h, sh_called, &w);
    json_decref(body);
    return w.res;
}

const char *sh_must(store_host *h, reg_op op, reg_level level, const char *nummer, json_t *body,
                    char out[7])
{
    sh_result r = sh_run(h, op, level, nummer, body);
    if (r.status != 0)
        sh_die("command %d on %s refused with %d", (int)op, nummer ? nummer : "-", r.status);
    memcpy(out, r.nummer, 7);
    return out;
}

typedef struct sh_many {
    size_t pending;
    json_t **records;
    size_t failed;
} sh_many;

typedef struct sh_many_one {
    sh_many *m;
    size_t i;
} sh_many_one;

static void sh_many_done(const store_result *res, void *udata)
{
    sh_many_one *o = udata;
    o->m->pending--;
    if (res->status != 0) o->m->failed++;
    if (o->m->records) o->m->records[o->i] = res->status == 0 ? json_incref(res->record) : NULL;
    free(o);
}

static bool sh_many_all_done(void *udata)
{
    return ((sh_many *)udata)->pending == 0;
}

void sh_run_many(store_host *h, reg_op op, reg_level level, json_t **bodies, size_t n,
                 json_t **records)
{
    sh_many m = {.pending = n, .records = records};
    for (size_t i = 0; i < n; i++) {
        sh_many_one *o = calloc(1, sizeof *o);
        o->m = &m;
        o->i = i;
        store_command cmd = {.op = op,
                             .level = level,
                             .body = bodies[i],
                             .actor = {.id = "support-1", .role = REG_ROLE_SUPPORT},
                             .request_id = "test"};
        if (store_submit(h->s, &cmd, sh_many_done, o) != 0) sh_die("store_submit refused");
    }
    sh_run_until(h, sh_many_all_done, &m);
    for (size_t i = 0; i < n; i++)
        json_decref(bodies[i]);
    if (m.failed) sh_die("%zu of %zu commands refused", m.failed, n);
}

void sh_create(store_host *h, json_t **bodies, size_t n, sh_numbers *out)
{
    json_t **records = calloc(n ? n : 1, sizeof *records);
    if (!records) abort();
    sh_run_many(h, REG_OP_CREATE, REG_DAGINSTITUTION, bodies, n, records);
    for (size_t i = 0; i < n; i++) {
        json_t *units = json_object_get(records[i], "anvisningsenheder");
        out->dis = realloc(out->dis, (out->ndis + 1) * sizeof *out->dis);
        out->units =
            realloc(out->units, (out->nunits + json_array_size(units)) * sizeof *out->units);
        if (!out->dis || (!out->units && json_array_size(units))) abort();
        snprintf(out->dis[out->ndis++], 7, "%s",
                 json_string_value(json_object_get(records[i], "nummer")));
        size_t k;
        json_t *unit;
        json_array_foreach(units, k, unit)
        {
            snprintf(out->units[out->nunits++], 7, "%s",
                     json_string_value(json_object_get(unit, "nummer")));
        }
        json_decref(records[i]);
    }
    free(records);
}

static void sh_tick_done(const store_result *res, void *udata)
{
    (void)res;
    *(bool *)udata = true;
}

void sh_set_day_and_tick(store_host *h, const char *day)
{
    h->now_ms = sh_day_ms(day);
    bool done = false;
    if (store_tick(h->s, sh_tick_done, &done) != 0) sh_die("store_tick refused");
    sh_run_until(h, sh_flag, &done);
}

/* ---- bodies -------------------------------------------------------------------------------- */

json_t *sh_di_body(const char *navn, int kommune, int ejerform, int lovgrundlag)
{
    return json_pack("{s:s, s:i, s:i, s:i}", "navn", navn, "ejerformKode", ejerform,
                     "lovgrundlagKode", lovgrundlag, "admKommuneKode", kommune);
}

static json_t *sh_adresse(int kommune)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:i}", "vejNavn", "Gammeltoftsgade", "husNummer", "13",
                     "postNummer", "1355", "byNavn", "København K", "kommuneKode", kommune);
}

static void sh_set_numbers(json_t *b, const char *cvr, const char *p)
{
    if (cvr) json_object_set_new(b, "cvrNummer", json_string(cvr));
    if (p) json_object_set_new(b, "pNummer", json_string(p));
}

json_t *sh_ae_body(const char *parent, const char *navn, int inst_type3, int kommune,
                   const char *cvr, const char *p)
{
    json_t *b = json_pack("{s:s, s:i, s:o}", "navn", navn, "instType3", inst_type3, "adresse",
                          sh_adresse(kommune));
    if (parent) json_object_set_new(b, "daginstitutionsNummer", json_string(parent));
    sh_set_numbers(b, cvr, p);
    return b;
}

json_t *sh_aa_body(const char *parent, const char *navn, int kommune, const char *cvr,
                   const char *p)
{
    json_t *b = json_pack("{s:s, s:o}", "navn", navn, "adresse", sh_adresse(kommune));
    if (parent) json_object_set_new(b, "anvisningsenhedsNummer", json_string(parent));
    sh_set_numbers(b, cvr, p);
    return b;
}
