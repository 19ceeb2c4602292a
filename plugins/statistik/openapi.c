/*
 * openapi.c -- the OpenAPI 3.1 description of the statistik plugin's two
 * routes for the server's GET /v1/openapi.json (ABI 1.4, openapi_describe),
 * written out as JSON text. Error answers $ref the shared components of the
 * rest plugin's document. Loop thread (init).
 */
#include <stddef.h>

#include "statistik.h"

static const char stat_openapi_text[] =
    "{\"/v1/statistik/optaelling\": {\"get\": {"
    "  \"operationId\": \"get_statistik_optaelling\","
    "  \"summary\": \"Optælling af anvisningsenheder i virkning på en dag "
    "(Dagtilbudsstatistikken)\","
    "  \"description\": \"Anvisningsenhederne i virkning på dato, hver i den version der var i "
    "virkning da, grupperet efter de felter grupper nævner (en anvisningsenheds ejerformKode er "
    "daginstitutionens). Med Accept: text/csv: semikolonsepareret, UTF-8 med BOM, en overskrift "
    "med gruppefelterne og antal.\","
    "  \"tags\": [\"statistik\"],"
    "  \"parameters\": ["
    "    {\"name\": \"dato\", \"in\": \"query\", \"required\": false,"
    "     \"description\": \"Dagen (standard: seneste 1. oktober, ikke efter i dag).\","
    "     \"schema\": {\"$ref\": \"#/components/schemas/Dato\"}},"
    "    {\"name\": \"grupper\", \"in\": \"query\", \"required\": false,"
    "     \"description\": \"Kommasepareret liste af kommuneKode, instType3 og ejerformKode, hver "
    "højst én gang, i den ønskede orden (standard: alle tre; tom: ingen gruppering, én række).\","
    "     \"schema\": {\"type\": \"string\","
    "                \"pattern\": "
    "\"^((kommuneKode|instType3|ejerformKode)(,(kommuneKode|instType3|ejerformKode))*)?$\"}},"
    "    {\"name\": \"Accept\", \"in\": \"header\", \"required\": false,"
    "     \"description\": \"text/csv giver CSV; ellers JSON.\","
    "     \"schema\": {\"type\": \"string\"}}],"
    "  \"security\": [{}, {\"basicAuth\": []}],"
    "  \"responses\": {"
    "    \"200\": {\"description\": \"Optællingen\","
    "      \"content\": {"
    "        \"application/json\": {\"schema\": {\"type\": \"object\","
    "          \"required\": [\"dato\", \"raekker\", \"total\"],"
    "          \"properties\": {"
    "            \"dato\": {\"$ref\": \"#/components/schemas/Dato\"},"
    "            \"raekker\": {\"type\": \"array\", \"items\": {\"type\": \"object\", "
    "\"required\": [\"antal\"],"
    "              \"description\": \"Én række pr. kombination af gruppefelternes værdier, ordnet "
    "efter dem; kun de felter grupper nævner.\","
    "              \"properties\": {"
    "                \"kommuneKode\": {\"type\": [\"integer\", \"null\"]},"
    "                \"instType3\": {\"type\": [\"integer\", \"null\"]},"
    "                \"ejerformKode\": {\"type\": [\"integer\", \"null\"],"
    "                  \"description\": \"null når daginstitutionen ikke var i virkning på "
    "dagen.\"},"
    "                \"antal\": {\"type\": \"integer\", \"minimum\": 1}}}},"
    "            \"total\": {\"type\": \"integer\", \"minimum\": 0,"
    "              \"description\": \"Alle anvisningsenheder i virkning på dagen.\"}}}},"
    "        \"text/csv\": {\"schema\": {\"type\": \"string\", \"contentMediaType\": "
    "\"text/csv\"}}}},"
    "    \"400\": {\"$ref\": \"#/components/responses/E400\"},"
    "    \"401\": {\"$ref\": \"#/components/responses/E401\"},"
    "    \"503\": {\"$ref\": \"#/components/responses/E503\"}}}},"
    " \"/v1/statistik/enheder\": {\"get\": {"
    "  \"operationId\": \"get_statistik_enheder\","
    "  \"summary\": \"Anvisningsenhederne i virkning på en dag: nøglelisten statistikken kobler "
    "på\","
    "  \"description\": \"Hver anvisningsenhed i virkning på dato med nummer, "
    "daginstitutionsNummer, kommuneKode, instType3 og ejerformKode, ordnet efter nummer. Med "
    "Accept: text/csv: de samme kolonner som CSV.\","
    "  \"tags\": [\"statistik\"],"
    "  \"parameters\": ["
    "    {\"name\": \"dato\", \"in\": \"query\", \"required\": false,"
    "     \"description\": \"Dagen (standard: seneste 1. oktober, ikke efter i dag).\","
    "     \"schema\": {\"$ref\": \"#/components/schemas/Dato\"}},"
    "    {\"name\": \"Accept\", \"in\": \"header\", \"required\": false,"
    "     \"description\": \"text/csv giver CSV; ellers JSON.\","
    "     \"schema\": {\"type\": \"string\"}}],"
    "  \"security\": [{}, {\"basicAuth\": []}],"
    "  \"responses\": {"
    "    \"200\": {\"description\": \"Enhederne\","
    "      \"content\": {"
    "        \"application/json\": {\"schema\": {\"type\": \"object\","
    "          \"required\": [\"dato\", \"enheder\"],"
    "          \"properties\": {"
    "            \"dato\": {\"$ref\": \"#/components/schemas/Dato\"},"
    "            \"enheder\": {\"type\": \"array\", \"items\": {\"type\": \"object\","
    "              \"required\": [\"nummer\", \"daginstitutionsNummer\", \"kommuneKode\", "
    "\"instType3\","
    "                           \"ejerformKode\"],"
    "              \"properties\": {"
    "                \"nummer\": {\"$ref\": \"#/components/schemas/Nummer\"},"
    "                \"daginstitutionsNummer\": {\"$ref\": \"#/components/schemas/Nummer\"},"
    "                \"kommuneKode\": {\"type\": [\"integer\", \"null\"]},"
    "                \"instType3\": {\"type\": [\"integer\", \"null\"]},"
    "                \"ejerformKode\": {\"type\": [\"integer\", \"null\"],"
    "                  \"description\": \"null når daginstitutionen ikke var i virkning på "
    "dagen.\"}}}}}}},"
    "        \"text/csv\": {\"schema\": {\"type\": \"string\", \"contentMediaType\": "
    "\"text/csv\"}}}},"
    "    \"400\": {\"$ref\": \"#/components/responses/E400\"},"
    "    \"401\": {\"$ref\": \"#/components/responses/E401\"},"
    "    \"503\": {\"$ref\": \"#/components/responses/E503\"}}}}}";

void stat_openapi_describe(const dtr_host_api *api, dtr_plugin *self)
{
    if (!DTR_HOST_HAS(api, openapi_describe) || !api->openapi_describe)
        return; /* a host older than ABI 1.4 serves no description */
    json_error_t error;
    json_t *paths = json_loads(stat_openapi_text, 0, &error);
    if (!paths) {
        api->log(self, DTR_LOG_ERROR, "openapi text, line %d: %s", error.line, error.text);
        return;
    }
    char err[512];
    if (api->openapi_describe(self, paths, err, sizeof err) != DTR_OK)
        api->log(self, DTR_LOG_WARN, "the routes are not described: %s", err);
    json_decref(paths);
}
