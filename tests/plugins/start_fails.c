/*
 * start_fails.c -- a test plugin whose init succeeds (it registers a route
 * and starts a timer) but whose start fails, as a vendor adapter would when
 * its vendor cannot be reached. The host must stop the start with the
 * plugin's message, then free the instance (and the timer it left running)
 * without calling stop.
 */
#include <stdio.h>
#include <stdlib.h>

#include <dtr/plugin.h>

typedef struct start_fails {
    const dtr_host_api *api;
    dtr_plugin *self;
} start_fails;

static dtr_status start_fails_handler(dtr_request *req, void *udata)
{
    start_fails *s = udata;
    s->api->respond(req, 200, "text/plain", "unreachable", 11);
    return DTR_OK;
}

static void start_fails_tick(dtr_timer *timer, void *udata)
{
    (void)timer, (void)udata;
}

static dtr_status start_fails_init(dtr_plugin *self, const dtr_host_api *api, const json_t *config,
                                   void **state, char *err, size_t errlen)
{
    (void)config;
    start_fails *s = calloc(1, sizeof *s);
    if (!s) return DTR_ERROR;
    s->api = api;
    s->self = self;
    if (api->route_add(self, "GET", "/start_fails", 0, start_fails_handler, s, err, errlen) !=
        DTR_OK) {
        free(s);
        return DTR_ERROR;
    }
    /* left running on purpose: the host stops it when it frees the instance */
    api->timer_start(self, 60000, 60000, start_fails_tick, s);
    *state = s;
    return DTR_OK;
}

static dtr_status start_fails_start(void *state, char *err, size_t errlen)
{
    (void)state;
    snprintf(err, errlen, "cannot reach the vendor at http://127.0.0.1:9/ (connection refused)");
    return DTR_ERROR;
}

static void start_fails_free(void *state)
{
    start_fails *s = state;
    s->api->log(s->self, DTR_LOG_INFO, "freed without being started");
    free(s);
}

DTR_PLUGIN_EXPORT const dtr_plugin_descriptor dtr_plugin_entry = {
    .abi_major = DTR_ABI_MAJOR,
    .abi_minor = DTR_ABI_MINOR,
    .struct_size = sizeof(dtr_plugin_descriptor),
    .name = "start_fails",
    .version = "1.0.0",
    .kinds = DTR_KIND_PROTOCOL,
    .init = start_fails_init,
    .start = start_fails_start,
    .free = start_fails_free,
};
