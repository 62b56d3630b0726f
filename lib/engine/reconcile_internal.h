/* Internals of the reconcile cycle, exported for unit tests. */
#ifndef CERTOPS_ENGINE_RECONCILE_INTERNAL_H
#define CERTOPS_ENGINE_RECONCILE_INTERNAL_H

#include <stdint.h>
#include <time.h>

#include "engine/reconcile.h"

/* The delay after the n-th consecutive failure (n >= 1), from base. */
int64_t engine__backoff_delay(int64_t base, int64_t n);

/* A certificate the store holds, for the expiry alert. */
typedef struct {
	char *name;
	time_t not_before, not_after;
	int alerting; /* out: the "expiring" alert is on (engine__notices) */
} engine_stored_cert;

typedef struct {
	engine_stored_cert *stored;  /* the store's current versions */
	size_t nstored;
	const engine_cycle_report *rep; /* ran, certs, gone */
	int plan_only;
	const char *cycle_message;   /* why the cycle failed, or NULL */
	time_t now;
} engine_notice_input;

/* One notification to hand to notify_update. */
typedef struct {
	char *subject;        /* "certificate/<name>" */
	notify_status status;
	char *message;
} engine_notice;

/*
 * The per-certificate notifications of a cycle, a pure function of in
 * (it sets in->stored[i].alerting).  Failing: its actions failed, or it
 * waits out a backoff after failing; ok: converged ("recovered" when it
 * was not), no longer declared; expiring, the last line of defence: less
 * than a sixth of the lifetime left while renewals are not happening (the
 * certificate fails, or the cycle failed before the engine ran) gets its
 * own, louder notification.  When the engine did not run nothing is known
 * about the declared certificates, so only the expiry alert is raised,
 * never a recovery.  lib/notify sends a notice only on a change of state.
 */
int engine__notices(engine_notice **out, size_t *count, engine_notice_input *in);
void engine__notices_free(engine_notice *n, size_t count);

/*
 * Writes the cycle's metrics into path: the status report of e (observed
 * offline again, after the apply) with s as the last cycle, in lib/report's
 * one vocabulary, the same as `certops status --format prometheus`.
 */
int engine__write_metrics(const char *path, engine *e, const state_reconcile_status *s,
			  time_t now);

#endif
