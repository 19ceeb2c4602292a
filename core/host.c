/*
 * host.c -- the lifecycle of `dtr serve` (see host.h): start, SIGTERM
 * drain, SIGHUP reload, on one libuv loop.
 *
 * Ownership: the host owns the loop, the config in force, the logger, the
 * metrics, the endpoints, the plugin registry, the server and the signing
 * key. Plugin
 * instances come in sets (plug_set, one per start or reload); the current
 * set's router is the one installed in the server; a replaced set is
 * retired and frees itself once nothing of it is in flight.
 */
#include "errtext.h"
#include "host.h"

#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>
#include <uv.h>

#include "bulk/bulk.h"
#include "feed/feed.h"
#include "net/net.h"
#include "ops/endpoints.h"
#include "people.h"
#include "ops/log.h"
#include "ops/metrics.h"
#include "plugin/loader.h"
#include "register/register.h"
#include "services.h"

/* Time the plugins get to finish their work after the server closed its
 * last connection, before the process gives up on them. */
#define HOST_SHUTDOWN_GRACE_MS 2000

typedef struct host {
    uv_loop_t loop;
    host_options opts;
    cfg_config *cfg; /* the config in force */
    char data_dir[PATH_MAX];
    int lock_fd; /* the data directory's lock (bulk_lock_data_dir), held while serving */
    ops_log *log;
    ops_metrics *metrics;
    ops_endpoints *endpoints;
    plug_registry *reg;
    plug_set *current; /* the installed set */
    size_t retiring;   /* retired sets not yet gone */
    net_server *server;
    svc_services *svc; /* the register services (store, clients, feed); NULL once closed */
    bool svc_closing;
    uv_signal_t sigterm, sigint, sighup;
    uv_timer_t deadline;
    bool signals_open;
    bool shutting_down;
    bool server_done;
    unsigned reloads, reload_failures;
    unsigned char sign_sk[64]; /* the server's Ed25519 key (signing.key in data_dir) */
    unsigned char sign_pk[32];
} host;

/* ---- host services of other modules ------------------------------------ */

/* dtr_host_api.public_read: the config in force. */
static int host_public_read(dtr_plugin *self)
{
    const host *h = plug_host_udata(self);
    return h->cfg->public_read ? 1 : 0;
}

/* dtr_host_api.sign: a detached Ed25519 signature with the server's key.
 * Any thread: the key does not change while the process runs. */
static dtr_status host_sign(dtr_plugin *self, const void *msg, size_t len, unsigned char sig[64])
{
    const host *h = plug_host_udata(self);
    if (!msg && len) return DTR_ERROR;
    crypto_sign_detached(sig, NULL, msg ? msg : (const void *)"", len, h->sign_sk);
    return DTR_OK;
}

static void host_signing_public_key(dtr_plugin *self, unsigned char pk[32])
{
    const host *h = plug_host_udata(self);
    memcpy(pk, h->sign_pk, sizeof h->sign_pk);
}

/* ---- readiness and metrics ---------------------------------------------- */

static bool host_plugins_ready(void *udata, char *why, size_t whylen)
{
    host *h = udata;
    if (h->shutting_down) {
        snprintf(why, whylen, "shutting down");
        return false;
    }
    if (!h->current || !plug_set_started(h->current)) {
        snprintf(why, whylen, "plugins not started");
        return false;
    }
    return true;
}

static void host_metrics_hook(void *udata, ops_metrics *m)
{
    host *h = udata;
    if (h->server) ops_metrics_set_connections(m, net_server_connections(h->server));
    ops_metrics_set(m, "dtr_plugins_running", "gauge", "Plugin instances serving.",
                    h->current ? (double)plug_set_count(h->current) : 0);
    ops_metrics_set(m, "dtr_reloads_total", "counter", "Configuration reloads applied (SIGHUP).",
                    h->reloads);
    ops_metrics_set(m, "dtr_reload_failures_total", "counter",
                    "Configuration reloads refused (SIGHUP); the running config stayed.",
                    h->reload_failures);
}

/* ---- sets --------------------------------------------------------------- */

static void host_maybe_finish(host *h);

static void host_set_gone(void *udata)
{
    host *h = udata;
    h->retiring--;
    host_maybe_finish(h);
}

static void host_retire(host *h, plug_set *set)
{
    h->retiring++;
    plug_set_retire(set, host_set_gone, h);
}

/* Builds one generation: the core's routes, then every plugin of cfg loaded,
 * initialised and started in config order. NULL with the reason in err
 * (the half-built set is retired). */
static plug_set *host_build_set(host *h, const cfg_config *cfg, char *err, size_t errlen)
{
    static const struct {
        const char *pattern;
        dtr_route_fn fn;
    } core_routes[] = {
        {"/healthz", ops_endpoint_healthz},
        {"/readyz", ops_endpoint_readyz},
        {"/metrics", ops_endpoint_metrics},
        {"/v1/spor/{nummer}", people_route_spor}, /* a record's trail, for the web UI */
    };
    plug_set *set = plug_set_new(h->reg);
    for (size_t i = 0; i < sizeof core_routes / sizeof core_routes[0]; i++) {
        if (plug_set_add_core_route(set, "GET", core_routes[i].pattern, core_routes[i].fn,
                                    h->endpoints, err, errlen) != DTR_OK)
            goto fail;
    }
    for (size_t i = 0; i < cfg->nplugins; i++) {
        const cfg_plugin *p = &cfg->plugins[i];
        char path[PATH_MAX];
        if (!cfg_plugin_path(cfg, p, path, sizeof path)) {
            errtext(err, errlen, -1, "plugin \"%s\": path too long", p->name);
            goto fail;
        }
        if (plug_set_add_as(set, p->name, path, p->config, p->client, err, errlen) != DTR_OK)
            goto fail;
    }
    if (plug_set_start(set, err, errlen) != DTR_OK) goto fail;
    return set;
fail:
    host_retire(h, set);
    return NULL;
}

/* ---- reload ------------------------------------------------------------- */

/* SIGHUP: everything or nothing. The running set keeps serving unless the
 * whole new one started. */
static void host_reload(host *h)
{
    char err[1024];
    if (h->shutting_down) return;
    ops_log_write(h->log, OPS_LOG_INFO, "host", "SIGHUP: reloading %s",
                  h->opts.config_path ? h->opts.config_path : CFG_DEFAULT_PATH);
    cfg_config *cfg = host_load_config(&h->opts, err, sizeof err);
    if (!cfg) {
        h->reload_failures++;
        ops_log_write(h->log, OPS_LOG_ERROR, "host", "reload refused, the running config stays: %s",
                      err);
        return;
    }
    if (strcmp(cfg->listen, h->cfg->listen) != 0)
        ops_log_write(h->log, OPS_LOG_WARN, "host",
                      "reload: listen changed from %s to %s; a reload does not move the "
                      "listener (restart to apply)",
                      h->cfg->listen, cfg->listen);
    if (strcmp(cfg->data_dir, h->cfg->data_dir) != 0)
        ops_log_write(h->log, OPS_LOG_WARN, "host",
                      "reload: data_dir changed from %s to %s; a reload keeps the data "
                      "directory (restart to apply)",
                      h->cfg->data_dir, cfg->data_dir);
    bool same_dsn =
        (!cfg->store_dsn && !h->cfg->store_dsn) ||
        (cfg->store_dsn && h->cfg->store_dsn && strcmp(cfg->store_dsn, h->cfg->store_dsn) == 0);
    if (strcmp(cfg->store_driver, h->cfg->store_driver) != 0 || !same_dsn)
        ops_log_write(h->log, OPS_LOG_WARN, "host",
                      "reload: store changed; a reload keeps the database (restart to apply)");
    cfg_set_listen(cfg, h->cfg->listen);
    cfg_set_data_dir(cfg, h->cfg->data_dir);

    plug_set *set = host_build_set(h, cfg, err, sizeof err);
    if (!set) {
        h->reload_failures++;
        ops_log_write(h->log, OPS_LOG_ERROR, "host", "reload refused, the running plugins stay: %s",
                      err);
        cfg_free(cfg);
        return;
    }
    plug_set *old = h->current;
    if (svc_set_serving(h->svc, set, old, err, sizeof err) != 0) {
        char again[256];
        svc_set_serving(h->svc, old, set, again, sizeof again);
        h->reload_failures++;
        ops_log_write(h->log, OPS_LOG_ERROR, "host", "reload refused, the running plugins stay: %s",
                      err);
        host_retire(h, set);
        cfg_free(cfg);
        return;
    }
    net_server_set_router(h->server, plug_set_router(set));
    net_server_set_limits(h->server, &cfg->limits);
    svc_set_limits(h->svc, &cfg->limits);
    h->current = set;
    host_retire(h, old);
    cfg_free(h->cfg);
    h->cfg = cfg;
    h->reloads++;
    ops_log_write(h->log, OPS_LOG_INFO, "host", "reloaded: %zu plugin(s) running",
                  plug_set_count(set));
}

/* ---- shutdown ----------------------------------------------------------- */

static void host_handle_closed(uv_handle_t *handle)
{
    (void)handle;
}

static void host_svc_closed(void *udata)
{
    host *h = udata;
    h->svc = NULL;
    host_maybe_finish(h);
}

/* Closes the register services (the store's writer commits what is queued)
 * once no plugin can use them any more. */
static void host_close_services(host *h)
{
    if (!h->svc || h->svc_closing) return;
    h->svc_closing = true;
    svc_close(h->svc, host_svc_closed, h);
}

/* Closes the last handles once the server is done and every set is gone:
 * uv_run then returns. */
static void host_maybe_finish(host *h)
{
    if (!h->shutting_down || !h->server_done || h->retiring || h->current) return;
    if (h->svc) {
        host_close_services(h);
        return;
    }
    if (!h->signals_open) return;
    h->signals_open = false;
    uv_close((uv_handle_t *)&h->sigterm, host_handle_closed);
    uv_close((uv_handle_t *)&h->sigint, host_handle_closed);
    uv_close((uv_handle_t *)&h->sighup, host_handle_closed);
    uv_close((uv_handle_t *)&h->deadline, host_handle_closed);
}

/* The server closed its last connection (or cut the rest at the timeout):
 * now the plugins stop and are freed. */
static void host_server_done(void *udata)
{
    host *h = udata;
    h->server_done = true;
    ops_log_write(h->log, OPS_LOG_INFO, "host", "connections closed; stopping plugins");
    plug_set *set = h->current;
    h->current = NULL;
    if (set) host_retire(h, set);
    host_maybe_finish(h);
}

/* The plugins did not finish their work in time after the server was done:
 * the process leaves without them (their work may still run on the pool). */
static void host_deadline_cb(uv_timer_t *t)
{
    host *h = t->data;
    ops_log_write(h->log, OPS_LOG_ERROR, "host",
                  "shutdown: %zu plugin instance(s) still busy after the shutdown timeout; "
                  "exiting without them",
                  plug_registry_live_instances(h->reg));
    ops_log_free(h->log);
    fflush(stdout);
    _exit(1);
}

static void host_begin_shutdown(host *h, const char *why)
{
    if (h->shutting_down) {
        ops_log_write(h->log, OPS_LOG_INFO, "host", "%s: already shutting down", why);
        return;
    }
    h->shutting_down = true;
    ops_log_write(h->log, OPS_LOG_INFO, "host",
                  "%s: shutting down (requests in flight get %llu ms)", why,
                  (unsigned long long)h->cfg->limits.shutdown_timeout_ms);
    uv_timer_start(&h->deadline, host_deadline_cb,
                   h->cfg->limits.shutdown_timeout_ms + HOST_SHUTDOWN_GRACE_MS, 0);
    net_server_shutdown(h->server, host_server_done, h);
}

static void host_signal_cb(uv_signal_t *s, int signum)
{
    host *h = s->data;
    if (signum == SIGHUP)
        host_reload(h);
    else
        host_begin_shutdown(h, signum == SIGTERM ? "SIGTERM" : "SIGINT");
}

/* ---- serve -------------------------------------------------------------- */

/* Runs the loop until every retired set is gone (used on the refusal
 * paths, where no signal handle keeps the loop alive). */
static void host_drain_sets(host *h)
{
    while (h->retiring)
        uv_run(&h->loop, UV_RUN_ONCE);
}

/* The server of a refused start closed its handles. */
static void host_server_closed(void *udata)
{
    host *h = udata;
    h->server_done = true;
}

static void host_print_listening(const char *listen, int port)
{
    char hostpart[256];
    int ignored;
    if (!cfg_parse_listen(listen, hostpart, sizeof hostpart, &ignored))
        snprintf(hostpart, sizeof hostpart, "127.0.0.1");
    if (strchr(hostpart, ':'))
        printf("listening on http://[%s]:%d\n", hostpart, port);
    else
        printf("listening on http://%s:%d\n", hostpart, port);
    fflush(stdout);
}

static void host_start_signal(host *h, uv_signal_t *s, int signum)
{
    uv_signal_init(&h->loop, s);
    s->data = h;
    uv_signal_start(s, host_signal_cb, signum);
}

/* What the server needs before the loop: the data directory, its lock
 * (one server per directory, never beside an import) and the signing key
 * (created on the first start). 0, or -1 with err (nothing left held). */
static int host_open_data(host *h, char *err, size_t errlen)
{
    if (host_prepare_data_dir(h->cfg->data_dir, h->data_dir, sizeof h->data_dir, err, errlen) != 0)
        return -1;
    int locked = bulk_lock_data_dir(h->data_dir, &h->lock_fd, err, errlen);
    if (locked != 0) {
        if (locked == 1)
            errtext(err, errlen, -1, "data directory %s is in use by another dtr (serve or import)",
                    h->data_dir);
        return -1;
    }
    if (sodium_init() < 0) {
        errtext(err, errlen, -1, "cannot initialise libsodium");
    } else if (signkey_load_or_create(h->data_dir, h->sign_sk, h->sign_pk, err, errlen) == 0) {
        return 0;
    }
    close(h->lock_fd);
    return -1;
}

/* The loop, the logger, the metrics, the plugin registry with the host's
 * services in its table, and the core's endpoints. */
static void host_open_services(host *h)
{
    signal(SIGPIPE, SIG_IGN);
    uv_loop_init(&h->loop);
    h->log = ops_log_new(2, OPS_LOG_INFO);
    h->metrics = ops_metrics_new();
    h->reg = plug_registry_new(&h->loop, h->log, h->data_dir);
    plug_registry_set_udata(h->reg, h);
    dtr_host_api *api = plug_registry_api_edit(h->reg);
    api->public_read = host_public_read;
    api->sign = host_sign;
    api->signing_public_key = host_signing_public_key;
    h->endpoints = ops_endpoints_new(plug_registry_api(h->reg), h->metrics);
    ops_endpoints_add_ready_check(h->endpoints, "plugins", host_plugins_ready, h);
    ops_endpoints_add_metrics_hook(h->endpoints, host_metrics_hook, h);
}

/* Plugins started, the server listening. 0, or -1 with err after undoing
 * what was done (the loop may still hold closing handles). */
static int host_start(host *h, char *err, size_t errlen)
{
    h->current = host_build_set(h, h->cfg, err, errlen);
    if (!h->current) return -1;
    if (svc_set_serving(h->svc, h->current, NULL, err, errlen) != 0) {
        host_retire(h, h->current);
        h->current = NULL;
        return -1;
    }
    h->server = net_server_new(&h->loop, &h->cfg->limits, h->log, h->metrics);
    if (!h->server) {
        errtext(err, errlen, -1, "cannot create the HTTP server");
    } else {
        net_server_set_router(h->server, plug_set_router(h->current));
        net_server_set_early_check(h->server, svc_early_check, h->svc);
        char why[512] = "";
        if (net_server_listen(h->server, h->cfg->listen, why, sizeof why) == 0) return 0;
        errtext(err, errlen, -1, "cannot listen on %s: %s", h->cfg->listen, why);
    }
    host_retire(h, h->current);
    h->current = NULL;
    if (h->server) {
        net_server_shutdown(h->server, host_server_closed, h);
        while (!h->server_done)
            uv_run(&h->loop, UV_RUN_ONCE);
    }
    return -1;
}

/* Serves until a signal's shutdown closed the last handle. */
static void host_run(host *h)
{
    uv_timer_init(&h->loop, &h->deadline);
    h->deadline.data = h;
    host_start_signal(h, &h->sigterm, SIGTERM);
    host_start_signal(h, &h->sigint, SIGINT);
    host_start_signal(h, &h->sighup, SIGHUP);
    h->signals_open = true;
    ops_log_write(h->log, OPS_LOG_INFO, "host", "serving %zu plugin(s); data in %s",
                  plug_set_count(h->current), h->data_dir);
    host_print_listening(h->cfg->listen, net_server_port(h->server));
    uv_run(&h->loop, UV_RUN_DEFAULT);
    ops_log_write(h->log, OPS_LOG_INFO, "host", "stopped");
}

static void host_close(host *h)
{
    host_drain_sets(h);
    host_close_services(h);
    while (h->svc)
        uv_run(&h->loop, UV_RUN_ONCE);
    if (h->server) net_server_free(h->server);
    ops_endpoints_free(h->endpoints);
    plug_registry_free(h->reg);
    ops_metrics_free(h->metrics);
    ops_log_free(h->log);
    if (uv_loop_close(&h->loop) != 0) {
        uv_run(&h->loop, UV_RUN_NOWAIT); /* close callbacks still queued */
        uv_loop_close(&h->loop);
    }
    sodium_memzero(h->sign_sk, sizeof h->sign_sk);
    close(h->lock_fd);
}

int host_serve(const host_options *opts, char *err, size_t errlen)
{
    host h;
    memset(&h, 0, sizeof h);
    h.opts = *opts;
    h.cfg = host_load_config(opts, err, errlen);
    if (!h.cfg) return 1;
    if (host_use_store(h.cfg, err, errlen) != 0) {
        cfg_free(h.cfg);
        return 1;
    }
    if (host_open_data(&h, err, errlen) != 0) {
        cfg_free(h.cfg);
        return 1;
    }
    host_open_services(&h);
    h.svc = svc_open(&h.loop, h.data_dir, h.cfg->store_driver, h.log, h.reg, h.endpoints,
                     &h.cfg->sessions, err, errlen);
    if (h.svc) svc_set_limits(h.svc, &h.cfg->limits);
    int code = h.svc && host_start(&h, err, errlen) == 0 ? 0 : 1;
    if (code == 0) host_run(&h);
    host_close(&h);
    cfg_free(h.cfg);
    return code;
}
