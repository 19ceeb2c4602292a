/*
 * clients.c -- the client table (auth.h) on a side connection: the rows
 * `dtr client` adds and changes, the list it prints, and what the server's
 * client cache reads (the generation counter a trigger bumps, every row).
 * Transactions are the caller's (store_db_begin): each function is one
 * statement.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errtext.h"
#include "store/store_int.h"

#define CLIENT_COLUMNS "id, name, role, kommuner, created, revoked"

static const char *column_text(sql_stmt *st, int i)
{
    return sql_column_text(st, i);
}

/* A client as list shows it, from a row (CLIENT_COLUMNS). */
static json_t *client_from_row(sql_stmt *st)
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

int store_client_get(store_db *db, const char *id, json_t **out, char *err, size_t errlen)
{
    *out = NULL;
    sql_stmt *st = NULL;
    if (sql_prepare(db->db, "SELECT " CLIENT_COLUMNS " FROM client WHERE id = ?1", false, &st) !=
        SQL_OK)
        return errtext(err, errlen, -1, "cannot read the clients: %s", sql_errmsg(db->db));
    sql_bind_text(st, 1, id, -1);
    int rc = sql_step(st);
    int result;
    if (rc == SQL_ROW) {
        *out = client_from_row(st);
        result = *out ? 0 : errtext(err, errlen, -1, "cannot read client %s", id);
    } else if (rc == SQL_DONE) {
        result = STORE_DB_NOT_FOUND;
    } else {
        result = errtext(err, errlen, -1, "cannot read the clients: %s", sql_errmsg(db->db));
    }
    sql_finalize(st);
    return result;
}

int store_client_list(store_db *db, json_t **out, char *err, size_t errlen)
{
    *out = NULL;
    sql_stmt *st = NULL;
    if (sql_prepare(db->db, "SELECT " CLIENT_COLUMNS " FROM client ORDER BY created, id", false,
                    &st) != SQL_OK)
        return errtext(err, errlen, -1, "cannot read the clients: %s", sql_errmsg(db->db));
    json_t *list = json_array();
    int rc;
    while ((rc = sql_step(st)) == SQL_ROW)
        json_array_append_new(list, client_from_row(st));
    sql_finalize(st);
    if (rc != SQL_DONE) {
        json_decref(list);
        return errtext(err, errlen, -1, "cannot read the clients: %s", sql_errmsg(db->db));
    }
    *out = list;
    return 0;
}

int store_client_insert(store_db *db, const store_client_row *row, char *err, size_t errlen)
{
    sql_stmt *st = NULL;
    if (sql_prepare(db->db,
                    "INSERT INTO client (id, name, role, kommuner, secret_hash, created) "
                    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    false, &st) != SQL_OK)
        return errtext(err, errlen, -1, "cannot add a client: %s", sql_errmsg(db->db));
    sql_bind_text(st, 1, row->id, -1);
    sql_bind_text(st, 2, row->name, -1);
    sql_bind_text(st, 3, row->role, -1);
    sql_bind_text(st, 4, row->kommuner, -1);
    sql_bind_blob(st, 5, row->secret_hash, (int)row->secret_hash_len);
    sql_bind_text(st, 6, row->created, -1);
    int rc = sql_step(st);
    int result = 0;
    if ((rc & 0xff) == SQL_CONSTRAINT)
        result = STORE_DB_EXISTS;
    else if (rc != SQL_DONE)
        result = errtext(err, errlen, -1, "cannot add a client: %s", sql_errmsg(db->db));
    sql_finalize(st);
    return result;
}

/* Runs one UPDATE of a client row that binds ?1 id and ?2 a value (text or
 * hash blob). */
static int update_client(store_db *db, const char *sql, const char *id, const char *text,
                         const uint8_t *blob, size_t blob_len, char *err, size_t errlen)
{
    sql_stmt *st = NULL;
    int rc = sql_prepare(db->db, sql, false, &st);
    if (rc == SQL_OK) {
        sql_bind_text(st, 1, id, -1);
        if (blob)
            sql_bind_blob(st, 2, blob, (int)blob_len);
        else
            sql_bind_text(st, 2, text, -1);
        rc = sql_step(st);
    }
    sql_finalize(st);
    if (rc != SQL_DONE)
        return errtext(err, errlen, -1, "cannot change client %s: %s", id, sql_errmsg(db->db));
    return 0;
}

int store_client_set_revoked(store_db *db, const char *id, const char *time, char *err,
                             size_t errlen)
{
    return update_client(db, "UPDATE client SET revoked = ?2 WHERE id = ?1", id, time, NULL, 0, err,
                         errlen);
}

int store_client_set_secret(store_db *db, const char *id, const uint8_t *hash, size_t hash_len,
                            char *err, size_t errlen)
{
    return update_client(db, "UPDATE client SET secret_hash = ?2 WHERE id = ?1", id, NULL, hash,
                         hash_len, err, errlen);
}

int store_client_generation(store_db *db, int64_t *out, char *err, size_t errlen)
{
    int rc =
        side_stmt(db, &db->generation, "SELECT generation FROM client_generation WHERE id = 1");
    if (rc == SQL_OK) rc = sql_step(db->generation);
    if (rc == SQL_ROW) *out = sql_column_int64(db->generation, 0);
    if (db->generation) sql_reset(db->generation);
    if (rc != SQL_ROW)
        return errtext(err, errlen, -1, "cannot read the clients: %s",
                       rc == SQL_DONE ? "no client generation" : sql_errmsg(db->db));
    return 0;
}

int store_client_each(store_db *db, void (*fn)(void *udata, const store_client_row *row),
                      void *udata, char *err, size_t errlen)
{
    int rc = side_stmt(db, &db->clients,
                       "SELECT id, name, role, kommuner, secret_hash, revoked FROM client");
    if (rc != SQL_OK)
        return errtext(err, errlen, -1, "cannot read the clients: %s", sql_errmsg(db->db));
    sql_stmt *st = db->clients;
    while ((rc = sql_step(st)) == SQL_ROW) {
        store_client_row row = {
            .id = column_text(st, 0),
            .name = column_text(st, 1),
            .role = column_text(st, 2),
            .kommuner = column_text(st, 3),
            .secret_hash = sql_column_blob(st, 4),
            .secret_hash_len = (size_t)sql_column_bytes(st, 4),
            .revoked = column_text(st, 5),
        };
        fn(udata, &row);
    }
    sql_reset(st);
    if (rc != SQL_DONE)
        return errtext(err, errlen, -1, "cannot read the clients: %s", sql_errmsg(db->db));
    return 0;
}
