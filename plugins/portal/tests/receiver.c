/*
 * receiver.c -- the unit tests' webhook receiver (see receiver.h). It
 * parses just enough HTTP/1.1 for the plugin's POSTs: a request line,
 * headers, a Content-Length body; keep-alive.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "receiver.h"

typedef struct recv_conn {
    uv_tcp_t tcp;
    receiver *r;
    char *buf;
    size_t len, cap;
    int closing;
    struct recv_conn *prev, *next;
} recv_conn;

struct receiver {
    uv_tcp_t server;
    int port;
    char url[64];
    recv_policy policy;
    void *udata;
    recv_hit *hits;
    size_t n_hits, cap_hits;
    recv_conn *conns;
};

static void free_conn(uv_handle_t *h)
{
    recv_conn *c = h->data;
    free(c->buf);
    free(c);
}

static void conn_close(recv_conn *c)
{
    if (c->closing) return;
    c->closing = 1;
    if (c->prev)
        c->prev->next = c->next;
    else
        c->r->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    uv_close((uv_handle_t *)&c->tcp, free_conn);
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    recv_conn *c = h->data;
    if (c->cap - c->len < suggested) {
        c->cap = c->len + suggested;
        c->buf = realloc(c->buf, c->cap + 1);
    }
    buf->base = c->buf + c->len;
    buf->len = c->cap - c->len;
}

typedef struct recv_write {
    uv_write_t req;
    char data[128];
} recv_write;

static void write_done(uv_write_t *req, int status)
{
    (void)status;
    free(req->data);
}

static void answer(recv_conn *c, int status)
{
    recv_write *w = calloc(1, sizeof *w);
    w->req.data = w;
    int n = snprintf(w->data, sizeof w->data,
                     "HTTP/1.1 %d X\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok",
                     status);
    uv_buf_t b = uv_buf_init(w->data, (unsigned)n);
    if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, write_done) != 0) free(w);
}

/* Copies the value of header name from the header block into out. */
static void header_value(const char *head, const char *name, char *out, size_t outlen)
{
    out[0] = '\0';
    size_t nlen = strlen(name);
    for (const char *line = strstr(head, "\r\n"); line && line[2];
         line = strstr(line + 2, "\r\n")) {
        const char *l = line + 2;
        if (strncasecmp(l, name, nlen) == 0 && l[nlen] == ':') {
            const char *v = l + nlen + 1;
            while (*v == ' ')
                v++;
            const char *end = strstr(v, "\r\n");
            size_t vlen = end ? (size_t)(end - v) : strlen(v);
            if (vlen >= outlen) vlen = outlen - 1;
            memcpy(out, v, vlen);
            out[vlen] = '\0';
            return;
        }
    }
}

/* Handles every complete request in the buffer. */
static void parse(recv_conn *c)
{
    receiver *r = c->r;
    for (;;) {
        c->buf[c->len] = '\0';
        char *end = strstr(c->buf, "\r\n\r\n");
        if (!end) return;
        size_t head_len = (size_t)(end - c->buf) + 4;
        char *head = strndup(c->buf, head_len);
        char cl[32];
        header_value(head, "Content-Length", cl, sizeof cl);
        size_t body_len = (size_t)strtoul(cl, NULL, 10);
        if (c->len < head_len + body_len) {
            free(head);
            return;
        }
        if (r->n_hits == r->cap_hits) {
            r->cap_hits = r->cap_hits ? r->cap_hits * 2 : 16;
            r->hits = realloc(r->hits, r->cap_hits * sizeof *r->hits);
        }
        recv_hit *hit = &r->hits[r->n_hits];
        memset(hit, 0, sizeof *hit);
        header_value(head, "webhook-id", hit->id, sizeof hit->id);
        header_value(head, "webhook-timestamp", hit->timestamp, sizeof hit->timestamp);
        header_value(head, "webhook-signature", hit->signature, sizeof hit->signature);
        header_value(head, "Content-Type", hit->content_type, sizeof hit->content_type);
        hit->body = strndup(c->buf + head_len, body_len);
        free(head);
        size_t n = r->n_hits++;
        int status = r->policy(r, hit, n, r->udata);
        r->hits[n].answered = status;
        memmove(c->buf, c->buf + head_len + body_len, c->len - head_len - body_len);
        c->len -= head_len + body_len;
        if (status == RECV_CLOSE) {
            conn_close(c);
            return;
        }
        if (status != RECV_HANG) answer(c, status);
    }
}

static void read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    (void)buf;
    recv_conn *c = s->data;
    if (nread < 0) {
        conn_close(c);
        return;
    }
    c->len += (size_t)nread;
    parse(c);
}

static void on_connection(uv_stream_t *server, int status)
{
    receiver *r = server->data;
    if (status < 0) return;
    recv_conn *c = calloc(1, sizeof *c);
    c->r = r;
    uv_tcp_init(server->loop, &c->tcp);
    c->tcp.data = c;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
        uv_close((uv_handle_t *)&c->tcp, free_conn);
        return;
    }
    c->next = r->conns;
    if (r->conns) r->conns->prev = c;
    r->conns = c;
    uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb);
}

receiver *receiver_new(uv_loop_t *loop, recv_policy policy, void *udata)
{
    receiver *r = calloc(1, sizeof *r);
    r->policy = policy;
    r->udata = udata;
    uv_tcp_init(loop, &r->server);
    r->server.data = r;
    struct sockaddr_in addr;
    uv_ip4_addr("127.0.0.1", 0, &addr);
    if (uv_tcp_bind(&r->server, (const struct sockaddr *)&addr, 0) != 0 ||
        uv_listen((uv_stream_t *)&r->server, 64, on_connection) != 0)
        abort();
    struct sockaddr_storage name;
    int len = sizeof name;
    uv_tcp_getsockname(&r->server, (struct sockaddr *)&name, &len);
    r->port = ntohs(((struct sockaddr_in *)&name)->sin_port);
    snprintf(r->url, sizeof r->url, "http://127.0.0.1:%d/hook", r->port);
    return r;
}

static void free_receiver(uv_handle_t *h)
{
    receiver *r = h->data;
    for (size_t i = 0; i < r->n_hits; i++)
        free(r->hits[i].body);
    free(r->hits);
    free(r);
}

void receiver_close(receiver *r)
{
    while (r->conns)
        conn_close(r->conns);
    uv_close((uv_handle_t *)&r->server, free_receiver);
}

int receiver_port(const receiver *r)
{
    return r->port;
}
size_t receiver_count(const receiver *r)
{
    return r->n_hits;
}
const recv_hit *receiver_hit(const receiver *r, size_t i)
{
    return i < r->n_hits ? &r->hits[i] : NULL;
}
const char *receiver_url(const receiver *r)
{
    return r->url;
}

int recv_always_ok(receiver *r, const recv_hit *hit, size_t n, void *udata)
{
    (void)r;
    (void)hit;
    (void)n;
    (void)udata;
    return 200;
}

int recv_script(receiver *r, const recv_hit *hit, size_t n, void *udata)
{
    (void)r;
    (void)hit;
    const int *script = udata;
    return n < (size_t)script[0] ? script[1 + n] : 200;
}
