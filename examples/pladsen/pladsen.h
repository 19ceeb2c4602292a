/*
 * pladsen.h -- an example adapter: "Pladsen", a (made-up) vendor's placement
 * system, speaks its own JSON to the register through this plugin.
 *
 * Built out of tree against the installed SDK only (pkg-config dtr-plugin):
 * this folder includes <dtr/plugin.h> and <jansson.h>, nothing of the
 * repository. docs/plugins.md, "An adapter in an hour", walks through it.
 *
 *   plugin.c    the descriptor, the instance, the routes and their OpenAPI
 *   oversaet.c  Pladsen's field names <-> the register's, both ways, and
 *               the register's fejl paths back to Pladsen's
 *   ruter.c     the route handlers: authenticate, translate, submit, answer
 */
#ifndef PLADSEN_H
#define PLADSEN_H

#include <stddef.h>

#include <dtr/plugin.h>
#include <jansson.h>

/* The adapter was written for ABI 2.x: a header of another major would
 * not compile it into something the host accepts anyway. */
_Static_assert(DTR_ABI_MAJOR == 2, "examples/pladsen is written for plugin ABI 2.x");

/* One instance (a reload makes a second one beside it: no globals). */
typedef struct pladsen {
    dtr_plugin *self;
    const dtr_host_api *api;
} pladsen;

/* ---- oversaet.c: translation ---------------------------------------------- */

/* Pladsen's institution document {"institution": {...}, "stuer": [...]} as
 * the register's daginstitution (anvisningsenheder nested, each nesting
 * alternativeAdresser). Keys Pladsen does not have are not passed on: each
 * becomes a fejl {"UKENDT_FELT", its Pladsen path} appended to fejl. A new
 * reference (never NULL but out of memory). */
json_t *pladsen_til_register(const json_t *dok, json_t *fejl);

/* One object of Pladsen's at a level ("institution", "stue") as the
 * register's record of that level; prefix is the object's Pladsen path for
 * fejl ("stuer[2]"). A new reference. */
json_t *pladsen_objekt_til_register(const char *niveau, const json_t *obj, const char *prefix,
                                    json_t *fejl);

/* A record as read_get shows it (daginstitution, nested) in Pladsen's
 * shape: {"institution": {...}, "stuer": [...]}. A new reference. */
json_t *pladsen_fra_register(const json_t *rec);

/* One record at niveau ("institution": without its children, "stue": with
 * its ekstraAdresser) in Pladsen's names. A new reference. */
json_t *pladsen_objekt_fra_register(const char *niveau, const json_t *rec);

/* The register's felt (a path such as "anvisningsenheder[1].adresse.postNummer")
 * of a record at niveau ("institution", "stue") in Pladsen's names under
 * prefix ("stuer[1].adresse.postnr"). Into out (size outlen). */
void pladsen_felt(const char *niveau, const char *felt, const char *prefix, char *out,
                  size_t outlen);

/* A fejl entry {"kode", "felt", "tekst"} (felt NULL: JSON null). */
json_t *pladsen_fejl(const char *kode, const char *felt, const char *tekst);

/* ---- ruter.c: the handlers -------------------------------------------------- */

dtr_status pladsen_opret(dtr_request *req, void *udata); /* POST .../institutioner */
dtr_status pladsen_stuer(dtr_request *req, void *udata); /* POST .../institutioner/{nummer}/stuer */
dtr_status pladsen_omlaeg(dtr_request *req, void *udata); /* POST .../omlaegninger */
dtr_status pladsen_hent(dtr_request *req, void *udata);   /* GET .../institutioner/{nummer} */

#endif /* PLADSEN_H */
