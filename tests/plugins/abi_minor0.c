/*
 * abi_minor0.c -- a test plugin built as for ABI 2.0 (minor 0, a host table
 * without the 2.1 functions): a 2.1 host must load and run it as it is. Its
 * init checks that the table it gets reaches respond_owned (the host is
 * newer) and answers GET /minor0 with respond, as a 2.0 plugin would.
 */
#include <string.h>

#include <dtr/plugin.h>

static const dtr_host_api *minor0_api;

static dtr_status minor0_get(dtr_request *req, void *udata)
{
    (void)udata;
    minor0_api->respond(req, 200, "text/plain", "2.0", 3);
    return DTR_OK;
}

static dtr_status minor0_init(dtr_plugin *self, const dtr_host_api *api, const json_t *config,
                              void **state, char *err, size_t errlen)
{
    (void)config;
    *state = NULL;
    minor0_api = api;
    if (!DTR_HOST_HAS(api, respond_owned) || api->abi_minor < 1) return DTR_ERROR;
    return api->route_add(self, "GET", "/minor0", 0, minor0_get, NULL, err, errlen);
}

DTR_PLUGIN_EXPORT const dtr_plugin_descriptor dtr_plugin_entry = {
    .abi_major = DTR_ABI_MAJOR,
    .abi_minor = 0,
    .struct_size = sizeof(dtr_plugin_descriptor),
    .name = "abi_minor0",
    .version = "1.0.0",
    .kinds = DTR_KIND_PROTOCOL,
    .init = minor0_init,
};
