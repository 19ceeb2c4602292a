/*
 * ruter.c -- Pladsen's routes: each authenticates the caller, translates
 * Pladsen's JSON into register commands, submits them and answers in
 * Pladsen's JSON when the register committed or refused.
 *
 *   POST /pladsen/v1/institutioner               an institution with its stuer:
 *                                                one nested create
 *   POST /pladsen/v1/institutioner/{nummer}/stuer more stuer for one: a
 *                                                transaction of creates
 *   POST /pladsen/v1/omlaegninger                a new institution, stuer moved
 *                                                to it ("$1"), the old one closed:
 *                                                one transaction
 *   GET  /pladsen/v1/institutioner/{nummer}      read back (read_get, nested)
 *
 * Every POST takes ?kontroller=true: a dry run (DTR_SUBMIT_DRY_RUN), the
 * register's every check and the same answer, nothing written. A refusal
 * answers {"resultat": "afvist", "fejl": [...]} with the register's status
 * and each felt in Pladsen's names.
 *
 * Lifetimes: a kommando (below) lives from command_submit until the
 * command's callback, which the host always calls once submit accepted it,
 * and never after the instance was freed (commands are the instance's
 * work). If the client goes away first, the abort callback forgets the
 * request: the command still completes, and its answer stays retrievable by
 * its Idempotency-Key. Loop thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pladsen.h"

typedef enum rute { RUTE_OPRET, RUTE_STUER, RUTE_OMLAEG } rute;

/* One submission in flight. */
typedef struct kommando {
    pladsen *p;
    dtr_request *req; /* NULL once the client went away */
    rute rute;
    size_t n_flyt; /* RUTE_OMLAEG: steps 2..n_flyt+1 are moves; a close after them */
} kommando;

/* ---- answers -------------------------------------------------------------------- */

/* A refusal in Pladsen's shape; fejl is stolen. */
static void svar_afvist(pladsen *p, dtr_request *req, int status, json_t *fejl)
{
    p->api->respond_json(req, status, NULL,
                         json_pack("{s:s, s:o}", "resultat", "afvist", "fejl", fejl));
}

static void svar_en_fejl(pladsen *p, dtr_request *req, int status, const char *kode,
                         const char *felt, const char *tekst)
{
    svar_afvist(p, req, status, json_pack("[o]", pladsen_fejl(kode, felt, tekst)));
}

/* The caller's identity (*who) from HTTP Basic; answers 401/403/503 and
 * returns 0 when there is none. */
static int log_ind(pladsen *p, dtr_request *req, const dtr_identity **who)
{
    dtr_status st = p->api->req_authenticate(p->self, req, who);
    if (st == DTR_OK && *who) return 1;
    if (st == DTR_INVALID) {
        svar_en_fejl(p, req, 403, "IKKE_TILLADT", NULL, "X-CSRF-Token mangler");
    } else if (st == DTR_OK || st == DTR_DECLINED) {
        p->api->resp_header(req, "WWW-Authenticate", "Basic realm=\"dtr\"");
        svar_en_fejl(p, req, 401, "IKKE_AUTENTIFICERET", NULL,
                     st == DTR_OK ? "log ind med HTTP Basic (clientId:secret)"
                                  : "ukendt klient eller forkert hemmelighed");
    } else {
        svar_en_fejl(p, req, 503, "IKKE_KLAR", NULL, "klienterne kunne ikke læses");
    }
    return 0;
}

/* ?kontroller=true|false into *flags; answers 400 and returns 0 otherwise. */
static int laes_kontroller(pladsen *p, dtr_request *req, uint32_t *flags)
{
    const char *v = p->api->req_query(req, "kontroller");
    *flags = 0;
    if (!v || strcmp(v, "false") == 0) return 1;
    if (strcmp(v, "true") == 0) {
        *flags = DTR_SUBMIT_DRY_RUN;
        return 1;
    }
    svar_en_fejl(p, req, 400, "UGYLDIG_PARAMETER", "kontroller", "kontroller er true eller false");
    return 0;
}

/* The body as a JSON object: 415 for another media type, 400 for bad JSON.
 * A new reference, or NULL after answering. */
static json_t *laes_krop(pladsen *p, dtr_request *req)
{
    const char *ct = p->api->req_header(req, "Content-Type");
    if (!ct || strncasecmp(ct, "application/json", 16) != 0 || (ct[16] && ct[16] != ';')) {
        svar_en_fejl(p, req, 415, "UGYLDIG_MEDIETYPE", NULL, "Content-Type er application/json");
        return NULL;
    }
    size_t len = 0;
    const unsigned char *bytes = p->api->req_body(req, &len);
    json_error_t e;
    json_t *krop = json_loadb((const char *)bytes, len, JSON_REJECT_DUPLICATES, &e);
    if (!krop || !json_is_object(krop)) {
        char tekst[256];
        snprintf(tekst, sizeof tekst, "%s", krop ? "kroppen er ikke et JSON-objekt" : e.text);
        json_decref(krop);
        svar_en_fejl(p, req, 400, "UGYLDIG_JSON", NULL, tekst);
        return NULL;
    }
    return krop;
}

static int er_nummer(const char *s)
{
    if (!s || strlen(s) != 6 || s[0] < 'A' || s[0] > 'Z') return 0;
    for (int i = 1; i < 6; i++)
        if (s[i] < '0' || s[i] > '9') return 0;
    return 1;
}

/* ---- the command's answer ----------------------------------------------------------- */

/* The felt of one of the register's fejl in Pladsen's names: which step
 * refused says which part of Pladsen's request it came from. */
static void oversaet_felt(const kommando *k, long trin, const char *felt, char *out, size_t n)
{
    char prefix[64];
    switch (k->rute) {
    case RUTE_OPRET:
        pladsen_felt("institution", felt, "institution", out, n);
        return;
    case RUTE_STUER:
        if (felt && strcmp(felt, "daginstitutionsNummer") == 0) { /* the {nummer} of the path */
            snprintf(out, n, "nummer");
            return;
        }
        snprintf(prefix, sizeof prefix, "stuer[%ld]", trin < 0 ? 0 : trin);
        pladsen_felt("stue", felt, prefix, out, n);
        return;
    case RUTE_OMLAEG:
        if (trin <= 0) {
            pladsen_felt("institution", felt, "nyInstitution", out, n);
        } else if ((size_t)trin <= k->n_flyt) {
            snprintf(out, n, "flytStuer[%ld]", trin - 1);
        } else {
            snprintf(out, n, "lukGammel.%s",
                     felt && strcmp(felt, "virkningTil") == 0 ? "dato" : "nummer");
        }
        return;
    }
}

/* The register's fejl list with each felt in Pladsen's names. */
static json_t *oversaet_fejl(const kommando *k, const dtr_command_result *res)
{
    json_t *ud = json_array();
    size_t i;
    const json_t *f;
    json_array_foreach(res->fejl, i, f)
    {
        const char *felt = json_string_value(json_object_get(f, "felt"));
        char vendor[256];
        oversaet_felt(k, res->failed_step, felt, vendor, sizeof vendor);
        json_array_append_new(ud, pladsen_fejl(json_string_value(json_object_get(f, "kode")),
                                               felt || res->failed_step >= 0 ? vendor : NULL,
                                               json_string_value(json_object_get(f, "tekst"))));
    }
    if (json_array_size(ud) == 0)
        json_array_append_new(ud, pladsen_fejl("IKKE_KLAR", NULL, "registeret svarede ikke"));
    return ud;
}

/* What Pladsen gets back when the register accepted. */
static json_t *svar_godkendt(const kommando *k, const dtr_command_result *res)
{
    const char *resultat = res->dry_run ? "kontrolleret" : "gennemfoert";
    json_t *svar;
    switch (k->rute) {
    case RUTE_OPRET:
        svar = json_pack("{s:s, s:s}", "resultat", res->dry_run ? resultat : "oprettet", "nummer",
                         res->nummer ? res->nummer : "");
        if (res->record) {
            json_t *dok = pladsen_fra_register(res->record);
            json_object_update(svar, dok);
            json_decref(dok);
        }
        return svar;
    case RUTE_STUER: {
        json_t *stuer = json_array();
        for (size_t i = 0; i < res->n_steps; i++)
            json_array_append_new(stuer, res->steps[i].record ? pladsen_objekt_fra_register(
                                                                    "stue", res->steps[i].record)
                                                              : json_object());
        return json_pack("{s:s, s:o}", "resultat", resultat, "stuer", stuer);
    }
    case RUTE_OMLAEG: {
        json_t *flyttet = json_array();
        for (size_t i = 1; i <= k->n_flyt && i < res->n_steps; i++)
            json_array_append_new(flyttet, json_string(res->steps[i].nummer));
        svar = json_pack("{s:s, s:s, s:o}", "resultat", resultat, "nummer", res->steps[0].nummer,
                         "flyttet", flyttet);
        if (res->n_steps > k->n_flyt + 1)
            json_object_set_new(svar, "lukket", json_string(res->steps[res->n_steps - 1].nummer));
        return svar;
    }
    }
    return json_object();
}

static void kommando_afbrudt(dtr_request *req, void *udata)
{
    (void)req;
    ((kommando *)udata)->req = NULL;
}

/* The register committed, refused or failed: answer Pladsen. */
static void kommando_done(const dtr_command_result *res, void *udata)
{
    kommando *k = udata;
    pladsen *p = k->p;
    dtr_request *req = k->req;
    if (!req) { /* the client left; the command completed all the same */
        free(k);
        return;
    }
    p->api->req_on_abort(req, NULL, NULL);
    if (res->status != DTR_OK) {
        svar_afvist(p, req, res->http_status ? res->http_status : 503, oversaet_fejl(k, res));
    } else {
        int status = 200;
        if (k->rute == RUTE_OPRET && !res->dry_run) {
            char location[64];
            snprintf(location, sizeof location, "/pladsen/v1/institutioner/%s", res->nummer);
            p->api->resp_header(req, "Location", location);
            status = 201;
        }
        p->api->respond_json(req, status, NULL, svar_godkendt(k, res));
    }
    free(k);
}

/* Submits the n commands (one command, or a transaction) for who and
 * answers from kommando_done; the commands' bodies are borrowed. */
static void indsend(pladsen *p, dtr_request *req, const dtr_identity *who, const dtr_command *cmds,
                    size_t n, uint32_t flags, rute r, size_t n_flyt)
{
    const char *key = p->api->req_header(req, "Idempotency-Key");
    if (key && (strlen(key) == 0 || strlen(key) > 255)) {
        svar_en_fejl(p, req, 400, "UGYLDIG_FORESPOERGSEL", "Idempotency-Key",
                     "Idempotency-Key er 1-255 tegn");
        return;
    }
    dtr_submission sub = {.commands = cmds, .n_commands = n, .flags = flags};
    sub.request_id = p->api->req_id(req);
    sub.idempotency_key = key;
    sub.body_bytes = p->api->req_body(req, &sub.body_len);

    kommando *k = calloc(1, sizeof *k);
    if (!k) {
        svar_en_fejl(p, req, 503, "IKKE_KLAR", NULL, "ikke mere hukommelse");
        return;
    }
    k->p = p;
    k->req = req;
    k->rute = r;
    k->n_flyt = n_flyt;
    p->api->req_on_abort(req, kommando_afbrudt, k);
    char err[256] = "";
    if (p->api->command_submit(p->self, who, &sub, kommando_done, k, err, sizeof err) != DTR_OK) {
        p->api->req_on_abort(req, NULL, NULL);
        free(k);
        svar_en_fejl(p, req, 503, "IKKE_KLAR", NULL, err[0] ? err : "registeret er lukket");
    }
}

/* The first steps every POST takes: who, ?kontroller, the body. NULL after
 * answering. */
static json_t *begynd(pladsen *p, dtr_request *req, const dtr_identity **who, uint32_t *flags)
{
    if (!log_ind(p, req, who) || !laes_kontroller(p, req, flags)) return NULL;
    return laes_krop(p, req);
}

/* ---- the routes ----------------------------------------------------------------------- */

dtr_status pladsen_opret(dtr_request *req, void *udata)
{
    pladsen *p = udata;
    const dtr_identity *who;
    uint32_t flags;
    json_t *krop = begynd(p, req, &who, &flags);
    if (!krop) return DTR_OK;
    json_t *fejl = json_array();
    json_t *body = pladsen_til_register(krop, fejl);
    json_decref(krop);
    if (json_array_size(fejl) > 0) {
        json_decref(body);
        svar_afvist(p, req, 422, fejl);
        return DTR_OK;
    }
    json_decref(fejl);
    dtr_command cmd = {
        .op = DTR_OP_CREATE, .level = DTR_LEVEL_DAGINSTITUTION, .body = body, .if_match = -1};
    indsend(p, req, who, &cmd, 1, flags, RUTE_OPRET, 0);
    json_decref(body);
    return DTR_OK;
}

dtr_status pladsen_stuer(dtr_request *req, void *udata)
{
    pladsen *p = udata;
    const char *nummer = p->api->req_param(req, "nummer");
    const dtr_identity *who;
    uint32_t flags;
    json_t *krop = begynd(p, req, &who, &flags);
    if (!krop) return DTR_OK;
    json_t *fejl = json_array();
    const json_t *stuer = json_object_get(krop, "stuer");
    if (!er_nummer(nummer))
        json_array_append_new(fejl, pladsen_fejl("UGYLDIG_PARAMETER", "nummer", "ikke et nummer"));
    else if (json_object_size(krop) != 1 || !json_is_array(stuer) || json_array_size(stuer) == 0)
        json_array_append_new(fejl, pladsen_fejl("MANGLER_FELT", "stuer",
                                                 "kroppen er {\"stuer\": [...]}, mindst én"));
    else if (json_array_size(stuer) > DTR_MAX_TRANSACTION)
        json_array_append_new(fejl,
                              pladsen_fejl("FOR_LANG", "stuer", "for mange stuer på én gang"));
    size_t n = json_array_size(fejl) ? 0 : json_array_size(stuer);
    dtr_command cmds[DTR_MAX_TRANSACTION];
    json_t *bodies[DTR_MAX_TRANSACTION];
    for (size_t i = 0; i < n; i++) {
        char prefix[32];
        snprintf(prefix, sizeof prefix, "stuer[%zu]", i);
        bodies[i] = pladsen_objekt_til_register("stue", json_array_get(stuer, i), prefix, fejl);
        if (json_is_object(bodies[i]))
            json_object_set_new(bodies[i], "daginstitutionsNummer", json_string(nummer));
        cmds[i] = (dtr_command){.op = DTR_OP_CREATE,
                                .level = DTR_LEVEL_ANVISNINGSENHED,
                                .body = bodies[i],
                                .if_match = -1};
    }
    json_decref(krop);
    if (json_array_size(fejl) > 0) {
        svar_afvist(p, req, er_nummer(nummer) ? 422 : 400, fejl);
    } else {
        json_decref(fejl);
        indsend(p, req, who, cmds, n, flags, RUTE_STUER, 0);
    }
    for (size_t i = 0; i < n; i++)
        json_decref(bodies[i]);
    return DTR_OK;
}

/* {"nyInstitution": {...}, "flytStuer": ["G00002", ...], "lukGammel": {"nummer", "dato"}}:
 * step 1 creates the new institution, each next step moves one stue to "$1",
 * the last closes the old one (optional). All or nothing. */
dtr_status pladsen_omlaeg(dtr_request *req, void *udata)
{
    pladsen *p = udata;
    const dtr_identity *who;
    uint32_t flags;
    json_t *krop = begynd(p, req, &who, &flags);
    if (!krop) return DTR_OK;
    json_t *fejl = json_array();
    const char *key;
    json_t *val;
    json_object_foreach(krop, key, val)
    {
        if (strcmp(key, "nyInstitution") && strcmp(key, "flytStuer") && strcmp(key, "lukGammel"))
            json_array_append_new(fejl,
                                  pladsen_fejl("UKENDT_FELT", key, "Pladsen kender ikke feltet"));
    }
    const json_t *ny = json_object_get(krop, "nyInstitution");
    const json_t *flyt = json_object_get(krop, "flytStuer");
    const json_t *luk = json_object_get(krop, "lukGammel");
    if (!json_is_object(ny))
        json_array_append_new(fejl, pladsen_fejl("MANGLER_FELT", "nyInstitution", "et objekt"));
    if (!json_is_array(flyt) || json_array_size(flyt) > DTR_MAX_TRANSACTION - 2)
        json_array_append_new(
            fejl, pladsen_fejl("FORKERT_TYPE", "flytStuer", "en liste af højst 98 stuenumre"));
    size_t n_flyt = json_is_array(flyt) ? json_array_size(flyt) : 0;
    for (size_t i = 0; i < n_flyt && n_flyt <= DTR_MAX_TRANSACTION - 2; i++) {
        if (er_nummer(json_string_value(json_array_get(flyt, i)))) continue;
        char felt[32];
        snprintf(felt, sizeof felt, "flytStuer[%zu]", i);
        json_array_append_new(fejl, pladsen_fejl("UGYLDIGT_FORMAT", felt, "ikke et stuenummer"));
    }
    const char *gammel = json_string_value(json_object_get(luk, "nummer"));
    const json_t *dato = json_object_get(luk, "dato");
    if (luk && (!json_is_object(luk) || !er_nummer(gammel) || !dato || json_object_size(luk) != 2))
        json_array_append_new(fejl,
                              pladsen_fejl("UGYLDIGT_FORMAT", "lukGammel",
                                           "{\"nummer\": \"G.....\", \"dato\": \"ÅÅÅÅ-MM-DD\"}"));
    json_t *inst = json_is_object(ny)
                       ? pladsen_objekt_til_register("institution", ny, "nyInstitution", fejl)
                       : json_object();
    if (json_array_size(fejl) > 0) {
        json_decref(inst);
        json_decref(krop);
        svar_afvist(p, req, 422, fejl);
        return DTR_OK;
    }
    json_decref(fejl);

    dtr_command cmds[DTR_MAX_TRANSACTION];
    size_t n = 0;
    cmds[n++] = (dtr_command){
        .op = DTR_OP_CREATE, .level = DTR_LEVEL_DAGINSTITUTION, .body = inst, .if_match = -1};
    json_t *til_ny = json_pack("{s:s}", "daginstitutionsNummer", "$1"); /* step 1's number */
    for (size_t i = 0; i < n_flyt; i++)
        cmds[n++] = (dtr_command){.op = DTR_OP_MOVE,
                                  .level = DTR_LEVEL_ANVISNINGSENHED,
                                  .nummer = json_string_value(json_array_get(flyt, i)),
                                  .body = til_ny,
                                  .if_match = -1};
    json_t *luk_body = NULL;
    if (luk) {
        luk_body = json_pack("{s:O}", "virkningTil", dato);
        cmds[n++] = (dtr_command){.op = DTR_OP_CLOSE,
                                  .level = DTR_LEVEL_DAGINSTITUTION,
                                  .nummer = gammel,
                                  .body = luk_body,
                                  .if_match = -1};
    }
    indsend(p, req, who, cmds, n, flags, RUTE_OMLAEG, n_flyt);
    json_decref(luk_body);
    json_decref(til_ny);
    json_decref(inst);
    json_decref(krop);
    return DTR_OK;
}

dtr_status pladsen_hent(dtr_request *req, void *udata)
{
    pladsen *p = udata;
    const dtr_identity *who;
    if (!log_ind(p, req, &who)) return DTR_OK;
    const char *nummer = p->api->req_param(req, "nummer");
    if (!er_nummer(nummer)) {
        svar_en_fejl(p, req, 400, "UGYLDIG_PARAMETER", "nummer", "ikke et nummer");
        return DTR_OK;
    }
    dtr_level level;
    json_t *rec = NULL;
    dtr_status st = p->api->read_get(p->api->reader(p->self), nummer, NULL, 1, &level, &rec);
    if (st == DTR_OK && level != DTR_LEVEL_DAGINSTITUTION) {
        json_decref(rec);
        svar_en_fejl(p, req, 404, "FINDES_IKKE", "nummer", "nummeret er ikke en institution");
        return DTR_OK;
    }
    if (st != DTR_OK) {
        svar_en_fejl(p, req, dtr_status_http(st),
                     st == DTR_NOT_FOUND ? "FINDES_IKKE"
                     : st == DTR_GONE    ? "SLETTET"
                                         : "IKKE_KLAR",
                     "nummer",
                     st == DTR_NOT_FOUND ? "ingen institution med det nummer"
                     : st == DTR_GONE    ? "institutionen er slettet"
                                         : "registeret kunne ikke læses");
        return DTR_OK;
    }
    p->api->respond_json(req, 200, NULL, pladsen_fra_register(rec));
    json_decref(rec);
    return DTR_OK;
}
