/*
 * statistik.h -- the statistik plugin's parts: dates and parameters
 * (params.c), reading and counting the anvisningsenheder in effect on a day
 * (count.c), the routes' OpenAPI description (openapi.c), and the instance
 * with its routes (plugin.c).
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

/* Reads every anvisningsenhed in effect on day (YYYY-MM-DD) in the version
 * in effect then, with its daginstitution's ejerformKode as of that day, in
 * one snapshot, ordered by nummer. Pool thread, r its own. 0, or the read's
 * failing status (503). */
int stat_read_units(const dtr_host_api *api, dtr_reader *r, const char *day, stat_units *out);

/* The count grouped by fields (n of them, in that order): rows
 * [{"<field>": value, ..., "antal": N}] ordered by the fields' values.
 * Sorts u->v. A new array. */
json_t *stat_count(stat_units *u, const stat_field *fields, size_t n);

/* The same rows as CSV: a UTF-8 BOM, a header of the field names and
 * "antal", ';' between fields, CRLF after each line. A malloc'd string,
 * *len its length. */
char *stat_rows_csv(const json_t *rows, const stat_field *fields, size_t n, size_t *len);

/* The units as JSON objects {"nummer", "daginstitutionsNummer",
 * "kommuneKode", "instType3", "ejerformKode"} (a new array), or as CSV with
 * those columns (malloc'd, *len). */
json_t *stat_units_json(const stat_units *u);
char *stat_units_csv(const stat_units *u, size_t *len);

/* ---- openapi.c ---------------------------------------------------------------- */

/* Describes GET /v1/statistik/optaelling and /v1/statistik/enheder to the
 * host (openapi_describe), after they were added. Does nothing on a host
 * older than ABI 1.4; a refusal is logged. Loop thread (init). */
void stat_openapi_describe(const dtr_host_api *api, dtr_plugin *self);

#endif /* STATISTIK_H */
