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
 * is read and turned into text on a pool thread, the answer's head in the
 * first piece and its tail in the last. This file makes the pieces; the
 * rest is plugins/common/pump.c, the loop thread's half shared with the
 * unilogin plugin: it writes each piece, makes the next only when the
 * connection can take more, and ends the answer.
 *
 * The first piece is made before the answer starts, so a register that
 * cannot be read gives 503 problem+json. A read failing later ends the
 * stream as it stands (the JSON stays cut short, the CSV lacks its last
 * lines) and is logged. When the client goes away the snapshot ends and
 * the reader goes back at once, or when the piece in flight comes back
 * (stat_list_release).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/pump.h"
#include "statistik.h"

/* The key list's reads: touched by the pool thread inside a piece, by the
 * loop thread only to release them. */
typedef struct stat_list {
    const dtr_host_api *api;
    dtr_reader *reader;
    stat_reader_back_fn back;
    void *back_ctx;
    bool csv;
    bool snapshot; /* snapshot_begin succeeded */
    stat_pager pager;
    stat_units page;
} stat_list;

static void stat_list_free(stat_list *l)
{
    stat_pager_free(&l->pager);
    stat_units_free(&l->page);
    free(l);
}

/* Loop thread (the pump is done): ends the snapshot, gives the reader
 * back, frees the list. */
static void stat_list_release(void *ctx)
{
    stat_list *l = ctx;
    if (l->snapshot) l->api->snapshot_end(l->reader);
    l->back(l->back_ctx, l->reader);
    stat_list_free(l);
}

/* ---- the pool thread's part --------------------------------------------------------- */

/* Appends one unit to p as a JSON element (after a comma but for the
 * first) or as a CSV line. */
static bool stat_put_unit(const stat_list *l, pump *p, const stat_unit *w)
{
    if (l->csv) {
        char line[STAT_CSV_LINE];
        size_t n = stat_unit_csv(w, line);
        return pump_put_item(p, NULL, line, n);
    }
    char *text = stat_unit_json(w);
    bool ok = text && pump_put_item(p, ",", text, strlen(text));
    free(text);
    return ok;
}

/* Pool thread (the pump's piece): begins the snapshot on the first call,
 * then reads the next page and makes it into p. Touches only the list and
 * its reader. */
static int stat_list_piece(void *ctx, pump *p, bool *last)
{
    stat_list *l = ctx;
    if (!l->snapshot) {
        int64_t seq;
        if (l->api->snapshot_begin(l->reader, &seq) != DTR_OK) return -1;
        l->snapshot = true;
        char head[96];
        int n = l->csv
                    ? snprintf(head, sizeof head, "%s", STAT_UNITS_CSV_HEADER)
                    : snprintf(head, sizeof head, "{\"dato\":\"%s\",\"enheder\":[", l->pager.day);
        if (!pump_put(p, head, (size_t)n)) return -1;
    }
    if (stat_pager_next(&l->pager, &l->page) != DTR_OK) return -1;
    for (size_t i = 0; i < l->page.n; i++)
        if (!stat_put_unit(l, p, &l->page.v[i])) return -1;
    *last = l->pager.last;
    if (*last && !l->csv && !pump_put(p, "]}", 2)) return -1;
    return 0;
}

/* ---- the loop thread's part ---------------------------------------------------------- */

static const pump_ops stat_list_ops = {
    .what = "statistik enheder",
    .items = "units",
    .piece = stat_list_piece,
    .release = stat_list_release,
};

bool stat_enheder_stream(const dtr_host_api *api, dtr_plugin *self, dtr_request *req,
                         dtr_reader *reader, const char *day, bool csv, stat_reader_back_fn back,
                         void *ctx)
{
    stat_list *l = calloc(1, sizeof *l);
    if (!l) return false;
    l->api = api;
    l->reader = reader;
    l->back = back;
    l->back_ctx = ctx;
    l->csv = csv;
    stat_pager_init(&l->pager, api, reader, day);
    if (pump_start(api, self, req, csv ? "text/csv; charset=utf-8" : "application/json",
                   &stat_list_ops, l))
        return true;
    stat_list_free(l);
    return false;
}
