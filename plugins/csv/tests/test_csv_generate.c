/*
 * test_csv_generate.c -- generate: the synthetic register reads back with no
 * refusal, follows the domain's rules (cross-validation matrices, CVR
 * modulus 11, P-numre, numbers and export order), has plausible
 * distributions, is the same for the same seed, and writes back byte for
 * byte.
 */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "csvp.h"
#include "fake_host.h"

static void *plugin;
static char err[1024];

static int setup(void **state)
{
    (void)state;
    plugin = fake_plugin_new();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fake_plugin_free(plugin);
    return 0;
}

static const char *str(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static long long num(json_t *o, const char *key)
{
    return (long long)json_integer_value(json_object_get(o, key));
}

static bool all_digits(const char *s, size_t n)
{
    if (s == NULL || strlen(s) != n) return false;
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i])) return false;
    return true;
}

static bool cvr_valid(const char *cvr)
{
    static const int weights[8] = {2, 7, 6, 5, 4, 3, 2, 1};
    if (!all_digits(cvr, 8)) return false;
    int sum = 0;
    for (int i = 0; i < 8; i++)
        sum += (cvr[i] - '0') * weights[i];
    return sum % 11 == 0;
}

static bool nummer_valid(const char *n)
{
    return n && strlen(n) == 6 && strchr("GHJKLMNPRSTUVWXYZ", n[0]) && all_digits(n + 1, 5);
}

/* DOMAIN.md: ejerform -> allowed lovgrundlag, lovgrundlag -> allowed types. */
static bool lovgrundlag_allowed(int ejerform, int lov)
{
    static const char *allowed[5] = {"", ",1,5,6,7,8,9,10,", ",2,5,6,7,9,10,", ",4,5,6,7,", ",3,"};
    char key[8];
    snprintf(key, sizeof key, ",%d,", lov);
    return ejerform >= 1 && ejerform <= 4 && strstr(allowed[ejerform], key) != NULL;
}

static bool type_allowed(int lov, int type)
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
    default:
        return false;
    }
}

static dtr_status read_back(const char *dir, collected *c)
{
    collected_init(c);
    dtr_import_sink sink = collected_sink(c);
    return csvp_descriptor.import_read(plugin, dir, &sink, err, sizeof err);
}

static bool same_file(const char *a, const char *b, const char *name)
{
    size_t la, lb;
    char *da = read_whole(a, name, &la), *db = read_whole(b, name, &lb);
    bool same = da && db && la == lb && memcmp(da, db, la) == 0;
    free(da), free(db);
    return same;
}

static void test_generated_register_is_valid_and_plausible(void **state)
{
    (void)state;
    const uint64_t units = 6000;
    char *dir = temp_dir();
    assert_int_equal(csvp_descriptor.generate(plugin, units, 7, dir, err, sizeof err), DTR_OK);
    collected c;
    assert_int_equal(read_back(dir, &c), DTR_OK);
    assert_int_equal(json_array_size(c.refusals), 0);
    json_t *dis = c.records[0], *aes = c.records[1], *aas = c.records[2];
    assert_int_equal(json_array_size(aes), units);

    /* daginstitutioner: numbers, order, matrices */
    json_t *by_nummer = json_object(), *seen = json_object();
    size_t i;
    json_t *r;
    const char *prev = "";
    json_array_foreach(dis, i, r)
    {
        const char *n = str(r, "nummer");
        assert_true(nummer_valid(n));
        assert_true(strcmp(prev, n) < 0);
        prev = n;
        assert_true(
            lovgrundlag_allowed((int)num(r, "ejerformKode"), (int)num(r, "lovgrundlagKode")));
        assert_string_equal(str(r, "aktivitetsstatus"), "Aktiv");
        json_object_set(by_nummer, n, r);
        json_object_set_new(seen, n, json_integer(0));
    }

    /* anvisningsenheder */
    int kommuner[1000] = {0}, types[7000] = {0}, ejerformer[5] = {0};
    size_t no_pnummer = 0;
    char prev_key[16] = "";
    json_array_foreach(aes, i, r)
    {
        const char *n = str(r, "nummer"), *parent = str(r, "daginstitutionsNummer");
        assert_true(nummer_valid(n));
        assert_null(json_object_get(seen, n));
        char key[16];
        snprintf(key, sizeof key, "%s%s", parent, n);
        assert_true(strcmp(prev_key, key) < 0); /* export order */
        memcpy(prev_key, key, sizeof key);
        json_t *di = json_object_get(by_nummer, parent);
        assert_non_null(di);
        json_t *count = json_object_get(seen, parent);
        json_integer_set(count, json_integer_value(count) + 1);
        json_object_set_new(seen, n, json_integer(0));
        int type = (int)num(r, "instType3");
        assert_true(type_allowed((int)num(di, "lovgrundlagKode"), type));
        json_t *a = json_object_get(r, "adresse");
        int kommune = (int)num(a, "kommuneKode");
        assert_int_equal(kommune, num(di, "admKommuneKode"));
        assert_non_null(fake_host()->code_text(NULL, "kommune", kommune));
        kommuner[kommune]++;
        types[type]++;
        ejerformer[num(di, "ejerformKode")]++;
        const char *cvr = str(r, "cvrNummer"), *p = str(r, "pNummer");
        assert_true((cvr == NULL) == (p == NULL));
        if (p == NULL) {
            no_pnummer++;
        } else {
            assert_true(cvr_valid(cvr));
            assert_true(all_digits(p, 10));
        }
        double lat = json_real_value(json_object_get(a, "geoBredde"));
        double lon = json_real_value(json_object_get(a, "geoLaengde"));
        assert_true(lat >= 54.5 && lat <= 57.8 && lon >= 8.0 && lon <= 15.2);
        assert_true(all_digits(str(a, "postNummer"), 4));
        const char *hus = str(a, "husNummer");
        size_t digits = strspn(hus, "0123456789");
        assert_true(digits >= 1 && digits <= 3 && strlen(hus) - digits <= 1);
        const char *email = str(r, "email");
        if (email) assert_true(strchr(email, '@') && strchr(email, '@') == strrchr(email, '@'));
        const char *phone = str(r, "telefonNummer");
        if (phone) assert_true(all_digits(phone, 8));
        assert_true(strlen(str(r, "navn")) > 0 && strlen(str(r, "navn")) <= 132);
    }
    /* every daginstitution has 1 to 6 units */
    json_array_foreach(dis, i, r)
    {
        long long n = json_integer_value(json_object_get(seen, str(r, "nummer")));
        assert_true(n >= 1 && n <= 6);
    }
    /* all 98 kommuner, sized by population */
    size_t present = 0;
    for (int k = 0; k < 1000; k++)
        present += kommuner[k] > 0;
    assert_int_equal(present, 98);
    assert_true(kommuner[101] > 600 && kommuner[101] < 750); /* København: 11% of Denmark */
    assert_true(kommuner[825] >= 1 && kommuner[825] <= 5);   /* Læsø */
    /* the sample's mix: ~77% kommunal, ~62% aldersintegreret, ~8% without P-nummer */
    assert_true(ejerformer[1] > 0.70 * units && ejerformer[1] < 0.85 * units);
    assert_true(ejerformer[3] > 0.08 * units && ejerformer[3] < 0.20 * units);
    assert_true(types[6012] > 0.50 * units && types[6012] < 0.70 * units);
    assert_true(types[6013] > 0.08 * units && types[6013] < 0.20 * units);
    assert_true(no_pnummer > 0.05 * units && no_pnummer < 0.11 * units);

    /* alternative adresser: ~1%, each of an existing unit in its kommune */
    size_t n_aa = json_array_size(aas);
    assert_true(n_aa >= 25 && n_aa <= 110);
    json_array_foreach(aas, i, r)
    {
        assert_true(nummer_valid(str(r, "nummer")));
        assert_null(json_object_get(seen, str(r, "nummer")));
        assert_non_null(json_object_get(seen, str(r, "anvisningsenhedsNummer")));
        const char *cvr = str(r, "cvrNummer");
        if (cvr) assert_true(cvr_valid(cvr));
    }
    json_decref(by_nummer);
    json_decref(seen);
    collected_clear(&c);
    remove_tree(dir);
}

static void test_same_seed_same_bytes(void **state)
{
    (void)state;
    char *a = temp_dir(), *b = temp_dir(), *other = temp_dir();
    assert_int_equal(csvp_descriptor.generate(plugin, 500, 42, a, err, sizeof err), DTR_OK);
    assert_int_equal(csvp_descriptor.generate(plugin, 500, 42, b, err, sizeof err), DTR_OK);
    assert_int_equal(csvp_descriptor.generate(plugin, 500, 43, other, err, sizeof err), DTR_OK);
    assert_true(same_file(a, b, "daginstitution.csv"));
    assert_true(same_file(a, b, "anvisningsenhed.csv"));
    assert_true(same_file(a, b, "alternativadresse.csv"));
    assert_false(same_file(a, other, "anvisningsenhed.csv"));
    remove_tree(a), remove_tree(b), remove_tree(other);
}

/* Generated files written back from their records are the same bytes. */
static void test_generated_files_round_trip(void **state)
{
    (void)state;
    char *dir = temp_dir();
    assert_int_equal(csvp_descriptor.generate(plugin, 3000, 99, dir, err, sizeof err), DTR_OK);
    collected c;
    assert_int_equal(read_back(dir, &c), DTR_OK);
    assert_int_equal(json_array_size(c.refusals), 0);
    for (int level = 0; level < 3; level++) {
        array_source src = {c.records[level], 0};
        dtr_export_source source = {&src, array_next};
        memory m = {.fail_after = -1};
        dtr_byte_sink out = {&m, memory_write};
        assert_int_equal(
            csvp_descriptor.export_write(plugin, level, &source, &out, err, sizeof err), DTR_OK);
        size_t len;
        char *orig = read_whole(dir, csvp_descriptor.export_file_name(plugin, level), &len);
        assert_int_equal(m.len, len);
        assert_memory_equal(m.data, orig, len);
        free(orig), free(m.data);
    }
    collected_clear(&c);
    remove_tree(dir);
}

static void test_small_registers(void **state)
{
    (void)state;
    char *dir = temp_dir();
    collected c;
    assert_int_equal(csvp_descriptor.generate(plugin, 10, 1, dir, err, sizeof err), DTR_OK);
    assert_int_equal(read_back(dir, &c), DTR_OK);
    assert_int_equal(json_array_size(c.records[1]), 10);
    assert_int_equal(json_array_size(c.refusals), 0);
    collected_clear(&c);

    assert_int_equal(csvp_descriptor.generate(plugin, 0, 1, dir, err, sizeof err), DTR_OK);
    assert_int_equal(read_back(dir, &c), DTR_OK);
    for (int level = 0; level < 3; level++)
        assert_int_equal(json_array_size(c.records[level]), 0);
    collected_clear(&c);
    remove_tree(dir);

    assert_int_equal(csvp_descriptor.generate(plugin, 10, 1, "/nonexistent/dir/x", err, sizeof err),
                     DTR_ERROR);
    assert_non_null(strstr(err, "/nonexistent/dir/x"));
}

/* Past G99999 the numbers go on with H00001. */
static void test_numbers_go_on_in_the_next_series(void **state)
{
    (void)state;
    char *dir = temp_dir();
    assert_int_equal(csvp_descriptor.generate(plugin, 70000, 5, dir, err, sizeof err), DTR_OK);
    size_t l0, l1, l2;
    char *di = read_whole(dir, "daginstitution.csv", &l0);
    char *ae = read_whole(dir, "anvisningsenhed.csv", &l1);
    char *aa = read_whole(dir, "alternativadresse.csv", &l2);
    bool g99999 = strstr(di, "\nG99999;") || strstr(ae, "\nG99999;") || strstr(aa, "\nG99999;");
    bool h00001 = strstr(di, "\nH00001;") || strstr(ae, "\nH00001;") || strstr(aa, "\nH00001;");
    assert_true(g99999);
    assert_true(h00001);
    assert_null(strstr(di, "\nI"));
    free(di), free(ae), free(aa);
    remove_tree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_generated_register_is_valid_and_plausible, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_same_seed_same_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_generated_files_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_small_registers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_numbers_go_on_in_the_next_series, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
