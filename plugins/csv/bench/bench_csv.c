/*
 * bench_csv.c -- run by hand: times the csv plugin's generator, reader and
 * writer on a register of any size (with the tests' fake host for the code
 * lists). Measure memory with /usr/bin/time -v.
 *
 *   bench_csv generate UNITS OUTDIR [SEED]   writes the three files
 *   bench_csv read DIR                       import_read, counting what comes
 *   bench_csv export DIR OUTDIR              import_read + export_write per file
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "csvp.h"
#include "fake_host.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct counts {
    unsigned long long records[3], refused;
} counts;

static dtr_status count_record(void *ctx, int level, json_t *record, const char *file,
                               uint64_t line)
{
    (void)record, (void)file, (void)line;
    ((counts *)ctx)->records[level]++;
    return DTR_OK;
}

static void count_refusal(void *ctx, const char *file, uint64_t line, const char *nummer,
                          const char *reason)
{
    counts *c = ctx;
    if (c->refused++ < 10)
        fprintf(stderr, "%s:%llu %s: %s\n", file, (unsigned long long)line, nummer ? nummer : "-",
                reason);
}

/* For "export": one level's records, kept in memory between read and write
 * (this measures the writer, not the store). */
typedef struct keep {
    int level;
    json_t *records;
    size_t next;
} keep;

static dtr_status keep_record(void *ctx, int level, json_t *record, const char *file, uint64_t line)
{
    (void)file, (void)line;
    keep *k = ctx;
    if (level == k->level) json_array_append(k->records, record);
    return DTR_OK;
}

static json_t *keep_next(void *ctx)
{
    keep *k = ctx;
    json_t *r = json_array_get(k->records, k->next++);
    return r ? json_incref(r) : NULL;
}

static dtr_status file_write(void *ctx, const void *data, size_t len)
{
    return fwrite(data, 1, len, ctx) == len ? DTR_OK : DTR_ERROR;
}

int main(int argc, char **argv)
{
    char err[1024] = "";
    if (argc < 3) {
        fprintf(stderr, "usage: bench_csv generate UNITS OUTDIR [SEED] | read DIR | "
                        "export DIR OUTDIR\n");
        return 2;
    }
    void *plugin = fake_plugin_new();
    double t0 = now();
    dtr_status s;
    if (strcmp(argv[1], "generate") == 0 && argc >= 4) {
        unsigned long long units = strtoull(argv[2], NULL, 10);
        unsigned long long seed = argc > 4 ? strtoull(argv[4], NULL, 10) : 1;
        s = csvp_descriptor.generate(plugin, units, seed, argv[3], err, sizeof err);
        printf("generate %llu units: %.2f s\n", units, now() - t0);
    } else if (strcmp(argv[1], "read") == 0) {
        counts c = {{0}, 0};
        dtr_import_sink sink = {&c, count_record, count_refusal, NULL};
        s = csvp_descriptor.import_read(plugin, argv[2], &sink, err, sizeof err);
        printf("read %llu + %llu + %llu records, %llu refused: %.2f s\n", c.records[0],
               c.records[1], c.records[2], c.refused, now() - t0);
    } else if (strcmp(argv[1], "export") == 0 && argc >= 4) {
        s = DTR_OK;
        for (int level = 0; level < 3 && s == DTR_OK; level++) {
            keep k = {level, json_array(), 0};
            dtr_import_sink sink = {&k, keep_record, count_refusal, NULL};
            s = csvp_descriptor.import_read(plugin, argv[2], &sink, err, sizeof err);
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", argv[3],
                     csvp_descriptor.export_file_name(plugin, level));
            FILE *f = fopen(path, "wb");
            if (f == NULL) {
                perror(path);
                return 1;
            }
            double t1 = now();
            dtr_export_source src = {&k, keep_next};
            dtr_byte_sink out = {f, file_write};
            if (s == DTR_OK)
                s = csvp_descriptor.export_write(plugin, level, &src, &out, err, sizeof err);
            fclose(f);
            printf("export %s: %zu rows: %.2f s\n", path, json_array_size(k.records), now() - t1);
            json_decref(k.records);
        }
    } else {
        fprintf(stderr, "bench_csv: unknown command %s\n", argv[1]);
        return 2;
    }
    if (s != DTR_OK) fprintf(stderr, "bench_csv: %s\n", err);
    fake_plugin_free(plugin);
    return s == DTR_OK ? 0 : 1;
}
