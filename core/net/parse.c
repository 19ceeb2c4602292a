/*
 * parse.c -- llhttp wired to a connection: requests are cut out of the read
 * buffer without copying, checked against the limits, routed, and handed to
 * their handlers.
 *
 * Spans (URL, header names and values) are kept as offsets from the start of
 * the request in the read buffer. llhttp reports a span that crosses two
 * reads in two pieces; the connection always appends the next read right
 * after the previous bytes (moving the whole request when it needs room), so
 * the pieces are adjacent and a span only grows. When the headers are
 * complete, their bytes are final: each string is NUL-terminated in place
 * (the byte after a value is its CR, after a name its ':', after the URL a
 * space), so the request API hands out pointers into the buffer.
 *
 * llhttp is paused at the end of every message; the request is dispatched
 * after llhttp_execute returned, so handlers never run inside the parser.
 * Loop thread only.
 */
#include "net/net_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static llhttp_settings_t net_settings;
static bool net_settings_ready;

/* Sets a refusal on the request; the caller then stops the parser
 * (HPE_USER) for the early ones. */
static void net_refuse(dtr_request *req, int status, const char *kode, const char *text)
{
    if (req->refuse_status) return;
    req->refuse_status = status;
    req->refuse_kode = kode;
    req->refuse_text = text;
}

static int net_fail(llhttp_t *p, dtr_request *req, int status, const char *kode, const char *text)
{
    net_refuse(req, status, kode, text);
    llhttp_set_error_reason(p, text);
    return HPE_USER;
}

static int net_on_message_begin(llhttp_t *p)
{
    net_conn *c = p->data;
    net_server *s = c->server;
    dtr_request *req = net_req_get(s);
    req->conn = c;
    req->begin_ms = uv_now(s->loop);
    req->start_ns = uv_hrtime();
    if (c->tail)
        c->tail->next = req;
    else
        c->head = req;
    c->tail = req;
    c->npipe++;
    c->cur = req;
    return 0;
}

/* The offset of a span in the request; checks the header limit. */
static int net_span(llhttp_t *p, const char *at, size_t len, uint32_t *off)
{
    net_conn *c = p->data;
    dtr_request *req = c->cur;
    uint32_t abs = (uint32_t)(at - c->rbuf->data);
    if (!req->base_set) {
        req->base = abs;
        req->base_set = true;
    }
    *off = abs - req->base;
    if ((size_t)*off + len > c->server->limits.max_header_bytes)
        return net_fail(p, req, 431, "FOR_STORE_HOVEDER", "the request's headers are too large");
    return 0;
}

static int net_on_method(llhttp_t *p, const char *at, size_t len)
{
    uint32_t off;
    return net_span(p, at, len, &off);
}

/* The method is known: a refusal made from now on (431 while the headers
 * still arrive, 400 for bad syntax) knows whether it answers a HEAD. */
static int net_on_method_complete(llhttp_t *p)
{
    dtr_request *req = ((net_conn *)p->data)->cur;
    if (req) req->is_head = p->method == HTTP_HEAD;
    return 0;
}

static int net_on_url(llhttp_t *p, const char *at, size_t len)
{
    uint32_t off;
    int rc = net_span(p, at, len, &off);
    if (rc) return rc;
    dtr_request *req = ((net_conn *)p->data)->cur;
    if (req->url_len == 0) req->url_off = off;
    req->url_len = off + (uint32_t)len - req->url_off;
    return 0;
}

static int net_on_header_field(llhttp_t *p, const char *at, size_t len)
{
    if (((net_conn *)p->data)->cur->headers_done) return 0; /* a trailer: ignored */
    uint32_t off;
    int rc = net_span(p, at, len, &off);
    if (rc) return rc;
    dtr_request *req = ((net_conn *)p->data)->cur;
    if (req->field_open) {
        req->hdrs[req->nhdr - 1].name_len = off + (uint32_t)len - req->hdrs[req->nhdr - 1].name_off;
        return 0;
    }
    if (req->nhdr == NET_MAX_HEADERS)
        return net_fail(p, req, 431, "FOR_STORE_HOVEDER", "the request has too many headers");
    if (req->nhdr == req->hdr_cap) {
        net_hdr *more = malloc(NET_MAX_HEADERS * sizeof *more);
        if (!more) abort();
        memcpy(more, req->hdrs, req->nhdr * sizeof *more);
        req->hdrs = more;
        req->hdr_cap = NET_MAX_HEADERS;
    }
    net_hdr *h = &req->hdrs[req->nhdr++];
    h->name_off = off;
    h->name_len = (uint32_t)len;
    h->value_off = 0;
    h->value_len = 0;
    req->field_open = true;
    return 0;
}

static int net_on_header_field_complete(llhttp_t *p)
{
    ((net_conn *)p->data)->cur->field_open = false;
    return 0;
}

static int net_on_header_value(llhttp_t *p, const char *at, size_t len)
{
    if (((net_conn *)p->data)->cur->headers_done) return 0;
    uint32_t off;
    int rc = net_span(p, at, len, &off);
    if (rc) return rc;
    dtr_request *req = ((net_conn *)p->data)->cur;
    net_hdr *h = &req->hdrs[req->nhdr - 1];
    if (h->value_len == 0) h->value_off = off;
    h->value_len = off + (uint32_t)len - h->value_off;
    return 0;
}

static const net_hdr *net_find_header(const dtr_request *req, const char *base, const char *name,
                                      size_t namelen)
{
    for (uint16_t i = 0; i < req->nhdr; i++) {
        const net_hdr *h = &req->hdrs[i];
        if (h->name_len == namelen && strncasecmp(base + h->name_off, name, namelen) == 0) return h;
    }
    return NULL;
}

static const char *net_header_value(const dtr_request *req, const char *base, const char *name,
                                    size_t namelen)
{
    const net_hdr *h = net_find_header(req, base, name, namelen);
    return h ? base + h->value_off : NULL;
}

/* RFC 9112, 3.2: an HTTP/1.1 request without Host, and any request with
 * more than one, is answered 400. Returns why, or NULL when Host is fine. */
static const char *net_check_host(const dtr_request *req, const char *base)
{
    unsigned n = 0;
    for (uint16_t i = 0; i < req->nhdr; i++) {
        const net_hdr *h = &req->hdrs[i];
        if (h->name_len == 4 && strncasecmp(base + h->name_off, "host", 4) == 0) n++;
    }
    if (n > 1) return "the request has more than one Host header";
    if (n == 0 && req->http_major == 1 && req->http_minor >= 1)
        return "an HTTP/1.1 request must have a Host header";
    return NULL;
}

/* NUL-terminates the URL and every header name and value in place (their
 * bytes are parsed and final now), trimming trailing blanks off values. */
static void net_terminate_strings(dtr_request *req, char *base)
{
    uint32_t keep = req->url_off + req->url_len + 1;
    base[req->url_off + req->url_len] = '\0';
    for (uint16_t i = 0; i < req->nhdr; i++) {
        net_hdr *h = &req->hdrs[i];
        base[h->name_off + h->name_len] = '\0';
        if (h->value_len == 0) {
            h->value_off = h->name_off + h->name_len; /* the NUL just written: "" */
        } else {
            while (h->value_len && (base[h->value_off + h->value_len - 1] == ' ' ||
                                    base[h->value_off + h->value_len - 1] == '\t'))
                h->value_len--;
            base[h->value_off + h->value_len] = '\0';
        }
        uint32_t end = (h->value_len ? h->value_off + h->value_len : h->name_off + h->name_len) + 1;
        if (end > keep) keep = end;
    }
    req->keep_len = keep;
}

/* Splits the request target into path and query and decodes the path and
 * its segments. Returns false for a target that is not a path (400). */
static bool net_parse_target(dtr_request *req, char *base)
{
    char *url = base + req->url_off;
    size_t len = req->url_len;
    size_t start = 0;
    if (len && url[0] != '/') {
        /* absolute form: http://host/path */
        size_t skip = strncasecmp(url, "http://", 7) == 0    ? 7
                      : strncasecmp(url, "https://", 8) == 0 ? 8
                                                             : 0;
        const char *slash = skip ? strchr(url + skip, '/') : NULL;
        if (!slash) return false;
        start = (size_t)(slash - url);
    }
    if (start >= len) return false;
    char *path = url + start;
    size_t plen = len - start;
    size_t cut = strcspn(path, "?#");
    if (cut < plen && path[cut] == '?') {
        size_t qend = cut + 1 + strcspn(path + cut + 1, "#");
        req->query_off = (uint32_t)(path + cut + 1 - base);
        req->query_len = (uint32_t)(qend - cut - 1);
        base[req->query_off + req->query_len] = '\0';
    }
    path[cut] = '\0';
    req->path_len = (uint32_t)cut;
    net_strv raw[NET_MAX_SEGMENTS];
    int n = net_path_split(path, cut, raw, NET_MAX_SEGMENTS);
    if (n < 0) {
        req->nseg = UINT16_MAX; /* deeper than any route */
        n = 0;
    } else {
        req->nseg = (uint16_t)n;
    }
    if (!memchr(path, '%', cut)) {
        req->path = path;
        memcpy(req->seg, raw, (size_t)n * sizeof raw[0]);
        return true;
    }
    char *decoded = net_req_alloc(req, cut + 1);
    long dlen = net_url_decode(decoded, path, cut, NET_DECODE_STRICT);
    if (dlen < 0) return false;
    decoded[dlen] = '\0';
    req->path = decoded;
    req->path_decoded = true;
    for (int i = 0; i < n; i++) {
        char *seg = net_req_alloc(req, raw[i].n + 1);
        long slen = net_url_decode(seg, raw[i].p, raw[i].n, NET_DECODE_STRICT);
        if (slen < 0) return false;
        seg[slen] = '\0';
        req->seg[i].p = seg;
        req->seg[i].n = (size_t)slen;
    }
    return true;
}

/* Routes the request; a miss sets the 404 or 405 refusal. */
static void net_route_request(net_server *s, dtr_request *req)
{
    if (!s->router) {
        net_refuse(req, 503, "IKKE_KLAR", "the server is starting");
        snprintf(req->refuse_hdr, sizeof req->refuse_hdr, "Retry-After: 1\r\n");
        return;
    }
    if (req->nseg == UINT16_MAX) {
        net_refuse(req, 404, "FINDES_IKKE", "no such resource");
        return;
    }
    const net_route *route = net_router_match(s->router, req->method, req->seg, req->nseg);
    if (route) {
        req->router = s->router;
        net_router_ref(req->router);
        req->route = route;
        return;
    }
    char allow[64];
    if (net_router_allow(s->router, req->seg, req->nseg, allow, sizeof allow)) {
        net_refuse(req, 405, "FINDES_IKKE", "the resource does not take this method");
        snprintf(req->refuse_hdr, sizeof req->refuse_hdr, "Allow: %s\r\n", allow);
    } else {
        net_refuse(req, 404, "FINDES_IKKE", "no such resource");
    }
}

/* Runs the server's early check; true when it refused the request. */
static bool net_early_check(net_server *s, llhttp_t *p, dtr_request *req)
{
    const char *kode = NULL, *tekst = NULL;
    char extra[sizeof req->refuse_hdr] = "";
    req->state = NET_REQ_DONE; /* not answerable from the check */
    int status =
        s->early_check(s->early_udata, net_handle_of(req), &kode, &tekst, extra, sizeof extra);
    net_handle_revoke(req);
    req->state = NET_REQ_PARSING;
    if (status < 400 || status > 599) return false;
    kode = net_req_strndup(req, kode ? kode : "IKKE_TILLADT", strlen(kode ? kode : "IKKE_TILLADT"));
    tekst = tekst ? net_req_strndup(req, tekst, strlen(tekst)) : "refused";
    net_fail(p, req, status, kode, tekst);
    size_t n = strnlen(extra, sizeof extra - 1);
    if (n >= 2 && extra[n - 2] == '\r' && extra[n - 1] == '\n') { /* whole lines only */
        memcpy(req->refuse_hdr, extra, n);
        req->refuse_hdr[n] = '\0';
    }
    return true;
}

/* The headers are in: the checks that can be made before the body arrives,
 * in order (target, id, rate, route, size, Expect). Early refusals stop the
 * parser; the others wait for the body (which is discarded) so that the
 * connection stays usable. */
static int net_on_headers_complete(llhttp_t *p)
{
    net_conn *c = p->data;
    net_server *s = c->server;
    dtr_request *req = c->cur;
    char *base = c->rbuf->data + req->base;
    req->headers_done = true;
    req->headers_ms = uv_now(s->loop);
    req->method = p->method;
    req->http_major = p->http_major;
    req->http_minor = p->http_minor;
    req->is_head = p->method == HTTP_HEAD;
    req->keep_alive = llhttp_should_keep_alive(p) && !p->upgrade && !s->shutting_down;
    net_terminate_strings(req, base);

    const net_hdr *h = net_find_header(req, base, "x-request-id", 12);
    net_req_set_id(req, h ? base + h->value_off : NULL, h ? h->value_len : 0);
    if (req->url_len == 0 || !net_parse_target(req, base))
        return net_fail(p, req, 400, "UGYLDIG_FORESPOERGSEL",
                        "the request target is not a valid path");

    unsigned retry = 0;
    const char *bad_host = net_check_host(req, base);
    if (bad_host) {
        net_refuse(req, 400, "UGYLDIG_FORESPOERGSEL", bad_host);
    } else if (s->limits.requests_per_second_per_client &&
               !net_server_rate_ok(s, c, net_header_value(req, base, "authorization", 13),
                                   &retry)) {
        net_refuse(req, 429, "FOR_MANGE", "too many requests from this client; slow down");
        snprintf(req->refuse_hdr, sizeof req->refuse_hdr, "Retry-After: %u\r\n", retry);
    } else {
        net_route_request(s, req);
    }
    req->body_limit = req->route && req->route->max_body_bytes ? req->route->max_body_bytes
                                                               : s->limits.max_body_bytes;
    if ((p->flags & F_CONTENT_LENGTH) && p->content_length > req->body_limit) {
        req->refuse_status = 0;
        req->refuse_hdr[0] = '\0';
        return net_fail(p, req, 413, "FOR_STOR",
                        "the request body is larger than this resource takes");
    }
    bool has_body = (p->flags & F_CHUNKED) || p->content_length > 0;
    if (has_body && req->route && !req->refuse_status && s->early_check &&
        net_early_check(s, p, req))
        return HPE_USER;
    h = net_find_header(req, base, "expect", 6);
    if (h && req->http_minor >= 1) {
        if (strcasecmp(base + h->value_off, "100-continue") != 0) {
            req->refuse_status = 0;
            req->refuse_hdr[0] = '\0';
            return net_fail(p, req, 417, "UGYLDIG_FORESPOERGSEL",
                            "only Expect: 100-continue is supported");
        }
        /* a refusal decided now is sent now: the client waits for it
         * instead of sending the body */
        if (req->refuse_status) return HPE_USER;
        if (has_body) {
            static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
            net_outq *q = req == c->head ? &c->outq : &req->held;
            net_outq_append(s, q, cont, sizeof cont - 1);
        }
    }
    return 0;
}

static int net_on_body(llhttp_t *p, const char *at, size_t len)
{
    net_conn *c = p->data;
    dtr_request *req = c->cur;
    if (req->body_len + len > req->body_limit) {
        req->refuse_status = 0;
        req->refuse_hdr[0] = '\0';
        return net_fail(p, req, 413, "FOR_STOR",
                        "the request body is larger than this resource takes");
    }
    if (req->refuse_status) {
        req->body_len += len; /* refused: the body is counted and dropped */
        return 0;
    }
    if (!req->body_owned && req->body_len == 0) {
        /* the first piece stays in the read buffer */
        req->body_off = (uint32_t)(at - (c->rbuf->data + req->base));
        req->body_len = len;
        return 0;
    }
    if (!req->body_owned) {
        size_t cap = (p->flags & F_CONTENT_LENGTH) ? req->body_len + len + p->content_length
                                                   : 2 * (req->body_len + len);
        if (cap > req->body_limit) cap = req->body_limit;
        unsigned char *body = malloc(cap ? cap : 1);
        if (!body) abort();
        memcpy(body, c->rbuf->data + req->base + req->body_off, req->body_len);
        req->body = body;
        req->body_cap = cap;
        req->body_owned = true;
    }
    if (req->body_len + len > req->body_cap) {
        size_t cap =
            req->body_cap * 2 > req->body_len + len ? req->body_cap * 2 : req->body_len + len;
        if (cap > req->body_limit) cap = req->body_limit;
        unsigned char *grown = realloc(req->body, cap);
        if (!grown) abort();
        req->body = grown;
        req->body_cap = cap;
    }
    memcpy(req->body + req->body_len, at, len);
    req->body_len += len;
    return 0;
}

static int net_on_message_complete(llhttp_t *p)
{
    ((net_conn *)p->data)->completed = true;
    return HPE_PAUSED;
}

void net_parser_init(net_conn *c)
{
    if (!net_settings_ready) {
        llhttp_settings_init(&net_settings);
        net_settings.on_message_begin = net_on_message_begin;
        net_settings.on_method = net_on_method;
        net_settings.on_method_complete = net_on_method_complete;
        net_settings.on_url = net_on_url;
        net_settings.on_header_field = net_on_header_field;
        net_settings.on_header_field_complete = net_on_header_field_complete;
        net_settings.on_header_value = net_on_header_value;
        net_settings.on_headers_complete = net_on_headers_complete;
        net_settings.on_body = net_on_body;
        net_settings.on_message_complete = net_on_message_complete;
        net_settings_ready = true;
    }
    llhttp_init(&c->parser, HTTP_REQUEST, &net_settings);
    c->parser.data = c;
}

/* Takes the request being parsed off the parser (it no longer moves with
 * the read buffer) and gives it a reference to the buffer. */
static dtr_request *net_detach_cur(net_conn *c)
{
    dtr_request *req = c->cur;
    c->cur = NULL;
    if (req && req->base_set && !req->rbuf) {
        req->rbuf = c->rbuf;
        req->rbuf->refs++;
    }
    return req;
}

/* A request fully arrived: answer its refusal, or call its handler. */
static void net_dispatch(net_conn *c)
{
    dtr_request *req = net_detach_cur(c);
    if (!req->keep_alive) {
        req->last = true;
        c->stop_parsing = true;
    }
    if (req->refuse_status) {
        net_respond_problem(req, req->refuse_status, req->refuse_kode, req->refuse_text,
                            req->refuse_hdr);
        return;
    }
    const net_route *route = req->route;
    req->state = NET_REQ_HANDLING;
    req->owner = route->owner;
    net_inflight_fn inflight = net_router_inflight(req->router);
    if (inflight) inflight(req->owner, 1);
    req->counted = true;
    req->pin++;
    dtr_status st = route->fn(net_handle_of(req), route->udata);
    req->pin--;
    if (req->state == NET_REQ_HANDLING && st != DTR_OK) {
        if (c->server->log)
            ops_log_write(c->server->log, OPS_LOG_ERROR, "net",
                          "handler of %s %s failed without answering (request %s)",
                          llhttp_method_name(req->method), route->pattern, req->id);
        net_respond_problem(req, 500, "INTERN_FEJL", "the server failed to answer", "");
        return; /* answered unpinned: released as it left the pipeline */
    }
    /* answered inside the handler: it left the pipeline pinned */
    if (req->popped && req->pin == 0) net_req_release(req);
}

/* Ends parsing with a refusal: the request being parsed (or a new one when
 * the bytes did not even start a request) is answered at once, in its turn,
 * and the connection ends after it. status 0 keeps the refusal a callback
 * already set; another status replaces any refusal set before. */
static void net_refuse_now(net_conn *c, int status, const char *kode, const char *text)
{
    dtr_request *req = net_detach_cur(c);
    if (!req) {
        net_on_message_begin(&c->parser);
        req = net_detach_cur(c);
    }
    if (status) {
        req->refuse_status = 0;
        req->refuse_hdr[0] = '\0';
        net_refuse(req, status, kode, text);
    }
    if (!req->id[0]) net_req_set_id(req, NULL, 0);
    req->last = true;
    c->stop_parsing = true;
    net_respond_problem(req, req->refuse_status, req->refuse_kode, req->refuse_text,
                        req->refuse_hdr);
}

void net_req_rebase(dtr_request *req, const char *old_base, const char *new_base)
{
    if (!req->headers_done || req->path_decoded || req->nseg == UINT16_MAX) return;
    if (req->path) req->path = new_base + (req->path - old_base);
    for (uint16_t i = 0; i < req->nseg; i++)
        req->seg[i].p = new_base + (req->seg[i].p - old_base);
}

void net_conn_timeout_request(net_conn *c)
{
    net_refuse_now(c, 408, "TIMEOUT", "the request did not arrive in time");
}

/* After a parse pass: a request whose body is partly in the read buffer
 * gets its own copy, so that the buffer can be compacted under it. */
static void net_own_partial_body(net_conn *c)
{
    dtr_request *req = c->cur;
    if (!req || !req->headers_done || req->body_owned || req->body_len == 0) return;
    unsigned char *body = malloc(req->body_len);
    if (!body) abort();
    memcpy(body, c->rbuf->data + req->base + req->body_off, req->body_len);
    req->body = body;
    req->body_cap = req->body_len;
    req->body_owned = true;
}

/* A request arrived while max_pipeline requests of the connection are in
 * flight: it is answered 503 (Retry-After) in its turn, without running,
 * and the connection ends after it (Connection: close), so a client that
 * pipelines without bound holds no more than the bound and one refusal.
 * Line breaks between requests (which RFC 9112 lets a server ignore) are not
 * a request: they wait. */
static void net_refuse_past_pipeline(net_conn *c)
{
    const char *p = c->rbuf->data + c->parsed, *end = c->rbuf->data + c->rlen;
    while (p < end && (*p == '\r' || *p == '\n'))
        p++;
    if (p == end) return;
    net_refuse_now(c, 503, "IKKE_KLAR",
                   "the connection has as many requests in flight as it may "
                   "(limits.max_pipeline); send the rest again on a new connection");
}

void net_conn_process(net_conn *c)
{
    net_server *s = c->server;
    c->in_process = true;
    while (c->mode == NET_CONN_OPEN && !c->stop_parsing && c->parsed < c->rlen) {
        if (!c->cur && c->npipe >= c->server->limits.max_pipeline) {
            net_refuse_past_pipeline(c);
            break;
        }
        if (c->outq.bytes >= NET_HIGH_WATER) break;
        const char *data = c->rbuf->data + c->parsed;
        size_t n = c->rlen - c->parsed;
        c->completed = false;
        llhttp_errno_t e = llhttp_execute(&c->parser, data, n);
        if (e == HPE_OK) {
            c->parsed = c->rlen;
            dtr_request *cur = c->cur;
            if (cur && !cur->headers_done && cur->base_set &&
                c->rlen - cur->base > s->limits.max_header_bytes)
                net_refuse_now(c, 431, "FOR_STORE_HOVEDER", "the request's headers are too large");
            break;
        }
        if (e == HPE_PAUSED || e == HPE_PAUSED_UPGRADE) {
            c->parsed += (uint32_t)(llhttp_get_error_pos(&c->parser) - data);
            if (e == HPE_PAUSED)
                llhttp_resume(&c->parser);
            else
                c->stop_parsing = true; /* no protocol switch: the answer ends it */
            if (c->completed) net_dispatch(c);
            continue;
        }
        if ((e == HPE_USER || e == HPE_CB_HEADERS_COMPLETE) && c->cur && c->cur->refuse_status)
            net_refuse_now(c, 0, NULL, NULL);
        else
            net_refuse_now(c, 400, "UGYLDIG_FORESPOERGSEL", "the request is not valid HTTP/1.1");
        break;
    }
    c->in_process = false;
    if (c->mode == NET_CONN_CLOSED) return;
    net_own_partial_body(c);
    net_conn_flush(c);
}
