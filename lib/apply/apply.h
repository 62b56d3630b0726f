/*
 * apply: the executor (docs/apply.md).  Runs a plan's actions in
 * dependency order, independent ones in parallel on a bounded pool of
 * worker threads, records each in the state store the moment it succeeds,
 * then observes and plans again until the plan is empty or a round makes
 * no progress.
 *
 * The primitives (apply_account, apply_issue, apply_deploy) are usable on
 * their own: each is idempotent and records its result in the state store
 * before returning, so an interrupted run resumes where it stopped: an
 * account registered is found again, an order recorded before its
 * challenges were answered is resumed, not duplicated.
 *
 * The caller holds the state lock (state_lock) for the whole apply.
 *
 * Threads: one apply_ctx is shared by the workers of a run.  The ACME
 * client of each issuer and the http-01 responder of each listen address
 * are created once per run and shared; the progress callback is called
 * with a mutex held, so it may print without interleaving.
 */
#ifndef CERTOPS_APPLY_H
#define CERTOPS_APPLY_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "config/config.h"
#include "config/policy.h"
#include "plan/plan.h"
#include "state/state.h"

#define APPLY_PARALLEL_DEFAULT 4
/* Pebble deadlocks with many more concurrent orders (NOTES-peers.md). */
#define APPLY_PARALLEL_MAX 32
#define APPLY_ROUNDS_DEFAULT 3

typedef enum {
	APPLY_EVENT_START = 0, /* an action starts */
	APPLY_EVENT_DONE,      /* it succeeded (recorded) */
	APPLY_EVENT_FAILED,    /* it failed: message says why */
	APPLY_EVENT_SKIPPED,   /* not run: an action it depends on failed */
	APPLY_EVENT_ROUND      /* a new round starts (round > 1) */
} apply_event_kind;

typedef struct {
	apply_event_kind kind;
	const plan_action *action; /* NULL for ROUND; borrowed */
	unsigned round;            /* 1-based */
	double elapsed;            /* seconds, for DONE/FAILED */
	const char *message;       /* FAILED/SKIPPED: why; DONE: detail or NULL */
} apply_event;

typedef struct {
	state *st;                   /* required, locked by the caller */
	const config_set *set;       /* required, validated */
	const config_policy *policy; /* required */
	unsigned parallel;           /* workers; 0: default; capped at max */
	unsigned max_rounds;         /* 0: APPLY_ROUNDS_DEFAULT */
	time_t at;                   /* plan re-runs as of this time; 0: now */
	int prune;                   /* passed to the planner */
	/* Called for each event, serialised; may be NULL. */
	void (*progress)(void *data, const apply_event *ev);
	void *progress_data;
} apply_options;

typedef struct apply_ctx apply_ctx;

/* *out is the caller's (apply_ctx_free); opts is copied (pointers borrowed). */
int apply_ctx_new(apply_ctx **out, const apply_options *opts);
/* Stops the http-01 responders, frees the clients.  NULL is fine. */
void apply_ctx_free(apply_ctx *ctx);

/*
 * Ensures the ACME account of issuer: found in the store (its key, and
 * its URL once registered), else a new key is stored first and then
 * registered (contact emails, termsOfServiceAgreed, EAB when declared),
 * and the URL recorded at once.  A key stored but not yet registered (a
 * run killed in between) is registered again, which finds the same
 * account.  *registered_out (may be NULL) is 1 when this call registered.
 */
int apply_account(apply_ctx *ctx, const config_issuer *issuer,
		  int *registered_out);

/*
 * Issues cert: account, solvers from its effective challenge, the key
 * (reused from the current version when key.reuse and the spec matches,
 * or from a pending order being resumed; else generated), the order
 * recorded in the store (state_order_put) before any challenge is
 * answered, validation, finalize, download, the preferred chain, and the
 * new version stored (state_cert_put) with its metadata and declaration
 * hash; the pending order is then forgotten.  A pending order of the same
 * declaration is resumed.  *version_out (may be NULL) gets the new
 * version id (the caller's, free()).
 */
int apply_issue(apply_ctx *ctx, const config_certificate *cert,
		char **version_out);

/*
 * Deploys the current version of cert to target, then records the
 * result (state_deploy_put under observe_target_id, with the fingerprint,
 * config_target_hash, time, result and message), failures included.
 */
int apply_deploy(apply_ctx *ctx, const config_certificate *cert,
		 const config_target *target);

/*
 * How long a verify after a reload waits for the endpoint to serve the
 * new certificate (a graceful reload keeps old workers for a moment).
 */
#define APPLY_VERIFY_WINDOW_MS 10000
/* Served twice this far apart counts (old workers stop accepting). */
#define APPLY_VERIFY_SETTLE_MS 300

/*
 * Probes verify endpoint index of cert (observe_tls_verify_one) until it
 * serves the current certificate twice APPLY_VERIFY_SETTLE_MS apart, or
 * APPLY_VERIFY_WINDOW_MS has passed.
 * 0 when served; CERTOPS_ESTALE (an older certificate of ours: the reload
 * did not take) or CERTOPS_EPEER (foreign, unreachable), with the error
 * naming the endpoint and both fingerprints.  Records nothing: the next
 * observation probes again.
 */
int apply_verify(apply_ctx *ctx, const config_certificate *cert, size_t index);

/* Runs one action of a resolved plan (its config pointers set). */
int apply_action(apply_ctx *ctx, const plan_action *action);

/* What an apply did. */
typedef struct {
	char *id;
	int ok;            /* 1 done, 0 failed, -1 skipped */
	char *message;     /* failure, or NULL */
	double elapsed;
	unsigned round;
} apply_outcome;

typedef struct {
	apply_outcome *outcomes; /* in the order they finished */
	size_t count;
	size_t n_done, n_failed, n_skipped;
	unsigned rounds;
	int converged;           /* 1: the last plan was empty */
	/* The actions still planned when the run stopped, with the reason
	 * they did not converge ("failed: ...", "still planned after it
	 * ran"). */
	char **pending_ids;
	char **pending_why;
	size_t npending;
} apply_report;

/*
 * Runs p (made from ctx's set; config pointers resolved), then re-observes
 * and re-plans until the plan has no changes, a round runs nothing new
 * (each action id runs at most once per apply), or max_rounds.  Fills
 * *report (the caller's: apply_report_clear).  Returns 0 when the run
 * itself worked (report->converged says whether everything converged),
 * or a negative code when it could not go on (out of memory, observation
 * failed).
 */
int apply_run(apply_report *report, apply_ctx *ctx, const plan *p);
void apply_report_clear(apply_report *report);

#endif
