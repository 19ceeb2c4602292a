/*
 * openapi.c -- the soap plugin's routes in GET /v1/openapi.json: non-JSON
 * operations (SOAP envelopes in and out, the WSDLs and the XSD), each
 * pointing at the WSDL that describes the operations inside the envelope.
 */
#include "../common/describe.h"
#include "soap.h"

#define SOAP_BODY                                                                                  \
    "\"requestBody\": {\"required\": true, \"description\": \"Et SOAP-kuvert (document/literal "   \
    "wrapped); operationerne og deres typer står i WSDL'en.\", \"content\": {"                    \
    "\"text/xml\": {\"schema\": {\"type\": \"string\", \"description\": \"SOAP 1.1 (med "          \
    "SOAPAction-header)\"}}, \"application/soap+xml\": {\"schema\": {\"type\": \"string\", "       \
    "\"description\": \"SOAP 1.2\"}}}}"

#define SOAP_RESPONSES                                                                             \
    "\"responses\": {"                                                                             \
    "\"200\": {\"description\": \"Svaret i et SOAP-kuvert (ImportSvar med status OK eller FEJL, "  \
    "eller eksportens typede svar)\", \"content\": {\"text/xml\": {\"schema\": {\"type\": "        \
    "\"string\"}}, \"application/soap+xml\": {\"schema\": {\"type\": \"string\"}}}},"              \
    "\"400\": {\"description\": \"SOAP 1.2-fault env:Sender (ødelagt kuvert, ukendt operation, "  \
    "forkert parametertype); detail bærer fejl-listen\"},"                                        \
    "\"401\": {\"description\": \"Mangler eller forkerte legitimationsoplysninger "                \
    "(WWW-Authenticate: Basic), som fault\"},"                                                     \
    "\"415\": {\"description\": \"Content-Type er hverken text/xml eller "                         \
    "application/soap+xml\"},"                                                                     \
    "\"500\": {\"description\": \"SOAP 1.1-fault (soap:Client for kaldets fejl, soap:Server "      \
    "for serverens)\"},"                                                                           \
    "\"503\": {\"description\": \"Registeret kan ikke læses eller skrives lige nu (fault)\"}}"

#define GET_XML(what)                                                                              \
    "\"responses\": {\"200\": {\"description\": \"" what "\", \"content\": {\"text/xml\": "        \
    "{\"schema\": {\"type\": \"string\"}}}}, \"401\": {\"$ref\": "                                 \
    "\"#/components/responses/E401\"}}"

#define WSDL_PARAM                                                                                 \
    "\"parameters\": [{\"name\": \"wsdl\", \"in\": \"query\", \"required\": false, "               \
    "\"allowEmptyValue\": true, \"schema\": {\"type\": \"string\"}, \"description\": "             \
    "\"?wsdl (som .NET-tjenester); WSDL'en gives også uden\"}]"

#define WSDL_TEXT "WSDL 1.1 med SOAP 1.1- og 1.2-bindinger"
#define OPEN "\"security\": [{}, {\"basicAuth\": []}], "

// clang-format off
static const char paths[] =
    "{\"/soap/ImportService\": {"
      "\"post\": {\"operationId\": \"soap_import\", \"tags\": [\"soap\"], "
        "\"summary\": \"ImportService (SOAP): indberetning til registeret\", "
        "\"description\": \"Operationer: HelloWorld, GetXMLSchema, ValidateXmlAgainstSchema, "
        "Insert/Update/Delete af Daginstitution, AnvisningsEnhed og AlternativAdresse, "
        "MoveAnvisningsEnhed, MoveAlternativAdresse. Kræver altid en klient. Se "
        "/soap/ImportService?wsdl.\", \"security\": [{\"basicAuth\": []}], "
        SOAP_BODY ", " SOAP_RESPONSES "},"
      "\"get\": {\"operationId\": \"soap_import_wsdl\", \"tags\": [\"soap\"], " OPEN
        "\"summary\": \"ImportService's WSDL 1.1\", " WSDL_PARAM ", " GET_XML(WSDL_TEXT) "}},"
    "\"/soap/EksportService\": {"
      "\"post\": {\"operationId\": \"soap_eksport\", \"tags\": [\"soap\"], " OPEN
        "\"summary\": \"EksportService (SOAP): udtræk af registeret\", "
        "\"description\": \"Typede svar med CSV-eksportens kolonnenavne og _Tekst-tekster; "
        "GetAll* streames fra ét øjebliksbillede. Åben som /v1's læsninger (public_read). Se "
        "/soap/EksportService?wsdl.\", " SOAP_BODY ", " SOAP_RESPONSES "},"
      "\"get\": {\"operationId\": \"soap_eksport_wsdl\", \"tags\": [\"soap\"], " OPEN
        "\"summary\": \"EksportService's WSDL 1.1\", " WSDL_PARAM ", " GET_XML(WSDL_TEXT) "}},"
    "\"/soap/dagtilbud.xsd\": {"
      "\"get\": {\"operationId\": \"soap_xsd\", \"tags\": [\"soap\"], " OPEN
        "\"summary\": \"XSD'en for xmlData, svar og operationer (det samme som GetXMLSchema)\", "
        GET_XML("XML Schema") "}}}";
// clang-format on

void soap_openapi_describe(const dtr_host_api *api, dtr_plugin *self)
{
    describe_routes_text(api, self, paths);
}
