/*
 * audit.h -- the hash-chained audit log.
 *
 * Every write to the register (and every change of a client) appends one row
 * to the audit table of the register's database. Each row carries a
 * keyed BLAKE2b hash (libsodium's crypto_generichash, 32 bytes, keyed with the
 * server's 32-byte audit key) over an unambiguous encoding of all its fields
 * and the hash of the row before it. Editing, reordering or removing a row
 * (other than the newest ones) breaks the chain at that row, and
 * the store's verification (store_db_audit_verify) names it. Without the key nobody can forge a
 * consistent chain, so the key lives apart from the database (<data_dir>/server.key, mode 0600).
 *
 * What the chain cannot show: that the newest rows were cut off (a chain
 * truncated at its end is still a valid chain). Compare the entry count with
 * an outside record of it when that matters.
 *
 * This module holds what the chain is (the entry, the hash, the key); the
 * store keeps the table, appends (its writer thread, store_db_audit_append)
 * and walks it (store_db_audit_verify, store_audit_verify), so this header
 * names no database. Every function here is pure or works on the key file.
 */
#ifndef DTR_AUDIT_H
#define DTR_AUDIT_H

#include <stddef.h>
#include <stdint.h>

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

/* What a walk of the chain found (store_db_audit_verify). */
typedef struct audit_report {
    int64_t entries;      /* rows checked */
    int64_t first_bad_id; /* the id of the first row that does not hold; 0 when all hold */
    char reason[256];     /* why that row does not hold, or why verification failed */
} audit_report;

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
