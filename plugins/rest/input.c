/*
 * input.c -- the HTTP-level checks of a request, in API.md's order:
 * credentials (401), media type (415), syntax (400: the body's JSON, path
 * segments, query parameters). What follows them -- the target exists, the
 * fields, authorization, If-Match, cross-validation -- is the register's,
 * decided inside the store's write transaction.
 *
 * Also the small parsers those checks need: If-Match, calendar days,
 * digit strings and the opaque list cursor. Pure functions except
 * rest_auth, rest_read_args and rest_read_nummer, which answer the request
 * when they refuse it. Loop thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "rest.h"

/* ---- credentials ------------------------------------------------------------ */

bool rest_auth(rest *r, dtr_request *req, bool need_client, const dtr_identity **client)
{
    const dtr_host_api *api = r->api;
    *client = NULL;
    /* an open read without credentials needs no lookup at all */
    if (!need_client && !api->req_header(req, "Authorization")) return true;
    dtr_status st = api->req_authenticate(r->self, req, client);
    if (st == DTR_INVALID) {
        *client = NULL;
        rest_problem(api, req, 403, "IKKE_TILLADT", "X-CSRF-Token",
                     "en ændring fra en session skal bære sessionens X-CSRF-Token");
        return false;
    }
    if (st == DTR_DECLINED) {
        *client = NULL;
        rest_unauthorized(api, req, "ukendt klient eller forkert hemmelighed");
        return false;
    }
    if (st != DTR_OK) {
        *client = NULL;
        rest_problem(api, req, 503, "IKKE_KLAR", NULL, "klienterne kunne ikke læses");
        return false;
    }
    if (need_client && !*client) {
        rest_unauthorized(api, req, "log ind med HTTP Basic (clientId:secret)");
        return false;
    }
    return true;
}

/* ---- media types -------------------------------------------------------------- */

static const char *rest_skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* Whether [p, p+n) equals s, ignoring ASCII case. */
static bool rest_span_is(const char *p, size_t n, const char *s)
{
    return strlen(s) == n && strncasecmp(p, s, n) == 0;
}

bool rest_media_type_ok(const char *content_type, bool merge_patch)
{
    if (!content_type) return false;
    const char *p = rest_skip_ws(content_type);
    size_t n = strcspn(p, "; \t");
    if (!rest_span_is(p, n, "application/json") &&
        !(merge_patch && rest_span_is(p, n, "application/merge-patch+json")))
        return false;
    p = rest_skip_ws(p + n);
    /* parameters: ;name=value or ;name="value"; only charset is looked at */
    while (*p == ';') {
        p = rest_skip_ws(p + 1);
        if (*p == '\0') break; /* a trailing ';' is harmless */
        size_t namelen = strcspn(p, "= \t;");
        if (namelen == 0 || p[namelen] != '=') return false;
        const char *v = p + namelen + 1;
        size_t vlen;
        const char *next;
        if (*v == '"') {
            v++;
            const char *close = strchr(v, '"');
            if (!close) return false;
            vlen = (size_t)(close - v);
            next = close + 1;
        } else {
            vlen = strcspn(v, "; \t");
            next = v + vlen;
        }
        if (rest_span_is(p, namelen, "charset") && !rest_span_is(v, vlen, "utf-8") &&
            !rest_span_is(v, vlen, "utf8"))
            return false;
        p = rest_skip_ws(next);
        if (*p != '\0' && *p != ';') return false;
    }
    return *p == '\0';
}

/* ---- JSON bodies ------------------------------------------------------------------ */

bool rest_json_depth_ok(const unsigned char *text, size_t len, int max_depth)
{
    int depth = 0;
    bool in_string = false, escaped = false;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = text[i];
        if (in_string) {
            if (escaped)
                escaped = false;
            else if (ch == '\\')
                escaped = true;
            else if (ch == '"')
                in_string = false;
            continue;
        }
        if (ch == '"') {
            in_string = true;
        } else if (ch == '[' || ch == '{') {
            if (++depth > max_depth) return false;
        } else if (ch == ']' || ch == '}') {
            depth--;
        }
    }
    return true;
}

json_t *rest_parse_body(const unsigned char *body, size_t len, char *why, size_t whylen)
{
    if (!body || len == 0) {
        snprintf(why, whylen, "forespørgslen mangler en JSON-krop");
        return NULL;
    }
    if (!rest_json_depth_ok(body, len, REST_MAX_JSON_DEPTH)) {
        snprintf(why, whylen, "JSON-kroppen er indlejret dybere end %d niveauer",
                 REST_MAX_JSON_DEPTH);
        return NULL;
    }
    json_error_t error;
    json_t *doc =
        json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &error);
    if (!doc)
        snprintf(why, whylen, "ugyldig JSON (linje %d, kolonne %d): %s", error.line, error.column,
                 error.text);
    return doc;
}

/* ---- If-Match, numbers, days ------------------------------------------------------- */

int64_t rest_parse_if_match(const char *value)
{
    if (!value) return -1;
    const char *p = rest_skip_ws(value);
    if (*p == '*' && *rest_skip_ws(p + 1) == '\0') return -1;
    if (p[0] == 'W' && p[1] == '/') p += 2;
    bool quoted = *p == '"';
    if (quoted) p++;
    int64_t v = 0;
    size_t digits = 0;
    while (*p >= '0' && *p <= '9') {
        if (++digits > 15) return 0;
        v = v * 10 + (*p - '0');
        p++;
    }
    if (digits == 0) return 0;
    if (quoted && *p++ != '"') return 0;
    return *rest_skip_ws(p) == '\0' ? v : 0;
}

bool rest_nummer_ok(const char *s)
{
    if (!s || strlen(s) != 6 || s[0] < 'A' || s[0] > 'Z') return false;
    for (int i = 1; i < 6; i++)
        if (s[i] < '0' || s[i] > '9') return false;
    return true;
}

bool rest_date_ok(const char *s)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-') return false;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9')) return false;
    int y = atoi(s), m = atoi(s + 5), d = atoi(s + 8);
    if (y < 1 || m < 1 || m > 12 || d < 1) return false;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    int max = days[m - 1] + (m == 2 && leap ? 1 : 0);
    return d <= max;
}

bool rest_parse_digits(const char *s, int64_t *out)
{
    if (!s || !*s || strlen(s) > 18) return false;
    int64_t v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9') return false;
        v = v * 10 + (*p - '0');
    }
    *out = v;
    return true;
}

/* ---- the list cursor ------------------------------------------------------------------- */

static const char rest_b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void rest_cursor_encode(const char *nummer, char out[16])
{
    const unsigned char *in = (const unsigned char *)nummer;
    size_t n = strlen(nummer), o = 0;
    if (n > 9) n = 9;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < n) v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < n) v |= in[i + 2];
        out[o++] = rest_b64url[(v >> 18) & 63];
        out[o++] = rest_b64url[(v >> 12) & 63];
        if (i + 1 < n) out[o++] = rest_b64url[(v >> 6) & 63];
        if (i + 2 < n) out[o++] = rest_b64url[v & 63];
    }
    out[o] = '\0';
}

bool rest_cursor_decode(const char *cursor, char nummer[7])
{
    /* a number is 6 bytes: exactly 8 characters, no padding */
    if (!cursor || strlen(cursor) != 8) return false;
    uint32_t v[8];
    for (int i = 0; i < 8; i++) {
        const char *at = strchr(rest_b64url, cursor[i]);
        if (!at || cursor[i] == '\0') return false;
        v[i] = (uint32_t)(at - rest_b64url);
    }
    for (int g = 0; g < 2; g++) {
        uint32_t w = v[4 * g] << 18 | v[4 * g + 1] << 12 | v[4 * g + 2] << 6 | v[4 * g + 3];
        nummer[3 * g] = (char)(w >> 16);
        nummer[3 * g + 1] = (char)(w >> 8);
        nummer[3 * g + 2] = (char)w;
    }
    nummer[6] = '\0';
    return rest_nummer_ok(nummer);
}

/* ---- query parameters and path segments ---------------------------------------------- */

/* Counts the characters of a UTF-8 text; -1 when it is not valid UTF-8. */
static long rest_utf8_chars(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    long n = 0;
    while (*p) {
        unsigned char c = *p;
        size_t extra;
        uint32_t cp;
        if (c < 0x80) {
            extra = 0;
            cp = c;
        } else if ((c & 0xE0) == 0xC0) {
            extra = 1;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            extra = 2;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            extra = 3;
            cp = c & 0x07;
        } else {
            return -1;
        }
        for (size_t i = 1; i <= extra; i++) {
            if ((p[i] & 0xC0) != 0x80) return -1;
            cp = cp << 6 | (p[i] & 0x3F);
        }
        static const uint32_t min[] = {0, 0x80, 0x800, 0x10000};
        if (cp < min[extra] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return -1;
        p += extra + 1;
        n++;
    }
    return n;
}

static bool rest_all_digits(const char *s, size_t n)
{
    if (strlen(s) != n) return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9') return false;
    return true;
}

/* Checks one parameter's value and stores it in args. Returns NULL, or the
 * reason it is refused. */
static const char *rest_take_param(const rest_param *p, const char *v, rest_args *a)
{
    int64_t n;
    switch (p->type) {
    case REST_P_LIMIT:
        if (!rest_parse_digits(v, &n) || n < 1 || n > 1000) return "forventede et tal 1-1000";
        a->limit = (size_t)n;
        return NULL;
    case REST_P_CURSOR:
        if (!rest_cursor_decode(v, a->after)) return "ukendt markør";
        return NULL;
    case REST_P_DATE:
        if (!rest_date_ok(v)) return "forventede en dato YYYY-MM-DD";
        a->virkningsdato = v;
        return NULL;
    case REST_P_STATUS:
        if (strcmp(v, "kommende") && strcmp(v, "aktiv") && strcmp(v, "nedlagt"))
            return "forventede kommende, aktiv eller nedlagt";
        a->status = v;
        return NULL;
    case REST_P_TEXT: {
        long chars = rest_utf8_chars(v);
        if (chars < 1 || chars > 132) return "forventede en tekst på 1-132 tegn";
        a->navn = v;
        return NULL;
    }
    case REST_P_CODE:
        if (!rest_parse_digits(v, &n) || n < 1 || n > 99999) return "forventede en kode";
        if (strcmp(p->name, "admKommuneKode") == 0)
            a->adm_kommune = (int)n;
        else if (strcmp(p->name, "kommuneKode") == 0)
            a->kommune = (int)n;
        else
            a->inst_type3 = (int)n;
        return NULL;
    case REST_P_NUMMER:
        if (!rest_nummer_ok(v)) return "forventede et nummer (et stort bogstav og 5 cifre)";
        a->parent = v;
        return NULL;
    case REST_P_PNUMMER:
        if (!rest_all_digits(v, 10)) return "forventede 10 cifre";
        a->p_nummer = v;
        return NULL;
    case REST_P_CVR:
        if (!rest_all_digits(v, 8)) return "forventede 8 cifre";
        a->cvr_nummer = v;
        return NULL;
    case REST_P_SEQ:
        if (!rest_parse_digits(v, &n)) return "forventede et sekvensnummer (0 eller mere)";
        a->fra = n;
        return NULL;
    case REST_P_MAXANTAL:
        if (!rest_parse_digits(v, &n) || n < 1 || n > 10000) return "forventede et tal 1-10000";
        a->maxantal = (size_t)n;
        return NULL;
    }
    return "ukendt parameter";
}

/* A query parameter the route does not take is refused rather than
 * ignored: a misspelt filter (?kommunekode=101) must not silently list the
 * whole register. */
static bool rest_query_names_known(rest *r, dtr_request *req, const rest_route *route)
{
    if (!DTR_HOST_HAS(r->api, req_query_name) || !r->api->req_query_name)
        return true; /* a host before ABI 1.3 cannot tell */
    const char *name;
    for (size_t i = 0; (name = r->api->req_query_name(req, i)) != NULL; i++) {
        const rest_param *p = route->params;
        while (p && p->name && strcmp(p->name, name) != 0)
            p++;
        if (p && p->name) continue;
        char tekst[160];
        snprintf(tekst, sizeof tekst, "%.80s: ukendt parameter for %s %s", name, route->method,
                 route->pattern);
        rest_problem(r->api, req, 400, "UGYLDIG_PARAMETER", name, tekst);
        return false;
    }
    return true;
}

bool rest_read_args(rest *r, dtr_request *req, const rest_route *route, rest_args *args)
{
    memset(args, 0, sizeof *args);
    args->limit = 100;
    args->maxantal = 1000;
    if (!rest_query_names_known(r, req, route)) return false;
    for (const rest_param *p = route->params; p && p->name; p++) {
        const char *v = r->api->req_query(req, p->name);
        if (!v) continue;
        const char *why = rest_take_param(p, v, args);
        if (why) {
            char tekst[160];
            snprintf(tekst, sizeof tekst, "%s: %s", p->name, why);
            rest_problem(r->api, req, 400, "UGYLDIG_PARAMETER", p->name, tekst);
            return false;
        }
    }
    return true;
}

const char *rest_read_nummer(rest *r, dtr_request *req)
{
    const char *nummer = r->api->req_param(req, "nummer");
    if (rest_nummer_ok(nummer)) return nummer;
    rest_problem(r->api, req, 400, "UGYLDIG_PARAMETER", "nummer",
                 "nummer: forventede et stort bogstav og 5 cifre");
    return NULL;
}

void rest_set_etag(const dtr_host_api *api, dtr_request *req, int64_t version)
{
    char etag[32];
    snprintf(etag, sizeof etag, "\"%lld\"", (long long)version);
    api->resp_header(req, "ETag", etag);
}
