/*
 * read.c -- the GET handlers: one record, lists, dagtilbud, historik,
 * hændelser, the code lists and the OpenAPI document.
 *
 * Each read runs on the loop thread with the reader the host lends the
 * plugin (short reads: one record, one page), so a GET is one prepared
 * statement and one JSON dump. Every read checks, in order: credentials
 * (only when public_read is off, or when credentials were sent), the path
 * segment and the query parameters (400 UGYLDIG_PARAMETER), then what the
 * register says (404, 410, 503).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rest.h"

/* Who may read: anyone when public_read is on, any client otherwise. */
static bool rest_read_allowed(rest *r, dtr_request *req)
{
    const dtr_identity *client;
    return rest_auth(r, req, !r->api->public_read(r->self), &client);
}

/* Whether an If-None-Match header names the version: "*", or one of its
 * comma-separated entity tags (weak or strong) is "<version>". */
static bool rest_none_match(const char *header, int64_t version)
{
    if (!header) return false;
    const char *p = header;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        size_t n = strcspn(p, ",");
        if (n == 0) break;
        char tag[40];
        if (n < sizeof tag) {
            memcpy(tag, p, n);
            tag[n] = '\0';
            if (strcmp(tag, "*") == 0) return true;
            if (tag[0] == '"' || (tag[0] == 'W' && tag[1] == '/')) {
                int64_t v = rest_parse_if_match(tag);
                if (v > 0 && v == version) return true;
            }
        }
        p += n;
    }
    return false;
}

/* Answers a record with its ETag, or 304 when the client has that version. */
static void rest_answer_record(rest *r, dtr_request *req, json_t *rec, json_t *body)
{
    const dtr_host_api *api = r->api;
    int64_t version = json_integer_value(json_object_get(rec, "version"));
    rest_set_etag(api, req, version);
    if (rest_none_match(api->req_header(req, "If-None-Match"), version)) {
        json_decref(body);
        api->respond(req, 304, NULL, NULL, 0);
        return;
    }
    api->respond_json(req, 200, NULL, body);
}

/* A read of nummer at any level: read_get's status, with a record of
 * another level than want (when want >= 0) counted as unknown. */
static int rest_get_record(rest *r, const char *nummer, const char *virkningsdato, int nested,
                           int want, dtr_level *level, json_t **rec)
{
    const dtr_host_api *api = r->api;
    *rec = NULL;
    *level = DTR_LEVEL_DAGINSTITUTION;
    int st = rest_http_of(
        api->read_get(api->reader(r->self), nummer, virkningsdato, nested, level, rec));
    if ((st == 0 || st == 410) && want >= 0 && (int)*level != want) {
        json_decref(*rec);
        *rec = NULL;
        return 404;
    }
    if (st != 0) {
        json_decref(*rec);
        *rec = NULL;
    }
    return st;
}

/* Answers a record's cached (or just dumped) bytes with its ETag, or 304
 * when the client has that version. */
static void rest_answer_bytes(rest *r, dtr_request *req, const char *bytes, size_t len,
                              int64_t version)
{
    const dtr_host_api *api = r->api;
    rest_set_etag(api, req, version);
    if (rest_none_match(api->req_header(req, "If-None-Match"), version))
        api->respond(req, 304, NULL, NULL, 0);
    else
        api->respond(req, 200, "application/json", bytes, len);
}

/* GET /v1/<collection>/{nummer}. The current record (no virkningsdato)
 * comes from the answer cache when it has it; otherwise from one read_get
 * and one dump, which the cache then keeps. */
dtr_status rest_handle_get(dtr_request *req, void *udata)
{
    const rest_binding *b = udata;
    rest *r = b->r;
    const dtr_host_api *api = r->api;
    if (!rest_read_allowed(r, req)) return DTR_OK;
    const char *nummer = rest_read_nummer(r, req);
    if (!nummer) return DTR_OK;
    rest_args a;
    if (!rest_read_args(r, req, b->route, &a)) return DTR_OK;
    dtr_level level;
    bool cached =
        !a.virkningsdato && r->cache && rest_cache_sync(r->cache, api, api->reader(r->self));
    if (cached) {
        int64_t version;
        size_t len;
        const char *bytes = rest_cache_get(r->cache, nummer, &level, &version, &len);
        if (bytes && level != b->route->level) {
            rest_problem_read(api, req, 404);
            return DTR_OK;
        }
        if (bytes) {
            rest_answer_bytes(r, req, bytes, len, version);
            return DTR_OK;
        }
    }
    json_t *rec;
    int st = rest_get_record(r, nummer, a.virkningsdato, 1, (int)b->route->level, &level, &rec);
    rest_cache_stale(r->cache); /* that read may have seen a newer state: see cache.c */
    if (st != 0) {
        rest_problem_read(api, req, st);
        return DTR_OK;
    }
    if (!cached) {
        rest_answer_record(r, req, rec, rec);
        return DTR_OK;
    }
    int64_t version = json_integer_value(json_object_get(rec, "version"));
    char *text = json_dumps(rec, DTR_JSON_WIRE);
    if (!text) {
        json_decref(rec);
        rest_problem_read(api, req, 503);
        return DTR_OK;
    }
    size_t len = strlen(text);
    rest_cache_put(r->cache, nummer, level, rec, text, len, version);
    json_decref(rec);
    rest_answer_bytes(r, req, text, len, version);
    free(text);
    return DTR_OK;
}

dtr_status rest_handle_dagtilbud(dtr_request *req, void *udata)
{
    const rest_binding *b = udata;
    rest *r = b->r;
    if (!rest_read_allowed(r, req)) return DTR_OK;
    rest_cache_stale(r->cache); /* it reads past the cache: see cache.c */
    const char *nummer = rest_read_nummer(r, req);
    if (!nummer) return DTR_OK;
    rest_args a;
    if (!rest_read_args(r, req, b->route, &a)) return DTR_OK;
    dtr_level level;
    json_t *rec;
    int st = rest_get_record(r, nummer, a.virkningsdato, 1, -1, &level, &rec);
    if (st != 0) {
        rest_problem_read(r->api, req, st);
        return DTR_OK;
    }
    json_t *body = json_pack("{s:s, s:O}", "niveau", rest_niveau(level), "data", rec);
    rest_answer_record(r, req, rec, body);
    json_decref(rec);
    return DTR_OK;
}

dtr_status rest_handle_list(dtr_request *req, void *udata)
{
    const rest_binding *b = udata;
    rest *r = b->r;
    const dtr_host_api *api = r->api;
    if (!rest_read_allowed(r, req)) return DTR_OK;
    rest_cache_stale(r->cache); /* it reads past the cache: see cache.c */
    rest_args a;
    if (!rest_read_args(r, req, b->route, &a)) return DTR_OK;
    dtr_query q;
    memset(&q, 0, sizeof q);
    q.level = b->route->level;
    q.virkningsdato = a.virkningsdato;
    q.status = a.status;
    q.adm_kommune = a.adm_kommune;
    q.kommune = a.kommune;
    q.inst_type3 = a.inst_type3;
    q.parent = a.parent;
    q.p_nummer = a.p_nummer;
    q.cvr_nummer = a.cvr_nummer;
    q.navn = a.navn;
    q.after = a.after[0] ? a.after : NULL;
    q.limit = a.limit;
    q.nested = 0;
    json_t *items = NULL;
    char next[7] = "";
    int st = rest_http_of(api->read_list(api->reader(r->self), &q, &items, next));
    if (st != 0) {
        json_decref(items);
        rest_problem_read(api, req, st);
        return DTR_OK;
    }
    char cursor[16];
    json_t *naeste = json_null();
    if (next[0]) {
        rest_cursor_encode(next, cursor);
        naeste = json_string(cursor);
    }
    api->respond_json(
        req, 200, NULL,
        json_pack("{s:o, s:o}", "resultater", items ? items : json_array(), "naeste", naeste));
    return DTR_OK;
}

dtr_status rest_handle_history(dtr_request *req, void *udata)
{
    const rest_binding *b = udata;
    rest *r = b->r;
    const dtr_host_api *api = r->api;
    if (!rest_read_allowed(r, req)) return DTR_OK;
    rest_args unused;
    if (!rest_read_args(r, req, b->route, &unused)) return DTR_OK;
    rest_cache_stale(r->cache); /* it reads past the cache: see cache.c */
    const char *nummer = rest_read_nummer(r, req);
    if (!nummer) return DTR_OK;
    /* the level first: a deleted record (410) still has its history */
    dtr_level level;
    json_t *rec;
    int st = rest_get_record(r, nummer, NULL, 0, (int)b->route->level, &level, &rec);
    json_decref(rec);
    if (st != 0 && st != 410) {
        rest_problem_read(api, req, st);
        return DTR_OK;
    }
    json_t *list = NULL;
    st = rest_http_of(api->read_history(api->reader(r->self), nummer, &list));
    if (st != 0) {
        json_decref(list);
        rest_problem_read(api, req, st);
        return DTR_OK;
    }
    api->respond_json(req, 200, NULL, list);
    return DTR_OK;
}

dtr_status rest_handle_latest(dtr_request *req, void *udata)
{
    const rest_binding *b = udata;
    rest *r = b->r;
    const dtr_host_api *api = r->api;
    if (!rest_read_allowed(r, req)) return DTR_OK;
    rest_args unused;
    if (!rest_read_args(r, req, b->route, &unused)) return DTR_OK;
    rest_cache_stale(r->cache); /* it reads past the cache: see cache.c */
    int64_t seq = 0;
    char tidspunkt[40] = "";
    int st = rest_http_of(api->read_latest(api->reader(r->self), &seq, tidspunkt));
    if (st != 0) {
        rest_problem_read(api, req, st);
        return DTR_OK;
    }
    api->respond_json(req, 200, NULL,
                      json_pack("{s:I, s:o}", "sekvensnummer", (json_int_t)seq, "tidspunkt",
                                tidspunkt[0] ? json_string(tidspunkt) : json_null()));
    (void)b;
    return DTR_OK;
}

dtr_status rest_handle_events(dtr_request *req, void *udata)
{
    const rest_binding *b = udata;
    rest *r = b->r;
    const dtr_host_api *api = r->api;
    if (!rest_read_allowed(r, req)) return DTR_OK;
    rest_cache_stale(r->cache); /* it reads past the cache: see cache.c */
    rest_args a;
    if (!rest_read_args(r, req, b->route, &a)) return DTR_OK;
    json_t *list = NULL;
    int st = rest_http_of(api->read_haendelser(api->reader(r->self), a.fra, a.maxantal, &list));
    if (st != 0) {
        json_decref(list);
        rest_problem_read(api, req, st);
        return DTR_OK;
    }
    api->respond_json(req, 200, NULL, list ? list : json_array());
    return DTR_OK;
}

/* ---- fixed answers: code lists, the OpenAPI document ---------------------------------- */

/* The code lists by route->list, in the order of rest.codes, with the
 * range of codes each is looked up in (code_text answers NULL outside its
 * list). */
static const struct {
    const char *list;
    int from, to;
} rest_code_lists[4] = {
    {"kommune", 101, 860},
    {"ejerform", 1, 99},
    {"lovgrundlag", 1, 99},
    {"institutionstype", 6000, 6999},
};

int rest_codes_build(rest *r)
{
    for (size_t i = 0; i < 4; i++) {
        json_t *list = json_array();
        for (int kode = rest_code_lists[i].from; kode <= rest_code_lists[i].to; kode++) {
            const char *tekst = r->api->code_text(r->self, rest_code_lists[i].list, kode);
            if (tekst)
                json_array_append_new(list, json_pack("{s:i, s:s}", "kode", kode, "tekst", tekst));
        }
        r->codes[i].data = json_dumps(list, JSON_COMPACT);
        json_decref(list);
        if (!r->codes[i].data) return -1;
        r->codes[i].len = strlen(r->codes[i].data);
    }
    return 0;
}

dtr_status rest_handle_codes(dtr_request *req, void *udata)
{
    const rest_binding *b = udata;
    rest *r = b->r;
    if (!rest_read_allowed(r, req)) return DTR_OK;
    rest_args unused;
    if (!rest_read_args(r, req, b->route, &unused)) return DTR_OK;
    for (size_t i = 0; i < 4; i++) {
        if (strcmp(rest_code_lists[i].list, b->route->list) == 0) {
            r->api->respond(req, 200, "application/json", r->codes[i].data, r->codes[i].len);
            return DTR_OK;
        }
    }
    rest_problem_read(r->api, req, 404);
    return DTR_OK;
}

dtr_status rest_handle_openapi(dtr_request *req, void *udata)
{
    const rest_binding *b = udata;
    rest *r = b->r;
    if (!rest_read_allowed(r, req)) return DTR_OK;
    rest_args unused;
    if (!rest_read_args(r, req, b->route, &unused)) return DTR_OK;
    const rest_bytes *doc = rest_openapi_bytes(r);
    if (!doc) {
        rest_problem(r->api, req, 503, "IKKE_KLAR", NULL, "ikke nok hukommelse");
        return DTR_OK;
    }
    r->api->respond(req, 200, "application/json", doc->data, doc->len);
    return DTR_OK;
}
