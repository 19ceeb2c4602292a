/*
 * fuzz_soap.c -- libFuzzer harness of the SOAP plugin's request path: the
 * bytes of a POST to /soap/ImportService or /soap/EksportService through
 * the real plugin (envelope, operation, parameters, the xmlData document,
 * the schema, the mapping, the answer writers), on a fake host whose
 * register is the pure core/register/ deciding against a small fixed
 * state (one daginstitution G00001 with unit G00002 and alternativ adresse
 * G00003, made by a real create at start).
 *
 * Input: one header byte, then the request body.
 *   bit 0     the service: ImportService (0) or EksportService (1)
 *   bits 1-2  Content-Type: text/xml, application/soap+xml, text/xml with
 *             a SOAPAction naming another operation, none
 *   bit 3     the client is unknown (req_authenticate declines)
 *   bit 4     public_read off
 *
 * Checked on every request, not only "no crash":
 *   - exactly one answer, with a status the API documents for SOAP (200,
 *     400, 401, 415, 500, 503);
 *   - an XML answer is well-formed, and is an Envelope of the request's SOAP
 *     version (1.1 when the Content-Type names none);
 *   - a command the register accepted is answered 200 with an ImportSvar of
 *     status OK naming the record; one it refused with status FEJL and at
 *     least one fejl; the plugin submits at most one command per request,
 *     and a Validate only as a dry run;
 *   - nothing is held after the answer (ASan's leak check at exit).
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <libxml/parser.h>

#include "register/register.h"
#include "soap.h"

#define FZ_RECS 8

static void fz_check(bool ok, const char *what);

/* ---- the register: a fixed state decided on by core/register ------------------------ */

typedef struct fz_rec {
    reg_level level;
    json_t *rec;
} fz_rec;

static fz_rec recs[FZ_RECS];
static size_t n_recs;
static int next_number = 1;

static fz_rec *rec_find(const char *nummer)
{
    for (size_t i = 0; i < n_recs; i++)
        if (strcmp(json_string_value(json_object_get(recs[i].rec, "nummer")), nummer) == 0)
            return &recs[i];
    return NULL;
}

static json_t *st_get(void *ctx, const char *nummer, reg_level *level, bool *deleted)
{
    (void)ctx;
    fz_rec *r = rec_find(nummer);
    *deleted = false;
    if (!r) return NULL;
    *level = r->level;
    return json_deep_copy(r->rec);
}

static json_t *st_children(void *ctx, const char *nummer, reg_level level)
{
    (void)ctx;
    json_t *out = json_array();
    if (level >= REG_ALTERNATIV_ADRESSE) return out;
    const char *field = reg_level_parent_field((reg_level)(level + 1));
    for (size_t i = 0; i < n_recs; i++) {
        const char *parent = json_string_value(json_object_get(recs[i].rec, field));
        if (recs[i].level == level + 1 && parent && strcmp(parent, nummer) == 0)
            json_array_append_new(out, json_deep_copy(recs[i].rec));
    }
    return out;
}

/* Numbers are issued from a counter that is never reset, as the real
 * register's: the state itself never changes (decisions are not applied). */
static bool st_next_number(void *ctx, char out[7])
{
    (void)ctx;
    if (next_number > 99999) next_number = 10;
    snprintf(out, 7, "G%05d", next_number++);
    return true;
}

static const reg_state state = {NULL, st_get, st_children, st_next_number, NULL};
static const reg_actor support = {"support-1", REG_ROLE_SUPPORT, NULL, 0};
#define TODAY "2026-06-15"
#define NOW "2026-06-15T10:00:00Z"

/* The state: one nested create, decided by the register and kept. */
static void state_make(void)
{
    json_t *body = json_loads(
        "{\"navn\":\"Solsikken\",\"ejerformKode\":1,\"lovgrundlagKode\":1,"
        "\"admKommuneKode\":101,\"anvisningsenheder\":[{\"navn\":\"Solsikken "
        "Børnehave\",\"instType3\":6011,\"cvrNummer\":\"10000017\",\"pNummer\":\"1000000003\","
        "\"adresse\":{\"vejNavn\":\"Byvej\",\"husNummer\":\"7A\",\"postNummer\":\"2100\","
        "\"byNavn\":\"København Ø\",\"kommuneKode\":101},\"alternativeAdresser\":[{"
        "\"navn\":\"Filial\",\"cvrNummer\":\"10000017\",\"pNummer\":\"1000000004\","
        "\"adresse\":{\"vejNavn\":\"Sidevej\",\"husNummer\":\"3\",\"postNummer\":\"2100\","
        "\"byNavn\":\"København Ø\",\"kommuneKode\":101}}]}]}",
        0, NULL);
    fz_check(body != NULL, "the state's body parses");
    reg_command cmd = {REG_OP_CREATE, REG_DAGINSTITUTION, NULL, body, -1, TODAY, NOW, false};
    reg_decision d;
    reg_decide(&cmd, &state, &support, &d);
    for (size_t i = 0; i < d.n_errors; i++)
        fprintf(stderr, "fuzz_soap: the state: %s %s %s\n", d.errors[i].kode, d.errors[i].felt,
                d.errors[i].tekst);
    fz_check(d.status == 0 && d.n_changes == 3, "the state's create is accepted");
    for (size_t i = 0; i < d.n_changes; i++)
        recs[n_recs++] = (fz_rec){d.changes[i].level, json_incref(d.changes[i].after)};
    reg_decision_clear(&d);
    json_decref(body);
}

/* ---- the request and its answer --------------------------------------------------------- */

typedef struct fz_answer {
    int count;
    int status;
    char *content_type;
    char *body;
    size_t len;
    bool streaming;
} fz_answer;

static struct {
    const unsigned char *body;
    size_t len;
    const char *content_type;
    const char *soap_action;
    bool auth_declined;
    bool public_read;
    fz_answer ans;
    int submits;
    bool dry_run;
    int decided; /* 0: none, 200: accepted, else the refusal's status */
} rq;

/* Aborts with the answer so far when an invariant does not hold. */
static void fz_check(bool ok, const char *what)
{
    if (ok) return;
    fprintf(stderr, "fuzz_soap: invariant broken: %s\n", what);
    if (rq.ans.body)
        fprintf(stderr, "answer %d %s:\n%s\n", rq.ans.status,
                rq.ans.content_type ? rq.ans.content_type : "-", rq.ans.body);
    abort();
}

static dtr_request *const the_req = (dtr_request *)&rq;
static const char identity_token = 'i';

static void answer_set(int status, const char *ct, const void *body, size_t len)
{
    rq.ans.count++;
    rq.ans.status = status;
    free(rq.ans.content_type);
    rq.ans.content_type = ct ? strdup(ct) : NULL;
    free(rq.ans.body);
    rq.ans.body = malloc(len + 1);
    if (len) memcpy(rq.ans.body, body, len);
    rq.ans.body[len] = 0;
    rq.ans.len = len;
}

/* ---- the queue of deferred callbacks (work done, command done) -------------------------- */

typedef struct fz_job {
    dtr_work_fn work;
    dtr_work_done_fn done;
    dtr_command_fn cmd_done;
    void *udata;
    reg_decision d;
    char primary[7]; /* d.primary may borrow the command's number: copied */
} fz_job;

#define FZ_JOBS 64
static fz_job jobs[FZ_JOBS];
static size_t n_jobs;

static void jobs_run(void)
{
    while (n_jobs) {
        fz_job j = jobs[0];
        memmove(jobs, jobs + 1, (--n_jobs) * sizeof *jobs);
        if (j.work) {
            j.work(j.udata);
            j.done(j.udata, 0);
            continue;
        }
        dtr_command_result res;
        dtr_step_result step;
        memset(&res, 0, sizeof res);
        memset(&step, 0, sizeof step);
        json_t *fejl = json_array();
        const reg_decision *d = &j.d;
        res.failed_step = -1;
        res.n_steps = 1;
        res.steps = &step;
        if (d->status == 0) {
            const reg_change *top = d->n_changes ? &d->changes[0] : NULL;
            res.status = DTR_OK;
            step.http_status = 200;
            step.nummer = res.nummer = j.primary;
            step.level = res.level = top ? (dtr_level)top->level : DTR_LEVEL_DAGINSTITUTION;
            step.record = res.record = top ? top->after : NULL;
            step.version = res.version =
                top && top->after ? json_integer_value(json_object_get(top->after, "version")) : 0;
        } else {
            for (size_t i = 0; i < d->n_errors; i++)
                json_array_append_new(fejl, json_pack("{s:s, s:s, s:s}", "kode", d->errors[i].kode,
                                                      "felt", d->errors[i].felt, "tekst",
                                                      d->errors[i].tekst));
            res.status = d->status == 503 ? DTR_ERROR : DTR_DECLINED;
            res.http_status = d->status;
            res.fejl = fejl;
            res.failed_step = 0;
            res.nummer = "";
        }
        rq.decided = d->status == 0 ? 200 : d->status;
        j.cmd_done(&res, j.udata);
        json_decref(fejl);
        reg_decision_clear(&j.d);
    }
}

/* ---- the fake host table ------------------------------------------------------------------ */

static void h_log(dtr_plugin *self, dtr_log_level level, const char *fmt, ...)
{
    (void)self, (void)level, (void)fmt;
}

static dtr_route_fn post_fn[2];
static void *post_udata[2];

static dtr_status h_route_add(dtr_plugin *self, const char *method, const char *pattern,
                              size_t max_body, dtr_route_fn fn, void *udata, char *err,
                              size_t errlen)
{
    (void)self, (void)max_body, (void)err, (void)errlen;
    if (strcmp(method, "POST") == 0) {
        int i = strcmp(pattern, "/soap/ImportService") == 0 ? 0 : 1;
        post_fn[i] = fn;
        post_udata[i] = udata;
    }
    return DTR_OK;
}

static const char *h_req_header(dtr_request *req, const char *name)
{
    (void)req;
    if (strcasecmp(name, "Content-Type") == 0) return rq.content_type;
    if (strcasecmp(name, "SOAPAction") == 0) return rq.soap_action;
    if (strcasecmp(name, "Authorization") == 0) return "Basic a29tbXVuZToxMjM=";
    return NULL;
}

static const unsigned char *h_req_body(dtr_request *req, size_t *len)
{
    (void)req;
    *len = rq.len;
    return rq.len ? rq.body : NULL;
}

static const char *h_req_method(dtr_request *req)
{
    (void)req;
    return "POST";
}

static const char *h_req_id(dtr_request *req)
{
    (void)req;
    return "fuzz-1";
}

static void h_resp_header(dtr_request *req, const char *name, const char *value)
{
    (void)req, (void)name, (void)value;
    fz_check(rq.ans.count == 0, "a header after the answer");
}

static void h_respond(dtr_request *req, int status, const char *ct, const void *body, size_t len)
{
    (void)req;
    answer_set(status, ct, body, len);
}

static void h_respond_problem(dtr_request *req, int status, const char *kode, const char *felt,
                              const char *tekst)
{
    (void)req, (void)felt;
    fz_check(kode && tekst, "a problem names its kode and tekst");
    answer_set(status, "application/problem+json", "{}", 2);
}

static void h_respond_json(dtr_request *req, int status, const char *ct, json_t *json)
{
    (void)req;
    answer_set(status, ct ? ct : "application/json", "{}", 2);
    json_decref(json);
}

static void h_stream_begin(dtr_request *req, int status, const char *ct)
{
    (void)req;
    answer_set(status, ct, "", 0);
    rq.ans.streaming = true;
}

static dtr_status h_stream_write(dtr_request *req, const void *data, size_t len)
{
    (void)req;
    fz_check(rq.ans.streaming, "stream_write inside a stream");
    char *grown = realloc(rq.ans.body, rq.ans.len + len + 1);
    fz_check(grown != NULL, "memory");
    memcpy(grown + rq.ans.len, data, len);
    rq.ans.len += len;
    grown[rq.ans.len] = 0;
    rq.ans.body = grown;
    return DTR_OK;
}

static void h_stream_end(dtr_request *req)
{
    (void)req;
    fz_check(rq.ans.streaming, "stream_end ends a stream");
    rq.ans.streaming = false;
}

static void h_req_on_abort(dtr_request *req, dtr_abort_fn fn, void *udata)
{
    (void)req, (void)fn, (void)udata;
}

static void h_req_on_drain(dtr_request *req, dtr_drain_fn fn, void *udata)
{
    (void)req, (void)fn, (void)udata;
}

static dtr_status h_work_submit(dtr_plugin *self, dtr_work_fn work, dtr_work_done_fn done,
                                void *udata)
{
    (void)self;
    fz_check(n_jobs < FZ_JOBS, "bounded work");
    jobs[n_jobs++] = (fz_job){.work = work, .done = done, .udata = udata};
    return DTR_OK;
}

static const char *h_code_text(dtr_plugin *self, const char *list, int kode)
{
    (void)self;
    return reg_code_text_by_list(list, kode);
}

static dtr_status h_req_authenticate(dtr_plugin *self, dtr_request *req, const dtr_identity **who)
{
    (void)self, (void)req;
    *who = NULL;
    if (rq.auth_declined) return DTR_DECLINED;
    *who = (const dtr_identity *)&identity_token;
    return DTR_OK;
}

static int h_public_read(dtr_plugin *self)
{
    (void)self;
    return rq.public_read;
}

static dtr_status h_command_submit(dtr_plugin *self, const dtr_identity *who,
                                   const dtr_submission *sub, dtr_command_fn done, void *udata,
                                   char *err, size_t errlen)
{
    (void)self, (void)err, (void)errlen;
    fz_check(who == (const dtr_identity *)&identity_token, "commands only for the client");
    fz_check(sub->n_commands == 1, "one command per request");
    fz_check(++rq.submits == 1, "one submission per request");
    rq.dry_run = (sub->flags & DTR_SUBMIT_DRY_RUN) != 0;
    const dtr_command *c = &sub->commands[0];
    fz_check(c->op <= DTR_OP_MOVE && c->level <= DTR_LEVEL_ALTERNATIV_ADRESSE, "op and level");
    fz_check((c->op == DTR_OP_CREATE) == (c->nummer == NULL), "a target unless a create");
    fz_check(c->op == DTR_OP_DELETE || json_is_object(c->body), "a body unless a delete");
    fz_check(n_jobs < FZ_JOBS, "bounded work");
    fz_job *j = &jobs[n_jobs++];
    memset(j, 0, sizeof *j);
    j->cmd_done = done;
    j->udata = udata;
    reg_command cmd = {
        (reg_op)c->op, (reg_level)c->level, c->nummer, c->body, c->if_match, TODAY, NOW, false};
    reg_decide(&cmd, &state, &support, &j->d);
    snprintf(j->primary, sizeof j->primary, "%s", j->d.primary ? j->d.primary : "");
    return DTR_OK;
}

static int reader_token;
static dtr_reader *h_reader(dtr_plugin *self)
{
    (void)self;
    return (dtr_reader *)&reader_token;
}

static void h_reader_close(dtr_reader *r)
{
    (void)r;
}

/* The records as GET shows them: nested when asked (children under their
 * API names). */
static json_t *rec_view(const fz_rec *r, int nested)
{
    json_t *out = json_deep_copy(r->rec);
    if (!nested || r->level == REG_ALTERNATIV_ADRESSE) return out;
    const char *key = r->level == REG_DAGINSTITUTION ? "anvisningsenheder" : "alternativeAdresser";
    const char *field = reg_level_parent_field((reg_level)(r->level + 1));
    json_t *kids = json_array();
    const char *nummer = json_string_value(json_object_get(r->rec, "nummer"));
    for (size_t i = 0; i < n_recs; i++) {
        const char *parent = json_string_value(json_object_get(recs[i].rec, field));
        if (recs[i].level == r->level + 1 && parent && strcmp(parent, nummer) == 0)
            json_array_append_new(kids, rec_view(&recs[i], nested));
    }
    json_object_set_new(out, key, kids);
    return out;
}

static dtr_status h_read_get(dtr_reader *r, const char *nummer, const char *virkningsdato,
                             int nested, dtr_level *level, json_t **out)
{
    (void)r, (void)virkningsdato;
    *out = NULL;
    fz_rec *rec = rec_find(nummer);
    if (!rec) return DTR_NOT_FOUND;
    if (level) *level = (dtr_level)rec->level;
    *out = rec_view(rec, nested);
    return DTR_OK;
}

static dtr_status h_read_list(dtr_reader *r, const dtr_query *q, json_t **items, char next[7])
{
    (void)r;
    *items = json_array();
    next[0] = 0;
    for (size_t i = 0; i < n_recs; i++) {
        const char *nummer = json_string_value(json_object_get(recs[i].rec, "nummer"));
        if (recs[i].level != (reg_level)q->level) continue;
        if (q->after && strcmp(nummer, q->after) <= 0) continue;
        json_array_append_new(*items, rec_view(&recs[i], q->nested));
    }
    return DTR_OK;
}

static dtr_status h_read_latest(dtr_reader *r, int64_t *seq, char tid[40])
{
    (void)r;
    *seq = 3;
    snprintf(tid, 40, "%s", NOW);
    return DTR_OK;
}

static dtr_status h_snapshot_begin(dtr_reader *r, int64_t *seq)
{
    (void)r;
    *seq = 3;
    return DTR_OK;
}

static void h_snapshot_end(dtr_reader *r)
{
    (void)r;
}

static dtr_host_api host;
static dtr_plugin *const self = (dtr_plugin *)&host;
static void *plugin_state;
extern const dtr_plugin_descriptor dtr_plugin_entry;

static void host_start(void)
{
    host.abi_major = DTR_ABI_MAJOR;
    host.abi_minor = DTR_ABI_MINOR;
    host.struct_size = sizeof host;
    host.log = h_log;
    host.route_add = h_route_add;
    host.req_header = h_req_header;
    host.req_body = h_req_body;
    host.req_id = h_req_id;
    host.req_method = h_req_method;
    host.resp_header = h_resp_header;
    host.respond = h_respond;
    host.respond_problem = h_respond_problem;
    host.respond_json = h_respond_json;
    host.stream_begin = h_stream_begin;
    host.stream_write = h_stream_write;
    host.stream_end = h_stream_end;
    host.req_on_abort = h_req_on_abort;
    host.req_on_drain = h_req_on_drain;
    host.work_submit = h_work_submit;
    host.code_text = h_code_text;
    host.req_authenticate = h_req_authenticate;
    host.public_read = h_public_read;
    host.command_submit = h_command_submit;
    host.reader = h_reader;
    host.reader_open = h_reader;
    host.reader_close = h_reader_close;
    host.read_get = h_read_get;
    host.read_list = h_read_list;
    host.read_latest = h_read_latest;
    host.snapshot_begin = h_snapshot_begin;
    host.snapshot_end = h_snapshot_end;
    state_make();
    json_t *config = json_object();
    char err[256] = "";
    dtr_status s = dtr_plugin_entry.init(self, &host, config, &plugin_state, err, sizeof err);
    json_decref(config);
    if (s != DTR_OK) fprintf(stderr, "fuzz_soap: init: %s\n", err);
    fz_check(s == DTR_OK && post_fn[0] && post_fn[1], "the plugin starts");
}

static void host_stop(void)
{
    dtr_plugin_entry.free(plugin_state);
    for (size_t i = 0; i < n_recs; i++)
        json_decref(recs[i].rec);
}

/* ---- checking an answer -------------------------------------------------------------------- */

/* The text of the first element named local below node, or NULL (xmlFree). */
static xmlChar *first_text(xmlNodePtr node, const char *local)
{
    for (xmlNodePtr c = node; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE) continue;
        if (xmlStrEqual(c->name, (const xmlChar *)local)) return xmlNodeGetContent(c);
        xmlChar *t = first_text(c->children, local);
        if (t) return t;
    }
    return NULL;
}

static void check_answer(int version)
{
    const fz_answer *a = &rq.ans;
    fz_check(a->count == 1 && !a->streaming, "exactly one whole answer");
    int st = a->status;
    fz_check(st == 200 || st == 400 || st == 401 || st == 415 || st == 500 || st == 503,
             "a documented status");
    bool xml = a->content_type && (strncmp(a->content_type, "text/xml", 8) == 0 ||
                                   strncmp(a->content_type, "application/soap+xml", 20) == 0);
    if (!xml) {
        fz_check(st == 401 || st == 503, "only 401 and 503 are not envelopes");
        return;
    }
    xmlDocPtr doc = xmlReadMemory(a->body, (int)a->len, NULL, NULL, XML_PARSE_NONET);
    fz_check(doc != NULL, "the answer is well-formed XML");
    xmlNodePtr root = xmlDocGetRootElement(doc);
    fz_check(soap_is(root, version == SOAP_12 ? SOAP12_NS : SOAP11_NS, "Envelope"),
             "the answer is an Envelope of the request's version");
    /* the operation answered: the Body's one element, "<Op>Response" */
    xmlNodePtr body = root ? soap_first_element(root) : NULL;
    while (body && !xmlStrEqual(body->name, (const xmlChar *)"Body"))
        body = soap_next_element(body);
    xmlNodePtr answered = body ? soap_first_element(body) : NULL;
    if (rq.submits && answered)
        fz_check(rq.dry_run == xmlStrEqual(answered->name,
                                           (const xmlChar *)"ValidateXmlAgainstSchemaResponse"),
                 "a dry run exactly for ValidateXmlAgainstSchema");
    if (rq.decided && rq.decided != 503) {
        fz_check(st == 200, "a decided command is answered 200");
        /* the ImportSvar is the text of the Body's one Result element */
        xmlChar *text = xmlNodeGetContent(root);
        fz_check(text != NULL, "an answer with a result");
        xmlDocPtr svar =
            xmlReadMemory((const char *)text, xmlStrlen(text), NULL, NULL, XML_PARSE_NONET);
        fz_check(svar != NULL, "the ImportSvar is well-formed");
        xmlNodePtr sroot = xmlDocGetRootElement(svar);
        xmlChar *status = first_text(sroot, "status");
        fz_check(status != NULL, "the ImportSvar has a status");
        if (rq.decided == 200) {
            fz_check(xmlStrEqual(status, (const xmlChar *)"OK"), "an accepted command is OK");
        } else {
            fz_check(xmlStrEqual(status, (const xmlChar *)"FEJL"), "a refusal is FEJL");
            xmlChar *kode = first_text(sroot, "kode");
            fz_check(kode && kode[0], "a refusal names a fejl");
            xmlFree(kode);
        }
        xmlFree(status);
        xmlFreeDoc(svar);
        xmlFree(text);
    }
    xmlFreeDoc(doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool started;
    if (!started) {
        host_start();
        atexit(host_stop);
        started = true;
    }
    if (size < 1) return 0;
    uint8_t h = data[0];
    memset(&rq, 0, sizeof rq);
    rq.body = data + 1;
    rq.len = size - 1;
    static const char *const types[4] = {"text/xml; charset=utf-8", "application/soap+xml",
                                         "text/xml", NULL};
    rq.content_type = types[(h >> 1) & 3];
    rq.soap_action = ((h >> 1) & 3) == 2 ? "\"urn:dagtilbudsregister:soap:2/HelloWorld\"" : NULL;
    rq.auth_declined = (h & 8) != 0;
    rq.public_read = (h & 16) == 0;
    int service = h & 1;
    post_fn[service](the_req, post_udata[service]);
    jobs_run();
    fz_check(!rq.submits || service == 0, "only the ImportService writes");
    if (getenv("FUZZ_SOAP_VERBOSE")) /* for reading what one input did */
        fprintf(stderr, "fuzz_soap: answer %d, register %d, dry run %d\n%s\n", rq.ans.status,
                rq.decided, rq.dry_run, rq.ans.body ? rq.ans.body : "");
    check_answer(((h >> 1) & 3) == 1 ? SOAP_12 : SOAP_11);
    free(rq.ans.content_type);
    free(rq.ans.body);
    return 0;
}
