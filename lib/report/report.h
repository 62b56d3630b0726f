/*
 * report: what `certops status` shows and what the metrics say, as one
 * model with its renderers.  report_build gathers, per declared
 * certificate, the declaration, the current version, the plan's verdict
 * and the last reconcile cycle's result, and the loop's counters; the
 * renderers turn it into the status table, the status JSON
 * (schemas/status.schema.json) and the Prometheus text exposition that
 * both `status --format prometheus` and reconcile's --metrics-file write
 * (one vocabulary: docs/operations.md, "Metrics").
 *
 * Ownership: a report is the caller's (report_free) and owns copies of
 * everything in it, so its inputs may be freed once report_build returns.
 * Building does no I/O and reads no clock: now is an argument.
 */
#ifndef CERTOPS_REPORT_H
#define CERTOPS_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "apply/apply.h"
#include "config/config.h"
#include "observe/observe.h"
#include "plan/plan.h"
#include "source/source.h"
#include "state/state.h"
#include "util/buf.h"

/* The version of the status JSON ("format_version"). */
#define REPORT_FORMAT_VERSION "1.0"

/* One deploy target of a certificate. */
typedef struct {
	char *id;                   /* observe_target_id: "www:files[0]" */
	config_target_type kind;
	int in_sync;                /* 1: the plan has nothing for it */
	plan_reason reason;         /* why not in sync (when !in_sync) */
	char *message;              /* the plan's message, or NULL */
	/* The store's deployment record. */
	int has_record;
	time_t deployed_at;
	int deployed_ok;
	char *deployed_fingerprint; /* or NULL */
	char *deploy_error;         /* the failure message, or NULL */
} report_target;

/* One declared certificate. */
typedef struct {
	char *name;
	char **identifiers;         /* DNS names, then IP addresses, as declared */
	size_t nidentifiers;
	char *issuer;               /* issuer name from the declaration */
	config_key_type key_type;
	int issued;                 /* 1: the store holds a current version */
	char *error;                /* the store record is unreadable, or NULL */
	/* The current version (when issued). */
	char *version, *fingerprint, *serial, *key_spec, *issuer_cn;
	time_t not_before, not_after;
	int64_t seconds_left;       /* not_after - now (negative: expired) */
	time_t renew_at;            /* plan_renewal_time (default jitter) */
	int renewal_due;            /* 1: the plan (re)issues it now */
	plan_reason reason;         /* why (when renewal_due) */
	report_target *targets;     /* one per deploy entry, declared order */
	size_t ntargets;
	/*
	 * The last reconcile cycle (when the report has one): has_last is 1
	 * when the cycle has a result for it (last_result "ok", "failed",
	 * "backoff").  expiring: the expiry alert (close to expiry and not
	 * being renewed): the cycle's own verdict when it has a result for
	 * the certificate; when the cycle stopped before the engine ran
	 * (nothing renews), notify_expiring at now.
	 */
	int has_last;
	char *last_result;
	int64_t failures;
	time_t next_attempt;        /* 0: not held back */
	char *last_message;         /* or NULL */
	int expiring;
} report_certificate;

/* Where the declarations were read (source options), when from Git. */
typedef struct {
	char *url, *ref;            /* as shown (password redacted); ref or NULL */
	char commit[SOURCE_COMMIT_HEXSZ + 1];
	int offline;                /* the fetch failed: the cached commit */
} report_source;

/*
 * A certificate the store holds that is no longer declared (kept until
 * apply --prune).  It still expires, so the metrics keep its not-after;
 * its expiry alert is off once a cycle's engine ran (reconcile forgets a
 * certificate no longer declared), and unknown (no sample) otherwise.
 */
typedef struct {
	char *name;
	time_t not_after;   /* 0: unknown */
} report_orphan;

typedef struct {
	time_t now;
	int has_state;
	uint64_t state_serial;
	report_certificate *certs;  /* in declaration order */
	size_t ncerts;
	report_orphan *orphans;     /* stored, no longer declared (sorted) */
	size_t norphans;
	report_source *source;      /* NULL: a plain directory */
	/*
	 * The last reconcile cycle as recorded, or NULL when none was: a
	 * deep copy owned by the report (released by report_free).
	 */
	state_reconcile_status *last;
} report;

/*
 * Builds the report of set (validated) as obs observed it and p planned
 * it (both made from set, p at now).  last (may be NULL: no cycle
 * recorded) is the last reconcile cycle; src (may be NULL) the source the
 * declarations came from (only a Git source is shown).  *out is the
 * caller's: report_free.  Returns 0 or CERTOPS_ENOMEM.
 */
int report_build(report **out, const config_set *set, const observe_result *obs,
		 const plan *p, const state_reconcile_status *last,
		 const source_result *src, time_t now);
void report_free(report *r);

/* The certificate called name (borrowed), or NULL. */
const report_certificate *report_find(const report *r, const char *name);

/*
 * The human status: "Source: ..." (a Git source), the table (a line per
 * certificate, an indented line per target, orphans), then "Last
 * reconcile cycle: ..." and a line per certificate that did not converge.
 * flags: none yet (0).  Appends to out; 0 or CERTOPS_ENOMEM.
 */
int report_render_text(util_buf *out, const report *r, unsigned flags);

/*
 * The status JSON (schemas/status.schema.json): one object, newline
 * terminated.  Appends to out; 0 or CERTOPS_ENOMEM.
 */
int report_render_json(util_buf *out, const report *r);

enum {
	/* Leave out the reconcile families even when a cycle is recorded. */
	REPORT_PROM_NO_RECONCILE = 1 << 0
};

/*
 * The Prometheus text exposition (format 0.0.4) of r: `certops status
 * --format prometheus` and reconcile's --metrics-file are this output.
 * Every family once (HELP, TYPE, then all its samples together), families
 * without samples left out; labels `certificate` and `target`; the
 * reconcile families only when r->last is set.  The vocabulary is in
 * docs/operations.md.  Appends to out; 0 or CERTOPS_ENOMEM.
 */
int report_render_prometheus(util_buf *out, const report *r, unsigned flags);

/*
 * `certops apply --json` (schemas/apply.schema.json): {"plan": <the plan
 * JSON>, "converged", "rounds", "done", "failed", "skipped", "actions":
 * [{"id", "result", "round", "elapsed", "error"}], "not_converged":
 * [{"id", "why"}]}, one line.  Appends to out; 0 or CERTOPS_ENOMEM.
 */
int report_render_apply_json(util_buf *out, const plan *p, const apply_report *r);

#endif
