/*
 * loader.c -- dlopen, the ABI check, and the lifetimes of plugin instances
 * (see loader.h for the three objects and who owns what).
 *
 * The one rule that shapes this file: code is never unloaded and an
 * instance is never freed while anything of it can still run. A retired
 * instance is released from a timer callback of its set (the "reaper"), never
 * from inside a call that a plugin made (respond() ends a request and may
 * drop the last count, but the plugin is still running when it returns).
 */
#include "errtext.h"
#include "internal.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The smallest descriptor each minor version of this major may have: the
 * fields up to and including the last one that minor defined. A minor that
 * appends fields to the descriptor gets a new size here; one that appends
 * only to the host table repeats the previous size. */
static const size_t plug_descriptor_size_by_minor[] = {
    [0] = sizeof(dtr_plugin_descriptor), /* 2.0 */
    [1] = sizeof(dtr_plugin_descriptor), /* 2.1: respond_owned, in the host table only */
};
_Static_assert(sizeof plug_descriptor_size_by_minor / sizeof plug_descriptor_size_by_minor[0] ==
                   DTR_ABI_MINOR + 1,
               "a new DTR_ABI_MINOR needs its descriptor size here");

static char *plug_strdup(const char *s)
{
    char *copy = strdup(s);
    if (!copy) abort();
    return copy;
}

/* ---- registry ----------------------------------------------------------- */

plug_registry *plug_registry_new(uv_loop_t *loop, ops_log *log, const char *data_dir)
{
    plug_registry *reg = calloc(1, sizeof *reg);
    if (!reg) abort();
    reg->loop = loop;
    reg->log = log;
    reg->data_dir = plug_strdup(data_dir);
    plug_fill_host_api(&reg->api);
    return reg;
}

/* Frees the registry. The plugins' code stays mapped until the process
 * exits (no dlclose): a plugin's library may have registered thread-local
 * destructors or atexit handlers that must still find their code, and the
 * sanitizers can still name a plugin's functions in a leak report. */
void plug_registry_free(plug_registry *reg)
{
    if (!reg) return;
    plug_module *m = reg->modules;
    while (m) {
        plug_module *next = m->next;
        free(m->path);
        free(m);
        m = next;
    }
    free(reg->data_dir);
    free(reg);
}

const dtr_host_api *plug_registry_api(const plug_registry *reg)
{
    return &reg->api;
}

dtr_host_api *plug_registry_api_edit(plug_registry *reg)
{
    return &reg->api;
}

void plug_registry_set_udata(plug_registry *reg, void *udata)
{
    reg->udata = udata;
}

void plug_registry_set_release_hook(plug_registry *reg, plug_release_fn fn, void *udata)
{
    reg->on_release = fn;
    reg->on_release_udata = udata;
}

size_t plug_registry_live_instances(const plug_registry *reg)
{
    return reg->live_instances;
}

/* Checks a descriptor against this host's ABI before anything else of it is
 * read: major equal, minor not newer, struct_size at least what its minor
 * defines; then the name and the required callback. */
static dtr_status plug_check_descriptor(const char *name, const char *path,
                                        const dtr_plugin_descriptor *d, char *err, size_t errlen)
{
    if (d->abi_major == 1 && DTR_ABI_MAJOR == 2)
        return errtext(err, errlen, DTR_ERROR,
                       "plugin \"%s\": built for plugin ABI %u.%u, but this host has ABI %d.%d: "
                       "ABI 2.0 changed identities, commands and statuses, so a 1.x plugin must "
                       "be moved over and rebuilt (see the changelog in dtr/plugin.h)",
                       name, d->abi_major, d->abi_minor, DTR_ABI_MAJOR, DTR_ABI_MINOR);
    if (d->abi_major != DTR_ABI_MAJOR)
        return errtext(err, errlen, DTR_ERROR,
                       "plugin \"%s\": built for plugin ABI %u.%u, but this host has ABI %d.%d "
                       "(the major versions must be equal)",
                       name, d->abi_major, d->abi_minor, DTR_ABI_MAJOR, DTR_ABI_MINOR);
    if (d->abi_minor > DTR_ABI_MINOR)
        return errtext(err, errlen, DTR_ERROR,
                       "plugin \"%s\": built for plugin ABI %u.%u, newer than this host's ABI "
                       "%d.%d",
                       name, d->abi_major, d->abi_minor, DTR_ABI_MAJOR, DTR_ABI_MINOR);
    size_t need = plug_descriptor_size_by_minor[d->abi_minor];
    if (d->struct_size < need)
        return errtext(err, errlen, DTR_ERROR,
                       "plugin \"%s\": its descriptor is %u bytes, smaller than the %zu bytes "
                       "of ABI %u.%u",
                       name, d->struct_size, need, d->abi_major, d->abi_minor);
    dtr_plugin_descriptor full;
    memset(&full, 0, sizeof full);
    memcpy(&full, d, d->struct_size < sizeof full ? d->struct_size : sizeof full);
    if (!full.name || strcmp(full.name, name) != 0)
        return errtext(err, errlen, DTR_ERROR,
                       "plugin \"%s\": %s calls itself \"%s\"; the config entry and the "
                       "descriptor must use the same name",
                       name, path, full.name ? full.name : "(no name)");
    if (!full.init)
        return errtext(err, errlen, DTR_ERROR, "plugin \"%s\": its descriptor has no init callback",
                       name);
    return DTR_OK;
}

/* Finds the module loaded from path, or loads and checks it. A module that
 * fails the check is unloaded at once (none of its code has run but its
 * constructors). */
static plug_module *plug_module_get(plug_registry *reg, const char *name, const char *path,
                                    char *err, size_t errlen)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        errtext(err, errlen, DTR_ERROR, "plugin \"%s\": cannot open %s: %s", name, path,
                strerror(errno));
        return NULL;
    }
    char real[PATH_MAX];
    if (!realpath(path, real)) {
        errtext(err, errlen, DTR_ERROR, "plugin \"%s\": cannot resolve %s: %s", name, path,
                strerror(errno));
        return NULL;
    }
    for (plug_module *m = reg->modules; m; m = m->next) {
        if (strcmp(m->path, real) != 0) continue;
        if (plug_check_descriptor(name, path, &m->desc, err, errlen) != DTR_OK) return NULL;
        return m;
    }
    void *handle = dlopen(real, RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        const char *why = dlerror();
        errtext(err, errlen, DTR_ERROR, "plugin \"%s\": cannot load %s: %s", name, path,
                why ? why : "unknown error");
        return NULL;
    }
    dlerror();
    const dtr_plugin_descriptor *d = dlsym(handle, DTR_PLUGIN_SYMBOL);
    if (!d) {
        dlclose(handle);
        errtext(err, errlen, DTR_ERROR,
                "plugin \"%s\": %s exports no \"%s\" symbol (not a dtr plugin, or built "
                "with it hidden)",
                name, path, DTR_PLUGIN_SYMBOL);
        return NULL;
    }
    if (plug_check_descriptor(name, path, d, err, errlen) != DTR_OK) {
        dlclose(handle);
        return NULL;
    }
    plug_module *m = calloc(1, sizeof *m);
    if (!m) abort();
    m->path = plug_strdup(real);
    m->handle = handle;
    memcpy(&m->desc, d, d->struct_size < sizeof m->desc ? d->struct_size : sizeof m->desc);
    m->next = reg->modules;
    reg->modules = m;
    return m;
}

/* ---- sets --------------------------------------------------------------- */

static void plug_set_reap(plug_set *set);

static void plug_reaper_cb(uv_timer_t *t)
{
    plug_set *set = t->data;
    set->reap_scheduled = false;
    plug_set_reap(set);
}

static void plug_schedule_reap(plug_set *set)
{
    if (!set->retired || set->reap_scheduled) return;
    set->reap_scheduled = true;
    uv_timer_start(&set->reaper, plug_reaper_cb, 0, 0);
}

/* The router's in-flight callback: owner is the dtr_plugin (or the set's
 * core pseudo-instance) whose route matched. */
static void plug_inflight_cb(void *owner, int delta)
{
    dtr_plugin *p = owner;
    if (!p) return;
    if (delta > 0) {
        p->requests += (size_t)delta;
        return;
    }
    size_t down = (size_t)-delta;
    p->requests = p->requests > down ? p->requests - down : 0;
    plug_instance_idle_check(p);
}

void plug_instance_idle_check(dtr_plugin *p)
{
    if (p->requests == 0 && p->work == 0) plug_schedule_reap(p->set);
}

void plug_instance_hold(dtr_plugin *p)
{
    p->work++;
}

void plug_instance_drop(dtr_plugin *p)
{
    if (p->work) p->work--;
    plug_instance_idle_check(p);
}

bool plug_instance_released(const dtr_plugin *p)
{
    return p->released;
}

const char *plug_client_id(const dtr_plugin *p)
{
    return p->client;
}

plug_set *plug_set_new(plug_registry *reg)
{
    plug_set *set = calloc(1, sizeof *set);
    if (!set) abort();
    set->reg = reg;
    set->router = net_router_new(plug_inflight_cb);
    if (!set->router) abort();
    set->core.set = set;
    set->core.name = plug_strdup("core");
    uv_timer_init(reg->loop, &set->reaper);
    set->reaper.data = set;
    return set;
}

net_router *plug_set_router(plug_set *set)
{
    return set->router;
}

dtr_status plug_set_add_core_route(plug_set *set, const char *method, const char *pattern,
                                   dtr_route_fn fn, void *udata, char *err, size_t errlen)
{
    /* no owner name: net then says "the core" in its messages */
    dtr_status st =
        net_router_add(set->router, method, pattern, 0, &set->core, NULL, fn, udata, err, errlen);
    if (st == DTR_OK) {
        plug_route_remember(&set->core, method, pattern);
        plug_openapi_describe_core_route(set, method, pattern);
    }
    return st;
}

size_t plug_set_count(const plug_set *set)
{
    return set->ninstances;
}

bool plug_set_started(const plug_set *set)
{
    return set->started;
}

/* Turns a route refused during init or start into the set's error. */
static dtr_status plug_route_failure(const dtr_plugin *p, char *err, size_t errlen)
{
    return errtext(err, errlen, DTR_ERROR, "plugin \"%s\": %s", p->name, p->route_error);
}

dtr_status plug_set_add(plug_set *set, const char *name, const char *path, const json_t *config,
                        char *err, size_t errlen)
{
    return plug_set_add_as(set, name, path, config, NULL, err, errlen);
}

dtr_status plug_set_add_as(plug_set *set, const char *name, const char *path, const json_t *config,
                           const char *client, char *err, size_t errlen)
{
    plug_registry *reg = set->reg;
    plug_module *m = plug_module_get(reg, name, path, err, errlen);
    if (!m) return DTR_ERROR;

    dtr_plugin *p = calloc(1, sizeof *p);
    dtr_plugin **grown = realloc(set->instances, (set->ninstances + 1) * sizeof *grown);
    if (!p || !grown) abort();
    set->instances = grown;
    set->instances[set->ninstances++] = p;
    p->set = set;
    p->module = m;
    p->name = plug_strdup(name);
    p->client = client ? plug_strdup(client) : NULL;
    p->accept_routes = true;
    reg->live_instances++;

    json_t *empty = NULL;
    if (!config) config = empty = json_object();
    char why[512] = "";
    dtr_status st = m->desc.init(p, &reg->api, config, &p->state, why, sizeof why);
    json_decref(empty);
    if (!why[0]) snprintf(why, sizeof why, "(no reason given)");
    if (st == DTR_DECLINED)
        return errtext(err, errlen, DTR_ERROR, "plugin \"%s\" refused its config: %s", name, why);
    if (st != DTR_OK)
        return errtext(err, errlen, DTR_ERROR, "plugin \"%s\" failed to initialise: %s", name, why);
    p->initialized = true;
    if (p->route_error) return plug_route_failure(p, err, errlen);
    return DTR_OK;
}

dtr_status plug_set_start(plug_set *set, char *err, size_t errlen)
{
    dtr_status result = DTR_OK;
    for (size_t i = 0; i < set->ninstances && result == DTR_OK; i++) {
        dtr_plugin *p = set->instances[i];
        if (!p->initialized) {
            result = errtext(err, errlen, DTR_ERROR, "plugin \"%s\" was not initialised", p->name);
            break;
        }
        char why[512] = "";
        dtr_status st =
            p->module->desc.start ? p->module->desc.start(p->state, why, sizeof why) : DTR_OK;
        if (st != DTR_OK) {
            if (!why[0]) snprintf(why, sizeof why, "(no reason given)");
            result =
                errtext(err, errlen, DTR_ERROR, "plugin \"%s\" failed to start: %s", p->name, why);
            break;
        }
        p->started = true;
        if (p->route_error) result = plug_route_failure(p, err, errlen);
    }
    for (size_t i = 0; i < set->ninstances; i++)
        set->instances[i]->accept_routes = false;
    set->started = result == DTR_OK;
    return result;
}

void plug_set_stop(plug_set *set)
{
    set->started = false;
    for (size_t i = set->ninstances; i-- > 0;) {
        dtr_plugin *p = set->instances[i];
        p->accept_routes = false;
        if (!p->started || p->stopped) continue;
        p->stopped = true;
        if (p->module->desc.stop) p->module->desc.stop(p->state);
    }
}

void plug_set_retire(plug_set *set, void (*done)(void *udata), void *udata)
{
    plug_set_stop(set);
    set->retired = true;
    set->done = done;
    set->done_udata = udata;
    plug_schedule_reap(set);
}

/* ---- releasing ---------------------------------------------------------- */

static void plug_timer_closed(uv_handle_t *h)
{
    free(h->data);
}

/* Frees what an idle, retired instance holds: its state (the plugin's free,
 * which may still stop its own timers), then the timers it left running. */
static void plug_instance_release(dtr_plugin *p)
{
    plug_registry *reg = p->set->reg;
    p->released = true;
    if (reg->on_release) reg->on_release(p, reg->on_release_udata);
    if (p->initialized && p->module->desc.free) p->module->desc.free(p->state);
    p->state = NULL;
    while (p->timers) {
        struct dtr_timer *t = p->timers;
        p->timers = t->next;
        t->owner = NULL;
        uv_timer_stop(&t->handle);
        uv_close((uv_handle_t *)&t->handle, plug_timer_closed);
    }
    p->set->reg->live_instances--;
}

static void plug_set_closed(uv_handle_t *h)
{
    plug_set *set = h->data;
    void (*done)(void *) = set->done;
    void *udata = set->done_udata;
    free(set);
    if (done) done(udata);
}

/* Releases every idle instance of a retired set; once all are released and
 * the core's routes have nothing in flight, frees the router, the instance
 * handles and the set. Runs in the reaper's callback only. */
static void plug_set_reap(plug_set *set)
{
    bool all_gone = true;
    for (size_t i = 0; i < set->ninstances; i++) {
        dtr_plugin *p = set->instances[i];
        if (p->released) continue;
        if (p->requests == 0 && p->work == 0)
            plug_instance_release(p);
        else
            all_gone = false;
    }
    if (!all_gone || set->core.requests != 0) return;
    net_router_free(set->router);
    set->router = NULL;
    for (size_t i = 0; i < set->ninstances; i++) {
        plug_openapi_forget(set->instances[i]);
        free(set->instances[i]->name);
        free(set->instances[i]->route_error);
        free(set->instances[i]->client);
        free(set->instances[i]);
    }
    free(set->instances);
    plug_openapi_forget(&set->core);
    free(set->core.name);
    uv_close((uv_handle_t *)&set->reaper, plug_set_closed);
}

/* ---- instances ---------------------------------------------------------- */

const char *plug_name(const dtr_plugin *p)
{
    return p->name;
}

size_t plug_inflight(const dtr_plugin *p)
{
    return p->requests + p->work;
}

dtr_plugin *plug_set_instance(plug_set *set, size_t i)
{
    return i < set->ninstances ? set->instances[i] : NULL;
}

const dtr_plugin_descriptor *plug_descriptor(const dtr_plugin *p)
{
    return p->module ? &p->module->desc : NULL;
}

void *plug_state(const dtr_plugin *p)
{
    return p->state;
}

void *plug_host_udata(const dtr_plugin *p)
{
    return p->set->reg->udata;
}

void *plug_instance_udata(const dtr_plugin *p)
{
    return p->host_udata;
}

void plug_set_instance_udata(dtr_plugin *p, void *udata)
{
    p->host_udata = udata;
}
