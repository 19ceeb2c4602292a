/*
 * authz.c -- who may write what (DOMAIN.md, "Who may do what"): the kommune
 * role writes daginstitutioner of its kommuner that are kommunal, selvejende
 * or udliciteret, and their children; support and the system may write
 * everything; laeser and admin write no register data. The caller applies
 * the rule to every daginstitution a command touches, before and after.
 */
#include "register/internal.h"

bool reg_role_writes(const reg_actor *actor)
{
    return actor && (actor->role == REG_ROLE_KOMMUNE || actor->role == REG_ROLE_SUPPORT ||
                     actor->role == REG_ROLE_SYSTEM);
}

/* dag is the daginstitution that owns the data (itself, or the parent of an
 * anvisningsenhed, or the grandparent of an alternativ adresse), as stored
 * or as it would be after the change. */
bool reg_may_write(const reg_actor *actor, const json_t *dag)
{
    if (!reg_role_writes(actor)) return false;
    if (actor->role != REG_ROLE_KOMMUNE) return true;
    if (!dag) return false;
    int ejerform = reg_int_field(dag, "ejerformKode", 0);
    if (ejerform != 1 && ejerform != 2 && ejerform != 4) return false;
    int kommune = reg_int_field(dag, "admKommuneKode", -1);
    for (size_t i = 0; i < actor->n_kommuner; i++)
        if (actor->kommuner && actor->kommuner[i] == kommune) return true;
    return false;
}
