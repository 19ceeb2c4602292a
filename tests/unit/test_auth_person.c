/*
 * test_auth_person.c -- the web UI's people and sessions (auth/person.h) in a
 * real data directory: add, list, disable and reset with their audit
 * entries and only an Argon2id hash stored; logins verified on the thread
 * pool; the cookie, the CSRF token on writes, idle and total expiry (on a
 * clock the test moves), throttling per name and per address, a disabled
 * person's session ending at once, a password change.
 */
#include <uv.h>

#include "auth/person.h"
#include "test_auth_fixture.h"

typedef struct pfix {
    afix *a;
    uv_loop_t loop;
    person_sessions *s;
    int64_t now_ms;
    int audits;
    char last_audit[32];
    /* the last login's answer */
    bool answered;
    int status, retry_after;
    bool must_change;
    char cookie[256], csrf[64];
} pfix;

static int64_t clock_of(void *udata)
{
    return ((pfix *)udata)->now_ms;
}

static void audit_of(void *udata, const char *operation, const char *actor, const char *request_id,
                     const char *detail)
{
    (void)actor, (void)request_id, (void)detail;
    pfix *p = udata;
    p->audits++;
    snprintf(p->last_audit, sizeof p->last_audit, "%s", operation);
}

static int setup(void **state)
{
    person_hash_limits(crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN); /* fast tests */
    afix_setup(state);
    pfix *p = calloc(1, sizeof *p);
    p->a = *state;
    uv_loop_init(&p->loop);
    p->now_ms = 1000000;
    person_sessions_options o = {.loop = &p->loop,
                                 .data_dir = p->a->dir,
                                 .key = p->a->key,
                                 .idle_ms = 60000,
                                 .max_ms = 600000,
                                 .audit = audit_of,
                                 .audit_udata = p,
                                 .clock_ms = clock_of,
                                 .clock_udata = p};
    char err[256];
    p->s = person_sessions_open(&o, err, sizeof err);
    assert_non_null(p->s);
    *state = p;
    return 0;
}

static int teardown(void **state)
{
    pfix *p = *state;
    person_sessions_close(p->s);
    uv_run(&p->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&p->loop), 0);
    void *a = p->a;
    free(p);
    return afix_teardown(&a);
}

/* Adds a person and returns the one-time password (static buffer). */
static const char *add(pfix *p, const char *name, const char *role)
{
    static char pw[64];
    json_t *out = NULL;
    char err[256];
    assert_int_equal(
        person_add(p->a->sdb, p->a->key, "cli:test", name, role, &out, err, sizeof err), 0);
    snprintf(pw, sizeof pw, "%s", json_string_value(json_object_get(out, "password")));
    json_decref(out);
    return pw;
}

static void login_done(const person_login_result *res, void *udata)
{
    pfix *p = udata;
    p->answered = true;
    p->status = res->status;
    p->retry_after = res->retry_after_s;
    p->must_change = res->must_change;
    snprintf(p->cookie, sizeof p->cookie, "%s", res->cookie ? res->cookie : "");
    snprintf(p->csrf, sizeof p->csrf, "%s", res->csrf ? res->csrf : "");
}

/* Logs in and waits for the answer (the loop runs the pool's work). */
static int login(pfix *p, const char *name, const char *pw, const char *address)
{
    p->answered = false;
    assert_int_equal(person_login(p->s, name, pw, address, "req-1", login_done, p), 0);
    assert_false(p->answered); /* never inside the call */
    uv_run(&p->loop, UV_RUN_DEFAULT);
    assert_true(p->answered);
    return p->status;
}

/* "dtr_session=<token>" from a Set-Cookie value, as a browser sends it. */
static const char *cookie_header(const pfix *p)
{
    static char c[128];
    snprintf(c, sizeof c, "theme=dark; %.*s", (int)strcspn(p->cookie, ";"), p->cookie);
    return c;
}

static void test_people_and_hashes(void **state)
{
    pfix *p = *state;
    const char *pw = add(p, "anne", "support");
    assert_int_equal(strlen(pw), 20);
    char err[256];
    json_t *out = NULL;
    assert_int_equal(
        person_add(p->a->sdb, p->a->key, "cli:test", "anne", "support", &out, err, sizeof err),
        PERSON_REFUSED);
    assert_int_equal(
        person_add(p->a->sdb, p->a->key, "cli:test", "Bo", "support", &out, err, sizeof err),
        PERSON_REFUSED);
    assert_int_equal(
        person_add(p->a->sdb, p->a->key, "cli:test", "bo", "admin", &out, err, sizeof err),
        PERSON_REFUSED);
    person_row row;
    assert_int_equal(person_read(p->a->sdb, "anne", &row, err, sizeof err), 0);
    assert_true(strncmp(row.pw_hash, "$argon2id$", 10) == 0);
    assert_null(strstr(row.pw_hash, pw));
    assert_true(row.must_change);
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT (SELECT count(*) FROM person WHERE instr(pw_hash || name, '%s') > 0) + "
             "(SELECT count(*) FROM audit WHERE instr(coalesce(after, '') || actor, '%s') > 0)",
             pw, pw);
    assert_int_equal(afix_int(p->a->db, sql), 0);
    assert_int_equal(person_list(p->a->sdb, &out, err, sizeof err), 0);
    assert_int_equal(json_array_size(out), 1);
    assert_null(json_object_get(json_array_get(out, 0), "password"));
    json_decref(out);
    assert_int_equal(afix_int(p->a->db, "SELECT count(*) FROM audit WHERE operation = 'user.add'"),
                     1);
}

static void test_login_cookie_csrf(void **state)
{
    pfix *p = *state;
    const char *pw = add(p, "anne", "support");
    char one_time[64];
    snprintf(one_time, sizeof one_time, "%s", pw);
    assert_int_equal(login(p, "anne", "forkert", "10.0.0.1"), PERSON_DECLINED);
    assert_string_equal(p->last_audit, "login.fejl");
    assert_int_equal(login(p, "ukendt", one_time, "10.0.0.1"), PERSON_DECLINED);
    assert_int_equal(login(p, "anne", one_time, "10.0.0.1"), PERSON_OK);
    assert_string_equal(p->last_audit, "login");
    assert_true(p->must_change);
    assert_non_null(strstr(p->cookie, "HttpOnly"));
    assert_non_null(strstr(p->cookie, "SameSite=Strict"));
    assert_null(strstr(p->cookie, "Secure"));
    person_session_info info;
    /* A one-time password reads only until it is changed. */
    assert_int_equal(person_session_check(p->s, cookie_header(p), "GET", NULL, &info),
                     PERSON_SESSION_OK);
    assert_string_equal(info.actor, "bruger:anne");
    assert_int_equal(info.reg_role, REG_ROLE_LAESER);
    /* No cookie: anonymous; a made-up one: expired. */
    assert_int_equal(person_session_check(p->s, NULL, "GET", NULL, &info), PERSON_SESSION_NONE);
    assert_int_equal(person_session_check(p->s,
                                          "dtr_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                                          "GET", NULL, &info),
                     PERSON_SESSION_EXPIRED);
    /* Writes need the CSRF token. */
    assert_int_equal(person_session_check(p->s, cookie_header(p), "POST", NULL, &info),
                     PERSON_SESSION_CSRF);
    assert_int_equal(person_session_check(p->s, cookie_header(p), "POST", "x", &info),
                     PERSON_SESSION_CSRF);
    assert_int_equal(person_session_check(p->s, cookie_header(p), "PATCH", p->csrf, &info),
                     PERSON_SESSION_OK);
    assert_string_equal(person_session_csrf(p->s, cookie_header(p)), p->csrf);
    /* Logout ends it. */
    assert_non_null(strstr(person_logout(p->s, cookie_header(p), "req-2"), "Max-Age=0"));
    assert_string_equal(p->last_audit, "logout");
    assert_int_equal(person_session_check(p->s, cookie_header(p), "GET", NULL, &info),
                     PERSON_SESSION_EXPIRED);
    assert_int_equal(person_sessions_count(p->s), 0);
}

static void test_expiry(void **state)
{
    pfix *p = *state;
    const char *pw = add(p, "anne", "support");
    assert_int_equal(login(p, "anne", pw, "10.0.0.1"), PERSON_OK);
    person_session_info info;
    /* Idle: 60 s in this fixture; each use restarts it. */
    for (int i = 0; i < 11; i++) {
        p->now_ms += 50000;
        assert_int_equal(person_session_check(p->s, cookie_header(p), "GET", NULL, &info),
                         PERSON_SESSION_OK);
    }
    /* Total: 600 s, however busy. */
    p->now_ms += 51000;
    assert_int_equal(person_session_check(p->s, cookie_header(p), "GET", NULL, &info),
                     PERSON_SESSION_EXPIRED);
    assert_int_equal(login(p, "anne", pw, "10.0.0.1"), PERSON_OK);
    p->now_ms += 60001;
    assert_int_equal(person_session_check(p->s, cookie_header(p), "GET", NULL, &info),
                     PERSON_SESSION_EXPIRED);
}

static void test_throttle(void **state)
{
    pfix *p = *state;
    char pw[64];
    snprintf(pw, sizeof pw, "%s", add(p, "anne", "support"));
    for (int i = 0; i < 5; i++)
        assert_int_equal(login(p, "anne", "forkert", "10.0.0.1"), PERSON_DECLINED);
    /* The right password is refused too while the name waits. */
    assert_int_equal(login(p, "anne", pw, "10.0.0.2"), PERSON_THROTTLED);
    assert_int_equal(p->retry_after, 30);
    p->now_ms += 31000;
    assert_int_equal(login(p, "anne", "forkert", "10.0.0.1"), PERSON_DECLINED);
    assert_int_equal(login(p, "anne", pw, "10.0.0.1"), PERSON_THROTTLED);
    assert_int_equal(p->retry_after, 60); /* it doubles */
    p->now_ms += 61000;
    assert_int_equal(login(p, "anne", pw, "10.0.0.1"), PERSON_OK);
    /* Per address: twenty failures over any names lock the address. */
    add(p, "bo", "laeser");
    for (int i = 0; i < 20; i++) {
        char name[16];
        snprintf(name, sizeof name, "x%d", i);
        assert_int_equal(login(p, name, "forkert", "10.0.0.9"), PERSON_DECLINED);
    }
    assert_int_equal(login(p, "anne", pw, "10.0.0.9"), PERSON_THROTTLED);
    assert_int_equal(login(p, "anne", pw, "10.0.0.8"), PERSON_OK);
}

static void password_done(const person_login_result *res, void *udata)
{
    pfix *p = udata;
    p->answered = true;
    p->status = res->status;
}

static int change(pfix *p, const char *cookie, const char *old, const char *neu)
{
    p->answered = false;
    if (person_change_password(p->s, cookie, old, neu, "req-3", password_done, p) != 0) return -2;
    uv_run(&p->loop, UV_RUN_DEFAULT);
    assert_true(p->answered);
    return p->status;
}

static void test_password_and_disable(void **state)
{
    pfix *p = *state;
    char pw[64], cookie[128];
    snprintf(pw, sizeof pw, "%s", add(p, "anne", "support"));
    assert_int_equal(login(p, "anne", pw, "10.0.0.1"), PERSON_OK);
    snprintf(cookie, sizeof cookie, "%s", cookie_header(p));
    assert_int_equal(change(p, cookie, pw, "kort"), PERSON_DECLINED);
    assert_int_equal(change(p, cookie, "forkert", "en lang ny adgangskode"), PERSON_DECLINED);
    assert_int_equal(change(p, cookie, pw, "en lang ny adgangskode"), PERSON_OK);
    person_session_info info;
    assert_int_equal(person_session_check(p->s, cookie, "GET", NULL, &info), PERSON_SESSION_OK);
    assert_int_equal(info.reg_role, REG_ROLE_SUPPORT);
    assert_false(info.must_change);
    assert_int_equal(login(p, "anne", pw, "10.0.0.1"), PERSON_DECLINED);
    assert_int_equal(login(p, "anne", "en lang ny adgangskode", "10.0.0.1"), PERSON_OK);
    assert_false(p->must_change);
    /* Disabled: every session ends at once, and no login. */
    char err[256];
    assert_int_equal(
        person_disable(p->a->sdb, p->a->key, "cli:test", "anne", NULL, err, sizeof err), 0);
    assert_int_equal(person_session_check(p->s, cookie, "GET", NULL, &info),
                     PERSON_SESSION_EXPIRED);
    assert_int_equal(login(p, "anne", "en lang ny adgangskode", "10.0.0.1"), PERSON_DECLINED);
    /* Reset lets the person in again with a new one-time password. */
    json_t *out = NULL;
    assert_int_equal(person_reset(p->a->sdb, p->a->key, "cli:test", "anne", &out, err, sizeof err),
                     0);
    assert_int_equal(
        login(p, "anne", json_string_value(json_object_get(out, "password")), "10.0.0.1"),
        PERSON_OK);
    assert_true(p->must_change);
    json_decref(out);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_people_and_hashes), T(test_login_cookie_csrf),    T(test_expiry),
        T(test_throttle),          T(test_password_and_disable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
