/*
 * observe: what is real.  Reads the state store (issued certificates, ACME
 * accounts, deployment records) and every declared deploy target as it is
 * on disk, into plain data that the pure planner (lib/plan) compares with
 * the declaration.  No OpenSSL types leave this module.
 *
 * Errors: an item that cannot be observed (an unreadable file, a corrupt
 * record) gets its own error string and observation goes on with the rest;
 * observe_run fails only when out of memory or the store cannot be listed.
 *
 * Ownership: everything reachable from an observe_result is owned by it and
 * freed by observe_result_free; config pointers in it are borrowed from the
 * config_set given to observe_run, which must outlive the result.
 *
 * Fingerprints everywhere are the SHA-256 of the leaf certificate DER as 64
 * lowercase hex digits without separators (util_fingerprint_norm turns
 * other spellings into this one; util_fingerprint_equal compares).
 *
 * Deploy targets are observed by their own kind (target_observe in
 * lib/target): this module gathers, it does not know the kinds.
 */
#ifndef CERTOPS_OBSERVE_H
#define CERTOPS_OBSERVE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "config/config.h"
#include "config/policy.h"
#include "state/state.h"
#include "target/target.h"
#include "util/buf.h"

/* ---- target identity ---- */

/*
 * The identity of a deploy target, used as the state store's deployment
 * record key and in action ids: "<certificate>:<kind>[<index>]", e.g.
 * "www:files[0]", "www:exec[2]" (index: position in the deploy list).
 * Appends to out.  Apply records deployments under this identity.
 */
int observe_target_id(util_buf *out, const config_certificate *cert,
		      const config_target *target);

/* ---- issuers and accounts ---- */

typedef struct {
	const config_issuer *issuer; /* borrowed */
	char *directory_url;         /* resolved ACME directory, or NULL */
	int has_account;             /* a registered account is in the store */
	char *error;                 /* why directory_url is NULL, or NULL */
} observe_issuer;

/* ---- certificates ---- */

/* The current certificate of a name in the store, as plain data. */
typedef struct {
	char *version;          /* the store's version id */
	char **sans;            /* identifiers (DNS names, IP literals) */
	size_t nsans;
	char *key_spec;         /* "ecdsa-p256", ... (config_key_type_name) */
	char *issuer;           /* issuer name from the declaration */
	char *issuer_cn;        /* CN of the issuing CA, or NULL: only known when
				   the chain was parsed (incomplete metadata) */
	char *profile;          /* ACME profile, or NULL when not known */
	time_t not_before, not_after;
	time_t issued_at;
	char *serial;           /* hex */
	char *fingerprint;      /* normalised (see top) */
	char *declaration_hash; /* what it was issued for (see plan.h) */
	char *order_url;        /* or NULL */
} observe_cert_current;

/*
 * The CA's renewal information (ARI, RFC 9773) or revocation status, when
 * an online observer fetched it (issue 7); zero otherwise.
 */
typedef struct {
	int has_window;                 /* suggestedWindow known */
	time_t window_start, window_end;
	char *explanation_url;          /* or NULL */
	int revoked;                    /* 1: the CA says it is revoked */
} observe_renewal_info;

typedef struct observe_target observe_target;
typedef struct observe_verify observe_verify;

typedef struct {
	const config_certificate *cert; /* borrowed: the declaration */
	int present;                    /* 1: cur is filled */
	observe_cert_current cur;
	observe_renewal_info renewal;
	char *error;                    /* store record unreadable, or NULL */
	observe_target *targets;        /* one per cert->deploy[i], same order */
	size_t ntargets;
	observe_verify *verifies;       /* one per cert->verify[i]; see below */
	size_t nverifies;
} observe_cert;

/* ---- deploy targets ---- */

/*
 * One deploy target: its identity, the store's record of its last deploy,
 * and what its kind's own observe op found (target_observe, target.h).
 */
struct observe_target {
	const config_certificate *cert; /* borrowed */
	const config_target *target;    /* borrowed: cert->deploy[index] */
	config_target_type kind;
	char *id;            /* observe_target_id */
	char *config_hash;   /* config_target_hash of the declaration */

	/* The store's deployment record of id. */
	int has_record;
	char *deployed_fingerprint; /* normalised when well-formed */
	char *deployed_config_hash;
	time_t deployed_at;
	int deployed_ok;     /* record result was STATE_DEPLOY_OK */
	char *deploy_message;/* the failure message, or NULL */

	/*
	 * What is there, for every kind: presence, the leaf found, a drift
	 * description, per-file findings for file-writing kinds, and
	 * observed.error when the target could not be observed.  The planner
	 * reads observed.files[] when there are any, observed.drift
	 * otherwise.
	 */
	target_observation observed;
};

/* ---- verify probes (filled by the online observer, issue 7) ---- */

struct observe_verify {
	const config_verify *verify; /* borrowed: cert->verify[index] */
	int checked;         /* 0: not probed (offline observation) */
	/*
	 * When checked: what the endpoint serves compared with the current
	 * certificate, an observe_tls_status (tls_probe.h): 0 served, 1
	 * stale (an older version of ours), 2 foreign, 3 unreachable.
	 */
	int status;
	char *served_fingerprint; /* leaf the endpoint served, or NULL */
	char *error;         /* connect/handshake failure, or NULL */
};

/* ---- orphans: in the store, no longer declared ---- */

typedef struct {
	char *name;          /* certificate name in the store */
	char *fingerprint;   /* of its current version, or NULL */
	time_t not_after;
} observe_orphan_cert;

typedef struct {
	char *id;            /* target identity of the record */
	char *certificate;   /* or NULL */
	char *fingerprint;   /* or NULL */
} observe_orphan_target;

/* ---- the whole observation ---- */

typedef struct {
	observe_cert *certs;     /* one per set->certificates[i], same order */
	size_t ncerts;
	observe_issuer *issuers; /* one per set->issuers[i], same order */
	size_t nissuers;
	observe_orphan_cert *orphan_certs;     /* sorted by name */
	size_t norphan_certs;
	observe_orphan_target *orphan_targets; /* sorted by id */
	size_t norphan_targets;
	int has_state;           /* 0: no store (nothing issued yet) */
	uint64_t state_serial;   /* the serial read before observing */
	char *error;             /* a store-wide problem (listing), or NULL */
} observe_result;

enum {
	/* Skip the deploy targets (status without --targets, quick checks). */
	OBSERVE_NO_TARGETS = 1 << 0,
	/*
	 * Look beyond the local disk: probe every `verify: tls` endpoint of
	 * an issued certificate, and read `vault` targets over the network.
	 * Without it those stay unchecked (the planner trusts the records).
	 */
	OBSERVE_ONLINE = 1 << 1,
	/* Never online, whatever observe_online_default says (status). */
	OBSERVE_OFFLINE = 1 << 2
};

typedef struct {
	unsigned flags;
	/*
	 * The local policy, or NULL.  Observing pkcs12 and vault targets
	 * reads their secrets (password, token), which the policy must
	 * allow; without a policy those targets are not read (the planner
	 * then trusts the deployment records).
	 */
	const config_policy *policy;
} observe_options;

#define OBSERVE_OPTIONS_INIT { 0, NULL }

/*
 * The online flag plan and apply observe with: OBSERVE_ONLINE, unless the
 * environment has CERTOPS_OFFLINE set to a non-empty value other than "0"
 * (CI runners without network to the endpoints); then 0.
 */
unsigned observe_online_default(void);

/*
 * Observes everything set declares.  st may be NULL: no store yet, so
 * nothing is issued or deployed (targets on disk are still read).  opts
 * may be NULL.  *out is the caller's (observe_result_free).  Returns 0
 * (per-item problems are in the items' error fields), or a negative code
 * (CERTOPS_ENOMEM, or the store could not be read at all).
 */
int observe_run(observe_result **out, const config_set *set, state *st,
		const observe_options *opts);
void observe_result_free(observe_result *obs);

/*
 * Observes one target of cert into *out (cleared first; release with
 * observe_target_clear), given the current certificate's chain and key
 * PEM (NULL when there is none) and the deployment record (NULL: none).
 * Used by observe_run; exported for apply's re-checks and tests.  Offline
 * and without a policy: kinds that need a secret or the network (pkcs12,
 * vault) leave observed.present TARGET_PRESENT_UNKNOWN; observe_run reads
 * them, given observe_options.policy and OBSERVE_ONLINE.
 */
int observe_target_run(observe_target *out, const config_certificate *cert,
		       const config_target *target, const char *chain_pem,
		       const char *key_pem, const state_deploy *record);
void observe_target_clear(observe_target *t);

#endif
