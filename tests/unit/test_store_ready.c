/*
 * test_store_ready.c -- store_writable, which /readyz asks: false from a
 * batch that could not commit (here a disk that is full: a VFS whose writes
 * fail with SQLITE_FULL) until a commit succeeds again, and a write probe
 * that finds out both without any command being sent.
 */
#include <stdatomic.h>

#include "test_store_fixture.h"

/* ---- a disk that can fill up ------------------------------------------------- */

static atomic_bool disk_full;
static sqlite3_vfs *unix_vfs;
static sqlite3_vfs full_vfs;
/* The unix VFS gives the database file and the WAL different method tables:
 * each real table gets a copy whose xWrite can fail. */
enum { MAX_TABLES = 8 };
static const sqlite3_io_methods *real_io[MAX_TABLES];
static sqlite3_io_methods full_io[MAX_TABLES];
static int n_tables;

/* The file is the unix VFS's own (same size, same layout); only its
 * methods are swapped for the copy. */
static int f_write(sqlite3_file *f, const void *buf, int n, sqlite3_int64 off)
{
    if (atomic_load(&disk_full)) return SQLITE_FULL;
    const sqlite3_io_methods *real = real_io[f->pMethods - full_io];
    return real->xWrite(f, buf, n, off);
}

static int f_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *f, int flags, int *out)
{
    (void)vfs;
    int rc = unix_vfs->xOpen(unix_vfs, name, f, flags, out);
    if (rc != SQLITE_OK || !f->pMethods) return rc;
    int i = 0;
    while (i < n_tables && real_io[i] != f->pMethods)
        i++;
    if (i == n_tables) {
        assert_true(n_tables < MAX_TABLES);
        real_io[i] = f->pMethods;
        full_io[i] = *f->pMethods;
        full_io[i].xWrite = f_write;
        n_tables++;
    }
    f->pMethods = &full_io[i];
    return SQLITE_OK;
}

static void full_vfs_register(void)
{
    if (unix_vfs) return;
    unix_vfs = sqlite3_vfs_find("unix");
    assert_non_null(unix_vfs);
    full_vfs = *unix_vfs;
    full_vfs.zName = "diskfull";
    full_vfs.xOpen = f_open;
    full_vfs.pNext = NULL;
    assert_int_equal(sqlite3_vfs_register(&full_vfs, 0), SQLITE_OK);
}

static int setup(void **state)
{
    full_vfs_register();
    atomic_store(&disk_full, false);
    tfix *f = fix_new("ready");
    f->vfs = "diskfull";
    fix_open(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    atomic_store(&disk_full, false);
    fix_free(*state);
    return 0;
}

static const char body[] =
    "{\"navn\":\"Klar\",\"ejerformKode\":1,\"lovgrundlagKode\":1,\"admKommuneKode\":101}";

static void create(tfix *f, answer *a)
{
    json_t *b = json_loads(body, 0, NULL);
    store_command cmd = {
        .op = REG_OP_CREATE, .level = REG_DAGINSTITUTION, .body = b, .actor = actor_support()};
    assert_int_equal(store_submit(f->s, &cmd, answer_cb, a), 0);
    json_decref(b);
    store_wait(f->s);
}

/* A failed commit makes the store unready; a commit that succeeds makes it
 * ready again. */
static void test_failed_commit_then_recovery(void **state)
{
    tfix *f = *state;
    char why[128];
    assert_true(store_writable(f->s, why, sizeof why));
    store_wait(f->s); /* the first probe */
    assert_true(store_writable(f->s, why, sizeof why));

    atomic_store(&disk_full, true);
    answer a = {0};
    create(f, &a);
    assert_int_equal(a.status, 503);
    answer_clear(&a);
    assert_false(store_writable(f->s, why, sizeof why));
    assert_non_null(strstr(why, "cannot write"));

    atomic_store(&disk_full, false);
    create(f, &a);
    assert_int_equal(a.status, 0);
    answer_clear(&a);
    assert_true(store_writable(f->s, why, sizeof why));
}

/* Without any command: the periodic probe finds the full disk, and later
 * finds it writable again. */
static void test_probe_finds_full_disk_and_recovery(void **state)
{
    tfix *f = *state;
    char why[128];
    assert_true(store_writable(f->s, why, sizeof why));
    store_wait(f->s);

    atomic_store(&disk_full, true);
    f->now_ms += 10000;                                 /* the next probe is due */
    assert_true(store_writable(f->s, why, sizeof why)); /* not known yet: probe queued */
    store_wait(f->s);
    assert_false(store_writable(f->s, why, sizeof why));
    store_wait(f->s);

    atomic_store(&disk_full, false);
    assert_false(store_writable(f->s, why, sizeof why)); /* the last probe failed */
    f->now_ms += 1000;                                   /* while failing: every second */
    assert_false(store_writable(f->s, why, sizeof why));
    store_wait(f->s);
    assert_true(store_writable(f->s, why, sizeof why));
    assert_int_equal(count_rows(f, "SELECT count(*) FROM record"), 0); /* a probe adds nothing */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_failed_commit_then_recovery, setup, teardown),
        cmocka_unit_test_setup_teardown(test_probe_finds_full_disk_and_recovery, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
