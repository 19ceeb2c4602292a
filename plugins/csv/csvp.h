/*
 * csvp.h -- the insides of the csv format plugin, shared by its files.
 *
 * The plugin reads and writes the register's public CSV export layout: three
 * files (daginstitution.csv, anvisningsenhed.csv, alternativadresse.csv),
 * semicolon separated, UTF-8 with a byte order mark, CRLF line ends, the
 * register's column names (with `_Tekst` columns that repeat the text of a
 * code). The seams:
 *
 *   layout.c     the column tables of the three files and the conversion of
 *                one row to a record (json_t) and of a record to one row
 *   csv_read.c   import_read: streaming libcsv parser, line numbers, header
 *                check, refusals
 *   csv_write.c  the buffered row writer (quoting, BOM, CRLF) and export_write
 *   generate.c   generate: the synthetic register (gen_tables.c: its facts)
 *   plugin.c     the descriptor, init and the config check
 *
 * Nothing here is exported from the .so but the descriptor; the prefix csvp_
 * keeps these names apart from libcsv's csv_ functions.
 */
#ifndef DTR_CSVP_H
#define DTR_CSVP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <dtr/plugin.h>

/* The plugin's descriptor, exported as DTR_PLUGIN_SYMBOL ("dtr_plugin"). */
extern const dtr_plugin_descriptor csvp_descriptor __asm__(DTR_PLUGIN_SYMBOL);

/* One plugin instance: what init made. */
typedef struct csvp_state {
    dtr_plugin *self;
    const dtr_host_api *api;
} csvp_state;

/* The host's code_text (see dtr_host_api) for the instance st: the text of
 * a code, or NULL. Any thread. */
static inline const char *csvp_code_text(const csvp_state *st, const char *list, int kode)
{
    return st->api->code_text(st->self, list, kode);
}

/* ---- layout.c: the three files ------------------------------------------ */

/* What a column holds, which decides how it is read and written. */
typedef enum csvp_kind {
    CSVP_STRING, /* text kept exactly as written; empty is null */
    CSVP_CODE,   /* an integer code of a code list; empty is null */
    CSVP_TEXT,   /* the `_Tekst` of the code column before it: checked, not kept */
    CSVP_GEO,    /* a WGS84 coordinate: a number, written with 5 decimals */
    CSVP_STATUS  /* aktivitetsstatus: Aktiv, Nedlagt or Kommende */
} csvp_kind;

typedef struct csvp_column {
    const char *name; /* the header name, e.g. "instType3_Tekst" */
    csvp_kind kind;
    const char *field; /* the record's field (API.md name); NULL for CSVP_TEXT */
    bool in_adresse;   /* the field lives in the record's "adresse" object */
    const char *list;  /* CSVP_CODE, CSVP_TEXT: the host's code list name */
    int code_column;   /* CSVP_TEXT: index of the code column it names */
} csvp_column;

typedef struct csvp_layout {
    int level;             /* 0 daginstitution, 1 anvisningsenhed, 2 alternativ adresse */
    const char *file_name; /* "daginstitution.csv" */
    const csvp_column *columns;
    size_t n_columns;
} csvp_layout;

#define CSVP_LEVELS 3
#define CSVP_MAX_COLUMNS 19 /* the widest file (anvisningsenhed.csv) */

/* Column indices, in the files' order; the generator fills rows by them. */
enum {
    DI_NUMMER,
    DI_NAVN,
    DI_EJERFORM,
    DI_EJERFORM_TEKST,
    DI_LOVGRUNDLAG,
    DI_LOVGRUNDLAG_TEKST,
    DI_KOMMUNE,
    DI_KOMMUNE_TEKST,
    DI_STATUS,
    DI_NCOLUMNS
};
enum {
    AE_NUMMER,
    AE_DAGINSTITUTION,
    AE_NAVN,
    AE_TYPE,
    AE_TYPE_TEKST,
    AE_KOMMUNE,
    AE_KOMMUNE_TEKST,
    AE_VEJNAVN,
    AE_HUSNUMMER,
    AE_POSTNUMMER,
    AE_BYNAVN,
    AE_SUPPLERENDE,
    AE_EMAIL,
    AE_TELEFON,
    AE_CVR,
    AE_PNUMMER,
    AE_BREDDE,
    AE_LAENGDE,
    AE_STATUS,
    AE_NCOLUMNS
};
enum {
    AA_NUMMER,
    AA_ANVISNINGSENHED,
    AA_NAVN,
    AA_VEJNAVN,
    AA_HUSNUMMER,
    AA_POSTNUMMER,
    AA_BYNAVN,
    AA_SUPPLERENDE,
    AA_KOMMUNE,
    AA_KOMMUNE_TEKST,
    AA_CVR,
    AA_PNUMMER,
    AA_BREDDE,
    AA_LAENGDE,
    AA_STATUS,
    AA_NCOLUMNS
};

/* The layout of a level; NULL for a level outside 0..2. */
const csvp_layout *csvp_layout_of(int level);

/* A field of a row: bytes and length (not NUL-terminated when written;
 * NUL-terminated when read). */
typedef struct csvp_field {
    const char *p;
    size_t len;
} csvp_field;

/* The room a refusal reason may take (several reasons are joined by "; "). */
#define CSVP_REASON_MAX 1024

/* Turns one data row (fields in the layout's column order) into a record.
 * Returns a new json_t, or NULL with reason filled when the row cannot be a
 * record (invalid UTF-8, a code or coordinate that is not a number, a
 * `_Tekst` that is not the text of its code, an unknown aktivitetsstatus).
 * The code texts are the host's for the instance lists, which may be NULL
 * (no `_Tekst` check). */
json_t *csvp_row_to_record(const csvp_layout *layout, const csvp_field *fields,
                           const csvp_state *lists, char *reason, size_t reasonlen);

/* Scratch room for the numbers of one row written from a record. */
#define CSVP_SCRATCH 256

/* Fills fields[] (layout order) from a stored record, for writing. Strings
 * point into the record or the code texts; numbers are formatted into
 * scratch. Returns false with err filled when a field has a type the layout
 * cannot write. */
bool csvp_record_to_row(const csvp_layout *layout, const json_t *record, const csvp_state *lists,
                        csvp_field *fields, char scratch[CSVP_SCRATCH], char *err, size_t errlen);

/* Is [p, p+len) valid UTF-8 without NUL bytes? */
bool csvp_utf8_valid(const char *p, size_t len);

/* How many of the first max bytes of the valid UTF-8 text p[0..len) to
 * show without cutting a character. */
size_t csvp_utf8_cut(const char *p, size_t len, size_t max);

/* Writes a coordinate with exactly five decimals, independent of the
 * locale. Returns the length written (out holds at least 24 bytes). */
size_t csvp_format_geo(double v, char *out);

/* The export text of a status ("aktiv" -> "Aktiv"); NULL when unknown. */
const char *csvp_status_text(const char *status);

/* ---- csv_write.c: the buffered writer ------------------------------------ */

#define CSVP_OUT_BUF (64 * 1024)

/* Bytes on their way to a dtr_byte_sink, written in blocks of CSVP_OUT_BUF.
 * After a failed write every later call is a no-op and status stays
 * DTR_ERROR. */
typedef struct csvp_out {
    const dtr_byte_sink *sink;
    dtr_status status;
    size_t len;
    char buf[CSVP_OUT_BUF];
} csvp_out;

void csvp_out_init(csvp_out *o, const dtr_byte_sink *sink);
/* The byte order mark and the layout's header line. */
void csvp_out_header(csvp_out *o, const csvp_layout *layout);
/* One row: fields joined by ';', quoted when they need it, then CRLF. */
void csvp_out_row(csvp_out *o, const csvp_field *fields, size_t n);
/* Writes out what is buffered; returns the writer's status. */
dtr_status csvp_out_flush(csvp_out *o);

dtr_status csvp_export_write(void *state, int level, const dtr_export_source *src,
                             const dtr_byte_sink *out, char *err, size_t errlen);

/* ---- csv_read.c ---------------------------------------------------------- */

dtr_status csvp_import_read(void *state, const char *dir, const dtr_import_sink *sink, char *err,
                            size_t errlen);

/* ---- generate.c ------------------------------------------------------------ */

dtr_status csvp_generate(void *state, uint64_t units, uint64_t seed, const char *outdir, char *err,
                         size_t errlen);

/* ---- eksport.c: GET /v1/eksport/{fil} -------------------------------------- */

/* Registers the HTTP export route when the host lends the register's reads
 * (a serving host); a command-line host does not, and gets no route. */
dtr_status csvp_eksport_routes(csvp_state *st, char *err, size_t errlen);

/* ---- openapi.c: the route's OpenAPI description (ABI 1.4) ------------------- */

/* Describes GET /v1/eksport/{fil} to the host (openapi_describe), after the
 * route was added. Does nothing on a host without openapi_describe (a
 * test's fake host); a refusal is logged. Loop thread (init). */
void csvp_openapi_describe(const csvp_state *st);

/* ---- gen_tables.c: the generator's facts --------------------------------- */

/* A kommune: its code and approximate population (1 January 2024). */
typedef struct csvp_kommune {
    int kode;
    unsigned population;
} csvp_kommune;

/* A town of a kommune: postnummer, byNavn, the mean position of the sample's
 * units there, and how many of them there were (the weight). */
typedef struct csvp_town {
    int kommune;
    const char *post_nummer;
    const char *by_navn;
    double lat;
    double lon;
    unsigned weight;
} csvp_town;

extern const csvp_kommune csvp_kommuner[];
extern const size_t csvp_n_kommuner;
extern const csvp_town csvp_towns[]; /* ordered by kommune */
extern const size_t csvp_n_towns;
extern const char *const csvp_street_names[];
extern const size_t csvp_n_street_names;
extern const char *const csvp_name_words[];
extern const size_t csvp_n_name_words;

#endif /* DTR_CSVP_H */
