/*
 * internal.h -- the structures behind loader.h, shared by loader.c (loading,
 * sets, instance lifetimes) and host_api.c (the functions of the table).
 * Not for use outside core/plugin/.
 */
#ifndef DTR_PLUGIN_INTERNAL_H
#define DTR_PLUGIN_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "loader.h"

/* One loaded shared object. Never dlclosed: see plug_registry_free. */
typedef struct plug_module {
    struct plug_module *next;
    char *path;                 /* canonical (realpath) */
    void *handle;               /* from dlopen */
    dtr_plugin_descriptor desc; /* a copy; fields past the plugin's struct_size are zero */
} plug_module;

struct plug_registry {
    uv_loop_t *loop; /* borrowed */
    ops_log *log;    /* borrowed */
    char *data_dir;
    dtr_host_api api;
    plug_module *modules;
    size_t live_instances;
    void *udata; /* the host's (plug_registry_set_udata) */
    plug_release_fn on_release;
    void *on_release_udata;
};

/* A timer lent to a plugin (dtr_timer in the ABI). Linked into its owner's
 * list so that timers a plugin left running are stopped when the instance
 * is freed. The memory goes in the uv_close callback. */
struct dtr_timer {
    uv_timer_t handle;
    dtr_plugin *owner;
    dtr_timer_fn fn;
    void *udata;
    struct dtr_timer *prev, *next;
};

/* A route an instance registered (method upper case, pattern as given):
 * what its OpenAPI description may name. */
typedef struct plug_route {
    char *method;
    char *pattern;
} plug_route;

/* One plugin instance (dtr_plugin in the ABI). */
struct dtr_plugin {
    plug_set *set;
    plug_module *module; /* NULL for the core's pseudo-instance */
    char *name;
    void *state;      /* what init stored */
    void *host_udata; /* the host's per-instance pointer (plug_set_instance_udata) */
    size_t requests;  /* requests in flight (the router's callback) */
    size_t work;      /* work items queued or running, commands in flight */
    char *client;     /* the client id its config entry names ("client"); NULL: none */
    struct dtr_timer *timers;
    char *route_error;  /* the first route refused during init/start */
    plug_route *routes; /* the routes it registered (openapi.c) */
    size_t nroutes;
    json_t *openapi;    /* the "paths" it described (owned); NULL before the first */
    bool accept_routes; /* during init and start only */
    bool initialized;   /* init answered DTR_OK: free must be called */
    bool started;       /* start answered DTR_OK: stop must be called */
    bool stopped;
    bool released; /* free was called */
};

struct plug_set {
    plug_registry *reg;
    net_router *router;
    dtr_plugin core; /* owner of the core's routes */
    dtr_plugin **instances;
    size_t ninstances;
    bool started;
    bool retired;
    bool reap_scheduled;
    uv_timer_t reaper; /* runs plug_set_reap in a callback of its own */
    void (*done)(void *udata);
    void *done_udata;
};

/* Called by host_api.c when a work item of p finished: if p is retired and
 * idle now, its release is scheduled (never run inside the caller). */
void plug_instance_idle_check(dtr_plugin *p);

/* ---- OpenAPI descriptions (openapi.c) ------------------------------------ */

/* Notes that p registered method + pattern (after the router took it). */
void plug_route_remember(dtr_plugin *p, const char *method, const char *pattern);
/* Checks paths against p's routes and keeps a deep copy of its operations:
 * dtr_host_api.openapi_describe without the "during init or start" rule
 * (the core's pseudo-instance describes its routes when they are added). */
dtr_status plug_openapi_keep(dtr_plugin *p, const json_t *paths, char *err, size_t errlen);
/* Describes the core's route method + pattern of set from the host's own
 * description of its endpoints (ops_endpoints_openapi), when it has one. */
void plug_openapi_describe_core_route(plug_set *set, const char *method, const char *pattern);
/* The table's openapi_describe and openapi_paths. */
dtr_status plug_api_openapi_describe(dtr_plugin *self, const json_t *paths, char *err,
                                     size_t errlen);
json_t *plug_api_openapi_paths(dtr_plugin *self);
/* Frees what openapi.c keeps for p (its routes and its description). */
void plug_openapi_forget(dtr_plugin *p);

#endif /* DTR_PLUGIN_INTERNAL_H */
