/*
 * test_store_fixture.h -- what the store's test programs share: a store in a
 * fresh temporary directory with a private loop and a clock the test sets,
 * record bodies that the register accepts, and synchronous submission that
 * copies the answer out of the callback.
 */
#ifndef TEST_STORE_FIXTURE_H
#define TEST_STORE_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h> /* some tests look at the file as it is stored */

#include "store/sql.h"
#include "store/store.h"
#include "store/store_db.h"

typedef struct tfix {
    char dir[64];
    store *s;
    store_reader *r;
    int64_t now_ms;
    uint8_t key[AUDIT_KEY_BYTES];
    bool no_group_commit;
    bool build_deferred_indexes;
    const char *vfs;
    char pg_db[48];   /* the postgresql pass: this fixture's database, else "" */
    char pg_dsn[512]; /* and its DSN */
} tfix;

/* Whether this run is the store tests' postgresql pass: tests/CMakeLists.txt
 * registers those programs a second time (unit-pg/...) with
 * DTR_TEST_STORE=postgresql and the cluster scripts/test started. */
static inline bool fix_on_pg(void)
{
    const char *which = getenv("DTR_TEST_STORE");
    return which && strcmp(which, "postgresql") == 0;
}

/* For a test that looks inside dtr.sqlite or drives SQLite's own hooks (a
 * VFS, the WAL): skipped in the postgresql pass. */
static inline void fix_sqlite_only(void)
{
    if (fix_on_pg()) skip();
}

/* Runs one statement on the cluster's maintenance database. */
static inline void fix_pg_admin(const char *sql)
{
    char err[256];
    sql_target t = {.dialect = SQL_DIALECT_POSTGRESQL, .dsn = getenv("DTR_TEST_PG_DSN")};
    if (!t.dsn) fail_msg("DTR_TEST_STORE=postgresql needs DTR_TEST_PG_DSN");
    sql_conn *c = sql_open(&t, false, 10000, err, sizeof err);
    if (!c) fail_msg("postgresql: %s", err);
    if (sql_exec(c, sql) != SQL_OK) fail_msg("%s: %s", sql, sql_errmsg(c));
    sql_close(c);
}

/* The postgresql pass: a fresh database for this fixture, made the store
 * of the process (as a data directory is a fresh dtr.sqlite). */
static inline void fix_choose_store(tfix *f)
{
    if (!fix_on_pg()) return;
    static unsigned n;
    snprintf(f->pg_db, sizeof f->pg_db, "u_%ld_%u", (long)getpid(), n++);
    char sql[128], err[256];
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", f->pg_db);
    fix_pg_admin(sql);
    /* a keyword given twice: libpq takes the last */
    snprintf(f->pg_dsn, sizeof f->pg_dsn, "%s dbname=%s", getenv("DTR_TEST_PG_DSN"), f->pg_db);
    if (store_configure("postgresql", f->pg_dsn, err, sizeof err) != 0) fail_msg("%s", err);
}

/* ms of noon UTC on a YYYY-MM-DD day. */
static inline int64_t day_ms(const char *day)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    tm.tm_year = atoi(day) - 1900;
    tm.tm_mon = atoi(day + 5) - 1;
    tm.tm_mday = atoi(day + 8);
    tm.tm_hour = 12;
    return (int64_t)timegm(&tm) * 1000;
}

static inline int64_t fix_clock(void *udata)
{
    return ((tfix *)udata)->now_ms;
}

static inline void fix_quiet_log(void *udata, int level, const char *msg)
{
    (void)udata;
    if (getenv("STORE_TEST_LOG")) fprintf(stderr, "store[%d]: %s\n", level, msg);
}

static inline void fix_open(tfix *f)
{
    char err[256];
    store_options opt = {.data_dir = f->dir,
                         .audit_key = f->key,
                         .clock = fix_clock,
                         .clock_udata = f,
                         .no_group_commit = f->no_group_commit,
                         .build_deferred_indexes = f->build_deferred_indexes,
                         .vfs = f->vfs,
                         .log = fix_quiet_log};
    int rc = store_open(&opt, &f->s, err, sizeof err);
    if (rc != 0) fail_msg("store_open: %s", err);
    f->r = store_reader_open(f->s, err, sizeof err);
    if (!f->r) fail_msg("store_reader_open: %s", err);
}

static inline void fix_close(tfix *f)
{
    store_reader_close(f->r);
    f->r = NULL;
    store_close(f->s);
    f->s = NULL;
}

/* A fresh directory: in /dev/shm when there is one (these tests count
 * fsyncs through a VFS where they matter, and need no disk's latency), else
 * in /tmp. */
static inline tfix *fix_new(const char *name)
{
    tfix *f = calloc(1, sizeof *f);
    const char *root = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(f->dir, sizeof f->dir, "%s/%s_XXXXXX", root, name);
    if (!mkdtemp(f->dir)) fail_msg("mkdtemp");
    for (int i = 0; i < AUDIT_KEY_BYTES; i++)
        f->key[i] = (uint8_t)(i * 7 + 1);
    f->now_ms = day_ms("2026-03-10");
    fix_choose_store(f);
    return f;
}

static inline void fix_free(tfix *f)
{
    if (f->s) fix_close(f);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", f->dir);
    if (f->pg_db[0]) {
        char sql[128];
        snprintf(sql, sizeof sql, "DROP DATABASE %s WITH (FORCE)", f->pg_db);
        fix_pg_admin(sql);
        store_configure_reset();
    }
    free(f);
}

/* ---- answers copied out of the callback -------------------------------- */

typedef struct answer {
    bool called;
    int status;
    char primary[7];
    reg_level level;
    json_t *record;
    int64_t version, seq_first, seq_last;
    size_t n_changes;
    store_change changes[32];
    size_t n_errors;
    reg_error errors[8];
    bool replayed;
    uint64_t commit_id;
} answer;

static inline void answer_cb(const store_result *res, void *udata)
{
    answer *a = udata;
    a->called = true;
    a->status = res->status;
    memcpy(a->primary, res->primary, sizeof a->primary);
    a->level = res->level;
    a->record = res->record ? json_incref(res->record) : NULL;
    a->version = res->version;
    a->seq_first = res->seq_first;
    a->seq_last = res->seq_last;
    a->n_changes = res->n_changes < 32 ? res->n_changes : 32;
    if (a->n_changes) memcpy(a->changes, res->changes, a->n_changes * sizeof *res->changes);
    a->n_errors = res->n_errors < 8 ? res->n_errors : 8;
    if (a->n_errors) memcpy(a->errors, res->errors, a->n_errors * sizeof *res->errors);
    a->replayed = res->replayed;
    a->commit_id = res->commit_id;
}

static inline void answer_clear(answer *a)
{
    json_decref(a->record);
    memset(a, 0, sizeof *a);
}

static inline bool answer_has_error(const answer *a, const char *kode)
{
    for (size_t i = 0; i < a->n_errors; i++)
        if (strcmp(a->errors[i].kode, kode) == 0) return true;
    return false;
}

/* ---- commands ------------------------------------------------------------ */

static const int scope_101[] = {101};
static const int scope_147[] = {147};

static inline reg_actor actor_support(void)
{
    return (reg_actor){.id = "support-1", .role = REG_ROLE_SUPPORT};
}

static inline reg_actor actor_kommune(const int *scope, size_t n)
{
    return (reg_actor){
        .id = "kommune-client", .role = REG_ROLE_KOMMUNE, .kommuner = scope, .n_kommuner = n};
}

static inline json_t *di_body(const char *navn, int kommune, int ejerform, int lov)
{
    return json_pack("{s:s, s:i, s:i, s:i}", "navn", navn, "ejerformKode", ejerform,
                     "lovgrundlagKode", lov, "admKommuneKode", kommune);
}

static inline json_t *adresse(int kommune)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:i}", "vejNavn", "Gammeltoftsgade", "husNummer", "13",
                     "postNummer", "1355", "byNavn", "København K", "kommuneKode", kommune);
}

static inline json_t *ae_body(const char *parent, const char *navn, int inst, int kommune)
{
    json_t *b =
        json_pack("{s:s, s:i, s:o}", "navn", navn, "instType3", inst, "adresse", adresse(kommune));
    if (parent) json_object_set_new(b, "daginstitutionsNummer", json_string(parent));
    return b;
}

static inline json_t *aa_body(const char *parent, const char *navn, int kommune)
{
    json_t *b = json_pack("{s:s, s:o}", "navn", navn, "adresse", adresse(kommune));
    if (parent) json_object_set_new(b, "anvisningsenhedsNummer", json_string(parent));
    return b;
}

/* Runs a command synchronously; steals body. */
static inline answer run_cmd(tfix *f, reg_op op, reg_level level, const char *nummer, json_t *body,
                             reg_actor actor)
{
    answer a;
    memset(&a, 0, sizeof a);
    store_command cmd = {.op = op,
                         .level = level,
                         .nummer = nummer,
                         .body = body,
                         .actor = actor,
                         .request_id = "req"};
    if (store_submit_sync(f->s, &cmd, answer_cb, &a) != 0)
        fail_msg("store_submit_sync refused the command");
    json_decref(body);
    return a;
}

/* Creates and returns the new number (7 bytes into out); fails the test on
 * refusal. */
static inline void create_ok(tfix *f, reg_level level, json_t *body, char out[7])
{
    answer a = run_cmd(f, REG_OP_CREATE, level, NULL, body, actor_support());
    if (a.status != 0)
        fail_msg("create refused: %d %s %s %s", a.status, a.n_errors ? a.errors[0].kode : "",
                 a.n_errors ? a.errors[0].felt : "", a.n_errors ? a.errors[0].tekst : "");
    memcpy(out, a.primary, 7);
    answer_clear(&a);
}

/* A connection of the test's own to the fixture's database (the file, or
 * the postgresql pass's database): what the tests look at as it is stored. */
static inline sql_conn *fix_sql_open(tfix *f, bool readonly)
{
    char path[128], err[256];
    snprintf(path, sizeof path, "%s/dtr.sqlite", f->dir);
    sql_target t = {.dialect = SQL_DIALECT_SQLITE, .path = path, .side = true};
    if (f->pg_db[0]) t = (sql_target){.dialect = SQL_DIALECT_POSTGRESQL, .dsn = f->pg_dsn};
    sql_conn *c = sql_open(&t, readonly, 5000, err, sizeof err);
    if (!c) fail_msg("open %s: %s", f->pg_db[0] ? f->pg_db : path, err);
    return c;
}

static inline int64_t count_rows(tfix *f, const char *sql)
{
    sql_conn *db = fix_sql_open(f, true);
    sql_stmt *st = NULL;
    int64_t n = -1;
    if (sql_prepare(db, sql, false, &st) == SQL_OK && sql_step(st) == SQL_ROW)
        n = sql_column_int64(st, 0);
    else
        fail_msg("%s: %s", sql, sql_errmsg(db));
    sql_finalize(st);
    sql_close(db);
    return n;
}

/* How many records a list answers (its first page). */
static inline size_t list_count(tfix *f, store_query q)
{
    json_t *items = NULL;
    char next[7];
    int rc = store_list(f->r, &q, &items, next);
    if (rc != 0) fail_msg("store_list: %d", rc);
    size_t n = json_array_size(items);
    json_decref(items);
    return n;
}

static inline void exec_sql(tfix *f, const char *sql)
{
    sql_conn *db = fix_sql_open(f, false);
    if (sql_exec(db, sql) != SQL_OK) fail_msg("%s: %s", sql, sql_errmsg(db));
    sql_close(db);
}

#endif /* TEST_STORE_FIXTURE_H */
