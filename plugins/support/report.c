/*
 * report.c -- GET /support/api/konsistens: the consistency report
 * (DOMAIN.md): daginstitutioner in effect without an anvisningsenhed in
 * effect, and anvisningsenheder in effect without a P-nummer (they cannot
 * get Unilogin users). For a logged-in person.
 *
 *   {"sekvensnummer", "udenAktivEnhed": [{"nummer", "navn", "admKommuneKode", "status"}],
 *    "udenPNummer": [{"nummer", "navn", "daginstitutionsNummer", "adresse", "status"}]}
 *
 * It reads the whole register, so it runs on the thread pool with a reader
 * of its own inside one snapshot, a page of a thousand daginstitutioner
 * (nested) at a time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

#if DTR_ABI_MAJOR >= 2
typedef struct report_job {
    support_plugin *sp;
    dtr_request *req;
    int64_t seq;
    json_t *out; /* the answer, made on the pool; NULL when the store failed */
} report_job;

static bool in_effect(const json_t *r)
{
    const char *status = json_string_value(json_object_get(r, "status"));
    return status && strcmp(status, "nedlagt") != 0;
}

/* One daginstitution (nested) into the report's two lists. */
static void report_dag(const json_t *dag, json_t *dags, json_t *units)
{
    if (!in_effect(dag)) return;
    bool active = false;
    size_t i;
    json_t *u;
    json_array_foreach(json_object_get(dag, "anvisningsenheder"), i, u)
    {
        const char *status = json_string_value(json_object_get(u, "status"));
        if (status && strcmp(status, "aktiv") == 0) active = true;
        if (in_effect(u) && json_is_null(json_object_get(u, "pNummer")))
            json_array_append_new(
                units,
                json_pack("{s:O, s:O, s:O, s:O, s:O}", "nummer", json_object_get(u, "nummer"),
                          "navn", json_object_get(u, "navn"), "daginstitutionsNummer",
                          json_object_get(dag, "nummer"), "adresse", json_object_get(u, "adresse"),
                          "status", json_object_get(u, "status")));
    }
    if (!active)
        json_array_append_new(dags, json_pack("{s:O, s:O, s:O, s:O}", "nummer",
                                              json_object_get(dag, "nummer"), "navn",
                                              json_object_get(dag, "navn"), "admKommuneKode",
                                              json_object_get(dag, "admKommuneKode"), "status",
                                              json_object_get(dag, "status")));
}

static void report_work(void *udata)
{
    report_job *j = udata;
    const dtr_host_api *api = j->sp->api;
    dtr_reader *r = api->reader_open(j->sp->self);
    if (!r) return;
    if (api->snapshot_begin(r, &j->seq) != DTR_OK) {
        api->reader_close(r);
        return;
    }
    json_t *dags = json_array(), *units = json_array();
    char after[7] = "";
    bool ok = true;
    do {
        dtr_query q = {.level = DTR_LEVEL_DAGINSTITUTION,
                       .after = after[0] ? after : NULL,
                       .limit = 1000,
                       .nested = 1};
        json_t *items = NULL;
        char next[7] = "";
        if (api->read_list(r, &q, &items, next) != DTR_OK) {
            ok = false;
            break;
        }
        size_t i;
        json_t *dag;
        json_array_foreach(items, i, dag) report_dag(dag, dags, units);
        json_decref(items);
        memcpy(after, next, sizeof after);
    } while (after[0]);
    api->snapshot_end(r);
    api->reader_close(r);
    if (ok)
        j->out = json_pack("{s:I, s:o, s:o}", "sekvensnummer", (json_int_t)j->seq, "udenAktivEnhed",
                           dags, "udenPNummer", units);
    else {
        json_decref(dags);
        json_decref(units);
    }
}

static void report_done(void *udata, int status)
{
    report_job *j = udata;
    const dtr_host_api *api = j->sp->api;
    if (status == 0 && j->out) {
        api->resp_header(j->req, "Cache-Control", "no-store");
        api->respond_json(j->req, 200, NULL, j->out);
        j->out = NULL;
    } else {
        api->respond_problem(j->req, 503, "IKKE_KLAR", NULL, "registeret kan ikke læses nu");
    }
    json_decref(j->out);
    free(j);
}

static dtr_status support_route_konsistens(dtr_request *req, void *udata)
{
    support_plugin *sp = udata;
    dtr_identity_info info;
    if (support_person(sp, req, &info, true) != DTR_OK) return DTR_OK;
    report_job *j = calloc(1, sizeof *j);
    if (!j) abort();
    j->sp = sp;
    j->req = req;
    if (sp->api->work_submit(sp->self, report_work, report_done, j) != DTR_OK) {
        free(j);
        sp->api->respond_problem(req, 503, "IKKE_KLAR", NULL, "prøv igen");
    }
    return DTR_OK;
}

dtr_status support_report_routes(support_plugin *sp, char *err, size_t errlen)
{
    return sp->api->route_add(sp->self, "GET", "/support/api/konsistens", 0,
                              support_route_konsistens, sp, err, errlen);
}
#else
dtr_status support_report_routes(support_plugin *sp, char *err, size_t errlen)
{
    (void)sp, (void)err, (void)errlen;
    return DTR_OK;
}
#endif
