/*
 * test_feed.c -- the change feed against a real store in a temporary
 * directory, on a libuv loop of the test's own: where a new consumer
 * starts, order and batching, one batch outstanding, durable cursors and
 * resuming after a reopen, retries with backoff, independent consumers,
 * resubscription (a reload), timed "nedlagt" hændelser and the lag.
 */
#include "test_store_fixture.h"

#include "feed/feed.h"

/* ---- the fixture: store + feed on the test's loop -------------------------- */

typedef struct ffix {
    tfix *t;
    uv_loop_t loop;
    feed *feed;
    feed_options opt;
    bool timed_out;
    uv_timer_t watchdog;
} ffix;

static void ffix_open(ffix *x)
{
    char err[256];
    store_options so = {.data_dir = x->t->dir,
                        .audit_key = x->t->key,
                        .loop = &x->loop,
                        .clock = fix_clock,
                        .clock_udata = x->t,
                        .log = fix_quiet_log};
    if (store_open(&so, &x->t->s, err, sizeof err) != 0) fail_msg("store_open: %s", err);
    x->t->r = store_reader_open(x->t->s, err, sizeof err);
    if (!x->t->r) fail_msg("store_reader_open: %s", err);
    x->opt.loop = &x->loop;
    x->opt.store = x->t->s;
    x->feed = feed_new(&x->opt, err, sizeof err);
    if (!x->feed) fail_msg("feed_new: %s", err);
}

static void ffix_feed_closed(void *udata)
{
    *(bool *)udata = true;
}

/* Closes the feed (running the loop until it is gone), then the store. */
static void ffix_close(ffix *x)
{
    bool closed = false;
    feed_close(x->feed, ffix_feed_closed, &closed);
    while (!closed)
        uv_run(&x->loop, UV_RUN_ONCE);
    x->feed = NULL;
    store_reader_close(x->t->r);
    x->t->r = NULL;
    store_close(x->t->s);
    x->t->s = NULL;
    uv_run(&x->loop, UV_RUN_NOWAIT);
}

static void ffix_quiet_log(void *udata, int level, const char *msg)
{
    (void)udata;
    if (getenv("FEED_TEST_LOG")) fprintf(stderr, "feed[%d]: %s\n", level, msg);
}

static int setup(void **state)
{
    ffix *x = calloc(1, sizeof *x);
    x->t = fix_new("test_feed");
    uv_loop_init(&x->loop);
    uv_timer_init(&x->loop, &x->watchdog);
    x->watchdog.data = x;
    uv_unref((uv_handle_t *)&x->watchdog);
    x->opt.retry_min_ms = 10;
    x->opt.retry_max_ms = 40;
    x->opt.log = ffix_quiet_log;
    ffix_open(x);
    *state = x;
    return 0;
}

static int teardown(void **state)
{
    ffix *x = *state;
    if (x->feed) ffix_close(x);
    uv_close((uv_handle_t *)&x->watchdog, NULL);
    uv_run(&x->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&x->loop), 0);
    fix_free(x->t);
    free(x);
    return 0;
}

static void watchdog_fired(uv_timer_t *t)
{
    ((ffix *)t->data)->timed_out = true;
}

/* Runs the loop until *flag becomes true (120 s at most, then the test
 * fails: a hang is a failure, never a pass). */
#define RUN_UNTIL(x, cond)                                                                         \
    do {                                                                                           \
        (x)->timed_out = false;                                                                    \
        uv_timer_start(&(x)->watchdog, watchdog_fired, 120000, 0);                                 \
        while (!(cond) && !(x)->timed_out)                                                         \
            uv_run(&(x)->loop, UV_RUN_ONCE);                                                       \
        uv_timer_stop(&(x)->watchdog);                                                             \
        if (!(cond)) fail_msg("timed out waiting for: %s", #cond);                                 \
    } while (0)

static void cmd_cb(const store_result *res, void *udata)
{
    answer_cb(res, udata);
}

/* Runs a command through the host-loop store; steals body. */
static answer run(ffix *x, reg_op op, reg_level level, const char *nummer, json_t *body)
{
    answer a;
    memset(&a, 0, sizeof a);
    store_command cmd = {.op = op,
                         .level = level,
                         .nummer = nummer,
                         .body = body,
                         .actor = actor_support(),
                         .request_id = "req"};
    if (store_submit(x->t->s, &cmd, cmd_cb, &a) != 0) fail_msg("store_submit refused");
    RUN_UNTIL(x, a.called);
    json_decref(body);
    return a;
}

/* Creates a daginstitution (one hændelse); returns its sekvensnummer. */
static int64_t make_event(ffix *x, char nummer[7])
{
    answer a = run(x, REG_OP_CREATE, REG_DAGINSTITUTION, NULL, di_body("Solsikken", 101, 1, 1));
    if (a.status != 0) fail_msg("create refused: %d", a.status);
    if (nummer) memcpy(nummer, a.primary, 7);
    int64_t seq = a.seq_last;
    answer_clear(&a);
    return seq;
}

static void make_events(ffix *x, int n)
{
    for (int i = 0; i < n; i++)
        make_event(x, NULL);
}

/* ---- a test consumer ---------------------------------------------------------- */

typedef enum tmode { ACK_ALL, HOLD, RETRY_N, ACK_FIRST } tmode;

typedef struct tcons {
    ffix *x;
    feed_consumer *c;
    tmode mode;
    int retries_left;
    int calls;
    int64_t seen[256]; /* every sekvensnummer delivered, in delivery order */
    size_t nseen;
    int64_t first[64], last[64]; /* per batch */
    uint64_t at_ms[64];          /* uv_now at each delivery */
    const json_t *held;          /* HOLD: the batch not answered yet */
    char ops[64][12];            /* operation of each hændelse delivered */
} tcons;

static int64_t ev_seq(const json_t *ev)
{
    return json_integer_value(json_object_get(ev, "sekvensnummer"));
}

static void tcons_consume(void *udata, const json_t *events)
{
    tcons *t = udata;
    size_t n = json_array_size(events);
    assert_true(n > 0);
    int b = t->calls++;
    assert_true(b < 64);
    t->first[b] = ev_seq(json_array_get(events, 0));
    t->last[b] = ev_seq(json_array_get(events, n - 1));
    t->at_ms[b] = uv_now(&t->x->loop);
    for (size_t i = 0; i < n && t->nseen < 256; i++) {
        const json_t *ev = json_array_get(events, i);
        if (t->nseen < 64)
            snprintf(t->ops[t->nseen], sizeof t->ops[0], "%s",
                     json_string_value(json_object_get(ev, "operation")));
        t->seen[t->nseen++] = ev_seq(ev);
    }
    switch (t->mode) {
    case ACK_ALL:
        feed_consumer_done(t->c, t->last[b], 0);
        break;
    case ACK_FIRST:
        feed_consumer_done(t->c, t->first[b], 0);
        break;
    case RETRY_N:
        if (t->retries_left > 0) {
            t->retries_left--;
            feed_consumer_done(t->c, 0, 2 /* DTR_RETRY */);
        } else {
            feed_consumer_done(t->c, t->last[b], 0);
        }
        break;
    case HOLD:
        t->held = events;
        break;
    }
}

static void tcons_subscribe(ffix *x, tcons *t, const char *name, int64_t start_at, tmode mode)
{
    char err[256];
    t->x = x;
    t->mode = mode;
    t->c = feed_subscribe(x->feed, name, start_at, tcons_consume, t, err, sizeof err);
    if (!t->c) fail_msg("feed_subscribe: %s", err);
}

typedef struct info_probe {
    const char *name;
    feed_consumer_info info;
    bool found;
} info_probe;

static void probe_cb(void *udata, const feed_consumer_info *info)
{
    info_probe *p = udata;
    if (strcmp(info->name, p->name) != 0) return;
    p->info = *info;
    p->found = true;
}

static feed_consumer_info consumer_info(ffix *x, const char *name)
{
    info_probe p = {.name = name};
    feed_each_consumer(x->feed, probe_cb, &p);
    if (!p.found) fail_msg("no consumer %s", name);
    return p.info;
}

static int64_t stored_cursor(ffix *x, const char *name)
{
    int64_t seq = -1;
    int rc = store_cursor_get(x->t->r, name, &seq);
    return rc == 0 ? seq : -rc;
}

/* A barrier for asserting that a consumer was NOT given a batch: every read
 * the feed queued on the pool before this call has been delivered when it
 * returns. The pool has one thread (main sets UV_THREADPOOL_SIZE=1), so
 * reads run and come back in the order they were queued: a fresh consumer
 * reading from the first hændelse queues its read last, and once its batch
 * has arrived, any batch the feed wrongly started for another consumer
 * before it has arrived too. Needs at least one hændelse in the store. */
static void barrier(ffix *x)
{
    static int k;
    char name[32];
    snprintf(name, sizeof name, "barrier-%d", k++);
    tcons b = {0};
    tcons_subscribe(x, &b, name, 0, ACK_ALL);
    RUN_UNTIL(x, b.calls >= 1);
    feed_unsubscribe(b.c);
}

/* ---- where a consumer starts ----------------------------------------------------- */

static void test_new_consumer_starts_after_newest(void **state)
{
    ffix *x = *state;
    make_events(x, 3);
    tcons t = {0};
    tcons_subscribe(x, &t, "unilogin", -1, ACK_ALL);
    /* the starting point is stored at once */
    RUN_UNTIL(x, stored_cursor(x, "unilogin") == 3);
    barrier(x);
    assert_int_equal(t.calls, 0);
    make_events(x, 2);
    RUN_UNTIL(x, t.nseen == 2);
    assert_int_equal(t.seen[0], 4);
    assert_int_equal(t.seen[1], 5);
    RUN_UNTIL(x, stored_cursor(x, "unilogin") == 5);
    /* the store's answer to the cursor write reaches the feed a loop turn
     * after the commit a reader already sees */
    RUN_UNTIL(x, consumer_info(x, "unilogin").durable == 5);
    feed_consumer_info info = consumer_info(x, "unilogin");
    assert_int_equal(info.position, 5);
    assert_int_equal(info.durable, 5);
    assert_int_equal(info.lag, 0);
    feed_unsubscribe(t.c);
}

static void test_fra_replays_from_that_sekvensnummer(void **state)
{
    ffix *x = *state;
    make_events(x, 5);
    tcons t = {0};
    tcons_subscribe(x, &t, "statistik", 2, ACK_ALL);
    RUN_UNTIL(x, t.nseen == 4);
    for (int i = 0; i < 4; i++)
        assert_int_equal(t.seen[i], 2 + i);
    RUN_UNTIL(x, stored_cursor(x, "statistik") == 5);
    feed_unsubscribe(t.c);

    /* fra 0 means from the first hændelse; a stored cursor wins over fra */
    tcons all = {0};
    tcons_subscribe(x, &all, "fra-nul", 0, ACK_ALL);
    RUN_UNTIL(x, all.nseen == 5);
    assert_int_equal(all.seen[0], 1);
    RUN_UNTIL(x, stored_cursor(x, "fra-nul") == 5);
    feed_unsubscribe(all.c);
    ffix_close(x);
    ffix_open(x);
    tcons again = {0};
    tcons_subscribe(x, &again, "fra-nul", 1, ACK_ALL);
    barrier(x);
    assert_int_equal(again.calls, 0);
    feed_unsubscribe(again.c);
}

/* ---- order, batches, one outstanding -------------------------------------------------- */

static void test_batches_in_order_and_bounded(void **state)
{
    ffix *x = *state;
    ffix_close(x);
    x->opt.batch_max = 2;
    ffix_open(x);
    make_events(x, 5);
    tcons t = {0};
    tcons_subscribe(x, &t, "c", 1, ACK_ALL);
    RUN_UNTIL(x, t.nseen == 5);
    assert_int_equal(t.calls, 3);
    assert_int_equal(t.first[0], 1);
    assert_int_equal(t.last[0], 2);
    assert_int_equal(t.first[1], 3);
    assert_int_equal(t.last[1], 4);
    assert_int_equal(t.first[2], 5);
    assert_int_equal(t.last[2], 5);
    for (size_t i = 0; i < t.nseen; i++)
        assert_int_equal(t.seen[i], (int64_t)i + 1);
    feed_unsubscribe(t.c);
}

static void test_one_batch_outstanding(void **state)
{
    ffix *x = *state;
    tcons t = {0};
    tcons_subscribe(x, &t, "slow", -1, HOLD);
    make_event(x, NULL);
    RUN_UNTIL(x, t.calls == 1);
    make_events(x, 3);
    barrier(x);
    assert_int_equal(t.calls, 1); /* nothing more while the batch is unanswered */
    assert_int_equal(consumer_info(x, "slow").lag, 4);
    t.mode = ACK_ALL;
    feed_consumer_done(t.c, t.last[0], 0);
    RUN_UNTIL(x, t.calls == 2);
    assert_int_equal(t.first[1], 2);
    assert_int_equal(t.last[1], 4);
    /* a second answer to the same batch is ignored */
    feed_consumer_done(t.c, 4, 0);
    RUN_UNTIL(x, stored_cursor(x, "slow") == 4);
    assert_int_equal(consumer_info(x, "slow").lag, 0);
    feed_unsubscribe(t.c);
}

static void test_partial_ack_continues_after_it(void **state)
{
    ffix *x = *state;
    make_events(x, 3);
    tcons t = {0};
    tcons_subscribe(x, &t, "part", 1, ACK_FIRST);
    RUN_UNTIL(x, t.calls == 3);
    /* 1..3, then 2..3, then 3 */
    assert_int_equal(t.first[0], 1);
    assert_int_equal(t.first[1], 2);
    assert_int_equal(t.first[2], 3);
    assert_int_equal(t.last[2], 3);
    RUN_UNTIL(x, stored_cursor(x, "part") == 3);
    feed_unsubscribe(t.c);
}

/* ---- durability ------------------------------------------------------------------------ */

static void test_resume_after_reopen(void **state)
{
    ffix *x = *state;
    make_events(x, 5);
    tcons t = {0};
    tcons_subscribe(x, &t, "durable", 1, HOLD);
    RUN_UNTIL(x, t.calls == 1);
    assert_int_equal(t.last[0], 5);
    /* handled up to 3 only, then the process "stops" */
    feed_consumer_done(t.c, 3, 0);
    RUN_UNTIL(x, stored_cursor(x, "durable") == 3);
    feed_unsubscribe(t.c);
    ffix_close(x);

    ffix_open(x);
    make_event(x, NULL); /* 6 */
    tcons again = {0};
    tcons_subscribe(x, &again, "durable", -1, ACK_ALL);
    RUN_UNTIL(x, again.nseen == 3);
    assert_int_equal(again.seen[0], 4);
    assert_int_equal(again.seen[1], 5);
    assert_int_equal(again.seen[2], 6);
    RUN_UNTIL(x, stored_cursor(x, "durable") == 6);
    feed_unsubscribe(again.c);
}

static void test_unanswered_batch_comes_again_after_restart(void **state)
{
    ffix *x = *state;
    tcons t = {0};
    tcons_subscribe(x, &t, "crash", -1, HOLD);
    RUN_UNTIL(x, stored_cursor(x, "crash") == 0);
    make_events(x, 2);
    RUN_UNTIL(x, t.calls == 1);
    /* no answer: a crash now must lose nothing */
    feed_unsubscribe(t.c);
    ffix_close(x);
    ffix_open(x);
    tcons again = {0};
    tcons_subscribe(x, &again, "crash", -1, ACK_ALL);
    RUN_UNTIL(x, again.nseen == 2);
    assert_int_equal(again.seen[0], 1);
    assert_int_equal(again.seen[1], 2);
    feed_unsubscribe(again.c);
}

/* ---- failures ---------------------------------------------------------------------------- */

static void test_retry_backs_off_and_redelivers(void **state)
{
    ffix *x = *state;
    tcons t = {0};
    tcons_subscribe(x, &t, "flaky", -1, RETRY_N);
    t.retries_left = 4;
    make_events(x, 2);
    RUN_UNTIL(x, t.calls == 5);
    /* the same hændelser each time, from the cursor */
    for (int i = 0; i < 5; i++)
        assert_int_equal(t.first[i], 1);
    /* each pause at least the backoff: 10, 20, 40, then capped at 40 ms */
    assert_true(t.at_ms[1] - t.at_ms[0] >= 10);
    assert_true(t.at_ms[2] - t.at_ms[1] >= 20);
    assert_true(t.at_ms[3] - t.at_ms[2] >= 40);
    assert_true(t.at_ms[4] - t.at_ms[3] >= 40);
    RUN_UNTIL(x, stored_cursor(x, "flaky") == 2);
    assert_int_equal(consumer_info(x, "flaky").failures, 0);
    /* after success no backoff remains: the next commit is delivered */
    make_event(x, NULL);
    RUN_UNTIL(x, t.calls == 6);
    assert_int_equal(t.first[5], 3);
    feed_unsubscribe(t.c);
}

static void test_ack_before_the_batch_is_a_retry(void **state)
{
    ffix *x = *state;
    tcons t = {0};
    tcons_subscribe(x, &t, "confused", -1, HOLD);
    make_events(x, 2);
    RUN_UNTIL(x, t.calls == 1);
    feed_consumer_done(t.c, 0, 0);
    assert_int_equal(consumer_info(x, "confused").failures, 1);
    RUN_UNTIL(x, t.calls == 2);
    assert_int_equal(t.first[1], 1);
    feed_consumer_done(t.c, 99, 0); /* beyond anything committed: clamped to the newest */
    assert_int_equal(consumer_info(x, "confused").position, 2);
    feed_unsubscribe(t.c);
}

static void test_ack_past_the_batch_coalesces(void **state)
{
    ffix *x = *state;
    make_events(x, 2);
    tcons t = {0};
    tcons_subscribe(x, &t, "coalescing", 1, HOLD);
    RUN_UNTIL(x, t.calls == 1);
    assert_int_equal(t.last[0], 2);
    make_events(x, 3); /* 3..5 committed while the batch is held */
    /* the consumer read on by itself and handled up to 4 */
    feed_consumer_done(t.c, 4, 0);
    assert_int_equal(consumer_info(x, "coalescing").position, 4);
    RUN_UNTIL(x, t.calls == 2);
    assert_int_equal(t.first[1], 5);
    assert_int_equal(t.last[1], 5);
    feed_consumer_done(t.c, 5, 0);
    RUN_UNTIL(x, stored_cursor(x, "coalescing") == 5);
    feed_unsubscribe(t.c);
}

static void test_consumers_are_independent(void **state)
{
    ffix *x = *state;
    tcons stuck = {0}, failing = {0}, fine = {0};
    tcons_subscribe(x, &stuck, "stuck", -1, HOLD);
    tcons_subscribe(x, &failing, "failing", -1, RETRY_N);
    failing.retries_left = 1000;
    tcons_subscribe(x, &fine, "fine", -1, ACK_ALL);
    for (int i = 0; i < 4; i++) {
        make_event(x, NULL);
        RUN_UNTIL(x, fine.nseen == (size_t)i + 1);
    }
    /* fine got everything while the others hold or fail; they get their
     * first batch in their own time (their reads run on the pool) */
    RUN_UNTIL(x, stuck.calls == 1);
    RUN_UNTIL(x, consumer_info(x, "failing").failures >= 1);
    assert_int_equal(stuck.calls, 1);
    assert_int_equal(consumer_info(x, "stuck").lag, 4);
    assert_int_equal(consumer_info(x, "fine").lag, 0);
    for (int i = 0; i < 4; i++)
        assert_int_equal(fine.seen[i], i + 1);
    feed_unsubscribe(stuck.c);
    feed_unsubscribe(failing.c);
    feed_unsubscribe(fine.c);
}

/* ---- subscriptions across a reload --------------------------------------------------------- */

static void test_resubscription_takes_over(void **state)
{
    ffix *x = *state;
    tcons old = {0}, young = {0};
    make_events(x, 2);
    tcons_subscribe(x, &old, "portal", 1, HOLD);
    RUN_UNTIL(x, old.calls == 1);
    assert_int_equal(old.last[0], 2);
    /* the new instance subscribes while the old one still holds a batch */
    tcons_subscribe(x, &young, "portal", -1, ACK_ALL);
    make_event(x, NULL);
    barrier(x);
    assert_int_equal(young.calls, 0);
    /* the old instance answers its batch; the rest goes to the new one */
    feed_consumer_done(old.c, old.last[0], 0);
    RUN_UNTIL(x, young.nseen == 1);
    assert_int_equal(young.seen[0], 3);
    feed_unsubscribe(old.c);

    /* a subscription that goes away unanswered: the batch comes again */
    young.mode = HOLD;
    make_event(x, NULL);
    RUN_UNTIL(x, young.calls == 2);
    tcons third = {0};
    tcons_subscribe(x, &third, "portal", -1, ACK_ALL);
    feed_unsubscribe(young.c);
    RUN_UNTIL(x, third.nseen == 1);
    assert_int_equal(third.seen[0], 4);
    feed_unsubscribe(third.c);
}

/* ---- timed changes -------------------------------------------------------------------------- */

static void tick_cb(const store_result *res, void *udata)
{
    answer_cb(res, udata);
}

static void test_timed_nedlagt_is_delivered(void **state)
{
    ffix *x = *state;
    char di[7], ae[7];
    make_event(x, di);
    answer a =
        run(x, REG_OP_CREATE, REG_ANVISNINGSENHED, NULL, ae_body(di, "Mariehønen", 6011, 101));
    assert_int_equal(a.status, 0);
    memcpy(ae, a.primary, 7);
    answer_clear(&a);
    tcons t = {0};
    tcons_subscribe(x, &t, "timed", -1, ACK_ALL);
    a = run(x, REG_OP_CLOSE, REG_ANVISNINGSENHED, ae,
            json_pack("{s:s}", "virkningTil", "2026-04-01"));
    assert_int_equal(a.status, 0);
    answer_clear(&a);
    RUN_UNTIL(x, t.nseen == 1);
    assert_string_equal(t.ops[0], "aendret");
    x->t->now_ms = day_ms("2026-04-02");
    answer tick;
    memset(&tick, 0, sizeof tick);
    assert_int_equal(store_tick(x->t->s, tick_cb, &tick), 0);
    RUN_UNTIL(x, tick.called);
    answer_clear(&tick);
    RUN_UNTIL(x, t.nseen == 2);
    assert_string_equal(t.ops[1], "nedlagt");
    feed_unsubscribe(t.c);
}

/* ---- closing with work in flight
 * ----------------------------------------------------------------- */

static void test_close_with_batch_and_reads_in_flight(void **state)
{
    ffix *x = *state;
    tcons held = {0}, reading = {0};
    tcons_subscribe(x, &held, "held", -1, HOLD);
    make_event(x, NULL);
    RUN_UNTIL(x, held.calls == 1);
    tcons_subscribe(x, &reading, "reading", 1, ACK_ALL); /* a read is queued now */
    ffix_close(x); /* must wait for it and free everything (ASan checks) */
    ffix_open(x);
    assert_int_equal(feed_newest(x->feed), 1);
}

int main(void)
{
    /* barrier() relies on reads on the pool finishing in the order queued */
    setenv("UV_THREADPOOL_SIZE", "1", 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_new_consumer_starts_after_newest, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fra_replays_from_that_sekvensnummer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batches_in_order_and_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_one_batch_outstanding, setup, teardown),
        cmocka_unit_test_setup_teardown(test_partial_ack_continues_after_it, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resume_after_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unanswered_batch_comes_again_after_restart, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_retry_backs_off_and_redelivers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ack_before_the_batch_is_a_retry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ack_past_the_batch_coalesces, setup, teardown),
        cmocka_unit_test_setup_teardown(test_consumers_are_independent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resubscription_takes_over, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timed_nedlagt_is_delivered, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_with_batch_and_reads_in_flight, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
