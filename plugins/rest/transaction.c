/*
 * transaction.c -- POST /v1/transaktioner: several changes that commit all
 * or nothing.
 *
 * The body names each step as its REST equivalent:
 *
 *   {"trin": [{"metode": "POST", "sti": "/v1/daginstitutioner", "krop": {...}},
 *             {"metode": "POST", "sti": "/v1/anvisningsenheder",
 *              "krop": {"daginstitutionsNummer": "$1", ...}},
 *             {"metode": "POST", "sti": "/v1/anvisningsenheder/G00012/flyt",
 *              "krop": {...}, "ifMatch": 3}]}
 *
 * Each step is matched against the plugin's own write routes (so a step can
 * do exactly what its route does, no more), turned into the same command,
 * and the list is submitted as one transaction. "$k" in a step's path or in
 * a parent-number field names the number step k (1-based) created or
 * targeted. The answer lists each step's result as its route would answer
 * it; a refusal is the failing step's problem+json with "trin" naming it
 * (1-based). With ?kontroller=true the whole is a dry run. Idempotency-Key
 * covers the whole transaction. Loop thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rest.h"

typedef struct txn_ctx {
    const dtr_host_api *api;
    dtr_request *req; /* NULL once the client went away */
    rest_cache *cache;
    size_t n;
} txn_ctx;

/* Whether seg (n bytes) is what a {nummer} segment of a step may hold: a
 * number, or "$k" naming an earlier step. */
static bool txn_nummer_ok(const char *seg, size_t n, size_t step)
{
    if (n == 6 && seg[0] >= 'A' && seg[0] <= 'Z') {
        for (size_t i = 1; i < 6; i++)
            if (seg[i] < '0' || seg[i] > '9') return false;
        return true;
    }
    if (n < 2 || n > 4 || seg[0] != '$' || seg[1] < '1' || seg[1] > '9') return false;
    size_t k = 0;
    for (size_t i = 1; i < n; i++) {
        if (seg[i] < '0' || seg[i] > '9') return false;
        k = k * 10 + (size_t)(seg[i] - '0');
    }
    return k >= 1 && k <= step;
}

/* The write route a step's method and path match, its {nummer} copied into
 * nummer ("" when the route has none). NULL when none matches. */
static const rest_route *txn_match(const char *method, const char *path, size_t step,
                                   char nummer[8])
{
    nummer[0] = '\0';
    for (size_t i = 0; i < rest_route_count; i++) {
        const rest_route *rt = &rest_routes[i];
        if (rt->kind < REST_CREATE || rt->kind > REST_REOPEN || strcmp(rt->method, method) != 0)
            continue;
        const char *p = rt->pattern, *q = path;
        bool ok = true;
        while (ok && *p && *q) {
            if (strncmp(p, "{nummer}", 8) == 0) {
                size_t n = strcspn(q, "/");
                ok = txn_nummer_ok(q, n, step);
                if (ok) {
                    memcpy(nummer, q, n);
                    nummer[n] = '\0';
                }
                p += 8;
                q += n;
            } else {
                ok = *p++ == *q++;
            }
        }
        if (ok && !*p && !*q) return rt;
    }
    return NULL;
}

/* The answer: every step's result as its route answers it. */
static json_t *txn_answer(const dtr_command_result *res)
{
    json_t *steps = json_array();
    for (size_t i = 0; i < res->n_steps; i++) {
        const dtr_step_result *st = &res->steps[i];
        json_t *one = json_pack("{s:i, s:s, s:s}", "status", st->http_status, "nummer",
                                st->nummer ? st->nummer : "", "niveau", rest_niveau(st->level));
        if (st->http_status != 204) {
            json_object_set_new(one, "version", json_integer(st->version));
            if (st->record) json_object_set(one, "data", (json_t *)st->record);
        }
        json_array_append_new(steps, one);
    }
    json_t *doc = json_pack("{s:o}", "trin", steps);
    if (res->dry_run) json_object_set_new(doc, "kontrolleret", json_true());
    return doc;
}

static void txn_abort(dtr_request *req, void *udata)
{
    (void)req;
    ((txn_ctx *)udata)->req = NULL;
}

static void txn_done(const dtr_command_result *res, void *udata)
{
    txn_ctx *ctx = udata;
    dtr_request *req = ctx->req;
    const dtr_host_api *api = ctx->api;
    rest_cache *cache = ctx->cache;
    free(ctx);
    if (!req) return;
    api->req_on_abort(req, NULL, NULL);
    if (!res->dry_run) rest_cache_stale(cache);
    if (res->status != DTR_OK) {
        int status = res->http_status >= 400 ? res->http_status : 503;
        json_t *doc = rest_problem_doc(status, res->fejl);
        long step = res->failed_step >= 0 ? res->failed_step + 1 : 1;
        char detail[400];
        snprintf(detail, sizeof detail, "trin %ld: %s", step,
                 json_string_value(json_object_get(doc, "detail")));
        json_object_set_new(doc, "detail", json_string(detail));
        json_object_set_new(doc, "trin", json_integer(step));
        api->respond_json(req, status, "application/problem+json", doc);
        return;
    }
    if (res->dry_run) api->resp_header(req, "Kontrolleret", "true");
    if (res->replayed) api->resp_header(req, "Idempotent-Replayed", "true");
    api->respond_json(req, 200, NULL, txn_answer(res));
}

/* Refuses the body's shape: 400 naming the step's field. */
static dtr_status txn_bad(const dtr_host_api *api, dtr_request *req, json_t *body, size_t step,
                          const char *field, const char *tekst)
{
    char felt[48];
    snprintf(felt, sizeof felt, "trin[%zu].%s", step, field);
    json_decref(body);
    rest_problem(api, req, 400, "UGYLDIG_FORESPOERGSEL", felt, tekst);
    return DTR_OK;
}

dtr_status rest_handle_transaction(dtr_request *req, void *udata)
{
    const rest_binding *b = udata;
    rest *r = b->r;
    const dtr_host_api *api = r->api;
    const dtr_identity *who;
    if (!rest_auth(r, req, true, &who)) return DTR_OK;
    uint32_t flags;
    if (!rest_read_dry_run(r, req, &flags)) return DTR_OK;
    if (!rest_media_type_ok(api->req_header(req, "Content-Type"), false)) {
        rest_problem(api, req, 415, "UGYLDIG_MEDIETYPE", NULL,
                     "Content-Type skal være application/json");
        return DTR_OK;
    }
    size_t len = 0;
    const unsigned char *bytes = api->req_body(req, &len);
    char why[256];
    json_t *body = rest_parse_body(bytes, len, why, sizeof why);
    if (!body) {
        rest_problem(api, req, 400, "UGYLDIG_JSON", NULL, why);
        return DTR_OK;
    }
    json_t *trin = json_object_get(body, "trin");
    if (!json_is_object(body) || json_object_size(body) != 1 || !json_is_array(trin) ||
        json_array_size(trin) < 1 || json_array_size(trin) > DTR_MAX_TRANSACTION) {
        json_decref(body);
        char tekst[128];
        snprintf(tekst, sizeof tekst, "kroppen skal være {\"trin\": [...]} med 1 til %d trin",
                 DTR_MAX_TRANSACTION);
        rest_problem(api, req, 400, "UGYLDIG_FORESPOERGSEL", "trin", tekst);
        return DTR_OK;
    }
    size_t n = json_array_size(trin);
    dtr_command *cmds = calloc(n, sizeof *cmds);
    char(*numbers)[8] = calloc(n, sizeof *numbers);
    if (!cmds || !numbers) abort();
    dtr_status result = DTR_OK;
    bool refused = false;
    for (size_t i = 0; i < n && !refused; i++) {
        json_t *st = json_array_get(trin, i);
        const char *key;
        json_t *v;
        bool bad_key = !json_is_object(st);
        json_object_foreach(st, key, v)
        {
            if (strcmp(key, "metode") != 0 && strcmp(key, "sti") != 0 && strcmp(key, "krop") != 0 &&
                strcmp(key, "ifMatch") != 0)
                bad_key = true;
        }
        const char *method = json_string_value(json_object_get(st, "metode"));
        const char *path = json_string_value(json_object_get(st, "sti"));
        json_t *krop = json_object_get(st, "krop");
        json_t *if_match = json_object_get(st, "ifMatch");
        const rest_route *rt = method && path ? txn_match(method, path, i, numbers[i]) : NULL;
        if (bad_key) {
            result = txn_bad(api, req, body, i + 1, "*",
                             "et trin er et objekt med metode, sti, krop og evt. ifMatch");
        } else if (!rt) {
            result = txn_bad(api, req, body, i + 1, "sti",
                             "metode og sti skal være en af registerets ændringer (POST, PATCH, "
                             "DELETE under /v1); \"$k\" kan nævne et tidligere trin");
        } else if ((rt->kind == REST_DELETE) != (krop == NULL || json_is_null(krop)) ||
                   (krop && !json_is_null(krop) && !json_is_object(krop))) {
            result = txn_bad(api, req, body, i + 1, "krop",
                             rt->kind == REST_DELETE ? "en sletning har ingen krop"
                                                     : "krop skal være et objekt");
        } else if (if_match && (!json_is_integer(if_match) || json_integer_value(if_match) < 0 ||
                                rt->kind == REST_CREATE)) {
            result = txn_bad(api, req, body, i + 1, "ifMatch",
                             "ifMatch er en version (et heltal ≥ 0), ikke på en oprettelse");
        } else {
            cmds[i] = (dtr_command){.op = rest_op_of(rt->kind),
                                    .level = rt->level,
                                    .nummer = numbers[i][0] ? numbers[i] : NULL,
                                    .body = json_is_object(krop) ? krop : NULL,
                                    .if_match = if_match ? json_integer_value(if_match) : -1};
            continue;
        }
        refused = true;
    }
    if (refused) {
        free(cmds);
        free(numbers);
        return result;
    }
    dtr_submission sub = {.commands = cmds, .n_commands = n, .flags = flags};
    sub.request_id = api->req_id(req);
    const char *key = api->req_header(req, "Idempotency-Key");
    if (key && !rest_idempotency_key_ok(key)) {
        free(cmds);
        free(numbers);
        json_decref(body);
        rest_problem(api, req, 400, "UGYLDIG_FORESPOERGSEL", "Idempotency-Key",
                     "Idempotency-Key skal være 1-255 synlige ASCII-tegn");
        return DTR_OK;
    }
    sub.idempotency_key = key;
    sub.body_bytes = bytes;
    sub.body_len = len;
    txn_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx) abort();
    ctx->api = api;
    ctx->req = req;
    ctx->cache = r->cache;
    ctx->n = n;
    api->req_on_abort(req, txn_abort, ctx);
    char err[256] = "";
    dtr_status st = api->command_submit(r->self, who, &sub, txn_done, ctx, err, sizeof err);
    free(cmds);
    free(numbers);
    json_decref(body);
    if (st != DTR_OK) {
        api->req_on_abort(req, NULL, NULL);
        free(ctx);
        if (st == DTR_DECLINED)
            rest_problem(api, req, 400, "UGYLDIG_FORESPOERGSEL", "trin", err);
        else
            rest_problem(api, req, 503, "IKKE_KLAR", NULL,
                         err[0] ? err : "registeret tager ikke imod ændringer lige nu");
    }
    return DTR_OK;
}
