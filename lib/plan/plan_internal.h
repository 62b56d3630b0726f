/* plan: helpers shared by its files (not part of the public API). */
#ifndef CERTOPS_PLAN_INTERNAL_H
#define CERTOPS_PLAN_INTERNAL_H

#include "plan/plan.h"

/* Appends a zeroed action (index -1) to p; NULL when out of memory. */
plan_action *plan__add(plan *p);
/* Adds id to a's dependencies (copied); 0 or CERTOPS_ENOMEM. */
int plan__add_dep(plan_action *a, const char *id);
/* Recomputes p's counts from its actions. */
void plan__count(plan *p);
/* Frees what an action owns. */
void plan__action_clear(plan_action *a);
/* Allocates an empty plan; NULL when out of memory. */
plan *plan__alloc(void);

#endif
