/*
 * udtraek.c -- GET /v1/udtraek: the whole register as one JSON document,
 *   {"sekvensnummer": S, "daginstitutioner": [ ...nested as GET of one... ]}
 * consistent with sekvensnummer S, streamed without ever holding the
 * register in memory.
 *
 * How: the udtræk opens a reader of its own (reader_open) and starts a
 * snapshot on it, so every page it reads sees exactly the state of S
 * however long the client takes. Pages of nested daginstitutioner are read
 * and turned into JSON text on a pool thread (work_submit); the loop thread
 * writes each page to the stream. One page is in flight at a time, and the
 * next is read only when the connection can take more (stream_write said
 * yes, or on_drain came): a slow client holds at most one page plus the
 * host's high-water mark of unsent bytes.
 *
 * The first page is read before the answer starts, so a register that
 * cannot be read gives 503 problem+json rather than a broken 200. A read
 * failing later cuts the document short (the client sees invalid JSON) and
 * is logged.
 *
 * When the client goes away (or the host's send timeout fires) the abort
 * callback forgets the request; the snapshot is ended and the reader closed
 * at once, or when the page read in flight comes back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rest.h"

typedef struct udtraek {
    const dtr_host_api *api;
    dtr_plugin *self;
    dtr_request *req; /* NULL once the client went away */
    dtr_reader *reader;
    size_t page;
    bool snapshot; /* snapshot_begin succeeded (pool thread; read after done) */
    bool started;  /* the answer's head and opening are sent */
    bool busy;     /* a page read is on the pool */
    bool wrote_item;
    int64_t seq;
    char after[7]; /* where the next page starts; "" before the first */
    /* the page the pool thread made: */
    int status;
    char *text; /* the page's items as JSON text without the brackets; malloc'd */
    size_t text_len;
    char next[7]; /* "" on the last page */
} udtraek;

static void rest_udtraek_free(udtraek *u)
{
    if (u->snapshot) u->api->snapshot_end(u->reader);
    if (u->reader) u->api->reader_close(u->reader);
    free(u->text);
    free(u);
}

/* Pool thread: starts the snapshot on the first call, then reads the page
 * after u->after and dumps its items. Touches only u and its reader. */
static void rest_udtraek_read(void *udata)
{
    udtraek *u = udata;
    const dtr_host_api *api = u->api;
    free(u->text);
    u->text = NULL;
    u->text_len = 0;
    u->next[0] = '\0';
    if (!u->snapshot) {
        u->status = rest_http_of(api->snapshot_begin(u->reader, &u->seq));
        if (u->status != 0) return;
        u->snapshot = true;
    }
    dtr_query q;
    memset(&q, 0, sizeof q);
    q.level = DTR_LEVEL_DAGINSTITUTION;
    q.after = u->after[0] ? u->after : NULL;
    q.limit = u->page;
    q.nested = 1;
    json_t *items = NULL;
    u->status = rest_http_of(api->read_list(u->reader, &q, &items, u->next));
    if (u->status == 0) {
        char *dump = json_dumps(items ? items : json_array(), DTR_JSON_WIRE);
        if (!dump) {
            u->status = 503;
        } else {
            /* "[a,b]" -> "a,b" in place */
            size_t n = strlen(dump);
            memmove(dump, dump + 1, n - 2);
            u->text = dump;
            u->text_len = n - 2;
        }
    }
    json_decref(items);
}

static void rest_udtraek_done(void *udata, int status);

/* Queues the next page read; false when the pool would not take it. */
static bool rest_udtraek_submit(udtraek *u)
{
    u->busy = true;
    if (u->api->work_submit(u->self, rest_udtraek_read, rest_udtraek_done, u) == DTR_OK)
        return true;
    u->busy = false;
    return false;
}

/* Ends the stream after a failure in the middle: the document stays cut
 * short, so the client cannot take it for the whole register. */
static void rest_udtraek_fail(udtraek *u, const char *why)
{
    dtr_request *req = u->req;
    u->api->log(u->self, DTR_LOG_ERROR, "udtræk %s cut short: %s", u->api->req_id(req), why);
    u->api->req_on_abort(req, NULL, NULL);
    u->api->req_on_drain(req, NULL, NULL);
    u->api->stream_end(req);
    rest_udtraek_free(u);
}

/* Loop thread: a page came back. Writes it, then ends the stream, reads the
 * next page, or waits for the connection to drain. */
static void rest_udtraek_done(void *udata, int status)
{
    udtraek *u = udata;
    const dtr_host_api *api = u->api;
    u->busy = false;
    dtr_request *req = u->req;
    if (!req) { /* the client went away while the page was read */
        rest_udtraek_free(u);
        return;
    }
    if (status != 0) u->status = 503;
    if (u->status != 0) {
        if (u->started) {
            rest_udtraek_fail(u, "the register could not be read");
        } else {
            int http = u->status == 429 ? 429 : 503; /* 429: the client's snapshots */
            api->req_on_abort(req, NULL, NULL);
            rest_udtraek_free(u);
            rest_problem_read(api, req, http);
        }
        return;
    }
    int room = 1;
    if (!u->started) {
        char head[64];
        int n = snprintf(head, sizeof head, "{\"sekvensnummer\":%lld,\"daginstitutioner\":[",
                         (long long)u->seq);
        api->stream_begin(req, 200, "application/json");
        room = api->stream_write(req, head, (size_t)n) == DTR_OK;
        u->started = true;
    }
    if (u->text_len) {
        if (u->wrote_item) room = api->stream_write(req, ",", 1) == DTR_OK;
        room = api->stream_write(req, u->text, u->text_len) == DTR_OK;
        u->wrote_item = true;
    }
    free(u->text);
    u->text = NULL;
    u->text_len = 0;
    if (!u->next[0]) {
        api->stream_write(req, "]}", 2);
        api->req_on_abort(req, NULL, NULL);
        api->req_on_drain(req, NULL, NULL);
        api->stream_end(req);
        rest_udtraek_free(u);
        return;
    }
    memcpy(u->after, u->next, sizeof u->after);
    if (room && !rest_udtraek_submit(u)) rest_udtraek_fail(u, "the work queue refused the read");
    /* else the drain callback reads the next page */
}

static void rest_udtraek_drain(dtr_request *req, void *udata)
{
    (void)req;
    udtraek *u = udata;
    if (u->busy || !u->req || !u->started) return;
    if (!rest_udtraek_submit(u)) rest_udtraek_fail(u, "the work queue refused the read");
}

static void rest_udtraek_abort(dtr_request *req, void *udata)
{
    (void)req;
    udtraek *u = udata;
    u->req = NULL;
    if (!u->busy) rest_udtraek_free(u);
}

dtr_status rest_handle_udtraek(dtr_request *req, void *udata)
{
    const rest_binding *b = udata;
    rest *r = b->r;
    const dtr_host_api *api = r->api;
    const dtr_identity *client;
    if (!rest_auth(r, req, !api->public_read(r->self), &client)) return DTR_OK;
    rest_args a;
    if (!rest_read_args(r, req, b->route, &a)) return DTR_OK;
    if (strcmp(api->req_method(req), "HEAD") == 0) {
        api->stream_begin(req, 200, "application/json");
        api->stream_end(req);
        return DTR_OK;
    }
    udtraek *u = calloc(1, sizeof *u);
    if (!u) {
        rest_problem_read(api, req, 503);
        return DTR_OK;
    }
    u->api = api;
    u->self = r->self;
    u->req = req;
    u->page = r->udtraek_page;
    /* the snapshot counts against the client's address (2.1) */
    u->reader = DTR_HOST_HAS(api, reader_open_for) && api->reader_open_for
                    ? api->reader_open_for(r->self, req)
                    : api->reader_open(r->self);
    if (!u->reader) {
        free(u);
        rest_problem_read(api, req, 503);
        return DTR_OK;
    }
    api->req_on_abort(req, rest_udtraek_abort, u);
    api->req_on_drain(req, rest_udtraek_drain, u);
    if (!rest_udtraek_submit(u)) {
        api->req_on_abort(req, NULL, NULL);
        api->req_on_drain(req, NULL, NULL);
        rest_udtraek_free(u);
        rest_problem_read(api, req, 503);
    }
    return DTR_OK;
}
