/*
 * test_portal_curl.c -- the webhook client never blocks the loop on a slow
 * name lookup: cancelling a request whose resolver thread is still inside
 * getaddrinfo returns at once (CURLOPT_QUICK_EXIT: the thread is left to
 * finish alone instead of being joined).
 *
 * The test program defines getaddrinfo itself, which libcurl's resolver
 * thread then calls: for "slow.test" it blocks until the test releases it
 * (or 3 s pass, the "slow DNS"), any other name goes to the C library.
 */
#include <dlfcn.h>
#include <netdb.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <uv.h>

#include "portal.h"

static pthread_mutex_t dns_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t dns_cond = PTHREAD_COND_INITIALIZER;
static bool dns_released;
static atomic_int dns_entered, dns_left;

typedef int (*gai_fn)(const char *, const char *, const struct addrinfo *, struct addrinfo **);

int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                struct addrinfo **res)
{
    if (node && strcmp(node, "slow.test") == 0) {
        atomic_fetch_add(&dns_entered, 1);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 3;
        pthread_mutex_lock(&dns_mu);
        while (!dns_released)
            if (pthread_cond_timedwait(&dns_cond, &dns_mu, &until) != 0) break;
        pthread_mutex_unlock(&dns_mu);
        atomic_fetch_add(&dns_left, 1);
        return EAI_NONAME;
    }
    gai_fn real = (gai_fn)dlsym(RTLD_NEXT, "getaddrinfo");
    return real(node, service, hints, res);
}

static void never_done(void *udata, long status, const char *error)
{
    (void)status;
    (void)error;
    *(bool *)udata = true;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void test_cancel_during_slow_lookup_returns_at_once(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    char err[256];
    portal_http *h = portal_http_new(&loop, err, sizeof err);
    assert_non_null(h);
    bool done = false;
    portal_http_req *r = portal_http_post(h, "http://slow.test:9/hook", "{}", 2, NULL, 0, 30000,
                                          never_done, &done, err, sizeof err);
    assert_non_null(r);
    /* run the loop until the resolver thread is inside the lookup */
    double deadline = now_s() + 5;
    while (atomic_load(&dns_entered) == 0 && now_s() < deadline)
        uv_run(&loop, UV_RUN_NOWAIT);
    assert_int_equal(atomic_load(&dns_entered), 1);

    double t0 = now_s();
    portal_http_cancel(h, r);
    double took = now_s() - t0;
    assert_int_equal(atomic_load(&dns_left), 0); /* the lookup was still running */
    if (took > 0.5) fail_msg("cancel blocked the loop for %.2f s", took);
    assert_false(done);

    /* let the lookup finish, and wait for it, before tearing down */
    pthread_mutex_lock(&dns_mu);
    dns_released = true;
    pthread_cond_broadcast(&dns_cond);
    pthread_mutex_unlock(&dns_mu);
    deadline = now_s() + 5;
    while (atomic_load(&dns_left) == 0 && now_s() < deadline)
        uv_run(&loop, UV_RUN_NOWAIT);
    portal_http_close(h);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cancel_during_slow_lookup_returns_at_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
