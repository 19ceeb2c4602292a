/*
 * openapi.c -- GET /v1/openapi.json: the OpenAPI 3.1 document of everything
 * the server serves.
 *
 * The plugin's own paths are made from the route table (routes.c), the same
 * table init registers, so the document cannot name a route the plugin does
 * not serve or miss one it does (a unit test checks both directions). What
 * each kind of route takes and answers is decided here, in one switch per
 * question; the data schemas and the error codes are written out below as
 * JSON text. They are the document's shared components: the host's and the
 * other plugins' descriptions (ABI 1.4, openapi_describe) $ref them.
 *
 * The own document is made at init; the rest of the set describes its
 * routes in its own init or start, which may come after this plugin's, so
 * the whole document is merged (openapi_paths) at the first request for it
 * and kept as bytes from then on.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rest.h"

/* ---- error codes by status (API.md's table, plus 401) ------------------------ */

typedef struct rest_status_codes {
    int status;
    const char *codes[15];
} rest_status_codes;

static const rest_status_codes rest_error_codes[] = {
    {400, {"UGYLDIG_JSON", "UGYLDIG_PARAMETER", "UGYLDIG_FORESPOERGSEL"}},
    {401, {"IKKE_AUTENTIFICERET"}},
    {403, {"IKKE_TILLADT"}},
    {404, {"FINDES_IKKE"}},
    {405, {"FINDES_IKKE"}},
    {408, {"TIMEOUT"}},
    {409,
     {"HAR_BOERN", "HAR_AKTIVE_BOERN", "FLYT_PAA_TVAERS", "NEDLAGT", "FORAELDER_NEDLAGT",
      "NUMMER_BRUGT"}},
    {410, {"SLETTET"}},
    {412, {"VERSIONSKONFLIKT"}},
    {413, {"FOR_STOR"}},
    {415, {"UGYLDIG_MEDIETYPE"}},
    {422,
     {"MANGLER_FELT", "UKENDT_FELT", "FORKERT_TYPE", "FOR_LANG", "UGYLDIGT_FORMAT", "UKENDT_KODE",
      "UGYLDIG_CVR", "UGYLDIG_PNUMMER", "UGYLDIG_POSTNUMMER", "UGYLDIG_DATO", "KRYDSVALIDERING",
      "FORAELDER_FINDES_IKKE", "SKRIVEBESKYTTET", "IDEMPOTENS_KONFLIKT"}},
    {429, {"FOR_MANGE"}},
    {431, {"FOR_STORE_HOVEDER"}},
    {503, {"IKKE_KLAR"}},
};

/* The statuses a kind of route may answer with besides success. Every
 * route may also meet the host's own refusals (408, 413, 429, 431, 503). */
static const int rest_read_errors[] = {400, 401, 404, 410, 503, 0};
static const int rest_plain_read_errors[] = {400, 401, 503, 0};
/* the udtræk: 429 past limits.max_streams_per_client or
 * limits.max_snapshots_per_client (docs/api.md section 10) */
static const int rest_stream_errors[] = {400, 401, 429, 503, 0};
static const int rest_write_errors[] = {400, 401, 403, 404, 409, 410, 412, 413, 415, 422, 503, 0};

static const int *rest_errors_of(rest_kind kind)
{
    switch (kind) {
    case REST_GET:
    case REST_HISTORY:
    case REST_DAGTILBUD:
        return rest_read_errors;
    case REST_CREATE:
    case REST_UPDATE:
    case REST_CLOSE:
    case REST_DELETE:
    case REST_MOVE:
    case REST_REOPEN:
    case REST_TRANSACTION:
        return rest_write_errors;
    case REST_UDTRAEK:
        return rest_stream_errors;
    default:
        return rest_plain_read_errors;
    }
}

/* ---- the data schemas ----------------------------------------------------------------- */

/* Written once as JSON text: a field's rule is easier to check against
 * API.md's table here than in a nest of json_pack calls. */
static const char rest_schemas[] =
    "{"
    "\"Nummer\": {\"type\": \"string\", \"pattern\": \"^[A-Z][0-9]{5}$\","
    "  \"description\": \"Dagtilbudsnummer: et stort bogstav og 5 cifre (G23152).\"},"
    "\"Dato\": {\"type\": \"string\", \"format\": \"date\","
    "  \"pattern\": \"^[0-9]{4}-[0-9]{2}-[0-9]{2}$\"},"
    "\"Status\": {\"type\": \"string\", \"enum\": [\"kommende\", \"aktiv\", \"nedlagt\"],"
    "  \"readOnly\": true, \"description\": \"Afledt af virkningFra/virkningTil og dagen.\"},"
    "\"Adresse\": {\"type\": \"object\", \"additionalProperties\": false,"
    "  \"required\": [\"vejNavn\", \"husNummer\", \"postNummer\", \"byNavn\", \"kommuneKode\"],"
    "  \"properties\": {"
    "    \"vejNavn\": {\"type\": \"string\", \"minLength\": 1, \"maxLength\": 40},"
    "    \"husNummer\": {\"type\": \"string\", \"pattern\": \"^[0-9]{1,3}[A-Za-z]?$\"},"
    "    \"etage\": {\"type\": [\"string\", \"null\"], \"maxLength\": 34},"
    "    \"doer\": {\"type\": [\"string\", \"null\"], \"maxLength\": 34},"
    "    \"postNummer\": {\"type\": \"string\", \"pattern\": \"^[0-9]{4}$\"},"
    "    \"byNavn\": {\"type\": \"string\", \"minLength\": 1, \"maxLength\": 34},"
    "    \"supplerendeBynavn\": {\"type\": [\"string\", \"null\"], \"maxLength\": 34},"
    "    \"kommuneKode\": {\"type\": \"integer\", \"description\": \"Kodetabellen kommuner.\"},"
    "    \"dawaId\": {\"type\": [\"string\", \"null\"], \"format\": \"uuid\"},"
    "    \"geoBredde\": {\"type\": [\"number\", \"null\"], \"minimum\": 54.5, \"maximum\": 57.8},"
    "    \"geoLaengde\": {\"type\": [\"number\", \"null\"], \"minimum\": 8.0, \"maximum\": 15.2}}},"
    "\"Registerfelter\": {\"type\": \"object\", \"properties\": {"
    "    \"nummer\": {\"$ref\": \"#/components/schemas/Nummer\", \"readOnly\": true},"
    "    \"virkningFra\": {\"type\": [\"string\", \"null\"], \"format\": \"date\","
    "      \"description\": \"Første dag i virkning; gives kun ved oprettelse (standard: i "
    "dag).\"},"
    "    \"virkningTil\": {\"type\": [\"string\", \"null\"], \"format\": \"date\","
    "      \"description\": \"Første dag ikke længere i virkning; ændres kun med nedlaeg.\"},"
    "    \"status\": {\"$ref\": \"#/components/schemas/Status\"},"
    "    \"version\": {\"type\": \"integer\", \"readOnly\": true},"
    "    \"opdateret\": {\"type\": \"string\", \"format\": \"date-time\", \"readOnly\": true}}},"
    "\"Daginstitution\": {\"type\": \"object\", \"unevaluatedProperties\": false,"
    "  \"allOf\": [{\"$ref\": \"#/components/schemas/Registerfelter\"}],"
    "  \"required\": [\"navn\", \"ejerformKode\", \"lovgrundlagKode\", \"admKommuneKode\"],"
    "  \"properties\": {"
    "    \"navn\": {\"type\": \"string\", \"minLength\": 1, \"maxLength\": 132},"
    "    \"ejerformKode\": {\"type\": \"integer\", \"description\": \"Kodetabellen ejerformer.\"},"
    "    \"lovgrundlagKode\": {\"type\": \"integer\", \"description\": \"Kodetabellen "
    "lovgrundlag.\"},"
    "    \"admKommuneKode\": {\"type\": \"integer\", \"description\": \"Kodetabellen kommuner.\"},"
    "    \"anvisningsenheder\": {\"type\": \"array\","
    "      \"items\": {\"$ref\": \"#/components/schemas/Anvisningsenhed\"},"
    "      \"description\": \"Ved oprettelse: oprettes sammen med daginstitutionen. Ved PATCH: "
    "hvert element er en merge patch af barnet med det nummer.\"}}},"
    "\"Anvisningsenhed\": {\"type\": \"object\", \"unevaluatedProperties\": false,"
    "  \"allOf\": [{\"$ref\": \"#/components/schemas/Registerfelter\"}],"
    "  \"required\": [\"navn\", \"instType3\", \"adresse\"],"
    "  \"properties\": {"
    "    \"daginstitutionsNummer\": {\"$ref\": \"#/components/schemas/Nummer\","
    "      \"description\": \"Forælderen; gives ved oprettelse, ændres kun med flyt.\"},"
    "    \"navn\": {\"type\": \"string\", \"minLength\": 1, \"maxLength\": 132},"
    "    \"instType3\": {\"type\": \"integer\", \"description\": \"Kodetabellen "
    "institutionstyper.\"},"
    "    \"adresse\": {\"$ref\": \"#/components/schemas/Adresse\"},"
    "    \"email\": {\"type\": [\"string\", \"null\"], \"maxLength\": 132},"
    "    \"telefonNummer\": {\"type\": [\"string\", \"null\"], \"maxLength\": 20,"
    "      \"pattern\": \"^[+]?[0-9 ]*$\"},"
    "    \"cvrNummer\": {\"type\": [\"string\", \"null\"], \"pattern\": \"^[0-9]{8}$\","
    "      \"description\": \"8 cifre, modulus 11.\"},"
    "    \"pNummer\": {\"type\": [\"string\", \"null\"], \"pattern\": \"^[0-9]{10}$\"},"
    "    \"alternativeAdresser\": {\"type\": \"array\", \"readOnly\": true,"
    "      \"items\": {\"$ref\": \"#/components/schemas/AlternativAdresse\"}}}},"
    "\"AlternativAdresse\": {\"type\": \"object\", \"unevaluatedProperties\": false,"
    "  \"allOf\": [{\"$ref\": \"#/components/schemas/Registerfelter\"}],"
    "  \"required\": [\"navn\", \"adresse\"],"
    "  \"properties\": {"
    "    \"anvisningsenhedsNummer\": {\"$ref\": \"#/components/schemas/Nummer\","
    "      \"description\": \"Forælderen; gives ved oprettelse, ændres kun med flyt.\"},"
    "    \"navn\": {\"type\": \"string\", \"minLength\": 1, \"maxLength\": 132},"
    "    \"adresse\": {\"$ref\": \"#/components/schemas/Adresse\"},"
    "    \"cvrNummer\": {\"type\": [\"string\", \"null\"], \"pattern\": \"^[0-9]{8}$\"},"
    "    \"pNummer\": {\"type\": [\"string\", \"null\"], \"pattern\": \"^[0-9]{10}$\"}}},"
    "\"Transaktion\": {\"type\": \"object\", \"required\": [\"trin\"],"
    "  \"additionalProperties\": false,"
    "  \"properties\": {\"trin\": {\"type\": \"array\", \"minItems\": 1, \"maxItems\": 100,"
    "    \"items\": {\"type\": \"object\", \"required\": [\"metode\", \"sti\"],"
    "      \"additionalProperties\": false,"
    "      \"properties\": {\"metode\": {\"enum\": [\"POST\", \"PATCH\", \"DELETE\"]},"
    "        \"sti\": {\"type\": \"string\", \"description\": \"En ændrings sti under /v1; "
    "\\\"$k\\\" i stedet for et nummer nævner det nummer trin k (fra 1) oprettede eller "
    "ændrede.\"},"
    "        \"krop\": {\"type\": \"object\", \"description\": \"Ruten krop; forældrenumre "
    "må være \\\"$k\\\".\"},"
    "        \"ifMatch\": {\"type\": \"integer\", \"minimum\": 0}}}}}},"
    "\"TransaktionSvar\": {\"type\": \"object\", \"required\": [\"trin\"], \"properties\": {"
    "  \"kontrolleret\": {\"type\": \"boolean\"},"
    "  \"trin\": {\"type\": \"array\", \"items\": {\"type\": \"object\","
    "    \"required\": [\"status\", \"nummer\", \"niveau\"], \"properties\": {"
    "      \"status\": {\"type\": \"integer\"}, \"nummer\": {\"type\": \"string\"},"
    "      \"niveau\": {\"type\": \"string\"}, \"version\": {\"type\": \"integer\"},"
    "      \"data\": {\"type\": \"object\"}}}}}},"
    "\"Nedlaeg\": {\"type\": \"object\", \"required\": [\"virkningTil\"],"
    "  \"additionalProperties\": false,"
    "  \"properties\": {\"virkningTil\": {\"$ref\": \"#/components/schemas/Dato\"}}},"
    "\"FlytAnvisningsenhed\": {\"type\": \"object\", \"required\": [\"daginstitutionsNummer\"],"
    "  \"additionalProperties\": false,"
    "  \"properties\": {\"daginstitutionsNummer\": {\"$ref\": \"#/components/schemas/Nummer\"}}},"
    "\"FlytAlternativAdresse\": {\"type\": \"object\", \"required\": [\"anvisningsenhedsNummer\"],"
    "  \"additionalProperties\": false,"
    "  \"properties\": {\"anvisningsenhedsNummer\": {\"$ref\": \"#/components/schemas/Nummer\"}}},"
    "\"Naeste\": {\"type\": [\"string\", \"null\"],"
    "  \"description\": \"Markøren til næste side (som efter=...); null på sidste side.\"},"
    "\"SideDaginstitutioner\": {\"type\": \"object\", \"required\": [\"resultater\", \"naeste\"],"
    "  \"properties\": {\"resultater\": {\"type\": \"array\","
    "    \"items\": {\"$ref\": \"#/components/schemas/Daginstitution\"}},"
    "    \"naeste\": {\"$ref\": \"#/components/schemas/Naeste\"}}},"
    "\"SideAnvisningsenheder\": {\"type\": \"object\", \"required\": [\"resultater\", \"naeste\"],"
    "  \"properties\": {\"resultater\": {\"type\": \"array\","
    "    \"items\": {\"$ref\": \"#/components/schemas/Anvisningsenhed\"}},"
    "    \"naeste\": {\"$ref\": \"#/components/schemas/Naeste\"}}},"
    "\"SideAlternativeAdresser\": {\"type\": \"object\", \"required\": [\"resultater\", "
    "\"naeste\"],"
    "  \"properties\": {\"resultater\": {\"type\": \"array\","
    "    \"items\": {\"$ref\": \"#/components/schemas/AlternativAdresse\"}},"
    "    \"naeste\": {\"$ref\": \"#/components/schemas/Naeste\"}}},"
    "\"Dagtilbud\": {\"type\": \"object\", \"required\": [\"niveau\", \"data\"], \"properties\": {"
    "  \"niveau\": {\"type\": \"string\","
    "    \"enum\": [\"daginstitution\", \"anvisningsenhed\", \"alternativAdresse\"]},"
    "  \"data\": {\"type\": \"object\", \"description\": \"Posten som GET af den viser den.\"}}},"
    "\"Version\": {\"type\": \"object\", \"properties\": {"
    "  \"version\": {\"type\": \"integer\"},"
    "  \"registreringFra\": {\"type\": \"string\", \"format\": \"date-time\"},"
    "  \"registreringTil\": {\"type\": [\"string\", \"null\"], \"format\": \"date-time\"},"
    "  \"virkningFra\": {\"type\": [\"string\", \"null\"], \"format\": \"date\"},"
    "  \"virkningTil\": {\"type\": [\"string\", \"null\"], \"format\": \"date\"},"
    "  \"aktoer\": {\"type\": \"string\"},"
    "  \"data\": {\"type\": \"object\"}}},"
    "\"Haendelse\": {\"type\": \"object\", \"properties\": {"
    "  \"sekvensnummer\": {\"type\": \"integer\"},"
    "  \"tidspunkt\": {\"type\": \"string\", \"format\": \"date-time\"},"
    "  \"operation\": {\"type\": \"string\","
    "    \"enum\": [\"oprettet\", \"aendret\", \"flyttet\", \"nedlagt\", \"slettet\"]},"
    "  \"entitet\": {\"type\": \"string\","
    "    \"enum\": [\"daginstitution\", \"anvisningsenhed\", \"alternativAdresse\"]},"
    "  \"nummer\": {\"$ref\": \"#/components/schemas/Nummer\"},"
    "  \"version\": {\"type\": \"integer\"},"
    "  \"data\": {\"type\": \"object\", \"description\": \"Posten efter ændringen (ved slettet: "
    "før).\"}}},"
    "\"Seneste\": {\"type\": \"object\", \"properties\": {"
    "  \"sekvensnummer\": {\"type\": \"integer\", \"description\": \"0 før den første ændring.\"},"
    "  \"tidspunkt\": {\"type\": [\"string\", \"null\"], \"format\": \"date-time\"}}},"
    "\"Udtraek\": {\"type\": \"object\", \"properties\": {"
    "  \"sekvensnummer\": {\"type\": \"integer\"},"
    "  \"daginstitutioner\": {\"type\": \"array\","
    "    \"items\": {\"$ref\": \"#/components/schemas/Daginstitution\"}}}},"
    "\"Kode\": {\"type\": \"object\", \"properties\": {"
    "  \"kode\": {\"type\": \"integer\"}, \"tekst\": {\"type\": \"string\"}}},"
    "\"Fejl\": {\"type\": \"object\", \"required\": [\"kode\", \"felt\", \"tekst\"], "
    "\"properties\": {"
    "  \"kode\": {\"type\": \"string\"},"
    "  \"felt\": {\"type\": [\"string\", \"null\"],"
    "    \"description\": \"JSON-stien til feltet (adresse.postNummer), eller null.\"},"
    "  \"tekst\": {\"type\": \"string\"}}},"
    "\"Problem\": {\"type\": \"object\", \"description\": \"RFC 9457 problem details.\","
    "  \"required\": [\"type\", \"title\", \"status\", \"detail\", \"fejl\"], \"properties\": {"
    "  \"type\": {\"type\": \"string\"}, \"title\": {\"type\": \"string\"},"
    "  \"status\": {\"type\": \"integer\"}, \"detail\": {\"type\": \"string\"},"
    "  \"fejl\": {\"type\": \"array\", \"items\": {\"$ref\": \"#/components/schemas/Fejl\"}}}}"
    "}";

/* ---- pieces of operations -------------------------------------------------------------- */

static json_t *rest_ref(const char *kind, const char *name)
{
    char ref[96];
    snprintf(ref, sizeof ref, "#/components/%s/%s", kind, name);
    return json_pack("{s:s}", "$ref", ref);
}

static json_t *rest_param_schema(rest_ptype type)
{
    switch (type) {
    case REST_P_LIMIT:
        return json_pack("{s:s, s:i, s:i, s:i}", "type", "integer", "minimum", 1, "maximum", 1000,
                         "default", 100);
    case REST_P_CURSOR:
    case REST_P_TEXT:
        return json_pack("{s:s}", "type", "string");
    case REST_P_DATE:
        return rest_ref("schemas", "Dato");
    case REST_P_STATUS:
        return json_pack("{s:s, s:[s,s,s]}", "type", "string", "enum", "kommende", "aktiv",
                         "nedlagt");
    case REST_P_CODE:
        return json_pack("{s:s, s:i}", "type", "integer", "minimum", 1);
    case REST_P_NUMMER:
        return rest_ref("schemas", "Nummer");
    case REST_P_PNUMMER:
        return json_pack("{s:s, s:s}", "type", "string", "pattern", "^[0-9]{10}$");
    case REST_P_CVR:
        return json_pack("{s:s, s:s}", "type", "string", "pattern", "^[0-9]{8}$");
    case REST_P_SEQ:
        return json_pack("{s:s, s:i, s:i}", "type", "integer", "minimum", 0, "default", 0);
    case REST_P_MAXANTAL:
        return json_pack("{s:s, s:i, s:i, s:i}", "type", "integer", "minimum", 1, "maximum", 10000,
                         "default", 1000);
    }
    return json_object();
}

static json_t *rest_header_param(const char *name, const char *doc)
{
    return json_pack("{s:s, s:s, s:b, s:s, s:{s:s}}", "name", name, "in", "header", "required", 0,
                     "description", doc, "schema", "type", "string");
}

/* The parameters of a route: {nummer}, its query parameters, and the
 * headers its kind reads. */
static json_t *rest_parameters(const rest_route *route)
{
    json_t *list = json_array();
    if (strstr(route->pattern, "{nummer}"))
        json_array_append_new(list,
                              json_pack("{s:s, s:s, s:b, s:o}", "name", "nummer", "in", "path",
                                        "required", 1, "schema", rest_ref("schemas", "Nummer")));
    for (const rest_param *p = route->params; p && p->name; p++)
        json_array_append_new(list, json_pack("{s:s, s:s, s:b, s:s, s:o}", "name", p->name, "in",
                                              "query", "required", 0, "description", p->doc,
                                              "schema", rest_param_schema(p->type)));
    if (route->kind >= REST_CREATE && route->kind <= REST_TRANSACTION)
        json_array_append_new(
            list,
            json_pack("{s:s, s:s, s:b, s:s, s:{s:s}}", "name", "kontroller", "in", "query",
                      "required", 0, "description",
                      "true: kontrollér alene (tørkørsel): alle regler og samme svar, men intet "
                      "gemmes, intet nummer bruges og ingen hændelse laves (svaret bærer "
                      "Kontrolleret: true).",
                      "schema", "type", "boolean"));
    switch (route->kind) {
    case REST_TRANSACTION:
    case REST_CREATE:
        json_array_append_new(
            list, rest_header_param("Idempotency-Key",
                                    "Samme nøgle og samme krop giver det første svar igen "
                                    "(pr. klient, i 24 timer); en anden krop giver 422 "
                                    "IDEMPOTENS_KONFLIKT."));
        break;
    case REST_UPDATE:
    case REST_CLOSE:
    case REST_DELETE:
    case REST_MOVE:
    case REST_REOPEN:
        json_array_append_new(list,
                              rest_header_param("If-Match", "\"<version>\": ændr kun denne version "
                                                            "(ellers 412 VERSIONSKONFLIKT)."));
        break;
    case REST_GET:
    case REST_DAGTILBUD:
        json_array_append_new(list, rest_header_param("If-None-Match",
                                                      "\"<version>\": 304 når posten ikke er "
                                                      "ændret."));
        break;
    default:
        break;
    }
    return list;
}

static json_t *rest_json_content(json_t *schema)
{
    return json_pack("{s:{s:o}}", "application/json", "schema", schema);
}

/* The request body of a write route; NULL for none. */
static json_t *rest_request_body(const rest_route *route)
{
    const char *schema = rest_schema_name(route->level);
    switch (route->kind) {
    case REST_CREATE:
        return json_pack("{s:b, s:o}", "required", 1, "content",
                         rest_json_content(rest_ref("schemas", schema)));
    case REST_UPDATE:
        return json_pack("{s:b, s:s, s:{s:{s:o}, s:{s:o}}}", "required", 1, "description",
                         "En merge patch (RFC 7396) af posten: kun de felter der ændres.",
                         "content", "application/json", "schema", rest_ref("schemas", schema),
                         "application/merge-patch+json", "schema", rest_ref("schemas", schema));
    case REST_CLOSE:
        return json_pack("{s:b, s:o}", "required", 1, "content",
                         rest_json_content(rest_ref("schemas", "Nedlaeg")));
    case REST_REOPEN:
        return json_pack("{s:b, s:s, s:o}", "required", 1, "description", "{}", "content",
                         rest_json_content(json_pack("{s:s, s:{}, s:b}", "type", "object",
                                                     "properties", "additionalProperties", 0)));
    case REST_TRANSACTION:
        return json_pack("{s:b, s:o}", "required", 1, "content",
                         rest_json_content(rest_ref("schemas", "Transaktion")));
    case REST_MOVE:
        return json_pack(
            "{s:b, s:o}", "required", 1, "content",
            rest_json_content(rest_ref("schemas", route->level == DTR_LEVEL_ANVISNINGSENHED
                                                      ? "FlytAnvisningsenhed"
                                                      : "FlytAlternativAdresse")));
    default:
        return NULL;
    }
}

/* The schema of a route's successful answer. */
static json_t *rest_success_schema(const rest_route *route)
{
    static const char *const pages[] = {"SideDaginstitutioner", "SideAnvisningsenheder",
                                        "SideAlternativeAdresser"};
    switch (route->kind) {
    case REST_OPENAPI:
        return json_pack("{s:s, s:[s,s,s,s], s:{s:{s:s, s:s}, s:{s:s}, s:{s:s}, s:{s:s}}}", "type",
                         "object", "required", "openapi", "info", "paths", "components",
                         "properties", "openapi", "type", "string", "const", "3.1.0", "info",
                         "type", "object", "paths", "type", "object", "components", "type",
                         "object");
    case REST_CODES:
        return json_pack("{s:s, s:o}", "type", "array", "items", rest_ref("schemas", "Kode"));
    case REST_LIST:
        return rest_ref("schemas", pages[route->level]);
    case REST_HISTORY:
        return json_pack("{s:s, s:o}", "type", "array", "items", rest_ref("schemas", "Version"));
    case REST_DAGTILBUD:
        return rest_ref("schemas", "Dagtilbud");
    case REST_LATEST:
        return rest_ref("schemas", "Seneste");
    case REST_EVENTS:
        return json_pack("{s:s, s:o}", "type", "array", "items", rest_ref("schemas", "Haendelse"));
    case REST_UDTRAEK:
        return rest_ref("schemas", "Udtraek");
    case REST_TRANSACTION:
        return rest_ref("schemas", "TransaktionSvar");
    default:
        return rest_ref("schemas", rest_schema_name(route->level));
    }
}

static json_t *rest_etag_header(void)
{
    return json_pack("{s:s, s:{s:s}}", "description", "\"<version>\": postens version.", "schema",
                     "type", "string");
}

static json_t *rest_responses(const rest_route *route)
{
    json_t *responses = json_object();
    json_t *ok = json_pack("{s:s, s:o}", "description", "OK", "content",
                           rest_json_content(rest_success_schema(route)));
    switch (route->kind) {
    case REST_CREATE:
        json_object_set_new(ok, "description", json_string("Oprettet (og gemt på disk)"));
        json_object_set_new(ok, "headers",
                            json_pack("{s:o, s:{s:s, s:{s:s}}}", "ETag", rest_etag_header(),
                                      "Location", "description", "Den oprettede posts sti.",
                                      "schema", "type", "string"));
        json_object_set_new(responses, "201", ok);
        break;
    case REST_DELETE:
        json_decref(ok);
        json_object_set_new(responses, "204",
                            json_pack("{s:s}", "description", "Slettet (og gemt på disk)"));
        break;
    case REST_GET:
    case REST_DAGTILBUD:
        json_object_set_new(ok, "headers", json_pack("{s:o}", "ETag", rest_etag_header()));
        json_object_set_new(responses, "200", ok);
        json_object_set_new(responses, "304",
                            json_pack("{s:s}", "description", "Ikke ændret (If-None-Match)"));
        break;
    case REST_UPDATE:
    case REST_CLOSE:
    case REST_MOVE:
    case REST_REOPEN:
        json_object_set_new(ok, "headers", json_pack("{s:o}", "ETag", rest_etag_header()));
        json_object_set_new(responses, "200", ok);
        break;
    default:
        json_object_set_new(responses, "200", ok);
        break;
    }
    for (const int *s = rest_errors_of(route->kind); *s; s++) {
        char name[8];
        snprintf(name, sizeof name, "%d", *s);
        char ref[8];
        snprintf(ref, sizeof ref, "E%d", *s);
        json_object_set_new(responses, name, rest_ref("responses", ref));
    }
    return responses;
}

/* "post /v1/anvisningsenheder/{nummer}/flyt" -> "post_anvisningsenheder_nummer_flyt" */
static void rest_operation_id(const rest_route *route, char *out, size_t size)
{
    size_t o = 0;
    for (const char *m = route->method; *m && o + 1 < size; m++)
        out[o++] = (char)(*m >= 'A' && *m <= 'Z' ? *m + 32 : *m);
    const char *p = route->pattern + 3; /* past "/v1" */
    bool sep = true;
    for (; *p && o + 1 < size; p++) {
        char ch = *p;
        bool word =
            (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
        if (!word) {
            sep = true;
            continue;
        }
        if (sep) out[o++] = '_';
        sep = false;
        if (o + 1 < size) out[o++] = ch;
    }
    out[o] = '\0';
}

static json_t *rest_operation(const rest_route *route)
{
    char id[96];
    rest_operation_id(route, id, sizeof id);
    bool write = strcmp(route->method, "GET") != 0;
    const char *tag = route->kind == REST_CODES                                  ? "kodetabeller"
                      : route->kind == REST_LATEST || route->kind == REST_EVENTS ? "haendelser"
                      : route->kind == REST_OPENAPI || route->kind == REST_UDTRAEK ||
                              route->kind == REST_DAGTILBUD
                          ? "register"
                          : rest_collection(route->level);
    json_t *op = json_pack("{s:s, s:s, s:[s], s:o, s:o}", "operationId", id, "summary",
                           route->summary, "tags", tag, "parameters", rest_parameters(route),
                           "responses", rest_responses(route));
    json_t *body = rest_request_body(route);
    if (body) json_object_set_new(op, "requestBody", body);
    if (route->kind == REST_UDTRAEK)
        json_object_set_new(
            op, "description",
            json_string("Et udtræk holder en strøm og et læse-snapshot, til det er læst færdigt. "
                        "Pr. klientadresse højst limits.max_streams_per_client strømme og "
                        "limits.max_snapshots_per_client snapshots ad gangen (standard 4 og 4): "
                        "429 FOR_MANGE med Retry-After derover; i alt højst limits.max_streams "
                        "og limits.max_snapshots: 503 IKKE_KLAR med Retry-After."));
    /* reads are open when public_read is on; writes always need a client */
    json_object_set_new(op, "security",
                        write ? json_pack("[{s:[]}]", "basicAuth")
                              : json_pack("[{}, {s:[]}]", "basicAuth"));
    return op;
}

/* ---- the document ----------------------------------------------------------------------- */

static json_t *rest_error_responses(void)
{
    json_t *responses = json_object();
    size_t n = sizeof rest_error_codes / sizeof rest_error_codes[0];
    for (size_t i = 0; i < n; i++) {
        const rest_status_codes *e = &rest_error_codes[i];
        json_t *codes = json_array();
        char desc[512];
        size_t len =
            (size_t)snprintf(desc, sizeof desc, "%s. fejl[].kode:", rest_reason(e->status));
        for (size_t k = 0; k < 15 && e->codes[k]; k++) {
            json_array_append_new(codes, json_string(e->codes[k]));
            if (len < sizeof desc)
                len += (size_t)snprintf(desc + len, sizeof desc - len, "%s %s", k ? "," : "",
                                        e->codes[k]);
        }
        json_t *resp = json_pack("{s:s, s:{s:{s:o}}, s:o}", "description", desc, "content",
                                 "application/problem+json", "schema",
                                 rest_ref("schemas", "Problem"), "x-fejlkoder", codes);
        if (e->status == 401)
            json_object_set_new(resp, "headers",
                                json_pack("{s:{s:s, s:{s:s}}}", "WWW-Authenticate", "description",
                                          "Basic realm=\"dtr\"", "schema", "type", "string"));
        char name[8];
        snprintf(name, sizeof name, "E%d", e->status);
        json_object_set_new(responses, name, resp);
    }
    return responses;
}

/* Every error code, for the Fejl schema's enum. */
static json_t *rest_all_codes(void)
{
    json_t *all = json_array();
    size_t n = sizeof rest_error_codes / sizeof rest_error_codes[0];
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < 15 && rest_error_codes[i].codes[k]; k++) {
            bool seen = false;
            size_t j;
            json_t *c;
            json_array_foreach(all, j, c) seen =
                seen || strcmp(json_string_value(c), rest_error_codes[i].codes[k]) == 0;
            if (!seen) json_array_append_new(all, json_string(rest_error_codes[i].codes[k]));
        }
    }
    return all;
}

json_t *rest_openapi_document(void)
{
    json_error_t error;
    json_t *schemas = json_loads(rest_schemas, 0, &error);
    if (!schemas) return NULL;
    json_object_set_new(json_object_get(json_object_get(schemas, "Fejl"), "properties"), "kode",
                        json_pack("{s:s, s:o}", "type", "string", "enum", rest_all_codes()));
    json_t *paths = json_object();
    for (size_t i = 0; i < rest_route_count; i++) {
        const rest_route *route = &rest_routes[i];
        json_t *item = json_object_get(paths, route->pattern);
        if (!item) {
            item = json_object();
            json_object_set_new(paths, route->pattern, item);
        }
        char method[8];
        size_t k = 0;
        for (; route->method[k] && k + 1 < sizeof method; k++)
            method[k] = (char)(route->method[k] + 32);
        method[k] = '\0';
        json_object_set_new(item, method, rest_operation(route));
    }
    return json_pack(
        "{s:s, s:{s:s, s:s, s:s}, s:o, s:{s:o, s:o, s:{s:{s:s, s:s}}}}", "openapi", "3.1.0", "info",
        "title", "Dagtilbudsregisteret", "version", "1.0.0", "description",
        "REST API v1 for Dagtilbudsregisteret: dagtilbud på tre niveauer (daginstitution, "
        "anvisningsenhed, alternativ adresse), deres historik og hændelser; desuden alt "
        "andet serveren tilbyder: de øvrige plugins' ruter (eksport, Unilogin, "
        "Dagtilbudsportalen, statistik) og serverens egne (/healthz, /readyz, /metrics). Fejl "
        "er application/problem+json med en liste af fejl (kode, felt, tekst).",
        "paths", paths, "components", "schemas", schemas, "responses", rest_error_responses(),
        "securitySchemes", "basicAuth", "type", "http", "scheme", "basic");
}

int rest_openapi_build(rest *r)
{
    r->openapi_own = rest_openapi_document();
    return r->openapi_own ? 0 : -1;
}

size_t rest_openapi_merge(json_t *doc, const json_t *paths)
{
    json_t *own = json_object_get(doc, "paths");
    size_t left_out = 0;
    const char *path;
    json_t *item;
    json_object_foreach((json_t *)paths, path, item)
    {
        json_t *into = json_object_get(own, path);
        if (!into) {
            into = json_object();
            json_object_set_new(own, path, into);
        }
        const char *method;
        json_t *op;
        json_object_foreach(item, method, op)
        {
            if (json_object_get(into, method))
                left_out++;
            else
                json_object_set(into, method, op);
        }
    }
    return left_out;
}

/* Whether the host has openapi_paths (ABI 1.4; an older host's table ends
 * before it). */
static bool rest_host_has_paths(const dtr_host_api *api)
{
    return DTR_HOST_HAS(api, openapi_paths) && api->openapi_paths;
}

const rest_bytes *rest_openapi_bytes(rest *r)
{
    if (r->openapi.data) return &r->openapi;
    json_t *doc = r->openapi_own;
    if (!doc) return NULL;
    json_t *others = rest_host_has_paths(r->api) ? r->api->openapi_paths(r->self) : NULL;
    size_t left_out = others ? rest_openapi_merge(doc, others) : 0;
    json_decref(others);
    if (left_out)
        r->api->log(r->self, DTR_LOG_WARN,
                    "openapi.json: %zu described operation(s) of other plugins name a route of "
                    "this plugin; its own description was kept",
                    left_out);
    char *text = json_dumps(doc, JSON_COMPACT);
    if (!text) return NULL; /* the merge is done again at the next request */
    json_decref(doc);
    r->openapi_own = NULL;
    r->openapi.data = text;
    r->openapi.len = strlen(text);
    return &r->openapi;
}
