/*
 * endpoints.h -- the core's own routes: GET /healthz, /readyz and /metrics.
 *
 * The handlers speak the plugin ABI (dtr_route_fn, answering through a
 * dtr_host_api table), so they need nothing of net/ but the table, and a
 * test can hand them a fake one. The host registers them in every router it
 * builds, with the owner "core".
 *
 * Readiness is a list of checks: /readyz answers 200 only when every check
 * says ready. The host adds "plugins" (every plugin started, not shutting
 * down); the store adds its own ("writable") when it arrives.
 *
 * Loop thread only.
 */
#ifndef DTR_OPS_ENDPOINTS_H
#define DTR_OPS_ENDPOINTS_H

#include <stdbool.h>
#include <stddef.h>

#include "dtr/plugin.h"
#include "ops/metrics.h"

typedef struct ops_endpoints ops_endpoints;

/* A readiness check: true when ready; otherwise writes why (a short phrase,
 * e.g. "shutting down") into why. */
typedef bool (*ops_ready_fn)(void *udata, char *why, size_t whylen);

/* Called before /metrics renders, to refresh gauges (open connections, a
 * consumer's lag) in m. */
typedef void (*ops_metrics_hook_fn)(void *udata, ops_metrics *m);

/* api and metrics are borrowed and must outlive the endpoints. */
ops_endpoints *ops_endpoints_new(const dtr_host_api *api, ops_metrics *metrics);
void ops_endpoints_free(ops_endpoints *e);

/* Adds a readiness check named name (copied; it appears in the 503's text). */
void ops_endpoints_add_ready_check(ops_endpoints *e, const char *name, ops_ready_fn fn,
                                   void *udata);
/* Adds a hook run before every /metrics rendering. */
void ops_endpoints_add_metrics_hook(ops_endpoints *e, ops_metrics_hook_fn fn, void *udata);

/* True when every readiness check passes; otherwise false and the first
 * failing check's "name: why" in why. */
bool ops_endpoints_ready(const ops_endpoints *e, char *why, size_t whylen);

/* The OpenAPI 3.1 description of the three routes: a "paths" object
 * {"/healthz": {"get": {...}}, ...} (a new reference), for the document at
 * GET /v1/openapi.json. Its error answer refers to the rest plugin's shared
 * components (#/components/schemas/Problem). NULL only when out of memory. */
json_t *ops_endpoints_openapi(void);

/* The route handlers; udata is the ops_endpoints. */
dtr_status ops_endpoint_healthz(dtr_request *req, void *udata);
dtr_status ops_endpoint_readyz(dtr_request *req, void *udata);
dtr_status ops_endpoint_metrics(dtr_request *req, void *udata);

#endif /* DTR_OPS_ENDPOINTS_H */
