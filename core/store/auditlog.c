/*
 * auditlog.c -- the audit chain's SQL (audit.h says what the chain is):
 * its table, appending the next row under the write lock, and walking the
 * whole chain, through the statement layer (sql.h); the hashing stays in
 * core/audit.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "store/store_int.h"

static const char audit_schema[] = "CREATE TABLE IF NOT EXISTS audit (\n"
                                   "  id INTEGER PRIMARY KEY,\n"
                                   "  tidspunkt TEXT NOT NULL,\n"
                                   "  actor TEXT NOT NULL,\n"
                                   "  request_id TEXT,\n"
                                   "  operation TEXT NOT NULL,\n"
                                   "  level TEXT,\n"
                                   "  nummer TEXT,\n"
                                   "  before TEXT,\n"
                                   "  after TEXT,\n"
                                   "  prev_hash BLOB NOT NULL,\n"
                                   "  hash BLOB NOT NULL\n"
                                   ");";

const char *audit_schema_sql(void)
{
    return audit_schema;
}

/* RFC 3339 UTC with milliseconds: 2026-11-27T10:00:00.123Z (out: 64 bytes, so
 * that no year can truncate it). */
static void audit_now(char out[64])
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    snprintf(out, 64, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ts.tv_nsec / 1000000));
}

/* Binds s (not copied: it outlives the step) or NULL; false when the bind
 * failed (the row must then not be written: its hash would not match it). */
static bool bind_text_or_null(sql_stmt *st, int i, const char *s)
{
    return sql_bind_text_ref(st, i, s, -1) == SQL_OK;
}

void audit_writer_init(audit_writer *w, sql_conn *db)
{
    w->db = db;
    w->head = NULL;
    w->insert = NULL;
}

void audit_writer_close(audit_writer *w)
{
    sql_finalize(w->head);
    sql_finalize(w->insert);
    w->head = w->insert = NULL;
}

/* Prepares a statement of the writer on first use; resets it otherwise. */
static int writer_stmt(audit_writer *w, sql_stmt **st, const char *sql)
{
    if (*st) {
        sql_reset(*st);
        sql_clear_bindings(*st);
        return SQL_OK;
    }
    return sql_prepare(w->db, sql, true, st);
}

/* Reads the head of the chain (its id and hash) and inserts the next row.
 * Runs inside a transaction the caller opened. */
static int append_in_txn(audit_writer *w, const uint8_t key[AUDIT_KEY_BYTES], const audit_entry *e,
                         int64_t *id_out)
{
    int64_t id = 1;
    uint8_t prev[AUDIT_HASH_BYTES] = {0};
    int rc = writer_stmt(w, &w->head, "SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1");
    if (rc != SQL_OK) return rc;
    sql_stmt *st = w->head;
    rc = sql_step(st);
    if (rc == SQL_ROW) {
        id = sql_column_int64(st, 0) + 1;
        if (sql_column_bytes(st, 1) == AUDIT_HASH_BYTES)
            memcpy(prev, sql_column_blob(st, 1), AUDIT_HASH_BYTES);
        rc = SQL_OK;
    } else if (rc == SQL_DONE) {
        rc = SQL_OK;
    }
    sql_reset(st);
    if (rc != SQL_OK) return rc;

    audit_entry row = *e;
    char now[64];
    if (!row.tidspunkt) {
        audit_now(now);
        row.tidspunkt = now;
    }
    uint8_t hash[AUDIT_HASH_BYTES];
    audit_row_hash(key, id, &row, prev, hash);

    rc = writer_stmt(w, &w->insert,
                     "INSERT INTO audit (id, tidspunkt, actor, request_id, operation, "
                     "level, nummer, before, after, prev_hash, hash) "
                     "VALUES (?,?,?,?,?,?,?,?,?,?,?)");
    if (rc != SQL_OK) return rc;
    st = w->insert;
    bool bound = sql_bind_int64(st, 1, id) == SQL_OK;
    bound &= bind_text_or_null(st, 2, row.tidspunkt);
    bound &= bind_text_or_null(st, 3, row.actor);
    bound &= bind_text_or_null(st, 4, row.request_id);
    bound &= bind_text_or_null(st, 5, row.operation);
    bound &= bind_text_or_null(st, 6, row.level);
    bound &= bind_text_or_null(st, 7, row.nummer);
    bound &= bind_text_or_null(st, 8, row.before);
    bound &= bind_text_or_null(st, 9, row.after);
    bound &= sql_bind_blob_ref(st, 10, prev, AUDIT_HASH_BYTES) == SQL_OK;
    bound &= sql_bind_blob_ref(st, 11, hash, AUDIT_HASH_BYTES) == SQL_OK;
    rc = bound ? sql_step(st) : SQL_NOMEM;
    sql_reset(st);
    sql_clear_bindings(st);
    if (rc != SQL_DONE) return rc;
    if (id_out) *id_out = id;
    return SQL_OK;
}

int audit_writer_append(audit_writer *w, const uint8_t key[AUDIT_KEY_BYTES],
                        const audit_entry *entry, int64_t *id_out)
{
    if (!entry || !entry->actor || !entry->operation) return SQL_MISUSE;
    if (sql_in_transaction(w->db)) return append_in_txn(w, key, entry, id_out);

    int rc = sql_begin_write(w->db);
    if (rc != SQL_OK) return rc;
    rc = append_in_txn(w, key, entry, id_out);
    if (rc == SQL_OK) rc = sql_exec(w->db, "COMMIT");
    if (rc != SQL_OK && sql_in_transaction(w->db)) sql_exec(w->db, "ROLLBACK");
    return rc;
}

int audit_append(sql_conn *db, const uint8_t key[AUDIT_KEY_BYTES], const audit_entry *entry,
                 int64_t *id_out)
{
    audit_writer w;
    audit_writer_init(&w, db);
    int rc = audit_writer_append(&w, key, entry, id_out);
    audit_writer_close(&w);
    return rc;
}

static const char *col_text(sql_stmt *st, int i)
{
    return sql_column_text(st, i); /* NULL for SQL NULL */
}

/* Checks one row against the previous row's id and hash. Returns true when
 * it holds; otherwise fills reason. */
static bool check_row(sql_stmt *st, const uint8_t key[AUDIT_KEY_BYTES], int64_t prev_id,
                      const uint8_t prev_hash[AUDIT_HASH_BYTES], uint8_t hash_out[AUDIT_HASH_BYTES],
                      char *reason, size_t reason_len)
{
    int64_t id = sql_column_int64(st, 0);
    if (id != prev_id + 1) {
        snprintf(reason, reason_len, "entry %" PRId64 " follows entry %" PRId64 ": %s", id, prev_id,
                 id > prev_id + 1 ? "entries are missing before it" : "ids out of order");
        return false;
    }
    if (sql_column_bytes(st, 9) != AUDIT_HASH_BYTES ||
        sodium_memcmp(sql_column_blob(st, 9), prev_hash, AUDIT_HASH_BYTES) != 0) {
        snprintf(reason, reason_len,
                 "entry %" PRId64 ": prev_hash does not match the hash of the entry before it", id);
        return false;
    }
    audit_entry e = {
        .tidspunkt = col_text(st, 1),
        .actor = col_text(st, 2),
        .request_id = col_text(st, 3),
        .operation = col_text(st, 4),
        .level = col_text(st, 5),
        .nummer = col_text(st, 6),
        .before = col_text(st, 7),
        .after = col_text(st, 8),
    };
    audit_row_hash(key, id, &e, prev_hash, hash_out);
    if (sql_column_bytes(st, 10) != AUDIT_HASH_BYTES ||
        sodium_memcmp(sql_column_blob(st, 10), hash_out, AUDIT_HASH_BYTES) != 0) {
        snprintf(reason, reason_len,
                 "entry %" PRId64 ": its hash does not match its content (changed after it "
                 "was written, or written with another key)",
                 id);
        return false;
    }
    return true;
}

int audit_verify(sql_conn *db, const uint8_t key[AUDIT_KEY_BYTES], audit_report *r)
{
    memset(r, 0, sizeof *r);
    bool own_txn = !sql_in_transaction(db);
    if (own_txn && sql_begin_read(db) != SQL_OK) {
        snprintf(r->reason, sizeof r->reason, "cannot begin a read: %s", sql_errmsg(db));
        return -1;
    }
    sql_stmt *st = NULL;
    int result = 0;
    int rc = sql_prepare(db,
                         "SELECT id, tidspunkt, actor, request_id, operation, level, "
                         "nummer, before, after, prev_hash, hash FROM audit ORDER BY id",
                         false, &st);
    if (rc != SQL_OK) {
        snprintf(r->reason, sizeof r->reason, "cannot read the audit table: %s", sql_errmsg(db));
        result = -1;
        goto out;
    }
    int64_t prev_id = 0;
    uint8_t prev_hash[AUDIT_HASH_BYTES] = {0};
    while ((rc = sql_step(st)) == SQL_ROW) {
        uint8_t hash[AUDIT_HASH_BYTES];
        r->entries++;
        if (!check_row(st, key, prev_id, prev_hash, hash, r->reason, sizeof r->reason)) {
            r->first_bad_id = sql_column_int64(st, 0);
            result = 1;
            goto out;
        }
        prev_id = sql_column_int64(st, 0);
        memcpy(prev_hash, hash, AUDIT_HASH_BYTES);
    }
    if (rc != SQL_DONE) {
        snprintf(r->reason, sizeof r->reason, "reading the audit table failed: %s", sql_errmsg(db));
        result = -1;
    }
out:
    sql_finalize(st);
    if (own_txn) sql_exec(db, "COMMIT");
    return result;
}

/* ---- on a side connection (store_db.h) ------------------------------------------ */

int store_db_audit_append(store_db *db, const uint8_t key[AUDIT_KEY_BYTES],
                          const audit_entry *entry, int64_t *id_out, char *err, size_t errlen)
{
    int rc = audit_append(db->db, key, entry, id_out);
    if (rc == SQL_OK) return 0;
    if (err && errlen) snprintf(err, errlen, "cannot append to the audit log: %s", sql_errstr(rc));
    return -1;
}

int store_db_audit_verify(store_db *db, const uint8_t key[AUDIT_KEY_BYTES], audit_report *report)
{
    return audit_verify(db->db, key, report);
}

/* Every entry must name who acted: a client of the client table (revoked
 * ones included: they existed when they acted), the register itself
 * ("system"), the bulk import ("import"), an operator at the command line
 * ("cli:<unix user>") or a person of the web UI ("bruger:<name>"). A name
 * that is none of these means something wrote for a client that never
 * existed. */
int store_db_audit_actors(store_db *db, audit_report *report)
{
    sql_stmt *st = NULL;
    int rc = sql_prepare(db->db,
                         "SELECT id, actor FROM audit WHERE actor NOT IN ('system', 'import') AND "
                         "actor NOT LIKE 'cli:%' AND actor NOT LIKE 'bruger:%' AND "
                         "actor NOT IN (SELECT id FROM client) ORDER BY id LIMIT 1",
                         false, &st);
    if (rc != SQL_OK) {
        snprintf(report->reason, sizeof report->reason, "cannot read the audit actors: %s",
                 sql_errmsg(db->db));
        return -1;
    }
    int verdict = 0;
    rc = sql_step(st);
    if (rc == SQL_ROW) {
        report->first_bad_id = sql_column_int64(st, 0);
        snprintf(report->reason, sizeof report->reason,
                 "the entry names the actor \"%.64s\", which is no client of this register",
                 sql_column_text(st, 1));
        verdict = -1;
    } else if (rc != SQL_DONE) {
        snprintf(report->reason, sizeof report->reason, "cannot read the audit actors: %s",
                 sql_errmsg(db->db));
        verdict = -1;
    }
    sql_finalize(st);
    return verdict;
}
