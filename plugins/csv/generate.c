/*
 * generate.c -- dtr generate: a realistic synthetic register in the export
 * layout, streamed to the three files in one pass.
 *
 * What it looks like:
 *   - every kommune gets a share of the units by its population (at least one
 *     each when there are 98 units or more); the kommuner take turns at
 *     random, so numbers are spread over the country as in the real register;
 *   - the units come in klynger (one daginstitution, 1-6 units); the kind of
 *     a klynge (ejerform, lovgrundlag, the types of its units, how big it
 *     gets) is drawn from a table that carries the mix of the register's
 *     sample (instType3 x ejerform counts), so every row is valid under
 *     DOMAIN.md's cross-validation matrices by construction;
 *   - a klynge's units share a town of the kommune (postnummer, byNavn, a
 *     position near the sample's units there), each with its own street;
 *   - municipal units carry their kommune's CVR, the others their
 *     daginstitution's own (modulus 11 valid); every unit and alternativ
 *     adresse gets its own P-nummer (10 digits, never repeated), except ~8%
 *     that have neither, as in the sample;
 *   - ~1% of units have one alternativ adresse;
 *   - all numbers come from one series G00001 ... Z99999 (no I, O, Q) in the
 *     order the rows are written, so each file is in export order.
 *
 * Deterministic for a seed (xoshiro256** seeded by splitmix64), bounded
 * memory whatever the number of units (three write buffers). Runs on the
 * caller's thread with blocking file I/O.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "csvp.h"

/* ---- the random source ---------------------------------------------------- */

typedef struct rng {
    uint64_t s[4];
} rng;

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static void rng_seed(rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

/* xoshiro256** (Blackman and Vigna). */
static uint64_t rng_next(rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

/* A number in [0, n); the bias of the multiply-shift is below 2^-40 here. */
static uint64_t rng_below(rng *r, uint64_t n)
{
    return (uint64_t)(((unsigned __int128)rng_next(r) * n) >> 64);
}

/* A number in [0, 1). */
static double rng_unit(rng *r)
{
    return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

/* True with probability percent/100. */
static bool rng_percent(rng *r, double percent)
{
    return rng_unit(r) * 100.0 < percent;
}

/* ---- the kinds of klynge ----------------------------------------------------- */

typedef struct type_weight {
    int type;
    unsigned weight;
} type_weight;

/* One kind of daginstitution: ejerform, lovgrundlag (allowed for it), the
 * types of its units (allowed for the lovgrundlag) with weights, and the
 * weights of its sizes 1..6. The type weights are the sample's unit counts
 * for that ejerform and type; kinds marked "not in the sample" exist in the
 * real register but not in the sample, and get a small share so that every
 * code the matrices allow shows up. */
typedef struct kind {
    int ejerform;
    int lovgrundlag;
    type_weight types[4];
    unsigned sizes[6];
} kind;

static const kind kinds[] = {
    /* kommunal daginstitution (6014: not in the sample) */
    {1, 1, {{6010, 150}, {6011, 424}, {6012, 2320}, {6014, 30}}, {25, 15, 15, 25, 12, 8}},
    {1, 5, {{6013, 642}}, {20, 20, 20, 20, 10, 10}}, /* kommunal dagpleje */
    {1, 6, {{6020, 2}}, {100}},                      /* kommunalt fritidshjem */
    {1, 7, {{6021, 160}}, {50, 30, 20}},             /* kommunal fritidsklub */
    {1, 8, {{6012, 30}}, {50, 50}},                  /* landsbyordning: not in the sample */
    {1, 9, {{6022, 10}}, {100}},                     /* særligt dagtilbud: not in the sample */
    {2, 2, {{6010, 32}, {6011, 122}, {6012, 287}}, {85, 10, 5}}, /* selvejende */
    {2, 5, {{6013, 1}}, {100}},
    {2, 6, {{6020, 7}}, {100}},
    {2, 7, {{6021, 27}}, {80, 20}},
    {2, 10, {{6022, 5}}, {100}},                                 /* not in the sample */
    {3, 4, {{6010, 62}, {6011, 216}, {6012, 352}}, {85, 10, 5}}, /* privat */
    {3, 5, {{6013, 2}}, {100}},
    {3, 6, {{6020, 3}}, {100}},
    {4, 3, {{6012, 20}, {6011, 10}}, {60, 40}}, /* udliciteret: not in the sample */
};

#define N_KINDS (sizeof kinds / sizeof kinds[0])
#define MAX_KLYNGE 6

/* The share of units with neither P-nummer nor CVR (the sample: 384/4809),
 * with an alternativ adresse, with an e-mail, with a phone number, and with
 * quotes in the name (the sample has one such name). */
#define PCT_NO_PNUMMER 8.0
#define PCT_ALTERNATIV 1.0
#define PCT_EMAIL 55.0
#define PCT_TELEFON 50.0
#define PCT_QUOTED_NAME 0.3

static const char series_letters[] = "GHJKLMNPRSTUVWXYZ";

/* ---- the generator's state ---------------------------------------------------- */

typedef struct unit_plan {
    int type;
    char name[160];
} unit_plan;

typedef struct gen {
    rng r;
    const csvp_state *codes; /* the code lists' instance */
    csvp_out *out[CSVP_LEVELS];
    double kind_weight[N_KINDS]; /* per klynge: units share / mean size */
    double kind_total;
    uint64_t quota[128]; /* units still to make, per kommune (index into csvp_kommuner) */
    uint64_t remaining;
    size_t series;      /* index into series_letters */
    unsigned serial;    /* the last number issued in the series */
    uint64_t p_counter; /* P-numre issued */
    uint64_t p_offset;
} gen;

/* Issues the next number of the series; false when Z99999 is passed. */
static bool next_number(gen *g, char out[7])
{
    if (g->serial == 99999) {
        if (series_letters[g->series + 1] == '\0') return false;
        g->series++;
        g->serial = 0;
    }
    g->serial++;
    snprintf(out, 7, "%c%05u", series_letters[g->series], g->serial);
    return true;
}

/* A modulus-11 valid CVR number from 64 random bits: seven digits (the first
 * not 0) and the check digit that makes the weighted sum (2,7,6,5,4,3,2,1) a
 * multiple of 11; drawn again while no digit does. */
static void make_cvr(uint64_t bits, char out[9])
{
    static const int weights[8] = {2, 7, 6, 5, 4, 3, 2, 1};
    for (;;) {
        uint64_t v = 1000000 + bits % 9000000;
        snprintf(out, 9, "%07llu", (unsigned long long)v);
        int sum = 0;
        for (int i = 0; i < 7; i++)
            sum += (out[i] - '0') * weights[i];
        int check = (11 - sum % 11) % 11;
        if (check < 10) {
            out[7] = (char)('0' + check);
            out[8] = '\0';
            return;
        }
        bits = bits / 9000000 + v * 0x9E3779B97F4A7C15ull;
    }
}

/* The CVR of a kommune: the same for every municipal unit of it, and the
 * same whatever the order the kommuner are visited in. */
static void kommune_cvr(uint64_t seed, int kode, char out[9])
{
    uint64_t x = seed ^ ((uint64_t)kode * 0xD1B54A32D192ED03ull);
    make_cvr(splitmix64(&x), out);
}

/* The next P-nummer: 1 followed by nine digits, a permutation of a counter
 * (3^18 is prime to 10), so no two are the same. */
static void next_pnummer(gen *g, char out[11])
{
    uint64_t v = (g->p_counter++ * 387420489ull + g->p_offset) % 1000000000ull;
    snprintf(out, 11, "1%09llu", (unsigned long long)v);
}

/* Writes an ASCII slug of a Danish name into out: lower case, æ ø å as ae oe
 * aa, other letters and digits kept, anything else dropped. */
static void slug(const char *name, char *out, size_t outlen)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)name; *p && n + 3 < outlen; p++) {
        const char *rep = NULL;
        if (p[0] == 0xC3 && p[1]) {
            switch (p[1]) {
            case 0xA6:
            case 0x86:
                rep = "ae";
                break; /* æ Æ */
            case 0xB8:
            case 0x98:
                rep = "oe";
                break; /* ø Ø */
            case 0xA5:
            case 0x85:
                rep = "aa";
                break; /* å Å */
            case 0xA9:
            case 0x89:
                rep = "e";
                break; /* é É */
            default:
                rep = "";
                break;
            }
            p++;
        } else if (*p >= 'A' && *p <= 'Z') {
            out[n++] = (char)(*p - 'A' + 'a');
        } else if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')) {
            out[n++] = (char)*p;
        }
        if (rep) {
            size_t k = strlen(rep);
            memcpy(out + n, rep, k);
            n += k;
        }
    }
    out[n] = '\0';
}

/* ---- rows --------------------------------------------------------------------- */

static void set(csvp_field *f, const char *s)
{
    f->p = s ? s : "";
    f->len = s ? strlen(s) : 0;
}

static const char *text_of(const gen *g, const char *list, int kode)
{
    return g->codes ? csvp_code_text(g->codes, list, kode) : NULL;
}

/* An address in a town: a street, a house number (mostly small, some with a
 * letter), and a position near the town's. */
typedef struct address {
    const csvp_town *town;
    const char *street;
    char hus[8];
    char lat[24], lon[24];
} address;

static void make_address(gen *g, const csvp_town *town, address *a)
{
    a->town = town;
    a->street = csvp_street_names[rng_below(&g->r, csvp_n_street_names)];
    uint64_t h1 = rng_below(&g->r, 150), h2 = rng_below(&g->r, 150);
    unsigned hus = 1 + (unsigned)(h1 < h2 ? h1 : h2);
    if (rng_percent(&g->r, 12.0))
        snprintf(a->hus, sizeof a->hus, "%u%c", hus, (char)('A' + rng_below(&g->r, 4)));
    else
        snprintf(a->hus, sizeof a->hus, "%u", hus);
    double lat = town->lat + (rng_unit(&g->r) - 0.5) * 0.04;
    double lon = town->lon + (rng_unit(&g->r) - 0.5) * 0.06;
    lat = lat < 54.5 ? 54.5 : lat > 57.8 ? 57.8 : lat;
    lon = lon < 8.0 ? 8.0 : lon > 15.2 ? 15.2 : lon;
    csvp_format_geo(lat, a->lat);
    csvp_format_geo(lon, a->lon);
}

/* A town of kommune k, weighted by how many units the sample has there. */
static const csvp_town *pick_town(gen *g, int kode)
{
    size_t first = 0;
    while (first < csvp_n_towns && csvp_towns[first].kommune != kode)
        first++;
    unsigned total = 0;
    size_t last = first;
    while (last < csvp_n_towns && csvp_towns[last].kommune == kode)
        total += csvp_towns[last++].weight;
    if (total == 0) return NULL;
    uint64_t x = rng_below(&g->r, total);
    for (size_t i = first; i < last; i++) {
        if (x < csvp_towns[i].weight) return &csvp_towns[i];
        x -= csvp_towns[i].weight;
    }
    return &csvp_towns[last - 1];
}

/* A unit's name by its type and ejerform, sometimes with quotes around the
 * word (as the sample's "Børnehuset ""De fire Årstider"""). */
static void make_unit_name(gen *g, int type, int ejerform, const csvp_town *town, char *out,
                           size_t outlen)
{
    static const char *const integrated[] = {"Børnehuset", "Daginstitution", "Børnehuset",
                                             "Den Integrerede Institution", "Børnecenter"};
    static const char *const parts[] = {"Nord", "Syd", "Øst", "Vest", "Midt"};
    const char *word = csvp_name_words[rng_below(&g->r, csvp_n_name_words)];
    const char *prefix;
    switch (type) {
    case 6010:
        prefix = "Vuggestuen";
        break;
    case 6011:
    case 6014:
        prefix = ejerform == 3 ? "Den Private Børnehave" : "Børnehaven";
        break;
    case 6013:
        snprintf(out, outlen, "Dagplejen %s %s", town->by_navn, parts[rng_below(&g->r, 5)]);
        return;
    case 6020:
        prefix = "Fritidshjemmet";
        break;
    case 6021:
        prefix = rng_percent(&g->r, 50) ? "Klub" : "Fritidsklubben";
        break;
    case 6022:
        prefix = "Specialbørnehaven";
        break;
    default:
        prefix = integrated[rng_below(&g->r, 5)];
        break;
    }
    if (rng_percent(&g->r, PCT_QUOTED_NAME))
        snprintf(out, outlen, "%s \"%s\"", prefix, word);
    else
        snprintf(out, outlen, "%s %s", prefix, word);
}

/* The daginstitution's name: a single unit's own name; for a klynge a name
 * of the area. */
static void make_daginstitution_name(gen *g, const kind *k, const unit_plan *units, size_t n,
                                     const csvp_town *town, const char *kommune, char *out,
                                     size_t outlen)
{
    if (n == 1) {
        snprintf(out, outlen, "%s", units[0].name);
    } else if (k->lovgrundlag == 5) {
        snprintf(out, outlen, "Dagplejen i %s", kommune && *kommune ? kommune : town->by_navn);
    } else if (k->lovgrundlag == 7) {
        snprintf(out, outlen, "Klubberne i %s", town->by_navn);
    } else if (k->lovgrundlag == 8) {
        snprintf(out, outlen, "%s Landsbyordning", town->by_navn);
    } else {
        snprintf(out, outlen, "Dagtilbud %s %s", town->by_navn,
                 csvp_name_words[rng_below(&g->r, csvp_n_name_words)]);
    }
}

/* Picks a kind of klynge by its weight. */
static const kind *pick_kind(gen *g)
{
    double x = rng_unit(&g->r) * g->kind_total;
    for (size_t i = 0; i < N_KINDS; i++) {
        if (x < g->kind_weight[i]) return &kinds[i];
        x -= g->kind_weight[i];
    }
    return &kinds[N_KINDS - 1];
}

static int pick_type(gen *g, const kind *k)
{
    unsigned total = 0;
    for (size_t i = 0; i < 4 && k->types[i].type; i++)
        total += k->types[i].weight;
    uint64_t x = rng_below(&g->r, total);
    for (size_t i = 0; i < 4 && k->types[i].type; i++) {
        if (x < k->types[i].weight) return k->types[i].type;
        x -= k->types[i].weight;
    }
    return k->types[0].type;
}

static size_t pick_size(gen *g, const kind *k)
{
    unsigned total = 0;
    for (size_t i = 0; i < MAX_KLYNGE; i++)
        total += k->sizes[i];
    uint64_t x = rng_below(&g->r, total);
    for (size_t i = 0; i < MAX_KLYNGE; i++) {
        if (x < k->sizes[i]) return i + 1;
        x -= k->sizes[i];
    }
    return 1;
}

/* Picks the kommune of the next klynge, weighted by the units it still has
 * to get (so every quota is met exactly). */
static size_t pick_kommune(gen *g)
{
    uint64_t x = rng_below(&g->r, g->remaining);
    for (size_t i = 0; i < csvp_n_kommuner; i++) {
        if (x < g->quota[i]) return i;
        x -= g->quota[i];
    }
    return csvp_n_kommuner - 1;
}

/* The units of one kommune's share: at least one each when there are as many
 * units as kommuner, the rest by population, largest remainders first. */
static void share_units(gen *g, uint64_t units)
{
    uint64_t population = 0, given = 0;
    for (size_t i = 0; i < csvp_n_kommuner; i++)
        population += csvp_kommuner[i].population;
    uint64_t base = units >= csvp_n_kommuner ? 1 : 0;
    uint64_t rest = units - base * csvp_n_kommuner;
    uint64_t remainder[128];
    for (size_t i = 0; i < csvp_n_kommuner; i++) {
        uint64_t exact = rest * csvp_kommuner[i].population;
        g->quota[i] = base + exact / population;
        remainder[i] = exact % population;
        given += g->quota[i];
    }
    while (given < units) {
        size_t best = 0;
        for (size_t i = 1; i < csvp_n_kommuner; i++)
            if (remainder[i] > remainder[best]) best = i;
        g->quota[best]++;
        remainder[best] = 0;
        given++;
    }
    g->remaining = units;
}

/* ---- one klynge ----------------------------------------------------------------- */

/* Writes one anvisningsenhed row (and, now and then, an alternativ adresse
 * of it). Returns false when the number series are exhausted. */
static bool write_unit(gen *g, const char *di_nummer, const unit_plan *u, int ejerform, int kode,
                       const char *kommune_navn, const csvp_town *town, const char *cvr)
{
    char nummer[7], type[8], kommune[8], pnummer[11], email[200], telefon[16], word[120];
    char kommune_slug[64];
    if (!next_number(g, nummer)) return false;
    address a;
    make_address(g, town, &a);
    bool registered = !rng_percent(&g->r, PCT_NO_PNUMMER);
    if (registered) next_pnummer(g, pnummer);
    bool has_email = rng_percent(&g->r, PCT_EMAIL), has_phone = rng_percent(&g->r, PCT_TELEFON);
    if (has_email) {
        slug(u->name, word, sizeof word);
        slug(kommune_navn ? kommune_navn : "kommune", kommune_slug, sizeof kommune_slug);
        if (ejerform == 1)
            snprintf(email, sizeof email, "%s@%s.dk", word, kommune_slug);
        else
            snprintf(email, sizeof email, "kontakt@%s.dk", word);
    }
    if (has_phone)
        snprintf(telefon, sizeof telefon, "%u%07u", 2 + (unsigned)rng_below(&g->r, 8),
                 (unsigned)rng_below(&g->r, 10000000));
    snprintf(type, sizeof type, "%d", u->type);
    snprintf(kommune, sizeof kommune, "%d", kode);

    csvp_field f[AE_NCOLUMNS];
    set(&f[AE_NUMMER], nummer);
    set(&f[AE_DAGINSTITUTION], di_nummer);
    set(&f[AE_NAVN], u->name);
    set(&f[AE_TYPE], type);
    set(&f[AE_TYPE_TEKST], text_of(g, "institutionstype", u->type));
    set(&f[AE_KOMMUNE], kommune);
    set(&f[AE_KOMMUNE_TEKST], kommune_navn);
    set(&f[AE_VEJNAVN], a.street);
    set(&f[AE_HUSNUMMER], a.hus);
    set(&f[AE_POSTNUMMER], town->post_nummer);
    set(&f[AE_BYNAVN], town->by_navn);
    set(&f[AE_SUPPLERENDE], NULL);
    set(&f[AE_EMAIL], has_email ? email : NULL);
    set(&f[AE_TELEFON], has_phone ? telefon : NULL);
    set(&f[AE_CVR], registered ? cvr : NULL);
    set(&f[AE_PNUMMER], registered ? pnummer : NULL);
    set(&f[AE_BREDDE], a.lat);
    set(&f[AE_LAENGDE], a.lon);
    set(&f[AE_STATUS], "Aktiv");
    csvp_out_row(g->out[1], f, AE_NCOLUMNS);

    if (!rng_percent(&g->r, PCT_ALTERNATIV)) return true;
    char alt_nummer[7], alt_pnummer[11], alt_name[240];
    if (!next_number(g, alt_nummer)) return false;
    address b;
    make_address(g, town, &b);
    snprintf(alt_name, sizeof alt_name, "%s, afd. %s", u->name, b.street);
    if (registered) next_pnummer(g, alt_pnummer);
    csvp_field h[AA_NCOLUMNS];
    set(&h[AA_NUMMER], alt_nummer);
    set(&h[AA_ANVISNINGSENHED], nummer);
    set(&h[AA_NAVN], alt_name);
    set(&h[AA_VEJNAVN], b.street);
    set(&h[AA_HUSNUMMER], b.hus);
    set(&h[AA_POSTNUMMER], town->post_nummer);
    set(&h[AA_BYNAVN], town->by_navn);
    set(&h[AA_SUPPLERENDE], NULL);
    set(&h[AA_KOMMUNE], kommune);
    set(&h[AA_KOMMUNE_TEKST], kommune_navn);
    set(&h[AA_CVR], registered ? cvr : NULL);
    set(&h[AA_PNUMMER], registered ? alt_pnummer : NULL);
    set(&h[AA_BREDDE], b.lat);
    set(&h[AA_LAENGDE], b.lon);
    set(&h[AA_STATUS], "Aktiv");
    csvp_out_row(g->out[2], h, AA_NCOLUMNS);
    return true;
}

/* Makes one klynge: picks its kommune, kind, size and town, writes the
 * daginstitution row and then its units. Returns false when the number
 * series are exhausted. */
static bool write_klynge(gen *g, uint64_t seed)
{
    size_t ki = pick_kommune(g);
    int kode = csvp_kommuner[ki].kode;
    const kind *k = pick_kind(g);
    size_t n = pick_size(g, k);
    if (n > g->quota[ki]) n = (size_t)g->quota[ki];
    g->quota[ki] -= n;
    g->remaining -= n;

    const csvp_town *town = pick_town(g, kode);
    const char *kommune_navn = text_of(g, "kommune", kode);
    unit_plan units[MAX_KLYNGE];
    for (size_t i = 0; i < n; i++) {
        units[i].type = pick_type(g, k);
        make_unit_name(g, units[i].type, k->ejerform, town, units[i].name, sizeof units[i].name);
    }
    char name[240], nummer[7], ejerform[4], lovgrundlag[4], kommune[8], cvr[9];
    make_daginstitution_name(g, k, units, n, town, kommune_navn, name, sizeof name);
    if (!next_number(g, nummer)) return false;
    if (k->ejerform == 1)
        kommune_cvr(seed, kode, cvr);
    else
        make_cvr(rng_next(&g->r), cvr);
    snprintf(ejerform, sizeof ejerform, "%d", k->ejerform);
    snprintf(lovgrundlag, sizeof lovgrundlag, "%d", k->lovgrundlag);
    snprintf(kommune, sizeof kommune, "%d", kode);

    csvp_field f[DI_NCOLUMNS];
    set(&f[DI_NUMMER], nummer);
    set(&f[DI_NAVN], name);
    set(&f[DI_EJERFORM], ejerform);
    set(&f[DI_EJERFORM_TEKST], text_of(g, "ejerform", k->ejerform));
    set(&f[DI_LOVGRUNDLAG], lovgrundlag);
    set(&f[DI_LOVGRUNDLAG_TEKST], text_of(g, "lovgrundlag", k->lovgrundlag));
    set(&f[DI_KOMMUNE], kommune);
    set(&f[DI_KOMMUNE_TEKST], kommune_navn);
    set(&f[DI_STATUS], "Aktiv");
    csvp_out_row(g->out[0], f, DI_NCOLUMNS);

    for (size_t i = 0; i < n; i++)
        if (!write_unit(g, nummer, &units[i], k->ejerform, kode, kommune_navn, town, cvr))
            return false;
    return true;
}

/* ---- the files ---------------------------------------------------------------- */

static dtr_status file_write(void *ctx, const void *data, size_t len)
{
    return fwrite(data, 1, len, ctx) == len ? DTR_OK : DTR_ERROR;
}

/* Sets up the per-klynge weight of each kind: its share of units divided by
 * its mean size, so that the units (not the klynger) follow the sample's mix. */
static void weigh_kinds(gen *g)
{
    g->kind_total = 0;
    for (size_t i = 0; i < N_KINDS; i++) {
        double units = 0, sizes = 0, weighted = 0;
        for (size_t t = 0; t < 4 && kinds[i].types[t].type; t++)
            units += kinds[i].types[t].weight;
        for (size_t s = 0; s < MAX_KLYNGE; s++) {
            sizes += kinds[i].sizes[s];
            weighted += (double)(s + 1) * kinds[i].sizes[s];
        }
        g->kind_weight[i] = units / (weighted / sizes);
        g->kind_total += g->kind_weight[i];
    }
}

/* generate: the three files of a register of `units` anvisningsenheder in
 * outdir (made when missing). */
dtr_status csvp_generate(void *state, uint64_t units, uint64_t seed, const char *outdir, char *err,
                         size_t errlen)
{
    const csvp_state *st = state;
    if (mkdir(outdir, 0777) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "%s: %s", outdir, strerror(errno));
        return DTR_ERROR;
    }
    gen *g = calloc(1, sizeof *g);
    FILE *files[CSVP_LEVELS] = {NULL};
    dtr_byte_sink sinks[CSVP_LEVELS];
    dtr_status status = DTR_OK;
    if (g == NULL) {
        snprintf(err, errlen, "generate: out of memory");
        return DTR_ERROR;
    }
    for (int level = 0; level < CSVP_LEVELS && status == DTR_OK; level++) {
        const csvp_layout *layout = csvp_layout_of(level);
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", outdir, layout->file_name);
        files[level] = fopen(path, "wb");
        g->out[level] = malloc(sizeof(csvp_out));
        if (files[level] == NULL || g->out[level] == NULL) {
            snprintf(err, errlen, "%s: %s", path, files[level] ? "out of memory" : strerror(errno));
            status = DTR_ERROR;
            break;
        }
        sinks[level] = (dtr_byte_sink){files[level], file_write};
        csvp_out_init(g->out[level], &sinks[level]);
        csvp_out_header(g->out[level], layout);
    }
    if (status == DTR_OK) {
        rng_seed(&g->r, seed);
        g->codes = st;
        g->p_offset = rng_below(&g->r, 1000000000ull);
        weigh_kinds(g);
        share_units(g, units);
        while (g->remaining > 0) {
            if (!write_klynge(g, seed)) {
                snprintf(err, errlen, "generate: the number series G-Z are exhausted");
                status = DTR_ERROR;
                break;
            }
        }
    }
    for (int level = 0; level < CSVP_LEVELS; level++) {
        if (g->out[level] && files[level] && csvp_out_flush(g->out[level]) != DTR_OK &&
            status == DTR_OK) {
            snprintf(err, errlen, "%s/%s: write failed", outdir, csvp_layout_of(level)->file_name);
            status = DTR_ERROR;
        }
        if (files[level] && fclose(files[level]) != 0 && status == DTR_OK) {
            snprintf(err, errlen, "%s/%s: %s", outdir, csvp_layout_of(level)->file_name,
                     strerror(errno));
            status = DTR_ERROR;
        }
        free(g->out[level]);
    }
    free(g);
    return status;
}
