/*
 * routes.c -- the route table of the REST API v1: every method and path the
 * plugin serves, which handler kind answers it, and what the OpenAPI
 * document says about it. init registers exactly these routes and
 * openapi.c describes exactly these, so the two cannot drift apart.
 *
 * Not here: /v1/eksport/... (the csv plugin) and the consumer plugins'
 * routes (/v1/unilogin, /v1/portal, /v1/statistik).
 */
#include "rest.h"

#define DI DTR_LEVEL_DAGINSTITUTION
#define AE DTR_LEVEL_ANVISNINGSENHED
#define AA DTR_LEVEL_ALTERNATIV_ADRESSE

/* ---- query parameters ---------------------------------------------------- */

#define P_LIMIT                                                                                    \
    {                                                                                              \
        "limit", REST_P_LIMIT, "Antal resultater pr. side, 1-1000 (standard 100)."                 \
    }
#define P_EFTER                                                                                    \
    {                                                                                              \
        "efter", REST_P_CURSOR, "Den uigennemsigtige markør fra forrige sides \"naeste\"."        \
    }
#define P_VIRKNING                                                                                 \
    {                                                                                              \
        "virkningsdato", REST_P_DATE,                                                              \
            "YYYY-MM-DD: registeret som det var i virkning den dag (standard: i dag)."             \
    }
#define P_STATUS                                                                                   \
    {                                                                                              \
        "status", REST_P_STATUS, "kommende, aktiv eller nedlagt på dagen (standard: alle)."       \
    }
#define P_NAVN                                                                                         \
    {                                                                                                  \
        "navn", REST_P_TEXT, "Del af navnet, uden forskel på store og små bogstaver (også æøå)." \
    }
#define P_CVR                                                                                      \
    {                                                                                              \
        "cvrNummer", REST_P_CVR, "CVR-nummer, 8 cifre."                                            \
    }
#define P_PNR                                                                                      \
    {                                                                                              \
        "pNummer", REST_P_PNUMMER, "P-nummer, 10 cifre."                                           \
    }
#define P_KOMMUNE                                                                                  \
    {                                                                                              \
        "kommuneKode", REST_P_CODE, "Adressens kommunekode."                                       \
    }
#define P_END                                                                                      \
    {                                                                                              \
        NULL, REST_P_LIMIT, NULL                                                                   \
    }

static const rest_param params_none[] = {P_END};
static const rest_param params_one[] = {P_VIRKNING, P_END};
static const rest_param params_list_di[] = {
    {"admKommuneKode", REST_P_CODE, "Den administrerende kommunes kode."},
    P_NAVN,
    P_STATUS,
    P_VIRKNING,
    P_LIMIT,
    P_EFTER,
    P_END};
static const rest_param params_list_ae[] = {
    {"daginstitutionsNummer", REST_P_NUMMER, "Daginstitutionens nummer."},
    P_KOMMUNE,
    P_PNR,
    P_CVR,
    P_NAVN,
    {"instType3", REST_P_CODE, "Institutionstype (kodetabellen institutionstyper)."},
    P_STATUS,
    P_VIRKNING,
    P_LIMIT,
    P_EFTER,
    P_END};
static const rest_param params_list_aa[] = {
    {"anvisningsenhedsNummer", REST_P_NUMMER, "Anvisningsenhedens nummer."},
    P_KOMMUNE,
    P_PNR,
    P_CVR,
    P_NAVN,
    P_STATUS,
    P_VIRKNING,
    P_LIMIT,
    P_EFTER,
    P_END};
static const rest_param params_events[] = {
    {"fra", REST_P_SEQ, "Det første sekvensnummer (standard 0: fra begyndelsen)."},
    {"maxantal", REST_P_MAXANTAL, "Højst så mange hændelser, 1-10000 (standard 1000)."},
    P_END};

/* ---- the table ------------------------------------------------------------- */

/* The routes of one collection: list, create, one, change, delete, close,
 * reopen, history. (Laid out by hand: clang-format cannot lay out a macro body of
 * initializers readably.) */
// clang-format off
#define COLLECTION(path, lvl, list_params, what)                                                   \
    {"GET",    "/v1/" path,                      REST_LIST,    lvl, NULL,                         \
     "Liste over " what " (efter nummer, i sider)", list_params},                               \
    {"POST",   "/v1/" path,                      REST_CREATE,  lvl, NULL,                         \
     "Opret " what, params_none},                                                                  \
    {"GET",    "/v1/" path "/{nummer}",          REST_GET,     lvl, NULL,                         \
     "Hent én af " what, params_one},                                                              \
    {"PATCH",  "/v1/" path "/{nummer}",          REST_UPDATE,  lvl, NULL,                         \
     "Ret felter (RFC 7396 merge patch)", params_none},                                            \
    {"DELETE", "/v1/" path "/{nummer}",          REST_DELETE,  lvl, NULL,                         \
     "Slet en fejlagtig registrering", params_none},                                               \
    {"POST",   "/v1/" path "/{nummer}/nedlaeg",  REST_CLOSE,   lvl, NULL,                         \
     "Nedlæg (sæt virkningTil)", params_none},                                                     \
    {"POST",   "/v1/" path "/{nummer}/genaabn",  REST_REOPEN,  lvl, NULL,                         \
     "Genåbn en fejlagtigt nedlagt registrering (kun support)", params_none},                     \
    {"GET",    "/v1/" path "/{nummer}/historik", REST_HISTORY, lvl, NULL,                         \
     "Alle versioner af én af " what, params_none}
// clang-format on

const rest_route rest_routes[] = {
    {"GET", "/v1/openapi.json", REST_OPENAPI, DI, NULL, "Dette OpenAPI 3.1-dokument", params_none},
    {"GET", "/v1/kodetabeller/kommuner", REST_CODES, DI, "kommune", "Kommunekoder", params_none},
    {"GET", "/v1/kodetabeller/ejerformer", REST_CODES, DI, "ejerform", "Ejerformer", params_none},
    {"GET", "/v1/kodetabeller/lovgrundlag", REST_CODES, DI, "lovgrundlag", "Lovgrundlag",
     params_none},
    {"GET", "/v1/kodetabeller/institutionstyper", REST_CODES, DI, "institutionstype",
     "Institutionstyper (instType3)", params_none},
    COLLECTION("daginstitutioner", DI, params_list_di, "daginstitutioner"),
    COLLECTION("anvisningsenheder", AE, params_list_ae, "anvisningsenheder"),
    {"POST", "/v1/anvisningsenheder/{nummer}/flyt", REST_MOVE, AE, NULL,
     "Flyt til en anden daginstitution (de alternative adresser følger med)", params_none},
    COLLECTION("alternative-adresser", AA, params_list_aa, "alternative adresser"),
    {"POST", "/v1/alternative-adresser/{nummer}/flyt", REST_MOVE, AA, NULL,
     "Flyt til en anden anvisningsenhed", params_none},
    {"GET", "/v1/dagtilbud/{nummer}", REST_DAGTILBUD, DI, NULL,
     "Slå et vilkårligt dagtilbudsnummer op (alle tre niveauer)", params_one},
    {"GET", "/v1/haendelser/seneste", REST_LATEST, DI, NULL, "Det nyeste sekvensnummer",
     params_none},
    {"GET", "/v1/haendelser", REST_EVENTS, DI, NULL, "Hændelser fra et sekvensnummer, i orden",
     params_events},
    {"GET", "/v1/udtraek", REST_UDTRAEK, DI, NULL,
     "Hele registeret, streamet, konsistent med ét sekvensnummer", params_none},
    {"POST", "/v1/transaktioner", REST_TRANSACTION, DI, NULL,
     "Flere ændringer i én transaktion: alle eller ingen", params_none},
};

const size_t rest_route_count = sizeof rest_routes / sizeof rest_routes[0];

/* The names of each level: its collection's path segment, its schema in
 * the OpenAPI document, its niveau. */
static const struct {
    const char *collection, *schema, *niveau;
} rest_level_names[] = {
    [DTR_LEVEL_DAGINSTITUTION] = {"daginstitutioner", "Daginstitution", "daginstitution"},
    [DTR_LEVEL_ANVISNINGSENHED] = {"anvisningsenheder", "Anvisningsenhed", "anvisningsenhed"},
    [DTR_LEVEL_ALTERNATIV_ADRESSE] = {"alternative-adresser", "AlternativAdresse",
                                      "alternativAdresse"},
};

static unsigned rest_level_index(dtr_level level)
{
    return (unsigned)level <= DTR_LEVEL_ALTERNATIV_ADRESSE ? (unsigned)level : 0;
}

const char *rest_collection(dtr_level level)
{
    return rest_level_names[rest_level_index(level)].collection;
}

const char *rest_schema_name(dtr_level level)
{
    return rest_level_names[rest_level_index(level)].schema;
}

const char *rest_niveau(dtr_level level)
{
    return rest_level_names[rest_level_index(level)].niveau;
}
