/*
 * fuzz_http.c -- libFuzzer harness of the HTTP path: bytes from a client
 * socket -> core/net's reader and llhttp parser -> the router -> handlers
 * (synchronous, asynchronous, streamed, echoing a body, failing) -> the
 * answers on the wire. The server is the real net_server on a libuv loop in
 * this thread, reached over loopback TCP, so pipelining, pauses, refusals
 * and the connection's end run as they do in dtr.
 *
 * Input: byte 0 is how the rest is cut before it is sent: 0 in one piece,
 * otherwise in pieces of that many bytes, each read by the server before the
 * next is sent (so a chunked body or a header is split at every offset the
 * fuzzer likes). The client then waits until asynchronous answers are
 * queued, shuts its side and reads until the server closes.
 *
 * Checked besides "no crash, no leak": what comes back parses as a sequence
 * of complete HTTP/1.1 responses (llhttp in response mode; skipped when the
 * input may hold a HEAD request, whose answers carry no body), every status
 * is 100..599, the server closes the connection, and its in-flight count
 * returns to zero.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <llhttp.h>

#include "net/net.h"
#include "net/net_int.h"

static uv_loop_t loop;
static net_server *server;
static net_router *router;
static dtr_host_api api;
static int port;
static int inflight, pending_async;

static void fz_check(bool ok, const char *what)
{
    if (ok) return;
    fprintf(stderr, "fuzz_http: invariant broken: %s\n", what);
    abort();
}

/* ---- handlers ---------------------------------------------------------------- */

static dtr_status h_fixed(dtr_request *req, void *udata)
{
    (void)udata;
    static const char body[] = "{\"ok\":true}";
    api.respond(req, 200, "application/json", body, sizeof body - 1);
    return DTR_OK;
}

static dtr_status h_echo(dtr_request *req, void *udata)
{
    (void)udata;
    size_t len;
    const unsigned char *body = api.req_body(req, &len);
    const char *ct = api.req_header(req, "content-type");
    api.resp_header(req, "X-Echo", ct ? ct : "-");
    api.respond(req, 201, ct ? ct : "application/octet-stream", body, len);
    return DTR_OK;
}

static dtr_status h_item(dtr_request *req, void *udata)
{
    (void)udata;
    json_t *o = json_object();
    const char *q = api.req_query(req, "q");
    const char *x = api.req_header(req, "x-test");
    json_object_set_new(o, "id", json_string(api.req_param(req, "id")));
    json_object_set_new(o, "method", json_string(api.req_method(req)));
    json_object_set_new(o, "path", json_string(api.req_path(req)));
    json_object_set_new(o, "q", q ? json_string(q) : json_null());
    json_object_set_new(o, "x", x ? json_string(x) : json_null());
    json_object_set_new(o, "rid", json_string(api.req_id(req)));
    api.resp_header(req, "X-Item", "yes");
    api.respond_json(req, 200, NULL, o);
    return DTR_OK;
}

static dtr_status h_fail(dtr_request *req, void *udata)
{
    (void)req;
    (void)udata;
    return DTR_ERROR;
}

typedef struct job {
    uv_timer_t timer;
    dtr_request *req;
    size_t left;
} job;

static void job_closed(uv_handle_t *h)
{
    free(h->data);
    pending_async--;
}

static void async_fire(uv_timer_t *t)
{
    job *j = t->data;
    api.respond(j->req, 202, "text/plain", "later", 5);
    uv_close((uv_handle_t *)t, job_closed);
}

static void async_abort(dtr_request *req, void *udata)
{
    (void)req;
    job *j = udata;
    uv_timer_stop(&j->timer);
    uv_close((uv_handle_t *)&j->timer, job_closed);
}

static dtr_status h_async(dtr_request *req, void *udata)
{
    (void)udata;
    job *j = calloc(1, sizeof *j);
    j->req = req;
    pending_async++;
    uv_timer_init(&loop, &j->timer);
    j->timer.data = j;
    api.req_on_abort(req, async_abort, j);
    uv_timer_start(&j->timer, async_fire, 0, 0);
    return DTR_OK;
}

static void stream_pump(dtr_request *req, void *udata)
{
    static char block[4096];
    job *j = udata;
    memset(block, 'x', sizeof block);
    while (j->left) {
        size_t n = j->left < sizeof block ? j->left : sizeof block;
        j->left -= n;
        if (api.stream_write(req, block, n) != DTR_OK) return; /* DTR_RETRY: wait for on_drain */
    }
    api.stream_end(req);
    free(j);
}

static void stream_abort(dtr_request *req, void *udata)
{
    (void)req;
    free(udata);
}

static dtr_status h_stream(dtr_request *req, void *udata)
{
    (void)udata;
    const char *kib = api.req_query(req, "kib");
    job *j = calloc(1, sizeof *j);
    j->left = (kib ? strtoull(kib, NULL, 10) % 512 : 8) * 1024;
    api.req_on_abort(req, stream_abort, j);
    api.req_on_drain(req, stream_pump, j);
    api.stream_begin(req, 200, "application/octet-stream");
    stream_pump(req, j);
    return DTR_OK;
}

static int early_check(void *udata, dtr_request *req, const char **kode, const char **tekst,
                       char *extra, size_t extralen)
{
    (void)udata;
    if (!api.req_header(req, "x-deny")) return 0;
    *kode = "IKKE_TILLADT";
    *tekst = "denied";
    snprintf(extra, extralen, "WWW-Authenticate: Basic realm=\"dtr\"\r\n");
    return 401;
}

static void count_inflight(void *owner, int delta)
{
    (void)owner;
    inflight += delta;
}

static void add(const char *method, const char *pattern, size_t max_body, dtr_route_fn fn)
{
    char err[256];
    if (net_router_add(router, method, pattern, max_body, NULL, "fuzz", fn, NULL, err,
                       sizeof err) != DTR_OK) {
        fprintf(stderr, "route %s %s: %s\n", method, pattern, err);
        abort();
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    signal(SIGPIPE, SIG_IGN);
    net_fill_request_api(&api);
    uv_loop_init(&loop);
    net_limits l = {
        .max_header_bytes = 8192,
        .max_body_bytes = 65536,
        .header_timeout_ms = 10000,
        .body_timeout_ms = 10000,
        .send_timeout_ms = 10000,
        .idle_timeout_ms = 10000,
        .shutdown_timeout_ms = 1000,
        .max_connections = 100,
        .requests_per_second_per_client = 0,
    };
    server = net_server_new(&loop, &l, NULL, NULL);
    router = net_router_new(count_inflight);
    add("GET", "/fixed", 0, h_fixed);
    add("POST", "/echo", 0, h_echo);
    add("POST", "/small", 16, h_echo);
    add("GET", "/items/{id}", 0, h_item);
    add("POST", "/items/{id}", 0, h_echo);
    add("PUT", "/items/{id}", 0, h_echo);
    add("PATCH", "/items/{id}", 0, h_echo);
    add("DELETE", "/items/{id}", 0, h_fixed);
    add("OPTIONS", "/items/{id}/x", 0, h_fixed);
    add("GET", "/items/{id}/x", 0, h_item);
    add("GET", "/async", 0, h_async);
    add("GET", "/stream", 0, h_stream);
    add("GET", "/fail", 0, h_fail);
    net_server_set_router(server, router);
    net_server_set_early_check(server, early_check, NULL);
    char err[256];
    if (net_server_listen(server, "127.0.0.1:0", err, sizeof err) != 0) {
        fprintf(stderr, "listen: %s\n", err);
        abort();
    }
    port = net_server_port(server);
    return 0;
}

/* ---- the client --------------------------------------------------------------- */

typedef struct client {
    int fd;
    uv_poll_t poll;
    char *in;
    size_t in_len, in_cap;
    bool eof;
} client;

static void client_read(uv_poll_t *p, int status, int events)
{
    (void)status;
    (void)events;
    client *c = p->data;
    for (;;) {
        if (c->in_cap - c->in_len < 65536) {
            c->in_cap = c->in_cap * 2 + 65536;
            c->in = realloc(c->in, c->in_cap);
        }
        ssize_t n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, 0);
        if (n > 0) {
            c->in_len += (size_t)n;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
        c->eof = true; /* EOF or a reset */
        uv_poll_stop(p);
        return;
    }
}

/* Source addresses rotate over 127.0.0.0/8 so that the client's closed
 * sockets in TIME_WAIT never use up one address's ports. */
static int client_connect(void)
{
    static uint32_t next = 0;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    fz_check(fd >= 0, "client socket");
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct linger lg = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    struct sockaddr_in src = {.sin_family = AF_INET};
    src.sin_addr.s_addr = htonl(0x7F000002u + (next++ % 60000u));
    bind(fd, (struct sockaddr *)&src, sizeof src);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int rc = connect(fd, (struct sockaddr *)&sa, sizeof sa);
    fz_check(rc == 0 || errno == EINPROGRESS, "client connect");
    return fd;
}

static void client_send(client *c, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
        if (w > 0) {
            p += w;
            n -= (size_t)w;
            continue;
        }
        if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
            uv_run(&loop, UV_RUN_ONCE); /* let the server read */
            continue;
        }
        return; /* the server closed: the rest goes nowhere */
    }
}

static int rsp_status_ok = 1;

static int on_rsp_headers(llhttp_t *p)
{
    if (p->status_code < 100 || p->status_code > 599) rsp_status_ok = 0;
    return 0;
}

/* Whether the bytes are whole HTTP/1.1 responses, one after another. */
static bool responses_valid(const char *p, size_t n)
{
    llhttp_settings_t s;
    llhttp_settings_init(&s);
    s.on_headers_complete = on_rsp_headers;
    llhttp_t parser;
    llhttp_init(&parser, HTTP_RESPONSE, &s);
    rsp_status_ok = 1;
    if (n == 0) return true;
    llhttp_errno_t e = llhttp_execute(&parser, p, n);
    if (e != HPE_OK) {
        fprintf(stderr, "response parse: %s at %zu\n", llhttp_get_error_reason(&parser),
                (size_t)(llhttp_get_error_pos(&parser) - p));
        return false;
    }
    /* a response delimited by the end of the connection ends here */
    if (llhttp_message_needs_eof(&parser)) llhttp_finish(&parser);
    return rsp_status_ok && llhttp_get_errno(&parser) == HPE_OK &&
           (parser.finish == HTTP_FINISH_SAFE || parser.finish == HTTP_FINISH_SAFE_WITH_CB);
}

/* Whether the server has answered and sent everything it can without more
 * input: no asynchronous answer pending, nothing queued or being written,
 * and no request in the pipeline but one still arriving. */
static bool quiet(void)
{
    if (pending_async > 0) return false;
    const net_conn *nc = server->conns;
    if (!nc) return true;
    if (nc->outq.bytes || nc->writing) return false;
    return !nc->head || (nc->head == nc->cur && nc->head->state == NET_REQ_PARSING);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 65536) return 0;
    size_t piece = data[0] ? data[0] : size;
    data++;
    size--;
    client c = {.fd = client_connect()};
    uv_poll_init(&loop, &c.poll, c.fd);
    c.poll.data = &c;
    uv_poll_start(&c.poll, UV_READABLE, client_read);
    /* the server accepts */
    for (int i = 0; i < 1000 && net_server_connections(server) == 0; i++)
        uv_run(&loop, UV_RUN_ONCE);
    for (size_t off = 0; off < size; off += piece) {
        client_send(&c, data + off, size - off < piece ? size - off : piece);
        uv_run(&loop, UV_RUN_NOWAIT);
    }
    /* every answer the server can give is sent before the client leaves */
    for (int i = 0; i < 100000 && !quiet(); i++)
        uv_run(&loop, UV_RUN_ONCE);
    shutdown(c.fd, SHUT_WR);
    while (!c.eof || net_server_connections(server) > 0)
        uv_run(&loop, UV_RUN_ONCE);
    uv_poll_stop(&c.poll);
    uv_close((uv_handle_t *)&c.poll, NULL);
    uv_run(&loop, UV_RUN_NOWAIT);
    close(c.fd);
    fz_check(inflight == 0, "nothing in flight after the connection closed");
    if (!memmem(data, size, "HEAD", 4)) fz_check(responses_valid(c.in, c.in_len), "responses");
    free(c.in);
    return 0;
}
