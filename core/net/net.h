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
    /* resources a client can hold (docs/api.md, "limits") */
    uint32_t max_pipeline;             /* requests of one connection queued at once */
    uint32_t max_streams;              /* streamed answers at once (503 past it) */
    uint32_t max_streams_per_client;   /* ... per client address (429 past it) */
    uint32_t max_snapshots;            /* read snapshots open at once (503 past it) */
    uint32_t max_snapshots_per_client; /* ... held for one client address (429 past it) */
    uint64_t snapshot_max_ms;          /* a snapshot's longest life */
    uint32_t max_children;             /* records one create or PATCH carries besides its own */
    uint32_t creates_per_client_per_minute; /* 429 past it; 0 off */
    uint64_t wal_max_bytes;                 /* the WAL's bound (snapshots end at it) */
} net_limits;

/* Upper bounds the config enforces so that no arithmetic on a limit can
 * overflow: a request's offsets into its read buffer are 32-bit, and
 * deadlines are "now + timeout" in 64-bit milliseconds. */
#define NET_MAX_HEADER_BYTES_CAP (1u << 20)  /* 1 MiB of request line and headers */
#define NET_MAX_BODY_BYTES_CAP (1u << 30)    /* 1 GiB of body */
#define NET_TIMEOUT_MS_CAP (7ull * 86400000) /* a week */
#define NET_MAX_CONNECTIONS_CAP 1000000u

/* ---- router ---------------------------------------------------------------
 * Method + path patterns of literal and {param} segments. A route is owned by
 * a plugin instance (owner: the dtr_plugin *, or NULL for the core) whose name
 * is used in messages.
 *
 * Matching goes segment by segment, left to right, on the percent-decoded
 * path: a literal segment wins over a {param} at the same position, and when
 * the literal leads to no route of the request's method the {param} is tried
 * (so "GET /x/new/view" matches "/x/{id}/view" even beside "/x/new/edit"). A
 * {param} never matches an empty segment. GET routes answer HEAD. With this
 * rule two patterns of one method can only match the same path with equal
 * specificity when they have the same shape (the same literals, {params} at
 * the same positions, whatever their names): that is the one ambiguity, and
 * net_router_add refuses it. */

typedef struct net_router net_router;

/* Called when a request of a route starts (+1, just before the handler) and
 * when it ends (-1: answered, or aborted after the abort callback returned,
 * or, for a request whose client left and which has no abort callback, when
 * the plugin finally answers it), so that the host can count requests in
 * flight per plugin instance (reload frees an old instance only when none is
 * left). The -1 is the last time net uses owner. May be NULL. */
typedef void (*net_inflight_fn)(void *owner, int delta);

net_router *net_router_new(net_inflight_fn inflight);
/* Releases the caller's reference. Requests that matched a route of this
 * router hold references of their own, so the memory goes when the last of
 * them ends (a router replaced on reload stays valid for them). */
void net_router_free(net_router *r);
/* Adds a route: method one of GET POST PUT PATCH DELETE OPTIONS; pattern
 * "/a/{b}/c" (at most 16 segments, no empty segment, a {name} fills its
 * segment, names unique in the pattern). max_body_bytes 0: the server's
 * limit. Refuses (DTR_ERROR, err says why) a bad method or pattern, and a
 * route of the same method and shape as an existing one, naming both:
 *   "route GET /v1/x/{id} of plugin 'b' clashes with GET /v1/x/{nummer} of plugin 'a'"
 *   "route GET /v1/x of plugin 'b' duplicates GET /v1/x of plugin 'a'"
 * (owner_name NULL reads "the core"). owner_name is copied. */
dtr_status net_router_add(net_router *r, const char *method, const char *pattern,
                          size_t max_body_bytes, void *owner, const char *owner_name,
                          dtr_route_fn fn, void *udata, char *err, size_t errlen);

/* ---- server -------------------------------------------------------------- */

typedef struct net_server net_server;

/* Creates a server on loop. log and metrics are borrowed and must outlive it;
 * either may be NULL (no access log / no metrics). NULL on failure. */
net_server *net_server_new(uv_loop_t *loop, const net_limits *limits, ops_log *log,
                           ops_metrics *metrics);
/* Binds and listens on "HOST:PORT", "[V6]:PORT" or ":PORT" (port 0: an
 * ephemeral port; see net_server_port). 0, or -1 with err filled. Once only. */
int net_server_listen(net_server *s, const char *host_port, char *err, size_t errlen);
int net_server_port(const net_server *s);
/* Installs the router requests are routed by (borrowed; the server keeps
 * using a router until set_router replaces it; requests in flight finish
 * with the route they matched). Without a router requests get 503. */
void net_server_set_router(net_server *s, net_router *r);
/* Replaces the limits (SIGHUP); applies to new connections and requests. */
void net_server_set_limits(net_server *s, const net_limits *limits);
/* An early check of a request that carries a body, made from its headers
 * alone before the body is read (and before "100 Continue" is sent): for
 * instance a write without valid credentials. Returns 0 to go on, or the
 * status to refuse with (401, 403, 415, ...), setting *kode and *tekst (copied)
 * and, optionally, header lines for the answer into extra
 * ("WWW-Authenticate: Basic realm=\"dtr\"\r\n"). The request API's reading
 * functions work on req; answering it does not. Called on the loop thread for
 * requests with a body that matched a route; it must be quick. The refused
 * request ends its connection (after the answer, reading and discarding what
 * the client still sends, up to 1 MiB or 2 s). */
typedef int (*net_early_check_fn)(void *udata, dtr_request *req, const char **kode,
                                  const char **tekst, char *extra, size_t extralen);
void net_server_set_early_check(net_server *s, net_early_check_fn fn, void *udata);
/* Number of open connections (not counting those refused with 503). */
size_t net_server_connections(const net_server *s);
/* Graceful stop: close the listener, close idle connections at once, let
 * requests in flight finish (their answers say Connection: close); done(udata)
 * runs when the last connection and the server's own handles closed, at the
 * latest shutdown_timeout_ms later (then the rest are cut, their requests
 * aborted). On a server that never listened (or whose listen failed before
 * creating handles) done runs at once, inside this call. Call it once. */
void net_server_shutdown(net_server *s, void (*done)(void *udata), void *udata);
/* Frees a server that never listened, or whose shutdown's done ran. */
void net_server_free(net_server *s);

/* The dtr_host_api functions that act on a dtr_request (req_*, resp_header,
 * respond*, stream_*, req_on_abort, req_on_drain). The host copies them into
 * its table.
 *
 * Notes on their behaviour beyond plugin.h:
 *   - Answers are sent in request order on a connection; an answer given
 *     early is held until the answers before it are sent.
 *   - A request whose client goes away is answered for nobody: with an abort
 *     callback set, the callback runs and the request is gone after it; with
 *     none, the request stays valid (strings, body) until the plugin answers
 *     it, and that answer is dropped.
 *   - stream_write returns 0 once 256 KiB are waiting to be sent; on_drain
 *     runs when fewer than 64 KiB wait.
 *   - resp_header refuses (and logs) names that are not tokens, values with
 *     CR or LF, and Content-Length, Transfer-Encoding, Date, Connection and
 *     X-Request-Id (the server's own).
 *   - A handler that returns without answering and not DTR_OK gets a 500. */
void net_fill_request_api(dtr_host_api *api);
/* Names who the request is from in the access log (the host's
 * req_authenticate); req is a plugin's handle. The id is copied. */
void net_request_set_client(dtr_request *req, const char *id);
/* Runs fn(udata) once, when the request's handle is spent (its answer ended,
 * it was aborted, or it was released); at once for a spent handle. One per
 * request: a second replaces the first. The host ties the request's
 * identity to it. */
void net_request_on_end(dtr_request *req, void (*fn)(void *udata), void *udata);
/* The udata of the request's on_end, or NULL when none is set. */
void *net_request_end_data(dtr_request *req);
/* The client's address ("127.0.0.1"; "" when unknown): the web UI's login
 * throttle counts per address. req is a plugin's handle. */
const char *net_request_peer(dtr_request *req);

#endif /* DTR_NET_H */
