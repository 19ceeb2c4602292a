/*
 * test_unilogin.c -- the unilogin plugin against the real store and feed
 * (store_host.h): the list, change sets after closing, deleting, losing a
 * P-nummer and moving, access, bad parameters and config, and the consumer's
 * signed files, across a restart and a timed "nedlagt".
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <sodium.h>

#include "store_host.h"
#include "unilogin.h"

extern const dtr_plugin_descriptor dtr_plugin_entry;

#define CVR "10000009"
#define CVR2 "10000017"
#define PNR "1000000001"

/* The register the tests start from (the store's today is 2026-03-10):
 *   di1 (kommune 101)
 *     ae_a   CVR + P             -> listed
 *       aa_a   CVR + P           -> listed (with ae_a's type and di1)
 *     ae_b   no P-nummer         -> not listed
 *     ae_c   CVR + P, closed 2026-01-01 -> not listed
 *   di2 (kommune 147)
 *     ae_d   CVR + P, type 6010  -> listed
 */
typedef struct world {
    store_host *h;
    char di1[7], di2[7], ae_a[7], aa_a[7], ae_b[7], ae_c[7], ae_d[7];
    int64_t seq; /* the newest sekvensnummer after the setup */
} world;

static void build_world(world *w)
{
    store_host *h = w->h;
    sh_must(h, REG_OP_CREATE, REG_DAGINSTITUTION, NULL, sh_di_body("Solsikken", 101, 1, 1), w->di1);
    sh_must(h, REG_OP_CREATE, REG_DAGINSTITUTION, NULL, sh_di_body("Mælkebøtten", 147, 1, 1),
            w->di2);
    sh_must(h, REG_OP_CREATE, REG_ANVISNINGSENHED, NULL,
            sh_ae_body(w->di1, "Solsikken Vuggestue", 6012, 101, CVR, PNR), w->ae_a);
    sh_must(h, REG_OP_CREATE, REG_ALTERNATIV_ADRESSE, NULL,
            sh_aa_body(w->ae_a, "Solsikken Skoven", 101, CVR, "1000000002"), w->aa_a);
    sh_must(h, REG_OP_CREATE, REG_ANVISNINGSENHED, NULL,
            sh_ae_body(w->di1, "Solsikken Børnehave", 6011, 101, CVR, NULL), w->ae_b);
    json_t *c = sh_ae_body(w->di1, "Solsikken Gammel", 6011, 101, CVR, "1000000003");
    json_object_set_new(c, "virkningFra", json_string("2025-01-01"));
    sh_must(h, REG_OP_CREATE, REG_ANVISNINGSENHED, NULL, c, w->ae_c);
    char ignored[7];
    sh_must(h, REG_OP_CLOSE, REG_ANVISNINGSENHED, w->ae_c,
            json_pack("{s:s}", "virkningTil", "2026-01-01"), ignored);
    sh_must(h, REG_OP_CREATE, REG_ANVISNINGSENHED, NULL,
            sh_ae_body(w->di2, "Mælkebøtten Vuggestue", 6010, 147, CVR2, "1000000004"), w->ae_d);
    store_reader *r = NULL;
    char err[256], tidspunkt[40];
    r = store_reader_open(sh_store(h), err, sizeof err);
    assert_non_null(r);
    assert_int_equal(store_latest(r, &w->seq, tidspunkt), 0);
    store_reader_close(r);
}

static int setup(void **state)
{
    world *w = calloc(1, sizeof *w);
    w->h = sh_new("test_unilogin", "2026-03-10");
    build_world(w);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;
    sh_free(w->h);
    free(w);
    return 0;
}

static void load(world *w, const char *config)
{
    char err[256] = "";
    if (sh_load(w->h, &dtr_plugin_entry, config, err, sizeof err) != 0) fail_msg("load: %s", err);
}

static const json_t *find_row(const json_t *rows, const char *nummer)
{
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        if (strcmp(json_string_value(json_object_get(row, "institutionsnummer")), nummer) == 0)
            return row;
    }
    return NULL;
}

static bool has_string(const json_t *list, const char *s)
{
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v)
    {
        if (strcmp(json_string_value(v), s) == 0) return true;
    }
    return false;
}

static const char *str(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "(null)";
}

static json_int_t num(const json_t *o, const char *key)
{
    return json_integer_value(json_object_get(o, key));
}

/* ---- the list --------------------------------------------------------------------- */

static void test_list_holds_units_and_addresses_with_both_numbers(void **state)
{
    world *w = *state;
    load(w, NULL);
    sh_response r = sh_get(w->h, "/v1/unilogin/institutioner", NULL, NULL);
    assert_int_equal(r.status, 200);
    assert_non_null(r.json);
    assert_int_equal(num(r.json, "sekvensnummer"), w->seq);
    const json_t *rows = json_object_get(r.json, "institutioner");
    assert_int_equal(json_array_size(rows), 3);
    /* ordered by number */
    const char *prev = "";
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        assert_true(strcmp(prev, str(row, "institutionsnummer")) < 0);
        prev = str(row, "institutionsnummer");
    }
    const json_t *a = find_row(rows, w->ae_a);
    assert_non_null(a);
    assert_string_equal(str(a, "niveau"), "anvisningsenhed");
    assert_string_equal(str(a, "navn"), "Solsikken Vuggestue");
    assert_string_equal(str(a, "daginstitutionsNummer"), w->di1);
    assert_string_equal(str(a, "anvisningsenhedsNummer"), w->ae_a);
    assert_int_equal(num(a, "kommuneKode"), 101);
    assert_int_equal(num(a, "instType3"), 6012);
    assert_string_equal(str(a, "cvrNummer"), CVR);
    assert_string_equal(str(a, "pNummer"), PNR);
    assert_string_equal(str(json_object_get(a, "adresse"), "vejNavn"), "Gammeltoftsgade");
    const json_t *aa = find_row(rows, w->aa_a);
    assert_non_null(aa);
    assert_string_equal(str(aa, "niveau"), "alternativAdresse");
    assert_string_equal(str(aa, "daginstitutionsNummer"), w->di1);
    assert_string_equal(str(aa, "anvisningsenhedsNummer"), w->ae_a);
    assert_int_equal(num(aa, "instType3"), 6012);
    assert_string_equal(str(aa, "pNummer"), "1000000002");
    assert_non_null(find_row(rows, w->ae_d));
    assert_null(find_row(rows, w->ae_b)); /* no P-nummer */
    assert_null(find_row(rows, w->ae_c)); /* closed */
    sh_response_clear(&r);
}

/* ---- change sets ------------------------------------------------------------------------ */

static json_t *changes_after(world *w, int64_t efter)
{
    char target[96];
    snprintf(target, sizeof target, "/v1/unilogin/aendringer?efter=%lld", (long long)efter);
    sh_response r = sh_get(w->h, target, NULL, NULL);
    if (r.status != 200) fail_msg("aendringer: %d %s", r.status, r.body);
    json_t *j = json_incref(r.json);
    sh_response_clear(&r);
    return j;
}

static void test_changes_after_close_delete_and_lost_p_nummer(void **state)
{
    world *w = *state;
    load(w, NULL);
    store_host *h = w->h;
    char out[7];
    /* ae_a loses its P-nummer; its alternativ adresse stays on the list */
    sh_must(h, REG_OP_UPDATE, REG_ANVISNINGSENHED, w->ae_a, json_pack("{s:n}", "pNummer"), out);
    /* the alternativ adresse is deleted */
    sh_must(h, REG_OP_DELETE, REG_ALTERNATIV_ADRESSE, w->aa_a, NULL, out);
    /* ae_d is closed as of today's date + 1 -> still in effect today: changed, not removed */
    sh_must(h, REG_OP_CLOSE, REG_ANVISNINGSENHED, w->ae_d,
            json_pack("{s:s}", "virkningTil", "2026-03-11"), out);
    /* ae_b (never listed) is renamed: neither added nor removed */
    sh_must(h, REG_OP_UPDATE, REG_ANVISNINGSENHED, w->ae_b, json_pack("{s:s}", "navn", "Ny"), out);
    /* a new unit with both numbers */
    char ae_e[7];
    sh_must(h, REG_OP_CREATE, REG_ANVISNINGSENHED, NULL,
            sh_ae_body(w->di2, "Mælkebøtten Klub", 6010, 147, CVR2, "1000000005"), ae_e);
    /* a daginstitution's own change does not reach the list */
    sh_must(h, REG_OP_UPDATE, REG_DAGINSTITUTION, w->di2, json_pack("{s:s}", "navn", "Mælk"), out);

    json_t *c = changes_after(w, w->seq);
    assert_int_equal(num(c, "fra"), w->seq + 1);
    assert_int_equal(num(c, "til"), w->seq + 6);
    const json_t *aendret = json_object_get(c, "aendret"), *fjernet = json_object_get(c, "fjernet");
    assert_int_equal(json_array_size(fjernet), 2);
    assert_true(has_string(fjernet, w->ae_a));
    assert_true(has_string(fjernet, w->aa_a));
    assert_int_equal(json_array_size(aendret), 2);
    assert_non_null(find_row(aendret, w->ae_d));
    assert_non_null(find_row(aendret, ae_e));
    json_decref(c);

    /* the day after: ae_d's close takes effect as a "nedlagt" hændelse */
    sh_set_day_and_tick(h, "2026-03-11");
    c = changes_after(w, w->seq + 6);
    assert_int_equal(num(c, "til"), w->seq + 7);
    fjernet = json_object_get(c, "fjernet");
    assert_int_equal(json_array_size(fjernet), 1);
    assert_true(has_string(fjernet, w->ae_d));
    assert_int_equal(json_array_size(json_object_get(c, "aendret")), 0);
    json_decref(c);

    /* from the start: everything on the list now, nothing removed that never was listed */
    c = changes_after(w, 0);
    assert_int_equal(num(c, "fra"), 1);
    assert_int_equal(json_array_size(json_object_get(c, "aendret")), 1);
    assert_non_null(find_row(json_object_get(c, "aendret"), ae_e));
    assert_int_equal(json_array_size(json_object_get(c, "fjernet")), 0);
    json_decref(c);
}

static void test_a_move_restates_the_unit_and_its_addresses(void **state)
{
    world *w = *state;
    load(w, NULL);
    char out[7], di3[7];
    sh_must(w->h, REG_OP_CREATE, REG_DAGINSTITUTION, NULL, sh_di_body("Regnbuen", 101, 1, 1), di3);
    int64_t before = w->seq + 1;
    sh_must(w->h, REG_OP_MOVE, REG_ANVISNINGSENHED, w->ae_a,
            json_pack("{s:s}", "daginstitutionsNummer", di3), out);
    json_t *c = changes_after(w, before);
    const json_t *aendret = json_object_get(c, "aendret");
    assert_int_equal(json_array_size(aendret), 2);
    assert_string_equal(str(find_row(aendret, w->ae_a), "daginstitutionsNummer"), di3);
    /* the alternativ adresse had no hændelse of its own, but its row changed */
    assert_string_equal(str(find_row(aendret, w->aa_a), "daginstitutionsNummer"), di3);
    assert_int_equal(json_array_size(json_object_get(c, "fjernet")), 0);
    json_decref(c);
}

static void test_nothing_new(void **state)
{
    world *w = *state;
    load(w, NULL);
    json_t *c = changes_after(w, w->seq);
    assert_int_equal(num(c, "fra"), w->seq + 1);
    assert_int_equal(num(c, "til"), w->seq);
    assert_true(uni_changes_empty(c));
    json_decref(c);
}

static void test_bad_efter(void **state)
{
    world *w = *state;
    load(w, NULL);
    const char *bad[] = {
        "/v1/unilogin/aendringer",           "/v1/unilogin/aendringer?efter=",
        "/v1/unilogin/aendringer?efter=abc", "/v1/unilogin/aendringer?efter=-1",
        "/v1/unilogin/aendringer?efter=1e3", "/v1/unilogin/aendringer?efter=99999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sh_response r = sh_get(w->h, bad[i], NULL, NULL);
        assert_int_equal(r.status, 400);
        assert_string_equal(r.content_type, "application/problem+json");
        assert_string_equal(sh_problem_kode(&r), "UGYLDIG_PARAMETER");
        sh_response_clear(&r);
    }
}

static void test_access_follows_public_read(void **state)
{
    world *w = *state;
    load(w, NULL);
    sh_response r = sh_get(w->h, "/v1/unilogin/institutioner", NULL, "Basic wrong");
    assert_int_equal(r.status, 401);
    assert_string_equal(r.www_authenticate, "Basic realm=\"dtr\"");
    sh_response_clear(&r);
    sh_set_public_read(w->h, false);
    r = sh_get(w->h, "/v1/unilogin/aendringer?efter=0", NULL, NULL);
    assert_int_equal(r.status, 401);
    assert_string_equal(sh_problem_kode(&r), "IKKE_AUTENTIFICERET");
    sh_response_clear(&r);
    r = sh_get(w->h, "/v1/unilogin/institutioner", NULL, "Basic good");
    assert_int_equal(r.status, 200);
    sh_response_clear(&r);
}

static void test_config_is_checked(void **state)
{
    world *w = *state;
    const char *bad[][2] = {{"{\"fra\": -1}", "unilogin.fra"},
                            {"{\"fra\": \"1\"}", "unilogin.fra"},
                            {"{\"interval_ms\": 99999999}", "unilogin.interval_ms"},
                            {"{\"max_per_file\": 0}", "unilogin.max_per_file"},
                            {"{\"webhook\": 1}", "unilogin.webhook"}};
    for (size_t i = 0; i < 5; i++) {
        char err[256] = "";
        assert_int_equal(sh_load(w->h, &dtr_plugin_entry, bad[i][0], err, sizeof err), -1);
        assert_non_null(strstr(err, bad[i][1]));
    }
}

/* ---- the consumer's files ---------------------------------------------------------------------
 */

typedef struct export_file {
    long long fra, til;
    char path[512];
} export_file;

static int file_cmp(const void *a, const void *b)
{
    const export_file *x = a, *y = b;
    return x->fra < y->fra ? -1 : x->fra > y->fra;
}

/* The .json files in the export directory, ordered by fra. Fails on a
 * leftover temporary file or a .json without its .sig. */
static size_t export_files(world *w, export_file *out, size_t max)
{
    char dir[256];
    snprintf(dir, sizeof dir, "%s/export/unilogin", sh_data_dir(w->h));
    DIR *d = opendir(dir);
    if (!d) return 0;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' && strstr(e->d_name, ".tmp")) fail_msg("leftover %s", e->d_name);
        long long fra, til;
        char tail[16] = "";
        if (sscanf(e->d_name, "unilogin-%lld-%lld.%15s", &fra, &til, tail) != 3) continue;
        if (strcmp(tail, "json") != 0) continue;
        if (n == max) fail_msg("too many files");
        out[n].fra = fra;
        out[n].til = til;
        snprintf(out[n].path, sizeof out[n].path, "%s/%s", dir, e->d_name);
        char sig[600];
        snprintf(sig, sizeof sig, "%s.sig", out[n].path);
        struct stat sb;
        if (stat(sig, &sb) != 0) fail_msg("%s has no .sig", e->d_name);
        n++;
    }
    closedir(d);
    qsort(out, n, sizeof *out, file_cmp);
    return n;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) fail_msg("open %s", path);
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (fread(buf, 1, (size_t)n, fp) != (size_t)n) fail_msg("read %s", path);
    buf[n] = '\0';
    fclose(fp);
    *len = (size_t)n;
    return buf;
}

/* Checks the file's signature with the host's public key; returns its
 * change set. */
static json_t *verified(world *w, const export_file *f)
{
    size_t len, siglen;
    char *body = slurp(f->path, &len);
    char sigpath[600];
    snprintf(sigpath, sizeof sigpath, "%s.sig", f->path);
    char *sig_b64 = slurp(sigpath, &siglen);
    unsigned char sig[64];
    size_t bin_len = 0;
    assert_int_equal(sodium_base642bin(sig, sizeof sig, sig_b64, siglen, NULL, &bin_len, NULL,
                                       sodium_base64_VARIANT_ORIGINAL),
                     0);
    assert_int_equal(bin_len, 64);
    assert_int_equal(
        crypto_sign_verify_detached(sig, (const unsigned char *)body, len, sh_public_key(w->h)), 0);
    json_t *c = json_loadb(body, len, 0, NULL);
    assert_non_null(c);
    assert_int_equal(num(c, "fra"), f->fra);
    assert_int_equal(num(c, "til"), f->til);
    free(body);
    free(sig_b64);
    return c;
}

typedef struct cursor_wait {
    world *w;
    int64_t seq;
} cursor_wait;

static bool cursor_reached(void *udata)
{
    cursor_wait *c = udata;
    return sh_consumer_durable(c->w->h, "unilogin") >= c->seq;
}

static void wait_cursor(world *w, int64_t seq)
{
    cursor_wait c = {w, seq};
    sh_run_until(w->h, cursor_reached, &c);
}

static void test_consumer_writes_signed_change_sets(void **state)
{
    world *w = *state;
    load(w, "{\"interval_ms\": 0}");
    store_host *h = w->h;
    wait_cursor(w, w->seq); /* a new consumer starts after the newest */
    char out[7];
    sh_must(h, REG_OP_UPDATE, REG_ANVISNINGSENHED, w->ae_a, json_pack("{s:s}", "navn", "Ny"), out);
    wait_cursor(w, w->seq + 1);
    /* a batch that touches nothing on the list: no file, but the cursor moves */
    sh_must(h, REG_OP_UPDATE, REG_DAGINSTITUTION, w->di1, json_pack("{s:s}", "navn", "Sol"), out);
    wait_cursor(w, w->seq + 2);
    sh_must(h, REG_OP_DELETE, REG_ALTERNATIV_ADRESSE, w->aa_a, NULL, out);
    wait_cursor(w, w->seq + 3);

    export_file files[16];
    size_t n = export_files(w, files, 16);
    assert_int_equal(n, 2);
    json_t *c = verified(w, &files[0]);
    assert_int_equal(files[0].fra, w->seq + 1);
    assert_string_equal(str(find_row(json_object_get(c, "aendret"), w->ae_a), "navn"), "Ny");
    json_decref(c);
    c = verified(w, &files[1]);
    assert_int_equal(files[1].fra, w->seq + 3);
    assert_true(has_string(json_object_get(c, "fjernet"), w->aa_a));
    json_decref(c);
}

static void test_consumer_resumes_after_a_restart(void **state)
{
    world *w = *state;
    load(w, "{\"interval_ms\": 0}");
    store_host *h = w->h;
    wait_cursor(w, w->seq);
    sh_unload(h);
    /* changes while the plugin is away */
    char out[7];
    sh_must(h, REG_OP_UPDATE, REG_ANVISNINGSENHED, w->ae_d, json_pack("{s:s}", "navn", "D2"), out);
    sh_must(h, REG_OP_UPDATE, REG_ANVISNINGSENHED, w->ae_a, json_pack("{s:n}", "cvrNummer"), out);
    /* "fra" is for a consumer without a cursor: this one has one */
    load(w, "{\"interval_ms\": 0, \"fra\": 1}");
    wait_cursor(w, w->seq + 2);
    export_file files[16];
    size_t n = export_files(w, files, 16);
    assert_true(n >= 1);
    /* the files cover every hændelse after the old cursor, without gaps */
    assert_int_equal(files[0].fra, w->seq + 1);
    for (size_t i = 1; i < n; i++)
        assert_int_equal(files[i].fra, files[i - 1].til + 1);
    assert_int_equal(files[n - 1].til, w->seq + 2);
    bool removed = false, changed = false;
    for (size_t i = 0; i < n; i++) {
        json_t *c = verified(w, &files[i]);
        removed |= has_string(json_object_get(c, "fjernet"), w->ae_a);
        changed |= find_row(json_object_get(c, "aendret"), w->ae_d) != NULL;
        json_decref(c);
    }
    assert_true(removed);
    assert_true(changed);
}

static void test_consumer_fra_replays_the_past(void **state)
{
    world *w = *state;
    load(w, "{\"interval_ms\": 50, \"fra\": 1}");
    wait_cursor(w, w->seq);
    export_file files[16];
    size_t n = export_files(w, files, 16);
    assert_true(n >= 1);
    assert_int_equal(files[0].fra, 1);
    assert_int_equal(files[n - 1].til, w->seq);
    for (size_t i = 1; i < n; i++)
        assert_int_equal(files[i].fra, files[i - 1].til + 1);
}

static void test_timed_nedlagt_reaches_the_files(void **state)
{
    world *w = *state;
    load(w, "{\"interval_ms\": 0}");
    store_host *h = w->h;
    char out[7];
    sh_must(h, REG_OP_CLOSE, REG_ANVISNINGSENHED, w->ae_d,
            json_pack("{s:s}", "virkningTil", "2026-04-01"), out);
    wait_cursor(w, w->seq + 1);
    sh_set_day_and_tick(h, "2026-04-01");
    wait_cursor(w, w->seq + 2);
    export_file files[16];
    size_t n = export_files(w, files, 16);
    assert_int_equal(n, 2);
    json_t *c = verified(w, &files[1]);
    assert_int_equal(files[1].fra, w->seq + 2);
    assert_true(has_string(json_object_get(c, "fjernet"), w->ae_d));
    json_decref(c);
}

/* Small batches (2 hændelser): the consumer still makes one file of a
 * backlog, up to max_per_file hændelser each. */
static int setup_small_batches(void **state)
{
    world *w = calloc(1, sizeof *w);
    w->h = sh_new_batched("test_unilogin", "2026-03-10", 2);
    build_world(w);
    *state = w;
    return 0;
}

static void rename_five_times(world *w)
{
    char out[7], navn[8];
    for (int i = 0; i < 5; i++) {
        snprintf(navn, sizeof navn, "N%d", i);
        sh_must(w->h, REG_OP_UPDATE, REG_ANVISNINGSENHED, i % 2 ? w->ae_a : w->ae_d,
                json_pack("{s:s}", "navn", navn), out);
    }
}

static void test_a_backlog_becomes_one_file(void **state)
{
    world *w = *state;
    load(w, "{\"interval_ms\": 0}");
    wait_cursor(w, w->seq);
    sh_unload(w->h);
    rename_five_times(w);
    load(w, "{\"interval_ms\": 0}");
    wait_cursor(w, w->seq + 5);
    export_file files[16];
    assert_int_equal(export_files(w, files, 16), 1);
    assert_int_equal(files[0].fra, w->seq + 1);
    assert_int_equal(files[0].til, w->seq + 5);
    json_t *c = verified(w, &files[0]);
    assert_string_equal(str(find_row(json_object_get(c, "aendret"), w->ae_d), "navn"), "N4");
    assert_string_equal(str(find_row(json_object_get(c, "aendret"), w->ae_a), "navn"), "N3");
    json_decref(c);
}

static void test_max_per_file_bounds_a_file(void **state)
{
    world *w = *state;
    load(w, "{\"interval_ms\": 0, \"max_per_file\": 2}");
    wait_cursor(w, w->seq);
    sh_unload(w->h);
    rename_five_times(w);
    load(w, "{\"interval_ms\": 0, \"max_per_file\": 2}");
    wait_cursor(w, w->seq + 5);
    export_file files[16];
    assert_int_equal(export_files(w, files, 16), 3);
    assert_int_equal(files[0].til - files[0].fra, 1);
    assert_int_equal(files[1].fra, files[0].til + 1);
    assert_int_equal(files[2].fra, files[1].til + 1);
    assert_int_equal(files[2].til, w->seq + 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_list_holds_units_and_addresses_with_both_numbers,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_changes_after_close_delete_and_lost_p_nummer, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_a_move_restates_the_unit_and_its_addresses, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_nothing_new, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_efter, setup, teardown),
        cmocka_unit_test_setup_teardown(test_access_follows_public_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_is_checked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_consumer_writes_signed_change_sets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_consumer_resumes_after_a_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_consumer_fra_replays_the_past, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timed_nedlagt_reaches_the_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_backlog_becomes_one_file, setup_small_batches,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_max_per_file_bounds_a_file, setup_small_batches,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
