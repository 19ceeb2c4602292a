/*
 * problem.c -- error answers as application/problem+json (RFC 9457):
 *   {"type": "about:blank", "title": "<reason phrase>", "status": N,
 *    "detail": "<the first error's text>", "fejl": [{"kode", "felt", "tekst"}]}
 * the same shape the host uses for its own refusals (404, 413, ...), so a
 * client reads every error one way. "felt" is null when no field is meant.
 * Loop thread.
 */
#include <stdio.h>
#include <string.h>

#include "rest.h"

const char *rest_reason(int status)
{
    switch (status) {
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 410:
        return "Gone";
    case 412:
        return "Precondition Failed";
    case 413:
        return "Content Too Large";
    case 415:
        return "Unsupported Media Type";
    case 422:
        return "Unprocessable Content";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 503:
        return "Service Unavailable";
    default:
        return status < 500 ? "Client Error" : "Server Error";
    }
}

/* One fejl entry with felt "" or NULL as null. */
static json_t *rest_fejl_entry(const char *kode, const char *felt, const char *tekst)
{
    return json_pack("{s:s, s:o, s:s}", "kode", kode ? kode : "FEJL", "felt",
                     felt && *felt ? json_string(felt) : json_null(), "tekst", tekst ? tekst : "");
}

json_t *rest_problem_doc(int status, const json_t *fejl)
{
    json_t *list = json_array();
    size_t i;
    const json_t *e;
    json_array_foreach(fejl, i, e)
    {
        const char *kode = json_string_value(json_object_get(e, "kode"));
        const char *felt = json_string_value(json_object_get(e, "felt"));
        const char *tekst = json_string_value(json_object_get(e, "tekst"));
        json_t *entry = rest_fejl_entry(kode, felt, tekst);
        if (entry) json_array_append_new(list, entry);
    }
    if (json_array_size(list) == 0) {
        const char *kode = status == 503 ? "IKKE_KLAR" : "FEJL";
        json_array_append_new(list, rest_fejl_entry(kode, NULL, rest_reason(status)));
    }
    /* detail: the first error's text, and how many more there are */
    const char *first = json_string_value(json_object_get(json_array_get(list, 0), "tekst"));
    char detail[320];
    size_t more = json_array_size(list) - 1;
    if (more == 0)
        snprintf(detail, sizeof detail, "%s", first ? first : "");
    else
        snprintf(detail, sizeof detail, "%s (og %zu fejl mere)", first ? first : "", more);
    return json_pack("{s:s, s:s, s:i, s:s, s:o}", "type", "about:blank", "title",
                     rest_reason(status), "status", status, "detail", detail, "fejl", list);
}

void rest_problem_fejl(const dtr_host_api *api, dtr_request *req, int status, const json_t *fejl)
{
    if (status < 400 || status > 599) status = 500;
    json_t *doc = rest_problem_doc(status, fejl);
    if (!doc) {
        api->respond_problem(req, 503, "IKKE_KLAR", NULL, "svaret kunne ikke skrives");
        return;
    }
    api->respond_json(req, status, "application/problem+json", doc);
}

void rest_problem(const dtr_host_api *api, dtr_request *req, int status, const char *kode,
                  const char *felt, const char *tekst)
{
    api->respond_problem(req, status, kode, felt, tekst);
}

void rest_problem_read(const dtr_host_api *api, dtr_request *req, int status)
{
    switch (status) {
    case 400:
        rest_problem(api, req, 400, "UGYLDIG_PARAMETER", NULL, "ugyldig forespørgsel");
        break;
    case 404:
        rest_problem(api, req, 404, "FINDES_IKKE", NULL, "nummeret findes ikke");
        break;
    case 410:
        rest_problem(api, req, 410, "SLETTET", NULL, "nummeret er slettet");
        break;
    case 429: /* the host adds Retry-After */
        rest_problem(api, req, 429, "FOR_MANGE", NULL,
                     "klienten holder så mange samtidige udtræk, som den må; prøv igen senere");
        break;
    default:
        rest_problem(api, req, 503, "IKKE_KLAR", NULL, "registeret kunne ikke læses");
        break;
    }
}

void rest_unauthorized(const dtr_host_api *api, dtr_request *req, const char *tekst)
{
    api->resp_header(req, "WWW-Authenticate", "Basic realm=\"dtr\"");
    rest_problem(api, req, 401, "IKKE_AUTENTIFICERET", NULL, tekst);
}
