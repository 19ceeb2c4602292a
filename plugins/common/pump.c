/*
 * pump.c -- a long answer streamed on the thread pool a piece at a time
 * (pump.h says what the plugin supplies and what the pump does).
 *
 * The pump's fields are the loop thread's, except the piece's bytes, its
 * item count and the outcome of the piece, which the pool thread writes
 * while busy; the loop thread reads them only when the piece came back.
 */
#include <stdlib.h>
#include <string.h>

#include "pump.h"

struct pump {
    const dtr_host_api *api;
    dtr_plugin *self;
    dtr_request *req; /* NULL once the client went away */
    const char *content_type;
    const pump_ops *ops;
    void *ctx;
    bool head_only; /* HEAD: the first piece decides the status, nothing is sent */
    bool started;   /* the answer's head is sent (loop thread) */
    bool busy;      /* a piece is being made on the pool */
    /* written by the pool thread while busy, read by the loop thread after: */
    bool failed;  /* ops->piece returned -1 */
    bool last;    /* the piece closes the answer */
    size_t items; /* counted by pump_put_item, for the log line */
    char *text;   /* the piece's bytes */
    size_t len, cap;
};

/* Hands ctx to the plugin and frees the pump. Loop thread. */
static void pump_free(pump *p)
{
    p->ops->release(p->ctx);
    free(p->text);
    free(p);
}

/* ---- the pool thread's part --------------------------------------------------------- */

bool pump_put(pump *p, const void *bytes, size_t n)
{
    if (p->len + n > p->cap) {
        size_t cap = p->cap ? p->cap : 32 * 1024;
        while (cap < p->len + n)
            cap *= 2;
        char *text = realloc(p->text, cap);
        if (!text) return false;
        p->text = text;
        p->cap = cap;
    }
    memcpy(p->text + p->len, bytes, n);
    p->len += n;
    return true;
}

bool pump_put_item(pump *p, const char *sep, const void *bytes, size_t n)
{
    if (sep && p->items > 0 && !pump_put(p, sep, strlen(sep))) return false;
    if (!pump_put(p, bytes, n)) return false;
    p->items++;
    return true;
}

/* Pool thread: makes the next piece into p->text through the plugin. */
static void pump_work(void *udata)
{
    pump *p = udata;
    p->len = 0;
    p->last = false;
    p->failed = p->ops->piece(p->ctx, p, &p->last) != 0;
}

/* ---- the loop thread's part ---------------------------------------------------------- */

static void pump_done(void *udata, int status);

static bool pump_submit(pump *p)
{
    p->busy = true;
    if (p->api->work_submit(p->self, pump_work, pump_done, p) == DTR_OK) return true;
    p->busy = false;
    return false;
}

/* Ends the answer: it is whole, or (why != NULL) cut short after a failure
 * once the head was sent, which is logged. Releases ctx, frees the pump. */
static void pump_finish(pump *p, const char *why)
{
    dtr_request *req = p->req;
    if (why)
        p->api->log(p->self, DTR_LOG_ERROR, "%s %s cut short after %zu %s: %s", p->ops->what,
                    p->api->req_id(req), p->items, p->ops->items, why);
    p->api->req_on_abort(req, NULL, NULL);
    p->api->req_on_drain(req, NULL, NULL);
    p->api->stream_end(req);
    pump_free(p);
}

/* Loop thread: a piece came back (status != 0: the pool cancelled it).
 * Writes it, then ends the answer, makes the next piece, or waits for the
 * connection to drain. A failure before the head answers 503. */
static void pump_done(void *udata, int status)
{
    pump *p = udata;
    const dtr_host_api *api = p->api;
    p->busy = false;
    dtr_request *req = p->req;
    if (!req) { /* the client went away while the piece was made */
        pump_free(p);
        return;
    }
    if (status != 0 || p->failed) {
        if (p->started) {
            pump_finish(p,
                        status != 0 ? "the read was cancelled" : "the register could not be read");
        } else {
            api->req_on_abort(req, NULL, NULL);
            api->req_on_drain(req, NULL, NULL);
            pump_free(p);
            api->respond_problem(req, 503, "IKKE_KLAR", NULL, "registeret kunne ikke læses");
        }
        return;
    }
    if (!p->started) {
        api->stream_begin(req, 200, p->content_type);
        p->started = true;
        if (p->head_only) {
            pump_finish(p, NULL);
            return;
        }
    }
    dtr_status room = p->len ? api->stream_write(req, p->text, p->len) : DTR_OK;
    p->len = 0;
    if (p->last) {
        pump_finish(p, NULL);
        return;
    }
    if (room == DTR_OK && !pump_submit(p)) pump_finish(p, "the work queue refused the read");
    /* else on_drain makes the next piece */
}

/* Loop thread: the connection can take more; makes the next piece unless
 * one is on the pool already or the first has not come back. */
static void pump_drain(dtr_request *req, void *udata)
{
    (void)req;
    pump *p = udata;
    if (p->busy || !p->req || !p->started) return;
    if (!pump_submit(p)) pump_finish(p, "the work queue refused the read");
}

/* Loop thread: the client went away. Forgets the request; releases now, or
 * in pump_done when a piece is on the pool. */
static void pump_abort(dtr_request *req, void *udata)
{
    (void)req;
    pump *p = udata;
    p->req = NULL;
    if (!p->busy) pump_free(p);
}

bool pump_start(const dtr_host_api *api, dtr_plugin *self, dtr_request *req,
                const char *content_type, const pump_ops *ops, void *ctx)
{
    pump *p = calloc(1, sizeof *p);
    if (!p) return false;
    p->api = api;
    p->self = self;
    p->req = req;
    p->content_type = content_type;
    p->ops = ops;
    p->ctx = ctx;
    p->head_only = strcmp(api->req_method(req), "HEAD") == 0;
    api->req_on_abort(req, pump_abort, p);
    api->req_on_drain(req, pump_drain, p);
    if (pump_submit(p)) return true;
    api->req_on_abort(req, NULL, NULL);
    api->req_on_drain(req, NULL, NULL);
    free(p);
    return false;
}
