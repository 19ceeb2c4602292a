/*
 * test_store_audit.c -- the hash-chained audit log (core/audit) and its SQL
 * in the store (auditlog.c): append, verify, tampering of every kind,
 * concurrent writers on separate connections, the key file.
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
#include <pthread.h>

#include <cmocka.h>
#include <sodium.h>

#include "audit/audit.h"
#include "store/store_int.h"

static const uint8_t test_key[AUDIT_KEY_BYTES] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};

/* A read-write connection of the statement layer (sql.h) on the SQLite
 * file at path, waiting busy_ms for another's lock. */
static sql_conn *open_conn(const char *path, int busy_ms)
{
    sql_target t = {.dialect = SQL_DIALECT_SQLITE, .path = path};
    char err[256];
    sql_conn *c = sql_open(&t, false, busy_ms, err, sizeof err);
    if (!c) fprintf(stderr, "%s: %s\n", path, err);
    return c;
}

typedef struct fixture {
    char dir[64];
    char path[128];
    sql_conn *db;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    strcpy(f->dir, "/tmp/test_audit_XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/a.sqlite", f->dir);
    f->db = open_conn(f->path, 10000);
    assert_non_null(f->db);
    assert_int_equal(sql_exec(f->db, "PRAGMA journal_mode=WAL"), SQL_OK);
    assert_int_equal(sql_exec(f->db, audit_schema_sql()), SQL_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    sql_close(f->db);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static void append_n(sql_conn *db, int n, const char *actor)
{
    for (int i = 0; i < n; i++) {
        char nummer[16], after[64]; /* room for any int: -O0 cannot bound i */
        snprintf(nummer, sizeof nummer, "G%05d", (i + 1) % 100000);
        snprintf(after, sizeof after, "{\"nummer\":\"%s\",\"version\":1}", nummer);
        audit_entry e = {.actor = actor,
                         .request_id = "req-1",
                         .operation = "oprettet",
                         .level = "daginstitution",
                         .nummer = nummer,
                         .after = after};
        int64_t id = 0;
        assert_int_equal(audit_append(db, test_key, &e, &id), SQL_OK);
        assert_true(id > 0);
    }
}

static int verify(sql_conn *db, audit_report *r)
{
    return audit_verify(db, test_key, r);
}

static void test_empty_chain_holds(void **state)
{
    fixture *f = *state;
    audit_report r;
    assert_int_equal(verify(f->db, &r), 0);
    assert_int_equal(r.entries, 0);
}

static void test_chain_holds_and_ids_count_up(void **state)
{
    fixture *f = *state;
    append_n(f->db, 10, "k101");
    /* inside a caller's transaction too */
    assert_int_equal(sql_exec(f->db, "BEGIN IMMEDIATE"), SQL_OK);
    audit_entry e = {.actor = "admin", .operation = "client.add", .after = "{\"id\":\"c1\"}"};
    int64_t id = 0;
    assert_int_equal(audit_append(f->db, test_key, &e, &id), SQL_OK);
    assert_int_equal(id, 11);
    assert_int_equal(sql_exec(f->db, "COMMIT"), SQL_OK);
    audit_report r;
    assert_int_equal(verify(f->db, &r), 0);
    assert_int_equal(r.entries, 11);
    assert_int_equal(r.first_bad_id, 0);
}

static void test_rolled_back_append_leaves_no_trace(void **state)
{
    fixture *f = *state;
    append_n(f->db, 3, "k101");
    assert_int_equal(sql_exec(f->db, "BEGIN IMMEDIATE"), SQL_OK);
    append_n(f->db, 2, "k101");
    assert_int_equal(sql_exec(f->db, "ROLLBACK"), SQL_OK);
    append_n(f->db, 1, "k101");
    audit_report r;
    assert_int_equal(verify(f->db, &r), 0);
    assert_int_equal(r.entries, 4);
}

static void tamper_and_expect(fixture *f, const char *sql, int64_t bad_id, const char *why)
{
    append_n(f->db, 8, "k101");
    assert_int_equal(sql_exec(f->db, sql), SQL_OK);
    audit_report r;
    assert_int_equal(verify(f->db, &r), 1);
    assert_int_equal(r.first_bad_id, bad_id);
    assert_non_null(strstr(r.reason, why));
}

static void test_edited_after_is_named(void **state)
{
    tamper_and_expect(*state,
                      "UPDATE audit SET after='{\"nummer\":\"G00005\",\"version\":2}' "
                      "WHERE id=5",
                      5, "does not match its content");
}

static void test_edited_actor_is_named(void **state)
{
    tamper_and_expect(*state, "UPDATE audit SET actor='support' WHERE id=3", 3,
                      "does not match its content");
}

static void test_null_for_empty_is_named(void **state)
{
    /* "" and NULL must hash differently */
    tamper_and_expect(*state, "UPDATE audit SET before='' WHERE id=2", 2,
                      "does not match its content");
}

static void test_deleted_entry_is_named(void **state)
{
    tamper_and_expect(*state, "DELETE FROM audit WHERE id=4", 5, "missing");
}

static void test_replaced_hash_is_named(void **state)
{
    tamper_and_expect(*state, "UPDATE audit SET hash=zeroblob(32) WHERE id=6", 6,
                      "does not match its content");
}

static void test_rewritten_prev_hash_is_named(void **state)
{
    tamper_and_expect(*state, "UPDATE audit SET prev_hash=zeroblob(32) WHERE id=7", 7, "prev_hash");
}

static void test_swapped_rows_are_named(void **state)
{
    /* swap the contents of rows 2 and 3, hashes included */
    tamper_and_expect(*state,
                      "UPDATE audit SET id=100 WHERE id=2; UPDATE audit SET id=2 WHERE id=3;"
                      "UPDATE audit SET id=3 WHERE id=100",
                      2, "");
}

static void test_other_key_fails_at_first_entry(void **state)
{
    fixture *f = *state;
    append_n(f->db, 3, "k101");
    uint8_t other[AUDIT_KEY_BYTES] = {9};
    audit_report r;
    assert_int_equal(audit_verify(f->db, other, &r), 1);
    assert_int_equal(r.first_bad_id, 1);
}

static void test_missing_fields_are_refused(void **state)
{
    fixture *f = *state;
    audit_entry no_actor = {.operation = "x"};
    audit_entry no_op = {.actor = "x"};
    assert_int_equal(audit_append(f->db, test_key, &no_actor, NULL), SQL_MISUSE);
    assert_int_equal(audit_append(f->db, test_key, &no_op, NULL), SQL_MISUSE);
}

static void test_hash_depends_on_every_field(void **state)
{
    (void)state;
    audit_entry base = {.tidspunkt = "t",
                        .actor = "a",
                        .request_id = "r",
                        .operation = "o",
                        .level = "l",
                        .nummer = "n",
                        .before = "b",
                        .after = "x"};
    uint8_t prev[AUDIT_HASH_BYTES] = {0}, h0[AUDIT_HASH_BYTES], h[AUDIT_HASH_BYTES];
    audit_row_hash(test_key, 1, &base, prev, h0);
    for (int i = 0; i < 8; i++) {
        audit_entry e = base;
        const char **fields[8] = {&e.tidspunkt, &e.actor,  &e.request_id, &e.operation,
                                  &e.level,     &e.nummer, &e.before,     &e.after};
        *fields[i] = NULL;
        audit_row_hash(test_key, 1, &e, prev, h);
        assert_memory_not_equal(h, h0, AUDIT_HASH_BYTES);
    }
    /* moving bytes between neighbouring fields changes the hash */
    audit_entry a = base, b = base;
    a.before = "bx";
    a.after = "";
    b.before = "b";
    b.after = "x";
    uint8_t ha[AUDIT_HASH_BYTES], hb[AUDIT_HASH_BYTES];
    audit_row_hash(test_key, 1, &a, prev, ha);
    audit_row_hash(test_key, 1, &b, prev, hb);
    assert_memory_not_equal(ha, hb, AUDIT_HASH_BYTES);
    audit_row_hash(test_key, 2, &base, prev, h);
    assert_memory_not_equal(h, h0, AUDIT_HASH_BYTES);
    prev[31] = 1;
    audit_row_hash(test_key, 1, &base, prev, h);
    assert_memory_not_equal(h, h0, AUDIT_HASH_BYTES);
}

typedef struct writer_arg {
    const char *path;
    const char *actor;
    int n;
} writer_arg;

static void *appender_main(void *p)
{
    writer_arg *a = p;
    sql_conn *db = open_conn(a->path, 20000);
    if (!db) return (void *)1;
    intptr_t fails = 0;
    for (int i = 0; i < a->n; i++) {
        audit_entry e = {.actor = a->actor, .operation = "x"};
        if (audit_append(db, test_key, &e, NULL) != SQL_OK) fails++;
    }
    sql_close(db);
    return (void *)fails;
}

/* Two connections append at once (as the server and a CLI would): the head
 * is read inside each writer's transaction, so the chain stays whole. */
static void test_concurrent_writers_keep_the_chain(void **state)
{
    fixture *f = *state;
    pthread_t t[2];
    writer_arg args[2] = {{f->path, "server", 150}, {f->path, "cli", 150}};
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, appender_main, &args[i]), 0);
    for (int i = 0; i < 2; i++) {
        void *ret;
        pthread_join(t[i], &ret);
        assert_int_equal((intptr_t)ret, 0);
    }
    audit_report r;
    assert_int_equal(verify(f->db, &r), 0);
    assert_int_equal(r.entries, 300);
}

static void test_key_file_is_created_once_with_mode_0600(void **state)
{
    fixture *f = *state;
    uint8_t k1[AUDIT_KEY_BYTES], k2[AUDIT_KEY_BYTES];
    char err[256];
    assert_int_equal(audit_load_or_create_key(f->dir, k1, err, sizeof err), 0);
    assert_int_equal(audit_load_or_create_key(f->dir, k2, err, sizeof err), 0);
    assert_memory_equal(k1, k2, AUDIT_KEY_BYTES);
    uint8_t zero[AUDIT_KEY_BYTES] = {0};
    assert_memory_not_equal(k1, zero, AUDIT_KEY_BYTES);
    char path[256];
    snprintf(path, sizeof path, "%s/server.key", f->dir);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    assert_int_equal(sb.st_size, AUDIT_KEY_BYTES);

    /* too open: refused */
    assert_int_equal(chmod(path, 0644), 0);
    assert_int_equal(audit_load_or_create_key(f->dir, k2, err, sizeof err), -1);
    assert_non_null(strstr(err, "chmod 600"));
    assert_int_equal(chmod(path, 0600), 0);

    /* wrong size: refused */
    assert_int_equal(truncate(path, 16), 0);
    assert_int_equal(audit_load_or_create_key(f->dir, k2, err, sizeof err), -1);
    assert_non_null(strstr(err, "16 bytes"));
}

static void test_key_in_missing_dir_fails_with_message(void **state)
{
    (void)state;
    uint8_t k[AUDIT_KEY_BYTES];
    char err[256] = "";
    assert_int_equal(audit_load_or_create_key("/nonexistent/dir", k, err, sizeof err), -1);
    assert_non_null(strstr(err, "/nonexistent/dir"));
}

int main(void)
{
    if (sodium_init() < 0) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_empty_chain_holds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chain_holds_and_ids_count_up, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rolled_back_append_leaves_no_trace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_edited_after_is_named, setup, teardown),
        cmocka_unit_test_setup_teardown(test_edited_actor_is_named, setup, teardown),
        cmocka_unit_test_setup_teardown(test_null_for_empty_is_named, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deleted_entry_is_named, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replaced_hash_is_named, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rewritten_prev_hash_is_named, setup, teardown),
        cmocka_unit_test_setup_teardown(test_swapped_rows_are_named, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_key_fails_at_first_entry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_fields_are_refused, setup, teardown),
        cmocka_unit_test(test_hash_depends_on_every_field),
        cmocka_unit_test_setup_teardown(test_concurrent_writers_keep_the_chain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_file_is_created_once_with_mode_0600, setup,
                                        teardown),
        cmocka_unit_test(test_key_in_missing_dir_fails_with_message),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
