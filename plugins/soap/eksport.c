/*
 * eksport.c -- the EksportService's answers: typed XML, element names as
 * the CSV export layout's columns with their `_Tekst` texts (fields.c),
 * written with xmlTextWriter.
 *
 * Every read operation -- the GetAll* lists, the filtered lists and the
 * lookups by number -- is answered the same way: streamed from one
 * snapshot of a reader of the plugin's own, a page of records at a time,
 * through plugins/common/pump.c. The snapshot is taken on the loop thread
 * before the answer starts (a register that cannot be read gets a SOAP
 * fault, 503); each piece reads one page on a pool thread and writes its
 * records through one xmlTextWriter that lives as long as the answer, whose
 * output buffer hands its bytes to the piece being made (flushed at the
 * end of every piece). So the answer is never whole in memory: a slow
 * client holds one page plus the host's high-water mark. The writer closes
 * the envelope in the last piece; a read failing midway ends the answer
 * cut short (the client sees XML that is not well-formed, never a shorter
 * list) and is logged by the pump.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/pump.h"
#include "soap.h"

#define BX (const xmlChar *)
#define PAGE_FLAT 500  /* records per piece of a flat list */
#define PAGE_NESTED 50 /* daginstitutioner per piece, with their units */

/* ---- the streamed answer -------------------------------------------------------------- */

typedef struct sx_list {
    soap_state *st; /* loop thread only (release) */
    const dtr_host_api *api;
    soap_code_text_fn code_text;
    dtr_plugin *self; /* for code_text only ([any]) */
    dtr_reader *reader;
    const soap_op *op;
    soap_version v;
    char arg[256]; /* the parameter's value */
    int kommune;
    char after[7];
    bool done;
    xmlOutputBufferPtr ob;
    xmlTextWriterPtr w;
    pump *p; /* the piece being made; NULL between pieces */
} sx_list;

/* The writer's output: into the piece being made. */
static int sx_write(void *ctx, const char *buf, int len)
{
    sx_list *l = ctx;
    if (len <= 0) return 0;
    if (!l->p) return len; /* the answer is over (closing after a cut): nothing to send */
    return pump_put(l->p, buf, (size_t)len) ? len : -1;
}

static void sx_release(void *ctx)
{
    sx_list *l = ctx;
    l->p = NULL;
    if (l->w) xmlFreeTextWriter(l->w); /* closes l->ob */
    l->api->snapshot_end(l->reader);
    soap_reader_give(l->st, l->reader);
    free(l);
}

/* The envelope and the response element, open. */
static int sx_head(sx_list *l)
{
    xmlTextWriterPtr w = l->w;
    const char *pre = l->v == SOAP_12 ? "env" : "soap";
    char name[96];
    int rc = xmlTextWriterStartDocument(w, "1.0", "UTF-8", NULL);
    if (rc >= 0)
        rc = xmlTextWriterStartElementNS(w, BX pre, BX "Envelope",
                                         BX(l->v == SOAP_12 ? SOAP12_NS : SOAP11_NS));
    if (rc >= 0) rc = xmlTextWriterStartElementNS(w, BX pre, BX "Body", NULL);
    snprintf(name, sizeof name, "%sResponse", l->op->name);
    if (rc >= 0) rc = xmlTextWriterStartElementNS(w, NULL, BX name, BX SOAP_NS);
    snprintf(name, sizeof name, "%sResult", l->op->name);
    if (rc >= 0) rc = xmlTextWriterStartElement(w, BX name);
    return rc < 0 ? -1 : 0;
}

/* One page of the list into the writer. */
static int sx_page(sx_list *l)
{
    const soap_op *op = l->op;
    if (op->filter == SQ_NUMMER) {
        dtr_level level;
        json_t *rec = NULL;
        dtr_status rc = l->api->read_get(l->reader, l->arg, NULL, op->nested ? 1 : 0, &level, &rec);
        l->done = true;
        if (rc == DTR_NOT_FOUND || rc == DTR_GONE) return 0;
        if (rc != DTR_OK) return -1;
        int w = level == op->level ? soap_record_write(l->w, l->code_text, l->self, rec, level,
                                                       op->wrapper, op->nested)
                                   : 0;
        json_decref(rec);
        return w;
    }
    dtr_query q;
    memset(&q, 0, sizeof q);
    q.level = op->level;
    q.nested = op->nested;
    q.limit = op->nested ? PAGE_NESTED : PAGE_FLAT;
    q.after = l->after[0] ? l->after : NULL;
    switch (op->filter) {
    case SQ_PARENT:
        q.parent = l->arg;
        break;
    case SQ_ADM_KOMMUNE:
        q.adm_kommune = l->kommune;
        if (l->kommune <= 0) { /* no such kommune: nothing */
            l->done = true;
            return 0;
        }
        break;
    case SQ_NAVN:
        q.navn = l->arg[0] ? l->arg : NULL;
        break;
    case SQ_PNUMMER:
        q.p_nummer = l->arg;
        break;
    case SQ_CVR:
        q.cvr_nummer = l->arg;
        break;
    default:
        break;
    }
    json_t *items = NULL;
    char next[7] = "";
    dtr_status rc = l->api->read_list(l->reader, &q, &items, next);
    if (rc == DTR_NOT_FOUND || rc == DTR_INVALID) { /* a parent that does not exist: nothing */
        l->done = true;
        return 0;
    }
    if (rc != DTR_OK) return -1;
    size_t i;
    json_t *rec;
    json_array_foreach(items, i, rec)
    {
        if (soap_record_write(l->w, l->code_text, l->self, rec, op->level, op->wrapper,
                              op->nested) < 0) {
            json_decref(items);
            return -1;
        }
        pump_put_item(l->p, NULL, "", 0); /* counted for the log */
    }
    json_decref(items);
    memcpy(l->after, next, sizeof l->after);
    l->done = next[0] == '\0';
    return 0;
}

/* Pool thread: the next piece (the head in the first, the tail in the last). */
static int sx_piece(void *ctx, pump *p, bool *last)
{
    sx_list *l = ctx;
    l->p = p;
    int rc = 0;
    if (!l->w) {
        l->ob = xmlOutputBufferCreateIO(sx_write, NULL, l, NULL);
        l->w = l->ob ? xmlNewTextWriter(l->ob) : NULL;
        if (!l->w) {
            if (l->ob) xmlOutputBufferClose(l->ob);
            l->ob = NULL;
            rc = -1;
        } else {
            rc = sx_head(l);
        }
    }
    if (rc == 0 && !l->done) rc = sx_page(l);
    if (rc == 0 && l->done) {
        *last = true;
        rc = xmlTextWriterEndDocument(l->w) < 0 ? -1 : 0;
    }
    if (rc == 0 && xmlTextWriterFlush(l->w) < 0) rc = -1;
    l->p = NULL;
    return rc;
}

static const pump_ops sx_ops = {
    .what = "soap export",
    .items = "records",
    .piece = sx_piece,
    .release = sx_release,
};

/* GetKodetabel: small, answered at once. */
static void sx_kodetabel(soap_state *st, dtr_request *req, soap_version v, const soap_op *op,
                         const char *navn)
{
    static const struct {
        const char *navn, *list;
        int from, to;
    } tables[] = {{"kommuner", "kommune", 100, 999},
                  {"ejerformer", "ejerform", 1, 99},
                  {"lovgrundlag", "lovgrundlag", 1, 99},
                  {"institutionstyper", "institutionstype", 6000, 6099}};
    soap_out o;
    if (!soap_out_begin(&o, v)) {
        st->api->respond(req, 500, NULL, NULL, 0);
        return;
    }
    char name[96];
    snprintf(name, sizeof name, "%sResponse", op->name);
    xmlTextWriterStartElementNS(o.w, NULL, BX name, BX SOAP_NS);
    snprintf(name, sizeof name, "%sResult", op->name);
    xmlTextWriterStartElement(o.w, BX name);
    for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++) {
        if (strcmp(tables[t].navn, navn) != 0) continue;
        for (int k = tables[t].from; k <= tables[t].to; k++) {
            const char *text = st->api->code_text(st->self, tables[t].list, k);
            if (!text) continue;
            xmlTextWriterStartElement(o.w, BX "kode");
            xmlTextWriterWriteFormatElement(o.w, BX "kode", "%d", k);
            xmlTextWriterWriteElement(o.w, BX "tekst", BX text);
            xmlTextWriterEndElement(o.w);
        }
    }
    xmlTextWriterEndElement(o.w);
    xmlTextWriterEndElement(o.w);
    bool ok = soap_out_end(&o);
    if (ok)
        st->api->respond(req, 200, soap_content_type(v), xmlBufferContent(o.buf),
                         (size_t)xmlBufferLength(o.buf));
    else
        st->api->respond(req, 500, NULL, NULL, 0);
    soap_out_free(&o);
}

/* The text of the operation element's parameter ("" when none). */
static void param_text(const soap_envelope *env, char *out, size_t size)
{
    out[0] = '\0';
    xmlNodePtr p = soap_first_element(env->op_elem);
    if (!p) return;
    xmlChar *t = xmlNodeGetContent(p);
    snprintf(out, size, "%s", t ? (const char *)t : "");
    xmlFree(t);
}

void soap_eksport_run(soap_state *st, dtr_request *req, soap_version v, const soap_envelope *env)
{
    const dtr_host_api *api = st->api;
    const soap_op *op = env->op;
    if (op->kind == SK_HELLO) {
        soap_hello(st, req, v, op);
        return;
    }
    char arg[256];
    param_text(env, arg, sizeof arg);
    if (op->kind == SK_KODETABEL) {
        sx_kodetabel(st, req, v, op, arg);
        return;
    }
    sx_list *l = calloc(1, sizeof *l);
    dtr_reader *r = l ? soap_reader_take(st) : NULL;
    int64_t seq = 0;
    if (!r || api->snapshot_begin(r, &seq) != DTR_OK) {
        if (r) soap_reader_give(st, r);
        free(l);
        soap_answer_fault1(st, req, v, 503, false, "IKKE_KLAR", "", "registeret kunne ikke læses");
        return;
    }
    l->st = st;
    l->api = api;
    l->code_text = api->code_text;
    l->self = st->self;
    l->reader = r;
    l->op = op;
    l->v = v;
    /* the XSD checked the parameter's type; trim what xs:int and the patterns collapse */
    char *a = arg;
    while (*a == ' ' || *a == '\n' || *a == '\t' || *a == '\r')
        a++;
    snprintf(l->arg, sizeof l->arg, "%s", op->filter == SQ_NAVN ? arg : a);
    if (op->filter != SQ_NAVN) l->arg[strcspn(l->arg, " \t\r\n")] = '\0';
    if (op->filter == SQ_ADM_KOMMUNE) l->kommune = atoi(l->arg);
    if (!pump_start(api, st->self, req, soap_content_type(v), &sx_ops, l)) {
        api->snapshot_end(r);
        soap_reader_give(st, r);
        free(l);
        soap_answer_fault1(st, req, v, 503, false, "IKKE_KLAR", "", "arbejdskøen er fuld");
    }
}
