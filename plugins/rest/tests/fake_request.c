/*
 * fake_request.c -- the request half of the fake host (see fake_host.h):
 * reading a request, capturing its answer, and making requests in tests.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_host.h"

/* ---- reading a request ---------------------------------------------------------- */

static const char *fake_req_method(dtr_request *req)
{
    return req->method;
}
static const char *fake_req_path(dtr_request *req)
{
    return req->path;
}
static const char *fake_req_param(dtr_request *req, const char *name)
{
    return json_string_value(json_object_get(req->params, name));
}

static int fake_hex(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static char *fake_decode(const char *s, size_t n)
{
    char *out = malloc(n + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '+') {
            out[o++] = ' ';
        } else if (s[i] == '%' && i + 2 < n && fake_hex(s[i + 1]) >= 0 && fake_hex(s[i + 2]) >= 0) {
            out[o++] = (char)(fake_hex(s[i + 1]) * 16 + fake_hex(s[i + 2]));
            i += 2;
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
    return out;
}

/* The first value of name in the raw query, decoded; kept in req->params
 * under "?name" so that it lives as long as the request. */
static const char *fake_req_query(dtr_request *req, const char *name)
{
    if (!req->query) return NULL;
    const char *p = req->query;
    while (*p) {
        size_t n = strcspn(p, "&");
        const char *eq = memchr(p, '=', n);
        size_t namelen = eq ? (size_t)(eq - p) : n;
        char *key = fake_decode(p, namelen);
        bool same = strcmp(key, name) == 0;
        free(key);
        if (same) {
            char *v = eq ? fake_decode(eq + 1, n - namelen - 1) : strdup("");
            char slot[160];
            snprintf(slot, sizeof slot, "?%s", name);
            json_object_set_new(req->params, slot, json_stringn(v, strlen(v)));
            free(v);
            return json_string_value(json_object_get(req->params, slot));
        }
        p += n;
        if (*p == '&') p++;
    }
    return NULL;
}

const char *fake_req_header(dtr_request *req, const char *name)
{
    char lower[128];
    size_t i = 0;
    for (; name[i] && i + 1 < sizeof lower; i++)
        lower[i] = (char)tolower((unsigned char)name[i]);
    lower[i] = '\0';
    return json_string_value(json_object_get(req->headers, lower));
}

static const unsigned char *fake_req_body(dtr_request *req, size_t *len)
{
    *len = req->body_len;
    return req->body_len ? req->body : NULL;
}

static const char *fake_req_id(dtr_request *req)
{
    (void)req;
    return "req-1";
}

void fake_req_set_client(dtr_request *req, const char *id)
{
    snprintf(req->client_id, sizeof req->client_id, "%s", id);
}

/* ---- answering ------------------------------------------------------------------- */

static void fake_resp_header_set(dtr_request *req, const char *name, const char *value)
{
    char lower[128];
    size_t i = 0;
    for (; name[i] && i + 1 < sizeof lower; i++)
        lower[i] = (char)tolower((unsigned char)name[i]);
    lower[i] = '\0';
    json_object_set_new(req->resp_headers, lower, json_string(value));
}

static void fake_answer_check(dtr_request *req)
{
    if (req->ended || req->streaming) {
        fprintf(stderr, "fake host: request answered twice\n");
        abort();
    }
    if (req->aborted) {
        fprintf(stderr, "fake host: answer to an aborted request\n");
        abort();
    }
}

static void fake_respond(dtr_request *req, int status, const char *content_type, const void *body,
                         size_t len)
{
    fake_answer_check(req);
    req->status = status;
    free(req->content_type);
    req->content_type = content_type ? strdup(content_type) : NULL;
    req->out = malloc(len + 1);
    if (len) memcpy(req->out, body, len);
    req->out[len] = '\0';
    req->out_len = len;
    req->ended = true;
}

/* respond_owned: the body is the host's (freed here), as in the real host. */
static void fake_respond_owned(dtr_request *req, int status, const char *content_type, char *body,
                               size_t len)
{
    fake_respond(req, status, content_type, body, len);
    free(body);
}

static void fake_respond_problem(dtr_request *req, int status, const char *kode, const char *felt,
                                 const char *tekst)
{
    json_t *doc =
        json_pack("{s:s, s:s, s:i, s:s, s:[{s:s, s:o, s:s}]}", "type", "about:blank", "title", "x",
                  "status", status, "detail", tekst ? tekst : "", "fejl", "kode", kode, "felt",
                  felt ? json_string(felt) : json_null(), "tekst", tekst ? tekst : "");
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    fake_respond(req, status, "application/problem+json", text, strlen(text));
    free(text);
}

static void fake_respond_json(dtr_request *req, int status, const char *content_type, json_t *json)
{
    char *text = json_dumps(json, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(json);
    fake_respond(req, status, content_type ? content_type : "application/json", text, strlen(text));
    free(text);
}

static void fake_stream_begin(dtr_request *req, int status, const char *content_type)
{
    fake_answer_check(req);
    req->status = status;
    req->content_type = content_type ? strdup(content_type) : NULL;
    req->streaming = true;
    req->out = calloc(1, 1);
}

static dtr_status fake_stream_write(dtr_request *req, const void *data, size_t len)
{
    if (!req->streaming || req->ended) abort();
    if (req->aborted) return DTR_OK;
    req->out = realloc(req->out, req->out_len + len + 1);
    memcpy(req->out + req->out_len, data, len);
    req->out_len += len;
    req->out[req->out_len] = '\0';
    return fake.stream_room ? DTR_OK : DTR_RETRY;
}

static void fake_stream_end(dtr_request *req)
{
    if (!req->streaming || req->ended) abort();
    req->ended = true;
}

static void fake_on_abort(dtr_request *req, dtr_abort_fn fn, void *udata)
{
    req->on_abort = fn;
    req->abort_udata = udata;
}

static void fake_on_drain(dtr_request *req, dtr_drain_fn fn, void *udata)
{
    req->on_drain = fn;
    req->drain_udata = udata;
}

void fake_fill_request_api(dtr_host_api *api)
{
    api->req_method = fake_req_method;
    api->req_path = fake_req_path;
    api->req_param = fake_req_param;
    api->req_query = fake_req_query;
    api->req_header = fake_req_header;
    api->req_body = fake_req_body;
    api->req_id = fake_req_id;
    api->resp_header = fake_resp_header_set;
    api->respond = fake_respond;
    api->respond_problem = fake_respond_problem;
    api->respond_json = fake_respond_json;
    api->respond_owned = fake_respond_owned;
    api->stream_begin = fake_stream_begin;
    api->stream_write = fake_stream_write;
    api->stream_end = fake_stream_end;
    api->req_on_abort = fake_on_abort;
    api->req_on_drain = fake_on_drain;
}

/* ---- requests ------------------------------------------------------------------------------- */

fake_req *fake_req_new(const char *method, const char *target, const char *body,
                       const char *const *headers)
{
    fake_req *req = calloc(1, sizeof *req);
    snprintf(req->method, sizeof req->method, "%s", method);
    const char *q = strchr(target, '?');
    req->path = q ? strndup(target, (size_t)(q - target)) : strdup(target);
    req->query = q ? strdup(q + 1) : NULL;
    req->params = json_object();
    req->headers = json_object();
    req->resp_headers = json_object();
    if (body) {
        req->body_len = strlen(body);
        req->body = (unsigned char *)strdup(body);
    }
    for (size_t i = 0; headers && headers[i]; i++) {
        const char *colon = strchr(headers[i], ':');
        char name[128];
        size_t n = (size_t)(colon - headers[i]);
        for (size_t k = 0; k < n && k + 1 < sizeof name; k++)
            name[k] = (char)tolower((unsigned char)headers[i][k]);
        name[n < sizeof name ? n : sizeof name - 1] = '\0';
        const char *v = colon + 1;
        while (*v == ' ')
            v++;
        json_object_set_new(req->headers, name, json_string(v));
    }
    return req;
}

dtr_status fake_dispatch(fake_req *req)
{
    const char *method = strcmp(req->method, "HEAD") == 0 ? "GET" : req->method;
    const fake_route_ref *route = fake_route_lookup(method, req->path, req->params);
    if (!route) {
        fake_respond(req, 404, "text/plain", "no route", 8);
        return DTR_OK;
    }
    return route->fn(req, route->udata);
}

fake_req *fake_call(const char *method, const char *target, const char *body,
                    const char *const *headers)
{
    fake_req *req = fake_req_new(method, target, body, headers);
    fake_dispatch(req);
    return req;
}

void fake_req_free(fake_req *req)
{
    if (!req) return;
    free(req->path);
    free(req->query);
    json_decref(req->params);
    json_decref(req->headers);
    json_decref(req->resp_headers);
    free(req->body);
    free(req->content_type);
    free(req->out);
    free(req);
}

const char *fake_resp_header(const fake_req *req, const char *name)
{
    char lower[128];
    size_t i = 0;
    for (; name[i] && i + 1 < sizeof lower; i++)
        lower[i] = (char)tolower((unsigned char)name[i]);
    lower[i] = '\0';
    return json_string_value(json_object_get(req->resp_headers, lower));
}

json_t *fake_resp_json(const fake_req *req)
{
    if (!req->out) return NULL;
    return json_loadb(req->out, req->out_len, JSON_DECODE_ANY, NULL);
}

const char *fake_problem_code(const fake_req *req)
{
    static char code[64];
    code[0] = '\0';
    json_t *doc = fake_resp_json(req);
    const char *k =
        json_string_value(json_object_get(json_array_get(json_object_get(doc, "fejl"), 0), "kode"));
    snprintf(code, sizeof code, "%s", k ? k : "");
    json_decref(doc);
    return code;
}

void fake_abort(fake_req *req)
{
    req->aborted = true;
    if (req->on_abort) req->on_abort(req, req->abort_udata);
}

void fake_drain(fake_req *req)
{
    if (req->on_drain) req->on_drain(req, req->drain_udata);
}
