/*
 * user.c -- the people of the web UI in the database (table "person") and
 * `dtr user add|list|disable|reset` (person.h).
 *
 * Like manage.c for clients: every change is one write transaction (BEGIN
 * IMMEDIATE) with its audit entry, on a connection of the caller's, so it
 * may run while a server serves the same directory. A password is hashed
 * with Argon2id (crypto_pwhash_str, libsodium's interactive limits) before
 * the transaction begins; neither it nor its hash reaches the audit log.
 */
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "auth/auth_int.h"
#include "auth/person.h"
#include "errtext.h"
#include "store/store.h"

#define ONE_TIME_CHARS 20

bool person_valid_name(const char *name, char *err, size_t errlen)
{
    size_t n = name ? strlen(name) : 0;
    if (n < 2 || n > PERSON_NAME_MAX) {
        snprintf(err, errlen, "a login name has 2 to %d characters", PERSON_NAME_MAX);
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  (i > 0 && (c == '.' || c == '_' || c == '-'));
        if (!ok) {
            snprintf(err, errlen,
                     "a login name has only a-z, 0-9 and (not first) '.', '_', '-': \"%s\"", name);
            return false;
        }
    }
    return true;
}

/* A one-time password: ONE_TIME_CHARS characters (about 115 bits) from an
 * alphabet without look-alikes (no 0/O, 1/l/I). */
static void one_time_password(char out[ONE_TIME_CHARS + 1])
{
    static const char alphabet[] = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    for (size_t i = 0; i < ONE_TIME_CHARS; i++)
        out[i] = alphabet[randombytes_uniform(sizeof alphabet - 1)];
    out[ONE_TIME_CHARS] = '\0';
}

static unsigned long long hash_ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
static size_t hash_mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;

void person_hash_limits(unsigned long long ops, size_t mem)
{
    hash_ops = ops;
    hash_mem = mem;
}

int person_hash(const char *password, char out[crypto_pwhash_STRBYTES])
{
    return crypto_pwhash_str(out, password, strlen(password), hash_ops, hash_mem);
}

static int begin_write(sqlite3 *db, char *err, size_t errlen)
{
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return errtext(err, errlen, -1, "cannot begin a write transaction: %s", sqlite3_errmsg(db));
    return 0;
}

static int end_write(sqlite3 *db, int rc, char *err, size_t errlen)
{
    if (rc == 0 && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        rc = errtext(err, errlen, -1, "cannot commit: %s", sqlite3_errmsg(db));
    if (!sqlite3_get_autocommit(db)) sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

/* Runs one statement with text parameters (NULL binds NULL); returns the
 * number of rows changed, or -1. */
static int exec_text(sqlite3 *db, const char *sql, int n, const char *const *params, char *err,
                     size_t errlen)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return errtext(err, errlen, -1, "cannot prepare: %s", sqlite3_errmsg(db));
    for (int i = 0; i < n; i++)
        sqlite3_bind_text(st, i + 1, params[i], -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) return errtext(err, errlen, -1, "cannot write: %s", sqlite3_errmsg(db));
    return sqlite3_changes(db);
}

static int audit_person(sqlite3 *db, const uint8_t key[AUDIT_KEY_BYTES], const char *actor,
                        const char *operation, const char *name, const char *role, char *err,
                        size_t errlen)
{
    char now[40];
    auth_now(now);
    json_t *after = json_pack("{s:s, s:s?}", "name", name, "role", role);
    char *text = json_dumps(after, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(after);
    audit_entry e = {.tidspunkt = now, .actor = actor, .operation = operation, .after = text};
    int rc = audit_append(db, key, &e, NULL);
    free(text);
    return rc == 0 ? 0 : errtext(err, errlen, -1, "cannot append to the audit log");
}

int person_read(sqlite3 *db, const char *name, person_row *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db,
                           "SELECT name, role, pw_hash, must_change, generation, disabled "
                           "FROM person WHERE name = ?1",
                           -1, &st, NULL) != SQLITE_OK)
        return errtext(err, errlen, -1, "cannot read the people: %s", sqlite3_errmsg(db));
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st), result;
    if (rc == SQLITE_ROW) {
        snprintf(out->name, sizeof out->name, "%s", (const char *)sqlite3_column_text(st, 0));
        snprintf(out->role, sizeof out->role, "%s", (const char *)sqlite3_column_text(st, 1));
        snprintf(out->pw_hash, sizeof out->pw_hash, "%s", (const char *)sqlite3_column_text(st, 2));
        out->must_change = sqlite3_column_int(st, 3) != 0;
        out->generation = sqlite3_column_int64(st, 4);
        out->disabled = sqlite3_column_type(st, 5) != SQLITE_NULL;
        result = 0;
    } else if (rc == SQLITE_DONE) {
        result = errtext(err, errlen, PERSON_REFUSED, "no person called \"%s\"", name);
    } else {
        result = errtext(err, errlen, -1, "cannot read the people: %s", sqlite3_errmsg(db));
    }
    sqlite3_finalize(st);
    return result;
}

/* {"name", "role", "password", "mustChangePassword": true}. */
static json_t *with_password(const char *name, const char *role, const char *password)
{
    return json_pack("{s:s, s:s, s:s, s:b}", "name", name, "role", role, "password", password,
                     "mustChangePassword", 1);
}

int person_add(sqlite3 *db, const uint8_t key[AUDIT_KEY_BYTES], const char *actor, const char *name,
               const char *role, json_t **out, char *err, size_t errlen)
{
    if (out) *out = NULL;
    if (!person_valid_name(name, err, errlen)) return PERSON_REFUSED;
    if (!role || (strcmp(role, "support") != 0 && strcmp(role, "laeser") != 0))
        return errtext(err, errlen, PERSON_REFUSED, "a person's role is support or laeser");
    char password[ONE_TIME_CHARS + 1], hash[crypto_pwhash_STRBYTES], now[40];
    one_time_password(password);
    if (person_hash(password, hash) != 0)
        return errtext(err, errlen, -1, "out of memory hashing the password");
    auth_now(now);
    if (begin_write(db, err, errlen) != 0) return -1;
    person_row existing;
    int rc = person_read(db, name, &existing, err, errlen);
    if (rc == 0)
        rc = errtext(err, errlen, PERSON_REFUSED, "\"%s\" exists already", name);
    else if (rc == PERSON_REFUSED) {
        const char *p[] = {name, role, hash, now};
        rc = exec_text(db,
                       "INSERT INTO person (name, role, pw_hash, must_change, generation, "
                       "created) VALUES (?1, ?2, ?3, 1, 1, ?4)",
                       4, p, err, errlen) == 1
                 ? 0
                 : -1;
        if (rc == 0) rc = audit_person(db, key, actor, "user.add", name, role, err, errlen);
    }
    rc = end_write(db, rc, err, errlen);
    if (rc == 0 && out) *out = with_password(name, role, password);
    sodium_memzero(password, sizeof password);
    return rc;
}

/* One row of person_list. */
static json_t *person_json(sqlite3_stmt *st)
{
    const char *changed = (const char *)sqlite3_column_text(st, 3);
    const char *disabled = (const char *)sqlite3_column_text(st, 5);
    return json_pack("{s:s, s:s, s:s, s:o, s:b, s:o}", "name", sqlite3_column_text(st, 0), "role",
                     sqlite3_column_text(st, 1), "created", sqlite3_column_text(st, 2),
                     "passwordChanged", changed ? json_string(changed) : json_null(),
                     "mustChangePassword", sqlite3_column_int(st, 4) != 0, "disabled",
                     disabled ? json_string(disabled) : json_null());
}

int person_list(sqlite3 *db, json_t **out, char *err, size_t errlen)
{
    *out = NULL;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db,
                           "SELECT name, role, created, pw_changed, must_change, disabled "
                           "FROM person ORDER BY name",
                           -1, &st, NULL) != SQLITE_OK)
        return errtext(err, errlen, -1, "cannot read the people: %s", sqlite3_errmsg(db));
    json_t *list = json_array();
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        json_array_append_new(list, person_json(st));
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        json_decref(list);
        return errtext(err, errlen, -1, "cannot read the people: %s", sqlite3_errmsg(db));
    }
    *out = list;
    return 0;
}

int person_disable(sqlite3 *db, const uint8_t key[AUDIT_KEY_BYTES], const char *actor,
                   const char *name, json_t **out, char *err, size_t errlen)
{
    if (out) *out = NULL;
    char now[40];
    auth_now(now);
    if (begin_write(db, err, errlen) != 0) return -1;
    person_row row;
    int rc = person_read(db, name, &row, err, errlen);
    if (rc == 0 && row.disabled)
        rc = errtext(err, errlen, PERSON_REFUSED, "\"%s\" is disabled already", name);
    if (rc == 0) {
        const char *p[] = {name, now};
        rc = exec_text(db,
                       "UPDATE person SET disabled = ?2, generation = generation + 1 "
                       "WHERE name = ?1",
                       2, p, err, errlen) == 1
                 ? 0
                 : -1;
    }
    if (rc == 0) rc = audit_person(db, key, actor, "user.disable", name, row.role, err, errlen);
    rc = end_write(db, rc, err, errlen);
    if (rc == 0 && out)
        *out = json_pack("{s:s, s:s, s:s}", "name", name, "role", row.role, "disabled", now);
    return rc;
}

int person_reset(sqlite3 *db, const uint8_t key[AUDIT_KEY_BYTES], const char *actor,
                 const char *name, json_t **out, char *err, size_t errlen)
{
    if (out) *out = NULL;
    char password[ONE_TIME_CHARS + 1], hash[crypto_pwhash_STRBYTES];
    one_time_password(password);
    if (person_hash(password, hash) != 0)
        return errtext(err, errlen, -1, "out of memory hashing the password");
    if (begin_write(db, err, errlen) != 0) return -1;
    person_row row;
    int rc = person_read(db, name, &row, err, errlen);
    if (rc == 0) {
        const char *p[] = {name, hash};
        rc = exec_text(db,
                       "UPDATE person SET pw_hash = ?2, must_change = 1, disabled = NULL, "
                       "generation = generation + 1 WHERE name = ?1",
                       2, p, err, errlen) == 1
                 ? 0
                 : -1;
    }
    if (rc == 0) rc = audit_person(db, key, actor, "user.reset", name, row.role, err, errlen);
    rc = end_write(db, rc, err, errlen);
    if (rc == 0 && out) *out = with_password(name, row.role, password);
    sodium_memzero(password, sizeof password);
    return rc;
}

int person_set_password_hash(sqlite3 *db, const uint8_t key[AUDIT_KEY_BYTES], const char *name,
                             const char *pw_hash, int64_t *generation, char *err, size_t errlen)
{
    char now[40], actor[PERSON_ACTOR_MAX];
    auth_now(now);
    snprintf(actor, sizeof actor, "bruger:%s", name);
    if (begin_write(db, err, errlen) != 0) return -1;
    person_row row;
    int rc = person_read(db, name, &row, err, errlen);
    if (rc == 0 && row.disabled)
        rc = errtext(err, errlen, PERSON_REFUSED, "\"%s\" is disabled", name);
    if (rc == 0) {
        const char *p[] = {name, pw_hash, now};
        rc = exec_text(db,
                       "UPDATE person SET pw_hash = ?2, must_change = 0, pw_changed = ?3, "
                       "generation = generation + 1 WHERE name = ?1",
                       3, p, err, errlen) == 1
                 ? 0
                 : -1;
    }
    if (rc == 0) rc = audit_person(db, key, actor, "user.password", name, row.role, err, errlen);
    rc = end_write(db, rc, err, errlen);
    if (rc == 0 && generation) *generation = row.generation + 1;
    return rc;
}

/* ---- dtr user ------------------------------------------------------------------ */

static void user_actor(char *out, size_t len)
{
    struct passwd pw, *found = NULL;
    char buf[1024];
    if (getpwuid_r(geteuid(), &pw, buf, sizeof buf, &found) == 0 && found && found->pw_name)
        snprintf(out, len, "cli:%s", found->pw_name);
    else
        snprintf(out, len, "cli:uid%ld", (long)geteuid());
}

__attribute__((format(printf, 1, 2))) static int user_usage(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "dtr user: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see dtr user --help)\n");
    return 2;
}

static void user_log(void *udata, int level, const char *msg)
{
    (void)udata;
    if (level >= 2) fprintf(stderr, "dtr: %s\n", msg);
}

int person_cli(const char *data_dir, const char *action, const char *name_arg,
               const char *name_flag, const char *role_flag)
{
    if (!action) return user_usage("missing the action (add, list, disable or reset)");
    bool add = strcmp(action, "add") == 0, list = strcmp(action, "list") == 0;
    bool by_name = strcmp(action, "disable") == 0 || strcmp(action, "reset") == 0;
    if (!add && !list && !by_name) return user_usage("unknown action \"%s\"", action);
    if (!add && (name_flag || role_flag))
        return user_usage("--name and --role belong to add, not %s", action);
    if (by_name && !name_arg) return user_usage("%s needs a login name", action);
    if (!by_name && name_arg) return user_usage("unexpected argument \"%s\"", name_arg);
    if (add && (!name_flag || !role_flag)) return user_usage("add needs --name and --role");

    char err[512];
    uint8_t key[AUDIT_KEY_BYTES];
    if (sodium_init() < 0 || audit_load_or_create_key(data_dir, key, err, sizeof err) != 0) {
        fprintf(stderr, "dtr user: %s\n", err);
        return 1;
    }
    store_options so = {
        .data_dir = data_dir, .audit_key = key, .busy_timeout_ms = 30000, .log = user_log};
    store *s = NULL;
    if (store_open(&so, &s, err, sizeof err) != 0) {
        fprintf(stderr, "dtr user: %s\n", err);
        return 1;
    }
    store_close(s);
    char path[4096];
    snprintf(path, sizeof path, "%s/dtr.sqlite", data_dir);
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) {
        fprintf(stderr, "dtr user: %s: %s\n", path, db ? sqlite3_errmsg(db) : "cannot open");
        sqlite3_close(db);
        return 1;
    }
    sqlite3_busy_timeout(db, 30000);
    sqlite3_exec(db, "PRAGMA synchronous = FULL", NULL, NULL, NULL);
    char actor[256];
    user_actor(actor, sizeof actor);
    json_t *out = NULL;
    int rc;
    if (add)
        rc = person_add(db, key, actor, name_flag, role_flag, &out, err, sizeof err);
    else if (list)
        rc = person_list(db, &out, err, sizeof err);
    else if (strcmp(action, "disable") == 0)
        rc = person_disable(db, key, actor, name_arg, &out, err, sizeof err);
    else
        rc = person_reset(db, key, actor, name_arg, &out, err, sizeof err);
    sqlite3_close(db);
    sodium_memzero(key, sizeof key);
    if (rc != 0) {
        fprintf(stderr, "dtr user %s: %s\n", action, err);
        return 1;
    }
    char *text = json_dumps(out, JSON_INDENT(2));
    if (text) {
        printf("%s\n", text);
        sodium_memzero(text, strlen(text));
    }
    free(text);
    json_decref(out);
    fflush(stdout);
    return 0;
}
