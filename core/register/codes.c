/*
 * codes.c -- the register's code lists and number rules as constant tables:
 * the 98 kommuner (kommuner.csv), ejerform, lovgrundlag and institutionstype
 * (kodetekster.csv, texts to the character), the cross-validation matrices of
 * DOMAIN.md, the number format and the order of the number series.
 */
#include <string.h>

#include "register/internal.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const reg_code kommuner[] = {
    {101, "København"},
    {147, "Frederiksberg"},
    {151, "Ballerup"},
    {153, "Brøndby"},
    {155, "Dragør"},
    {157, "Gentofte"},
    {159, "Gladsaxe"},
    {161, "Glostrup"},
    {163, "Herlev"},
    {165, "Albertslund"},
    {167, "Hvidovre"},
    {169, "Høje-Taastrup"},
    {173, "Lyngby-Taarbæk"},
    {175, "Rødovre"},
    {183, "Ishøj"},
    {185, "Tårnby"},
    {187, "Vallensbæk"},
    {190, "Furesø"},
    {201, "Allerød"},
    {210, "Fredensborg"},
    {217, "Helsingør"},
    {219, "Hillerød"},
    {223, "Hørsholm"},
    {230, "Rudersdal"},
    {240, "Egedal"},
    {250, "Frederikssund"},
    {260, "Halsnæs"},
    {270, "Gribskov"},
    {400, "Bornholm"},
    {253, "Greve"},
    {259, "Køge"},
    {265, "Roskilde"},
    {269, "Solrød"},
    {306, "Odsherred"},
    {316, "Holbæk"},
    {320, "Faxe"},
    {326, "Kalundborg"},
    {329, "Ringsted"},
    {330, "Slagelse"},
    {336, "Stevns"},
    {340, "Sorø"},
    {350, "Lejre"},
    {360, "Lolland"},
    {370, "Næstved"},
    {376, "Guldborgsund"},
    {390, "Vordingborg"},
    {410, "Middelfart"},
    {420, "Assens"},
    {430, "Faaborg-Midtfyn"},
    {440, "Kerteminde"},
    {450, "Nyborg"},
    {461, "Odense"},
    {479, "Svendborg"},
    {480, "Nordfyns"},
    {482, "Langeland"},
    {492, "Ærø"},
    {510, "Haderslev"},
    {530, "Billund"},
    {540, "Sønderborg"},
    {550, "Tønder"},
    {561, "Esbjerg"},
    {563, "Fanø"},
    {573, "Varde"},
    {575, "Vejen"},
    {580, "Aabenraa"},
    {607, "Fredericia"},
    {621, "Kolding"},
    {630, "Vejle"},
    {615, "Horsens"},
    {657, "Herning"},
    {661, "Holstebro"},
    {665, "Lemvig"},
    {671, "Struer"},
    {706, "Syddjurs"},
    {707, "Norddjurs"},
    {710, "Favrskov"},
    {727, "Odder"},
    {730, "Randers"},
    {740, "Silkeborg"},
    {741, "Samsø"},
    {746, "Skanderborg"},
    {751, "Aarhus"},
    {756, "Ikast-Brande"},
    {760, "Ringkøbing-Skjern"},
    {766, "Hedensted"},
    {779, "Skive"},
    {791, "Viborg"},
    {773, "Morsø"},
    {787, "Thisted"},
    {810, "Brønderslev"},
    {813, "Frederikshavn"},
    {820, "Vesthimmerland"},
    {825, "Læsø"},
    {840, "Rebild"},
    {846, "Mariagerfjord"},
    {849, "Jammerbugt"},
    {851, "Aalborg"},
    {860, "Hjørring"},
};

static const reg_code ejerformer[] = {
    {1, "Kommunal"},
    {2, "Selvejende"},
    {3, "Privat"},
    {4, "Udliciteret"},
};

static const reg_code lovgrundlag[] = {
    {1, "Dagtilbudsloven § 19, stk. 2"},
    {2, "Dagtilbudsloven § 19, stk. 3"},
    {3, "Dagtilbudsloven § 19, stk. 4"},
    {4, "Dagtilbudsloven § 19, stk. 5"},
    {5, "Dagtilbudsloven § 21, stk. 2 og 3"},
    {6, "Dagtilbudsloven § 52"},
    {7, "Dagtilbudsloven § 66"},
    {8, "Dagtilbudsloven § 19, stk. 2 (landsbyordning, folkeskolelovens § 24 a)"},
    {9, "Serviceloven § 32"},
    {10, "Serviceloven § 36"},
};

static const reg_code institutionstyper[] = {
    {6010, "Vuggestue (0-2 år)"}, {6011, "Børnehave (3-5 år)"}, {6012, "Aldersintegreret (0-5 år)"},
    {6013, "Dagpleje"},           {6014, "Børnehave (2-5 år)"}, {6020, "Fritidshjem"},
    {6021, "Fritidsklub"},        {6022, "Særligt dagtilbud"},
};

const reg_code *reg_kommuner(size_t *n)
{
    *n = COUNT(kommuner);
    return kommuner;
}

const reg_code *reg_ejerformer(size_t *n)
{
    *n = COUNT(ejerformer);
    return ejerformer;
}

const reg_code *reg_lovgrundlag(size_t *n)
{
    *n = COUNT(lovgrundlag);
    return lovgrundlag;
}

const reg_code *reg_institutionstyper(size_t *n)
{
    *n = COUNT(institutionstyper);
    return institutionstyper;
}

const char *reg_code_text(const reg_code *list, size_t n, int kode)
{
    for (size_t i = 0; i < n; i++)
        if (list[i].kode == kode) return list[i].tekst;
    return NULL;
}

/* ejerformKode -> allowed lovgrundlagKode, as bit sets (bit k: code k). */
static const struct {
    int ejerform;
    unsigned lovgrundlag_bits;
} ejerform_matrix[] = {
    {1, 1u << 1 | 1u << 5 | 1u << 6 | 1u << 7 | 1u << 8 | 1u << 9 | 1u << 10},
    {2, 1u << 2 | 1u << 5 | 1u << 6 | 1u << 7 | 1u << 9 | 1u << 10},
    {3, 1u << 4 | 1u << 5 | 1u << 6 | 1u << 7},
    {4, 1u << 3},
};

bool reg_lovgrundlag_allowed(int ejerform, int lov)
{
    if (lov < 0 || lov > 30) return false;
    for (size_t i = 0; i < COUNT(ejerform_matrix); i++)
        if (ejerform_matrix[i].ejerform == ejerform)
            return (ejerform_matrix[i].lovgrundlag_bits >> lov) & 1u;
    return false;
}

/* lovgrundlagKode -> the instType3 its anvisningsenheder may have. */
static const struct {
    int lovgrundlag;
    int insttype[4];
} lovgrundlag_matrix[] = {
    {1, {6010, 6011, 6012, 6014}},
    {2, {6010, 6011, 6012, 6014}},
    {3, {6010, 6011, 6012, 6014}},
    {4, {6010, 6011, 6012, 6014}},
    {8, {6010, 6011, 6012, 6014}},
    {5, {6013}},
    {6, {6020}},
    {7, {6021}},
    {9, {6022}},
    {10, {6022}},
};

bool reg_insttype_allowed(int lov, int insttype)
{
    for (size_t i = 0; i < COUNT(lovgrundlag_matrix); i++) {
        if (lovgrundlag_matrix[i].lovgrundlag != lov) continue;
        for (size_t j = 0; j < 4; j++)
            if (lovgrundlag_matrix[i].insttype[j] == insttype && insttype != 0) return true;
        return false;
    }
    return false;
}

bool reg_nummer_valid(const char *s)
{
    if (!s || strlen(s) != 6 || s[0] < 'A' || s[0] > 'Z') return false;
    for (int i = 1; i < 6; i++)
        if (s[i] < '0' || s[i] > '9') return false;
    return true;
}

int reg_series_index(char letter)
{
    static const char series[] = "GHJKLMNPRSTUVWXYZ";
    const char *p = letter ? strchr(series, letter) : NULL;
    return p ? (int)(p - series) : -1;
}

const char *reg_level_name(reg_level level)
{
    switch (level) {
    case REG_DAGINSTITUTION:
        return "daginstitution";
    case REG_ANVISNINGSENHED:
        return "anvisningsenhed";
    case REG_ALTERNATIV_ADRESSE:
        return "alternativAdresse";
    }
    return "?";
}

const char *reg_level_parent_field(reg_level level)
{
    switch (level) {
    case REG_DAGINSTITUTION:
        return NULL;
    case REG_ANVISNINGSENHED:
        return "daginstitutionsNummer";
    case REG_ALTERNATIV_ADRESSE:
        return "anvisningsenhedsNummer";
    }
    return NULL;
}

int reg_int_field(const json_t *record, const char *key, int def)
{
    const json_t *v = json_object_get(record, key);
    return json_is_integer(v) ? (int)json_integer_value(v) : def;
}

const char *reg_str_field(const json_t *record, const char *key)
{
    return json_string_value(json_object_get(record, key));
}

const char *reg_code_text_by_list(const char *list, int kode)
{
    const reg_code *codes;
    size_t n = 0;
    if (!list) return NULL;
    if (strcmp(list, "kommune") == 0)
        codes = reg_kommuner(&n);
    else if (strcmp(list, "ejerform") == 0)
        codes = reg_ejerformer(&n);
    else if (strcmp(list, "lovgrundlag") == 0)
        codes = reg_lovgrundlag(&n);
    else if (strcmp(list, "institutionstype") == 0)
        codes = reg_institutionstyper(&n);
    else
        return NULL;
    return reg_code_text(codes, n, kode);
}
