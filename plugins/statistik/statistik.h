/*
 * statistik.h -- the statistik plugin's parts: dates and parameters
 * (params.c), reading and counting the anvisningsenheder in effect on a day
 * a page at a time (count.c), the key list streamed over HTTP (stream.c),
 * the routes' OpenAPI description (openapi.c), and the instance with its
 * routes (plugin.c).
 *
 * Dagtilbudsstatistikken (Danmarks Statistik) counts the anvisningsenheder
 * in effect on a reference date (1 October), each in the version in effect
 * that day, by kommune (its adresse's kommuneKode), type (instType3) and
 * ownership (its daginstitution's ejerformKode as of that day), and links
 * its figures by dagtilbudsnummer.
 */
#ifndef STATISTIK_H
#define STATISTIK_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <dtr/plugin.h>

/* The fields a count may be grouped by, in their canonical order. */
typedef enum stat_field { STAT_KOMMUNE = 0, STAT_INSTTYPE, STAT_EJERFORM, STAT_NFIELDS } stat_field;

/* A value the register does not have (a unit whose daginstitution was not
 * in effect that day has no ejerformKode): null in JSON, empty in CSV. */
#define STAT_MISSING INT_MIN

/* The JSON/CSV name of a field ("kommuneKode", "instType3", "ejerformKode"). */
const char *stat_field_name(stat_field f);

/* ---- params.c --------------------------------------------------------------- */

/* True for a real calendar day written YYYY-MM-DD. */
bool stat_valid_day(const char *s);

/* The latest 1 October not after the day `now` is in Copenhagen (CET/CEST
 * by the EU rule: summer time from 01:00 UTC on the last Sunday of March to
 * 01:00 UTC on the last Sunday of October). */
void stat_default_day(time_t now, char out[11]);

/* Parses grupper: field names separated by commas, each at most once, in
 * the order given ("" is no grouping). Returns the number of fields, or -1
 * for an unknown or repeated name. */
int stat_parse_groups(const char *s, stat_field fields[STAT_NFIELDS]);

/* ---- count.c ------------------------------------------------------------------ */

/* Units per page read, and per piece of the streamed key list. */
#define STAT_PAGE 250

/* One anvisningsenhed as the statistics see it on a day. */
typedef struct stat_unit {
    char nummer[7];
    char daginstitution[7];
    int value[STAT_NFIELDS]; /* STAT_MISSING when absent */
} stat_unit;

typedef struct stat_units {
    stat_unit *v;
    size_t n, cap;
} stat_units;

void stat_units_free(stat_units *u);

/* A daginstitution's ejerformKode on the day (STAT_MISSING when it was not
 * in effect then). */
typedef struct stat_owner {
    char nummer[7];
    int ejerform;
} stat_owner;

/* Walks the anvisningsenheder in effect on day (YYYY-MM-DD), each in the
 * version in effect then, ordered by nummer, a page of at most STAT_PAGE at
 * a time, each with its daginstitution's ejerformKode as of that day (read
 * by number, once per daginstitution and page). The caller holds one
 * snapshot on r for the whole walk. Pool thread, r its own. Memory: one
 * page, whatever the register holds. */
typedef struct stat_pager {
    const dtr_host_api *api;
    dtr_reader *r;
    char day[11];
    char after[7];      /* where the next page starts; "" before the first */
    bool last;          /* the last page has been read */
    stat_owner *owners; /* the daginstitutioner looked up for the page, by number */
    size_t nowners, cap;
} stat_pager;

void stat_pager_init(stat_pager *p, const dtr_host_api *api, dtr_reader *r, const char *day);
/* The next page into page (whose units it replaces). DTR_OK, or the
 * failing read's status (DTR_ERROR). After the last page p->last is set. */
dtr_status stat_pager_next(stat_pager *p, stat_units *page);
void stat_pager_free(stat_pager *p);

/* A count grouped by fields, made as the pages come: one entry per group,
 * ordered by the fields' values in the order given (a missing value
 * first). Memory: the groups, not the units. */
typedef struct stat_tally {
    stat_field fields[STAT_NFIELDS];
    size_t nfields;
    stat_unit *groups; /* a unit standing for each group (its values) */
    size_t *counts;
    size_t n, cap;
    size_t total; /* units counted */
} stat_tally;

void stat_tally_init(stat_tally *t, const stat_field *fields, size_t n);
void stat_tally_add(stat_tally *t, const stat_units *page);
/* The rows [{"<field>": value, ..., "antal": N}] in the groups' order. A
 * new array. */
json_t *stat_tally_rows(const stat_tally *t);
void stat_tally_free(stat_tally *t);

/* The count's rows as CSV: a UTF-8 BOM, a header of the field names and
 * "antal", ';' between fields, CRLF after each line. A malloc'd string,
 * *len its length. */
char *stat_rows_csv(const json_t *rows, const stat_field *fields, size_t n, size_t *len);

/* The key list's first bytes and its units one at a time, as JSON
 * ({"nummer", "daginstitutionsNummer", "kommuneKode", "instType3",
 * "ejerformKode"}: text as DTR_JSON_WIRE writes it, malloc'd) or as a CSV
 * line with CRLF (into line, STAT_CSV_LINE bytes; returns its length). */
#define STAT_BOM "\xEF\xBB\xBF"
#define STAT_UNITS_CSV_HEADER                                                                      \
    STAT_BOM "nummer;daginstitutionsNummer;kommuneKode;instType3;ejerformKode\r\n"
#define STAT_CSV_LINE 128
char *stat_unit_json(const stat_unit *w);
size_t stat_unit_csv(const stat_unit *w, char line[STAT_CSV_LINE]);

/* ---- stream.c ----------------------------------------------------------------- */

/* Called on the loop thread when the stream is done with the reader it was
 * given (its snapshot ended): the caller takes it back. */
typedef void (*stat_reader_back_fn)(void *ctx, dtr_reader *r);

/* Answers GET /v1/statistik/enheder?dato=day on req, streamed: JSON
 * {"dato", "enheder": [...]} or (csv) the CSV key list, as of one snapshot
 * of reader, with memory bounded by a page (stream.c says how). From now
 * on the stream owns req and reader: it answers (503 problem+json when the
 * register cannot be read before the first byte) and hands reader back
 * through back(ctx, r). Returns false when it could not start (the pool
 * refused the first read); then it took nothing and the caller answers.
 * Loop thread. */
bool stat_enheder_stream(const dtr_host_api *api, dtr_plugin *self, dtr_request *req,
                         dtr_reader *reader, const char *day, bool csv, stat_reader_back_fn back,
                         void *ctx);

/* ---- openapi.c ---------------------------------------------------------------- */

/* Describes GET /v1/statistik/optaelling and /v1/statistik/enheder to the
 * host (openapi_describe), after they were added. Does nothing on a host
 * without openapi_describe (a test's fake host); a refusal is logged. Loop thread (init). */
void stat_openapi_describe(const dtr_host_api *api, dtr_plugin *self);

#endif /* STATISTIK_H */
