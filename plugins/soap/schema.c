/*
 * schema.c -- the one XSD and the two WSDL 1.1 documents, written with
 * libxml2's xmlTextWriter from the tables of fields.c.
 *
 * The XSD (target namespace SOAP_NS, elements qualified) holds: the simple
 * types with the widths and patterns of DOMAIN.md/API.md and the code lists
 * as enumerations (each code's text as its documentation, taken from the
 * host's code_text, so the schema carries exactly the register's lists);
 * the xmlData documents (daginstitution, anvisningsEnhed, alternativAdresse,
 * sletning, flytning); ImportSvar and fejl; the EksportService's typed
 * answers; and the wrapper elements of every operation (document/literal
 * wrapped: <Op> with its one parameter, <OpResponse><OpResult>). It is what
 * GetXMLSchema answers, what xmlData and every request body are validated
 * against, and what both WSDLs carry in their types.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "soap.h"

#define XS "http://www.w3.org/2001/XMLSchema"
#define BX (const xmlChar *)

typedef xmlTextWriterPtr W;

static void start(W w, const char *name)
{
    xmlTextWriterStartElement(w, BX name);
}
static void end(W w)
{
    xmlTextWriterEndElement(w);
}
static void attr(W w, const char *name, const char *value)
{
    xmlTextWriterWriteAttribute(w, BX name, BX value);
}

/* <xs:element name type [minOccurs] [maxOccurs] [nillable]/> */
static void element(W w, const char *name, const char *type, int min, int max, bool nillable)
{
    start(w, "xs:element");
    attr(w, "name", name);
    attr(w, "type", type);
    if (min != 1) attr(w, "minOccurs", min == 0 ? "0" : "1");
    if (max != 1) attr(w, "maxOccurs", max < 0 ? "unbounded" : "1");
    if (nillable) attr(w, "nillable", "true");
    end(w);
}

static void documentation(W w, const char *text)
{
    start(w, "xs:annotation");
    xmlTextWriterWriteElement(w, BX "xs:documentation", BX text);
    end(w);
}

static void facet(W w, const char *name, const char *value)
{
    start(w, name);
    attr(w, "value", value);
    end(w);
}

/* A restriction of base with the facets given (NULL: none). */
static void simple(W w, const char *name, const char *base, const char *pattern, int minlen,
                   int maxlen, const char *min_incl, const char *max_incl, const char *doc)
{
    char n[16];
    start(w, "xs:simpleType");
    attr(w, "name", name);
    if (doc) documentation(w, doc);
    start(w, "xs:restriction");
    attr(w, "base", base);
    if (minlen > 0) {
        snprintf(n, sizeof n, "%d", minlen);
        facet(w, "xs:minLength", n);
    }
    if (maxlen > 0) {
        snprintf(n, sizeof n, "%d", maxlen);
        facet(w, "xs:maxLength", n);
    }
    if (pattern) facet(w, "xs:pattern", pattern);
    if (min_incl) facet(w, "xs:minInclusive", min_incl);
    if (max_incl) facet(w, "xs:maxInclusive", max_incl);
    end(w);
    end(w);
}

/* A code list as an xs:int enumeration: every code in [from, to] the host
 * knows, its text as documentation. */
static void code_list(W w, soap_code_text_fn code_text, dtr_plugin *self, const char *name,
                      const char *list, int from, int to, const char *doc)
{
    char n[16];
    start(w, "xs:simpleType");
    attr(w, "name", name);
    documentation(w, doc);
    start(w, "xs:restriction");
    attr(w, "base", "xs:int");
    for (int k = from; k <= to; k++) {
        const char *text = code_text(self, list, k);
        if (!text) continue;
        snprintf(n, sizeof n, "%d", k);
        start(w, "xs:enumeration");
        attr(w, "value", n);
        documentation(w, text);
        end(w);
    }
    end(w);
    end(w);
}

static void enumeration(W w, const char *name, const char *const *values, const char *doc)
{
    start(w, "xs:simpleType");
    attr(w, "name", name);
    if (doc) documentation(w, doc);
    start(w, "xs:restriction");
    attr(w, "base", "xs:string");
    for (; *values; values++)
        facet(w, "xs:enumeration", *values);
    end(w);
    end(w);
}

static void simple_types(W w, soap_code_text_fn code_text, dtr_plugin *self)
{
    simple(w, "Nummer", "xs:string", "[A-Z][0-9]{5}", 0, 0, NULL, NULL,
           "Dagtilbudsnummer: et stort bogstav og 5 cifre (G-numre udstedes af registeret).");
    simple(w, "Navn", "xs:string", NULL, 1, 132, NULL, NULL, "1-132 tegn (efter NFC).");
    simple(w, "VejNavn", "xs:string", NULL, 1, 40, NULL, NULL, NULL);
    simple(w, "ByNavn", "xs:string", NULL, 1, 34, NULL, NULL, NULL);
    simple(w, "Tekst34", "xs:string", NULL, 0, 34, NULL, NULL, NULL);
    simple(w, "Email", "xs:string", "[^@]+@[^@]+", 0, 132, NULL, NULL, "Højst 132 tegn, ét @.");
    simple(w, "TelefonNummer", "xs:string", "\\+?[0-9 ]*", 0, 20, NULL, NULL,
           "Højst 20 tegn: cifre, mellemrum og et indledende +.");
    simple(w, "CvrNummer", "xs:string", "[0-9]{8}", 0, 0, NULL, NULL,
           "8 cifre, modulus 11 (kontrolleres af registeret).");
    simple(w, "PNummer", "xs:string", "[0-9]{10}", 0, 0, NULL, NULL, "10 cifre.");
    simple(w, "HusNummer", "xs:string", "[0-9]{1,3}[A-Za-z]?", 0, 0, NULL, NULL, NULL);
    simple(w, "PostNummer", "xs:string", "[0-9]{4}", 0, 0, NULL, NULL, NULL);
    simple(w, "DawaId", "xs:string",
           "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}", 0, 0,
           NULL, NULL, "DAR-adressens UUID.");
    simple(w, "GeoBredde", "xs:decimal", NULL, 0, 0, "54.5", "57.8", "WGS84, inden for Danmark.");
    simple(w, "GeoLaengde", "xs:decimal", NULL, 0, 0, "8.0", "15.2", "WGS84, inden for Danmark.");
    simple(w, "Dato", "xs:string", "[0-9]{4}-[0-9]{2}-[0-9]{2}", 0, 0, NULL, NULL,
           "YYYY-MM-DD (kalenderdag i Europe/Copenhagen).");
    simple(w, "Version", "xs:long", NULL, 0, 0, "1", NULL,
           "Postens version; i xmlData svarer den til REST's If-Match.");
    code_list(w, code_text, self, "EjerformKode", "ejerform", 1, 99,
              "Ejerform (kodetabellen ejerformer).");
    code_list(w, code_text, self, "LovgrundlagKode", "lovgrundlag", 1, 99,
              "Lovgrundlag (kodetabellen lovgrundlag).");
    code_list(w, code_text, self, "KommuneKode", "kommune", 100, 999, "Kommunekode.");
    code_list(w, code_text, self, "InstType3", "institutionstype", 6000, 6099,
              "Institutionstype (kodetabellen institutionstyper).");
    static const char *const status[] = {"Aktiv", "Nedlagt", "Kommende", NULL};
    enumeration(w, "Aktivitetsstatus", status, NULL);
    static const char *const svar[] = {"OK", "FEJL", NULL};
    enumeration(w, "Svarstatus", svar, NULL);
    static const char *const tabeller[] = {"kommuner", "ejerformer", "lovgrundlag",
                                           "institutionstyper", NULL};
    enumeration(w, "KodetabelNavn", tabeller, NULL);
}

/* Whether a field's export element is always there. */
static bool export_required(const soap_field *f, const soap_field *prev)
{
    if (f->type == ST_TEKST) return prev && (prev->flags & SF_REQUIRED);
    return (f->flags & (SF_KEY | SF_PARENT | SF_REQUIRED | SF_FRA)) || f->type == ST_STATUS ||
           f->type == ST_VERSION || f->type == ST_TID;
}

/* The complex type of a level's record: the import document (xmlData) or
 * the export answer, children nested as optional lists. */
static void record_type(W w, dtr_level level, bool import)
{
    static const char *const import_names[] = {"DaginstitutionImport", "AnvisningsEnhedImport",
                                               "AlternativAdresseImport"};
    static const char *const export_names[] = {"Daginstitution", "AnvisningsEnhed",
                                               "AlternativAdresse"};
    size_t n;
    const soap_field *fields = soap_fields(level, &n);
    start(w, "xs:complexType");
    attr(w, "name", import ? import_names[level] : export_names[level]);
    start(w, "xs:sequence");
    for (size_t i = 0; i < n; i++) {
        const soap_field *f = &fields[i];
        if (import && !(f->flags & SF_IMPORT)) continue;
        if (!import && !(f->flags & SF_EXPORT)) continue;
        int min = import ? (f->flags & SF_REQUIRED ? 1 : 0)
                         : (export_required(f, i ? &fields[i - 1] : NULL) ? 1 : 0);
        bool nillable = import && (f->flags & SF_KEPT);
        element(w, f->element, soap_type_name(f->type), min, 1, nillable);
    }
    if (level != DTR_LEVEL_ALTERNATIV_ADRESSE) {
        char type[64];
        snprintf(type, sizeof type, "tns:%s",
                 import ? import_names[level + 1] : export_names[level + 1]);
        element(w, soap_level_element(level + 1), type, 0, -1, false);
    }
    end(w);
    end(w);
}

/* <xs:complexType name><xs:sequence><xs:element .../>...</xs:sequence></xs:complexType>
 * from (name, type, occurs) triples, NULL-ended; occurs "1" one, "0" at
 * most one, "*" any number. */
static void sequence_type(W w, const char *name, const char *const *els)
{
    start(w, "xs:complexType");
    attr(w, "name", name);
    start(w, "xs:sequence");
    for (; els[0]; els += 3)
        element(w, els[0], els[1], els[2][0] == '1' ? 1 : 0, els[2][0] == '*' ? -1 : 1, false);
    end(w);
    end(w);
}

static void global_element(W w, const char *name, const char *type)
{
    start(w, "xs:element");
    attr(w, "name", name);
    attr(w, "type", type);
    end(w);
}

static void documents(W w)
{
    for (int l = 0; l < 3; l++)
        record_type(w, (dtr_level)l, true);
    static const char *const sletning[] = {
        "nummer",     "tns:Nummer", "1",       "virkningTil", "tns:Dato", "0", "fejlregistrering",
        "xs:boolean", "0",          "version", "tns:Version", "0",        NULL};
    sequence_type(w, "Sletning", sletning);
    static const char *const flytning[] = {"nummer",     "tns:Nummer", "1",       "nyForaelder",
                                           "tns:Nummer", "1",          "version", "tns:Version",
                                           "0",          NULL};
    sequence_type(w, "Flytning", flytning);
    global_element(w, "daginstitution", "tns:DaginstitutionImport");
    global_element(w, "anvisningsEnhed", "tns:AnvisningsEnhedImport");
    global_element(w, "alternativAdresse", "tns:AlternativAdresseImport");
    global_element(w, "sletning", "tns:Sletning");
    global_element(w, "flytning", "tns:Flytning");

    static const char *const fejl[] = {"kode", "xs:string", "1",         "felt", "xs:string",
                                       "1",    "tekst",     "xs:string", "1",    NULL};
    sequence_type(w, "Fejl", fejl);
    global_element(w, "fejl", "tns:Fejl");
    static const char *const oprettet[] = {"felt",       "xs:string", "1", "nummer",
                                           "tns:Nummer", "1",         NULL};
    sequence_type(w, "Oprettet", oprettet);
    static const char *const svar[] = {
        "status",  "tns:Svarstatus", "1", "nummer",   "tns:Nummer",   "0",
        "version", "tns:Version",    "0", "oprettet", "tns:Oprettet", "*",
        "fejl",    "tns:Fejl",       "*", NULL};
    sequence_type(w, "ImportSvar", svar);
    global_element(w, "ImportSvar", "tns:ImportSvar");
}

/* A list answer: any number of el. */
static void list_type(W w, const char *name, const char *el, const char *type)
{
    start(w, "xs:complexType");
    attr(w, "name", name);
    start(w, "xs:sequence");
    element(w, el, type, 0, -1, false);
    end(w);
    end(w);
}

static void answers(W w)
{
    for (int l = 0; l < 3; l++)
        record_type(w, (dtr_level)l, false);
    list_type(w, "dagtilbudsRegister", "daginstitution", "tns:Daginstitution");
    list_type(w, "daginstitutionerExtend", "daginstitution", "tns:Daginstitution");
    list_type(w, "anvisningenhederExtend", "anvisningsEnhed", "tns:AnvisningsEnhed");
    list_type(w, "alternativadresserExtend", "alternativAdresse", "tns:AlternativAdresse");
    static const char *const kode[] = {"kode", "xs:int", "1", "tekst", "xs:string", "1", NULL};
    sequence_type(w, "Kode", kode);
    list_type(w, "Kodetabel", "kode", "tns:Kode");
}

/* The wrapper elements of every operation, each name once (both services
 * have HelloWorld, with the same shape). */
static void wrappers(W w)
{
    for (const soap_op *op = soap_ops; op->name; op++) {
        bool seen = false;
        for (const soap_op *o = soap_ops; o < op; o++)
            if (strcmp(o->name, op->name) == 0) seen = true;
        if (seen) continue;
        char name[96];
        start(w, "xs:element");
        attr(w, "name", op->name);
        start(w, "xs:complexType");
        start(w, "xs:sequence");
        if (op->param) element(w, op->param, op->ptype, 1, 1, false);
        end(w);
        end(w);
        end(w);
        snprintf(name, sizeof name, "%sResponse", op->name);
        start(w, "xs:element");
        attr(w, "name", name);
        start(w, "xs:complexType");
        start(w, "xs:sequence");
        snprintf(name, sizeof name, "%sResult", op->name);
        element(w, name, op->rtype, 0, 1, false);
        end(w);
        end(w);
        end(w);
    }
}

/* Takes the text out of buf (NUL-terminated, malloc'd). */
static char *take(xmlBufferPtr buf, size_t *len)
{
    size_t n = (size_t)xmlBufferLength(buf);
    char *text = malloc(n + 1);
    if (text) {
        memcpy(text, xmlBufferContent(buf), n);
        text[n] = '\0';
        *len = n;
    }
    xmlBufferFree(buf);
    return text;
}

char *soap_xsd_build(soap_code_text_fn code_text, dtr_plugin *self, size_t *len)
{
    xmlBufferPtr buf = xmlBufferCreate();
    if (!buf) return NULL;
    W w = xmlNewTextWriterMemory(buf, 0);
    if (!w) {
        xmlBufferFree(buf);
        return NULL;
    }
    xmlTextWriterSetIndent(w, 1);
    xmlTextWriterSetIndentString(w, BX "  ");
    xmlTextWriterStartDocument(w, "1.0", "UTF-8", NULL);
    start(w, "xs:schema");
    attr(w, "xmlns:xs", XS);
    attr(w, "xmlns:tns", SOAP_NS);
    attr(w, "targetNamespace", SOAP_NS);
    attr(w, "elementFormDefault", "qualified");
    documentation(w, "Dagtilbudsregisteret, SOAP-kompatibilitet (ImportService og "
                     "EksportService), version 2. Ét skema for xmlData, svar og operationer.");
    simple_types(w, code_text, self);
    documents(w);
    answers(w);
    wrappers(w);
    end(w);
    int rc = xmlTextWriterEndDocument(w);
    xmlFreeTextWriter(w);
    if (rc < 0) {
        xmlBufferFree(buf);
        return NULL;
    }
    return take(buf, len);
}

/* ---- WSDL 1.1 ------------------------------------------------------------ */

static void binding(W w, soap_service s, bool v12)
{
    const char *svc = soap_service_name(s);
    const char *pre = v12 ? "soap12:" : "soap:";
    char name[96], tag[32];
    snprintf(name, sizeof name, "%s%s", svc, v12 ? "Soap12" : "Soap");
    start(w, "wsdl:binding");
    attr(w, "name", name);
    snprintf(name, sizeof name, "tns:%sSoap", svc);
    attr(w, "type", name);
    snprintf(tag, sizeof tag, "%sbinding", pre);
    start(w, tag);
    attr(w, "transport", "http://schemas.xmlsoap.org/soap/http");
    attr(w, "style", "document");
    end(w);
    for (const soap_op *op = soap_ops; op->name; op++) {
        if (op->service != s) continue;
        start(w, "wsdl:operation");
        attr(w, "name", op->name);
        snprintf(tag, sizeof tag, "%soperation", pre);
        start(w, tag);
        snprintf(name, sizeof name, "%s/%s", SOAP_NS, op->name);
        attr(w, "soapAction", name);
        attr(w, "style", "document");
        end(w);
        snprintf(tag, sizeof tag, "%sbody", pre);
        for (int io = 0; io < 2; io++) {
            start(w, io ? "wsdl:output" : "wsdl:input");
            start(w, tag);
            attr(w, "use", "literal");
            end(w);
            end(w);
        }
        end(w);
    }
    end(w);
}

char *soap_wsdl_build(soap_service s, const char *xsd, const char *base, size_t *len)
{
    const char *svc = soap_service_name(s);
    char name[128];
    xmlBufferPtr buf = xmlBufferCreate();
    if (!buf) return NULL;
    W w = xmlNewTextWriterMemory(buf, 0);
    if (!w) {
        xmlBufferFree(buf);
        return NULL;
    }
    xmlTextWriterStartDocument(w, "1.0", "UTF-8", NULL);
    start(w, "wsdl:definitions");
    attr(w, "xmlns:wsdl", "http://schemas.xmlsoap.org/wsdl/");
    attr(w, "xmlns:soap", "http://schemas.xmlsoap.org/wsdl/soap/");
    attr(w, "xmlns:soap12", "http://schemas.xmlsoap.org/wsdl/soap12/");
    attr(w, "xmlns:xs", XS);
    attr(w, "xmlns:tns", SOAP_NS);
    attr(w, "targetNamespace", SOAP_NS);
    attr(w, "name", svc);
    start(w, "wsdl:types");
    /* the schema as it is, without its XML declaration */
    const char *schema = strstr(xsd, "<xs:schema");
    if (schema) xmlTextWriterWriteRaw(w, BX schema);
    end(w);
    for (const soap_op *op = soap_ops; op->name; op++) {
        if (op->service != s) continue;
        for (int io = 0; io < 2; io++) {
            start(w, "wsdl:message");
            snprintf(name, sizeof name, "%sSoap%s", op->name, io ? "Out" : "In");
            attr(w, "name", name);
            start(w, "wsdl:part");
            attr(w, "name", "parameters");
            snprintf(name, sizeof name, "tns:%s%s", op->name, io ? "Response" : "");
            attr(w, "element", name);
            end(w);
            end(w);
        }
    }
    start(w, "wsdl:portType");
    snprintf(name, sizeof name, "%sSoap", svc);
    attr(w, "name", name);
    for (const soap_op *op = soap_ops; op->name; op++) {
        if (op->service != s) continue;
        start(w, "wsdl:operation");
        attr(w, "name", op->name);
        for (int io = 0; io < 2; io++) {
            start(w, io ? "wsdl:output" : "wsdl:input");
            snprintf(name, sizeof name, "tns:%sSoap%s", op->name, io ? "Out" : "In");
            attr(w, "message", name);
            end(w);
        }
        end(w);
    }
    end(w);
    binding(w, s, false);
    binding(w, s, true);
    start(w, "wsdl:service");
    attr(w, "name", svc);
    for (int v12 = 0; v12 < 2; v12++) {
        start(w, "wsdl:port");
        snprintf(name, sizeof name, "%s%s", svc, v12 ? "Soap12" : "Soap");
        attr(w, "name", name);
        snprintf(name, sizeof name, "tns:%s%s", svc, v12 ? "Soap12" : "Soap");
        attr(w, "binding", name);
        start(w, v12 ? "soap12:address" : "soap:address");
        snprintf(name, sizeof name, "%s/soap/%s", base, svc);
        attr(w, "location", name);
        end(w);
        end(w);
    }
    end(w);
    end(w);
    int rc = xmlTextWriterEndDocument(w);
    xmlFreeTextWriter(w);
    if (rc < 0) {
        xmlBufferFree(buf);
        return NULL;
    }
    return take(buf, len);
}
