/*
 * describe.h -- handing a plugin's route descriptions to the host for
 * GET /v1/openapi.json (dtr_host_api.openapi_describe), shared by
 * the plugins that describe routes (csv, unilogin, portal, statistik).
 * Plugin-side code, compiled into each plugin's .so that lists it among its
 * sources. Call in init, after route_add. Loop thread.
 */
#ifndef DTR_COMMON_DESCRIBE_H
#define DTR_COMMON_DESCRIBE_H

#include <dtr/plugin.h>

/* Hands paths (an OpenAPI paths object, borrowed) to the host. A host
 * without openapi_describe (a test's fake host) gets nothing; a description
 * the host refuses is logged, and the plugin runs on without it. */
void describe_routes(const dtr_host_api *api, dtr_plugin *self, const json_t *paths);

/* The same from JSON text; a text that does not parse is logged. */
void describe_routes_text(const dtr_host_api *api, dtr_plugin *self, const char *text);

#endif
