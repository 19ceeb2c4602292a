/*
 * test_store.c -- the store with the register's real decisions: migrations,
 * the number allocator, the audit chain, batches (a refusal among them, a
 * batch that cannot commit, closing with work queued) and dry runs. Reads
 * are tested in test_store_read.c.
 */
#include "test_store_fixture.h"

#include "store/store_int.h"

static int setup(void **state)
{
    tfix *f = fix_new("test_store");
    fix_open(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fix_free(*state);
    return 0;
}

/* ---- migrations ----------------------------------------------------------- */

static void test_fresh_database_has_current_schema(void **state)
{
    tfix *f = *state;
    assert_int_equal(count_rows(f, "SELECT version FROM schema_version"), STORE_SCHEMA_VERSION);
    assert_int_equal(count_rows(f, "SELECT count(*) FROM schema_version"), 1);
    assert_int_equal(count_rows(f, "SELECT highest FROM allocator"), 0);
    /* reopening runs nothing again */
    fix_close(f);
    fix_open(f);
    assert_int_equal(count_rows(f, "SELECT count(*) FROM schema_version"), 1);
    assert_int_equal(count_rows(f, "SELECT count(*) FROM allocator"), 1);
}

static void test_newer_schema_is_refused(void **state)
{
    tfix *f = *state;
    fix_close(f);
    exec_sql(f, "UPDATE schema_version SET version = 99");
    char err[256] = "";
    store *s = NULL;
    store_options opt = {.data_dir = f->dir, .audit_key = f->key, .log = fix_quiet_log};
    assert_int_equal(store_open(&opt, &s, err, sizeof err), -1);
    assert_null(s);
    assert_non_null(strstr(err, "newer"));
    assert_non_null(strstr(err, "99"));
    char restore[64];
    snprintf(restore, sizeof restore, "UPDATE schema_version SET version = %d",
             STORE_SCHEMA_VERSION);
    exec_sql(f, restore);
    fix_open(f);
}

/* A driver this build does not have, or one that is not the process's
 * (store_configure), is refused before anything is made: no database
 * appears in a fresh directory. The location is named once. */
static void test_unknown_driver_is_refused_and_makes_nothing(void **state)
{
    (void)state;
    fix_sqlite_only(); /* the process's driver is sqlite here */
    char dir[] = "/tmp/test_store_driver_XXXXXX", path[128], err[256] = "";
    assert_non_null(mkdtemp(dir));
    assert_int_equal(store_location(dir, path, sizeof path), 0);
    char want[128];
    snprintf(want, sizeof want, "%s/dtr.sqlite", dir);
    assert_string_equal(path, want);
    assert_int_equal(store_location(dir, path, 8), -1);
    uint8_t key[AUDIT_KEY_BYTES] = {1};
    const char *names[] = {"postgresql", "mysql", "sqlite3", ""};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        store *s = NULL;
        store_options opt = {
            .data_dir = dir, .driver = names[i], .audit_key = key, .log = fix_quiet_log};
        assert_int_equal(store_open(&opt, &s, err, sizeof err), -1);
        assert_null(s);
        assert_non_null(strstr(err, "store.driver"));
        assert_non_null(strstr(err, "sqlite"));
        assert_int_equal(access(want, F_OK), -1);
    }
    store *s = NULL;
    store_options opt = {
        .data_dir = dir, .driver = "sqlite", .audit_key = key, .log = fix_quiet_log};
    assert_int_equal(store_open(&opt, &s, err, sizeof err), 0);
    store_close(s);
    assert_int_equal(access(want, F_OK), 0);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_failed_migration_leaves_the_earlier_ones(void **state)
{
    (void)state;
    sql_target t = {.dialect = SQL_DIALECT_SQLITE, .path = ":memory:"};
    char why[256] = "";
    sql_conn *db = sql_open(&t, false, 0, why, sizeof why);
    assert_non_null(db);
    const store_migration list[] = {
        {1, "CREATE TABLE a (x);"},
        {2, "CREATE TABLE b (x); INSERT INTO nonexistent VALUES (1);"},
        {3, "CREATE TABLE c (x);"},
    };
    char err[256] = "";
    assert_int_equal(store_migrate_list(db, list, 3, err, sizeof err), -1);
    assert_non_null(strstr(err, "migration 2"));
    assert_int_equal(store_schema_version(db), 1);
    /* b was created inside the failed migration's transaction: gone */
    assert_int_not_equal(sql_exec(db, "SELECT * FROM b"), SQL_OK);
    assert_int_equal(sql_exec(db, "SELECT * FROM a"), SQL_OK);
    /* fixed migration 2: runs 2 and 3 */
    const store_migration fixed[] = {
        {1, "CREATE TABLE a (x);"},
        {2, "CREATE TABLE b (x);"},
        {3, "CREATE TABLE c (x);"},
    };
    assert_int_equal(store_migrate_list(db, fixed, 3, err, sizeof err), 0);
    assert_int_equal(store_schema_version(db), 3);
    sql_close(db);
}

/* ---- the allocator ----------------------------------------------------------- */

static void test_ordinals_follow_the_series(void **state)
{
    (void)state;
    assert_int_equal(alloc_ordinal("G00001"), 1);
    assert_int_equal(alloc_ordinal("G99999"), 99999);
    assert_int_equal(alloc_ordinal("H00001"), 100001);
    assert_int_equal(alloc_ordinal("J00001"), 200001); /* I skipped */
    assert_int_equal(alloc_ordinal("P00001"), 700001); /* O skipped */
    assert_int_equal(alloc_ordinal("R00001"), 800001); /* Q skipped */
    assert_int_equal(alloc_ordinal("Z99999"), 1699999);
    assert_int_equal(alloc_ordinal("A12345"), -1);
    assert_int_equal(alloc_ordinal("I00001"), -1);
    assert_int_equal(alloc_ordinal("G1234"), -1);
    assert_int_equal(alloc_ordinal("G1234x"), -1);
}

static void test_numbers_are_issued_in_order(void **state)
{
    tfix *f = *state;
    char n1[7], n2[7], n3[7];
    create_ok(f, REG_DAGINSTITUTION, di_body("En", 101, 1, 1), n1);
    create_ok(f, REG_DAGINSTITUTION, di_body("To", 101, 1, 1), n2);
    create_ok(f, REG_ANVISNINGSENHED, ae_body(n1, "Tre", 6011, 101), n3);
    assert_string_equal(n1, "G00001");
    assert_string_equal(n2, "G00002");
    assert_string_equal(n3, "G00003");
}

static void test_after_g99999_comes_h00001(void **state)
{
    tfix *f = *state;
    exec_sql(f, "UPDATE allocator SET highest = 99998");
    char n[7];
    create_ok(f, REG_DAGINSTITUTION, di_body("Sidste G", 101, 1, 1), n);
    assert_string_equal(n, "G99999");
    create_ok(f, REG_DAGINSTITUTION, di_body("Første H", 101, 1, 1), n);
    assert_string_equal(n, "H00001");
    exec_sql(f, "UPDATE allocator SET highest = 899999"); /* R99999: next is S */
    create_ok(f, REG_DAGINSTITUTION, di_body("S", 101, 1, 1), n);
    assert_string_equal(n, "S00001");
}

static void test_after_z99999_creates_get_503(void **state)
{
    tfix *f = *state;
    exec_sql(f, "UPDATE allocator SET highest = 1699998");
    char n[7];
    create_ok(f, REG_DAGINSTITUTION, di_body("Sidste", 101, 1, 1), n);
    assert_string_equal(n, "Z99999");
    answer a = run_cmd(f, REG_OP_CREATE, REG_DAGINSTITUTION, NULL, di_body("For mange", 101, 1, 1),
                       actor_support());
    assert_int_equal(a.status, 503);
    assert_true(answer_has_error(&a, "IKKE_KLAR"));
    answer_clear(&a);
    assert_int_equal(count_rows(f, "SELECT count(*) FROM record"), 1);
    assert_int_equal(count_rows(f, "SELECT count(*) FROM haendelse"), 1);
}

static answer import_cmd(tfix *f, reg_level level, json_t *body)
{
    answer a;
    memset(&a, 0, sizeof a);
    store_command cmd = {.op = REG_OP_CREATE,
                         .level = level,
                         .body = body,
                         .actor = {.id = "import", .role = REG_ROLE_SYSTEM},
                         .keep_numbers = true};
    assert_int_equal(store_submit_sync(f->s, &cmd, answer_cb, &a), 0);
    json_decref(body);
    return a;
}

static void test_imported_numbers_move_the_allocator_but_a_numbers_do_not(void **state)
{
    tfix *f = *state;
    json_t *b = di_body("Gammel A", 101, 1, 1);
    json_object_set_new(b, "nummer", json_string("A12345"));
    answer a = import_cmd(f, REG_DAGINSTITUTION, b);
    assert_int_equal(a.status, 0);
    assert_string_equal(a.primary, "A12345");
    assert_string_equal(json_string_value(json_object_get(a.record, "virkningFra")), "2019-08-30");
    answer_clear(&a);
    assert_int_equal(count_rows(f, "SELECT highest FROM allocator"), 0);

    b = di_body("Importeret K", 101, 1, 1);
    json_object_set_new(b, "nummer", json_string("K00005"));
    a = import_cmd(f, REG_DAGINSTITUTION, b);
    assert_int_equal(a.status, 0);
    answer_clear(&a);
    /* a lower one does not move it back */
    b = di_body("Importeret G", 101, 1, 1);
    json_object_set_new(b, "nummer", json_string("G00007"));
    a = import_cmd(f, REG_DAGINSTITUTION, b);
    assert_int_equal(a.status, 0);
    answer_clear(&a);
    char n[7];
    create_ok(f, REG_DAGINSTITUTION, di_body("Ny", 101, 1, 1), n);
    assert_string_equal(n, "K00006");
}

static void test_deleted_numbers_stay_burnt(void **state)
{
    tfix *f = *state;
    char n[7];
    create_ok(f, REG_DAGINSTITUTION, di_body("Fejl", 101, 1, 1), n);
    answer a = run_cmd(f, REG_OP_DELETE, REG_DAGINSTITUTION, n, NULL, actor_support());
    assert_int_equal(a.status, 0);
    assert_null(a.record);
    assert_int_equal(a.n_changes, 1);
    assert_string_equal(a.changes[0].operation, "slettet");
    answer_clear(&a);
    assert_int_equal(count_rows(f, "SELECT count(*) FROM burnt WHERE nummer = 'G00001'"), 1);

    /* never issued again, never imported again, gone for reads */
    char n2[7];
    create_ok(f, REG_DAGINSTITUTION, di_body("Næste", 101, 1, 1), n2);
    assert_string_equal(n2, "G00002");
    json_t *b = di_body("Genbrug", 101, 1, 1);
    json_object_set_new(b, "nummer", json_string("G00001"));
    a = import_cmd(f, REG_DAGINSTITUTION, b);
    assert_int_equal(a.status, 409);
    assert_true(answer_has_error(&a, "NUMMER_BRUGT"));
    answer_clear(&a);
    reg_level level;
    json_t *rec = NULL;
    assert_int_equal(store_get(f->r, "G00001", NULL, 0, &level, &rec), 410);
    assert_null(rec);
    a = run_cmd(f, REG_OP_UPDATE, REG_DAGINSTITUTION, "G00001", json_pack("{s:s}", "navn", "x"),
                actor_support());
    assert_int_equal(a.status, 410);
    answer_clear(&a);
    /* the history stays */
    json_t *hist = NULL;
    assert_int_equal(store_history(f->r, "G00001", &hist), 0);
    assert_int_equal(json_array_size(hist), 1);
    assert_non_null(json_string_value(json_object_get(json_array_get(hist, 0), "registreringTil")));
    json_decref(hist);
}

/* ---- audit --------------------------------------------------------------------------- */

static void test_every_change_is_audited_and_tampering_is_named(void **state)
{
    tfix *f = *state;
    char di[7], ae[7];
    create_ok(f, REG_DAGINSTITUTION, di_body("Revideret", 101, 1, 1), di);
    create_ok(f, REG_ANVISNINGSENHED, ae_body(di, "Stue", 6011, 101), ae);
    answer a = run_cmd(f, REG_OP_UPDATE, REG_DAGINSTITUTION, di, json_pack("{s:s}", "navn", "Ny"),
                       actor_kommune(scope_101, 1));
    assert_int_equal(a.status, 0);
    answer_clear(&a);
    a = run_cmd(f, REG_OP_UPDATE, REG_DAGINSTITUTION, di, json_pack("{s:s}", "navn", "Nej"),
                actor_kommune(scope_147, 1));
    assert_int_equal(a.status, 403); /* refusals leave no audit row */
    answer_clear(&a);
    audit_entry summary = {.actor = "import", .operation = "import", .after = "{\"rows\":0}"};
    store_audit(f->s, &summary, NULL, NULL);
    store_wait(f->s);

    assert_int_equal(count_rows(f, "SELECT count(*) FROM audit"), 4);
    assert_int_equal(
        count_rows(f, "SELECT count(*) FROM audit WHERE actor = 'kommune-client' AND "
                      "request_id = 'req' AND operation = 'aendret' AND before LIKE '%Revideret%' "
                      "AND after LIKE '%\"Ny\"%'"),
        1);
    audit_report rep;
    assert_int_equal(store_audit_verify(f->r, &rep), 0);
    assert_int_equal(rep.entries, 4);

    exec_sql(f, "UPDATE audit SET actor = 'someone-else' WHERE id = 3");
    assert_int_equal(store_audit_verify(f->r, &rep), 1);
    assert_int_equal(rep.first_bad_id, 3);
}

/* ---- batches ----------------------------------------------------------------------------- */

static void test_a_refusal_in_a_batch_leaves_its_neighbours(void **state)
{
    tfix *f = *state;
    answer a[30];
    memset(a, 0, sizeof a);
    for (int i = 0; i < 30; i++) {
        json_t *b = i % 3 == 1 ? di_body("Forkert", 101, 1, 4) /* KRYDSVALIDERING */
                               : di_body("Rigtig", 101, 1, 1);
        store_command cmd = {
            .op = REG_OP_CREATE, .level = REG_DAGINSTITUTION, .body = b, .actor = actor_support()};
        assert_int_equal(store_submit(f->s, &cmd, answer_cb, &a[i]), 0);
        json_decref(b);
    }
    store_wait(f->s);
    store_stats st;
    store_get_stats(f->s, &st);
    assert_true(st.max_batch > 1); /* they went in batches */
    int accepted = 0;
    for (int i = 0; i < 30; i++) {
        assert_true(a[i].called);
        if (i % 3 == 1) {
            assert_int_equal(a[i].status, 422);
            assert_true(answer_has_error(&a[i], "KRYDSVALIDERING"));
            assert_int_equal(a[i].commit_id, 0);
        } else {
            assert_int_equal(a[i].status, 0);
            assert_true(a[i].commit_id > 0);
            accepted++;
        }
        answer_clear(&a[i]);
    }
    assert_int_equal(count_rows(f, "SELECT count(*) FROM record"), accepted);
    assert_int_equal(count_rows(f, "SELECT max(sekvensnummer) FROM haendelse"), accepted);
    assert_int_equal(count_rows(f, "SELECT highest FROM allocator"), accepted);
}

static void test_a_batch_that_cannot_commit_fails_whole(void **state)
{
    tfix *f = *state;
    char n[7];
    create_ok(f, REG_DAGINSTITUTION, di_body("Før", 101, 1, 1), n);
    /* reopen with a short busy timeout, and hold the write lock elsewhere */
    fix_close(f);
    char err[256];
    store_options opt = {.data_dir = f->dir,
                         .audit_key = f->key,
                         .clock = fix_clock,
                         .clock_udata = f,
                         .busy_timeout_ms = 50,
                         .log = fix_quiet_log};
    assert_int_equal(store_open(&opt, &f->s, err, sizeof err), 0);
    f->r = store_reader_open(f->s, err, sizeof err);
    sql_conn *other = fix_sql_open(f, false);
    assert_int_equal(sql_begin_write(other), SQL_OK);
    answer a = run_cmd(f, REG_OP_CREATE, REG_DAGINSTITUTION, NULL, di_body("Under lås", 101, 1, 1),
                       actor_support());
    assert_int_equal(a.status, 503);
    assert_true(answer_has_error(&a, "IKKE_KLAR"));
    answer_clear(&a);
    sql_exec(other, "ROLLBACK");
    sql_close(other);
    store_stats st;
    store_get_stats(f->s, &st);
    assert_int_equal(st.failed_commits, 1);
    /* not retried behind the caller's back; the next one goes through */
    assert_int_equal(count_rows(f, "SELECT count(*) FROM record"), 1);
    create_ok(f, REG_DAGINSTITUTION, di_body("Efter", 101, 1, 1), n);
    assert_string_equal(n, "G00002");
}

static void test_close_answers_everything_queued(void **state)
{
    tfix *f = *state;
    answer a[20];
    memset(a, 0, sizeof a);
    for (int i = 0; i < 20; i++) {
        json_t *b = di_body("Lukning", 101, 1, 1);
        store_command cmd = {
            .op = REG_OP_CREATE, .level = REG_DAGINSTITUTION, .body = b, .actor = actor_support()};
        assert_int_equal(store_submit(f->s, &cmd, answer_cb, &a[i]), 0);
        json_decref(b);
    }
    fix_close(f);
    for (int i = 0; i < 20; i++) {
        assert_true(a[i].called);
        assert_int_equal(a[i].status, 0);
        answer_clear(&a[i]);
    }
    fix_open(f);
    assert_int_equal(list_count(f, (store_query){.level = REG_DAGINSTITUTION}), 20);
}

static void test_dry_run_answers_but_keeps_nothing(void **state)
{
    tfix *f = *state;
    char n[7];
    create_ok(f, REG_DAGINSTITUTION, di_body("Findes", 101, 1, 1), n);
    fix_close(f);
    char err[256];
    store_options opt = {.data_dir = f->dir,
                         .audit_key = f->key,
                         .clock = fix_clock,
                         .clock_udata = f,
                         .dry_run = true,
                         .log = fix_quiet_log};
    assert_int_equal(store_open(&opt, &f->s, err, sizeof err), 0);
    f->r = store_reader_open(f->s, err, sizeof err);
    char di[7], ae[7];
    create_ok(f, REG_DAGINSTITUTION, di_body("Prøve", 101, 1, 1), di);
    assert_string_equal(di, "G00002");
    /* later batches see the earlier ones (the unit's parent exists) */
    create_ok(f, REG_ANVISNINGSENHED, ae_body(di, "Prøvestue", 6011, 101), ae);
    assert_string_equal(ae, "G00003");
    answer a = run_cmd(f, REG_OP_UPDATE, REG_DAGINSTITUTION, n, json_pack("{s:s}", "navn", "Ny"),
                       actor_support());
    assert_int_equal(a.status, 0);
    assert_int_equal(a.commit_id, 0); /* nothing was committed */
    answer_clear(&a);
    /* no reader sees any of it */
    assert_int_equal(list_count(f, (store_query){.level = REG_DAGINSTITUTION}), 1);
    fix_close(f);
    fix_open(f);
    assert_int_equal(list_count(f, (store_query){.level = REG_DAGINSTITUTION}), 1);
    assert_int_equal(list_count(f, (store_query){.level = REG_ANVISNINGSENHED}), 0);
    assert_int_equal(count_rows(f, "SELECT count(*) FROM haendelse"), 1);
    assert_int_equal(count_rows(f, "SELECT highest FROM allocator"), 1);
    audit_report rep;
    assert_int_equal(store_audit_verify(f->r, &rep), 0);
    assert_int_equal(rep.entries, 1);
}

static void test_no_record_answers_without_reading_back(void **state)
{
    tfix *f = *state;
    json_t *body = di_body("Uden svar", 101, 1, 1);
    store_command cmd = {.op = REG_OP_CREATE,
                         .level = REG_DAGINSTITUTION,
                         .body = body,
                         .actor = actor_support(),
                         .no_record = true};
    answer a = {0};
    assert_int_equal(store_submit_sync(f->s, &cmd, answer_cb, &a), 0);
    json_decref(body);
    assert_int_equal(a.status, 0);
    assert_string_equal(a.primary, "G00001");
    assert_null(a.record);
    assert_int_equal(a.n_changes, 1);
    assert_int_equal(a.changes[0].version, 1);
    answer_clear(&a);
    assert_int_equal(list_count(f, (store_query){.level = REG_DAGINSTITUTION}), 1);
}

static void test_commands_without_an_actor_are_refused(void **state)
{
    tfix *f = *state;
    store_command cmd = {.op = REG_OP_CREATE, .level = REG_DAGINSTITUTION};
    assert_int_equal(store_submit(f->s, &cmd, NULL, NULL), -1);
    cmd.actor = actor_support();
    cmd.idem_key = "k"; /* a key without a client */
    assert_int_equal(store_submit(f->s, &cmd, NULL, NULL), -1);
}

/* PostgreSQL: every connection of the store is cut (a server restart, a
 * failover): the next command and the next read begin on new connections,
 * and nothing written before is lost. SQLite has no connection to lose. */
static void test_lost_connections_come_back(void **state)
{
    tfix *f = *state;
    if (!f->pg_db[0]) skip();
    char before[7], after[7];
    create_ok(f, REG_DAGINSTITUTION, di_body("Før bruddet", 101, 1, 1), before);
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT count(pg_terminate_backend(pid, 10000)) FROM pg_stat_activity "
             "WHERE datname = '%s' AND pid <> pg_backend_pid()",
             f->pg_db);
    fix_pg_admin(sql);
    create_ok(f, REG_DAGINSTITUTION, di_body("Efter bruddet", 101, 1, 1), after);
    reg_level level;
    json_t *rec = NULL;
    assert_int_equal(store_get(f->r, before, NULL, 0, &level, &rec), 0);
    assert_string_equal(json_string_value(json_object_get(rec, "navn")), "Før bruddet");
    json_decref(rec);
    assert_int_equal(store_get(f->r, after, NULL, 0, &level, &rec), 0);
    json_decref(rec);
    assert_int_equal(count_rows(f, "SELECT count(*) FROM haendelse"), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
        T(test_fresh_database_has_current_schema),
        T(test_newer_schema_is_refused),
        cmocka_unit_test(test_unknown_driver_is_refused_and_makes_nothing),
        cmocka_unit_test(test_failed_migration_leaves_the_earlier_ones),
        cmocka_unit_test(test_ordinals_follow_the_series),
        T(test_numbers_are_issued_in_order),
        T(test_after_g99999_comes_h00001),
        T(test_after_z99999_creates_get_503),
        T(test_imported_numbers_move_the_allocator_but_a_numbers_do_not),
        T(test_deleted_numbers_stay_burnt),
        T(test_every_change_is_audited_and_tampering_is_named),
        T(test_a_refusal_in_a_batch_leaves_its_neighbours),
        T(test_a_batch_that_cannot_commit_fails_whole),
        T(test_close_answers_everything_queued),
        T(test_dry_run_answers_but_keeps_nothing),
        T(test_no_record_answers_without_reading_back),
        T(test_commands_without_an_actor_are_refused),
        T(test_lost_connections_come_back),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
