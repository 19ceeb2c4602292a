/*
 * describe.c -- see describe.h.
 */
#include "describe.h"

void describe_routes(const dtr_host_api *api, dtr_plugin *self, const json_t *paths)
{
    if (!api->openapi_describe) return;
    char err[512];
    if (api->openapi_describe(self, paths, err, sizeof err) != DTR_OK)
        api->log(self, DTR_LOG_WARN, "the routes are not described: %s", err);
}

void describe_routes_text(const dtr_host_api *api, dtr_plugin *self, const char *text)
{
    if (!api->openapi_describe) return;
    json_error_t error;
    json_t *paths = json_loads(text, 0, &error);
    if (!paths) {
        api->log(self, DTR_LOG_ERROR, "openapi text, line %d: %s", error.line, error.text);
        return;
    }
    describe_routes(api, self, paths);
    json_decref(paths);
}
