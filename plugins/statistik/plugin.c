/*
 * plugin.c -- the statistik plugin (kind PROTOCOL): Dagtilbudsstatistikken's
 * two read routes. Its config takes no keys.
 *
 *   GET /v1/statistik/optaelling?dato=YYYY-MM-DD&grupper=kommuneKode,...
 *       {"dato", "raekker": [{<fields>..., "antal"}], "total"}
 *   GET /v1/statistik/enheder?dato=YYYY-MM-DD
 *       {"dato", "enheder": [{"nummer", "daginstitutionsNummer",
 *        "kommuneKode", "instType3", "ejerformKode"}]}
 *
 * dato defaults to the latest 1 October not after today (Copenhagen);
 * grupper to kommuneKode,instType3,ejerformKode ("grupper=" counts without
 * grouping: one row). With Accept: text/csv both answer CSV (UTF-8 with a
 * BOM, ';', CRLF). Reads follow public_read like the REST API's. Both
 * read on the pool with a reader of their own inside one snapshot, a page
 * of units at a time (count.c's pager; reads over history can be long),
 * so that memory does not grow with the register: the count keeps one
 * entry per group and answers at the end; the key list is streamed, a
 * page at a time as the client takes it (stream.c). The loop only parses
 * and answers. Both routes are described for GET /v1/openapi.json
 * (openapi.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "statistik.h"

#define STAT_IDLE_READERS 4

typedef struct stat_plugin {
    dtr_plugin *self;
    const dtr_host_api *api;
    dtr_reader *idle[STAT_IDLE_READERS];
    size_t nidle;
    bool stopped;
} stat_plugin;

/* A count (GET /v1/statistik/optaelling) on its way through the pool, or
 * the parameters of a key list before its stream takes over. */
typedef struct stat_job {
    stat_plugin *sp;
    dtr_request *req; /* NULL once the client went away */
    dtr_reader *reader;
    char day[11];
    stat_field fields[STAT_NFIELDS];
    size_t nfields;
    bool csv;
    /* the answer, made on the pool */
    dtr_status rc;
    char *body;
    size_t len;
} stat_job;

/* ---- readers -------------------------------------------------------------------- */

static dtr_reader *stat_reader_take(stat_plugin *sp)
{
    if (sp->nidle) return sp->idle[--sp->nidle];
    return sp->api->reader_open(sp->self);
}

static void stat_reader_give(stat_plugin *sp, dtr_reader *r)
{
    if (!r) return;
    if (sp->nidle < STAT_IDLE_READERS && !sp->stopped)
        sp->idle[sp->nidle++] = r;
    else
        sp->api->reader_close(r);
}

/* ---- access ---------------------------------------------------------------------- */

static void stat_unauthorized(stat_plugin *sp, dtr_request *req, const char *tekst)
{
    sp->api->resp_header(req, "WWW-Authenticate", "Basic realm=\"dtr\"");
    sp->api->respond_problem(req, 401, "IKKE_AUTENTIFICERET", NULL, tekst);
}

/* Anyone when public_read is on, any client otherwise; wrong credentials
 * are refused either way. Answers the request when it refuses. */
static bool stat_may_read(stat_plugin *sp, dtr_request *req)
{
    const dtr_host_api *api = sp->api;
    bool open = api->public_read && api->public_read(sp->self);
    if (open && !api->req_header(req, "Authorization")) return true;
    const dtr_identity *who = NULL;
    dtr_status st = api->req_authenticate ? api->req_authenticate(sp->self, req, &who) : DTR_OK;
    if (st == DTR_DECLINED) {
        stat_unauthorized(sp, req, "ukendt klient eller forkert hemmelighed");
        return false;
    }
    if (st != DTR_OK) {
        api->respond_problem(req, 503, "IKKE_KLAR", NULL, "klienterne kunne ikke læses");
        return false;
    }
    if (!open && !who) {
        stat_unauthorized(sp, req, "log ind med HTTP Basic (clientId:secret)");
        return false;
    }
    return true;
}

/* ---- the work ------------------------------------------------------------------------ */

static char *stat_dump(json_t *answer, size_t *len)
{
    char *body = json_dumps(answer, DTR_JSON_WIRE);
    json_decref(answer);
    if (!body) abort();
    *len = strlen(body);
    return body;
}

/* Pool thread: reads the day's units page by page inside one snapshot,
 * counts them, serializes the count. */
static void stat_job_work(void *udata)
{
    stat_job *j = udata;
    const dtr_host_api *api = j->sp->api;
    int64_t seq = 0;
    j->rc = api->snapshot_begin(j->reader, &seq);
    if (j->rc != DTR_OK) return;
    stat_pager pager;
    stat_pager_init(&pager, api, j->reader, j->day);
    stat_units page = {0};
    stat_tally tally;
    stat_tally_init(&tally, j->fields, j->nfields);
    while (j->rc == DTR_OK && !pager.last) {
        j->rc = stat_pager_next(&pager, &page);
        if (j->rc == DTR_OK) stat_tally_add(&tally, &page);
    }
    api->snapshot_end(j->reader);
    stat_pager_free(&pager);
    stat_units_free(&page);
    if (j->rc == DTR_OK) {
        json_t *rows = stat_tally_rows(&tally);
        if (j->csv) {
            j->body = stat_rows_csv(rows, j->fields, j->nfields, &j->len);
            json_decref(rows);
        } else {
            j->body = stat_dump(json_pack("{s:s, s:o, s:I}", "dato", j->day, "raekker", rows,
                                          "total", (json_int_t)tally.total),
                                &j->len);
        }
    }
    stat_tally_free(&tally);
}

static void stat_job_done(void *udata, int status)
{
    stat_job *j = udata;
    stat_plugin *sp = j->sp;
    stat_reader_give(sp, j->reader);
    if (j->req) {
        sp->api->req_on_abort(j->req, NULL, NULL);
        if (status == 0 && j->rc == DTR_OK && j->body)
            sp->api->respond(j->req, 200, j->csv ? "text/csv; charset=utf-8" : "application/json",
                             j->body, j->len);
        else
            sp->api->respond_problem(j->req, 503, "IKKE_KLAR", NULL, "registeret kunne ikke læses");
    }
    free(j->body);
    free(j);
}

static void stat_job_aborted(dtr_request *req, void *udata)
{
    (void)req;
    ((stat_job *)udata)->req = NULL;
}

/* ---- the routes ------------------------------------------------------------------------ */

static bool stat_wants_csv(const dtr_host_api *api, dtr_request *req)
{
    const char *accept = api->req_header(req, "Accept");
    return accept && strstr(accept, "text/csv") != NULL;
}

/* Parses dato (or its default) into j->day; answers 400 when it is bad. */
static bool stat_parse_day(stat_plugin *sp, dtr_request *req, stat_job *j)
{
    const char *dato = sp->api->req_query(req, "dato");
    if (!dato) {
        stat_default_day(time(NULL), j->day);
        return true;
    }
    if (!stat_valid_day(dato)) {
        sp->api->respond_problem(req, 400, "UGYLDIG_PARAMETER", "dato",
                                 "dato skal være en dag skrevet ÅÅÅÅ-MM-DD");
        return false;
    }
    memcpy(j->day, dato, 11);
    return true;
}

static dtr_status stat_submit(stat_plugin *sp, dtr_request *req, stat_job *j)
{
    j->sp = sp;
    j->req = req;
    j->csv = stat_wants_csv(sp->api, req);
    j->reader = stat_reader_take(sp);
    if (!j->reader) {
        free(j);
        sp->api->respond_problem(req, 503, "IKKE_KLAR", NULL, "registeret kunne ikke læses");
        return DTR_OK;
    }
    sp->api->req_on_abort(req, stat_job_aborted, j);
    if (sp->api->work_submit(sp->self, stat_job_work, stat_job_done, j) != DTR_OK) {
        sp->api->req_on_abort(req, NULL, NULL);
        stat_reader_give(sp, j->reader);
        free(j);
        sp->api->respond_problem(req, 503, "IKKE_KLAR", NULL, "serveren er optaget");
    }
    return DTR_OK;
}

/* The key list's stream is done with its reader (loop thread). */
static void stat_stream_reader_back(void *ctx, dtr_reader *r)
{
    stat_reader_give(ctx, r);
}

static dtr_status stat_route_optaelling(dtr_request *req, void *udata)
{
    stat_plugin *sp = udata;
    if (!stat_may_read(sp, req)) return DTR_OK;
    stat_job *j = calloc(1, sizeof *j);
    if (!j) abort();
    if (!stat_parse_day(sp, req, j)) {
        free(j);
        return DTR_OK;
    }
    const char *grupper = sp->api->req_query(req, "grupper");
    int n = stat_parse_groups(grupper ? grupper : "kommuneKode,instType3,ejerformKode", j->fields);
    if (n < 0) {
        free(j);
        sp->api->respond_problem(req, 400, "UGYLDIG_PARAMETER", "grupper",
                                 "grupper er en kommasepareret liste af kommuneKode, instType3 "
                                 "og ejerformKode, hver højst én gang");
        return DTR_OK;
    }
    j->nfields = (size_t)n;
    return stat_submit(sp, req, j);
}

/* GET /v1/statistik/enheder: the stream (stream.c) answers. */
static dtr_status stat_route_enheder(dtr_request *req, void *udata)
{
    stat_plugin *sp = udata;
    if (!stat_may_read(sp, req)) return DTR_OK;
    stat_job params;
    memset(&params, 0, sizeof params);
    if (!stat_parse_day(sp, req, &params)) return DTR_OK;
    dtr_reader *r = stat_reader_take(sp);
    if (!r) {
        sp->api->respond_problem(req, 503, "IKKE_KLAR", NULL, "registeret kunne ikke læses");
        return DTR_OK;
    }
    if (!stat_enheder_stream(sp->api, sp->self, req, r, params.day, stat_wants_csv(sp->api, req),
                             stat_stream_reader_back, sp)) {
        stat_reader_give(sp, r);
        sp->api->respond_problem(req, 503, "IKKE_KLAR", NULL, "serveren er optaget");
    }
    return DTR_OK;
}

/* ---- lifecycle -------------------------------------------------------------------------- */

static dtr_status stat_init(dtr_plugin *self, const dtr_host_api *api, const json_t *config,
                            void **state, char *err, size_t errlen)
{
    if (!api->reader_open || !api->reader_close || !api->read_list || !api->snapshot_begin ||
        !api->snapshot_end) {
        snprintf(err, errlen, "statistik: the host lacks the register functions (reads)");
        return DTR_ERROR;
    }
    if (config && !json_is_object(config)) {
        snprintf(err, errlen, "statistik: the config must be an object");
        return DTR_DECLINED;
    }
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)config, key, v)
    {
        snprintf(err, errlen, "statistik.%s: unknown key (statistik takes none)", key);
        return DTR_DECLINED;
    }
    stat_plugin *sp = calloc(1, sizeof *sp);
    if (!sp) abort();
    sp->self = self;
    sp->api = api;
    if (api->route_add(self, "GET", "/v1/statistik/optaelling", 0, stat_route_optaelling, sp, err,
                       errlen) != DTR_OK ||
        api->route_add(self, "GET", "/v1/statistik/enheder", 0, stat_route_enheder, sp, err,
                       errlen) != DTR_OK) {
        free(sp);
        return DTR_ERROR;
    }
    stat_openapi_describe(api, self);
    *state = sp;
    return DTR_OK;
}

static void stat_stop(void *state)
{
    ((stat_plugin *)state)->stopped = true;
}

static void stat_free(void *state)
{
    stat_plugin *sp = state;
    if (!sp) return;
    while (sp->nidle)
        sp->api->reader_close(sp->idle[--sp->nidle]);
    free(sp);
}

/* The one exported symbol (DTR_PLUGIN_SYMBOL). */
DTR_PLUGIN_EXPORT const dtr_plugin_descriptor dtr_plugin_entry = {
    .abi_major = DTR_ABI_MAJOR,
    .abi_minor = DTR_ABI_MINOR,
    .struct_size = sizeof(dtr_plugin_descriptor),
    .name = "statistik",
    .version = "1.0.0",
    .kinds = DTR_KIND_PROTOCOL,
    .init = stat_init,
    .stop = stat_stop,
    .free = stat_free,
};
