/*
 * test_auth_credential.c -- the pure parts of auth/: HTTP Basic parsing
 * (good, odd and malformed headers), roles and the reg_actor they map to,
 * --kommune parsing, and the keyed secret hash.
 */
#include "test_auth_fixture.h"

static void test_basic_header_is_parsed(void **state)
{
    (void)state;
    char id[AUTH_ID_MAX + 1], secret[AUTH_SECRET_MAX + 1], header[256];
    afix_basic("c_0123456789abcdef", "s3cr-et_", header, sizeof header);
    assert_true(auth_parse_basic(header, id, secret));
    assert_string_equal(id, "c_0123456789abcdef");
    assert_string_equal(secret, "s3cr-et_");

    /* the secret may hold colons: the id ends at the first */
    afix_basic("abc", "x:y:z", header, sizeof header);
    assert_true(auth_parse_basic(header, id, secret));
    assert_string_equal(id, "abc");
    assert_string_equal(secret, "x:y:z");
}

static void test_basic_scheme_is_case_insensitive_and_spaces_are_allowed(void **state)
{
    (void)state;
    char id[AUTH_ID_MAX + 1], secret[AUTH_SECRET_MAX + 1];
    /* base64("ab:cd") = YWI6Y2Q= */
    const char *good[] = {
        "basic YWI6Y2Q=",   "BASIC YWI6Y2Q=",  "bAsIc YWI6Y2Q=", "Basic   YWI6Y2Q=  ",
        "  Basic YWI6Y2Q=", "Basic\tYWI6Y2Q=", "Basic YWI6Y2Q"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        memset(id, 'x', sizeof id);
        assert_true(auth_parse_basic(good[i], id, secret));
        assert_string_equal(id, "ab");
        assert_string_equal(secret, "cd");
    }
}

static void test_malformed_headers_are_refused(void **state)
{
    (void)state;
    char id[AUTH_ID_MAX + 1], secret[AUTH_SECRET_MAX + 1], header[4096];
    const char *bad[] = {
        "",
        "Basic",
        "Basic ",
        "Basic    ",
        "BasicYWI6Y2Q=",
        "Bearer YWI6Y2Q=",
        "Basix YWI6Y2Q=",
        "Basic !!!!",
        "Basic YWI6Y2Q==",    /* too much padding */
        "Basic YWI6Y2Q=x",    /* bytes after the padding */
        "Basic YWI6 Y2Q=",    /* a space inside */
        "Basic bm9jb2xvbg==", /* "nocolon" */
        "Basic OnNlY3JldA==", /* ":secret": no id */
        "Basic aWQ6",         /* "id:": no secret */
        "Basic Og==",         /* ":" */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (auth_parse_basic(bad[i], id, secret)) fail_msg("accepted \"%s\"", bad[i]);
    }
    assert_false(auth_parse_basic(NULL, id, secret));

    /* control characters and NULs inside the credentials */
    const char with_nul[] = {'i', 'd', '\0', 'x', ':', 's', 'e', 'c'};
    afix_basic_raw(with_nul, sizeof with_nul, header, sizeof header);
    assert_false(auth_parse_basic(header, id, secret));
    const char with_nul_in_secret[] = {'i', 'd', ':', 's', '\0', 'c'};
    afix_basic_raw(with_nul_in_secret, sizeof with_nul_in_secret, header, sizeof header);
    assert_false(auth_parse_basic(header, id, secret));
    afix_basic("id", "se\ncret", header, sizeof header);
    assert_false(auth_parse_basic(header, id, secret));
    afix_basic("i\x7f", "secret", header, sizeof header);
    assert_false(auth_parse_basic(header, id, secret));
}

static void test_lengths_are_bounded(void **state)
{
    (void)state;
    char id[AUTH_ID_MAX + 1], secret[AUTH_SECRET_MAX + 1], header[4096];
    char longest_id[AUTH_ID_MAX + 2], longest_secret[AUTH_SECRET_MAX + 2];
    memset(longest_id, 'i', sizeof longest_id);
    memset(longest_secret, 's', sizeof longest_secret);

    /* exactly at the bounds: accepted */
    longest_id[AUTH_ID_MAX] = '\0';
    longest_secret[AUTH_SECRET_MAX] = '\0';
    afix_basic(longest_id, longest_secret, header, sizeof header);
    assert_true(auth_parse_basic(header, id, secret));
    assert_int_equal(strlen(id), AUTH_ID_MAX);
    assert_int_equal(strlen(secret), AUTH_SECRET_MAX);

    /* one byte more in either: refused */
    longest_id[AUTH_ID_MAX] = 'i';
    longest_id[AUTH_ID_MAX + 1] = '\0';
    afix_basic(longest_id, "secret", header, sizeof header);
    assert_false(auth_parse_basic(header, id, secret));
    longest_secret[AUTH_SECRET_MAX] = 's';
    longest_secret[AUTH_SECRET_MAX + 1] = '\0';
    afix_basic("id", longest_secret, header, sizeof header);
    assert_false(auth_parse_basic(header, id, secret));

    /* a huge header: refused without being read to its end */
    size_t huge = 64 * 1024;
    char *big = malloc(huge + 1);
    memcpy(big, "Basic ", 6);
    memset(big + 6, 'A', huge - 6);
    big[huge] = '\0';
    assert_false(auth_parse_basic(big, id, secret));
    free(big);
}

static void test_roles_map_to_the_register(void **state)
{
    (void)state;
    reg_role role;
    assert_true(auth_role_parse("kommune", &role));
    assert_int_equal(role, REG_ROLE_KOMMUNE);
    assert_true(auth_role_parse("support", &role));
    assert_int_equal(role, REG_ROLE_SUPPORT);
    assert_true(auth_role_parse("laeser", &role));
    assert_int_equal(role, REG_ROLE_LAESER);
    assert_true(auth_role_parse("admin", &role));
    assert_int_equal(role, REG_ROLE_ADMIN);
    assert_false(auth_role_parse("system", &role));
    assert_false(auth_role_parse("Kommune", &role));
    assert_false(auth_role_parse("", &role));
    assert_false(auth_role_parse(NULL, &role));
}

static void test_client_actor(void **state)
{
    (void)state;
    static const int scope[] = {101, 147};
    auth_client k = {
        .id = "c_1", .name = "K", .role = "kommune", .kommuner = scope, .n_kommuner = 2};
    reg_actor a;
    assert_int_equal(auth_client_actor(&k, &a), 0);
    assert_string_equal(a.id, "c_1");
    assert_int_equal(a.role, REG_ROLE_KOMMUNE);
    assert_int_equal(a.n_kommuner, 2);
    assert_int_equal(a.kommuner[1], 147);

    /* a scope on another role is not passed on */
    auth_client s = {
        .id = "c_2", .name = "S", .role = "support", .kommuner = scope, .n_kommuner = 2};
    assert_int_equal(auth_client_actor(&s, &a), 0);
    assert_int_equal(a.role, REG_ROLE_SUPPORT);
    assert_int_equal(a.n_kommuner, 0);
    assert_null(a.kommuner);

    auth_client l = {.id = "c_3", .name = "L", .role = "laeser"};
    assert_int_equal(auth_client_actor(&l, &a), 0);
    assert_int_equal(a.role, REG_ROLE_LAESER);
    auth_client ad = {.id = "c_4", .name = "A", .role = "admin"};
    assert_int_equal(auth_client_actor(&ad, &a), 0);
    assert_int_equal(a.role, REG_ROLE_ADMIN);

    /* a role we do not know is never mapped to anything */
    auth_client x = {.id = "c_5", .name = "X", .role = "system"};
    assert_int_equal(auth_client_actor(&x, &a), -1);
    assert_null(a.id);
    assert_int_equal(auth_client_actor(NULL, &a), -1);
}

static void test_kommune_list_parsing(void **state)
{
    (void)state;
    int *codes = NULL;
    size_t n = 0;
    char err[256];
    assert_true(auth_parse_kommuner("147,101", &codes, &n, err, sizeof err));
    assert_int_equal(n, 2);
    assert_int_equal(codes[0], 101);
    assert_int_equal(codes[1], 147);
    free(codes);
    assert_true(auth_parse_kommuner("851", &codes, &n, err, sizeof err));
    assert_int_equal(n, 1);
    assert_int_equal(codes[0], 851);
    free(codes);

    const char *bad[] = {"",        "101,", ",101", "101,,147", "abc",   "101;147",
                         "101 147", "-101", "999",  "0",        "10100", "101,101"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        if (auth_parse_kommuner(bad[i], &codes, &n, err, sizeof err))
            fail_msg("accepted \"%s\"", bad[i]);
        assert_null(codes);
        assert_int_equal(n, 0);
        assert_true(err[0] != '\0');
    }
    assert_false(auth_parse_kommuner("999", &codes, &n, err, sizeof err));
    assert_non_null(strstr(err, "999"));
}

static void test_secret_hash_is_keyed_and_bound_to_the_id(void **state)
{
    (void)state;
    uint8_t key[AUTH_KEY_BYTES] = {1, 2, 3};
    uint8_t other_key[AUTH_KEY_BYTES] = {1, 2, 4};
    uint8_t a[AUTH_HASH_BYTES], b[AUTH_HASH_BYTES];
    auth_secret_hash(key, "c_1", "secret", a);
    auth_secret_hash(key, "c_1", "secret", b);
    assert_memory_equal(a, b, sizeof a);
    auth_secret_hash(other_key, "c_1", "secret", b);
    assert_memory_not_equal(a, b, sizeof a);
    auth_secret_hash(key, "c_2", "secret", b);
    assert_memory_not_equal(a, b, sizeof a);
    auth_secret_hash(key, "c_1", "secreT", b);
    assert_memory_not_equal(a, b, sizeof a);
    /* "c_1" + "0secret" must not hash like "c_10" + "secret" */
    auth_secret_hash(key, "c_1", "0secret", a);
    auth_secret_hash(key, "c_10", "secret", b);
    assert_memory_not_equal(a, b, sizeof a);
    /* and it is not a plain unkeyed BLAKE2b of the secret */
    crypto_generichash(b, sizeof b, (const unsigned char *)"secret", 6, NULL, 0);
    auth_secret_hash(key, "c_1", "secret", a);
    assert_memory_not_equal(a, b, sizeof a);
}

int main(void)
{
    assert_true(sodium_init() >= 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic_header_is_parsed),
        cmocka_unit_test(test_basic_scheme_is_case_insensitive_and_spaces_are_allowed),
        cmocka_unit_test(test_malformed_headers_are_refused),
        cmocka_unit_test(test_lengths_are_bounded),
        cmocka_unit_test(test_roles_map_to_the_register),
        cmocka_unit_test(test_client_actor),
        cmocka_unit_test(test_kommune_list_parsing),
        cmocka_unit_test(test_secret_hash_is_keyed_and_bound_to_the_id),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
