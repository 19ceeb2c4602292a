/*
 * store_int.h -- what the files of store/ share and no other module sees:
 * the store and job structures, connections with their statement caches,
 * the schema, the reg_state over the database, the writing of changes and the
 * reads the writer and the readers share.
 *
 * Files: db.c (connections, statements, time, text), migrate.c (schema),
 * state.c (reg_state, number allocator), apply.c (writing one change),
 * writer.c (the writer thread), submit.c (the loop side: open, submit,
 * deliver, close), show.c (records as GET shows them), read.c (lists,
 * history), feedread.c (hændelser, snapshots, cursors, idempotency reads),
 * checkpoint.c (the checkpoint thread), indexes.c (an initial load's
 * deferred indexes), job.c (jobs and their answers), auditlog.c (the audit
 * chain's SQL), side.c (store_db: the side connections, store_db.h),
 * clients.c and persons.c (the tables of auth and the web UI's people).
 */
#ifndef DTR_STORE_INT_H
#define DTR_STORE_INT_H

#include <pthread.h>
#include <stdarg.h>

#include "store/sql.h"

#include "store/store.h"
#include "store/store_db.h"

/* ---- the audit chain's SQL (auditlog.c) ------------------------------------
 * What audit.h describes, on a connection (sql.h): audit_append reads the
 * chain's head and inserts the next row in the caller's transaction when one
 * is open, otherwise in a BEGIN IMMEDIATE ... COMMIT of its own; SQL_OK
 * or the driver's code (SQL_MISUSE for a missing actor or operation).
 * audit_verify walks the chain in one read transaction (0 holds, 1 a row
 * does not, -1 unreadable). audit_schema_sql is the table's CREATE (the
 * first migration; tests run it on a fresh database). */
const char *audit_schema_sql(void);
int audit_append(sql_conn *db, const uint8_t key[AUDIT_KEY_BYTES], const audit_entry *entry,
                 int64_t *id_out);
int audit_verify(sql_conn *db, const uint8_t key[AUDIT_KEY_BYTES], audit_report *report);

/* audit_append's two statements prepared once, for a connection that
 * appends often (the writer thread). init prepares nothing yet. */
typedef struct audit_writer {
    sql_conn *db;
    sql_stmt *head;
    sql_stmt *insert;
} audit_writer;
void audit_writer_init(audit_writer *w, sql_conn *db);
int audit_writer_append(audit_writer *w, const uint8_t key[AUDIT_KEY_BYTES],
                        const audit_entry *entry, int64_t *id_out);
void audit_writer_close(audit_writer *w);

/* ---- side connections (side.c; store_db.h) --------------------------------- */

struct store_db {
    sql_conn *db;
    sql_stmt *generation;   /* store_client_generation's */
    sql_stmt *clients;      /* store_client_each's */
    sql_stmt *person_state; /* store_person_state's */
    char path[4096];
};

/* Prepares *st on first use (kept until store_db_close) and resets it
 * otherwise: SQL_OK or the driver's code. */
int side_stmt(store_db *db, sql_stmt **st, const char *sql);

/* ---- connections and statements ------------------------------------------ */

/* The database of data_dir as store_configure chose it: for SQLite the file
 * (written into path), for PostgreSQL the DSN. 0, or -1 when path is too
 * small. */
int store_target_of(const char *data_dir, sql_target *t, char *path, size_t pathlen);

typedef enum sq_id {
    SQ_REC_GET,
    SQ_REC_CHILDREN,
    SQ_REC_PUT,
    SQ_REC_DELETE,
    SQ_HIST_OPEN,
    SQ_HIST_CLOSE,
    SQ_HIST_INSERT,
    SQ_HIST_LIST,
    SQ_ASOF_GET,
    SQ_ASOF_CHILDREN,
    SQ_HEV_NEXT,
    SQ_HEV_INSERT,
    SQ_HEV_RANGE,
    SQ_HEV_LATEST,
    SQ_ALLOC_GET,
    SQ_ALLOC_RAISE,
    SQ_BURNT_GET,
    SQ_BURNT_PUT,
    SQ_IDEM_GET,
    SQ_IDEM_PUT,
    SQ_IDEM_DELETE,
    SQ_IDEM_PURGE,
    SQ_CURSOR_GET,
    SQ_CURSOR_SET,
    SQ_BEGIN,
    SQ_COMMIT,
    SQ_SAVEPOINT,
    SQ_RELEASE,
    SQ_ROLLBACK_TO,
    SQ_TIMED_DUE,
    SQ_COUNT
} sq_id;

/* One connection (sql.h) with its prepared statements (prepared on first
 * use). Owned by one thread at a time. */
typedef struct store_conn {
    store *s;
    sql_conn *db;
    sql_stmt *st[SQ_COUNT];
    audit_writer audit; /* the audit statements, prepared on first use */
} store_conn;

/* Opens a connection to the store's database (read-only or read-write) with
 * the store's VFS and busy timeout. 0 or -1 with err. */
int conn_open(store_conn *c, store *s, bool readonly, char *err, size_t errlen);
void conn_close(store_conn *c);
/* The statement id, reset and with its bindings cleared; NULL when it could
 * not be prepared (logged). */
sql_stmt *conn_stmt(store_conn *c, sq_id id);
/* Runs SQL without results; the driver's code. */
int conn_exec(store_conn *c, const char *sql);
/* Runs a cached statement without results (SAVEPOINT job ...); the driver's code. */
int conn_run(store_conn *c, sq_id id);

/* Reads that take several statements run in one read transaction: begins one
 * when the connection is not inside a transaction. Returns whether it did
 * (pass that to conn_read_end). */
bool conn_read_begin(store_conn *c);
void conn_read_end(store_conn *c, bool began);

/* Binding helpers: NULL binds SQL NULL; text is copied by the driver. */
void bind_text(sql_stmt *st, int i, const char *s);
/* How many binds (bind_text, bind_json) failed on this thread so far. */
unsigned store_bind_failures(void);
/* Binds v's compact dump (NULL for NULL) by reference: returns the text,
 * which the caller frees once the statement ran and its bindings were
 * cleared. */
char *bind_json(sql_stmt *st, int i, const json_t *v);
/* A column as a new json_t parsed from its text; NULL when SQL NULL or unparsable. */
json_t *column_json(sql_stmt *st, int i);

/* ---- the schema ------------------------------------------------------------ */

/* Brings the database on c up to STORE_SCHEMA_VERSION: each migration in its
 * own transaction. -1 with err for a newer schema or a failed migration. */
int store_migrate(store_conn *c, char *err, size_t errlen);

/* Migrations as a list, for store_migrate_list (tests run their own). */
typedef struct store_migration {
    int version;
    const char *sql;
} store_migration;
int store_migrate_list(sql_conn *db, const store_migration *list, size_t n, char *err,
                       size_t errlen);
/* The same migrations in PostgreSQL's DDL (schema_pg.c). */
const store_migration *store_migrations_pg(size_t *n);
/* The schema version recorded in db (0 when none). */
int store_schema_version(sql_conn *db);

/* Deferred indexes (indexes.c), inside the caller's write transaction:
 * indexes_defer drops the deferrable record indexes when the record table
 * is empty (*deferred: how many), indexes_restore builds every deferred one
 * (*restored). The driver's code. indexes_restore_at_open runs a restore in its
 * own transaction when an earlier load left any: 0, or -1 with err. */
int indexes_defer(store_conn *c, int *deferred);
int indexes_restore(store_conn *c, int *restored);
int indexes_restore_at_open(store_conn *c, char *err, size_t errlen);

/* ---- time and text ----------------------------------------------------------- */

int64_t store_now_ms(store *s);
/* RFC 3339 UTC with milliseconds, for opdateret and tidspunkt (out: 40 bytes). */
void store_format_time(int64_t ms, char out[40]);
/* The Copenhagen day of a time (out: 11 bytes). */
void store_day(int64_t ms, char out[11]);
/* A text folded for case-insensitive search: NFC, Unicode case folding.
 * malloc'd; NULL for NULL. */
char *store_fold(const char *s);
/* Whether s is a YYYY-MM-DD string (the shape; the register checks dates). */
bool store_is_day(const char *s);

void store_log(store *s, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ---- jobs -------------------------------------------------------------------- */

typedef enum job_kind {
    JOB_COMMAND,
    JOB_TICK,
    JOB_CURSOR,
    JOB_AUDIT,
    JOB_DEFER_INDEXES,
    JOB_RESTORE_INDEXES,
    JOB_PROBE,   /* a one-page write that proves the store can commit */
    JOB_ANSWERED /* answered on the loop side already (idempotency conflict) */
} job_kind;

/* A second submit of an in-flight idempotency key, waiting for the first. */
typedef struct store_waiter {
    store_done_fn cb;
    void *udata;
    struct store_waiter *next;
} store_waiter;

/* One queued piece of work and, once done, its answer. Made on the loop
 * thread, owned by the writer while queued, back on the loop for delivery. */
typedef struct store_job {
    struct store_job *next;
    job_kind kind;

    /* JOB_COMMAND: the copied command */
    reg_op op;
    reg_level level;
    char *nummer;
    json_t *body;
    bool has_if_match;
    int64_t if_match;
    char *actor_id;
    reg_role role;
    int *kommuner;
    size_t n_kommuner;
    char *request_id;
    bool keep_numbers;
    bool no_audit;
    bool no_record;
    bool dry_run;
    struct store_job **steps; /* a transaction's commands (each a JOB_COMMAND job of its own,
                                 answered into step_results); NULL for a single command */
    size_t n_steps;
    store_step *step_results;
    char *idem_client;
    char *idem_key;
    uint8_t body_hash[32];

    /* JOB_CURSOR */
    char *consumer;
    int64_t cursor_seq;

    /* JOB_AUDIT: strings owned in entry_text */
    audit_entry entry;
    char *entry_text[8];

    /* the answer */
    store_done_fn cb;
    void *udata;
    store_waiter *waiters;
    bool *sync_done;
    store_result res;
    reg_error *errors;
    size_t n_errors;
    store_change *changes;
    size_t n_changes, cap_changes;
    bool wrote; /* this job changed the database */
} store_job;

void job_free(store_job *j);
/* The hash an Idempotency-Key is bound to (submit.c): operation, level,
 * target number and body bytes. */
void store_idem_hash(const store_command *cmd, uint8_t out[32]);
/* Sets the answer to a refusal or failure with one error. */
void job_fail(store_job *j, int status, const char *kode, const char *tekst);
/* Copies a decision's errors into the answer. */
void job_set_errors(store_job *j, const reg_error *errors, size_t n);
void job_add_change(store_job *j, const char *operation, reg_level level, const char *nummer,
                    int64_t version);
/* Clears the answer back to nothing (before a 503 replaces it). */
void job_reset_answer(store_job *j);
/* The answer as JSON (stored with an idempotency key) and back. */
json_t *job_answer_to_json(const store_job *j);
void job_answer_from_json(store_job *j, const json_t *answer);

/* ---- the store ------------------------------------------------------------------ */

struct store {
    char *db_path;
    sql_target target; /* the database (store_target_of); path is db_path */
    char *vfs;
    uint8_t key[AUDIT_KEY_BYTES];
    int busy_timeout_ms;
    bool no_group_commit;
    bool dry_run;
    size_t max_batch;
    store_clock_fn clock;
    void *clock_udata;
    store_log_fn log;
    void *log_udata;

    uv_loop_t *loop;
    uv_loop_t *own_loop; /* the private loop, when opt.loop was NULL */
    uv_async_t *async;   /* results ready; freed in its close callback */

    /* writer thread */
    pthread_t thread;
    bool thread_started;
    store_conn wconn; /* the writer's connection: its thread only, after open */
    pthread_mutex_t mu;
    pthread_cond_t cond;
    store_job *queue_head, *queue_tail; /* under mu */
    size_t queue_len;                   /* under mu */
    store_job *done_head, *done_tail;   /* under mu */
    bool closing;                       /* under mu */
    int64_t done_last_seq;              /* under mu: newest sekvensnummer delivered by a batch */
    store_stats stats;                  /* under mu */

    /* checkpoint thread (checkpoint.c) */
    pthread_t ckpt_thread;
    bool ckpt_inited, ckpt_started;
    int ckpt_wake_pages;  /* WAL pages that wake the thread */
    store_conn ckpt_conn; /* its thread only */
    pthread_mutex_t ckpt_mu;
    pthread_cond_t ckpt_cond;
    bool ckpt_wanted;      /* under ckpt_mu: the WAL passed its limit */
    bool ckpt_stop;        /* under ckpt_mu */
    uint64_t ckpt_runs;    /* under ckpt_mu */
    size_t ckpt_snapshots; /* under ckpt_mu: snapshots open at the last sweep (or new) */

    /* limits (limits.c) */
    store_limits lim;                     /* fields read and written atomically */
    pthread_mutex_t snap_mu;              /* the list of snapshots */
    struct store_reader *snaps;           /* under snap_mu */
    size_t n_snaps;                       /* under snap_mu */
    int wal_pages;                        /* atomic: the WAL's pages after the last commit */
    int wal_max_pages;                    /* atomic: its bound */
    bool wal_pressure;                    /* atomic: at the bound until a restart */
    int64_t numbers_left;                 /* atomic: after the last commit (state.c) */
    uint64_t wal_commits;                 /* atomic: commits seen by the WAL hook */
    struct create_bucket *create_buckets; /* loop thread */
    size_t n_create_buckets, cap_create_buckets;

    /* loop side */
    bool closed;
    bool probe_pending;      /* a JOB_PROBE is queued */
    bool probe_queued;       /* one was, ever */
    int64_t probe_at_ms;     /* when the last one was queued (store_now_ms) */
    size_t in_flight;        /* submitted, callback not yet run */
    struct idem_slot **idem; /* in-flight idempotency keys: IDEM_BUCKETS chains */
    store_commit_fn on_commit;
    void *on_commit_udata;
    int64_t notified_seq;
};

/* The writer thread's body (writer.c). */
void *writer_main(void *arg);

/* The checkpoint thread (checkpoint.c): started before the writer thread,
 * it takes the WAL checkpoints off the writer's commits. start: 0, or -1
 * with err; stop joins it and closes its connection (safe when start
 * failed or never ran). */
int checkpointer_start(store *s, char *err, size_t errlen);
void checkpointer_stop(store *s);

/* ---- the register's state over the database (state.c)---------------------------------- */

/* What a reg_state callback needs: the writer's connection and the failure
 * flag a SQL error sets (the command then fails with 503). */
typedef struct state_ctx {
    store_conn *c;
    bool failed;
} state_ctx;

void state_init(reg_state *st, state_ctx *ctx);
/* Raises the allocator's high mark to nummer when it is of the issued series
 * (G..Z) and above it. Returns the driver's code. */
int alloc_note_number(store_conn *c, const char *nummer);
/* The number after the highest issued/imported one; false when exhausted. */
/* Records how many numbers the series have left (the writer, after a
 * commit and at open). */
void alloc_note_left(store_conn *c);
bool alloc_next(store_conn *c, char out[7], bool *failed);
/* The ordinal of a number in issuing order (G00001 = 1 ... Z99999), or -1
 * for numbers of other letters. */
int64_t alloc_ordinal(const char *nummer);

/* ---- writing one change (apply.c) ------------------------------------------------------ */

/* Who and when, for every change of one command. */
typedef struct apply_ctx {
    store_conn *c;
    const char *actor;
    const char *request_id;
    const char *now;   /* RFC 3339 */
    const char *today; /* YYYY-MM-DD */
    bool no_audit;
    json_t *audit_trail; /* a transaction's: each change is appended here as {operation,
                            niveau, nummer, before, after} instead of an audit row of its own */
} apply_ctx;

/* Writes one change: record, history, hændelse and (unless no_audit) its
 * audit row. *seq gets its sekvensnummer. The driver's code. */
int apply_change(apply_ctx *a, const reg_change *ch, int64_t *seq);

/* ---- showing records (show.c) ------------------------------------------------------------ */

/* A record as GET shows it: number, level, nested or not, current or as of a
 * day. 0, 404, 410 or 503 (see store_get). */
int show_record(store_conn *c, const char *nummer, const char *asof, unsigned flags,
                reg_level *level, json_t **out);
/* Adds "status" for day and, with STORE_NESTED, the children (current, or
 * as of asof) to a record of level. Returns false on a read error. */
bool show_decorate(store_conn *c, json_t *rec, reg_level level, const char *day, const char *asof,
                   unsigned flags);
/* The day reads judge status by: asof, or today by the store's clock. */
void show_day(store_conn *c, const char *asof, char out[11]);

/* Filter columns of a record, as stored in record and history. */
typedef struct rec_cols {
    const char *parent;
    const char *virkning_fra;
    const char *virkning_til;
    int64_t version;
    int adm_kommune;
    int kommune;
    int inst_type3;
    const char *p_nummer;
    const char *cvr_nummer;
    char *navn_fold; /* malloc'd */
} rec_cols;
void rec_cols_of(const json_t *rec, reg_level level, rec_cols *out);
void rec_cols_free(rec_cols *cols);

/* A reader: its connection and whether a snapshot is open on it. Every
 * read holds mu (reader_enter), so that the sweeper (limits.c) can end a
 * snapshot between two reads of the thread that owns the reader. */
struct store_reader {
    store_conn c;
    pthread_mutex_t mu;
    bool in_snapshot;
    bool cut;    /* the snapshot was ended by the sweeper: reads answer 503 */
    bool listed; /* on the store's list of snapshots (under snap_mu) */
    uint64_t snap_start_ns;
    struct store_reader *snap_prev, *snap_next;
    char client[48]; /* the address it reads for ("": none); limits.c */
};

/* The WAL's bound by default: this many times the pages that wake the
 * checkpoint thread (8 x 64 MiB). */
#define CKPT_WAL_FACTOR 8

/* The budget of a navn search's scan before it takes the index (read.c;
 * 0 takes the index at once, as the tests do). */
extern int store_navn_scan_budget;
/* The numbers an unindexed list page reads at most (read.c; tests lower it). */
extern int store_list_window;

/* ---- limits (limits.c) ---------------------------------------------------------- */

void limits_init(store *s);
/* Tells the checkpoint thread a snapshot began (checkpoint.c). */
void checkpointer_wake(store *s);
void limits_free(store *s);
/* Locks the reader for one read: 0, or 503 (not locked) when its snapshot
 * was cut. */
int reader_enter(store_reader *r);
void reader_leave(store_reader *r);
/* A snapshot begins: 0, or 503 when there are max_snapshots already or the
 * WAL is at its bound, 429 when its client holds max_snapshots_per_client.
 * snapshot_leave when it ends. */
int snapshot_admit(store_reader *r);
void snapshot_leave(store_reader *r);
/* Cuts the snapshots past their lifetime (or all, wal_full); returns how
 * many stay open. The checkpoint thread. */
size_t snapshots_sweep(store *s, bool wal_full);
/* 0, or the status (413, 429) and kode and tekst of a command past a
 * bound. Loop thread. */
int limits_check_command(store *s, const store_command *cmd, const char **kode, char *tekst,
                         size_t tekstlen);

/* The record as stored (no "status") or NULL. */
json_t *rec_stored(const json_t *rec);

#endif /* DTR_STORE_INT_H */
