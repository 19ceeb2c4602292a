/*
 * test_feed_signkey.c -- the server's Ed25519 signing key file: created on
 * first use with mode 0600, the same key on every later load, signatures
 * that verify with the public key, and refusals of a key file others may
 * read or of the wrong size.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "feed/feed.h"

typedef struct kfix {
    char dir[64];
    char path[128];
} kfix;

static int setup(void **state)
{
    kfix *k = calloc(1, sizeof *k);
    snprintf(k->dir, sizeof k->dir, "/tmp/test_signkey_XXXXXX");
    if (!mkdtemp(k->dir)) fail_msg("mkdtemp");
    snprintf(k->path, sizeof k->path, "%s/%s", k->dir, SIGNKEY_FILE);
    *state = k;
    return 0;
}

static int teardown(void **state)
{
    kfix *k = *state;
    unlink(k->path);
    rmdir(k->dir);
    free(k);
    return 0;
}

static void test_created_once_and_reloaded(void **state)
{
    kfix *k = *state;
    unsigned char sk[64], pk[32], sk2[64], pk2[32];
    char err[256] = "";
    assert_int_equal(signkey_load_or_create(k->dir, sk, pk, err, sizeof err), 0);
    struct stat sb;
    assert_int_equal(stat(k->path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    assert_int_equal(sb.st_size, 32);
    /* the temporary file is gone: only the key is left in the directory */
    char tmp[160];
    snprintf(tmp, sizeof tmp, "%s/.%s.%ld", k->dir, SIGNKEY_FILE, (long)getpid());
    assert_int_not_equal(access(tmp, F_OK), 0);

    assert_int_equal(signkey_load_or_create(k->dir, sk2, pk2, err, sizeof err), 0);
    assert_memory_equal(pk, pk2, 32);
    assert_memory_equal(sk, sk2, 64);

    /* the pair belongs together: a signature verifies, a changed message does not */
    const char msg[] = "unilogin-1-5.json bytes";
    unsigned char sig[64];
    crypto_sign_detached(sig, NULL, (const unsigned char *)msg, sizeof msg - 1, sk);
    assert_int_equal(
        crypto_sign_verify_detached(sig, (const unsigned char *)msg, sizeof msg - 1, pk), 0);
    assert_int_not_equal(
        crypto_sign_verify_detached(sig, (const unsigned char *)msg, sizeof msg - 2, pk), 0);
}

static void test_two_directories_two_keys(void **state)
{
    kfix *k = *state;
    kfix *other = NULL;
    setup((void **)&other);
    unsigned char sk[64], pk[32], sk2[64], pk2[32];
    char err[256] = "";
    assert_int_equal(signkey_load_or_create(k->dir, sk, pk, err, sizeof err), 0);
    assert_int_equal(signkey_load_or_create(other->dir, sk2, pk2, err, sizeof err), 0);
    assert_memory_not_equal(pk, pk2, 32);
    teardown((void **)&other);
}

static void test_public_key_base64(void **state)
{
    (void)state;
    unsigned char pk[32];
    for (int i = 0; i < 32; i++)
        pk[i] = (unsigned char)i;
    char b64[SIGNKEY_PK_B64_LEN];
    signkey_public_base64(pk, b64);
    assert_string_equal(b64, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=");
}

static void test_refuses_a_readable_key(void **state)
{
    kfix *k = *state;
    unsigned char sk[64], pk[32];
    char err[256] = "";
    assert_int_equal(signkey_load_or_create(k->dir, sk, pk, err, sizeof err), 0);
    assert_int_equal(chmod(k->path, 0644), 0);
    assert_int_equal(signkey_load_or_create(k->dir, sk, pk, err, sizeof err), -1);
    assert_non_null(strstr(err, "chmod 600"));
    assert_non_null(strstr(err, SIGNKEY_FILE));
}

static void test_refuses_a_key_of_the_wrong_size(void **state)
{
    kfix *k = *state;
    FILE *fp = fopen(k->path, "w");
    assert_non_null(fp);
    fputs("too short", fp);
    fclose(fp);
    assert_int_equal(chmod(k->path, 0600), 0);
    unsigned char sk[64], pk[32];
    char err[256] = "";
    assert_int_equal(signkey_load_or_create(k->dir, sk, pk, err, sizeof err), -1);
    assert_non_null(strstr(err, "9 bytes"));
}

static void test_missing_directory_is_an_error(void **state)
{
    (void)state;
    unsigned char sk[64], pk[32];
    char err[256] = "";
    assert_int_equal(signkey_load_or_create("/nonexistent/dir/for/keys", sk, pk, err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "/nonexistent/dir/for/keys"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_created_once_and_reloaded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_directories_two_keys, setup, teardown),
        cmocka_unit_test(test_public_key_base64),
        cmocka_unit_test_setup_teardown(test_refuses_a_readable_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuses_a_key_of_the_wrong_size, setup, teardown),
        cmocka_unit_test(test_missing_directory_is_an_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
