/*
 * test_net_limits.c -- the server's limits and refusals over real sockets:
 * 413 (Content-Length, Expect, chunked), 431, 400, 408 (slow headers, slow
 * body, a client that never finishes), 503 past max_connections, 429, idle
 * and send timeouts, backpressure on a client that does not read, and
 * requests whose headers cross reads and buffers. Timeouts are short (200
 * ms) so that the tests stay fast.
 */
#include "test_net_util.h"

/* ---- 413 --------------------------------------------------------------------------- */

static void sc_too_large(tu_env *env)
{
    tu_resp r = {0};
    tu_conn *c = tu_connect(env);
    REQUIRE(c != NULL);
    CHECK(tu_send(c, "POST /small HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n"));
    CHECK(tu_read_resp(c, &r, false));
    tu_check_problem(&r, 413, "FOR_STOR");
    CHECK(tu_closed(c));
    tu_close(c);

    /* with Expect: refused before the body is sent */
    c = tu_connect(env);
    CHECK(tu_send(c, "POST /small HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n"
                     "Expect: 100-continue\r\n\r\n"));
    CHECK(tu_read_resp(c, &r, false));
    tu_check_problem(&r, 413, "FOR_STOR");
    CHECK(tu_closed(c));
    tu_close(c);

    /* chunked: refused when the chunks pass the limit */
    c = tu_connect(env);
    CHECK(tu_send(c, "POST /small HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                     "10\r\n0123456789abcdef\r\n5\r\nabcde\r\n0\r\n\r\n"));
    CHECK(tu_read_resp(c, &r, false));
    tu_check_problem(&r, 413, "FOR_STOR");
    CHECK(tu_closed(c));
    tu_close(c);

    /* a client that sends its large body anyway still reads the answer */
    c = tu_connect(env);
    size_t big = 400 * 1024;
    char *body = calloc(1, big);
    char head[128];
    snprintf(head, sizeof head, "POST /small HTTP/1.1\r\nHost: t\r\nContent-Length: %zu\r\n\r\n",
             big);
    CHECK(tu_send(c, head));
    CHECK(tu_send_n(c, body, big));
    CHECK(tu_read_resp(c, &r, false));
    tu_check_problem(&r, 413, "FOR_STOR");
    free(body);
    tu_close(c);

    /* the early check refuses from the headers: no 100 Continue, 401 */
    c = tu_connect(env);
    CHECK(tu_send(c, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nX-Deny: 1\r\n"
                     "Expect: 100-continue\r\n\r\n"));
    CHECK(tu_read_resp(c, &r, false));
    tu_check_problem(&r, 401, "IKKE_TILLADT");
    char v[64];
    CHECK_STR(tu_header(&r, "WWW-Authenticate", v, sizeof v), "Basic realm=\"dtr\"");
    CHECK(tu_closed(c));
    tu_close(c);
    /* without a body the check is not made */
    c = tu_connect(env);
    CHECK(tu_send(c, "GET /fixed HTTP/1.1\r\nHost: t\r\nX-Deny: 1\r\n\r\n"));
    CHECK(tu_read_resp(c, &r, false));
    CHECK_INT(r.status, 200);
    tu_close(c);

    /* within the limit all is well */
    c = tu_connect(env);
    CHECK(tu_send(c, "POST /small HTTP/1.1\r\nHost: t\r\nContent-Length: 16\r\n\r\n"
                     "0123456789abcdef"));
    CHECK(tu_read_resp(c, &r, false));
    CHECK_STR(r.body, "0123456789abcdef");
    tu_resp_free(&r);
    tu_close(c);
}

static void test_too_large(void **state)
{
    (void)state;
    net_limits l = tu_limits();
    tu_run(&l, sc_too_large);
}

/* ---- 431, 400 ------------------------------------------------------------------------ */

static void sc_bad_requests(tu_env *env)
{
    tu_resp r = {0};
    tu_conn *c = tu_connect(env);
    REQUIRE(c != NULL);
    char *big = malloc(6000);
    memset(big, 'a', 5999);
    big[5999] = '\0';
    CHECK(tu_send(c, "GET /fixed HTTP/1.1\r\nHost: t\r\nX-Big: "));
    CHECK(tu_send(c, big));
    CHECK(tu_send(c, "\r\n\r\n"));
    CHECK(tu_read_resp(c, &r, false));
    tu_check_problem(&r, 431, "FOR_STORE_HOVEDER");
    CHECK(tu_closed(c));
    tu_close(c);
    free(big);

    c = tu_connect(env);
    CHECK(tu_send(c, "GET /fixed HTTP/1.1\r\n"));
    for (int i = 0; i < 120; i++)
        CHECK(tu_send(c, "X-A: b\r\n"));
    CHECK(tu_send(c, "\r\n"));
    CHECK(tu_read_resp(c, &r, false));
    tu_check_problem(&r, 431, "FOR_STORE_HOVEDER");
    tu_close(c);

    c = tu_connect(env);
    CHECK(tu_send(c, "GET /fixed HTTP/1.1\r\nHost: t\r\n\r\nGARBAGE\r\n\r\n"));
    CHECK(tu_read_resp(c, &r, false));
    CHECK_INT(r.status, 200);
    CHECK(tu_read_resp(c, &r, false));
    tu_check_problem(&r, 400, "UGYLDIG_FORESPOERGSEL");
    char v[32];
    CHECK_STR(tu_header(&r, "Connection", v, sizeof v), "close");
    CHECK(tu_closed(c));
    tu_close(c);

    c = tu_connect(env);
    CHECK(tu_send(c, "GET /items/%zz HTTP/1.1\r\nHost: t\r\n\r\n"));
    CHECK(tu_read_resp(c, &r, false));
    tu_check_problem(&r, 400, "UGYLDIG_FORESPOERGSEL");
    tu_close(c);

    c = tu_connect(env);
    CHECK(tu_send(c, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\n"
                     "Transfer-Encoding: chunked\r\n\r\n"));
    CHECK(tu_read_resp(c, &r, false));
    tu_check_problem(&r, 400, "UGYLDIG_FORESPOERGSEL");
    tu_resp_free(&r);
    tu_close(c);
}

static void test_bad_requests(void **state)
{
    (void)state;
    net_limits l = tu_limits();
    l.max_header_bytes = 4096;
    tu_run(&l, sc_bad_requests);
}

/* ---- 408 ----------------------------------------------------------------------------- */

static void sc_timeouts(tu_env *env)
{
    tu_resp r = {0};
    tu_conn *c = tu_connect(env);
    REQUIRE(c != NULL);
    CHECK(tu_send(c, "GET /fixed HTTP/1.1\r\nHost: t\r\n"));
    CHECK(tu_read_resp(c, &r, false));
    tu_check_problem(&r, 408, "TIMEOUT");
    CHECK(tu_closed(c));
    tu_close(c);

    c = tu_connect(env);
    CHECK(tu_send(c, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc"));
    CHECK(tu_read_resp(c, &r, false));
    tu_check_problem(&r, 408, "TIMEOUT");
    CHECK(tu_closed(c));
    tu_close(c);

    /* slowloris: a byte every 20 ms never finishes the headers; the client
     * gets its 408 and, as it goes on sending, is cut off */
    c = tu_connect(env);
    const char *drip = "GET /fixed HTTP/1.1\r\nHost: t\r\nX-Slow: ";
    CHECK(tu_send(c, drip));
    bool got = false, cut = false;
    for (int i = 0; i < 400 && !cut; i++) {
        if (send(c->fd, "a", 1, MSG_NOSIGNAL) != 1) cut = true;
        struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
        while (!cut && poll(&pfd, 1, 20) > 0) {
            if (!got) {
                got = tu_read_resp(c, &r, false);
                if (got) tu_check_problem(&r, 408, "TIMEOUT");
                if (!got) cut = true;
            } else {
                char tmp[256];
                ssize_t n = recv(c->fd, tmp, sizeof tmp, 0);
                if (n <= 0) cut = true;
            }
        }
    }
    CHECK(got);
    CHECK(cut);
    tu_resp_free(&r);
    tu_close(c);
}

static void test_timeouts(void **state)
{
    (void)state;
    net_limits l = tu_limits();
    l.header_timeout_ms = 200;
    l.body_timeout_ms = 200;
    tu_run(&l, sc_timeouts);
}

/* ---- idle timeout ------------------------------------------------------------------- */

static void sc_idle(tu_env *env)
{
    tu_resp r = {0};
    tu_conn *c = tu_connect(env);
    REQUIRE(c != NULL);
    CHECK(tu_send(c, "GET /fixed HTTP/1.1\r\nHost: t\r\n\r\n"));
    CHECK(tu_read_resp(c, &r, false));
    CHECK(tu_closed(c));
    tu_resp_free(&r);
    tu_close(c);
    /* a connection that never sends a byte is closed too */
    c = tu_connect(env);
    CHECK(tu_closed(c));
    tu_close(c);
}

static void test_idle(void **state)
{
    (void)state;
    net_limits l = tu_limits();
    l.idle_timeout_ms = 200;
    tu_run(&l, sc_idle);
}

/* ---- Host (RFC 9112, 3.2) and HEAD ------------------------------------------------------- */

static void sc_host_and_head(tu_env *env)
{
    tu_resp r = {0};
    tu_conn *c = tu_connect(env);
    REQUIRE(c != NULL);
    /* HTTP/1.1 without Host: 400, and the connection stays usable */
    CHECK(tu_send(c, "GET /fixed HTTP/1.1\r\n\r\n"));
    CHECK(tu_read_resp(c, &r, false));
    tu_check_problem(&r, 400, "UGYLDIG_FORESPOERGSEL");
    CHECK(tu_send(c, "GET /fixed HTTP/1.1\r\nHost: t\r\n\r\n"));
    CHECK(tu_read_resp(c, &r, false));
    CHECK_INT(r.status, 200);
    /* two Host headers: 400, also with a body (discarded) */
    CHECK(tu_send(c, "GET /fixed HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"));
    CHECK(tu_read_resp(c, &r, false));
    tu_check_problem(&r, 400, "UGYLDIG_FORESPOERGSEL");
    CHECK(tu_send(c, "POST /echo HTTP/1.1\r\nHost: a\r\nhost: a\r\nContent-Length: 3\r\n\r\nabc"));
    CHECK(tu_read_resp(c, &r, false));
    tu_check_problem(&r, 400, "UGYLDIG_FORESPOERGSEL");
    /* HTTP/1.0 needs no Host, but two are still refused */
    CHECK(tu_send(c, "GET /fixed HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
    CHECK(tu_read_resp(c, &r, false));
    CHECK_INT(r.status, 200);
    CHECK(tu_send(c, "GET /fixed HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n"));
    CHECK(tu_read_resp(c, &r, false));
    tu_check_problem(&r, 400, "UGYLDIG_FORESPOERGSEL");
    tu_close(c);

    /* a HEAD refused while its headers arrive (431) gets no body */
    c = tu_connect(env);
    char *big = malloc(20000);
    memset(big, 'a', 19999);
    big[19999] = '\0';
    CHECK(tu_send(c, "HEAD /fixed HTTP/1.1\r\nHost: t\r\nX-Big: "));
    CHECK(tu_send(c, big));
    CHECK(tu_send(c, "\r\n\r\n"));
    CHECK(tu_read_resp(c, &r, true));
    CHECK_INT(r.status, 431);
    CHECK(tu_closed(c));
    tu_close(c);
    free(big);
    /* ... and so does a HEAD refused for bad syntax, or for its Host */
    c = tu_connect(env);
    CHECK(tu_send(c, "HEAD /fixed HTTP/1.1\r\nHost: t\r\nBad Header\r\n\r\n"));
    CHECK(tu_read_resp(c, &r, true));
    CHECK_INT(r.status, 400);
    CHECK(tu_closed(c));
    tu_close(c);
    c = tu_connect(env);
    CHECK(tu_send(c, "HEAD /fixed HTTP/1.1\r\nConnection: close\r\n\r\n"));
    CHECK(tu_read_resp(c, &r, true));
    CHECK_INT(r.status, 400);
    CHECK(tu_closed(c));
    tu_close(c);
    c = tu_connect(env);
    CHECK(tu_send(c, "HEAD /nowhere HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"));
    CHECK(tu_read_resp(c, &r, true));
    CHECK_INT(r.status, 404);
    CHECK(tu_closed(c));
    tu_close(c);
    tu_resp_free(&r);
}

static void test_host_and_head(void **state)
{
    (void)state;
    net_limits l = tu_limits();
    tu_run(&l, sc_host_and_head);
}

/* ---- pipelining past the bound ------------------------------------------------------------ */

/* With max_pipeline 2 and two slow requests in flight, a third pipelined
 * behind them is answered 503 problem+json with Retry-After and
 * Connection: close in its turn, after the two, without its handler
 * running; then the connection ends (no stall, no unbounded queue). */
static void sc_pipeline_bound(tu_env *env)
{
    tu_resp r = {0};
    char v[32];
    tu_conn *c = tu_connect(env);
    REQUIRE(c != NULL);
    CHECK(tu_send(c, "GET /async?ms=300 HTTP/1.1\r\nHost: t\r\n\r\n"
                     "GET /async?ms=50 HTTP/1.1\r\nHost: t\r\n\r\n"
                     "GET /fixed HTTP/1.1\r\nHost: t\r\n\r\n"
                     "GET /fixed HTTP/1.1\r\nHost: t\r\n\r\n"));
    for (int i = 0; i < 2; i++) {
        CHECK(tu_read_resp(c, &r, false));
        CHECK_INT(r.status, 200);
        CHECK_STR(r.body, "async");
    }
    CHECK(tu_read_resp(c, &r, false));
    tu_check_problem(&r, 503, "IKKE_KLAR");
    CHECK(tu_header(&r, "Retry-After", v, sizeof v) != NULL);
    CHECK_STR(tu_header(&r, "Connection", v, sizeof v), "close");
    CHECK(tu_closed(c));
    CHECK_INT(atomic_load(&env->handled), 0); /* /fixed never ran (/async does not count) */
    tu_resp_free(&r);
    tu_close(c);

    /* within the bound, pipelined requests are all served in order */
    c = tu_connect(env);
    REQUIRE(c != NULL);
    CHECK(tu_send(c, "GET /async?ms=100 HTTP/1.1\r\nHost: t\r\n\r\n"
                     "GET /fixed HTTP/1.1\r\nHost: t\r\n\r\n"));
    CHECK(tu_read_resp(c, &r, false));
    CHECK_STR(r.body, "async");
    CHECK(tu_read_resp(c, &r, false));
    CHECK_STR(r.body, "{\"ok\":true}");
    tu_resp_free(&r);
    tu_close(c);
}

static void test_pipeline_bound(void **state)
{
    (void)state;
    net_limits l = tu_limits();
    l.max_pipeline = 2;
    tu_run(&l, sc_pipeline_bound);
}

/* ---- streams at once -------------------------------------------------------------------- */

/* One client holds a stream it does not read; another stream is refused
 * with want (429 per client, 503 in all) and Retry-After, the refused
 * stream's plugin is told through its abort callback, and once the first
 * stream goes a new one is served. */
static void sc_streams(tu_env *env, int want, const char *kode)
{
    tu_resp r = {0};
    char v[32];
    tu_conn *a = tu_connect_buf(env, 4096);
    REQUIRE(a != NULL);
    CHECK(tu_send(a, "GET /stream?kib=16384 HTTP/1.1\r\nHost: t\r\n\r\n"));
    for (int i = 0; i < 500 && atomic_load(&env->streamed) == 0; i++)
        tu_sleep_ms(10); /* polls for the stream's start, up to 5 s */
    CHECK(atomic_load(&env->streamed) > 0);
    tu_conn *b = tu_connect(env);
    REQUIRE(b != NULL);
    CHECK(tu_send(b, "GET /stream?kib=1 HTTP/1.1\r\nHost: t\r\n\r\n"));
    CHECK(tu_read_resp(b, &r, false));
    tu_check_problem(&r, want, kode);
    CHECK(tu_header(&r, "Retry-After", v, sizeof v) != NULL);
    CHECK(tu_wait_for(&env->aborts, 1)); /* the refused stream's plugin stopped */
    /* the connection goes on serving other answers */
    CHECK(tu_send(b, "GET /fixed HTTP/1.1\r\nHost: t\r\n\r\n"));
    CHECK(tu_read_resp(b, &r, false));
    CHECK_INT(r.status, 200);
    tu_close(a);
    CHECK(tu_wait_for(&env->aborts, 2));
    CHECK(tu_send(b, "GET /stream?kib=1 HTTP/1.1\r\nHost: t\r\n\r\n"));
    CHECK(tu_read_resp(b, &r, false));
    CHECK_INT(r.status, 200);
    CHECK_INT((long long)r.body_len, 1024);
    tu_resp_free(&r);
    tu_close(b);
}

static void sc_streams_per_client(tu_env *env)
{
    sc_streams(env, 429, "FOR_MANGE");
}

static void sc_streams_in_all(tu_env *env)
{
    sc_streams(env, 503, "IKKE_KLAR");
}

static void test_streams_at_once(void **state)
{
    (void)state;
    net_limits l = tu_limits();
    l.max_streams_per_client = 1;
    tu_run(&l, sc_streams_per_client);
    l = tu_limits();
    l.max_streams = 1;
    tu_run(&l, sc_streams_in_all);
}

/* ---- max connections ------------------------------------------------------------------ */

static void sc_max_connections(tu_env *env)
{
    tu_resp r = {0};
    char v[32];
    tu_conn *a = tu_connect(env), *b = tu_connect(env);
    REQUIRE(a && b);
    CHECK(tu_send(a, "GET /fixed HTTP/1.1\r\nHost: t\r\n\r\n"));
    CHECK(tu_read_resp(a, &r, false));
    CHECK(tu_send(b, "GET /fixed HTTP/1.1\r\nHost: t\r\n\r\n"));
    CHECK(tu_read_resp(b, &r, false));
    for (int i = 0; i < 5; i++) {
        tu_conn *c = tu_connect(env);
        REQUIRE(c != NULL);
        tu_send(c, "GET /fixed HTTP/1.1\r\nHost: t\r\n\r\n");
        CHECK(tu_read_resp(c, &r, false));
        tu_check_problem(&r, 503, "IKKE_KLAR");
        CHECK(tu_header(&r, "Retry-After", v, sizeof v) != NULL);
        CHECK(tu_closed(c));
        tu_close(c);
    }
    /* a HEAD over the limit gets the 503's head and no body */
    tu_conn *h = tu_connect(env);
    REQUIRE(h != NULL);
    tu_send(h, "HEAD /fixed HTTP/1.1\r\nHost: t\r\n\r\n");
    CHECK(tu_read_resp(h, &r, true));
    CHECK_INT(r.status, 503);
    CHECK(tu_header(&r, "Retry-After", v, sizeof v) != NULL);
    CHECK(tu_closed(h)); /* no body bytes follow the head */
    tu_close(h);
    /* the old connections still work; when one goes, a new one is served */
    CHECK(tu_send(a, "GET /fixed HTTP/1.1\r\nHost: t\r\n\r\n"));
    CHECK(tu_read_resp(a, &r, false));
    CHECK_INT(r.status, 200);
    tu_close(b);
    /* the server sees b's end on its own time: try until the deadline */
    bool served = false;
    for (int i = 0; i < TU_DEADLINE_S * 50 && !served; i++) {
        tu_conn *c = tu_connect(env);
        REQUIRE(c != NULL);
        tu_send(c, "GET /fixed HTTP/1.1\r\nHost: t\r\n\r\n");
        served = tu_read_resp(c, &r, false) && r.status == 200;
        tu_close(c);
        if (!served) tu_sleep_ms(20);
    }
    CHECK(served);
    tu_resp_free(&r);
    tu_close(a);
}

static void test_max_connections(void **state)
{
    (void)state;
    net_limits l = tu_limits();
    l.max_connections = 2;
    tu_run(&l, sc_max_connections);
}

/* ---- 429 ------------------------------------------------------------------------------ */

static void sc_rate(tu_env *env)
{
    tu_resp r = {0};
    char v[32];
    tu_conn *c = tu_connect(env);
    REQUIRE(c != NULL);
    for (int i = 0; i < 10; i++)
        CHECK(tu_send(c, "GET /fixed HTTP/1.1\r\nHost: t\r\n\r\n"));
    int ok = 0, refused = 0;
    for (int i = 0; i < 10; i++) {
        CHECK(tu_read_resp(c, &r, false));
        if (r.status == 200) {
            ok++;
        } else {
            tu_check_problem(&r, 429, "FOR_MANGE");
            CHECK(tu_header(&r, "Retry-After", v, sizeof v) != NULL);
            CHECK(atoi(v) >= 1);
            refused++;
        }
    }
    CHECK(ok >= 3);
    CHECK(refused >= 1);
    tu_resp_free(&r);
    tu_close(c);
}

static void test_rate(void **state)
{
    (void)state;
    net_limits l = tu_limits();
    l.requests_per_second_per_client = 3;
    tu_run(&l, sc_rate);
}

/* ---- backpressure and the send timeout ---------------------------------------------------- */

static void sc_backpressure(tu_env *env)
{
    tu_resp r = {0};
    tu_conn *c = tu_connect_buf(env, 32 * 1024);
    REQUIRE(c != NULL);
    CHECK(tu_send(c, "GET /stream?kib=16384 HTTP/1.1\r\nHost: t\r\n\r\n"));
    /* the client reads nothing: the plugin is told to wait, and what it
     * handed over by then is bounded by the queue, not the answer's size */
    CHECK(tu_wait_for(&env->waits, 1));
    long long queued = atomic_load(&env->streamed);
    CHECK(queued > 0);
    CHECK(queued < 8 * 1024 * 1024);
    CHECK(tu_read_resp(c, &r, false));
    CHECK_INT(r.body_len, 16 * 1024 * 1024);
    CHECK(atomic_load(&env->drains) >= 1);
    tu_resp_free(&r);
    tu_close(c);
}

static void test_backpressure(void **state)
{
    (void)state;
    net_limits l = tu_limits();
    /* not the send timeout's test: a reader slowed by a loaded machine must
     * not be cut off */
    l.send_timeout_ms = 120000;
    tu_run(&l, sc_backpressure);
}

static void sc_send_timeout(tu_env *env)
{
    tu_conn *c = tu_connect_buf(env, 16 * 1024);
    REQUIRE(c != NULL);
    CHECK(tu_send(c, "GET /stream?kib=1000000 HTTP/1.1\r\nHost: t\r\n\r\n"));
    /* never read: the server gives up on us and aborts the stream */
    CHECK(tu_wait_for(&env->aborts, 1));
    CHECK(tu_wait_eq(&env->inflight, 0));
    tu_close(c);
}

static void test_send_timeout(void **state)
{
    (void)state;
    net_limits l = tu_limits();
    l.send_timeout_ms = 200;
    tu_run(&l, sc_send_timeout);
}

/* ---- headers across reads and buffers --------------------------------------------------- */

static void tu_send_slowly(tu_conn *c, const char *s, size_t piece)
{
    size_t len = strlen(s);
    for (size_t off = 0; off < len; off += piece) {
        CHECK(tu_send_n(c, s + off, len - off < piece ? len - off : piece));
        tu_sleep_ms(1);
    }
}

static void sc_split_headers(tu_env *env)
{
    tu_resp r = {0};
    size_t vlen = 60000;
    char *value = malloc(vlen + 1);
    for (size_t i = 0; i < vlen; i++)
        value[i] = (char)('a' + i % 26);
    value[vlen] = '\0';
    char *req = malloc(vlen + 256);
    snprintf(req, vlen + 256, "GET /items/r?q=%%41 HTTP/1.1\r\nHost: t\r\nX-Test: %s\r\n\r\n",
             value);

    /* alone: the buffer is compacted or grown under the request */
    tu_conn *c = tu_connect(env);
    REQUIRE(c != NULL);
    tu_send_slowly(c, req, 4000);
    CHECK(tu_read_resp(c, &r, false));
    json_t *j = json_loads(r.body ? r.body : "", 0, NULL);
    CHECK_STR(json_string_value(json_object_get(j, "x")), value);
    CHECK_STR(json_string_value(json_object_get(j, "q")), "A");
    json_decref(j);

    /* behind an asynchronous request that holds the first buffer */
    CHECK(tu_send(c, "GET /async?ms=200 HTTP/1.1\r\nHost: t\r\n\r\n"));
    tu_send_slowly(c, req, 3000);
    CHECK(tu_read_resp(c, &r, false));
    CHECK_STR(r.body, "async");
    CHECK(tu_read_resp(c, &r, false));
    j = json_loads(r.body ? r.body : "", 0, NULL);
    CHECK_STR(json_string_value(json_object_get(j, "x")), value);
    json_decref(j);

    /* one byte at a time */
    tu_send_slowly(c, "GET /items/bytes?q=1 HTTP/1.1\r\nHost: t\r\nX-Test: split\r\n\r\n", 1);
    CHECK(tu_read_resp(c, &r, false));
    CHECK(r.body && strstr(r.body, "\"x\":\"split\"") != NULL);
    tu_resp_free(&r);
    tu_close(c);
    free(req);
    free(value);
}

static void test_split_headers(void **state)
{
    (void)state;
    net_limits l = tu_limits();
    l.max_header_bytes = 100000;
    tu_run(&l, sc_split_headers);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_too_large),       cmocka_unit_test(test_bad_requests),
        cmocka_unit_test(test_timeouts),        cmocka_unit_test(test_idle),
        cmocka_unit_test(test_max_connections), cmocka_unit_test(test_host_and_head),
        cmocka_unit_test(test_streams_at_once), cmocka_unit_test(test_rate),
        cmocka_unit_test(test_backpressure),    cmocka_unit_test(test_send_timeout),
        cmocka_unit_test(test_split_headers),   cmocka_unit_test(test_pipeline_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
