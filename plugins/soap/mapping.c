/*
 * mapping.c -- an xmlData document (already valid against the XSD) turned
 * into the register command it asks for, and the register's field paths
 * turned back into element paths for ImportSvar's felt.
 *
 * Insert: the elements given become the record's fields (flat address
 * elements go into "adresse"; nested anvisningsEnhed / alternativAdresse
 * elements become the nested lists of the register's atomic create).
 * Update carries the whole record as the vendor holds it (decisions.md):
 * an optional element left out clears the field (null in the merge patch),
 * except the ones the XSD marks nillable (dawaId, geoBredde, geoLaengde:
 * the register's own geocoding, which placement systems never held), which
 * are kept when left out and cleared by xsi:nil="true". virkningFra and the
 * parent number may be sent back as the export gave them: equal to the
 * stored record they are dropped, otherwise the register refuses them
 * (SKRIVEBESKYTTET: virkningFra only on create, the parent only by Move).
 * version is If-Match. Nested anvisningsEnhed elements of an Update of a
 * daginstitution are changes to the children they name by number,
 * validated and committed together with it (as REST's PATCH).
 * Delete closes (nedlæg) on virkningTil, default today; with
 * fejlregistrering true it deletes. Move names the new parent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "soap.h"

#define XSI_NS "http://www.w3.org/2001/XMLSchema-instance"

static bool is_nil(xmlNodePtr e)
{
    xmlChar *v = xmlGetNsProp(e, (const xmlChar *)"nil", (const xmlChar *)XSI_NS);
    bool nil =
        v && (xmlStrEqual(v, (const xmlChar *)"true") || xmlStrEqual(v, (const xmlChar *)"1"));
    xmlFree(v);
    return nil;
}

/* The element's text, trimmed of surrounding XML whitespace only where the
 * XSD type collapses it (numbers, codes); strings are kept as written. */
static char *text_of(xmlNodePtr e)
{
    xmlChar *t = xmlNodeGetContent(e);
    char *s = strdup(t ? (const char *)t : "");
    xmlFree(t);
    return s;
}

static char *trimmed(char *s)
{
    char *p = s;
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    size_t n = strlen(p);
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\n' || p[n - 1] == '\r'))
        p[--n] = '\0';
    return p;
}

/* The JSON value of a field's element. */
static json_t *value_of(const soap_field *f, xmlNodePtr e)
{
    if (is_nil(e)) return json_null();
    char *s = text_of(e);
    if (!s) return NULL;
    json_t *v;
    switch (f->type) {
    case ST_EJERFORM:
    case ST_LOVGRUNDLAG:
    case ST_KOMMUNE:
    case ST_INSTTYPE:
    case ST_VERSION:
        v = json_integer(strtoll(trimmed(s), NULL, 10));
        break;
    case ST_BREDDE:
    case ST_LAENGDE:
        v = json_real(strtod(trimmed(s), NULL));
        break;
    default:
        v = s[0] ? json_string(s) : json_null();
        break;
    }
    free(s);
    return v;
}

static const soap_field *field_of(dtr_level level, const char *element, size_t *index)
{
    size_t n;
    const soap_field *fields = soap_fields(level, &n);
    for (size_t i = 0; i < n; i++)
        if ((fields[i].flags & SF_IMPORT) && strcmp(fields[i].element, element) == 0) {
            *index = i;
            return &fields[i];
        }
    return NULL;
}

static bool same_string(const json_t *a, const json_t *b)
{
    return json_is_string(a) && json_is_string(b) &&
           strcmp(json_string_value(a), json_string_value(b)) == 0;
}

/* The stored child named nummer of a stored record, or NULL. */
static const json_t *stored_kid(const json_t *stored, dtr_level level, const char *nummer)
{
    const char *key = soap_kids_key(level);
    const json_t *kids = key && stored ? json_object_get(stored, key) : NULL;
    size_t i;
    const json_t *k;
    json_array_foreach((json_t *)kids, i, k)
    {
        const char *kn = json_string_value(json_object_get(k, "nummer"));
        if (nummer && kn && strcmp(kn, nummer) == 0) return k;
    }
    return NULL;
}

/* One record element of a document into register JSON (see the top). */
static json_t *record_of(xmlNodePtr el, dtr_level level, bool update, const json_t *stored,
                         int64_t *if_match, bool top)
{
    size_t n;
    const soap_field *fields = soap_fields(level, &n);
    bool seen[32] = {false};
    json_t *rec = json_object(), *adr = json_object(), *kids = NULL;
    char nummer[7] = "";
    for (xmlNodePtr c = soap_first_element(el); c; c = soap_next_element(c)) {
        const char *name = (const char *)c->name;
        if (level != DTR_LEVEL_ALTERNATIV_ADRESSE &&
            strcmp(name, soap_level_element(level + 1)) == 0) {
            if (!kids) kids = json_array();
            /* children of an update are named by number: their stored form is the parent's child */
            json_t *kid = record_of(c, level + 1, update, NULL, NULL, false);
            if (update && stored) {
                const char *kn = json_string_value(json_object_get(kid, "nummer"));
                const json_t *sk = stored_kid(stored, level, kn);
                if (sk) {
                    const json_t *fra = json_object_get(kid, "virkningFra");
                    if (fra && json_equal((json_t *)fra, json_object_get(sk, "virkningFra")))
                        json_object_del(kid, "virkningFra");
                }
                const char *pf = level == DTR_LEVEL_DAGINSTITUTION ? "daginstitutionsNummer" : NULL;
                const json_t *pv = pf ? json_object_get(kid, pf) : NULL;
                if (pv && same_string(pv, json_object_get(stored, "nummer")))
                    json_object_del(kid, pf);
            }
            json_array_append_new(kids, kid);
            continue;
        }
        size_t i;
        const soap_field *f = field_of(level, name, &i);
        if (!f) continue; /* the XSD let nothing else through */
        if (i < 32) seen[i] = true;
        json_t *v = value_of(f, c);
        if (!v) continue;
        if (f->flags & SF_IFMATCH) {
            if (top && if_match && json_is_integer(v)) *if_match = json_integer_value(v);
            json_decref(v);
            continue;
        }
        if (f->flags & SF_KEY) {
            if (json_is_string(v)) snprintf(nummer, sizeof nummer, "%s", json_string_value(v));
            if (update && top) { /* the target, not a field */
                json_decref(v);
                continue;
            }
        }
        if (update && top && stored && (f->flags & (SF_PARENT | SF_FRA)) &&
            json_equal(v, json_object_get(stored, f->field))) {
            json_decref(v);
            continue;
        }
        json_object_set_new(f->in_adresse ? adr : rec, f->field, v);
    }
    if (update) { /* the whole record: what is left out is cleared, but the kept fields */
        for (size_t i = 0; i < n && i < 32; i++) {
            const soap_field *f = &fields[i];
            if (!(f->flags & SF_IMPORT) || seen[i]) continue;
            if (f->flags & (SF_KEY | SF_PARENT | SF_FRA | SF_IFMATCH | SF_KEPT)) continue;
            json_object_set_new(f->in_adresse ? adr : rec, f->field, json_null());
        }
    }
    if (json_object_size(adr) > 0)
        json_object_set_new(rec, "adresse", adr);
    else
        json_decref(adr);
    if (kids) json_object_set_new(rec, soap_kids_key(level), kids);
    return rec;
}

const char *soap_doc_root(const soap_op *op)
{
    switch (op->kind) {
    case SK_INSERT:
    case SK_UPDATE:
        return soap_level_element(op->level);
    case SK_DELETE:
        return "sletning";
    case SK_MOVE:
        return "flytning";
    default:
        return NULL;
    }
}

/* The text of root's child named name, or NULL (malloc'd). */
static char *child_text(xmlNodePtr root, const char *name)
{
    for (xmlNodePtr c = soap_first_element(root); c; c = soap_next_element(c))
        if (strcmp((const char *)c->name, name) == 0) {
            char *s = text_of(c);
            if (s) {
                char *t = trimmed(s);
                memmove(s, t, strlen(t) + 1);
            }
            return s;
        }
    return NULL;
}

const char *soap_doc_nummer(xmlNodePtr root, dtr_level level, char out[7])
{
    const char *name = "nummer";
    if (!soap_is(root, SOAP_NS, "sletning") && !soap_is(root, SOAP_NS, "flytning")) {
        size_t n;
        const soap_field *fields = soap_fields(level, &n);
        name = fields[0].element; /* the key comes first */
    }
    char *s = child_text(root, name);
    if (!s) return NULL;
    snprintf(out, 7, "%s", s);
    free(s);
    return out;
}

static const char *parent_field(dtr_level level)
{
    return level == DTR_LEVEL_ANVISNINGSENHED      ? "daginstitutionsNummer"
           : level == DTR_LEVEL_ALTERNATIV_ADRESSE ? "anvisningsenhedsNummer"
                                                   : NULL;
}

bool soap_plan_build(const soap_op *op, xmlNodePtr root, const json_t *stored, const char *today,
                     soap_plan *plan, soap_fejlliste *fejl)
{
    memset(plan, 0, sizeof *plan);
    plan->if_match = -1;
    plan->level = op->level;
    plan->root = (const char *)root->name;
    soap_kind kind = op->kind;
    const char *want = soap_doc_root(op);
    if (kind == SK_VALIDATE) { /* the document says what it is */
        for (int l = 0; l < 3; l++)
            if (soap_is(root, SOAP_NS, soap_level_element((dtr_level)l))) {
                plan->level = (dtr_level)l;
                char nr[7];
                kind = soap_doc_nummer(root, plan->level, nr) ? SK_UPDATE : SK_INSERT;
            }
        if (soap_is(root, SOAP_NS, "sletning")) kind = SK_DELETE;
        if (soap_is(root, SOAP_NS, "flytning")) kind = SK_MOVE;
    } else if (!soap_is(root, SOAP_NS, want)) {
        soap_fejl_add(fejl, "UGYLDIGT_FORMAT", "/", "%s tager et <%s>-dokument, ikke <%s>",
                      op->name, want, (const char *)root->name);
        return false;
    }
    switch (kind) {
    case SK_INSERT:
        plan->op = DTR_OP_CREATE;
        plan->body = record_of(root, plan->level, false, NULL, &plan->if_match, true);
        plan->if_match = -1;
        return true;
    case SK_UPDATE:
        plan->op = DTR_OP_UPDATE;
        if (!soap_doc_nummer(root, plan->level, plan->nummer)) {
            size_t n;
            char felt[128];
            snprintf(felt, sizeof felt, "/%s/%s", plan->root,
                     soap_fields(plan->level, &n)[0].element);
            soap_fejl_add(fejl, "MANGLER_FELT", felt, "en rettelse skal nævne postens nummer");
            return false;
        }
        plan->body = record_of(root, plan->level, true, stored, &plan->if_match, true);
        return true;
    case SK_DELETE: {
        soap_doc_nummer(root, plan->level, plan->nummer);
        char *til = child_text(root, "virkningTil"),
             *fejlreg = child_text(root, "fejlregistrering"),
             *version = child_text(root, "version");
        bool erase = fejlreg && (strcmp(fejlreg, "true") == 0 || strcmp(fejlreg, "1") == 0);
        plan->op = erase ? DTR_OP_DELETE : DTR_OP_CLOSE;
        plan->body = erase ? NULL : json_pack("{s:s}", "virkningTil", til ? til : today);
        if (version) plan->if_match = strtoll(version, NULL, 10);
        free(til);
        free(fejlreg);
        free(version);
        return true;
    }
    case SK_MOVE: {
        soap_doc_nummer(root, plan->level, plan->nummer);
        char *to = child_text(root, "nyForaelder"), *version = child_text(root, "version");
        plan->op = DTR_OP_MOVE;
        const char *pf = parent_field(plan->level);
        plan->body = json_pack("{s:s}", pf ? pf : "daginstitutionsNummer", to ? to : "");
        if (version) plan->if_match = strtoll(version, NULL, 10);
        free(to);
        free(version);
        return true;
    }
    default:
        soap_fejl_add(fejl, "UGYLDIGT_FORMAT", "/", "ukendt dokument <%s>",
                      (const char *)root->name);
        return false;
    }
}

void soap_plan_free(soap_plan *plan)
{
    json_decref(plan->body);
    plan->body = NULL;
}

/* ---- felt: register JSON path -> element path ---------------------------------------- */

void soap_felt_path(const char *felt, dtr_level level, const char *root_el, char *out, size_t size)
{
    size_t used = (size_t)snprintf(out, size, "/%s", root_el);
    bool doc = strcmp(root_el, "sletning") == 0 || strcmp(root_el, "flytning") == 0;
    const char *p = felt;
    while (*p && used < size) {
        char token[96];
        size_t n = strcspn(p, ".");
        if (n >= sizeof token) n = sizeof token - 1;
        memcpy(token, p, n);
        token[n] = '\0';
        p += n;
        if (*p == '.') p++;
        char *bracket = strchr(token, '[');
        long index = -1;
        if (bracket) {
            index = strtol(bracket + 1, NULL, 10);
            *bracket = '\0';
        }
        const char *name = token;
        if (strcmp(token, "anvisningsenheder") == 0 || strcmp(token, "alternativeAdresser") == 0) {
            level = strcmp(token, "anvisningsenheder") == 0 ? DTR_LEVEL_ANVISNINGSENHED
                                                            : DTR_LEVEL_ALTERNATIV_ADRESSE;
            name = soap_level_element(level);
        } else if (strcmp(token, "adresse") == 0) {
            continue; /* the address is flat */
        } else if (doc) {
            if (strcmp(token, "daginstitutionsNummer") == 0 ||
                strcmp(token, "anvisningsenhedsNummer") == 0)
                name = "nyForaelder";
        } else {
            size_t nf;
            const soap_field *fields = soap_fields(level, &nf);
            for (size_t i = 0; i < nf; i++)
                if (fields[i].field && (fields[i].flags & SF_IMPORT) &&
                    strcmp(fields[i].field, token) == 0) {
                    name = fields[i].element;
                    break;
                }
        }
        int w = index >= 0 ? snprintf(out + used, size - used, "/%s[%ld]", name, index + 1)
                           : snprintf(out + used, size - used, "/%s", name);
        if (w < 0) break;
        used += (size_t)w;
    }
}

/* ---- today in Copenhagen -------------------------------------------------------------- */

/* The last Sunday of month (1-12) of year, as a day of the month. */
static int last_sunday(int year, int month)
{
    struct tm t = {0};
    t.tm_year = year - 1900;
    t.tm_mon = month - 1;
    t.tm_mday = 31;
    t.tm_hour = 12;
    time_t s = timegm(&t);
    struct tm u;
    gmtime_r(&s, &u);
    return 31 - u.tm_wday;
}

void soap_today(char out[11])
{
    time_t now = time(NULL);
    struct tm u;
    gmtime_r(&now, &u);
    /* CEST from 01:00 UTC on the last Sunday of March to 01:00 UTC on the last of October */
    int year = u.tm_year + 1900;
    struct tm a = {0}, b = {0};
    a.tm_year = b.tm_year = u.tm_year;
    a.tm_mon = 2, a.tm_mday = last_sunday(year, 3), a.tm_hour = 1;
    b.tm_mon = 9, b.tm_mday = last_sunday(year, 10), b.tm_hour = 1;
    bool summer = now >= timegm(&a) && now < timegm(&b);
    time_t local = now + (summer ? 7200 : 3600);
    struct tm l;
    gmtime_r(&local, &l);
    strftime(out, 11, "%Y-%m-%d", &l);
}
