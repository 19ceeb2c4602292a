/*
 * test_auth_cli.c -- `dtr client` and `dtr audit verify` as the functions
 * core/main.c calls: what they print on stdout (JSON), the one line on
 * stderr, and the exit codes 0 / 1 refused / 2 bad usage.
 */
#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>

#include "test_auth_fixture.h"

typedef struct run_result {
    int code;
    char out[8192];
    char err[2048];
} run_result;

static void read_all(const char *path, char *buf, size_t cap)
{
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    size_t n = fread(buf, 1, cap - 1, fp);
    buf[n] = '\0';
    fclose(fp);
}

/* Runs fn with stdout and stderr going to files, and collects both. */
static void capture(afix *f, int (*fn)(const char *, int, char **), const char *data_dir, int argc,
                    const char **argv, run_result *r)
{
    char out_path[128], err_path[128];
    snprintf(out_path, sizeof out_path, "%s/stdout.txt", f->dir);
    snprintf(err_path, sizeof err_path, "%s/stderr.txt", f->dir);
    fflush(stdout);
    fflush(stderr);
    int saved_out = dup(1), saved_err = dup(2);
    int fd_out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int fd_err = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd_out >= 0 && fd_err >= 0);
    dup2(fd_out, 1);
    dup2(fd_err, 2);
    r->code = fn(data_dir, argc, (char **)argv);
    fflush(stdout);
    fflush(stderr);
    dup2(saved_out, 1);
    dup2(saved_err, 2);
    close(saved_out);
    close(saved_err);
    close(fd_out);
    close(fd_err);
    read_all(out_path, r->out, sizeof r->out);
    read_all(err_path, r->err, sizeof r->err);
}

#define RUN_CLIENT(f, r, ...)                                                                      \
    do {                                                                                           \
        const char *argv_[] = {__VA_ARGS__};                                                       \
        capture((f), auth_cli_client, (f)->dir, (int)(sizeof argv_ / sizeof argv_[0]), argv_,      \
                (r));                                                                              \
    } while (0)

#define RUN_VERIFY(f, dir, r, ...)                                                                 \
    do {                                                                                           \
        const char *argv_[] = {__VA_ARGS__};                                                       \
        capture((f), auth_cli_audit_verify, (dir), (int)(sizeof argv_ / sizeof argv_[0]), argv_,   \
                (r));                                                                              \
    } while (0)

/* Exactly one non-empty line. */
static bool one_line(const char *text)
{
    size_t len = strlen(text);
    return len > 1 && text[len - 1] == '\n' && strchr(text, '\n') == text + len - 1;
}

static json_t *parse(const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text, 0, &e);
    if (!j) fail_msg("not JSON (%s): %s", e.text, text);
    return j;
}

static void expect_usage(afix *f, run_result *r)
{
    (void)f;
    if (r->code != 2) fail_msg("exit %d, stderr %s", r->code, r->err);
    assert_true(one_line(r->err));
    assert_string_equal(r->out, "");
}

static void test_add_prints_the_credentials_once(void **state)
{
    afix *f = *state;
    run_result r;
    RUN_CLIENT(f, &r, "add", "--name", "Københavns Kommune", "--role", "kommune", "--kommune",
               "147,101");
    assert_int_equal(r.code, 0);
    assert_string_equal(r.err, "");
    json_t *j = parse(r.out);
    assert_true(json_is_object(j));
    assert_int_equal(json_object_size(j), 5);
    assert_string_equal(afix_str(j, "role"), "kommune");
    assert_string_equal(afix_str(j, "name"), "Københavns Kommune");
    assert_int_equal(strlen(afix_str(j, "secret")), AUTH_SECRET_CHARS);
    json_t *k = json_object_get(j, "kommuner");
    assert_int_equal(json_array_size(k), 2);
    assert_int_equal(json_integer_value(json_array_get(k, 0)), 101);

    /* --flag=value works too; other roles take no kommune */
    RUN_CLIENT(f, &r, "add", "--role=laeser", "--name=Statistik");
    assert_int_equal(r.code, 0);
    json_t *l = parse(r.out);
    assert_string_equal(afix_str(l, "role"), "laeser");
    assert_int_equal(json_array_size(json_object_get(l, "kommuner")), 0);

    /* the secret works against the server's cache */
    char err[256];
    auth_cache *c = auth_cache_open(f->dir, f->key, err, sizeof err);
    assert_non_null(c);
    char header[512];
    const auth_client *client = NULL;
    afix_basic(afix_str(j, "clientId"), afix_str(j, "secret"), header, sizeof header);
    assert_int_equal(auth_cache_check(c, header, &client), DTR_OK);
    assert_string_equal(client->name, "Københavns Kommune");
    auth_cache_close(c);

    /* the audit actor is the unix user */
    struct passwd *pw = getpwuid(geteuid());
    assert_non_null(pw);
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM audit WHERE actor = 'cli:%s' AND operation = 'client.add'",
             pw->pw_name);
    assert_int_equal(afix_int(f->db, sql), 2);
    json_decref(j);
    json_decref(l);
}

static void test_bad_usage_exits_2_and_touches_nothing(void **state)
{
    afix *f = *state;
    /* a data directory of its own: usage errors must not even create the database */
    char dir[128], db[160];
    snprintf(dir, sizeof dir, "%s/untouched", f->dir);
    assert_int_equal(mkdir(dir, 0700), 0);
    snprintf(db, sizeof db, "%s/dtr.sqlite", dir);
    const char *cases[][8] = {
        {NULL},
        {"frobnicate", NULL},
        {"add", NULL},
        {"add", "--role", "admin", NULL},
        {"add", "--name", "X", NULL},
        {"add", "--name", "X", "--role", "root", NULL},
        {"add", "--name", "X", "--role", "kommune", NULL},
        {"add", "--name", "X", "--role", "kommune", "--kommune", "999", NULL},
        {"add", "--name", "X", "--role", "kommune", "--kommune", "101,x", NULL},
        {"add", "--name", "X", "--role", "support", "--kommune", "101", NULL},
        {"add", "--name", "", "--role", "admin", NULL},
        {"add", "--name", "X", "--role", NULL},
        {"add", "--name", "X", "--role", "admin", "--colour", "red", NULL},
        {"add", "extra", "--name", "X", "--role", "admin", NULL},
        {"list", "c_1", NULL},
        {"list", "--name", "X", NULL},
        {"revoke", NULL},
        {"rotate", NULL},
        {"revoke", "c_1", "c_2", NULL},
        {"rotate", "c_1", "--role", "admin", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int argc = 0;
        while (cases[i][argc])
            argc++;
        run_result r;
        capture(f, auth_cli_client, dir, argc, cases[i], &r);
        if (r.code != 2)
            fail_msg("case %zu (%s): exit %d, stderr %s", i, cases[i][0], r.code, r.err);
        expect_usage(f, &r);
        assert_non_null(strstr(r.err, "dtr client"));
    }
    struct stat st;
    assert_int_not_equal(stat(db, &st), 0);
}

static void test_list_revoke_rotate(void **state)
{
    afix *f = *state;
    run_result r;
    RUN_CLIENT(f, &r, "list");
    assert_int_equal(r.code, 0);
    json_t *empty = parse(r.out);
    assert_true(json_is_array(empty));
    assert_int_equal(json_array_size(empty), 0);
    json_decref(empty);

    RUN_CLIENT(f, &r, "add", "--name", "Support", "--role", "support");
    assert_int_equal(r.code, 0);
    json_t *added = parse(r.out);
    const char *id = afix_str(added, "clientId");

    RUN_CLIENT(f, &r, "list");
    assert_int_equal(r.code, 0);
    json_t *list = parse(r.out);
    assert_int_equal(json_array_size(list), 1);
    assert_string_equal(afix_str(json_array_get(list, 0), "clientId"), id);
    assert_null(strstr(r.out, afix_str(added, "secret")));
    assert_null(strstr(r.out, "secret"));
    json_decref(list);

    RUN_CLIENT(f, &r, "rotate", id);
    assert_int_equal(r.code, 0);
    json_t *rotated = parse(r.out);
    assert_string_equal(afix_str(rotated, "clientId"), id);
    assert_string_not_equal(afix_str(rotated, "secret"), afix_str(added, "secret"));

    RUN_CLIENT(f, &r, "revoke", "c_ffffffffffffffff");
    assert_int_equal(r.code, 1);
    assert_true(one_line(r.err));
    assert_non_null(strstr(r.err, "c_ffffffffffffffff"));
    assert_string_equal(r.out, "");
    RUN_CLIENT(f, &r, "rotate", "c_ffffffffffffffff");
    assert_int_equal(r.code, 1);
    assert_true(one_line(r.err));

    RUN_CLIENT(f, &r, "revoke", id);
    assert_int_equal(r.code, 0);
    json_t *revoked = parse(r.out);
    assert_true(json_is_string(json_object_get(revoked, "revoked")));
    RUN_CLIENT(f, &r, "revoke", id);
    assert_int_equal(r.code, 1);
    assert_true(one_line(r.err));
    RUN_CLIENT(f, &r, "rotate", id);
    assert_int_equal(r.code, 1);
    assert_true(one_line(r.err));

    RUN_CLIENT(f, &r, "list");
    list = parse(r.out);
    assert_true(json_is_string(json_object_get(json_array_get(list, 0), "revoked")));
    json_decref(list);
    json_decref(added);
    json_decref(rotated);
    json_decref(revoked);
}

static void test_help(void **state)
{
    afix *f = *state;
    run_result r;
    RUN_CLIENT(f, &r, "--help");
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, "dtr client add"));
}

static void test_a_fresh_data_directory_gets_a_private_key(void **state)
{
    afix *f = *state;
    char dir[128], path[160];
    snprintf(dir, sizeof dir, "%s/fresh", f->dir);
    assert_int_equal(mkdir(dir, 0700), 0);
    const char *argv[] = {"add", "--name", "Admin", "--role", "admin"};
    run_result r;
    capture(f, auth_cli_client, dir, 5, argv, &r);
    assert_int_equal(r.code, 0);
    struct stat st;
    snprintf(path, sizeof path, "%s/server.key", dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    snprintf(path, sizeof path, "%s/dtr.sqlite", dir);
    assert_int_equal(stat(path, &st), 0);
}

static void test_audit_verify(void **state)
{
    afix *f = *state;
    run_result r;
    RUN_VERIFY(f, f->dir, &r, "verify");
    assert_int_equal(r.code, 0);
    json_t *j = parse(r.out);
    assert_true(json_is_true(json_object_get(j, "ok")));
    assert_int_equal(json_integer_value(json_object_get(j, "entries")), 0);
    assert_true(json_is_null(json_object_get(j, "first_bad")));
    assert_true(json_is_null(json_object_get(j, "reason")));
    json_decref(j);

    for (int i = 0; i < 3; i++) {
        RUN_CLIENT(f, &r, "add", "--name", "Admin", "--role", "admin");
        assert_int_equal(r.code, 0);
    }
    RUN_VERIFY(f, f->dir, &r, "verify");
    assert_int_equal(r.code, 0);
    j = parse(r.out);
    assert_true(json_is_true(json_object_get(j, "ok")));
    assert_int_equal(json_integer_value(json_object_get(j, "entries")), 3);
    json_decref(j);

    /* tampered: exit 1, the first bad entry named */
    afix_exec(f->db, "UPDATE audit SET after = replace(after, 'admin', 'support') WHERE id = 2");
    RUN_VERIFY(f, f->dir, &r, "verify");
    assert_int_equal(r.code, 1);
    assert_true(one_line(r.err));
    j = parse(r.out);
    assert_true(json_is_false(json_object_get(j, "ok")));
    assert_int_equal(json_integer_value(json_object_get(j, "first_bad")), 2);
    assert_true(json_is_string(json_object_get(j, "reason")));
    json_decref(j);

    /* an entry for a client that never existed (a plugin that made one up,
     * before ABI 2.0): a well-chained entry, but verify names it */
    afix_exec(f->db, "UPDATE audit SET after = replace(after, 'support', 'admin') WHERE id = 2");
    RUN_VERIFY(f, f->dir, &r, "verify");
    assert_int_equal(r.code, 0);
    audit_writer w;
    audit_writer_init(&w, f->sdb->db); /* the CLI's connection, as a plugin's writer would */
    audit_entry forged = {.tidspunkt = "2026-12-07T10:00:00Z",
                          .actor = "c_00000000deadbeef",
                          .operation = "oprettet",
                          .level = "daginstitution",
                          .nummer = "G00001",
                          .after = "{}"};
    assert_int_equal(audit_writer_append(&w, f->key, &forged, NULL), SQL_OK);
    audit_writer_close(&w);
    RUN_VERIFY(f, f->dir, &r, "verify");
    assert_int_equal(r.code, 1);
    j = parse(r.out);
    assert_int_equal(json_integer_value(json_object_get(j, "first_bad")), 4);
    assert_non_null(strstr(json_string_value(json_object_get(j, "reason")), "c_00000000deadbeef"));
    json_decref(j);

    /* bad usage */
    RUN_VERIFY(f, f->dir, &r, "check");
    expect_usage(f, &r);
    RUN_VERIFY(f, f->dir, &r, "verify", "now");
    expect_usage(f, &r);

    /* no database or no key: refused, nothing created */
    char dir[128], path[160];
    snprintf(dir, sizeof dir, "%s/empty", f->dir);
    assert_int_equal(mkdir(dir, 0700), 0);
    RUN_VERIFY(f, dir, &r, "verify");
    assert_int_equal(r.code, 1);
    assert_true(one_line(r.err));
    snprintf(path, sizeof path, "%s/dtr.sqlite", dir);
    struct stat st;
    assert_int_not_equal(stat(path, &st), 0);
    snprintf(path, sizeof path, "%s/server.key", f->dir);
    assert_int_equal(unlink(path), 0);
    RUN_VERIFY(f, f->dir, &r, "verify");
    assert_int_equal(r.code, 1);
    assert_non_null(strstr(r.err, "server.key"));
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, afix_setup, afix_teardown)
    const struct CMUnitTest tests[] = {
        T(test_add_prints_the_credentials_once),
        T(test_bad_usage_exits_2_and_touches_nothing),
        T(test_list_revoke_rotate),
        T(test_help),
        T(test_a_fresh_data_directory_gets_a_private_key),
        T(test_audit_verify),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
