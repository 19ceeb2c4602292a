/*
 * test_store_read.c -- the store's reads with the register's real
 * decisions: one record (nested, any level), lists with every filter and
 * cursor pagination, reads as of a virkningsdato, history, timed changes,
 * hændelser, snapshots and consumer cursors.
 */
#include "test_store_fixture.h"
#include "store/store_int.h"

static int setup(void **state)
{
    tfix *f = fix_new("test_store_read");
    fix_open(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fix_free(*state);
    return 0;
}

/* ---- reads ------------------------------------------------------------------------ */

static void test_get_nests_children_with_status(void **state)
{
    tfix *f = *state;
    char di[7], ae1[7], ae2[7], aa[7];
    create_ok(f, REG_DAGINSTITUTION, di_body("Klyngen", 101, 1, 1), di);
    create_ok(f, REG_ANVISNINGSENHED, ae_body(di, "Vuggestuen", 6010, 101), ae1);
    create_ok(f, REG_ANVISNINGSENHED, ae_body(di, "Børnehaven", 6011, 101), ae2);
    create_ok(f, REG_ALTERNATIV_ADRESSE, aa_body(ae2, "Skoven", 101), aa);

    reg_level level;
    json_t *rec = NULL;
    assert_int_equal(store_get(f->r, di, NULL, STORE_NESTED, &level, &rec), 0);
    assert_int_equal(level, REG_DAGINSTITUTION);
    assert_string_equal(json_string_value(json_object_get(rec, "status")), "aktiv");
    json_t *kids = json_object_get(rec, "anvisningsenheder");
    assert_int_equal(json_array_size(kids), 2);
    json_t *k2 = json_array_get(kids, 1);
    assert_string_equal(json_string_value(json_object_get(k2, "nummer")), ae2);
    assert_string_equal(json_string_value(json_object_get(k2, "status")), "aktiv");
    json_t *aas = json_object_get(k2, "alternativeAdresser");
    assert_int_equal(json_array_size(aas), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(aas, 0), "nummer")), aa);
    assert_int_equal(
        json_array_size(json_object_get(json_array_get(kids, 0), "alternativeAdresser")), 0);
    json_decref(rec);

    /* any level by number; without STORE_NESTED no children */
    assert_int_equal(store_get(f->r, aa, NULL, 0, &level, &rec), 0);
    assert_int_equal(level, REG_ALTERNATIV_ADRESSE);
    assert_string_equal(json_string_value(json_object_get(rec, "anvisningsenhedsNummer")), ae2);
    json_decref(rec);
    assert_int_equal(store_get(f->r, di, NULL, 0, &level, &rec), 0);
    assert_null(json_object_get(rec, "anvisningsenheder"));
    json_decref(rec);
    assert_int_equal(store_get(f->r, "G99999", NULL, 0, &level, &rec), 404);
    assert_int_equal(store_get(f->r, "junk", NULL, 0, &level, &rec), 404);
}

static void test_answer_carries_the_record_as_get_shows_it(void **state)
{
    tfix *f = *state;
    json_t *body = di_body("Med børn", 101, 1, 1);
    json_t *kids = json_array();
    json_array_append_new(kids, ae_body(NULL, "Et", 6011, 101));
    json_array_append_new(kids, ae_body(NULL, "To", 6010, 101));
    json_object_set_new(body, "anvisningsenheder", kids);
    answer a = run_cmd(f, REG_OP_CREATE, REG_DAGINSTITUTION, NULL, body, actor_support());
    assert_int_equal(a.status, 0);
    assert_string_equal(a.primary, "G00001");
    assert_int_equal(a.n_changes, 3);
    assert_int_equal(a.seq_first, 1);
    assert_int_equal(a.seq_last, 3);
    assert_int_equal(a.version, 1);
    assert_int_equal(json_array_size(json_object_get(a.record, "anvisningsenheder")), 2);
    reg_level level;
    json_t *rec = NULL;
    assert_int_equal(store_get(f->r, a.primary, NULL, STORE_NESTED, &level, &rec), 0);
    assert_true(json_equal(rec, a.record));
    json_decref(rec);
    answer_clear(&a);
}

static void fill_for_lists(tfix *f, char di[3][7], char ae[6][7])
{
    create_ok(f, REG_DAGINSTITUTION, di_body("Solsikken", 101, 1, 1), di[0]);
    create_ok(f, REG_DAGINSTITUTION, di_body("ÆRØ BØRNEHUS", 147, 1, 1), di[1]);
    create_ok(f, REG_DAGINSTITUTION, di_body("Privatbørn", 147, 3, 4), di[2]);
    json_t *b;
    create_ok(f, REG_ANVISNINGSENHED, ae_body(di[0], "Solsikken vuggestue", 6010, 101), ae[0]);
    create_ok(f, REG_ANVISNINGSENHED, ae_body(di[0], "Solsikken børnehave", 6011, 101), ae[1]);
    b = ae_body(di[1], "Ærøskøbing Åben", 6011, 147);
    json_object_set_new(b, "pNummer", json_string("1234567890"));
    json_object_set_new(b, "cvrNummer", json_string("74467334"));
    create_ok(f, REG_ANVISNINGSENHED, b, ae[2]);
    create_ok(f, REG_ANVISNINGSENHED, ae_body(di[1], "Øen", 6012, 147), ae[3]);
    create_ok(f, REG_ANVISNINGSENHED, ae_body(di[2], "Privat", 6011, 147), ae[4]);
    create_ok(f, REG_ANVISNINGSENHED, ae_body(di[2], "Privat 2", 6011, 101), ae[5]);
}

static void test_list_filters(void **state)
{
    tfix *f = *state;
    char di[3][7], ae[6][7];
    fill_for_lists(f, di, ae);
    assert_int_equal(list_count(f, (store_query){.level = REG_DAGINSTITUTION}), 3);
    assert_int_equal(list_count(f, (store_query){.level = REG_DAGINSTITUTION, .adm_kommune = 147}),
                     2);
    assert_int_equal(list_count(f, (store_query){.level = REG_ANVISNINGSENHED}), 6);
    assert_int_equal(list_count(f, (store_query){.level = REG_ANVISNINGSENHED, .kommune = 147}), 3);
    assert_int_equal(list_count(f, (store_query){.level = REG_ANVISNINGSENHED, .inst_type3 = 6011}),
                     4);
    assert_int_equal(list_count(f, (store_query){.level = REG_ANVISNINGSENHED, .parent = di[0]}),
                     2);
    assert_int_equal(
        list_count(f, (store_query){.level = REG_ANVISNINGSENHED, .p_nummer = "1234567890"}), 1);
    assert_int_equal(
        list_count(f, (store_query){.level = REG_ANVISNINGSENHED, .cvr_nummer = "74467334"}), 1);
    /* names: case-insensitive with Danish letters both ways */
    assert_int_equal(list_count(f, (store_query){.level = REG_DAGINSTITUTION, .navn = "ærø"}), 1);
    assert_int_equal(list_count(f, (store_query){.level = REG_DAGINSTITUTION, .navn = "BØRN"}), 2);
    assert_int_equal(
        list_count(f, (store_query){.level = REG_ANVISNINGSENHED, .navn = "ÆRØSKØBING å"}), 1);
    assert_int_equal(list_count(f, (store_query){.level = REG_ANVISNINGSENHED, .navn = "ø"}), 3);
    assert_int_equal(list_count(f, (store_query){.level = REG_ANVISNINGSENHED, .navn = "%"}), 0);
    /* combined */
    assert_int_equal(
        list_count(f,
                   (store_query){.level = REG_ANVISNINGSENHED, .kommune = 147, .inst_type3 = 6011}),
        2);
    /* status */
    assert_int_equal(list_count(f, (store_query){.level = REG_ANVISNINGSENHED, .status = "aktiv"}),
                     6);
    assert_int_equal(
        list_count(f, (store_query){.level = REG_ANVISNINGSENHED, .status = "nedlagt"}), 0);
    json_t *items;
    char next[7];
    store_query bad = {.level = REG_ANVISNINGSENHED, .status = "levende"};
    assert_int_equal(store_list(f->r, &bad, &items, next), 400);
    bad = (store_query){.level = REG_ANVISNINGSENHED, .limit = 1001};
    assert_int_equal(store_list(f->r, &bad, &items, next), 400);
    bad = (store_query){.level = REG_ANVISNINGSENHED, .virkningsdato = "2026-3-1"};
    assert_int_equal(store_list(f->r, &bad, &items, next), 400);
}

static void test_status_filter_follows_the_dates(void **state)
{
    tfix *f = *state;
    char a[7], b[7], c[7];
    f->now_ms = day_ms("2026-03-01");
    create_ok(f, REG_DAGINSTITUTION, di_body("Nu", 101, 1, 1), a);
    json_t *body = di_body("Senere", 101, 1, 1);
    json_object_set_new(body, "virkningFra", json_string("2026-06-01"));
    create_ok(f, REG_DAGINSTITUTION, body, b);
    create_ok(f, REG_DAGINSTITUTION, di_body("Lukker", 101, 1, 1), c);
    f->now_ms = day_ms("2026-03-10");
    answer ans = run_cmd(f, REG_OP_CLOSE, REG_DAGINSTITUTION, c,
                         json_pack("{s:s}", "virkningTil", "2026-03-10"), actor_support());
    assert_int_equal(ans.status, 0);
    assert_string_equal(json_string_value(json_object_get(ans.record, "status")), "nedlagt");
    answer_clear(&ans);
    assert_int_equal(list_count(f, (store_query){.level = REG_DAGINSTITUTION, .status = "aktiv"}),
                     1);
    assert_int_equal(
        list_count(f, (store_query){.level = REG_DAGINSTITUTION, .status = "kommende"}), 1);
    assert_int_equal(list_count(f, (store_query){.level = REG_DAGINSTITUTION, .status = "nedlagt"}),
                     1);
    reg_level level;
    json_t *rec;
    assert_int_equal(store_get(f->r, b, NULL, 0, &level, &rec), 0);
    assert_string_equal(json_string_value(json_object_get(rec, "status")), "kommende");
    json_decref(rec);
}

static void test_pagination_walks_every_record_once(void **state)
{
    tfix *f = *state;
    char n[7];
    for (int i = 0; i < 25; i++) {
        char navn[32];
        snprintf(navn, sizeof navn, "Institution %d", i);
        create_ok(f, REG_DAGINSTITUTION, di_body(navn, 101, 1, 1), n);
    }
    char after[7] = "";
    size_t pages = 0, total = 0;
    char prev[7] = "";
    for (;;) {
        store_query q = {
            .level = REG_DAGINSTITUTION, .limit = 10, .after = after[0] ? after : NULL};
        json_t *items = NULL;
        char next[7];
        assert_int_equal(store_list(f->r, &q, &items, next), 0);
        pages++;
        size_t i;
        json_t *it;
        json_array_foreach(items, i, it)
        {
            const char *num = json_string_value(json_object_get(it, "nummer"));
            assert_true(strcmp(num, prev) > 0);
            snprintf(prev, sizeof prev, "%s", num);
            total++;
        }
        if (pages < 3) {
            assert_int_equal(json_array_size(items), 10);
            assert_string_equal(next, prev);
        } else {
            assert_int_equal(json_array_size(items), 5);
            assert_string_equal(next, "");
        }
        json_decref(items);
        if (!next[0]) break;
        memcpy(after, next, 7);
    }
    assert_int_equal(pages, 3);
    assert_int_equal(total, 25);
    /* exactly one page's worth: the last page says so */
    store_query q = {.level = REG_DAGINSTITUTION, .limit = 25};
    json_t *items;
    char next[7];
    assert_int_equal(store_list(f->r, &q, &items, next), 0);
    assert_int_equal(json_array_size(items), 25);
    assert_string_equal(next, "");
    json_decref(items);
}

static void test_nested_list_pages(void **state)
{
    tfix *f = *state;
    char di[3][7], ae[6][7];
    fill_for_lists(f, di, ae);
    store_query q = {.level = REG_DAGINSTITUTION, .flags = STORE_NESTED, .limit = 2};
    json_t *items;
    char next[7];
    assert_int_equal(store_list(f->r, &q, &items, next), 0);
    assert_int_equal(json_array_size(items), 2);
    assert_int_equal(
        json_array_size(json_object_get(json_array_get(items, 1), "anvisningsenheder")), 2);
    assert_string_equal(next, di[1]);
    json_decref(items);
}

/* ---- time: as-of reads, history, timed changes ------------------------------------- */

static void test_as_of_reads_pick_the_version_in_effect(void **state)
{
    tfix *f = *state;
    char di[7], ae[7], late[7];
    f->now_ms = day_ms("2026-03-01");
    create_ok(f, REG_DAGINSTITUTION, di_body("Første navn", 101, 1, 1), di);
    create_ok(f, REG_ANVISNINGSENHED, ae_body(di, "Stue", 6010, 101), ae);
    f->now_ms = day_ms("2026-03-05");
    answer a = run_cmd(f, REG_OP_UPDATE, REG_DAGINSTITUTION, di,
                       json_pack("{s:s}", "navn", "Andet navn"), actor_support());
    assert_int_equal(a.status, 0);
    answer_clear(&a);
    a = run_cmd(f, REG_OP_UPDATE, REG_ANVISNINGSENHED, ae, json_pack("{s:i}", "instType3", 6012),
                actor_support());
    assert_int_equal(a.status, 0);
    answer_clear(&a);
    f->now_ms = day_ms("2026-03-08");
    create_ok(f, REG_ANVISNINGSENHED, ae_body(di, "Ny stue", 6011, 101), late);
    f->now_ms = day_ms("2026-03-10");
    a = run_cmd(f, REG_OP_CLOSE, REG_ANVISNINGSENHED, ae,
                json_pack("{s:s}", "virkningTil", "2026-03-09"), actor_support());
    assert_int_equal(a.status, 0);
    answer_clear(&a);

    reg_level level;
    json_t *rec = NULL;
    assert_int_equal(store_get(f->r, di, "2026-03-02", STORE_NESTED, &level, &rec), 0);
    assert_string_equal(json_string_value(json_object_get(rec, "navn")), "Første navn");
    json_t *kids = json_object_get(rec, "anvisningsenheder");
    assert_int_equal(json_array_size(kids), 1); /* "Ny stue" did not exist yet */
    assert_int_equal(json_integer_value(json_object_get(json_array_get(kids, 0), "instType3")),
                     6010);
    json_decref(rec);

    assert_int_equal(store_get(f->r, di, "2026-03-08", STORE_NESTED, &level, &rec), 0);
    assert_string_equal(json_string_value(json_object_get(rec, "navn")), "Andet navn");
    kids = json_object_get(rec, "anvisningsenheder");
    assert_int_equal(json_array_size(kids), 2);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(kids, 0), "instType3")),
                     6012);
    json_decref(rec);

    /* on the 9th the closed unit is out */
    assert_int_equal(store_get(f->r, di, "2026-03-09", STORE_NESTED, &level, &rec), 0);
    assert_int_equal(json_array_size(json_object_get(rec, "anvisningsenheder")), 1);
    json_decref(rec);
    assert_int_equal(store_get(f->r, ae, "2026-03-09", 0, &level, &rec), 404);
    /* before anything existed */
    assert_int_equal(store_get(f->r, di, "2026-02-28", 0, &level, &rec), 404);

    /* lists as of a day filter on the version in effect then */
    assert_int_equal(list_count(f, (store_query){.level = REG_ANVISNINGSENHED,
                                                 .virkningsdato = "2026-03-02",
                                                 .inst_type3 = 6010}),
                     1);
    assert_int_equal(list_count(f, (store_query){.level = REG_ANVISNINGSENHED,
                                                 .virkningsdato = "2026-03-06",
                                                 .inst_type3 = 6010}),
                     0);
    assert_int_equal(list_count(f, (store_query){.level = REG_DAGINSTITUTION,
                                                 .virkningsdato = "2026-03-02",
                                                 .navn = "første"}),
                     1);
    assert_int_equal(
        list_count(f, (store_query){.level = REG_ANVISNINGSENHED, .virkningsdato = "2026-03-09"}),
        1);
}

static void test_history_lists_every_version_with_periods(void **state)
{
    tfix *f = *state;
    char di[7];
    f->now_ms = day_ms("2026-03-01");
    create_ok(f, REG_DAGINSTITUTION, di_body("Et", 101, 1, 1), di);
    f->now_ms = day_ms("2026-03-04");
    answer a = run_cmd(f, REG_OP_UPDATE, REG_DAGINSTITUTION, di, json_pack("{s:s}", "navn", "To"),
                       actor_kommune(scope_101, 1));
    assert_int_equal(a.status, 0);
    answer_clear(&a);
    json_t *h = NULL;
    assert_int_equal(store_history(f->r, di, &h), 0);
    assert_int_equal(json_array_size(h), 2);
    json_t *v1 = json_array_get(h, 0), *v2 = json_array_get(h, 1);
    assert_int_equal(json_integer_value(json_object_get(v1, "version")), 1);
    assert_string_equal(json_string_value(json_object_get(v1, "virkningFra")), "2026-03-01");
    assert_string_equal(json_string_value(json_object_get(v1, "virkningTil")), "2026-03-04");
    assert_non_null(json_string_value(json_object_get(v1, "registreringTil")));
    assert_string_equal(json_string_value(json_object_get(v1, "aktoer")), "support-1");
    assert_string_equal(json_string_value(json_object_get(json_object_get(v1, "data"), "navn")),
                        "Et");
    assert_string_equal(json_string_value(json_object_get(v2, "virkningFra")), "2026-03-04");
    assert_true(json_is_null(json_object_get(v2, "virkningTil")));
    assert_true(json_is_null(json_object_get(v2, "registreringTil")));
    assert_string_equal(json_string_value(json_object_get(v2, "aktoer")), "kommune-client");
    json_decref(h);
    assert_int_equal(store_history(f->r, "G77777", &h), 404);
}

static void test_timed_changes_arrive_on_their_day(void **state)
{
    tfix *f = *state;
    char later[7], closing[7];
    f->now_ms = day_ms("2026-03-10");
    json_t *b = di_body("Åbner senere", 101, 1, 1);
    json_object_set_new(b, "virkningFra", json_string("2026-03-12"));
    create_ok(f, REG_DAGINSTITUTION, b, later);
    create_ok(f, REG_DAGINSTITUTION, di_body("Lukker senere", 101, 1, 1), closing);
    answer a = run_cmd(f, REG_OP_CLOSE, REG_DAGINSTITUTION, closing,
                       json_pack("{s:s}", "virkningTil", "2026-03-14"), actor_support());
    assert_int_equal(a.status, 0);
    assert_string_equal(a.changes[0].operation, "aendret"); /* a future close */
    answer_clear(&a);

    answer t = {0};
    assert_int_equal(store_tick(f->s, answer_cb, &t), 0);
    store_wait(f->s);
    assert_int_equal(t.status, 0);
    assert_int_equal(t.n_changes, 0);

    f->now_ms = day_ms("2026-03-12");
    memset(&t, 0, sizeof t);
    store_tick(f->s, answer_cb, &t);
    store_wait(f->s);
    assert_int_equal(t.status, 0);
    assert_int_equal(t.n_changes, 1);
    assert_string_equal(t.changes[0].nummer, later);
    assert_string_equal(t.changes[0].operation, "aendret");
    assert_int_equal(t.changes[0].version, 2);

    /* once done, never again */
    memset(&t, 0, sizeof t);
    store_tick(f->s, answer_cb, &t);
    store_wait(f->s);
    assert_int_equal(t.n_changes, 0);

    f->now_ms = day_ms("2026-03-20"); /* the server was down on the 14th */
    memset(&t, 0, sizeof t);
    store_tick(f->s, answer_cb, &t);
    store_wait(f->s);
    assert_int_equal(t.n_changes, 1);
    assert_string_equal(t.changes[0].nummer, closing);
    assert_string_equal(t.changes[0].operation, "nedlagt");

    json_t *ev = NULL;
    assert_int_equal(store_haendelser(f->r, 1, 100, &ev), 0);
    json_t *last = json_array_get(ev, json_array_size(ev) - 1);
    assert_string_equal(json_string_value(json_object_get(last, "operation")), "nedlagt");
    assert_string_equal(json_string_value(json_object_get(json_object_get(last, "data"), "status")),
                        "nedlagt");
    json_decref(ev);
    json_t *h = NULL;
    assert_int_equal(store_history(f->r, later, &h), 0);
    assert_string_equal(json_string_value(json_object_get(json_array_get(h, 1), "aktoer")),
                        "system");
    json_decref(h);
}

/* ---- hændelser, snapshots, cursors --------------------------------------------------- */

static void test_haendelser_are_gapless_across_refusals(void **state)
{
    tfix *f = *state;
    char di[7];
    create_ok(f, REG_DAGINSTITUTION, di_body("A", 101, 1, 1), di);
    for (int i = 0; i < 10; i++) {
        /* a refusal between each accepted change */
        answer a = run_cmd(f, REG_OP_UPDATE, REG_DAGINSTITUTION, di,
                           json_pack("{s:i}", "lovgrundlagKode", 4), actor_support());
        assert_int_equal(a.status, 422);
        answer_clear(&a);
        char navn[16];
        snprintf(navn, sizeof navn, "Navn %d", i);
        a = run_cmd(f, REG_OP_UPDATE, REG_DAGINSTITUTION, di, json_pack("{s:s}", "navn", navn),
                    actor_support());
        assert_int_equal(a.status, 0);
        assert_int_equal(a.seq_first, i + 2);
        answer_clear(&a);
    }
    json_t *ev = NULL;
    assert_int_equal(store_haendelser(f->r, 1, 0, &ev), 0);
    assert_int_equal(json_array_size(ev), 11);
    for (size_t i = 0; i < 11; i++) {
        json_t *e = json_array_get(ev, i);
        assert_int_equal(json_integer_value(json_object_get(e, "sekvensnummer")), i + 1);
        assert_int_equal(json_integer_value(json_object_get(e, "version")), i + 1);
        assert_string_equal(json_string_value(json_object_get(e, "operation")),
                            i == 0 ? "oprettet" : "aendret");
        assert_string_equal(json_string_value(json_object_get(e, "entitet")), "daginstitution");
    }
    json_decref(ev);
    assert_int_equal(store_haendelser(f->r, 5, 3, &ev), 0);
    assert_int_equal(json_array_size(ev), 3);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(ev, 0), "sekvensnummer")),
                     5);
    json_decref(ev);
    int64_t seq;
    char tid[40];
    assert_int_equal(store_latest(f->r, &seq, tid), 0);
    assert_int_equal(seq, 11);
    assert_string_equal(tid, "2026-03-10T12:00:00.000Z");
}

static void test_latest_before_any_change_is_zero(void **state)
{
    tfix *f = *state;
    int64_t seq = 7;
    char tid[40];
    assert_int_equal(store_latest(f->r, &seq, tid), 0);
    assert_int_equal(seq, 0);
    assert_string_equal(tid, "");
}

static void test_snapshot_is_consistent_with_its_sekvensnummer(void **state)
{
    tfix *f = *state;
    char n[7];
    create_ok(f, REG_DAGINSTITUTION, di_body("Før", 101, 1, 1), n);
    int64_t seq = 0;
    assert_int_equal(store_snapshot_begin(f->r, &seq), 0);
    assert_int_equal(seq, 1);
    create_ok(f, REG_DAGINSTITUTION, di_body("Efter", 101, 1, 1), n);
    assert_int_equal(list_count(f, (store_query){.level = REG_DAGINSTITUTION}), 1);
    int64_t latest;
    char tid[40];
    store_latest(f->r, &latest, tid);
    assert_int_equal(latest, 1);
    store_snapshot_end(f->r);
    assert_int_equal(list_count(f, (store_query){.level = REG_DAGINSTITUTION}), 2);
}

static void test_consumer_cursors(void **state)
{
    tfix *f = *state;
    int64_t seq = -1;
    assert_int_equal(store_cursor_get(f->r, "portal", &seq), 404);
    answer a = {0};
    assert_int_equal(store_cursor_set(f->s, "portal", 42, answer_cb, &a), 0);
    store_wait(f->s);
    assert_int_equal(a.status, 0);
    assert_int_equal(store_cursor_get(f->r, "portal", &seq), 0);
    assert_int_equal(seq, 42);
    store_cursor_set(f->s, "portal", 43, NULL, NULL);
    store_wait(f->s);
    assert_int_equal(store_cursor_get(f->r, "portal", &seq), 0);
    assert_int_equal(seq, 43);
}

/* Names of three characters or more are found through the trigram index
 * (migration 4), which follows every change of a name; the answers are
 * those of the scan (Danish folding, quotes are text). */
static void test_navn_index(void **state)
{
    tfix *f = *state;
    store_navn_scan_budget = 0; /* straight to the index */
    char di[7], other[7];
    create_ok(f, REG_DAGINSTITUTION, di_body("Æblehaven \"Grøn\"", 101, 1, 1), di);
    create_ok(f, REG_DAGINSTITUTION, di_body("Skovly", 101, 1, 1), other);
    assert_int_equal(list_count(f, (store_query){.level = REG_DAGINSTITUTION, .navn = "æBLE"}), 1);
    assert_int_equal(list_count(f, (store_query){.level = REG_DAGINSTITUTION, .navn = "\"grøn\""}),
                     1);
    assert_int_equal(list_count(f, (store_query){.level = REG_DAGINSTITUTION, .navn = "blehav"}),
                     1);
    assert_int_equal(list_count(f, (store_query){.level = REG_DAGINSTITUTION, .navn = "haveN \"g"}),
                     1);
    assert_int_equal(list_count(f, (store_query){.level = REG_DAGINSTITUTION, .navn = "havx"}), 0);
    answer a = run_cmd(f, REG_OP_UPDATE, REG_DAGINSTITUTION, di,
                       json_pack("{s:s}", "navn", "Pærehaven"), actor_support());
    assert_int_equal(a.status, 0);
    answer_clear(&a);
    assert_int_equal(list_count(f, (store_query){.level = REG_DAGINSTITUTION, .navn = "æble"}), 0);
    assert_int_equal(list_count(f, (store_query){.level = REG_DAGINSTITUTION, .navn = "PÆRE"}), 1);
    /* the index holds every current name */
    if (f->pg_db[0]) { /* pg_trgm: a GIN index over record.navn_fold, kept by PostgreSQL */
        assert_int_equal(count_rows(f, "SELECT count(*) FROM record WHERE navn_fold LIKE "
                                       "'%pærehaven%'"),
                         1);
        assert_int_equal(count_rows(f, "SELECT count(*) FROM record WHERE navn_fold LIKE "
                                       "'%æblehaven%'"),
                         0);
    } else {
        assert_int_equal(count_rows(f, "SELECT count(*) FROM record_navn WHERE record_navn MATCH "
                                       "'\"pærehaven\"'"),
                         1);
        assert_int_equal(count_rows(f, "SELECT count(*) FROM record_navn WHERE record_navn MATCH "
                                       "'\"æblehaven\"'"),
                         0);
    }
    store_navn_scan_budget = 50;
}

/* Follows naeste through every page of q; the numbers found, joined by
 * ','; *short_pages counts pages that ended early (fewer than the limit,
 * naeste set). */
static void walk_pages(tfix *f, store_query q, char *out, size_t size, int *short_pages)
{
    char after[7] = "";
    out[0] = '\0';
    *short_pages = 0;
    for (int pages = 0; pages < 100; pages++) {
        json_t *items = NULL;
        char next[7];
        q.after = after[0] ? after : NULL;
        assert_int_equal(store_list(f->r, &q, &items, next), 0);
        for (size_t i = 0; i < json_array_size(items); i++) {
            size_t len = strlen(out);
            snprintf(out + len, size - len, "%s,",
                     json_string_value(json_object_get(json_array_get(items, i), "nummer")));
        }
        if (next[0] && json_array_size(items) < q.limit) (*short_pages)++;
        json_decref(items);
        if (!next[0]) return;
        memcpy(after, next, sizeof after);
    }
    fail_msg("more than 100 pages");
}

/* A list no index can serve (a navn under three characters, an as-of day,
 * a status) reads at most store_list_window numbers a page: the page ends
 * early, even empty, with naeste, and walking every page finds exactly
 * what one unbounded page finds. A filter with an index is not windowed. */
static void test_unindexed_lists_read_a_window_a_page(void **state)
{
    tfix *f = *state;
    char di[3][7], ae[6][7];
    fill_for_lists(f, di, ae);
    const store_query qs[] = {
        {.level = REG_ANVISNINGSENHED, .navn = "ø", .limit = 10},
        {.level = REG_ANVISNINGSENHED, .navn = "pr", .limit = 1},
        {.level = REG_ANVISNINGSENHED, .virkningsdato = "2030-01-01", .limit = 10},
        {.level = REG_DAGINSTITUTION, .status = "aktiv", .limit = 3},
    };
    for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
        char whole[256], paged[256];
        int short_pages;
        store_list_window = 0;
        walk_pages(f, qs[i], whole, sizeof whole, &short_pages);
        assert_int_equal(short_pages, 0);
        assert_true(whole[0] != '\0');
        store_list_window = 2;
        walk_pages(f, qs[i], paged, sizeof paged, &short_pages);
        assert_string_equal(paged, whole);
        if (i != 1) assert_true(short_pages > 0);
    }
    /* the first window of "ø" holds none of its units: an empty page, naeste set */
    json_t *items = NULL;
    char next[7];
    store_query q = {.level = REG_ANVISNINGSENHED, .navn = "øe", .limit = 10}; /* no trigram */
    store_list_window = 2;
    assert_int_equal(store_list(f->r, &q, &items, next), 0);
    assert_int_equal(json_array_size(items), 0);
    assert_string_equal(next, ae[1]);
    json_decref(items);
    /* with a parent (an index) the page is whole */
    q = (store_query){.level = REG_ANVISNINGSENHED, .navn = "ø", .parent = di[1], .limit = 10};
    assert_int_equal(list_count(f, q), 2);
    store_list_window = 20000;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
        T(test_navn_index),
        T(test_unindexed_lists_read_a_window_a_page),
        T(test_get_nests_children_with_status),
        T(test_answer_carries_the_record_as_get_shows_it),
        T(test_list_filters),
        T(test_status_filter_follows_the_dates),
        T(test_pagination_walks_every_record_once),
        T(test_nested_list_pages),
        T(test_as_of_reads_pick_the_version_in_effect),
        T(test_history_lists_every_version_with_periods),
        T(test_timed_changes_arrive_on_their_day),
        T(test_haendelser_are_gapless_across_refusals),
        T(test_latest_before_any_change_is_zero),
        T(test_snapshot_is_consistent_with_its_sekvensnummer),
        T(test_consumer_cursors),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
