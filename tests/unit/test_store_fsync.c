/*
 * test_store_fsync.c -- proves that every acknowledged write was on disk
 * before its answer, and that group commit syncs once per batch.
 *
 * An instrumented SQLite VFS wraps the default "unix" VFS and watches the
 * WAL file: a frame header whose "database size after commit" field is set
 * marks a commit; the next xSync of the WAL makes that commit durable. At
 * each acknowledgement the test checks that the commit which carried the
 * command (result.commit_id, counted from the store's open) has been synced.
 * A second VFS fails the WAL's xSync: the store must stop the process
 * without acknowledging anything.
 */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_store_fixture.h"

/* ---- the counting VFS ------------------------------------------------------ */

typedef struct vfs_counts {
    int commits_written; /* commit frames written (one per commit) */
    int commits_synced;  /* commits followed by a WAL sync */
    int extra_wal_syncs; /* WAL syncs with no commit waiting (checkpoints, header) */
    int db_syncs;        /* syncs of the database file (checkpoints) */
    bool pending;        /* a commit frame written, not yet synced */
    bool fail_sync;      /* make the WAL's xSync fail */
} vfs_counts;

static vfs_counts counts; /* written by the writer thread, read by the loop */

static int count_get(int *p)
{
    return __atomic_load_n(p, __ATOMIC_SEQ_CST);
}

typedef struct cfile {
    sqlite3_file base;
    sqlite3_file *real; /* the unix VFS's file, allocated right after this struct */
    bool wal;
    bool main_db;
} cfile;

static sqlite3_vfs *unix_vfs;
static sqlite3_vfs counting_vfs;
static sqlite3_io_methods counting_io;

static int c_close(sqlite3_file *f)
{
    cfile *c = (cfile *)f;
    return c->real->pMethods->xClose(c->real);
}
static int c_read(sqlite3_file *f, void *buf, int n, sqlite3_int64 off)
{
    cfile *c = (cfile *)f;
    return c->real->pMethods->xRead(c->real, buf, n, off);
}
static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static int c_write(sqlite3_file *f, const void *buf, int n, sqlite3_int64 off)
{
    cfile *c = (cfile *)f;
    /* a WAL frame header is written on its own: 24 bytes after the 32-byte
     * WAL header; bytes 4..7 hold the database size after a commit */
    if (c->wal && n == 24 && off >= 32 && be32((const unsigned char *)buf + 4) != 0) {
        if (!__atomic_load_n(&counts.pending, __ATOMIC_SEQ_CST)) {
            __atomic_add_fetch(&counts.commits_written, 1, __ATOMIC_SEQ_CST);
            __atomic_store_n(&counts.pending, true, __ATOMIC_SEQ_CST);
        }
    }
    return c->real->pMethods->xWrite(c->real, buf, n, off);
}
static int c_truncate(sqlite3_file *f, sqlite3_int64 size)
{
    cfile *c = (cfile *)f;
    return c->real->pMethods->xTruncate(c->real, size);
}
static int c_sync(sqlite3_file *f, int flags)
{
    cfile *c = (cfile *)f;
    if (c->wal && __atomic_load_n(&counts.fail_sync, __ATOMIC_SEQ_CST)) return SQLITE_IOERR_FSYNC;
    int rc = c->real->pMethods->xSync(c->real, flags);
    if (rc == SQLITE_OK && c->wal) {
        /* counted after the real sync returned: only then is it durable */
        if (__atomic_load_n(&counts.pending, __ATOMIC_SEQ_CST)) {
            __atomic_store_n(&counts.pending, false, __ATOMIC_SEQ_CST);
            __atomic_add_fetch(&counts.commits_synced, 1, __ATOMIC_SEQ_CST);
        } else {
            __atomic_add_fetch(&counts.extra_wal_syncs, 1, __ATOMIC_SEQ_CST);
        }
    } else if (rc == SQLITE_OK && c->main_db) {
        __atomic_add_fetch(&counts.db_syncs, 1, __ATOMIC_SEQ_CST);
    }
    return rc;
}
static int c_file_size(sqlite3_file *f, sqlite3_int64 *size)
{
    cfile *c = (cfile *)f;
    return c->real->pMethods->xFileSize(c->real, size);
}
static int c_lock(sqlite3_file *f, int l)
{
    cfile *c = (cfile *)f;
    return c->real->pMethods->xLock(c->real, l);
}
static int c_unlock(sqlite3_file *f, int l)
{
    cfile *c = (cfile *)f;
    return c->real->pMethods->xUnlock(c->real, l);
}
static int c_check_reserved(sqlite3_file *f, int *out)
{
    cfile *c = (cfile *)f;
    return c->real->pMethods->xCheckReservedLock(c->real, out);
}
static int c_file_control(sqlite3_file *f, int op, void *arg)
{
    cfile *c = (cfile *)f;
    return c->real->pMethods->xFileControl(c->real, op, arg);
}
static int c_sector_size(sqlite3_file *f)
{
    cfile *c = (cfile *)f;
    return c->real->pMethods->xSectorSize(c->real);
}
static int c_device_characteristics(sqlite3_file *f)
{
    cfile *c = (cfile *)f;
    return c->real->pMethods->xDeviceCharacteristics(c->real);
}
static int c_shm_map(sqlite3_file *f, int pg, int pgsz, int extend, void volatile **pp)
{
    cfile *c = (cfile *)f;
    return c->real->pMethods->xShmMap(c->real, pg, pgsz, extend, pp);
}
static int c_shm_lock(sqlite3_file *f, int offset, int n, int flags)
{
    cfile *c = (cfile *)f;
    return c->real->pMethods->xShmLock(c->real, offset, n, flags);
}
static void c_shm_barrier(sqlite3_file *f)
{
    cfile *c = (cfile *)f;
    c->real->pMethods->xShmBarrier(c->real);
}
static int c_shm_unmap(sqlite3_file *f, int del)
{
    cfile *c = (cfile *)f;
    return c->real->pMethods->xShmUnmap(c->real, del);
}

static int c_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *f, int flags, int *out)
{
    (void)vfs;
    cfile *c = (cfile *)f;
    memset(c, 0, sizeof *c);
    c->real = (sqlite3_file *)(c + 1);
    int rc = unix_vfs->xOpen(unix_vfs, name, c->real, flags, out);
    if (rc != SQLITE_OK) return rc;
    c->wal = (flags & SQLITE_OPEN_WAL) != 0;
    c->main_db = (flags & SQLITE_OPEN_MAIN_DB) != 0;
    c->base.pMethods = &counting_io;
    return SQLITE_OK;
}

static void counting_vfs_register(void)
{
    if (unix_vfs) return;
    unix_vfs = sqlite3_vfs_find("unix");
    assert_non_null(unix_vfs);
    counting_vfs = *unix_vfs;
    counting_vfs.zName = "counting";
    counting_vfs.szOsFile = (int)sizeof(cfile) + unix_vfs->szOsFile;
    counting_vfs.xOpen = c_open;
    counting_vfs.pNext = NULL;
    counting_io = (sqlite3_io_methods){
        .iVersion = 2, /* no memory-mapped I/O: every write goes through xWrite */
        .xClose = c_close,
        .xRead = c_read,
        .xWrite = c_write,
        .xTruncate = c_truncate,
        .xSync = c_sync,
        .xFileSize = c_file_size,
        .xLock = c_lock,
        .xUnlock = c_unlock,
        .xCheckReservedLock = c_check_reserved,
        .xFileControl = c_file_control,
        .xSectorSize = c_sector_size,
        .xDeviceCharacteristics = c_device_characteristics,
        .xShmMap = c_shm_map,
        .xShmLock = c_shm_lock,
        .xShmBarrier = c_shm_barrier,
        .xShmUnmap = c_shm_unmap,
    };
    assert_int_equal(sqlite3_vfs_register(&counting_vfs, 0), SQLITE_OK);
}

/* ---- acknowledged means synced ------------------------------------------------ */

typedef struct run {
    tfix *f;
    int base_synced; /* commits synced before the first command */
    int to_submit, acked, violations;
    uint64_t max_commit;
    json_t *body;
} run;

static void submit_next(run *r);

static void on_ack(const store_result *res, void *udata)
{
    run *r = udata;
    assert_int_equal(res->status, 0);
    assert_true(res->commit_id > 0);
    /* the commit that carried this command has been synced */
    int synced = count_get(&counts.commits_synced) - r->base_synced;
    if ((uint64_t)synced < res->commit_id) r->violations++;
    if (res->commit_id > r->max_commit) r->max_commit = res->commit_id;
    r->acked++;
    submit_next(r);
}

static void submit_next(run *r)
{
    if (r->to_submit == 0) return;
    r->to_submit--;
    store_command cmd = {.op = REG_OP_CREATE,
                         .level = REG_DAGINSTITUTION,
                         .body = r->body,
                         .actor = actor_support()};
    assert_int_equal(store_submit(r->f->s, &cmd, on_ack, r), 0);
}

/* n creates with `inflight` kept in flight; returns the store's commits. */
static uint64_t run_creates(tfix *f, int n, int inflight, int *violations)
{
    run r = {.f = f, .to_submit = n};
    r.body = di_body("Synkron", 101, 1, 1);
    r.base_synced = count_get(&counts.commits_synced);
    assert_false(__atomic_load_n(&counts.pending, __ATOMIC_SEQ_CST)); /* nothing half-committed */
    for (int i = 0; i < inflight; i++)
        submit_next(&r);
    store_wait(f->s);
    json_decref(r.body);
    assert_int_equal(r.acked, n);
    *violations = r.violations;
    store_stats st;
    store_get_stats(f->s, &st);
    assert_int_equal(st.commits, r.max_commit);
    /* every commit of the store was followed by exactly one WAL sync */
    assert_int_equal(count_get(&counts.commits_synced) - r.base_synced, (int)st.commits);
    assert_int_equal(count_get(&counts.commits_written) - r.base_synced, (int)st.commits);
    return st.commits;
}

static void test_group_commit_acks_only_synced_commits(void **state)
{
    (void)state;
    counting_vfs_register();
    tfix *f = fix_new("test_store_fsync");
    f->vfs = "counting";
    fix_open(f);
    int extra_before = count_get(&counts.extra_wal_syncs);
    int db_before = count_get(&counts.db_syncs);
    int violations = -1;
    uint64_t commits = run_creates(f, 1280, 64, &violations);
    assert_int_equal(violations, 0);
    /* batches happened: far fewer commits (and WAL syncs) than commands */
    assert_true(commits * 4 <= 1280);
    /* the only other WAL syncs belong to checkpoints (each also syncs the
     * database file once): one before the pages are copied back, one for
     * the header of the WAL that restarts after it */
    int extra = count_get(&counts.extra_wal_syncs) - extra_before;
    int checkpoints = count_get(&counts.db_syncs) - db_before;
    assert_true(extra <= 2 * checkpoints);
    print_message("group commit: 1280 creates in %llu commits (one WAL sync each), %d "
                  "checkpoints\n",
                  (unsigned long long)commits, checkpoints);
    fix_free(f);
}

static void test_one_transaction_per_command_mode_syncs_each(void **state)
{
    (void)state;
    counting_vfs_register();
    tfix *f = fix_new("test_store_fsync");
    f->vfs = "counting";
    f->no_group_commit = true;
    fix_open(f);
    int violations = -1;
    uint64_t commits = run_creates(f, 200, 16, &violations);
    assert_int_equal(violations, 0);
    assert_int_equal(commits, 200);
    fix_free(f);
}

/* A failed fsync of the WAL: the store logs and aborts, and nothing is
 * acknowledged. Runs in a child process. */
static void child_ack(const store_result *res, void *udata)
{
    int fd = *(int *)udata;
    char line[32];
    int n = snprintf(line, sizeof line, "%d\n", res->status);
    if (write(fd, line, (size_t)n) < 0) _exit(3);
}

static void test_failed_fsync_stops_the_process_unanswered(void **state)
{
    (void)state;
    tfix *f = fix_new("test_store_fsync");
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        if (!freopen("/dev/null", "w", stderr)) /* the store's FATAL line is expected */
            _exit(6);
        counting_vfs_register();
        f->vfs = "counting";
        fix_open(f);
        __atomic_store_n(&counts.fail_sync, true, __ATOMIC_SEQ_CST);
        json_t *body = di_body("Aldrig", 101, 1, 1);
        store_command cmd = {.op = REG_OP_CREATE,
                             .level = REG_DAGINSTITUTION,
                             .body = body,
                             .actor = actor_support()};
        store_submit_sync(f->s, &cmd, child_ack, &fds[1]);
        _exit(0); /* not reached: the store aborts */
    }
    close(fds[1]);
    char buf[64];
    ssize_t n = read(fds[0], buf, sizeof buf);
    close(fds[0]);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_int_equal(n, 0); /* no answer of any kind */
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGABRT);
    fix_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_group_commit_acks_only_synced_commits),
        cmocka_unit_test(test_one_transaction_per_command_mode_syncs_each),
        cmocka_unit_test(test_failed_fsync_stops_the_process_unanswered),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
