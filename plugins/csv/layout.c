/*
 * layout.c -- the register's CSV export layout: the columns of its three
 * files, and the conversion between one row and one record (json_t with
 * API.md's field names).
 *
 * A row read becomes a record that keeps what is needed to write the row
 * back byte for byte: strings exactly as written (no trimming, empty is
 * null), codes as integers, coordinates as numbers (written with five
 * decimals, which is how the register writes them), aktivitetsstatus as
 * read. The `_Tekst` columns are not kept: they are checked against the
 * host's code lists on reading and written from them.
 *
 * Pure functions over constant tables: any thread.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "csvp.h"

static const csvp_column daginstitution_columns[] = {
    {"daginstitutionsNummer", CSVP_STRING, "nummer", false, NULL, 0},
    {"daginstitutionsNavn", CSVP_STRING, "navn", false, NULL, 0},
    {"ejerformKode", CSVP_CODE, "ejerformKode", false, "ejerform", 0},
    {"ejerformKode_Tekst", CSVP_TEXT, NULL, false, "ejerform", DI_EJERFORM},
    {"lovgrundlagKode", CSVP_CODE, "lovgrundlagKode", false, "lovgrundlag", 0},
    {"lovgrundlagKode_Tekst", CSVP_TEXT, NULL, false, "lovgrundlag", DI_LOVGRUNDLAG},
    {"admKommuneKode", CSVP_CODE, "admKommuneKode", false, "kommune", 0},
    {"admKommuneKode_Tekst", CSVP_TEXT, NULL, false, "kommune", DI_KOMMUNE},
    {"aktivitetsstatus", CSVP_STATUS, "aktivitetsstatus", false, NULL, 0},
};

static const csvp_column anvisningsenhed_columns[] = {
    {"anvisningsenhedsNummer", CSVP_STRING, "nummer", false, NULL, 0},
    {"daginstitutionsNummer", CSVP_STRING, "daginstitutionsNummer", false, NULL, 0},
    {"dagtilbudsNavn", CSVP_STRING, "navn", false, NULL, 0},
    {"instType3", CSVP_CODE, "instType3", false, "institutionstype", 0},
    {"instType3_Tekst", CSVP_TEXT, NULL, false, "institutionstype", AE_TYPE},
    {"kommuneKode", CSVP_CODE, "kommuneKode", true, "kommune", 0},
    {"kommuneKode_Tekst", CSVP_TEXT, NULL, false, "kommune", AE_KOMMUNE},
    {"vejNavn", CSVP_STRING, "vejNavn", true, NULL, 0},
    {"husNummer", CSVP_STRING, "husNummer", true, NULL, 0},
    {"postNummer", CSVP_STRING, "postNummer", true, NULL, 0},
    {"byNavn", CSVP_STRING, "byNavn", true, NULL, 0},
    {"supplerendeBynavn", CSVP_STRING, "supplerendeBynavn", true, NULL, 0},
    {"email", CSVP_STRING, "email", false, NULL, 0},
    {"telefonNummer", CSVP_STRING, "telefonNummer", false, NULL, 0},
    {"cvrNummer", CSVP_STRING, "cvrNummer", false, NULL, 0},
    {"pNummer", CSVP_STRING, "pNummer", false, NULL, 0},
    {"geoBredde", CSVP_GEO, "geoBredde", true, NULL, 0},
    {"geoLaengde", CSVP_GEO, "geoLaengde", true, NULL, 0},
    {"aktivitetsstatus", CSVP_STATUS, "aktivitetsstatus", false, NULL, 0},
};

static const csvp_column alternativadresse_columns[] = {
    {"alternativAdresseNummer", CSVP_STRING, "nummer", false, NULL, 0},
    {"anvisningsenhedsNummer", CSVP_STRING, "anvisningsenhedsNummer", false, NULL, 0},
    {"dagtilbudsNavn", CSVP_STRING, "navn", false, NULL, 0},
    {"vejNavn", CSVP_STRING, "vejNavn", true, NULL, 0},
    {"husNummer", CSVP_STRING, "husNummer", true, NULL, 0},
    {"postNummer", CSVP_STRING, "postNummer", true, NULL, 0},
    {"byNavn", CSVP_STRING, "byNavn", true, NULL, 0},
    {"supplerendeBynavn", CSVP_STRING, "supplerendeBynavn", true, NULL, 0},
    {"kommuneKode", CSVP_CODE, "kommuneKode", true, "kommune", 0},
    {"kommuneKode_Tekst", CSVP_TEXT, NULL, false, "kommune", AA_KOMMUNE},
    {"cvrNummer", CSVP_STRING, "cvrNummer", false, NULL, 0},
    {"pNummer", CSVP_STRING, "pNummer", false, NULL, 0},
    {"geoBredde", CSVP_GEO, "geoBredde", true, NULL, 0},
    {"geoLaengde", CSVP_GEO, "geoLaengde", true, NULL, 0},
    {"aktivitetsstatus", CSVP_STATUS, "aktivitetsstatus", false, NULL, 0},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

_Static_assert(COUNT(daginstitution_columns) == DI_NCOLUMNS, "daginstitution columns");
_Static_assert(COUNT(anvisningsenhed_columns) == AE_NCOLUMNS, "anvisningsenhed columns");
_Static_assert(COUNT(alternativadresse_columns) == AA_NCOLUMNS, "alternativadresse columns");
_Static_assert(AE_NCOLUMNS <= CSVP_MAX_COLUMNS, "CSVP_MAX_COLUMNS");

static const csvp_layout layouts[CSVP_LEVELS] = {
    {0, "daginstitution.csv", daginstitution_columns, COUNT(daginstitution_columns)},
    {1, "anvisningsenhed.csv", anvisningsenhed_columns, COUNT(anvisningsenhed_columns)},
    {2, "alternativadresse.csv", alternativadresse_columns, COUNT(alternativadresse_columns)},
};

/* The fields of an adresse in API.md's order; those the layout has no
 * column for (etage, doer, dawaId) stay null. */
static const char *const adresse_fields[] = {
    "vejNavn",           "husNummer",   "etage",  "doer",      "postNummer", "byNavn",
    "supplerendeBynavn", "kommuneKode", "dawaId", "geoBredde", "geoLaengde",
};

const csvp_layout *csvp_layout_of(int level)
{
    if (level < 0 || level >= CSVP_LEVELS) return NULL;
    return &layouts[level];
}

/* Checks UTF-8 by RFC 3629: no overlong forms, no surrogates, nothing above
 * U+10FFFF. NUL is refused too: a record's strings are C strings. */
bool csvp_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    while (p < end) {
        unsigned c = *p;
        if (c == 0) return false;
        if (c < 0x80) {
            p++;
            continue;
        }
        size_t need;
        unsigned min, cp;
        if (c >= 0xC2 && c <= 0xDF) {
            need = 1, min = 0x80, cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            need = 2, min = 0x800, cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            need = 3, min = 0x10000, cp = c & 0x07;
        } else {
            return false;
        }
        if ((size_t)(end - p) <= need) return false;
        for (size_t i = 1; i <= need; i++) {
            if ((p[i] & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (p[i] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
        p += need + 1;
    }
    return true;
}

/* Backs off from max to the start of the character that max would cut (a
 * continuation byte there means it is inside one). */
size_t csvp_utf8_cut(const char *p, size_t len, size_t max)
{
    if (len <= max) return len;
    size_t n = max;
    while (n > 0 && ((unsigned char)p[n] & 0xC0) == 0x80)
        n--;
    return n;
}

/* Cuts a string that snprintf may have cut inside a character back to the
 * last whole character. */
static void utf8_trim_end(char *s)
{
    size_t len = strlen(s), lead = len;
    while (lead > 0 && len - lead < 4 && ((unsigned char)s[lead - 1] & 0xC0) == 0x80)
        lead--;
    if (lead == 0) return;
    unsigned char c = (unsigned char)s[lead - 1];
    size_t need = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
    if (lead - 1 + need > len) s[lead - 1] = '\0';
}

/* Appends one reason to the refusal text, "; " between reasons. */
static void reason_add(char *reason, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void reason_add(char *reason, size_t len, const char *fmt, ...)
{
    size_t used = strlen(reason);
    if (used + 3 >= len) return;
    if (used > 0) {
        memcpy(reason + used, "; ", 3);
        used += 2;
    }
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(reason + used, len - used, fmt, ap);
    va_end(ap);
    if (w >= 0 && (size_t)w >= len - used) utf8_trim_end(reason);
}

/* How much of a field a reason quotes: enough to find it, never so much that
 * one long field crowds out the other reasons. */
#define QUOTE_MAX 40

/* Reads a code: 1 to 9 ASCII digits. */
static bool parse_code(const csvp_field *f, int *out)
{
    if (f->len == 0 || f->len > 9) return false;
    int v = 0;
    for (size_t i = 0; i < f->len; i++) {
        if (f->p[i] < '0' || f->p[i] > '9') return false;
        v = v * 10 + (f->p[i] - '0');
    }
    *out = v;
    return true;
}

/* Reads a coordinate: an optional '-', digits, optionally '.' and digits,
 * at most 15 digits in all (so the value is exact before the one division).
 * Independent of the locale, unlike strtod. */
static bool parse_geo(const csvp_field *f, double *out)
{
    const char *p = f->p, *end = f->p + f->len;
    bool negative = false;
    if (p < end && *p == '-') negative = true, p++;
    int64_t mantissa = 0;
    int digits = 0, decimals = 0;
    bool dot = false;
    for (; p < end; p++) {
        if (*p == '.' && !dot && digits > 0) {
            dot = true;
            continue;
        }
        if (*p < '0' || *p > '9' || digits == 15) return false;
        mantissa = mantissa * 10 + (*p - '0');
        digits++;
        if (dot) decimals++;
    }
    if (digits == 0 || (dot && decimals == 0)) return false;
    double v = (double)mantissa;
    if (decimals > 0) v /= pow(10.0, decimals);
    *out = negative ? -v : v;
    return true;
}

size_t csvp_format_geo(double v, char *out)
{
    long long scaled = llround(fabs(v) * 100000.0);
    return (size_t)sprintf(out, "%s%lld.%05lld", v < 0 && scaled != 0 ? "-" : "", scaled / 100000,
                           scaled % 100000);
}

const char *csvp_status_text(const char *status)
{
    if (status == NULL) return NULL;
    if (strcmp(status, "aktiv") == 0) return "Aktiv";
    if (strcmp(status, "nedlagt") == 0) return "Nedlagt";
    if (strcmp(status, "kommende") == 0) return "Kommende";
    return NULL;
}

/* Does the field hold exactly the text s? */
static bool field_is(const csvp_field *f, const char *s)
{
    return strlen(s) == f->len && memcmp(f->p, s, f->len) == 0;
}

/* The one place a column's value goes: the record or its adresse. */
static void put_value(json_t *record, json_t *adresse, const csvp_column *col, json_t *value)
{
    json_object_set_new(col->in_adresse ? adresse : record, col->field, value);
}

/* A new adresse object with every field of API.md null, in its order. */
static json_t *adresse_new(void)
{
    json_t *a = json_object();
    for (size_t i = 0; i < COUNT(adresse_fields); i++)
        json_object_set_new(a, adresse_fields[i], json_null());
    return a;
}

/* Converts one row. Every column is checked, so one refusal names every
 * fault of the row. The `_Tekst` check runs after the codes are read; a code
 * the host does not know is let through for the register to refuse. */
json_t *csvp_row_to_record(const csvp_layout *layout, const csvp_field *fields,
                           const csvp_state *lists, char *reason, size_t reasonlen)
{
    int codes[CSVP_MAX_COLUMNS];
    bool have_code[CSVP_MAX_COLUMNS] = {false};
    reason[0] = '\0';

    json_t *record = json_object();
    json_t *adresse = NULL;
    for (size_t i = 0; i < layout->n_columns; i++) {
        const csvp_column *col = &layout->columns[i];
        const csvp_field *f = &fields[i];
        if (!csvp_utf8_valid(f->p, f->len)) {
            reason_add(reason, reasonlen, "invalid UTF-8 in column %s", col->name);
            continue;
        }
        if (col->in_adresse && adresse == NULL) {
            adresse = adresse_new();
            json_object_set_new(record, "adresse", adresse);
        }
        switch (col->kind) {
        case CSVP_STRING:
            put_value(record, adresse, col, f->len ? json_stringn(f->p, f->len) : json_null());
            break;
        case CSVP_CODE:
            if (f->len == 0) {
                put_value(record, adresse, col, json_null());
            } else if (parse_code(f, &codes[i])) {
                have_code[i] = true;
                put_value(record, adresse, col, json_integer(codes[i]));
            } else {
                reason_add(reason, reasonlen, "column %s: '%.*s' is not a number", col->name,
                           (int)csvp_utf8_cut(f->p, f->len, QUOTE_MAX), f->p);
            }
            break;
        case CSVP_GEO: {
            double v;
            if (f->len == 0) {
                put_value(record, adresse, col, json_null());
            } else if (parse_geo(f, &v)) {
                put_value(record, adresse, col, json_real(v));
            } else {
                reason_add(reason, reasonlen, "column %s: '%.*s' is not a number", col->name,
                           (int)csvp_utf8_cut(f->p, f->len, QUOTE_MAX), f->p);
            }
            break;
        }
        case CSVP_STATUS:
            if (f->len == 0) {
                put_value(record, adresse, col, json_null());
            } else if (field_is(f, "Aktiv") || field_is(f, "Nedlagt") || field_is(f, "Kommende")) {
                put_value(record, adresse, col, json_stringn(f->p, f->len));
            } else {
                reason_add(reason, reasonlen, "column %s: '%.*s' is not Aktiv, Nedlagt or Kommende",
                           col->name, (int)csvp_utf8_cut(f->p, f->len, QUOTE_MAX), f->p);
            }
            break;
        case CSVP_TEXT:
            break; /* below, once the codes are read */
        }
    }
    for (size_t i = 0; i < layout->n_columns && lists; i++) {
        const csvp_column *col = &layout->columns[i];
        const csvp_field *f = &fields[i];
        if (col->kind != CSVP_TEXT || f->len == 0 || !have_code[col->code_column]) continue;
        if (!csvp_utf8_valid(f->p, f->len)) continue; /* already refused */
        int kode = codes[col->code_column];
        const char *expected = csvp_code_text(lists, col->list, kode);
        if (expected != NULL && !field_is(f, expected))
            reason_add(reason, reasonlen, "column %s: '%.*s' is not the text of %s %d ('%s')",
                       col->name, (int)csvp_utf8_cut(f->p, f->len, QUOTE_MAX), f->p,
                       layout->columns[col->code_column].name, kode, expected);
    }
    if (reason[0] != '\0') {
        json_decref(record);
        return NULL;
    }
    return record;
}

/* The value of a column in a stored record (borrowed; NULL when absent). */
static json_t *get_value(const json_t *record, const csvp_column *col)
{
    if (!col->in_adresse) return json_object_get(record, col->field);
    return json_object_get(json_object_get(record, "adresse"), col->field);
}

/* Sets fields[i] to the text of an integer-valued json value, formatted into
 * scratch. Returns false for a value that is not an integer. */
static bool integer_field(const json_t *v, csvp_field *field, char *scratch, size_t *used)
{
    long long n;
    if (json_is_integer(v)) {
        n = (long long)json_integer_value(v);
    } else if (json_is_real(v) && json_real_value(v) == floor(json_real_value(v)) &&
               fabs(json_real_value(v)) < 1e15) {
        n = (long long)json_real_value(v);
    } else {
        return false;
    }
    if (*used + 24 > CSVP_SCRATCH) return false;
    int w = sprintf(scratch + *used, "%lld", n);
    field->p = scratch + *used;
    field->len = (size_t)w;
    *used += (size_t)w + 1;
    return true;
}

/* Fills one row from a record: strings borrowed from the record, codes and
 * coordinates formatted into scratch, `_Tekst` from the host's code lists
 * (empty for a code it does not know), aktivitetsstatus from "status" (or,
 * when the record has none, from "aktivitetsstatus" as read). */
bool csvp_record_to_row(const csvp_layout *layout, const json_t *record, const csvp_state *lists,
                        csvp_field *fields, char scratch[CSVP_SCRATCH], char *err, size_t errlen)
{
    size_t used = 0;
    const char *nummer = json_string_value(json_object_get(record, "nummer"));
    if (!json_is_object(record)) {
        snprintf(err, errlen, "%s: a record that is not an object", layout->file_name);
        return false;
    }
    for (size_t i = 0; i < layout->n_columns; i++) {
        const csvp_column *col = &layout->columns[i];
        json_t *v = col->field ? get_value(record, col) : NULL;
        csvp_field *f = &fields[i];
        f->p = "";
        f->len = 0;
        bool ok = true;
        switch (col->kind) {
        case CSVP_STRING:
            if (json_is_string(v)) {
                f->p = json_string_value(v);
                f->len = json_string_length(v);
            } else if (v != NULL && !json_is_null(v)) {
                ok = integer_field(v, f, scratch, &used);
            }
            break;
        case CSVP_CODE:
            if (v != NULL && !json_is_null(v)) ok = integer_field(v, f, scratch, &used);
            break;
        case CSVP_TEXT: {
            json_t *code = get_value(record, &layout->columns[col->code_column]);
            const char *text = NULL;
            if (json_is_integer(code) && lists)
                text = csvp_code_text(lists, col->list, (int)json_integer_value(code));
            if (text) {
                f->p = text;
                f->len = strlen(text);
            }
            break;
        }
        case CSVP_GEO:
            if (json_is_number(v)) {
                if (used + 24 > CSVP_SCRATCH) {
                    ok = false;
                    break;
                }
                f->p = scratch + used;
                f->len = csvp_format_geo(json_number_value(v), scratch + used);
                used += f->len + 1;
            } else if (v != NULL && !json_is_null(v)) {
                ok = false;
            }
            break;
        case CSVP_STATUS: {
            const char *text =
                csvp_status_text(json_string_value(json_object_get(record, "status")));
            if (text == NULL) text = json_string_value(v);
            if (text) {
                f->p = text;
                f->len = strlen(text);
            }
            break;
        }
        }
        if (!ok) {
            snprintf(err, errlen, "%s: record %s: field %s%s has a type the layout cannot write",
                     layout->file_name, nummer ? nummer : "(no nummer)",
                     col->in_adresse ? "adresse." : "", col->field);
            return false;
        }
    }
    return true;
}
