/*
 * bulk_int.h -- what the files of bulk/ share: the loaded format plugin and
 * the import's report (report.c).
 */
#ifndef DTR_BULK_INT_H
#define DTR_BULK_INT_H

#include <uv.h>

#include "bulk/bulk.h"
#include "dtr/plugin.h"
#include "ops/log.h"
#include "plugin/loader.h"

/* A format plugin loaded for a command-line tool: a registry of its own on a
 * loop that only runs to tear the instance down. */
struct bulk_format {
    uv_loop_t loop;
    ops_log *log;
    plug_registry *reg;
    plug_set *set;
    const dtr_plugin_descriptor *desc;
    void *state; /* the instance's state, handed to every callback */
};

/* ---- report.c: what the import prints ------------------------------------------------ */

typedef struct bulk_report {
    FILE *out;       /* NULL: print nothing */
    bool progress;   /* draw the bar on stderr */
    bool bar_shown;  /* the bar is on the screen now */
    int last_permil; /* the bar as last drawn */
    uint64_t last_draw_ms;
} bulk_report;

/* Prints one refused row: "<file>:<line>: <nummer>: <reasons>" (nummer "-"
 * when the row has none that could be read). Clears the bar first. */
void bulk_report_refusal(bulk_report *r, const char *file, uint64_t line, const char *nummer,
                         const char *reasons);
/* Draws the bar for done of total bytes (at most every 100 ms). */
void bulk_report_progress(bulk_report *r, uint64_t done, uint64_t total, uint64_t rows);
/* Clears the bar and prints the counts. */
void bulk_report_summary(bulk_report *r, const char *dir, const bulk_counts *n, bool dry_run);
/* The reasons of a refusal as one line: "KODE felt: tekst; ..." into out. */
void bulk_format_reasons(const store_result *res, char *out, size_t outlen);

#endif /* DTR_BULK_INT_H */
