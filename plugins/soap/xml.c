/*
 * xml.c -- reading XML from the outside safely, and what the schema says
 * about it.
 *
 * Parsing (soap_xml_parse) is libxml2's tree parser with its SAX callbacks
 * guarded: the bytes must be UTF-8 (checked before libxml2 sees them, and
 * the document's own encoding declaration is overridden); a DOCTYPE stops
 * the parser at once (so no DTD, internal or external, is read and no
 * entity is ever declared: XXE and billion-laughs payloads end at their
 * first line); only the five predefined entities resolve; no network
 * (XML_PARSE_NONET, and the plugin's external entity loader refuses
 * everything); elements nest at most SOAP_MAX_DEPTH deep. The size is the
 * route's body limit.
 *
 * Validation (soap_xml_validate) runs the schema over one element's subtree
 * and turns each error into a fejl with the register's codes and the
 * element's path, one per element (libxml2 reports a facet and then the
 * type for the same value: the first, more precise, is kept).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/SAX2.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>

#include "soap.h"

/* ---- the fejl list ---------------------------------------------------------------- */

void soap_fejl_add(soap_fejlliste *l, const char *kode, const char *felt, const char *fmt, ...)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        if (cap > 1000) return; /* a bound on what one answer lists */
        soap_fejl *items = realloc(l->items, cap * sizeof *items);
        if (!items) return;
        l->items = items;
        l->cap = cap;
    }
    soap_fejl *f = &l->items[l->n++];
    snprintf(f->kode, sizeof f->kode, "%s", kode);
    snprintf(f->felt, sizeof f->felt, "%s", felt ? felt : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->tekst, sizeof f->tekst, fmt, ap);
    va_end(ap);
    /* a value quoted into a text may have been cut inside a character */
    soap_utf8_cut(f->felt);
    soap_utf8_cut(f->tekst);
}

void soap_fejl_clear(soap_fejlliste *l)
{
    free(l->items);
    l->items = NULL;
    l->n = l->cap = 0;
}

void soap_fejl_from_json(soap_fejlliste *l, const json_t *fejl, dtr_level root, const char *root_el)
{
    size_t i;
    const json_t *e;
    json_array_foreach((json_t *)fejl, i, e)
    {
        const char *kode = json_string_value(json_object_get(e, "kode"));
        const char *felt = json_string_value(json_object_get(e, "felt"));
        const char *tekst = json_string_value(json_object_get(e, "tekst"));
        char path[256];
        soap_felt_path(felt ? felt : "", root, root_el, path, sizeof path);
        soap_fejl_add(l, kode ? kode : "UGYLDIGT_FORMAT", path, "%s", tekst ? tekst : "");
    }
}

/* ---- UTF-8 ---------------------------------------------------------------------- */

size_t soap_utf8_prefix(const unsigned char *s, size_t len)
{
    const unsigned char *p = s, *end = s + len;
    while (p < end) {
        unsigned c = *p;
        if (c == 0) break;
        if (c < 0x80) {
            p++;
            continue;
        }
        size_t need;
        unsigned min, cp;
        if (c >= 0xC2 && c <= 0xDF)
            need = 1, min = 0x80, cp = c & 0x1F;
        else if (c >= 0xE0 && c <= 0xEF)
            need = 2, min = 0x800, cp = c & 0x0F;
        else if (c >= 0xF0 && c <= 0xF4)
            need = 3, min = 0x10000, cp = c & 0x07;
        else
            break;
        if ((size_t)(end - p) <= need) break;
        size_t i;
        for (i = 1; i <= need && (p[i] & 0xC0) == 0x80; i++)
            cp = (cp << 6) | (p[i] & 0x3F);
        if (i <= need || cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) break;
        p += need + 1;
    }
    return (size_t)(p - s);
}

bool soap_utf8_valid(const unsigned char *p, size_t len)
{
    return soap_utf8_prefix(p, len) == len;
}

void soap_utf8_cut(char *s)
{
    s[soap_utf8_prefix((const unsigned char *)s, strlen(s))] = '\0';
}

/* ---- the guarded parser ------------------------------------------------------------ */

typedef struct guard {
    int depth;
    soap_parse_err err;
} guard;

static void guard_stop(xmlParserCtxtPtr c, soap_parse_err err)
{
    guard *g = c->_private;
    if (!g->err) g->err = err;
    xmlStopParser(c);
}

static void guard_start(void *ctx, const xmlChar *localname, const xmlChar *prefix,
                        const xmlChar *uri, int nb_namespaces, const xmlChar **namespaces,
                        int nb_attributes, int nb_defaulted, const xmlChar **attributes)
{
    xmlParserCtxtPtr c = ctx;
    guard *g = c->_private;
    if (++g->depth > SOAP_MAX_DEPTH) {
        guard_stop(c, SP_DEPTH);
        return;
    }
    xmlSAX2StartElementNs(ctx, localname, prefix, uri, nb_namespaces, namespaces, nb_attributes,
                          nb_defaulted, attributes);
}

static void guard_end(void *ctx, const xmlChar *localname, const xmlChar *prefix,
                      const xmlChar *uri)
{
    xmlParserCtxtPtr c = ctx;
    guard *g = c->_private;
    g->depth--;
    xmlSAX2EndElementNs(ctx, localname, prefix, uri);
}

static void guard_doctype(void *ctx, const xmlChar *name, const xmlChar *external_id,
                          const xmlChar *system_id)
{
    (void)name, (void)external_id, (void)system_id;
    guard_stop(ctx, SP_DOCTYPE);
}

static void guard_entity_decl(void *ctx, const xmlChar *name, int type, const xmlChar *public_id,
                              const xmlChar *system_id, xmlChar *content)
{
    (void)name, (void)type, (void)public_id, (void)system_id, (void)content;
    guard_stop(ctx, SP_DOCTYPE);
}

/* Only &lt; &gt; &amp; &quot; &apos; exist. */
static xmlEntityPtr guard_get_entity(void *ctx, const xmlChar *name)
{
    (void)ctx;
    return xmlGetPredefinedEntity(name);
}

xmlDocPtr soap_xml_parse(const void *bytes, size_t len, soap_parse_err *err, char *why,
                         size_t whylen)
{
    *err = SP_OK;
    if (why && whylen) why[0] = '\0';
    if (!soap_utf8_valid(bytes, len) || len > INT32_MAX) {
        *err = SP_UTF8;
        if (why) snprintf(why, whylen, "teksten er ikke gyldig UTF-8");
        return NULL;
    }
    xmlParserCtxtPtr c = xmlNewParserCtxt();
    if (!c) {
        *err = SP_SYNTAX;
        if (why) snprintf(why, whylen, "ikke mere hukommelse");
        return NULL;
    }
    guard g = {0, SP_OK};
    c->_private = &g;
    c->sax->startElementNs = guard_start;
    c->sax->endElementNs = guard_end;
    c->sax->internalSubset = guard_doctype;
    c->sax->externalSubset = guard_doctype;
    c->sax->entityDecl = guard_entity_decl;
    c->sax->getEntity = guard_get_entity;
    c->sax->getParameterEntity = guard_get_entity;
    xmlDocPtr doc = xmlCtxtReadMemory(c, bytes, (int)len, NULL, "UTF-8",
                                      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
                                          XML_PARSE_IGNORE_ENC);
    if (g.err || !doc || !c->wellFormed) {
        if (doc) xmlFreeDoc(doc);
        doc = NULL;
        *err = g.err ? g.err : SP_SYNTAX;
        if (why) {
            if (*err == SP_DOCTYPE)
                snprintf(why, whylen, "DOCTYPE, DTD og entiteter modtages ikke");
            else if (*err == SP_DEPTH)
                snprintf(why, whylen, "elementerne ligger dybere end %d niveauer", SOAP_MAX_DEPTH);
            else {
                const xmlError *e = xmlCtxtGetLastError(c);
                snprintf(why, whylen, "ikke velformet XML (linje %d): %s", e ? e->line : 0,
                         e && e->message ? e->message : "ukendt fejl");
                size_t n = strlen(why);
                while (n && (why[n - 1] == '\n' || why[n - 1] == ' '))
                    why[--n] = '\0';
                soap_utf8_cut(why); /* the message may have been cut inside a character */
            }
        }
    }
    xmlFreeParserCtxt(c);
    return doc;
}

/* ---- walking ----------------------------------------------------------------------- */

xmlNodePtr soap_next_element(xmlNodePtr node)
{
    for (node = node ? node->next : NULL; node; node = node->next)
        if (node->type == XML_ELEMENT_NODE) return node;
    return NULL;
}

xmlNodePtr soap_first_element(xmlNodePtr node)
{
    for (node = node ? node->children : NULL; node; node = node->next)
        if (node->type == XML_ELEMENT_NODE) return node;
    return NULL;
}

bool soap_is(const xmlNode *node, const char *ns, const char *local)
{
    if (!node || node->type != XML_ELEMENT_NODE || strcmp((const char *)node->name, local) != 0)
        return false;
    if (!ns) return node->ns == NULL;
    return node->ns && node->ns->href && strcmp((const char *)node->ns->href, ns) == 0;
}

void soap_xml_path(const xmlNode *node, char *out, size_t size)
{
    while (node && node->type != XML_ELEMENT_NODE)
        node = node->parent;
    if (!node) {
        snprintf(out, size, "/");
        return;
    }
    const xmlNode *chain[SOAP_MAX_DEPTH + 2];
    size_t n = 0;
    for (const xmlNode *p = node; p && p->type == XML_ELEMENT_NODE && n < SOAP_MAX_DEPTH + 2;
         p = p->parent)
        chain[n++] = p;
    size_t used = 0;
    out[0] = '\0';
    while (n-- > 0 && used < size) {
        const xmlNode *e = chain[n];
        int index = 0, same = 0;
        if (e->parent && e->parent->type == XML_ELEMENT_NODE) {
            for (const xmlNode *s = e->parent->children; s; s = s->next) {
                if (s->type != XML_ELEMENT_NODE || !xmlStrEqual(s->name, e->name)) continue;
                same++;
                if (s == e) index = same;
            }
        }
        /* the nested records (lists in the register) always carry their index,
         * as the register's own paths do ("anvisningsenheder[0]") */
        bool listed = e->parent && e->parent->type == XML_ELEMENT_NODE &&
                      (xmlStrEqual(e->name, (const xmlChar *)"anvisningsEnhed") ||
                       xmlStrEqual(e->name, (const xmlChar *)"alternativAdresse"));
        int w = same > 1 || listed ? snprintf(out + used, size - used, "/%s[%d]", e->name, index)
                                   : snprintf(out + used, size - used, "/%s", e->name);
        if (w < 0) break;
        used += (size_t)w;
    }
}

void soap_xml_adopt_ns(xmlNodePtr root, const char *ns)
{
    xmlNsPtr n = NULL;
    for (xmlNodePtr e = root; e;) {
        if (e->type == XML_ELEMENT_NODE && !e->ns) {
            if (!n) n = xmlNewNs(root, (const xmlChar *)ns, NULL);
            if (n) xmlSetNs(e, n);
        }
        /* depth-first over elements */
        xmlNodePtr kid = soap_first_element(e);
        if (kid) {
            e = kid;
            continue;
        }
        while (e && e != root && !soap_next_element(e))
            e = e->parent;
        if (!e || e == root) break;
        e = soap_next_element(e);
    }
}

/* ---- validation --------------------------------------------------------------------- */

typedef struct verrors {
    soap_fejlliste *fejl;
    size_t first; /* fejl from here on are this validation's */
} verrors;

/* Whether element name is required in a record element named parent
 * (the xmlData documents; sletning and flytning need their numbers). */
static bool required_in(const char *parent, const char *name)
{
    if (strcmp(parent, "sletning") == 0) return strcmp(name, "nummer") == 0;
    if (strcmp(parent, "flytning") == 0)
        return strcmp(name, "nummer") == 0 || strcmp(name, "nyForaelder") == 0;
    for (int l = 0; l < 3; l++) {
        if (strcmp(parent, soap_level_element((dtr_level)l)) != 0) continue;
        size_t n;
        const soap_field *f = soap_fields((dtr_level)l, &n);
        for (size_t i = 0; i < n; i++)
            if ((f[i].flags & SF_REQUIRED) && strcmp(f[i].element, name) == 0) return true;
    }
    return false;
}

static bool has_child(xmlNodePtr parent, const char *name)
{
    for (xmlNodePtr c = soap_first_element(parent); c; c = soap_next_element(c))
        if (strcmp((const char *)c->name, name) == 0) return true;
    return false;
}

/* The first element of libxml2's "Expected is ( {ns}a, {ns}b )." that is
 * required in parent and absent from it, into out ("" when none). */
static void missing_name(const char *msg, xmlNodePtr parent, char *out, size_t size)
{
    out[0] = '\0';
    const char *p = msg ? strstr(msg, "Expected is") : NULL;
    p = p ? strchr(p, '(') : NULL;
    if (!p || !parent) return;
    p++;
    while (*p && *p != ')') {
        while (*p == ' ' || *p == ',')
            p++;
        if (*p == '{') {
            const char *close = strchr(p, '}');
            if (!close) return;
            p = close + 1;
        }
        size_t n = strcspn(p, " ,)");
        char name[64];
        if (n == 0 || n >= sizeof name) return;
        memcpy(name, p, n);
        name[n] = '\0';
        p += n;
        if (required_in((const char *)parent->name, name) && !has_child(parent, name)) {
            snprintf(out, size, "%s", name);
            return;
        }
    }
}

static void on_schema_error(void *udata, xmlErrorPtr e)
{
    verrors *v = udata;
    char felt[256];
    xmlNodePtr node = e->node;
    soap_xml_path(node, felt, sizeof felt);
    const char *kode = "UGYLDIGT_FORMAT", *tekst = "ugyldigt format";
    bool missing = e->message && strstr(e->message, "Missing child");
    bool unexpected = e->message && strstr(e->message, "not expected");
    switch (missing || unexpected ? XML_SCHEMAV_CVC_COMPLEX_TYPE_2_4 : e->code) {
    case XML_SCHEMAV_CVC_COMPLEX_TYPE_2_4:
    case XML_SCHEMAV_CVC_COMPLEX_TYPE_2_3:
    case XML_SCHEMAV_CVC_COMPLEX_TYPE_2_1:
    case XML_SCHEMAV_ELEMENT_CONTENT: {
        char name[64];
        /* "missing" names the parent, "not expected" the element where a
         * required one should have been: both point at what is missing */
        xmlNodePtr parent = missing ? node : node ? node->parent : NULL;
        missing_name(e->message, parent, name, sizeof name);
        if (name[0]) {
            soap_xml_path(parent, felt, sizeof felt);
            size_t used = strlen(felt);
            snprintf(felt + used, sizeof felt - used, "/%s", name);
            kode = "MANGLER_FELT", tekst = "feltet skal udfyldes";
        } else if (missing) {
            kode = "MANGLER_FELT", tekst = "der mangler et element";
        } else {
            kode = "UKENDT_FELT",
            tekst = "elementet hører ikke til her (ukendt, gentaget eller i forkert rækkefølge)";
        }
        break;
    }
    case XML_SCHEMAV_CVC_ELT_1:
        kode = "UKENDT_FELT", tekst = "ukendt dokument";
        break;
    case XML_SCHEMAV_CVC_MAXLENGTH_VALID:
    case XML_SCHEMAV_CVC_LENGTH_VALID:
        kode = "FOR_LANG", tekst = "for mange tegn";
        break;
    case XML_SCHEMAV_CVC_MINLENGTH_VALID:
        kode = "MANGLER_FELT", tekst = "feltet skal udfyldes";
        break;
    case XML_SCHEMAV_CVC_ENUMERATION_VALID:
        kode = "UKENDT_KODE", tekst = "koden findes ikke i kodetabellen";
        break;
    case XML_SCHEMAV_CVC_PATTERN_VALID:
        kode = "UGYLDIGT_FORMAT", tekst = "værdien har ikke det krævede format";
        break;
    case XML_SCHEMAV_CVC_MININCLUSIVE_VALID:
    case XML_SCHEMAV_CVC_MAXINCLUSIVE_VALID:
        kode = "UGYLDIGT_FORMAT", tekst = "værdien ligger uden for det tilladte interval";
        break;
    case XML_SCHEMAV_CVC_DATATYPE_VALID_1_2_1:
        kode = "FORKERT_TYPE", tekst = "værdien har forkert type";
        break;
    default:
        break;
    }
    for (size_t i = v->first; i < v->fejl->n; i++)
        if (strcmp(v->fejl->items[i].felt, felt) == 0) return; /* one per element */
    soap_fejl_add(v->fejl, kode, felt, "%s", tekst);
}

bool soap_xml_validate(xmlSchemaPtr schema, xmlDocPtr doc, xmlNodePtr elem, soap_fejlliste *fejl)
{
    (void)doc;
    xmlSchemaValidCtxtPtr vc = xmlSchemaNewValidCtxt(schema);
    if (!vc) {
        soap_fejl_add(fejl, "IKKE_KLAR", "", "ikke mere hukommelse");
        return false;
    }
    verrors v = {fejl, fejl->n};
    xmlSchemaSetValidStructuredErrors(vc, on_schema_error, &v);
    int rc = xmlSchemaValidateOneElement(vc, elem);
    xmlSchemaFreeValidCtxt(vc);
    if (rc != 0 && fejl->n == v.first)
        soap_fejl_add(fejl, "UGYLDIGT_FORMAT", "", "ugyldigt dokument");
    return rc == 0;
}
