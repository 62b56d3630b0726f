/*
 * engine: one whole pass, owned by the library.  Every front end (the
 * certops CLI, a daemon, the agent, a program linking libcertops) drives
 * the same calls, so none has to copy "how a pass goes":
 *
 *   engine_new        the options, and ONE resolution of the state directory
 *   engine_load       the source (a directory or a Git commit), the
 *                     declarations, the local policy and the capability
 *                     table (what this build can carry out); every problem
 *                     lands in engine->diags with its position
 *   engine_plan       observe → plan (read-only; no lock)
 *   engine_apply      lock → plan, or a saved plan checked for freshness →
 *                     apply rounds → record the applied commit → unlock
 *   engine_reconcile_cycle   one reconcile cycle (reconcile.h)
 *
 * The engine renders nothing: it reports through engine_events callbacks
 * and returns data (plans, reports) that the front end renders.
 *
 * Errors: the functions return 0 or a negative code with the error set.
 * The codes a front end maps to exit statuses: CERTOPS_EINVALID (invalid
 * declarations or policy, a bad ref, a stale saved plan: 65),
 * CERTOPS_EUSAGE (an option names nothing: 64), CERTOPS_ELOCKED (75);
 * anything else is a runtime failure (1).
 */
#ifndef CERTOPS_ENGINE_H
#define CERTOPS_ENGINE_H

#include <stddef.h>
#include <time.h>

#include "apply/apply.h"
#include "config/config.h"
#include "config/policy.h"
#include "observe/observe.h"
#include "plan/plan.h"
#include "report/report.h"
#include "source/source.h"
#include "state/state.h"
#include "util/error.h"

/* How a pass finds its inputs.  Strings are borrowed for the engine's life. */
typedef struct {
	const char *state_dir;   /* --state; NULL: CERTOPS_STATE, then the default */
	const char *policy_path; /* --policy; NULL: /etc/certops/policy.yaml or built-in */
	const char *dir;         /* the DIR (or FILE) operand; NULL: "." */
	/*
	 * The source options (--repo, --ref, ...), used when use_source is
	 * set (any of them was given; engine_source_given tells).  Without
	 * them dir is read as a plain directory and no store is created.
	 */
	source_opts source;
	int use_source;
	/* A saved plan (apply FILE): its source is used unless given. */
	const char *saved_plan;
	int force_commit;        /* apply a saved plan made at another commit */
	/*
	 * An open store to use instead of opening state_dir (the reconcile
	 * loop keeps one open across cycles); borrowed.
	 */
	state *st;
} engine_options;

struct engine;

/* Nonzero when any source option is set in o. */
int engine_source_given(const source_opts *o);

/*
 * Front-end callbacks; each may be NULL.  Called from the thread that made
 * the engine call (progress: serialised, from the apply workers).
 */
typedef struct {
	/* The source was resolved (a Git commit, or a directory). */
	void (*source)(void *data, const source_result *src);
	/* The declarations are loaded and valid (reconcile cycles). */
	void (*loaded)(void *data, const struct engine *e);
	/* The plan about to be applied; dropped: actions left out (backoff). */
	void (*plan)(void *data, const plan *p, size_t dropped);
	/* Apply progress. */
	void (*progress)(void *data, const apply_event *ev);
	void *data;
} engine_events;

typedef struct engine {
	engine_options opts;
	char *state_dir;          /* resolved once: the store, the policy's root */
	source_result *src;       /* NULL: a plain directory */
	const char *dir;          /* what was loaded (src->dir or opts.dir) */
	plan *saved;              /* the saved plan (opts.saved_plan) */
	config_set *set;          /* the declarations (NULL: unreadable) */
	config_policy *policy;
	/* Problems of the declarations, the policy and the capability table,
	 * sorted by position; engine_load fails with CERTOPS_EINVALID when
	 * there is any. */
	util_diags diags;
	state *st;                /* NULL until a pass opens the store */
	int own_st;               /* st is ours to free */
	int has_state;            /* the store existed before this run */
	observe_result *obs;      /* the last observation (engine_plan) */
} engine;

/*
 * Makes an engine for o (copied; strings borrowed) and resolves the state
 * directory.  *out is the caller's: engine_free.
 */
int engine_new(engine **out, const engine_options *o);
void engine_free(engine *e);

/*
 * Loads what a pass needs: the saved plan (when given), the source, the
 * declarations, the policy (with e->state_dir as the store's root), and
 * checks the policy and the capability table.  Returns 0; CERTOPS_EINVALID
 * when e->diags has problems (the set is kept, for counts) or the source
 * or saved plan is refused; CERTOPS_EUSAGE for contradicting options; or
 * another code.  events.source is called once the source is resolved.
 */
int engine_load(engine *e, const engine_events *events);

/* ---- plan ---- */

typedef struct {
	time_t now;                 /* 0: the current time */
	int prune;
	const char *const *force;   /* certificate names (each must be declared) */
	size_t nforce;
	/* OBSERVE_OFFLINE (status) or 0: online per observe_online_default. */
	unsigned observe_flags;
} engine_plan_options;

/*
 * Observes (the store read-only, missing store = nothing issued) and plans
 * e's declarations.  *out is the caller's (plan_free); the observation
 * stays in e->obs.  CERTOPS_EUSAGE when a --force name is not declared.
 */
int engine_plan(plan **out, engine *e, const engine_plan_options *o);

/* ---- apply ---- */

typedef struct {
	engine_plan_options plan;   /* ignored for a saved plan */
	unsigned parallel;          /* 0: APPLY_PARALLEL_DEFAULT */
	unsigned max_rounds;        /* 0: APPLY_ROUNDS_DEFAULT */
	int lock_timeout;           /* seconds */
	const char *command;        /* recorded as lock holder; NULL: "apply" */
	/*
	 * Actions left out of the first plan (reconcile's backoff): keep()
	 * returns 0 to drop an action; NULL keeps all.
	 */
	int (*keep)(const plan_action *a, void *data);
	void *keep_data;
	/* Plan only: observe and plan under no lock, apply nothing. */
	int plan_only;
	/* Record the commit as applied even when not converged (reconcile). */
	int record_partial;
} engine_apply_options;

typedef struct {
	plan *plan;           /* the plan shown and run (owned) */
	size_t dropped;       /* actions keep() dropped */
	apply_report report;  /* converged is 1 when nothing was left to do */
	int ran;              /* 1: actions were run */
} engine_apply_result;

/*
 * Applies: opens (creating) the store, takes the lock, plans (or checks
 * the saved plan against the declarations' digest, the state serial and
 * the commit), calls events.plan, runs the plan, and records the commit as
 * applied when it converged.  Fills *out (engine_apply_result_release) in
 * every case that got as far as a plan.  Returns 0 when the apply ran
 * (out->report says whether it converged), or a negative code.
 */
int engine_apply(engine_apply_result *out, engine *e,
		 const engine_apply_options *o, const engine_events *events);
void engine_apply_result_release(engine_apply_result *r);

/* 1 when path is a regular file that holds a saved plan (JSON), not YAML. */
int engine_is_saved_plan(const char *path);

/* ---- status ---- */

/*
 * The status report (lib/report) of e at now: the store observed offline,
 * the plan, and cycle as the last reconcile cycle (NULL: the one recorded
 * in the store, if any).  *out is the caller's: report_free.
 */
int engine_status(report **out, engine *e, time_t now,
		  const state_reconcile_status *cycle);

/* ---- capabilities ---- */

/*
 * What this build can carry out.  Each entry is a feature the declaration
 * language has and apply cannot do yet: validate and plan refuse it at its
 * position ("dns01.rfc2136 is not supported yet").  A later feature
 * removes its entry.
 */
typedef struct {
	const char *feature;  /* "dns01.rfc2136", "issuer.ca", ... */
	const char *summary;  /* what it is, for people */
} engine_capability;

/* The features not built yet, ended by { NULL, NULL }. */
const engine_capability *engine_unsupported(void);

/*
 * Adds one CERTOPS_EUNSUPPORTED diagnostic per use of an unsupported
 * feature in set, at the position where it is declared.  Returns 0, or
 * CERTOPS_ENOMEM.
 */
int engine_capability_check(const config_set *set, util_diags *diags);

#endif
