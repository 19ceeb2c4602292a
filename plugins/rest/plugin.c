/*
 * plugin.c -- the REST plugin's descriptor: API v1 of the register over
 * HTTP+JSON (API.md). A protocol plugin: it registers the routes of
 * routes.c and turns each request into a read or a register command through
 * the host table (ABI 1.1). Its state: the fixed answers it makes at init
 * (code lists, the OpenAPI document) and the cache of GET answers
 * (cache.c), which the change feed keeps correct; the register itself lives
 * only in the store.
 *
 * Config (dtr.json, plugins[].config), every key optional:
 *   "udtraek_page_size": 1..1000   daginstitutioner per page an udtræk reads
 *                                  (default 100)
 *   "cache_bytes": >= 0            bytes of GET answers kept (cache.c; default
 *                                  64 MiB, 0: no cache)
 * Unknown keys and wrong types are refused with the key's name.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "rest.h"

static dtr_route_fn rest_handler_of(rest_kind kind)
{
    switch (kind) {
    case REST_OPENAPI:
        return rest_handle_openapi;
    case REST_CODES:
        return rest_handle_codes;
    case REST_LIST:
        return rest_handle_list;
    case REST_GET:
        return rest_handle_get;
    case REST_HISTORY:
        return rest_handle_history;
    case REST_DAGTILBUD:
        return rest_handle_dagtilbud;
    case REST_LATEST:
        return rest_handle_latest;
    case REST_EVENTS:
        return rest_handle_events;
    case REST_UDTRAEK:
        return rest_handle_udtraek;
    case REST_CREATE:
    case REST_UPDATE:
    case REST_CLOSE:
    case REST_DELETE:
    case REST_MOVE:
    case REST_REOPEN:
        return rest_handle_write;
    case REST_TRANSACTION:
        return rest_handle_transaction;
    }
    return NULL;
}

static int rest_read_config(rest *r, const json_t *config, char *err, size_t errlen)
{
    r->udtraek_page = REST_UDTRAEK_PAGE_DEFAULT;
    r->cache_bytes = REST_CACHE_BYTES_DEFAULT;
    if (!config) return 0;
    if (!json_is_object(config)) {
        snprintf(err, errlen, "config: expected an object");
        return -1;
    }
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)config, key, v)
    {
        if (strcmp(key, "udtraek_page_size") == 0) {
            if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 1000) {
                snprintf(err, errlen, "udtraek_page_size: expected an integer 1-1000");
                return -1;
            }
            r->udtraek_page = (size_t)json_integer_value(v);
        } else if (strcmp(key, "cache_bytes") == 0) {
            if (!json_is_integer(v) || json_integer_value(v) < 0) {
                snprintf(err, errlen, "cache_bytes: expected an integer >= 0");
                return -1;
            }
            r->cache_bytes = (size_t)json_integer_value(v);
        } else {
            snprintf(err, errlen, "%s: unknown key", key);
            return -1;
        }
    }
    return 0;
}

/* ---- loop iterations for the cache ------------------------------------------- */

/* After every poll phase: the next GET syncs the cache anew (cache.c). */
static void rest_iteration_end(uv_check_t *check)
{
    rest *r = check->data;
    rest_cache_stale(r->cache);
}

static void rest_check_closed(uv_handle_t *handle)
{
    free(handle);
}

/* Starts the instance: with a cache and the host's loop, a uv_check handle
 * marks where each loop iteration ends, so that one sync of the cache
 * serves all GETs of an iteration. Without a loop the cache syncs for every
 * GET (correct, only slower). */
static dtr_status rest_start(void *state, char *err, size_t errlen)
{
    rest *r = state;
    (void)err;
    (void)errlen;
    uv_loop_t *loop = r->cache && r->api->loop ? r->api->loop(r->self) : NULL;
    if (!loop) return DTR_OK;
    uv_check_t *check = calloc(1, sizeof *check);
    if (!check || uv_check_init(loop, check) != 0) {
        free(check);
        return DTR_OK;
    }
    check->data = r;
    uv_check_start(check, rest_iteration_end);
    uv_unref((uv_handle_t *)check); /* it never keeps the loop alive */
    r->check = check;
    rest_cache_memo(r->cache, true);
    return DTR_OK;
}

/* Stops the instance: the handle on the loop is closed (its memory goes in
 * the close callback) and the cache syncs for every GET from now on, for
 * the requests this instance may still answer. */
static void rest_stop(void *state)
{
    rest *r = state;
    if (!r->check) return;
    rest_cache_memo(r->cache, false);
    uv_check_t *check = r->check;
    r->check = NULL;
    uv_check_stop(check);
    uv_close((uv_handle_t *)check, rest_check_closed);
}

static void rest_free(void *state)
{
    rest *r = state;
    if (!r) return;
    rest_stop(r);
    rest_cache_free(r->cache);
    free(r->bindings);
    free(r->openapi.data);
    json_decref(r->openapi_own);
    for (size_t i = 0; i < 4; i++)
        free(r->codes[i].data);
    free(r);
}

/* Whether the host table has every function the plugin calls: ABI 1.1's
 * reads and commands at the end of the table. */
static bool rest_host_ok(const dtr_host_api *api)
{
    return api && api->abi_major == DTR_ABI_MAJOR && DTR_HOST_HAS(api, snapshot_end) &&
           api->req_authenticate && api->public_read && api->command_submit && api->reader &&
           api->reader_open && api->reader_close && api->read_get && api->read_list &&
           api->read_history && api->read_haendelser && api->read_latest && api->snapshot_begin &&
           api->snapshot_end;
}

/* Creates an instance: checks the config and the host, makes the fixed
 * answers, and registers every route of the table. */
static dtr_status rest_init(dtr_plugin *self, const dtr_host_api *api, const json_t *config,
                            void **state, char *err, size_t errlen)
{
    if (!rest_host_ok(api)) {
        snprintf(err, errlen, "the host lacks the register functions of ABI 1.1");
        return DTR_DECLINED;
    }
    rest *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return DTR_ERROR;
    }
    r->self = self;
    r->api = api;
    if (rest_read_config(r, config, err, errlen) != 0) {
        rest_free(r);
        return DTR_DECLINED;
    }
    r->bindings = calloc(rest_route_count, sizeof *r->bindings);
    if (r->cache_bytes) r->cache = rest_cache_new(r->cache_bytes);
    if (!r->bindings || rest_codes_build(r) != 0 || rest_openapi_build(r) != 0 ||
        (r->cache_bytes && !r->cache)) {
        snprintf(err, errlen, "out of memory");
        rest_free(r);
        return DTR_ERROR;
    }
    for (size_t i = 0; i < rest_route_count; i++) {
        const rest_route *route = &rest_routes[i];
        r->bindings[i].r = r;
        r->bindings[i].route = route;
        if (api->route_add(self, route->method, route->pattern, 0, rest_handler_of(route->kind),
                           &r->bindings[i], err, errlen) != DTR_OK) {
            rest_free(r);
            return DTR_ERROR;
        }
    }
    *state = r;
    return DTR_OK;
}

/* The one exported symbol (DTR_PLUGIN_SYMBOL). */
DTR_PLUGIN_EXPORT const dtr_plugin_descriptor dtr_plugin_entry = {
    .abi_major = DTR_ABI_MAJOR,
    .abi_minor = DTR_ABI_MINOR,
    .struct_size = sizeof(dtr_plugin_descriptor),
    .name = "rest",
    .version = "1.0.0",
    .kinds = DTR_KIND_PROTOCOL,
    .init = rest_init,
    .start = rest_start,
    .stop = rest_stop,
    .free = rest_free,
};
