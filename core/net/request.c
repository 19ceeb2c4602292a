/*
 * request.c -- the reading half of the request API handed to plugins
 * (req_method ... req_set_client, resp_header) and net_fill_request_api.
 *
 * Strings come from the read buffer (NUL-terminated in place when the
 * headers completed) or from the request's arena; either way they live as
 * long as the request. Loop thread only.
 */
#include "net/net_int.h"

#include <string.h>
#include <strings.h>

/* Where the request's bytes are: its own reference once dispatched, the
 * connection's buffer while it is still being parsed (the early check). */
static char *net_req_base(const dtr_request *req)
{
    const net_rbuf *rb = req->rbuf ? req->rbuf : req->conn->rbuf;
    return (char *)rb->data + req->base;
}

static const char *net_api_method(dtr_request *req)
{
    req = net_handle_resolve(req, "method");
    if (!req || !req->headers_done) return "-";
    return llhttp_method_name((llhttp_method_t)req->method);
}

static const char *net_api_path(dtr_request *req)
{
    req = net_handle_resolve(req, "path");
    return req && req->path ? req->path : "";
}

static const char *net_api_param(dtr_request *req, const char *name)
{
    req = net_handle_resolve(req, "param");
    if (!req || !name || !req->route) return NULL;
    int i = net_route_param_index(req->route, name);
    if (i < 0) return NULL;
    if (req->path_decoded) return req->seg[i].p; /* decoded copies end in NUL */
    return net_req_strndup(req, req->seg[i].p, req->seg[i].n);
}

static const char *net_api_query(dtr_request *req, const char *name)
{
    req = net_handle_resolve(req, "query");
    if (!req || !name || !req->query_len) return NULL;
    size_t vlen;
    const char *v = net_query_find(net_req_base(req) + req->query_off, req->query_len, name, &vlen);
    if (!v) return NULL;
    char *out = net_req_alloc(req, vlen + 1);
    long n = net_url_decode(out, v, vlen, NET_DECODE_PLUS);
    out[n] = '\0';
    return out;
}

/* The name of the index-th parameter of the query string, decoded into the
 * request's arena. */
static const char *net_api_query_name(dtr_request *req, size_t index)
{
    req = net_handle_resolve(req, "query_name");
    if (!req || !req->query_len) return NULL;
    const char *q = net_req_base(req) + req->query_off;
    size_t qlen = req->query_len, i = 0, seen = 0;
    while (i < qlen) {
        size_t end = i;
        while (end < qlen && q[end] != '&')
            end++;
        if (end > i) {
            if (seen == index) {
                const char *eq = memchr(q + i, '=', end - i);
                size_t namelen = eq ? (size_t)(eq - (q + i)) : end - i;
                char *out = net_req_alloc(req, namelen + 1);
                long n = net_url_decode(out, q + i, namelen, NET_DECODE_PLUS);
                out[n < 0 ? 0 : n] = '\0';
                return out;
            }
            seen++;
        }
        i = end + 1;
    }
    return NULL;
}

/* A header sent several times comes back joined with ", " (in the arena). */
static const char *net_api_header(dtr_request *req, const char *name)
{
    req = net_handle_resolve(req, "header");
    if (!req || !name || !req->headers_done) return NULL;
    const char *base = net_req_base(req);
    size_t namelen = strlen(name);
    const net_hdr *first = NULL;
    size_t count = 0, total = 0;
    for (uint16_t i = 0; i < req->nhdr; i++) {
        const net_hdr *h = &req->hdrs[i];
        if (h->name_len != namelen || strcasecmp(base + h->name_off, name) != 0) continue;
        if (!first) first = h;
        count++;
        total += h->value_len;
    }
    if (count <= 1) return first ? base + first->value_off : NULL;
    char *joined = net_req_alloc(req, total + 2 * (count - 1) + 1), *p = joined;
    for (uint16_t i = 0; i < req->nhdr; i++) {
        const net_hdr *h = &req->hdrs[i];
        if (h->name_len != namelen || strcasecmp(base + h->name_off, name) != 0) continue;
        if (p != joined) {
            memcpy(p, ", ", 2);
            p += 2;
        }
        memcpy(p, base + h->value_off, h->value_len);
        p += h->value_len;
    }
    *p = '\0';
    return joined;
}

static const unsigned char *net_api_body(dtr_request *req, size_t *len)
{
    req = net_handle_resolve(req, "body");
    size_t ignored;
    if (!len) len = &ignored;
    if (!req || !req->body_len) {
        *len = 0;
        return NULL;
    }
    *len = req->body_len;
    if (req->body_owned) return req->body;
    return (const unsigned char *)net_req_base(req) + req->body_off;
}

static const char *net_api_id(dtr_request *req)
{
    req = net_handle_resolve(req, "id");
    return req ? req->id : "";
}

void net_request_set_client(dtr_request *req, const char *id)
{
    req = net_handle_resolve(req, "set_client");
    if (!req || !id) return;
    size_t n = strlen(id);
    req->client = net_req_strndup(req, id, n > 128 ? 128 : n);
}

const char *net_request_peer(dtr_request *req)
{
    req = net_handle_resolve(req, "peer");
    return req && req->conn ? req->conn->ip : "";
}

static bool net_header_name_ok(const char *name)
{
    if (!*name) return false;
    for (const char *p = name; *p; p++) {
        char ch = *p;
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || (ch && strchr("!#$%&'*+-.^_`|~", ch));
        if (!ok) return false;
    }
    return true;
}

/* Adds an answer header; refuses names that are not tokens, values with
 * line breaks (header injection) and the headers the server writes itself. */
static void net_api_resp_header(dtr_request *req, const char *name, const char *value)
{
    req = net_handle_resolve(req, "resp_header");
    if (!req || !name || !value || req->state != NET_REQ_HANDLING) return;
    static const char *const own[] = {"content-length", "transfer-encoding", "date", "connection",
                                      "x-request-id"};
    bool bad = !net_header_name_ok(name) || strpbrk(value, "\r\n");
    for (size_t i = 0; !bad && i < sizeof own / sizeof own[0]; i++)
        bad = strcasecmp(name, own[i]) == 0;
    if (bad) {
        net_server *s = req->conn ? req->conn->server : NULL;
        if (s && s->log)
            ops_log_write(s->log, OPS_LOG_WARN, "net", "answer header '%s' refused (request %s)",
                          name, req->id);
        return;
    }
    size_t nlen = strlen(name), vlen = strlen(value);
    net_resp_hdr *h = (net_resp_hdr *)net_req_alloc(req, sizeof *h + nlen + vlen + 4);
    h->next = NULL;
    h->len = nlen + vlen + 4;
    memcpy(h->line, name, nlen);
    memcpy(h->line + nlen, ": ", 2);
    memcpy(h->line + nlen + 2, value, vlen);
    memcpy(h->line + nlen + 2 + vlen, "\r\n", 2);
    if (req->resp_hdrs_tail)
        req->resp_hdrs_tail->next = h;
    else
        req->resp_hdrs = h;
    req->resp_hdrs_tail = h;
}

static bool net_id_char_ok(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           (ch && strchr("-_.:/+=@", ch));
}

void net_req_set_id(dtr_request *req, const char *given, size_t len)
{
    bool ok = given && len > 0 && len <= NET_ID_MAX;
    for (size_t i = 0; ok && i < len; i++)
        ok = net_id_char_ok(given[i]);
    if (ok) {
        memcpy(req->id, given, len);
        req->id[len] = '\0';
        return;
    }
    net_server_new_id(req->conn->server, req->id);
    req->id[16] = '\0';
}

void net_fill_request_api(dtr_host_api *api)
{
    api->req_method = net_api_method;
    api->req_path = net_api_path;
    api->req_param = net_api_param;
    api->req_query = net_api_query;
    api->req_query_name = net_api_query_name;
    api->req_header = net_api_header;
    api->req_body = net_api_body;
    api->req_id = net_api_id;
    api->resp_header = net_api_resp_header;
    net_fill_request_api_answers(api);
}
