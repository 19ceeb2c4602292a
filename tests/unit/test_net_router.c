/*
 * test_net_router.c -- the router (matching, specificity, ambiguity, Allow)
 * and the URL helpers (percent-decoding, query parameters, path segments).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "net/net_int.h"

static dtr_status h_a(dtr_request *req, void *udata)
{
    (void)req;
    (void)udata;
    return DTR_OK;
}

static int segs_of(const char *path, net_strv *segs)
{
    return net_path_split(path, strlen(path), segs, NET_MAX_SEGMENTS);
}

/* The pattern of the route a path matches, or NULL. */
static const char *match(net_router *r, int method, const char *path)
{
    net_strv segs[NET_MAX_SEGMENTS];
    int n = segs_of(path, segs);
    if (n < 0) return NULL;
    const net_route *route = net_router_match(r, method, segs, (size_t)n);
    return route ? route->pattern : NULL;
}

static void add_ok(net_router *r, const char *method, const char *pattern, const char *owner)
{
    char err[256] = "";
    dtr_status st = net_router_add(r, method, pattern, 0, NULL, owner, h_a, NULL, err, sizeof err);
    if (st != DTR_OK) fail_msg("%s %s: %s", method, pattern, err);
}

static void test_literal_beats_param(void **state)
{
    (void)state;
    net_router *r = net_router_new(NULL);
    add_ok(r, "GET", "/v1/x/{id}", "a");
    add_ok(r, "GET", "/v1/x/new", "a");
    add_ok(r, "GET", "/v1/x/new/edit", "a");
    add_ok(r, "GET", "/v1/x/{id}/view", "a");
    add_ok(r, "GET", "/", "a");
    assert_string_equal(match(r, HTTP_GET, "/v1/x/new"), "/v1/x/new");
    assert_string_equal(match(r, HTTP_GET, "/v1/x/G12345"), "/v1/x/{id}");
    /* the literal leads nowhere for this path: the parameter takes it */
    assert_string_equal(match(r, HTTP_GET, "/v1/x/new/view"), "/v1/x/{id}/view");
    assert_string_equal(match(r, HTTP_GET, "/v1/x/new/edit"), "/v1/x/new/edit");
    assert_string_equal(match(r, HTTP_GET, "/"), "/");
    /* a parameter is never empty; HEAD takes GET routes */
    assert_null(match(r, HTTP_GET, "/v1/x/"));
    assert_string_equal(match(r, HTTP_HEAD, "/v1/x/1"), "/v1/x/{id}");
    assert_null(match(r, HTTP_POST, "/v1/x/1"));
    assert_null(match(r, HTTP_GET, "/v1/y"));
    assert_null(match(r, HTTP_GET, "/v1/x/new/edit/more"));
    net_router_free(r);
}

static void test_methods_and_allow(void **state)
{
    (void)state;
    net_router *r = net_router_new(NULL);
    add_ok(r, "GET", "/v1/d/{nummer}", "rest");
    add_ok(r, "PATCH", "/v1/d/{nummer}", "rest");
    add_ok(r, "DELETE", "/v1/d/{n}", "rest");
    add_ok(r, "POST", "/v1/d/special", "rest");
    assert_string_equal(match(r, HTTP_PATCH, "/v1/d/G1"), "/v1/d/{nummer}");
    assert_string_equal(match(r, HTTP_DELETE, "/v1/d/G1"), "/v1/d/{n}");
    /* a literal route of another method does not hide the parameter's */
    assert_string_equal(match(r, HTTP_GET, "/v1/d/special"), "/v1/d/{nummer}");

    char allow[64];
    net_strv segs[NET_MAX_SEGMENTS];
    int n = segs_of("/v1/d/special", segs);
    assert_int_not_equal(net_router_allow(r, segs, (size_t)n, allow, sizeof allow), 0);
    assert_string_equal(allow, "GET, HEAD, POST, PATCH, DELETE");
    n = segs_of("/v1/d/G1", segs);
    net_router_allow(r, segs, (size_t)n, allow, sizeof allow);
    assert_string_equal(allow, "GET, HEAD, PATCH, DELETE");
    n = segs_of("/v1/e", segs);
    assert_int_equal(net_router_allow(r, segs, (size_t)n, allow, sizeof allow), 0);
    net_router_free(r);
}

static void test_clashes(void **state)
{
    (void)state;
    net_router *r = net_router_new(NULL);
    char err[256];
    add_ok(r, "GET", "/v1/x/{nummer}", "a");
    assert_int_equal(
        net_router_add(r, "GET", "/v1/x/{id}", 0, NULL, "b", h_a, NULL, err, sizeof err),
        DTR_ERROR);
    assert_string_equal(err, "route GET /v1/x/{id} of plugin 'b' clashes with GET /v1/x/{nummer} "
                             "of plugin 'a'");
    assert_int_equal(
        net_router_add(r, "GET", "/v1/x/{nummer}", 0, NULL, NULL, h_a, NULL, err, sizeof err),
        DTR_ERROR);
    assert_string_equal(err, "route GET /v1/x/{nummer} of the core duplicates GET /v1/x/{nummer} "
                             "of plugin 'a'");
    /* not ambiguous: another method, another shape, a literal beside a parameter */
    add_ok(r, "POST", "/v1/x/{id}", "b");
    add_ok(r, "GET", "/v1/x/{id}/historik", "b");
    add_ok(r, "GET", "/v1/x/seneste", "b");
    add_ok(r, "GET", "/v1/{a}/{b}/z", "c");
    add_ok(r, "GET", "/v1/{a}/y/{b}", "c");
    /* each route keeps its own parameter names */
    net_strv segs[NET_MAX_SEGMENTS];
    int n = segs_of("/v1/x/G1/historik", segs);
    const net_route *route = net_router_match(r, HTTP_GET, segs, (size_t)n);
    assert_non_null(route);
    assert_int_equal(net_route_param_index(route, "id"), 2);
    assert_int_equal(net_route_param_index(route, "nummer"), -1);
    n = segs_of("/v1/x/G1", segs);
    route = net_router_match(r, HTTP_GET, segs, (size_t)n);
    assert_int_equal(net_route_param_index(route, "nummer"), 2);
    assert_string_equal(route->owner_name, "a");
    net_router_free(r);
}

static void test_bad_patterns(void **state)
{
    (void)state;
    net_router *r = net_router_new(NULL);
    char err[256];
    const char *bad[] = {"v1/x",      "/v1//x",       "/v1/x//", "/v1/{a}{b}", "/v1/{}",
                         "/v1/{a-b}", "/x/{id}/{id}", "/v1/x?y", "/a/{b"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        assert_int_equal(net_router_add(r, "GET", bad[i], 0, NULL, "p", h_a, NULL, err, sizeof err),
                         DTR_ERROR);
        assert_non_null(strstr(err, bad[i]));
    }
    assert_int_equal(net_router_add(r, "HEAD", "/x", 0, NULL, "p", h_a, NULL, err, sizeof err),
                     DTR_ERROR);
    assert_int_equal(net_router_add(r, "FETCH", "/x", 0, NULL, "p", h_a, NULL, err, sizeof err),
                     DTR_ERROR);
    assert_int_equal(net_router_add(r, "get", "/x", 0, NULL, "p", h_a, NULL, err, sizeof err),
                     DTR_ERROR);
    char deep[256] = "";
    for (int i = 0; i < NET_MAX_SEGMENTS + 1; i++)
        strcat(deep, "/s");
    assert_int_equal(net_router_add(r, "GET", deep, 0, NULL, "p", h_a, NULL, err, sizeof err),
                     DTR_ERROR);
    net_router_free(r);
}

static int inflight_total;

static void count_inflight(void *owner, int delta)
{
    (void)owner;
    inflight_total += delta;
}

static void test_references(void **state)
{
    (void)state;
    net_router *r = net_router_new(count_inflight);
    add_ok(r, "GET", "/a", "p");
    net_router_ref(r);                         /* a request holds it */
    net_router_free(r);                        /* the host lets go */
    assert_non_null(match(r, HTTP_GET, "/a")); /* still usable by the request */
    net_router_inflight(r)(NULL, 1);
    assert_int_equal(inflight_total, 1);
    net_router_unref(r); /* the request ends: freed (ASan checks) */
}

/* ---- URLs -------------------------------------------------------------------------- */

static void test_decode(void **state)
{
    (void)state;
    char out[64];
    long n = net_url_decode(out, "a%20b%2Fc%c3%a6", 15, NET_DECODE_STRICT);
    assert_int_equal(n, 7);
    assert_memory_equal(out, "a b/c\xc3\xa6", 7);
    assert_int_equal(net_url_decode(out, "%zz", 3, NET_DECODE_STRICT), -1);
    assert_int_equal(net_url_decode(out, "ab%2", 4, NET_DECODE_STRICT), -1);
    assert_int_equal(net_url_decode(out, "a%00", 4, NET_DECODE_STRICT), -1);
    n = net_url_decode(out, "%zz+%41", 7, NET_DECODE_PLUS);
    assert_int_equal(n, 5);
    assert_memory_equal(out, "%zz A", 5);
    n = net_url_decode(out, "a+b", 3, 0);
    assert_memory_equal(out, "a+b", 3);
}

static const char *query(const char *q, const char *name)
{
    static char out[128];
    size_t vlen;
    const char *v = net_query_find(q, strlen(q), name, &vlen);
    if (!v) return NULL;
    long n = net_url_decode(out, v, vlen, NET_DECODE_PLUS);
    out[n] = '\0';
    return out;
}

static void test_query(void **state)
{
    (void)state;
    const char *q = "a=1&b=2&b=3&flag&empty=&na%6De=v&x+y=sp&enc=%C3%A6+%26";
    assert_string_equal(query(q, "a"), "1");
    assert_string_equal(query(q, "b"), "2");
    assert_string_equal(query(q, "flag"), "");
    assert_string_equal(query(q, "empty"), "");
    assert_string_equal(query(q, "name"), "v");
    assert_string_equal(query(q, "x y"), "sp");
    assert_string_equal(query(q, "enc"), "\xc3\xa6 &");
    assert_null(query(q, "c"));
    assert_null(query(q, "fla"));
    assert_null(query("", "a"));
    assert_string_equal(query("&&a=1&", "a"), "1");
}

static void test_split(void **state)
{
    (void)state;
    net_strv s[NET_MAX_SEGMENTS];
    assert_int_equal(segs_of("/", s), 0);
    assert_int_equal(segs_of("/a/bc", s), 2);
    assert_int_equal(s[1].n, 2);
    assert_memory_equal(s[1].p, "bc", 2);
    assert_int_equal(segs_of("/a/", s), 2);
    assert_int_equal(s[1].n, 0);
    assert_int_equal(segs_of("a", s), -1);
    assert_int_equal(segs_of("/1/2/3/4/5/6/7/8/9/10/11/12/13/14/15/16", s), 16);
    assert_int_equal(segs_of("/1/2/3/4/5/6/7/8/9/10/11/12/13/14/15/16/17", s), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_literal_beats_param),
        cmocka_unit_test(test_methods_and_allow),
        cmocka_unit_test(test_clashes),
        cmocka_unit_test(test_bad_patterns),
        cmocka_unit_test(test_references),
        cmocka_unit_test(test_decode),
        cmocka_unit_test(test_query),
        cmocka_unit_test(test_split),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
