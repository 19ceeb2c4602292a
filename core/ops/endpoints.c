/*
 * endpoints.c -- GET /healthz, /readyz and /metrics (see endpoints.h).
 */
#include "ops/endpoints.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct ops_ready_check {
    char *name;
    ops_ready_fn fn;
    void *udata;
} ops_ready_check;

typedef struct ops_metrics_hook {
    ops_metrics_hook_fn fn;
    void *udata;
} ops_metrics_hook;

struct ops_endpoints {
    const dtr_host_api *api; /* borrowed */
    ops_metrics *metrics;    /* borrowed */
    ops_ready_check *checks;
    size_t nchecks;
    ops_metrics_hook *hooks;
    size_t nhooks;
    struct timespec started_mono; /* for the uptime gauge */
    double started_wall;          /* seconds since the epoch */
};

static double ops_seconds(const struct timespec *ts)
{
    return (double)ts->tv_sec + (double)ts->tv_nsec / 1e9;
}

ops_endpoints *ops_endpoints_new(const dtr_host_api *api, ops_metrics *metrics)
{
    ops_endpoints *e = calloc(1, sizeof *e);
    if (!e) abort();
    e->api = api;
    e->metrics = metrics;
    struct timespec wall;
    clock_gettime(CLOCK_MONOTONIC, &e->started_mono);
    clock_gettime(CLOCK_REALTIME, &wall);
    e->started_wall = ops_seconds(&wall);
    return e;
}

void ops_endpoints_free(ops_endpoints *e)
{
    if (!e) return;
    for (size_t i = 0; i < e->nchecks; i++)
        free(e->checks[i].name);
    free(e->checks);
    free(e->hooks);
    free(e);
}

void ops_endpoints_add_ready_check(ops_endpoints *e, const char *name, ops_ready_fn fn, void *udata)
{
    ops_ready_check *grown = realloc(e->checks, (e->nchecks + 1) * sizeof *grown);
    if (!grown) abort();
    e->checks = grown;
    ops_ready_check *c = &e->checks[e->nchecks++];
    c->name = strdup(name);
    if (!c->name) abort();
    c->fn = fn;
    c->udata = udata;
}

void ops_endpoints_add_metrics_hook(ops_endpoints *e, ops_metrics_hook_fn fn, void *udata)
{
    ops_metrics_hook *grown = realloc(e->hooks, (e->nhooks + 1) * sizeof *grown);
    if (!grown) abort();
    e->hooks = grown;
    e->hooks[e->nhooks].fn = fn;
    e->hooks[e->nhooks].udata = udata;
    e->nhooks++;
}

bool ops_endpoints_ready(const ops_endpoints *e, char *why, size_t whylen)
{
    for (size_t i = 0; i < e->nchecks; i++) {
        char reason[200] = "";
        if (e->checks[i].fn(e->checks[i].udata, reason, sizeof reason)) continue;
        if (why && whylen)
            snprintf(why, whylen, "%s: %s", e->checks[i].name, reason[0] ? reason : "not ready");
        return false;
    }
    return true;
}

/* GET /healthz: the process runs and its loop answers. */
dtr_status ops_endpoint_healthz(dtr_request *req, void *udata)
{
    ops_endpoints *e = udata;
    static const char body[] = "{\"status\":\"ok\"}";
    e->api->respond(req, 200, "application/json", body, sizeof body - 1);
    return DTR_OK;
}

/* GET /readyz: 200 when every check passes, else 503 IKKE_KLAR naming the
 * first check that failed. */
dtr_status ops_endpoint_readyz(dtr_request *req, void *udata)
{
    ops_endpoints *e = udata;
    char why[256];
    if (ops_endpoints_ready(e, why, sizeof why)) {
        static const char body[] = "{\"status\":\"ready\"}";
        e->api->respond(req, 200, "application/json", body, sizeof body - 1);
    } else {
        char tekst[300];
        snprintf(tekst, sizeof tekst, "not ready: %s", why);
        e->api->resp_header(req, "Retry-After", "1");
        e->api->respond_problem(req, 503, "IKKE_KLAR", NULL, tekst);
    }
    return DTR_OK;
}

/* GET /metrics: refreshes the gauges (hooks, uptime), then renders
 * everything in the Prometheus text format. */
dtr_status ops_endpoint_metrics(dtr_request *req, void *udata)
{
    ops_endpoints *e = udata;
    for (size_t i = 0; i < e->nhooks; i++)
        e->hooks[i].fn(e->hooks[i].udata, e->metrics);
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    ops_metrics_set(e->metrics, "dtr_process_uptime_seconds", "gauge",
                    "Seconds since the process started serving.",
                    ops_seconds(&now) - ops_seconds(&e->started_mono));
    ops_metrics_set(e->metrics, "dtr_process_start_time_seconds", "gauge",
                    "When the process started, in seconds since the Unix epoch.", e->started_wall);
    size_t len = 0;
    char *text = ops_metrics_render(e->metrics, &len);
    if (!text) return DTR_ERROR; /* the host answers 500 */
    e->api->respond(req, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
    free(text);
    return DTR_OK;
}

/* ---- the OpenAPI description ----------------------------------------------- */

/* Written once as JSON text, next to the handlers it describes. The three
 * routes are open to everyone (no credentials), as the host serves them. */
static const char ops_openapi_text[] =
    "{"
    "\"/healthz\": {\"get\": {"
    "  \"operationId\": \"get_healthz\", \"tags\": [\"drift\"],"
    "  \"summary\": \"Processen kører og svarer\","
    "  \"description\": \"200 så længe processen kører; siger intet om lageret eller "
    "plugins.\","
    "  \"security\": [{}],"
    "  \"responses\": {\"200\": {\"description\": \"OK\", \"content\": {\"application/json\": "
    "{\"schema\": {\"type\": \"object\", \"required\": [\"status\"], \"additionalProperties\": "
    "false, \"properties\": {\"status\": {\"type\": \"string\", \"const\": \"ok\"}}}}}}}}},"
    "\"/readyz\": {\"get\": {"
    "  \"operationId\": \"get_readyz\", \"tags\": [\"drift\"],"
    "  \"summary\": \"Klar til at tage imod forespørgsler\","
    "  \"description\": \"200 når alle plugins er startet og lageret kan skrives; ellers 503 "
    "IKKE_KLAR med den første kontrol der fejlede.\","
    "  \"security\": [{}],"
    "  \"responses\": {"
    "    \"200\": {\"description\": \"Klar\", \"content\": {\"application/json\": "
    "{\"schema\": {\"type\": \"object\", \"required\": [\"status\"], \"additionalProperties\": "
    "false, \"properties\": {\"status\": {\"type\": \"string\", \"const\": \"ready\"}}}}}},"
    "    \"503\": {\"description\": \"Ikke klar (starter, stopper, eller lageret kan ikke "
    "skrives). fejl[].kode: IKKE_KLAR\","
    "      \"headers\": {\"Retry-After\": {\"description\": \"Sekunder før næste forsøg.\","
    "        \"schema\": {\"type\": \"integer\"}}},"
    "      \"content\": {\"application/problem+json\": {\"schema\": "
    "{\"$ref\": \"#/components/schemas/Problem\"}}}}}}},"
    "\"/metrics\": {\"get\": {"
    "  \"operationId\": \"get_metrics\", \"tags\": [\"drift\"],"
    "  \"summary\": \"Målinger i Prometheus' tekstformat\","
    "  \"description\": \"Forespørgsler pr. rute og status, svartider (histogram), åbne "
    "forbindelser, commits og feedens forsinkelse pr. consumer.\","
    "  \"security\": [{}],"
    "  \"responses\": {\"200\": {\"description\": \"OK\", \"content\": "
    "{\"text/plain; version=0.0.4; charset=utf-8\": {\"schema\": {\"type\": \"string\"}}}}}}}"
    "}";

json_t *ops_endpoints_openapi(void)
{
    return json_loads(ops_openapi_text, 0, NULL);
}
