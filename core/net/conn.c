/*
 * conn.c -- one client connection: accepting it, reading into its buffer,
 * writing its output queue, its timer (header, body, send, idle and linger
 * deadlines on one uv_timer), and closing it.
 *
 * A connection is one allocation (handles, parser and state together). It
 * holds no read buffer while idle (the buffer goes back to the server's pool
 * as soon as every byte read was parsed and no request points into it) and no
 * output chunk once everything was written.
 *
 * Ending a connection, from gentle to abrupt:
 *   net_conn_end    no more requests; when the output is written, shut the
 *                   write side and linger: read and discard what the client
 *                   still sends (up to NET_LINGER_BYTES or NET_LINGER_MS) so
 *                   that a client still sending a refused body reads our
 *                   answer instead of a reset; then close.
 *   net_conn_close  close now; requests in flight are aborted.
 * Loop thread only.
 */
#include "net/net_int.h"

#include <stdlib.h>
#include <string.h>

static void net_conn_timer_cb(uv_timer_t *t);
static void net_conn_read_cb(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf);
static void net_conn_alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
static void net_conn_reject(net_conn *c, bool head);
static void net_peek_alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
static void net_peek_read_cb(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf);

/* ---- freeing and deferred work ---------------------------------------------- */

static void net_conn_maybe_free(net_conn *c)
{
    if (c->handles || c->queued) return;
    net_server_conn_closed(c->server, c);
    free(c);
}

static void net_conn_handle_closed(uv_handle_t *h)
{
    net_conn *c = h->data;
    c->handles--;
    net_conn_maybe_free(c);
}

static void net_conn_idle_cb(uv_idle_t *idle)
{
    net_conn_run_deferred(idle->data);
}

void net_conn_defer(net_conn *c, unsigned work)
{
    if (c->mode == NET_CONN_CLOSED) return;
    net_server *s = c->server;
    c->work |= (uint8_t)work;
    if (c->queued) return;
    c->queued = true;
    c->deferred = s->deferred;
    s->deferred = c;
    uv_idle_start(&s->idle, net_conn_idle_cb);
}

/* Runs the work connections deferred. Work deferred while this runs waits
 * for the next idle phase, so a stream whose writes always complete at once
 * cannot hold the loop. A connection closed meanwhile is freed here (its
 * close callback left it to us while it was queued). */
void net_server_defer_refused(net_server *s, dtr_request *req)
{
    req->refused_next = s->refused;
    s->refused = req;
    uv_idle_start(&s->idle, net_conn_idle_cb);
}

void net_conn_run_deferred(net_server *s)
{
    net_streams_abort_refused(s);
    net_conn *list = s->deferred;
    s->deferred = NULL;
    uv_idle_stop(&s->idle);
    while (list) {
        net_conn *c = list;
        list = c->deferred;
        c->deferred = NULL;
        c->queued = false;
        unsigned work = c->work;
        c->work = 0;
        if (c->mode == NET_CONN_CLOSED) {
            net_conn_maybe_free(c);
            continue;
        }
        if (work & NET_WORK_CLOSE) {
            net_conn_close(c);
            continue;
        }
        if (work & NET_WORK_DRAIN) net_conn_drained(c);
        if ((work & NET_WORK_RESUME) && c->mode != NET_CONN_CLOSED) net_conn_resume(c);
    }
}

/* ---- accepting ---------------------------------------------------------------- */

static void net_conn_peer(net_conn *c)
{
    struct sockaddr_storage ss;
    int len = sizeof ss;
    memset(c->addr, 0, sizeof c->addr);
    c->ip[0] = '\0';
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) != 0) return;
    if (ss.ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)&ss;
        c->addr[10] = c->addr[11] = 0xff;
        memcpy(c->addr + 12, &in->sin_addr, 4);
        uv_ip4_name(in, c->ip, sizeof c->ip);
    } else if (ss.ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&ss;
        memcpy(c->addr, &in6->sin6_addr, 16);
        uv_ip6_name(in6, c->ip, sizeof c->ip);
    }
}

/* Answers a connection over max_connections: 503 with Retry-After (no body
 * to a HEAD), then the connection ends. */
static void net_conn_reject(net_conn *c, bool head)
{
    net_server *s = c->server;
    c->peeking = false;
    dtr_request *req = net_req_get(s);
    req->conn = c;
    req->start_ns = uv_hrtime();
    req->last = true;
    req->is_head = head;
    req->http_major = req->http_minor = 1;
    c->head = c->tail = req;
    c->npipe = 1;
    c->stop_parsing = true;
    net_req_set_id(req, NULL, 0);
    net_respond_problem(req, 503, "IKKE_KLAR",
                        "the server has as many connections as it takes; try again later",
                        "Retry-After: 1\r\n");
    net_conn_update(c);
}

/* A refused connection reads its first bytes into this scratch buffer
 * (only to see the method; they are not kept). */
static char net_peek_buf[16];

static void net_peek_alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)h;
    (void)suggested;
    buf->base = net_peek_buf;
    buf->len = sizeof net_peek_buf;
}

static void net_peek_read_cb(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    net_conn *c = stream->data;
    if (nread == 0 || c->mode == NET_CONN_CLOSED || !c->peeking) return;
    uv_read_stop(stream);
    if (nread < 0) {
        net_conn_close(c);
        return;
    }
    net_conn_reject(c, nread >= 5 && memcmp(buf->base, "HEAD ", 5) == 0);
}

/* Accepts one connection from the listener. Past max_connections the client
 * gets a 503 with Retry-After and the connection ends (it lingers briefly so
 * the answer is read); past NET_REJECTED_MAX such connections at once, new
 * ones are closed without an answer. */
void net_conn_accept(net_server *s)
{
    net_conn *c = calloc(1, sizeof *c);
    if (!c) abort();
    c->server = s;
    uv_tcp_init(s->loop, &c->tcp);
    c->tcp.data = c;
    c->handles = 1;
    c->next = s->conns;
    if (s->conns) s->conns->prev = c;
    s->conns = c;
    uint32_t max = s->limits.max_connections;
    bool over = max && s->nconns >= max;
    c->rejected = over;
    if (over)
        s->nrejected++;
    else
        s->nconns++;
    if (uv_accept((uv_stream_t *)&s->listener, (uv_stream_t *)&c->tcp) != 0 ||
        (over && s->nrejected > net_rejected_max(max))) {
        c->mode = NET_CONN_CLOSED;
        uv_close((uv_handle_t *)&c->tcp, net_conn_handle_closed);
        return;
    }
    uv_timer_init(s->loop, &c->timer);
    c->timer.data = c;
    c->handles = 2;
    uv_tcp_nodelay(&c->tcp, 1);
    net_conn_peer(c);
    c->idle_since_ms = uv_now(s->loop);
    net_parser_init(c);
    if (over) {
        /* the 503 waits for the first bytes, so that a HEAD gets no body */
        c->peeking = true;
        if (uv_read_start((uv_stream_t *)&c->tcp, net_peek_alloc_cb, net_peek_read_cb) != 0) {
            net_conn_reject(c, false);
            return;
        }
    }
    net_conn_update(c);
}

/* ---- reading ------------------------------------------------------------------- */

/* Makes room at the end of the read buffer. What must stay is the part of
 * the request being parsed that requests point into (its request line and
 * headers) and the bytes not yet parsed; everything before belongs to
 * dispatched requests (which hold references) or is spent. The buffer is
 * compacted in place when nobody else uses it, else the kept bytes move to a
 * fresh buffer. Offsets of the request being parsed are relative to its
 * base, so only the base moves. */
static void net_conn_make_room(net_conn *c)
{
    net_server *s = c->server;
    net_rbuf *old = c->rbuf;
    dtr_request *cur = c->cur;
    uint32_t a_off = 0, a_len = 0;
    if (cur && cur->base_set) {
        a_off = cur->base;
        a_len = cur->headers_done ? cur->keep_len : c->parsed - cur->base;
    }
    uint32_t b_off = c->parsed, b_len = c->rlen - c->parsed;
    size_t need = (size_t)a_len + b_len + NET_RBUF_MIN_FREE;
    net_rbuf *dst = old;
    if (old->refs > 1 || need > old->cap) dst = net_rbuf_get(s, need);
    if (a_len) memmove(dst->data, old->data + a_off, a_len);
    if (b_len) memmove(dst->data + a_len, old->data + b_off, b_len);
    if (cur && cur->base_set) {
        net_req_rebase(cur, old->data + a_off, dst->data);
        cur->base = 0;
    }
    if (dst != old) net_rbuf_unref(s, old);
    c->rbuf = dst;
    c->parsed = a_len;
    c->rlen = a_len + b_len;
}

static void net_conn_alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    net_conn *c = h->data;
    if (c->stop_parsing || c->mode != NET_CONN_OPEN) {
        /* read only to be discarded (see net_conn_read_cb): no buffer of
         * its own, so a lingering connection holds no memory */
        static char discard[16 * 1024];
        buf->base = discard;
        buf->len = sizeof discard;
        return;
    }
    if (!c->rbuf) {
        c->rbuf = net_rbuf_get(c->server, 0);
        c->rlen = c->parsed = 0;
    } else if (c->rbuf->cap - c->rlen < NET_RBUF_MIN_FREE) {
        net_conn_make_room(c);
    }
    buf->base = c->rbuf->data + c->rlen;
    buf->len = c->rbuf->cap - c->rlen;
}

/* After parsing: give the buffer back when nothing in it is needed any more
 * (an idle connection holds no buffer). */
static void net_conn_release_rbuf(net_conn *c)
{
    if (!c->rbuf || c->cur || c->parsed != c->rlen) return;
    net_rbuf_unref(c->server, c->rbuf);
    c->rbuf = NULL;
    c->rlen = c->parsed = 0;
}

/* The client shut its side. Requests not yet answered are aborted (a
 * client that went away cannot read them); what is already queued is still
 * sent, then the connection closes. */
static void net_conn_on_eof(net_conn *c)
{
    c->eof = true;
    if (!c->head && !c->outq.bytes) {
        net_conn_close(c);
        return;
    }
    if (c->mode == NET_CONN_LINGER) {
        net_conn_close(c);
        return;
    }
    if (c->head) {
        /* the head is never answered here (answered heads retire at once) */
        net_conn_close(c);
        return;
    }
    c->mode = NET_CONN_ENDING;
    c->stop_parsing = true;
    net_conn_update(c);
    net_conn_flush(c);
}

static void net_conn_read_cb(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    (void)buf;
    net_conn *c = stream->data;
    if (c->mode == NET_CONN_CLOSED) return;
    if (nread > 0) {
        if (c->stop_parsing || c->mode != NET_CONN_OPEN) {
            /* nothing more is parsed: count and forget */
            c->discarded += (size_t)nread;
            if (c->mode == NET_CONN_LINGER && c->discarded >= NET_LINGER_BYTES)
                net_conn_close(c);
            else
                net_conn_update(c);
            return;
        }
        c->rlen += (uint32_t)nread;
        net_conn_process(c);
        if (c->mode == NET_CONN_CLOSED) return;
        net_conn_release_rbuf(c);
        net_conn_update(c);
        return;
    }
    if (nread == 0) return;
    if (nread == UV_EOF)
        net_conn_on_eof(c);
    else
        net_conn_close(c);
}

/* Parses what was read but waited (the pipeline was full, or the output
 * above the high-water mark). */
void net_conn_resume(net_conn *c)
{
    if (c->mode != NET_CONN_OPEN || c->in_process) return; /* a running pass goes on by itself */
    if (c->server->api_depth) {
        net_conn_defer(c, NET_WORK_RESUME);
        return;
    }
    if (c->rbuf && c->parsed < c->rlen && !c->stop_parsing) net_conn_process(c);
    if (c->mode == NET_CONN_CLOSED) return;
    net_conn_release_rbuf(c);
    net_conn_update(c);
}

/* ---- writing ------------------------------------------------------------------- */

static unsigned net_conn_gather(net_conn *c, uv_buf_t *bufs, unsigned max, size_t *total)
{
    unsigned n = 0;
    *total = 0;
    for (net_chunk *ch = c->outq.head; ch && n < max; ch = ch->next) {
        if (ch->len == ch->off) continue;
        bufs[n] = uv_buf_init(NET_CHUNK_BYTES(ch) + ch->off, ch->len - ch->off);
        *total += ch->len - ch->off;
        n++;
    }
    return n;
}

static void net_conn_shut_cb(uv_shutdown_t *req, int status)
{
    net_conn *c = req->handle->data;
    if (status < 0 && c->mode != NET_CONN_CLOSED) net_conn_close(c);
}

/* Everything is written and nothing more will be: shut the write side and
 * linger, or close when the client already shut its side. */
static void net_conn_shut(net_conn *c)
{
    if (c->eof) {
        net_conn_close(c);
        return;
    }
    c->mode = NET_CONN_LINGER;
    c->linger_ms = uv_now(c->server->loop);
    c->discarded = 0;
    if (!c->shut_sent) {
        c->shut_sent = true;
        if (uv_shutdown(&c->sreq, (uv_stream_t *)&c->tcp, net_conn_shut_cb) != 0) {
            net_conn_close(c);
            return;
        }
    }
    net_conn_update(c);
}

static void net_conn_write_cb(uv_write_t *req, int status)
{
    net_conn *c = req->handle->data;
    if (c->mode == NET_CONN_CLOSED) return;
    if (status < 0) {
        net_conn_close(c);
        return;
    }
    net_outq_consume(c->server, &c->outq, c->writing);
    c->writing = 0;
    c->progress_ms = uv_now(c->server->loop);
    net_conn_flush(c);
    if (c->mode == NET_CONN_CLOSED) return;
    if (c->outq.bytes < NET_LOW_WATER) {
        net_conn_drained(c);
        if (c->mode == NET_CONN_CLOSED) return;
        net_conn_resume(c);
        if (c->mode == NET_CONN_CLOSED) return;
    }
    net_conn_update(c);
}

/* Writes the output queue: as much as the socket takes now with one
 * uv_try_write of up to 16 buffers, the rest with one uv_write whose
 * callback continues. A write error closes the connection from the idle
 * phase (this may run below a plugin's call). */
void net_conn_flush(net_conn *c)
{
    if (c->mode == NET_CONN_CLOSED || c->writing || c->write_failed) return;
    uv_buf_t bufs[16];
    size_t total;
    if (c->outq.bytes) c->progress_ms = uv_now(c->server->loop);
    while (c->outq.bytes) {
        unsigned n = net_conn_gather(c, bufs, 16, &total);
        int w = uv_try_write((uv_stream_t *)&c->tcp, bufs, n);
        if (w > 0) {
            net_outq_consume(c->server, &c->outq, (size_t)w);
            if ((size_t)w == total) continue;
        } else if (w != UV_EAGAIN) {
            c->write_failed = true;
            net_conn_defer(c, NET_WORK_CLOSE);
            return;
        }
        n = net_conn_gather(c, bufs, 16, &total);
        if (uv_write(&c->wreq, (uv_stream_t *)&c->tcp, bufs, n, net_conn_write_cb) != 0) {
            c->write_failed = true;
            net_conn_defer(c, NET_WORK_CLOSE);
            return;
        }
        c->writing = total;
        break;
    }
    if (!c->outq.bytes && c->mode == NET_CONN_ENDING) {
        if (c->server->api_depth && c->eof)
            net_conn_defer(c, NET_WORK_CLOSE);
        else
            net_conn_shut(c);
        return;
    }
    if (!c->in_process && c->outq.bytes < NET_LOW_WATER && c->head && c->head->want_drain)
        net_conn_defer(c, NET_WORK_DRAIN);
    net_conn_update(c);
}

void net_conn_end(net_conn *c)
{
    c->stop_parsing = true;
    if (c->mode == NET_CONN_OPEN) c->mode = NET_CONN_ENDING;
}

/* ---- the timer ----------------------------------------------------------------- */

static uint64_t net_min(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

/* The earliest deadline that applies to the connection now. */
static uint64_t net_conn_deadline(const net_conn *c)
{
    const net_limits *l = &c->server->limits;
    uint64_t d = UINT64_MAX;
    if (c->peeking) return c->idle_since_ms + NET_LINGER_MS;
    if (c->mode == NET_CONN_LINGER) d = net_min(d, c->linger_ms + NET_LINGER_MS);
    if (c->outq.bytes && l->send_timeout_ms) d = net_min(d, c->progress_ms + l->send_timeout_ms);
    if (c->mode == NET_CONN_OPEN && c->cur && !c->stop_parsing) {
        if (!c->cur->headers_done && l->header_timeout_ms)
            d = net_min(d, c->cur->begin_ms + l->header_timeout_ms);
        else if (c->cur->headers_done && l->body_timeout_ms)
            d = net_min(d, c->cur->headers_ms + l->body_timeout_ms);
    }
    if (c->mode == NET_CONN_OPEN && !c->head && !c->outq.bytes && l->idle_timeout_ms)
        d = net_min(d, c->idle_since_ms + l->idle_timeout_ms);
    return d;
}

/* Arms the timer for the deadline, lazily: a timer due earlier than the
 * deadline stays (it re-evaluates when it fires), so the common case (the
 * deadline moves later with every request) costs no timer operation. */
static void net_conn_arm(net_conn *c)
{
    uint64_t d = net_conn_deadline(c);
    if (d == UINT64_MAX) return; /* a timer that fires anyway re-evaluates */
    if (c->timer_due && c->timer_due <= d) return;
    uint64_t now = uv_now(c->server->loop);
    uv_timer_start(&c->timer, net_conn_timer_cb, d > now ? d - now : 0, 0);
    c->timer_due = d;
}

static void net_conn_timer_cb(uv_timer_t *t)
{
    net_conn *c = t->data;
    c->timer_due = 0;
    if (c->mode == NET_CONN_CLOSED) return;
    const net_limits *l = &c->server->limits;
    uint64_t now = uv_now(c->server->loop);
    if (c->peeking) {
        if (now < c->idle_since_ms + NET_LINGER_MS) {
            net_conn_arm(c);
            return;
        }
        uv_read_stop((uv_stream_t *)&c->tcp);
        net_conn_reject(c, false); /* nothing came: answered as to a GET */
        return;
    }
    if (c->mode == NET_CONN_LINGER && now >= c->linger_ms + NET_LINGER_MS) {
        net_conn_close(c);
        return;
    }
    if (c->outq.bytes && l->send_timeout_ms && now >= c->progress_ms + l->send_timeout_ms) {
        if (c->server->log)
            ops_log_write(c->server->log, OPS_LOG_INFO, "net",
                          "client %s stopped reading for %llu ms: connection closed", c->ip,
                          (unsigned long long)l->send_timeout_ms);
        net_conn_close(c);
        return;
    }
    if (c->mode == NET_CONN_OPEN && c->cur && !c->stop_parsing) {
        dtr_request *cur = c->cur;
        bool late = cur->headers_done
                        ? l->body_timeout_ms && now >= cur->headers_ms + l->body_timeout_ms
                        : l->header_timeout_ms && now >= cur->begin_ms + l->header_timeout_ms;
        if (late) {
            net_conn_timeout_request(c);
            net_conn_flush(c);
            return;
        }
    }
    if (c->mode == NET_CONN_OPEN && !c->head && !c->outq.bytes && l->idle_timeout_ms &&
        now >= c->idle_since_ms + l->idle_timeout_ms) {
        net_conn_close(c);
        return;
    }
    net_conn_arm(c);
}

/* ---- reading on or off, and the timer ------------------------------------------- */

static bool net_conn_wants_read(const net_conn *c)
{
    if (c->peeking) return false; /* its own read callbacks run */
    switch (c->mode) {
    case NET_CONN_LINGER:
        return true;
    case NET_CONN_ENDING:
        return !c->eof && c->discarded < NET_LINGER_BYTES;
    case NET_CONN_OPEN:
        if (c->eof) return false;
        if (c->stop_parsing) return c->discarded < NET_LINGER_BYTES;
        if (c->outq.bytes >= NET_HIGH_WATER) return false;
        /* past max_pipeline too: a request read then is refused (parse.c) */
        return !c->rbuf || c->parsed == c->rlen;
    default:
        return false;
    }
}

void net_conn_update(net_conn *c)
{
    if (c->mode == NET_CONN_CLOSED) return;
    bool want = net_conn_wants_read(c);
    if (want != c->reading) {
        if (want) {
            if (uv_read_start((uv_stream_t *)&c->tcp, net_conn_alloc_cb, net_conn_read_cb) != 0) {
                net_conn_defer(c, NET_WORK_CLOSE);
                return;
            }
        } else {
            uv_read_stop((uv_stream_t *)&c->tcp);
        }
        c->reading = want;
    }
    net_conn_arm(c);
}

/* ---- closing ------------------------------------------------------------------- */

void net_conn_close(net_conn *c)
{
    if (c->mode == NET_CONN_CLOSED) return;
    if (c->server->api_depth) {
        net_conn_defer(c, NET_WORK_CLOSE);
        return;
    }
    c->mode = NET_CONN_CLOSED;
    if (c->reading || c->peeking) uv_read_stop((uv_stream_t *)&c->tcp);
    c->reading = c->peeking = false;
    dtr_request *list = c->head;
    c->head = c->tail = c->cur = NULL;
    c->npipe = 0;
    /* first mark every unanswered request dead, then tell their plugins: an
     * abort callback may answer another request of this connection */
    for (dtr_request *r = list; r; r = r->next)
        if (r->state == NET_REQ_HANDLING || r->state == NET_REQ_STREAMING) {
            net_stream_uncount(c->server, r);
            r->status = 499;
            net_access_record(c->server, r);
            r->state = NET_REQ_DEAD;
        }
    while (list) {
        dtr_request *next = list->next;
        list->next = NULL;
        list->popped = true;
        net_req_abandon(list);
        list = next;
    }
    net_outq_clear(c->server, &c->outq);
    if (c->rbuf) net_rbuf_unref(c->server, c->rbuf);
    c->rbuf = NULL;
    uv_close((uv_handle_t *)&c->tcp, net_conn_handle_closed);
    uv_close((uv_handle_t *)&c->timer, net_conn_handle_closed);
}

/* SIGTERM: no new requests. An idle connection closes at once; a busy one
 * closes after the answer of its last request in flight (the request being
 * received, not yet complete, is dropped). */
void net_conn_begin_shutdown(net_conn *c)
{
    if (c->mode != NET_CONN_OPEN) return;
    c->stop_parsing = true;
    if (c->cur) {
        dtr_request *cur = c->cur;
        c->cur = NULL;
        if (c->head == cur) {
            c->head = c->tail = NULL;
        } else {
            dtr_request *prev = c->head;
            while (prev->next != cur)
                prev = prev->next;
            prev->next = NULL;
            c->tail = prev;
        }
        c->npipe--;
        cur->popped = true;
        net_req_release(cur);
    }
    if (!c->head) {
        if (!c->outq.bytes)
            net_conn_close(c);
        else
            net_conn_end(c);
        return;
    }
    c->tail->last = true;
    net_conn_update(c);
}
