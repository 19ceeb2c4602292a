/*
 * identity.h -- the identities the host issues to plugins (dtr_identity in
 * the ABI): who a command is for. Only this module makes them, and the host
 * checks every pointer a plugin hands back against the set of identities it
 * issued (ident_valid) before it reads a byte of it, so a plugin can neither
 * fill in an identity of its own nor pass a stale or made-up pointer.
 *
 * A client's identity is made once per client entry of the auth cache (whose
 * entries live until the cache closes) and kept by the registry; a person's
 * (a web UI session) is made by the session code and released when the
 * session ends. Either may be retained by a plugin past its request.
 * Loop thread only.
 */
#ifndef DTR_AUTH_IDENTITY_H
#define DTR_AUTH_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>

#include "auth/auth.h"
#include "dtr/plugin.h"
#include "register/register.h"

typedef struct ident_registry ident_registry;

ident_registry *ident_registry_new(void);
/* Frees every identity, retained or not (at shutdown, after the plugins). */
void ident_registry_free(ident_registry *r);

/* The identity of a client of the auth cache: made on first use and kept as
 * long as the registry (the cache's entries live as long). */
const dtr_identity *ident_of_client(ident_registry *r, const auth_client *client);
/* An identity of a client for one request: one reference, the request's
 * (ident_release at its end frees it unless a plugin retained it), so a
 * plugin that keeps it past its request without identity_retain holds a
 * pointer the host no longer accepts. */
const dtr_identity *ident_for_request(ident_registry *r, const auth_client *client);
/* A new identity with one reference (the caller's; ident_release ends it).
 * id, name and role are copied; person marks a logged-in person. */
const dtr_identity *ident_new(ident_registry *r, const char *id, const char *name, const char *role,
                              const int *kommuner, size_t n_kommuner, bool person);
/* Whether p is an identity this registry issued and has not freed. Never
 * dereferences p before it knows. */
bool ident_valid(const ident_registry *r, const void *p);
void ident_retain(ident_registry *r, const dtr_identity *id);
/* Drops a reference; the last one frees the identity (a client's identity
 * keeps the registry's own reference until ident_registry_free). */
void ident_release(ident_registry *r, const dtr_identity *id);

/* What the identity is, in the ABI's words; strings owned by the identity. */
void ident_info(const dtr_identity *id, dtr_identity_info *out);
/* The auth cache's client behind a client identity; NULL for a person. */
const auth_client *ident_client(const dtr_identity *id);
/* Who the identity is for the register (reg_decide). 0, or -1 for a role the
 * register does not know. */
int ident_actor(const dtr_identity *id, reg_actor *out);

#endif /* DTR_AUTH_IDENTITY_H */
