/*
 * buf.c -- the memory of the server: read buffers, output chunks, request
 * objects (each with a small arena), and the per-server pools that recycle
 * them so that a request in the steady state allocates nothing.
 *
 * Pools are plain free lists owned by the server; an object released without
 * a server (an orphaned request finishing after its connection is gone) is
 * freed instead. Loop thread only.
 */
#include "net/net_int.h"

#include <stdlib.h>
#include <string.h>

static void *net_xmalloc(size_t n)
{
    void *p = malloc(n);
    if (!p) abort();
    return p;
}

net_rbuf *net_rbuf_get(net_server *s, size_t min_cap)
{
    net_rbuf *rb;
    if (min_cap <= NET_RBUF_SIZE && s && s->n_rbuf_pool) {
        rb = s->rbuf_pool[--s->n_rbuf_pool];
    } else {
        size_t cap = min_cap > NET_RBUF_SIZE ? min_cap : NET_RBUF_SIZE;
        rb = net_xmalloc(sizeof *rb + cap);
        rb->cap = (uint32_t)cap;
    }
    rb->refs = 1;
    return rb;
}

void net_rbuf_unref(net_server *s, net_rbuf *rb)
{
    if (!rb || --rb->refs) return;
    if (s && rb->cap == NET_RBUF_SIZE && s->n_rbuf_pool < NET_RBUF_POOL_MAX)
        s->rbuf_pool[s->n_rbuf_pool++] = rb;
    else
        free(rb);
}

static net_chunk *net_chunk_get(net_server *s, size_t need)
{
    net_chunk *ch;
    if (need <= NET_CHUNK_SIZE && s && s->chunk_pool) {
        ch = s->chunk_pool;
        s->chunk_pool = ch->next;
        s->n_chunk_pool--;
    } else {
        size_t cap = need > NET_CHUNK_SIZE ? need : NET_CHUNK_SIZE;
        ch = net_xmalloc(sizeof *ch + cap);
        ch->cap = (uint32_t)cap;
    }
    ch->next = NULL;
    ch->ext = NULL;
    ch->len = ch->off = 0;
    return ch;
}

static void net_chunk_put(net_server *s, net_chunk *ch)
{
    if (ch->ext) {
        free(ch->ext);
        free(ch);
        return;
    }
    if (s && ch->cap == NET_CHUNK_SIZE && s->n_chunk_pool < NET_POOL_MAX) {
        ch->next = s->chunk_pool;
        s->chunk_pool = ch;
        s->n_chunk_pool++;
    } else {
        free(ch);
    }
}

char *net_outq_reserve(net_server *s, net_outq *q, size_t need)
{
    net_chunk *t = q->tail;
    if (t && t->cap - t->len >= need) return t->data + t->len;
    net_chunk *ch = net_chunk_get(s, need);
    if (t)
        t->next = ch;
    else
        q->head = ch;
    q->tail = ch;
    return ch->data;
}

void net_outq_commit(net_outq *q, size_t n)
{
    q->tail->len += (uint32_t)n;
    q->bytes += n;
}

void net_outq_append(net_server *s, net_outq *q, const void *data, size_t len)
{
    if (len == 0) return;
    net_chunk *t = q->tail;
    if (t && t->cap > t->len) {
        size_t room = t->cap - t->len;
        size_t n = len < room ? len : room;
        memcpy(t->data + t->len, data, n);
        net_outq_commit(q, n);
        data = (const char *)data + n;
        len -= n;
        if (len == 0) return;
    }
    char *dst = net_outq_reserve(s, q, len);
    memcpy(dst, data, len);
    net_outq_commit(q, len);
}

/* A body handed over whole is linked into the queue as a chunk of its own,
 * so the loop never copies it: a page of 10,000 hændelser is megabytes. A
 * small one is copied into the tail chunk instead (cheaper than a chunk). */
void net_outq_append_owned(net_server *s, net_outq *q, char *buf, size_t len)
{
    if (len < NET_OWNED_MIN || len > UINT32_MAX) {
        net_outq_append(s, q, buf, len);
        free(buf);
        return;
    }
    net_chunk *ch = net_xmalloc(sizeof *ch);
    ch->next = NULL;
    ch->cap = ch->len = (uint32_t)len;
    ch->off = 0;
    ch->ext = buf;
    if (q->tail)
        q->tail->next = ch;
    else
        q->head = ch;
    q->tail = ch;
    q->bytes += len;
}

void net_outq_consume(net_server *s, net_outq *q, size_t n)
{
    q->bytes -= n;
    while (n) {
        net_chunk *h = q->head;
        size_t avail = h->len - h->off;
        if (n < avail) {
            h->off += (uint32_t)n;
            return;
        }
        n -= avail;
        q->head = h->next;
        if (!q->head) q->tail = NULL;
        net_chunk_put(s, h);
    }
    /* an emptied head chunk that is also the tail stays usable */
}

void net_outq_splice(net_outq *to, net_outq *from)
{
    if (!from->head) return;
    if (to->tail)
        to->tail->next = from->head;
    else
        to->head = from->head;
    to->tail = from->tail;
    to->bytes += from->bytes;
    from->head = from->tail = NULL;
    from->bytes = 0;
}

void net_outq_clear(net_server *s, net_outq *q)
{
    net_chunk *ch = q->head;
    while (ch) {
        net_chunk *next = ch->next;
        net_chunk_put(s, ch);
        ch = next;
    }
    q->head = q->tail = NULL;
    q->bytes = 0;
}

dtr_request *net_req_get(net_server *s)
{
    dtr_request *req;
    if (s && s->req_pool) {
        req = s->req_pool;
        s->req_pool = req->next;
        s->n_req_pool--;
    } else {
        req = net_xmalloc(sizeof *req);
    }
    /* the arena and the inline headers need no clearing */
    memset(req, 0, offsetof(dtr_request, arena));
    req->hdrs = req->hdr_inline;
    req->hdr_cap = NET_INLINE_HEADERS;
    return req;
}

void net_req_put(net_server *s, dtr_request *req)
{
    net_handle_revoke(req);
    net_arena_block *b = req->arena_more;
    while (b) {
        net_arena_block *next = b->next;
        free(b);
        b = next;
    }
    if (req->hdrs != req->hdr_inline) free(req->hdrs);
    if (req->body_owned) free(req->body);
    net_outq_clear(s, &req->held);
    if (s && s->n_req_pool < NET_POOL_MAX) {
        req->next = s->req_pool;
        s->req_pool = req;
        s->n_req_pool++;
    } else {
        free(req);
    }
}

char *net_req_alloc(dtr_request *req, size_t n)
{
    n = (n + 7) & ~(size_t)7;
    if (req->arena_used + n <= NET_ARENA_INLINE) {
        char *p = req->arena + req->arena_used;
        req->arena_used += (uint32_t)n;
        return p;
    }
    net_arena_block *b = req->arena_more;
    if (!b || b->cap - b->used < n) {
        size_t cap = n > 2048 ? n : 2048;
        b = net_xmalloc(sizeof *b + cap);
        b->cap = cap;
        b->used = 0;
        b->next = req->arena_more;
        req->arena_more = b;
    }
    char *p = b->data + b->used;
    b->used += n;
    return p;
}

char *net_req_strndup(dtr_request *req, const char *p, size_t n)
{
    char *copy = net_req_alloc(req, n + 1);
    memcpy(copy, p, n);
    copy[n] = '\0';
    return copy;
}

void net_pools_free(net_server *s)
{
    while (s->n_rbuf_pool)
        free(s->rbuf_pool[--s->n_rbuf_pool]);
    while (s->chunk_pool) {
        net_chunk *next = s->chunk_pool->next;
        free(s->chunk_pool);
        s->chunk_pool = next;
    }
    s->n_chunk_pool = 0;
    while (s->req_pool) {
        dtr_request *next = s->req_pool->next;
        free(s->req_pool);
        s->req_pool = next;
    }
    s->n_req_pool = 0;
}
