/*
 * host_api.c -- the functions of the dtr_host_api table that are the
 * loader's own: logging, routes, the work queue, timers, the loop and the
 * data directory (and the OpenAPI descriptions, from openapi.c). The
 * request and answer functions come from net (net_fill_request_api).
 *
 * Each function is called by a plugin with its dtr_plugin handle; the handle
 * says which instance asks, so that its work and timers are counted and its
 * log lines tagged. All on the loop thread except log (any thread).
 */
#include "internal.h"

#include "register/register.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

/* ---- log ------------------------------------------------------------------ */

static ops_log_level plug_log_level(dtr_log_level level)
{
    switch (level) {
    case DTR_LOG_DEBUG:
        return OPS_LOG_DEBUG;
    case DTR_LOG_INFO:
        return OPS_LOG_INFO;
    case DTR_LOG_WARN:
        return OPS_LOG_WARN;
    case DTR_LOG_ERROR:
        return OPS_LOG_ERROR;
    }
    return OPS_LOG_ERROR;
}

/* Any thread: reads only what does not change while the instance lives. */
__attribute__((format(printf, 3, 4))) static void
plug_api_log(dtr_plugin *self, dtr_log_level level, const char *fmt, ...)
{
    if (!self || !fmt) return;
    va_list ap;
    va_start(ap, fmt);
    ops_log_vwrite(self->set->reg->log, plug_log_level(level), self->name, fmt, ap);
    va_end(ap);
}

/* ---- routes --------------------------------------------------------------- */

/* Adds a route to the router of the instance's set. The first refusal is
 * kept: the start then stops with it even when the plugin ignores the
 * status it got back. */
static dtr_status plug_api_route_add(dtr_plugin *self, const char *method, const char *pattern,
                                     size_t max_body_bytes, dtr_route_fn fn, void *udata, char *err,
                                     size_t errlen)
{
    char local[512];
    if (!err || !errlen) {
        err = local;
        errlen = sizeof local;
    }
    dtr_status st;
    if (!self || !self->accept_routes) {
        snprintf(err, errlen, "routes can only be added during init or start");
        st = DTR_ERROR;
    } else if (!method || !pattern || !fn) {
        snprintf(err, errlen, "route_add needs a method, a pattern and a handler");
        st = DTR_ERROR;
    } else {
        st = net_router_add(self->set->router, method, pattern, max_body_bytes, self, self->name,
                            fn, udata, err, errlen);
        if (st == DTR_OK) plug_route_remember(self, method, pattern);
    }
    if (st != DTR_OK && self && !self->route_error) {
        self->route_error = strdup(err);
        if (!self->route_error) abort();
    }
    return st;
}

/* ---- work queue ----------------------------------------------------------- */

typedef struct plug_work {
    uv_work_t req;
    dtr_plugin *owner;
    dtr_work_fn work;
    dtr_work_done_fn done;
    void *udata;
} plug_work;

/* How much nicer than the process a pool thread runs: the loop thread must
 * win the CPU over the heavy reads it queued (on a machine with fewer cores
 * than runnable pool threads, an equal share kept /healthz waiting behind
 * page dumps for tens of milliseconds). See docs/decisions.md. */
enum { PLUG_POOL_NICE = 5 };

/* Lowers the calling pool thread's priority, once per thread (Linux: the
 * priority of a thread id is the thread's own). A failure is harmless. */
static void plug_pool_thread_nice(void)
{
    static _Thread_local int done;
    if (done) return;
    done = 1;
    id_t tid = (id_t)syscall(SYS_gettid);
    errno = 0;
    int nice = getpriority(PRIO_PROCESS, tid);
    if (nice == -1 && errno != 0) return;
    (void)setpriority(PRIO_PROCESS, tid, nice + PLUG_POOL_NICE);
}

/* Pool thread: the plugin's work only. */
static void plug_work_run(uv_work_t *req)
{
    plug_work *w = req->data;
    plug_pool_thread_nice();
    w->work(w->udata);
}

/* Loop thread: the plugin's done, then the instance may become idle. */
static void plug_work_after(uv_work_t *req, int status)
{
    plug_work *w = req->data;
    dtr_plugin *owner = w->owner;
    if (w->done) w->done(w->udata, status);
    free(w);
    owner->work--;
    plug_instance_idle_check(owner);
}

static dtr_status plug_api_work_submit(dtr_plugin *self, dtr_work_fn work, dtr_work_done_fn done,
                                       void *udata)
{
    if (!self || !work || self->released) return DTR_ERROR;
    plug_work *w = calloc(1, sizeof *w);
    if (!w) return DTR_ERROR;
    w->req.data = w;
    w->owner = self;
    w->work = work;
    w->done = done;
    w->udata = udata;
    if (uv_queue_work(self->set->reg->loop, &w->req, plug_work_run, plug_work_after) != 0) {
        free(w);
        return DTR_ERROR;
    }
    self->work++;
    return DTR_OK;
}

/* ---- timers --------------------------------------------------------------- */

static void plug_timer_fire(uv_timer_t *handle)
{
    struct dtr_timer *t = handle->data;
    t->fn(t, t->udata);
}

static void plug_timer_free_cb(uv_handle_t *h)
{
    free(h->data);
}

static dtr_timer *plug_api_timer_start(dtr_plugin *self, uint64_t timeout_ms, uint64_t repeat_ms,
                                       dtr_timer_fn fn, void *udata)
{
    if (!self || !fn || self->released) return NULL;
    struct dtr_timer *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    if (uv_timer_init(self->set->reg->loop, &t->handle) != 0) {
        free(t);
        return NULL;
    }
    t->handle.data = t;
    t->owner = self;
    t->fn = fn;
    t->udata = udata;
    t->next = self->timers;
    if (self->timers) self->timers->prev = t;
    self->timers = t;
    uv_timer_start(&t->handle, plug_timer_fire, timeout_ms, repeat_ms);
    return t;
}

/* Stops and frees a timer; allowed inside its own callback (uv_close defers
 * the memory to the close callback, and a closing timer never fires). */
static void plug_api_timer_stop(dtr_timer *t)
{
    if (!t || uv_is_closing((uv_handle_t *)&t->handle)) return;
    dtr_plugin *owner = t->owner;
    if (owner) {
        if (t->prev)
            t->prev->next = t->next;
        else
            owner->timers = t->next;
        if (t->next) t->next->prev = t->prev;
    }
    uv_timer_stop(&t->handle);
    uv_close((uv_handle_t *)&t->handle, plug_timer_free_cb);
}

/* ---- code lists ------------------------------------------------------------- */

/* Any thread: the lists are static. */
static const char *plug_api_code_text(dtr_plugin *self, const char *list, int kode)
{
    (void)self;
    return reg_code_text_by_list(list, kode);
}

/* ---- the loop, the data directory ------------------------------------------ */

static void *plug_api_loop(dtr_plugin *self)
{
    return self ? self->set->reg->loop : NULL;
}

static const char *plug_api_data_dir(dtr_plugin *self)
{
    return self ? self->set->reg->data_dir : "";
}

void plug_fill_host_api(dtr_host_api *api)
{
    memset(api, 0, sizeof *api);
    api->abi_major = DTR_ABI_MAJOR;
    api->abi_minor = DTR_ABI_MINOR;
    api->struct_size = sizeof *api;
    api->log = plug_api_log;
    api->route_add = plug_api_route_add;
    net_fill_request_api(api);
    api->work_submit = plug_api_work_submit;
    api->timer_start = plug_api_timer_start;
    api->timer_stop = plug_api_timer_stop;
    api->loop = plug_api_loop;
    api->data_dir = plug_api_data_dir;
    api->code_text = plug_api_code_text;
    api->openapi_describe = plug_api_openapi_describe;
    api->openapi_paths = plug_api_openapi_paths;
}
