/*
 * test_portal_delivery.c -- webhooks end to end inside one process: the
 * plugin on a fake host sends real HTTP (libcurl on the loop) to a
 * receiver on loopback. In order, signed, retried with the same id,
 * parked after the last try and replayed, a slow subscriber beside a fast
 * one, timeouts and refused connections, a subscriber behind the window,
 * a restart in the middle of delivery, and consume_done only once the
 * queue is on disk.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "fake_host.h"
#include "portal.h"
#include "receiver.h"

#define WAIT_MS 20000 /* an upper bound only: nothing asserts speed */

/* ---- helpers ------------------------------------------------------------------------ */

typedef struct count_wait {
    receiver *r;
    size_t n;
} count_wait;

static bool has_count(void *udata)
{
    count_wait *w = udata;
    return receiver_count(w->r) >= w->n;
}

static void wait_hits(fake_host *h, receiver *r, size_t n)
{
    count_wait w = {r, n};
    if (!fake_run_until(h, has_count, &w, WAIT_MS))
        fail_msg("the receiver got %zu requests, expected %zu", receiver_count(r), n);
}

static bool done_called(void *udata)
{
    return ((fake_host *)udata)->done_calls > 0;
}

static void add_events(fake_host *h, int n)
{
    for (int i = 0; i < n; i++) {
        char nummer[16];
        snprintf(nummer, sizeof nummer, "G%05d", (int)(h->latest + 1) % 100000);
        fake_add_event(h, i % 2 ? "aendret" : "oprettet", "anvisningsenhed", nummer);
    }
}

/* The state file as JSON (NULL when it is not there). */
static json_t *state_file(fake_host *h)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/portal/webhooks.json", h->data_dir);
    return json_load_file(path, 0, NULL);
}

/* Verifies a hit's Standard Webhooks signature with the host's public key. */
static void assert_signed(fake_host *h, const recv_hit *hit)
{
    assert_int_equal(strncmp(hit->signature, "v1a,", 4), 0);
    unsigned char sig[64];
    size_t siglen = 0;
    assert_int_equal(sodium_base642bin(sig, sizeof sig, hit->signature + 4,
                                       strlen(hit->signature + 4), NULL, &siglen, NULL,
                                       sodium_base64_VARIANT_ORIGINAL),
                     0);
    assert_int_equal(siglen, 64);
    char msg[1024];
    int n = snprintf(msg, sizeof msg, "%s.%s.%s", hit->id, hit->timestamp, hit->body);
    assert_int_equal(crypto_sign_verify_detached(sig, (unsigned char *)msg, (size_t)n, h->pk), 0);
    /* a tampered body does not verify */
    msg[n - 2] ^= 1;
    assert_int_not_equal(crypto_sign_verify_detached(sig, (unsigned char *)msg, (size_t)n, h->pk),
                         0);
}

static void *start_plugin(fake_host *h, const char *config)
{
    char err[256] = "";
    void *p = fake_plugin_init(h, config, err, sizeof err);
    if (!p) fail_msg("init: %s", err);
    assert_int_equal(fake_plugin_start(h, p), 0);
    return p;
}

static void *start_with(fake_host *h, const receiver *r, const char *extra)
{
    char config[1024];
    snprintf(config, sizeof config, "{\"webhooks\": [{\"url\": \"%s\"}]%s%s}", receiver_url(r),
             extra ? ", " : "", extra ? extra : "");
    return start_plugin(h, config);
}

/* ---- tests ------------------------------------------------------------------------------ */

static void delivers_in_order_signed(void **state)
{
    (void)state;
    fake_host *h = fake_host_new();
    receiver *r = receiver_new(&h->loop, recv_always_ok, NULL);
    void *p = start_with(h, r, NULL);
    add_events(h, 3);
    fake_consume(h, p, 1, 3);
    wait_hits(h, r, 3);
    assert_true(fake_run_until(h, done_called, h, WAIT_MS));
    assert_int_equal(h->done_up_to, 3);
    assert_int_equal(h->done_status, DTR_OK);
    for (size_t i = 0; i < 3; i++) {
        const recv_hit *hit = receiver_hit(r, i);
        char id[32], body[512];
        snprintf(id, sizeof id, "dtr-%zu", i + 1);
        snprintf(body, sizeof body,
                 "{\"sekvensnummer\":%zu,\"operation\":\"%s\",\"entitet\":\"anvisningsenhed\","
                 "\"nummer\":\"G%05zu\"}",
                 i + 1, i % 2 ? "aendret" : "oprettet", i + 1);
        assert_string_equal(hit->id, id);
        assert_string_equal(hit->body, body);
        assert_string_equal(hit->content_type, "application/json");
        assert_true(strtoll(hit->timestamp, NULL, 10) > 1700000000);
        assert_signed(h, hit);
    }
    fake_plugin_stop_free(h, p);
    json_t *st = state_file(h);
    assert_non_null(st);
    assert_int_equal(json_integer_value(json_object_get(st, "queuedUpTo")), 3);
    json_t *sub = json_array_get(json_object_get(st, "subscribers"), 0);
    assert_int_equal(json_integer_value(json_object_get(sub, "position")), 3);
    json_decref(st);
    receiver_close(r);
    fake_host_free(h);
}

/* Fails the first two attempts of every event: once with 500, once by
 * closing the connection. */
static int fail_twice(receiver *r, const recv_hit *hit, size_t n, void *udata)
{
    (void)n;
    (void)udata;
    size_t seen = 0;
    for (size_t i = 0; i < receiver_count(r); i++)
        if (strcmp(receiver_hit(r, i)->id, hit->id) == 0) seen++;
    return seen == 1 ? 500 : seen == 2 ? RECV_CLOSE : 204;
}

static void retries_with_same_id(void **state)
{
    (void)state;
    fake_host *h = fake_host_new();
    receiver *r = receiver_new(&h->loop, fail_twice, NULL);
    void *p = start_with(h, r, "\"retry_ms\": [10, 20]");
    add_events(h, 3);
    fake_consume(h, p, 1, 3);
    wait_hits(h, r, 9);
    fake_run_for(h, 100);
    assert_int_equal(receiver_count(r), 9); /* nothing more: each delivered once */
    for (size_t i = 0; i < 9; i++) {
        char id[32];
        snprintf(id, sizeof id, "dtr-%zu", i / 3 + 1);
        assert_string_equal(receiver_hit(r, i)->id, id); /* in order, the same id on retries */
        assert_int_equal(receiver_hit(r, i)->answered, i % 3 == 0   ? 500
                                                       : i % 3 == 1 ? RECV_CLOSE
                                                                    : 204);
        assert_signed(h, receiver_hit(r, i));
    }
    fake_plugin_stop_free(h, p);
    receiver_close(r);
    fake_host_free(h);
}

static int fail_while(receiver *r, const recv_hit *hit, size_t n, void *udata)
{
    (void)r;
    (void)hit;
    (void)n;
    return *(int *)udata ? 503 : 200;
}

static json_t *listing(fake_host *h)
{
    static const char *const admin[] = {"Authorization", "Basic admin", NULL};
    fake_response *resp = fake_call(h, "GET", "/v1/portal/webhooks", admin, NULL);
    assert_int_equal(resp->status, 200);
    json_t *j = json_incref(resp->json);
    fake_response_free(resp);
    return j;
}

static void parks_then_replays(void **state)
{
    (void)state;
    fake_host *h = fake_host_new();
    int failing = 1;
    receiver *r = receiver_new(&h->loop, fail_while, &failing);
    void *p = start_with(h, r, "\"retry_ms\": [5, 5]");
    add_events(h, 2);
    fake_consume(h, p, 1, 2);
    wait_hits(h, r, 6); /* 3 attempts each, then parked */
    fake_run_for(h, 50);
    assert_int_equal(receiver_count(r), 6);

    json_t *list = listing(h);
    json_t *sub = json_array_get(json_object_get(list, "subscribers"), 0);
    assert_string_equal(json_string_value(json_object_get(sub, "url")), receiver_url(r));
    assert_int_equal(json_integer_value(json_object_get(sub, "position")), 2);
    assert_true(json_is_null(json_object_get(sub, "inFlight")));
    json_t *parked = json_object_get(sub, "parked");
    assert_int_equal(json_array_size(parked), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(parked, 0), "id")),
                        "dtr-1");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(parked, 0), "attempts")), 3);
    assert_non_null(
        strstr(json_string_value(json_object_get(json_array_get(parked, 0), "lastError")), "503"));
    json_decref(list);

    failing = 0;
    static const char *const admin_json[] = {"Authorization", "Basic admin", "Content-Type",
                                             "application/json", NULL};
    fake_response *resp =
        fake_call(h, "POST", "/v1/portal/webhooks/replay", admin_json, "{\"ids\": [\"dtr-1\"]}");
    assert_int_equal(resp->status, 202);
    assert_int_equal(json_array_size(json_object_get(resp->json, "queued")), 1);
    fake_response_free(resp);
    wait_hits(h, r, 7);
    assert_string_equal(receiver_hit(r, 6)->id, "dtr-1");
    assert_signed(h, receiver_hit(r, 6));

    resp = fake_call(h, "POST", "/v1/portal/webhooks/replay", admin_json, "{}");
    assert_int_equal(resp->status, 202);
    assert_int_equal(json_array_size(json_object_get(resp->json, "queued")), 1);
    fake_response_free(resp);
    wait_hits(h, r, 8);
    assert_string_equal(receiver_hit(r, 7)->id, "dtr-2");
    fake_run_for(h, 20);
    list = listing(h);
    sub = json_array_get(json_object_get(list, "subscribers"), 0);
    assert_int_equal(json_array_size(json_object_get(sub, "parked")), 0);
    json_decref(list);

    /* the normal flow goes on after the replays */
    add_events(h, 1);
    fake_consume(h, p, 3, 3);
    wait_hits(h, r, 9);
    assert_string_equal(receiver_hit(r, 8)->id, "dtr-3");
    fake_plugin_stop_free(h, p);
    receiver_close(r);
    fake_host_free(h);
}

static int hang(receiver *r, const recv_hit *hit, size_t n, void *udata)
{
    (void)r;
    (void)hit;
    (void)n;
    (void)udata;
    return RECV_HANG;
}

static void slow_subscriber_does_not_block(void **state)
{
    (void)state;
    fake_host *h = fake_host_new();
    receiver *slow = receiver_new(&h->loop, hang, NULL);
    receiver *fast = receiver_new(&h->loop, recv_always_ok, NULL);
    char config[512];
    snprintf(config, sizeof config,
             "{\"webhooks\": [{\"url\": \"%s\"}, {\"url\": \"%s\"}], \"timeout_ms\": 60000}",
             receiver_url(slow), receiver_url(fast));
    void *p = start_plugin(h, config);
    add_events(h, 5);
    fake_consume(h, p, 1, 5);
    wait_hits(h, fast, 5);
    assert_int_equal(receiver_count(slow), 1);
    json_t *list = listing(h);
    json_t *sub = json_array_get(json_object_get(list, "subscribers"), 0);
    json_t *in_flight = json_object_get(sub, "inFlight");
    assert_string_equal(json_string_value(json_object_get(in_flight, "id")), "dtr-1");
    assert_int_equal(json_integer_value(json_object_get(in_flight, "attempts")), 1);
    assert_int_equal(json_integer_value(json_object_get(sub, "pending")), 5);
    json_decref(list);
    fake_plugin_stop_free(h, p); /* cancels the hanging request, closes every handle */
    receiver_close(slow);
    receiver_close(fast);
    fake_host_free(h);
}

/* A port nothing listens on (bound, then closed). */
static int closed_port(fake_host *h)
{
    receiver *r = receiver_new(&h->loop, recv_always_ok, NULL);
    int port = receiver_port(r);
    receiver_close(r);
    uv_run(&h->loop, UV_RUN_NOWAIT);
    return port;
}

static void timeouts_and_refusals_fail(void **state)
{
    (void)state;
    fake_host *h = fake_host_new();
    receiver *slow = receiver_new(&h->loop, hang, NULL);
    char config[512];
    snprintf(config, sizeof config,
             "{\"webhooks\": [{\"url\": \"%s\"}, {\"url\": \"http://127.0.0.1:%d/x\"}], "
             "\"timeout_ms\": 100, \"retry_ms\": []}",
             receiver_url(slow), closed_port(h));
    void *p = start_plugin(h, config);
    add_events(h, 1);
    fake_consume(h, p, 1, 1);
    json_t *list = NULL;
    for (int i = 0; i < 400; i++) {
        fake_run_for(h, 25);
        json_decref(list);
        list = listing(h);
        json_t *subs = json_object_get(list, "subscribers");
        if (json_array_size(json_object_get(json_array_get(subs, 0), "parked")) == 1 &&
            json_array_size(json_object_get(json_array_get(subs, 1), "parked")) == 1)
            break;
    }
    json_t *subs = json_object_get(list, "subscribers");
    for (size_t i = 0; i < 2; i++) {
        json_t *parked = json_object_get(json_array_get(subs, i), "parked");
        assert_int_equal(json_array_size(parked), 1);
        json_t *pk = json_array_get(parked, 0);
        assert_int_equal(json_integer_value(json_object_get(pk, "attempts")), 1);
        const char *why = json_string_value(json_object_get(pk, "lastError"));
        assert_non_null(strstr(why, i == 0 ? "imed out" : "onnect"));
    }
    json_decref(list);
    fake_plugin_stop_free(h, p);
    receiver_close(slow);
    fake_host_free(h);
}

static void lagging_subscriber_reads_the_register(void **state)
{
    (void)state;
    fake_host *h = fake_host_new();
    receiver *r = receiver_new(&h->loop, recv_always_ok, NULL);
    void *p = start_with(h, r, "\"memory_events\": 2");
    add_events(h, 20);
    fake_consume(h, p, 1, 20);
    wait_hits(h, r, 20);
    for (size_t i = 0; i < 20; i++) {
        char id[32];
        snprintf(id, sizeof id, "dtr-%zu", i + 1);
        assert_string_equal(receiver_hit(r, i)->id, id);
    }
    assert_true(h->haendelser_reads >= 1);
    fake_plugin_stop_free(h, p);
    assert_int_equal(h->readers_open, 0);
    receiver_close(r);
    fake_host_free(h);
}

/* Answers the first two requests, then hangs until *ok is set. */
static int two_then_hang(receiver *r, const recv_hit *hit, size_t n, void *udata)
{
    (void)r;
    (void)hit;
    return n < 2 || *(int *)udata ? 200 : RECV_HANG;
}

static bool position_is(void *udata)
{
    fake_host *h = udata;
    json_t *st = state_file(h);
    json_t *sub = json_array_get(json_object_get(st, "subscribers"), 0);
    bool ok = json_integer_value(json_object_get(sub, "position")) == 2;
    json_decref(st);
    return ok;
}

static void restart_mid_delivery_loses_nothing(void **state)
{
    (void)state;
    fake_host *h = fake_host_new();
    int ok = 0;
    receiver *r = receiver_new(&h->loop, two_then_hang, &ok);
    void *p = start_with(h, r, "\"timeout_ms\": 60000");
    add_events(h, 5);
    fake_consume(h, p, 1, 5);
    wait_hits(h, r, 3); /* 1 and 2 delivered, 3 in flight */
    assert_true(fake_run_until(h, done_called, h, WAIT_MS));
    assert_int_equal(h->done_up_to, 5);
    assert_true(fake_run_until(h, position_is, h, WAIT_MS));
    fake_plugin_stop_free(h, p); /* the process "stops" with 3, 4, 5 undelivered */

    ok = 1;
    p = start_with(h, r, "\"timeout_ms\": 60000"); /* the feed's cursor is 5: no consume */
    wait_hits(h, r, 6);
    static const char *const expected[] = {"dtr-1", "dtr-2", "dtr-3", "dtr-3", "dtr-4", "dtr-5"};
    for (size_t i = 0; i < 6; i++)
        assert_string_equal(receiver_hit(r, i)->id, expected[i]);
    fake_run_for(h, 50);
    assert_int_equal(receiver_count(r), 6);
    fake_plugin_stop_free(h, p);
    receiver_close(r);
    fake_host_free(h);
}

/* The feed's cursor never runs ahead of the queue file: while the file
 * cannot be written, consume is answered DTR_RETRY, not DTR_OK. */
static void done_only_when_durable(void **state)
{
    (void)state;
    fake_host *h = fake_host_new();
    receiver *r = receiver_new(&h->loop, recv_always_ok, NULL);
    void *p = start_with(h, r, NULL);
    char path[4096];
    snprintf(path, sizeof path, "%s/portal/webhooks.json", h->data_dir);
    assert_int_equal(mkdir(path, 0700), 0); /* rename onto a directory fails */
    add_events(h, 2);
    fake_consume(h, p, 1, 2);
    assert_true(fake_run_until(h, done_called, h, WAIT_MS));
    assert_int_equal(h->done_status, DTR_RETRY);
    assert_int_equal(h->done_up_to, 0);
    assert_int_equal(rmdir(path), 0);
    h->done_calls = 0;
    fake_consume(h, p, 1, 2); /* the feed hands the batch over again */
    assert_true(fake_run_until(h, done_called, h, WAIT_MS));
    assert_int_equal(h->done_status, DTR_OK);
    assert_int_equal(h->done_up_to, 2);
    json_t *st = state_file(h);
    assert_int_equal(json_integer_value(json_object_get(st, "queuedUpTo")), 2);
    json_decref(st);
    wait_hits(h, r, 2);
    fake_plugin_stop_free(h, p);
    receiver_close(r);
    fake_host_free(h);
}

static bool queued_is_5(void *udata)
{
    json_t *st = state_file(udata);
    bool ok = json_integer_value(json_object_get(st, "queuedUpTo")) == 5;
    json_decref(st);
    return ok;
}

/* A reload: the new instance starts beside the old one and takes over;
 * the old one neither delivers nor writes the file any more, so its late
 * state can never put the file back behind what the new one queued. */
static void reload_hands_over(void **state)
{
    (void)state;
    fake_host *h = fake_host_new();
    receiver *r = receiver_new(&h->loop, recv_always_ok, NULL);
    void *old = start_with(h, r, NULL);
    add_events(h, 3);
    fake_consume(h, old, 1, 3);
    wait_hits(h, r, 3);
    void *p = start_with(h, r, NULL);
    add_events(h, 2);
    fake_consume(h, p, 4, 5);
    wait_hits(h, r, 5);
    assert_true(fake_run_until(h, queued_is_5, h, WAIT_MS));
    fake_plugin_stop_free(h, old);
    fake_run_for(h, 20);
    json_t *st = state_file(h);
    assert_int_equal(json_integer_value(json_object_get(st, "queuedUpTo")), 5);
    json_decref(st);
    size_t fours = 0, fives = 0; /* 1..3 may come again (at-least-once); 4 and 5 once */
    for (size_t i = 0; i < receiver_count(r); i++) {
        fours += strcmp(receiver_hit(r, i)->id, "dtr-4") == 0;
        fives += strcmp(receiver_hit(r, i)->id, "dtr-5") == 0;
    }
    assert_int_equal(fours, 1);
    assert_int_equal(fives, 1);
    assert_string_equal(receiver_hit(r, receiver_count(r) - 1)->id, "dtr-5");
    fake_plugin_stop_free(h, p);
    receiver_close(r);
    fake_host_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(delivers_in_order_signed),
        cmocka_unit_test(retries_with_same_id),
        cmocka_unit_test(parks_then_replays),
        cmocka_unit_test(slow_subscriber_does_not_block),
        cmocka_unit_test(timeouts_and_refusals_fail),
        cmocka_unit_test(lagging_subscriber_reads_the_register),
        cmocka_unit_test(restart_mid_delivery_loses_nothing),
        cmocka_unit_test(done_only_when_durable),
        cmocka_unit_test(reload_hands_over),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
