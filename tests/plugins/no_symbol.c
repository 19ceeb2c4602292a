/*
 * no_symbol.c -- a test plugin the host must refuse: a shared object that
 * exports no "dtr_plugin_entry" descriptor (here it exports it under another name,
 * a mistake a plugin author can make).
 */
#include <dtr/plugin.h>

static dtr_status no_symbol_init(dtr_plugin *self, const dtr_host_api *api, const json_t *config,
                                 void **state, char *err, size_t errlen)
{
    (void)self, (void)api, (void)config, (void)err, (void)errlen;
    *state = NULL;
    return DTR_OK;
}

/* exported, but not as dtr_plugin_entry (DTR_PLUGIN_SYMBOL) */
DTR_PLUGIN_EXPORT const dtr_plugin_descriptor dtr_plugin_v1 = {
    .abi_major = DTR_ABI_MAJOR,
    .abi_minor = DTR_ABI_MINOR,
    .struct_size = sizeof(dtr_plugin_descriptor),
    .name = "no_symbol",
    .version = "1.0.0",
    .kinds = DTR_KIND_PROTOCOL,
    .init = no_symbol_init,
};
