/*
 * respond.c -- answering requests: the status line and headers, whole and
 * streamed bodies, problem+json, the order of answers on a connection, and
 * what becomes of a request when its connection goes away.
 *
 * Order: only the pipeline's head writes to the connection's output queue;
 * a later request that answers first keeps its bytes in its own "held"
 * queue. When the head is answered it leaves the pipeline (retire) and the
 * next request's held bytes move to the connection's queue (no copy: chunks
 * are spliced).
 *
 * Re-entrancy: a plugin calling respond may cause work that would call
 * another plugin callback (an abort, a drain, the next pipelined request's
 * handler). The server's api_depth is raised during every such call, and that
 * work is deferred to the loop's idle phase (see net_conn_defer).
 * Loop thread only.
 */
#include "net/net_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- small writers ------------------------------------------------------------ */

static const char *net_reason(int status)
{
    switch (status) {
    case 100:
        return "Continue";
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 202:
        return "Accepted";
    case 204:
        return "No Content";
    case 206:
        return "Partial Content";
    case 301:
        return "Moved Permanently";
    case 302:
        return "Found";
    case 303:
        return "See Other";
    case 304:
        return "Not Modified";
    case 307:
        return "Temporary Redirect";
    case 308:
        return "Permanent Redirect";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 406:
        return "Not Acceptable";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 410:
        return "Gone";
    case 411:
        return "Length Required";
    case 412:
        return "Precondition Failed";
    case 413:
        return "Content Too Large";
    case 415:
        return "Unsupported Media Type";
    case 417:
        return "Expectation Failed";
    case 422:
        return "Unprocessable Content";
    case 428:
        return "Precondition Required";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 499:
        return "Client Closed Request";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    default:
        return status < 300   ? "OK"
               : status < 400 ? "Redirect"
               : status < 500 ? "Client Error"
                              : "Server Error";
    }
}

static net_outq *net_req_queue(dtr_request *req)
{
    return req == req->conn->head ? &req->conn->outq : &req->held;
}

/* Writes the status line and headers. length: the Content-Length, -1 for
 * chunked, -2 for none (no body, or a body delimited by closing). */
static void net_write_head(dtr_request *req, int status, const char *ctype, int64_t length,
                           const char *extra)
{
    net_conn *c = req->conn;
    net_server *s = c->server;
    size_t date_len;
    const char *date = net_server_date(s, &date_len);
    const char *reason = net_reason(status);
    size_t ctlen = ctype ? strlen(ctype) : 0;
    size_t idlen = strlen(req->id);
    size_t extralen = extra ? strlen(extra) : 0;
    size_t need =
        16 + strlen(reason) + date_len + 18 + ctlen + 48 + 18 + idlen + 26 + extralen + 18 + 2;
    for (const net_resp_hdr *h = req->resp_hdrs; h; h = h->next)
        need += h->len;
    net_outq *q = net_req_queue(req);
    char *start = net_outq_reserve(s, q, need), *p = start;
    p = NET_PUT_LIT(p, "HTTP/1.1 ");
    p = net_put_uint(p, (uint64_t)status);
    *p++ = ' ';
    p = net_put(p, reason, strlen(reason));
    p = NET_PUT_LIT(p, "\r\n");
    p = net_put(p, date, date_len);
    if (ctype) {
        p = NET_PUT_LIT(p, "Content-Type: ");
        p = net_put(p, ctype, ctlen);
        p = NET_PUT_LIT(p, "\r\n");
    }
    if (length >= 0) {
        p = NET_PUT_LIT(p, "Content-Length: ");
        p = net_put_uint(p, (uint64_t)length);
        p = NET_PUT_LIT(p, "\r\n");
    } else if (length == -1) {
        p = NET_PUT_LIT(p, "Transfer-Encoding: chunked\r\n");
    }
    p = NET_PUT_LIT(p, "X-Request-Id: ");
    p = net_put(p, req->id, idlen);
    p = NET_PUT_LIT(p, "\r\n");
    if (req->last)
        p = NET_PUT_LIT(p, "Connection: close\r\n");
    else if (req->http_major == 1 && req->http_minor == 0)
        p = NET_PUT_LIT(p, "Connection: keep-alive\r\n");
    if (extralen) p = net_put(p, extra, extralen);
    bool retry_after = extra && strncasecmp(extra, "Retry-After:", 12) == 0;
    for (const net_resp_hdr *h = req->resp_hdrs; h; h = h->next) {
        p = net_put(p, h->line, h->len);
        retry_after = retry_after || strncasecmp(h->line, "Retry-After:", 12) == 0;
    }
    /* every 429 and 503 says when to come back */
    if ((status == 429 || status == 503) && !retry_after) p = NET_PUT_LIT(p, "Retry-After: 1\r\n");
    p = NET_PUT_LIT(p, "\r\n");
    net_outq_commit(q, (size_t)(p - start));
}

/* ---- ending a request ------------------------------------------------------------ */

static void net_req_uncount(dtr_request *req)
{
    if (!req->counted) return;
    req->counted = false;
    net_inflight_fn inflight = net_router_inflight(req->router);
    if (inflight) inflight(req->owner, -1);
}

void net_req_release(dtr_request *req)
{
    net_server *s = req->conn ? req->conn->server : NULL;
    net_req_uncount(req);
    if (req->rbuf) net_rbuf_unref(s, req->rbuf);
    if (req->router) net_router_unref(req->router);
    net_req_put(s, req);
}

/* The answer is complete and queued. */
static void net_req_finish(dtr_request *req, int status)
{
    req->status = status;
    req->state = NET_REQ_DONE;
    if (!req->stream_refused) net_handle_revoke(req); /* the plugin's handle is spent */
    net_access_record(req->conn->server, req);
    net_req_uncount(req);
}

void net_conn_retire(net_conn *c)
{
    while (c->head && c->head->state == NET_REQ_DONE) {
        dtr_request *r = c->head;
        c->head = r->next;
        if (!c->head) c->tail = NULL;
        c->npipe--;
        r->next = NULL;
        r->popped = true;
        bool last = r->last;
        if (r->pin == 0) net_req_release(r);
        if (last) {
            net_conn_end(c);
            return;
        }
        if (c->head) net_outq_splice(&c->outq, &c->head->held);
    }
    if (!c->head) c->idle_since_ms = uv_now(c->server->loop);
    if (c->rbuf && c->parsed < c->rlen) net_conn_resume(c);
}

/* A plugin answered a request whose connection is gone. An orphan (no abort
 * callback was set) is released now; one of a connection being closed is
 * released by the close. */
static void net_req_answer_dead(dtr_request *req)
{
    if (req->conn)
        req->answered_dead = true;
    else
        net_req_release(req);
}

void net_req_abandon(dtr_request *req)
{
    if (req->state != NET_REQ_DEAD) {
        net_req_release(req);
        return;
    }
    if (!req->answered_dead && req->on_abort) {
        req->pin++;
        req->on_abort(net_handle_of(req), req->abort_udata);
        req->pin--;
        req->answered_dead = true;
        net_handle_revoke(req);
    }
    if (req->answered_dead) {
        net_req_release(req);
        return;
    }
    /* no abort callback: the plugin will answer some day; until then the
     * request owns itself (its buffer and arena stay valid) */
    req->conn = NULL;
}

/* ---- answering ---------------------------------------------------------------- */

static void net_misuse(dtr_request *req, const char *what)
{
    net_server *s = req->conn ? req->conn->server : NULL;
    if (s && s->log)
        ops_log_write(s->log, OPS_LOG_ERROR, "net", "%s on request %s that %s", what, req->id,
                      req->state == NET_REQ_STREAMING ? "is streaming" : "was already answered");
}

/* Queues a whole answer. owned, when not NULL, is body itself, malloc'd
 * and handed over: it is queued without a copy (or freed when not sent). */
static void net_respond_body(dtr_request *req, int status, const char *ctype, const void *body,
                             size_t len, char *owned, const char *extra)
{
    net_conn *c = req->conn;
    if (status < 200 || status > 599) status = 500;
    bool bodyless = status == 204 || status == 304;
    net_write_head(req, status, bodyless ? NULL : ctype, bodyless ? -2 : (int64_t)len, extra);
    if (!req->is_head && !bodyless && len) {
        if (owned)
            net_outq_append_owned(c->server, net_req_queue(req), owned, len);
        else
            net_outq_append(c->server, net_req_queue(req), body, len);
    } else {
        free(owned);
    }
    req->body_bytes_out = req->is_head || bodyless ? 0 : len;
    net_req_finish(req, status);
    net_conn_retire(c);
    if (!c->in_process) net_conn_flush(c);
}

static void net_respond(dtr_request *req, int status, const char *ctype, const void *body,
                        size_t len, const char *extra)
{
    net_respond_body(req, status, ctype, body, len, NULL, extra);
}

/* A growable string for problem bodies. */
typedef struct net_sb {
    char *p;
    size_t len, cap;
    char local[512];
} net_sb;

static void net_sb_add(net_sb *b, const char *s, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = (b->len + n) * 2;
        char *grown = b->p == b->local ? malloc(cap) : realloc(b->p, cap);
        if (!grown) abort();
        if (b->p == b->local) memcpy(grown, b->local, b->len);
        b->p = grown;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

static void net_sb_lit(net_sb *b, const char *s)
{
    net_sb_add(b, s, strlen(s));
}

static void net_sb_json_string(net_sb *b, const char *s)
{
    if (!s) {
        net_sb_lit(b, "null");
        return;
    }
    net_sb_lit(b, "\"");
    for (const unsigned char *u = (const unsigned char *)s; *u; u++) {
        char esc[8];
        if (*u == '"' || *u == '\\') {
            esc[0] = '\\';
            esc[1] = (char)*u;
            net_sb_add(b, esc, 2);
        } else if (*u < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", *u);
            net_sb_add(b, esc, 6);
        } else {
            net_sb_add(b, (const char *)u, 1);
        }
    }
    net_sb_lit(b, "\"");
}

static void net_problem_body(net_sb *b, int status, const char *kode, const char *felt,
                             const char *tekst)
{
    char num[16];
    b->p = b->local;
    b->len = 0;
    b->cap = sizeof b->local;
    net_sb_lit(b, "{\"type\":\"about:blank\",\"title\":");
    net_sb_json_string(b, net_reason(status));
    snprintf(num, sizeof num, "%d", status);
    net_sb_lit(b, ",\"status\":");
    net_sb_lit(b, num);
    net_sb_lit(b, ",\"detail\":");
    net_sb_json_string(b, tekst ? tekst : "");
    net_sb_lit(b, ",\"fejl\":[{\"kode\":");
    net_sb_json_string(b, kode ? kode : "FEJL");
    net_sb_lit(b, ",\"felt\":");
    net_sb_json_string(b, felt);
    net_sb_lit(b, ",\"tekst\":");
    net_sb_json_string(b, tekst ? tekst : "");
    net_sb_lit(b, "}]}");
}

void net_respond_problem(dtr_request *req, int status, const char *kode, const char *tekst,
                         const char *extra_headers)
{
    net_sb b;
    net_problem_body(&b, status, kode, NULL, tekst);
    net_respond(req, status, "application/problem+json", b.p, b.len, extra_headers);
    if (b.p != b.local) free(b.p);
}

/* ---- the request API: answering ----------------------------------------------------- */

/* Entry checks of the answering functions. Returns the server (whose
 * api_depth the caller raises) or NULL when the call must do nothing. */
static net_server *net_api_enter(dtr_request *req, net_req_state want, const char *what)
{
    if (!req) return NULL;
    if (req->state == NET_REQ_DEAD) return NULL;
    if (req->state != want) {
        net_misuse(req, what);
        return NULL;
    }
    net_server *s = req->conn->server;
    s->api_depth++;
    return s;
}

static void net_api_respond(dtr_request *req, int status, const char *content_type,
                            const void *body, size_t len)
{
    req = net_handle_resolve(req, "respond");
    if (req && req->state == NET_REQ_DEAD) {
        net_req_answer_dead(req);
        return;
    }
    net_server *s = net_api_enter(req, NET_REQ_HANDLING, "respond");
    if (!s) return;
    net_respond(req, status, content_type, body, len, NULL);
    s->api_depth--;
}

static void net_api_respond_problem(dtr_request *req, int status, const char *kode,
                                    const char *felt, const char *tekst)
{
    req = net_handle_resolve(req, "respond_problem");
    if (req && req->state == NET_REQ_DEAD) {
        net_req_answer_dead(req);
        return;
    }
    net_server *s = net_api_enter(req, NET_REQ_HANDLING, "respond_problem");
    if (!s) return;
    net_sb b;
    net_problem_body(&b, status, kode, felt, tekst);
    net_respond(req, status, "application/problem+json", b.p, b.len, NULL);
    if (b.p != b.local) free(b.p);
    s->api_depth--;
}

/* respond_owned: as respond, but body is the caller's malloc'd buffer, which
 * the host takes (frees it in every case) and queues without copying it. */
static void net_api_respond_owned(dtr_request *req, int status, const char *content_type,
                                  char *body, size_t len)
{
    req = net_handle_resolve(req, "respond_owned");
    if (req && req->state == NET_REQ_DEAD) {
        free(body);
        net_req_answer_dead(req);
        return;
    }
    net_server *s = net_api_enter(req, NET_REQ_HANDLING, "respond_owned");
    if (!s) {
        free(body);
        return;
    }
    net_respond_body(req, status, content_type, body, body ? len : 0, body, NULL);
    s->api_depth--;
}

static void net_api_respond_json(dtr_request *req, int status, const char *content_type,
                                 json_t *json)
{
    char *text = json ? json_dumps(json, DTR_JSON_WIRE) : NULL;
    json_decref(json);
    if (!text) {
        net_api_respond_problem(req, 500, "INTERN_FEJL", NULL, "the answer could not be written");
        return;
    }
    const char *ctype = content_type ? content_type : "application/json";
    json_malloc_t jm;
    json_free_t jf;
    json_get_alloc_funcs(&jm, &jf);
    if (jf == free) { /* the text is the C library's: hand it over */
        net_api_respond_owned(req, status, ctype, text, strlen(text));
        return;
    }
    net_api_respond(req, status, ctype, text, strlen(text));
    jf(text);
}

/* Streams open now from the address of c (their requests are streaming). */
static uint32_t net_streams_of_addr(net_server *s, const net_conn *c)
{
    uint32_t n = 0;
    for (const net_conn *o = s->conns; o; o = o->next) {
        if (o->mode == NET_CONN_CLOSED || memcmp(o->addr, c->addr, sizeof c->addr) != 0) continue;
        for (const dtr_request *r = o->head; r; r = r->next)
            if (r->state == NET_REQ_STREAMING) n++;
    }
    return n;
}

static void net_streams_gauge(net_server *s)
{
    if (s->metrics)
        ops_metrics_set(s->metrics, "dtr_streams_open", "gauge",
                        "Streamed answers in progress (udtræk, exports).", (double)s->nstreams);
}

void net_stream_uncount(net_server *s, dtr_request *req)
{
    if (!req->stream_counted) return;
    req->stream_counted = false;
    s->nstreams--;
    net_streams_gauge(s);
}

/* stream_begin past a bound: the request is answered at once with the
 * problem (and Retry-After), and the plugin learns through its abort
 * callback, in the idle phase, that nobody reads its stream (it then stops,
 * releasing its snapshot). Until then the request stays valid for it:
 * stream_write takes nothing (returns 0), stream_end is allowed. */
static void net_refuse_stream(net_server *s, dtr_request *req, int status, const char *kode,
                              const char *tekst)
{
    req->stream_refused = true;
    req->pin++; /* kept for the plugin until its abort ran */
    net_respond_problem(req, status, kode, tekst, "");
    req->conn = NULL; /* answered and retired: the connection may go */
    net_server_defer_refused(s, req);
}

void net_streams_abort_refused(net_server *s)
{
    while (s->refused) {
        dtr_request *req = s->refused;
        s->refused = req->refused_next;
        req->refused_next = NULL;
        if (!req->refused_ended && req->on_abort)
            req->on_abort(net_handle_of(req), req->abort_udata);
        net_handle_revoke(req); /* kept valid for the plugin until now */
        req->on_abort = NULL;
        req->on_drain = NULL;
        if (--req->pin == 0 && req->popped) net_req_release(req);
    }
}

static void net_api_stream_begin(dtr_request *req, int status, const char *content_type)
{
    req = net_handle_resolve(req, "stream_begin");
    net_server *s = net_api_enter(req, NET_REQ_HANDLING, "stream_begin");
    if (!s) return;
    const net_limits *l = &s->limits;
    if (!req->is_head && status >= 200 && status < 300) {
        if (l->max_streams && s->nstreams >= l->max_streams) {
            net_refuse_stream(s, req, 503, "IKKE_KLAR",
                              "the server streams as many answers as it takes; try again later");
            s->api_depth--;
            return;
        }
        if (l->max_streams_per_client &&
            net_streams_of_addr(s, req->conn) >= l->max_streams_per_client) {
            net_refuse_stream(s, req, 429, "FOR_MANGE",
                              "this client receives as many streamed answers as it may at once");
            s->api_depth--;
            return;
        }
        req->stream_counted = true;
        s->nstreams++;
        net_streams_gauge(s);
    }
    if (status < 200 || status > 599) status = 500;
    bool bodyless = status == 204 || status == 304;
    bool http10 = req->http_major == 1 && req->http_minor == 0;
    if (http10 && !bodyless && !req->is_head) req->last = true; /* ends by closing */
    req->chunked_out = !http10 && !bodyless && !req->is_head;
    req->status = status;
    net_write_head(req, status, bodyless ? NULL : content_type, bodyless || http10 ? -2 : -1, NULL);
    req->state = NET_REQ_STREAMING;
    if (!req->conn->in_process) net_conn_flush(req->conn);
    s->api_depth--;
}

static dtr_status net_api_stream_write(dtr_request *req, const void *data, size_t len)
{
    req = net_handle_resolve(req, "stream_write");
    if (!req) return DTR_ERROR;
    if (req->stream_refused) return DTR_RETRY;     /* nobody reads it: its abort is coming */
    if (req->state == NET_REQ_DEAD) return DTR_OK; /* dropped: let the plugin reach its end */
    net_server *s = net_api_enter(req, NET_REQ_STREAMING, "stream_write");
    if (!s) return DTR_ERROR;
    net_conn *c = req->conn;
    bool bodyless = req->status == 204 || req->status == 304;
    if (len && !req->is_head && !bodyless) {
        net_outq *q = net_req_queue(req);
        if (req->chunked_out) {
            char line[24];
            int n = snprintf(line, sizeof line, "%zx\r\n", len);
            net_outq_append(s, q, line, (size_t)n);
            net_outq_append(s, q, data, len);
            net_outq_append(s, q, "\r\n", 2);
        } else {
            net_outq_append(s, q, data, len);
        }
        req->body_bytes_out += len;
        if (req == c->head && !c->in_process) net_conn_flush(c);
    }
    size_t pending = req == c->head ? c->outq.bytes : req->held.bytes;
    bool ok = pending < NET_HIGH_WATER;
    if (!ok) req->want_drain = true;
    s->api_depth--;
    return ok ? DTR_OK : DTR_RETRY;
}

static void net_api_stream_end(dtr_request *req)
{
    req = net_handle_resolve(req, "stream_end");
    if (req && req->stream_refused) {
        req->refused_ended = true; /* the plugin is done with it: no abort */
        return;
    }
    if (req && req->state == NET_REQ_DEAD) {
        net_req_answer_dead(req);
        return;
    }
    net_server *s = net_api_enter(req, NET_REQ_STREAMING, "stream_end");
    if (!s) return;
    net_conn *c = req->conn;
    if (req->chunked_out) net_outq_append(s, net_req_queue(req), "0\r\n\r\n", 5);
    net_stream_uncount(s, req);
    net_req_finish(req, req->status);
    net_conn_retire(c);
    if (!c->in_process) net_conn_flush(c);
    s->api_depth--;
}

void net_conn_drained(net_conn *c)
{
    if (c->server->api_depth) {
        net_conn_defer(c, NET_WORK_DRAIN);
        return;
    }
    dtr_request *h = c->head;
    if (!h || h->state != NET_REQ_STREAMING || !h->want_drain) return;
    if (c->outq.bytes >= NET_LOW_WATER) return;
    h->want_drain = false;
    if (!h->on_drain) return;
    h->pin++;
    h->on_drain(net_handle_of(h), h->drain_udata);
    h->pin--;
    if (h->popped && h->pin == 0) net_req_release(h);
}

static void net_api_on_abort(dtr_request *req, dtr_abort_fn fn, void *udata)
{
    req = net_handle_resolve(req, "on_abort");
    if (!req || req->state == NET_REQ_DEAD) return;
    req->on_abort = fn;
    req->abort_udata = udata;
}

static void net_api_on_drain(dtr_request *req, dtr_drain_fn fn, void *udata)
{
    req = net_handle_resolve(req, "on_drain");
    if (!req || req->state == NET_REQ_DEAD) return;
    req->on_drain = fn;
    req->drain_udata = udata;
}

void net_fill_request_api_answers(dtr_host_api *api)
{
    api->respond = net_api_respond;
    api->respond_problem = net_api_respond_problem;
    api->respond_json = net_api_respond_json;
    api->stream_begin = net_api_stream_begin;
    api->stream_write = net_api_stream_write;
    api->stream_end = net_api_stream_end;
    api->req_on_abort = net_api_on_abort;
    api->req_on_drain = net_api_on_drain;
    api->respond_owned = net_api_respond_owned;
}
