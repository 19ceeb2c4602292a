/*
 * manage.c -- adding, revoking, rotating and listing clients.
 *
 * Every change is one write transaction on the caller's connection: BEGIN
 * IMMEDIATE takes the database's write lock first, so the client row and
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

static int begin_write(sqlite3 *db, char *err, size_t errlen)
{
    if (!sqlite3_get_autocommit(db))
        return errtext(err, errlen, -1, "a transaction is already open on this connection");
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return errtext(err, errlen, -1, "cannot begin a write transaction: %s", sqlite3_errmsg(db));
    return 0;
}

/* Ends the transaction begin_write opened: commits when rc is 0, else rolls
 * back. Returns rc, or -1 when the commit failed. */
static int end_write(sqlite3 *db, int rc, char *err, size_t errlen)
{
    if (rc == 0 && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        rc = errtext(err, errlen, -1, "cannot commit: %s", sqlite3_errmsg(db));
    if (!sqlite3_get_autocommit(db)) sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

static const char *column_text(sqlite3_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st, i);
}

/* A client as list shows it, from a row (id, name, role, kommuner, created,
 * revoked) of the client table. */
static json_t *client_from_row(sqlite3_stmt *st)
{
    json_t *kommuner = json_loads(column_text(st, 3) ? column_text(st, 3) : "[]", 0, NULL);
    if (!json_is_array(kommuner)) {
        json_decref(kommuner);
        kommuner = json_array();
    }
    const char *revoked = column_text(st, 5);
    return json_pack("{s:s?, s:s?, s:s?, s:o, s:s?, s:o}", "clientId", column_text(st, 0), "name",
                     column_text(st, 1), "role", column_text(st, 2), "kommuner", kommuner,
                     "created", column_text(st, 4), "revoked",
                     revoked ? json_string(revoked) : json_null());
}

#define CLIENT_COLUMNS "id, name, role, kommuner, created, revoked"

/* Reads one client into *out (a new object). 0, AUTH_REFUSED when there is
 * no such client, -1 on a database error. */
static int read_client(sqlite3 *db, const char *id, json_t **out, char *err, size_t errlen)
{
    *out = NULL;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT " CLIENT_COLUMNS " FROM client WHERE id = ?1", -1, &st,
                           NULL) != SQLITE_OK)
        return errtext(err, errlen, -1, "cannot read the clients: %s", sqlite3_errmsg(db));
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    int result;
    if (rc == SQLITE_ROW) {
        *out = client_from_row(st);
        result = *out ? 0 : errtext(err, errlen, -1, "cannot read client %s", id);
    } else if (rc == SQLITE_DONE) {
        result = errtext(err, errlen, AUTH_REFUSED, "no client with id \"%s\"", id);
    } else {
        result = errtext(err, errlen, -1, "cannot read the clients: %s", sqlite3_errmsg(db));
    }
    sqlite3_finalize(st);
    return result;
}

/* Appends the audit entry of a client change. before/after: the client as
 * list shows it (never a secret or hash), NULL where it does not apply. */
static int audit_client(sqlite3 *db, const uint8_t key[AUTH_KEY_BYTES], const char *actor,
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
    int rc = audit_append(db, key, &e, NULL);
    free(before_text);
    free(after_text);
    if (rc != SQLITE_OK)
        return errtext(err, errlen, -1, "cannot append to the audit log: %s", sqlite3_errstr(rc));
    return 0;
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
static int insert_client(sqlite3 *db, const uint8_t key[AUTH_KEY_BYTES], const auth_new_client *c,
                         const char *secret, json_t **client, char *err, size_t errlen)
{
    json_t *kommuner = json_array();
    for (size_t i = 0; i < c->n_kommuner; i++)
        json_array_append_new(kommuner, json_integer(c->kommuner[i]));
    char *kommuner_text = json_dumps(kommuner, JSON_COMPACT);
    json_decref(kommuner);
    char now[40];
    auth_now(now);
    sqlite3_stmt *st = NULL;
    int result = -1;
    bool inserted = false;
    if (!kommuner_text ||
        sqlite3_prepare_v2(db,
                           "INSERT INTO client (id, name, role, kommuner, secret_hash, created) "
                           "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                           -1, &st, NULL) != SQLITE_OK) {
        errtext(err, errlen, -1, "cannot add a client: %s", sqlite3_errmsg(db));
        goto out;
    }
    for (int attempt = 0; attempt < 8 && !inserted; attempt++) {
        char id[AUTH_ID_CHARS + 1];
        uint8_t hash[AUTH_HASH_BYTES];
        auth_new_id(id);
        auth_secret_hash(key, id, secret, hash);
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, c->name, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 3, c->role, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 4, kommuner_text, -1, SQLITE_TRANSIENT);
        sqlite3_bind_blob(st, 5, hash, sizeof hash, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 6, now, -1, SQLITE_TRANSIENT);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_DONE) {
            inserted = true;
            result = read_client(db, id, client, err, errlen);
        } else if ((rc & 0xff) != SQLITE_CONSTRAINT) {
            result = errtext(err, errlen, -1, "cannot add a client: %s", sqlite3_errmsg(db));
            goto out;
        }
    }
    if (!inserted) result = errtext(err, errlen, -1, "cannot find a free client id");
out:
    sqlite3_finalize(st);
    free(kommuner_text);
    return result;
}

int auth_client_add(sqlite3 *db, const uint8_t key[AUTH_KEY_BYTES], const char *actor,
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
    rc = begin_write(db, err, errlen);
    if (rc == 0) rc = insert_client(db, key, c, secret, &client, err, errlen);
    if (rc == 0) rc = audit_client(db, key, actor, "client.add", NULL, client, err, errlen);
    rc = end_write(db, rc, err, errlen);
    if (rc == 0 && out) *out = credentials_json(client, secret);
    json_decref(client);
    sodium_memzero(secret, sizeof secret);
    return rc;
}

/* Runs one UPDATE of a client row that binds ?1 id and ?2 a value (text or
 * hash blob). Inside the caller's transaction. */
static int update_client(sqlite3 *db, const char *sql, const char *id, const char *text,
                         const uint8_t *blob, size_t blob_len, char *err, size_t errlen)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
        if (blob)
            sqlite3_bind_blob(st, 2, blob, (int)blob_len, SQLITE_TRANSIENT);
        else
            sqlite3_bind_text(st, 2, text, -1, SQLITE_TRANSIENT);
        rc = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return errtext(err, errlen, -1, "cannot change client %s: %s", id, sqlite3_errmsg(db));
    return 0;
}

/* Reads a client that is not revoked, inside the caller's transaction. */
static int read_live_client(sqlite3 *db, const char *id, json_t **client, char *err, size_t errlen)
{
    int rc = read_client(db, id, client, err, errlen);
    if (rc != 0) return rc;
    const char *revoked = json_string_value(json_object_get(*client, "revoked"));
    if (revoked)
        return errtext(err, errlen, AUTH_REFUSED, "client %s was revoked at %s", id, revoked);
    return 0;
}

int auth_client_revoke(sqlite3 *db, const uint8_t key[AUTH_KEY_BYTES], const char *actor,
                       const char *id, json_t **out, char *err, size_t errlen)
{
    if (out) *out = NULL;
    if (err && errlen) err[0] = '\0';
    if (!actor || !*actor) return errtext(err, errlen, -1, "no actor for the audit log");
    if (!id || !*id) return errtext(err, errlen, AUTH_REFUSED, "no client id");
    json_t *before = NULL, *after = NULL;
    char now[40];
    auth_now(now);
    int rc = begin_write(db, err, errlen);
    if (rc == 0) rc = read_live_client(db, id, &before, err, errlen);
    if (rc == 0)
        rc = update_client(db, "UPDATE client SET revoked = ?2 WHERE id = ?1", id, now, NULL, 0,
                           err, errlen);
    if (rc == 0) rc = read_client(db, id, &after, err, errlen);
    if (rc == 0) rc = audit_client(db, key, actor, "client.revoke", before, after, err, errlen);
    rc = end_write(db, rc, err, errlen);
    if (rc == 0 && out) *out = json_incref(after);
    json_decref(before);
    json_decref(after);
    return rc;
}

int auth_client_rotate(sqlite3 *db, const uint8_t key[AUTH_KEY_BYTES], const char *actor,
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
    int rc = begin_write(db, err, errlen);
    if (rc == 0) rc = read_live_client(db, id, &client, err, errlen);
    if (rc == 0)
        rc = update_client(db, "UPDATE client SET secret_hash = ?2 WHERE id = ?1", id, NULL, hash,
                           sizeof hash, err, errlen);
    if (rc == 0) {
        /* the audit shows when the secret changed, never what it is */
        after = json_deep_copy(client);
        json_object_set_new(after, "secretRotated", json_string(now));
        rc = audit_client(db, key, actor, "client.rotate", client, after, err, errlen);
    }
    rc = end_write(db, rc, err, errlen);
    if (rc == 0 && out) *out = credentials_json(client, secret);
    json_decref(client);
    json_decref(after);
    sodium_memzero(secret, sizeof secret);
    return rc;
}

int auth_client_list(sqlite3 *db, json_t **out, char *err, size_t errlen)
{
    *out = NULL;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT " CLIENT_COLUMNS " FROM client ORDER BY created, id", -1,
                           &st, NULL) != SQLITE_OK)
        return errtext(err, errlen, -1, "cannot read the clients: %s", sqlite3_errmsg(db));
    json_t *list = json_array();
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        json_array_append_new(list, client_from_row(st));
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        json_decref(list);
        return errtext(err, errlen, -1, "cannot read the clients: %s", sqlite3_errmsg(db));
    }
    *out = list;
    return 0;
}
