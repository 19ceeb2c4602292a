/*
 * fake_host.c -- the host table, sink and file helpers of the csv plugin's
 * unit tests (see fake_host.h).
 */
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "csvp.h"
#include "fake_host.h"

const char *const header_di = "daginstitutionsNummer;daginstitutionsNavn;ejerformKode;"
                              "ejerformKode_Tekst;lovgrundlagKode;lovgrundlagKode_Tekst;"
                              "admKommuneKode;admKommuneKode_Tekst;aktivitetsstatus";
const char *const header_ae =
    "anvisningsenhedsNummer;daginstitutionsNummer;dagtilbudsNavn;instType3;instType3_Tekst;"
    "kommuneKode;kommuneKode_Tekst;vejNavn;husNummer;postNummer;byNavn;supplerendeBynavn;email;"
    "telefonNummer;cvrNummer;pNummer;geoBredde;geoLaengde;aktivitetsstatus";
const char *const header_aa =
    "alternativAdresseNummer;anvisningsenhedsNummer;dagtilbudsNavn;vejNavn;husNummer;postNummer;"
    "byNavn;supplerendeBynavn;kommuneKode;kommuneKode_Tekst;cvrNummer;pNummer;geoBredde;"
    "geoLaengde;aktivitetsstatus";

typedef struct code {
    const char *list;
    int kode;
    const char *tekst;
} code;

static const code codes[] = {
    {"ejerform", 1, "Kommunal"},
    {"ejerform", 2, "Selvejende"},
    {"ejerform", 3, "Privat"},
    {"ejerform", 4, "Udliciteret"},
    {"lovgrundlag", 1, "Dagtilbudsloven § 19, stk. 2"},
    {"lovgrundlag", 2, "Dagtilbudsloven § 19, stk. 3"},
    {"lovgrundlag", 3, "Dagtilbudsloven § 19, stk. 4"},
    {"lovgrundlag", 4, "Dagtilbudsloven § 19, stk. 5"},
    {"lovgrundlag", 5, "Dagtilbudsloven § 21, stk. 2 og 3"},
    {"lovgrundlag", 6, "Dagtilbudsloven § 52"},
    {"lovgrundlag", 7, "Dagtilbudsloven § 66"},
    {"lovgrundlag", 8, "Dagtilbudsloven § 19, stk. 2 (landsbyordning, folkeskolelovens § 24 a)"},
    {"lovgrundlag", 9, "Serviceloven § 32"},
    {"lovgrundlag", 10, "Serviceloven § 36"},
    {"institutionstype", 6010, "Vuggestue (0-2 år)"},
    {"institutionstype", 6011, "Børnehave (3-5 år)"},
    {"institutionstype", 6012, "Aldersintegreret (0-5 år)"},
    {"institutionstype", 6013, "Dagpleje"},
    {"institutionstype", 6014, "Børnehave (2-5 år)"},
    {"institutionstype", 6020, "Fritidshjem"},
    {"institutionstype", 6021, "Fritidsklub"},
    {"institutionstype", 6022, "Særligt dagtilbud"},
};

static char kommune_names[1000][64];
static bool kommuner_loaded;

/* Fills the kommune names: from kommuner.csv when the shared folder has it,
 * else a made-up name for each code the generator knows. */
static void load_kommuner(void)
{
    kommuner_loaded = true;
    const char *shared = getenv("DTR_SHARED_DIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/data/kommuner.csv", shared ? shared : "");
    FILE *f = shared ? fopen(path, "r") : NULL;
    if (f != NULL) {
        char line[256];
        while (fgets(line, sizeof line, f)) {
            int kode;
            char name[64];
            if (sscanf(line, "%d;%63[^;]", &kode, name) == 2 && kode > 0 && kode < 1000)
                snprintf(kommune_names[kode], sizeof kommune_names[kode], "%s", name);
        }
        fclose(f);
        return;
    }
    for (size_t i = 0; i < csvp_n_kommuner; i++)
        snprintf(kommune_names[csvp_kommuner[i].kode], sizeof kommune_names[0], "Kommune %d",
                 csvp_kommuner[i].kode);
}

static const char *fake_code_text(dtr_plugin *self, const char *list, int kode)
{
    (void)self;
    if (strcmp(list, "kommune") == 0) {
        if (!kommuner_loaded) load_kommuner();
        return kode > 0 && kode < 1000 && kommune_names[kode][0] ? kommune_names[kode] : NULL;
    }
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        if (strcmp(codes[i].list, list) == 0 && codes[i].kode == kode) return codes[i].tekst;
    return NULL;
}

static void fake_log(dtr_plugin *self, dtr_log_level level, const char *fmt, ...)
{
    (void)self;
    (void)level;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

const dtr_host_api *fake_host(void)
{
    static dtr_host_api api;
    api.abi_major = DTR_ABI_MAJOR;
    api.abi_minor = DTR_ABI_MINOR;
    api.struct_size = sizeof api;
    api.log = fake_log;
    api.code_text = fake_code_text;
    return &api;
}

void *fake_plugin_new(void)
{
    void *state = NULL;
    char err[256] = "";
    json_t *config = json_object();
    dtr_status s = csvp_descriptor.init(NULL, fake_host(), config, &state, err, sizeof err);
    json_decref(config);
    if (s != DTR_OK) {
        fprintf(stderr, "init: %s\n", err);
        abort();
    }
    return state;
}

void fake_plugin_free(void *state)
{
    csvp_descriptor.free(state);
}

/* ---- the collecting sink ---------------------------------------------------- */

static dtr_status on_record(void *ctx, int level, json_t *record, const char *file, uint64_t line)
{
    collected *c = ctx;
    (void)file;
    if (c->stop_after >= 0 && c->delivered >= c->stop_after) return DTR_ERROR;
    json_t *copy = json_deep_copy(record);
    json_object_set_new(copy, "line", json_integer((json_int_t)line));
    json_array_append_new(c->records[level], copy);
    c->delivered++;
    return DTR_OK;
}

static void on_refuse(void *ctx, const char *file, uint64_t line, const char *nummer,
                      const char *reason)
{
    collected *c = ctx;
    json_array_append_new(c->refusals,
                          json_pack("{s:s, s:I, s:s?, s:s}", "file", file, "line", (json_int_t)line,
                                    "nummer", nummer, "reason", reason));
}

static void on_progress(void *ctx, uint64_t done, uint64_t total)
{
    collected *c = ctx;
    c->progress_done = done;
    c->progress_total = total;
}

void collected_init(collected *c)
{
    memset(c, 0, sizeof *c);
    for (int i = 0; i < 3; i++)
        c->records[i] = json_array();
    c->refusals = json_array();
    c->stop_after = -1;
}

void collected_clear(collected *c)
{
    for (int i = 0; i < 3; i++)
        json_decref(c->records[i]);
    json_decref(c->refusals);
}

dtr_import_sink collected_sink(collected *c)
{
    return (dtr_import_sink){c, on_record, on_refuse, on_progress};
}

/* ---- files ------------------------------------------------------------------- */

const char *sample_dir(void)
{
    static char path[4096];
    const char *shared = getenv("DTR_SHARED_DIR");
    if (shared == NULL) return NULL;
    snprintf(path, sizeof path, "%s/data/dtr-sample", shared);
    struct stat sb;
    if (stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode)) return NULL;
    return path;
}

char *temp_dir(void)
{
    char *dir = strdup("/tmp/test_csv_XXXXXX");
    if (dir == NULL || mkdtemp(dir) == NULL) abort();
    return dir;
}

void remove_tree(char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    if (d) closedir(d);
    rmdir(dir);
    free(dir);
}

void write_file(const char *dir, const char *name, const char *data, size_t len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0) abort();
}

char *read_whole(const char *dir, const char *name, size_t *len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (f == NULL) return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) buf = realloc(buf, (cap *= 2) + 1);
    }
    fclose(f);
    if (buf == NULL) abort();
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* Writes one file: the BOM, header, CRLF, then body as given. */
static void write_with_header(const char *dir, const char *name, const char *header,
                              const char *body)
{
    size_t len = 3 + strlen(header) + 2 + (body ? strlen(body) : 0);
    char *data = malloc(len + 1);
    snprintf(data, len + 1, "\xEF\xBB\xBF%s\r\n%s", header, body ? body : "");
    write_file(dir, name, data, len);
    free(data);
}

void write_register(const char *dir, const char *di_body, const char *ae_body, const char *aa_body)
{
    write_with_header(dir, "daginstitution.csv", header_di, di_body);
    write_with_header(dir, "anvisningsenhed.csv", header_ae, ae_body);
    write_with_header(dir, "alternativadresse.csv", header_aa, aa_body);
}

dtr_status memory_write(void *ctx, const void *data, size_t len)
{
    memory *m = ctx;
    if (m->fail_after >= 0 && (long)m->writes >= m->fail_after) return DTR_ERROR;
    if (m->len + len + 1 > m->cap) {
        m->cap = (m->len + len + 1) * 2;
        m->data = realloc(m->data, m->cap);
    }
    memcpy(m->data + m->len, data, len);
    m->len += len;
    m->data[m->len] = '\0';
    m->writes++;
    if (len > m->largest) m->largest = len;
    return DTR_OK;
}

json_t *array_next(void *ctx)
{
    array_source *s = ctx;
    json_t *r = json_array_get(s->records, s->next++);
    return r ? json_incref(r) : NULL;
}
