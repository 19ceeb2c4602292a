/*
 * bare_loop.c -- the yardstick for the gateway's HTTP layer: the least a
 * libuv + llhttp server must do to answer keep-alive requests with a fixed
 * JSON body. One loop, one thread; answers to the requests of one read go
 * out with one write. Built and run by http_vs_nginx.sh (not by CMake):
 *
 *   cc -O2 -I/usr/share/include/llhttp bare_loop.c /usr/share/llhttp/{llhttp,api,http}.c -luv -o
 * bare_loop
 *   ./bare_loop PORT
 *
 * It sends the same body and the same kind of headers as the gateway
 * (Date, Content-Type, Content-Length, X-Request-Id) so that both write
 * about the same bytes.
 */
#include <llhttp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uv.h>

static const char body[] = "{\"status\":\"ok\",\"service\":\"dtr\",\"version\":1}";

typedef struct bare_conn {
    uv_tcp_t tcp;
    llhttp_t parser;
    char out[65536];
    size_t outlen;
    int writing;
} bare_conn;

typedef struct bare_write {
    uv_write_t req;
    char data[];
} bare_write;

static llhttp_settings_t settings;
static char response[512]; /* the whole answer; Date and the id are patched in place */
static size_t response_len, date_at, id_at;
static time_t date_sec;
static unsigned long long counter;

/* Builds the answer once; afterwards only the Date (once a second) and the
 * request id (16 hex digits) change. */
static void build_response(void)
{
    response_len = (size_t)snprintf(response, sizeof response,
                                    "HTTP/1.1 200 OK\r\nDate: Thu, 01 Jan 1970 00:00:00 GMT\r\n"
                                    "Content-Type: application/json\r\nContent-Length: %zu\r\n"
                                    "X-Request-Id: 0000000000000000\r\n\r\n%s",
                                    sizeof body - 1, body);
    date_at = (size_t)(strstr(response, "Date: ") - response) + 6;
    id_at = (size_t)(strstr(response, "X-Request-Id: ") - response) + 14;
}

static int on_message_complete(llhttp_t *p)
{
    static const char hex[] = "0123456789abcdef";
    bare_conn *c = p->data;
    time_t now = time(NULL);
    if (now != date_sec) {
        struct tm tm;
        char date[40];
        gmtime_r(&now, &tm);
        strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        memcpy(response + date_at, date, 29);
        date_sec = now;
    }
    unsigned long long id = ++counter;
    for (int i = 15; i >= 0; i--, id >>= 4)
        response[id_at + (size_t)i] = hex[id & 15];
    if (c->outlen + response_len > sizeof c->out) return 0;
    memcpy(c->out + c->outlen, response, response_len);
    c->outlen += response_len;
    return 0;
}

static void on_close(uv_handle_t *h)
{
    free(h->data);
}

static void on_write(uv_write_t *req, int status)
{
    (void)status;
    free(req);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    static char slab[65536];
    (void)h;
    (void)suggested;
    buf->base = slab;
    buf->len = sizeof slab;
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    bare_conn *c = s->data;
    if (nread < 0) {
        uv_close((uv_handle_t *)s, on_close);
        return;
    }
    if (nread == 0) return;
    if (llhttp_execute(&c->parser, buf->base, (size_t)nread) != HPE_OK) {
        uv_close((uv_handle_t *)s, on_close);
        return;
    }
    if (!c->outlen) return;
    uv_buf_t out = uv_buf_init(c->out, (unsigned)c->outlen);
    int n = uv_try_write(s, &out, 1);
    if (n < 0) n = 0;
    if ((size_t)n < c->outlen) {
        size_t rest = c->outlen - (size_t)n;
        bare_write *w = malloc(sizeof *w + rest);
        memcpy(w->data, c->out + n, rest);
        uv_buf_t b = uv_buf_init(w->data, (unsigned)rest);
        uv_write(&w->req, s, &b, 1, on_write);
    }
    c->outlen = 0;
}

static void on_connection(uv_stream_t *server, int status)
{
    if (status < 0) return;
    bare_conn *c = calloc(1, sizeof *c);
    uv_tcp_init(server->loop, &c->tcp);
    c->tcp.data = c;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
        uv_close((uv_handle_t *)&c->tcp, on_close);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    llhttp_init(&c->parser, HTTP_REQUEST, &settings);
    c->parser.data = c;
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

int main(int argc, char **argv)
{
    int port = argc > 1 ? atoi(argv[1]) : 8090;
    build_response();
    llhttp_settings_init(&settings);
    settings.on_message_complete = on_message_complete;
    uv_loop_t *loop = uv_default_loop();
    uv_tcp_t server;
    struct sockaddr_in addr;
    uv_tcp_init(loop, &server);
    uv_ip4_addr("127.0.0.1", port, &addr);
    if (uv_tcp_bind(&server, (const struct sockaddr *)&addr, 0) != 0 ||
        uv_listen((uv_stream_t *)&server, 511, on_connection) != 0) {
        fprintf(stderr, "bare_loop: cannot listen on %d\n", port);
        return 1;
    }
    printf("listening on http://127.0.0.1:%d\n", port);
    fflush(stdout);
    return uv_run(loop, UV_RUN_DEFAULT);
}
