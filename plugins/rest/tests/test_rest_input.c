/*
 * test_rest_input.c -- the HTTP-level parsers of input.c: media types, JSON
 * bodies (syntax, UTF-8, duplicates, depth), If-Match, numbers, days and
 * the opaque list cursor.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rest.h"

static void media_types(void **state)
{
    (void)state;
    assert_true(rest_media_type_ok("application/json", false));
    assert_true(rest_media_type_ok("Application/JSON", false));
    assert_true(rest_media_type_ok("application/json; charset=utf-8", false));
    assert_true(rest_media_type_ok("application/json;charset=UTF-8", false));
    assert_true(rest_media_type_ok("application/json; charset=\"utf-8\"", false));
    assert_true(rest_media_type_ok("  application/json  ", false));
    assert_true(rest_media_type_ok("application/json; foo=bar", false));
    assert_false(rest_media_type_ok(NULL, false));
    assert_false(rest_media_type_ok("", false));
    assert_false(rest_media_type_ok("text/plain", false));
    assert_false(rest_media_type_ok("application/jsonx", false));
    assert_false(rest_media_type_ok("application/json; charset=latin1", false));
    assert_false(rest_media_type_ok("application/json; charset=\"iso-8859-1\"", false));
    assert_false(rest_media_type_ok("application/json; charset", false));
    assert_false(rest_media_type_ok("application/json; charset=\"utf-8", false));
    assert_false(rest_media_type_ok("application/json x", false));
    assert_false(rest_media_type_ok("application/merge-patch+json", false));
    assert_true(rest_media_type_ok("application/merge-patch+json", true));
    assert_true(rest_media_type_ok("application/merge-patch+json; charset=utf-8", true));
    assert_true(rest_media_type_ok("application/json", true));
    assert_false(rest_media_type_ok("application/x-www-form-urlencoded", true));
}

static json_t *parse(const char *text, char *why, size_t whylen)
{
    return rest_parse_body((const unsigned char *)text, strlen(text), why, whylen);
}

/* A text of depth n: [[[...]]] */
static char *nested(int n)
{
    char *s = malloc((size_t)n * 2 + 1);
    for (int i = 0; i < n; i++) {
        s[i] = '[';
        s[2 * n - 1 - i] = ']';
    }
    s[2 * n] = '\0';
    return s;
}

static void json_bodies(void **state)
{
    (void)state;
    char why[256];
    json_t *j = parse("{\"navn\": \"Æblehaven\"}", why, sizeof why);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "navn")), "Æblehaven");
    json_decref(j);
    /* any JSON value is syntax; the register judges the type (422) */
    j = parse("\"a string\"", why, sizeof why);
    assert_non_null(j);
    json_decref(j);
    j = parse("null", why, sizeof why);
    assert_non_null(j);
    json_decref(j);

    assert_null(rest_parse_body(NULL, 0, why, sizeof why));
    assert_null(parse("", why, sizeof why));
    assert_null(parse("{", why, sizeof why));
    assert_non_null(strstr(why, "ugyldig JSON"));
    assert_null(parse("{\"a\": 1,}", why, sizeof why));
    assert_null(parse("{\"a\": 1} x", why, sizeof why));
    assert_null(parse("{'a': 1}", why, sizeof why));
    /* duplicate keys: ambiguous, refused */
    assert_null(parse("{\"navn\": \"a\", \"navn\": \"b\"}", why, sizeof why));
    /* invalid UTF-8 inside a string and outside */
    assert_null(parse("{\"navn\": \"\xc3\x28\"}", why, sizeof why));
    assert_null(parse("{\"navn\": \"\xed\xa0\x80\"}", why, sizeof why)); /* a surrogate */
    assert_null(parse("{\"navn\": \"\xff\"}", why, sizeof why));
    /* NUL in a string */
    assert_null(parse("{\"navn\": \"a\\u0000b\"}", why, sizeof why));
    /* a byte-order mark is not JSON */
    assert_null(parse("\xef\xbb\xbf{}", why, sizeof why));
    /* numbers beyond int64 */
    assert_null(parse("{\"a\": 123456789012345678901234567890}", why, sizeof why));

    /* depth: 32 is allowed, 33 refused, and a deep text never reaches the parser */
    char *s = nested(REST_MAX_JSON_DEPTH);
    j = parse(s, why, sizeof why);
    assert_non_null(j);
    json_decref(j);
    free(s);
    s = nested(REST_MAX_JSON_DEPTH + 1);
    assert_null(parse(s, why, sizeof why));
    assert_non_null(strstr(why, "dybere"));
    free(s);
    s = nested(100000);
    assert_null(parse(s, why, sizeof why));
    free(s);
}

static void json_depth(void **state)
{
    (void)state;
    const char *t = "{\"a\": \"[[[[[[[[[[\"}";
    assert_true(rest_json_depth_ok((const unsigned char *)t, strlen(t), 1));
    t = "{\"a\": \"\\\"[[[[\", \"b\": {}}";
    assert_true(rest_json_depth_ok((const unsigned char *)t, strlen(t), 2));
    assert_false(rest_json_depth_ok((const unsigned char *)t, strlen(t), 1));
    t = "[{}, {}, {}]";
    assert_true(rest_json_depth_ok((const unsigned char *)t, strlen(t), 2));
}

static void if_match(void **state)
{
    (void)state;
    assert_int_equal(rest_parse_if_match(NULL), -1);
    assert_int_equal(rest_parse_if_match("*"), -1);
    assert_int_equal(rest_parse_if_match(" * "), -1);
    assert_int_equal(rest_parse_if_match("\"3\""), 3);
    assert_int_equal(rest_parse_if_match("W/\"17\""), 17);
    assert_int_equal(rest_parse_if_match(" \"42\" "), 42);
    assert_int_equal(rest_parse_if_match("5"), 5);
    /* anything else names no version: 0, which the register answers 412 */
    assert_int_equal(rest_parse_if_match("\"abc\""), 0);
    assert_int_equal(rest_parse_if_match("\"3"), 0);
    assert_int_equal(rest_parse_if_match("\"3\", \"4\""), 0);
    assert_int_equal(rest_parse_if_match(""), 0);
    assert_int_equal(rest_parse_if_match("\"-1\""), 0);
    assert_int_equal(rest_parse_if_match("\"99999999999999999999\""), 0);
}

static void numbers_and_days(void **state)
{
    (void)state;
    assert_true(rest_nummer_ok("G23152"));
    assert_true(rest_nummer_ok("A00001"));
    assert_false(rest_nummer_ok("g23152"));
    assert_false(rest_nummer_ok("G2315"));
    assert_false(rest_nummer_ok("G231521"));
    assert_false(rest_nummer_ok("GG3152"));
    assert_false(rest_nummer_ok(""));
    assert_false(rest_nummer_ok(NULL));

    assert_true(rest_date_ok("2026-12-31"));
    assert_true(rest_date_ok("2024-02-29"));
    assert_true(rest_date_ok("2000-02-29"));
    assert_false(rest_date_ok("2023-02-29"));
    assert_false(rest_date_ok("1900-02-29"));
    assert_false(rest_date_ok("2026-13-01"));
    assert_false(rest_date_ok("2026-04-31"));
    assert_false(rest_date_ok("2026-00-10"));
    assert_false(rest_date_ok("2026-1-10"));
    assert_false(rest_date_ok("2026-01-10T00:00"));
    assert_false(rest_date_ok("20260110"));
    assert_false(rest_date_ok(NULL));

    int64_t v;
    assert_true(rest_parse_digits("0", &v));
    assert_int_equal(v, 0);
    assert_true(rest_parse_digits("123456789012345678", &v));
    assert_false(rest_parse_digits("1234567890123456789", &v));
    assert_false(rest_parse_digits("-1", &v));
    assert_false(rest_parse_digits("+1", &v));
    assert_false(rest_parse_digits(" 1", &v));
    assert_false(rest_parse_digits("1e3", &v));
    assert_false(rest_parse_digits("", &v));
}

static void cursor(void **state)
{
    (void)state;
    char out[16], back[7];
    rest_cursor_encode("G23152", out);
    assert_int_equal(strlen(out), 8);
    assert_string_not_equal(out, "G23152");
    assert_true(rest_cursor_decode(out, back));
    assert_string_equal(back, "G23152");
    rest_cursor_encode("Z99999", out);
    assert_true(rest_cursor_decode(out, back));
    assert_string_equal(back, "Z99999");
    /* the alphabet is URL-safe: no '+', '/', '=' */
    for (char c = 'A'; c <= 'Z'; c++) {
        char n[7];
        snprintf(n, sizeof n, "%c99999", c);
        rest_cursor_encode(n, out);
        assert_null(strpbrk(out, "+/="));
        assert_true(rest_cursor_decode(out, back));
        assert_string_equal(back, n);
    }
    assert_false(rest_cursor_decode("G23152", back));
    assert_false(rest_cursor_decode("", back));
    assert_false(rest_cursor_decode(NULL, back));
    assert_false(rest_cursor_decode("RzIzMTU", back));   /* 7 characters */
    assert_false(rest_cursor_decode("RzIzMTUy=", back)); /* padding */
    assert_false(rest_cursor_decode("Rz+zMTUy", back));  /* not base64url */
    rest_cursor_encode("abcdef", out);                   /* decodes, but no number */
    assert_false(rest_cursor_decode(out, back));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(media_types),      cmocka_unit_test(json_bodies),
        cmocka_unit_test(json_depth),       cmocka_unit_test(if_match),
        cmocka_unit_test(numbers_and_days), cmocka_unit_test(cursor),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
