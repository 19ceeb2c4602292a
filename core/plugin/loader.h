/*
 * loader.h -- loading plugins and running their instances (the host side of
 * include/dtr/plugin.h).
 *
 * Three things, from the longest-lived to the shortest:
 *
 *   plug_registry  one per process. Owns the host API table handed to every
 *                  plugin, and knows every loaded shared object: code is
 *                  loaded once (per path) and never unloaded (no dlclose,
 *                  not even in plug_registry_free).
 *   plug_set       one generation of plugin instances and the router their
 *                  routes went into. The host builds one at start and one more
 *                  on every SIGHUP; the old one is stopped and retired.
 *   dtr_plugin     one plugin instance (the ABI's opaque handle): its state,
 *                  its requests in flight, its timers and its queued work.
 *                  A retired instance is freed only once nothing of it is in
 *                  flight, so free never races a request, a timer or a work
 *                  item.
 *
 * Everything here runs on the loop thread.
 */
#ifndef DTR_PLUGIN_LOADER_H
#define DTR_PLUGIN_LOADER_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>
#include <uv.h>

#include "dtr/plugin.h"
#include "net/net.h"
#include "ops/log.h"

typedef struct plug_registry plug_registry;
typedef struct plug_set plug_set;

/* ---- registry ------------------------------------------------------------ */

/* Creates the registry. loop and log are borrowed and must outlive it;
 * data_dir (copied) is what the data_dir() host function answers. */
plug_registry *plug_registry_new(uv_loop_t *loop, ops_log *log, const char *data_dir);
/* Frees the registry (the plugins' code stays loaded until the process
 * exits). Every set must have been freed before (see plug_set_retire). */
void plug_registry_free(plug_registry *reg);
/* The host API table every plugin instance receives (lives as long as reg). */
const dtr_host_api *plug_registry_api(const plug_registry *reg);
/* The same table, writable: the host fills in the services of modules the
 * loader does not link (code lists now; commands, reads and the feed
 * later). Only before the first plug_set_add. */
dtr_host_api *plug_registry_api_edit(plug_registry *reg);
/* A pointer of the host's, reachable from every instance
 * (plug_host_udata): the services the host fills in find their context
 * through it. */
void plug_registry_set_udata(plug_registry *reg, void *udata);
/* Called for each instance just before its free callback (on the loop, in
 * the reaper): the host releases what it keeps per instance (a reader, a
 * feed subscription). */
typedef void (*plug_release_fn)(dtr_plugin *p, void *udata);
void plug_registry_set_release_hook(plug_registry *reg, plug_release_fn fn, void *udata);
/* Instances not yet freed, over all sets (0 once every retired set is gone). */
size_t plug_registry_live_instances(const plug_registry *reg);

/* ---- sets: one generation of instances ----------------------------------- */

/* A new, empty set with a new router (whose in-flight callback counts the
 * requests of each instance). */
plug_set *plug_set_new(plug_registry *reg);
/* The set's router (owned by the set) to install in the server. */
net_router *plug_set_router(plug_set *set);
/* Adds a route of the core itself (/healthz and friends; owner "core"). Its
 * requests are counted like a plugin's, so the router outlives them. A route
 * the host's endpoints describe (ops_endpoints_openapi) is described with
 * it, for the set's openapi_paths. */
dtr_status plug_set_add_core_route(plug_set *set, const char *method, const char *pattern,
                                   dtr_route_fn fn, void *udata, char *err, size_t errlen);

/* Loads the plugin `name` from the shared object at path (dlopen'ed once per
 * path), checks its descriptor against this host's ABI and creates an
 * instance with config (borrowed) by calling its init. Instances are started
 * in the order they were added. On refusal returns DTR_ERROR with a message
 * naming the plugin and the reason in err; the set stays usable for cleanup
 * (retire it). */
dtr_status plug_set_add(plug_set *set, const char *name, const char *path, const json_t *config,
                        char *err, size_t errlen);
/* Calls start on every instance, in order. Stops at the first failure
 * (DTR_ERROR, the plugin named in err). After it returns, routes can no
 * longer be added. */
/* The same, for an entry that names a client ("client": the id the
 * instance's identity_configured answers for; NULL: none). */
dtr_status plug_set_add_as(plug_set *set, const char *name, const char *path,
                           const json_t *config, const char *client, char *err, size_t errlen);
/* The client id the instance's config entry names, or NULL. */
const char *plug_client_id(const dtr_plugin *p);
/* Counts a piece of the instance's work that is not the work queue's (a
 * command in flight): stop and free wait until it is dropped again. */
void plug_instance_hold(dtr_plugin *p);
void plug_instance_drop(dtr_plugin *p);
/* Whether the instance was freed (its callbacks must not run). */
bool plug_instance_released(const dtr_plugin *p);

dtr_status plug_set_start(plug_set *set, char *err, size_t errlen);
/* True when every instance of the set started. */
bool plug_set_started(const plug_set *set);
/* Number of plugin instances (the core's routes not counted). */
size_t plug_set_count(const plug_set *set);
/* Calls stop on every started instance, in reverse order. Requests in flight
 * may still be answered afterwards. Idempotent. */
void plug_set_stop(plug_set *set);
/* Gives the set up: stops it if needed, then frees each instance as soon as
 * it has no request, work item or timer callback in flight (timers left
 * running are stopped then), then the router and the set. done(udata), when
 * given, runs on the loop once the whole set is gone (possibly before
 * plug_set_retire returns). The caller must have removed the router from
 * the server before requests could be routed to freed instances: i.e.
 * retire a set only after net_server_set_router installed another router
 * or the server stopped accepting. */
void plug_set_retire(plug_set *set, void (*done)(void *udata), void *udata);

/* ---- instances ------------------------------------------------------------ */

/* The instance's plugin name (the core's pseudo-instance: "core"). */
const char *plug_name(const dtr_plugin *p);
/* Requests and work items of the instance in flight. */
size_t plug_inflight(const dtr_plugin *p);
/* The i-th instance of a set in config order (NULL past the end), to find
 * e.g. the consumers among them (plug_descriptor(p)->kinds). */
dtr_plugin *plug_set_instance(plug_set *set, size_t i);
/* The instance's descriptor (a copy; fields past the plugin's struct_size
 * are NULL) and the state its init stored: for the host to call callbacks
 * such as consume. NULL for the core's pseudo-instance. */
const dtr_plugin_descriptor *plug_descriptor(const dtr_plugin *p);
void *plug_state(const dtr_plugin *p);
/* The registry's host pointer (plug_registry_set_udata). */
void *plug_host_udata(const dtr_plugin *p);
/* A per-instance pointer the host may set (NULL until then). */
void *plug_instance_udata(const dtr_plugin *p);
void plug_set_instance_udata(dtr_plugin *p, void *udata);

/* ---- host API (host_api.c) ----------------------------------------------- */

/* Fills the host API table: log, route_add, the request functions of net,
 * work_submit, timers, loop, data_dir, openapi_describe and openapi_paths.
 * Entries of other modules stay NULL until the host fills them
 * (plug_registry_api_edit). */
void plug_fill_host_api(dtr_host_api *api);

#endif /* DTR_PLUGIN_LOADER_H */
