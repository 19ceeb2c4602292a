/*
 * test_register_authz.c -- who may do what: every role against every
 * operation, a kommune inside and outside its scope (judged on the
 * daginstitution's admKommuneKode and ejerform, before and after the change,
 * both ends of a move), private (ejerform 3) dagtilbud only for support.
 */
#include "test_register_fixture.h"

static const int scope_147[] = {147};
static const reg_actor K147 = {"frb", REG_ROLE_KOMMUNE, scope_147, 1};
static const reg_actor K_NONE = {"none", REG_ROLE_KOMMUNE, NULL, 0};

typedef struct authz_case {
    const char *name;
    reg_op op;
    reg_level level;
    const char *nummer;
    const char *body;
    const reg_actor *actor;
    int status; /* expected: 0 accepted, 403, or a later refusal */
} authz_case;

#define DAG(ej, lov, k)                                                                            \
    "{\"navn\": \"N\", \"ejerformKode\": " #ej ", \"lovgrundlagKode\": " #lov                      \
    ", \"admKommuneKode\": " #k "}"
#define ADR                                                                                        \
    "\"adresse\": {\"vejNavn\": \"V\", \"husNummer\": \"1\", \"postNummer\": \"1000\", "           \
    "\"byNavn\": \"B\", \"kommuneKode\": 101}"
#define UNIT(parent)                                                                               \
    "{\"navn\": \"U\", \"instType3\": 6011, " ADR ", \"daginstitutionsNummer\": \"" parent "\"}"
#define ALT(parent) "{\"navn\": \"A\", " ADR ", \"anvisningsenhedsNummer\": \"" parent "\"}"
#define CLOSE "{\"virkningTil\": \"2026-09-01\"}"
#define MOVE_TO(dag) "{\"daginstitutionsNummer\": \"" dag "\"}"

static const authz_case cases[] = {
    /* create a daginstitution */
    {"create kommunal in scope", REG_OP_CREATE, REG_DAGINSTITUTION, NULL, DAG(1, 1, 101), &FX_K101,
     0},
    {"create selvejende in scope", REG_OP_CREATE, REG_DAGINSTITUTION, NULL, DAG(2, 2, 101),
     &FX_K101, 0},
    {"create udliciteret in scope", REG_OP_CREATE, REG_DAGINSTITUTION, NULL, DAG(4, 3, 101),
     &FX_K101, 0},
    {"create private in scope", REG_OP_CREATE, REG_DAGINSTITUTION, NULL, DAG(3, 4, 101), &FX_K101,
     403},
    {"create out of scope", REG_OP_CREATE, REG_DAGINSTITUTION, NULL, DAG(1, 1, 101), &K147, 403},
    {"create second kommune of scope", REG_OP_CREATE, REG_DAGINSTITUTION, NULL, DAG(1, 1, 147),
     &FX_K101_147, 0},
    {"create with empty scope", REG_OP_CREATE, REG_DAGINSTITUTION, NULL, DAG(1, 1, 101), &K_NONE,
     403},
    {"create private by support", REG_OP_CREATE, REG_DAGINSTITUTION, NULL, DAG(3, 4, 101),
     &FX_SUPPORT, 0},
    {"create private by system", REG_OP_CREATE, REG_DAGINSTITUTION, NULL, DAG(3, 4, 101),
     &FX_SYSTEM, 0},
    {"create by laeser", REG_OP_CREATE, REG_DAGINSTITUTION, NULL, DAG(1, 1, 101), &FX_LAESER, 403},
    {"create by admin", REG_OP_CREATE, REG_DAGINSTITUTION, NULL, DAG(1, 1, 101), &FX_ADMIN, 403},
    /* create children: scope is the parent daginstitution's */
    {"unit under own kommunal", REG_OP_CREATE, REG_ANVISNINGSENHED, NULL, UNIT("G40001"), &FX_K101,
     0},
    {"unit under own selvejende", REG_OP_CREATE, REG_ANVISNINGSENHED, NULL, UNIT("G40010"),
     &FX_K101, 0},
    {"unit under other kommune", REG_OP_CREATE, REG_ANVISNINGSENHED, NULL, UNIT("G40001"), &K147,
     403},
    {"unit under own private", REG_OP_CREATE, REG_ANVISNINGSENHED, NULL, UNIT("G40007"), &FX_K101,
     403},
    {"unit under private by support", REG_OP_CREATE, REG_ANVISNINGSENHED, NULL, UNIT("G40007"),
     &FX_SUPPORT, 0},
    {"unit by laeser", REG_OP_CREATE, REG_ANVISNINGSENHED, NULL, UNIT("G40001"), &FX_LAESER, 403},
    {"unit by admin", REG_OP_CREATE, REG_ANVISNINGSENHED, NULL, UNIT("G40001"), &FX_ADMIN, 403},
    {"unit under missing parent", REG_OP_CREATE, REG_ANVISNINGSENHED, NULL, UNIT("G49999"), &K147,
     422},
    {"alt under own", REG_OP_CREATE, REG_ALTERNATIV_ADRESSE, NULL, ALT("G23152"), &FX_K101, 0},
    {"alt under other kommune", REG_OP_CREATE, REG_ALTERNATIV_ADRESSE, NULL, ALT("G23152"), &K147,
     403},
    {"alt under 147 by 101", REG_OP_CREATE, REG_ALTERNATIV_ADRESSE, NULL, ALT("G23160"), &FX_K101,
     403},
    {"alt under 147 by 101+147", REG_OP_CREATE, REG_ALTERNATIV_ADRESSE, NULL, ALT("G23160"),
     &FX_K101_147, 0},
    {"alt under private", REG_OP_CREATE, REG_ALTERNATIV_ADRESSE, NULL, ALT("G23190"), &FX_K101,
     403},
    {"alt by laeser", REG_OP_CREATE, REG_ALTERNATIV_ADRESSE, NULL, ALT("G23152"), &FX_LAESER, 403},
    /* update: the stored record and the record after */
    {"rename own", REG_OP_UPDATE, REG_DAGINSTITUTION, "G40001", "{\"navn\": \"x\"}", &FX_K101, 0},
    {"rename other's", REG_OP_UPDATE, REG_DAGINSTITUTION, "G40001", "{\"navn\": \"x\"}", &K147,
     403},
    {"rename by laeser", REG_OP_UPDATE, REG_DAGINSTITUTION, "G40001", "{\"navn\": \"x\"}",
     &FX_LAESER, 403},
    {"rename by admin", REG_OP_UPDATE, REG_DAGINSTITUTION, "G40001", "{\"navn\": \"x\"}", &FX_ADMIN,
     403},
    {"move out of scope", REG_OP_UPDATE, REG_DAGINSTITUTION, "G40001", "{\"admKommuneKode\": 147}",
     &FX_K101, 403},
    {"move within scope", REG_OP_UPDATE, REG_DAGINSTITUTION, "G40001", "{\"admKommuneKode\": 147}",
     &FX_K101_147, 0},
    {"kommune to 147 by support", REG_OP_UPDATE, REG_DAGINSTITUTION, "G40001",
     "{\"admKommuneKode\": 147}", &FX_SUPPORT, 0},
    {"into private ownership", REG_OP_UPDATE, REG_DAGINSTITUTION, "G40001",
     "{\"ejerformKode\": 3, \"lovgrundlagKode\": 4}", &FX_K101, 403},
    {"into private by support", REG_OP_UPDATE, REG_DAGINSTITUTION, "G40001",
     "{\"ejerformKode\": 3, \"lovgrundlagKode\": 4}", &FX_SUPPORT, 0},
    {"to selvejende", REG_OP_UPDATE, REG_DAGINSTITUTION, "G40001",
     "{\"ejerformKode\": 2, \"lovgrundlagKode\": 2}", &FX_K101, 0},
    {"private renamed", REG_OP_UPDATE, REG_DAGINSTITUTION, "G40007", "{\"navn\": \"x\"}", &FX_K101,
     403},
    {"private made kommunal", REG_OP_UPDATE, REG_DAGINSTITUTION, "G40007",
     "{\"ejerformKode\": 1, \"lovgrundlagKode\": 1}", &FX_K101, 403},
    {"private by support", REG_OP_UPDATE, REG_DAGINSTITUTION, "G40007", "{\"navn\": \"x\"}",
     &FX_SUPPORT, 0},
    {"own unit", REG_OP_UPDATE, REG_ANVISNINGSENHED, "G23152", "{\"navn\": \"x\"}", &FX_K101, 0},
    {"other's unit", REG_OP_UPDATE, REG_ANVISNINGSENHED, "G23152", "{\"navn\": \"x\"}", &K147, 403},
    {"unit of private", REG_OP_UPDATE, REG_ANVISNINGSENHED, "G23190", "{\"navn\": \"x\"}", &FX_K101,
     403},
    {"unit of private by support", REG_OP_UPDATE, REG_ANVISNINGSENHED, "G23190",
     "{\"navn\": \"x\"}", &FX_SUPPORT, 0},
    {"unit address in 147, dag in 101", REG_OP_UPDATE, REG_ANVISNINGSENHED, "G23400",
     "{\"navn\": \"x\"}", &FX_K101, 0},
    {"unit address in 147 by 147", REG_OP_UPDATE, REG_ANVISNINGSENHED, "G23400",
     "{\"navn\": \"x\"}", &K147, 403},
    {"unit by laeser", REG_OP_UPDATE, REG_ANVISNINGSENHED, "G23152", "{\"navn\": \"x\"}",
     &FX_LAESER, 403},
    {"own alt", REG_OP_UPDATE, REG_ALTERNATIV_ADRESSE, "G50001", "{\"navn\": \"x\"}", &FX_K101, 0},
    {"other's alt", REG_OP_UPDATE, REG_ALTERNATIV_ADRESSE, "G50001", "{\"navn\": \"x\"}", &K147,
     403},
    {"alt by admin", REG_OP_UPDATE, REG_ALTERNATIV_ADRESSE, "G50001", "{\"navn\": \"x\"}",
     &FX_ADMIN, 403},
    {"nested child patch", REG_OP_UPDATE, REG_DAGINSTITUTION, "G40001",
     "{\"anvisningsenheder\": [{\"nummer\": \"G23152\", \"navn\": \"y\"}]}", &FX_K101, 0},
    {"nested child patch other's", REG_OP_UPDATE, REG_DAGINSTITUTION, "G40001",
     "{\"anvisningsenheder\": [{\"nummer\": \"G23152\", \"navn\": \"y\"}]}", &K147, 403},
    /* close */
    {"close own unit", REG_OP_CLOSE, REG_ANVISNINGSENHED, "G23153", CLOSE, &FX_K101, 0},
    {"close other's unit", REG_OP_CLOSE, REG_ANVISNINGSENHED, "G23153", CLOSE, &K147, 403},
    {"close private unit", REG_OP_CLOSE, REG_ANVISNINGSENHED, "G23190", CLOSE, &FX_K101, 403},
    {"close private unit by support", REG_OP_CLOSE, REG_ANVISNINGSENHED, "G23190", CLOSE,
     &FX_SUPPORT, 0},
    {"close own dag", REG_OP_CLOSE, REG_DAGINSTITUTION, "G40002", CLOSE, &FX_K101, 0},
    {"close other's dag", REG_OP_CLOSE, REG_DAGINSTITUTION, "G40002", CLOSE, &K147, 403},
    {"close by laeser", REG_OP_CLOSE, REG_DAGINSTITUTION, "G40002", CLOSE, &FX_LAESER, 403},
    {"close own alt", REG_OP_CLOSE, REG_ALTERNATIV_ADRESSE, "G50001", CLOSE, &FX_K101, 0},
    {"close alt by admin", REG_OP_CLOSE, REG_ALTERNATIV_ADRESSE, "G50001", CLOSE, &FX_ADMIN, 403},
    /* delete */
    {"delete own alt", REG_OP_DELETE, REG_ALTERNATIV_ADRESSE, "G50001", NULL, &FX_K101, 0},
    {"delete other's alt", REG_OP_DELETE, REG_ALTERNATIV_ADRESSE, "G50001", NULL, &K147, 403},
    {"delete alt by admin", REG_OP_DELETE, REG_ALTERNATIV_ADRESSE, "G50001", NULL, &FX_ADMIN, 403},
    {"delete own dag", REG_OP_DELETE, REG_DAGINSTITUTION, "G40002", NULL, &FX_K101, 0},
    {"delete other's dag", REG_OP_DELETE, REG_DAGINSTITUTION, "G40002", NULL, &K147, 403},
    {"delete by laeser", REG_OP_DELETE, REG_DAGINSTITUTION, "G40002", NULL, &FX_LAESER, 403},
    {"delete own unit", REG_OP_DELETE, REG_ANVISNINGSENHED, "G23153", NULL, &FX_K101, 0},
    {"delete private's unit", REG_OP_DELETE, REG_ANVISNINGSENHED, "G23190", NULL, &FX_K101, 403},
    /* move: both ends */
    {"move within own", REG_OP_MOVE, REG_ANVISNINGSENHED, "G23152", MOVE_TO("G40002"), &FX_K101, 0},
    {"move within other's", REG_OP_MOVE, REG_ANVISNINGSENHED, "G23152", MOVE_TO("G40002"), &K147,
     403},
    {"move to other kommune", REG_OP_MOVE, REG_ANVISNINGSENHED, "G23152", MOVE_TO("G40003"),
     &FX_K101, 403},
    {"move from other kommune", REG_OP_MOVE, REG_ANVISNINGSENHED, "G23160", MOVE_TO("G40001"),
     &FX_K101, 403},
    {"move across, both in scope", REG_OP_MOVE, REG_ANVISNINGSENHED, "G23152", MOVE_TO("G40003"),
     &FX_K101_147, 409},
    {"move across by support", REG_OP_MOVE, REG_ANVISNINGSENHED, "G23152", MOVE_TO("G40003"),
     &FX_SUPPORT, 409},
    {"move into private", REG_OP_MOVE, REG_ANVISNINGSENHED, "G23152", MOVE_TO("G40007"), &FX_K101,
     403},
    {"move out of private", REG_OP_MOVE, REG_ANVISNINGSENHED, "G23190", MOVE_TO("G40002"), &FX_K101,
     403},
    {"move into private by support", REG_OP_MOVE, REG_ANVISNINGSENHED, "G23152", MOVE_TO("G40007"),
     &FX_SUPPORT, 0},
    {"move out of private by support", REG_OP_MOVE, REG_ANVISNINGSENHED, "G23190",
     MOVE_TO("G40002"), &FX_SUPPORT, 0},
    {"move to selvejende", REG_OP_MOVE, REG_ANVISNINGSENHED, "G23152", MOVE_TO("G40010"), &FX_K101,
     0},
    {"move by laeser", REG_OP_MOVE, REG_ANVISNINGSENHED, "G23152", MOVE_TO("G40002"), &FX_LAESER,
     403},
    {"move by admin", REG_OP_MOVE, REG_ANVISNINGSENHED, "G23152", MOVE_TO("G40002"), &FX_ADMIN,
     403},
    {"move alt within own", REG_OP_MOVE, REG_ALTERNATIV_ADRESSE, "G50001",
     "{\"anvisningsenhedsNummer\": \"G23153\"}", &FX_K101, 0},
    {"move alt to other kommune", REG_OP_MOVE, REG_ALTERNATIV_ADRESSE, "G50001",
     "{\"anvisningsenhedsNummer\": \"G23160\"}", &FX_K101, 403},
    {"move alt into private", REG_OP_MOVE, REG_ALTERNATIV_ADRESSE, "G50001",
     "{\"anvisningsenhedsNummer\": \"G23190\"}", &FX_K101, 403},
    {"move alt into private by support", REG_OP_MOVE, REG_ALTERNATIV_ADRESSE, "G50001",
     "{\"anvisningsenhedsNummer\": \"G23190\"}", &FX_SUPPORT, 0},
    {"move alt by system", REG_OP_MOVE, REG_ALTERNATIV_ADRESSE, "G50001",
     "{\"anvisningsenhedsNummer\": \"G23190\"}", &FX_SYSTEM, 0},
};

static void test_role_matrix(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const authz_case *c = &cases[i];
        fx_state fx;
        fx_world(&fx);
        /* A unit whose own address lies in 147 under a daginstitution of 101. */
        fx_unit(&fx, "G23400", "G40001", 6011, "2019-08-30", NULL);
        json_object_set_new(json_object_get(fx_rec(&fx, "G23400"), "adresse"), "kommuneKode",
                            json_integer(147));
        reg_decision d;
        fx_decide(&fx, c->op, c->level, c->nummer, c->body, c->actor, &d);
        if (d.status != c->status) {
            print_error("case \"%s\": status %d, expected %d\n", c->name, d.status, c->status);
            fx_print(&d);
        }
        assert_int_equal(d.status, c->status);
        if (c->status == 403) assert_true(fx_has(&d, "IKKE_TILLADT", ""));
        if (c->status == 0) assert_true(d.n_changes > 0);
        reg_decision_clear(&d);
        fx_free(&fx);
    }
}

static void test_forbidden_before_if_match(void **state)
{
    (void)state;
    fx_state fx;
    fx_world(&fx);
    reg_decision d;
    fx_cmd stale = {.if_match = 99};
    fx_decide_opt(&fx, REG_OP_DELETE, REG_ALTERNATIV_ADRESSE, "G50001", NULL, &K147, &stale, &d);
    assert_refused(&d, 403, "IKKE_TILLADT", "");
    reg_decision_clear(&d);
    fx_decide_opt(&fx, REG_OP_DELETE, REG_ALTERNATIV_ADRESSE, "G50001", NULL, &FX_K101, &stale, &d);
    assert_refused(&d, 412, "VERSIONSKONFLIKT", "");
    reg_decision_clear(&d);
    /* 403 before the 409 rules: a foreign daginstitution with children. */
    fx_decide(&fx, REG_OP_DELETE, REG_DAGINSTITUTION, "G40003", NULL, &FX_K101, &d);
    assert_refused(&d, 403, "IKKE_TILLADT", "");
    reg_decision_clear(&d);
    fx_free(&fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_role_matrix),
        cmocka_unit_test(test_forbidden_before_if_match),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
