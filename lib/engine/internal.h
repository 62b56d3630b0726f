/* Internals of lib/engine shared by its files; not for other modules. */
#ifndef CERTOPS_ENGINE_INTERNAL_H
#define CERTOPS_ENGINE_INTERNAL_H

#include "engine/engine.h"

/*
 * Opens e's store unless it is open: read-only (a missing store leaves
 * e->st NULL: nothing issued yet) or, with create, creating it.
 */
int engine__open_state(engine *e, int create);

/* Observes and plans e's set with o; the observation replaces e->obs. */
int engine__observe_plan(plan **out, engine *e, const engine_plan_options *o);

#endif
