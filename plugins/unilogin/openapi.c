/*
 * openapi.c -- the OpenAPI 3.1 description of the unilogin plugin's two
 * routes for the server's GET /v1/openapi.json (ABI 1.4, openapi_describe),
 * written out as JSON text. A row of the list (unilogin.h) has one schema,
 * used by both answers; error answers $ref the shared components of the
 * rest plugin's document. Loop thread (init).
 */
#include <stddef.h>

#include "../common/describe.h"
#include "unilogin.h"

/* One row of the list, as rows.c makes it. */
#define UNI_ROW_SCHEMA                                                                             \
    "{\"type\": \"object\","                                                                       \
    " \"description\": \"Et nummer brugere kan knyttes til: en anvisningsenhed eller alternativ "  \
    "adresse i virkning i dag med både cvrNummer og pNummer.\","                                  \
    " \"required\": [\"institutionsnummer\", \"navn\", \"niveau\", \"daginstitutionsNummer\","     \
    "              \"anvisningsenhedsNummer\", \"kommuneKode\", \"instType3\", \"cvrNummer\", "    \
    "\"pNummer\","                                                                                 \
    "              \"adresse\"],"                                                                  \
    " \"properties\": {"                                                                           \
    "   \"institutionsnummer\": {\"$ref\": \"#/components/schemas/Nummer\"},"                      \
    "   \"navn\": {\"type\": \"string\"},"                                                         \
    "   \"niveau\": {\"type\": \"string\", \"enum\": [\"anvisningsenhed\", "                       \
    "\"alternativAdresse\"]},"                                                                     \
    "   \"daginstitutionsNummer\": {\"type\": [\"string\", \"null\"], \"pattern\": "               \
    "\"^[A-Z][0-9]{5}$\"},"                                                                        \
    "   \"anvisningsenhedsNummer\": {\"type\": [\"string\", \"null\"], \"pattern\": "              \
    "\"^[A-Z][0-9]{5}$\","                                                                         \
    "     \"description\": \"En anvisningsenheds eget nummer; en alternativ adresses "             \
    "anvisningsenhed.\"},"                                                                         \
    "   \"kommuneKode\": {\"type\": [\"integer\", \"null\"], \"description\": \"Adressens "        \
    "kommunekode.\"},"                                                                             \
    "   \"instType3\": {\"type\": [\"integer\", \"null\"],"                                        \
    "     \"description\": \"En alternativ adresse har sin anvisningsenheds.\"},"                  \
    "   \"cvrNummer\": {\"type\": \"string\", \"pattern\": \"^[0-9]{8}$\"},"                       \
    "   \"pNummer\": {\"type\": \"string\", \"pattern\": \"^[0-9]{10}$\"},"                        \
    "   \"adresse\": {\"$ref\": \"#/components/schemas/Adresse\"}}}"

static const char uni_openapi_text[] =
    "{\"/v1/unilogin/institutioner\": {\"get\": {"
    "  \"operationId\": \"get_unilogin_institutioner\","
    "  \"summary\": \"Hele listen over numre brugere kan knyttes til\","
    "  \"description\": \"Anvisningsenheder og alternative adresser i virkning i dag med både "
    "cvrNummer og pNummer, ordnet efter institutionsnummer, som registeret var ved sekvensnummer "
    "S.\","
    "  \"tags\": [\"unilogin\"],"
    "  \"security\": [{}, {\"basicAuth\": []}],"
    "  \"responses\": {"
    "    \"200\": {\"description\": \"Listen\","
    "      \"content\": {\"application/json\": {\"schema\": {\"type\": \"object\","
    "        \"required\": [\"sekvensnummer\", \"institutioner\"],"
    "        \"properties\": {"
    "          \"sekvensnummer\": {\"type\": \"integer\", \"minimum\": 0,"
    "            \"description\": \"Listen er registeret ved dette sekvensnummer.\"},"
    "          \"institutioner\": {\"type\": \"array\", \"items\": " UNI_ROW_SCHEMA "}}}}}},"
    "    \"401\": {\"$ref\": \"#/components/responses/E401\"},"
    "    \"503\": {\"$ref\": \"#/components/responses/E503\"}}}},"
    " \"/v1/unilogin/aendringer\": {\"get\": {"
    "  \"operationId\": \"get_unilogin_aendringer\","
    "  \"summary\": \"Ændringerne i listen efter et sekvensnummer\","
    "  \"description\": \"Fra hændelserne efter efter=S til det nyeste sekvensnummer T: hvad der "
    "skal tilføjes eller opdateres (aendret, rækker som i listen) og de numre der er gået ud af "
    "listen (fjernet: nedlagt, slettet, mistet CVR- eller P-nummer).\","
    "  \"tags\": [\"unilogin\"],"
    "  \"parameters\": ["
    "    {\"name\": \"efter\", \"in\": \"query\", \"required\": true,"
    "     \"description\": \"Det sidste sekvensnummer klienten kender (fra listen eller forrige "
    "svars til); højst det nyeste.\","
    "     \"schema\": {\"type\": \"integer\", \"minimum\": 0}}],"
    "  \"security\": [{}, {\"basicAuth\": []}],"
    "  \"responses\": {"
    "    \"200\": {\"description\": \"Ændringerne\","
    "      \"content\": {\"application/json\": {\"schema\": {\"type\": \"object\","
    "        \"required\": [\"fra\", \"til\", \"aendret\", \"fjernet\"],"
    "        \"properties\": {"
    "          \"fra\": {\"type\": \"integer\", \"description\": \"efter + 1\"},"
    "          \"til\": {\"type\": \"integer\", \"description\": \"Det nyeste sekvensnummer T.\"},"
    "          \"aendret\": {\"type\": \"array\", \"items\": " UNI_ROW_SCHEMA "},"
    "          \"fjernet\": {\"type\": \"array\", \"items\": {\"$ref\": "
    "\"#/components/schemas/Nummer\"}}}}}}},"
    "    \"400\": {\"$ref\": \"#/components/responses/E400\"},"
    "    \"401\": {\"$ref\": \"#/components/responses/E401\"},"
    "    \"503\": {\"$ref\": \"#/components/responses/E503\"}}}}}";

void uni_openapi_describe(const dtr_host_api *api, dtr_plugin *self)
{
    describe_routes_text(api, self, uni_openapi_text);
}
