/*
 * store.h -- the register's persistence: SQLite in WAL mode, one writer
 * thread with group commit, read-only connections for everything else.
 *
 * Writes. Every change goes through store_submit (or a sibling: store_tick,
 * store_cursor_set, store_audit) on the loop thread. The store copies the
 * command and queues it to its one writer thread. The writer takes every
 * command waiting, opens one transaction (BEGIN IMMEDIATE), runs each command
 * in a SAVEPOINT of its own -- it reads the current state, asks the register
 * to decide (reg_decide), and on acceptance writes, per changed record, the
 * current row, a history version, a hændelse and an audit row (unless
 * no_audit); a refusal rolls its savepoint back, so it
 * never touches its neighbours -- and commits once: one fsync for the whole
 * batch (synchronous=FULL). Only then are the results handed back to the loop
 * thread (uv_async) and the callbacks run: an accepted result means the
 * change is on disk. Copying the WAL into the database (checkpoints) is
 * left to a checkpoint thread of the store's own, so no commit waits for it.
 *
 * Failure. A commit that fails fails every command of its batch with 503
 * IKKE_KLAR and leaves nothing half-written; nothing is retried silently. A
 * commit that fails with an I/O error (SQLITE_IOERR: the fsync or the write
 * of the WAL failed) means the kernel may have dropped dirty pages the store
 * can no longer trust, so the store logs it and calls abort(): the process
 * ends without answering the batch, and the supervisor restarts it on a
 * database SQLite recovers from the WAL (DESIGN.md, Limits and failure).
 *
 * Reads use store_reader handles: each has its own read-only connection, so
 * a read never waits for the writer (WAL) and always sees committed data
 * only. One reader per thread (a reader may move between threads, but only
 * one thread may use it at a time).
 *
 * Records are jansson objects with API.md's field names, as register.h
 * describes them. What the store returns from reads is "as GET shows it":
 * the stored record plus "status" (reg_status for the day), and for a nested
 * read of a daginstitution "anvisningsenheder" (each with
 * "alternativeAdresser").
 *
 * The database (store_configure chooses it: for the sqlite driver
 * <data_dir>/dtr.sqlite, for postgresql the DSN's) also holds the tables of other modules: clients
 * and their generation counter (auth.h), the web UI's people (person.h) and
 * the audit chain (audit.h). Those modules reach them only through the
 * store's side connections and their named operations (store_db.h); no
 * file outside core/store speaks SQL or names the database engine.
 * Which engine runs the store is store_options.driver (docs/decisions.md,
 * "One store interface").
 * Schema migrations are numbered and run by store_open; store_open refuses a
 * database whose schema is newer than the code.
 */
#ifndef DTR_STORE_H
#define DTR_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <uv.h>

#include "audit/audit.h"
#include "register/register.h"
#include "store/store_db.h"

/* The schema version this code writes (store_open migrates up to it). */
#define STORE_SCHEMA_VERSION 5

typedef struct store store;
typedef struct store_reader store_reader;

/* ---- opening and closing -------------------------------------------------- */

/* Log sink: level 0 debug, 1 info, 2 warn, 3 error; msg is one line without
 * a newline. Called from the writer thread as well as the loop thread. */
typedef void (*store_log_fn)(void *udata, int level, const char *msg);
/* Clock: milliseconds since the UNIX epoch. Any thread. */
typedef int64_t (*store_clock_fn)(void *udata);

typedef struct store_options {
    const char *data_dir; /* required: the instance's directory (with sqlite, its database) */
    const char *driver;   /* NULL, or the driver store_configure chose ("sqlite" by default);
                             another name is refused by store_open */
    const uint8_t
        *audit_key;       /* required: AUDIT_KEY_BYTES bytes (audit_load_or_create_key); copied */
    uv_loop_t *loop;      /* the loop results are delivered on; NULL: the store runs a
                             private loop, driven by store_wait (CLI tools, tests) */
    bool no_group_commit; /* one transaction per command: the benchmark's baseline */
    bool dry_run;         /* commit nothing (dtr import --dry-run): every batch runs in one
                             transaction that stays open and is rolled back at store_close, so
                             answers are those of a real run and no reader ever sees them */
    size_t max_batch;     /* commands per transaction at most; 0: 1000 */
    int busy_timeout_ms;  /* how long to wait for another process's write lock; 0: 5000 */
    int checkpoint_pages; /* WAL pages (4 KiB) after which the checkpoint thread copies the WAL
                             into the database; 0: 16384 (64 MiB) */
    bool build_deferred_indexes; /* build the indexes an interrupted bulk load left deferred
                                    (store_indexes_defer) before returning. Only for a caller
                                    that holds the data directory's lock (dtr serve, dtr import):
                                    a load running in another process defers them on purpose */
    const char *vfs;             /* SQLite VFS name for every connection; NULL: the default */
    store_clock_fn clock;        /* NULL: the system clock */
    void *clock_udata;
    store_log_fn log; /* NULL: lines go to stderr */
    void *log_udata;
} store_options;

/* Opens (creating when missing) the database, runs the schema migrations
 * (each in its own transaction), and starts the writer thread. On the loop
 * thread (opt->loop's), or on any thread with a private loop. Returns 0 and
 * *out, or -1 with a message in err (a newer schema, an unreadable file, a
 * migration that failed). Blocking: call at start, before serving. */
int store_open(const store_options *opt, store **out, char *err, size_t errlen);

/* Out of memory where going on could decide or write on a partial value
 * (jansson answers NULL from any constructor, and the register would read a
 * field that failed to be made as absent): writes one line to stderr and
 * aborts, like an I/O error at commit; the restart finds a consistent
 * database (docs/decisions.md). store_json_malloc is the allocator dtr gives
 * jansson (json_set_alloc_funcs, with free): malloc, or this. Any thread. */
void store_out_of_memory(const char *what) __attribute__((noreturn));
void *store_json_malloc(size_t n);

/* Stops taking commands, lets the writer finish (commit) everything queued,
 * joins it, runs the callbacks of every command still unanswered (so no
 * caller waits for ever), and closes the database. For SIGTERM: it blocks
 * the loop while the queue drains. Close every reader first. With a host
 * loop the store's last memory is released when that loop next runs (its
 * uv_async handle closes asynchronously); with a private loop at once.
 * Loop thread; never from inside one of the store's callbacks. */
void store_close(store *s);

/* ---- writing --------------------------------------------------------------- */

/* A command for the register, as the caller sees it. Everything is borrowed
 * for the duration of the call: store_submit copies what it keeps (body as
 * a deep copy, strings, the actor's kommuner). */
typedef struct store_command {
    reg_op op;
    reg_level level;
    const char *nummer;     /* the target; NULL on create */
    const json_t *body;     /* see reg_op; NULL for none */
    bool has_if_match;      /* If-Match was given: */
    int64_t if_match;       /* the version it names */
    reg_actor actor;        /* who asks; id required */
    const char *request_id; /* for the audit row; may be NULL */
    bool keep_numbers;      /* import: keep given numbers (reg_command.keep_numbers) */
    bool no_audit;          /* import: no audit row per record (one store_audit entry for the
                               whole import instead) */
    bool dry_run;           /* every check and the same answer, nothing written: the
                               command runs in a savepoint that is rolled back (no number
                               burnt, no hændelse, no idempotency key kept) */
    bool no_record;         /* import: the answer carries no record (result.record NULL,
                               version 0), which spares reading it back after the change */
    /* Idempotency (API.md Idempotency-Key): with client and key set, the
     * first answer for (client, key) is stored with the change, in the same
     * transaction, for 24 hours. The same key with the same body bytes gets
     * that answer again (result.replayed), also while the first is still in
     * flight (it waits for it); with other bytes 422 IDEMPOTENS_KONFLIKT. */
    const char *idem_client;
    const char *idem_key;
    const void *idem_body; /* the request body bytes (hashed, not kept) */
    size_t idem_body_len;
} store_command;

/* One record a command changed. */
typedef struct store_change {
    char operation[12]; /* "oprettet", "aendret", "flyttet", "nedlagt", "slettet" */
    reg_level level;
    char nummer[7];
    int64_t version; /* the version after (for slettet: the last version) */
} store_change;

/* The answer to a command (and to store_tick, store_cursor_set, store_audit).
 * Owned by the store and valid only during the callback: json_incref record,
 * copy the rest to keep it. */
typedef struct store_result {
    int status;      /* 0: accepted and durable; else the HTTP status of the refusal
                        (400, 403, 404, 409, 410, 412, 422) or of a failure (503) */
    size_t n_errors; /* refusals: at least one */
    const reg_error *errors;
    char primary[7];   /* the target or the created top record; "" when none */
    reg_level level;   /* the primary's level */
    json_t *record;    /* the primary record after the change as store_get shows it with
                          STORE_NESTED; NULL on refusal and delete */
    int64_t version;   /* the primary's version after (its ETag); 0 when none */
    int64_t seq_first; /* the sekvensnumre of this command's hændelser; 0 when none */
    int64_t seq_last;
    size_t n_changes;
    const store_change *changes;
    bool replayed;      /* the stored answer of an earlier request with the same
                           Idempotency-Key */
    uint64_t commit_id; /* which of this store's commits carried it (1, 2, ...); 0 when
                           nothing was committed for it */
    int n_indexes;      /* store_indexes_defer, store_indexes_restore: how many indexes it
                           dropped or built */
    /* store_submit_transaction: one outcome per step, in order, and the
     * 0-based index of the step that refused or failed (-1: none). A
     * single command (store_submit) has n_steps 0. */
    size_t n_steps;
    const struct store_step *steps;
    long failed_step;
    bool dry_run; /* nothing was written (store_command.dry_run) */
} store_result;

/* One step of a transaction, answered. */
typedef struct store_step {
    int status;      /* 0 accepted; else the step's refusal (only the failing step has one) */
    char primary[7]; /* the step's target or created record */
    reg_level level;
    json_t *record; /* after the step, as store_get shows it with STORE_NESTED; NULL on
                       delete, refusal and for steps not reached */
    int64_t version;
    bool done; /* the step ran and was accepted (before any rollback of the whole) */
} store_step;

/* Called on the loop thread (the store's private loop: inside store_wait or
 * store_close) once the command's transaction committed or failed. */
typedef void (*store_done_fn)(const store_result *res, void *udata);

/* Queues a command for the writer. Loop thread. The callback runs later,
 * never inside this call; cb may be NULL. Returns 0, or -1 after
 * store_close began (from a callback store_close runs) or when the command
 * lacks what it needs (actor id; idem_key without idem_client, or the
 * reverse); then cb is not called. */
int store_submit(store *s, const store_command *cmd, store_done_fn cb, void *udata);

/* The largest transaction store_submit_transaction takes. */
#define STORE_MAX_STEPS 100

/* Queues a transaction: the n commands (1..STORE_MAX_STEPS) run in order in
 * one savepoint of the writer's transaction and commit all or nothing. The
 * first command's actor, request_id, idempotency fields and dry_run count for
 * the whole (the others' are ignored). In a later step, nummer or a body's
 * "daginstitutionsNummer" / "anvisningsenhedsNummer" may be "$k": the
 * primary number of step k (1-based, an earlier step). One hændelse per
 * changed record as usual; instead of an audit row per change, one audit
 * entry ("transaktion") names every step with its changes' before and after.
 * The answer: result.steps, failed_step, and the status and errors of the
 * failing step (the others rolled back with it). Loop thread; returns as
 * store_submit, and -1 for n out of range or a "$k" that names no earlier
 * step. */
int store_submit_transaction(store *s, const store_command *cmds, size_t n, store_done_fn cb,
                             void *udata);

/* Submits and waits: store_submit, then store_wait until this command's
 * callback has run. Only for a store with a private loop, on the thread that
 * opened it (CLI tools, tests, benchmarks). Returns store_submit's value. */
int store_submit_sync(store *s, const store_command *cmd, store_done_fn cb, void *udata);

/* Runs the private loop until every submitted command has been answered.
 * Returns 0, or -1 for a store on a host loop (the host runs that). */
int store_wait(store *s);

/* Runs the private loop until at most max commands are unanswered, so that
 * a producer can prepare its next batch while the writer works on the one
 * before. Returns 0, or -1 for a store on a host loop. */
int store_wait_below(store *s, size_t max);

/* Makes the register's timed changes (reg_timed_change): a close dated in
 * the future becomes a "nedlagt" hændelse when its day arrives, a future
 * virkningFra an "aendret" one; each as a new version by actor "system".
 * Also forgets idempotency keys older than 24 hours. Goes through the writer
 * like any command; the result's changes list what was done. The host calls
 * it at start and every minute. Loop thread. */
int store_tick(store *s, store_done_fn cb, void *udata);

/* Durably sets a consumer's cursor (the last sekvensnummer it handled) through
 * the writer. Loop thread; consumer is copied. */
int store_cursor_set(store *s, const char *consumer, int64_t sekvensnummer, store_done_fn cb,
                     void *udata);

/* An initial bulk load. Row by row, every created record costs one insert
 * into each of the record table's list indexes (level, kommune, institution
 * type, P- and CVR-nummer, ...); after the load, each index is built once by
 * sorting, far faster. store_indexes_defer drops those indexes when the
 * register holds no record at all (anything else is not an initial load,
 * and nothing is dropped: n_indexes 0), durably noting their definitions;
 * store_indexes_restore builds every deferred index again. Each runs through
 * the writer in its own transaction; lists stay correct meanwhile, only
 * slower. An interrupted load's deferred indexes are built by the next
 * store_open with build_deferred_indexes. Loop thread. */
int store_indexes_defer(store *s, store_done_fn cb, void *udata);
int store_indexes_restore(store *s, store_done_fn cb, void *udata);

/* Appends one audit entry on its own (the import's summary entry) through
 * the writer. Loop thread; the entry's strings are copied. */
int store_audit(store *s, const audit_entry *entry, store_done_fn cb, void *udata);

/* Called on the loop thread after each commit that wrote hændelser, with the
 * newest sekvensnummer: the feed's wake-up. NULL clears it. */
typedef void (*store_commit_fn)(void *udata, int64_t last_sekvensnummer);
void store_on_commit(store *s, store_commit_fn fn, void *udata);

/* Counters for /metrics. Any thread. */
typedef struct store_stats {
    uint64_t commits;        /* transactions committed */
    uint64_t commands;       /* commands answered (accepted or refused) */
    uint64_t failed_commits; /* batches failed with 503 */
    uint64_t last_batch;     /* commands in the last committed batch */
    uint64_t max_batch;      /* the largest batch so far */
    uint64_t queued;         /* commands waiting for the writer now */
    uint64_t checkpoints;    /* WAL checkpoints run by the checkpoint thread */
    bool write_failing;      /* the last batch or write probe could not commit */
} store_stats;
void store_get_stats(store *s, store_stats *out);

/* Bounds on what one client can make the store hold or do (the config's
 * "limits"; docs/api.md). Until store_set_limits is called nothing is
 * bounded but the WAL (store_options.checkpoint_pages times 8).
 *   max_snapshots     snapshots open at once; store_snapshot_begin answers
 *                     503 past it (0: no bound)
 *   snapshot_max_ms   a snapshot older than this is ended (its next read
 *                     answers 503); 0: no bound
 *   max_children      records besides its own one create or PATCH may carry
 *                     (anvisningsenheder, alternativeAdresser): 413 FOR_STOR
 *   creates_per_client_per_minute  creates per actor id: 429 FOR_MANGE past
 *                     it (0: off)
 *   wal_max_bytes     the WAL's bound: reaching it ends every snapshot (a
 *                     snapshot keeps the WAL from starting over) and refuses
 *                     new ones until a checkpoint has restarted it; 0: keep
 * Any thread. */
typedef struct store_limits {
    uint32_t max_snapshots;
    uint64_t snapshot_max_ms;
    uint32_t max_children;
    uint32_t creates_per_client_per_minute;
    uint64_t wal_max_bytes;
    uint32_t max_snapshots_per_client; /* snapshots of readers with the same client
                                          (store_reader_set_client): 429 past it; 0 off */
} store_limits;
void store_set_limits(store *s, const store_limits *l);
/* Snapshots open now. Any thread. */
size_t store_snapshots_open(store *s);
/* The WAL's size in bytes after the last commit, and the numbers the
 * issuing series (G..Z) have left after the last commit. Any thread. */
uint64_t store_wal_bytes(store *s);
int64_t store_numbers_left(store *s);

/* Whether the store can write: false from a batch that could not commit (a
 * full disk, a lock held by another process) until a later commit succeeds.
 * Each call also starts a write probe through the writer (a one-page write
 * and its fsync) when none ran for a second while failing, or for ten
 * seconds otherwise, so a store that stopped writing without any command
 * failing, or that recovered, is seen by the next call after the probe.
 * /readyz calls it. Loop thread; why gets the reason when false. */
bool store_writable(store *s, char *why, size_t whylen);

/* ---- reading ---------------------------------------------------------------- */

/* Opens a read-only connection. Any thread; the reader is then used by one
 * thread at a time. NULL with a message in err on failure. */
store_reader *store_reader_open(store *s, char *err, size_t errlen);
/* Names the client r reads for (its address): its snapshots count against
 * max_snapshots_per_client. NULL or "": none. Before the first snapshot. */
void store_reader_set_client(store_reader *r, const char *client);
/* Closes it (ending a snapshot left open). */
void store_reader_close(store_reader *r);

/* Flag of store_get and store_query: nest the children (a daginstitution's
 * "anvisningsenheder", each with its "alternativeAdresser"; an
 * anvisningsenhed's "alternativeAdresser"). */
#define STORE_NESTED 1u

/* Return values of the reads: 0 found, 404 unknown, 410 deleted (store_get
 * only), 503 when the database could not be read. */

/* One record by number at any level, as GET shows it, into *out (a new
 * reference) and its level into *level. virkningsdato NULL: the current
 * record, status for today. virkningsdato D (YYYY-MM-DD): the version in
 * effect on D of a record that was in effect on D (as the register knows it
 * today), or 404; status for D; nested children likewise as of D. flags:
 * STORE_NESTED or 0. */
int store_get(store_reader *r, const char *nummer, const char *virkningsdato, unsigned flags,
              reg_level *level, json_t **out);

/* A list query: one level, filters (0 or NULL: not filtered), a page. */
typedef struct store_query {
    reg_level level;
    const char *virkningsdato; /* NULL: current; D: records in effect on D as of D */
    const char *status;        /* "kommende", "aktiv", "nedlagt" for the day (D or today) */
    int adm_kommune;           /* daginstitution: admKommuneKode */
    int kommune;               /* anvisningsenhed, alternativ adresse: adresse.kommuneKode */
    int inst_type3;            /* anvisningsenhed */
    const char *parent;        /* daginstitutionsNummer / anvisningsenhedsNummer */
    const char *p_nummer;
    const char *cvr_nummer;
    const char *navn;  /* case-insensitive substring (Unicode case folding: Æ/æ, Ø/ø, Å/å) */
    const char *after; /* the page starts after this number; NULL: from the start */
    size_t limit;      /* 1..1000; 0: 100 */
    unsigned flags;    /* STORE_NESTED */
} store_query;

/* One page of a list, ordered by nummer, into *items (a new array). next
 * gets the number to pass as the next page's "after", or "" on the last
 * page. Deleted records are never listed. Returns 0, 400 for a bad query
 * (unknown status, limit above 1000, a date that is not YYYY-MM-DD), 503. */
int store_list(store_reader *r, const store_query *q, json_t **items, char next[7]);

/* Every version of one record, oldest first, deleted records included:
 * [{"version", "registreringFra", "registreringTil", "virkningFra",
 *   "virkningTil", "aktoer", "data"}]. Returns 0 or 404. */
int store_history(store_reader *r, const char *nummer, json_t **out);

/* Hændelser with sekvensnummer >= fra in order, at most max (1..10000):
 * [{"sekvensnummer", "tidspunkt", "operation", "entitet", "nummer",
 *   "version", "data"}]. data is the record after the change (for slettet the
 * record before) with "status" as of the change. Returns 0 or 503. */
int store_haendelser(store_reader *r, int64_t fra, size_t max, json_t **out);

/* The newest sekvensnummer and its tidspunkt (0 and "" before the first
 * change). tidspunkt: 40 bytes. Returns 0 or 503. */
int store_latest(store_reader *r, int64_t *sekvensnummer, char tidspunkt[40]);

/* Starts a snapshot: a read transaction on r, consistent with the
 * sekvensnummer stored in *sekvensnummer. Until store_snapshot_end every read
 * on r sees exactly that state, however many pages it takes (store_list with
 * STORE_NESTED pages through nested daginstitutioner for an udtræk without
 * holding the register in memory). A snapshot holds back WAL checkpoints
 * while open: end it promptly. Returns 0 or 503. */
int store_snapshot_begin(store_reader *r, int64_t *sekvensnummer);
void store_snapshot_end(store_reader *r);

/* A consumer's durable cursor: 0 and *sekvensnummer, or 404 when it has none. */
int store_cursor_get(store_reader *r, const char *consumer, int64_t *sekvensnummer);

/* The stored answer for cmd's idempotency key (idem_client, idem_key) when
 * younger than 24 hours: 0 with *response (a new object {"status",
 * "primary", "record", "errors", ...}) and *same_body (whether cmd is the
 * first request again: the same operation, level, target and body bytes),
 * or 404. */
int store_idem_get(store_reader *r, const store_command *cmd, json_t **response, bool *same_body);

/* The hændelser and audit entries of one record (trail.c), oldest first:
 * {"nummer", "haendelser": [{"sekvensnummer", "tidspunkt", "operation",
 * "entitet", "version"}], "audit": [{"id", "tidspunkt", "aktoer",
 * "operation", "requestId"}]}. 0 or 503. */
int store_trail(store_reader *r, const char *nummer, json_t **out);

/* Verifies the audit chain with the store's key (audit_verify). */
int store_audit_verify(store_reader *r, audit_report *report);

#endif /* DTR_STORE_H */
