/*
 * abi_minor_newer.c -- a test plugin the host must refuse: built for a minor version newer than the
 * host's (it might call functions the host does not have).
 */
#include <dtr/plugin.h>

static dtr_status abi_minor_newer_init(dtr_plugin *self, const dtr_host_api *api,
                                       const json_t *config, void **state, char *err, size_t errlen)
{
    (void)self, (void)api, (void)config, (void)err, (void)errlen;
    *state = NULL;
    return DTR_OK;
}

DTR_PLUGIN_EXPORT const dtr_plugin_descriptor dtr_plugin_entry = {
    .abi_major = DTR_ABI_MAJOR,
    .abi_minor = DTR_ABI_MINOR + 1,
    .struct_size = sizeof(dtr_plugin_descriptor),
    .name = "abi_minor_newer",
    .version = "1.0.0",
    .kinds = DTR_KIND_PROTOCOL,
    .init = abi_minor_newer_init,
};
