/*
 * openapi.c -- the OpenAPI 3.1 description of GET /v1/eksport/{fil} for the
 * server's GET /v1/openapi.json (ABI 1.4, openapi_describe). The operation is
 * written out as JSON text; the header row of each file is added from the
 * layout's own column tables (layout.c), so the two cannot drift apart.
 * Error answers $ref the shared components of the rest plugin's document.
 * Loop thread (init).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/describe.h"
#include "csvp.h"

static const char csvp_openapi_text[] =
    "{\"/v1/eksport/{fil}\": {\"get\": {"
    "  \"operationId\": \"get_eksport_fil\","
    "  \"summary\": \"Én fil af registerets CSV-eksport, streamet\","
    "  \"description\": \"De samme bytes som `dtr export` skriver: UTF-8 med BOM, semikolon mellem "
    "felterne, CRLF efter hver række, først en række med kolonnernes navne. Rækkerne er ordnet "
    "efter daginstitutionsNummer og derefter rækkens eget nummer, alle fra samme sekvensnummer. "
    "Svaret streames (chunked); kan registeret ikke læses midt i filen, afbrydes den (ingen "
    "afsluttende chunk).\","
    "  \"tags\": [\"eksport\"],"
    "  \"parameters\": ["
    "    {\"name\": \"fil\", \"in\": \"path\", \"required\": true, \"description\": \"Filen af "
    "eksporten.\","
    "     \"schema\": {\"type\": \"string\","
    "                \"enum\": [\"daginstitution.csv\", \"anvisningsenhed.csv\", "
    "\"alternativadresse.csv\"]}}],"
    "  \"security\": [{}, {\"basicAuth\": []}],"
    "  \"responses\": {"
    "    \"200\": {\"description\": \"Filen\","
    "      \"headers\": {\"Content-Disposition\": {\"description\": \"attachment; "
    "filename=\\\"<fil>\\\"\","
    "                                          \"schema\": {\"type\": \"string\"}}},"
    "      \"content\": {\"text/csv\": {\"schema\": {\"type\": \"string\", \"contentMediaType\": "
    "\"text/csv\"}}}},"
    "    \"401\": {\"$ref\": \"#/components/responses/E401\"},"
    "    \"404\": {\"$ref\": \"#/components/responses/E404\"},"
    "    \"503\": {\"$ref\": \"#/components/responses/E503\"}}}}}";

/* "Kolonner: daginstitution.csv: a;b;...; anvisningsenhed.csv: ...", the
 * header rows of the three files, for the answer's schema. */
static json_t *csvp_openapi_columns(void)
{
    char text[2048];
    size_t len = (size_t)snprintf(text, sizeof text, "Overskriftsrækken (kolonnerne).");
    for (int level = 0; level < CSVP_LEVELS && len < sizeof text; level++) {
        const csvp_layout *layout = csvp_layout_of(level);
        len += (size_t)snprintf(text + len, sizeof text - len, " %s:", layout->file_name);
        for (size_t i = 0; i < layout->n_columns && len < sizeof text; i++)
            len += (size_t)snprintf(text + len, sizeof text - len, "%s%s", i ? ";" : " ",
                                    layout->columns[i].name);
        if (len < sizeof text) len += (size_t)snprintf(text + len, sizeof text - len, ".");
    }
    return json_string(text);
}

void csvp_openapi_describe(const csvp_state *st)
{
    json_error_t error;
    json_t *paths = json_loads(csvp_openapi_text, 0, &error);
    if (!paths) {
        st->api->log(st->self, DTR_LOG_ERROR, "openapi text, line %d: %s", error.line, error.text);
        return;
    }
    /* the text/csv answer's columns come from the layout itself */
    json_t *op = json_object_get(json_object_get(paths, "/v1/eksport/{fil}"), "get");
    json_t *csv = json_object_get(
        json_object_get(json_object_get(json_object_get(op, "responses"), "200"), "content"),
        "text/csv");
    json_object_set_new(json_object_get(csv, "schema"), "description", csvp_openapi_columns());
    describe_routes(st->api, st->self, paths);
    json_decref(paths);
}
