/*
 * soap.h -- the insides of the soap plugin: the real register's
 * ImportService and EksportService (API.md, "SOAP compatibility") over the
 * same register commands and reads as REST. The seams:
 *
 *   fields.c   the record elements of the three levels (one table for the
 *              XSD, for xmlData -> register JSON and for the export writer)
 *              and the operations of both services
 *   schema.c   the one XSD (built once from the tables and the host's code
 *              lists) and the two WSDL 1.1 documents
 *   xml.c      safe parsing (no DTD, no entities, no network, bounded
 *              depth, UTF-8 only), element paths, XSD validation into fejl
 *   envelope.c SOAP 1.1/1.2 envelopes in, answers and faults out
 *   mapping.c  an xmlData document -> register command(s); register JSON
 *              paths -> element paths
 *   importsvc.c the ImportService operations (commands through the host)
 *   eksport.c  the EksportService answers, streamed from one snapshot
 *   plugin.c   the descriptor, init, routes, dispatch
 *
 * Everything runs on the loop thread but the export's pieces (pool).
 */
#ifndef DTR_SOAP_H
#define DTR_SOAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <dtr/plugin.h>
#include <libxml/tree.h>
#include <libxml/xmlschemas.h>
#include <libxml/xmlwriter.h>

#define SOAP_NS "urn:dagtilbudsregister:soap:2"
#define SOAP11_NS "http://schemas.xmlsoap.org/soap/envelope/"
#define SOAP12_NS "http://www.w3.org/2003/05/soap-envelope"
#define SOAP_MAX_DEPTH 24 /* elements deep, envelope included */

/* ---- fields.c ----------------------------------------------------------- */

typedef enum soap_type {
    ST_NUMMER,
    ST_NAVN,
    ST_VEJNAVN,
    ST_BYNAVN,
    ST_TEKST34,
    ST_EMAIL,
    ST_TELEFON,
    ST_CVR,
    ST_PNUMMER,
    ST_HUSNUMMER,
    ST_POSTNUMMER,
    ST_UUID,
    ST_BREDDE,
    ST_LAENGDE,
    ST_DATO,
    ST_EJERFORM,
    ST_LOVGRUNDLAG,
    ST_KOMMUNE,
    ST_INSTTYPE,
    ST_TEKST,   /* a code's _Tekst */
    ST_STATUS,  /* aktivitetsstatus */
    ST_VERSION, /* a record's version */
    ST_TID      /* opdateret */
} soap_type;

enum {
    SF_IMPORT = 1u << 0,   /* an element of the xmlData document */
    SF_EXPORT = 1u << 1,   /* an element of the EksportService answer */
    SF_REQUIRED = 1u << 2, /* required in xmlData (minOccurs 1) */
    SF_KEPT = 1u << 3,     /* Update: left out keeps the stored value; xsi:nil clears */
    SF_KEY = 1u << 4,      /* the record's own number */
    SF_PARENT = 1u << 5,   /* the parent's number */
    SF_IFMATCH = 1u << 6,  /* import: the version named by If-Match */
    SF_FRA = 1u << 7       /* virkningFra: create only */
};

typedef struct soap_field {
    const char *element; /* the XML element, e.g. "dagtilbudsNavn" */
    const char *field;   /* the record's field (API.md name); NULL for a _Tekst */
    bool in_adresse;     /* the field lives in the record's "adresse" */
    soap_type type;
    unsigned flags;
    const char *list; /* ST_TEKST: the code list; the code is the field before */
} soap_field;

/* The elements of a level's record in document order, *n set. */
const soap_field *soap_fields(dtr_level level, size_t *n);
/* The element a nested record of level is written as ("anvisningsEnhed"). */
const char *soap_level_element(dtr_level level);
/* The register JSON key of the children of level ("anvisningsenheder"), or NULL. */
const char *soap_kids_key(dtr_level level);
/* The XSD type of a field's element ("tns:Nummer", "xs:string"). */
const char *soap_type_name(soap_type t);

typedef enum soap_service { SOAP_IMPORT, SOAP_EKSPORT } soap_service;

typedef enum soap_kind {
    SK_HELLO,
    SK_SCHEMA,
    SK_VALIDATE,
    SK_INSERT,
    SK_UPDATE,
    SK_DELETE,
    SK_MOVE,
    SK_READ, /* an EksportService list or record */
    SK_KODETABEL
} soap_kind;

/* What an export read filters on. */
typedef enum soap_filter {
    SQ_ALL,
    SQ_NUMMER,
    SQ_PARENT,
    SQ_ADM_KOMMUNE,
    SQ_NAVN,
    SQ_PNUMMER,
    SQ_CVR
} soap_filter;

typedef struct soap_op {
    soap_service service;
    const char *name; /* the operation, e.g. "InsertDaginstitution" */
    soap_kind kind;
    dtr_level level;     /* the records it writes or reads */
    const char *param;   /* its one parameter element, or NULL */
    const char *ptype;   /* the parameter's XSD type */
    const char *rtype;   /* the Result element's XSD type */
    soap_filter filter;  /* SK_READ */
    bool nested;         /* SK_READ: three levels nested (dagtilbudsRegister) */
    const char *wrapper; /* SK_READ: the answer's record element ("daginstitution") */
} soap_op;

/* The operations of both services, a NULL name ends the table. */
extern const soap_op soap_ops[];
/* The operation of service named name (local name), or NULL. */
const soap_op *soap_op_find(soap_service service, const char *name);
const char *soap_service_name(soap_service s);

/* ---- schema.c ----------------------------------------------------------- */

/* The host's code_text (ABI 2.0: with the calling instance). */
typedef const char *(*soap_code_text_fn)(dtr_plugin *self, const char *list, int kode);

/* The XSD text (malloc'd, *len set) built from the tables with the code
 * lists enumerated through code_text; NULL when out of memory. */
char *soap_xsd_build(soap_code_text_fn code_text, dtr_plugin *self, size_t *len);
/* The WSDL 1.1 of service, whose port addresses are base + "/soap/<svc>"
 * (base like "http://host:port"), with xsd (the schema text) inlined in
 * its types. malloc'd, *len set; NULL when out of memory. */
char *soap_wsdl_build(soap_service service, const char *xsd, const char *base, size_t *len);

/* ---- xml.c -------------------------------------------------------------- */

/* One fejl: kode, felt (element path), tekst. */
typedef struct soap_fejl {
    char kode[32];
    char felt[256];
    char tekst[256];
} soap_fejl;

typedef struct soap_fejlliste {
    soap_fejl *items;
    size_t n, cap;
} soap_fejlliste;

void soap_fejl_add(soap_fejlliste *l, const char *kode, const char *felt, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void soap_fejl_clear(soap_fejlliste *l);
/* Adds every {"kode","felt","tekst"} of a register refusal (json array). */
void soap_fejl_from_json(soap_fejlliste *l, const json_t *fejl, dtr_level root,
                         const char *root_el);

/* Why a parse failed. */
typedef enum soap_parse_err {
    SP_OK = 0,
    SP_UTF8,    /* not UTF-8, or a NUL */
    SP_DOCTYPE, /* a DOCTYPE (DTDs and entities are never read) */
    SP_DEPTH,   /* deeper than SOAP_MAX_DEPTH */
    SP_SYNTAX   /* not well-formed XML */
} soap_parse_err;

/* Parses len bytes as one XML document with no network, no DTD, no entity
 * expansion, a bounded depth, UTF-8 only. A new document, or NULL with *err
 * (and a short reason in why). */
xmlDocPtr soap_xml_parse(const void *bytes, size_t len, soap_parse_err *err, char *why,
                         size_t whylen);
/* Whether [s, s+len) is UTF-8 by RFC 3629 without NUL. */
bool soap_utf8_valid(const unsigned char *s, size_t len);
/* The length of the longest prefix of [s, s+len) that is (soap_utf8_valid). */
size_t soap_utf8_prefix(const unsigned char *s, size_t len);
/* Cuts the NUL-terminated s at its first byte that is not UTF-8: a text
 * truncated by snprintf inside a character (an answer must be UTF-8). */
void soap_utf8_cut(char *s);
/* The element path of node: "/daginstitution/anvisningsEnhed[2]/navn" (an
 * index where the parent has more than one of that name, and always on a
 * nested anvisningsEnhed or alternativAdresse, as in the register's paths). */
void soap_xml_path(const xmlNode *node, char *out, size_t size);
/* The first child element of node, or the next element sibling. */
xmlNodePtr soap_first_element(xmlNodePtr node);
xmlNodePtr soap_next_element(xmlNodePtr node);
/* Validates the subtree of elem against schema; every error becomes a fejl
 * (codes as the register's: MANGLER_FELT, UKENDT_FELT, FOR_LANG,
 * UGYLDIGT_FORMAT, UKENDT_KODE, FORKERT_TYPE). True when valid. */
bool soap_xml_validate(xmlSchemaPtr schema, xmlDocPtr doc, xmlNodePtr elem, soap_fejlliste *fejl);
/* Whether node is an element named local in namespace ns. */
bool soap_is(const xmlNode *node, const char *ns, const char *local);
/* Puts every element of the subtree without a namespace into ns. */
void soap_xml_adopt_ns(xmlNodePtr root, const char *ns);

/* ---- envelope.c --------------------------------------------------------- */

typedef enum soap_version { SOAP_11 = 1, SOAP_12 = 2 } soap_version;

/* An envelope read: the document and the Body's one element. */
typedef struct soap_envelope {
    xmlDocPtr doc;
    xmlNodePtr op_elem;
    const soap_op *op;
} soap_envelope;

/* A growing byte buffer for answers written with xmlTextWriter. */
typedef struct soap_out {
    xmlBufferPtr buf;
    xmlTextWriterPtr w;
} soap_out;

/* Begins an answer envelope of version v with the Body open. False when
 * out of memory. */
bool soap_out_begin(soap_out *o, soap_version v);
/* Closes the Body and Envelope; the bytes are in o->buf. */
bool soap_out_end(soap_out *o);
void soap_out_free(soap_out *o);
const char *soap_content_type(soap_version v);
/* Writes a Fault (sender: the caller's fault; else the server's) with
 * reason and the fejl list in its detail, into an envelope of v. */
bool soap_fault_write(soap_out *o, soap_version v, bool sender, const char *reason,
                      const soap_fejlliste *fejl);
/* The HTTP status of a fault. */
int soap_fault_status(soap_version v, bool sender);

/* ---- mapping.c ---------------------------------------------------------- */

/* The commands one xmlData document makes (at most a few; owned bodies). */
typedef struct soap_plan {
    dtr_op op;
    dtr_level level;
    char nummer[7];   /* the target; "" on create */
    json_t *body;     /* owned; NULL for delete */
    int64_t if_match; /* -1 when absent */
    const char *root; /* the document's root element name */
} soap_plan;

/* The root element an operation's xmlData has ("daginstitution", "sletning"). */
const char *soap_doc_root(const soap_op *op);
/* Turns a valid xmlData root into a plan for op (kind insert, update,
 * delete, move; SK_VALIDATE picks by the root and the number). stored is the
 * record the update targets as read now (NULL when unknown): virkningFra and
 * the parent equal to it are dropped. False with fejl when the document
 * cannot be a command for op (another root). */
bool soap_plan_build(const soap_op *op, xmlNodePtr root, const json_t *stored, const char *today,
                     soap_plan *plan, soap_fejlliste *fejl);
void soap_plan_free(soap_plan *plan);
/* The number an update/delete/move document names, or NULL. */
const char *soap_doc_nummer(xmlNodePtr root, dtr_level level, char out[7]);
/* Maps a register felt ("anvisningsenheder[1].adresse.postNummer") under a
 * document whose root is root_el of level to an element path
 * ("/daginstitution/anvisningsEnhed[2]/postNummer"). */
void soap_felt_path(const char *felt, dtr_level level, const char *root_el, char *out, size_t size);
/* Today's date in Europe/Copenhagen, "YYYY-MM-DD". */
void soap_today(char out[11]);

/* ---- eksport.c ---------------------------------------------------------- */

/* Writes one record of level as its answer element name (with children
 * when nested) through w. code_text gives the _Tekst texts. 0 or -1. */
int soap_record_write(xmlTextWriterPtr w, soap_code_text_fn code_text, dtr_plugin *self,
                      const json_t *rec, dtr_level level, const char *element, bool nested);

/* ---- plugin.c: the instance ---------------------------------------------- */

#define SOAP_READERS 4 /* readers kept for the export's answers */

typedef struct soap_state {
    dtr_plugin *self;
    const dtr_host_api *api;
    char *xsd; /* the schema's text */
    size_t xsd_len;
    xmlSchemaPtr schema;
    dtr_reader *readers[SOAP_READERS]; /* idle readers of the instance */
    size_t n_readers;
    void *bindings; /* the routes' udata (plugin.c) */
} soap_state;

/* A reader of the instance's own for a long read (reader_open when none is
 * idle), and giving it back. Loop thread. */
dtr_reader *soap_reader_take(soap_state *st);
void soap_reader_give(soap_state *st, dtr_reader *r);

/* Answers req with an envelope of v holding a fault, and ends it. */
void soap_answer_fault(soap_state *st, dtr_request *req, soap_version v, int status, bool sender,
                       const char *reason, const soap_fejlliste *fejl);
/* Same with one fejl. */
void soap_answer_fault1(soap_state *st, dtr_request *req, soap_version v, int status, bool sender,
                        const char *kode, const char *felt, const char *tekst);
/* Answers req with <OpResponse><OpResult>text</OpResult></OpResponse>. */
void soap_answer_string(soap_state *st, dtr_request *req, soap_version v, const soap_op *op,
                        const char *text);
/* HelloWorld: "Hello <timestamp>" once the store answers. */
void soap_hello(soap_state *st, dtr_request *req, soap_version v, const soap_op *op);

/* ---- importsvc.c ---------------------------------------------------------- */

/* Runs an ImportService operation whose envelope was read (env borrowed;
 * the caller frees it after the call) for client. Answers req. */
void soap_import_run(soap_state *st, dtr_request *req, soap_version v, const dtr_identity *who,
                     const soap_envelope *env);

/* ---- eksport.c ------------------------------------------------------------ */

/* Runs an EksportService read operation: answers req (streamed for lists). */
void soap_eksport_run(soap_state *st, dtr_request *req, soap_version v, const soap_envelope *env);

/* ---- openapi.c ------------------------------------------------------------ */

void soap_openapi_describe(const dtr_host_api *api, dtr_plugin *self);

#endif /* DTR_SOAP_H */
