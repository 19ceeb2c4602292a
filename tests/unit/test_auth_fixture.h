/*
 * test_auth_fixture.h -- what the auth test programs share: a fresh data
 * directory with the server key and a migrated database (as `dtr serve` or
 * `dtr client` leaves it), a read-write connection on it standing in for
 * the CLI, and helpers to build Authorization headers and count rows.
 */
#ifndef TEST_AUTH_FIXTURE_H
#define TEST_AUTH_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include <sqlite3.h> /* the tests look at the tables as they are stored */

#include "auth/auth.h"
#include "store/store_int.h"

typedef struct afix {
    char dir[64];
    char db_path[128];
    uint8_t key[AUTH_KEY_BYTES];
    sqlite3 *db;   /* read-write, to look at the tables as they are stored */
    store_db *sdb; /* read-write through the store, like the CLI's */
} afix;

static inline void afix_quiet_log(void *udata, int level, const char *msg)
{
    (void)udata;
    if (getenv("AUTH_TEST_LOG")) fprintf(stderr, "store[%d]: %s\n", level, msg);
}

/* Opens the store once (creating and migrating the database) and closes it. */
static inline void afix_migrate(afix *f)
{
    char err[256] = "";
    store_options opt = {.data_dir = f->dir, .audit_key = f->key, .log = afix_quiet_log};
    store *s = NULL;
    assert_int_equal(store_open(&opt, &s, err, sizeof err), 0);
    store_close(s);
}

static inline sqlite3 *afix_connect(afix *f)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(f->db_path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 10000);
    return db;
}

static inline int afix_setup(void **state)
{
    assert_true(sodium_init() >= 0);
    afix *f = calloc(1, sizeof *f);
    strcpy(f->dir, "/tmp/test_auth_XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->db_path, sizeof f->db_path, "%s/dtr.sqlite", f->dir);
    char err[256] = "";
    assert_int_equal(audit_load_or_create_key(f->dir, f->key, err, sizeof err), 0);
    afix_migrate(f);
    f->db = afix_connect(f);
    f->sdb = store_db_open(f->dir, true, 10000, err, sizeof err);
    if (!f->sdb) fail_msg("store_db_open: %s", err);
    *state = f;
    return 0;
}

static inline int afix_teardown(void **state)
{
    afix *f = *state;
    sqlite3_close(f->db);
    store_db_close(f->sdb);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

/* The single integer a query returns. */
static inline int64_t afix_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static inline void afix_exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) fprintf(stderr, "%s: %s\n", sql, msg);
    sqlite3_free(msg);
    assert_int_equal(rc, SQLITE_OK);
}

/* "Basic " + base64(user:password) into out. */
static inline void afix_basic(const char *user, const char *password, char *out, size_t outlen)
{
    char plain[512];
    int n = snprintf(plain, sizeof plain, "%s:%s", user, password);
    assert_true(n > 0 && (size_t)n < sizeof plain);
    char b64[1024];
    sodium_bin2base64(b64, sizeof b64, (const unsigned char *)plain, strlen(plain),
                      sodium_base64_VARIANT_ORIGINAL);
    int w = snprintf(out, outlen, "Basic %s", b64);
    assert_true(w > 0 && (size_t)w < outlen);
}

/* "Basic " + base64 of raw bytes. */
static inline void afix_basic_raw(const void *bytes, size_t len, char *out, size_t outlen)
{
    char b64[2048];
    sodium_bin2base64(b64, sizeof b64, bytes, len, sodium_base64_VARIANT_ORIGINAL);
    int w = snprintf(out, outlen, "Basic %s", b64);
    assert_true(w > 0 && (size_t)w < outlen);
}

/* Adds a client through the read-write store connection; *out gets the printed
 * credentials (clientId, secret, ...). */
static inline void afix_add(afix *f, const char *name, const char *role, const int *kommuner,
                            size_t n, json_t **out)
{
    char err[256] = "";
    auth_new_client c = {.name = name, .role = role, .kommuner = kommuner, .n_kommuner = n};
    int rc = auth_client_add(f->sdb, f->key, "cli:test", &c, out, err, sizeof err);
    if (rc != 0) fprintf(stderr, "auth_client_add: %s\n", err);
    assert_int_equal(rc, 0);
}

static inline const char *afix_str(const json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    assert_non_null(s);
    return s;
}

#endif /* TEST_AUTH_FIXTURE_H */
