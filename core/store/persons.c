/*
 * persons.c -- the web UI's people (person.h) on a side connection: the
 * rows `dtr user` and a password change write, the list `dtr user list`
 * prints, and the one read a live session repeats (its person's
 * generation). Transactions are the caller's (store_db_begin).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errtext.h"
#include "store/store_int.h"

int store_person_get(store_db *db, const char *name, store_person *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    sql_stmt *st = NULL;
    if (sql_prepare(db->db,
                    "SELECT name, role, pw_hash, must_change, generation, disabled "
                    "FROM person WHERE name = ?1",
                    false, &st) != SQL_OK)
        return errtext(err, errlen, -1, "cannot read the people: %s", sql_errmsg(db->db));
    sql_bind_text(st, 1, name, -1);
    int rc = sql_step(st), result;
    if (rc == SQL_ROW) {
        snprintf(out->name, sizeof out->name, "%s", sql_column_text(st, 0));
        snprintf(out->role, sizeof out->role, "%s", sql_column_text(st, 1));
        snprintf(out->pw_hash, sizeof out->pw_hash, "%s", sql_column_text(st, 2));
        out->must_change = sql_column_int(st, 3) != 0;
        out->generation = sql_column_int64(st, 4);
        out->disabled = !sql_column_is_null(st, 5);
        result = 0;
    } else if (rc == SQL_DONE) {
        result = STORE_DB_NOT_FOUND;
    } else {
        result = errtext(err, errlen, -1, "cannot read the people: %s", sql_errmsg(db->db));
    }
    sql_finalize(st);
    return result;
}

/* Runs one statement with text parameters (NULL binds NULL): 0,
 * STORE_DB_NOT_FOUND when it changed no row, or -1. */
static int exec_text(store_db *db, const char *sql, int n, const char *const *params, char *err,
                     size_t errlen)
{
    sql_stmt *st = NULL;
    if (sql_prepare(db->db, sql, false, &st) != SQL_OK)
        return errtext(err, errlen, -1, "cannot prepare: %s", sql_errmsg(db->db));
    for (int i = 0; i < n; i++)
        sql_bind_text(st, i + 1, params[i], -1);
    int rc = sql_step(st);
    sql_finalize(st);
    if (rc != SQL_DONE) return errtext(err, errlen, -1, "cannot write: %s", sql_errmsg(db->db));
    return sql_changes(db->db) == 1 ? 0 : STORE_DB_NOT_FOUND;
}

int store_person_insert(store_db *db, const char *name, const char *role, const char *pw_hash,
                        const char *created, char *err, size_t errlen)
{
    const char *p[] = {name, role, pw_hash, created};
    int rc = exec_text(db,
                       "INSERT INTO person (name, role, pw_hash, must_change, generation, "
                       "created) VALUES (?1, ?2, ?3, 1, 1, ?4)",
                       4, p, err, errlen);
    return rc == STORE_DB_NOT_FOUND ? errtext(err, errlen, -1, "cannot write: no row added") : rc;
}

/* One row of store_person_list. */
static json_t *person_json(sql_stmt *st)
{
    const char *changed = sql_column_text(st, 3);
    const char *disabled = sql_column_text(st, 5);
    return json_pack("{s:s, s:s, s:s, s:o, s:b, s:o}", "name", sql_column_text(st, 0), "role",
                     sql_column_text(st, 1), "created", sql_column_text(st, 2), "passwordChanged",
                     changed ? json_string(changed) : json_null(), "mustChangePassword",
                     sql_column_int(st, 4) != 0, "disabled",
                     disabled ? json_string(disabled) : json_null());
}

int store_person_list(store_db *db, json_t **out, char *err, size_t errlen)
{
    *out = NULL;
    sql_stmt *st = NULL;
    if (sql_prepare(db->db,
                    "SELECT name, role, created, pw_changed, must_change, disabled "
                    "FROM person ORDER BY name",
                    false, &st) != SQL_OK)
        return errtext(err, errlen, -1, "cannot read the people: %s", sql_errmsg(db->db));
    json_t *list = json_array();
    int rc;
    while ((rc = sql_step(st)) == SQL_ROW)
        json_array_append_new(list, person_json(st));
    sql_finalize(st);
    if (rc != SQL_DONE) {
        json_decref(list);
        return errtext(err, errlen, -1, "cannot read the people: %s", sql_errmsg(db->db));
    }
    *out = list;
    return 0;
}

int store_person_disable(store_db *db, const char *name, const char *time, char *err, size_t errlen)
{
    const char *p[] = {name, time};
    return exec_text(db,
                     "UPDATE person SET disabled = ?2, generation = generation + 1 "
                     "WHERE name = ?1",
                     2, p, err, errlen);
}

int store_person_reset(store_db *db, const char *name, const char *pw_hash, char *err,
                       size_t errlen)
{
    const char *p[] = {name, pw_hash};
    return exec_text(db,
                     "UPDATE person SET pw_hash = ?2, must_change = 1, disabled = NULL, "
                     "generation = generation + 1 WHERE name = ?1",
                     2, p, err, errlen);
}

int store_person_set_password(store_db *db, const char *name, const char *pw_hash, const char *time,
                              char *err, size_t errlen)
{
    const char *p[] = {name, pw_hash, time};
    return exec_text(db,
                     "UPDATE person SET pw_hash = ?2, must_change = 0, pw_changed = ?3, "
                     "generation = generation + 1 WHERE name = ?1",
                     3, p, err, errlen);
}

int store_person_state(store_db *db, const char *name, int64_t *generation, bool *disabled)
{
    int rc =
        side_stmt(db, &db->person_state, "SELECT generation, disabled FROM person WHERE name = ?1");
    if (rc != SQL_OK) return -1;
    sql_stmt *st = db->person_state;
    sql_bind_text(st, 1, name, -1);
    rc = sql_step(st);
    int result = rc == SQL_ROW ? 0 : rc == SQL_DONE ? STORE_DB_NOT_FOUND : -1;
    if (rc == SQL_ROW) {
        *generation = sql_column_int64(st, 0);
        *disabled = !sql_column_is_null(st, 1);
    }
    sql_reset(st);
    return result;
}
