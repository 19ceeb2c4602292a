/*
 * net_int.h -- what the files of net/ share and nobody else sees: the
 * connection, the request, the buffers and the router's matching.
 *
 * Ownership in one page:
 *   - net_server owns its connections (a list), the pools of free buffers and
 *     request objects, the listener and the handles of shutdown.
 *   - net_conn owns its read buffer (shared by reference with the requests
 *     whose bytes are in it), its output queue, and the requests of its
 *     pipeline, oldest first. Requests are answered in that order: only the
 *     oldest writes to the connection's output queue; the others keep their
 *     answers in their own queue ("held") until they are the oldest.
 *   - dtr_request points into the read buffer for its method, URL and headers
 *     (zero-copy; a reference keeps the buffer alive while the request
 *     lives). Decoded strings live in its arena. A request whose connection
 *     closed while its handler still had it, and which has no abort callback,
 *     becomes an orphan: it owns itself until the plugin answers it.
 *   - net_router is reference-counted: each request holds a reference from
 *     routing until it is released, so a router replaced on reload stays
 *     valid for the requests that matched it.
 *
 * All on the loop thread.
 */
#ifndef DTR_NET_INT_H
#define DTR_NET_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <llhttp.h>
#include <uv.h>

#include "net/net.h"

enum {
    NET_RBUF_SIZE = 64 * 1024,      /* a pooled read buffer */
    NET_RBUF_MIN_FREE = 8 * 1024,   /* less free room than this: compact or move */
    NET_CHUNK_SIZE = 16 * 1024,     /* a pooled output chunk */
    NET_OWNED_MIN = 4 * 1024,       /* a handed-over body below this is copied */
    NET_MAX_SEGMENTS = 16,          /* path segments a route can have */
    NET_MAX_HEADERS = 100,          /* request headers (431 past it) */
    NET_INLINE_HEADERS = 24,        /* headers kept in the request itself */
    NET_PIPELINE_DEFAULT = 16,      /* requests of one connection in flight (limits 0) */
    NET_HIGH_WATER = 256 * 1024,    /* unsent bytes: stop reading, tell streams to wait */
    NET_LOW_WATER = 64 * 1024,      /* ... and resume below this */
    NET_LINGER_BYTES = 1024 * 1024, /* discarded after a refusal before closing */
    NET_LINGER_MS = 2000,           /* ... or this long */
    NET_POOL_MAX = 256,             /* free chunks and requests kept per server */
    NET_RBUF_POOL_MAX = 32,         /* free read buffers kept per server */
    NET_ID_MAX = 64,                /* longest X-Request-Id echoed */
    NET_ARENA_INLINE = 384,         /* request arena bytes inside the request */
    NET_REJECTED_MAX = 1024,        /* 503-and-linger connections at once */
};

/* ---- buffers (buf.c) ------------------------------------------------------ */

/* A read buffer: bytes as they came from the socket. Shared by reference
 * between the connection and the requests whose bytes it holds. */
typedef struct net_rbuf {
    uint32_t refs;
    uint32_t cap;
    char data[];
} net_rbuf;

/* One piece of output; [off, len) is not yet written. Its bytes are data[],
 * or, for a body handed over whole (respond_owned), ext: a malloc'd buffer
 * the chunk owns and frees (cap == len, so nothing is appended to it). */
typedef struct net_chunk {
    struct net_chunk *next;
    uint32_t cap, len, off;
    char *ext;
    char data[];
} net_chunk;

#define NET_CHUNK_BYTES(ch) ((ch)->ext ? (ch)->ext : (ch)->data)

/* A queue of output chunks; bytes counts what is not yet written. */
typedef struct net_outq {
    net_chunk *head, *tail;
    size_t bytes;
} net_outq;

/* A block of a request's arena beyond the inline bytes. */
typedef struct net_arena_block {
    struct net_arena_block *next;
    size_t cap, used;
    char data[];
} net_arena_block;

typedef struct net_strv {
    const char *p;
    size_t n;
} net_strv;

/* ---- router (router.c) ---------------------------------------------------- */

typedef struct net_route {
    struct net_route *next_here; /* the other methods at the same node */
    struct net_route *next_all;  /* every route, for freeing */
    uint8_t method;              /* llhttp_method_t */
    uint16_t nseg;
    char *pattern;
    char *owner_name;
    void *owner;
    char **param_names; /* [nseg]: the {name} of each segment, NULL for literals */
    size_t max_body_bytes;
    dtr_route_fn fn;
    void *udata;
} net_route;

/* Takes and drops a reference (requests hold one while they live). */
void net_router_ref(net_router *r);
void net_router_unref(net_router *r);
net_inflight_fn net_router_inflight(const net_router *r);
/* The route for method and the decoded segments, literal segments preferred
 * over {param} ones position by position (backtracking when a literal leads
 * nowhere). HEAD matches GET routes. NULL when none. */
const net_route *net_router_match(const net_router *r, int method, const net_strv *segs,
                                  size_t nseg);
/* For a path no route of the method matched: writes the methods that do
 * match it ("GET, HEAD, POST") into buf and returns its length, or 0 when no
 * route matches the path at all (404). */
size_t net_router_allow(const net_router *r, const net_strv *segs, size_t nseg, char *buf,
                        size_t buflen);
/* The index of {name} in the route's segments, or -1. */
int net_route_param_index(const net_route *route, const char *name);

/* ---- URLs (url.c) ---------------------------------------------------------- */

enum { NET_DECODE_PLUS = 1, NET_DECODE_STRICT = 2 };

/* Percent-decodes src[0..len) into dst (room for len bytes; no NUL added).
 * NET_DECODE_PLUS turns '+' into a space (queries). NET_DECODE_STRICT fails
 * (-1) on a malformed escape or %00; otherwise those are kept as they are.
 * Returns the decoded length. */
long net_url_decode(char *dst, const char *src, size_t len, unsigned flags);
/* Finds the first parameter called name in a raw query string (without the
 * '?'), comparing decoded names. Returns its raw (still encoded) value and
 * sets *vlen, or NULL when absent. A parameter without '=' has the value "". */
const char *net_query_find(const char *query, size_t qlen, const char *name, size_t *vlen);
/* Splits a raw path into segments at '/' (the first '/' is skipped). Returns
 * the number of segments, or -1 past max. "/" has none; "/a/" has "a" and "". */
int net_path_split(const char *path, size_t len, net_strv *segs, size_t max);

/* ---- requests ------------------------------------------------------------- */

typedef struct net_conn net_conn;

typedef enum net_req_state {
    NET_REQ_PARSING = 0, /* headers or body still arriving */
    NET_REQ_HANDLING,    /* handed to the handler, not answered yet */
    NET_REQ_STREAMING,   /* stream_begin ran, stream_end not yet */
    NET_REQ_DONE,        /* answered: the whole answer is queued */
    NET_REQ_DEAD         /* the connection went away first */
} net_req_state;

typedef struct net_hdr {
    uint32_t name_off, name_len; /* relative to the request's base */
    uint32_t value_off, value_len;
} net_hdr;

typedef struct net_resp_hdr {
    struct net_resp_hdr *next;
    size_t len; /* of line: "Name: value\r\n" */
    char line[];
} net_resp_hdr;

struct dtr_request {
    net_conn *conn;    /* NULL once orphaned or released */
    dtr_request *next; /* the next request of the pipeline */
    net_rbuf *rbuf;    /* holds the request line and headers */
    uint32_t base;     /* where this request starts in rbuf */
    uint32_t keep_len; /* bytes from base that must stay (spans, NULs) */
    uint32_t url_off, url_len;
    uint32_t path_len;             /* raw path: url up to '?' or '#' */
    uint32_t query_off, query_len; /* relative to base; query_len 0: none */
    uint16_t nhdr, hdr_cap;
    uint8_t method, http_major, http_minor;
    uint8_t state;
    uint8_t pin;                 /* >0 while net code below a plugin call uses it */
    dtr_request *handle;         /* the plugins' handle (handle.c); NULL before the first or once
                                    the answer ended */
    void (*on_end)(void *udata); /* run once when the handle is spent (the host's: the
                                    request's identity ends with it) */
    void *end_udata;
    bool base_set : 1;
    bool headers_done : 1;
    bool keep_alive : 1;
    bool is_head : 1;
    bool last : 1;        /* the connection ends after this answer */
    bool popped : 1;      /* left the pipeline */
    bool want_drain : 1;  /* stream_write said "wait": call on_drain */
    bool chunked_out : 1; /* the answer uses chunked encoding */
    bool answered_dead : 1;
    bool body_owned : 1; /* body is malloc'd (else it is in rbuf) */
    bool field_open : 1; /* a header name is arriving in pieces */
    bool path_decoded : 1;
    bool stream_counted : 1;   /* in the server's count of open streams */
    bool stream_refused : 1;   /* stream_begin was over a bound: answered with a problem */
    bool refused_ended : 1;    /* ... and the plugin ended it before its abort ran */
    dtr_request *refused_next; /* the server's list of refused streams to abort */
    int refuse_status;         /* a refusal decided while parsing; 0 none */
    const char *refuse_kode, *refuse_text;
    char refuse_hdr[96]; /* a header line of the refusal ("Allow: ...\r\n") */
    net_hdr *hdrs;
    /* body */
    unsigned char *body; /* when body_owned */
    uint32_t body_off;   /* when in rbuf, relative to base */
    size_t body_len, body_cap, body_limit;
    /* routing */
    net_router *router; /* a reference, from routing to release */
    const net_route *route;
    uint16_t nseg;
    net_strv seg[NET_MAX_SEGMENTS];
    const char *path; /* decoded, NUL-terminated */
    /* answer */
    int status;
    uint64_t body_bytes_out;
    net_outq held;
    net_resp_hdr *resp_hdrs, *resp_hdrs_tail;
    /* ids, timing */
    char id[NET_ID_MAX + 1];
    const char *client;
    uint64_t start_ns;
    uint64_t begin_ms, headers_ms;
    /* callbacks */
    dtr_abort_fn on_abort;
    void *abort_udata;
    dtr_drain_fn on_drain;
    void *drain_udata;
    void *owner;  /* the route's owner, for the in-flight count */
    bool counted; /* in-flight +1 was reported */
    /* arena */
    net_arena_block *arena_more;
    uint32_t arena_used;
    _Alignas(8) char arena[NET_ARENA_INLINE];
    net_hdr hdr_inline[NET_INLINE_HEADERS];
};

/* ---- connections ---------------------------------------------------------- */

typedef enum net_conn_mode {
    NET_CONN_OPEN = 0, /* serving requests */
    NET_CONN_ENDING,   /* no more requests: finish sending, then linger */
    NET_CONN_LINGER,   /* write side shut: discarding input until EOF or a limit */
    NET_CONN_CLOSED    /* handles closing */
} net_conn_mode;

struct net_conn {
    uv_tcp_t tcp;
    uv_timer_t timer;
    uv_write_t wreq;
    uv_shutdown_t sreq;
    llhttp_t parser;
    net_server *server;
    net_conn *prev, *next; /* the server's list */
    net_conn *deferred;    /* next on the server's deferred list */
    net_rbuf *rbuf;
    uint32_t rlen;    /* bytes in rbuf */
    uint32_t parsed;  /* bytes of rbuf handed to llhttp */
    dtr_request *cur; /* being parsed (also the pipeline's tail) */
    dtr_request *head, *tail;
    uint32_t npipe;
    net_outq outq;
    size_t writing; /* bytes of the uv_write in flight */
    uint64_t idle_since_ms, progress_ms, linger_ms, timer_due;
    size_t discarded;
    uint8_t mode;
    uint8_t handles; /* handles still open (close callbacks to wait for) */
    bool reading : 1;
    bool stop_parsing : 1; /* parse no more requests (discard what comes) */
    bool shut_sent : 1;
    bool rejected : 1;   /* over max_connections: 503 and linger */
    bool peeking : 1;    /* rejected, waiting for the first bytes (HEAD or not) */
    bool in_process : 1; /* conn_process is running (flush later) */
    bool write_failed : 1;
    bool completed : 1; /* llhttp paused on a complete message */
    bool eof : 1;       /* the client shut its side */
    bool queued : 1;    /* on the server's deferred list */
    uint8_t work;       /* NET_WORK_* to do from the deferred list */
    uint8_t addr[16];   /* the peer's address (IPv4 mapped), for the rate limit */
    char ip[46];
};

/* ---- server ---------------------------------------------------------------- */

typedef struct net_rate_table net_rate_table;

struct net_server {
    uv_loop_t *loop;
    net_limits limits;
    ops_log *log;         /* borrowed, may be NULL */
    ops_metrics *metrics; /* borrowed, may be NULL */
    net_router *router;   /* borrowed */
    uv_tcp_t listener;
    uv_idle_t idle; /* runs the connections' deferred work */
    uv_timer_t shutdown_timer;
    bool handles_init, shutting_down, finishing;
    int open_handles; /* the server's own handles still open */
    int api_depth;    /* >0 while a plugin's call into the request API runs */
    void (*done)(void *udata);
    void *done_udata;
    int port;
    net_conn *conns;
    size_t nconns, nrejected;
    uint32_t fd_max_connections; /* max_connections the descriptors allow; 0: no cap */
    net_conn *deferred;          /* connections with NET_WORK_* to do (idle phase) */
    dtr_request *refused;        /* streams refused at stream_begin, to abort (idle phase) */
    uint32_t nstreams;           /* streamed answers in progress */
    /* pools */
    net_rbuf *rbuf_pool[NET_RBUF_POOL_MAX];
    size_t n_rbuf_pool;
    net_chunk *chunk_pool;
    size_t n_chunk_pool;
    dtr_request *req_pool;
    size_t n_req_pool;
    /* per client address rate limit; NULL while off */
    net_rate_table *rate;
    /* the Date header, per second */
    int64_t date_sec;
    char date_line[48];
    size_t date_len;
    /* request ids */
    uint64_t rng;
    net_early_check_fn early_check;
    void *early_udata;
    /* access log time, per second */
    int64_t log_sec;
    char log_time[64];
};

/* ---- buf.c ----------------------------------------------------------------- */

net_rbuf *net_rbuf_get(net_server *s, size_t min_cap);
void net_rbuf_unref(net_server *s, net_rbuf *rb); /* s NULL: free, never pool */
/* Room for at least need bytes at the tail of q; returns where to write.
 * Commit what was written with net_outq_commit. */
char *net_outq_reserve(net_server *s, net_outq *q, size_t need);
void net_outq_commit(net_outq *q, size_t n);
void net_outq_append(net_server *s, net_outq *q, const void *data, size_t len);
/* Appends buf (malloc'd; the queue owns it from now on) without copying it,
 * unless it is small enough to copy into the tail chunk. */
void net_outq_append_owned(net_server *s, net_outq *q, char *buf, size_t len);
/* Drops n written bytes from the front, releasing emptied chunks. */
void net_outq_consume(net_server *s, net_outq *q, size_t n);
/* Moves every chunk of from to the end of to. */
void net_outq_splice(net_outq *to, net_outq *from);
void net_outq_clear(net_server *s, net_outq *q);
/* ---- handles (handle.c) -------------------------------------------------------- */

/* The handle plugins get for req, issued on first use. */
dtr_request *net_handle_of(dtr_request *req);
/* Ends req's handle: later uses resolve to NULL. */
void net_handle_revoke(dtr_request *req);
/* The request behind a plugin's handle, or NULL (logged, naming what was
 * called) for a handle whose answer ended. */
dtr_request *net_handle_resolve(dtr_request *handle, const char *what);
/* Where misuse is logged. */
void net_handle_set_log(ops_log *log);

dtr_request *net_req_get(net_server *s);
void net_req_put(net_server *s, dtr_request *req); /* s NULL: free */
/* Arena memory of the request, valid until it is released. */
char *net_req_alloc(dtr_request *req, size_t n);
char *net_req_strndup(dtr_request *req, const char *p, size_t n);
void net_pools_free(net_server *s);

/* ---- conn.c ---------------------------------------------------------------- */

/* Work a connection defers to the loop's idle phase, away from the call
 * stack of a plugin that called into the request API (so that no plugin
 * callback runs inside another plugin's call). */
enum { NET_WORK_CLOSE = 1, NET_WORK_DRAIN = 2, NET_WORK_RESUME = 4 };
void net_conn_defer(net_conn *c, unsigned work);
/* Queues a stream refused at stream_begin for its abort callback, which
 * runs in the idle phase (respond.c: net_streams_abort_refused). */
void net_server_defer_refused(net_server *s, dtr_request *req);
void net_streams_abort_refused(net_server *s);
/* A stream ended or died: the count of open streams goes down. */
void net_stream_uncount(net_server *s, dtr_request *req);
/* Runs the deferred work (the server's idle callback). */
void net_conn_run_deferred(net_server *s);

void net_conn_accept(net_server *s);
/* Sends what is queued (uv_try_write, then uv_write); may schedule a close. */
void net_conn_flush(net_conn *c);
/* Closes: aborts the requests in flight (their abort callbacks run), then
 * the handles. Deferred when called below a plugin's API call. */
void net_conn_close(net_conn *c);
/* The connection ends after its queued output: shut, linger, close. */
void net_conn_end(net_conn *c);
/* Re-evaluates whether to read, and the timer. */
void net_conn_update(net_conn *c);
/* Continues parsing bytes already read (after a pause). */
void net_conn_resume(net_conn *c);
void net_conn_begin_shutdown(net_conn *c);

/* ---- parse.c --------------------------------------------------------------- */

/* The request being parsed moved to another place (the read buffer was
 * compacted or replaced): pointers into the old place follow. */
void net_req_rebase(dtr_request *req, const char *old_base, const char *new_base);

void net_parser_init(net_conn *c);
/* Parses the unparsed bytes of c's read buffer, dispatching complete
 * requests, until they are used up or parsing must wait. */
void net_conn_process(net_conn *c);
/* The request being parsed answers 408 (header or body timeout). */
void net_conn_timeout_request(net_conn *c);

/* ---- respond.c ------------------------------------------------------------- */

/* Answers a request with a problem+json body on behalf of the server. */
void net_respond_problem(dtr_request *req, int status, const char *kode, const char *tekst,
                         const char *extra_headers);
/* Removes answered requests from the pipeline's head, moving the next
 * one's held answer to the connection's queue. */
void net_conn_retire(net_conn *c);
/* Called once for every request leaving a connection that closes: aborts
 * (abort callback), orphans, or releases it. */
void net_req_abandon(dtr_request *req);
/* Releases a request that is answered or was never handed out. */
void net_req_release(dtr_request *req);
/* The request id: the client's valid X-Request-Id or a new one. */
void net_req_set_id(dtr_request *req, const char *given, size_t len);
/* The output fell below the low-water mark: the head request's stream may
 * take more (its on_drain runs). Deferred below a plugin's API call. */
void net_conn_drained(net_conn *c);
/* The answering half of net_fill_request_api. */
void net_fill_request_api_answers(dtr_host_api *api);
/* Access log line and metrics of a request that ended (access.c). */
void net_access_record(net_server *s, const dtr_request *req);

/* ---- ratelimit.c ----------------------------------------------------------- */

net_rate_table *net_rate_new(void);
void net_rate_free(net_rate_table *t);
/* Takes a token of key's bucket (rate a second); false with *retry_after
 * (whole seconds, at least 1) when there is none. */
bool net_rate_take(net_rate_table *t, const uint8_t key[16], uint64_t now_ms, uint32_t rate,
                   unsigned *retry_after);

/* ---- server.c -------------------------------------------------------------- */

/* "Date: ...\r\n" for the current second. */
const char *net_server_date(net_server *s, size_t *len);
/* 16 random hex characters into out (no NUL). */
void net_server_new_id(net_server *s, char out[16]);
/* Whether a request may go on, counted per client (the id of its Basic
 * credentials, authorization being its Authorization header or NULL) or
 * else per connection address; otherwise sets *retry_after (seconds). */
bool net_server_rate_ok(net_server *s, const net_conn *c, const char *authorization,
                        unsigned *retry_after);
void net_server_conn_closed(net_server *s, net_conn *c);
/* The time for the access log, "2026-01-02T03:04:05.678Z". */
size_t net_server_log_time(net_server *s, char out[32]);

/* How many connections over max_connections are answered 503 at once
 * (each holds a descriptor while its answer lingers); beyond that a new one
 * is closed unanswered. */
static inline uint64_t net_rejected_max(uint64_t max_connections)
{
    uint64_t n = max_connections / 8;
    if (n < 16) n = 16;
    return n < NET_REJECTED_MAX ? n : NET_REJECTED_MAX;
}

/* Appending to a buffer the caller sized: bytes, a literal, a decimal
 * number. Each returns the position after what it wrote. */
static inline char *net_put(char *p, const char *s, size_t n)
{
    memcpy(p, s, n);
    return p + n;
}

#define NET_PUT_LIT(p, lit) net_put((p), (lit), sizeof(lit) - 1)

static inline char *net_put_uint(char *p, uint64_t v)
{
    char tmp[24];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        *p++ = tmp[--n];
    return p;
}

#endif /* DTR_NET_INT_H */
