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
 * text are made on a pool thread, a piece of UNI_STREAM_PAGE rows at a
 * time, the document's head in the first piece and its tail in the last.
 * This file makes the pieces; the rest is plugins/common/pump.c, the loop
 * thread's half shared with the statistik plugin: it writes each piece,
 * makes the next only when the connection can take more (a slow client
 * holds at most one piece plus the host's high-water mark of unsent
 * bytes), and ends the answer.
 *
 * Failures. The first piece is made before the answer starts, so a
 * register that cannot be read gives 503 problem+json. A read failing
 * later ends the stream as it stands (the document stays cut short: the
 * client sees invalid JSON, never a shorter list) and is logged. When the
 * client goes away the snapshot ends and the reader goes back at once, or
 * when the piece in flight comes back (uni_list_release).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/pump.h"
#include "unilogin.h"

/* One of the two ordered reads. */
typedef struct uni_cursor {
    dtr_level level;
    char after[7]; /* where the next page starts; "" before the first */
    bool last;     /* the last page has been read */
    json_t *rows;  /* the rows of the page read, from `at` on not yet written */
    size_t at;
} uni_cursor;

/* The list's reads: touched by the pool thread inside a piece, by the loop
 * thread only to release them. */
typedef struct uni_list {
    const dtr_host_api *api;
    dtr_reader *reader;
    uni_reader_back_fn back;
    void *back_ctx;
    bool snapshot; /* snapshot_begin succeeded */
    int64_t seq;
    uni_cursor units, adresser;
    json_t *unit;        /* the anvisningsenhed of the last alternativ adresse read */
    char unit_nummer[7]; /* its number ("" before the first) */
} uni_list;

static void uni_list_free(uni_list *l)
{
    json_decref(l->units.rows);
    json_decref(l->adresser.rows);
    json_decref(l->unit);
    free(l);
}

/* Loop thread (the pump is done): ends the snapshot, gives the reader
 * back, frees the list. */
static void uni_list_release(void *ctx)
{
    uni_list *l = ctx;
    if (l->snapshot) l->api->snapshot_end(l->reader);
    l->back(l->back_ctx, l->reader);
    uni_list_free(l);
}

/* ---- the pool thread's part --------------------------------------------------------- */

/* Whether an alternativ adresse's anvisningsenhed is in effect today, with
 * that unit in l->unit (read by number unless it is the one read last).
 * 1 yes, 0 no, -1 when it could not be read. */
static int uni_unit_of(uni_list *l, const json_t *adresse)
{
    const char *nummer = json_string_value(json_object_get(adresse, "anvisningsenhedsNummer"));
    if (!nummer || strlen(nummer) != 6) return 0;
    if (strcmp(nummer, l->unit_nummer) != 0) {
        json_decref(l->unit);
        l->unit = NULL;
        memcpy(l->unit_nummer, nummer, 7);
        dtr_level level;
        dtr_status rc = l->api->read_get(l->reader, nummer, NULL, 0, &level, &l->unit);
        if (rc == DTR_NOT_FOUND || rc == DTR_GONE) return 0;
        if (rc != DTR_OK) {
            l->unit_nummer[0] = '\0';
            return -1;
        }
        if (level != DTR_LEVEL_ANVISNINGSENHED) {
            json_decref(l->unit);
            l->unit = NULL;
        }
    }
    const char *status = json_string_value(json_object_get(l->unit, "status"));
    return status && strcmp(status, "aktiv") == 0;
}

/* Reads pages of c's level until it holds a row not yet written or has
 * read the last page. 0, or -1 when a read failed. */
static int uni_cursor_fill(uni_list *l, uni_cursor *c)
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
        if (l->api->read_list(l->reader, &q, &items, next) != DTR_OK) return -1;
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
            int on = uni_unit_of(l, rec);
            if (on < 0) {
                rc = -1;
                break;
            }
            if (on) json_array_append_new(c->rows, uni_row(rec, c->level, l->unit));
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

/* Appends up to UNI_STREAM_PAGE rows to p, the lower head of the two reads
 * first; sets *last when both are spent. 0, or -1 on a failed read. */
static int uni_merge_piece(uni_list *l, pump *p, bool *last)
{
    for (size_t n = 0; n < UNI_STREAM_PAGE; n++) {
        if (uni_cursor_fill(l, &l->units) != 0 || uni_cursor_fill(l, &l->adresser) != 0) return -1;
        const char *u = uni_head_nummer(&l->units), *a = uni_head_nummer(&l->adresser);
        if (!u && !a) {
            *last = true;
            return 0;
        }
        uni_cursor *c = !a || (u && strcmp(u, a) < 0) ? &l->units : &l->adresser;
        char *row = json_dumps(json_array_get(c->rows, c->at), DTR_JSON_WIRE);
        bool ok = row && pump_put_item(p, ",", row, strlen(row));
        free(row);
        if (!ok) return -1;
        c->at++;
    }
    /* a piece that ends exactly on the last row closes the document now */
    if (uni_cursor_fill(l, &l->units) != 0 || uni_cursor_fill(l, &l->adresser) != 0) return -1;
    *last = !uni_head_nummer(&l->units) && !uni_head_nummer(&l->adresser);
    return 0;
}

/* Pool thread (the pump's piece): begins the snapshot on the first call,
 * then makes the next piece of the document into p. Touches only the list
 * and its reader. */
static int uni_list_piece(void *ctx, pump *p, bool *last)
{
    uni_list *l = ctx;
    if (!l->snapshot) {
        if (l->api->snapshot_begin(l->reader, &l->seq) != DTR_OK) return -1;
        l->snapshot = true;
        char head[80];
        int n = snprintf(head, sizeof head, "{\"sekvensnummer\":%lld,\"institutioner\":[",
                         (long long)l->seq);
        if (!pump_put(p, head, (size_t)n)) return -1;
    }
    if (uni_merge_piece(l, p, last) != 0) return -1;
    if (*last && !pump_put(p, "]}", 2)) return -1;
    return 0;
}

/* ---- the loop thread's part ---------------------------------------------------------- */

static const pump_ops uni_list_ops = {
    .what = "unilogin list",
    .items = "rows",
    .piece = uni_list_piece,
    .release = uni_list_release,
};

bool uni_list_stream(const dtr_host_api *api, dtr_plugin *self, dtr_request *req,
                     dtr_reader *reader, uni_reader_back_fn back, void *ctx)
{
    uni_list *l = calloc(1, sizeof *l);
    if (!l) return false;
    l->api = api;
    l->reader = reader;
    l->back = back;
    l->back_ctx = ctx;
    l->units.level = DTR_LEVEL_ANVISNINGSENHED;
    l->adresser.level = DTR_LEVEL_ALTERNATIV_ADRESSE;
    if (pump_start(api, self, req, "application/json", &uni_list_ops, l)) return true;
    uni_list_free(l);
    return false;
}
