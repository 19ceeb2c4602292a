/*
 * test_portal_geojson.c -- GET /v1/portal/dagtilbud.geojson on a fake
 * register: which records become features and with what, the ETag and
 * 304, the cache by sekvensnummer, a failing read, and public_read.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fake_host.h"
#include "portal.h"

static fake_host *h;
static void *plugin;

static json_t *adresse(double lat, double lon, int kommune)
{
    json_t *a = json_pack("{s:s, s:s, s:s, s:s, s:i}", "vejNavn", "Vej", "husNummer", "1",
                          "postNummer", "1000", "byNavn", "By", "kommuneKode", kommune);
    json_object_set_new(a, "geoBredde", lat ? json_real(lat) : json_null());
    json_object_set_new(a, "geoLaengde", lon ? json_real(lon) : json_null());
    return a;
}

/* One daginstitution (Selvejende) with: G00002 aktiv with coordinates,
 * G00003 nedlagt, G00004 aktiv without coordinates; G00002 has the
 * alternativ adresse G00005 (aktiv, coordinates). A second daginstitution
 * (Kommunal) with G00007 aktiv in Aarhus. */
static void fill_register(void)
{
    json_t *aa = json_pack("[{s:s, s:s, s:s, s:o}]", "nummer", "G00005", "navn", "Filial", "status",
                           "aktiv", "adresse", adresse(55.7, 12.6, 101));
    json_t *aes = json_pack(
        "[{s:s, s:s, s:s, s:i, s:o, s:o}, {s:s, s:s, s:s, s:i, s:o, s:[]},"
        " {s:s, s:s, s:s, s:i, s:o, s:[]}]",
        "nummer", "G00002", "navn", "Solstrålen", "status", "aktiv", "instType3", 6011, "adresse",
        adresse(55.68, 12.57, 101), "alternativeAdresser", aa, "nummer", "G00003", "navn", "Lukket",
        "status", "nedlagt", "instType3", 6010, "adresse", adresse(55.1, 12.1, 101),
        "alternativeAdresser", "nummer", "G00004", "navn", "Uden punkt", "status", "aktiv",
        "instType3", 6010, "adresse", adresse(0, 0, 101), "alternativeAdresser");
    json_array_append_new(h->daginstitutioner,
                          json_pack("{s:s, s:s, s:i, s:s, s:o}", "nummer", "G00001", "navn",
                                    "Klyngen", "ejerformKode", 2, "status", "aktiv",
                                    "anvisningsenheder", aes));
    json_array_append_new(h->daginstitutioner,
                          json_pack("{s:s, s:s, s:i, s:s, s:[{s:s, s:s, s:s, s:i, s:o, s:[]}]}",
                                    "nummer", "G00006", "navn", "Nord", "ejerformKode", 1, "status",
                                    "aktiv", "anvisningsenheder", "nummer", "G00007", "navn",
                                    "Mejsen", "status", "aktiv", "instType3", 6012, "adresse",
                                    adresse(56.15, 10.2, 751), "alternativeAdresser"));
    h->latest = 40;
}

static int setup(void **state)
{
    (void)state;
    h = fake_host_new();
    fill_register();
    char err[256];
    plugin = fake_plugin_init(h, "{}", err, sizeof err);
    assert_non_null(plugin);
    assert_int_equal(fake_plugin_start(h, plugin), 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fake_plugin_stop_free(h, plugin);
    fake_host_free(h);
    return 0;
}

static fake_response *get(const char *if_none_match, const char *auth)
{
    const char *headers[5] = {NULL};
    size_t n = 0;
    if (if_none_match) {
        headers[n++] = "If-None-Match";
        headers[n++] = if_none_match;
    }
    if (auth) {
        headers[n++] = "Authorization";
        headers[n++] = auth;
    }
    return fake_call(h, "GET", "/v1/portal/dagtilbud.geojson", headers, NULL);
}

static json_t *feature(json_t *fc, const char *nummer)
{
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(fc, "features"), i, f)
    {
        if (strcmp(json_string_value(json_object_get(f, "id")), nummer) == 0) return f;
    }
    return NULL;
}

static void features_and_properties(void **state)
{
    (void)state;
    fake_response *r = get(NULL, NULL);
    assert_int_equal(r->status, 200);
    assert_string_equal(r->content_type, "application/geo+json");
    json_t *fc = r->json;
    assert_string_equal(json_string_value(json_object_get(fc, "type")), "FeatureCollection");
    assert_int_equal(json_integer_value(json_object_get(fc, "sekvensnummer")), 40);
    assert_int_equal(json_array_size(json_object_get(fc, "features")), 3);
    assert_null(feature(fc, "G00003")); /* nedlagt */
    assert_null(feature(fc, "G00004")); /* no coordinates */
    assert_null(feature(fc, "G00001")); /* daginstitutioner are not shown */

    json_t *f = feature(fc, "G00002");
    assert_non_null(f);
    json_t *coords = json_object_get(json_object_get(f, "geometry"), "coordinates");
    assert_string_equal(json_string_value(json_object_get(json_object_get(f, "geometry"), "type")),
                        "Point");
    assert_true(json_real_value(json_array_get(coords, 0)) == 12.57); /* [geoLaengde, */
    assert_true(json_real_value(json_array_get(coords, 1)) == 55.68); /*  geoBredde] */
    json_t *p = json_object_get(f, "properties");
    assert_string_equal(json_string_value(json_object_get(p, "navn")), "Solstrålen");
    assert_string_equal(json_string_value(json_object_get(p, "niveau")), "anvisningsenhed");
    assert_int_equal(json_integer_value(json_object_get(p, "instType3")), 6011);
    assert_string_equal(json_string_value(json_object_get(p, "instType3Tekst")),
                        "Børnehave (3-5 år)");
    assert_int_equal(json_integer_value(json_object_get(p, "ejerformKode")), 2);
    assert_string_equal(json_string_value(json_object_get(p, "ejerformTekst")), "Selvejende");
    assert_int_equal(json_integer_value(json_object_get(p, "kommuneKode")), 101);
    assert_string_equal(json_string_value(json_object_get(p, "kommuneNavn")), "København");
    assert_string_equal(json_string_value(json_object_get(p, "daginstitutionsNummer")), "G00001");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(p, "adresse"), "vejNavn")), "Vej");

    /* an alternativ adresse: its unit's type, its daginstitution's ejerform */
    p = json_object_get(feature(fc, "G00005"), "properties");
    assert_string_equal(json_string_value(json_object_get(p, "niveau")), "alternativAdresse");
    assert_int_equal(json_integer_value(json_object_get(p, "instType3")), 6011);
    assert_int_equal(json_integer_value(json_object_get(p, "ejerformKode")), 2);
    assert_string_equal(json_string_value(json_object_get(p, "anvisningsenhedsNummer")), "G00002");

    p = json_object_get(feature(fc, "G00007"), "properties");
    assert_string_equal(json_string_value(json_object_get(p, "ejerformTekst")), "Kommunal");
    assert_string_equal(json_string_value(json_object_get(p, "kommuneNavn")), "Aarhus");
    fake_response_free(r);
}

static void etag_304_and_cache(void **state)
{
    (void)state;
    fake_response *r = get(NULL, NULL);
    assert_int_equal(r->status, 200);
    char etag[64];
    snprintf(etag, sizeof etag, "%s", fake_response_header(r, "ETag"));
    assert_int_equal(strncmp(etag, "\"40-", 4), 0);
    fake_response_free(r);
    unsigned reads = h->list_reads;

    r = get(etag, NULL);
    assert_int_equal(r->status, 304);
    assert_string_equal(fake_response_header(r, "ETag"), etag);
    assert_int_equal(r->len, 0);
    fake_response_free(r);
    char list[128];
    snprintf(list, sizeof list, "\"other\", W/%s", etag);
    r = get(list, NULL);
    assert_int_equal(r->status, 304);
    fake_response_free(r);

    r = get("\"39-2000-01-01\"", NULL);
    assert_int_equal(r->status, 200);
    fake_response_free(r);
    assert_int_equal(h->list_reads, reads); /* answered from the cache */

    h->latest = 41; /* a change: a new build, a new ETag */
    json_object_set_new(json_array_get(h->daginstitutioner, 1), "ejerformKode", json_integer(4));
    r = get(etag, NULL);
    assert_int_equal(r->status, 200);
    assert_true(h->list_reads > reads);
    assert_int_equal(strncmp(fake_response_header(r, "ETag"), "\"41-", 4), 0);
    json_t *p = json_object_get(feature(r->json, "G00007"), "properties");
    assert_string_equal(json_string_value(json_object_get(p, "ejerformTekst")), "Udliciteret");
    fake_response_free(r);
}

static void pages_through_the_register(void **state)
{
    (void)state;
    for (int i = 0; i < 2500; i++) {
        char nummer[16];
        snprintf(nummer, sizeof nummer, "H%05d", i);
        json_array_append_new(h->daginstitutioner,
                              json_pack("{s:s, s:s, s:i, s:s, s:[{s:s, s:s, s:s, s:i, s:o, s:[]}]}",
                                        "nummer", nummer, "navn", "D", "ejerformKode", 1, "status",
                                        "aktiv", "anvisningsenheder", "nummer", nummer, "navn", "E",
                                        "status", "aktiv", "instType3", 6010, "adresse",
                                        adresse(55.5, 11.5, 101), "alternativeAdresser"));
    }
    fake_response *r = get(NULL, NULL);
    assert_int_equal(r->status, 200);
    assert_int_equal(json_array_size(json_object_get(r->json, "features")), 3 + 2500);
    fake_response_free(r);
}

static void read_failure_is_503(void **state)
{
    (void)state;
    h->fail_reads = 1;
    fake_response *r = get(NULL, NULL);
    assert_int_equal(r->status, 503);
    fake_response_free(r);
    h->fail_reads = 0;
    r = get(NULL, NULL);
    assert_int_equal(r->status, 200);
    fake_response_free(r);
}

static void public_read_off_needs_a_client(void **state)
{
    (void)state;
    h->public_read = 0;
    fake_response *r = get(NULL, NULL);
    assert_int_equal(r->status, 401);
    assert_string_equal(fake_response_header(r, "WWW-Authenticate"), "Basic realm=\"dtr\"");
    fake_response_free(r);
    r = get(NULL, "Basic nobody");
    assert_int_equal(r->status, 401);
    fake_response_free(r);
    r = get(NULL, "Basic laeser");
    assert_int_equal(r->status, 200);
    fake_response_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(features_and_properties, setup, teardown),
        cmocka_unit_test_setup_teardown(etag_304_and_cache, setup, teardown),
        cmocka_unit_test_setup_teardown(pages_through_the_register, setup, teardown),
        cmocka_unit_test_setup_teardown(read_failure_is_503, setup, teardown),
        cmocka_unit_test_setup_teardown(public_read_off_needs_a_client, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
