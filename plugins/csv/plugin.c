/*
 * plugin.c -- the csv format plugin's descriptor: the register's public CSV
 * export layout for dtr import, dtr export and dtr generate.
 *
 * The plugin keeps no state but the host's table: every call reads or
 * writes what it is handed, so one instance serves any number of calls, on
 * whichever thread the host makes them (the code lists are "any thread").
 * In a server it also answers GET /v1/eksport/{fil} (eksport.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csvp.h"

/* Creates an instance. The config takes no keys yet: any key is refused
 * with its name, so a typo in dtr.json is caught at start. */
static dtr_status csvp_init(dtr_plugin *self, const dtr_host_api *api, const json_t *config,
                            void **state, char *err, size_t errlen)
{
    if (config != NULL && !json_is_object(config)) {
        snprintf(err, errlen, "csv: config must be an object");
        return DTR_DECLINED;
    }
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)config, key, value)
    {
        (void)value;
        snprintf(err, errlen, "csv: unknown config key '%s'", key);
        return DTR_DECLINED;
    }
    if (api == NULL || api->code_text == NULL) {
        snprintf(err, errlen, "csv: the host has no code lists (code_text)");
        return DTR_DECLINED;
    }
    csvp_state *st = calloc(1, sizeof *st);
    if (st == NULL) {
        snprintf(err, errlen, "csv: out of memory");
        return DTR_ERROR;
    }
    st->self = self;
    st->api = api;
    *state = st;
    /* GET /v1/eksport/{fil} (eksport.c); a route the host refuses is
     * reported by the host, which then frees this instance */
    csvp_eksport_routes(st, err, errlen);
    return DTR_OK;
}

static void csvp_free(void *state)
{
    free(state);
}

static const char *csvp_export_file_name(void *state, int level)
{
    (void)state;
    const csvp_layout *layout = csvp_layout_of(level);
    return layout ? layout->file_name : NULL;
}

/* The descriptor. Its C name differs from the exported symbol because
 * plugin.h already uses the identifier dtr_plugin for the instance handle
 * type; the assembler label gives the .so the symbol DTR_PLUGIN_SYMBOL. */
__attribute__((visibility("default"))) const dtr_plugin_descriptor csvp_descriptor = {
    .abi_major = DTR_ABI_MAJOR,
    .abi_minor = DTR_ABI_MINOR,
    .struct_size = sizeof(dtr_plugin_descriptor),
    .name = "csv",
    .version = "1.0.0",
    .kinds = DTR_KIND_FORMAT,
    .init = csvp_init,
    .start = NULL,
    .stop = NULL,
    .free = csvp_free,
    .import_read = csvp_import_read,
    .export_write = csvp_export_write,
    .export_file_name = csvp_export_file_name,
    .generate = csvp_generate,
};
