/*
 * envelope.c -- SOAP 1.1 and 1.2 envelopes: the answer's frame and the
 * faults, written with xmlTextWriter (every text escaped by libxml2).
 *
 * An answer is <Envelope><Body>...</Body></Envelope> in the version's
 * namespace (prefix soap: for 1.1, env: for 1.2). The Body's element
 * carries our namespace as its default (xmlns="urn:dagtilbudsregister:
 * soap:2"), so the elements inside it are written without prefixes.
 *
 * A fault: 1.1 <soap:Fault><faultcode>soap:Client|soap:Server</faultcode>
 * <faultstring>, 1.2 <env:Fault><env:Code><env:Value>env:Sender|
 * env:Receiver ... <env:Reason><env:Text xml:lang="da">; the detail holds
 * the same fejl list an ImportSvar would (<fejl><kode/><felt/><tekst/>).
 */
#include <string.h>

#include "soap.h"

#define BX (const xmlChar *)

static const char *env_ns(soap_version v)
{
    return v == SOAP_12 ? SOAP12_NS : SOAP11_NS;
}
static const char *env_prefix(soap_version v)
{
    return v == SOAP_12 ? "env" : "soap";
}

const char *soap_content_type(soap_version v)
{
    return v == SOAP_12 ? "application/soap+xml; charset=utf-8" : "text/xml; charset=utf-8";
}

int soap_fault_status(soap_version v, bool sender)
{
    return v == SOAP_12 && sender ? 400 : 500;
}

bool soap_out_begin(soap_out *o, soap_version v)
{
    o->buf = xmlBufferCreate();
    o->w = o->buf ? xmlNewTextWriterMemory(o->buf, 0) : NULL;
    if (!o->w) {
        if (o->buf) xmlBufferFree(o->buf);
        o->buf = NULL;
        return false;
    }
    const char *pre = env_prefix(v);
    int rc = xmlTextWriterStartDocument(o->w, "1.0", "UTF-8", NULL);
    if (rc >= 0) rc = xmlTextWriterStartElementNS(o->w, BX pre, BX "Envelope", BX env_ns(v));
    if (rc >= 0) rc = xmlTextWriterStartElementNS(o->w, BX pre, BX "Body", NULL);
    return rc >= 0;
}

bool soap_out_end(soap_out *o)
{
    int rc = xmlTextWriterEndDocument(o->w); /* closes Body and Envelope */
    xmlFreeTextWriter(o->w);
    o->w = NULL;
    return rc >= 0;
}

void soap_out_free(soap_out *o)
{
    if (o->w) xmlFreeTextWriter(o->w);
    if (o->buf) xmlBufferFree(o->buf);
    o->w = NULL;
    o->buf = NULL;
}

/* <fejl xmlns=ours><kode/><felt/><tekst/></fejl> for each. */
static int fejl_write(xmlTextWriterPtr w, const soap_fejlliste *fejl)
{
    int rc = 0;
    for (size_t i = 0; fejl && i < fejl->n && rc >= 0; i++) {
        const soap_fejl *f = &fejl->items[i];
        rc = xmlTextWriterStartElementNS(w, NULL, BX "fejl", BX SOAP_NS);
        if (rc >= 0) rc = xmlTextWriterWriteElement(w, BX "kode", BX f->kode);
        if (rc >= 0) rc = xmlTextWriterWriteElement(w, BX "felt", BX f->felt);
        if (rc >= 0) rc = xmlTextWriterWriteElement(w, BX "tekst", BX f->tekst);
        if (rc >= 0) rc = xmlTextWriterEndElement(w);
    }
    return rc;
}

bool soap_fault_write(soap_out *o, soap_version v, bool sender, const char *reason,
                      const soap_fejlliste *fejl)
{
    xmlTextWriterPtr w = o->w;
    const char *pre = env_prefix(v);
    char code[32];
    int rc = xmlTextWriterStartElementNS(w, BX pre, BX "Fault", NULL);
    if (v == SOAP_11) {
        snprintf(code, sizeof code, "soap:%s", sender ? "Client" : "Server");
        if (rc >= 0) rc = xmlTextWriterWriteElement(w, BX "faultcode", BX code);
        if (rc >= 0) rc = xmlTextWriterWriteElement(w, BX "faultstring", BX reason);
        if (rc >= 0) rc = xmlTextWriterStartElement(w, BX "detail");
    } else {
        snprintf(code, sizeof code, "env:%s", sender ? "Sender" : "Receiver");
        if (rc >= 0) rc = xmlTextWriterStartElementNS(w, BX pre, BX "Code", NULL);
        if (rc >= 0) rc = xmlTextWriterWriteElementNS(w, BX pre, BX "Value", NULL, BX code);
        if (rc >= 0) rc = xmlTextWriterEndElement(w);
        if (rc >= 0) rc = xmlTextWriterStartElementNS(w, BX pre, BX "Reason", NULL);
        if (rc >= 0) rc = xmlTextWriterStartElementNS(w, BX pre, BX "Text", NULL);
        if (rc >= 0) rc = xmlTextWriterWriteAttribute(w, BX "xml:lang", BX "da");
        if (rc >= 0) rc = xmlTextWriterWriteString(w, BX reason);
        if (rc >= 0) rc = xmlTextWriterEndElement(w);
        if (rc >= 0) rc = xmlTextWriterEndElement(w);
        if (rc >= 0) rc = xmlTextWriterStartElementNS(w, BX pre, BX "Detail", NULL);
    }
    if (rc >= 0) rc = fejl_write(w, fejl);
    if (rc >= 0) rc = xmlTextWriterEndElement(w); /* detail */
    if (rc >= 0) rc = xmlTextWriterEndElement(w); /* Fault */
    return rc >= 0;
}
