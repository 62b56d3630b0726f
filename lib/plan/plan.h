/*
 * plan: the pure diff.  desired (config_set) x observed (observe_result) x
 * now x options -> an ordered list of actions, each with a stable id, a
 * kind, a stable CamelCase reason code, a human message and the ids of the
 * actions it depends on.  No I/O and no clock reads here (plan_save and
 * plan_load are the exception, and are marked so); same inputs, same plan.
 *
 * Action ids (stable; tests, JSON and saved plans use them):
 *   account:<issuer>             register an ACME account
 *   issue:<cert>                 issue or renew a certificate
 *   deploy:<target id>           deploy to a target ("deploy:www:files[0]")
 *   hook:<target id>             run an exec target ("hook:www:exec[1]")
 *   verify:<cert>:verify[<i>]    check what an endpoint serves
 *   orphan:<cert>                a stored certificate no longer declared
 *   orphan-target:<target id>    a deployment record no longer declared
 * Target ids are observe_target_id's "<cert>:<kind>[<index>]".
 *
 * Order: actions are sorted so that every action comes after the actions
 * it depends on (accounts, then per certificate: issue, deploys, hooks,
 * verifies; certificates in name order; orphans last).  Dependencies:
 * issue after its issuer's account; deploy after its certificate's issue;
 * hooks after every deploy of their certificate; verify after the hooks
 * (or deploys when there are none).  A dependency is only listed when the
 * action it names is in the plan.
 *
 * Ownership: a plan and everything in it is the caller's (plan_free).
 * Config pointers in actions are borrowed from the config_set the plan
 * was made from (NULL in a loaded plan until plan_resolve).
 */
#ifndef CERTOPS_PLAN_H
#define CERTOPS_PLAN_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "config/config.h"
#include "observe/observe.h"
#include "util/buf.h"

/* The version of the JSON plan format ("format_version"). */
#define PLAN_FORMAT_VERSION "1.0"

typedef enum {
	PLAN_ACTION_REGISTER_ACCOUNT = 0, /* "register-account" */
	PLAN_ACTION_ISSUE,                /* "issue" */
	PLAN_ACTION_DEPLOY,               /* "deploy" */
	PLAN_ACTION_RUN_HOOK,             /* "run-hook" */
	PLAN_ACTION_VERIFY,               /* "verify" */
	PLAN_ACTION_ORPHAN,               /* "orphan" (kept unless prune) */
	PLAN_ACTION__COUNT
} plan_action_kind;

/*
 * Why.  The names (plan_reason_name) are stable CamelCase codes shown to
 * users, in JSON and asserted in tests; never rename one.
 */
typedef enum {
	/* issue */
	PLAN_REASON_MISSING = 0,          /* Missing: nothing issued yet / never deployed */
	PLAN_REASON_IDENTIFIERS_CHANGED,  /* IdentifiersChanged */
	PLAN_REASON_KEY_SPEC_CHANGED,     /* KeySpecChanged */
	PLAN_REASON_ISSUER_CHANGED,       /* IssuerChanged */
	PLAN_REASON_DECLARATION_CHANGED,  /* DeclarationChanged: other fields (CN, key reuse) */
	PLAN_REASON_EXPIRED,              /* Expired */
	PLAN_REASON_EXPIRING,             /* Expiring: renewBefore / lifetime fraction */
	PLAN_REASON_RENEWAL_WINDOW,       /* RenewalWindow: the CA's ARI window */
	PLAN_REASON_REVOKED,              /* Revoked */
	PLAN_REASON_FORCED,               /* Forced */
	/* deploy / hooks */
	PLAN_REASON_NEW_CERTIFICATE,      /* NewCertificate */
	PLAN_REASON_DRIFTED,              /* Drifted: message says which file and how */
	PLAN_REASON_TARGET_CONFIG_CHANGED,/* TargetConfigChanged */
	PLAN_REASON_PREVIOUS_FAILED,      /* PreviousFailed: last attempt failed */
	PLAN_REASON_DEPLOYED,             /* Deployed: a hook/verify after deploys */
	/* accounts */
	PLAN_REASON_NO_ACCOUNT,           /* NoAccount */
	/* orphans */
	PLAN_REASON_NOT_DECLARED,         /* NotDeclared */
	PLAN_REASON__COUNT
} plan_reason;

const char *plan_action_kind_name(plan_action_kind kind);
const char *plan_reason_name(plan_reason reason);
/* Parse the names back (plan_load); CERTOPS_EINVALID when unknown. */
int plan_action_kind_parse(plan_action_kind *out, const char *name);
int plan_reason_parse(plan_reason *out, const char *name);

typedef struct {
	char *id;
	plan_action_kind kind;
	plan_reason reason;
	char *message;       /* human: what and why ("privkey.pem has mode 0644, want 0600") */
	char *certificate;   /* certificate name; NULL for accounts */
	char *issuer;        /* issuer name (accounts, issues), else NULL */
	char *target;        /* target id (deploy, hook, orphan-target), else NULL */
	long index;          /* deploy/verify list index, -1 when none */
	char **depends_on;   /* ids of actions in this plan */
	size_t ndepends;
	/* Before -> after, where it applies (NULL/0 when not). */
	char *current_fingerprint; /* issue: the certificate replaced;
				      deploy: what is deployed now */
	time_t current_not_after;
	time_t renew_at;     /* issue: when renewal became due */
	int prune;           /* orphan: apply removes it (--prune) */
	/* Borrowed from the config_set (NULL in a loaded, unresolved plan). */
	const config_certificate *cert_cfg;
	const config_issuer *issuer_cfg;
	const config_target *target_cfg;
	const config_verify *verify_cfg;
} plan_action;

typedef struct {
	plan_action *actions; /* in dependency order */
	size_t count;
	time_t now;           /* the time planned for */
	char config_digest[CONFIG_HASH_HEX_LEN + 1]; /* plan_config_digest */
	int has_state;        /* 0: there was no state store */
	uint64_t state_serial;
	/* Where the declarations came from (plan_set_source): a Git URL as
	 * shown, the ref and the full commit id; all NULL for a plain
	 * directory.  Owned by the plan. */
	char *source_url, *source_ref, *source_commit;
	/* Counts for the summary; orphans kept (not pruned) are not changes. */
	size_t n_issue, n_renew, n_deploy, n_hooks, n_verify, n_accounts,
		n_orphans, n_prune;
} plan;

typedef struct {
	time_t now;           /* required: the time to plan for (--at) */
	int prune;            /* orphans are removed (apply --prune) */
	/* Names of certificates to reissue regardless (Forced); NULL/0: none;
	 * force_all: every declared certificate. */
	const char *const *force;
	size_t nforce;
	int force_all;
	/* Most a renewal is moved earlier by the per-certificate jitter, in
	 * seconds; 0: the default (PLAN_JITTER_MAX, and at most 1/20 of the
	 * lifetime).  Negative: no jitter (tests). */
	int64_t jitter_max;
} plan_options;

#define PLAN_JITTER_MAX (2 * 86400)

/*
 * Makes the plan.  desired must have been validated (config_set_validate
 * without diagnostics); obs must come from observe_run on the same set.
 * *out is the caller's (plan_free).  Returns 0 or CERTOPS_ENOMEM.
 */
int plan_new(plan **out, const config_set *desired, const observe_result *obs,
	     const plan_options *opts);
void plan_free(plan *p);

/*
 * Records the source of the declarations (a Git URL, ref and full commit
 * id; any may be NULL) in p: shown in the human header, the JSON "source"
 * object and saved plans.  Copies the strings.  0 or CERTOPS_ENOMEM.
 */
int plan_set_source(plan *p, const char *url, const char *ref,
		    const char *commit);

/*
 * Drops the actions for which keep returns 0, and, transitively, every
 * action depending on a dropped one; the summary counts are recomputed.
 * Used by reconcile to leave out certificates waiting out a retry
 * backoff.  Returns the number of actions dropped.
 */
size_t plan_filter(plan *p, int (*keep)(const plan_action *a, void *data),
		   void *data);

/* Nonzero when the plan changes anything (kept orphans do not count). */
int plan_has_changes(const plan *p);
/* The action with that id (borrowed), or NULL. */
const plan_action *plan_find(const plan *p, const char *id);

/*
 * The declaration hash recorded with an issued certificate
 * (state_cert_meta.declaration_hash) and compared by the planner:
 * config_certificate_hash of cert.  Apply stores exactly this.
 */
int plan_declaration_hash(char out[CONFIG_HASH_HEX_LEN + 1],
			  const config_certificate *cert);

/*
 * The digest of the whole desired state (every issuer, certificate and
 * target hash, in name order) that a saved plan pins.
 */
int plan_config_digest(char out[CONFIG_HASH_HEX_LEN + 1],
		       const config_set *set);

/* ---- renewal timing ---- */

typedef enum {
	PLAN_RENEW_ARI = 0,     /* inside the CA's suggested window */
	PLAN_RENEW_BEFORE,      /* not_after - renewBefore - jitter */
	PLAN_RENEW_FRACTION     /* when a fraction of the lifetime is left */
} plan_renew_basis;

/*
 * When cert's current certificate cur (with renewal info ri, may be NULL)
 * is due for renewal:
 *  - the ARI window when known: start + jitter * (end - start);
 *  - else renewBefore: not_after - renewBefore - jitter;
 *  - else a fraction of the lifetime left: the declared fraction, or by
 *    default 1/3 (1/2 when the lifetime is 10 days or less), minus jitter.
 * jitter is deterministic per certificate name (FNV-1a of the name scaled
 * to [0, jitter_max)), so the same certificate always renews at the same
 * time while many certificates issued at once spread out.  Pure.
 */
time_t plan_renewal_time(const config_certificate *cert,
			 const observe_cert_current *cur,
			 const observe_renewal_info *ri,
			 int64_t jitter_max, plan_renew_basis *basis_out);
/* The jitter of name in [0, span) seconds (span <= 0: 0). */
int64_t plan_jitter(const char *name, int64_t span);

/* ---- rendering ---- */

enum {
	PLAN_RENDER_COLOR = 1 << 0 /* ANSI colours on the markers */
};

/*
 * Human form, Terraform-like: one line per action "  + issue:www  (Missing)
 * message", markers + (create), ~ (update/replace), - (orphan removed),
 * # (orphan kept), then a summary line "Plan: N to issue, N to renew, N to
 * deploy, N no longer declared." or "No changes. Certificates and targets
 * match the declaration."  Appends to out.
 */
int plan_render_human(util_buf *out, const plan *p, unsigned flags);
/* JSON form (schemas/plan.schema.json), one object, newline-terminated. */
int plan_render_json(util_buf *out, const plan *p);
/* Parses the JSON form back (round trip); CERTOPS_EINVALID when bad. */
int plan_parse_json(plan **out, const char *json, size_t len);

/* ---- saved plans (these do I/O) ---- */

/* Writes the JSON form to path atomically (mode 0600). */
int plan_save(const plan *p, const char *path);
/* Reads a saved plan; CERTOPS_EINVALID (message names path) when bad. */
int plan_load(plan **out, const char *path);
/*
 * Checks a saved plan against the world it is applied to: 0 when both the
 * config digest and the state serial match; else CERTOPS_ESTALE with a
 * message saying which moved ("the declarations changed since the plan was
 * made; run certops plan again").  has_state/serial: the store now.
 */
int plan_check_fresh(const plan *p, const char *config_digest,
		     int has_state, uint64_t state_serial);
/*
 * Points a loaded plan's actions at the declarations of set (cert_cfg,
 * issuer_cfg, target_cfg, verify_cfg by name and index).  Call after
 * plan_check_fresh; CERTOPS_ESTALE when something named is missing.
 */
int plan_resolve(plan *p, const config_set *set);

#endif
