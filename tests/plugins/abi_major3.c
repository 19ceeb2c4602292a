/*
 * abi_major3.c -- a test plugin the host must refuse: built for ABI major 3, which this host does
 * not speak.
 */
#include <dtr/plugin.h>

static dtr_status abi_major3_init(dtr_plugin *self, const dtr_host_api *api, const json_t *config,
                                  void **state, char *err, size_t errlen)
{
    (void)self, (void)api, (void)config, (void)err, (void)errlen;
    *state = NULL;
    return DTR_OK;
}

DTR_PLUGIN_EXPORT const dtr_plugin_descriptor dtr_plugin_entry = {
    .abi_major = 3,
    .abi_minor = 0,
    .struct_size = sizeof(dtr_plugin_descriptor),
    .name = "abi_major3",
    .version = "1.0.0",
    .kinds = DTR_KIND_PROTOCOL,
    .init = abi_major3_init,
};
