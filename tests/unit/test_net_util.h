/*
 * test_net_util.h -- the harness of the in-process server tests: a
 * net_server on a uv loop in the test's thread with a few routes, and a
 * client thread that speaks HTTP over real sockets.
 *
 * The client thread must not use cmocka's assertions (they longjmp); it
 * records its first failed CHECK, and the test thread fails with it after
 * the scenario ended. Handlers run on the loop (test) thread and publish
 * what the client may look at through atomics.
 */
#ifndef TEST_NET_UTIL_H
#define TEST_NET_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "net/net.h"

#define TU __attribute__((unused)) static

/* ---- failures recorded by the client thread ------------------------------------ */

static char tu_failure[1024];

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond) && !tu_failure[0])                                                             \
            snprintf(tu_failure, sizeof tu_failure, "%s:%d: CHECK(%s)", __FILE__, __LINE__,        \
                     #cond);                                                                       \
    } while (0)

#define REQUIRE(cond)                                                                              \
    do {                                                                                           \
        CHECK(cond);                                                                               \
        if (!(cond)) return;                                                                       \
    } while (0)

#define CHECK_STR(a, b)                                                                            \
    do {                                                                                           \
        const char *a_ = (a), *b_ = (b);                                                           \
        if ((!a_ || !b_ || strcmp(a_, b_) != 0) && !tu_failure[0])                                 \
            snprintf(tu_failure, sizeof tu_failure, "%s:%d: '%s' != '%s'", __FILE__, __LINE__,     \
                     a_ ? a_ : "(null)", b_ ? b_ : "(null)");                                      \
    } while (0)

#define CHECK_INT(a, b)                                                                            \
    do {                                                                                           \
        long long a_ = (long long)(a), b_ = (long long)(b);                                        \
        if (a_ != b_ && !tu_failure[0])                                                            \
            snprintf(tu_failure, sizeof tu_failure, "%s:%d: %s == %lld, expected %lld", __FILE__,  \
                     __LINE__, #a, a_, b_);                                                        \
    } while (0)

/* ---- the server side ------------------------------------------------------------ */

typedef struct tu_env tu_env;
typedef void (*tu_scenario)(tu_env *env);

struct tu_env {
    uv_loop_t loop;
    net_server *server;
    net_router *router;
    uv_async_t wake; /* the client thread asks for shutdown / the end */
    atomic_int want_shutdown;
    atomic_int shutdown_done;
    pthread_t thread;
    tu_scenario scenario;
    int port;
    atomic_int aborts;     /* abort callbacks run */
    atomic_llong streamed; /* bytes handed to stream_write */
    atomic_int drains;     /* on_drain callbacks run */
    atomic_int inflight;   /* the router's in-flight count */
    atomic_int handled;    /* handler calls */
    atomic_int waits;      /* stream_write calls that said "wait" */
};

static dtr_host_api tu_api;

TU net_limits tu_limits(void)
{
    net_limits l = {
        .max_header_bytes = 16384,
        .max_body_bytes = 1048576,
        .header_timeout_ms = 5000,
        .body_timeout_ms = 5000,
        .send_timeout_ms = 5000,
        .idle_timeout_ms = 5000,
        .shutdown_timeout_ms = 2000,
        .max_connections = 100,
        .requests_per_second_per_client = 0,
    };
    return l;
}

/* fixed */
static dtr_status tu_h_fixed(dtr_request *req, void *udata)
{
    tu_env *env = udata;
    atomic_fetch_add(&env->handled, 1);
    static const char body[] = "{\"ok\":true}";
    tu_api.respond(req, 200, "application/json", body, sizeof body - 1);
    return DTR_OK;
}

/* echo: the body back, with the request's Content-Type */
static dtr_status tu_h_echo(dtr_request *req, void *udata)
{
    (void)udata;
    size_t len;
    const unsigned char *body = tu_api.req_body(req, &len);
    const char *ct = tu_api.req_header(req, "content-type");
    tu_api.respond(req, 200, ct ? ct : "application/octet-stream", body, len);
    return DTR_OK;
}

/* items/{id}: what the request API sees */
static dtr_status tu_h_item(dtr_request *req, void *udata)
{
    tu_env *env = udata;
    atomic_fetch_add(&env->handled, 1);
    json_t *o = json_object();
    const char *q = tu_api.req_query(req, "q");
    const char *x = tu_api.req_header(req, "x-test");
    json_object_set_new(o, "id", json_string(tu_api.req_param(req, "id")));
    json_object_set_new(o, "method", json_string(tu_api.req_method(req)));
    json_object_set_new(o, "path", json_string(tu_api.req_path(req)));
    json_object_set_new(o, "q", q ? json_string(q) : json_null());
    json_object_set_new(o, "x", x ? json_string(x) : json_null());
    json_object_set_new(o, "rid", json_string(tu_api.req_id(req)));
    tu_api.resp_header(req, "X-Item", "yes");
    tu_api.resp_header(req, "Content-Length", "1"); /* refused: the server's own */
    tu_api.respond_json(req, 200, NULL, o);
    return DTR_OK;
}

static dtr_status tu_h_fail(dtr_request *req, void *udata)
{
    (void)req;
    (void)udata;
    return DTR_ERROR;
}

/* async?ms=N: answers from a timer; the abort callback cancels it */
typedef struct tu_job {
    uv_timer_t timer;
    dtr_request *req;
    tu_env *env;
    size_t left; /* stream: bytes still to send */
} tu_job;

static void tu_job_closed(uv_handle_t *h)
{
    free(h->data);
}

static void tu_async_fire(uv_timer_t *t)
{
    tu_job *job = t->data;
    tu_api.respond(job->req, 200, "text/plain", "async", 5);
    uv_close((uv_handle_t *)t, tu_job_closed);
}

static void tu_async_abort(dtr_request *req, void *udata)
{
    (void)req;
    tu_job *job = udata;
    atomic_fetch_add(&job->env->aborts, 1);
    uv_timer_stop(&job->timer);
    uv_close((uv_handle_t *)&job->timer, tu_job_closed);
}

static dtr_status tu_h_async(dtr_request *req, void *udata)
{
    tu_env *env = udata;
    const char *ms = tu_api.req_query(req, "ms");
    tu_job *job = calloc(1, sizeof *job);
    job->req = req;
    job->env = env;
    uv_timer_init(&env->loop, &job->timer);
    job->timer.data = job;
    tu_api.req_on_abort(req, tu_async_abort, job);
    uv_timer_start(&job->timer, tu_async_fire, ms ? strtoull(ms, NULL, 10) : 50, 0);
    return DTR_OK;
}

/* orphan?ms=N: answers from a timer and sets no abort callback: when the
 * client leaves first, the request waits for the answer on its own */
static void tu_orphan_fire(uv_timer_t *t)
{
    tu_job *job = t->data;
    tu_api.respond(job->req, 200, "text/plain", "late", 4);
    atomic_fetch_add(&job->env->handled, 1);
    uv_close((uv_handle_t *)t, tu_job_closed);
}

static dtr_status tu_h_orphan(dtr_request *req, void *udata)
{
    tu_env *env = udata;
    const char *ms = tu_api.req_query(req, "ms");
    tu_job *job = calloc(1, sizeof *job);
    job->req = req;
    job->env = env;
    uv_timer_init(&env->loop, &job->timer);
    job->timer.data = job;
    uv_timer_start(&job->timer, tu_orphan_fire, ms ? strtoull(ms, NULL, 10) : 50, 0);
    return DTR_OK;
}

/* stream?kib=N: N KiB of 'x' in 16 KiB writes, waiting for on_drain
 * whenever stream_write says so */
static void tu_stream_pump(dtr_request *req, void *udata)
{
    static char block[16384];
    tu_job *job = udata;
    if (!block[0]) memset(block, 'x', sizeof block);
    atomic_fetch_add(&job->env->drains, 1);
    while (job->left) {
        size_t n = job->left < sizeof block ? job->left : sizeof block;
        job->left -= n;
        atomic_fetch_add(&job->env->streamed, (long long)n);
        if (tu_api.stream_write(req, block, n) != DTR_OK) {
            atomic_fetch_add(&job->env->waits, 1);
            return;
        }
    }
    tu_api.stream_end(req);
    free(job);
}

static void tu_stream_abort(dtr_request *req, void *udata)
{
    (void)req;
    tu_job *job = udata;
    atomic_fetch_add(&job->env->aborts, 1);
    free(job);
}

static dtr_status tu_h_stream(dtr_request *req, void *udata)
{
    tu_env *env = udata;
    const char *kib = tu_api.req_query(req, "kib");
    tu_job *job = calloc(1, sizeof *job);
    job->env = env;
    job->left = (kib ? strtoull(kib, NULL, 10) : 64) * 1024;
    tu_api.req_on_abort(req, tu_stream_abort, job);
    tu_api.req_on_drain(req, tu_stream_pump, job);
    tu_api.stream_begin(req, 200, "application/octet-stream");
    atomic_fetch_sub(&env->drains, 1); /* the first pump is not a drain */
    tu_stream_pump(req, job);
    return DTR_OK;
}

/* The early check: a request with a body and X-Deny is refused with 401
 * before its body is read. */
static int tu_early_check(void *udata, dtr_request *req, const char **kode, const char **tekst,
                          char *extra, size_t extralen)
{
    (void)udata;
    if (!tu_api.req_header(req, "x-deny")) return 0;
    tu_api.respond(req, 200, NULL, NULL, 0); /* not allowed here: ignored */
    *kode = "IKKE_TILLADT";
    *tekst = "who are you?";
    snprintf(extra, extralen, "WWW-Authenticate: Basic realm=\"dtr\"\r\n");
    return 401;
}

static tu_env *tu_current;

static void tu_inflight(void *owner, int delta)
{
    (void)owner;
    atomic_fetch_add(&tu_current->inflight, delta);
}

static void tu_add(tu_env *env, const char *method, const char *pattern, size_t max_body,
                   dtr_route_fn fn)
{
    char err[256];
    assert_int_equal(net_router_add(env->router, method, pattern, max_body, env, "test", fn, env,
                                    err, sizeof err),
                     DTR_OK);
}

static void tu_shutdown_done(void *udata)
{
    tu_env *env = udata;
    atomic_store(&env->shutdown_done, 1);
}

static void tu_wake_cb(uv_async_t *a)
{
    tu_env *env = a->data;
    int want = atomic_exchange(&env->want_shutdown, 0);
    if (want == 2) uv_close((uv_handle_t *)&env->wake, NULL);
    if (want) net_server_shutdown(env->server, tu_shutdown_done, env);
}

static void *tu_client_main(void *arg)
{
    tu_env *env = arg;
    env->scenario(env);
    atomic_store(&env->want_shutdown, 2);
    uv_async_send(&env->wake);
    return NULL;
}

/* Runs a scenario against a server with the test routes and these limits.
 * Fails the test with the scenario's first failed CHECK. */
TU void tu_run(const net_limits *limits, tu_scenario scenario)
{
    static tu_env env;
    memset(&env, 0, sizeof env);
    tu_current = &env;
    tu_failure[0] = '\0';
    signal(SIGPIPE, SIG_IGN);
    net_fill_request_api(&tu_api);
    assert_int_equal(uv_loop_init(&env.loop), 0);
    env.server = net_server_new(&env.loop, limits, NULL, NULL);
    env.router = net_router_new(tu_inflight);
    tu_add(&env, "GET", "/fixed", 0, tu_h_fixed);
    tu_add(&env, "POST", "/echo", 0, tu_h_echo);
    tu_add(&env, "POST", "/small", 16, tu_h_echo);
    tu_add(&env, "GET", "/items/{id}", 0, tu_h_item);
    tu_add(&env, "POST", "/items/{id}", 0, tu_h_echo);
    tu_add(&env, "GET", "/async", 0, tu_h_async);
    tu_add(&env, "GET", "/stream", 0, tu_h_stream);
    tu_add(&env, "GET", "/fail", 0, tu_h_fail);
    tu_add(&env, "GET", "/orphan", 0, tu_h_orphan);
    net_server_set_router(env.server, env.router);
    net_server_set_early_check(env.server, tu_early_check, &env);
    char err[256] = "";
    assert_int_equal(net_server_listen(env.server, "127.0.0.1:0", err, sizeof err), 0);
    env.port = net_server_port(env.server);
    assert_true(env.port > 0);
    uv_async_init(&env.loop, &env.wake, tu_wake_cb);
    env.wake.data = &env;
    env.scenario = scenario;
    assert_int_equal(pthread_create(&env.thread, NULL, tu_client_main, &env), 0);
    uv_run(&env.loop, UV_RUN_DEFAULT);
    pthread_join(env.thread, NULL);
    assert_int_equal(atomic_load(&env.shutdown_done), 1);
    assert_int_equal(atomic_load(&env.inflight), 0);
    net_server_free(env.server);
    net_router_free(env.router);
    assert_int_equal(uv_loop_close(&env.loop), 0);
    if (tu_failure[0]) fail_msg("%s", tu_failure);
}

/* From the client thread: starts the server's graceful shutdown. */
TU void tu_request_shutdown(tu_env *env)
{
    atomic_store(&env->want_shutdown, 1);
    uv_async_send(&env->wake);
}

/* ---- the client side -------------------------------------------------------------- */

typedef struct tu_conn {
    int fd;
    char buf[65536];
    size_t len;
} tu_conn;

typedef struct tu_resp {
    int status;
    char head[16384];
    char *body;
    size_t body_len, body_cap;
} tu_resp;

/* How long the client waits for anything the server should do: a deadline
 * for failing, never a pause; generous, so that a machine under load (the
 * suite beside stress-ng, under ASan) is slow, not failing. */
#define TU_DEADLINE_S 30

TU void tu_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Connects (the receive buffer small when rcvbuf > 0). NULL on failure. */
TU tu_conn *tu_connect_buf(tu_env *env, int rcvbuf)
{
    tu_conn *c = calloc(1, sizeof *c);
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct timeval tv = {TU_DEADLINE_S, 0};
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (rcvbuf > 0) setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)env->port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(c->fd);
        free(c);
        return NULL;
    }
    return c;
}

TU tu_conn *tu_connect(tu_env *env)
{
    return tu_connect_buf(env, 0);
}

TU void tu_close(tu_conn *c)
{
    if (!c) return;
    close(c->fd);
    free(c);
}

TU bool tu_send_n(tu_conn *c, const void *data, size_t len)
{
    const char *p = data;
    while (len) {
        ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);
        if (n <= 0) return false;
        p += n;
        len -= (size_t)n;
    }
    return true;
}

TU bool tu_send(tu_conn *c, const char *s)
{
    return tu_send_n(c, s, strlen(s));
}

/* Reads more into the buffer; false on EOF, error or timeout. */
static bool tu_fill(tu_conn *c)
{
    if (c->len == sizeof c->buf) return false;
    ssize_t n = recv(c->fd, c->buf + c->len, sizeof c->buf - c->len, 0);
    if (n <= 0) return false;
    c->len += (size_t)n;
    return true;
}

static void tu_take(tu_conn *c, void *dst, size_t n)
{
    if (dst) memcpy(dst, c->buf, n);
    memmove(c->buf, c->buf + n, c->len - n);
    c->len -= n;
}

/* Room for n more body bytes and a NUL. The body grows by doubling: a
 * streamed answer of many chunks must cost the client linear time (growing
 * it chunk by chunk copied the whole body per chunk, which under ASan on a
 * loaded machine kept a 16 MiB reader away from its socket for seconds). */
static void tu_body_reserve(tu_resp *r, size_t n)
{
    if (r->body && r->body_len + n + 1 <= r->body_cap) return;
    size_t cap = r->body_cap ? r->body_cap : 256;
    while (cap < r->body_len + n + 1)
        cap *= 2;
    r->body = realloc(r->body, cap);
    r->body_cap = cap;
}

/* Reads exactly n body bytes into r's body (which grows). */
static bool tu_read_n(tu_conn *c, tu_resp *r, size_t n)
{
    tu_body_reserve(r, n);
    while (n) {
        if (!c->len && !tu_fill(c)) return false;
        size_t k = c->len < n ? c->len : n;
        tu_take(c, r->body + r->body_len, k);
        r->body_len += k;
        n -= k;
    }
    r->body[r->body_len] = '\0';
    return true;
}

static bool tu_read_line(tu_conn *c, char *line, size_t max)
{
    for (;;) {
        char *nl = memchr(c->buf, '\n', c->len);
        if (nl) {
            size_t n = (size_t)(nl - c->buf) + 1;
            if (n >= max) return false;
            tu_take(c, line, n);
            line[n] = '\0';
            return true;
        }
        if (!tu_fill(c)) return false;
    }
}

/* The value of a header in a response head, copied into out; NULL when absent. */
TU const char *tu_header(const tu_resp *r, const char *name, char *out, size_t max)
{
    size_t n = strlen(name);
    const char *p = strchr(r->head, '\n');
    while (p && p[1]) {
        p++;
        if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
            const char *v = p + n + 1;
            while (*v == ' ')
                v++;
            size_t len = strcspn(v, "\r\n");
            if (len >= max) len = max - 1;
            memcpy(out, v, len);
            out[len] = '\0';
            return out;
        }
        p = strchr(p, '\n');
    }
    return NULL;
}

TU void tu_resp_free(tu_resp *r)
{
    free(r->body);
    r->body = NULL;
    r->body_len = r->body_cap = 0;
}

/* Reads one response (a 100 Continue counts as one). head_request: no body
 * whatever the headers say. Returns false when the connection ended first. */
TU bool tu_read_resp(tu_conn *c, tu_resp *r, bool head_request)
{
    char line[16384];
    r->head[0] = '\0';
    r->status = 0;
    free(r->body);
    r->body = NULL;
    r->body_len = r->body_cap = 0;
    size_t hl = 0;
    for (;;) {
        if (!tu_read_line(c, line, sizeof line)) return false;
        size_t n = strlen(line);
        if (hl + n + 1 < sizeof r->head) {
            memcpy(r->head + hl, line, n + 1);
            hl += n;
        }
        if (strcmp(line, "\r\n") == 0) break;
    }
    if (sscanf(r->head, "HTTP/1.1 %d", &r->status) != 1) return false;
    tu_body_reserve(r, 0);
    r->body[0] = '\0';
    if (head_request || r->status == 100 || r->status == 204 || r->status == 304) return true;
    char v[64];
    if (tu_header(r, "Content-Length", v, sizeof v)) return tu_read_n(c, r, strtoull(v, NULL, 10));
    if (tu_header(r, "Transfer-Encoding", v, sizeof v)) {
        for (;;) {
            if (!tu_read_line(c, line, sizeof line)) return false;
            size_t size = strtoull(line, NULL, 16);
            if (size == 0) return tu_read_line(c, line, sizeof line); /* the last CRLF */
            if (!tu_read_n(c, r, size)) return false;
            if (!tu_read_line(c, line, sizeof line)) return false;
        }
    }
    /* delimited by the end of the connection */
    for (;;) {
        if (c->len) {
            size_t k = c->len;
            tu_body_reserve(r, k);
            tu_take(c, r->body + r->body_len, k);
            r->body_len += k;
            r->body[r->body_len] = '\0';
        }
        if (!tu_fill(c)) return true;
    }
}

/* True when the server closed the connection (EOF) within the deadline. */
TU bool tu_closed(tu_conn *c)
{
    char tmp[4096];
    for (;;) {
        if (c->len) {
            c->len = 0; /* unexpected bytes: drop them */
            return false;
        }
        ssize_t n = recv(c->fd, tmp, sizeof tmp, 0);
        if (n == 0) return true;
        if (n < 0) return errno == ECONNRESET;
        c->len = 0;
        return false;
    }
}

/* Waits (up to the deadline, looking every 10 ms) until *counter reaches
 * want. */
TU bool tu_wait_for(atomic_int *counter, int want)
{
    for (int i = 0; i < TU_DEADLINE_S * 100; i++) {
        if (atomic_load(counter) >= want) return true;
        tu_sleep_ms(10);
    }
    return false;
}

/* Waits (up to the deadline, looking every 10 ms) until *counter equals
 * want. */
TU bool tu_wait_eq(atomic_int *counter, int want)
{
    for (int i = 0; i < TU_DEADLINE_S * 100; i++) {
        if (atomic_load(counter) == want) return true;
        tu_sleep_ms(10);
    }
    return false;
}

/* A problem+json answer: the status and the fejl[0].kode. */
TU void tu_check_problem(const tu_resp *r, int status, const char *kode)
{
    char v[128];
    CHECK_INT(r->status, status);
    CHECK_STR(tu_header(r, "Content-Type", v, sizeof v), "application/problem+json");
    json_error_t jerr;
    json_t *j = r->body ? json_loads(r->body, 0, &jerr) : NULL;
    CHECK(j != NULL);
    if (!j) return;
    CHECK_INT(json_integer_value(json_object_get(j, "status")), status);
    CHECK(json_is_string(json_object_get(j, "title")));
    CHECK(json_is_string(json_object_get(j, "type")));
    CHECK(json_is_string(json_object_get(j, "detail")));
    json_t *fejl = json_array_get(json_object_get(j, "fejl"), 0);
    CHECK_STR(json_string_value(json_object_get(fejl, "kode")), kode);
    CHECK(json_is_string(json_object_get(fejl, "tekst")));
    json_decref(j);
}

#endif /* TEST_NET_UTIL_H */
