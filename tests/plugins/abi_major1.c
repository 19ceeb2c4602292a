/*
 * abi_major1.c -- a plugin as it was built against ABI 1.4, the last 1.x:
 * the host of ABI 2.0 must refuse it with a message that says a 1.x plugin
 * has to be moved over (2.0 changed identities, commands and statuses). Its
 * init must never run.
 */
#include <dtr/plugin.h>

static dtr_status abi_major1_init(dtr_plugin *self, const dtr_host_api *api, const json_t *config,
                                  void **state, char *err, size_t errlen)
{
    (void)self, (void)api, (void)config, (void)state, (void)err, (void)errlen;
    __builtin_trap(); /* a refused plugin is never initialised */
}

DTR_PLUGIN_EXPORT const dtr_plugin_descriptor dtr_plugin_entry = {
    .abi_major = 1,
    .abi_minor = 4,
    .struct_size = sizeof(dtr_plugin_descriptor),
    .name = "abi_major1",
    .version = "1.4.0",
    .kinds = DTR_KIND_PROTOCOL,
    .init = abi_major1_init,
};
