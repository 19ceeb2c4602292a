/*
 * auth.h -- client systems (tilslutninger): their credentials, roles and
 * scopes, the server's cache of them, and the `dtr client` and
 * `dtr audit verify` commands.
 *
 * A client has an id ("c_" + 16 hex digits), a name, a role ("kommune",
 * "support", "laeser", "admin"; DOMAIN.md, Who may do what), the kommune
 * role's kommunekoder, and a secret of 256 random bits (libsodium), shown
 * once as 43 characters of unpadded base64url. The database keeps only a
 * keyed BLAKE2b hash of it (auth_secret_hash: keyed with a subkey derived
 * from the server key <data_dir>/server.key, over the id and the secret), in
 * the store's client table (core/store/store_db.h: every read and write of
 * it goes through the store), which the store's migrations create; a
 * generation counter grows with every change of it.
 *
 * Requests authenticate with HTTP Basic: "Basic " + base64(clientId:secret).
 *
 * Who uses what:
 *   - the host (loop thread): auth_cache_open at start, auth_cache_check for
 *     req_authenticate, auth_cache_close at exit; auth_client_actor to turn
 *     an authenticated client into the register's reg_actor.
 *   - core/main.c: auth_cli_client and auth_cli_audit_verify.
 *   - tests and tools: the auth_client_* functions on a connection of their
 *     own.
 */
#ifndef DTR_AUTH_H
#define DTR_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "audit/audit.h"
#include "dtr/plugin.h"
#include "register/register.h"
#include "store/store_db.h"

#define AUTH_KEY_BYTES AUDIT_KEY_BYTES /* the server key */
#define AUTH_HASH_BYTES 32             /* a stored secret hash */
#define AUTH_SECRET_BYTES 32           /* the random bytes of a secret */
#define AUTH_SECRET_CHARS 43           /* their unpadded base64url text */
#define AUTH_ID_MAX 64                 /* bytes of a client id we accept, without the NUL */
#define AUTH_SECRET_MAX 128            /* bytes of a secret we accept, without the NUL */
#define AUTH_HEADER_MAX 1024           /* bytes of an Authorization value we look at */
#define AUTH_NAME_MAX 132              /* characters of a client's name */

/* A client (tilslutning) as the cache holds it: who authenticated. Owned
 * by the cache; valid until its next reload (the host copies what it keeps
 * into an identity, core/identity.h). */
typedef struct auth_client {
    const char *id;
    const char *name;
    const char *role;    /* "kommune", "support", "laeser" or "admin" */
    const int *kommuner; /* the kommune role's scope */
    size_t n_kommuner;
} auth_client;

/* ---- roles ------------------------------------------------------------------ */

/* Maps a role name ("kommune", "support", "laeser", "admin") to the
 * register's role. false for any other text (NULL included). */
bool auth_role_parse(const char *name, reg_role *out);

/* Fills *out with who the client is for the register (reg_decide): its id,
 * role and kommuner. Borrows the client's memory: *out is valid as long as
 * client is. Returns 0, or -1 (out zeroed) for a client whose role is not
 * one of the four, which must then be refused. */
int auth_client_actor(const auth_client *client, reg_actor *out);

/* ---- credentials ------------------------------------------------------------ */

/* The stored hash of a client's secret: BLAKE2b-256 keyed with a subkey of
 * the server key (so it never collides with the audit chain's use of that
 * key), over id, a NUL and the secret text. Fast (about a microsecond): the
 * secret has 256 random bits, so no slow password hash is needed. */
void auth_secret_hash(const uint8_t key[AUTH_KEY_BYTES], const char *id, const char *secret,
                      uint8_t out[AUTH_HASH_BYTES]);

/* Parses an Authorization header value "Basic <base64(id:secret)>" (scheme
 * case-insensitive, padding optional) into id (AUTH_ID_MAX + 1 bytes) and
 * secret (AUTH_SECRET_MAX + 1 bytes). false for anything else: another
 * scheme, bad base64, no colon, an empty or too long part, a NUL or a
 * control character inside. Never reads past the value's NUL. */
bool auth_parse_basic(const char *value, char id[AUTH_ID_MAX + 1],
                      char secret[AUTH_SECRET_MAX + 1]);

/* ---- the server's cache ----------------------------------------------------- */

typedef struct auth_cache auth_cache;

/* Opens a read-only store connection to data_dir's database (already
 * migrated by store_open) and loads every client. key is copied. NULL with
 * a message in err. Blocking; call at start on the loop thread. */
auth_cache *auth_cache_open(const char *data_dir, const uint8_t key[AUTH_KEY_BYTES], char *err,
                            size_t errlen);

/* Authenticates an Authorization header value (NULL: the request had none).
 *   DTR_OK        *out is the client, or NULL when authorization was NULL;
 *   DTR_DECLINED  credentials were given and are wrong (unknown id, wrong
 *                 secret, revoked client, malformed header): answer 401;
 *   DTR_ERROR     the client table could not be read (auth_cache_error
 *                 says why): answer 503.
 * Before it looks, it checks (store_db_version, then the client
 * generation, only when the database changed) whether another connection
 * changed the clients, and reloads them if so: a `dtr client` command counts
 * from the next request. The secret is compared as a keyed hash with
 * sodium_memcmp (constant time). *out stays valid until auth_cache_close: a
 * reload updates secrets and revocations in place and never frees a client
 * handed out. Loop thread (one thread at a time). */
dtr_status auth_cache_check(auth_cache *c, const char *authorization, const auth_client **out);

/* The client with this id, as it is now, without credentials: for work the
 * host does as a configured client (dtr.json's "client" of a plugin).
 * DTR_OK with *out, DTR_DECLINED for an unknown or revoked id, DTR_ERROR
 * when the table cannot be read. Loop thread. */
dtr_status auth_cache_find(auth_cache *c, const char *id, const auth_client **out);
/* Whether client is still the current, unrevoked entry of its id (a
 * retained identity of a client revoked or changed since acts no more). */
bool auth_cache_current(auth_cache *c, const auth_client *client);

/* The number of clients loaded (revoked ones included) and how many times
 * the cache (re)loaded them: for tests and /metrics. */
size_t auth_cache_size(const auth_cache *c);
uint64_t auth_cache_loads(const auth_cache *c);
/* Why the last DTR_ERROR happened ("" when none). */
const char *auth_cache_error(const auth_cache *c);

/* Closes the connection and frees every client. NULL is allowed. */
void auth_cache_close(auth_cache *c);

/* ---- managing clients (on a read-write store_db) ---------------------------
 * Each change is one write transaction (store_db_begin, so the audit
 * chain's head is read under the write lock, whoever else writes: the
 * server's writer or another `dtr client`) that changes the client row and
 * appends its audit entry ("client.add", "client.revoke", "client.rotate";
 * no secret and no hash in it). db must not be inside a transaction.
 * Returns 0, AUTH_REFUSED (err says why: unknown id, already revoked, bad
 * input) or -1 (a database error; err says which). */

#define AUTH_REFUSED 1

/* A new client. kommuner: the kommune role's scope (at least one, each in
 * reg_kommuner()); no kommuner for the other roles. */
typedef struct auth_new_client {
    const char *name; /* 1..AUTH_NAME_MAX characters of UTF-8, no control characters */
    const char *role;
    const int *kommuner;
    size_t n_kommuner;
} auth_new_client;

/* Adds a client with a fresh id and secret. *out (may be NULL) gets
 * {"clientId", "secret", "role", "name", "kommuner"}: the one place the
 * secret is ever seen. actor: who does it, for the audit ("cli:alice"). */
int auth_client_add(store_db *db, const uint8_t key[AUTH_KEY_BYTES], const char *actor,
                    const auth_new_client *c, json_t **out, char *err, size_t errlen);

/* Revokes a client: it cannot authenticate any more. *out (may be NULL)
 * gets the client as auth_client_list shows it. */
int auth_client_revoke(store_db *db, const uint8_t key[AUTH_KEY_BYTES], const char *actor,
                       const char *id, json_t **out, char *err, size_t errlen);

/* Gives a client that is not revoked a new secret; the old one stops
 * working. *out as auth_client_add's. */
int auth_client_rotate(store_db *db, const uint8_t key[AUTH_KEY_BYTES], const char *actor,
                       const char *id, json_t **out, char *err, size_t errlen);

/* Every client, ordered by creation time, then id: [{"clientId", "name", "role",
 * "kommuner", "created", "revoked"}] (revoked: null or the time), never a
 * secret or a hash. 0 or -1. */
int auth_client_list(store_db *db, json_t **out, char *err, size_t errlen);

/* Validates and parses a --kommune value "101,147": kommunekoder from
 * reg_kommuner(), separated by commas, each named once, into a sorted
 * malloc'd array (*out, *n). false with the reason in err. */
bool auth_parse_kommuner(const char *text, int **out, size_t *n, char *err, size_t errlen);

/* ---- the command line -----------------------------------------------------------
 * Both print their result as JSON on stdout and a one-line reason on stderr,
 * and return the exit code: 0 done, 1 refused (or failed), 2 bad usage.
 * data_dir is the resolved data directory (the caller applies --config and
 * --data, as for serve, and creates it). They may run while `dtr serve`
 * runs on the same directory. */

/* `dtr client add|list|revoke|rotate`, already split into its parts. */
typedef struct auth_client_args {
    const char *action;  /* "add", "list", "revoke", "rotate" */
    const char *id;      /* revoke, rotate: the client id; NULL otherwise */
    const char *name;    /* add: --name */
    const char *role;    /* add: --role */
    const char *kommune; /* add: --kommune "101,147" (kommune role only) */
} auth_client_args;

/* Runs a client command on data_dir: loads (creating when missing) the
 * server key, migrates the database (store_open), then makes the change.
 * The audit actor is "cli:<the unix user>". */
int auth_cli_client_run(const char *data_dir, const auth_client_args *args);

/* The same from the words after "client" (--config and --data removed):
 * argv[0] the action, then the id or the flags --name, --role, --kommune as
 * "--flag value" or "--flag=value". */
int auth_cli_client(const char *data_dir, int argc, char **argv);

/* `dtr audit verify`: argv holds the words after "audit" ({"verify"}).
 * Walks the chain with the server key and prints {"ok", "entries",
 * "first_bad", "reason"} (first_bad and reason null when it holds). Exit 0
 * when the chain holds, 1 when it does not or cannot be read (no database
 * or key in data_dir), 2 for other words. */
int auth_cli_audit_verify(const char *data_dir, int argc, char **argv);

#endif /* DTR_AUTH_H */
