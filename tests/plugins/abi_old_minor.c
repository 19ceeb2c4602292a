/*
 * abi_old_minor.c -- a plugin as it was built against ABI 1.0, before 1.2
 * appended "consume" to the descriptor: abi_minor 0 and a struct_size that
 * ends where 1.0's descriptor ended. The host must accept it and see the
 * fields beyond its struct_size as NULL. (The bytes after its struct_size
 * are set here to garbage on purpose: the host must not read them.)
 */
#include <stddef.h>

#include <dtr/plugin.h>

static dtr_status abi_old_minor_answer(dtr_request *req, void *udata)
{
    const dtr_host_api *api = udata;
    api->respond(req, 200, "text/plain", "old", 3);
    return DTR_OK;
}

static dtr_status abi_old_minor_init(dtr_plugin *self, const dtr_host_api *api,
                                     const json_t *config, void **state, char *err, size_t errlen)
{
    (void)config;
    *state = NULL;
    return api->route_add(self, "GET", "/abi_old_minor", 0, abi_old_minor_answer, (void *)api, err,
                          errlen);
}

static void abi_old_minor_not_a_callback(void *state, const json_t *events)
{
    (void)state, (void)events;
    __builtin_trap(); /* the host must never call past struct_size */
}

DTR_PLUGIN_EXPORT const dtr_plugin_descriptor dtr_plugin_entry = {
    .abi_major = DTR_ABI_MAJOR,
    .abi_minor = 0,
    .struct_size = offsetof(dtr_plugin_descriptor, consume),
    .name = "abi_old_minor",
    .version = "1.0.0",
    .kinds = DTR_KIND_PROTOCOL,
    .init = abi_old_minor_init,
    .consume = abi_old_minor_not_a_callback,
};
