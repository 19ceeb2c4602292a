/*
 * plugin.c -- the portal plugin's descriptor (consumer and protocol): what
 * Dagtilbudsportalen shows, and signed webhooks for every hændelse.
 * portal.h describes the parts and the queue's design.
 *
 * Lifecycle: init reads the config and the durable state (a small file,
 * read once before the server serves) and registers the routes; start
 * opens the HTTP client on the host's loop and resumes any delivery the
 * last run left pending; consume takes each batch of hændelser from the
 * feed; stop cancels the requests and timers and closes every handle on the
 * loop, after one last write of the positions; free releases the memory.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portal.h"

/* The live instances of this process, newest first. Loop thread. */
static portal *live_instances;
static uint64_t last_generation;

bool portal_is_newest(const portal *p)
{
    return live_instances == p;
}

/* Takes p out of the live list; when an older instance becomes the newest
 * again (a reload that did not start), it goes on delivering. */
static void portal_unlink_live(portal *p)
{
    for (portal **at = &live_instances; *at; at = &(*at)->next_live) {
        if (*at == p) {
            *at = p->next_live;
            break;
        }
    }
    if (live_instances && live_instances->started && !live_instances->stopping) {
        portal_state_changed(live_instances);
        portal_pump_all(live_instances);
    }
}

static char *join_path(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 2;
    char *s = malloc(n);
    if (s) snprintf(s, n, "%s/%s", a, b);
    return s;
}

static void portal_destroy(portal *p)
{
    for (size_t i = 0; i < p->n_subs; i++)
        portal_sub_free(&p->subs[i]);
    free(p->subs);
    portal_window_free(&p->window);
    portal_geo_free(p->geo);
    portal_config_free(&p->cfg);
    free(p->dir);
    free(p->state_path);
    free(p);
}

static dtr_status portal_init(dtr_plugin *self, const dtr_host_api *api, const json_t *config,
                              void **state, char *err, size_t errlen)
{
    if (!api) {
        snprintf(err, errlen, "portal: no host table");
        return DTR_DECLINED;
    }
    const char *missing = !api->loop               ? "loop"
                          : !api->work_submit      ? "work_submit"
                          : !api->timer_start      ? "timer_start"
                          : !api->req_authenticate ? "req_authenticate"
                          : !api->identity_info    ? "identity_info"
                          : !api->public_read      ? "public_read"
                          : !api->reader           ? "reader"
                          : !api->reader_open      ? "reader_open"
                          : !api->read_list        ? "read_list"
                          : !api->read_haendelser  ? "read_haendelser"
                          : !api->read_latest      ? "read_latest"
                          : !api->snapshot_begin   ? "snapshot_begin"
                          : !api->consume_done     ? "consume_done"
                          : !api->feed_start_at    ? "feed_start_at"
                          : !api->sign             ? "sign"
                                                   : NULL;
    if (missing) {
        snprintf(err, errlen, "portal: the host does not provide %s", missing);
        return DTR_DECLINED;
    }
    portal *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(err, errlen, "portal: out of memory");
        return DTR_ERROR;
    }
    p->self = self;
    p->api = api;
    char cfg_err[256];
    if (portal_config_read(config, &p->cfg, cfg_err, sizeof cfg_err) != 0) {
        snprintf(err, errlen, "portal: %s", cfg_err);
        free(p);
        return DTR_DECLINED;
    }
    p->subs = calloc(p->cfg.n_urls ? p->cfg.n_urls : 1, sizeof *p->subs);
    p->dir = join_path(api->data_dir(self), "portal");
    p->state_path = p->dir ? join_path(p->dir, "webhooks.json") : NULL;
    if (!p->subs || !p->state_path || portal_window_init(&p->window, p->cfg.memory_events) ||
        !(p->geo = portal_geo_new(p))) {
        snprintf(err, errlen, "portal: out of memory");
        portal_destroy(p);
        return DTR_ERROR;
    }
    for (size_t i = 0; i < p->cfg.n_urls; i++) {
        p->subs[i].p = p;
        p->subs[i].url = strdup(p->cfg.urls[i]);
        p->subs[i].secret = p->cfg.secrets[i];
        p->subs[i].position = -1;
        p->n_subs++;
        if (!p->subs[i].url) {
            snprintf(err, errlen, "portal: out of memory");
            portal_destroy(p);
            return DTR_ERROR;
        }
    }
    char why[512];
    if (portal_state_load(p, why, sizeof why) != 0) {
        snprintf(err, errlen, "portal: %s", why);
        portal_destroy(p);
        return DTR_ERROR;
    }
    if (p->cfg.fra > 0) api->feed_start_at(self, p->cfg.fra);
    if (portal_routes_add(p, err, errlen) != DTR_OK ||
        portal_geo_routes_add(p, err, errlen) != DTR_OK) {
        portal_destroy(p);
        return DTR_ERROR;
    }
    portal_openapi_describe(api, self);
    p->generation = ++last_generation;
    p->next_live = live_instances;
    live_instances = p;
    *state = p;
    return DTR_OK;
}

static dtr_status portal_start(void *state, char *err, size_t errlen)
{
    portal *p = state;
    char why[256];
    p->http = portal_http_new(p->api->loop(p->self), why, sizeof why);
    if (!p->http) {
        snprintf(err, errlen, "portal: %s", why);
        return DTR_ERROR;
    }
    p->started = true;
    for (size_t i = 0; i < p->n_subs; i++) {
        const portal_sub *s = &p->subs[i];
        if (s->position >= 0 && s->position < p->queued_up_to)
            p->api->log(p->self, DTR_LOG_INFO,
                        "webhook %s resumes after %" PRId64 " (%" PRId64 " pending)", s->url,
                        s->position, p->queued_up_to - s->position);
    }
    portal_pump_all(p);
    return DTR_OK;
}

/* A batch from the feed: new events join the window and the queue at
 * once (delivery starts now), and the batch is answered once a write with
 * the new queuedUpTo is on disk (state.c answers it). */
static void portal_consume(void *state, const json_t *events)
{
    portal *p = state;
    if (p->stopping) {
        p->api->consume_done(p->self, p->durable_queued_up_to, DTR_RETRY);
        return;
    }
    int64_t last = 0, first_new = 0;
    size_t i;
    json_t *j;
    json_array_foreach((json_t *)events, i, j)
    {
        portal_event ev;
        if (portal_event_from_json(j, &ev) != 0) {
            json_t *seq = json_object_get(j, "sekvensnummer");
            p->api->log(p->self, DTR_LOG_ERROR,
                        "a hændelse without the webhook's fields (%" PRId64 ") is skipped",
                        json_is_integer(seq) ? (int64_t)json_integer_value(seq) : (int64_t)-1);
            if (json_is_integer(seq) && json_integer_value(seq) > last)
                last = json_integer_value(seq);
            continue;
        }
        if (ev.seq > last) last = ev.seq;
        if (ev.seq <= p->queued_up_to) continue; /* handed over again after a restart */
        if (!first_new) first_new = ev.seq;
        portal_window_append(&p->window, &ev);
        p->queued_up_to = ev.seq;
    }
    if (first_new)
        for (size_t k = 0; k < p->n_subs; k++)
            if (p->subs[k].position < 0) p->subs[k].position = first_new - 1;
    if (last == 0 || p->durable_queued_up_to >= last) {
        p->api->consume_done(p->self, last ? last : p->durable_queued_up_to, DTR_OK);
    } else {
        if (last > p->queued_up_to) p->queued_up_to = last; /* skipped ones */
        p->consume.waiting = true;
        p->consume.up_to = last;
        portal_state_changed(p);
    }
    portal_pump_all(p);
}

static void portal_stop(void *state)
{
    portal *p = state;
    p->stopping = true;
    for (size_t i = 0; i < p->n_subs; i++)
        portal_sub_stop(&p->subs[i]);
    portal_http_close(p->http);
    p->http = NULL;
    portal_geo_stop(p->geo);
    if (p->write_retry) {
        p->api->timer_stop(p->write_retry);
        p->write_retry = NULL;
    }
    if (p->dirty) portal_state_changed(p); /* the last positions, on the pool */
}

static void portal_free(void *state)
{
    portal_state_forget(state);
    portal_unlink_live(state);
    portal_destroy(state);
}

/* The descriptor, the one symbol the plugin exports. */
DTR_PLUGIN_EXPORT const dtr_plugin_descriptor dtr_plugin_entry = {
    .abi_major = DTR_ABI_MAJOR,
    .abi_minor = DTR_ABI_MINOR,
    .struct_size = sizeof(dtr_plugin_descriptor),
    .name = "portal",
    .version = "1.0.0",
    .kinds = DTR_KIND_CONSUMER | DTR_KIND_PROTOCOL,
    .init = portal_init,
    .start = portal_start,
    .stop = portal_stop,
    .free = portal_free,
    .consume = portal_consume,
};
