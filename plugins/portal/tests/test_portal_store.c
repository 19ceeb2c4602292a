/*
 * test_portal_store.c -- the portal plugin against the real store and feed
 * (the shared store-backed host of plugins/unilogin/tests): writes made
 * through the store's writer reach a webhook receiver on loopback through
 * the feed, signed, in order, and the feed's cursor follows only once the
 * plugin queued them durably; the GeoJSON is built from the store's own
 * nested records.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <sodium.h>

#include "receiver.h"
#include "store_host.h"

extern const dtr_plugin_descriptor dtr_plugin_entry;

/* The store-backed host takes GET routes only; the plugin also registers
 * POST /v1/portal/webhooks/replay (tested with the fake host). The plugin
 * is loaded through a copy of its descriptor whose init hands it the
 * host's table with a route_add that lets non-GET routes pass unrouted. */
static dtr_host_api wrapped_api;
static dtr_status (*host_route_add)(dtr_plugin *, const char *, const char *, size_t, dtr_route_fn,
                                    void *, char *, size_t);

static dtr_status get_routes_only(dtr_plugin *self, const char *method, const char *pattern,
                                  size_t max_body, dtr_route_fn fn, void *udata, char *err,
                                  size_t errlen)
{
    if (strcmp(method, "GET") != 0) return DTR_OK;
    return host_route_add(self, method, pattern, max_body, fn, udata, err, errlen);
}

static dtr_status wrapped_init(dtr_plugin *self, const dtr_host_api *api, const json_t *config,
                               void **state, char *err, size_t errlen)
{
    wrapped_api = *api;
    host_route_add = api->route_add;
    wrapped_api.route_add = get_routes_only;
    return dtr_plugin_entry.init(self, &wrapped_api, config, state, err, errlen);
}

typedef struct hits_wait {
    receiver *r;
    size_t n;
} hits_wait;

static bool has_hits(void *udata)
{
    hits_wait *w = udata;
    return receiver_count(w->r) >= w->n;
}

typedef struct durable_wait {
    store_host *h;
    int64_t at_least;
} durable_wait;

static bool cursor_reached(void *udata)
{
    durable_wait *w = udata;
    return sh_consumer_durable(w->h, "portal") >= w->at_least;
}

static void set_point(json_t *body, double lat, double lon)
{
    json_t *a = json_object_get(body, "adresse");
    json_object_set_new(a, "geoBredde", json_real(lat));
    json_object_set_new(a, "geoLaengde", json_real(lon));
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

static void feed_to_webhook_and_geojson(void **state)
{
    (void)state;
    char today[11];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(today, sizeof today, "%Y-%m-%d", &tm);
    store_host *h = sh_new("test_portal_store", today);
    receiver *r = receiver_new(sh_loop(h), recv_always_ok, NULL);
    char config[256], err[256] = "";
    snprintf(config, sizeof config, "{\"webhooks\": [{\"url\": \"%s\"}], \"retry_ms\": [20]}",
             receiver_url(r));
    dtr_plugin_descriptor wrapped = dtr_plugin_entry;
    wrapped.init = wrapped_init;
    if (sh_load(h, &wrapped, config, err, sizeof err) != 0) fail_msg("load: %s", err);

    char di[7], ae[7], bare[7], aa[7];
    sh_must(h, REG_OP_CREATE, REG_DAGINSTITUTION, NULL, sh_di_body("Klyngen", 101, 2, 2), di);
    json_t *body = sh_ae_body(di, "Solstrålen", 6011, 101, NULL, NULL);
    set_point(body, 55.68, 12.57);
    sh_must(h, REG_OP_CREATE, REG_ANVISNINGSENHED, NULL, body, ae);
    sh_must(h, REG_OP_CREATE, REG_ANVISNINGSENHED, NULL,
            sh_ae_body(di, "Uden punkt", 6010, 101, NULL, NULL), bare);
    body = sh_aa_body(ae, "Legepladsen", 101, NULL, NULL);
    set_point(body, 55.69, 12.58);
    sh_must(h, REG_OP_CREATE, REG_ALTERNATIV_ADRESSE, NULL, body, aa);

    hits_wait hw = {r, 4};
    sh_run_until(h, has_hits, &hw);
    static const char *const entitet[] = {"daginstitution", "anvisningsenhed", "anvisningsenhed",
                                          "alternativAdresse"};
    const char *nummer[] = {di, ae, bare, aa};
    for (size_t i = 0; i < 4; i++) {
        const recv_hit *hit = receiver_hit(r, i);
        char id[32];
        snprintf(id, sizeof id, "dtr-%zu", i + 1);
        assert_string_equal(hit->id, id);
        json_t *j = json_loads(hit->body, 0, NULL);
        assert_int_equal(json_integer_value(json_object_get(j, "sekvensnummer")), (int)i + 1);
        assert_string_equal(json_string_value(json_object_get(j, "operation")), "oprettet");
        assert_string_equal(json_string_value(json_object_get(j, "entitet")), entitet[i]);
        assert_string_equal(json_string_value(json_object_get(j, "nummer")), nummer[i]);
        json_decref(j);
        unsigned char sig[64];
        size_t siglen = 0;
        assert_int_equal(sodium_base642bin(sig, sizeof sig, hit->signature + 4,
                                           strlen(hit->signature + 4), NULL, &siglen, NULL,
                                           sodium_base64_VARIANT_ORIGINAL),
                         0);
        char msg[512];
        int n = snprintf(msg, sizeof msg, "%s.%s.%s", hit->id, hit->timestamp, hit->body);
        assert_int_equal(
            crypto_sign_verify_detached(sig, (unsigned char *)msg, (size_t)n, sh_public_key(h)), 0);
    }
    durable_wait dw = {h, 4};
    sh_run_until(h, cursor_reached, &dw);

    sh_response resp = sh_get(h, "/v1/portal/dagtilbud.geojson", NULL, NULL);
    assert_int_equal(resp.status, 200);
    assert_non_null(resp.json);
    assert_int_equal(json_integer_value(json_object_get(resp.json, "sekvensnummer")), 4);
    assert_int_equal(json_array_size(json_object_get(resp.json, "features")), 2);
    assert_null(feature(resp.json, bare));
    json_t *p = json_object_get(feature(resp.json, ae), "properties");
    assert_non_null(p);
    assert_string_equal(json_string_value(json_object_get(p, "navn")), "Solstrålen");
    assert_int_equal(json_integer_value(json_object_get(p, "ejerformKode")), 2);
    assert_int_equal(json_integer_value(json_object_get(p, "instType3")), 6011);
    assert_int_equal(json_integer_value(json_object_get(p, "kommuneKode")), 101);
    assert_string_equal(json_string_value(json_object_get(p, "daginstitutionsNummer")), di);
    p = json_object_get(feature(resp.json, aa), "properties");
    assert_non_null(p);
    assert_int_equal(json_integer_value(json_object_get(p, "instType3")), 6011);
    assert_int_equal(json_integer_value(json_object_get(p, "ejerformKode")), 2);
    sh_response_clear(&resp);

    sh_unload(h);
    receiver_close(r);
    sh_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(feed_to_webhook_and_geojson),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
