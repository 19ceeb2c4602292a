/*
 * test_pump.c -- the pump's own paths, against a fake host that runs each
 * piece when the test says so: what the stream tests of its users (the
 * unilogin and statistik plugins) cannot bring about against the real
 * pool: the pool refusing a piece, first or later; a piece the pool
 * cancels, before and after the head; the items' separator and count in
 * the log line; a drain before the head; a client that leaves while the
 * pump waits for a drain.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pump.h"

struct dtr_request {
    int unused;
};

/* The fake host: one request, at most one piece queued on the "pool". */
static struct {
    dtr_request req;
    const char *method;
    bool refuse; /* work_submit answers DTR_ERROR */
    dtr_work_fn work;
    dtr_work_done_fn done;
    void *udata;
    dtr_abort_fn on_abort;
    void *abort_udata;
    dtr_drain_fn on_drain;
    void *drain_udata;
    dtr_status room; /* what stream_write answers */
    int begun_status, problem_status, ended;
    char content_type[64];
    char body[256];
    size_t len;
    char log[256];
} H;

/* The plugin's side: pieces of "a", "b", ... one item each, the last
 * after `pieces`, failing at piece `fail_at` (0: never). */
typedef struct test_ctx {
    int made, pieces, fail_at;
    int released;
} test_ctx;

static dtr_status fake_work_submit(dtr_plugin *self, dtr_work_fn work, dtr_work_done_fn done,
                                   void *udata)
{
    (void)self;
    if (H.refuse) return DTR_ERROR;
    assert_null(H.work); /* one piece in flight at a time */
    H.work = work;
    H.done = done;
    H.udata = udata;
    return DTR_OK;
}

static void fake_log(dtr_plugin *self, dtr_log_level level, const char *fmt, ...)
{
    (void)self;
    (void)level;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(H.log, sizeof H.log, fmt, ap);
    va_end(ap);
}

static const char *fake_req_method(dtr_request *req)
{
    (void)req;
    return H.method;
}

static const char *fake_req_id(dtr_request *req)
{
    (void)req;
    return "r1";
}

static void fake_respond_problem(dtr_request *req, int status, const char *kode, const char *felt,
                                 const char *tekst)
{
    (void)req;
    (void)kode;
    (void)felt;
    (void)tekst;
    H.problem_status = status;
}

static void fake_stream_begin(dtr_request *req, int status, const char *content_type)
{
    (void)req;
    H.begun_status = status;
    snprintf(H.content_type, sizeof H.content_type, "%s", content_type);
}

static dtr_status fake_stream_write(dtr_request *req, const void *data, size_t len)
{
    (void)req;
    assert_true(H.len + len < sizeof H.body);
    memcpy(H.body + H.len, data, len);
    H.len += len;
    return H.room;
}

static void fake_stream_end(dtr_request *req)
{
    (void)req;
    H.ended++;
}

static void fake_on_abort(dtr_request *req, dtr_abort_fn fn, void *udata)
{
    (void)req;
    H.on_abort = fn;
    H.abort_udata = udata;
}

static void fake_on_drain(dtr_request *req, dtr_drain_fn fn, void *udata)
{
    (void)req;
    H.on_drain = fn;
    H.drain_udata = udata;
}

static dtr_host_api fake_api(void)
{
    dtr_host_api a;
    memset(&a, 0, sizeof a);
    a.work_submit = fake_work_submit;
    a.log = fake_log;
    a.req_method = fake_req_method;
    a.req_id = fake_req_id;
    a.respond_problem = fake_respond_problem;
    a.stream_begin = fake_stream_begin;
    a.stream_write = fake_stream_write;
    a.stream_end = fake_stream_end;
    a.req_on_abort = fake_on_abort;
    a.req_on_drain = fake_on_drain;
    return a;
}

/* The piece: "[" first, then one item per piece, "]" after the last. */
static int test_piece(void *ctx, pump *p, bool *last)
{
    test_ctx *t = ctx;
    t->made++;
    if (t->made == t->fail_at) return -1;
    if (t->made == 1 && !pump_put(p, "[", 1)) return -1;
    char item = (char)('a' + t->made - 1);
    if (!pump_put_item(p, ",", &item, 1)) return -1;
    *last = t->made == t->pieces;
    if (*last && !pump_put(p, "]", 1)) return -1;
    return 0;
}

static void test_release(void *ctx)
{
    test_ctx *t = ctx;
    t->released++;
}

static const pump_ops test_ops = {
    .what = "test list", .items = "items", .piece = test_piece, .release = test_release};

/* The "pool" runs the queued piece (unless it cancels it) and the loop its
 * done with status. */
static void run_piece(int status)
{
    assert_non_null(H.work);
    dtr_work_fn work = H.work;
    dtr_work_done_fn done = H.done;
    void *udata = H.udata;
    H.work = NULL;
    if (status == 0) work(udata);
    done(udata, status);
}

static const dtr_host_api *api_fresh(void)
{
    static dtr_host_api api;
    memset(&H, 0, sizeof H);
    H.method = "GET";
    H.room = DTR_OK;
    api = fake_api();
    return &api;
}

/* The answer ended cut short: stream_end once, ctx released once, the
 * log line and the bytes written as expected. */
static void assert_cut_short(const test_ctx *t, const char *log, const char *body)
{
    assert_int_equal(H.ended, 1);
    assert_int_equal(t->released, 1);
    assert_string_equal(H.log, log);
    H.body[H.len] = '\0';
    assert_string_equal(H.body, body);
}

static void test_the_whole_answer_in_pieces(void **state)
{
    (void)state;
    const dtr_host_api *api = api_fresh();
    test_ctx t = {.pieces = 3};
    assert_true(pump_start(api, NULL, &H.req, "text/plain", &test_ops, &t));
    assert_int_equal(H.begun_status, 0); /* the head waits for the first piece */
    H.on_drain(&H.req, H.drain_udata);   /* a drain before the head makes nothing */
    run_piece(0);
    assert_int_equal(H.begun_status, 200);
    assert_string_equal(H.content_type, "text/plain");
    run_piece(0);
    run_piece(0);
    assert_null(H.work);
    assert_int_equal(H.ended, 1);
    assert_int_equal(t.released, 1);
    assert_int_equal(t.made, 3);
    H.body[H.len] = '\0';
    assert_string_equal(H.body, "[a,b,c]"); /* the separator between items only */
    assert_null(H.on_abort);
    assert_null(H.on_drain);
}

static void test_waits_for_the_drain(void **state)
{
    (void)state;
    const dtr_host_api *api = api_fresh();
    test_ctx t = {.pieces = 3};
    H.room = DTR_RETRY;
    assert_true(pump_start(api, NULL, &H.req, "text/plain", &test_ops, &t));
    run_piece(0);
    assert_null(H.work); /* no room: nothing more until the drain */
    H.on_drain(&H.req, H.drain_udata);
    assert_non_null(H.work);
    H.on_drain(&H.req, H.drain_udata); /* a second drain while busy adds nothing */
    run_piece(0);
    /* the client leaves while the pump waits: released at once */
    H.on_abort(&H.req, H.abort_udata);
    assert_int_equal(t.released, 1);
    assert_int_equal(H.ended, 0);
}

static void test_the_pool_refuses(void **state)
{
    (void)state;
    const dtr_host_api *api = api_fresh();
    test_ctx t = {.pieces = 5};
    H.refuse = true;
    /* the first piece: nothing started, nothing taken */
    assert_false(pump_start(api, NULL, &H.req, "text/plain", &test_ops, &t));
    assert_null(H.on_abort);
    assert_null(H.on_drain);
    assert_int_equal(t.released, 0);
    assert_int_equal(H.begun_status, 0);

    /* a later piece: the answer ends cut short, logged with the count */
    H.refuse = false;
    assert_true(pump_start(api, NULL, &H.req, "text/plain", &test_ops, &t));
    run_piece(0);
    H.refuse = true;
    run_piece(0);
    assert_cut_short(&t, "test list r1 cut short after 2 items: the work queue refused the read",
                     "[a,b");
}

static void test_cancelled_or_failed_pieces(void **state)
{
    (void)state;
    /* cancelled before the head: 503, no stream */
    const dtr_host_api *api = api_fresh();
    test_ctx t = {.pieces = 3};
    assert_true(pump_start(api, NULL, &H.req, "text/plain", &test_ops, &t));
    run_piece(1);
    assert_int_equal(H.problem_status, 503);
    assert_int_equal(H.begun_status, 0);
    assert_int_equal(t.released, 1);
    assert_null(H.on_abort);

    /* cancelled after it: cut short, logged */
    api = api_fresh();
    t = (test_ctx){.pieces = 3};
    assert_true(pump_start(api, NULL, &H.req, "text/plain", &test_ops, &t));
    run_piece(0);
    run_piece(1);
    assert_cut_short(&t, "test list r1 cut short after 1 items: the read was cancelled", "[a");

    /* a failed read after it: cut short, its bytes dropped */
    api = api_fresh();
    t = (test_ctx){.pieces = 4, .fail_at = 3};
    assert_true(pump_start(api, NULL, &H.req, "text/plain", &test_ops, &t));
    run_piece(0);
    run_piece(0);
    run_piece(0);
    assert_cut_short(&t, "test list r1 cut short after 2 items: the register could not be read",
                     "[a,b");
}

static void test_head_and_a_client_gone_mid_piece(void **state)
{
    (void)state;
    /* HEAD: the first piece is made, then the head alone */
    const dtr_host_api *api = api_fresh();
    test_ctx t = {.pieces = 3};
    H.method = "HEAD";
    assert_true(pump_start(api, NULL, &H.req, "text/plain", &test_ops, &t));
    run_piece(0);
    assert_int_equal(t.made, 1);
    assert_int_equal(H.begun_status, 200);
    assert_int_equal(H.len, 0);
    assert_int_equal(H.ended, 1);
    assert_int_equal(t.released, 1);

    /* the client leaves while a piece is on the pool: released when it
     * comes back, nothing written */
    api = api_fresh();
    t = (test_ctx){.pieces = 3};
    assert_true(pump_start(api, NULL, &H.req, "text/plain", &test_ops, &t));
    H.on_abort(&H.req, H.abort_udata);
    assert_int_equal(t.released, 0);
    run_piece(0);
    assert_int_equal(t.released, 1);
    assert_int_equal(H.begun_status, 0);
    assert_int_equal(H.problem_status, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_whole_answer_in_pieces),
        cmocka_unit_test(test_waits_for_the_drain),
        cmocka_unit_test(test_the_pool_refuses),
        cmocka_unit_test(test_cancelled_or_failed_pieces),
        cmocka_unit_test(test_head_and_a_client_gone_mid_piece),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
