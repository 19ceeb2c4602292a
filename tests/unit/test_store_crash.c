/*
 * test_store_crash.c -- kill -9 at random moments, then check the database.
 *
 * A child process writes through the store as fast as it can (creates,
 * updates and deletes, many in flight) and reports every acknowledged write
 * on a pipe from inside its callback. The parent SIGKILLs it after a random
 * few milliseconds, 24 times over the same data directory, and after each
 * kill opens the database and checks:
 *   - every acknowledged write is there (an unacknowledged one may be too);
 *   - the hændelser are gapless, 1..N;
 *   - replaying the hændelser from the start rebuilds the current table
 *     exactly (same records, versions and deletions);
 *   - PRAGMA integrity_check says ok, and the audit chain holds.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/store_int.h" /* audit_verify on the file as stored */
#include "test_store_fixture.h"

#define ROUNDS 24
#define INFLIGHT 24

/* ---- the child ---------------------------------------------------------------- */

typedef struct child {
    tfix *f;
    int fd;
    uint64_t rng;
    char (*mine)[7]; /* numbers this child created and has not deleted */
    reg_level *mine_level;
    size_t n_mine, cap;
} child;

static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void report(child *c, const char *line)
{
    size_t len = strlen(line);
    if (write(c->fd, line, len) != (ssize_t)len) _exit(3);
}

typedef struct pending {
    child *c;
    reg_op op;
} pending;

static void child_submit(child *c);

static void child_ack(const store_result *res, void *udata)
{
    pending *p = udata;
    child *c = p->c;
    if (res->status == 0) {
        char line[64];
        if (p->op == REG_OP_DELETE) {
            snprintf(line, sizeof line, "D %s 0\n", res->primary);
        } else {
            snprintf(line, sizeof line, "%c %s %lld\n", p->op == REG_OP_CREATE ? 'C' : 'U',
                     res->primary, (long long)res->version);
            if (p->op == REG_OP_CREATE) {
                if (c->n_mine == c->cap) {
                    c->cap = c->cap ? c->cap * 2 : 64;
                    c->mine = realloc(c->mine, c->cap * sizeof *c->mine);
                    c->mine_level = realloc(c->mine_level, c->cap * sizeof *c->mine_level);
                }
                memcpy(c->mine[c->n_mine], res->primary, 7);
                c->mine_level[c->n_mine++] = res->level;
            }
        }
        report(c, line);
    }
    free(p);
    child_submit(c);
}

/* One random command: a daginstitution, a unit under one of ours, a new
 * name for one of ours, or the deletion of one of our units. */
static void child_submit(child *c)
{
    pending *p = calloc(1, sizeof *p);
    p->c = c;
    uint64_t r = next_rand(&c->rng) % 100;
    store_command cmd = {.actor = actor_support(), .request_id = "crash"};
    json_t *body = NULL;
    size_t pick = c->n_mine ? (size_t)(next_rand(&c->rng) % c->n_mine) : 0;
    if (c->n_mine == 0 || r < 35) {
        cmd.op = REG_OP_CREATE;
        cmd.level = REG_DAGINSTITUTION;
        body = di_body("Crash", 101, 1, 1);
    } else if (r < 60 && c->mine_level[pick] == REG_DAGINSTITUTION) {
        cmd.op = REG_OP_CREATE;
        cmd.level = REG_ANVISNINGSENHED;
        body = ae_body(c->mine[pick], "Crash stue", 6011, 101);
    } else if (r < 90) {
        char navn[32];
        snprintf(navn, sizeof navn, "Navn %llu", (unsigned long long)(next_rand(&c->rng) % 1000));
        cmd.op = REG_OP_UPDATE;
        cmd.level = c->mine_level[pick];
        cmd.nummer = c->mine[pick];
        body = json_pack("{s:s}", "navn", navn);
    } else if (c->mine_level[pick] == REG_ANVISNINGSENHED) {
        cmd.op = REG_OP_DELETE;
        cmd.level = REG_ANVISNINGSENHED;
        cmd.nummer = c->mine[pick];
    } else {
        cmd.op = REG_OP_CREATE;
        cmd.level = REG_DAGINSTITUTION;
        body = di_body("Crash", 147, 1, 1);
    }
    p->op = cmd.op;
    cmd.body = body;
    if (store_submit(c->f->s, &cmd, child_ack, p) != 0) _exit(4);
    json_decref(body);
    if (cmd.op == REG_OP_DELETE) { /* never touch it again */
        c->n_mine--;
        memcpy(c->mine[pick], c->mine[c->n_mine], 7);
        c->mine_level[pick] = c->mine_level[c->n_mine];
    }
}

static void child_main(tfix *f, int fd, uint64_t seed)
{
    child c = {.f = f, .fd = fd, .rng = seed | 1};
    fix_open(f);
    for (int i = 0; i < INFLIGHT; i++)
        child_submit(&c);
    store_wait(f->s); /* never returns: each answer submits the next */
    _exit(5);
}

/* ---- the parent's checks --------------------------------------------------------- */

typedef struct acked {
    char nummer[7];
    int64_t version; /* highest acknowledged */
    bool created, deleted;
} acked;

typedef struct ack_book {
    acked *items;
    size_t n, cap;
} ack_book;

static acked *book_find(ack_book *b, const char *nummer)
{
    for (size_t i = b->n; i-- > 0;)
        if (strcmp(b->items[i].nummer, nummer) == 0) return &b->items[i];
    if (b->n == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 256;
        b->items = realloc(b->items, b->cap * sizeof *b->items);
    }
    acked *a = &b->items[b->n++];
    memset(a, 0, sizeof *a);
    memcpy(a->nummer, nummer, strnlen(nummer, sizeof a->nummer - 1));
    return a;
}

static void book_line(ack_book *b, const char *line)
{
    char kind;
    char nummer[8];
    long long version;
    if (sscanf(line, "%c %7s %lld", &kind, nummer, &version) != 3)
        fail_msg("bad report line: %s", line);
    acked *a = book_find(b, nummer);
    if (kind == 'C') a->created = true;
    if (kind == 'D') a->deleted = true;
    if (version > a->version) a->version = version;
}

/* Reads what the child reported until it is dead and the pipe is empty.
 * The kill comes kill_after_ms after the child's first acknowledgement (the
 * event the clock starts from, so that a slow machine where the child takes
 * long to open the store still sees writes in flight when it dies; 60 s at
 * most for that first one). */
static void collect(int fd, pid_t pid, int kill_after_ms, ack_book *book)
{
    char buf[8192], line[128];
    size_t line_len = 0;
    struct timespec start;
    bool started = false, killed = false;
    for (;;) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long elapsed =
            started ? (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000
                    : 0;
        if (!killed && started && elapsed >= kill_after_ms) {
            kill(pid, SIGKILL);
            killed = true;
        }
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int timeout = killed || !started ? 60000 : (int)(kill_after_ms - elapsed);
        int ready = poll(&pfd, 1, timeout < 0 ? 0 : timeout);
        if (ready <= 0 && !started && !killed) {
            kill(pid, SIGKILL); /* nothing acknowledged in a minute: fail below */
            killed = true;
        }
        if (ready <= 0) continue;
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break; /* the child is gone and everything it wrote is read */
        if (!started) {
            started = true;
            clock_gettime(CLOCK_MONOTONIC, &start);
        }
        for (ssize_t i = 0; i < n; i++) {
            if (buf[i] == '\n') {
                line[line_len] = '\0';
                book_line(book, line);
                line_len = 0;
            } else if (line_len < sizeof line - 1) {
                line[line_len++] = buf[i];
            }
        }
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGKILL);
}

static sqlite3 *open_db(tfix *f)
{
    char path[128];
    snprintf(path, sizeof path, "%s/dtr.sqlite", f->dir);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    return db;
}

static int64_t one_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static void check_acknowledged(sqlite3 *db, const ack_book *book)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT version, deleted FROM record WHERE nummer = ?",
                                        -1, &st, NULL),
                     SQLITE_OK);
    for (size_t i = 0; i < book->n; i++) {
        const acked *a = &book->items[i];
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, a->nummer, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_ROW) fail_msg("acknowledged %s is missing", a->nummer);
        int64_t version = sqlite3_column_int64(st, 0);
        bool deleted = sqlite3_column_int(st, 1) != 0;
        if (a->deleted && !deleted) fail_msg("acknowledged deletion of %s is missing", a->nummer);
        if (!deleted && version < a->version)
            fail_msg("%s has version %lld, acknowledged %lld", a->nummer, (long long)version,
                     (long long)a->version);
    }
    sqlite3_finalize(st);
}

/* Replays every hændelse in order into an object nummer -> {data, deleted}
 * and compares it with the record table. */
static void check_replay(sqlite3 *db)
{
    int64_t n = one_int(db, "SELECT count(*) FROM haendelse");
    if (n > 0) {
        assert_int_equal(one_int(db, "SELECT min(sekvensnummer) FROM haendelse"), 1);
        assert_int_equal(one_int(db, "SELECT max(sekvensnummer) FROM haendelse"), n);
    }
    json_t *replayed = json_object();
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT operation, nummer, version, data FROM haendelse "
                                        "ORDER BY sekvensnummer",
                                        -1, &st, NULL),
                     SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *op = (const char *)sqlite3_column_text(st, 0);
        const char *nummer = (const char *)sqlite3_column_text(st, 1);
        json_t *data = json_loads((const char *)sqlite3_column_text(st, 3), 0, NULL);
        assert_non_null(data);
        json_object_del(data, "status");
        assert_int_equal(json_integer_value(json_object_get(data, "version")),
                         sqlite3_column_int64(st, 2));
        json_object_set_new(
            replayed, nummer,
            json_pack("{s:o, s:b}", "data", data, "deleted", strcmp(op, "slettet") == 0));
    }
    sqlite3_finalize(st);

    assert_int_equal(one_int(db, "SELECT count(*) FROM record"), json_object_size(replayed));
    assert_int_equal(
        sqlite3_prepare_v2(db, "SELECT nummer, deleted, version, json FROM record", -1, &st, NULL),
        SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *nummer = (const char *)sqlite3_column_text(st, 0);
        json_t *r = json_object_get(replayed, nummer);
        if (!r) fail_msg("%s is in the table but in no hændelse", nummer);
        json_t *stored = json_loads((const char *)sqlite3_column_text(st, 3), 0, NULL);
        json_t *data = json_object_get(r, "data");
        if (!json_equal(stored, data))
            fail_msg("%s: the table and the replayed hændelser differ", nummer);
        assert_int_equal(sqlite3_column_int(st, 1) != 0,
                         json_is_true(json_object_get(r, "deleted")));
        assert_int_equal(sqlite3_column_int64(st, 2),
                         json_integer_value(json_object_get(data, "version")));
        json_decref(stored);
    }
    sqlite3_finalize(st);
    json_decref(replayed);
}

/* audit_verify on the file as stored, through a connection of its own
 * (sql.h, as a side connection: read-write, creating nothing). */
static int verify_file_chain(tfix *f, audit_report *rep)
{
    sql_conn *c = fix_sql_open(f, false);
    int rc = audit_verify(c, f->key, rep);
    sql_close(c);
    return rc;
}

static void check_integrity(tfix *f, sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
    sqlite3_finalize(st);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA foreign_key_check", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE); /* no row: no violation */
    sqlite3_finalize(st);
    audit_report rep;
    assert_int_equal(verify_file_chain(f, &rep), 0);
}

static void test_kill_at_random_moments(void **state)
{
    (void)state;
    tfix *f = fix_new("test_store_crash");
    ack_book book = {0};
    uint64_t rng = 0x9e3779b97f4a7c15ULL;
    size_t total_acked = 0;
    fix_open(f); /* the schema first; the children then only write records */
    fix_close(f);
    for (int round = 0; round < ROUNDS; round++) {
        int fds[2];
        assert_int_equal(pipe(fds), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(fds[0]);
            child_main(f, fds[1], rng + (uint64_t)round * 7919);
        }
        close(fds[1]);
        size_t before = book.n;
        int kill_after = 5 + (int)(next_rand(&rng) % 120);
        collect(fds[0], pid, kill_after, &book);
        close(fds[0]);
        total_acked += book.n - before;

        sqlite3 *db = open_db(f); /* recovers the WAL the child left */
        check_acknowledged(db, &book);
        check_replay(db);
        check_integrity(f, db);
        sqlite3_close(db);
    }
    print_message("%d kills, %zu numbers acknowledged\n", ROUNDS, book.n);
    assert_true(book.n > 0);
    free(book.items);
    (void)total_acked;
    fix_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kill_at_random_moments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
