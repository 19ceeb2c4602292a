/*
 * wrong_name.c -- a test plugin the host must refuse: its descriptor names another plugin than the
 * config entry that loads it.
 */
#include <dtr/plugin.h>

static dtr_status wrong_name_init(dtr_plugin *self, const dtr_host_api *api, const json_t *config,
                                  void **state, char *err, size_t errlen)
{
    (void)self, (void)api, (void)config, (void)err, (void)errlen;
    *state = NULL;
    return DTR_OK;
}

DTR_PLUGIN_EXPORT const dtr_plugin_descriptor dtr_plugin_entry = {
    .abi_major = DTR_ABI_MAJOR,
    .abi_minor = DTR_ABI_MINOR,
    .struct_size = sizeof(dtr_plugin_descriptor),
    .name = "somebody_else",
    .version = "1.0.0",
    .kinds = DTR_KIND_PROTOCOL,
    .init = wrong_name_init,
};
