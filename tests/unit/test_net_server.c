/*
 * test_net_server.c -- the HTTP server in process, spoken to over real
 * sockets: keep-alive, pipelining with an asynchronous answer in the middle,
 * HEAD, 100-continue, chunked bodies, the request API, request ids, 404/405,
 * HTTP/1.0, Connection: close, graceful shutdown.
 */
#include "test_net_util.h"

/* ---- keep-alive, ids, Date ---------------------------------------------------- */

static void sc_keepalive(tu_env *env)
{
    tu_conn *c = tu_connect(env);
    REQUIRE(c != NULL);
    tu_resp r = {0};
    char v[128];
    for (int i = 0; i < 3; i++) {
        CHECK(tu_send(c, "GET /fixed HTTP/1.1\r\nHost: t\r\n\r\n"));
        CHECK(tu_read_resp(c, &r, false));
        CHECK_INT(r.status, 200);
        CHECK_STR(r.body, "{\"ok\":true}");
        CHECK_STR(tu_header(&r, "Content-Type", v, sizeof v), "application/json");
        CHECK(tu_header(&r, "Date", v, sizeof v) != NULL);
        CHECK(tu_header(&r, "Connection", v, sizeof v) == NULL);
        /* a generated id: 16 hex characters */
        CHECK(tu_header(&r, "X-Request-Id", v, sizeof v) != NULL);
        CHECK_INT(strlen(v), 16);
        CHECK_INT(strspn(v, "0123456789abcdef"), 16);
    }
    CHECK(tu_send(c, "GET /fixed HTTP/1.1\r\nHost: t\r\nX-Request-Id: abc-123.x\r\n\r\n"));
    CHECK(tu_read_resp(c, &r, false));
    CHECK_STR(tu_header(&r, "X-Request-Id", v, sizeof v), "abc-123.x");
    /* an id with characters that do not belong in a log is replaced */
    CHECK(tu_send(c, "GET /fixed HTTP/1.1\r\nHost: t\r\nX-Request-Id: a\"b\r\n\r\n"));
    CHECK(tu_read_resp(c, &r, false));
    CHECK_INT(strlen(tu_header(&r, "X-Request-Id", v, sizeof v)), 16);
    tu_resp_free(&r);
    tu_close(c);
}

static void test_keepalive(void **state)
{
    (void)state;
    net_limits l = tu_limits();
    tu_run(&l, sc_keepalive);
}

/* ---- pipelining ----------------------------------------------------------------- */

static void sc_pipelining(tu_env *env)
{
    tu_conn *c = tu_connect(env);
    REQUIRE(c != NULL);
    CHECK(tu_send(c, "GET /fixed HTTP/1.1\r\nHost: t\r\n\r\n"
                     "GET /async?ms=600 HTTP/1.1\r\nHost: t\r\n\r\n"
                     "GET /items/3 HTTP/1.1\r\nHost: t\r\n\r\n"));
    tu_resp r = {0};
    CHECK(tu_read_resp(c, &r, false));
    CHECK_STR(r.body, "{\"ok\":true}");
    /* the third handler answered while the second still waits: its answer is
     * held, nothing more arrives until the second's */
    CHECK(tu_wait_for(&env->handled, 2));
    struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
    CHECK_INT(c->len, 0);
    CHECK_INT(poll(&pfd, 1, 100), 0);
    CHECK(tu_read_resp(c, &r, false));
    CHECK_STR(r.body, "async");
    CHECK(tu_read_resp(c, &r, false));
    CHECK(strstr(r.body, "\"id\":\"3\"") != NULL);

    /* a burst deeper than the pipeline limit, answered in order */
    char burst[64 * 40];
    size_t len = 0;
    for (int i = 0; i < 40; i++)
        len += (size_t)snprintf(burst + len, sizeof burst - len,
                                "GET /items/%d HTTP/1.1\r\nHost: t\r\n\r\n", i);
    CHECK(tu_send_n(c, burst, len));
    for (int i = 0; i < 40; i++) {
        char want[32];
        snprintf(want, sizeof want, "\"id\":\"%d\"", i);
        CHECK(tu_read_resp(c, &r, false));
        CHECK(r.body && strstr(r.body, want) != NULL);
    }
    tu_resp_free(&r);
    tu_close(c);
}

static void test_pipelining(void **state)
{
    (void)state;
    net_limits l = tu_limits();
    tu_run(&l, sc_pipelining);
}

/* ---- HEAD ----------------------------------------------------------------------- */

static void sc_head(tu_env *env)
{
    tu_conn *c = tu_connect(env);
    REQUIRE(c != NULL);
    tu_resp r = {0};
    char get_len[32] = "", head_len[32] = "";
    CHECK(tu_send(c, "GET /fixed HTTP/1.1\r\nHost: t\r\n\r\n"));
    CHECK(tu_read_resp(c, &r, false));
    tu_header(&r, "Content-Length", get_len, sizeof get_len);
    CHECK(tu_send(c, "HEAD /fixed HTTP/1.1\r\nHost: t\r\n\r\n"));
    CHECK(tu_read_resp(c, &r, true));
    CHECK_INT(r.status, 200);
    tu_header(&r, "Content-Length", head_len, sizeof head_len);
    CHECK_STR(head_len, get_len);
    /* no body bytes came: the next answer starts right away */
    CHECK(tu_send(c, "HEAD /items/x HTTP/1.1\r\nHost: t\r\n\r\n"));
    CHECK(tu_read_resp(c, &r, true));
    CHECK_INT(r.status, 200);
    CHECK(tu_send(c, "GET /fixed HTTP/1.1\r\nHost: t\r\n\r\n"));
    CHECK(tu_read_resp(c, &r, false));
    CHECK_STR(r.body, "{\"ok\":true}");
    /* a streamed answer to HEAD: headers only */
    CHECK(tu_send(c, "HEAD /stream?kib=8 HTTP/1.1\r\nHost: t\r\n\r\n"));
    CHECK(tu_read_resp(c, &r, true));
    CHECK_INT(r.status, 200);
    CHECK(tu_send(c, "GET /fixed HTTP/1.1\r\nHost: t\r\n\r\n"));
    CHECK(tu_read_resp(c, &r, false));
    CHECK_STR(r.body, "{\"ok\":true}");
    tu_resp_free(&r);
    tu_close(c);
}

static void test_head(void **state)
{
    (void)state;
    net_limits l = tu_limits();
    tu_run(&l, sc_head);
}

/* ---- bodies: 100-continue, chunked, large ------------------------------------------ */

static void sc_bodies(tu_env *env)
{
    tu_conn *c = tu_connect(env);
    REQUIRE(c != NULL);
    tu_resp r = {0};
    char v[64];
    CHECK(tu_send(c, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Type: text/plain\r\n"
                     "Content-Length: 5\r\nExpect: 100-continue\r\n\r\n"));
    CHECK(tu_read_resp(c, &r, false));
    CHECK_INT(r.status, 100);
    CHECK(tu_send(c, "hello"));
    CHECK(tu_read_resp(c, &r, false));
    CHECK_INT(r.status, 200);
    CHECK_STR(r.body, "hello");
    CHECK_STR(tu_header(&r, "Content-Type", v, sizeof v), "text/plain");

    CHECK(tu_send(c, "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                     "6\r\nhello \r\n5\r\nworld\r\n0\r\n\r\n"));
    CHECK(tu_read_resp(c, &r, false));
    CHECK_STR(r.body, "hello world");

    /* trailers after a body longer than the header limit are ignored */
    CHECK(tu_send(c, "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"));
    char *chunk = malloc(40000);
    memset(chunk, 'c', 40000);
    CHECK(tu_send(c, "9c40\r\n"));
    CHECK(tu_send_n(c, chunk, 40000));
    free(chunk);
    CHECK(tu_send(c, "\r\n0\r\nX-Trailer: yes\r\nX-Other: 2\r\n\r\n"));
    CHECK(tu_read_resp(c, &r, false));
    CHECK_INT(r.status, 200);
    CHECK_INT(r.body_len, 40000);

    /* a body over several reads, and one split in tiny pieces */
    size_t big = 300 * 1024;
    char *body = malloc(big);
    for (size_t i = 0; i < big; i++)
        body[i] = (char)('a' + i % 26);
    char head[128];
    snprintf(head, sizeof head, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: %zu\r\n\r\n",
             big);
    CHECK(tu_send(c, head));
    CHECK(tu_send_n(c, body, big));
    CHECK(tu_read_resp(c, &r, false));
    CHECK_INT(r.body_len, big);
    CHECK(r.body && memcmp(r.body, body, big) == 0);
    free(body);

    const char *slow = "POST /items/9 HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n0123456789";
    for (const char *p = slow; *p; p++) {
        CHECK(tu_send_n(c, p, 1));
        if ((p - slow) % 7 == 0) tu_sleep_ms(2);
    }
    CHECK(tu_read_resp(c, &r, false));
    CHECK_STR(r.body, "0123456789");
    tu_resp_free(&r);
    tu_close(c);
}

static void test_bodies(void **state)
{
    (void)state;
    net_limits l = tu_limits();
    tu_run(&l, sc_bodies);
}

/* ---- the request API ------------------------------------------------------------- */

static void sc_request_api(tu_env *env)
{
    tu_conn *c = tu_connect(env);
    REQUIRE(c != NULL);
    tu_resp r = {0};
    char v[64];
    CHECK(tu_send(c, "GET /items/a%20b%2Fc?z=1&q=x+y%21&q=second HTTP/1.1\r\nHost: t\r\n"
                     "X-Test: one\r\nx-test: two  \r\n\r\n"));
    CHECK(tu_read_resp(c, &r, false));
    CHECK_INT(r.status, 200);
    json_t *j = json_loads(r.body ? r.body : "", 0, NULL);
    CHECK(j != NULL);
    CHECK_STR(json_string_value(json_object_get(j, "id")), "a b/c");
    CHECK_STR(json_string_value(json_object_get(j, "path")), "/items/a b/c");
    CHECK_STR(json_string_value(json_object_get(j, "q")), "x y!");
    CHECK_STR(json_string_value(json_object_get(j, "x")), "one, two");
    CHECK_STR(json_string_value(json_object_get(j, "method")), "GET");
    json_decref(j);
    CHECK_STR(tu_header(&r, "X-Item", v, sizeof v), "yes");
    char len[24];
    snprintf(len, sizeof len, "%zu", r.body_len);
    CHECK_STR(tu_header(&r, "Content-Length", v, sizeof v), len);
    CHECK(strstr(r.head, "Content-Length: 1\r\n") == NULL);

    /* absolute form */
    CHECK(tu_send(c, "GET http://example.org/items/abs HTTP/1.1\r\nHost: t\r\n\r\n"));
    CHECK(tu_read_resp(c, &r, false));
    CHECK(r.body && strstr(r.body, "\"id\":\"abs\"") != NULL);

    /* a handler that fails without answering: 500 */
    CHECK(tu_send(c, "GET /fail HTTP/1.1\r\nHost: t\r\n\r\n"));
    CHECK(tu_read_resp(c, &r, false));
    tu_check_problem(&r, 500, "INTERN_FEJL");
    tu_resp_free(&r);
    tu_close(c);
}

static void test_request_api(void **state)
{
    (void)state;
    net_limits l = tu_limits();
    tu_run(&l, sc_request_api);
}

/* ---- 404, 405 -------------------------------------------------------------------- */

static void sc_not_found(tu_env *env)
{
    tu_conn *c = tu_connect(env);
    REQUIRE(c != NULL);
    tu_resp r = {0};
    char v[64];
    CHECK(tu_send(c, "GET /nope HTTP/1.1\r\nHost: t\r\n\r\n"));
    CHECK(tu_read_resp(c, &r, false));
    tu_check_problem(&r, 404, "FINDES_IKKE");
    CHECK(tu_send(c, "DELETE /fixed HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc"));
    CHECK(tu_read_resp(c, &r, false));
    tu_check_problem(&r, 405, "FINDES_IKKE");
    CHECK_STR(tu_header(&r, "Allow", v, sizeof v), "GET, HEAD");
    CHECK(tu_send(c, "PUT /items/4 HTTP/1.1\r\nHost: t\r\n\r\n"));
    CHECK(tu_read_resp(c, &r, false));
    CHECK_STR(tu_header(&r, "Allow", v, sizeof v), "GET, HEAD, POST");
    /* deeper than any route can be */
    CHECK(tu_send(c, "GET /a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r/s HTTP/1.1\r\nHost: t\r\n\r\n"));
    CHECK(tu_read_resp(c, &r, false));
    tu_check_problem(&r, 404, "FINDES_IKKE");
    /* the connection is still good */
    CHECK(tu_send(c, "GET /fixed HTTP/1.1\r\nHost: t\r\n\r\n"));
    CHECK(tu_read_resp(c, &r, false));
    CHECK_INT(r.status, 200);
    tu_resp_free(&r);
    tu_close(c);
}

static void test_not_found(void **state)
{
    (void)state;
    net_limits l = tu_limits();
    tu_run(&l, sc_not_found);
}

/* ---- HTTP/1.0 and Connection: close ----------------------------------------------- */

static void sc_connection_close(tu_env *env)
{
    tu_resp r = {0};
    char v[64];
    tu_conn *c = tu_connect(env);
    REQUIRE(c != NULL);
    CHECK(tu_send(c, "GET /fixed HTTP/1.0\r\n\r\n"));
    CHECK(tu_read_resp(c, &r, false));
    CHECK_INT(r.status, 200);
    CHECK_STR(tu_header(&r, "Connection", v, sizeof v), "close");
    CHECK(tu_closed(c));
    tu_close(c);

    c = tu_connect(env);
    CHECK(tu_send(c, "GET /fixed HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
    CHECK(tu_read_resp(c, &r, false));
    CHECK_STR(tu_header(&r, "Connection", v, sizeof v), "keep-alive");
    /* a streamed answer to HTTP/1.0 ends by closing */
    CHECK(tu_send(c, "GET /stream?kib=20 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
    CHECK(tu_read_resp(c, &r, false));
    CHECK_INT(r.body_len, 20 * 1024);
    CHECK(tu_header(&r, "Transfer-Encoding", v, sizeof v) == NULL);
    tu_close(c);

    c = tu_connect(env);
    CHECK(tu_send(c, "GET /fixed HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
                     "GET /fixed HTTP/1.1\r\nHost: t\r\n\r\n"));
    CHECK(tu_read_resp(c, &r, false));
    CHECK_STR(tu_header(&r, "Connection", v, sizeof v), "close");
    CHECK(tu_closed(c));
    tu_close(c);

    /* an upgrade is not taken: the answer is plain and the connection ends */
    c = tu_connect(env);
    CHECK(tu_send(c, "GET /fixed HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\n"
                     "Upgrade: websocket\r\n\r\n\x81\x85garbage"));
    CHECK(tu_read_resp(c, &r, false));
    CHECK_INT(r.status, 200);
    CHECK_STR(tu_header(&r, "Connection", v, sizeof v), "close");
    CHECK(tu_closed(c));
    tu_resp_free(&r);
    tu_close(c);
}

static void test_connection_close(void **state)
{
    (void)state;
    net_limits l = tu_limits();
    tu_run(&l, sc_connection_close);
}

/* ---- streams ------------------------------------------------------------------------- */

static void sc_stream(tu_env *env)
{
    tu_conn *c = tu_connect(env);
    REQUIRE(c != NULL);
    tu_resp r = {0};
    char v[64];
    CHECK(tu_send(c, "GET /stream?kib=1000 HTTP/1.1\r\nHost: t\r\n\r\n"
                     "GET /fixed HTTP/1.1\r\nHost: t\r\n\r\n"));
    CHECK(tu_read_resp(c, &r, false));
    CHECK_STR(tu_header(&r, "Transfer-Encoding", v, sizeof v), "chunked");
    CHECK_INT(r.body_len, 1000 * 1024);
    CHECK(tu_read_resp(c, &r, false));
    CHECK_STR(r.body, "{\"ok\":true}");
    /* a stream held behind an asynchronous answer */
    CHECK(tu_send(c, "GET /async?ms=100 HTTP/1.1\r\nHost: t\r\n\r\n"
                     "GET /stream?kib=600 HTTP/1.1\r\nHost: t\r\n\r\n"));
    CHECK(tu_read_resp(c, &r, false));
    CHECK_STR(r.body, "async");
    CHECK(tu_read_resp(c, &r, false));
    CHECK_INT(r.body_len, 600 * 1024);
    tu_resp_free(&r);
    tu_close(c);
}

static void test_stream(void **state)
{
    (void)state;
    net_limits l = tu_limits();
    tu_run(&l, sc_stream);
}

/* ---- aborts ---------------------------------------------------------------------------- */

static void sc_abort(tu_env *env)
{
    tu_conn *c = tu_connect(env);
    REQUIRE(c != NULL);
    CHECK(tu_send(c, "GET /async?ms=5000 HTTP/1.1\r\nHost: t\r\n\r\n"));
    CHECK(tu_wait_for(&env->inflight, 1));
    tu_close(c);
    CHECK(tu_wait_for(&env->aborts, 1));
    CHECK(tu_wait_eq(&env->inflight, 0));

    /* pipelined: two waiting, one answered and held between them, one
     * still arriving; all go when the client does */
    c = tu_connect(env);
    CHECK(tu_send(c, "GET /async?ms=5000 HTTP/1.1\r\nHost: t\r\n\r\n"
                     "GET /items/1 HTTP/1.1\r\nHost: t\r\n\r\n"
                     "GET /async?ms=5000 HTTP/1.1\r\nHost: t\r\n\r\n"
                     "GET /items/2 HTTP/1.1\r\nHo"));
    CHECK(tu_wait_for(&env->inflight, 2));
    tu_close(c);
    CHECK(tu_wait_for(&env->aborts, 3));
    CHECK(tu_wait_eq(&env->inflight, 0));

    /* no abort callback: the request outlives its connection until the
     * plugin answers it (into the void) */
    c = tu_connect(env);
    int before = atomic_load(&env->handled);
    CHECK(tu_send(c, "GET /orphan?ms=300 HTTP/1.1\r\nHost: t\r\n\r\n"));
    CHECK(tu_wait_for(&env->inflight, 1));
    tu_close(c);
    CHECK(tu_wait_for(&env->handled, before + 1));
    CHECK(tu_wait_eq(&env->inflight, 0));
    CHECK_INT(atomic_load(&env->aborts), 3);
}

static void test_abort(void **state)
{
    (void)state;
    net_limits l = tu_limits();
    tu_run(&l, sc_abort);
}

/* ---- graceful shutdown --------------------------------------------------------------- */

static void sc_shutdown(tu_env *env)
{
    tu_resp r = {0};
    char v[64];
    tu_conn *idle = tu_connect(env);
    tu_conn *busy = tu_connect(env);
    REQUIRE(idle && busy);
    CHECK(tu_send(idle, "GET /fixed HTTP/1.1\r\nHost: t\r\n\r\n"));
    CHECK(tu_read_resp(idle, &r, false));
    CHECK(tu_send(busy, "GET /async?ms=300 HTTP/1.1\r\nHost: t\r\n\r\n"));
    CHECK(tu_wait_for(&env->inflight, 1));
    tu_request_shutdown(env);
    /* the idle connection closes at once; the request in flight is answered */
    CHECK(tu_closed(idle));
    CHECK(tu_read_resp(busy, &r, false));
    CHECK_STR(r.body, "async");
    CHECK_STR(tu_header(&r, "Connection", v, sizeof v), "close");
    CHECK(tu_closed(busy));
    CHECK(tu_wait_for(&env->shutdown_done, 1));
    tu_resp_free(&r);
    tu_close(idle);
    tu_close(busy);
}

static void test_shutdown(void **state)
{
    (void)state;
    net_limits l = tu_limits();
    tu_run(&l, sc_shutdown);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keepalive),
        cmocka_unit_test(test_pipelining),
        cmocka_unit_test(test_head),
        cmocka_unit_test(test_bodies),
        cmocka_unit_test(test_request_api),
        cmocka_unit_test(test_not_found),
        cmocka_unit_test(test_connection_close),
        cmocka_unit_test(test_stream),
        cmocka_unit_test(test_abort),
        cmocka_unit_test(test_shutdown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
