/*
 * stream.c -- GET /v1/statistik/enheder: the key list of the
 * anvisningsenheder in effect on a day,
 *   {"dato": D, "enheder": [{"nummer", "daginstitutionsNummer",
 *    "kommuneKode", "instType3", "ejerformKode"}, ...]}
 * or with Accept: text/csv the same as CSV (BOM, header, ';', CRLF),
 * ordered by nummer, streamed without ever holding the list.
 *
 * How: the stream reads through a reader of its own inside one snapshot
 * (snapshot_begin on the first read), so every page sees the register as
 * of one sekvensnummer however slowly the client reads. A page of units
 * (STAT_PAGE, with their daginstitutioner's ejerformKode; count.c's pager)
 * is read and turned into text on a pool thread (work_submit), the
 * answer's head in the first piece and its tail in the last; the loop
 * thread writes each piece. One piece is in flight at a time, and the next
 * is made only when the connection can take more (stream_write said yes,
 * or on_drain came).
 *
 * The first piece is made before the answer starts, so a register that
 * cannot be read gives 503 problem+json. A read failing later ends the
 * stream as it stands (the JSON stays cut short, the CSV lacks its last
 * lines) and is logged. When the client goes away the abort callback
 * forgets the request; the snapshot ends and the reader goes back at once,
 * or when the piece in flight comes back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "statistik.h"

typedef struct stat_stream {
    const dtr_host_api *api;
    dtr_plugin *self;
    dtr_request *req; /* NULL once the client went away */
    dtr_reader *reader;
    stat_reader_back_fn back;
    void *back_ctx;
    bool csv;
    bool head_only; /* HEAD: the first piece decides the status, nothing is sent */
    bool started;   /* the answer's head is sent (loop thread) */
    bool busy;      /* a piece is being made on the pool */
    /* touched by the pool thread while busy, by the loop thread otherwise: */
    bool snapshot; /* snapshot_begin succeeded */
    stat_pager pager;
    stat_units page;
    size_t units_written;
    int status; /* 0, or why the piece failed (503) */
    char *text; /* the piece's bytes */
    size_t len, cap;
} stat_stream;

static void stat_stream_free(stat_stream *s)
{
    if (s->snapshot) s->api->snapshot_end(s->reader);
    s->back(s->back_ctx, s->reader);
    stat_pager_free(&s->pager);
    stat_units_free(&s->page);
    free(s->text);
    free(s);
}

/* ---- the pool thread's part --------------------------------------------------------- */

static bool stat_put(stat_stream *s, const char *bytes, size_t n)
{
    if (s->len + n > s->cap) {
        size_t cap = s->cap ? s->cap : 32 * 1024;
        while (cap < s->len + n)
            cap *= 2;
        char *p = realloc(s->text, cap);
        if (!p) return false;
        s->text = p;
        s->cap = cap;
    }
    memcpy(s->text + s->len, bytes, n);
    s->len += n;
    return true;
}

/* Appends one unit as a JSON element (after a comma but for the first) or
 * as a CSV line. */
static bool stat_put_unit(stat_stream *s, const stat_unit *w)
{
    if (s->csv) {
        char line[STAT_CSV_LINE];
        size_t n = stat_unit_csv(w, line);
        return stat_put(s, line, n);
    }
    char *text = stat_unit_json(w);
    bool ok =
        text && (s->units_written == 0 || stat_put(s, ",", 1)) && stat_put(s, text, strlen(text));
    free(text);
    return ok;
}

/* Pool thread: begins the snapshot on the first call, then reads the next
 * page and makes it into s->text. Touches only s and its reader. */
static void stat_stream_work(void *udata)
{
    stat_stream *s = udata;
    s->len = 0;
    s->status = 0;
    if (!s->snapshot) {
        int64_t seq;
        if (s->api->snapshot_begin(s->reader, &seq) != 0) {
            s->status = 503;
            return;
        }
        s->snapshot = true;
        char head[96];
        int n = s->csv
                    ? snprintf(head, sizeof head, "%s", STAT_UNITS_CSV_HEADER)
                    : snprintf(head, sizeof head, "{\"dato\":\"%s\",\"enheder\":[", s->pager.day);
        if (!stat_put(s, head, (size_t)n)) s->status = 503;
    }
    if (s->status == 0 && stat_pager_next(&s->pager, &s->page) != 0) s->status = 503;
    for (size_t i = 0; s->status == 0 && i < s->page.n; i++) {
        if (!stat_put_unit(s, &s->page.v[i]))
            s->status = 503;
        else
            s->units_written++;
    }
    if (s->status == 0 && s->pager.last && !s->csv && !stat_put(s, "]}", 2)) s->status = 503;
}

/* ---- the loop thread's part ---------------------------------------------------------- */

static void stat_stream_done(void *udata, int status);

static bool stat_stream_submit(stat_stream *s)
{
    s->busy = true;
    if (s->api->work_submit(s->self, stat_stream_work, stat_stream_done, s) == DTR_OK) return true;
    s->busy = false;
    return false;
}

/* Ends the answer: the list is whole, or (why != NULL) cut short after a
 * failure once the head was sent. Frees the stream. */
static void stat_stream_finish(stat_stream *s, const char *why)
{
    dtr_request *req = s->req;
    if (why)
        s->api->log(s->self, DTR_LOG_ERROR, "statistik enheder %s cut short after %zu units: %s",
                    s->api->req_id(req), s->units_written, why);
    s->api->req_on_abort(req, NULL, NULL);
    s->api->req_on_drain(req, NULL, NULL);
    s->api->stream_end(req);
    stat_stream_free(s);
}

/* Loop thread: a piece came back. Writes it, then ends the answer, makes
 * the next piece, or waits for the connection to drain. */
static void stat_stream_done(void *udata, int status)
{
    stat_stream *s = udata;
    const dtr_host_api *api = s->api;
    s->busy = false;
    dtr_request *req = s->req;
    if (!req) { /* the client went away while the piece was made */
        stat_stream_free(s);
        return;
    }
    if (status != 0 || s->status != 0) {
        if (s->started) {
            stat_stream_finish(s, status != 0 ? "the read was cancelled"
                                              : "the register could not be read");
        } else {
            api->req_on_abort(req, NULL, NULL);
            api->req_on_drain(req, NULL, NULL);
            stat_stream_free(s);
            api->respond_problem(req, 503, "IKKE_KLAR", NULL, "registeret kunne ikke læses");
        }
        return;
    }
    if (!s->started) {
        api->stream_begin(req, 200, s->csv ? "text/csv; charset=utf-8" : "application/json");
        s->started = true;
        if (s->head_only) {
            stat_stream_finish(s, NULL);
            return;
        }
    }
    int room = s->len ? api->stream_write(req, s->text, s->len) : 1;
    s->len = 0;
    if (s->pager.last) {
        stat_stream_finish(s, NULL);
        return;
    }
    if (room && !stat_stream_submit(s)) stat_stream_finish(s, "the work queue refused the read");
    /* else on_drain makes the next piece */
}

static void stat_stream_drain(dtr_request *req, void *udata)
{
    (void)req;
    stat_stream *s = udata;
    if (s->busy || !s->req || !s->started) return;
    if (!stat_stream_submit(s)) stat_stream_finish(s, "the work queue refused the read");
}

static void stat_stream_abort(dtr_request *req, void *udata)
{
    (void)req;
    stat_stream *s = udata;
    s->req = NULL;
    if (!s->busy) stat_stream_free(s);
}

bool stat_enheder_stream(const dtr_host_api *api, dtr_plugin *self, dtr_request *req,
                         dtr_reader *reader, const char *day, bool csv, stat_reader_back_fn back,
                         void *ctx)
{
    stat_stream *s = calloc(1, sizeof *s);
    if (!s) return false;
    s->api = api;
    s->self = self;
    s->req = req;
    s->reader = reader;
    s->back = back;
    s->back_ctx = ctx;
    s->csv = csv;
    s->head_only = strcmp(api->req_method(req), "HEAD") == 0;
    stat_pager_init(&s->pager, api, reader, day);
    api->req_on_abort(req, stat_stream_abort, s);
    api->req_on_drain(req, stat_stream_drain, s);
    if (stat_stream_submit(s)) return true;
    api->req_on_abort(req, NULL, NULL);
    api->req_on_drain(req, NULL, NULL);
    free(s);
    return false;
}
