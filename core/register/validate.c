/*
 * validate.c -- the fields on their own (API.md, "Fields and their JSON
 * types"): presence, JSON type, code lists, formats (CVR modulus 11,
 * P-nummer, postnummer, husnummer, e-mail, telefon, DAWA id, coordinates in
 * Denmark, dates, numbers) and lengths counted in Unicode characters after
 * NFC normalization. Texts are stored NFC-normalized. Every error of a
 * record is reported, each with the JSON path of its field.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "register/internal.h"

typedef enum field_kind {
    K_TEXT,
    K_CODE,
    K_CVR,
    K_PNUMMER,
    K_EMAIL,
    K_TELEFON,
    K_HUSNUMMER,
    K_POSTNUMMER,
    K_UUID,
    K_LATITUDE,
    K_LONGITUDE,
    K_ADRESSE
} field_kind;

typedef struct field_spec {
    const char *name;
    field_kind kind;
    bool required;
    size_t max_chars; /* texts; 0: no limit of its own */
    const reg_code *(*codes)(size_t *n);
} field_spec;

static const field_spec daginstitution_fields[] = {
    {"navn", K_TEXT, true, 132, NULL},
    {"ejerformKode", K_CODE, true, 0, reg_ejerformer},
    {"lovgrundlagKode", K_CODE, true, 0, reg_lovgrundlag},
    {"admKommuneKode", K_CODE, true, 0, reg_kommuner},
    {NULL, K_TEXT, false, 0, NULL},
};

static const field_spec anvisningsenhed_fields[] = {
    {"navn", K_TEXT, true, 132, NULL},
    {"instType3", K_CODE, true, 0, reg_institutionstyper},
    {"adresse", K_ADRESSE, true, 0, NULL},
    {"email", K_EMAIL, false, 132, NULL},
    {"telefonNummer", K_TELEFON, false, 20, NULL},
    {"cvrNummer", K_CVR, false, 0, NULL},
    {"pNummer", K_PNUMMER, false, 0, NULL},
    {NULL, K_TEXT, false, 0, NULL},
};

static const field_spec alternativ_adresse_fields[] = {
    {"navn", K_TEXT, true, 132, NULL},    {"adresse", K_ADRESSE, true, 0, NULL},
    {"cvrNummer", K_CVR, false, 0, NULL}, {"pNummer", K_PNUMMER, false, 0, NULL},
    {NULL, K_TEXT, false, 0, NULL},
};

static const field_spec adresse_fields[] = {
    {"vejNavn", K_TEXT, true, 40, NULL},
    {"husNummer", K_HUSNUMMER, true, 0, NULL},
    {"etage", K_TEXT, false, 34, NULL},
    {"doer", K_TEXT, false, 34, NULL},
    {"postNummer", K_POSTNUMMER, true, 0, NULL},
    {"byNavn", K_TEXT, true, 34, NULL},
    {"supplerendeBynavn", K_TEXT, false, 34, NULL},
    {"kommuneKode", K_CODE, true, 0, reg_kommuner},
    {"dawaId", K_UUID, false, 0, NULL},
    {"geoBredde", K_LATITUDE, false, 0, NULL},
    {"geoLaengde", K_LONGITUDE, false, 0, NULL},
    {NULL, K_TEXT, false, 0, NULL},
};

static const field_spec *fields_of(reg_level level)
{
    switch (level) {
    case REG_DAGINSTITUTION:
        return daginstitution_fields;
    case REG_ANVISNINGSENHED:
        return anvisningsenhed_fields;
    case REG_ALTERNATIV_ADRESSE:
        return alternativ_adresse_fields;
    }
    return daginstitution_fields;
}

bool reg_is_field(reg_level level, const char *key)
{
    for (const field_spec *f = fields_of(level); f->name; f++)
        if (strcmp(f->name, key) == 0) return true;
    return false;
}

const char *const *reg_field_names(reg_level level)
{
    static const char *const daginstitution[] = {"navn", "ejerformKode", "lovgrundlagKode",
                                                 "admKommuneKode", NULL};
    static const char *const anvisningsenhed[] = {"navn",          "instType3", "adresse", "email",
                                                  "telefonNummer", "cvrNummer", "pNummer", NULL};
    static const char *const alternativ_adresse[] = {"navn", "adresse", "cvrNummer", "pNummer",
                                                     NULL};
    switch (level) {
    case REG_DAGINSTITUTION:
        return daginstitution;
    case REG_ANVISNINGSENHED:
        return anvisningsenhed;
    case REG_ALTERNATIV_ADRESSE:
        return alternativ_adresse;
    }
    return daginstitution;
}

/* Checks a JSON string: valid UTF-8 without NUL or control characters.
 * Returns its NFC form (malloc'd, the caller frees) and the number of
 * Unicode characters in it, or NULL after reporting UGYLDIGT_FORMAT. */
static char *normalize_text(const json_t *v, const char *felt, reg_decision *d, size_t *chars)
{
    const char *s = json_string_value(v);
    size_t len = json_string_length(v);
    if (strlen(s) != len) {
        reg_fail(d, 422, "UGYLDIGT_FORMAT", felt, "teksten indeholder et NUL-tegn");
        return NULL;
    }
    /* printable ASCII is NFC already and one character per byte: no
     * decoding needed (most texts of a bulk import are) */
    size_t ascii = 0;
    while (ascii < len && s[ascii] >= 0x20 && s[ascii] < 0x7f)
        ascii++;
    if (ascii == len) {
        char *copy = strdup(s);
        if (!copy) {
            reg_fail(d, 422, "UGYLDIGT_FORMAT", felt, "teksten kan ikke normaliseres (NFC)");
            return NULL;
        }
        *chars = len;
        return copy;
    }
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
    utf8proc_ssize_t left = (utf8proc_ssize_t)len;
    while (left > 0) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t n = utf8proc_iterate(p, left, &cp);
        if (n <= 0) {
            reg_fail(d, 422, "UGYLDIGT_FORMAT", felt, "teksten er ikke gyldig UTF-8");
            return NULL;
        }
        if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) {
            reg_fail(d, 422, "UGYLDIGT_FORMAT", felt, "teksten indeholder kontroltegn");
            return NULL;
        }
        p += n;
        left -= n;
    }
    char *nfc = (char *)utf8proc_NFC((const utf8proc_uint8_t *)s);
    if (!nfc) {
        reg_fail(d, 422, "UGYLDIGT_FORMAT", felt, "teksten kan ikke normaliseres (NFC)");
        return NULL;
    }
    size_t count = 0;
    p = (const utf8proc_uint8_t *)nfc;
    left = (utf8proc_ssize_t)strlen(nfc);
    while (left > 0) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t n = utf8proc_iterate(p, left, &cp);
        if (n <= 0) break;
        p += n;
        left -= n;
        count++;
    }
    *chars = count;
    return nfc;
}

static bool all_digits(const char *s, size_t n)
{
    if (strlen(s) != n) return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9') return false;
    return true;
}

/* CVR: 8 digits whose weighted sum (2,7,6,5,4,3,2,1) is divisible by 11. */
static bool cvr_valid(const char *s)
{
    static const int weights[8] = {2, 7, 6, 5, 4, 3, 2, 1};
    if (!all_digits(s, 8)) return false;
    int sum = 0;
    for (int i = 0; i < 8; i++)
        sum += (s[i] - '0') * weights[i];
    return sum % 11 == 0;
}

static bool husnummer_valid(const char *s)
{
    size_t n = 0;
    while (n < 4 && s[n] >= '0' && s[n] <= '9')
        n++;
    if (n < 1 || n > 3) return false;
    if (s[n] == '\0') return true;
    return isascii((unsigned char)s[n]) && isalpha((unsigned char)s[n]) && s[n + 1] == '\0';
}

/* Exactly one '@', with something on both sides, and no whitespace. */
static bool email_valid(const char *s)
{
    const char *at = strchr(s, '@');
    if (!at || at == s || at[1] == '\0' || strchr(at + 1, '@')) return false;
    for (const char *p = s; *p; p++)
        if (*p == ' ') return false;
    return true;
}

/* Digits and spaces, with an optional leading '+', and at least one digit. */
static bool telefon_valid(const char *s)
{
    bool digit = false;
    for (const char *p = s; *p; p++) {
        if (*p >= '0' && *p <= '9')
            digit = true;
        else if (!(*p == ' ' || (*p == '+' && p == s)))
            return false;
    }
    return digit;
}

/* 8-4-4-4-12 hexadecimal digits. */
static bool uuid_valid(const char *s)
{
    if (strlen(s) != 36) return false;
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-') return false;
        } else if (!isxdigit((unsigned char)s[i])) {
            return false;
        }
    }
    return true;
}

/* Checks a string field's format after normalization; reports and returns
 * false when it breaks its rule. */
static bool check_format(const field_spec *f, const char *s, size_t chars, const char *felt,
                         reg_decision *d)
{
    if (f->max_chars && chars > f->max_chars) {
        reg_fail(d, 422, "FOR_LANG", felt, "højst %zu tegn (fik %zu)", f->max_chars, chars);
        return false;
    }
    switch (f->kind) {
    case K_CVR:
        if (cvr_valid(s)) return true;
        reg_fail(d, 422, "UGYLDIG_CVR", felt, "CVR-nummer skal være 8 cifre med gyldig modulus 11");
        return false;
    case K_PNUMMER:
        if (all_digits(s, 10)) return true;
        reg_fail(d, 422, "UGYLDIG_PNUMMER", felt, "P-nummer skal være 10 cifre");
        return false;
    case K_POSTNUMMER:
        if (all_digits(s, 4)) return true;
        reg_fail(d, 422, "UGYLDIG_POSTNUMMER", felt, "postnummer skal være 4 cifre");
        return false;
    case K_HUSNUMMER:
        if (husnummer_valid(s)) return true;
        reg_fail(d, 422, "UGYLDIGT_FORMAT", felt,
                 "husnummer skal være 1-3 cifre og evt. et bogstav");
        return false;
    case K_EMAIL:
        if (email_valid(s)) return true;
        reg_fail(d, 422, "UGYLDIGT_FORMAT", felt, "e-mail skal have præcis ét @");
        return false;
    case K_TELEFON:
        if (telefon_valid(s)) return true;
        reg_fail(d, 422, "UGYLDIGT_FORMAT", felt,
                 "telefonnummer må kun have cifre, mellemrum og et indledende +");
        return false;
    case K_UUID:
        if (uuid_valid(s)) return true;
        reg_fail(d, 422, "UGYLDIGT_FORMAT", felt, "dawaId skal være et UUID");
        return false;
    default:
        return true;
    }
}

static json_t *clean_object(const field_spec *fields, const json_t *obj, const char *prefix,
                            reg_decision *d);

/* Validates one field's value; returns the value to store (new reference;
 * json_null() when empty or refused). */
static json_t *clean_value(const field_spec *f, const json_t *v, const char *prefix,
                           reg_decision *d)
{
    char felt[sizeof(((reg_error *)0)->felt)];
    reg_path(felt, sizeof felt, prefix, f->name);
    bool empty = !v || json_is_null(v) ||
                 (json_is_string(v) && json_string_length(v) == 0 && f->kind != K_ADRESSE);
    if (empty) {
        if (f->required) reg_fail(d, 422, "MANGLER_FELT", felt, "feltet skal udfyldes");
        return json_null();
    }
    switch (f->kind) {
    case K_ADRESSE:
        if (!json_is_object(v)) {
            reg_fail(d, 422, "FORKERT_TYPE", felt, "forventede et objekt");
            return json_null();
        }
        return clean_object(adresse_fields, v, felt, d);
    case K_CODE: {
        if (!json_is_integer(v)) {
            reg_fail(d, 422, "FORKERT_TYPE", felt, "forventede et heltal");
            return json_null();
        }
        size_t n;
        const reg_code *list = f->codes(&n);
        json_int_t kode = json_integer_value(v);
        if (kode < -2147483647 || kode > 2147483647 || !reg_code_text(list, n, (int)kode)) {
            reg_fail(d, 422, "UKENDT_KODE", felt, "ukendt kode %" JSON_INTEGER_FORMAT, kode);
            return json_null();
        }
        return json_integer(kode);
    }
    case K_LATITUDE:
    case K_LONGITUDE: {
        if (!json_is_number(v)) {
            reg_fail(d, 422, "FORKERT_TYPE", felt, "forventede et tal");
            return json_null();
        }
        double x = json_number_value(v);
        bool inside = f->kind == K_LATITUDE ? (x >= 54.5 && x <= 57.8) : (x >= 8.0 && x <= 15.2);
        if (!inside) {
            reg_fail(d, 422, "UGYLDIGT_FORMAT", felt, "koordinaten ligger ikke i Danmark");
            return json_null();
        }
        return json_real(x);
    }
    default: {
        if (!json_is_string(v)) {
            reg_fail(d, 422, "FORKERT_TYPE", felt, "forventede en tekst");
            return json_null();
        }
        size_t chars = 0;
        char *nfc = normalize_text(v, felt, d, &chars);
        if (!nfc) return json_null();
        json_t *out = check_format(f, nfc, chars, felt, d) ? json_string(nfc) : json_null();
        free(nfc);
        return out ? out : json_null();
    }
    }
}

/* Validates every field of a field list found in obj. Keys of obj outside
 * the list are refused as UKENDT_FELT only for the adresse object (its
 * owners' other keys are judged by the caller). */
static json_t *clean_object(const field_spec *fields, const json_t *obj, const char *prefix,
                            reg_decision *d)
{
    json_t *out = json_object();
    for (const field_spec *f = fields; f->name; f++)
        json_object_set_new(out, f->name, clean_value(f, json_object_get(obj, f->name), prefix, d));
    if (fields == adresse_fields) {
        const char *key;
        json_t *v;
        json_object_foreach((json_t *)obj, key, v)
        {
            bool known = false;
            for (const field_spec *f = fields; f->name && !known; f++)
                known = strcmp(f->name, key) == 0;
            if (!known) {
                char felt[sizeof(((reg_error *)0)->felt)];
                reg_path(felt, sizeof felt, prefix, key);
                reg_fail(d, 422, "UKENDT_FELT", felt, "ukendt felt");
            }
        }
        /* Coordinates come in pairs. */
        const json_t *lat = json_object_get(obj, "geoBredde");
        const json_t *lon = json_object_get(obj, "geoLaengde");
        bool lat_given = lat && !json_is_null(lat);
        bool lon_given = lon && !json_is_null(lon);
        if (lat_given != lon_given) {
            char felt[sizeof(((reg_error *)0)->felt)];
            reg_path(felt, sizeof felt, prefix, lat_given ? "geoLaengde" : "geoBredde");
            reg_fail(d, 422, "MANGLER_FELT", felt, "geoBredde og geoLaengde angives sammen");
        }
    }
    return out;
}

json_t *reg_clean_fields(reg_level level, const json_t *candidate, const char *prefix,
                         reg_decision *d)
{
    if (!json_is_object(candidate)) return NULL;
    return clean_object(fields_of(level), candidate, prefix, d);
}

const char *reg_check_date_field(const json_t *obj, const char *key, const char *prefix,
                                 reg_decision *d, bool *ok)
{
    char felt[sizeof(((reg_error *)0)->felt)];
    reg_path(felt, sizeof felt, prefix, key);
    const json_t *v = json_object_get(obj, key);
    *ok = true;
    if (!v || json_is_null(v)) return NULL;
    if (!json_is_string(v)) {
        reg_fail(d, 422, "FORKERT_TYPE", felt, "forventede en dato (YYYY-MM-DD)");
        *ok = false;
        return NULL;
    }
    if (!reg_date_valid(json_string_value(v))) {
        reg_fail(d, 422, "UGYLDIG_DATO", felt, "ikke en gyldig dato (YYYY-MM-DD)");
        *ok = false;
        return NULL;
    }
    return json_string_value(v);
}

const char *reg_check_nummer_field(const json_t *obj, const char *key, const char *prefix,
                                   bool required, reg_decision *d)
{
    char felt[sizeof(((reg_error *)0)->felt)];
    reg_path(felt, sizeof felt, prefix, key);
    const json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v)) {
        if (required) reg_fail(d, 422, "MANGLER_FELT", felt, "feltet skal udfyldes");
        return NULL;
    }
    if (!json_is_string(v)) {
        reg_fail(d, 422, "FORKERT_TYPE", felt, "forventede en tekst");
        return NULL;
    }
    if (!reg_nummer_valid(json_string_value(v))) {
        reg_fail(d, 422, "UGYLDIGT_FORMAT", felt, "et nummer er et stort bogstav og 5 cifre");
        return NULL;
    }
    return json_string_value(v);
}
