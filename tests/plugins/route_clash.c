/*
 * route_clash.c -- a test plugin whose route is already the "good" plugin's
 * (GET /good/greeting). It ignores the refusal route_add gives it and
 * answers DTR_OK from init: the host must still stop the start, naming both
 * plugins.
 */
#include <dtr/plugin.h>

static dtr_status route_clash_handler(dtr_request *req, void *udata)
{
    const dtr_host_api *api = udata;
    api->respond(req, 200, "text/plain", "clash", 5);
    return DTR_OK;
}

static dtr_status route_clash_init(dtr_plugin *self, const dtr_host_api *api, const json_t *config,
                                   void **state, char *err, size_t errlen)
{
    (void)config;
    api->route_add(self, "GET", "/route_clash/own", 0, route_clash_handler, (void *)api, err,
                   errlen);
    api->route_add(self, "GET", "/good/greeting", 0, route_clash_handler, (void *)api, err, errlen);
    *state = NULL;
    return DTR_OK;
}

DTR_PLUGIN_EXPORT const dtr_plugin_descriptor dtr_plugin_entry = {
    .abi_major = DTR_ABI_MAJOR,
    .abi_minor = DTR_ABI_MINOR,
    .struct_size = sizeof(dtr_plugin_descriptor),
    .name = "route_clash",
    .version = "1.0.0",
    .kinds = DTR_KIND_PROTOCOL,
    .init = route_clash_init,
};
