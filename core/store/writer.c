/*
 * writer.c -- the writer thread: group commit.
 *
 * The thread sleeps until jobs are queued, takes all of them (at most
 * max_batch; one in no_group_commit mode), and runs them in one transaction:
 *
 *   BEGIN IMMEDIATE
 *     SAVEPOINT job   ... the job's reads, decision and writes ...
 *     RELEASE job     (or ROLLBACK TO job; RELEASE job on refusal/failure)
 *     ... next job ...
 *   COMMIT            one WAL fsync for the batch (synchronous=FULL)
 *
 * and then hands the whole batch, answered, to the loop thread (done list
 * and uv_async_send). Nothing is answered before COMMIT returned.
 *
 * If the batch cannot be committed (BEGIN fails, SQLite rolled the
 * transaction back by itself after an error, COMMIT fails) every job of the
 * batch is answered 503 IKKE_KLAR and nothing of it stays. A COMMIT that
 * fails with an I/O error means the WAL write or its fsync failed: the store
 * cannot know what reached the disk, so it logs and aborts the process (no
 * answer is sent for that batch; SQLite recovers the database from the WAL
 * on the next start).
 *
 * Dry run (store_options.dry_run): the first batch begins the transaction
 * and no batch commits it; every batch is answered as if committed (its
 * reads see the batches before it) and the writer rolls it all back when the
 * store closes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "store/store_int.h"

#define IDEM_TTL_MS (24LL * 3600 * 1000)

/* The time of one job: ms, RFC 3339 and the day. */
typedef struct job_time {
    int64_t ms;
    char now[40];
    char today[11];
} job_time;

static void job_time_of(store *s, job_time *t)
{
    t->ms = store_now_ms(s);
    store_format_time(t->ms, t->now);
    store_day(t->ms, t->today);
}

static bool savepoint(store_conn *c, sq_id id)
{
    return conn_run(c, id) == SQL_OK;
}

/* Undoes everything since SAVEPOINT job and ends the savepoint. */
static void rollback_job(store_conn *c)
{
    conn_run(c, SQ_ROLLBACK_TO);
    conn_run(c, SQ_RELEASE);
}

/* Undoes a job's writes (its savepoint) and answers it 503. */
static void job_undo_503(store_conn *c, store_job *j, const char *why)
{
    if (sql_in_transaction(c->db)) rollback_job(c);
    store_log(c->s, 3, "write failed: %s: %s", why, sql_errmsg(c->db));
    job_fail(j, 503, "IKKE_KLAR", "registeret kunne ikke gemme ændringen; prøv igen");
    j->wrote = false;
}

/* The key could not be looked up (BUSY, an I/O error): it may have been
 * seen, so the command must not run (it could make a second record). */
static void idem_lookup_failed(store_conn *c, store_job *j)
{
    store_log(c->s, 3, "cannot look up an idempotency key: %s", sql_errmsg(c->db));
    job_fail(j, 503, "IKKE_KLAR", "registeret kunne ikke læse Idempotency-Key; prøv igen");
}

/* An idempotency key seen before (inside the transaction, so the first
 * answer is committed): replays that answer, or answers 422 for other
 * bytes. Returns true when the job is answered. An expired key is
 * forgotten and the command runs. */
static bool idem_answered(store_conn *c, store_job *j, int64_t now_ms)
{
    sql_stmt *q = conn_stmt(c, SQ_IDEM_GET);
    if (!q) {
        /* a key that cannot be looked up may have been seen: running the
         * command could make a second record */
        idem_lookup_failed(c, j);
        return true;
    }
    bind_text(q, 1, j->idem_client);
    bind_text(q, 2, j->idem_key);
    int rc = sql_step(q);
    if (rc != SQL_ROW) {
        sql_reset(q);
        if (rc == SQL_DONE) return false;
        idem_lookup_failed(c, j);
        return true;
    }
    bool expired = sql_column_int64(q, 3) < now_ms - IDEM_TTL_MS;
    bool same = sql_column_bytes(q, 0) == (int)sizeof j->body_hash &&
                memcmp(sql_column_blob(q, 0), j->body_hash, sizeof j->body_hash) == 0;
    json_t *answer = same && !expired ? column_json(q, 2) : NULL;
    sql_reset(q);
    if (expired) {
        q = conn_stmt(c, SQ_IDEM_DELETE);
        if (q) {
            bind_text(q, 1, j->idem_client);
            bind_text(q, 2, j->idem_key);
            sql_step(q);
            sql_reset(q);
        }
        return false;
    }
    if (!same) {
        job_fail(j, 422, "IDEMPOTENS_KONFLIKT",
                 "Idempotency-Key er brugt før med en anden forespørgsel");
        return true;
    }
    job_answer_from_json(j, answer);
    json_decref(answer);
    j->res.replayed = true;
    return true;
}

static void idem_remember(store_conn *c, store_job *j, int64_t now_ms)
{
    sql_stmt *q = conn_stmt(c, SQ_IDEM_PUT);
    if (!q) return;
    bind_text(q, 1, j->idem_client);
    bind_text(q, 2, j->idem_key);
    sql_bind_blob_ref(q, 3, j->body_hash, sizeof j->body_hash);
    sql_bind_int64(q, 4, j->res.status);
    json_t *answer = job_answer_to_json(j);
    char *text = bind_json(q, 5, answer);
    json_decref(answer);
    sql_bind_int64(q, 6, now_ms);
    if (sql_step(q) == SQL_DONE)
        j->wrote = true;
    else
        store_log(c->s, 3, "cannot store idempotency key: %s", sql_errmsg(c->db));
    sql_reset(q);
    sql_clear_bindings(q); /* text goes now */
    free(text);
}

/* Writes an accepted decision's changes and fills the answer. Returns false
 * when a write failed (the caller undoes the savepoint). */
static bool write_decision(store_conn *c, store_job *j, const reg_decision *d, job_time *t,
                           json_t *audit_trail)
{
    apply_ctx a = {.c = c,
                   .actor = j->actor_id,
                   .request_id = j->request_id,
                   .now = t->now,
                   .today = t->today,
                   .no_audit = j->no_audit,
                   .audit_trail = audit_trail};
    const char *primary = d->primary ? d->primary : j->nummer;
    j->res.level = j->level;
    for (size_t i = 0; i < d->n_changes; i++) {
        const reg_change *ch = &d->changes[i];
        int64_t seq = 0;
        if (apply_change(&a, ch, &seq) != SQL_OK) return false;
        const json_t *rec = ch->after ? ch->after : ch->before;
        int64_t version = json_integer_value(json_object_get(rec, "version"));
        job_add_change(j, ch->operation, ch->level, ch->nummer, version);
        if (!j->res.seq_first) j->res.seq_first = seq;
        j->res.seq_last = seq;
        if (primary && strcmp(ch->nummer, primary) == 0) j->res.level = ch->level;
    }
    if (d->n_changes > 0) j->wrote = true;
    snprintf(j->res.primary, sizeof j->res.primary, "%s", primary ? primary : "");
    bool deleted = j->op == REG_OP_DELETE;
    if (primary && !deleted && !j->no_record) {
        reg_level level;
        int st = show_record(c, primary, NULL, STORE_NESTED, &level, &j->res.record);
        if (st != 0) return false;
        j->res.level = level;
        j->res.version = json_integer_value(json_object_get(j->res.record, "version"));
    }
    return true;
}

/* Runs one command in a savepoint of its own: reads the state, asks the
 * register, writes an accepted decision. A refusal or failure undoes the
 * savepoint; the answer is in j->res. */
static void run_step(store_conn *c, store_job *j, job_time *t, json_t *audit_trail)
{
    if (!savepoint(c, SQ_SAVEPOINT)) {
        job_fail(j, 503, "IKKE_KLAR", "registeret kunne ikke gemme ændringen; prøv igen");
        return;
    }
    state_ctx sx = {.c = c};
    reg_state state;
    state_init(&state, &sx);
    reg_actor actor = {
        .id = j->actor_id, .role = j->role, .kommuner = j->kommuner, .n_kommuner = j->n_kommuner};
    reg_command cmd = {.op = j->op,
                       .level = j->level,
                       .nummer = j->nummer,
                       .body = j->body,
                       .if_match = j->has_if_match ? j->if_match : -1,
                       .today = t->today,
                       .now = t->now,
                       .keep_numbers = j->keep_numbers};
    unsigned binds = store_bind_failures();
    reg_decision d;
    reg_decide(&cmd, &state, &actor, &d);
    if (sx.failed || store_bind_failures() != binds) {
        job_undo_503(c, j, "reading the state");
    } else if (d.status != 0) {
        rollback_job(c);
        job_reset_answer(j);
        j->res.status = d.status;
        job_set_errors(j, d.errors, d.n_errors);
        if (j->nummer) snprintf(j->res.primary, sizeof j->res.primary, "%s", j->nummer);
        j->res.level = j->level;
    } else if (!write_decision(c, j, &d, t, audit_trail) || store_bind_failures() != binds) {
        job_undo_503(c, j, "writing the changes");
    } else if (!savepoint(c, SQ_RELEASE)) {
        job_undo_503(c, j, "releasing the savepoint");
    }
    reg_decision_clear(&d);
}

/* A dry run's end: everything since the outer savepoint goes, the answer
 * stays as it was, without sekvensnumre (none were made). */
static void undo_dry_run(store_conn *c, store_job *j)
{
    rollback_job(c);
    j->wrote = false;
    j->res.seq_first = j->res.seq_last = 0;
    j->res.dry_run = true;
}

static void run_command(store_conn *c, store_job *j)
{
    job_time t;
    job_time_of(c->s, &t);
    if (j->dry_run) {
        if (!savepoint(c, SQ_SAVEPOINT)) {
            job_fail(j, 503, "IKKE_KLAR", "registeret kunne ikke kontrollere ændringen");
            return;
        }
        run_step(c, j, &t, NULL);
        undo_dry_run(c, j);
        return;
    }
    if (j->idem_client && idem_answered(c, j, t.ms)) return;
    run_step(c, j, &t, NULL);
    if (j->idem_client && j->res.status != 503) idem_remember(c, j, t.ms);
}

/* A command's name in a transaction's audit entry (REST's words). */
static const char *op_name(reg_op op)
{
    switch (op) {
    case REG_OP_CREATE:
        return "opret";
    case REG_OP_UPDATE:
        return "ret";
    case REG_OP_CLOSE:
        return "nedlaeg";
    case REG_OP_DELETE:
        return "slet";
    case REG_OP_MOVE:
        return "flyt";
    default:
        return "genaabn";
    }
}

/* Replaces a "$k" reference with step k's primary number. */
static void resolve_ref(store_job *txn, char **nummer)
{
    if (!*nummer || (*nummer)[0] != '$') return;
    long k = strtol(*nummer + 1, NULL, 10); /* checked at submit: 1 <= k < this step */
    if (k < 1 || (size_t)k > txn->n_steps) return;
    char *resolved = strdup(txn->steps[k - 1]->res.primary);
    if (!resolved) abort();
    free(*nummer);
    *nummer = resolved;
}

static void resolve_body_ref(store_job *txn, json_t *body, const char *field)
{
    const char *v = json_string_value(json_object_get(body, field));
    if (!v || v[0] != '$') return;
    long k = strtol(v + 1, NULL, 10);
    if (k < 1 || (size_t)k > txn->n_steps) return;
    json_object_set_new(body, field, json_string(txn->steps[k - 1]->res.primary));
}

/* The audit entry that names every step of a committed transaction. */
static int write_transaction_audit(store_conn *c, store_job *j, json_t *trail, job_time *t)
{
    json_t *steps = json_array();
    for (size_t i = 0; i < j->n_steps; i++) {
        const store_job *st = j->steps[i];
        json_array_append_new(steps,
                              json_pack("{s:i, s:s, s:s, s:s}", "trin", (int)i + 1, "operation",
                                        op_name(st->op), "niveau", reg_level_name(st->level),
                                        "nummer", st->res.primary));
    }
    json_t *after = json_pack("{s:o, s:O}", "trin", steps, "aendringer", trail);
    char *text = after ? json_dumps(after, JSON_COMPACT) : NULL;
    json_decref(after);
    if (!text) return SQL_NOMEM;
    audit_entry e = {.tidspunkt = t->now,
                     .actor = j->actor_id,
                     .request_id = j->request_id,
                     .operation = "transaktion",
                     .level = reg_level_name(j->steps[0]->level),
                     .nummer = j->steps[0]->res.primary,
                     .before = NULL,
                     .after = text};
    int rc = audit_writer_append(&c->audit, c->s->key, &e, NULL);
    free(text);
    return rc;
}

/* A transaction: every step in order inside one outer savepoint; the first
 * refusal or failure undoes them all, and so does a dry run in the end. */
static void run_transaction(store_conn *c, store_job *j)
{
    job_time t;
    job_time_of(c->s, &t);
    if (!j->dry_run && j->idem_client && idem_answered(c, j, t.ms)) return;
    if (!savepoint(c, SQ_SAVEPOINT)) {
        job_fail(j, 503, "IKKE_KLAR", "registeret kunne ikke gemme ændringen; prøv igen");
        return;
    }
    json_t *trail = j->dry_run ? NULL : json_array();
    j->res.failed_step = -1;
    for (size_t i = 0; i < j->n_steps; i++) {
        store_job *st = j->steps[i];
        resolve_ref(j, &st->nummer);
        if (st->body) {
            resolve_body_ref(j, st->body, "daginstitutionsNummer");
            resolve_body_ref(j, st->body, "anvisningsenhedsNummer");
        }
        run_step(c, st, &t, trail);
        if (st->res.status != 0) {
            j->res.failed_step = (long)i;
            break;
        }
    }
    job_reset_answer(j);
    j->res.failed_step = -1;
    for (size_t i = 0; i < j->n_steps; i++) {
        store_job *st = j->steps[i];
        store_step *out = &j->step_results[i];
        if (st->res.status != 0 && j->res.failed_step < 0) {
            j->res.failed_step = (long)i;
            j->res.status = st->res.status;
            job_set_errors(j, st->errors, st->n_errors);
        }
        snprintf(out->primary, sizeof out->primary, "%s", st->res.primary);
        out->level = st->res.level;
        out->status = st->res.status;
        out->done = st->res.status == 0 && st->res.primary[0] != '\0';
        out->record = json_incref(st->res.record);
        out->version = st->res.version;
        for (size_t k = 0; k < st->n_changes; k++) {
            const store_change *ch = &st->changes[k];
            job_add_change(j, ch->operation, ch->level, ch->nummer, ch->version);
        }
        if (st->res.seq_first && !j->res.seq_first) j->res.seq_first = st->res.seq_first;
        if (st->res.seq_last) j->res.seq_last = st->res.seq_last;
    }
    const store_step *last = &j->step_results[j->n_steps - 1];
    snprintf(j->res.primary, sizeof j->res.primary, "%s", last->primary);
    j->res.level = last->level;
    j->res.record = json_incref(last->record);
    j->res.version = last->version;
    if (j->res.status == 503 && j->res.failed_step < 0) j->res.failed_step = 0;
    if (j->dry_run) {
        undo_dry_run(c, j);
    } else if (j->res.status != 0) {
        rollback_job(c);
        j->wrote = false;
        j->res.seq_first = j->res.seq_last = 0;
    } else if (write_transaction_audit(c, j, trail, &t) != SQL_OK) {
        job_undo_503(c, j, "writing the transaction's audit entry");
    } else if (!savepoint(c, SQ_RELEASE)) {
        job_undo_503(c, j, "releasing the transaction");
    } else {
        j->wrote = true;
    }
    json_decref(trail);
    if (!j->dry_run && j->idem_client && j->res.status != 503) idem_remember(c, j, t.ms);
}

/* The timed changes due today, and the idempotency keys past 24 hours. */
static void run_tick(store_conn *c, store_job *j)
{
    job_time t;
    job_time_of(c->s, &t);
    if (!savepoint(c, SQ_SAVEPOINT)) {
        job_fail(j, 503, "IKKE_KLAR", "kunne ikke begynde");
        return;
    }
    sql_stmt *q = conn_stmt(c, SQ_TIMED_DUE);
    if (!q) {
        job_undo_503(c, j, "timed changes");
        return;
    }
    bind_text(q, 1, t.today);
    json_t *due = json_array(); /* [level, record] pairs, read before writing */
    int rc;
    while ((rc = sql_step(q)) == SQL_ROW) {
        json_t *rec = column_json(q, 2);
        if (rec) json_array_append_new(due, json_pack("[i, o]", sql_column_int(q, 1), rec));
    }
    sql_reset(q);
    bool ok = rc == SQL_DONE;
    apply_ctx a = {.c = c, .actor = "system", .now = t.now, .today = t.today};
    size_t i;
    json_t *pair;
    json_array_foreach(due, i, pair)
    {
        if (!ok) break;
        reg_level level = (reg_level)json_integer_value(json_array_get(pair, 0));
        reg_change ch;
        if (!reg_timed_change(json_array_get(pair, 1), level, NULL, t.today, t.now, &ch)) continue;
        int64_t seq = 0;
        ok = apply_change(&a, &ch, &seq) == SQL_OK;
        if (ok) {
            job_add_change(j, ch.operation, ch.level, ch.nummer,
                           json_integer_value(json_object_get(ch.after, "version")));
            if (!j->res.seq_first) j->res.seq_first = seq;
            j->res.seq_last = seq;
            j->wrote = true;
        }
        reg_change_clear(&ch);
    }
    json_decref(due);
    if (ok && (q = conn_stmt(c, SQ_IDEM_PURGE)) != NULL) {
        sql_bind_int64(q, 1, t.ms - IDEM_TTL_MS);
        ok = sql_step(q) == SQL_DONE;
        sql_reset(q);
        if (sql_changes(c->db) > 0) j->wrote = true;
    }
    if (!ok || !savepoint(c, SQ_RELEASE)) job_undo_503(c, j, "timed changes");
}

static void run_cursor(store_conn *c, store_job *j)
{
    job_time t;
    job_time_of(c->s, &t);
    sql_stmt *q = conn_stmt(c, SQ_CURSOR_SET);
    int rc = SQL_ERROR;
    if (q) {
        bind_text(q, 1, j->consumer);
        sql_bind_int64(q, 2, j->cursor_seq);
        bind_text(q, 3, t.now);
        rc = sql_step(q);
        sql_reset(q);
    }
    if (rc != SQL_DONE) {
        store_log(c->s, 3, "cannot set cursor %s: %s", j->consumer, sql_errmsg(c->db));
        job_fail(j, 503, "IKKE_KLAR", "kunne ikke gemme markøren");
        return;
    }
    j->wrote = true;
}

static void run_audit(store_conn *c, store_job *j)
{
    int rc = audit_writer_append(&c->audit, c->s->key, &j->entry, NULL);
    if (rc != SQL_OK) {
        store_log(c->s, 3, "cannot append audit entry: %s", sql_errstr(rc));
        job_fail(j, 503, "IKKE_KLAR", "kunne ikke skrive i revisionsloggen");
        return;
    }
    j->wrote = true;
}

/* store_indexes_defer and store_indexes_restore, in a savepoint of their
 * own so that a failure leaves the batch's other jobs alone. */
static void run_indexes(store_conn *c, store_job *j)
{
    if (!savepoint(c, SQ_SAVEPOINT)) {
        job_fail(j, 503, "IKKE_KLAR", "kunne ikke begynde");
        return;
    }
    int rc = j->kind == JOB_DEFER_INDEXES ? indexes_defer(c, &j->res.n_indexes)
                                          : indexes_restore(c, &j->res.n_indexes);
    if (rc != SQL_OK || !savepoint(c, SQ_RELEASE)) {
        j->res.n_indexes = 0;
        job_undo_503(c, j, "deferred indexes");
        return;
    }
    if (j->res.n_indexes) j->wrote = true;
}

/* A write probe: one page changes (the header's user_version, which nothing
 * else uses) so that the commit writes and syncs the WAL like any other. */
static void run_probe(store_conn *c, store_job *j, int64_t now_ms)
{
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d", (int)(now_ms & 0x3fffffff));
    if (sql_exec(c->db, sql) != SQL_OK) {
        store_log(c->s, 3, "write probe failed: %s", sql_errmsg(c->db));
        job_fail(j, 503, "IKKE_KLAR", "kunne ikke skrive");
        return;
    }
    j->wrote = true;
}

static void fail_batch(store_job *batch, const char *tekst)
{
    for (store_job *j = batch; j; j = j->next) {
        job_fail(j, 503, "IKKE_KLAR", tekst);
        j->wrote = false;
    }
}

/* Runs one batch in one transaction. Returns false when the batch failed
 * (every job answered 503); *commit_id gets the commit's number when the
 * batch wrote anything (0 otherwise). */
static bool run_batch(store *s, store_job *batch, uint64_t *commit_id)
{
    store_conn *c = &s->wconn;
    *commit_id = 0;
    /* a dry run keeps one transaction open across its batches */
    int rc = s->dry_run && sql_in_transaction(c->db) ? SQL_OK : sql_begin_write(c->db);
    if (rc != SQL_OK) {
        store_log(s, 3, "cannot begin a write transaction: %s", sql_errmsg(c->db));
        fail_batch(batch, "registeret kan ikke skrive lige nu; prøv igen");
        return false;
    }
    bool broken = false;
    for (store_job *j = batch; j && !broken; j = j->next) {
        switch (j->kind) {
        case JOB_COMMAND:
            if (j->steps)
                run_transaction(c, j);
            else
                run_command(c, j);
            break;
        case JOB_TICK:
            run_tick(c, j);
            break;
        case JOB_CURSOR:
            run_cursor(c, j);
            break;
        case JOB_AUDIT:
            run_audit(c, j);
            break;
        case JOB_DEFER_INDEXES:
        case JOB_RESTORE_INDEXES:
            run_indexes(c, j);
            break;
        case JOB_PROBE:
            run_probe(c, j, store_now_ms(s));
            break;
        case JOB_ANSWERED:
            break;
        }
        /* after some errors (I/O, disk full, out of memory) SQLite has
         * rolled the whole transaction back already */
        broken = !sql_in_transaction(c->db);
    }
    if (broken) {
        store_log(s, 3, "the write transaction was rolled back: %s", sql_errmsg(c->db));
        fail_batch(batch, "registeret kunne ikke gemme ændringen; prøv igen");
        return false;
    }
    if (s->dry_run) return true; /* answered as if committed; rolled back at close */
    rc = sql_exec(c->db, "COMMIT");
    if (rc != SQL_OK) {
        /* SQLite: a failed fsync leaves the file's state unknown, and only a
         * restart's recovery may go on. PostgreSQL: the server keeps its
         * own state; a connection lost in COMMIT is a failed batch (503,
         * and a retry with the Idempotency-Key finds out what happened). */
        if ((rc & 0xff) == SQL_IOERR && sql_dialect_of(c->db) == SQL_DIALECT_SQLITE) {
            store_log(s, 3,
                      "FATAL: commit failed with an I/O error (%s): what reached the disk is "
                      "unknown; stopping so that the database is recovered on restart",
                      sql_errmsg(c->db));
            /* also straight to stderr: a buffered logger may not get to write it */
            fprintf(stderr, "dtr store: FATAL: commit failed with an I/O error (%s); aborting\n",
                    sql_errmsg(c->db));
            abort();
        }
        store_log(s, 3, "commit failed: %s", sql_errmsg(c->db));
        if (sql_in_transaction(c->db)) sql_exec(c->db, "ROLLBACK");
        fail_batch(batch, "registeret kunne ikke gemme ændringen; prøv igen");
        return false;
    }
    bool wrote = false;
    for (store_job *j = batch; j; j = j->next)
        wrote = wrote || j->wrote;
    if (wrote) alloc_note_left(c);
    if (wrote) {
        pthread_mutex_lock(&s->mu);
        *commit_id = ++s->stats.commits;
        pthread_mutex_unlock(&s->mu);
    }
    return true;
}

void *writer_main(void *arg)
{
    store *s = arg;
    size_t limit = s->no_group_commit ? 1 : s->max_batch;
    for (;;) {
        pthread_mutex_lock(&s->mu);
        while (!s->queue_head && !s->closing)
            pthread_cond_wait(&s->cond, &s->mu);
        if (!s->queue_head) {
            pthread_mutex_unlock(&s->mu);
            /* closing and drained; a dry run's changes go */
            if (s->dry_run && sql_in_transaction(s->wconn.db)) sql_exec(s->wconn.db, "ROLLBACK");
            break;
        }
        store_job *batch = s->queue_head, *last = batch;
        size_t n = 1;
        while (last->next && n < limit) {
            last = last->next;
            n++;
        }
        s->queue_head = last->next;
        if (!s->queue_head) s->queue_tail = NULL;
        last->next = NULL;
        s->queue_len -= n;
        s->stats.queued = s->queue_len;
        pthread_mutex_unlock(&s->mu);

        uint64_t commit_id;
        bool committed = run_batch(s, batch, &commit_id);
        int64_t last_seq = 0;
        for (store_job *j = batch; j; j = j->next) {
            if (commit_id && j->res.status == 0) j->res.commit_id = commit_id;
            if (commit_id && j->res.seq_last > last_seq) last_seq = j->res.seq_last;
        }

        pthread_mutex_lock(&s->mu);
        if (s->done_tail)
            s->done_tail->next = batch;
        else
            s->done_head = batch;
        s->done_tail = last;
        if (last_seq > s->done_last_seq) s->done_last_seq = last_seq;
        s->stats.commands += n;
        if (commit_id) {
            s->stats.last_batch = n;
            if (n > s->stats.max_batch) s->stats.max_batch = n;
        }
        if (!committed) s->stats.failed_commits++;
        if (!committed)
            s->stats.write_failing = true;
        else if (commit_id)
            s->stats.write_failing = false;
        pthread_mutex_unlock(&s->mu);
        uv_async_send(s->async);
    }
    return NULL;
}
