/*
 * store_db.h -- the store's side connections: every piece of the database
 * that modules other than the register use (clients, the web UI's people,
 * the audit chain), behind named operations, so that no module outside
 * core/store knows which database engine holds them or speaks its SQL.
 *
 * A store_db is one connection to the store's database, apart from the
 * store's writer thread and its readers: `dtr client`, `dtr user` and
 * `dtr audit verify` write and read on one; the server's client cache and
 * the web UI's sessions read on one each. One thread at a time per
 * store_db. Writes made on a store_db commit on their own (or in the
 * transaction store_db_begin opened); they do not go through the writer,
 * so they wait for its write lock (busy_timeout_ms) and extend the same
 * audit chain under it.
 *
 * Which database: the one store_configure chose for the process ("sqlite",
 * the file store_location names in the data directory, or "postgresql",
 * the DSN's); store_driver_check is the list of drivers (docs/decisions.md,
 * "PostgreSQL behind the statement layer").
 *
 * Return values: 0 done; STORE_DB_NOT_FOUND (the row is not there) or
 * STORE_DB_EXISTS (a row with that key is there already) where a function
 * says so; -1 a database error, with the reason in err.
 */
#ifndef DTR_STORE_DB_H
#define DTR_STORE_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "audit/audit.h"

#define STORE_DB_NOT_FOUND 1
#define STORE_DB_EXISTS 2

/* The driver used when the config names none. */
#define STORE_DRIVER_DEFAULT "sqlite"

/* Whether this build has the driver called name ("sqlite", "postgresql"):
 * 0, or -1 with the reason in err. */
int store_driver_check(const char *name, char *err, size_t errlen);

/* Chooses the database every store and store_db of this process opens:
 * driver "sqlite" (or NULL: the default; dsn must be NULL) or "postgresql"
 * with dsn, a libpq connection string. Once, at start, before any opens
 * (like sqlite3_config); tests call it between stores. 0, or -1 with the
 * reason (a driver this build does not have, a missing or stray dsn). */
int store_configure(const char *driver, const char *dsn, char *err, size_t errlen);
/* Back to the default (sqlite), releasing the dsn. */
void store_configure_reset(void);
/* "sqlite" or "postgresql": the driver store_configure chose. */
const char *store_driver_name(void);

/* The database of data_dir (for the sqlite driver, <data_dir>/dtr.sqlite)
 * into out: 0, or -1 when it does not fit. */
int store_location(const char *data_dir, char *out, size_t outlen);

typedef struct store_db store_db;

/* Opens a connection to data_dir's database, which store_open has created
 * and migrated. write: read-write (durable commits), else read-only. Waits
 * up to busy_timeout_ms for another connection's lock. NULL with err. */
store_db *store_db_open(const char *data_dir, bool write, int busy_timeout_ms, char *err,
                        size_t errlen);
/* NULL is allowed. */
void store_db_close(store_db *db);

/* One write transaction that takes the database's write lock at once (so
 * reads in it, the audit chain's head among them, are those the writes
 * build on): begin: 0, or -1 (also when one is open already). end commits
 * when rc is 0, else rolls back; returns rc, or -1 when the commit failed. */
int store_db_begin(store_db *db, char *err, size_t errlen);
int store_db_end(store_db *db, int rc, char *err, size_t errlen);

/* A number that changes whenever another connection committed something
 * since this one last looked (cheap: no query of a table). 0 or -1. */
int store_db_version(store_db *db, int64_t *out, char *err, size_t errlen);

/* ---- the audit chain -------------------------------------------------------- */

/* Appends an entry (audit.h) in the open transaction, or in one of its own.
 * 0, or -1 (a missing actor or operation among the reasons). */
int store_db_audit_append(store_db *db, const uint8_t key[AUDIT_KEY_BYTES],
                          const audit_entry *entry, int64_t *id_out, char *err, size_t errlen);
/* audit_verify's walk of the whole chain: 0 holds, 1 a row does not, -1
 * unreadable (report says which and why). */
int store_db_audit_verify(store_db *db, const uint8_t key[AUDIT_KEY_BYTES], audit_report *report);
/* Whether every entry names an actor that exists: a client (revoked ones
 * included), "system", "import", "cli:..." or "bruger:...". 0, or -1 with
 * the first entry that does not (or why the check failed) in report. */
int store_db_audit_actors(store_db *db, audit_report *report);

/* ---- clients (auth.h) ---------------------------------------------------------- */

/* One row of the client table as it is stored. */
typedef struct store_client_row {
    const char *id;
    const char *name;
    const char *role;
    const char *kommuner; /* a JSON array of kommunekoder, as text */
    const uint8_t *secret_hash;
    size_t secret_hash_len;
    const char *created;
    const char *revoked; /* NULL while not revoked */
} store_client_row;

/* Inserts a new client: 0, STORE_DB_EXISTS (the id is taken) or -1. */
int store_client_insert(store_db *db, const store_client_row *row, char *err, size_t errlen);
/* The client as `dtr client list` shows it ({"clientId", "name", "role",
 * "kommuner", "created", "revoked"}): 0, STORE_DB_NOT_FOUND or -1. */
int store_client_get(store_db *db, const char *id, json_t **out, char *err, size_t errlen);
/* Every client so, ordered by creation, then id. 0 or -1. */
int store_client_list(store_db *db, json_t **out, char *err, size_t errlen);
/* Marks a client revoked at time; gives it a new secret hash. 0 or -1. */
int store_client_set_revoked(store_db *db, const char *id, const char *time, char *err,
                             size_t errlen);
int store_client_set_secret(store_db *db, const char *id, const uint8_t *hash, size_t hash_len,
                            char *err, size_t errlen);
/* The counter that grows with every change of the client table. 0 or -1. */
int store_client_generation(store_db *db, int64_t *out, char *err, size_t errlen);
/* Calls fn for every row of the client table (row valid during the call
 * only). 0, or -1 when the table could not be read. */
int store_client_each(store_db *db, void (*fn)(void *udata, const store_client_row *row),
                      void *udata, char *err, size_t errlen);

/* ---- the web UI's people (person.h) ----------------------------------------------- */

/* What a login needs of a person. */
typedef struct store_person {
    char name[65];
    char role[16];
    char pw_hash[160];
    bool must_change;
    bool disabled;
    int64_t generation;
} store_person;

/* Reads one person: 0, STORE_DB_NOT_FOUND or -1. */
int store_person_get(store_db *db, const char *name, store_person *out, char *err, size_t errlen);
/* Inserts a person with a one-time password hash (must change it,
 * generation 1): 0 or -1. */
int store_person_insert(store_db *db, const char *name, const char *role, const char *pw_hash,
                        const char *created, char *err, size_t errlen);
/* Every person as `dtr user list` shows them, by name. 0 or -1. */
int store_person_list(store_db *db, json_t **out, char *err, size_t errlen);
/* Each of these changes one person and grows their generation (their
 * sessions end): disable at time; a new one-time password hash (and
 * enabled again); a password of their own chosen at time. 0,
 * STORE_DB_NOT_FOUND or -1. */
int store_person_disable(store_db *db, const char *name, const char *time, char *err,
                         size_t errlen);
int store_person_reset(store_db *db, const char *name, const char *pw_hash, char *err,
                       size_t errlen);
int store_person_set_password(store_db *db, const char *name, const char *pw_hash, const char *time,
                              char *err, size_t errlen);
/* A live session's check: the person's generation and whether disabled.
 * 0, STORE_DB_NOT_FOUND or -1. Prepared once per store_db (the hot path). */
int store_person_state(store_db *db, const char *name, int64_t *generation, bool *disabled);

#endif /* DTR_STORE_DB_H */
