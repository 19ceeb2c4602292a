/*
 * fake_host.h -- what the csv plugin's unit tests share: a host table with
 * the code lists (and nothing else), a sink that collects what import_read
 * delivers, a byte sink and a record source in memory, and small file
 * helpers.
 */
#ifndef CSVP_FAKE_HOST_H
#define CSVP_FAKE_HOST_H

#include <stdbool.h>
#include <stddef.h>

#include <dtr/plugin.h>

/* The host table: code_text knows ejerform, lovgrundlag and institutionstype
 * (kodetekster.csv's texts) and the kommuner: read from
 * $DTR_SHARED_DIR/data/kommuner.csv when it is there, else "Kommune <kode>"
 * for the 98 codes of the generator's table. */
const dtr_host_api *fake_host(void);

/* A plugin instance made with fake_host() and config {}. */
void *fake_plugin_new(void);
void fake_plugin_free(void *state);

/* What import_read delivered: records[level] (arrays of records with "line"
 * added) and refusals (an array of {"file","line","nummer","reason"}). */
typedef struct collected {
    json_t *records[3];
    json_t *refusals;
    long stop_after; /* >= 0: the record sink answers DTR_ERROR after this many records */
    long delivered;
    unsigned long long progress_done, progress_total;
} collected;

void collected_init(collected *c);
void collected_clear(collected *c);
dtr_import_sink collected_sink(collected *c);

/* The shared folder's dtr-sample directory, or NULL when it is absent. */
const char *sample_dir(void);

/* A fresh temporary directory (mkdtemp); remove_tree deletes it again. */
char *temp_dir(void);
void remove_tree(char *dir);

/* Writes / reads a whole file (malloc'd, *len set; NULL when missing). */
void write_file(const char *dir, const char *name, const char *data, size_t len);
char *read_whole(const char *dir, const char *name, size_t *len);

/* Writes the three files of a small register: daginstitution.csv with the
 * given body (rows after the header) and header, the others header-only
 * unless given. Any argument may be NULL for "the layout's own header" or
 * "no rows". */
void write_register(const char *dir, const char *di_body, const char *ae_body, const char *aa_body);

/* A byte sink (dtr_byte_sink's write) into memory, kept NUL-terminated;
 * fail_after >= 0 makes it fail from that write on, -1 never. Counts the
 * writes and the largest. The caller frees data. */
typedef struct memory {
    char *data;
    size_t len, cap;
    size_t writes, largest;
    long fail_after;
} memory;

dtr_status memory_write(void *ctx, const void *data, size_t len);

/* An export source (dtr_export_source's next) over a json array of
 * records, from index next on; yields new references. */
typedef struct array_source {
    json_t *records;
    size_t next;
} array_source;

json_t *array_next(void *ctx);

extern const char *const header_di;
extern const char *const header_ae;
extern const char *const header_aa;

#endif
