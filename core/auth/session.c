/*
 * session.c -- the web UI's sessions (person.h), in the server's memory.
 *
 * A session is found by the BLAKE2b hash of its cookie token (256 random
 * bits), compared in constant time; the token itself is never kept. Every
 * check re-reads the person's row (one primary-key read on a read-only
 * connection): a disabled or reset person, or a password changed in
 * another session, ends the session at once (the row's generation moved).
 *
 * Logins and password changes verify and hash on the libuv thread pool:
 * Argon2id with libsodium's interactive limits takes a large fraction of a
 * second, which the loop must never wait for. A failed login counts against
 * its login name and its client address; past a few failures in a quarter
 * of an hour each further attempt waits longer (from 30 s up to 15 min),
 * refused at once without looking at the password.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "auth/person.h"

#define COOKIE_NAME "dtr_session"
#define TOKEN_BYTES 32
#define TOKEN_CHARS 43 /* unpadded base64url of 32 bytes */
#define MAX_SESSIONS 4096
#define MAX_THROTTLES 4096
#define NAME_FAILURES 5     /* failures of one login name before the waits begin */
#define ADDRESS_FAILURES 20 /* of one address (people behind one NAT share it) */
#define THROTTLE_WINDOW_MS (15 * 60 * 1000)
#define THROTTLE_FIRST_MS (30 * 1000)
#define THROTTLE_MAX_MS (15 * 60 * 1000)

typedef struct psession {
    struct psession *next;
    uint8_t token_hash[crypto_generichash_BYTES];
    char csrf[TOKEN_CHARS + 1];
    char name[PERSON_NAME_MAX + 1];
    char role[16];
    char actor[PERSON_ACTOR_MAX];
    int64_t generation;
    bool must_change;
    int64_t created_ms, seen_ms;
    void *ident; /* the host's identity of this session (person_session_info.ident_slot) */
} psession;

typedef struct pthrottle {
    struct pthrottle *next;
    char key[PERSON_NAME_MAX + 64];
    int failures;
    int64_t last_ms, locked_until_ms;
} pthrottle;

struct person_sessions {
    person_sessions_options opt;
    uint8_t key[AUDIT_KEY_BYTES];
    char *data_dir;
    store_db *db; /* read-only */
    psession *sessions;
    size_t n_sessions;
    pthrottle *throttles;
    size_t n_throttles;
    unsigned jobs; /* logins and password changes on the pool */
    bool closing;
};

static const char clear_cookie[] = COOKIE_NAME "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0";

static int64_t now_ms(person_sessions *s)
{
    if (s->opt.clock_ms) return s->opt.clock_ms(s->opt.clock_udata);
    return (int64_t)uv_now(s->opt.loop);
}

/* ---- throttling ------------------------------------------------------------------ */

static pthrottle *throttle_find(person_sessions *s, const char *key, bool create)
{
    pthrottle **pp = &s->throttles, *oldest = NULL, **oldest_pp = NULL;
    for (; *pp; pp = &(*pp)->next) {
        if (strcmp((*pp)->key, key) == 0) return *pp;
        if (!oldest || (*pp)->last_ms < oldest->last_ms) {
            oldest = *pp;
            oldest_pp = pp;
        }
    }
    if (!create) return NULL;
    pthrottle *t;
    if (s->n_throttles >= MAX_THROTTLES && oldest) { /* forget the longest quiet one */
        *oldest_pp = oldest->next;
        t = oldest;
    } else {
        t = malloc(sizeof *t);
        if (!t) abort();
        s->n_throttles++;
    }
    memset(t, 0, sizeof *t);
    snprintf(t->key, sizeof t->key, "%s", key);
    t->next = s->throttles;
    s->throttles = t;
    return t;
}

/* Milliseconds the key must still wait; 0 when it may try. */
static int64_t throttle_wait(person_sessions *s, const char *key)
{
    pthrottle *t = throttle_find(s, key, false);
    int64_t now = now_ms(s);
    return t && t->locked_until_ms > now ? t->locked_until_ms - now : 0;
}

static void throttle_fail(person_sessions *s, const char *key, int allowed)
{
    pthrottle *t = throttle_find(s, key, true);
    int64_t now = now_ms(s);
    if (now - t->last_ms > THROTTLE_WINDOW_MS && t->locked_until_ms <= now) t->failures = 0;
    t->failures++;
    t->last_ms = now;
    if (t->failures >= allowed) {
        int64_t wait = THROTTLE_FIRST_MS;
        for (int i = allowed; i < t->failures && wait < THROTTLE_MAX_MS; i++)
            wait *= 2;
        t->locked_until_ms = now + (wait < THROTTLE_MAX_MS ? wait : THROTTLE_MAX_MS);
    }
}

static void throttle_clear(person_sessions *s, const char *key)
{
    pthrottle *t = throttle_find(s, key, false);
    if (t) t->failures = 0, t->locked_until_ms = 0;
}

/* ---- sessions ------------------------------------------------------------------- */

static void token_hash(const char *token, size_t len, uint8_t out[crypto_generichash_BYTES])
{
    crypto_generichash(out, crypto_generichash_BYTES, (const unsigned char *)token, len, NULL, 0);
}

static void random_token(char out[TOKEN_CHARS + 1])
{
    uint8_t raw[TOKEN_BYTES];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2base64(out, TOKEN_CHARS + 1, raw, sizeof raw,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
}

/* The value of our cookie in a Cookie header; its length in *len. */
static const char *cookie_token(const char *cookie, size_t *len)
{
    const size_t nlen = sizeof COOKIE_NAME - 1;
    for (const char *p = cookie; p && *p;) {
        while (*p == ' ' || *p == ';')
            p++;
        const char *end = strchr(p, ';');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n > nlen && strncmp(p, COOKIE_NAME "=", nlen + 1) == 0) {
            *len = n - nlen - 1;
            return p + nlen + 1;
        }
        p += n;
    }
    *len = 0;
    return NULL;
}

static void session_unlink(person_sessions *s, psession *dead)
{
    for (psession **pp = &s->sessions; *pp; pp = &(*pp)->next)
        if (*pp == dead) {
            *pp = dead->next;
            s->n_sessions--;
            if (dead->ident && s->opt.ident_free)
                s->opt.ident_free(s->opt.ident_udata, dead->ident);
            sodium_memzero(dead, sizeof *dead);
            free(dead);
            return;
        }
}

/* The live session the cookie names, NULL when none. Expired ones found
 * on the way are dropped. */
static psession *session_find(person_sessions *s, const char *cookie, bool *named)
{
    size_t len;
    const char *token = cookie_token(cookie, &len);
    if (named) *named = token != NULL;
    if (!token || len != TOKEN_CHARS) return NULL;
    uint8_t h[crypto_generichash_BYTES];
    token_hash(token, len, h);
    int64_t now = now_ms(s);
    psession *found = NULL;
    for (psession *p = s->sessions, *next; p; p = next) {
        next = p->next;
        if (now - p->seen_ms > s->opt.idle_ms || now - p->created_ms > s->opt.max_ms) {
            session_unlink(s, p);
            continue;
        }
        if (sodium_memcmp(p->token_hash, h, sizeof h) == 0) found = p;
    }
    return found;
}

/* Re-reads the person: false (and *gone) when they were disabled, reset,
 * or changed their password since the session began. */
static bool session_still_valid(person_sessions *s, psession *p)
{
    int64_t generation = 0;
    bool disabled = true;
    return store_person_state(s->db, p->name, &generation, &disabled) == 0 && !disabled &&
           generation == p->generation;
}

static void fill_info(psession *p, person_session_info *info)
{
    info->name = p->name;
    info->role = p->role;
    info->actor = p->actor;
    info->must_change = p->must_change;
    info->ident_slot = &p->ident;
    info->reg_role =
        !p->must_change && strcmp(p->role, "support") == 0 ? REG_ROLE_SUPPORT : REG_ROLE_LAESER;
}

int person_session_check(person_sessions *s, const char *cookie, const char *method,
                         const char *csrf, person_session_info *info)
{
    memset(info, 0, sizeof *info);
    bool named = false;
    psession *p = session_find(s, cookie, &named);
    if (!named) return PERSON_SESSION_NONE;
    if (!p) return PERSON_SESSION_EXPIRED;
    if (!session_still_valid(s, p)) {
        session_unlink(s, p);
        return PERSON_SESSION_EXPIRED;
    }
    bool safe = method && (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0);
    if (!safe &&
        (!csrf || strlen(csrf) != TOKEN_CHARS || sodium_memcmp(csrf, p->csrf, TOKEN_CHARS) != 0))
        return PERSON_SESSION_CSRF;
    p->seen_ms = now_ms(s);
    fill_info(p, info);
    return PERSON_SESSION_OK;
}

const char *person_session_csrf(person_sessions *s, const char *cookie)
{
    psession *p = session_find(s, cookie, NULL);
    if (!p || !session_still_valid(s, p)) return NULL;
    p->seen_ms = now_ms(s);
    return p->csrf;
}

size_t person_sessions_count(person_sessions *s)
{
    return s->n_sessions;
}

static void audit(person_sessions *s, const char *operation, const char *name,
                  const char *request_id, const char *address, const char *why)
{
    if (!s->opt.audit) return;
    char actor[PERSON_ACTOR_MAX + 16];
    snprintf(actor, sizeof actor, "bruger:%.*s", PERSON_NAME_MAX, name && *name ? name : "?");
    json_t *detail = json_pack("{s:s?, s:s?}", "adresse", address, "aarsag", why);
    char *text = json_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(detail);
    s->opt.audit(s->opt.audit_udata, operation, actor, request_id, text);
    free(text);
}

const char *person_logout(person_sessions *s, const char *cookie, const char *request_id)
{
    psession *p = session_find(s, cookie, NULL);
    if (p) {
        audit(s, "logout", p->name, request_id, NULL, NULL);
        session_unlink(s, p);
    }
    return clear_cookie;
}

/* ---- login and password change on the pool ------------------------------------------ */

typedef struct pjob {
    uv_work_t work;
    person_sessions *s;
    person_login_fn done;
    void *udata;
    bool change; /* a password change, not a login */
    person_row row;
    bool found;
    char password[PERSON_PASSWORD_MAX + 1];
    char new_password[PERSON_PASSWORD_MAX + 1];
    char address[64];
    char request_id[128];
    char session_token_hash[crypto_generichash_BYTES];
    /* results made on the pool */
    bool verified;
    int store_rc;
    int64_t generation;
    char err[256];
} pjob;

/* A hash to verify against when the name is unknown, so that an unknown
 * name takes as long as a wrong password. Made once, on the pool. */
static char dummy_hash[crypto_pwhash_STRBYTES];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;
static void make_dummy(void)
{
    if (person_hash("dtr-dummy-password", dummy_hash) != 0) dummy_hash[0] = '\0';
}

static void job_work(uv_work_t *w)
{
    pjob *j = w->data;
    if (!j->found) {
        pthread_once(&dummy_once, make_dummy);
        if (dummy_hash[0] &&
            crypto_pwhash_str_verify(dummy_hash, j->password, strlen(j->password)) == 0)
            j->verified = false; /* never a login: the name is unknown */
        return;
    }
    j->verified = crypto_pwhash_str_verify(j->row.pw_hash, j->password, strlen(j->password)) == 0;
    if (!j->change || !j->verified) return;
    char hash[crypto_pwhash_STRBYTES];
    if (person_hash(j->new_password, hash) != 0) {
        j->store_rc = -1;
        snprintf(j->err, sizeof j->err, "out of memory hashing the password");
        return;
    }
    store_db *db = store_db_open(j->s->data_dir, true, 10000, j->err, sizeof j->err);
    if (!db) {
        j->store_rc = -1;
    } else {
        j->store_rc = person_set_password_hash(db, j->s->key, j->row.name, hash, &j->generation,
                                               j->err, sizeof j->err);
    }
    store_db_close(db);
}

static void job_free(pjob *j)
{
    person_sessions *s = j->s;
    sodium_memzero(j, sizeof *j);
    free(j);
    s->jobs--;
    if (s->closing && s->jobs == 0) person_sessions_close(s);
}

static void login_after(pjob *j, person_login_result *res, char cookie[256],
                        char csrf[TOKEN_CHARS + 1])
{
    person_sessions *s = j->s;
    bool ok = j->found && j->verified && !j->row.disabled;
    char name_key[PERSON_NAME_MAX + 8], addr_key[80];
    snprintf(name_key, sizeof name_key, "u:%s", j->row.name);
    snprintf(addr_key, sizeof addr_key, "a:%s", j->address);
    if (!ok) {
        throttle_fail(s, name_key, NAME_FAILURES);
        throttle_fail(s, addr_key, ADDRESS_FAILURES);
        audit(s, "login.fejl", j->row.name, j->request_id, j->address,
              !j->found         ? "ukendt navn"
              : j->row.disabled ? "spærret"
                                : "forkert adgangskode");
        res->status = PERSON_DECLINED;
        res->tekst = "Forkert brugernavn eller adgangskode.";
        return;
    }
    throttle_clear(s, name_key);
    throttle_clear(s, addr_key);
    if (s->n_sessions >= MAX_SESSIONS) {
        res->status = PERSON_ERROR;
        res->tekst = "Der er for mange aktive sessioner; prøv igen senere.";
        return;
    }
    psession *p = calloc(1, sizeof *p);
    if (!p) abort();
    char token[TOKEN_CHARS + 1];
    random_token(token);
    token_hash(token, TOKEN_CHARS, p->token_hash);
    random_token(p->csrf);
    snprintf(p->name, sizeof p->name, "%s", j->row.name);
    snprintf(p->role, sizeof p->role, "%s", j->row.role);
    snprintf(p->actor, sizeof p->actor, "bruger:%s", j->row.name);
    p->generation = j->row.generation;
    p->must_change = j->row.must_change;
    p->created_ms = p->seen_ms = now_ms(s);
    p->next = s->sessions;
    s->sessions = p;
    s->n_sessions++;
    snprintf(cookie, 256, COOKIE_NAME "=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%lld%s",
             token, (long long)(s->opt.max_ms / 1000), s->opt.secure_cookie ? "; Secure" : "");
    sodium_memzero(token, sizeof token);
    snprintf(csrf, TOKEN_CHARS + 1, "%s", p->csrf);
    audit(s, "login", p->name, j->request_id, j->address, NULL);
    res->status = PERSON_OK;
    res->must_change = p->must_change;
    res->cookie = cookie;
    res->csrf = csrf;
    res->tekst = p->must_change ? "Vælg en ny adgangskode." : "Du er logget ind.";
}

static void change_after(pjob *j, person_login_result *res)
{
    person_sessions *s = j->s;
    if (!j->verified) {
        res->status = PERSON_DECLINED;
        res->tekst = "Den nuværende adgangskode er forkert.";
        return;
    }
    if (j->store_rc != 0) {
        res->status = PERSON_ERROR;
        res->tekst = "Adgangskoden kunne ikke gemmes; prøv igen.";
        return;
    }
    for (psession *p = s->sessions; p; p = p->next)
        if (sodium_memcmp(p->token_hash, j->session_token_hash, sizeof p->token_hash) == 0) {
            p->generation = j->generation;
            p->must_change = false;
            if (p->ident && s->opt.ident_free) /* its role changes: a new identity next time */
                s->opt.ident_free(s->opt.ident_udata, p->ident);
            p->ident = NULL;
        }
    res->status = PERSON_OK;
    res->tekst = "Adgangskoden er skiftet.";
}

static void job_after(uv_work_t *w, int status)
{
    pjob *j = w->data;
    person_sessions *s = j->s;
    person_login_result res = {.status = PERSON_ERROR, .tekst = "Prøv igen."};
    char cookie[256], csrf[TOKEN_CHARS + 1];
    if (status == 0 && !s->closing) {
        if (j->change)
            change_after(j, &res);
        else
            login_after(j, &res, cookie, csrf);
    }
    if (!s->closing) j->done(&res, j->udata);
    sodium_memzero(cookie, sizeof cookie);
    job_free(j);
}

/* A job done without the pool (refused before any password is looked at):
 * still answered from the loop, never inside the caller's call. */
static void job_refuse_work(uv_work_t *w)
{
    (void)w;
}

static void job_refuse_after(uv_work_t *w, int status)
{
    pjob *j = w->data;
    person_sessions *s = j->s;
    int64_t wait = status == 0 ? j->generation : 0;
    person_login_result res = {.status = PERSON_THROTTLED,
                               .retry_after_s = (int)((wait + 999) / 1000),
                               .tekst = "For mange forkerte forsøg; vent lidt og prøv igen."};
    if (j->store_rc) {
        res.status = PERSON_DECLINED;
        res.tekst = j->err;
    }
    if (!s->closing) j->done(&res, j->udata);
    job_free(j);
}

static pjob *job_new(person_sessions *s, person_login_fn done, void *udata)
{
    pjob *j = calloc(1, sizeof *j);
    if (!j) abort();
    j->s = s;
    j->done = done;
    j->udata = udata;
    j->work.data = j;
    s->jobs++;
    return j;
}

int person_login(person_sessions *s, const char *name, const char *password, const char *address,
                 const char *request_id, person_login_fn done, void *udata)
{
    if (s->closing || !done) return -1;
    pjob *j = job_new(s, done, udata);
    snprintf(j->address, sizeof j->address, "%s", address ? address : "");
    snprintf(j->request_id, sizeof j->request_id, "%s", request_id ? request_id : "");
    snprintf(j->row.name, sizeof j->row.name, "%.*s", PERSON_NAME_MAX, name ? name : "");
    char name_key[PERSON_NAME_MAX + 8], addr_key[80];
    snprintf(name_key, sizeof name_key, "u:%s", j->row.name);
    snprintf(addr_key, sizeof addr_key, "a:%s", j->address);
    int64_t wait = throttle_wait(s, name_key), wait_addr = throttle_wait(s, addr_key);
    if (wait_addr > wait) wait = wait_addr;
    if (wait > 0) {
        audit(s, "login.fejl", j->row.name, j->request_id, j->address, "for mange forsøg");
        j->generation = wait; /* carried to job_refuse_after */
        uv_queue_work(s->opt.loop, &j->work, job_refuse_work, job_refuse_after);
        return 0;
    }
    snprintf(j->password, sizeof j->password, "%s", password ? password : "");
    char err[256];
    person_row row;
    if (name && strlen(name) <= PERSON_NAME_MAX &&
        person_read(s->db, name, &row, err, sizeof err) == 0) {
        j->row = row;
        j->found = true;
    }
    sodium_memzero(&row, sizeof row);
    uv_queue_work(s->opt.loop, &j->work, job_work, job_after);
    return 0;
}

/* The number of characters (UTF-8 code points) of s. */
static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80) n++;
    return n;
}

int person_change_password(person_sessions *s, const char *cookie, const char *old_password,
                           const char *new_password, const char *request_id, person_login_fn done,
                           void *udata)
{
    if (s->closing || !done) return -1;
    psession *p = session_find(s, cookie, NULL);
    if (!p || !session_still_valid(s, p)) return -1;
    pjob *j = job_new(s, done, udata);
    j->change = true;
    snprintf(j->request_id, sizeof j->request_id, "%s", request_id ? request_id : "");
    memcpy(j->session_token_hash, p->token_hash, sizeof p->token_hash);
    const char *why = NULL;
    if (!new_password || utf8_chars(new_password) < PERSON_PASSWORD_MIN)
        why = "Den nye adgangskode skal have mindst 12 tegn.";
    else if (strlen(new_password) > PERSON_PASSWORD_MAX)
        why = "Den nye adgangskode er for lang.";
    else if (old_password && strcmp(old_password, new_password) == 0)
        why = "Den nye adgangskode skal være en anden end den nuværende.";
    if (why) {
        j->store_rc = 1;
        snprintf(j->err, sizeof j->err, "%s", why);
        uv_queue_work(s->opt.loop, &j->work, job_refuse_work, job_refuse_after);
        return 0;
    }
    char err[256];
    if (person_read(s->db, p->name, &j->row, err, sizeof err) == 0) j->found = true;
    snprintf(j->password, sizeof j->password, "%s", old_password ? old_password : "");
    snprintf(j->new_password, sizeof j->new_password, "%s", new_password);
    uv_queue_work(s->opt.loop, &j->work, job_work, job_after);
    return 0;
}

/* ---- open and close ------------------------------------------------------------------- */

person_sessions *person_sessions_open(const person_sessions_options *opt, char *err, size_t errlen)
{
    if (sodium_init() < 0) {
        snprintf(err, errlen, "libsodium could not start");
        return NULL;
    }
    person_sessions *s = calloc(1, sizeof *s);
    if (!s) abort();
    s->opt = *opt;
    if (s->opt.idle_ms <= 0) s->opt.idle_ms = 30 * 60 * 1000;
    if (s->opt.max_ms <= 0) s->opt.max_ms = 8 * 60 * 60 * 1000;
    if (opt->key) memcpy(s->key, opt->key, sizeof s->key);
    s->data_dir = strdup(opt->data_dir);
    if (!s->data_dir) abort();
    s->opt.data_dir = s->data_dir;
    s->db = store_db_open(opt->data_dir, false, 2000, err, errlen);
    /* one read, so that a database without the person table is refused now */
    person_row none;
    char why[200];
    if (s->db && store_person_get(s->db, "", &none, why, sizeof why) < 0) {
        snprintf(err, errlen, "%s: %s", opt->data_dir, why);
        store_db_close(s->db);
        s->db = NULL;
    }
    if (!s->db) {
        free(s->data_dir);
        free(s);
        return NULL;
    }
    return s;
}

void person_sessions_close(person_sessions *s)
{
    if (!s) return;
    s->closing = true;
    while (s->sessions)
        session_unlink(s, s->sessions);
    while (s->throttles) {
        pthrottle *t = s->throttles;
        s->throttles = t->next;
        free(t);
    }
    s->n_throttles = 0;
    if (s->jobs) return; /* the last job's end frees the rest */
    store_db_close(s->db);
    free(s->data_dir);
    sodium_memzero(s->key, sizeof s->key);
    free(s);
}
