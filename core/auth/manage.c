/*
 * manage.c -- adding, revoking, rotating and listing clients.
 *
 * Every change is one write transaction on the caller's store connection:
 * store_db_begin takes the database's write lock first, so the client row and
 * its audit entry are written together and the audit chain's head is read
 * under the lock (the server's writer and other `dtr client` runs extend
 * the same chain). The secret never reaches the database or the audit log:
 * only its keyed hash is stored, and the audit entries show the client
 * without it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "errtext.h"
#include "auth/auth_int.h"
#include "store/store_db.h"

/* Reads one client into *out (a new object). 0, AUTH_REFUSED when there is
 * no such client, -1 on a database error. */
static int read_client(store_db *db, const char *id, json_t **out, char *err, size_t errlen)
{
    int rc = store_client_get(db, id, out, err, errlen);
    if (rc == STORE_DB_NOT_FOUND)
        return errtext(err, errlen, AUTH_REFUSED, "no client with id \"%s\"", id);
    return rc;
}

/* Appends the audit entry of a client change. before/after: the client as
 * list shows it (never a secret or hash), NULL where it does not apply. */
static int audit_client(store_db *db, const uint8_t key[AUTH_KEY_BYTES], const char *actor,
                        const char *operation, const json_t *before, const json_t *after, char *err,
                        size_t errlen)
{
    char *before_text = before ? json_dumps(before, JSON_COMPACT) : NULL;
    char *after_text = after ? json_dumps(after, JSON_COMPACT) : NULL;
    audit_entry e = {
        .actor = actor,
        .operation = operation,
        .before = before_text,
        .after = after_text,
    };
    int rc = store_db_audit_append(db, key, &e, NULL, err, errlen);
    free(before_text);
    free(after_text);
    return rc;
}

/* What add and rotate print: the client with its new secret. */
static json_t *credentials_json(const json_t *client, const char *secret)
{
    return json_pack("{s:O, s:s, s:O, s:O, s:O}", "clientId", json_object_get(client, "clientId"),
                     "secret", secret, "role", json_object_get(client, "role"), "name",
                     json_object_get(client, "name"), "kommuner",
                     json_object_get(client, "kommuner"));
}

static int check_new_client(const auth_new_client *c, char *err, size_t errlen)
{
    reg_role role;
    if (!c || !auth_role_parse(c->role, &role))
        return errtext(err, errlen, AUTH_REFUSED,
                       "unknown role \"%s\" (expected kommune, support, laeser or admin)",
                       c && c->role ? c->role : "");
    if (!auth_valid_name(c->name, err, errlen)) return AUTH_REFUSED;
    if (role == REG_ROLE_KOMMUNE && c->n_kommuner == 0)
        return errtext(err, errlen, AUTH_REFUSED, "the kommune role needs at least one kommune");
    if (role != REG_ROLE_KOMMUNE && c->n_kommuner > 0)
        return errtext(err, errlen, AUTH_REFUSED, "only the kommune role takes kommuner");
    if (!auth_valid_kommuner(c->kommuner, c->n_kommuner, err, errlen)) return AUTH_REFUSED;
    return 0;
}

/* Inserts the client row under a fresh id (a new id should the random one
 * be taken, which 64 random bits make unlikely) and returns it as list
 * shows it. Inside the caller's transaction. */
static int insert_client(store_db *db, const uint8_t key[AUTH_KEY_BYTES], const auth_new_client *c,
                         const char *secret, json_t **client, char *err, size_t errlen)
{
    json_t *kommuner = json_array();
    for (size_t i = 0; i < c->n_kommuner; i++)
        json_array_append_new(kommuner, json_integer(c->kommuner[i]));
    char *kommuner_text = json_dumps(kommuner, JSON_COMPACT);
    json_decref(kommuner);
    if (!kommuner_text) return errtext(err, errlen, -1, "cannot add a client: out of memory");
    char now[40];
    auth_now(now);
    int result = errtext(err, errlen, -1, "cannot find a free client id");
    for (int attempt = 0; attempt < 8; attempt++) {
        char id[AUTH_ID_CHARS + 1];
        uint8_t hash[AUTH_HASH_BYTES];
        auth_new_id(id);
        auth_secret_hash(key, id, secret, hash);
        store_client_row row = {.id = id,
                                .name = c->name,
                                .role = c->role,
                                .kommuner = kommuner_text,
                                .secret_hash = hash,
                                .secret_hash_len = sizeof hash,
                                .created = now};
        int rc = store_client_insert(db, &row, err, errlen);
        if (rc == STORE_DB_EXISTS) continue;
        result = rc == 0 ? read_client(db, id, client, err, errlen) : rc;
        break;
    }
    free(kommuner_text);
    return result;
}

int auth_client_add(store_db *db, const uint8_t key[AUTH_KEY_BYTES], const char *actor,
                    const auth_new_client *c, json_t **out, char *err, size_t errlen)
{
    if (out) *out = NULL;
    if (err && errlen) err[0] = '\0';
    if (!actor || !*actor) return errtext(err, errlen, -1, "no actor for the audit log");
    int rc = check_new_client(c, err, errlen);
    if (rc != 0) return rc;

    char secret[AUTH_SECRET_CHARS + 1];
    auth_new_secret(secret);
    json_t *client = NULL;
    rc = store_db_begin(db, err, errlen);
    if (rc == 0) rc = insert_client(db, key, c, secret, &client, err, errlen);
    if (rc == 0) rc = audit_client(db, key, actor, "client.add", NULL, client, err, errlen);
    rc = store_db_end(db, rc, err, errlen);
    if (rc == 0 && out) *out = credentials_json(client, secret);
    json_decref(client);
    sodium_memzero(secret, sizeof secret);
    return rc;
}

/* Reads a client that is not revoked, inside the caller's transaction. */
static int read_live_client(store_db *db, const char *id, json_t **client, char *err, size_t errlen)
{
    int rc = read_client(db, id, client, err, errlen);
    if (rc != 0) return rc;
    const char *revoked = json_string_value(json_object_get(*client, "revoked"));
    if (revoked)
        return errtext(err, errlen, AUTH_REFUSED, "client %s was revoked at %s", id, revoked);
    return 0;
}

int auth_client_revoke(store_db *db, const uint8_t key[AUTH_KEY_BYTES], const char *actor,
                       const char *id, json_t **out, char *err, size_t errlen)
{
    if (out) *out = NULL;
    if (err && errlen) err[0] = '\0';
    if (!actor || !*actor) return errtext(err, errlen, -1, "no actor for the audit log");
    if (!id || !*id) return errtext(err, errlen, AUTH_REFUSED, "no client id");
    json_t *before = NULL, *after = NULL;
    char now[40];
    auth_now(now);
    int rc = store_db_begin(db, err, errlen);
    if (rc == 0) rc = read_live_client(db, id, &before, err, errlen);
    if (rc == 0) rc = store_client_set_revoked(db, id, now, err, errlen);
    if (rc == 0) rc = read_client(db, id, &after, err, errlen);
    if (rc == 0) rc = audit_client(db, key, actor, "client.revoke", before, after, err, errlen);
    rc = store_db_end(db, rc, err, errlen);
    if (rc == 0 && out) *out = json_incref(after);
    json_decref(before);
    json_decref(after);
    return rc;
}

int auth_client_rotate(store_db *db, const uint8_t key[AUTH_KEY_BYTES], const char *actor,
                       const char *id, json_t **out, char *err, size_t errlen)
{
    if (out) *out = NULL;
    if (err && errlen) err[0] = '\0';
    if (!actor || !*actor) return errtext(err, errlen, -1, "no actor for the audit log");
    if (!id || !*id) return errtext(err, errlen, AUTH_REFUSED, "no client id");
    char secret[AUTH_SECRET_CHARS + 1];
    uint8_t hash[AUTH_HASH_BYTES];
    auth_new_secret(secret);
    auth_secret_hash(key, id, secret, hash);
    char now[40];
    auth_now(now);
    json_t *client = NULL, *after = NULL;
    int rc = store_db_begin(db, err, errlen);
    if (rc == 0) rc = read_live_client(db, id, &client, err, errlen);
    if (rc == 0) rc = store_client_set_secret(db, id, hash, sizeof hash, err, errlen);
    if (rc == 0) {
        /* the audit shows when the secret changed, never what it is */
        after = json_deep_copy(client);
        json_object_set_new(after, "secretRotated", json_string(now));
        rc = audit_client(db, key, actor, "client.rotate", client, after, err, errlen);
    }
    rc = store_db_end(db, rc, err, errlen);
    if (rc == 0 && out) *out = credentials_json(client, secret);
    json_decref(client);
    json_decref(after);
    sodium_memzero(secret, sizeof secret);
    return rc;
}

int auth_client_list(store_db *db, json_t **out, char *err, size_t errlen)
{
    return store_client_list(db, out, err, errlen);
}
