/*
 * test_register_update.c -- REG_OP_UPDATE decisions: the target (404
 * FINDES_IKKE, 410 SLETTET), RFC 7396 merge patches (null, nested adresse),
 * read-only fields, a daginstitution patch carrying its children's patches,
 * If-Match (412), a closed record (409 NEDLAGT), versions and changes, and
 * the order in which the checks answer.
 */
#include "test_register_fixture.h"

typedef struct ut {
    fx_state fx;
    reg_decision d;
} ut;

static int setup(void **state)
{
    ut *t = calloc(1, sizeof *t);
    fx_world(&t->fx);
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    ut *t = *state;
    reg_decision_clear(&t->d);
    fx_free(&t->fx);
    free(t);
    return 0;
}

static int patch_opt(ut *t, reg_level level, const char *nummer, const char *body,
                     const reg_actor *actor, const fx_cmd *opt)
{
    reg_decision_clear(&t->d);
    return fx_decide_opt(&t->fx, REG_OP_UPDATE, level, nummer, body, actor, opt, &t->d);
}

static int patch(ut *t, reg_level level, const char *nummer, const char *body)
{
    return patch_opt(t, level, nummer, body, &FX_SUPPORT, NULL);
}

static const char *str(const json_t *rec, const char *key)
{
    return json_string_value(json_object_get(rec, key));
}

static void test_target_must_exist(void **state)
{
    ut *t = *state;
    patch(t, REG_DAGINSTITUTION, "G49999", "{\"navn\": \"x\"}");
    assert_refused(&t->d, 404, "FINDES_IKKE", "");
    patch(t, REG_DAGINSTITUTION, "G23152", "{\"navn\": \"x\"}"); /* a unit */
    assert_refused(&t->d, 404, "FINDES_IKKE", "");
    patch(t, REG_ANVISNINGSENHED, "G50001", "{\"navn\": \"x\"}"); /* an alt. adresse */
    assert_refused(&t->d, 404, "FINDES_IKKE", "");
    patch(t, REG_DAGINSTITUTION, "not-a-number", "{\"navn\": \"x\"}");
    assert_refused(&t->d, 404, "FINDES_IKKE", "");
    patch(t, REG_DAGINSTITUTION, NULL, "{\"navn\": \"x\"}");
    assert_refused(&t->d, 404, "FINDES_IKKE", "");
    patch(t, REG_DAGINSTITUTION, "G40009", "{\"navn\": \"x\"}");
    assert_refused(&t->d, 410, "SLETTET", "");
    /* 404 before the fields are looked at. */
    patch(t, REG_DAGINSTITUTION, "G49999", "{\"navn\": 1, \"x\": 2}");
    assert_refused(&t->d, 404, "FINDES_IKKE", "");
    assert_int_equal(t->d.n_errors, 1);
}

static void test_merge_patch(void **state)
{
    ut *t = *state;
    assert_int_equal(patch(t, REG_ANVISNINGSENHED, "G23152",
                           "{\"navn\": \"Ny Kastanje\", \"email\": \"a@b.dk\", "
                           "\"adresse\": {\"postNummer\": \"1363\", \"geoBredde\": null, "
                           "\"geoLaengde\": null}}"),
                     0);
    assert_int_equal(t->d.n_changes, 1);
    const reg_change *ch = &t->d.changes[0];
    assert_string_equal(ch->operation, "aendret");
    assert_string_equal(t->d.primary, "G23152");
    assert_int_equal(json_integer_value(json_object_get(ch->before, "version")), 1);
    assert_int_equal(json_integer_value(json_object_get(ch->after, "version")), 2);
    assert_string_equal(str(ch->after, "opdateret"), FX_NOW);
    assert_string_equal(str(ch->after, "navn"), "Ny Kastanje");
    assert_string_equal(str(ch->after, "email"), "a@b.dk");
    assert_string_equal(str(ch->after, "cvrNummer"), "74467334"); /* untouched */
    assert_string_equal(str(ch->after, "daginstitutionsNummer"), "G40001");
    assert_string_equal(str(ch->after, "virkningFra"), "2019-08-30");
    json_t *a = json_object_get(ch->after, "adresse");
    assert_string_equal(str(a, "postNummer"), "1363");
    assert_string_equal(str(a, "vejNavn"), "Rømersgade");
    assert_true(json_is_null(json_object_get(a, "geoBredde")));
    fx_apply(&t->fx, &t->d);
    /* null removes an optional field. */
    assert_int_equal(patch(t, REG_ANVISNINGSENHED, "G23152", "{\"cvrNummer\": null}"), 0);
    assert_true(json_is_null(json_object_get(t->d.changes[0].after, "cvrNummer")));
    assert_int_equal(json_integer_value(json_object_get(t->d.changes[0].after, "version")), 3);
}

static void test_patch_without_change_changes_nothing(void **state)
{
    ut *t = *state;
    assert_int_equal(patch(t, REG_ANVISNINGSENHED, "G23152", "{\"navn\": \"Enhed\"}"), 0);
    assert_int_equal(t->d.n_changes, 0);
    assert_string_equal(t->d.primary, "G23152");
    assert_int_equal(patch(t, REG_DAGINSTITUTION, "G40001", "{}"), 0);
    assert_int_equal(t->d.n_changes, 0);
}

static void test_stored_shape_variations_are_no_change(void **state)
{
    ut *t = *state;
    /* A store that leaves null members out and keeps whole coordinates as
     * integers: a PATCH repeating the values changes nothing. */
    json_t *a = json_object_get(fx_rec(&t->fx, "G23152"), "adresse");
    json_object_del(a, "etage");
    json_object_del(a, "dawaId");
    json_object_set_new(a, "geoBredde", json_integer(56));
    json_object_set_new(a, "geoLaengde", json_integer(10));
    assert_int_equal(patch(t, REG_ANVISNINGSENHED, "G23152",
                           "{\"navn\": \"Enhed\", \"adresse\": {\"geoBredde\": 56.0}}"),
                     0);
    assert_int_equal(t->d.n_changes, 0);
    assert_int_equal(patch(t, REG_ANVISNINGSENHED, "G23152", "{\"adresse\": {\"etage\": \"st\"}}"),
                     0);
    assert_int_equal(t->d.n_changes, 1);
    a = json_object_get(t->d.changes[0].after, "adresse");
    assert_int_equal(json_object_size(a), 11);
    assert_string_equal(str(a, "etage"), "st");
}

static void test_null_on_required_fields(void **state)
{
    ut *t = *state;
    patch(t, REG_DAGINSTITUTION, "G40001", "{\"navn\": null}");
    assert_refused(&t->d, 422, "MANGLER_FELT", "navn");
    patch(t, REG_ANVISNINGSENHED, "G23152", "{\"adresse\": null}");
    assert_refused(&t->d, 422, "MANGLER_FELT", "adresse");
    patch(t, REG_ANVISNINGSENHED, "G23152", "{\"adresse\": {\"vejNavn\": null}}");
    assert_refused(&t->d, 422, "MANGLER_FELT", "adresse.vejNavn");
    patch(t, REG_ANVISNINGSENHED, "G23152", "{\"instType3\": null}");
    assert_refused(&t->d, 422, "MANGLER_FELT", "instType3");
    patch(t, REG_ANVISNINGSENHED, "G23152", "{\"adresse\": 5}");
    assert_refused(&t->d, 422, "FORKERT_TYPE", "adresse");
    patch(t, REG_ANVISNINGSENHED, "G23152", "[1]");
    assert_refused(&t->d, 422, "FORKERT_TYPE", "");
    patch(t, REG_ANVISNINGSENHED, "G23152", "{\"adresse\": {\"by\": \"x\"}}");
    assert_refused(&t->d, 422, "UKENDT_FELT", "adresse.by");
}

static void test_read_only_in_patch(void **state)
{
    ut *t = *state;
    const char *fields[] = {"nummer",
                            "status",
                            "version",
                            "opdateret",
                            "virkningFra",
                            "virkningTil",
                            "daginstitutionsNummer"};
    for (size_t i = 0; i < 7; i++) {
        char body[128];
        snprintf(body, sizeof body, "{\"%s\": \"2027-01-01\"}", fields[i]);
        patch(t, REG_ANVISNINGSENHED, "G23152", body);
        assert_refused(&t->d, 422, "SKRIVEBESKYTTET", fields[i]);
    }
    patch(t, REG_ALTERNATIV_ADRESSE, "G50001", "{\"anvisningsenhedsNummer\": \"G23153\"}");
    assert_refused(&t->d, 422, "SKRIVEBESKYTTET", "anvisningsenhedsNummer");
    patch(t, REG_ANVISNINGSENHED, "G23152", "{\"alternativeAdresser\": []}");
    assert_refused(&t->d, 422, "UKENDT_FELT", "alternativeAdresser");
    patch(t, REG_DAGINSTITUTION, "G40001", "{\"daginstitutionsNummer\": \"G40002\"}");
    assert_refused(&t->d, 422, "UKENDT_FELT", "daginstitutionsNummer");
    /* Several at once. */
    patch(t, REG_DAGINSTITUTION, "G40001", "{\"nummer\": \"G1\", \"version\": 9, \"navn\": 1}");
    assert_int_equal(t->d.n_errors, 3);
}

static void test_import_update_lets_equal_values_through(void **state)
{
    ut *t = *state;
    fx_cmd import = {.keep_numbers = true, .if_match = -1};
    const char *row = "{\"nummer\": \"G23152\", \"daginstitutionsNummer\": \"G40001\", "
                      "\"virkningFra\": \"2019-08-30\", \"navn\": \"Enhed\"}";
    assert_int_equal(patch_opt(t, REG_ANVISNINGSENHED, "G23152", row, &FX_SYSTEM, &import), 0);
    assert_int_equal(t->d.n_changes, 0);
    row = "{\"nummer\": \"G23152\", \"daginstitutionsNummer\": \"G40002\"}";
    patch_opt(t, REG_ANVISNINGSENHED, "G23152", row, &FX_SYSTEM, &import);
    assert_refused(&t->d, 422, "SKRIVEBESKYTTET", "daginstitutionsNummer");
}

static void test_nested_patch_changes_children_together(void **state)
{
    ut *t = *state;
    /* Kommunal daginstitution turns into dagpleje: lovgrundlag 5 needs
     * instType3 6013 on every active child, changed in the same PATCH. */
    const char *body = "{\"lovgrundlagKode\": 5, \"anvisningsenheder\": ["
                       "{\"nummer\": \"G23152\", \"instType3\": 6013},"
                       "{\"nummer\": \"G23153\", \"instType3\": 6013, \"navn\": \"Dagplejen\"}]}";
    assert_int_equal(patch(t, REG_DAGINSTITUTION, "G40001", body), 0);
    assert_int_equal(t->d.n_changes, 3);
    assert_string_equal(t->d.changes[0].nummer, "G40001");
    assert_string_equal(t->d.primary, "G40001");
    assert_string_equal(t->d.changes[1].nummer, "G23152");
    assert_string_equal(t->d.changes[2].nummer, "G23153");
    for (size_t i = 0; i < 3; i++) {
        assert_string_equal(t->d.changes[i].operation, "aendret");
        assert_int_equal(json_integer_value(json_object_get(t->d.changes[i].after, "version")), 2);
    }
    assert_int_equal(json_integer_value(json_object_get(t->d.changes[2].after, "instType3")), 6013);
    assert_string_equal(str(t->d.changes[2].after, "navn"), "Dagplejen");
    assert_null(json_object_get(t->d.changes[0].after, "anvisningsenheder"));
    fx_apply(&t->fx, &t->d);
    /* A child named without a real change gives no change of its own. */
    assert_int_equal(patch(t, REG_DAGINSTITUTION, "G40001",
                           "{\"navn\": \"Ny\", \"anvisningsenheder\": [{\"nummer\": \"G23152\"}]}"),
                     0);
    assert_int_equal(t->d.n_changes, 1);
    /* Only a child changes: the daginstitution's own version stays. */
    assert_int_equal(
        patch(t, REG_DAGINSTITUTION, "G40001",
              "{\"anvisningsenheder\": [{\"nummer\": \"G23152\", \"navn\": \"Dagpleje Nord\"}]}"),
        0);
    assert_int_equal(t->d.n_changes, 1);
    assert_string_equal(t->d.changes[0].nummer, "G23152");
    assert_string_equal(t->d.primary, "G40001");
}

static void test_nested_patch_cross_validation(void **state)
{
    ut *t = *state;
    patch(t, REG_DAGINSTITUTION, "G40001", "{\"lovgrundlagKode\": 5}");
    assert_refused(&t->d, 422, "KRYDSVALIDERING", "lovgrundlagKode");
    assert_int_equal(t->d.n_errors, 2); /* one per child */
    patch(t, REG_DAGINSTITUTION, "G40001",
          "{\"lovgrundlagKode\": 5, \"anvisningsenheder\": [{\"nummer\": \"G23153\", "
          "\"instType3\": 6013}]}");
    assert_refused(&t->d, 422, "KRYDSVALIDERING", "lovgrundlagKode");
    assert_int_equal(t->d.n_errors, 1);
    assert_non_null(strstr(t->d.errors[0].tekst, "G23152"));
    patch(t, REG_DAGINSTITUTION, "G40001",
          "{\"anvisningsenheder\": [{\"nummer\": \"G23153\", \"instType3\": 6013}]}");
    assert_refused(&t->d, 422, "KRYDSVALIDERING", "anvisningsenheder[0].instType3");
    /* A closed child is outside the rule: G40004's unit closed 2025-12-01. */
    assert_int_equal(patch(t, REG_ANVISNINGSENHED, "G23170", "{\"navn\": \"x\"}"), 409);
    fx_dag(&t->fx, "G40020", 1, 1, 101, "2019-08-30", NULL);
    fx_unit(&t->fx, "G23200", "G40020", 6011, "2019-08-30", "2026-01-01");
    fx_unit(&t->fx, "G23201", "G40020", 6020, "2019-08-30", NULL);
    fx_unit(&t->fx, "G23202", "G40020", 6020, "2026-08-01", NULL); /* kommende counts */
    assert_int_equal(patch(t, REG_DAGINSTITUTION, "G40020", "{\"lovgrundlagKode\": 6}"), 0);
    patch(t, REG_DAGINSTITUTION, "G40020", "{\"lovgrundlagKode\": 7}");
    assert_refused(&t->d, 422, "KRYDSVALIDERING", "lovgrundlagKode");
    assert_int_equal(t->d.n_errors, 2);
}

static void test_nested_patch_children_must_belong(void **state)
{
    ut *t = *state;
    patch(t, REG_DAGINSTITUTION, "G40001",
          "{\"anvisningsenheder\": [{\"nummer\": \"G23152\"}, {\"nummer\": \"G23160\"}]}");
    assert_refused(&t->d, 422, "FORAELDER_FINDES_IKKE", "anvisningsenheder[1].nummer");
    patch(t, REG_DAGINSTITUTION, "G40001", "{\"anvisningsenheder\": [{\"nummer\": \"G29999\"}]}");
    assert_refused(&t->d, 422, "FORAELDER_FINDES_IKKE", "anvisningsenheder[0].nummer");
    patch(t, REG_DAGINSTITUTION, "G40001", "{\"anvisningsenheder\": [{\"nummer\": \"G50001\"}]}");
    assert_refused(&t->d, 422, "FORAELDER_FINDES_IKKE", "anvisningsenheder[0].nummer");
    patch(t, REG_DAGINSTITUTION, "G40001", "{\"anvisningsenheder\": [{\"navn\": \"x\"}]}");
    assert_refused(&t->d, 422, "MANGLER_FELT", "anvisningsenheder[0].nummer");
    patch(t, REG_DAGINSTITUTION, "G40001",
          "{\"anvisningsenheder\": [{\"nummer\": \"G23152\"}, {\"nummer\": \"G23152\"}]}");
    assert_refused(&t->d, 422, "UGYLDIGT_FORMAT", "anvisningsenheder[1].nummer");
    patch(t, REG_DAGINSTITUTION, "G40001", "{\"anvisningsenheder\": {}}");
    assert_refused(&t->d, 422, "FORKERT_TYPE", "anvisningsenheder");
    patch(t, REG_DAGINSTITUTION, "G40001", "{\"anvisningsenheder\": [7]}");
    assert_refused(&t->d, 422, "FORKERT_TYPE", "anvisningsenheder[0]");
    /* Fields of a child, with their paths; all at once. */
    patch(t, REG_DAGINSTITUTION, "G40001",
          "{\"navn\": \"\", \"anvisningsenheder\": [{\"nummer\": \"G23152\", "
          "\"daginstitutionsNummer\": \"G40002\"}, {\"nummer\": \"G23153\", \"navn\": 3, "
          "\"adresse\": {\"postNummer\": \"1\"}, \"alternativeAdresser\": []}]}");
    assert_int_equal(t->d.status, 422);
    assert_true(fx_has(&t->d, "MANGLER_FELT", "navn"));
    assert_true(fx_has(&t->d, "SKRIVEBESKYTTET", "anvisningsenheder[0].daginstitutionsNummer"));
    assert_true(fx_has(&t->d, "FORKERT_TYPE", "anvisningsenheder[1].navn"));
    assert_true(fx_has(&t->d, "UGYLDIG_POSTNUMMER", "anvisningsenheder[1].adresse.postNummer"));
    assert_true(fx_has(&t->d, "UKENDT_FELT", "anvisningsenheder[1].alternativeAdresser"));
    assert_int_equal(t->d.n_errors, 5);
    /* A child's patch is an anvisningsenhed's only. */
    patch(t, REG_ANVISNINGSENHED, "G23152", "{\"anvisningsenheder\": []}");
    assert_refused(&t->d, 422, "UKENDT_FELT", "anvisningsenheder");
}

static void test_nested_patch_closed_child(void **state)
{
    ut *t = *state;
    fx_unit(&t->fx, "G23154", "G40001", 6011, "2019-08-30", "2026-01-01");
    patch(t, REG_DAGINSTITUTION, "G40001",
          "{\"anvisningsenheder\": [{\"nummer\": \"G23154\", \"navn\": \"x\"}]}");
    assert_refused(&t->d, 409, "NEDLAGT", "anvisningsenheder[0]");
}

static void test_if_match(void **state)
{
    ut *t = *state;
    fx_cmd opt = {.if_match = 1};
    assert_int_equal(
        patch_opt(t, REG_DAGINSTITUTION, "G40001", "{\"navn\": \"A\"}", &FX_SUPPORT, &opt), 0);
    fx_apply(&t->fx, &t->d);
    patch_opt(t, REG_DAGINSTITUTION, "G40001", "{\"navn\": \"B\"}", &FX_SUPPORT, &opt);
    assert_refused(&t->d, 412, "VERSIONSKONFLIKT", "");
    opt.if_match = 2;
    assert_int_equal(
        patch_opt(t, REG_DAGINSTITUTION, "G40001", "{\"navn\": \"B\"}", &FX_SUPPORT, &opt), 0);
}

static void test_closed_record_cannot_change(void **state)
{
    ut *t = *state;
    patch(t, REG_DAGINSTITUTION, "G40004", "{\"navn\": \"x\"}");
    assert_refused(&t->d, 409, "NEDLAGT", "");
    patch(t, REG_ANVISNINGSENHED, "G23170", "{\"navn\": \"x\"}");
    assert_refused(&t->d, 409, "NEDLAGT", "");
    /* Closing in the future is not closed yet. */
    assert_int_equal(patch(t, REG_DAGINSTITUTION, "G40005", "{\"navn\": \"x\"}"), 0);
    /* On the day of the close it is. */
    fx_cmd later = {.today = "2026-12-31", .if_match = -1};
    patch_opt(t, REG_DAGINSTITUTION, "G40005", "{\"navn\": \"y\"}", &FX_SUPPORT, &later);
    assert_refused(&t->d, 409, "NEDLAGT", "");
}

static void test_unit_cross_validation_on_update(void **state)
{
    ut *t = *state;
    patch(t, REG_ANVISNINGSENHED, "G23152", "{\"instType3\": 6013}");
    assert_refused(&t->d, 422, "KRYDSVALIDERING", "instType3");
    assert_int_equal(patch(t, REG_ANVISNINGSENHED, "G23152", "{\"instType3\": 6010}"), 0);
    patch(t, REG_DAGINSTITUTION, "G40001", "{\"ejerformKode\": 4}");
    assert_refused(&t->d, 422, "KRYDSVALIDERING", "lovgrundlagKode");
}

/* API.md's order: target (404/410), fields (422), referenced parent (422),
 * authorization (403), If-Match (412), cross-validation (422), 409 rules. */
static void test_check_order(void **state)
{
    ut *t = *state;
    fx_cmd stale = {.if_match = 7};
    /* fields before authorization and If-Match */
    patch_opt(t, REG_DAGINSTITUTION, "G40003", "{\"navn\": 1}", &FX_K101, &stale);
    assert_refused(&t->d, 422, "FORKERT_TYPE", "navn");
    assert_int_equal(t->d.n_errors, 1);
    /* referenced records before authorization */
    patch_opt(t, REG_DAGINSTITUTION, "G40003",
              "{\"anvisningsenheder\": [{\"nummer\": \"G23152\"}]}", &FX_K101, &stale);
    assert_refused(&t->d, 422, "FORAELDER_FINDES_IKKE", "anvisningsenheder[0].nummer");
    /* authorization before If-Match */
    patch_opt(t, REG_DAGINSTITUTION, "G40003", "{\"navn\": \"x\"}", &FX_K101, &stale);
    assert_refused(&t->d, 403, "IKKE_TILLADT", "");
    /* If-Match before cross-validation */
    patch_opt(t, REG_DAGINSTITUTION, "G40001", "{\"lovgrundlagKode\": 5}", &FX_K101, &stale);
    assert_refused(&t->d, 412, "VERSIONSKONFLIKT", "");
    /* cross-validation before the 409 rules */
    patch(t, REG_DAGINSTITUTION, "G40004", "{\"ejerformKode\": 4}");
    assert_refused(&t->d, 422, "KRYDSVALIDERING", "lovgrundlagKode");
    patch(t, REG_DAGINSTITUTION, "G40004", "{\"lovgrundlagKode\": 8}");
    assert_refused(&t->d, 409, "NEDLAGT", "");
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_target_must_exist),
        T(test_merge_patch),
        T(test_patch_without_change_changes_nothing),
        T(test_stored_shape_variations_are_no_change),
        T(test_null_on_required_fields),
        T(test_read_only_in_patch),
        T(test_import_update_lets_equal_values_through),
        T(test_nested_patch_changes_children_together),
        T(test_nested_patch_cross_validation),
        T(test_nested_patch_children_must_belong),
        T(test_nested_patch_closed_child),
        T(test_if_match),
        T(test_closed_record_cannot_change),
        T(test_unit_cross_validation_on_update),
        T(test_check_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
