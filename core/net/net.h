/*
 * net.h -- the HTTP server of the gateway: libuv listener and connections,
 * llhttp parsing, limits, the router and the dtr_request implementation the
 * plugin ABI hands to handlers. net/ knows no dagtilbud.
 *
 * Everything here runs on the loop thread.
 */
#ifndef DTR_NET_H
#define DTR_NET_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "dtr/plugin.h"
#include "ops/log.h"
#include "ops/metrics.h"

/* The limits of API.md's config ("limits"). */
typedef struct net_limits {
    size_t max_header_bytes;                 /* 431 past it */
    size_t max_body_bytes;                   /* 413 past it (per route override in the router) */
    uint64_t header_timeout_ms;              /* 408 then close when headers do not finish */
    uint64_t body_timeout_ms;                /* 408 then close when the body does not finish */
    uint64_t send_timeout_ms;                /* close when a client stops reading an answer */
    uint64_t idle_timeout_ms;                /* close an idle keep-alive connection */
    uint64_t shutdown_timeout_ms;            /* SIGTERM: in-flight requests get this long */
    uint32_t max_connections;                /* 503 + Retry-After past it */
    uint32_t requests_per_second_per_client; /* 429 + Retry-After past it; 0 off */
} net_limits;

/* ---- router ---------------------------------------------------------------
 * Method + path patterns of literal and {param} segments. A route is owned by
 * a plugin instance (owner: the dtr_plugin *, or NULL for the core) whose name
 * is used in messages. */

typedef struct net_router net_router;

/* Called when a request of a route starts and when it ends, so that the
 * host can count requests in flight per plugin instance (reload frees an old
 * instance only when none is left). May be NULL. */
typedef void (*net_inflight_fn)(void *owner, int delta);

net_router *net_router_new(net_inflight_fn inflight);
void net_router_free(net_router *r);
/* Adds a route; refuses (DTR_ERROR with both owners named in err) a
 * duplicate or a pattern ambiguous with an existing one for the same method
 * (same segments where a literal of one meets a {param} of the other in the
 * same position counts as ambiguous only when both could match the same
 * path with neither more specific... see router.c for the exact rule). */
dtr_status net_router_add(net_router *r, const char *method, const char *pattern,
                          size_t max_body_bytes, void *owner, const char *owner_name,
                          dtr_route_fn fn, void *udata, char *err, size_t errlen);

/* ---- server -------------------------------------------------------------- */

typedef struct net_server net_server;

/* Creates a server on loop. log and metrics are borrowed and must outlive it. */
net_server *net_server_new(uv_loop_t *loop, const net_limits *limits, ops_log *log,
                           ops_metrics *metrics);
/* Binds and listens on "HOST:PORT" (port 0: an ephemeral port; see
 * net_server_port). */
int net_server_listen(net_server *s, const char *host_port, char *err, size_t errlen);
int net_server_port(const net_server *s);
/* Installs the router requests are routed by (borrowed; the server keeps
 * using a router until set_router replaces it; requests in flight finish
 * with the route they matched). */
void net_server_set_router(net_server *s, net_router *r);
/* Replaces the limits (SIGHUP); applies to new connections and requests. */
void net_server_set_limits(net_server *s, const net_limits *limits);
/* Number of open connections. */
size_t net_server_connections(const net_server *s);
/* Graceful stop: close the listener, close idle connections at once, let
 * requests in flight finish; done(udata) runs when the last connection
 * closed or when shutdown_timeout_ms passed (then the rest are cut). */
void net_server_shutdown(net_server *s, void (*done)(void *udata), void *udata);
/* Frees a server after shutdown's done ran (handles closed). */
void net_server_free(net_server *s);

/* The dtr_host_api functions that act on a dtr_request (req_*, resp_*,
 * respond*, stream_*). The host copies them into its table. */
void net_fill_request_api(dtr_host_api *api);

#endif /* DTR_NET_H */
