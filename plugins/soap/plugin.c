/*
 * plugin.c -- the soap plugin's instance: init (the schema built and
 * compiled once), the routes, and the path of every request up to the
 * operation (importsvc.c, eksport.c).
 *
 * Routes (API.md, "SOAP compatibility"):
 *   POST /soap/ImportService, POST /soap/EksportService   SOAP 1.1 / 1.2
 *   GET  /soap/ImportService?wsdl, /soap/EksportService?wsdl, /soap/dagtilbud.xsd
 * GETs and EksportService calls follow public_read like /v1's reads; an
 * ImportService call always needs a client.
 *
 * A POST is checked in this order, the first failure answering: the
 * credentials (401 with WWW-Authenticate, the body not looked at), the
 * media type (text/xml: SOAP 1.1; application/soap+xml: SOAP 1.2; else
 * 415), the envelope (well-formed, safe -- xml.c -- and a SOAP envelope of
 * the version the media type names, with one operation of the service in
 * its Body), the operation's parameters against the XSD. Each of those
 * failures is a SOAP fault (1.1: 500 soap:Client; 1.2: 400 env:Sender)
 * whose detail carries the fejl list.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <libxml/parser.h>
#include <libxml/xmlschemas.h>

#include "../common/describe.h"
#include "soap.h"

#define BX (const xmlChar *)

typedef struct soap_binding {
    soap_state *st;
    soap_service service;
} soap_binding;

/* ---- answers ------------------------------------------------------------------------ */

static void respond_out(soap_state *st, dtr_request *req, soap_version v, int status, soap_out *o)
{
    if (soap_out_end(o))
        st->api->respond(req, status, soap_content_type(v), xmlBufferContent(o->buf),
                         (size_t)xmlBufferLength(o->buf));
    else
        st->api->respond(req, 500, NULL, NULL, 0);
    soap_out_free(o);
}

void soap_answer_fault(soap_state *st, dtr_request *req, soap_version v, int status, bool sender,
                       const char *reason, const soap_fejlliste *fejl)
{
    soap_out o;
    if (!soap_out_begin(&o, v) || !soap_fault_write(&o, v, sender, reason, fejl)) {
        soap_out_free(&o);
        st->api->respond(req, 500, NULL, NULL, 0);
        return;
    }
    respond_out(st, req, v, status, &o);
}

void soap_answer_fault1(soap_state *st, dtr_request *req, soap_version v, int status, bool sender,
                        const char *kode, const char *felt, const char *tekst)
{
    soap_fejlliste f = {0};
    soap_fejl_add(&f, kode, felt, "%s", tekst);
    soap_answer_fault(st, req, v, status, sender, tekst, &f);
    soap_fejl_clear(&f);
}

void soap_answer_string(soap_state *st, dtr_request *req, soap_version v, const soap_op *op,
                        const char *text)
{
    soap_out o;
    char name[96];
    bool ok = soap_out_begin(&o, v);
    snprintf(name, sizeof name, "%sResponse", op->name);
    ok = ok && xmlTextWriterStartElementNS(o.w, NULL, BX name, BX SOAP_NS) >= 0;
    snprintf(name, sizeof name, "%sResult", op->name);
    ok = ok && xmlTextWriterWriteElement(o.w, BX name, BX text) >= 0;
    ok = ok && xmlTextWriterEndElement(o.w) >= 0;
    if (!ok) {
        soap_out_free(&o);
        st->api->respond(req, 500, NULL, NULL, 0);
        return;
    }
    respond_out(st, req, v, 200, &o);
}

void soap_hello(soap_state *st, dtr_request *req, soap_version v, const soap_op *op)
{
    int64_t seq = 0;
    char tid[40] = "";
    if (st->api->read_latest(st->api->reader(st->self), &seq, tid) != DTR_OK) {
        soap_answer_fault1(st, req, v, 503, false, "IKKE_KLAR", "", "registeret svarer ikke");
        return;
    }
    char text[64];
    time_t now = time(NULL);
    struct tm u;
    gmtime_r(&now, &u);
    strftime(text, sizeof text, "Hello %Y-%m-%dT%H:%M:%SZ", &u);
    soap_answer_string(st, req, v, op, text);
}

/* ---- readers ------------------------------------------------------------------------ */

dtr_reader *soap_reader_take(soap_state *st)
{
    st->in_flight++;
    if (st->n_readers) return st->readers[--st->n_readers];
    dtr_reader *r = st->api->reader_open(st->self);
    if (!r) st->in_flight--;
    return r;
}

void soap_reader_give(soap_state *st, dtr_reader *r)
{
    st->in_flight--;
    if (st->n_readers < SOAP_READERS)
        st->readers[st->n_readers++] = r;
    else
        st->api->reader_close(r);
}

/* ---- the request's way in --------------------------------------------------------------- */

/* 401 with WWW-Authenticate and a fault of v. */
static void unauthorized(soap_state *st, dtr_request *req, soap_version v, const char *tekst)
{
    st->api->resp_header(req, "WWW-Authenticate", "Basic realm=\"dtr\"");
    soap_answer_fault1(st, req, v, 401, true, "IKKE_AUTENTIFICERET", "", tekst);
}

/* Who the request is from (an identity only the host issues, valid while
 * the request is): answers and returns false when it may not go on (need:
 * a client is required). */
static bool authenticate(soap_state *st, dtr_request *req, soap_version v, bool need,
                         const dtr_identity **who)
{
    const dtr_host_api *api = st->api;
    *who = NULL;
    if (!need && !api->req_header(req, "Authorization")) return true;
    dtr_status s = api->req_authenticate(st->self, req, who);
    if (s == DTR_DECLINED) {
        unauthorized(st, req, v, "ukendt klient eller forkert hemmelighed");
        return false;
    }
    if (s == DTR_INVALID) { /* a web session without its CSRF token */
        soap_answer_fault1(st, req, v, 403, true, "IKKE_TILLADT", "X-CSRF-Token",
                           "sessionen kræver X-CSRF-Token");
        return false;
    }
    if (s != DTR_OK) {
        soap_answer_fault1(st, req, v, 503, false, "IKKE_KLAR", "", "klienterne kunne ikke læses");
        return false;
    }
    if (need && !*who) {
        unauthorized(st, req, v, "log ind med HTTP Basic (clientId:secret)");
        return false;
    }
    return true;
}

/* The SOAP version a Content-Type names, or 0. */
static soap_version version_of(const char *ct)
{
    if (!ct) return 0;
    while (*ct == ' ')
        ct++;
    size_t n = strcspn(ct, "; \t");
    if (n == 8 && strncasecmp(ct, "text/xml", 8) == 0) return SOAP_11;
    if (n == 20 && strncasecmp(ct, "application/soap+xml", 20) == 0) return SOAP_12;
    return 0;
}

/* Whether a SOAP 1.1 SOAPAction header fits op: absent, empty, the bare
 * name or ending in "/Op" or "#Op" (quoted or not). */
static bool action_fits(const char *action, const char *op)
{
    if (!action) return true;
    size_t n = strlen(action);
    if (n >= 2 && action[0] == '"' && action[n - 1] == '"') action++, n -= 2;
    if (n == 0) return true;
    size_t m = strlen(op);
    if (n < m || strncmp(action + n - m, op, m) != 0) return false;
    return n == m || action[n - m - 1] == '/' || action[n - m - 1] == '#';
}

/* Reads the envelope: env filled, or a fault answered (false). */
static bool read_envelope(soap_state *st, dtr_request *req, soap_version v, soap_service service,
                          soap_envelope *env)
{
    const dtr_host_api *api = st->api;
    int bad = soap_fault_status(v, true);
    size_t len = 0;
    const unsigned char *body = api->req_body(req, &len);
    soap_parse_err perr;
    char why[256];
    memset(env, 0, sizeof *env);
    env->doc = body ? soap_xml_parse(body, len, &perr, why, sizeof why) : NULL;
    if (!env->doc) {
        soap_answer_fault1(st, req, v, bad, true, "UGYLDIG_FORESPOERGSEL", "",
                           body ? why : "tom forespørgsel: et SOAP-kuvert forventes");
        return false;
    }
    xmlNodePtr root = xmlDocGetRootElement(env->doc);
    const char *ns = v == SOAP_12 ? SOAP12_NS : SOAP11_NS;
    if (!soap_is(root, ns, "Envelope")) {
        const char *other = v == SOAP_12 ? SOAP11_NS : SOAP12_NS;
        soap_answer_fault1(st, req, v, bad, true, "UGYLDIG_FORESPOERGSEL", "/",
                           soap_is(root, other, "Envelope")
                               ? "SOAP-versionen passer ikke til Content-Type"
                               : "dokumentet er ikke et SOAP-kuvert");
        return false;
    }
    xmlNodePtr body_el = NULL;
    for (xmlNodePtr c = soap_first_element(root); c; c = soap_next_element(c)) {
        if (soap_is(c, ns, "Header")) {
            for (xmlNodePtr h = soap_first_element(c); h; h = soap_next_element(h)) {
                xmlChar *mu = xmlGetNsProp(h, BX "mustUnderstand", BX ns);
                bool must = mu && (xmlStrEqual(mu, BX "1") || xmlStrEqual(mu, BX "true"));
                xmlFree(mu);
                if (must) {
                    char felt[256];
                    soap_xml_path(h, felt, sizeof felt);
                    soap_answer_fault1(st, req, v, bad, true, "UKENDT_FELT", felt,
                                       "en header med mustUnderstand forstås ikke");
                    return false;
                }
            }
        } else if (soap_is(c, ns, "Body") && !body_el) {
            body_el = c;
        } else {
            char felt[256];
            soap_xml_path(c, felt, sizeof felt);
            soap_answer_fault1(st, req, v, bad, true, "UKENDT_FELT", felt,
                               "kuvertet har et element, der ikke hører til");
            return false;
        }
    }
    xmlNodePtr op_el = body_el ? soap_first_element(body_el) : NULL;
    if (!op_el || soap_next_element(op_el)) {
        soap_answer_fault1(st, req, v, bad, true, "UGYLDIG_FORESPOERGSEL", "/Envelope/Body",
                           "Body skal indeholde netop én operation");
        return false;
    }
    const soap_op *op = op_el->ns && xmlStrEqual(op_el->ns->href, BX SOAP_NS)
                            ? soap_op_find(service, (const char *)op_el->name)
                            : NULL;
    if (!op) {
        char felt[256];
        soap_xml_path(op_el, felt, sizeof felt);
        soap_fejlliste f = {0};
        soap_fejl_add(&f, "UKENDT_FELT", felt, "%s har ingen operation %s i %s",
                      soap_service_name(service), (const char *)op_el->name, SOAP_NS);
        soap_answer_fault(st, req, v, bad, true, f.items[0].tekst, &f);
        soap_fejl_clear(&f);
        return false;
    }
    if (v == SOAP_11 && !action_fits(api->req_header(req, "SOAPAction"), op->name)) {
        soap_answer_fault1(st, req, v, bad, true, "UGYLDIG_FORESPOERGSEL", "SOAPAction",
                           "SOAPAction passer ikke til operationen i Body");
        return false;
    }
    soap_fejlliste f = {0};
    if (!soap_xml_validate(st->schema, env->doc, op_el, &f)) {
        soap_answer_fault(st, req, v, bad, true, "forkerte parametre til operationen", &f);
        soap_fejl_clear(&f);
        return false;
    }
    env->op_elem = op_el;
    env->op = op;
    return true;
}

static dtr_status soap_post(dtr_request *req, void *udata)
{
    const soap_binding *b = udata;
    soap_state *st = b->st;
    const dtr_host_api *api = st->api;
    soap_version v = version_of(api->req_header(req, "Content-Type"));
    bool need = b->service == SOAP_IMPORT || !api->public_read(st->self);
    const dtr_identity *who;
    if (!authenticate(st, req, v ? v : SOAP_11, need, &who)) return DTR_OK;
    if (!v) {
        soap_answer_fault1(st, req, SOAP_11, 415, true, "UGYLDIG_MEDIETYPE", "Content-Type",
                           "Content-Type skal være text/xml (SOAP 1.1) eller "
                           "application/soap+xml (SOAP 1.2)");
        return DTR_OK;
    }
    soap_envelope env;
    if (read_envelope(st, req, v, b->service, &env)) {
        if (b->service == SOAP_IMPORT)
            soap_import_run(st, req, v, who, &env);
        else
            soap_eksport_run(st, req, v, &env);
    }
    if (env.doc) xmlFreeDoc(env.doc);
    return DTR_OK;
}

/* The base URL the WSDL's addresses name: the request's Host (when it is
 * a plain host[:port]) behind http, or https when a proxy says so. */
static void base_url(const dtr_host_api *api, dtr_request *req, char *out, size_t size)
{
    const char *host = api->req_header(req, "Host");
    const char *proto = api->req_header(req, "X-Forwarded-Proto");
    bool plain = host && host[0] && strlen(host) < 200;
    for (const char *p = host; plain && *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              strchr(".-:[]", *p)))
            plain = false;
    snprintf(out, size, "%s://%s", proto && strcmp(proto, "https") == 0 ? "https" : "http",
             plain ? host : "localhost");
}

/* Answers a GET with problem+json when it may not read. */
static bool may_read(soap_state *st, dtr_request *req)
{
    const dtr_host_api *api = st->api;
    bool open = api->public_read(st->self);
    if (open && !api->req_header(req, "Authorization")) return true;
    const dtr_identity *who = NULL;
    dtr_status s = api->req_authenticate(st->self, req, &who);
    if (s == DTR_OK && (open || who)) return true;
    if (s != DTR_OK && s != DTR_DECLINED) {
        api->respond_problem(req, 503, "IKKE_KLAR", NULL, "klienterne kunne ikke læses");
        return false;
    }
    api->resp_header(req, "WWW-Authenticate", "Basic realm=\"dtr\"");
    api->respond_problem(req, 401, "IKKE_AUTENTIFICERET", NULL,
                         s == DTR_DECLINED ? "ukendt klient eller forkert hemmelighed"
                                           : "log ind med HTTP Basic (clientId:secret)");
    return false;
}

static dtr_status soap_get_wsdl(dtr_request *req, void *udata)
{
    const soap_binding *b = udata;
    soap_state *st = b->st;
    if (!may_read(st, req)) return DTR_OK;
    char base[256];
    base_url(st->api, req, base, sizeof base);
    size_t len = 0;
    char *wsdl = soap_wsdl_build(b->service, st->xsd, base, &len);
    if (!wsdl) {
        st->api->respond_problem(req, 503, "IKKE_KLAR", NULL, "ikke mere hukommelse");
        return DTR_OK;
    }
    st->api->respond(req, 200, "text/xml; charset=utf-8", wsdl, len);
    free(wsdl);
    return DTR_OK;
}

static dtr_status soap_get_xsd(dtr_request *req, void *udata)
{
    soap_state *st = udata;
    if (!may_read(st, req)) return DTR_OK;
    st->api->respond(req, 200, "text/xml; charset=utf-8", st->xsd, st->xsd_len);
    return DTR_OK;
}

/* ---- the instance ----------------------------------------------------------------------- */

/* libxml2 may never fetch anything: DTDs, entities, schemas from outside. */
static xmlParserInputPtr no_external_entities(const char *url, const char *id,
                                              xmlParserCtxtPtr ctxt)
{
    (void)url, (void)id, (void)ctxt;
    return NULL;
}

static dtr_status soap_init(dtr_plugin *self, const dtr_host_api *api, const json_t *config,
                            void **state, char *err, size_t errlen)
{
    if (!api->command_submit || !api->read_get || !api->read_list || !api->reader_open ||
        !api->snapshot_begin || !api->read_latest) {
        snprintf(err, errlen, "soap: the host lacks the register functions (commands, reads)");
        return DTR_ERROR;
    }
    if (config && (!json_is_object(config) || json_object_size(config) > 0)) {
        snprintf(err, errlen, "soap: the config takes no keys (an empty object)");
        return DTR_DECLINED;
    }
    xmlInitParser();
    xmlSetExternalEntityLoader(no_external_entities);
    soap_state *st = calloc(1, sizeof *st);
    if (!st) {
        snprintf(err, errlen, "soap: out of memory");
        return DTR_ERROR;
    }
    st->self = self;
    st->api = api;
    st->xsd = soap_xsd_build(api->code_text, self, &st->xsd_len);
    xmlSchemaParserCtxtPtr pc =
        st->xsd ? xmlSchemaNewMemParserCtxt(st->xsd, (int)st->xsd_len) : NULL;
    st->schema = pc ? xmlSchemaParse(pc) : NULL;
    if (pc) xmlSchemaFreeParserCtxt(pc);
    if (!st->schema) {
        snprintf(err, errlen, "soap: the XSD could not be built");
        free(st->xsd);
        free(st);
        return DTR_ERROR;
    }
    /* the routes' udata: the instance and the service */
    soap_binding *bi = calloc(2, sizeof *bi);
    if (!bi) {
        snprintf(err, errlen, "soap: out of memory");
        xmlSchemaFree(st->schema);
        free(st->xsd);
        free(st);
        return DTR_ERROR;
    }
    bi[0] = (soap_binding){st, SOAP_IMPORT};
    bi[1] = (soap_binding){st, SOAP_EKSPORT};
    st->bindings = bi;
    if (api->route_add(self, "POST", "/soap/ImportService", 0, soap_post, &bi[0], err, errlen) !=
            DTR_OK ||
        api->route_add(self, "POST", "/soap/EksportService", 0, soap_post, &bi[1], err, errlen) !=
            DTR_OK ||
        api->route_add(self, "GET", "/soap/ImportService", 0, soap_get_wsdl, &bi[0], err, errlen) !=
            DTR_OK ||
        api->route_add(self, "GET", "/soap/EksportService", 0, soap_get_wsdl, &bi[1], err,
                       errlen) != DTR_OK ||
        api->route_add(self, "GET", "/soap/dagtilbud.xsd", 0, soap_get_xsd, st, err, errlen) !=
            DTR_OK) {
        xmlSchemaFree(st->schema);
        free(st->xsd);
        free(bi);
        free(st);
        return DTR_ERROR;
    }
    soap_openapi_describe(api, self);
    *state = st;
    return DTR_OK;
}

static void soap_free(void *state)
{
    soap_state *st = state;
    if (!st) return;
    while (st->n_readers)
        st->api->reader_close(st->readers[--st->n_readers]);
    xmlSchemaFree(st->schema);
    free(st->xsd);
    free(st->bindings);
    free(st);
}

/* The one exported symbol (DTR_PLUGIN_SYMBOL). */
DTR_PLUGIN_EXPORT const dtr_plugin_descriptor dtr_plugin_entry = {
    .abi_major = DTR_ABI_MAJOR,
    .abi_minor = DTR_ABI_MINOR,
    .struct_size = sizeof(dtr_plugin_descriptor),
    .name = "soap",
    .version = "1.0.0",
    .kinds = DTR_KIND_PROTOCOL,
    .init = soap_init,
    .free = soap_free,
};
