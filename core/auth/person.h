/*
 * person.h -- the people who log in to the web UI (STIL support and
 * readers), their passwords and their sessions.
 *
 * A person has a login name (2..64 of a-z, 0-9, '.', '_', '-'), a role
 * ("support" or "laeser") and a password stored only as an Argon2id string
 * (libsodium crypto_pwhash_str), in the store's person table (read and
 * written through core/store/store_db.h). `dtr user add` and `dtr user reset` print a
 * one-time password that must be changed at the first login. For the
 * register and the audit log a person acts as "bruger:<name>".
 *
 * Sessions live in the server's memory (person_sessions, session.c): a
 * random token in a cookie (HttpOnly, SameSite=Strict, Secure behind TLS),
 * a CSRF token every write must echo in X-CSRF-Token, an idle limit (30
 * minutes) and a total limit (8 hours). A restart ends every session.
 * Failed logins are throttled per login name and per client address.
 *
 * Who uses what: core/main.c runs person_cli; the host (services.c) opens
 * person_sessions and calls it from the host API table; tests call the rest.
 */
#ifndef DTR_PERSON_H
#define DTR_PERSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <uv.h>

#include "audit/audit.h"
#include "register/register.h"
#include "store/store_db.h"

#define PERSON_NAME_MAX 64      /* bytes of a login name */
#define PERSON_PASSWORD_MIN 12  /* characters of a password a person chooses */
#define PERSON_PASSWORD_MAX 256 /* bytes of a password we look at */
#define PERSON_ACTOR_MAX (PERSON_NAME_MAX + 8)

/* ---- people (user.c), on a read-write store_db of the caller's ------------
 * Each change is one write transaction with its audit entry ("user.add",
 * "user.disable", "user.reset", "user.password"; never a password or a
 * hash in it). Return 0, PERSON_REFUSED (err says why) or -1 (database). */

#define PERSON_REFUSED 1

/* Whether name is a login name we accept; err says why not. */
bool person_valid_name(const char *name, char *err, size_t errlen);

/* Adds a person with a fresh one-time password: *out (may be NULL) gets
 * {"name", "role", "password", "mustChangePassword": true}: the one place the
 * password is seen. role: "support" or "laeser". */
int person_add(store_db *db, const uint8_t key[AUDIT_KEY_BYTES], const char *actor,
               const char *name, const char *role, json_t **out, char *err, size_t errlen);

/* Stops a person from logging in; the sessions they have end at once. */
int person_disable(store_db *db, const uint8_t key[AUDIT_KEY_BYTES], const char *actor,
                   const char *name, json_t **out, char *err, size_t errlen);

/* Gives a person a new one-time password (and lets a disabled person in
 * again); their sessions end. *out as person_add's. */
int person_reset(store_db *db, const uint8_t key[AUDIT_KEY_BYTES], const char *actor,
                 const char *name, json_t **out, char *err, size_t errlen);

/* Every person: [{"name", "role", "created", "passwordChanged",
 * "mustChangePassword", "disabled"}], by name. */
int person_list(store_db *db, json_t **out, char *err, size_t errlen);

/* Sets a person's password to the Argon2id string pw_hash (made by the
 * caller, off the loop thread) and clears must_change; the generation
 * grows (other sessions end). *generation gets the new one. */
int person_set_password_hash(store_db *db, const uint8_t key[AUDIT_KEY_BYTES], const char *name,
                             const char *pw_hash, int64_t *generation, char *err, size_t errlen);

/* What a login needs to know of a person (the store's row). */
typedef store_person person_row;
_Static_assert(sizeof((person_row *)0)->name == PERSON_NAME_MAX + 1, "a login name fits");

/* The Argon2id string of password (crypto_pwhash_str; out has
 * crypto_pwhash_STRBYTES = 128 bytes): 0, or -1 when out of memory. Any
 * thread. Its cost is libsodium's interactive limits unless a test set
 * cheaper ones with person_hash_limits (before any thread hashes). */
int person_hash(const char *password, char out[128]);
void person_hash_limits(unsigned long long ops, size_t mem);

/* Reads one person: 0, PERSON_REFUSED (no such person) or -1. */
int person_read(store_db *db, const char *name, person_row *out, char *err, size_t errlen);

/* `dtr user add --name N --role support|laeser | list | disable N | reset N`
 * on data_dir: argv[0] the action, then the name or the flags. Prints JSON
 * on stdout; exit code 0, 1 (refused or failed) or 2 (usage). */
int person_cli(const char *data_dir, const char *action, const char *name_arg,
               const char *name_flag, const char *role_flag);

/* ---- sessions (session.c), on the loop thread --------------------------------- */

typedef struct person_sessions person_sessions;

/* One logged-in person as the host API shows them. Owned by the sessions;
 * valid while the session is (copy what you keep past a request). */
typedef struct person_session_info {
    const char *name;
    const char *role;  /* "support" or "laeser" */
    const char *actor; /* "bruger:<name>" */
    reg_role reg_role; /* the register's role (a session that must change its
                          password first reads only: REG_ROLE_LAESER) */
    bool must_change;
    void **ident_slot; /* where the host keeps its identity of this session (NULL at
                          first); opt.ident_free releases it when the session ends */
} person_session_info;

typedef struct person_sessions_options {
    uv_loop_t *loop;
    const char *data_dir; /* its database migrated (store_open) */
    const uint8_t *key;   /* the server key (audit entries of password changes); copied */
    int64_t idle_ms;      /* 0: 30 minutes */
    int64_t max_ms;       /* 0: 8 hours */
    bool secure_cookie;   /* add Secure to the cookie (the server is behind TLS) */
    /* Appends one audit entry (login, logout, login failure) through the
     * store's writer; operation "login", "logout", "login.fejl"; detail a
     * short JSON text (the address, the reason). */
    void (*audit)(void *udata, const char *operation, const char *actor, const char *request_id,
                  const char *detail);
    void *audit_udata;
    /* Releases what a session's ident_slot holds when the session ends. */
    void (*ident_free)(void *udata, void *ident);
    void *ident_udata;
    /* Milliseconds now (monotonic for limits); NULL: uv_now of loop. */
    int64_t (*clock_ms)(void *udata);
    void *clock_udata;
} person_sessions_options;

/* Opens a read-only store connection to the database. NULL with err. */
person_sessions *person_sessions_open(const person_sessions_options *opt, char *err, size_t errlen);
/* Ends every session and frees everything; waits for no pool work (a
 * login or password change in flight finishes on its own and is then
 * dropped). */
void person_sessions_close(person_sessions *s);

/* The result of a login or a password change. */
typedef struct person_login_result {
    int status;         /* PERSON_OK, PERSON_DECLINED (wrong name or password, disabled;
                           or for a password change: the new one is refused, tekst says
                           why), PERSON_THROTTLED, PERSON_ERROR */
    int retry_after_s;  /* PERSON_THROTTLED: seconds to wait */
    bool must_change;   /* PERSON_OK: the password is a one-time password */
    const char *cookie; /* PERSON_OK login: the Set-Cookie value to send */
    const char *csrf;   /* PERSON_OK login: the session's CSRF token */
    const char *tekst;  /* a Danish text for the person */
} person_login_result;

enum { PERSON_OK = 0, PERSON_DECLINED = 1, PERSON_THROTTLED = 2, PERSON_ERROR = -1 };

typedef void (*person_login_fn)(const person_login_result *res, void *udata);

/* Logs a person in: checks the throttles (name and address), reads the
 * person, verifies the password on the thread pool (Argon2id takes a
 * noticeable time, so never on the loop), and on success makes a session.
 * done runs later on the loop thread, never inside the call. Returns 0,
 * or -1 when the sessions are closing (done is not called). */
int person_login(person_sessions *s, const char *name, const char *password, const char *address,
                 const char *request_id, person_login_fn done, void *udata);

/* The session of a request: cookie is its Cookie header (may be NULL),
 * method its method, csrf its X-CSRF-Token header (may be NULL).
 *   PERSON_SESSION_NONE     no session cookie: the request is anonymous
 *   PERSON_SESSION_OK       *info is the person (the session's idle time restarts)
 *   PERSON_SESSION_EXPIRED  a cookie that names no live session (expired, logged
 *                           out, the person disabled or reset): answer 401
 *   PERSON_SESSION_CSRF     a write without the session's CSRF token: answer 403 */
enum { PERSON_SESSION_NONE = 0, PERSON_SESSION_OK, PERSON_SESSION_EXPIRED, PERSON_SESSION_CSRF };
int person_session_check(person_sessions *s, const char *cookie, const char *method,
                         const char *csrf, person_session_info *info);

/* The CSRF token of the request's session; NULL without a live one. */
const char *person_session_csrf(person_sessions *s, const char *cookie);

/* Ends the request's session (audit "logout"). Returns the Set-Cookie value
 * that clears the cookie (static). */
const char *person_logout(person_sessions *s, const char *cookie, const char *request_id);

/* Changes the password of the request's session: verifies old, checks the
 * new one (PERSON_PASSWORD_MIN characters or more, not the old one), hashes
 * and stores it on the pool; the session goes on, others of the person end.
 * done as for person_login. Returns 0, or -1 (no live session; closing). */
int person_change_password(person_sessions *s, const char *cookie, const char *old_password,
                           const char *new_password, const char *request_id, person_login_fn done,
                           void *udata);

/* The number of live sessions (for tests and /metrics). */
size_t person_sessions_count(person_sessions *s);

#endif /* DTR_PERSON_H */
