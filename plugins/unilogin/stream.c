/*
 * stream.c -- GET /v1/unilogin/institutioner: the whole list,
 *   {"sekvensnummer": S, "institutioner": [rows by institutionsnummer]}
 * consistent with sekvensnummer S, streamed without ever holding the list.
 *
 * The order. The list mixes anvisningsenheder and alternative adresser by
 * number, and one series numbers both: an alternativ adresse made later
 * has a higher number than units made after its own, and one that moved
 * may sort before its unit. So the rows cannot come from one read of units
 * with their adresser nested (that would need the whole list to sort).
 * Instead two reads run side by side, each ordered by number: the
 * anvisningsenheder in effect today, and the alternative adresser in effect
 * today; each keeps at most one page of rows, and the next row written is
 * the lower of the two heads (a merge). An alternativ adresse is on the
 * list when its anvisningsenhed is in effect today too (it carries that
 * unit's daginstitutionsNummer and instType3): the unit is read by number,
 * once for a run of adresser of the same unit.
 *
 * The pace. The stream reads through a reader of its own inside one
 * snapshot (snapshot_begin on the first read), so every page sees exactly
 * the state of S however long the client takes. The reads and the JSON
 * text are made on a pool thread (work_submit), a piece of UNI_STREAM_PAGE
 * rows at a time, the document's head in the first piece and its tail in
 * the last; the loop thread writes each piece. One piece is in flight at a
 * time, and the next is made only when the connection can take more
 * (stream_write said yes, or on_drain came): a slow client holds at most
 * one piece plus the host's high-water mark of unsent bytes.
 *
 * Failures. The first piece is made before the answer starts, so a
 * register that cannot be read gives 503 problem+json. A read failing
 * later ends the stream as it stands (the document stays cut short: the
 * client sees invalid JSON, never a shorter list) and is logged. When the
 * client goes away the abort callback forgets the request; the snapshot
 * ends and the reader goes back at once, or when the piece in flight comes
 * back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unilogin.h"

/* One of the two ordered reads. */
typedef struct uni_cursor {
    dtr_level level;
    char after[7]; /* where the next page starts; "" before the first */
    bool last;     /* the last page has been read */
    json_t *rows;  /* the rows of the page read, from `at` on not yet written */
    size_t at;
} uni_cursor;

typedef struct uni_stream {
    const dtr_host_api *api;
    dtr_plugin *self;
    dtr_request *req; /* NULL once the client went away */
    dtr_reader *reader;
    uni_reader_back_fn back;
    void *back_ctx;
    bool head_only; /* HEAD: the first piece decides the status, nothing is sent */
    bool started;   /* the answer's head is sent (loop thread) */
    bool busy;      /* a piece is being made on the pool */
    /* touched by the pool thread while busy, by the loop thread otherwise: */
    bool snapshot; /* snapshot_begin succeeded */
    int64_t seq;
    uni_cursor units, adresser;
    json_t *unit;        /* the anvisningsenhed of the last alternativ adresse read */
    char unit_nummer[7]; /* its number ("" before the first) */
    size_t rows_written;
    int status; /* 0, or why the piece failed (503) */
    bool end;   /* the piece closes the document */
    char *text; /* the piece's bytes */
    size_t len, cap;
} uni_stream;

static void uni_stream_free(uni_stream *s)
{
    if (s->snapshot) s->api->snapshot_end(s->reader);
    s->back(s->back_ctx, s->reader);
    json_decref(s->units.rows);
    json_decref(s->adresser.rows);
    json_decref(s->unit);
    free(s->text);
    free(s);
}

/* ---- the pool thread's part --------------------------------------------------------- */

static bool uni_put(uni_stream *s, const char *bytes, size_t n)
{
    if (s->len + n > s->cap) {
        size_t cap = s->cap ? s->cap : 64 * 1024;
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

/* Whether an alternativ adresse's anvisningsenhed is in effect today, with
 * that unit in s->unit (read by number unless it is the one read last).
 * 1 yes, 0 no, -1 when it could not be read. */
static int uni_unit_of(uni_stream *s, const json_t *adresse)
{
    const char *nummer = json_string_value(json_object_get(adresse, "anvisningsenhedsNummer"));
    if (!nummer || strlen(nummer) != 6) return 0;
    if (strcmp(nummer, s->unit_nummer) != 0) {
        json_decref(s->unit);
        s->unit = NULL;
        memcpy(s->unit_nummer, nummer, 7);
        dtr_level level;
        int rc = s->api->read_get(s->reader, nummer, NULL, 0, &level, &s->unit);
        if (rc == 404 || rc == 410) return 0;
        if (rc != 0) {
            s->unit_nummer[0] = '\0';
            return -1;
        }
        if (level != DTR_LEVEL_ANVISNINGSENHED) {
            json_decref(s->unit);
            s->unit = NULL;
        }
    }
    const char *status = json_string_value(json_object_get(s->unit, "status"));
    return status && strcmp(status, "aktiv") == 0;
}

/* Reads pages of c's level until it holds a row not yet written or has
 * read the last page. 0, or -1 when a read failed. */
static int uni_cursor_fill(uni_stream *s, uni_cursor *c)
{
    while (c->at >= json_array_size(c->rows) && !c->last) {
        dtr_query q;
        memset(&q, 0, sizeof q);
        q.level = c->level;
        q.status = "aktiv";
        q.after = c->after[0] ? c->after : NULL;
        q.limit = UNI_STREAM_PAGE;
        json_t *items = NULL;
        char next[7] = "";
        if (s->api->read_list(s->reader, &q, &items, next) != 0) return -1;
        json_decref(c->rows);
        c->rows = json_array();
        c->at = 0;
        size_t i;
        json_t *rec;
        int rc = 0;
        json_array_foreach(items, i, rec)
        {
            if (!uni_listed_now(rec)) continue;
            if (c->level == DTR_LEVEL_ANVISNINGSENHED) {
                json_array_append_new(c->rows, uni_row(rec, c->level, rec));
                continue;
            }
            int on = uni_unit_of(s, rec);
            if (on < 0) {
                rc = -1;
                break;
            }
            if (on) json_array_append_new(c->rows, uni_row(rec, c->level, s->unit));
        }
        json_decref(items);
        if (rc != 0) return -1;
        memcpy(c->after, next, sizeof c->after);
        c->last = next[0] == '\0';
    }
    return 0;
}

static const char *uni_head_nummer(const uni_cursor *c)
{
    const json_t *row = json_array_get(c->rows, c->at);
    return row ? json_string_value(json_object_get(row, "institutionsnummer")) : NULL;
}

/* Appends up to UNI_STREAM_PAGE rows, the lower head of the two reads
 * first; sets s->end when both are spent. 0, or -1 on a failed read. */
static int uni_merge_piece(uni_stream *s)
{
    for (size_t n = 0; n < UNI_STREAM_PAGE; n++) {
        if (uni_cursor_fill(s, &s->units) != 0 || uni_cursor_fill(s, &s->adresser) != 0) return -1;
        const char *u = uni_head_nummer(&s->units), *a = uni_head_nummer(&s->adresser);
        if (!u && !a) {
            s->end = true;
            return 0;
        }
        uni_cursor *c = !a || (u && strcmp(u, a) < 0) ? &s->units : &s->adresser;
        char *row = json_dumps(json_array_get(c->rows, c->at), DTR_JSON_WIRE);
        bool ok =
            row && (s->rows_written == 0 || uni_put(s, ",", 1)) && uni_put(s, row, strlen(row));
        free(row);
        if (!ok) return -1;
        c->at++;
        s->rows_written++;
    }
    /* a piece that ends exactly on the last row closes the document now */
    if (uni_cursor_fill(s, &s->units) != 0 || uni_cursor_fill(s, &s->adresser) != 0) return -1;
    s->end = !uni_head_nummer(&s->units) && !uni_head_nummer(&s->adresser);
    return 0;
}

/* Pool thread: begins the snapshot on the first call, then makes the next
 * piece of the document into s->text. Touches only s and its reader. */
static void uni_stream_work(void *udata)
{
    uni_stream *s = udata;
    s->len = 0;
    s->status = 0;
    bool first = !s->snapshot;
    if (first) {
        if (s->api->snapshot_begin(s->reader, &s->seq) != 0) {
            s->status = 503;
            return;
        }
        s->snapshot = true;
        char head[80];
        int n = snprintf(head, sizeof head, "{\"sekvensnummer\":%lld,\"institutioner\":[",
                         (long long)s->seq);
        if (!uni_put(s, head, (size_t)n)) s->status = 503;
    }
    if (s->status == 0 && uni_merge_piece(s) != 0) s->status = 503;
    if (s->status == 0 && s->end && !uni_put(s, "]}", 2)) s->status = 503;
}

/* ---- the loop thread's part ---------------------------------------------------------- */

static void uni_stream_done(void *udata, int status);

static bool uni_stream_submit(uni_stream *s)
{
    s->busy = true;
    if (s->api->work_submit(s->self, uni_stream_work, uni_stream_done, s) == DTR_OK) return true;
    s->busy = false;
    return false;
}

/* Ends the answer: the document is whole, or (why != NULL) cut short after
 * a failure once the head was sent. Frees the stream. */
static void uni_stream_finish(uni_stream *s, const char *why)
{
    dtr_request *req = s->req;
    if (why)
        s->api->log(s->self, DTR_LOG_ERROR, "unilogin list %s cut short after %zu rows: %s",
                    s->api->req_id(req), s->rows_written, why);
    s->api->req_on_abort(req, NULL, NULL);
    s->api->req_on_drain(req, NULL, NULL);
    s->api->stream_end(req);
    uni_stream_free(s);
}

/* Loop thread: a piece came back. Writes it, then ends the answer, makes
 * the next piece, or waits for the connection to drain. */
static void uni_stream_done(void *udata, int status)
{
    uni_stream *s = udata;
    const dtr_host_api *api = s->api;
    s->busy = false;
    dtr_request *req = s->req;
    if (!req) { /* the client went away while the piece was made */
        uni_stream_free(s);
        return;
    }
    if (status != 0 || s->status != 0) {
        if (s->started) {
            uni_stream_finish(s, status != 0 ? "the read was cancelled"
                                             : "the register could not be read");
        } else {
            api->req_on_abort(req, NULL, NULL);
            api->req_on_drain(req, NULL, NULL);
            uni_stream_free(s);
            api->respond_problem(req, 503, "IKKE_KLAR", NULL, "registeret kunne ikke læses");
        }
        return;
    }
    if (!s->started) {
        api->stream_begin(req, 200, "application/json");
        s->started = true;
        if (s->head_only) {
            uni_stream_finish(s, NULL);
            return;
        }
    }
    int room = s->len ? api->stream_write(req, s->text, s->len) : 1;
    s->len = 0;
    if (s->end) {
        uni_stream_finish(s, NULL);
        return;
    }
    if (room && !uni_stream_submit(s)) uni_stream_finish(s, "the work queue refused the read");
    /* else on_drain makes the next piece */
}

static void uni_stream_drain(dtr_request *req, void *udata)
{
    (void)req;
    uni_stream *s = udata;
    if (s->busy || !s->req || !s->started) return;
    if (!uni_stream_submit(s)) uni_stream_finish(s, "the work queue refused the read");
}

static void uni_stream_abort(dtr_request *req, void *udata)
{
    (void)req;
    uni_stream *s = udata;
    s->req = NULL;
    if (!s->busy) uni_stream_free(s);
}

bool uni_list_stream(const dtr_host_api *api, dtr_plugin *self, dtr_request *req,
                     dtr_reader *reader, uni_reader_back_fn back, void *ctx)
{
    uni_stream *s = calloc(1, sizeof *s);
    if (!s) return false;
    s->api = api;
    s->self = self;
    s->req = req;
    s->reader = reader;
    s->back = back;
    s->back_ctx = ctx;
    s->head_only = strcmp(api->req_method(req), "HEAD") == 0;
    s->units.level = DTR_LEVEL_ANVISNINGSENHED;
    s->adresser.level = DTR_LEVEL_ALTERNATIV_ADRESSE;
    api->req_on_abort(req, uni_stream_abort, s);
    api->req_on_drain(req, uni_stream_drain, s);
    if (uni_stream_submit(s)) return true;
    api->req_on_abort(req, NULL, NULL);
    api->req_on_drain(req, NULL, NULL);
    free(s);
    return false;
}
