/*
 * The plan → apply part of a reconcile cycle, with a per-certificate retry
 * backoff: a certificate whose actions failed is left out of the following
 * cycles until its next-attempt time, recorded in the state store
 * (state_backoff_replace), so that a broken certificate is not
 * hammered while the others proceed.  The delay starts at the base
 * (reconcile --retry-backoff, default 5m) and doubles with each consecutive
 * failure, up to 6 hours (or the base, when larger); a success forgets it.
 */
#ifndef CERTOPS_CMD_RECONCILE_ENGINE_H
#define CERTOPS_CMD_RECONCILE_ENGINE_H

#include <stdint.h>
#include <time.h>

#include "cli.h"
#include "config/config.h"
#include "config/policy.h"
#include "source/source.h"
#include "state/state.h"

#define RECONCILE_BACKOFF_DEFAULT (5 * 60)
#define RECONCILE_BACKOFF_MAX (6 * 3600)

typedef enum {
	RECONCILE_CERT_OK = 0, /* converged (or nothing to do) */
	RECONCILE_CERT_FAILED, /* an action failed this cycle */
	RECONCILE_CERT_BACKOFF /* failed before; left out until next_attempt */
} reconcile_cert_state;

typedef struct {
	char *name;
	reconcile_cert_state state;
	int64_t failures;     /* consecutive failed attempts */
	time_t next_attempt;  /* 0: none pending */
	char *message;        /* the last failure, or NULL */
} reconcile_cert_result;

typedef struct {
	reconcile_cert_result *certs; /* one per declared certificate */
	size_t count;
	size_t n_failed, n_backoff;
	size_t n_done;                /* actions that succeeded */
	/* Certificates that were failing and are no longer declared (their
	 * backoff is forgotten; reconcile tells the webhook). */
	char **gone;
	size_t ngone;
} reconcile_engine_result;

typedef struct {
	state *st;                    /* open; locked inside for the run */
	const config_set *set;        /* validated */
	const config_policy *policy;
	const source_result *src;     /* the commit named in the plan */
	int64_t backoff_base;         /* seconds; 0: the default */
	int lock_timeout;             /* seconds to wait for the state lock */
	int plan_only;                /* print the plan; no lock, no apply */
	time_t now;
} reconcile_engine_opts;

/*
 * Takes the state lock, observes, plans (leaving out certificates in
 * backoff), prints the plan and the progress on ctx->out, applies (one
 * round: what did not converge waits for the next cycle), releases the
 * lock and records the backoff state.  Fills *out (the caller's:
 * reconcile_engine_result_clear).  Returns 0 when the engine ran (the
 * certificates' results say what failed), or a negative code with the
 * error set (the lock is held by another run, the store is unreadable).
 */
int reconcile_engine_run(reconcile_engine_result *out, cli_ctx *ctx,
			 const reconcile_engine_opts *opts);
void reconcile_engine_result_clear(reconcile_engine_result *r);

/* The result of certificate name, or NULL. */
const reconcile_cert_result *reconcile_engine_find(
	const reconcile_engine_result *r, const char *name);

#endif
