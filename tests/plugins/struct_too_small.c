/*
 * struct_too_small.c -- a test plugin the host must refuse: its descriptor claims to end before the
 * callbacks its minor defines.
 */
#include <dtr/plugin.h>

static dtr_status struct_too_small_init(dtr_plugin *self, const dtr_host_api *api,
                                        const json_t *config, void **state, char *err,
                                        size_t errlen)
{
    (void)self, (void)api, (void)config, (void)err, (void)errlen;
    *state = NULL;
    return DTR_OK;
}

DTR_PLUGIN_EXPORT const dtr_plugin_descriptor dtr_plugin_entry = {
    .abi_major = DTR_ABI_MAJOR,
    .abi_minor = DTR_ABI_MINOR,
    .struct_size = offsetof(dtr_plugin_descriptor, init),
    .name = "struct_too_small",
    .version = "1.0.0",
    .kinds = DTR_KIND_PROTOCOL,
    .init = struct_too_small_init,
};
