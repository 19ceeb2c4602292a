/*
 * host.h -- the serving process: config, logger, plugins, the HTTP server
 * and the signals that stop and reload it, all on one libuv loop.
 *
 * Start: read the config, create the data directory (and the server's
 * signing key in it on the first start), open the logger, load,
 * init and start every plugin in config order into a router that also holds
 * the core's /healthz, /readyz and /metrics, listen, and print
 * "listening on http://HOST:PORT" on stdout.
 * SIGTERM/SIGINT: stop accepting, close idle connections, let requests in
 * flight finish (at most limits.shutdown_timeout_ms), stop and free the
 * plugins, exit 0.
 * SIGHUP: re-read the config; build new plugin instances with their new
 * config into a new router; only if every one started, swap the router into
 * the server, apply the new limits and retire the old instances (each freed
 * when its requests are done). A bad config or a failing plugin leaves the
 * running ones serving. The listen address and the data directory are not
 * changed by a reload.
 */
#ifndef DTR_HOST_H
#define DTR_HOST_H

#include <stddef.h>

#include "config.h"

/* What the command line says (NULL: not given). */
typedef struct host_options {
    const char *config_path; /* NULL: CFG_DEFAULT_PATH */
    const char *data_dir;    /* --data: overrides the config's data_dir */
    const char *listen;      /* --listen: overrides the config's listen */
} host_options;

/* Loads the config file named by opts and applies the command line's
 * overrides. NULL with the reason in err. For every subcommand that needs
 * the config. */
cfg_config *host_load_config(const host_options *opts, char *err, size_t errlen);

/* Creates dir and its missing parents (mode 0750) and writes its absolute
 * path into abs. 0, or -1 with the reason in err. */
/* Makes cfg's "store" the database of every store this process opens
 * (store_configure). Once, at start, before any store opens; a reload does
 * not move it. 0, or -1 with the reason. */
int host_use_store(const cfg_config *cfg, char *err, size_t errlen);
int host_prepare_data_dir(const char *dir, char *abs, size_t abslen, char *err, size_t errlen);

/* `dtr serve`: runs the server until SIGTERM or SIGINT. Returns the exit
 * code: 0 after a clean shutdown, 1 when the start was refused (the one-line
 * reason is then in err). */
int host_serve(const host_options *opts, char *err, size_t errlen);

#endif /* DTR_HOST_H */
