/*
 * refuses_config.c -- a test plugin that validates its config the way a
 * vendor adapter would and refuses a bad one: "vendor_url" is required and
 * must be a string starting with "http://" or "https://"; no other key is
 * allowed. The host must stop the start with the plugin's message.
 */
#include <stdio.h>
#include <string.h>

#include <dtr/plugin.h>

static dtr_status refuses_config_init(dtr_plugin *self, const dtr_host_api *api,
                                      const json_t *config, void **state, char *err, size_t errlen)
{
    (void)self, (void)api;
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)config, key, v)
    {
        if (strcmp(key, "vendor_url") != 0) {
            snprintf(err, errlen, "%s: unknown key", key);
            return DTR_DECLINED;
        }
    }
    v = json_object_get(config, "vendor_url");
    if (!v) {
        snprintf(err, errlen, "vendor_url: missing (the vendor's base URL)");
        return DTR_DECLINED;
    }
    if (!json_is_string(v)) {
        snprintf(err, errlen, "vendor_url: expected a string");
        return DTR_DECLINED;
    }
    const char *url = json_string_value(v);
    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) {
        snprintf(err, errlen, "vendor_url: expected an http:// or https:// URL");
        return DTR_DECLINED;
    }
    *state = NULL;
    return DTR_OK;
}

DTR_PLUGIN_EXPORT const dtr_plugin_descriptor dtr_plugin_entry = {
    .abi_major = DTR_ABI_MAJOR,
    .abi_minor = DTR_ABI_MINOR,
    .struct_size = sizeof(dtr_plugin_descriptor),
    .name = "refuses_config",
    .version = "1.0.0",
    .kinds = DTR_KIND_PROTOCOL,
    .init = refuses_config_init,
};
