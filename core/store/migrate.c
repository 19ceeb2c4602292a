/*
 * migrate.c -- the schema and its numbered migrations.
 *
 * schema_version holds one row: the number of the last migration applied.
 * store_migrate applies the missing ones in order, each in its own
 * transaction (BEGIN IMMEDIATE, so two processes starting at once cannot
 * both apply one: the second sees the first's version once it gets the lock)
 * and refuses a database whose version is newer than this code knows.
 *
 * A migration is never edited once released: a change of the schema is a
 * new migration appended to the list.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

/* Migration 1: the register's tables. The audit table's DDL is in
 * auditlog.c and runs here too. */
static const char migration_1[] =
    /* Current state: one row per number ever used, at every level. deleted
     * rows keep their last version (a deleted number stays burnt). The
     * columns after json are copies of record fields the lists filter on. */
    "CREATE TABLE record (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  nummer TEXT NOT NULL UNIQUE,\n"
    "  level INTEGER NOT NULL CHECK (level BETWEEN 0 AND 2),\n"
    "  parent TEXT REFERENCES record (nummer),\n"
    "  version INTEGER NOT NULL,\n"
    "  virkning_fra TEXT,\n"
    "  virkning_til TEXT,\n"
    "  reg_day TEXT NOT NULL,\n" /* the day the current version was registered */
    "  deleted INTEGER NOT NULL DEFAULT 0,\n"
    "  adm_kommune INTEGER,\n"
    "  kommune INTEGER,\n"
    "  inst_type3 INTEGER,\n"
    "  p_nummer TEXT,\n"
    "  cvr_nummer TEXT,\n"
    "  navn_fold TEXT,\n"
    "  json TEXT NOT NULL\n"
    ");\n"
    "CREATE INDEX record_level ON record (level, nummer);\n"
    "CREATE INDEX record_parent ON record (parent, nummer);\n"
    /* partial: a level without the field adds no index entry (and writes no
     * index page); "x = ?" in a query implies "x IS NOT NULL" to the planner */
    "CREATE INDEX record_adm_kommune ON record (adm_kommune, nummer) "
    "WHERE adm_kommune IS NOT NULL;\n"
    "CREATE INDEX record_kommune ON record (kommune, nummer) WHERE kommune IS NOT NULL;\n"
    "CREATE INDEX record_inst_type3 ON record (inst_type3, nummer) WHERE inst_type3 IS NOT NULL;\n"
    "CREATE INDEX record_p_nummer ON record (p_nummer) WHERE p_nummer IS NOT NULL;\n"
    "CREATE INDEX record_cvr_nummer ON record (cvr_nummer) WHERE cvr_nummer IS NOT NULL;\n"
    /* Records with a date still ahead of their current version: what
     * store_tick looks at. */
    "CREATE INDEX record_timed ON record (nummer) WHERE deleted = 0 AND "
    "(virkning_fra > reg_day OR virkning_til > reg_day);\n"

    /* Every version. registrering_*: when the register held it (RFC 3339);
     * virkning_*: the days it was in effect as the version in force (the
     * version after it starts where it ends). */
    "CREATE TABLE history (\n"
    "  nummer TEXT NOT NULL REFERENCES record (nummer),\n"
    "  version INTEGER NOT NULL,\n"
    "  level INTEGER NOT NULL,\n"
    "  parent TEXT,\n"
    "  registrering_fra TEXT NOT NULL,\n"
    "  registrering_til TEXT,\n"
    "  virkning_fra TEXT NOT NULL,\n"
    "  virkning_til TEXT,\n"
    "  actor TEXT NOT NULL,\n"
    "  adm_kommune INTEGER,\n"
    "  kommune INTEGER,\n"
    "  inst_type3 INTEGER,\n"
    "  p_nummer TEXT,\n"
    "  cvr_nummer TEXT,\n"
    "  navn_fold TEXT,\n"
    "  json TEXT NOT NULL,\n"
    "  PRIMARY KEY (nummer, version)\n"
    ");\n"
    "CREATE INDEX history_level ON history (level, nummer);\n"
    "CREATE INDEX history_parent ON history (parent, nummer);\n"

    /* The change feed: sekvensnummer assigned inside the write transaction
     * (max + 1), so gapless and in commit order. */
    "CREATE TABLE haendelse (\n"
    "  sekvensnummer INTEGER PRIMARY KEY,\n"
    "  tidspunkt TEXT NOT NULL,\n"
    "  operation TEXT NOT NULL,\n"
    "  entitet TEXT NOT NULL,\n"
    "  nummer TEXT NOT NULL,\n"
    "  version INTEGER NOT NULL,\n"
    "  data TEXT NOT NULL\n"
    ");\n"

    /* The number allocator: the highest number ever issued or imported in
     * issuing order (alloc_ordinal), and the numbers deleted (never reused). */
    "CREATE TABLE allocator (\n"
    "  id INTEGER PRIMARY KEY CHECK (id = 1),\n"
    "  highest INTEGER NOT NULL\n"
    ");\n"
    "INSERT INTO allocator (id, highest) VALUES (1, 0);\n"
    "CREATE TABLE burnt (\n"
    "  nummer TEXT PRIMARY KEY,\n"
    "  deleted_at TEXT NOT NULL\n"
    ") WITHOUT ROWID;\n"

    /* Idempotency keys: the first answer per (client, key), 24 hours. */
    "CREATE TABLE idempotency (\n"
    "  client TEXT NOT NULL,\n"
    "  key TEXT NOT NULL,\n"
    "  body_hash BLOB NOT NULL,\n"
    "  status INTEGER NOT NULL,\n"
    "  response TEXT NOT NULL,\n"
    "  created INTEGER NOT NULL,\n" /* ms since the epoch */
    "  PRIMARY KEY (client, key)\n"
    ") WITHOUT ROWID;\n"
    "CREATE INDEX idempotency_created ON idempotency (created);\n"

    /* Consumers' durable cursors: the last sekvensnummer each handled. */
    "CREATE TABLE consumer_cursor (\n"
    "  consumer TEXT PRIMARY KEY,\n"
    "  sekvensnummer INTEGER NOT NULL,\n"
    "  updated TEXT NOT NULL\n"
    ") WITHOUT ROWID;\n"

    /* Client systems (tilslutninger), for auth/: kommuner is a JSON array of
     * kommunekoder; secret_hash a keyed hash, never the secret. */
    "CREATE TABLE client (\n"
    "  id TEXT PRIMARY KEY,\n"
    "  name TEXT NOT NULL,\n"
    "  role TEXT NOT NULL,\n"
    "  kommuner TEXT NOT NULL DEFAULT '[]',\n"
    "  secret_hash BLOB NOT NULL,\n"
    "  created TEXT NOT NULL,\n"
    "  revoked TEXT\n"
    ") WITHOUT ROWID;\n";

/* Migration 2 (for auth/): a counter that every change of the client table
 * bumps by trigger, so a running server learns with one cheap read per
 * request whether `dtr client` (another process) changed a client. Written
 * to be harmless when run again. */
static const char migration_2[] =
    "CREATE TABLE IF NOT EXISTS client_generation (\n"
    "  id INTEGER PRIMARY KEY CHECK (id = 1),\n"
    "  generation INTEGER NOT NULL\n"
    ");\n"
    "INSERT OR IGNORE INTO client_generation (id, generation) VALUES (1, 0);\n"
    "CREATE TRIGGER IF NOT EXISTS client_generation_insert AFTER INSERT ON client BEGIN\n"
    "  UPDATE client_generation SET generation = generation + 1 WHERE id = 1;\n"
    "END;\n"
    "CREATE TRIGGER IF NOT EXISTS client_generation_update AFTER UPDATE ON client BEGIN\n"
    "  UPDATE client_generation SET generation = generation + 1 WHERE id = 1;\n"
    "END;\n"
    "CREATE TRIGGER IF NOT EXISTS client_generation_delete AFTER DELETE ON client BEGIN\n"
    "  UPDATE client_generation SET generation = generation + 1 WHERE id = 1;\n"
    "END;\n";

/* Migration 3 (indexes.c): the definitions of the indexes a bulk load
 * dropped, to be built again when it ends (or by the next open). */
static const char migration_3[] = "CREATE TABLE deferred_index (\n"
                                  "  name TEXT PRIMARY KEY,\n"
                                  "  sql TEXT NOT NULL\n"
                                  ") WITHOUT ROWID;\n";

/* Migration 4 (auth/user.c): the people who log in to the web UI. pw_hash
 * is an Argon2id string (crypto_pwhash_str), never the password;
 * must_change marks a one-time password; generation grows with every reset,
 * disable and password change, so the sessions made before end. */
static const char migration_4[] = "CREATE TABLE person (\n"
                                  "  name TEXT PRIMARY KEY,\n"
                                  "  role TEXT NOT NULL,\n"
                                  "  pw_hash TEXT NOT NULL,\n"
                                  "  must_change INTEGER NOT NULL DEFAULT 1,\n"
                                  "  generation INTEGER NOT NULL DEFAULT 1,\n"
                                  "  created TEXT NOT NULL,\n"
                                  "  pw_changed TEXT,\n"
                                  "  disabled TEXT\n"
                                  ") WITHOUT ROWID;\n";

/* Migration 5: an index for the navn filter of the current lists: FTS5
 * with the trigram tokenizer over record.navn_fold (already folded by
 * store_fold, so case_sensitive 1 keeps API.md's folding of æ, ø and å), as
 * an external-content table kept by triggers. A search of three characters
 * or more finds its candidates through it instead of scanning the level
 * (read.c); shorter ones still scan. */
static const char migration_5[] =
    "CREATE VIRTUAL TABLE record_navn USING fts5(navn_fold, content='record', "
    "content_rowid='id', tokenize='trigram case_sensitive 1');\n"
    "CREATE TRIGGER record_navn_ai AFTER INSERT ON record WHEN new.navn_fold IS NOT NULL BEGIN\n"
    "  INSERT INTO record_navn (rowid, navn_fold) VALUES (new.id, new.navn_fold);\n"
    "END;\n"
    "CREATE TRIGGER record_navn_ad AFTER DELETE ON record WHEN old.navn_fold IS NOT NULL BEGIN\n"
    "  INSERT INTO record_navn (record_navn, rowid, navn_fold) VALUES ('delete', old.id, "
    "old.navn_fold);\n"
    "END;\n"
    "CREATE TRIGGER record_navn_au AFTER UPDATE OF navn_fold ON record BEGIN\n"
    "  INSERT INTO record_navn (record_navn, rowid, navn_fold) SELECT 'delete', old.id, "
    "old.navn_fold WHERE old.navn_fold IS NOT NULL;\n"
    "  INSERT INTO record_navn (rowid, navn_fold) SELECT new.id, new.navn_fold WHERE "
    "new.navn_fold IS NOT NULL;\n"
    "END;\n"
    "INSERT INTO record_navn (record_navn) VALUES ('rebuild');\n";

int store_schema_version(sql_conn *db)
{
    sql_stmt *st = NULL;
    int version = 0;
    if (sql_prepare(db, "SELECT max(version) FROM schema_version", false, &st) == SQL_OK &&
        sql_step(st) == SQL_ROW)
        version = sql_column_int(st, 0);
    sql_finalize(st);
    return version;
}

/* Applies one migration inside its own write transaction, unless another
 * process applied it while this one waited for the lock. */
static int apply_one(sql_conn *db, const store_migration *m, char *err, size_t errlen)
{
    if (sql_begin_write(db) != SQL_OK) {
        snprintf(err, errlen, "migration %d: cannot begin: %s", m->version, sql_errmsg(db));
        return -1;
    }
    if (store_schema_version(db) >= m->version) return sql_exec(db, "COMMIT") == SQL_OK ? 0 : -1;
    char bump[96];
    snprintf(bump, sizeof bump,
             "DELETE FROM schema_version; INSERT INTO schema_version VALUES (%d)", m->version);
    if (sql_exec(db, m->sql) != SQL_OK || sql_exec(db, bump) != SQL_OK ||
        sql_exec(db, "COMMIT") != SQL_OK) {
        snprintf(err, errlen, "migration %d failed: %s", m->version, sql_errmsg(db));
        if (sql_in_transaction(db)) sql_exec(db, "ROLLBACK");
        return -1;
    }
    return 0;
}

int store_migrate_list(sql_conn *db, const store_migration *list, size_t n, char *err,
                       size_t errlen)
{
    /* under the write lock: PostgreSQL's CREATE TABLE IF NOT EXISTS is not
     * safe against a second instance doing the same at the same moment */
    if (sql_begin_write(db) != SQL_OK ||
        sql_exec(db, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)") !=
            SQL_OK ||
        sql_exec(db, "COMMIT") != SQL_OK) {
        snprintf(err, errlen, "cannot create schema_version: %s", sql_errmsg(db));
        if (sql_in_transaction(db)) sql_exec(db, "ROLLBACK");
        return -1;
    }
    int known = n ? list[n - 1].version : 0;
    int have = store_schema_version(db);
    if (have > known) {
        snprintf(err, errlen,
                 "the database has schema version %d, newer than this program's %d: use a newer "
                 "dtr",
                 have, known);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (list[i].version <= have) continue;
        if (apply_one(db, &list[i], err, errlen) != 0) return -1;
    }
    return 0;
}

int store_migrate(store_conn *c, char *err, size_t errlen)
{
    if (sql_dialect_of(c->db) == SQL_DIALECT_POSTGRESQL) {
        size_t n;
        const store_migration *pg = store_migrations_pg(&n);
        return store_migrate_list(c->db, pg, n, err, errlen);
    }
    /* the audit table comes from audit/, in the same first migration */
    const char *audit_sql = audit_schema_sql();
    size_t len = strlen(migration_1) + strlen(audit_sql) + 2;
    char *first = malloc(len);
    if (!first) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    snprintf(first, len, "%s%s\n", migration_1, audit_sql);
    const store_migration list[] = {
        {1, first}, {2, migration_2}, {3, migration_3}, {4, migration_4}, {5, migration_5},
    };
    int rc = store_migrate_list(c->db, list, sizeof list / sizeof list[0], err, errlen);
    free(first);
    return rc;
}
