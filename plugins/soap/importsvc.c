/*
 * importsvc.c -- the ImportService's operations.
 *
 * HelloWorld and GetXMLSchema answer at once. Every other operation takes
 * xmlData, a string holding one XML document: it is parsed as safely as
 * the envelope (a DOCTYPE, too deep or not UTF-8 is a fault: that is an
 * attack, not a vendor's mistake), put into our namespace when it has none,
 * and validated against the XSD; then mapping.c makes the register command
 * and it goes to the register through the host (command_submit) -- the
 * same commands REST submits, so the same rules decide: authorization and
 * kommune scope, cross-validation, no cascade, moves within the kommune,
 * If-Match from the document's version. Anything refused (by the schema,
 * the mapping or the register) is an ImportSvar with status FEJL and every
 * fejl (kode, felt as the element's path, Danish tekst); only a register
 * that cannot take the command (503) is a fault.
 *
 * ValidateXmlAgainstSchema runs the same way as a dry run
 * (DTR_SUBMIT_DRY_RUN): the schema, then every check of the register, the
 * same ImportSvar, nothing written and no number burnt.
 *
 * Lifetimes: an imp_ctx lives from command_submit to its callback, which
 * always runs once submit accepted; when the client went away first it only
 * frees the context.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "soap.h"

#define BX (const xmlChar *)

typedef struct imp_ctx {
    soap_state *st;
    dtr_request *req; /* NULL once the client went away */
    soap_version v;
    const soap_op *op;
    dtr_level level;
    char root[32];
} imp_ctx;

/* The ImportSvar document as text (malloc'd). res may be NULL (a refusal
 * before the register). */
static char *svar_text(const soap_fejlliste *fejl, const char *nummer, int64_t version,
                       const json_t *record, dtr_level level, const char *root)
{
    xmlBufferPtr buf = xmlBufferCreate();
    xmlTextWriterPtr w = buf ? xmlNewTextWriterMemory(buf, 0) : NULL;
    if (!w) {
        if (buf) xmlBufferFree(buf);
        return NULL;
    }
    xmlTextWriterStartDocument(w, "1.0", "UTF-8", NULL);
    xmlTextWriterStartElementNS(w, NULL, BX "ImportSvar", BX SOAP_NS);
    xmlTextWriterWriteElement(w, BX "status", BX(fejl && fejl->n ? "FEJL" : "OK"));
    if (nummer && nummer[0]) xmlTextWriterWriteElement(w, BX "nummer", BX nummer);
    if (version > 0) xmlTextWriterWriteFormatElement(w, BX "version", "%lld", (long long)version);
    /* the numbers a nested create issued, with the element each belongs to */
    const char *k1 = soap_kids_key(level);
    size_t i, j;
    const json_t *kid, *grand;
    json_array_foreach(k1 && record ? json_object_get(record, k1) : NULL, i, kid)
    {
        char felt[128];
        snprintf(felt, sizeof felt, "/%s/%s[%zu]", root, soap_level_element(level + 1), i + 1);
        xmlTextWriterStartElement(w, BX "oprettet");
        xmlTextWriterWriteElement(w, BX "felt", BX felt);
        xmlTextWriterWriteElement(w, BX "nummer",
                                  BX(json_string_value(json_object_get(kid, "nummer")) ?: ""));
        xmlTextWriterEndElement(w);
        const char *k2 = soap_kids_key(level + 1);
        json_array_foreach(k2 ? json_object_get(kid, k2) : NULL, j, grand)
        {
            char f2[192];
            snprintf(f2, sizeof f2, "%s/%s[%zu]", felt, soap_level_element(level + 2), j + 1);
            xmlTextWriterStartElement(w, BX "oprettet");
            xmlTextWriterWriteElement(w, BX "felt", BX f2);
            xmlTextWriterWriteElement(
                w, BX "nummer", BX(json_string_value(json_object_get(grand, "nummer")) ?: ""));
            xmlTextWriterEndElement(w);
        }
    }
    for (size_t n = 0; fejl && n < fejl->n; n++) {
        xmlTextWriterStartElement(w, BX "fejl");
        xmlTextWriterWriteElement(w, BX "kode", BX fejl->items[n].kode);
        xmlTextWriterWriteElement(w, BX "felt", BX fejl->items[n].felt);
        xmlTextWriterWriteElement(w, BX "tekst", BX fejl->items[n].tekst);
        xmlTextWriterEndElement(w);
    }
    int rc = xmlTextWriterEndDocument(w);
    xmlFreeTextWriter(w);
    char *text = rc >= 0 ? strdup((const char *)xmlBufferContent(buf)) : NULL;
    xmlBufferFree(buf);
    return text;
}

static void answer_svar(soap_state *st, dtr_request *req, soap_version v, const soap_op *op,
                        const soap_fejlliste *fejl, const char *nummer, int64_t version,
                        const json_t *record, dtr_level level, const char *root)
{
    char *text = svar_text(fejl, nummer, version, record, level, root);
    if (!text) {
        soap_answer_fault1(st, req, v, 500, false, "IKKE_KLAR", "", "ikke mere hukommelse");
        return;
    }
    soap_answer_string(st, req, v, op, text);
    free(text);
}

static void imp_abort(dtr_request *req, void *udata)
{
    (void)req;
    imp_ctx *c = udata;
    c->req = NULL;
}

/* The register committed or refused the command: the ImportSvar. */
static void imp_done(const dtr_command_result *res, void *udata)
{
    imp_ctx *c = udata;
    soap_state *st = c->st;
    dtr_request *req = c->req;
    st->in_flight--;
    if (req) {
        st->api->req_on_abort(req, NULL, NULL);
        if (res->status == DTR_OK) {
            answer_svar(st, req, c->v, c->op, NULL, res->nummer, res->version, res->record,
                        c->level, c->root);
        } else if (res->status == DTR_ERROR || res->http_status >= 500) {
            soap_fejlliste f = {0};
            soap_fejl_from_json(&f, res->fejl, c->level, c->root);
            if (!f.n) soap_fejl_add(&f, "IKKE_KLAR", "", "registeret tager ikke imod ændringer");
            soap_answer_fault(st, req, c->v, 503, false, f.items[0].tekst, &f);
            soap_fejl_clear(&f);
        } else {
            soap_fejlliste f = {0};
            soap_fejl_from_json(&f, res->fejl, c->level, c->root);
            if (!f.n) soap_fejl_add(&f, "UGYLDIGT_FORMAT", "", "afvist (%d)", res->http_status);
            answer_svar(st, req, c->v, c->op, &f, NULL, 0, NULL, c->level, c->root);
            soap_fejl_clear(&f);
        }
    }
    free(c);
}

/* The xmlData parameter's text (malloc'd) or NULL. */
static char *xml_data(const soap_envelope *env)
{
    xmlNodePtr p = soap_first_element(env->op_elem);
    if (!p) return NULL;
    xmlChar *t = xmlNodeGetContent(p);
    char *s = strdup(t ? (const char *)t : "");
    xmlFree(t);
    return s;
}

/* Reads the stored record a document names (for Update, and for Validate
 * to learn a number's level). NULL when there is none. */
static json_t *stored_of(soap_state *st, xmlNodePtr root, dtr_level level, dtr_level *found)
{
    char nummer[7];
    if (!soap_doc_nummer(root, level, nummer)) return NULL;
    json_t *rec = NULL;
    if (st->api->read_get(st->api->reader(st->self), nummer, NULL, 1, found, &rec) != DTR_OK) {
        json_decref(rec);
        return NULL;
    }
    return rec;
}

void soap_import_run(soap_state *st, dtr_request *req, soap_version v, const dtr_identity *who,
                     const soap_envelope *env)
{
    const dtr_host_api *api = st->api;
    const soap_op *op = env->op;
    if (op->kind == SK_HELLO) {
        soap_hello(st, req, v, op);
        return;
    }
    if (op->kind == SK_SCHEMA) {
        soap_answer_string(st, req, v, op, st->xsd);
        return;
    }
    char *data = xml_data(env);
    soap_parse_err perr;
    char why[256];
    xmlDocPtr doc = data ? soap_xml_parse(data, strlen(data), &perr, why, sizeof why) : NULL;
    free(data);
    soap_fejlliste fejl = {0};
    if (!doc) {
        if (perr == SP_SYNTAX || !data) {
            soap_fejl_add(&fejl, "UGYLDIGT_FORMAT", "xmlData", "%s",
                          data ? why : "xmlData mangler");
            answer_svar(st, req, v, op, &fejl, NULL, 0, NULL, op->level, "xmlData");
        } else {
            soap_answer_fault1(st, req, v, soap_fault_status(v, true), true,
                               "UGYLDIG_FORESPOERGSEL", "xmlData", why);
        }
        soap_fejl_clear(&fejl);
        return;
    }
    xmlNodePtr root = xmlDocGetRootElement(doc);
    soap_xml_adopt_ns(root, SOAP_NS);
    const char *root_name = (const char *)root->name;
    if (!soap_xml_validate(st->schema, doc, root, &fejl)) {
        answer_svar(st, req, v, op, &fejl, NULL, 0, NULL, op->level, root_name);
        goto out;
    }
    dtr_level level = op->level, found = op->level;
    json_t *stored = NULL;
    if (op->kind == SK_UPDATE || op->kind == SK_VALIDATE) {
        for (int l = 0; l < 3; l++)
            if (op->kind == SK_VALIDATE && soap_is(root, SOAP_NS, soap_level_element((dtr_level)l)))
                level = (dtr_level)l;
        stored = stored_of(st, root, level, &found);
    }
    char today[11];
    soap_today(today);
    soap_plan plan;
    bool planned = soap_plan_build(op, root, stored, today, &plan, &fejl);
    json_decref(stored);
    if (!planned) {
        answer_svar(st, req, v, op, &fejl, NULL, 0, NULL, op->level, root_name);
        goto out;
    }
    imp_ctx *c = calloc(1, sizeof *c);
    if (!c) {
        soap_plan_free(&plan);
        soap_answer_fault1(st, req, v, 503, false, "IKKE_KLAR", "", "ikke mere hukommelse");
        goto out;
    }
    c->st = st;
    c->req = req;
    c->v = v;
    c->op = op;
    c->level = plan.level;
    snprintf(c->root, sizeof c->root, "%s", root_name);
    dtr_command cmd;
    memset(&cmd, 0, sizeof cmd);
    cmd.op = plan.op;
    cmd.level = plan.level;
    cmd.nummer = plan.nummer[0] ? plan.nummer : NULL;
    cmd.body = plan.body;
    cmd.if_match = plan.if_match;
    dtr_submission sub;
    memset(&sub, 0, sizeof sub);
    sub.commands = &cmd;
    sub.n_commands = 1;
    sub.flags = op->kind == SK_VALIDATE ? DTR_SUBMIT_DRY_RUN : 0;
    sub.request_id = api->req_id(req);
    api->req_on_abort(req, imp_abort, c);
    char err[256] = "";
    st->in_flight++;
    dtr_status s = api->command_submit(st->self, who, &sub, imp_done, c, err, sizeof err);
    soap_plan_free(&plan);
    if (s != DTR_OK) {
        st->in_flight--;
        api->req_on_abort(req, NULL, NULL);
        free(c);
        soap_answer_fault1(st, req, v, 503, false, "IKKE_KLAR", "",
                           err[0] ? err : "registeret tager ikke imod ændringer lige nu");
    }
out:
    soap_fejl_clear(&fejl);
    xmlFreeDoc(doc);
}
