/*
 * services.h -- the register services `dtr serve` lends its plugins through
 * the host API table (ABI 1.1 and 1.2): the store (commands and reads), the
 * clients (HTTP Basic against core/auth's cache), the change feed (consumer
 * plugins) and the register's timed changes (store_tick every minute).
 *
 * The host opens the services once, before the first plugin set, and closes
 * them after the last set is gone. Everything here runs on the loop thread.
 */
#ifndef DTR_SERVICES_H
#define DTR_SERVICES_H

#include <stdbool.h>
#include <stddef.h>

#include <uv.h>

#include "net/net.h"
#include "ops/endpoints.h"
#include "ops/log.h"
#include "config.h"
#include "plugin/loader.h"

typedef struct svc_services svc_services;

/* Opens the store in data_dir (migrations, the writer thread), the client
 * cache and the feed, fills the register entries of reg's host API table,
 * installs the release hook that frees what an instance borrowed (its
 * reader, its feed subscription), and adds the readiness check "store" and
 * the store and feed gauges to endpoints. store_driver: the config's
 * "store.driver" (NULL: the default). NULL with the reason in err. */
svc_services *svc_open(uv_loop_t *loop, const char *data_dir, const char *store_driver,
                       ops_log *log, plug_registry *reg, ops_endpoints *endpoints,
                       const cfg_sessions *sessions, char *err, size_t errlen);

/* A set's instances started and its router is about to serve: subscribe
 * its consumer plugins to the feed. When it replaces an older set, the old
 * set's subscriptions end first, so that one consumer name is delivered to
 * one instance at a time (a batch the old one had not answered goes to the
 * new one). Returns 0, or -1 with err (the feed could not be read). */
int svc_set_serving(svc_services *s, plug_set *set, plug_set *old, char *err, size_t errlen);

/* The server's early check (net_server_set_early_check, udata the
 * services): a request with a body under /v1/ is a write, and every write
 * needs a client (API.md), so one without valid credentials is refused with
 * 401 from its headers alone, before "100 Continue" and before its body is
 * read. */
int svc_early_check(void *udata, dtr_request *req, const char **kode, const char **tekst,
                    char *extra, size_t extralen);

/* Hands the config's limits that bound the store (snapshots, children per
 * command, creates per client, the WAL) to the store. At start and reload. */
void svc_set_limits(svc_services *s, const net_limits *l);

/* Stops the feed and the timed changes; done(udata) runs once the feed's
 * reads and cursor writes came back; then the store is closed (its writer
 * drains what is queued and commits). Call after every plugin set is gone. */
void svc_close(svc_services *s, void (*done)(void *udata), void *udata);

#endif /* DTR_SERVICES_H */
