/*
 * test_bulk_fixture.h -- what the bulk tests share: a fresh data directory
 * and a files directory, the csv format plugin (DTR_PLUGIN_DIR/csv.so),
 * CSV files written from rows, an import whose report is captured, a clock
 * the test sets, and the store opened afterwards to look at what happened.
 */
#ifndef TEST_BULK_FIXTURE_H
#define TEST_BULK_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "bulk/bulk.h"

#define DI_HEADER                                                                                  \
    "daginstitutionsNummer;daginstitutionsNavn;ejerformKode;ejerformKode_Tekst;lovgrundlagKode;"   \
    "lovgrundlagKode_Tekst;admKommuneKode;admKommuneKode_Tekst;aktivitetsstatus"
#define AE_HEADER                                                                                  \
    "anvisningsenhedsNummer;daginstitutionsNummer;dagtilbudsNavn;instType3;instType3_Tekst;"       \
    "kommuneKode;kommuneKode_Tekst;vejNavn;husNummer;postNummer;byNavn;supplerendeBynavn;email;"   \
    "telefonNummer;cvrNummer;pNummer;geoBredde;geoLaengde;aktivitetsstatus"
#define AA_HEADER                                                                                  \
    "alternativAdresseNummer;anvisningsenhedsNummer;dagtilbudsNavn;vejNavn;husNummer;postNummer;"  \
    "byNavn;supplerendeBynavn;kommuneKode;kommuneKode_Tekst;cvrNummer;pNummer;geoBredde;"          \
    "geoLaengde;aktivitetsstatus"

/* A kommunal daginstitution row (kommune 101, § 19 stk. 2). */
#define DI_ROW(nummer, navn, status) nummer ";" navn ";1;;1;;101;;" status
/* An aldersintegreret unit row in København with a valid CVR. */
#define AE_ROW(nummer, parent, navn, status)                                                       \
    nummer ";" parent ";" navn ";6012;;101;;Gammeltoftsgade;13;1355;København K;;;;74467334;"     \
           "1482983425;55.68855;12.57191;" status
#define AA_ROW(nummer, parent, navn, status)                                                       \
    nummer ";" parent ";" navn ";Rømersgade;27;1362;København K;;101;;;;;;" status

typedef struct bfix {
    char root[64];
    char data[96];  /* the data directory */
    char files[96]; /* the CSV files */
    char out[96];   /* export target */
    bulk_format *f;
    int64_t now_ms;
    char *report; /* the last import's report */
    bulk_counts counts;
    char err[1024];
} bfix;

static inline int64_t bfix_day_ms(const char *day)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    tm.tm_year = atoi(day) - 1900;
    tm.tm_mon = atoi(day + 5) - 1;
    tm.tm_mday = atoi(day + 8);
    tm.tm_hour = 12;
    return (int64_t)timegm(&tm) * 1000;
}

static inline int64_t bfix_clock(void *udata)
{
    return ((bfix *)udata)->now_ms;
}

static inline bfix *bfix_new(void)
{
    bfix *b = calloc(1, sizeof *b);
    const char *tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(b->root, sizeof b->root, "%s/bulk_XXXXXX", tmp);
    if (!mkdtemp(b->root)) fail_msg("mkdtemp");
    snprintf(b->data, sizeof b->data, "%s/data", b->root);
    snprintf(b->files, sizeof b->files, "%s/files", b->root);
    snprintf(b->out, sizeof b->out, "%s/out", b->root);
    if (mkdir(b->data, 0750) != 0 || mkdir(b->files, 0750) != 0) fail_msg("mkdir");
    const char *dir = getenv("DTR_PLUGIN_DIR");
    char path[512];
    snprintf(path, sizeof path, "%s/csv.so", dir ? dir : "build/plugins");
    b->f = bulk_format_open("csv", path, NULL, b->data, b->err, sizeof b->err);
    if (!b->f) fail_msg("bulk_format_open: %s", b->err);
    b->now_ms = bfix_day_ms("2026-03-10");
    return b;
}

static inline void bfix_free(bfix *b)
{
    bulk_format_close(b->f);
    free(b->report);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", b->root);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", b->root);
    free(b);
}

/* Writes dir/name: BOM, header, rows (NULL-terminated), CRLF after each. */
static inline void bfix_write(const char *dir, const char *name, const char *header, ...)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *fp = fopen(path, "wb");
    if (!fp) fail_msg("fopen %s", path);
    fprintf(fp, "\xEF\xBB\xBF%s\r\n", header);
    va_list ap;
    va_start(ap, header);
    const char *row;
    while ((row = va_arg(ap, const char *)) != NULL)
        fprintf(fp, "%s\r\n", row);
    va_end(ap);
    fclose(fp);
}

/* Runs an import of b->files into b->data with the test's clock; keeps the
 * report in b->report and the counts in b->counts; returns bulk_import's
 * value. */
static inline int bfix_import(bfix *b, bool dry_run)
{
    free(b->report);
    b->report = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&b->report, &len);
    bulk_import_options opt = {.data_dir = b->data,
                               .dir = b->files,
                               .dry_run = dry_run,
                               .out = out,
                               .batch = 3, /* small: batches and their ends are exercised */
                               .clock = bfix_clock,
                               .clock_udata = b};
    b->err[0] = '\0';
    int rc = bulk_import(b->f, &opt, &b->counts, b->err, sizeof b->err);
    fclose(out);
    if (getenv("BULK_TEST_VERBOSE")) fprintf(stderr, "report:\n%s\nerr: %s\n", b->report, b->err);
    return rc;
}

static inline void bfix_expect_counts(const bfix *b, uint64_t read, uint64_t created,
                                      uint64_t updated, uint64_t unchanged, uint64_t refused)
{
    if (b->counts.read != read || b->counts.created != created || b->counts.updated != updated ||
        b->counts.unchanged != unchanged || b->counts.refused != refused)
        fail_msg("counts read %llu created %llu updated %llu unchanged %llu refused %llu; "
                 "expected %llu %llu %llu %llu %llu\nreport:\n%s",
                 (unsigned long long)b->counts.read, (unsigned long long)b->counts.created,
                 (unsigned long long)b->counts.updated, (unsigned long long)b->counts.unchanged,
                 (unsigned long long)b->counts.refused, (unsigned long long)read,
                 (unsigned long long)created, (unsigned long long)updated,
                 (unsigned long long)unchanged, (unsigned long long)refused, b->report);
}

/* The report holds this line (exactly, as a whole line). */
static inline void bfix_expect_line(const bfix *b, const char *line)
{
    const char *p = b->report ? b->report : "";
    size_t n = strlen(line);
    while ((p = strstr(p, line)) != NULL) {
        bool starts = p == b->report || p[-1] == '\n';
        if (starts && (p[n] == '\n' || p[n] == '\0')) return;
        p += n;
    }
    fail_msg("the report lacks the line\n  %s\nreport:\n%s", line, b->report);
}

/* The report has a line that starts with prefix and contains part. */
static inline void bfix_expect_refusal(const bfix *b, const char *prefix, const char *part)
{
    const char *p = b->report ? b->report : "";
    while (*p) {
        const char *end = strchr(p, '\n');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n >= strlen(prefix) && strncmp(p, prefix, strlen(prefix)) == 0) {
            char *copy = strndup(p, n);
            bool has = strstr(copy, part) != NULL;
            free(copy);
            if (has) return;
        }
        p += n + (end ? 1 : 0);
    }
    fail_msg("no report line starts with \"%s\" and says \"%s\"\nreport:\n%s", prefix, part,
             b->report);
}

/* ---- the store, opened to look --------------------------------------------- */

typedef struct bstore {
    store *s;
    store_reader *r;
} bstore;

static inline void bstore_log(void *udata, int level, const char *msg)
{
    (void)udata;
    if (getenv("BULK_TEST_VERBOSE")) fprintf(stderr, "store[%d]: %s\n", level, msg);
}

static inline bstore bstore_open(bfix *b)
{
    bstore bs = {0};
    uint8_t key[AUDIT_KEY_BYTES];
    char err[256];
    if (audit_load_or_create_key(b->data, key, err, sizeof err) != 0) fail_msg("key: %s", err);
    store_options opt = {.data_dir = b->data,
                         .audit_key = key,
                         .clock = bfix_clock,
                         .clock_udata = b,
                         .log = bstore_log};
    if (store_open(&opt, &bs.s, err, sizeof err) != 0) fail_msg("store_open: %s", err);
    bs.r = store_reader_open(bs.s, err, sizeof err);
    if (!bs.r) fail_msg("reader: %s", err);
    return bs;
}

static inline void bstore_close(bstore *bs)
{
    store_reader_close(bs->r);
    store_close(bs->s);
}

/* The record (new reference) or NULL with *status set. */
static inline json_t *bstore_get(bstore *bs, const char *nummer, int *status)
{
    reg_level level;
    json_t *rec = NULL;
    int st = store_get(bs->r, nummer, NULL, 0, &level, &rec);
    if (status) *status = st;
    return rec;
}

static inline const char *field(const json_t *rec, const char *name)
{
    return json_string_value(json_object_get(rec, name));
}

static inline int64_t bstore_latest(bstore *bs)
{
    int64_t seq = -1;
    char t[40];
    assert_int_equal(store_latest(bs->r, &seq, t), 0);
    return seq;
}

typedef struct bres {
    int status;
    char primary[7];
    char kode[32];
} bres;

static inline void bres_cb(const store_result *res, void *udata)
{
    bres *r = udata;
    r->status = res->status;
    memcpy(r->primary, res->primary, sizeof r->primary);
    if (res->n_errors) snprintf(r->kode, sizeof r->kode, "%s", res->errors[0].kode);
}

/* A command as support would send it through the API; steals body. */
static inline bres bstore_run(bstore *bs, reg_op op, reg_level level, const char *nummer,
                              json_t *body)
{
    bres r = {.status = -1};
    store_command cmd = {.op = op,
                         .level = level,
                         .nummer = nummer,
                         .body = body,
                         .actor = {.id = "support-1", .role = REG_ROLE_SUPPORT}};
    assert_int_equal(store_submit_sync(bs->s, &cmd, bres_cb, &r), 0);
    json_decref(body);
    return r;
}

#endif /* TEST_BULK_FIXTURE_H */
