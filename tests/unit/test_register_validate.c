/*
 * test_register_validate.c -- the fields on their own, through create and
 * update decisions: presence, types, unknown and read-only fields, lengths
 * in Unicode characters after NFC, formats (CVR, P-nummer, postnummer,
 * husnummer, e-mail, telefon, DAWA id, coordinates, dates, numbers), codes,
 * and that all errors of a request come back at once with their paths.
 */
#include "test_register_fixture.h"

typedef struct vt {
    fx_state fx;
    reg_decision d;
} vt;

static int setup(void **state)
{
    vt *t = calloc(1, sizeof *t);
    fx_init(&t->fx);
    fx_dag(&t->fx, "G40001", 1, 1, 101, "2019-08-30", NULL);
    t->fx.next = 100;
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    vt *t = *state;
    reg_decision_clear(&t->d);
    fx_free(&t->fx);
    free(t);
    return 0;
}

/* Creates at a level with the body (taken) as support; returns the status. */
static int create(vt *t, reg_level level, json_t *body)
{
    reg_decision_clear(&t->d);
    return fx_decide_body(&t->fx, REG_OP_CREATE, level, NULL, body, &FX_SUPPORT, NULL, &t->d);
}

/* A unit body with one field of its adresse replaced (value taken). */
static json_t *unit_with_adresse(const char *key, json_t *value)
{
    json_t *b = fx_unit_body("G40001");
    json_object_set_new(json_object_get(b, "adresse"), key, value);
    return b;
}

static json_t *unit_with(const char *key, json_t *value)
{
    json_t *b = fx_unit_body("G40001");
    json_object_set_new(b, key, value);
    return b;
}

static json_t *dag_with(const char *key, json_t *value)
{
    json_t *b = fx_dag_body();
    json_object_set_new(b, key, value);
    return b;
}

static char *repeat(const char *unit, size_t n)
{
    size_t len = strlen(unit);
    char *s = malloc(len * n + 1);
    for (size_t i = 0; i < n; i++)
        memcpy(s + i * len, unit, len);
    s[len * n] = '\0';
    return s;
}

static void test_created_daginstitution_shape(void **state)
{
    vt *t = *state;
    assert_int_equal(create(t, REG_DAGINSTITUTION, fx_dag_body()), 0);
    assert_int_equal(t->d.n_changes, 1);
    const reg_change *ch = &t->d.changes[0];
    assert_string_equal(ch->operation, "oprettet");
    assert_string_equal(ch->nummer, "G00100");
    assert_string_equal(t->d.primary, "G00100");
    assert_null(ch->before);
    json_t *want =
        json_pack("{s:s, s:s, s:i, s:i, s:i, s:s, s:n, s:i, s:s}", "nummer", "G00100", "navn",
                  "Solsikken", "ejerformKode", 1, "lovgrundlagKode", 1, "admKommuneKode", 101,
                  "virkningFra", FX_TODAY, "virkningTil", "version", 1, "opdateret", FX_NOW);
    assert_true(json_equal(ch->after, want));
    json_decref(want);
    /* Keys in canonical order. */
    const char *order[] = {"nummer",          "navn",           "ejerformKode",
                           "lovgrundlagKode", "admKommuneKode", "virkningFra",
                           "virkningTil",     "version",        "opdateret"};
    size_t i = 0;
    const char *key;
    json_t *v;
    json_object_foreach(ch->after, key, v) assert_string_equal(key, order[i++]);
}

static void test_created_anvisningsenhed_shape(void **state)
{
    vt *t = *state;
    json_t *b = fx_unit_body("G40001");
    json_object_del(json_object_get(b, "adresse"), "etage");
    json_object_set_new(b, "virkningFra", json_string("2019-01-01"));
    assert_int_equal(create(t, REG_ANVISNINGSENHED, b), 0);
    json_t *after = t->d.changes[0].after;
    assert_string_equal(json_string_value(json_object_get(after, "daginstitutionsNummer")),
                        "G40001");
    assert_string_equal(json_string_value(json_object_get(after, "virkningFra")), "2019-01-01");
    assert_true(json_is_null(json_object_get(after, "email")));
    assert_true(json_is_null(json_object_get(after, "telefonNummer")));
    assert_true(json_is_null(json_object_get(after, "cvrNummer")));
    assert_true(json_is_null(json_object_get(after, "pNummer")));
    assert_null(json_object_get(after, "status"));
    json_t *a = json_object_get(after, "adresse");
    assert_int_equal(json_object_size(a), 11);
    assert_true(json_is_null(json_object_get(a, "etage")));
    assert_true(json_is_null(json_object_get(a, "dawaId")));
    assert_int_equal(json_integer_value(json_object_get(a, "kommuneKode")), 101);
    assert_true(json_is_real(json_object_get(a, "geoBredde")));
    assert_int_equal(json_object_size(after), 13);
}

static void test_missing_fields(void **state)
{
    vt *t = *state;
    assert_int_equal(create(t, REG_DAGINSTITUTION, json_object()), 422);
    assert_int_equal(t->d.n_errors, 4);
    assert_true(fx_has(&t->d, "MANGLER_FELT", "navn"));
    assert_true(fx_has(&t->d, "MANGLER_FELT", "ejerformKode"));
    assert_true(fx_has(&t->d, "MANGLER_FELT", "lovgrundlagKode"));
    assert_true(fx_has(&t->d, "MANGLER_FELT", "admKommuneKode"));

    assert_int_equal(create(t, REG_ANVISNINGSENHED, json_object()), 422);
    assert_true(fx_has(&t->d, "MANGLER_FELT", "daginstitutionsNummer"));
    assert_true(fx_has(&t->d, "MANGLER_FELT", "instType3"));
    assert_true(fx_has(&t->d, "MANGLER_FELT", "adresse"));

    json_t *b = fx_unit_body("G40001");
    json_object_set_new(b, "adresse", json_object());
    assert_int_equal(create(t, REG_ANVISNINGSENHED, b), 422);
    assert_int_equal(t->d.n_errors, 5);
    assert_true(fx_has(&t->d, "MANGLER_FELT", "adresse.vejNavn"));
    assert_true(fx_has(&t->d, "MANGLER_FELT", "adresse.husNummer"));
    assert_true(fx_has(&t->d, "MANGLER_FELT", "adresse.postNummer"));
    assert_true(fx_has(&t->d, "MANGLER_FELT", "adresse.byNavn"));
    assert_true(fx_has(&t->d, "MANGLER_FELT", "adresse.kommuneKode"));

    /* An empty navn is a missing navn; an empty optional text is null. */
    create(t, REG_DAGINSTITUTION, dag_with("navn", json_string("")));
    assert_refused(&t->d, 422, "MANGLER_FELT", "navn");
    assert_int_equal(create(t, REG_ANVISNINGSENHED, unit_with("email", json_string(""))), 0);
    assert_true(json_is_null(json_object_get(t->d.changes[0].after, "email")));

    create(t, REG_ALTERNATIV_ADRESSE, json_pack("{s:s}", "navn", "x"));
    assert_refused(&t->d, 422, "MANGLER_FELT", "anvisningsenhedsNummer");
    assert_true(fx_has(&t->d, "MANGLER_FELT", "adresse"));
}

static void test_wrong_types(void **state)
{
    vt *t = *state;
    create(t, REG_DAGINSTITUTION, dag_with("navn", json_integer(5)));
    assert_refused(&t->d, 422, "FORKERT_TYPE", "navn");
    create(t, REG_DAGINSTITUTION, dag_with("ejerformKode", json_string("1")));
    assert_refused(&t->d, 422, "FORKERT_TYPE", "ejerformKode");
    create(t, REG_DAGINSTITUTION, dag_with("admKommuneKode", json_real(101.0)));
    assert_refused(&t->d, 422, "FORKERT_TYPE", "admKommuneKode");
    create(t, REG_DAGINSTITUTION, dag_with("lovgrundlagKode", json_true()));
    assert_refused(&t->d, 422, "FORKERT_TYPE", "lovgrundlagKode");
    create(t, REG_ANVISNINGSENHED, unit_with("adresse", json_string("Rømersgade 27")));
    assert_refused(&t->d, 422, "FORKERT_TYPE", "adresse");
    create(t, REG_ANVISNINGSENHED, unit_with_adresse("postNummer", json_integer(1362)));
    assert_refused(&t->d, 422, "FORKERT_TYPE", "adresse.postNummer");
    create(t, REG_ANVISNINGSENHED, unit_with_adresse("geoBredde", json_string("55.6")));
    assert_refused(&t->d, 422, "FORKERT_TYPE", "adresse.geoBredde");
    create(t, REG_ANVISNINGSENHED, unit_with("cvrNummer", json_integer(74467334)));
    assert_refused(&t->d, 422, "FORKERT_TYPE", "cvrNummer");
    create(t, REG_ANVISNINGSENHED, unit_with("virkningFra", json_integer(20260101)));
    assert_refused(&t->d, 422, "FORKERT_TYPE", "virkningFra");
    create(t, REG_ANVISNINGSENHED, unit_with("daginstitutionsNummer", json_integer(40001)));
    assert_refused(&t->d, 422, "FORKERT_TYPE", "daginstitutionsNummer");
    create(t, REG_DAGINSTITUTION, json_pack("[s]", "navn"));
    assert_refused(&t->d, 422, "FORKERT_TYPE", "");
    /* Integers are fine for coordinates. */
    json_t *b = fx_unit_body("G40001");
    json_object_set_new(json_object_get(b, "adresse"), "geoBredde", json_integer(56));
    assert_int_equal(create(t, REG_ANVISNINGSENHED, b), 0);
}

static void test_unknown_fields(void **state)
{
    vt *t = *state;
    create(t, REG_DAGINSTITUTION, dag_with("farve", json_string("grøn")));
    assert_refused(&t->d, 422, "UKENDT_FELT", "farve");
    create(t, REG_ANVISNINGSENHED, unit_with_adresse("land", json_string("DK")));
    assert_refused(&t->d, 422, "UKENDT_FELT", "adresse.land");
    /* A field of another level is unknown here. */
    create(t, REG_DAGINSTITUTION, dag_with("instType3", json_integer(6011)));
    assert_refused(&t->d, 422, "UKENDT_FELT", "instType3");
    create(t, REG_ALTERNATIV_ADRESSE,
           json_pack("{s:s, s:s, s:o, s:s}", "anvisningsenhedsNummer", "G40001", "navn", "x",
                     "adresse", fx_adresse(101), "email", "a@b.dk"));
    assert_refused(&t->d, 422, "UKENDT_FELT", "email");
}

static void test_read_only_fields_on_create(void **state)
{
    vt *t = *state;
    create(t, REG_DAGINSTITUTION, dag_with("nummer", json_string("G00001")));
    assert_refused(&t->d, 422, "SKRIVEBESKYTTET", "nummer");
    create(t, REG_DAGINSTITUTION, dag_with("status", json_string("aktiv")));
    assert_refused(&t->d, 422, "SKRIVEBESKYTTET", "status");
    create(t, REG_DAGINSTITUTION, dag_with("version", json_integer(1)));
    assert_refused(&t->d, 422, "SKRIVEBESKYTTET", "version");
    create(t, REG_DAGINSTITUTION, dag_with("opdateret", json_string(FX_NOW)));
    assert_refused(&t->d, 422, "SKRIVEBESKYTTET", "opdateret");
    /* A nested child gets its parent's number; it cannot name one. */
    json_t *b = fx_dag_body();
    json_object_set_new(b, "anvisningsenheder", json_pack("[o]", fx_unit_body("G40001")));
    create(t, REG_DAGINSTITUTION, b);
    assert_refused(&t->d, 422, "SKRIVEBESKYTTET", "anvisningsenheder[0].daginstitutionsNummer");
}

static void test_lengths_in_characters(void **state)
{
    vt *t = *state;
    char *s = repeat("æ", 132); /* 264 bytes, 132 characters */
    assert_int_equal(create(t, REG_DAGINSTITUTION, dag_with("navn", json_string(s))), 0);
    free(s);
    s = repeat("æ", 133);
    create(t, REG_DAGINSTITUTION, dag_with("navn", json_string(s)));
    assert_refused(&t->d, 422, "FOR_LANG", "navn");
    free(s);
    s = repeat("x", 133);
    create(t, REG_DAGINSTITUTION, dag_with("navn", json_string(s)));
    assert_refused(&t->d, 422, "FOR_LANG", "navn");
    free(s);
    s = repeat("ø", 40);
    assert_int_equal(create(t, REG_ANVISNINGSENHED, unit_with_adresse("vejNavn", json_string(s))),
                     0);
    free(s);
    s = repeat("ø", 41);
    create(t, REG_ANVISNINGSENHED, unit_with_adresse("vejNavn", json_string(s)));
    assert_refused(&t->d, 422, "FOR_LANG", "adresse.vejNavn");
    free(s);
    const char *f34[] = {"byNavn", "etage", "doer", "supplerendeBynavn"};
    for (size_t i = 0; i < 4; i++) {
        s = repeat("å", 34);
        assert_int_equal(create(t, REG_ANVISNINGSENHED, unit_with_adresse(f34[i], json_string(s))),
                         0);
        free(s);
        s = repeat("å", 35);
        create(t, REG_ANVISNINGSENHED, unit_with_adresse(f34[i], json_string(s)));
        char felt[64];
        snprintf(felt, sizeof felt, "adresse.%s", f34[i]);
        assert_refused(&t->d, 422, "FOR_LANG", felt);
        free(s);
    }
    s = repeat("a", 130);
    char email[200];
    snprintf(email, sizeof email, "%s@d", s); /* 132 characters */
    assert_int_equal(create(t, REG_ANVISNINGSENHED, unit_with("email", json_string(email))), 0);
    snprintf(email, sizeof email, "%s@dk", s); /* 133 */
    create(t, REG_ANVISNINGSENHED, unit_with("email", json_string(email)));
    assert_refused(&t->d, 422, "FOR_LANG", "email");
    free(s);
}

static void test_telefon_length(void **state)
{
    vt *t = *state;
    assert_int_equal(create(t, REG_ANVISNINGSENHED,
                            unit_with("telefonNummer", json_string("+45 1234 5678 9012 3"))),
                     0); /* 20 characters */
    create(t, REG_ANVISNINGSENHED,
           unit_with("telefonNummer", json_string("+45 1234 5678 9012 34")));
    assert_refused(&t->d, 422, "FOR_LANG", "telefonNummer");
}

static void test_nfc_normalization(void **state)
{
    vt *t = *state;
    /* 'a' + COMBINING RING ABOVE is one character after NFC ('å'). */
    char *s = repeat("a\xcc\x8a", 132); /* 264 code points before NFC */
    assert_int_equal(create(t, REG_DAGINSTITUTION, dag_with("navn", json_string(s))), 0);
    char *want = repeat("\xc3\xa5", 132);
    assert_string_equal(json_string_value(json_object_get(t->d.changes[0].after, "navn")), want);
    free(want);
    free(s);
    s = repeat("a\xcc\x8a", 133);
    create(t, REG_DAGINSTITUTION, dag_with("navn", json_string(s)));
    assert_refused(&t->d, 422, "FOR_LANG", "navn");
    free(s);
    /* Stored normalized, also inside adresse. */
    assert_int_equal(create(t, REG_ANVISNINGSENHED,
                            unit_with_adresse("byNavn", json_string("Ga\xcc\x8a"
                                                                    "de"))),
                     0);
    json_t *a = json_object_get(t->d.changes[0].after, "adresse");
    assert_string_equal(json_string_value(json_object_get(a, "byNavn")), "G\xc3\xa5"
                                                                         "de");
}

static void test_invalid_text(void **state)
{
    vt *t = *state;
    /* jansson validates UTF-8 on parse, but a json_t can be built without. */
    create(t, REG_DAGINSTITUTION,
           dag_with("navn", json_string_nocheck("Sol\xff"
                                                "sikken")));
    assert_refused(&t->d, 422, "UGYLDIGT_FORMAT", "navn");
    create(t, REG_DAGINSTITUTION, dag_with("navn", json_stringn("Sol\0sikken", 10)));
    assert_refused(&t->d, 422, "UGYLDIGT_FORMAT", "navn");
    create(t, REG_DAGINSTITUTION, dag_with("navn", json_string("Sol\nsikken")));
    assert_refused(&t->d, 422, "UGYLDIGT_FORMAT", "navn");
}

static void test_cvr(void **state)
{
    vt *t = *state;
    const char *valid[] = {"74467334", "10150817", "29189846", "12345674"};
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(
            create(t, REG_ANVISNINGSENHED, unit_with("cvrNummer", json_string(valid[i]))), 0);
    const char *invalid[] = {"74467335",  "12345678", "1234567",
                             "123456740", "1234567a", " 4467334"};
    for (size_t i = 0; i < 6; i++) {
        create(t, REG_ANVISNINGSENHED, unit_with("cvrNummer", json_string(invalid[i])));
        assert_refused(&t->d, 422, "UGYLDIG_CVR", "cvrNummer");
    }
    create(t, REG_ALTERNATIV_ADRESSE,
           json_pack("{s:s, s:s, s:o, s:s}", "anvisningsenhedsNummer", "G40001", "navn", "x",
                     "adresse", fx_adresse(101), "cvrNummer", "74467335"));
    assert_true(fx_has(&t->d, "UGYLDIG_CVR", "cvrNummer"));
}

static void test_pnummer(void **state)
{
    vt *t = *state;
    assert_int_equal(
        create(t, REG_ANVISNINGSENHED, unit_with("pNummer", json_string("1482983425"))), 0);
    const char *invalid[] = {"148298342", "14829834250", "148298342x", "1482 83425"};
    for (size_t i = 0; i < 4; i++) {
        create(t, REG_ANVISNINGSENHED, unit_with("pNummer", json_string(invalid[i])));
        assert_refused(&t->d, 422, "UGYLDIG_PNUMMER", "pNummer");
    }
    assert_int_equal(create(t, REG_ANVISNINGSENHED, unit_with("pNummer", json_null())), 0);
}

static void test_postnummer(void **state)
{
    vt *t = *state;
    assert_int_equal(
        create(t, REG_ANVISNINGSENHED, unit_with_adresse("postNummer", json_string("0800"))), 0);
    const char *invalid[] = {"123", "12345", "12a4", "DK-1362"};
    for (size_t i = 0; i < 4; i++) {
        create(t, REG_ANVISNINGSENHED, unit_with_adresse("postNummer", json_string(invalid[i])));
        assert_refused(&t->d, 422, "UGYLDIG_POSTNUMMER", "adresse.postNummer");
    }
}

static void test_husnummer(void **state)
{
    vt *t = *state;
    const char *valid[] = {"1", "12", "123", "12A", "7b"};
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(
            create(t, REG_ANVISNINGSENHED, unit_with_adresse("husNummer", json_string(valid[i]))),
            0);
        json_t *a = json_object_get(t->d.changes[0].after, "adresse");
        assert_string_equal(json_string_value(json_object_get(a, "husNummer")), valid[i]);
    }
    const char *invalid[] = {"1234", "A1", "12AB", "12-", "12 A", "1æ"};
    for (size_t i = 0; i < 6; i++) {
        create(t, REG_ANVISNINGSENHED, unit_with_adresse("husNummer", json_string(invalid[i])));
        assert_refused(&t->d, 422, "UGYLDIGT_FORMAT", "adresse.husNummer");
    }
}

static void test_email_telefon_dawa(void **state)
{
    vt *t = *state;
    assert_int_equal(create(t, REG_ANVISNINGSENHED, unit_with("email", json_string("sol@kk.dk"))),
                     0);
    const char *emails[] = {"sol.kk.dk", "sol@@kk.dk", "s@l@kk.dk", "@kk.dk", "sol@", "s l@kk.dk"};
    for (size_t i = 0; i < 6; i++) {
        create(t, REG_ANVISNINGSENHED, unit_with("email", json_string(emails[i])));
        assert_refused(&t->d, 422, "UGYLDIGT_FORMAT", "email");
    }
    const char *phones_ok[] = {"+45 33 66 33 66", "33663366", "0045 3366"};
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(
            create(t, REG_ANVISNINGSENHED, unit_with("telefonNummer", json_string(phones_ok[i]))),
            0);
    const char *phones[] = {"33-66-33-66", "45+3366", "+", "tlf 3366", "++4533"};
    for (size_t i = 0; i < 5; i++) {
        create(t, REG_ANVISNINGSENHED, unit_with("telefonNummer", json_string(phones[i])));
        assert_refused(&t->d, 422, "UGYLDIGT_FORMAT", "telefonNummer");
    }
    assert_int_equal(
        create(t, REG_ANVISNINGSENHED,
               unit_with_adresse("dawaId", json_string("0a3f50a0-73bf-32b8-e044-0003ba298018"))),
        0);
    const char *uuids[] = {"0a3f50a073bf32b8e0440003ba298018",
                           "0a3f50a0-73bf-32b8-e044-0003ba29801",
                           "0a3f50a0-73bf-32b8-e044-0003ba29801g"};
    for (size_t i = 0; i < 3; i++) {
        create(t, REG_ANVISNINGSENHED, unit_with_adresse("dawaId", json_string(uuids[i])));
        assert_refused(&t->d, 422, "UGYLDIGT_FORMAT", "adresse.dawaId");
    }
}

static void test_coordinates_in_denmark(void **state)
{
    vt *t = *state;
    double ok_lat[] = {54.5, 57.8, 55.0}, ok_lon[] = {8.0, 15.2, 12.5};
    for (size_t i = 0; i < 3; i++) {
        json_t *b = unit_with_adresse("geoBredde", json_real(ok_lat[i]));
        json_object_set_new(json_object_get(b, "adresse"), "geoLaengde", json_real(ok_lon[i]));
        assert_int_equal(create(t, REG_ANVISNINGSENHED, b), 0);
    }
    create(t, REG_ANVISNINGSENHED, unit_with_adresse("geoBredde", json_real(54.49)));
    assert_refused(&t->d, 422, "UGYLDIGT_FORMAT", "adresse.geoBredde");
    create(t, REG_ANVISNINGSENHED, unit_with_adresse("geoBredde", json_real(57.81)));
    assert_refused(&t->d, 422, "UGYLDIGT_FORMAT", "adresse.geoBredde");
    create(t, REG_ANVISNINGSENHED, unit_with_adresse("geoLaengde", json_real(7.99)));
    assert_refused(&t->d, 422, "UGYLDIGT_FORMAT", "adresse.geoLaengde");
    create(t, REG_ANVISNINGSENHED, unit_with_adresse("geoLaengde", json_real(15.21)));
    assert_refused(&t->d, 422, "UGYLDIGT_FORMAT", "adresse.geoLaengde");
    /* Swapped (longitude as latitude) is caught too. */
    json_t *b = unit_with_adresse("geoBredde", json_real(12.5));
    json_object_set_new(json_object_get(b, "adresse"), "geoLaengde", json_real(55.6));
    create(t, REG_ANVISNINGSENHED, b);
    assert_refused(&t->d, 422, "UGYLDIGT_FORMAT", "adresse.geoBredde");
    assert_true(fx_has(&t->d, "UGYLDIGT_FORMAT", "adresse.geoLaengde"));
    /* One without the other. */
    create(t, REG_ANVISNINGSENHED, unit_with_adresse("geoLaengde", json_null()));
    assert_refused(&t->d, 422, "MANGLER_FELT", "adresse.geoLaengde");
    /* Neither is fine. */
    b = unit_with_adresse("geoLaengde", json_null());
    json_object_set_new(json_object_get(b, "adresse"), "geoBredde", json_null());
    assert_int_equal(create(t, REG_ANVISNINGSENHED, b), 0);
}

static void test_dates(void **state)
{
    vt *t = *state;
    assert_int_equal(
        create(t, REG_DAGINSTITUTION, dag_with("virkningFra", json_string("2028-02-29"))), 0);
    assert_string_equal(json_string_value(json_object_get(t->d.changes[0].after, "virkningFra")),
                        "2028-02-29");
    const char *invalid[] = {"2026-02-29", "2026-13-01",           "2026-04-31", "26-01-01",
                             "2026-1-01",  "2026-01-01T00:00:00Z", "01-01-2026", "2026-00-10"};
    for (size_t i = 0; i < 8; i++) {
        create(t, REG_DAGINSTITUTION, dag_with("virkningFra", json_string(invalid[i])));
        assert_refused(&t->d, 422, "UGYLDIG_DATO", "virkningFra");
    }
    json_t *b = dag_with("virkningFra", json_string("2026-01-01"));
    json_object_set_new(b, "virkningTil", json_string("2026-01-01"));
    create(t, REG_DAGINSTITUTION, b);
    assert_refused(&t->d, 422, "UGYLDIG_DATO", "virkningTil");
    b = dag_with("virkningFra", json_string("2026-01-01"));
    json_object_set_new(b, "virkningTil", json_string("2025-12-31"));
    create(t, REG_DAGINSTITUTION, b);
    assert_refused(&t->d, 422, "UGYLDIG_DATO", "virkningTil");
    /* Without virkningFra it defaults to today; virkningTil must be after. */
    create(t, REG_DAGINSTITUTION, dag_with("virkningTil", json_string(FX_TODAY)));
    assert_refused(&t->d, 422, "UGYLDIG_DATO", "virkningTil");
    assert_int_equal(
        create(t, REG_DAGINSTITUTION, dag_with("virkningTil", json_string("2026-06-16"))), 0);
    assert_int_equal(create(t, REG_DAGINSTITUTION, dag_with("virkningFra", json_null())), 0);
    assert_string_equal(json_string_value(json_object_get(t->d.changes[0].after, "virkningFra")),
                        FX_TODAY);
}

static void test_codes(void **state)
{
    vt *t = *state;
    create(t, REG_DAGINSTITUTION, dag_with("ejerformKode", json_integer(5)));
    assert_refused(&t->d, 422, "UKENDT_KODE", "ejerformKode");
    create(t, REG_DAGINSTITUTION, dag_with("lovgrundlagKode", json_integer(11)));
    assert_refused(&t->d, 422, "UKENDT_KODE", "lovgrundlagKode");
    create(t, REG_DAGINSTITUTION, dag_with("admKommuneKode", json_integer(100)));
    assert_refused(&t->d, 422, "UKENDT_KODE", "admKommuneKode");
    create(t, REG_DAGINSTITUTION, dag_with("admKommuneKode", json_integer(10000000000LL)));
    assert_refused(&t->d, 422, "UKENDT_KODE", "admKommuneKode");
    create(t, REG_ANVISNINGSENHED, unit_with("instType3", json_integer(6015)));
    assert_refused(&t->d, 422, "UKENDT_KODE", "instType3");
    create(t, REG_ANVISNINGSENHED, unit_with_adresse("kommuneKode", json_integer(999)));
    assert_refused(&t->d, 422, "UKENDT_KODE", "adresse.kommuneKode");
    /* Every kommune of the list is accepted. */
    size_t n;
    const reg_code *k = reg_kommuner(&n);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(create(t, REG_ANVISNINGSENHED,
                                unit_with_adresse("kommuneKode", json_integer(k[i].kode))),
                         0);
    }
}

static void test_parent_number_format(void **state)
{
    vt *t = *state;
    const char *invalid[] = {"g40001", "G4000", "G400011", "40001", "GG0001"};
    for (size_t i = 0; i < 5; i++) {
        create(t, REG_ANVISNINGSENHED, unit_with("daginstitutionsNummer", json_string(invalid[i])));
        assert_refused(&t->d, 422, "UGYLDIGT_FORMAT", "daginstitutionsNummer");
    }
}

static void test_all_errors_at_once(void **state)
{
    vt *t = *state;
    json_t *u0 = fx_unit_body(NULL);
    json_object_set_new(json_object_get(u0, "adresse"), "postNummer", json_string("12"));
    json_t *u1 = fx_unit_body(NULL);
    json_object_set_new(u1, "navn", json_integer(7));
    json_object_set_new(u1, "alternativeAdresser",
                        json_pack("[{s:s, s:o}]", "navn", "", "adresse", fx_adresse(999)));
    json_t *b = dag_with("ejerformKode", json_integer(9));
    json_object_set_new(b, "anvisningsenheder", json_pack("[o, o]", u0, u1));
    json_object_set_new(b, "cvrNummer", json_string("1"));
    create(t, REG_DAGINSTITUTION, b);
    assert_int_equal(t->d.status, 422);
    assert_int_equal(t->d.n_errors, 6);
    assert_true(fx_has(&t->d, "UKENDT_KODE", "ejerformKode"));
    assert_true(fx_has(&t->d, "UKENDT_FELT", "cvrNummer"));
    assert_true(fx_has(&t->d, "UGYLDIG_POSTNUMMER", "anvisningsenheder[0].adresse.postNummer"));
    assert_true(fx_has(&t->d, "FORKERT_TYPE", "anvisningsenheder[1].navn"));
    assert_true(fx_has(&t->d, "MANGLER_FELT", "anvisningsenheder[1].alternativeAdresser[0].navn"));
    assert_true(fx_has(&t->d, "UKENDT_KODE",
                       "anvisningsenheder[1].alternativeAdresser[0].adresse.kommuneKode"));
    assert_int_equal(t->d.n_changes, 0);
}

static void test_error_cap(void **state)
{
    vt *t = *state;
    json_t *b = fx_dag_body();
    for (int i = 0; i < 2 * REG_MAX_ERRORS; i++) {
        char key[16];
        snprintf(key, sizeof key, "x%d", i);
        json_object_set_new(b, key, json_true());
    }
    assert_int_equal(create(t, REG_DAGINSTITUTION, b), 422);
    assert_int_equal(t->d.n_errors, REG_MAX_ERRORS);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_created_daginstitution_shape),
        T(test_created_anvisningsenhed_shape),
        T(test_missing_fields),
        T(test_wrong_types),
        T(test_unknown_fields),
        T(test_read_only_fields_on_create),
        T(test_lengths_in_characters),
        T(test_telefon_length),
        T(test_nfc_normalization),
        T(test_invalid_text),
        T(test_cvr),
        T(test_pnummer),
        T(test_postnummer),
        T(test_husnummer),
        T(test_email_telefon_dawa),
        T(test_coordinates_in_denmark),
        T(test_dates),
        T(test_codes),
        T(test_parent_number_format),
        T(test_all_errors_at_once),
        T(test_error_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
