/*
 * One reconcile cycle, owned by the library (docs/operations.md):
 *
 *   source → declarations + policy + capabilities → the retry-backoff
 *   filter → lock, observe, plan, one apply round → the backoff, the
 *   applied commit and the cycle's status recorded in the state store →
 *   notifications on a change of state → the metrics file.
 *
 * A certificate whose actions failed is left out of the following cycles
 * until its next attempt: the delay starts at the base (default 5 min) and
 * doubles with each consecutive failure, up to 6 hours (or the base, when
 * larger); a success forgets it.  The clock is injected (tests).
 *
 * The loop around the cycles (sleep, jitter, signals) belongs to the front
 * end: `certops reconcile` in cmd/, a daemon, the agent.
 */
#ifndef CERTOPS_ENGINE_RECONCILE_H
#define CERTOPS_ENGINE_RECONCILE_H

#include <stdint.h>
#include <time.h>

#include "engine/engine.h"
#include "notify/notify.h"
#include "state/state.h"

#define ENGINE_BACKOFF_DEFAULT (5 * 60)
#define ENGINE_BACKOFF_MAX (6 * 3600)

typedef enum {
	ENGINE_CERT_OK = 0,   /* converged (or nothing to do) */
	ENGINE_CERT_FAILED,   /* an action failed this cycle */
	ENGINE_CERT_BACKOFF   /* failed before; left out until next_attempt */
} engine_cert_state;

/* "ok", "failed", "backoff". */
const char *engine_cert_state_name(engine_cert_state s);

typedef struct {
	char *name;
	engine_cert_state state;
	int64_t failures;     /* consecutive failed attempts */
	time_t next_attempt;  /* 0: none pending */
	char *message;        /* the last failure, or NULL */
} engine_cert_result;

typedef enum {
	ENGINE_CYCLE_OK = 0,   /* every certificate converged */
	ENGINE_CYCLE_PARTIAL,  /* some failed or wait out a backoff */
	ENGINE_CYCLE_INVALID,  /* the declarations or the source were refused */
	ENGINE_CYCLE_ERROR,    /* the engine could not run (lock, store, ...) */
	ENGINE_CYCLE_USAGE     /* contradicting options: stop the loop */
} engine_cycle_result;

typedef struct {
	engine_cycle_result result;
	int error;            /* the engine's error code when it did not run */
	int ran;              /* the plan was applied (not --plan-only) */
	const engine *e;      /* this cycle's load (source, diags); borrowed */
	engine_cert_result *certs; /* one per declared certificate */
	size_t ncerts;
	size_t n_failed, n_backoff;
	size_t n_done;        /* actions that succeeded */
	/* Certificates failing before that are no longer declared. */
	char **gone;
	size_t ngone;
	/* What the cycle recorded (borrowed from the reconciler). */
	const state_reconcile_status *status;
} engine_cycle_report;

typedef struct {
	engine_options load;      /* where each cycle reads from (st: ignored) */
	int64_t backoff_base;     /* seconds; 0: ENGINE_BACKOFF_DEFAULT */
	int lock_timeout;         /* seconds to wait for the state lock */
	int plan_only;            /* plan, never apply */
	unsigned parallel;        /* 0: the default */
	notify_opts notify;       /* url, ca_bundle, attempts (st: ignored) */
	const char *metrics_file; /* written after each cycle, or NULL */
	time_t (*clock)(void *data); /* NULL: time() */
	void *clock_data;
} engine_reconcile_options;

typedef struct engine_reconciler engine_reconciler;

/*
 * Opens (creating) the store of o->load and the notification memory, and
 * loads the counters of earlier cycles.  o is copied (strings borrowed).
 * *out is the caller's: engine_reconciler_free.
 */
int engine_reconciler_new(engine_reconciler **out, const engine_reconcile_options *o);
void engine_reconciler_free(engine_reconciler *r);

/*
 * Runs one cycle; *out (borrowed until the next cycle or the free) says
 * what happened.  Returns 0 when the cycle ran to its end, whatever its
 * result (out->result), or a negative code when it could not record it.
 * events: source (resolved), loaded (declarations valid), plan (before
 * the apply), progress.
 */
int engine_reconcile_cycle(const engine_cycle_report **out, engine_reconciler *r,
			   const engine_events *events);

/* Forgets what the last cycle loaded (SIGHUP: policy and secrets re-read). */
void engine_reconciler_reload(engine_reconciler *r);

#endif
