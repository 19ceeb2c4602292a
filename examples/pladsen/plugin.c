/*
 * plugin.c -- the Pladsen adapter's descriptor and instance: it registers
 * Pladsen's routes (ruter.c) and describes them for GET /v1/openapi.json.
 *
 * Config (dtr.json, plugins[].config): none; any key is refused by name.
 * The entry needs "path" when the .so is not in the server's plugin_dir:
 *
 *   {"name": "pladsen", "path": "/opt/pladsen/pladsen.so", "config": {}}
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pladsen.h"

/* The routes' OpenAPI description (docs/plugins.md, "Describing your
 * routes"): every route this instance registers, nothing else. */
static const char pladsen_openapi[] =
    "{"
    "\"/pladsen/v1/institutioner\": {\"post\": {\"operationId\": \"pladsen_opret\","
    "  \"summary\": \"Pladsen: an institution with its stuer (one nested create)\","
    "  \"tags\": [\"pladsen\"], \"security\": [{\"basicAuth\": []}],"
    "  \"parameters\": [{\"name\": \"kontroller\", \"in\": \"query\", \"schema\": "
    "{\"type\": \"boolean\"}}],"
    "  \"requestBody\": {\"required\": true, \"content\": {\"application/json\": "
    "{\"schema\": {\"type\": \"object\"}}}},"
    "  \"responses\": {\"200\": {\"description\": \"checked (kontroller=true)\"},"
    "    \"201\": {\"description\": \"created\"},"
    "    \"401\": {\"$ref\": \"#/components/responses/E401\"},"
    "    \"403\": {\"$ref\": \"#/components/responses/E403\"},"
    "    \"422\": {\"$ref\": \"#/components/responses/E422\"}}}},"
    "\"/pladsen/v1/institutioner/{nummer}\": {\"get\": {\"operationId\": \"pladsen_hent\","
    "  \"summary\": \"Pladsen: one institution with its stuer\","
    "  \"tags\": [\"pladsen\"], \"security\": [{\"basicAuth\": []}],"
    "  \"parameters\": [{\"name\": \"nummer\", \"in\": \"path\", \"required\": true,"
    "    \"schema\": {\"$ref\": \"#/components/schemas/Nummer\"}}],"
    "  \"responses\": {\"200\": {\"description\": \"the institution in Pladsen's shape\"},"
    "    \"401\": {\"$ref\": \"#/components/responses/E401\"},"
    "    \"404\": {\"$ref\": \"#/components/responses/E404\"},"
    "    \"410\": {\"$ref\": \"#/components/responses/E410\"}}}},"
    "\"/pladsen/v1/institutioner/{nummer}/stuer\": {\"post\": {\"operationId\": \"pladsen_stuer\","
    "  \"summary\": \"Pladsen: more stuer for an institution (one transaction)\","
    "  \"tags\": [\"pladsen\"], \"security\": [{\"basicAuth\": []}],"
    "  \"parameters\": [{\"name\": \"nummer\", \"in\": \"path\", \"required\": true,"
    "    \"schema\": {\"$ref\": \"#/components/schemas/Nummer\"}},"
    "    {\"name\": \"kontroller\", \"in\": \"query\", \"schema\": {\"type\": \"boolean\"}}],"
    "  \"requestBody\": {\"required\": true, \"content\": {\"application/json\": "
    "{\"schema\": {\"type\": \"object\"}}}},"
    "  \"responses\": {\"200\": {\"description\": \"created or checked\"},"
    "    \"401\": {\"$ref\": \"#/components/responses/E401\"},"
    "    \"422\": {\"$ref\": \"#/components/responses/E422\"}}}},"
    "\"/pladsen/v1/omlaegninger\": {\"post\": {\"operationId\": \"pladsen_omlaeg\","
    "  \"summary\": \"Pladsen: new institution, stuer moved to it, the old closed (one "
    "transaction)\","
    "  \"tags\": [\"pladsen\"], \"security\": [{\"basicAuth\": []}],"
    "  \"parameters\": [{\"name\": \"kontroller\", \"in\": \"query\", \"schema\": "
    "{\"type\": \"boolean\"}}],"
    "  \"requestBody\": {\"required\": true, \"content\": {\"application/json\": "
    "{\"schema\": {\"type\": \"object\"}}}},"
    "  \"responses\": {\"200\": {\"description\": \"done or checked\"},"
    "    \"401\": {\"$ref\": \"#/components/responses/E401\"},"
    "    \"409\": {\"$ref\": \"#/components/responses/E409\"},"
    "    \"422\": {\"$ref\": \"#/components/responses/E422\"}}}}"
    "}";

static const struct {
    const char *method, *pattern;
    dtr_route_fn fn;
} pladsen_ruter[] = {
    {"POST", "/pladsen/v1/institutioner", pladsen_opret},
    {"GET", "/pladsen/v1/institutioner/{nummer}", pladsen_hent},
    {"POST", "/pladsen/v1/institutioner/{nummer}/stuer", pladsen_stuer},
    {"POST", "/pladsen/v1/omlaegninger", pladsen_omlaeg},
};

/* Hands the host the routes' description; a refusal only leaves them out
 * of the document, so it is logged, not fatal. */
static void pladsen_describe(pladsen *p)
{
    json_t *paths = json_loads(pladsen_openapi, 0, NULL);
    char why[256] = "";
    if (!paths || p->api->openapi_describe(p->self, paths, why, sizeof why) != DTR_OK)
        p->api->log(p->self, DTR_LOG_WARN, "routes not described: %s", paths ? why : "bad JSON");
    json_decref(paths);
}

static dtr_status pladsen_init(dtr_plugin *self, const dtr_host_api *api, const json_t *config,
                               void **state, char *err, size_t errlen)
{
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)config, key, v)
    {
        snprintf(err, errlen, "%s: unknown key (the pladsen plugin takes none)", key);
        return DTR_DECLINED;
    }
    pladsen *p = calloc(1, sizeof *p);
    if (!p) return DTR_ERROR;
    p->self = self;
    p->api = api;
    for (size_t i = 0; i < sizeof pladsen_ruter / sizeof pladsen_ruter[0]; i++) {
        if (api->route_add(self, pladsen_ruter[i].method, pladsen_ruter[i].pattern, 0,
                           pladsen_ruter[i].fn, p, err, errlen) != DTR_OK) {
            free(p);
            return DTR_ERROR;
        }
    }
    pladsen_describe(p);
    *state = p;
    return DTR_OK;
}

static void pladsen_free(void *state)
{
    free(state);
}

/* The one exported symbol. Everything else in the .so is hidden
 * (-fvisibility=hidden, see CMakeLists.txt). */
DTR_PLUGIN_EXPORT const dtr_plugin_descriptor dtr_plugin_entry = {
    .abi_major = DTR_ABI_MAJOR,
    .abi_minor = DTR_ABI_MINOR,
    .struct_size = sizeof(dtr_plugin_descriptor),
    .name = "pladsen",
    .version = "1.0.0",
    .kinds = DTR_KIND_PROTOCOL,
    .init = pladsen_init,
    .free = pladsen_free,
};
