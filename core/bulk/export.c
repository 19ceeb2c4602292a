/*
 * export.c -- `dtr export OUTDIR`: the register from one read snapshot,
 * written through the format plugin's export_write, one file per level.
 *
 * Export order is by daginstitutionsNummer, then by the row's own number
 * (API.md). The store lists by number, so:
 *
 *   daginstitutioner     pages of the daginstitution list, as they come
 *   anvisningsenheder    pages of nested daginstitutioner; each one's units
 *                        come nested in number order
 *   alternative adresser the adresser of all units of one daginstitution,
 *                        sorted by number: taken from the same nested pages
 *                        while the anvisningsenheder are written, and kept
 *                        in a spool file (one JSON record a line, unlinked)
 *                        until their file is written
 *
 * One page is held at a time (EXPORT_PAGE daginstitutioner with their
 * children), whatever the register's size; the spool is on disk. The
 * snapshot keeps every page consistent with one sekvensnummer while a
 * server goes on writing.
 *
 * Files are written as <name>.tmp, fsynced and renamed into place, so an
 * interrupted export never leaves a file that looks whole. Main thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "bulk/bulk_int.h"

#define EXPORT_PAGE 200

/* Where the records of one level come from: the page being walked. */
typedef struct export_walk {
    store_reader *r;
    int level;
    json_t *page; /* daginstitutioner of the current page (nested for level > 0) */
    size_t page_i;
    char next[7]; /* where the next page starts; "" on the last */
    bool last_page;
    json_t *rows; /* the rows of the current daginstitution (level > 0) */
    size_t rows_i;
    FILE *spool; /* level 1: the alternative adresser go here; level 2: they come from here */
    char *line;  /* level 2: the spool's current line (getline's buffer) */
    size_t line_cap;
    int status;      /* a read that failed: 503 */
    int spool_error; /* errno of a failed spool write or read */
} export_walk;

static int by_nummer(const void *a, const void *b)
{
    const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    const char *p = json_string_value(json_object_get(x, "nummer"));
    const char *q = json_string_value(json_object_get(y, "nummer"));
    return strcmp(p ? p : "", q ? q : "");
}

/* The rows a daginstitution contributes to the level's file, in order. */
static json_t *rows_of(const json_t *dag, int level)
{
    json_t *units = json_object_get(dag, "anvisningsenheder");
    if (level == REG_ANVISNINGSENHED) return json_incref(units ? units : json_array());
    size_t n = 0, i;
    json_t *unit;
    json_array_foreach(units, i, unit) n +=
        json_array_size(json_object_get(unit, "alternativeAdresser"));
    json_t **all = calloc(n ? n : 1, sizeof *all);
    if (!all) abort();
    size_t k = 0;
    json_array_foreach(units, i, unit)
    {
        size_t j;
        json_t *a;
        json_array_foreach(json_object_get(unit, "alternativeAdresser"), j, a) all[k++] = a;
    }
    qsort(all, n, sizeof *all, by_nummer);
    json_t *rows = json_array();
    for (size_t j = 0; j < n; j++)
        json_array_append(rows, all[j]);
    free(all);
    return rows;
}

/* Reads the next page of daginstitutioner; false at the end or on error. */
static bool next_page(export_walk *w)
{
    json_decref(w->page);
    w->page = NULL;
    w->page_i = 0;
    if (w->last_page) return false;
    store_query q;
    memset(&q, 0, sizeof q);
    q.level = REG_DAGINSTITUTION;
    q.after = w->next[0] ? w->next : NULL;
    q.limit = EXPORT_PAGE;
    q.flags = w->level > REG_DAGINSTITUTION ? STORE_NESTED : 0;
    char next[7];
    int st = store_list(w->r, &q, &w->page, next);
    if (st != 0) {
        w->status = st;
        return false;
    }
    memcpy(w->next, next, sizeof w->next);
    w->last_page = next[0] == '\0';
    return true;
}

/* Level 1: writes the alternative adresser of dag to the spool, in their
 * file's order. */
static void spool_adresser(export_walk *w, const json_t *dag)
{
    json_t *rows = rows_of(dag, REG_ALTERNATIV_ADRESSE);
    size_t i;
    json_t *a;
    json_array_foreach(rows, i, a)
    {
        if (w->spool_error) break;
        if (json_dumpf(a, w->spool, JSON_COMPACT) != 0 || fputc('\n', w->spool) == EOF)
            w->spool_error = errno ? errno : EIO;
    }
    json_decref(rows);
}

/* Level 2: the next alternativ adresse from the spool; NULL at its end. */
static json_t *spool_next(export_walk *w)
{
    errno = 0;
    ssize_t n = getline(&w->line, &w->line_cap, w->spool);
    if (n < 0) {
        if (ferror(w->spool)) w->spool_error = errno ? errno : EIO;
        return NULL;
    }
    json_t *a = json_loadb(w->line, (size_t)n, 0, NULL);
    if (!a) w->spool_error = EINVAL;
    return a;
}

/* dtr_export_source.next: the next record of the level, a new reference. */
static json_t *walk_next(void *ctx)
{
    export_walk *w = ctx;
    if (w->level == REG_ALTERNATIV_ADRESSE) return spool_next(w);
    for (;;) {
        if (w->rows && w->rows_i < json_array_size(w->rows))
            return json_incref(json_array_get(w->rows, w->rows_i++));
        json_decref(w->rows);
        w->rows = NULL;
        if (!w->page || w->page_i >= json_array_size(w->page)) {
            if (!next_page(w)) return NULL;
            continue;
        }
        json_t *dag = json_array_get(w->page, w->page_i++);
        if (w->level == REG_DAGINSTITUTION) return json_incref(dag);
        spool_adresser(w, dag);
        w->rows = rows_of(dag, w->level);
        w->rows_i = 0;
    }
}

/* A file being written. */
typedef struct out_file {
    int fd;
    int error; /* errno of the first failed write */
} out_file;

static dtr_status file_write(void *ctx, const void *data, size_t len)
{
    out_file *o = ctx;
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(o->fd, p, len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            o->error = errno;
            return DTR_ERROR;
        }
        p += n;
        len -= (size_t)n;
    }
    return DTR_OK;
}

/* Writes one level's file: temporary name, fsync, rename. spool: see
 * export_walk. */
static int export_level(bulk_format *f, store_reader *r, int level, FILE *spool, const char *outdir,
                        char *err, size_t errlen)
{
    const char *name = f->desc->export_file_name(f->state, level);
    char path[4096], tmp[4200];
    snprintf(path, sizeof path, "%s/%s", outdir, name ? name : "?");
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    out_file o = {.fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)};
    if (o.fd < 0) {
        snprintf(err, errlen, "cannot create %s: %s", tmp, strerror(errno));
        return -1;
    }
    export_walk w;
    memset(&w, 0, sizeof w);
    w.r = r;
    w.level = level;
    w.spool = spool;
    if (level == REG_ALTERNATIV_ADRESSE && (fflush(spool) != 0 || fseek(spool, 0, SEEK_SET) != 0))
        w.spool_error = errno;
    dtr_export_source src = {.ctx = &w, .next = walk_next};
    dtr_byte_sink sink = {.ctx = &o, .write = file_write};
    char why[1024] = "";
    dtr_status st = f->desc->export_write(f->state, level, &src, &sink, why, sizeof why);
    json_decref(w.rows);
    json_decref(w.page);
    free(w.line);
    int rc = -1;
    if (w.status != 0)
        snprintf(err, errlen, "the register could not be read (status %d)", w.status);
    else if (w.spool_error)
        snprintf(err, errlen, "the export's spool file: %s", strerror(w.spool_error));
    else if (o.error)
        snprintf(err, errlen, "%s: %s", tmp, strerror(o.error));
    else if (st != DTR_OK)
        snprintf(err, errlen, "%s", why[0] ? why : "the format plugin could not write");
    else if (fsync(o.fd) != 0)
        snprintf(err, errlen, "%s: fsync: %s", tmp, strerror(errno));
    else
        rc = 0;
    if (close(o.fd) != 0 && rc == 0) {
        snprintf(err, errlen, "%s: close: %s", tmp, strerror(errno));
        rc = -1;
    }
    if (rc == 0 && rename(tmp, path) != 0) {
        snprintf(err, errlen, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
        rc = -1;
    }
    if (rc != 0) unlink(tmp);
    return rc;
}

/* An unlinked temporary file in dir for the spool; NULL with errno. */
static FILE *spool_open(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/.dtr-export-XXXXXX", dir);
    int fd = mkostemp(path, O_CLOEXEC);
    if (fd < 0) return NULL;
    unlink(path);
    FILE *fp = fdopen(fd, "w+");
    if (!fp) close(fd);
    return fp;
}

/* fsyncs a directory after the renames into it. */
static int sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

static void export_log(void *udata, int level, const char *msg)
{
    (void)udata;
    if (level >= 2) fprintf(stderr, "dtr export: store: %s\n", msg);
}

int bulk_export(bulk_format *f, const char *data_dir, const char *outdir, char *err, size_t errlen)
{
    if (mkdir(outdir, 0755) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create %s: %s", outdir, strerror(errno));
        return -1;
    }
    uint8_t key[AUDIT_KEY_BYTES];
    if (audit_load_or_create_key(data_dir, key, err, errlen) != 0) return -1;
    store_options so = {.data_dir = data_dir, .audit_key = key, .log = export_log};
    store *s = NULL;
    int rc = store_open(&so, &s, err, errlen);
    sodium_memzero(key, sizeof key);
    if (rc != 0) return -1;
    rc = -1;
    int64_t seq = 0;
    store_reader *r = store_reader_open(s, err, errlen);
    if (r && store_snapshot_begin(r, &seq) != 0) {
        snprintf(err, errlen, "the register could not be read");
    } else if (r) {
        FILE *spool = spool_open(outdir);
        rc = 0;
        if (!spool) {
            snprintf(err, errlen, "cannot make a spool file in %s: %s", outdir, strerror(errno));
            rc = -1;
        }
        for (int level = REG_DAGINSTITUTION; level <= REG_ALTERNATIV_ADRESSE && rc == 0; level++)
            rc = export_level(f, r, level, spool, outdir, err, errlen);
        if (spool) fclose(spool);
        if (rc == 0 && sync_dir(outdir) != 0) {
            snprintf(err, errlen, "%s: fsync: %s", outdir, strerror(errno));
            rc = -1;
        }
        store_snapshot_end(r);
    }
    store_reader_close(r);
    store_close(s);
    return rc;
}
