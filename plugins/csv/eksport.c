/*
 * eksport.c -- GET /v1/eksport/{fil}: one file of the CSV export layout
 * (daginstitution.csv, anvisningsenhed.csv, alternativadresse.csv) over
 * HTTP, streamed, the same bytes `dtr export` writes.
 *
 * How: the request opens a reader of its own (reader_open) and a snapshot
 * on it, so every page it reads sees the register as of one sekvensnummer
 * however slowly the client reads. A page of daginstitutioner (nested, for
 * the files of the levels below) is read and turned into CSV rows on a pool
 * thread (work_submit); the loop thread writes the page's bytes to the
 * stream. One page is in flight at a time and the next is read only when
 * the connection can take more (stream_write said yes, or on_drain came).
 *
 * Export order, as the CLI's: daginstitutioner by number; anvisningsenheder
 * by daginstitution, then number (they come nested in number order);
 * alternative adresser by the daginstitution of their unit, then number.
 *
 * Who may read: anyone when the config's public_read is on (credentials
 * sent anyway are checked), any client otherwise; as every GET under /v1.
 * The first page is read before the answer starts, so a register that
 * cannot be read gives 503; a failure later cuts the file short (logged).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csvp.h"

#define EKSPORT_PAGE 200

typedef struct eksport {
    const csvp_state *st;
    const csvp_layout *layout;
    dtr_request *req; /* NULL once the client went away */
    dtr_reader *reader;
    bool snapshot; /* snapshot_begin succeeded (pool thread; read after done) */
    bool started;  /* the answer's head is sent */
    bool busy;     /* a page is being read on the pool */
    char after[7]; /* where the next page starts; "" before the first */
    /* what the pool thread made of one page: */
    dtr_status status;
    char next[7]; /* "" on the last page */
    char *text;   /* the page's bytes (the first page starts with BOM and header) */
    size_t len, cap;
    csvp_out *out;
} eksport;

static void eksport_free(eksport *e)
{
    const dtr_host_api *api = e->st->api;
    if (e->snapshot) api->snapshot_end(e->reader);
    if (e->reader) api->reader_close(e->reader);
    free(e->text);
    free(e->out);
    free(e);
}

/* dtr_byte_sink.write into the page's buffer. */
static dtr_status page_write(void *ctx, const void *data, size_t len)
{
    eksport *e = ctx;
    if (e->len + len > e->cap) {
        size_t cap = e->cap ? e->cap : 64 * 1024;
        while (cap < e->len + len)
            cap *= 2;
        char *p = realloc(e->text, cap);
        if (!p) return DTR_ERROR;
        e->text = p;
        e->cap = cap;
    }
    memcpy(e->text + e->len, data, len);
    e->len += len;
    return DTR_OK;
}

static int by_nummer(const void *a, const void *b)
{
    const char *p = json_string_value(json_object_get(*(json_t *const *)a, "nummer"));
    const char *q = json_string_value(json_object_get(*(json_t *const *)b, "nummer"));
    return strcmp(p ? p : "", q ? q : "");
}

/* Appends one record's row; false when it cannot be written. */
static bool page_row(eksport *e, const json_t *record)
{
    csvp_field fields[CSVP_MAX_COLUMNS];
    char scratch[CSVP_SCRATCH], why[256];
    if (!csvp_record_to_row(e->layout, record, e->st, fields, scratch, why, sizeof why)) {
        e->st->api->log(e->st->self, DTR_LOG_ERROR, "eksport %s: %s", e->layout->file_name, why);
        return false;
    }
    csvp_out_row(e->out, fields, e->layout->n_columns);
    return true;
}

/* The rows one daginstitution (nested) gives the file, in export order. */
static bool page_rows_of(eksport *e, const json_t *dag)
{
    if (e->layout->level == 0) return page_row(e, dag);
    const json_t *units = json_object_get(dag, "anvisningsenheder");
    size_t i;
    json_t *unit;
    if (e->layout->level == 1) {
        json_array_foreach(units, i, unit) if (!page_row(e, unit)) return false;
        return true;
    }
    size_t n = 0;
    json_array_foreach(units, i, unit) n +=
        json_array_size(json_object_get(unit, "alternativeAdresser"));
    if (n == 0) return true;
    json_t **all = malloc(n * sizeof *all);
    if (!all) return false;
    size_t k = 0;
    json_array_foreach(units, i, unit)
    {
        size_t j;
        json_t *a;
        json_array_foreach(json_object_get(unit, "alternativeAdresser"), j, a) all[k++] = a;
    }
    qsort(all, n, sizeof *all, by_nummer);
    bool ok = true;
    for (size_t j = 0; j < n && ok; j++)
        ok = page_row(e, all[j]);
    free(all);
    return ok;
}

/* Pool thread: starts the snapshot on the first call, then reads the page
 * after e->after and writes its rows into e->text. Touches only e. */
static void eksport_read(void *udata)
{
    eksport *e = udata;
    const dtr_host_api *api = e->st->api;
    e->len = 0;
    e->next[0] = '\0';
    if (!e->snapshot) {
        int64_t seq;
        e->status = api->snapshot_begin(e->reader, &seq);
        if (e->status != DTR_OK) return;
        e->snapshot = true;
    }
    dtr_byte_sink sink = {.ctx = e, .write = page_write};
    csvp_out_init(e->out, &sink);
    if (!e->after[0]) csvp_out_header(e->out, e->layout);
    dtr_query q;
    memset(&q, 0, sizeof q);
    q.level = DTR_LEVEL_DAGINSTITUTION;
    q.after = e->after[0] ? e->after : NULL;
    q.limit = EKSPORT_PAGE;
    q.nested = e->layout->level > 0;
    json_t *items = NULL;
    e->status = api->read_list(e->reader, &q, &items, e->next);
    size_t i;
    json_t *dag;
    json_array_foreach(items, i, dag)
    {
        if (e->status == DTR_OK && !page_rows_of(e, dag)) e->status = DTR_ERROR;
    }
    json_decref(items);
    if (e->status == DTR_OK && csvp_out_flush(e->out) != DTR_OK) e->status = DTR_ERROR;
}

static void eksport_done(void *udata, int status);

static bool eksport_submit(eksport *e)
{
    e->busy = true;
    if (e->st->api->work_submit(e->st->self, eksport_read, eksport_done, e) == DTR_OK) return true;
    e->busy = false;
    return false;
}

/* Ends the answer after a failure in the middle: the file stays cut short
 * (the client sees no final chunk of a whole file). */
static void eksport_fail(eksport *e, const char *why)
{
    const dtr_host_api *api = e->st->api;
    dtr_request *req = e->req;
    api->log(e->st->self, DTR_LOG_ERROR, "eksport %s (%s) cut short: %s", e->layout->file_name,
             api->req_id(req), why);
    api->req_on_abort(req, NULL, NULL);
    api->req_on_drain(req, NULL, NULL);
    api->stream_end(req);
    eksport_free(e);
}

/* Loop thread: a page came back. Writes it, then ends the answer, reads
 * the next page, or waits for the connection to drain. */
static void eksport_done(void *udata, int status)
{
    eksport *e = udata;
    const dtr_host_api *api = e->st->api;
    e->busy = false;
    dtr_request *req = e->req;
    if (!req) {
        eksport_free(e);
        return;
    }
    if (status != 0) e->status = DTR_ERROR;
    if (e->status != DTR_OK) {
        if (e->started) {
            eksport_fail(e, "the register could not be read");
        } else {
            api->req_on_abort(req, NULL, NULL);
            api->req_on_drain(req, NULL, NULL);
            eksport_free(e);
            api->respond_problem(req, 503, "IKKE_KLAR", NULL, "registeret kunne ikke læses");
        }
        return;
    }
    if (!e->started) {
        char disposition[96];
        snprintf(disposition, sizeof disposition, "attachment; filename=\"%s\"",
                 e->layout->file_name);
        api->resp_header(req, "Content-Disposition", disposition);
        api->stream_begin(req, 200, "text/csv; charset=utf-8");
        e->started = true;
    }
    dtr_status room = e->len ? api->stream_write(req, e->text, e->len) : DTR_OK;
    e->len = 0;
    if (!e->next[0]) {
        api->req_on_abort(req, NULL, NULL);
        api->req_on_drain(req, NULL, NULL);
        api->stream_end(req);
        eksport_free(e);
        return;
    }
    memcpy(e->after, e->next, sizeof e->after);
    if (room == DTR_OK && !eksport_submit(e)) eksport_fail(e, "the work queue refused the read");
}

static void eksport_drain(dtr_request *req, void *udata)
{
    (void)req;
    eksport *e = udata;
    if (e->busy || !e->req || !e->started) return;
    if (!eksport_submit(e)) eksport_fail(e, "the work queue refused the read");
}

static void eksport_abort(dtr_request *req, void *udata)
{
    (void)req;
    eksport *e = udata;
    e->req = NULL;
    if (!e->busy) eksport_free(e);
}

/* Who may read: as every GET under /v1. Answers and returns false when the
 * request may not. */
static bool eksport_may_read(const csvp_state *st, dtr_request *req)
{
    const dtr_host_api *api = st->api;
    bool need_client = !api->public_read(st->self);
    if (!need_client && !api->req_header(req, "Authorization")) return true;
    const dtr_identity *who = NULL;
    dtr_status s = api->req_authenticate(st->self, req, &who);
    if (s == DTR_OK && (who || !need_client)) return true;
    if (s != DTR_OK && s != DTR_DECLINED) {
        api->respond_problem(req, 503, "IKKE_KLAR", NULL, "klienterne kunne ikke læses");
        return false;
    }
    api->resp_header(req, "WWW-Authenticate", "Basic realm=\"dtr\"");
    api->respond_problem(req, 401, "IKKE_AUTENTIFICERET", NULL,
                         who || s == DTR_DECLINED ? "ukendt klient eller forkert hemmelighed"
                                                  : "log ind med HTTP Basic (clientId:secret)");
    return false;
}

static dtr_status eksport_handle(dtr_request *req, void *udata)
{
    const csvp_state *st = udata;
    const dtr_host_api *api = st->api;
    if (!eksport_may_read(st, req)) return DTR_OK;
    const char *fil = api->req_param(req, "fil");
    const csvp_layout *layout = NULL;
    for (int level = 0; level < CSVP_LEVELS && fil; level++)
        if (strcmp(csvp_layout_of(level)->file_name, fil) == 0) layout = csvp_layout_of(level);
    if (!layout) {
        api->respond_problem(req, 404, "FINDES_IKKE", NULL,
                             "eksporten har filerne daginstitution.csv, anvisningsenhed.csv og "
                             "alternativadresse.csv");
        return DTR_OK;
    }
    if (strcmp(api->req_method(req), "HEAD") == 0) {
        api->stream_begin(req, 200, "text/csv; charset=utf-8");
        api->stream_end(req);
        return DTR_OK;
    }
    eksport *e = calloc(1, sizeof *e);
    csvp_out *out = malloc(sizeof *out);
    dtr_reader *reader = e && out ? api->reader_open(st->self) : NULL;
    if (!reader) {
        free(e);
        free(out);
        api->respond_problem(req, 503, "IKKE_KLAR", NULL, "registeret kunne ikke læses");
        return DTR_OK;
    }
    e->st = st;
    e->layout = layout;
    e->req = req;
    e->reader = reader;
    e->out = out;
    api->req_on_abort(req, eksport_abort, e);
    api->req_on_drain(req, eksport_drain, e);
    if (!eksport_submit(e)) {
        api->req_on_abort(req, NULL, NULL);
        api->req_on_drain(req, NULL, NULL);
        eksport_free(e);
        api->respond_problem(req, 503, "IKKE_KLAR", NULL, "registeret kunne ikke læses");
    }
    return DTR_OK;
}

/* Whether the host lends the register's reads (filled in by a serving host;
 * a command-line host leaves them NULL). */
static bool host_reads(const dtr_host_api *api)
{
    return api->reader_open && api->reader_close && api->read_list && api->snapshot_begin &&
           api->snapshot_end && api->req_authenticate && api->public_read;
}

dtr_status csvp_eksport_routes(csvp_state *st, char *err, size_t errlen)
{
    const dtr_host_api *api = st->api;
    if (!host_reads(api)) return DTR_OK;
    dtr_status rc =
        api->route_add(st->self, "GET", "/v1/eksport/{fil}", 0, eksport_handle, st, err, errlen);
    if (rc == DTR_OK) csvp_openapi_describe(st);
    return rc;
}
