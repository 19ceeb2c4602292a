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

/* A change of a row read just before in the same transaction: a row gone
 * meanwhile cannot be, so it is a failure like the database's own. */
static int side_change(int rc, char *err, size_t errlen)
{
    if (rc == STORE_DB_NOT_FOUND) return errtext(err, errlen, -1, "cannot write: the row is gone");
    return rc;
}

static int audit_person(store_db *db, const uint8_t key[AUDIT_KEY_BYTES], const char *actor,
                        const char *operation, const char *name, const char *role, char *err,
                        size_t errlen)
{
    char now[40];
    auth_now(now);
    json_t *after = json_pack("{s:s, s:s?}", "name", name, "role", role);
    char *text = json_dumps(after, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(after);
    audit_entry e = {.tidspunkt = now, .actor = actor, .operation = operation, .after = text};
    int rc = store_db_audit_append(db, key, &e, NULL, err, errlen);
    free(text);
    return rc;
}

int person_read(store_db *db, const char *name, person_row *out, char *err, size_t errlen)
{
    int rc = store_person_get(db, name, out, err, errlen);
    if (rc == STORE_DB_NOT_FOUND)
        return errtext(err, errlen, PERSON_REFUSED, "no person called \"%s\"", name);
    return rc;
}

/* {"name", "role", "password", "mustChangePassword": true}. */
static json_t *with_password(const char *name, const char *role, const char *password)
{
    return json_pack("{s:s, s:s, s:s, s:b}", "name", name, "role", role, "password", password,
                     "mustChangePassword", 1);
}

int person_add(store_db *db, const uint8_t key[AUDIT_KEY_BYTES], const char *actor,
               const char *name, const char *role, json_t **out, char *err, size_t errlen)
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
    if (store_db_begin(db, err, errlen) != 0) return -1;
    person_row existing;
    int rc = person_read(db, name, &existing, err, errlen);
    if (rc == 0)
        rc = errtext(err, errlen, PERSON_REFUSED, "\"%s\" exists already", name);
    else if (rc == PERSON_REFUSED) {
        rc = store_person_insert(db, name, role, hash, now, err, errlen);
        if (rc == 0) rc = audit_person(db, key, actor, "user.add", name, role, err, errlen);
    }
    rc = store_db_end(db, rc, err, errlen);
    if (rc == 0 && out) *out = with_password(name, role, password);
    sodium_memzero(password, sizeof password);
    return rc;
}

int person_list(store_db *db, json_t **out, char *err, size_t errlen)
{
    return store_person_list(db, out, err, errlen);
}

int person_disable(store_db *db, const uint8_t key[AUDIT_KEY_BYTES], const char *actor,
                   const char *name, json_t **out, char *err, size_t errlen)
{
    if (out) *out = NULL;
    char now[40];
    auth_now(now);
    if (store_db_begin(db, err, errlen) != 0) return -1;
    person_row row;
    int rc = person_read(db, name, &row, err, errlen);
    if (rc == 0 && row.disabled)
        rc = errtext(err, errlen, PERSON_REFUSED, "\"%s\" is disabled already", name);
    if (rc == 0) rc = side_change(store_person_disable(db, name, now, err, errlen), err, errlen);
    if (rc == 0) rc = audit_person(db, key, actor, "user.disable", name, row.role, err, errlen);
    rc = store_db_end(db, rc, err, errlen);
    if (rc == 0 && out)
        *out = json_pack("{s:s, s:s, s:s}", "name", name, "role", row.role, "disabled", now);
    return rc;
}

int person_reset(store_db *db, const uint8_t key[AUDIT_KEY_BYTES], const char *actor,
                 const char *name, json_t **out, char *err, size_t errlen)
{
    if (out) *out = NULL;
    char password[ONE_TIME_CHARS + 1], hash[crypto_pwhash_STRBYTES];
    one_time_password(password);
    if (person_hash(password, hash) != 0)
        return errtext(err, errlen, -1, "out of memory hashing the password");
    if (store_db_begin(db, err, errlen) != 0) return -1;
    person_row row;
    int rc = person_read(db, name, &row, err, errlen);
    if (rc == 0) rc = side_change(store_person_reset(db, name, hash, err, errlen), err, errlen);
    if (rc == 0) rc = audit_person(db, key, actor, "user.reset", name, row.role, err, errlen);
    rc = store_db_end(db, rc, err, errlen);
    if (rc == 0 && out) *out = with_password(name, row.role, password);
    sodium_memzero(password, sizeof password);
    return rc;
}

int person_set_password_hash(store_db *db, const uint8_t key[AUDIT_KEY_BYTES], const char *name,
                             const char *pw_hash, int64_t *generation, char *err, size_t errlen)
{
    char now[40], actor[PERSON_ACTOR_MAX];
    auth_now(now);
    snprintf(actor, sizeof actor, "bruger:%s", name);
    if (store_db_begin(db, err, errlen) != 0) return -1;
    person_row row;
    int rc = person_read(db, name, &row, err, errlen);
    if (rc == 0 && row.disabled)
        rc = errtext(err, errlen, PERSON_REFUSED, "\"%s\" is disabled", name);
    if (rc == 0)
        rc = side_change(store_person_set_password(db, name, pw_hash, now, err, errlen), err,
                         errlen);
    if (rc == 0) rc = audit_person(db, key, actor, "user.password", name, row.role, err, errlen);
    rc = store_db_end(db, rc, err, errlen);
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
    store_db *db = store_db_open(data_dir, true, 30000, err, sizeof err);
    if (!db) {
        fprintf(stderr, "dtr user: %s\n", err);
        return 1;
    }
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
    store_db_close(db);
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
