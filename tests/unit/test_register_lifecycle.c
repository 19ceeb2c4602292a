/*
 * test_register_lifecycle.c -- REG_OP_CLOSE (nedlæg: past, today, future;
 * HAR_AKTIVE_BOERN; NEDLAGT; the timed nedlagt change), REG_OP_DELETE
 * (HAR_BOERN, slettet, burnt numbers) and REG_OP_MOVE (flyttet, alternative
 * adresser follow, FLYT_PAA_TVAERS, FORAELDER_NEDLAGT, KRYDSVALIDERING).
 */
#include "test_register_fixture.h"

typedef struct lt {
    fx_state fx;
    reg_decision d;
} lt;

static int setup(void **state)
{
    lt *t = calloc(1, sizeof *t);
    fx_world(&t->fx);
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    lt *t = *state;
    reg_decision_clear(&t->d);
    fx_free(&t->fx);
    free(t);
    return 0;
}

static int run_opt(lt *t, reg_op op, reg_level level, const char *nummer, const char *body,
                   const reg_actor *actor, const fx_cmd *opt)
{
    reg_decision_clear(&t->d);
    return fx_decide_opt(&t->fx, op, level, nummer, body, actor, opt, &t->d);
}

static int run(lt *t, reg_op op, reg_level level, const char *nummer, const char *body)
{
    return run_opt(t, op, level, nummer, body, &FX_SUPPORT, NULL);
}

static const char *str(const json_t *rec, const char *key)
{
    return json_string_value(json_object_get(rec, key));
}

/* ---- close ---------------------------------------------------------------- */

static void test_close_today_past_future(void **state)
{
    lt *t = *state;
    /* Today: nedlagt at once. */
    assert_int_equal(
        run(t, REG_OP_CLOSE, REG_ALTERNATIV_ADRESSE, "G50001", "{\"virkningTil\": \"2026-06-15\"}"),
        0);
    assert_int_equal(t->d.n_changes, 1);
    const reg_change *ch = &t->d.changes[0];
    assert_string_equal(ch->operation, "nedlagt");
    assert_string_equal(str(ch->after, "virkningTil"), "2026-06-15");
    assert_int_equal(json_integer_value(json_object_get(ch->after, "version")), 2);
    assert_string_equal(str(ch->after, "opdateret"), FX_NOW);
    assert_true(json_is_null(json_object_get(ch->before, "virkningTil")));
    assert_string_equal(reg_status(ch->after, FX_TODAY), "nedlagt");
    /* In the past (after virkningFra): nedlagt. */
    assert_int_equal(
        run(t, REG_OP_CLOSE, REG_ALTERNATIV_ADRESSE, "G50001", "{\"virkningTil\": \"2020-01-01\"}"),
        0);
    assert_string_equal(t->d.changes[0].operation, "nedlagt");
    /* In the future: an aendret now, a nedlagt when the day arrives. */
    assert_int_equal(
        run(t, REG_OP_CLOSE, REG_ALTERNATIV_ADRESSE, "G50001", "{\"virkningTil\": \"2026-09-01\"}"),
        0);
    assert_string_equal(t->d.changes[0].operation, "aendret");
    assert_string_equal(reg_status(t->d.changes[0].after, FX_TODAY), "aktiv");
    fx_apply(&t->fx, &t->d);
    reg_change timed;
    json_t *rec = fx_rec(&t->fx, "G50001");
    assert_false(reg_timed_change(rec, REG_ALTERNATIV_ADRESSE, "2026-08-30", "2026-08-31",
                                  "2026-08-31T10:00:00Z", &timed));
    assert_true(reg_timed_change(rec, REG_ALTERNATIV_ADRESSE, "2026-08-31", "2026-09-01",
                                 "2026-08-31T22:00:01Z", &timed));
    assert_string_equal(timed.operation, "nedlagt");
    assert_int_equal(json_integer_value(json_object_get(timed.after, "version")), 3);
    reg_change_clear(&timed);
    /* A scheduled close can be moved; the same date again changes nothing. */
    assert_int_equal(
        run(t, REG_OP_CLOSE, REG_ALTERNATIV_ADRESSE, "G50001", "{\"virkningTil\": \"2026-09-01\"}"),
        0);
    assert_int_equal(t->d.n_changes, 0);
    assert_int_equal(
        run(t, REG_OP_CLOSE, REG_ALTERNATIV_ADRESSE, "G50001", "{\"virkningTil\": \"2026-10-01\"}"),
        0);
    assert_string_equal(t->d.changes[0].operation, "aendret");
}

static void test_close_body(void **state)
{
    lt *t = *state;
    run(t, REG_OP_CLOSE, REG_ALTERNATIV_ADRESSE, "G50001", "{}");
    assert_refused(&t->d, 422, "MANGLER_FELT", "virkningTil");
    run(t, REG_OP_CLOSE, REG_ALTERNATIV_ADRESSE, "G50001", NULL);
    assert_refused(&t->d, 422, "MANGLER_FELT", "virkningTil");
    run(t, REG_OP_CLOSE, REG_ALTERNATIV_ADRESSE, "G50001", "{\"virkningTil\": \"2026-02-30\"}");
    assert_refused(&t->d, 422, "UGYLDIG_DATO", "virkningTil");
    run(t, REG_OP_CLOSE, REG_ALTERNATIV_ADRESSE, "G50001", "{\"virkningTil\": 2026}");
    assert_refused(&t->d, 422, "FORKERT_TYPE", "virkningTil");
    run(t, REG_OP_CLOSE, REG_ALTERNATIV_ADRESSE, "G50001", "{\"virkningTil\": \"2019-08-30\"}");
    assert_refused(&t->d, 422, "UGYLDIG_DATO", "virkningTil");
    run(t, REG_OP_CLOSE, REG_ALTERNATIV_ADRESSE, "G50001", "{\"virkningTil\": \"2019-08-29\"}");
    assert_refused(&t->d, 422, "UGYLDIG_DATO", "virkningTil");
    run(t, REG_OP_CLOSE, REG_ALTERNATIV_ADRESSE, "G50001",
        "{\"virkningTil\": \"2026-09-01\", \"navn\": \"x\"}");
    assert_refused(&t->d, 422, "UKENDT_FELT", "navn");
    run(t, REG_OP_CLOSE, REG_ALTERNATIV_ADRESSE, "G59999", "{\"virkningTil\": \"2026-09-01\"}");
    assert_refused(&t->d, 404, "FINDES_IKKE", "");
}

static void test_close_no_cascade(void **state)
{
    lt *t = *state;
    /* G40001 has two open units. */
    run(t, REG_OP_CLOSE, REG_DAGINSTITUTION, "G40001", "{\"virkningTil\": \"2026-09-01\"}");
    assert_refused(&t->d, 409, "HAR_AKTIVE_BOERN", "virkningTil");
    assert_non_null(strstr(t->d.errors[0].tekst, "G23152"));
    assert_non_null(strstr(t->d.errors[0].tekst, "G23153"));
    /* An anvisningsenhed with an open alternativ adresse. */
    run(t, REG_OP_CLOSE, REG_ANVISNINGSENHED, "G23152", "{\"virkningTil\": \"2026-09-01\"}");
    assert_refused(&t->d, 409, "HAR_AKTIVE_BOERN", "virkningTil");
    /* Close the alternativ adresse on 2026-09-01: the unit may close that
     * day or later, not before. */
    assert_int_equal(
        run(t, REG_OP_CLOSE, REG_ALTERNATIV_ADRESSE, "G50001", "{\"virkningTil\": \"2026-09-01\"}"),
        0);
    fx_apply(&t->fx, &t->d);
    run(t, REG_OP_CLOSE, REG_ANVISNINGSENHED, "G23152", "{\"virkningTil\": \"2026-08-31\"}");
    assert_refused(&t->d, 409, "HAR_AKTIVE_BOERN", "virkningTil");
    assert_int_equal(
        run(t, REG_OP_CLOSE, REG_ANVISNINGSENHED, "G23152", "{\"virkningTil\": \"2026-09-01\"}"),
        0);
    assert_int_equal(
        run(t, REG_OP_CLOSE, REG_ANVISNINGSENHED, "G23152", "{\"virkningTil\": \"2026-10-01\"}"),
        0);
    /* A kommende child is in effect after the date too. */
    fx_unit(&t->fx, "G23300", "G40002", 6011, "2026-09-01", NULL);
    run(t, REG_OP_CLOSE, REG_DAGINSTITUTION, "G40002", "{\"virkningTil\": \"2026-07-01\"}");
    assert_refused(&t->d, 409, "HAR_AKTIVE_BOERN", "virkningTil");
    /* G40004's only unit closed before it: fine (it is closed itself, though). */
    run(t, REG_OP_CLOSE, REG_DAGINSTITUTION, "G40004", "{\"virkningTil\": \"2026-02-01\"}");
    assert_refused(&t->d, 409, "NEDLAGT", "");
    assert_int_equal(t->d.n_errors, 1);
    /* A deleted child does not count. */
    fx_delete(&t->fx, "G23300");
    assert_int_equal(
        run(t, REG_OP_CLOSE, REG_DAGINSTITUTION, "G40002", "{\"virkningTil\": \"2026-07-01\"}"), 0);
}

static void test_close_if_match_and_closed(void **state)
{
    lt *t = *state;
    fx_cmd opt = {.if_match = 2};
    run_opt(t, REG_OP_CLOSE, REG_DAGINSTITUTION, "G40002", "{\"virkningTil\": \"2026-09-01\"}",
            &FX_SUPPORT, &opt);
    assert_refused(&t->d, 412, "VERSIONSKONFLIKT", "");
    opt.if_match = 1;
    assert_int_equal(run_opt(t, REG_OP_CLOSE, REG_DAGINSTITUTION, "G40002",
                             "{\"virkningTil\": \"2026-09-01\"}", &FX_SUPPORT, &opt),
                     0);
    run(t, REG_OP_CLOSE, REG_DAGINSTITUTION, "G40004", "{\"virkningTil\": \"2026-09-01\"}");
    assert_refused(&t->d, 409, "NEDLAGT", "");
    run(t, REG_OP_CLOSE, REG_DAGINSTITUTION, "G40009", "{\"virkningTil\": \"2026-09-01\"}");
    assert_refused(&t->d, 410, "SLETTET", "");
}

/* ---- delete ----------------------------------------------------------------- */

static void test_delete(void **state)
{
    lt *t = *state;
    run(t, REG_OP_DELETE, REG_DAGINSTITUTION, "G40001", NULL);
    assert_refused(&t->d, 409, "HAR_BOERN", "");
    run(t, REG_OP_DELETE, REG_ANVISNINGSENHED, "G23152", NULL);
    assert_refused(&t->d, 409, "HAR_BOERN", "");
    /* Closed children count too: any child blocks. */
    run(t, REG_OP_DELETE, REG_DAGINSTITUTION, "G40004", NULL);
    assert_refused(&t->d, 409, "HAR_BOERN", "");
    assert_int_equal(run(t, REG_OP_DELETE, REG_ALTERNATIV_ADRESSE, "G50001", "{}"), 0);
    assert_int_equal(t->d.n_changes, 1);
    const reg_change *ch = &t->d.changes[0];
    assert_string_equal(ch->operation, "slettet");
    assert_string_equal(ch->nummer, "G50001");
    assert_null(ch->after);
    assert_string_equal(str(ch->before, "nummer"), "G50001");
    assert_string_equal(t->d.primary, "G50001");
    fx_apply(&t->fx, &t->d);
    /* Now the unit has none left. */
    assert_int_equal(run(t, REG_OP_DELETE, REG_ANVISNINGSENHED, "G23152", NULL), 0);
    fx_apply(&t->fx, &t->d);
    run(t, REG_OP_DELETE, REG_ANVISNINGSENHED, "G23152", NULL);
    assert_refused(&t->d, 410, "SLETTET", "");
    run(t, REG_OP_DELETE, REG_ANVISNINGSENHED, "G23153", "{\"grund\": \"fejl\"}");
    assert_refused(&t->d, 422, "UKENDT_FELT", "grund");
    run(t, REG_OP_DELETE, REG_ANVISNINGSENHED, "G23153", "[]");
    assert_refused(&t->d, 422, "FORKERT_TYPE", "");
    fx_cmd opt = {.if_match = 5};
    run_opt(t, REG_OP_DELETE, REG_ANVISNINGSENHED, "G23153", NULL, &FX_SUPPORT, &opt);
    assert_refused(&t->d, 412, "VERSIONSKONFLIKT", "");
    /* A closed record with no children may be deleted (an error found late). */
    assert_int_equal(run(t, REG_OP_DELETE, REG_ANVISNINGSENHED, "G23170", NULL), 0);
    /* A burnt number cannot come back through an import. */
    fx_apply(&t->fx, &t->d);
    fx_cmd import = {.keep_numbers = true, .if_match = -1};
    json_t *b = fx_unit_body("G40002");
    json_object_set_new(b, "nummer", json_string("G23170"));
    reg_decision_clear(&t->d);
    fx_decide_body(&t->fx, REG_OP_CREATE, REG_ANVISNINGSENHED, NULL, b, &FX_SYSTEM, &import, &t->d);
    assert_refused(&t->d, 409, "NUMMER_BRUGT", "nummer");
}

/* ---- move ------------------------------------------------------------------- */

static void test_move_unit(void **state)
{
    lt *t = *state;
    assert_int_equal(run(t, REG_OP_MOVE, REG_ANVISNINGSENHED, "G23152",
                         "{\"daginstitutionsNummer\": \"G40002\"}"),
                     0);
    /* One change: the unit; its alternativ adresse keeps its parent. */
    assert_int_equal(t->d.n_changes, 1);
    const reg_change *ch = &t->d.changes[0];
    assert_string_equal(ch->operation, "flyttet");
    assert_string_equal(ch->nummer, "G23152");
    assert_int_equal(ch->level, REG_ANVISNINGSENHED);
    assert_string_equal(str(ch->before, "daginstitutionsNummer"), "G40001");
    assert_string_equal(str(ch->after, "daginstitutionsNummer"), "G40002");
    assert_int_equal(json_integer_value(json_object_get(ch->after, "version")), 2);
    assert_string_equal(str(ch->after, "navn"), "Enhed");
    assert_string_equal(t->d.primary, "G23152");
    fx_apply(&t->fx, &t->d);
    assert_string_equal(str(fx_rec(&t->fx, "G50001"), "anvisningsenhedsNummer"), "G23152");
    /* Moving to where it is changes nothing. */
    assert_int_equal(run(t, REG_OP_MOVE, REG_ANVISNINGSENHED, "G23152",
                         "{\"daginstitutionsNummer\": \"G40002\"}"),
                     0);
    assert_int_equal(t->d.n_changes, 0);
    /* Into a kommende daginstitution, and into a selvejende one. */
    assert_int_equal(run(t, REG_OP_MOVE, REG_ANVISNINGSENHED, "G23152",
                         "{\"daginstitutionsNummer\": \"G40008\"}"),
                     0);
    assert_int_equal(run(t, REG_OP_MOVE, REG_ANVISNINGSENHED, "G23152",
                         "{\"daginstitutionsNummer\": \"G40010\"}"),
                     0);
}

static void test_move_alternativ_adresse(void **state)
{
    lt *t = *state;
    assert_int_equal(run(t, REG_OP_MOVE, REG_ALTERNATIV_ADRESSE, "G50001",
                         "{\"anvisningsenhedsNummer\": \"G23153\"}"),
                     0);
    assert_string_equal(t->d.changes[0].operation, "flyttet");
    assert_string_equal(str(t->d.changes[0].after, "anvisningsenhedsNummer"), "G23153");
    /* To a unit under another daginstitution of the same kommune. */
    assert_int_equal(run(t, REG_OP_MOVE, REG_ALTERNATIV_ADRESSE, "G50001",
                         "{\"anvisningsenhedsNummer\": \"G23180\"}"),
                     0);
    /* Across kommuner: refused. */
    run(t, REG_OP_MOVE, REG_ALTERNATIV_ADRESSE, "G50001",
        "{\"anvisningsenhedsNummer\": \"G23160\"}");
    assert_refused(&t->d, 409, "FLYT_PAA_TVAERS", "anvisningsenhedsNummer");
    /* To a closed unit. */
    run(t, REG_OP_MOVE, REG_ALTERNATIV_ADRESSE, "G50001",
        "{\"anvisningsenhedsNummer\": \"G23170\"}");
    assert_refused(&t->d, 409, "FORAELDER_NEDLAGT", "anvisningsenhedsNummer");
    /* Not to a daginstitution. */
    run(t, REG_OP_MOVE, REG_ALTERNATIV_ADRESSE, "G50001",
        "{\"anvisningsenhedsNummer\": \"G40001\"}");
    assert_refused(&t->d, 422, "FORAELDER_FINDES_IKKE", "anvisningsenhedsNummer");
}

static void test_move_refusals(void **state)
{
    lt *t = *state;
    run(t, REG_OP_MOVE, REG_ANVISNINGSENHED, "G23152", "{\"daginstitutionsNummer\": \"G40003\"}");
    assert_refused(&t->d, 409, "FLYT_PAA_TVAERS", "daginstitutionsNummer");
    run(t, REG_OP_MOVE, REG_ANVISNINGSENHED, "G23152", "{\"daginstitutionsNummer\": \"G49999\"}");
    assert_refused(&t->d, 422, "FORAELDER_FINDES_IKKE", "daginstitutionsNummer");
    run(t, REG_OP_MOVE, REG_ANVISNINGSENHED, "G23152", "{\"daginstitutionsNummer\": \"G40009\"}");
    assert_refused(&t->d, 422, "FORAELDER_FINDES_IKKE", "daginstitutionsNummer");
    run(t, REG_OP_MOVE, REG_ANVISNINGSENHED, "G23152", "{\"daginstitutionsNummer\": \"G40004\"}");
    assert_refused(&t->d, 409, "FORAELDER_NEDLAGT", "daginstitutionsNummer");
    run(t, REG_OP_MOVE, REG_ANVISNINGSENHED, "G23152", "{\"daginstitutionsNummer\": \"G40005\"}");
    assert_refused(&t->d, 409, "FORAELDER_NEDLAGT", "daginstitutionsNummer");
    /* 6011 does not go under dagpleje (lovgrundlag 5). */
    run(t, REG_OP_MOVE, REG_ANVISNINGSENHED, "G23152", "{\"daginstitutionsNummer\": \"G40006\"}");
    assert_refused(&t->d, 422, "KRYDSVALIDERING", "daginstitutionsNummer");
    run(t, REG_OP_MOVE, REG_ANVISNINGSENHED, "G23170", "{\"daginstitutionsNummer\": \"G40002\"}");
    assert_refused(&t->d, 409, "NEDLAGT", "");
    run(t, REG_OP_MOVE, REG_ANVISNINGSENHED, "G23152", "{}");
    assert_refused(&t->d, 422, "MANGLER_FELT", "daginstitutionsNummer");
    run(t, REG_OP_MOVE, REG_ANVISNINGSENHED, "G23152", NULL);
    assert_refused(&t->d, 422, "MANGLER_FELT", "daginstitutionsNummer");
    run(t, REG_OP_MOVE, REG_ANVISNINGSENHED, "G23152",
        "{\"daginstitutionsNummer\": \"G40002\", \"navn\": \"x\"}");
    assert_refused(&t->d, 422, "UKENDT_FELT", "navn");
    run(t, REG_OP_MOVE, REG_ANVISNINGSENHED, "G23152", "{\"daginstitutionsNummer\": \"40002\"}");
    assert_refused(&t->d, 422, "UGYLDIGT_FORMAT", "daginstitutionsNummer");
    run(t, REG_OP_MOVE, REG_DAGINSTITUTION, "G40001", "{\"daginstitutionsNummer\": \"G40002\"}");
    assert_int_equal(t->d.status, 400);
    fx_cmd opt = {.if_match = 3};
    run_opt(t, REG_OP_MOVE, REG_ANVISNINGSENHED, "G23152",
            "{\"daginstitutionsNummer\": \"G40002\"}", &FX_SUPPORT, &opt);
    assert_refused(&t->d, 412, "VERSIONSKONFLIKT", "");
    /* Cross-validation answers before the 409 rules. */
    fx_dag(&t->fx, "G40030", 1, 5, 147, "2019-08-30", "2026-01-01");
    run(t, REG_OP_MOVE, REG_ANVISNINGSENHED, "G23152", "{\"daginstitutionsNummer\": \"G40030\"}");
    assert_refused(&t->d, 422, "KRYDSVALIDERING", "daginstitutionsNummer");
    /* ...and all 409 rules at once. */
    fx_dag(&t->fx, "G40031", 1, 1, 147, "2019-08-30", "2026-01-01");
    run(t, REG_OP_MOVE, REG_ANVISNINGSENHED, "G23152", "{\"daginstitutionsNummer\": \"G40031\"}");
    assert_refused(&t->d, 409, "FORAELDER_NEDLAGT", "daginstitutionsNummer");
    assert_true(fx_has(&t->d, "FLYT_PAA_TVAERS", "daginstitutionsNummer"));
}

/* ---- genåbn ------------------------------------------------------------------ */

static void test_reopen(void **state)
{
    lt *t = *state;
    /* G40004 was closed 2026-01-01; its unit G23170 on 2025-12-01. */
    assert_int_equal(run(t, REG_OP_REOPEN, REG_DAGINSTITUTION, "G40004", "{}"), 0);
    assert_int_equal(t->d.n_changes, 1);
    const reg_change *ch = &t->d.changes[0];
    assert_string_equal(ch->operation, "aendret");
    assert_true(json_is_null(json_object_get(ch->after, "virkningTil")));
    assert_string_equal(str(ch->before, "virkningTil"), "2026-01-01");
    assert_int_equal(json_integer_value(json_object_get(ch->after, "version")), 2);
    assert_string_equal(reg_status(ch->after, FX_TODAY), "aktiv");
    assert_string_equal(str(ch->after, "navn"), str(ch->before, "navn"));
    /* The unit cannot be reopened while its daginstitution is closed ... */
    run(t, REG_OP_REOPEN, REG_ANVISNINGSENHED, "G23170", NULL);
    assert_refused(&t->d, 409, "FORAELDER_NEDLAGT", "daginstitutionsNummer");
    /* ... and can once it is reopened. */
    assert_int_equal(run(t, REG_OP_REOPEN, REG_DAGINSTITUTION, "G40004", NULL), 0);
    fx_apply(&t->fx, &t->d);
    assert_int_equal(run(t, REG_OP_REOPEN, REG_ANVISNINGSENHED, "G23170", NULL), 0);
    assert_string_equal(t->d.changes[0].operation, "aendret");
    /* A scheduled close (G40005 closes 2026-12-31) is undone the same way. */
    assert_int_equal(run(t, REG_OP_REOPEN, REG_DAGINSTITUTION, "G40005", "{}"), 0);
    assert_int_equal(t->d.n_changes, 1);
    /* A record in effect: accepted, nothing changes. */
    assert_int_equal(run(t, REG_OP_REOPEN, REG_DAGINSTITUTION, "G40002", "{}"), 0);
    assert_int_equal(t->d.n_changes, 0);
}

static void test_reopen_refusals(void **state)
{
    lt *t = *state;
    /* Support only: a kommune in scope, a laeser and the admin are refused. */
    run_opt(t, REG_OP_REOPEN, REG_DAGINSTITUTION, "G40004", "{}", &FX_K101, NULL);
    assert_refused(&t->d, 403, "IKKE_TILLADT", "");
    run_opt(t, REG_OP_REOPEN, REG_DAGINSTITUTION, "G40004", "{}", &FX_LAESER, NULL);
    assert_refused(&t->d, 403, "IKKE_TILLADT", "");
    run_opt(t, REG_OP_REOPEN, REG_DAGINSTITUTION, "G40004", "{}", &FX_ADMIN, NULL);
    assert_refused(&t->d, 403, "IKKE_TILLADT", "");
    /* Only an empty body. */
    run(t, REG_OP_REOPEN, REG_DAGINSTITUTION, "G40004", "{\"virkningTil\": null}");
    assert_refused(&t->d, 422, "UKENDT_FELT", "virkningTil");
    run(t, REG_OP_REOPEN, REG_DAGINSTITUTION, "G40004", "[]");
    assert_refused(&t->d, 422, "FORKERT_TYPE", "");
    /* If-Match, unknown, deleted, another level. */
    fx_cmd opt = {.if_match = 5};
    run_opt(t, REG_OP_REOPEN, REG_DAGINSTITUTION, "G40004", "{}", &FX_SUPPORT, &opt);
    assert_refused(&t->d, 412, "VERSIONSKONFLIKT", "");
    run(t, REG_OP_REOPEN, REG_DAGINSTITUTION, "G49999", "{}");
    assert_refused(&t->d, 404, "FINDES_IKKE", "");
    run(t, REG_OP_REOPEN, REG_DAGINSTITUTION, "G40009", "{}");
    assert_refused(&t->d, 410, "SLETTET", "");
    run(t, REG_OP_REOPEN, REG_DAGINSTITUTION, "G23170", "{}");
    assert_refused(&t->d, 404, "FINDES_IKKE", "");
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_close_today_past_future),   T(test_close_body),    T(test_close_no_cascade),
        T(test_close_if_match_and_closed), T(test_delete),        T(test_move_unit),
        T(test_move_alternativ_adresse),   T(test_move_refusals), T(test_reopen),
        T(test_reopen_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
