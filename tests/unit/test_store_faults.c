/*
 * test_store_faults.c -- the store under injected faults, through the real
 * components' own hooks (no mocks): a SQLite VFS that wraps "unix" and
 * fails the Nth write (SQLITE_IOERR_WRITE), the Nth fsync, returns
 * SQLITE_FULL for the Nth write or tears it (half the bytes written, then an
 * I/O error); SQLite's allocator (SQLITE_CONFIG_MALLOC) and jansson's
 * (json_set_alloc_funcs) failing their Nth allocation on the store's threads.
 *
 * For each of a create (with a nested unit), a PATCH, a move, a close and an
 * import batch (three creates with their numbers kept, one group commit),
 * N walks over every step the command takes until the fault is no longer
 * reached. Each trial shows:
 *   - no crash: the answer is 503 IKKE_KLAR, or the process ends with the
 *     store's FATAL abort and acknowledges nothing: on an I/O error (the
 *     kernel may have dropped what it was given) and when jansson cannot
 *     make a value (dtr's allocator for it, store_json_malloc, aborts: a
 *     decision on a value missing a field is wrong, not unavailable). SQLite
 *     out of memory and a full disk never end the process;
 *   - nothing half-written: PRAGMA integrity_check is "ok", the hændelser
 *     are gapless from 1, the audit chain verifies, and the command's
 *     hændelser are all there or none;
 *   - the same command succeeds once the fault is gone.
 * I/O faults and jansson's run each trial in a child process on a copy of a
 * prepared database (the abort is the documented outcome for an I/O error);
 * SQLite's allocation faults run in this process, on one store, every trial
 * after the last. The quick run (ctest) skips some steps past the
 * first ones (next_n); DTR_FAULTS_FULL=1 fails every one.
 */
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/store_int.h" /* audit_verify on the file as stored */
#include "test_store_fixture.h"

/* ---- the fault, shared by the hooks ------------------------------------------ */

typedef enum fkind {
    F_NONE,
    F_WRITE,  /* xWrite: SQLITE_IOERR_WRITE */
    F_SYNC,   /* xSync: SQLITE_IOERR_FSYNC */
    F_FULL,   /* xWrite: SQLITE_FULL */
    F_TORN,   /* xWrite: the first half of the bytes, then SQLITE_IOERR_WRITE */
    F_SQLMEM, /* SQLite's allocator: NULL */
    F_JSONMEM /* jansson's allocator: NULL */
} fkind;

static const char *const fkind_name[] = {"none", "write",         "fsync",         "full",
                                         "torn", "sqlite-malloc", "jansson-malloc"};

static int fault_kind;  /* fkind armed, F_NONE when off */
static long fault_left; /* steps until the fault (it fires when this reaches 0) */
static int fault_fired; /* the fault happened */
static pthread_t main_thread;

static void fault_arm(fkind k, long n)
{
    __atomic_store_n(&fault_fired, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&fault_left, n, __ATOMIC_SEQ_CST);
    __atomic_store_n(&fault_kind, (int)k, __ATOMIC_SEQ_CST);
}

static void fault_disarm(void)
{
    __atomic_store_n(&fault_kind, F_NONE, __ATOMIC_SEQ_CST);
}

/* Whether this step of kind k is the one that fails. Only the store's own
 * threads count (the test's thread builds bodies and reads answers). */
static bool fault_now(fkind k)
{
    if (__atomic_load_n(&fault_kind, __ATOMIC_SEQ_CST) != (int)k) return false;
    if (pthread_equal(pthread_self(), main_thread)) return false;
    if (__atomic_sub_fetch(&fault_left, 1, __ATOMIC_SEQ_CST) != 0) return false;
    __atomic_store_n(&fault_fired, 1, __ATOMIC_SEQ_CST);
    return true;
}

/* ---- the VFS --------------------------------------------------------------------- */

typedef struct ffile {
    sqlite3_file base;
    sqlite3_file *real; /* the unix VFS's file, allocated right after this struct */
} ffile;

static sqlite3_vfs *unix_vfs;
static sqlite3_vfs fault_vfs;
static sqlite3_io_methods fault_io;

#define REAL(f) (((ffile *)(f))->real)

static int f_close(sqlite3_file *f)
{
    return REAL(f)->pMethods->xClose(REAL(f));
}
static int f_read(sqlite3_file *f, void *buf, int n, sqlite3_int64 off)
{
    return REAL(f)->pMethods->xRead(REAL(f), buf, n, off);
}
static int f_write(sqlite3_file *f, const void *buf, int n, sqlite3_int64 off)
{
    if (fault_now(F_WRITE)) return SQLITE_IOERR_WRITE;
    if (fault_now(F_FULL)) return SQLITE_FULL;
    if (fault_now(F_TORN)) {
        REAL(f)->pMethods->xWrite(REAL(f), buf, n / 2, off);
        return SQLITE_IOERR_WRITE;
    }
    return REAL(f)->pMethods->xWrite(REAL(f), buf, n, off);
}
static int f_truncate(sqlite3_file *f, sqlite3_int64 size)
{
    return REAL(f)->pMethods->xTruncate(REAL(f), size);
}
static int f_sync(sqlite3_file *f, int flags)
{
    if (fault_now(F_SYNC)) return SQLITE_IOERR_FSYNC;
    return REAL(f)->pMethods->xSync(REAL(f), flags);
}
static int f_file_size(sqlite3_file *f, sqlite3_int64 *size)
{
    return REAL(f)->pMethods->xFileSize(REAL(f), size);
}
static int f_lock(sqlite3_file *f, int l)
{
    return REAL(f)->pMethods->xLock(REAL(f), l);
}
static int f_unlock(sqlite3_file *f, int l)
{
    return REAL(f)->pMethods->xUnlock(REAL(f), l);
}
static int f_check_reserved(sqlite3_file *f, int *out)
{
    return REAL(f)->pMethods->xCheckReservedLock(REAL(f), out);
}
static int f_file_control(sqlite3_file *f, int op, void *arg)
{
    return REAL(f)->pMethods->xFileControl(REAL(f), op, arg);
}
static int f_sector_size(sqlite3_file *f)
{
    return REAL(f)->pMethods->xSectorSize(REAL(f));
}
static int f_device_characteristics(sqlite3_file *f)
{
    return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f));
}
static int f_shm_map(sqlite3_file *f, int pg, int pgsz, int extend, void volatile **pp)
{
    return REAL(f)->pMethods->xShmMap(REAL(f), pg, pgsz, extend, pp);
}
static int f_shm_lock(sqlite3_file *f, int offset, int n, int flags)
{
    return REAL(f)->pMethods->xShmLock(REAL(f), offset, n, flags);
}
static void f_shm_barrier(sqlite3_file *f)
{
    REAL(f)->pMethods->xShmBarrier(REAL(f));
}
static int f_shm_unmap(sqlite3_file *f, int del)
{
    return REAL(f)->pMethods->xShmUnmap(REAL(f), del);
}

static int f_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *f, int flags, int *out)
{
    (void)vfs;
    ffile *c = (ffile *)f;
    memset(c, 0, sizeof *c);
    c->real = (sqlite3_file *)(c + 1);
    int rc = unix_vfs->xOpen(unix_vfs, name, c->real, flags, out);
    if (rc != SQLITE_OK) return rc;
    c->base.pMethods = &fault_io;
    return SQLITE_OK;
}

static void fault_vfs_register(void)
{
    if (unix_vfs) return;
    unix_vfs = sqlite3_vfs_find("unix");
    assert_non_null(unix_vfs);
    fault_vfs = *unix_vfs;
    fault_vfs.zName = "fault";
    fault_vfs.szOsFile = (int)sizeof(ffile) + unix_vfs->szOsFile;
    fault_vfs.xOpen = f_open;
    fault_vfs.pNext = NULL;
    fault_io = (sqlite3_io_methods){
        .iVersion = 2, /* no memory-mapped I/O: every write goes through xWrite */
        .xClose = f_close,
        .xRead = f_read,
        .xWrite = f_write,
        .xTruncate = f_truncate,
        .xSync = f_sync,
        .xFileSize = f_file_size,
        .xLock = f_lock,
        .xUnlock = f_unlock,
        .xCheckReservedLock = f_check_reserved,
        .xFileControl = f_file_control,
        .xSectorSize = f_sector_size,
        .xDeviceCharacteristics = f_device_characteristics,
        .xShmMap = f_shm_map,
        .xShmLock = f_shm_lock,
        .xShmBarrier = f_shm_barrier,
        .xShmUnmap = f_shm_unmap,
    };
    assert_int_equal(sqlite3_vfs_register(&fault_vfs, 0), SQLITE_OK);
}

/* ---- the allocators -------------------------------------------------------------- */

static sqlite3_mem_methods sqlite_mem;

static void *sql_malloc(int n)
{
    return fault_now(F_SQLMEM) ? NULL : sqlite_mem.xMalloc(n);
}
static void *sql_realloc(void *p, int n)
{
    return fault_now(F_SQLMEM) ? NULL : sqlite_mem.xRealloc(p, n);
}

/* jansson's allocator as dtr installs it (store_json_malloc: malloc, or
 * store_out_of_memory), with the Nth allocation failing. */
static void *json_fault_malloc(size_t n)
{
    if (fault_now(F_JSONMEM)) store_out_of_memory("jansson, injected");
    return store_json_malloc(n);
}

/* Installs both allocator hooks: before SQLite's first use in the process. */
static void alloc_hooks_install(void)
{
    assert_int_equal(sqlite3_config(SQLITE_CONFIG_GETMALLOC, &sqlite_mem), SQLITE_OK);
    sqlite3_mem_methods m = sqlite_mem;
    m.xMalloc = sql_malloc;
    m.xRealloc = sql_realloc;
    assert_int_equal(sqlite3_config(SQLITE_CONFIG_MALLOC, &m), SQLITE_OK);
    json_set_alloc_funcs(json_fault_malloc, free);
}

/* ---- the commands ------------------------------------------------------------------ */

/* The prepared world: daginstitutioner A and B, A's unit U with an
 * alternative address. */
typedef struct world {
    char a[7], b[7], u[7], x[7];
} world;

static world w;

typedef enum cmdkind { C_CREATE, C_PATCH, C_MOVE, C_CLOSE, C_IMPORT, C_COUNT } cmdkind;
static const char *const cmd_name[] = {"create", "patch", "move", "close", "import"};

typedef struct batch {
    int n, answered;
    int status[3];
    int64_t events;
} batch;

static void batch_cb(const store_result *res, void *udata)
{
    batch *b = udata;
    int i = b->answered++;
    b->status[i] = res->status;
    if (res->status == 0 && res->seq_first) b->events += res->seq_last - res->seq_first + 1;
}

static reg_actor actor_import(void)
{
    return (reg_actor){.id = "import", .role = REG_ROLE_SYSTEM};
}

/* Submits the command of kind k, variant v (so that it changes something
 * when repeated in one store: another name, parent or date), and waits.
 * Returns the batch: one answer, or three for the import. */
static batch run_kind(tfix *f, cmdkind k, long v)
{
    batch b = {.n = 1};
    json_t *bodies[3] = {NULL, NULL, NULL};
    store_command cmds[3];
    memset(cmds, 0, sizeof cmds);
    char navn[48], til[16], nummer[3][8];
    snprintf(navn, sizeof navn, "Navn %ld", v);
    reg_actor support = actor_support(), imp = actor_import();
    switch (k) {
    case C_CREATE:
        bodies[0] = di_body(navn, 101, 1, 1);
        json_object_set_new(bodies[0], "anvisningsenheder",
                            json_pack("[o]", ae_body(NULL, "Enhed", 6011, 101)));
        cmds[0] = (store_command){.op = REG_OP_CREATE, .level = REG_DAGINSTITUTION};
        break;
    case C_PATCH:
        bodies[0] = json_pack("{s:s}", "navn", navn);
        cmds[0] = (store_command){.op = REG_OP_UPDATE, .level = REG_DAGINSTITUTION, .nummer = w.a};
        break;
    case C_MOVE:
        bodies[0] = json_pack("{s:s}", "daginstitutionsNummer", v % 2 ? w.b : w.a);
        cmds[0] = (store_command){.op = REG_OP_MOVE, .level = REG_ANVISNINGSENHED, .nummer = w.u};
        break;
    case C_CLOSE:
        snprintf(til, sizeof til, "2027-%02ld-%02ld", 1 + v / 28 % 12, 1 + v % 28);
        bodies[0] = json_pack("{s:s}", "virkningTil", til);
        cmds[0] =
            (store_command){.op = REG_OP_CLOSE, .level = REG_ALTERNATIV_ADRESSE, .nummer = w.x};
        break;
    case C_IMPORT:
        b.n = 3;
        for (int i = 0; i < 3; i++) {
            snprintf(nummer[i], sizeof nummer[i], "L%05ld", (v * 3 + i) % 100000);
            bodies[i] = di_body(navn, 101, 1, 1);
            json_object_set_new(bodies[i], "nummer", json_string(nummer[i]));
            cmds[i] = (store_command){
                .op = REG_OP_CREATE, .level = REG_DAGINSTITUTION, .keep_numbers = true};
        }
        break;
    default:
        fail_msg("no such command");
    }
    for (int i = 0; i < b.n; i++) {
        cmds[i].body = bodies[i];
        cmds[i].actor = k == C_IMPORT ? imp : support;
        cmds[i].request_id = "fault";
        if (store_submit(f->s, &cmds[i], batch_cb, &b) != 0) fail_msg("store_submit refused");
    }
    store_wait(f->s);
    for (int i = 0; i < b.n; i++)
        json_decref(bodies[i]);
    assert_int_equal(b.answered, b.n);
    return b;
}

/* ---- the checks ---------------------------------------------------------------------- */

/* audit_verify on the file as stored, through a connection of its own
 * (sql.h, as a side connection: read-write, creating nothing). */
static int verify_file_chain(tfix *f, audit_report *rep)
{
    sql_conn *c = fix_sql_open(f, false);
    int rc = audit_verify(c, f->key, rep);
    sql_close(c);
    return rc;
}

/* Nothing half-written: integrity, hændelser 1..n without a gap, the audit
 * chain. Returns the number of hændelser. Opens its own connections. */
static int64_t check_consistent(tfix *f)
{
    char path[128];
    snprintf(path, sizeof path, "%s/dtr.sqlite", f->dir);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
    sqlite3_finalize(st);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT count(*), coalesce(min(sekvensnummer), 1), "
                                        "coalesce(max(sekvensnummer), 0) FROM haendelse",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(st, 0);
    assert_int_equal(sqlite3_column_int64(st, 1), 1);
    assert_int_equal(sqlite3_column_int64(st, 2), n); /* gapless */
    sqlite3_finalize(st);
    audit_report rep;
    assert_int_equal(verify_file_chain(f, &rep), 0);
    assert_int_equal(rep.first_bad_id, 0);
    sqlite3_close(db);
    return n;
}

static void world_make(tfix *f)
{
    fix_open(f);
    create_ok(f, REG_DAGINSTITUTION, di_body("A", 101, 1, 1), w.a);
    create_ok(f, REG_DAGINSTITUTION, di_body("B", 101, 1, 1), w.b);
    create_ok(f, REG_ANVISNINGSENHED, ae_body(w.a, "U", 6011, 101), w.u);
    create_ok(f, REG_ALTERNATIV_ADRESSE, aa_body(w.u, "X", 101), w.x);
    fix_close(f);
}

/* Copies the regular files of from into the (existing, empty) to. */
static void copy_dir(const char *from, const char *to)
{
    DIR *d = opendir(from);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char src[512], dst[512];
        snprintf(src, sizeof src, "%s/%s", from, e->d_name);
        snprintf(dst, sizeof dst, "%s/%s", to, e->d_name);
        struct stat sb;
        if (stat(src, &sb) != 0 || !S_ISREG(sb.st_mode)) continue;
        int in = open(src, O_RDONLY), out = open(dst, O_WRONLY | O_CREAT | O_TRUNC, sb.st_mode);
        assert_true(in >= 0 && out >= 0);
        char buf[65536];
        ssize_t n;
        while ((n = read(in, buf, sizeof buf)) > 0)
            assert_int_equal(write(out, buf, (size_t)n), n);
        close(in);
        close(out);
    }
    closedir(d);
}

/* What a trial's child reports through its pipe. */
typedef struct report {
    int first[3];  /* the answers under the fault */
    int fired;     /* the fault was reached */
    int retry[3];  /* the answers of the same command after it (503s only) */
    int64_t added; /* hændelser the command added in all */
} report;

/* The child of an I/O trial: opens the copy through the fault VFS, runs the
 * command under the fault, then again without it when refused, and reports.
 * The store may abort (the documented end of an I/O error): the parent sees
 * the signal and no report. */
static void child_trial(tfix *f, cmdkind k, fkind kind, long n, int fd)
{
    if (!freopen("/dev/null", "w", stderr)) _exit(6); /* the FATAL line is expected */
    f->vfs = "fault";
    fix_open(f);
    report r;
    memset(&r, 0, sizeof r);
    fault_arm(kind, n);
    batch b = run_kind(f, k, 1);
    fault_disarm();
    r.fired = __atomic_load_n(&fault_fired, __ATOMIC_SEQ_CST);
    r.added = b.events;
    batch again = {0};
    bool refused = false;
    for (int i = 0; i < b.n; i++) {
        r.first[i] = b.status[i];
        refused |= b.status[i] != 0;
    }
    if (refused) {
        again = run_kind(f, k, 1);
        r.added += again.events;
        for (int i = 0; i < b.n; i++)
            r.retry[i] = again.status[i];
    }
    fix_close(f);
    if (write(fd, &r, sizeof r) != (ssize_t)sizeof r) _exit(3);
    _exit(0);
}

/* The step after n to fail. DTR_FAULTS_FULL=1: every one. The quick run
 * (ctest, under a minute): every one of the first 16 writes and then one in
 * three; every one of the first 32 allocations (hundreds per command) and
 * then about one in eight. */
static long next_n(long n, fkind kind)
{
    if (getenv("DTR_FAULTS_FULL")) return n;
    if (kind != F_SQLMEM && kind != F_JSONMEM) return n < 16 ? n : n + 2;
    return n < 32 ? n : n + n / 8 - 1;
}

/* Walks N over every step of kind of command k until the fault is no
 * longer reached, each in a child process. Returns the number of trials. */
static int walk_io(cmdkind k, fkind kind, const char *base, int64_t base_events,
                   int64_t events_of_k)
{
    int trials = 0;
    for (long n = 1;; n++) {
        assert_true(n < 2000);
        tfix *f = fix_new("test_store_faults_trial");
        copy_dir(base, f->dir);
        int fds[2];
        assert_int_equal(pipe(fds), 0);
        fflush(NULL);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(fds[0]);
            child_trial(f, k, kind, n, fds[1]);
        }
        close(fds[1]);
        report r;
        ssize_t got = read(fds[0], &r, sizeof r);
        close(fds[0]);
        int wstatus = 0;
        assert_int_equal(waitpid(pid, &wstatus, 0), pid);
        trials++;
        bool aborted = WIFSIGNALED(wstatus);
        if (aborted) {
            /* only an I/O error may end the process, and only by the store's abort */
            if (WTERMSIG(wstatus) != SIGABRT || kind == F_FULL || kind == F_SQLMEM)
                fail_msg("%s under %s #%ld: killed by signal %d", cmd_name[k], fkind_name[kind], n,
                         WTERMSIG(wstatus));
            assert_int_equal(got, 0);
        } else {
            if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0 || got != (ssize_t)sizeof r)
                fail_msg("%s under %s #%ld: child failed (%d)", cmd_name[k], fkind_name[kind], n,
                         wstatus);
            for (int i = 0; i < (k == C_IMPORT ? 3 : 1); i++) {
                if (r.first[i] != 0 && r.first[i] != 503)
                    fail_msg("%s under %s #%ld: answered %d", cmd_name[k], fkind_name[kind], n,
                             r.first[i]);
                if (r.first[i] == 503 && r.retry[i] != 0)
                    fail_msg("%s under %s #%ld: %d again after the fault", cmd_name[k],
                             fkind_name[kind], n, r.retry[i]);
            }
        }
        /* the database the child left, as a restart finds it */
        int64_t events = check_consistent(f);
        if (aborted) {
            /* all of each command or none of it (the import's three creates
             * may have gone in more than one commit), and it succeeds now */
            int64_t added = events - base_events;
            int64_t per = k == C_IMPORT ? events_of_k / 3 : events_of_k;
            if (added % per != 0 || added > events_of_k)
                fail_msg("%s under %s #%ld: %lld of %lld hændelser after the abort", cmd_name[k],
                         fkind_name[kind], n, (long long)added, (long long)events_of_k);
            if (added < events_of_k) {
                fix_open(f);
                batch b = run_kind(f, k, 1);
                for (int i = 0; i < b.n; i++)
                    if (b.status[i] != 0 && !(k == C_IMPORT && b.status[i] == 409))
                        fail_msg("%s under %s #%ld: %d after the restart", cmd_name[k],
                                 fkind_name[kind], n, b.status[i]);
                fix_close(f);
                assert_int_equal(check_consistent(f), base_events + events_of_k);
            }
        } else {
            assert_int_equal(events, base_events + events_of_k);
            assert_int_equal(r.added, events_of_k);
        }
        fix_free(f);
        if (!aborted && !r.fired) break; /* past the command's last step */
        n = next_n(n, kind);
    }
    return trials;
}

/* ---- the tests ---------------------------------------------------------------------- */

/* How many hændelser each command writes on the prepared world. */
static int64_t events_of(const char *base, cmdkind k)
{
    tfix *f = fix_new("test_store_faults_count");
    copy_dir(base, f->dir);
    fix_open(f);
    batch b = run_kind(f, k, 1);
    for (int i = 0; i < b.n; i++)
        assert_int_equal(b.status[i], 0);
    fix_free(f);
    return b.events;
}

static void test_io_faults(void **state)
{
    (void)state;
    fault_vfs_register();
    tfix *base = fix_new("test_store_faults_base");
    world_make(base);
    int64_t base_events = check_consistent(base);
    static const fkind kinds[] = {F_WRITE, F_SYNC, F_FULL, F_TORN, F_JSONMEM};
    int total = 0;
    for (cmdkind k = 0; k < C_COUNT; k++) {
        int64_t ev = events_of(base->dir, k);
        assert_true(ev > 0);
        for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++) {
            int t = walk_io(k, kinds[i], base->dir, base_events, ev);
            print_message("%-6s x %-5s: %d trials\n", cmd_name[k], fkind_name[kinds[i]], t);
            total += t;
        }
    }
    print_message("I/O faults: %d trials, none half-written\n", total);
    fix_free(base);
}

/* SQLite out of memory, in this process: each trial's command is answered 0
 * or 503 and then succeeds; the store stays consistent throughout. */
static void walk_alloc(tfix *f, cmdkind k, fkind kind, long *variant, int *trials)
{
    for (long n = 1;; n++) {
        assert_true(n < 100000);
        int64_t before = check_consistent(f);
        long v = ++*variant;
        if (getenv("FAULTS_TRACE"))
            fprintf(stderr, "TRIAL %s %s %ld\n", cmd_name[k], fkind_name[kind], n);
        fault_arm(kind, n);
        batch b = run_kind(f, k, v);
        fault_disarm();
        bool fired = __atomic_load_n(&fault_fired, __ATOMIC_SEQ_CST);
        (*trials)++;
        int64_t added = b.events;
        for (int i = 0; i < b.n; i++)
            if (b.status[i] != 0 && b.status[i] != 503)
                fail_msg("%s under %s #%ld: answered %d", cmd_name[k], fkind_name[kind], n,
                         b.status[i]);
        assert_int_equal(check_consistent(f), before + added);
        n = next_n(n, kind);
        for (int i = 0; i < b.n; i++) {
            if (b.status[i] == 0) continue;
            /* the same command again, without the fault (the import: the
             * refused creates only, by submitting the batch again and
             * accepting 409 NUMMER_BRUGT for those that went through) */
            batch again = run_kind(f, k, v);
            for (int j = 0; j < again.n; j++)
                if (again.status[j] != 0 && !(k == C_IMPORT && b.status[j] == 0))
                    fail_msg("%s under %s #%ld: %d again after the fault", cmd_name[k],
                             fkind_name[kind], n, again.status[j]);
            break;
        }
        if (!fired) return;
    }
}

static void test_alloc_faults(void **state)
{
    (void)state;
    tfix *f = fix_new("test_store_faults_alloc");
    world_make(f);
    fix_open(f);
    long variant = 0;
    int total = 0;
    static const fkind kinds[] = {F_SQLMEM};
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++) {
        for (cmdkind k = 0; k < C_COUNT; k++) {
            int trials = 0;
            walk_alloc(f, k, kinds[i], &variant, &trials);
            print_message("%-6s x %-14s: %d trials\n", cmd_name[k], fkind_name[kinds[i]], trials);
            total += trials;
        }
    }
    print_message("SQLite out of memory: %d trials, all 0 or 503\n", total);
    fix_free(f);
}

int main(void)
{
    main_thread = pthread_self();
    /* a command the store never answers would hang the suite: fail instead */
    alarm(900);
    alloc_hooks_install();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_io_faults),
        cmocka_unit_test(test_alloc_faults),
    };
    const char *only = getenv("FAULTS_ONLY"); /* e.g. test_alloc_faults, while working on it */
    if (only) cmocka_set_test_filter(only);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
