/*
 * test_register_cross.c -- the cross-validation matrices of DOMAIN.md, pair
 * by pair: ejerform x lovgrundlag on create and update of a daginstitution,
 * lovgrundlag x instType3 on create and update of an anvisningsenhed and in a
 * nested create. The expected matrices are written out here on their own.
 */
#include "test_register_fixture.h"

static const int ejerformer[] = {1, 2, 3, 4};
static const int lovgrundlag[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
static const int typer[] = {6010, 6011, 6012, 6013, 6014, 6020, 6021, 6022};

static bool expected_lov(int ejerform, int lov)
{
    switch (ejerform) {
    case 1:
        return lov == 1 || lov == 5 || lov == 6 || lov == 7 || lov == 8 || lov == 9 || lov == 10;
    case 2:
        return lov == 2 || lov == 5 || lov == 6 || lov == 7 || lov == 9 || lov == 10;
    case 3:
        return lov == 4 || lov == 5 || lov == 6 || lov == 7;
    case 4:
        return lov == 3;
    }
    return false;
}

static bool expected_type(int lov, int type)
{
    switch (lov) {
    case 1:
    case 2:
    case 3:
    case 4:
    case 8:
        return type == 6010 || type == 6011 || type == 6012 || type == 6014;
    case 5:
        return type == 6013;
    case 6:
        return type == 6020;
    case 7:
        return type == 6021;
    case 9:
    case 10:
        return type == 6022;
    }
    return false;
}

/* An ejerform under which the lovgrundlag is allowed. */
static int ejerform_for(int lov)
{
    for (int e = 1; e <= 4; e++)
        if (expected_lov(e, lov)) return e;
    fail();
    return 0;
}

static void test_ejerform_lovgrundlag_on_create_and_update(void **state)
{
    (void)state;
    for (size_t i = 0; i < 4; i++) {
        for (size_t j = 0; j < 10; j++) {
            int e = ejerformer[i], lov = lovgrundlag[j];
            fx_state fx;
            fx_world(&fx);
            reg_decision d;
            json_t *b = json_pack("{s:s, s:i, s:i, s:i}", "navn", "N", "ejerformKode", e,
                                  "lovgrundlagKode", lov, "admKommuneKode", 101);
            fx_decide_body(&fx, REG_OP_CREATE, REG_DAGINSTITUTION, NULL, b, &FX_SUPPORT, NULL, &d);
            if (expected_lov(e, lov)) {
                assert_accepted(&d);
            } else {
                assert_refused(&d, 422, "KRYDSVALIDERING", "lovgrundlagKode");
            }
            reg_decision_clear(&d);
            /* Update of G40002 (no children). */
            char body[96];
            snprintf(body, sizeof body, "{\"ejerformKode\": %d, \"lovgrundlagKode\": %d}", e, lov);
            fx_decide(&fx, REG_OP_UPDATE, REG_DAGINSTITUTION, "G40002", body, &FX_SUPPORT, &d);
            if (expected_lov(e, lov)) {
                assert_accepted(&d);
            } else {
                assert_refused(&d, 422, "KRYDSVALIDERING", "lovgrundlagKode");
            }
            reg_decision_clear(&d);
            fx_free(&fx);
        }
    }
}

static void test_lovgrundlag_insttype_on_create_update_nested(void **state)
{
    (void)state;
    for (size_t j = 0; j < 10; j++) {
        for (size_t k = 0; k < 8; k++) {
            int lov = lovgrundlag[j], type = typer[k];
            bool ok = expected_type(lov, type);
            fx_state fx;
            fx_world(&fx);
            fx_dag(&fx, "G41000", ejerform_for(lov), lov, 101, "2019-08-30", NULL);
            reg_decision d;
            /* create under the daginstitution */
            json_t *b = fx_unit_body("G41000");
            json_object_set_new(b, "instType3", json_integer(type));
            fx_decide_body(&fx, REG_OP_CREATE, REG_ANVISNINGSENHED, NULL, b, &FX_SUPPORT, NULL, &d);
            if (ok) {
                assert_accepted(&d);
                fx_apply(&fx, &d);
            } else {
                assert_refused(&d, 422, "KRYDSVALIDERING", "instType3");
            }
            reg_decision_clear(&d);
            /* update of a unit that fits, to this type */
            int fitting = 0;
            for (size_t m = 0; m < 8 && !fitting; m++)
                if (expected_type(lov, typer[m])) fitting = typer[m];
            fx_unit(&fx, "G41001", "G41000", fitting, "2019-08-30", NULL);
            char body[64];
            snprintf(body, sizeof body, "{\"instType3\": %d}", type);
            fx_decide(&fx, REG_OP_UPDATE, REG_ANVISNINGSENHED, "G41001", body, &FX_SUPPORT, &d);
            if (ok) {
                assert_accepted(&d);
            } else {
                assert_refused(&d, 422, "KRYDSVALIDERING", "instType3");
            }
            reg_decision_clear(&d);
            /* nested create */
            b = json_pack("{s:s, s:i, s:i, s:i}", "navn", "N", "ejerformKode", ejerform_for(lov),
                          "lovgrundlagKode", lov, "admKommuneKode", 101);
            json_t *u = fx_unit_body(NULL);
            json_object_set_new(u, "instType3", json_integer(type));
            json_object_set_new(b, "anvisningsenheder", json_pack("[o]", u));
            fx_decide_body(&fx, REG_OP_CREATE, REG_DAGINSTITUTION, NULL, b, &FX_SUPPORT, NULL, &d);
            if (ok) {
                assert_accepted(&d);
            } else {
                assert_refused(&d, 422, "KRYDSVALIDERING", "anvisningsenheder[0].instType3");
            }
            reg_decision_clear(&d);
            /* a daginstitution changed to this lovgrundlag with a child of this type */
            fx_dag(&fx, "G41002", 1, 1, 101, "2019-08-30", NULL);
            fx_unit(&fx, "G41003", "G41002", type, "2019-08-30", NULL);
            snprintf(body, sizeof body, "{\"ejerformKode\": %d, \"lovgrundlagKode\": %d}",
                     ejerform_for(lov), lov);
            fx_decide(&fx, REG_OP_UPDATE, REG_DAGINSTITUTION, "G41002", body, &FX_SUPPORT, &d);
            if (ok) {
                assert_accepted(&d);
            } else {
                assert_refused(&d, 422, "KRYDSVALIDERING", "lovgrundlagKode");
            }
            reg_decision_clear(&d);
            fx_free(&fx);
        }
    }
}

static void test_alternativ_adresse_has_no_cross_validation(void **state)
{
    (void)state;
    fx_state fx;
    fx_world(&fx);
    reg_decision d;
    /* Under a dagpleje unit, an alternativ adresse has no type of its own. */
    fx_decide_body(&fx, REG_OP_CREATE, REG_ALTERNATIV_ADRESSE, NULL, fx_alt_body("G23180"),
                   &FX_SUPPORT, NULL, &d);
    assert_accepted(&d);
    reg_decision_clear(&d);
    fx_free(&fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ejerform_lovgrundlag_on_create_and_update),
        cmocka_unit_test(test_lovgrundlag_insttype_on_create_update_nested),
        cmocka_unit_test(test_alternativ_adresse_has_no_cross_validation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
