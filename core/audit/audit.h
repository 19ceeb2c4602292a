/*
 * audit.h -- the hash-chained audit log.
 *
 * Every write to the register (and every change of a client) appends one row
 * to the table "audit" of the register's SQLite database. Each row carries a
 * keyed BLAKE2b hash (libsodium's crypto_generichash, 32 bytes, keyed with the
 * server's 32-byte audit key) over an unambiguous encoding of all its fields
 * and the hash of the row before it. Editing, reordering or removing a row
 * (other than the newest ones) breaks the chain at that row, and
 * audit_verify names it. Without the key nobody can forge a consistent
 * chain, so the key lives apart from the database (<data_dir>/server.key,
 * mode 0600).
 *
 * What the chain cannot show: that the newest rows were cut off (a chain
 * truncated at its end is still a valid chain). Compare the entry count with
 * an outside record of it when that matters.
 *
 * Threads: every function works on the sqlite3 connection it is given and
 * keeps no state of its own; use a connection from one thread at a time, as
 * SQLite asks.
 */
#ifndef DTR_AUDIT_H
#define DTR_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#define AUDIT_KEY_BYTES 32
#define AUDIT_HASH_BYTES 32

/* One audit entry. All strings are borrowed; NULL where a field does not
 * apply (request_id, level, nummer, before, after). before and after are JSON
 * texts: the record before and after the change. tidspunkt is an RFC 3339
 * UTC time; NULL means "now". */
typedef struct audit_entry {
    const char *tidspunkt;
    const char *actor; /* the client id, "system", "import", "admin:<name>"; required */
    const char *request_id;
    const char *operation; /* "oprettet", "aendret", ..., "client.add", "import"; required */
    const char *level;     /* "daginstitution", ... or NULL */
    const char *nummer;
    const char *before;
    const char *after;
} audit_entry;

/* What audit_verify found. */
typedef struct audit_report {
    int64_t entries;      /* rows checked */
    int64_t first_bad_id; /* the id of the first row that does not hold; 0 when all hold */
    char reason[256];     /* why that row does not hold, or why verification failed */
} audit_report;

/* The SQL that creates the audit table (CREATE TABLE IF NOT EXISTS ...).
 * The store runs it in its first schema migration; tests run it on a fresh
 * database. Static string. */
const char *audit_schema_sql(void);

/* Appends one entry to the chain on db with key and, when id_out is not
 * NULL, stores the new row's id there. Reads the chain head and writes the
 * row in the caller's transaction when one is open (so the head read and
 * the append are atomic with the caller's other writes; the caller's
 * BEGIN IMMEDIATE makes this safe against other processes); otherwise it
 * wraps both in its own BEGIN IMMEDIATE ... COMMIT. Returns SQLITE_OK or the
 * SQLite error code (SQLITE_MISUSE for a missing actor or operation). */
int audit_append(sqlite3 *db, const uint8_t key[AUDIT_KEY_BYTES], const audit_entry *entry,
                 int64_t *id_out);

/* The two statements audit_append runs, prepared once, for a connection
 * that appends often (the store's writer thread). Same rules as
 * audit_append; init prepares nothing yet, close finalizes. */
typedef struct audit_writer {
    sqlite3 *db;
    sqlite3_stmt *head;
    sqlite3_stmt *insert;
} audit_writer;
void audit_writer_init(audit_writer *w, sqlite3 *db);
int audit_writer_append(audit_writer *w, const uint8_t key[AUDIT_KEY_BYTES],
                        const audit_entry *entry, int64_t *id_out);
void audit_writer_close(audit_writer *w);

/* Walks the whole chain in id order inside one read transaction and checks
 * every row: ids follow each other from 1, prev_hash equals the previous
 * row's hash (zeros for the first) and hash is the keyed hash of the row.
 * Returns 0 when every row holds, 1 when one does not (report names the
 * first such row and why), -1 when the table could not be read (reason
 * says why). Memory use does not grow with the chain. */
int audit_verify(sqlite3 *db, const uint8_t key[AUDIT_KEY_BYTES], audit_report *report);

/* Computes the hash of one row as audit_append stores it: id, the entry's
 * fields (tidspunkt must be set) and the previous row's hash. Exposed for
 * tests and for tools that re-check single rows. */
void audit_row_hash(const uint8_t key[AUDIT_KEY_BYTES], int64_t id, const audit_entry *entry,
                    const uint8_t prev_hash[AUDIT_HASH_BYTES], uint8_t out[AUDIT_HASH_BYTES]);

/* Reads the 32-byte audit key from <data_dir>/server.key, creating it with
 * randombytes_buf (mode 0600, written to a temporary file, fsynced and
 * linked into place, so two processes starting at once agree on one key)
 * when it is missing. Refuses a key file of another size or one that group
 * or others may read. Returns 0, or -1 with a message in err. Blocking file
 * I/O: call at start, not on a serving loop. */
int audit_load_or_create_key(const char *data_dir, uint8_t key[AUDIT_KEY_BYTES], char *err,
                             size_t errlen);

#endif /* DTR_AUDIT_H */
