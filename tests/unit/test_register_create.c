/*
 * test_register_create.c -- REG_OP_CREATE decisions: nested creation of a
 * hierarchy, issued numbers, the parent rules (FORAELDER_FINDES_IKKE,
 * FORAELDER_NEDLAGT), exhausted series (IKKE_KLAR), import with kept numbers
 * (NUMMER_BRUGT, default virkningFra) and the status of created records.
 */
#include "test_register_fixture.h"

typedef struct ct {
    fx_state fx;
    reg_decision d;
} ct;

static int setup(void **state)
{
    ct *t = calloc(1, sizeof *t);
    fx_world(&t->fx);
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    ct *t = *state;
    reg_decision_clear(&t->d);
    fx_free(&t->fx);
    free(t);
    return 0;
}

static int create_opt(ct *t, reg_level level, json_t *body, const reg_actor *actor,
                      const fx_cmd *opt)
{
    reg_decision_clear(&t->d);
    return fx_decide_body(&t->fx, REG_OP_CREATE, level, NULL, body, actor, opt, &t->d);
}

static int create(ct *t, reg_level level, json_t *body)
{
    return create_opt(t, level, body, &FX_SUPPORT, NULL);
}

static const char *str(const json_t *rec, const char *key)
{
    return json_string_value(json_object_get(rec, key));
}

static void test_daginstitution_with_two_units_gives_three_changes(void **state)
{
    ct *t = *state;
    json_t *b = fx_dag_body();
    json_object_set_new(b, "anvisningsenheder",
                        json_pack("[o, o]", fx_unit_body(NULL), fx_unit_body(NULL)));
    assert_int_equal(create(t, REG_DAGINSTITUTION, b), 0);
    assert_int_equal(t->d.n_changes, 3);
    assert_string_equal(t->d.primary, "G00001");
    const char *want[] = {"G00001", "G00002", "G00003"};
    for (size_t i = 0; i < 3; i++) {
        const reg_change *ch = &t->d.changes[i];
        assert_string_equal(ch->operation, "oprettet");
        assert_string_equal(ch->nummer, want[i]);
        assert_string_equal(str(ch->after, "nummer"), want[i]);
        assert_int_equal(json_integer_value(json_object_get(ch->after, "version")), 1);
        assert_string_equal(str(ch->after, "opdateret"), FX_NOW);
        assert_string_equal(str(ch->after, "virkningFra"), FX_TODAY);
        assert_null(ch->before);
        assert_null(json_object_get(ch->after, "anvisningsenheder"));
    }
    assert_int_equal(t->d.changes[0].level, REG_DAGINSTITUTION);
    assert_int_equal(t->d.changes[1].level, REG_ANVISNINGSENHED);
    assert_string_equal(str(t->d.changes[1].after, "daginstitutionsNummer"), "G00001");
    assert_string_equal(str(t->d.changes[2].after, "daginstitutionsNummer"), "G00001");
    fx_apply(&t->fx, &t->d);
    assert_string_equal(reg_status(fx_rec(&t->fx, "G00002"), FX_TODAY), "aktiv");
}

static void test_nested_hierarchy_with_alternative_adresser(void **state)
{
    ct *t = *state;
    json_t *u = fx_unit_body(NULL);
    json_object_set_new(u, "alternativeAdresser", json_pack("[o]", fx_alt_body(NULL)));
    json_t *b = fx_dag_body();
    json_object_set_new(b, "virkningFra", json_string("2026-08-01"));
    json_object_set_new(b, "anvisningsenheder", json_pack("[o]", u));
    assert_int_equal(create(t, REG_DAGINSTITUTION, b), 0);
    assert_int_equal(t->d.n_changes, 3);
    assert_int_equal(t->d.changes[2].level, REG_ALTERNATIV_ADRESSE);
    assert_string_equal(str(t->d.changes[2].after, "anvisningsenhedsNummer"), "G00002");
    /* Nested records start with their parent. */
    assert_string_equal(str(t->d.changes[1].after, "virkningFra"), "2026-08-01");
    assert_string_equal(str(t->d.changes[2].after, "virkningFra"), "2026-08-01");
    assert_string_equal(reg_status(t->d.changes[0].after, FX_TODAY), "kommende");
}

static void test_create_unit_and_alternativ_adresse(void **state)
{
    ct *t = *state;
    assert_int_equal(create(t, REG_ANVISNINGSENHED, fx_unit_body("G40002")), 0);
    assert_int_equal(t->d.n_changes, 1);
    assert_string_equal(t->d.primary, "G00001");
    fx_apply(&t->fx, &t->d);
    assert_int_equal(create(t, REG_ALTERNATIV_ADRESSE, fx_alt_body("G00001")), 0);
    assert_string_equal(str(t->d.changes[0].after, "anvisningsenhedsNummer"), "G00001");
    assert_string_equal(t->d.changes[0].nummer, "G00002");
    /* Into a kommende daginstitution (it starts before the unit would). */
    assert_int_equal(create(t, REG_ANVISNINGSENHED, fx_unit_body("G40008")), 0);
}

static void test_parent_must_exist(void **state)
{
    ct *t = *state;
    create(t, REG_ANVISNINGSENHED, fx_unit_body("G49999"));
    assert_refused(&t->d, 422, "FORAELDER_FINDES_IKKE", "daginstitutionsNummer");
    create(t, REG_ANVISNINGSENHED, fx_unit_body("G40009")); /* deleted */
    assert_refused(&t->d, 422, "FORAELDER_FINDES_IKKE", "daginstitutionsNummer");
    create(t, REG_ANVISNINGSENHED, fx_unit_body("G23152")); /* a unit, not a dag */
    assert_refused(&t->d, 422, "FORAELDER_FINDES_IKKE", "daginstitutionsNummer");
    create(t, REG_ALTERNATIV_ADRESSE, fx_alt_body("G40001")); /* a dag, not a unit */
    assert_refused(&t->d, 422, "FORAELDER_FINDES_IKKE", "anvisningsenhedsNummer");
    create(t, REG_ALTERNATIV_ADRESSE, fx_alt_body("G50001"));
    assert_refused(&t->d, 422, "FORAELDER_FINDES_IKKE", "anvisningsenhedsNummer");
}

static void test_parent_closed(void **state)
{
    ct *t = *state;
    create(t, REG_ANVISNINGSENHED, fx_unit_body("G40004"));
    assert_refused(&t->d, 409, "FORAELDER_NEDLAGT", "daginstitutionsNummer");
    create(t, REG_ALTERNATIV_ADRESSE, fx_alt_body("G23170"));
    assert_refused(&t->d, 409, "FORAELDER_NEDLAGT", "anvisningsenhedsNummer");
    /* A parent closing on 2026-12-31: an open child would outlive it. */
    create(t, REG_ANVISNINGSENHED, fx_unit_body("G40005"));
    assert_refused(&t->d, 409, "FORAELDER_NEDLAGT", "daginstitutionsNummer");
    json_t *b = fx_unit_body("G40005");
    json_object_set_new(b, "virkningTil", json_string("2027-01-01"));
    create(t, REG_ANVISNINGSENHED, b);
    assert_refused(&t->d, 409, "FORAELDER_NEDLAGT", "daginstitutionsNummer");
    b = fx_unit_body("G40005");
    json_object_set_new(b, "virkningTil", json_string("2026-12-31"));
    assert_int_equal(create(t, REG_ANVISNINGSENHED, b), 0);
    /* Nested: a child must not outlive the daginstitution created with it. */
    b = fx_dag_body();
    json_object_set_new(b, "virkningTil", json_string("2027-01-01"));
    json_object_set_new(b, "anvisningsenheder", json_pack("[o]", fx_unit_body(NULL)));
    create(t, REG_DAGINSTITUTION, b);
    assert_refused(&t->d, 409, "FORAELDER_NEDLAGT", "anvisningsenheder[0]");
}

static void test_numbers_exhausted(void **state)
{
    ct *t = *state;
    t->fx.exhausted = true;
    create(t, REG_DAGINSTITUTION, fx_dag_body());
    assert_refused(&t->d, 503, "IKKE_KLAR", "");
    /* No change survives a refusal half way through a nested create. */
    t->fx.exhausted = false;
    t->fx.last = 1;
    json_t *b = fx_dag_body();
    json_object_set_new(b, "anvisningsenheder", json_pack("[o]", fx_unit_body(NULL)));
    create(t, REG_DAGINSTITUTION, b);
    assert_refused(&t->d, 503, "IKKE_KLAR", "");
    assert_null(t->d.changes);
    t->fx.last = 0;
    b = fx_dag_body();
    json_object_set_new(b, "anvisningsenheder", json_pack("[o]", fx_unit_body(NULL)));
    assert_int_equal(create(t, REG_DAGINSTITUTION, b), 0);
    assert_int_equal(t->d.n_changes, 2);
}

static void test_import_keeps_numbers(void **state)
{
    ct *t = *state;
    fx_cmd import = {.keep_numbers = true, .if_match = -1};
    json_t *b = fx_dag_body();
    json_object_set_new(b, "nummer", json_string("A12345"));
    json_t *u = fx_unit_body(NULL);
    json_object_set_new(u, "nummer", json_string("G23999"));
    json_object_set_new(b, "anvisningsenheder", json_pack("[o, o]", u, fx_unit_body(NULL)));
    assert_int_equal(create_opt(t, REG_DAGINSTITUTION, b, &FX_SYSTEM, &import), 0);
    assert_int_equal(t->d.n_changes, 3);
    assert_string_equal(t->d.changes[0].nummer, "A12345");
    assert_string_equal(t->d.primary, "A12345");
    assert_string_equal(t->d.changes[1].nummer, "G23999");
    assert_string_equal(t->d.changes[2].nummer, "G00001"); /* none given: issued */
    assert_string_equal(str(t->d.changes[1].after, "daginstitutionsNummer"), "A12345");
    assert_string_equal(str(t->d.changes[0].after, "virkningFra"), "2019-08-30");
    assert_string_equal(str(t->d.changes[1].after, "virkningFra"), "2019-08-30");
    /* A nedlagt row: virkningTil the day of the import. */
    b = fx_dag_body();
    json_object_set_new(b, "nummer", json_string("G41000"));
    json_object_set_new(b, "virkningTil", json_string(FX_TODAY));
    assert_int_equal(create_opt(t, REG_DAGINSTITUTION, b, &FX_SYSTEM, &import), 0);
    fx_apply(&t->fx, &t->d);
    assert_string_equal(reg_status(fx_rec(&t->fx, "G41000"), FX_TODAY), "nedlagt");
    /* ...and its nedlagt unit under it. */
    b = fx_unit_body("G41000");
    json_object_set_new(b, "nummer", json_string("G41001"));
    json_object_set_new(b, "virkningTil", json_string(FX_TODAY));
    assert_int_equal(create_opt(t, REG_ANVISNINGSENHED, b, &FX_SYSTEM, &import), 0);
}

static void test_import_refuses_used_numbers(void **state)
{
    ct *t = *state;
    fx_cmd import = {.keep_numbers = true, .if_match = -1};
    json_t *b = fx_dag_body();
    json_object_set_new(b, "nummer", json_string("G40009")); /* deleted: burnt */
    create_opt(t, REG_DAGINSTITUTION, b, &FX_SYSTEM, &import);
    assert_refused(&t->d, 409, "NUMMER_BRUGT", "nummer");
    b = fx_dag_body();
    json_object_set_new(b, "nummer", json_string("G23152")); /* in use */
    create_opt(t, REG_DAGINSTITUTION, b, &FX_SYSTEM, &import);
    assert_refused(&t->d, 409, "NUMMER_BRUGT", "nummer");
    b = fx_dag_body();
    json_object_set_new(b, "nummer", json_string("G41000"));
    json_t *u = fx_unit_body(NULL);
    json_object_set_new(u, "nummer", json_string("G41000"));
    json_object_set_new(b, "anvisningsenheder", json_pack("[o]", u));
    create_opt(t, REG_DAGINSTITUTION, b, &FX_SYSTEM, &import);
    assert_refused(&t->d, 409, "NUMMER_BRUGT", "anvisningsenheder[0].nummer");
    b = fx_dag_body();
    json_object_set_new(b, "nummer", json_string("G4100"));
    create_opt(t, REG_DAGINSTITUTION, b, &FX_SYSTEM, &import);
    assert_refused(&t->d, 422, "UGYLDIGT_FORMAT", "nummer");
}

static void test_import_burnt_number_through_is_burnt(void **state)
{
    ct *t = *state;
    /* A number burnt without a record (the store's allocator knows it). */
    fx_dag(&t->fx, "G42000", 1, 1, 101, "2019-08-30", NULL);
    fx_delete(&t->fx, "G42000");
    t->fx.st.get = NULL; /* only is_burnt can tell */
    fx_cmd import = {.keep_numbers = true, .if_match = -1};
    json_t *b = fx_dag_body();
    json_object_set_new(b, "nummer", json_string("G42000"));
    create_opt(t, REG_DAGINSTITUTION, b, &FX_SYSTEM, &import);
    assert_refused(&t->d, 409, "NUMMER_BRUGT", "nummer");
}

static void test_create_with_future_and_past_start(void **state)
{
    ct *t = *state;
    json_t *b = fx_dag_body();
    json_object_set_new(b, "virkningFra", json_string("2026-07-01"));
    assert_int_equal(create(t, REG_DAGINSTITUTION, b), 0);
    json_t *rec = json_incref(t->d.changes[0].after);
    assert_string_equal(reg_status(rec, FX_TODAY), "kommende");
    /* When the day arrives, the register makes an aendret change. */
    reg_change ch;
    assert_true(reg_timed_change(rec, REG_DAGINSTITUTION, "2026-06-30", "2026-07-01",
                                 "2026-06-30T22:00:10Z", &ch));
    assert_string_equal(ch.operation, "aendret");
    assert_string_equal(reg_status(ch.after, "2026-07-01"), "aktiv");
    reg_change_clear(&ch);
    json_decref(rec);
    b = fx_dag_body();
    json_object_set_new(b, "virkningFra", json_string("2020-01-01"));
    assert_int_equal(create(t, REG_DAGINSTITUTION, b), 0);
    assert_string_equal(reg_status(t->d.changes[0].after, FX_TODAY), "aktiv");
    assert_false(
        reg_timed_change(t->d.changes[0].after, REG_DAGINSTITUTION, NULL, FX_TODAY, FX_NOW, &ch));
}

static void test_nested_type_errors(void **state)
{
    ct *t = *state;
    json_t *b = fx_dag_body();
    json_object_set_new(b, "anvisningsenheder", json_string("x"));
    create(t, REG_DAGINSTITUTION, b);
    assert_refused(&t->d, 422, "FORKERT_TYPE", "anvisningsenheder");
    b = fx_dag_body();
    json_object_set_new(b, "anvisningsenheder", json_pack("[i]", 1));
    create(t, REG_DAGINSTITUTION, b);
    assert_refused(&t->d, 422, "FORKERT_TYPE", "anvisningsenheder[0]");
    /* An alternativ adresse nests nothing. */
    json_t *a = fx_alt_body("G23152");
    json_object_set_new(a, "alternativeAdresser", json_array());
    create(t, REG_ALTERNATIV_ADRESSE, a);
    assert_refused(&t->d, 422, "UKENDT_FELT", "alternativeAdresser");
    /* An empty list creates the daginstitution alone. */
    b = fx_dag_body();
    json_object_set_new(b, "anvisningsenheder", json_array());
    assert_int_equal(create(t, REG_DAGINSTITUTION, b), 0);
    assert_int_equal(t->d.n_changes, 1);
}

static void test_command_without_today(void **state)
{
    ct *t = *state;
    reg_command cmd = {.op = REG_OP_CREATE,
                       .level = REG_DAGINSTITUTION,
                       .if_match = -1,
                       .today = "2026-6-1",
                       .now = FX_NOW};
    json_t *b = fx_dag_body();
    cmd.body = b;
    reg_decision_clear(&t->d);
    reg_decide(&cmd, &t->fx.st, &FX_SUPPORT, &t->d);
    assert_int_equal(t->d.status, 400);
    json_decref(b);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_daginstitution_with_two_units_gives_three_changes),
        T(test_nested_hierarchy_with_alternative_adresser),
        T(test_create_unit_and_alternativ_adresse),
        T(test_parent_must_exist),
        T(test_parent_closed),
        T(test_numbers_exhausted),
        T(test_import_keeps_numbers),
        T(test_import_refuses_used_numbers),
        T(test_import_burnt_number_through_is_burnt),
        T(test_create_with_future_and_past_start),
        T(test_nested_type_errors),
        T(test_command_without_today),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
