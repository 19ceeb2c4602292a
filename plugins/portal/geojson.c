/*
 * geojson.c -- GET /v1/portal/dagtilbud.geojson: what Dagtilbudsportalen
 * shows. A GeoJSON FeatureCollection of the anvisningsenheder and
 * alternative adresser in effect today that have coordinates:
 *
 *   {"type": "FeatureCollection", "sekvensnummer": S, "features": [
 *     {"type": "Feature", "id": "G12345",
 *      "geometry": {"type": "Point", "coordinates": [geoLaengde, geoBredde]},
 *      "properties": {"nummer", "navn", "niveau", "daginstitutionsNummer",
 *                     "anvisningsenhedsNummer" (alternativ adresse only),
 *                     "instType3", "instType3Tekst", "ejerformKode", "ejerformTekst",
 *                     "kommuneKode", "kommuneNavn", "adresse"}}, ...]}
 *
 * An alternativ adresse has its anvisningsenhed's instType3, and both have
 * their daginstitution's ejerformKode. S is the sekvensnummer the
 * collection is consistent with.
 *
 * The collection is built on the pool (a reader of its own, a snapshot,
 * the daginstitutioner nested a page at a time) and cached by
 * (sekvensnummer, day): ETag "<S>-<YYYY-MM-DD>". A request reads only the
 * newest sekvensnummer on the loop; when the cache is that current it is
 * answered at once (or 304 on a matching If-None-Match), else it waits for
 * a build, which every request arriving meanwhile shares. A build that
 * turns out older than what a waiting request saw is followed by another,
 * so an answer never shows less than was committed when it was asked for.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "portal.h"

#define GEO_PAGE 1000

typedef struct geo_waiter {
    portal_geo *g;
    dtr_request *req;
    int64_t min_seq; /* the newest sekvensnummer when it asked */
    struct geo_waiter *prev, *next;
} geo_waiter;

struct portal_geo {
    portal *p;
    /* the cache: the last build's bytes */
    char *body;
    size_t len;
    int64_t seq;
    char day[11];
    bool building;
    bool stopped;
    geo_waiter *waiters;
};

/* ---- building (pool thread) ---------------------------------------------------- */

typedef struct geo_buf {
    char *data;
    size_t len, cap;
    bool failed;
} geo_buf;

static void buf_add(geo_buf *b, const char *s, size_t n)
{
    if (b->failed) return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 65536;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *grown = realloc(b->data, cap);
        if (!grown) {
            b->failed = true;
            return;
        }
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

typedef struct geo_build {
    portal_geo *g;
    const dtr_host_api *api;
    dtr_plugin *self;
    char day[11];
    geo_buf out;
    int64_t seq;
    size_t features;
    dtr_status rc; /* DTR_OK or the read's status */
} geo_build;

/* The text of a code, or null (an unknown code, or a host without code
 * lists). */
static json_t *text_or_null(const dtr_host_api *api, dtr_plugin *self, const char *list,
                            json_t *kode)
{
    const char *t = json_is_integer(kode) && api->code_text
                        ? api->code_text(self, list, (int)json_integer_value(kode))
                        : NULL;
    return t ? json_string(t) : json_null();
}

/* Appends rec as a feature when it is in effect today and has coordinates. */
static void add_feature(geo_build *b, const json_t *rec, const char *niveau, const char *di_nummer,
                        const char *ae_nummer, json_t *inst_type3, json_t *ejerform)
{
    const char *status = json_string_value(json_object_get(rec, "status"));
    json_t *adresse = json_object_get(rec, "adresse");
    json_t *lat = json_object_get(adresse, "geoBredde");
    json_t *lon = json_object_get(adresse, "geoLaengde");
    if (!status || strcmp(status, "aktiv") != 0 || !json_is_number(lat) || !json_is_number(lon))
        return;
    json_t *kommune = json_object_get(adresse, "kommuneKode");
    json_t *props = json_pack(
        "{s:O*, s:O*, s:s, s:s, s:O, s:o, s:O, s:o, s:O, s:o, s:O}", "nummer",
        json_object_get(rec, "nummer"), "navn", json_object_get(rec, "navn"), "niveau", niveau,
        "daginstitutionsNummer", di_nummer, "instType3", inst_type3 ? inst_type3 : json_null(),
        "instType3Tekst", text_or_null(b->api, b->self, "institutionstype", inst_type3),
        "ejerformKode", ejerform ? ejerform : json_null(), "ejerformTekst",
        text_or_null(b->api, b->self, "ejerform", ejerform), "kommuneKode",
        kommune ? kommune : json_null(), "kommuneNavn",
        text_or_null(b->api, b->self, "kommune", kommune), "adresse", adresse);
    if (props && ae_nummer)
        json_object_set_new(props, "anvisningsenhedsNummer", json_string(ae_nummer));
    json_t *feature = props ? json_pack("{s:s, s:O, s:{s:s, s:[O, O]}, s:o}", "type", "Feature",
                                        "id", json_object_get(rec, "nummer"), "geometry", "type",
                                        "Point", "coordinates", lon, lat, "properties", props)
                            : NULL;
    if (!feature) return; /* a record without a number: nothing to show */
    char *text = json_dumps(feature, DTR_JSON_WIRE | JSON_PRESERVE_ORDER);
    json_decref(feature);
    if (!text) {
        b->out.failed = true;
        return;
    }
    if (b->features++ > 0) buf_add(&b->out, ",", 1);
    buf_add(&b->out, text, strlen(text));
    free(text);
}

/* The features of one nested daginstitution. */
static void add_daginstitution(geo_build *b, const json_t *di)
{
    const char *di_nummer = json_string_value(json_object_get(di, "nummer"));
    json_t *ejerform = json_object_get(di, "ejerformKode");
    size_t i, k;
    json_t *ae, *aa;
    json_array_foreach(json_object_get(di, "anvisningsenheder"), i, ae)
    {
        json_t *inst = json_object_get(ae, "instType3");
        const char *ae_nummer = json_string_value(json_object_get(ae, "nummer"));
        add_feature(b, ae, "anvisningsenhed", di_nummer ? di_nummer : "", NULL, inst, ejerform);
        json_array_foreach(json_object_get(ae, "alternativeAdresser"), k, aa)
            add_feature(b, aa, "alternativAdresse", di_nummer ? di_nummer : "",
                        ae_nummer ? ae_nummer : "", inst, ejerform);
    }
}

/* Pool thread: the whole collection from one snapshot. */
static void geo_build_run(void *udata)
{
    geo_build *b = udata;
    dtr_reader *r = b->api->reader_open(b->self);
    if (!r) {
        b->rc = DTR_ERROR;
        return;
    }
    b->rc = b->api->snapshot_begin(r, &b->seq);
    if (b->rc == DTR_OK) {
        char head[96];
        int n = snprintf(
            head, sizeof head,
            "{\"type\":\"FeatureCollection\",\"sekvensnummer\":%" PRId64 ",\"features\":[", b->seq);
        buf_add(&b->out, head, (size_t)n);
        char after[7] = "";
        for (;;) {
            dtr_query q = {.level = DTR_LEVEL_DAGINSTITUTION,
                           .after = after[0] ? after : NULL,
                           .limit = GEO_PAGE,
                           .nested = 1};
            json_t *items = NULL;
            char next[7] = "";
            b->rc = b->api->read_list(r, &q, &items, next);
            if (b->rc != DTR_OK) break;
            size_t i;
            json_t *di;
            json_array_foreach(items, i, di) add_daginstitution(b, di);
            json_decref(items);
            if (next[0] == '\0' || b->out.failed) break;
            memcpy(after, next, sizeof after);
        }
        buf_add(&b->out, "]}", 2);
        b->api->snapshot_end(r);
    }
    b->api->reader_close(r);
    if (b->rc == DTR_OK && b->out.failed) b->rc = DTR_ERROR;
}

/* ---- answering (loop thread) ------------------------------------------------------ */

static void today(char day[11])
{
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(day, 11, "%Y-%m-%d", &tm);
}

static void make_etag(int64_t seq, const char *day, char etag[64])
{
    snprintf(etag, 64, "\"%" PRId64 "-%s\"", seq, day);
}

/* Whether an If-None-Match value names etag (or is "*"); weak tags count. */
static bool none_match(const char *header, const char *etag)
{
    if (!header) return false;
    size_t elen = strlen(etag);
    const char *c = header;
    while (*c) {
        while (*c == ' ' || *c == '\t' || *c == ',')
            c++;
        if (*c == '*') return true;
        if (c[0] == 'W' && c[1] == '/') c += 2;
        const char *end = c;
        while (*end && *end != ',')
            end++;
        const char *last = end;
        while (last > c && (last[-1] == ' ' || last[-1] == '\t'))
            last--;
        if ((size_t)(last - c) == elen && memcmp(c, etag, elen) == 0) return true;
        c = end;
    }
    return false;
}

static void waiter_unlink(geo_waiter *w)
{
    portal_geo *g = w->g;
    if (w->prev)
        w->prev->next = w->next;
    else
        g->waiters = w->next;
    if (w->next) w->next->prev = w->prev;
}

/* Answers every waiting request 503 with tekst. */
static void geo_fail_waiters(portal_geo *g, const char *tekst)
{
    while (g->waiters) {
        geo_waiter *w = g->waiters;
        waiter_unlink(w);
        g->p->api->req_on_abort(w->req, NULL, NULL);
        g->p->api->respond_problem(w->req, 503, "IKKE_KLAR", NULL, tekst);
        free(w);
    }
}

static void geo_answer(portal_geo *g, dtr_request *req)
{
    char etag[64];
    make_etag(g->seq, g->day, etag);
    const dtr_host_api *api = g->p->api;
    api->resp_header(req, "ETag", etag);
    api->resp_header(req, "Cache-Control", "no-cache");
    if (none_match(api->req_header(req, "If-None-Match"), etag)) {
        api->respond(req, 304, NULL, NULL, 0);
        return;
    }
    api->respond(req, 200, "application/geo+json", g->body, g->len);
}

static void geo_start_build(portal_geo *g);

static void geo_build_done(void *udata, int status)
{
    geo_build *b = udata;
    portal_geo *g = b->g;
    g->building = false;
    if (g->stopped) {
        free(b->out.data);
        free(b);
        return;
    }
    if (status != 0 || b->rc != DTR_OK) {
        g->p->api->log(g->p->self, DTR_LOG_ERROR, "the GeoJSON could not be built (%d)",
                       status != 0 ? status : dtr_status_http(b->rc));
        geo_fail_waiters(g, "registeret kunne ikke læses");
        free(b->out.data);
        free(b);
        return;
    }
    free(g->body);
    g->body = b->out.data;
    g->len = b->out.len;
    g->seq = b->seq;
    memcpy(g->day, b->day, sizeof g->day);
    free(b);
    geo_waiter *w = g->waiters;
    while (w) {
        geo_waiter *next = w->next;
        if (w->min_seq <= g->seq) {
            waiter_unlink(w);
            g->p->api->req_on_abort(w->req, NULL, NULL);
            geo_answer(g, w->req);
            free(w);
        }
        w = next;
    }
    if (g->waiters) geo_start_build(g);
}

static void geo_start_build(portal_geo *g)
{
    if (g->building) return;
    geo_build *b = calloc(1, sizeof *b);
    if (b) {
        b->g = g;
        b->api = g->p->api;
        b->self = g->p->self;
        today(b->day);
    }
    if (!b || g->p->api->work_submit(g->p->self, geo_build_run, geo_build_done, b) != DTR_OK) {
        free(b);
        g->p->api->log(g->p->self, DTR_LOG_ERROR, "could not queue the GeoJSON build");
        geo_fail_waiters(g, "prøv igen");
        return;
    }
    g->building = true;
}

static void geo_abort(dtr_request *req, void *udata)
{
    (void)req;
    geo_waiter *w = udata;
    waiter_unlink(w);
    free(w);
}

static dtr_status geo_route(dtr_request *req, void *udata)
{
    portal *p = udata;
    portal_geo *g = p->geo;
    const dtr_host_api *api = p->api;
    if (!api->public_read(p->self)) {
        const dtr_identity *who = NULL;
        if (api->req_authenticate(p->self, req, &who) != DTR_OK || !who) {
            portal_respond_401(p, req);
            return DTR_OK;
        }
    }
    int64_t latest = 0;
    char tidspunkt[40];
    if (g->stopped || api->read_latest(api->reader(p->self), &latest, tidspunkt) != DTR_OK) {
        api->respond_problem(req, 503, "IKKE_KLAR", NULL, "registeret kunne ikke læses");
        return DTR_OK;
    }
    char day[11];
    today(day);
    char etag[64];
    make_etag(latest, day, etag);
    if (none_match(api->req_header(req, "If-None-Match"), etag)) {
        api->resp_header(req, "ETag", etag);
        api->resp_header(req, "Cache-Control", "no-cache");
        api->respond(req, 304, NULL, NULL, 0);
        return DTR_OK;
    }
    if (g->body && g->seq >= latest && strcmp(g->day, day) == 0) {
        geo_answer(g, req);
        return DTR_OK;
    }
    geo_waiter *w = calloc(1, sizeof *w);
    if (!w) {
        api->respond_problem(req, 503, "IKKE_KLAR", NULL, "ikke nok hukommelse");
        return DTR_OK;
    }
    w->g = g;
    w->req = req;
    w->min_seq = latest;
    w->next = g->waiters;
    if (g->waiters) g->waiters->prev = w;
    g->waiters = w;
    api->req_on_abort(req, geo_abort, w);
    geo_start_build(g);
    return DTR_OK;
}

portal_geo *portal_geo_new(portal *p)
{
    portal_geo *g = calloc(1, sizeof *g);
    if (g) g->p = p;
    return g;
}

dtr_status portal_geo_routes_add(portal *p, char *err, size_t errlen)
{
    return p->api->route_add(p->self, "GET", "/v1/portal/dagtilbud.geojson", 0, geo_route, p, err,
                             errlen);
}

void portal_geo_stop(portal_geo *g)
{
    if (!g) return;
    g->stopped = true;
    geo_fail_waiters(g, "serveren stopper");
}

void portal_geo_free(portal_geo *g)
{
    if (!g) return;
    free(g->body);
    free(g);
}
