/*
 * bulk.h -- the register in bulk, for the command line: `dtr import`,
 * `dtr export` and `dtr generate`, through a format plugin
 * (DTR_KIND_FORMAT: the csv plugin reads and writes the register's export
 * layout; this module never parses a file itself).
 *
 * Import. Every row the format plugin reads becomes a command for the store
 * (store_submit with keep_numbers, actor "import" with the system role): the
 * very rules of an API request decide it, inside the writer's transaction.
 * A number the register does not know is created with that number (A-numre
 * too; the allocator then continues above the highest imported G..Z
 * number); a known number is updated with the row's fields (and moved first
 * when the row names another parent); nothing is ever deleted. Rows get
 * virkningFra 2019-08-30 (the register's default for imported rows);
 * a row with aktivitetsstatus Nedlagt is imported closed as of the day of
 * the import, and a record that is closed already is left as it is. A
 * refused row is reported with its file, line, number and reasons, and the
 * rows below it (the anvisningsenheder of a refused daginstitution, the
 * alternative adresser of a refused anvisningsenhed) are refused with it.
 * Commands go to the store in batches (group commit) and the rows are
 * streamed: memory does not grow with the files. The audit log gets one
 * entry for the whole import (actor, files with their BLAKE2b digests,
 * counts); each record still gets its version, history row and hændelse.
 *
 * Export. A read snapshot of the store, written level by level through the
 * format plugin's export_write, rows ordered by daginstitutionsNummer and
 * then by the row's own number. May run while a server uses the data
 * directory.
 *
 * The data directory lock. `dtr serve` and `dtr import` each hold an
 * exclusive flock on <data_dir>/dtr.lock while they run, so an import never
 * runs beside a server (nor two imports side by side). The kernel drops the
 * lock when the process ends, however it ends.
 *
 * Everything here runs on the caller's (main) thread with blocking I/O; the
 * store runs its private loop (store_wait).
 */
#ifndef DTR_BULK_H
#define DTR_BULK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "store/store.h"

/* The default format plugin's name (its .so is <plugin_dir>/csv.so unless
 * the config's plugins list names another path). */
#define BULK_DEFAULT_FORMAT "csv"

/* The actor of every imported change (role system). */
#define BULK_IMPORT_ACTOR "import"

/* ---- the format plugin ------------------------------------------------------ */

typedef struct bulk_format bulk_format;

/* Loads the format plugin `name` from the shared object at path with its
 * config (borrowed; NULL: {}) into a plugin registry of its own, with a
 * host table that carries the register's code lists. data_dir (may be NULL)
 * is what the plugin's data_dir() answers. NULL with the reason in err (no
 * such file, another ABI, not a format plugin, a refused config). */
bulk_format *bulk_format_open(const char *name, const char *path, const json_t *config,
                              const char *data_dir, char *err, size_t errlen);
/* Stops and frees the plugin instance and unloads its code. NULL is allowed. */
void bulk_format_close(bulk_format *f);

/* ---- the data directory lock --------------------------------------------- */

/* Takes the exclusive lock on <data_dir>/dtr.lock without waiting (the file
 * is created when missing). Returns 0 with the open descriptor in *fd (keep
 * it open as long as the lock is needed; close it or exit to let go), 1 when
 * another process holds the lock, -1 with the reason in err. */
int bulk_lock_data_dir(const char *data_dir, int *fd, char *err, size_t errlen);

/* ---- import ---------------------------------------------------------------- */

typedef struct bulk_import_options {
    const char *data_dir; /* the register's data directory (created when missing) */
    const char *dir;      /* where the files are */
    bool dry_run;         /* decide every row, report, write nothing */
    bool progress;        /* draw a progress bar on stderr */
    FILE *out;            /* the report (refusals as they come, then the counts); NULL: none */
    size_t batch;         /* rows submitted before the importer waits for them; 0: 1000 */
    store_clock_fn clock; /* NULL: the system clock (tests set the day) */
    void *clock_udata;
} bulk_import_options;

typedef struct bulk_counts {
    uint64_t read;      /* rows read (every data row of the three files) */
    uint64_t created;   /* rows that made a new record */
    uint64_t updated;   /* rows that changed a record */
    uint64_t unchanged; /* rows the register already held as they are */
    uint64_t refused;   /* rows refused (by the file's reader, the register or with a parent) */
} bulk_counts;

/* Imports dir into the register at opt->data_dir (see the top of this
 * file). Takes the data directory lock for the duration. Returns 0 when no
 * row was refused, 1 when some were (the report names them), -1 when the
 * import could not run at all (err: the directory is in use by a running
 * server, a file is missing or has the wrong column set, the store failed).
 * counts (may be NULL) gets the figures the report prints. */
int bulk_import(bulk_format *f, const bulk_import_options *opt, bulk_counts *counts, char *err,
                size_t errlen);

/* ---- export and generate ---------------------------------------------------------- */

/* Writes the register at data_dir into outdir (created when missing), one
 * file per level as the format plugin names it, all from one read snapshot.
 * Each file is written to a temporary name, fsynced and renamed into
 * place. 0, or -1 with the reason in err. */
int bulk_export(bulk_format *f, const char *data_dir, const char *outdir, char *err, size_t errlen);

/* Writes a synthetic register of `units` anvisningsenheder into outdir
 * through the plugin's generate (deterministic for a seed). 0 or -1. */
int bulk_generate(bulk_format *f, uint64_t units, uint64_t seed, const char *outdir, char *err,
                  size_t errlen);

#endif /* DTR_BULK_H */
