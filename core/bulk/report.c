/*
 * report.c -- what `dtr import` prints: one line per refused row as it is
 * refused (so the report never has to be held in memory), a progress bar on
 * stderr when a person watches, and the counts at the end.
 *
 * Report lines (stdout, stable for scripts and tests):
 *
 *   anvisningsenhed.csv:12: G23152: UKENDT_KODE instType3: ukendt kode 9999
 *   ...
 *   import of DIR
 *   rows read: 7083
 *   created: 7083
 *   updated: 0
 *   unchanged: 0
 *   refused: 0
 *
 * Main thread.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bulk/bulk_int.h"

#define BAR_WIDTH 40
#define BAR_INTERVAL_MS 100

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void bar_clear(bulk_report *r)
{
    if (!r->bar_shown) return;
    fputs("\r\033[K", stderr);
    fflush(stderr);
    r->bar_shown = false;
}

void bulk_report_refusal(bulk_report *r, const char *file, uint64_t line, const char *nummer,
                         const char *reasons)
{
    if (!r->out) return;
    bar_clear(r);
    fprintf(r->out, "%s:%llu: %s: %s\n", file, (unsigned long long)line,
            nummer && *nummer ? nummer : "-", reasons);
}

void bulk_report_progress(bulk_report *r, uint64_t done, uint64_t total, uint64_t rows)
{
    if (!r->progress || total == 0) return;
    int permil = (int)(done * 1000 / total);
    uint64_t t = now_ms();
    if (permil == r->last_permil && r->bar_shown) return;
    if (r->bar_shown && t - r->last_draw_ms < BAR_INTERVAL_MS && permil < 1000) return;
    r->last_permil = permil;
    r->last_draw_ms = t;
    if (r->out) fflush(r->out);
    char bar[BAR_WIDTH + 1];
    int filled = permil * BAR_WIDTH / 1000;
    for (int i = 0; i < BAR_WIDTH; i++)
        bar[i] = i < filled ? '#' : '-';
    bar[BAR_WIDTH] = '\0';
    fprintf(stderr, "\r[%s] %3d%%  %llu rows", bar, permil / 10, (unsigned long long)rows);
    fflush(stderr);
    r->bar_shown = true;
}

void bulk_report_summary(bulk_report *r, const char *dir, const bulk_counts *n, bool dry_run)
{
    bar_clear(r);
    if (!r->out) return;
    fprintf(r->out,
            "import of %s%s\nrows read: %llu\ncreated: %llu\nupdated: %llu\nunchanged: %llu\n"
            "refused: %llu\n",
            dir, dry_run ? " (dry run: nothing was written)" : "", (unsigned long long)n->read,
            (unsigned long long)n->created, (unsigned long long)n->updated,
            (unsigned long long)n->unchanged, (unsigned long long)n->refused);
    fflush(r->out);
}

void bulk_format_reasons(const store_result *res, char *out, size_t outlen)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < res->n_errors && used < outlen; i++) {
        const reg_error *e = &res->errors[i];
        int n = snprintf(out + used, outlen - used, "%s%s%s%s: %s", i ? "; " : "", e->kode,
                         e->felt[0] ? " " : "", e->felt, e->tekst);
        if (n < 0) break;
        used += (size_t)n;
    }
    if (!out[0]) snprintf(out, outlen, "refused with status %d", res->status);
}
