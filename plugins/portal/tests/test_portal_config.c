/*
 * test_portal_config.c -- the portal plugin's config: defaults, every key,
 * and a refusal naming the key for each kind of mistake, also through init.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fake_host.h"
#include "portal.h"

/* Reads text as config; returns read's value and leaves the message in err. */
static int read_text(const char *text, portal_config *c, char *err, size_t errlen)
{
    json_t *j = json_loads(text, 0, NULL);
    assert_non_null(j);
    int rc = portal_config_read(j, c, err, errlen);
    json_decref(j);
    return rc;
}

static void defaults(void **state)
{
    (void)state;
    portal_config c;
    char err[256] = "";
    assert_int_equal(portal_config_read(NULL, &c, err, sizeof err), 0);
    assert_int_equal(c.n_urls, 0);
    assert_int_equal(c.n_retry, 6);
    static const uint64_t expected[] = {1000, 5000, 30000, 120000, 600000, 3600000};
    for (size_t i = 0; i < 6; i++)
        assert_int_equal(c.retry_ms[i], expected[i]);
    assert_int_equal(c.timeout_ms, 10000);
    assert_int_equal(c.fra, 0);
    assert_int_equal(c.memory_events, PORTAL_DEFAULT_MEMORY_EVENTS);
    portal_config_free(&c);
}

static void every_key(void **state)
{
    (void)state;
    portal_config c;
    char err[256] = "";
    assert_int_equal(
        read_text("{\"webhooks\": [{\"url\": \"http://a.example/x\"}, "
                  "{\"url\": \"https://b.example\", \"secret\": "
                  "\"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"}], \"retry_ms\": [100, 200], "
                  "\"timeout_ms\": 250, \"fra\": 7, \"memory_events\": 3}",
                  &c, err, sizeof err),
        0);
    assert_int_equal(c.n_urls, 2);
    assert_string_equal(c.urls[0], "http://a.example/x");
    assert_string_equal(c.urls[1], "https://b.example");
    assert_int_equal(c.secrets[0].len, 0);
    assert_int_equal(c.secrets[1].len, 24); /* 32 base64 characters */
    assert_int_equal(c.secrets[1].key[0], 0x31);
    assert_int_equal(c.n_retry, 2);
    assert_int_equal(c.retry_ms[0], 100);
    assert_int_equal(c.retry_ms[1], 200);
    assert_int_equal(c.timeout_ms, 250);
    assert_int_equal(c.fra, 7);
    assert_int_equal(c.memory_events, 3);
    portal_config_free(&c);

    assert_int_equal(read_text("{\"retry_ms\": []}", &c, err, sizeof err), 0);
    assert_int_equal(c.n_retry, 0); /* one attempt, then parked */
    portal_config_free(&c);
}

/* Each bad config is refused with a message naming its key. */
static void refusals(void **state)
{
    (void)state;
    static const struct {
        const char *config, *names;
    } cases[] = {
        {"{\"webhook\": []}", "config.webhook: unknown key"},
        {"{\"webhooks\": {}}", "config.webhooks"},
        {"{\"webhooks\": [\"http://x\"]}", "config.webhooks[0]"},
        {"{\"webhooks\": [{\"url\": \"http://x\", \"secrets\": \"s\"}]}",
         "config.webhooks[0].secrets: unknown key"},
        {"{\"webhooks\": [{\"url\": \"http://x\", \"secret\": \"s\"}]}",
         "config.webhooks[0].secret: expected \"whsec_\""},
        {"{\"webhooks\": [{\"url\": \"http://x\", \"secret\": 7}]}", "config.webhooks[0].secret"},
        /* too short (16 bytes), not base64, stray bits, padding in the middle */
        {"{\"webhooks\": [{\"url\": \"http://x\", \"secret\": "
         "\"whsec_AAAAAAAAAAAAAAAAAAAAAA==\"}]}",
         "config.webhooks[0].secret"},
        {"{\"webhooks\": [{\"url\": \"http://x\", \"secret\": "
         "\"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw!\"}]}",
         "config.webhooks[0].secret"},
        {"{\"webhooks\": [{\"url\": \"http://x\", \"secret\": "
         "\"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwAAB\"}]}",
         "config.webhooks[0].secret"},
        {"{\"webhooks\": [{\"url\": \"http://x\", \"secret\": "
         "\"whsec_MfKQ9r8G=KYqrTwjUPD8ILPZIo2LaLaS\"}]}",
         "config.webhooks[0].secret"},
        {"{\"webhooks\": [{\"url\": \"http://x\"}, {\"url\": \"http://y\", \"secret\": "
         "\"whsec_\"}]}",
         "config.webhooks[1].secret"},
        {"{\"webhooks\": [{}]}", "config.webhooks[0].url"},
        {"{\"webhooks\": [{\"url\": \"ftp://x/\"}]}", "config.webhooks[0].url"},
        {"{\"webhooks\": [{\"url\": \"file:///etc/passwd\"}]}", "config.webhooks[0].url"},
        {"{\"webhooks\": [{\"url\": \"http://\"}]}", "config.webhooks[0].url"},
        {"{\"webhooks\": [{\"url\": \"http://a b\"}]}", "config.webhooks[0].url"},
        {"{\"webhooks\": [{\"url\": \"http://a\"}, {\"url\": \"http://a\"}]}",
         "config.webhooks[1].url"},
        {"{\"retry_ms\": 1000}", "config.retry_ms"},
        {"{\"retry_ms\": [1000, -1]}", "config.retry_ms[1]"},
        {"{\"retry_ms\": [\"1s\"]}", "config.retry_ms[0]"},
        {"{\"timeout_ms\": 0}", "config.timeout_ms"},
        {"{\"timeout_ms\": 1.5}", "config.timeout_ms"},
        {"{\"fra\": 0}", "config.fra"},
        {"{\"memory_events\": 0}", "config.memory_events"},
        {"[]", "config"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        portal_config c;
        char err[256] = "";
        json_t *j = json_loads(cases[i].config, JSON_DECODE_ANY, NULL);
        assert_non_null(j);
        assert_int_equal(portal_config_read(j, &c, err, sizeof err), -1);
        json_decref(j);
        if (!strstr(err, cases[i].names))
            fail_msg("%s: %s lacks %s", cases[i].config, err, cases[i].names);
    }
}

/* Through the descriptor: DTR_DECLINED (NULL here) with the key; a good
 * config registers the three routes and passes "fra" to the feed. */
static void through_init(void **state)
{
    (void)state;
    fake_host *h = fake_host_new();
    char err[256] = "";
    assert_null(fake_plugin_init(h, "{\"timeout\": 5}", err, sizeof err));
    assert_non_null(strstr(err, "config.timeout: unknown key"));
    void *p = fake_plugin_init(h, "{\"fra\": 42}", err, sizeof err);
    assert_non_null(p);
    assert_int_equal(h->start_at, 42);
    assert_int_equal(h->n_routes, 3);
    assert_int_equal(fake_plugin_start(h, p), 0);
    fake_plugin_stop_free(h, p);
    fake_host_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults),
        cmocka_unit_test(every_key),
        cmocka_unit_test(refusals),
        cmocka_unit_test(through_init),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
