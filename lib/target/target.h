/*
 * Deploy targets: where an issued certificate goes (docs/targets.md).
 *
 * Each kind of target (config_target_type) is an operation table,
 * target_ops, in a file of its own (files.c, ...).  The table is indexed
 * by the kind; a kind whose file is not built yet has no table, and the
 * calls below fail for it with CERTOPS_EINVALID ("the 'vault' target is
 * not built yet").  To add a kind: write lib/target/<kind>.c defining a
 * `const target_ops target__<kind>_ops`, declare it in target_internal.h
 * and put it into the table in target.c.
 *
 * Every target writes only where the local policy allows
 * (config_policy_allows_write), checked on the real location of what it
 * writes, so a symlink cannot lead a write outside the write roots.
 *
 * Threads: the operations keep no state of their own and may run for
 * different targets at once.
 */
#ifndef CERTOPS_TARGET_H
#define CERTOPS_TARGET_H

#include <stddef.h>

#include "config/config.h"
#include "config/policy.h"
#include "util/buf.h"

/* What is deployed: one certificate version, all borrowed. */
typedef struct {
	const char *name;        /* the certificate's name */
	const char *chain_pem;   /* leaf first, then intermediates */
	const char *key_pem;     /* the private key; never logged */
	const char *fingerprint; /* SHA-256 of the leaf DER, hex */
	/*
	 * The declaration the material is deployed for, or NULL: exec hooks
	 * get the paths of its first files target (CERTOPS_CERT_PATH, ...).
	 */
	const config_certificate *cert;
	/*
	 * Filled by deploy, when not NULL: the version a vault target wrote
	 * (recorded so observation can stay metadata-only); 0 otherwise.
	 */
	long long *version_out;
	/*
	 * For observe: the version recorded at the last deploy (vault), so
	 * that an unchanged version is checked from metadata alone; 0: none.
	 */
	long long known_version;
} target_material;

/* What a target may do in this run (borrowed). */
typedef struct {
	const config_policy *policy; /* required */
} target_env;

/* One way in which what is deployed differs from what should be. */
typedef struct {
	char *path; /* the file (or target part) that differs */
	char *what; /* "missing", "content differs", "mode 0644, want 0600" */
} target_drift;

typedef struct {
	target_drift *items;
	size_t count;
} target_drifts;

typedef struct target_ops {
	const char *name; /* the kind as declared: "files" */
	/*
	 * Appends where the target writes, for people ("files:/etc/ssl/www/
	 * fullchain.pem"): unique among the targets of one declaration set
	 * (the validator refuses two certificates writing one place).  The
	 * deployment record in the state store is keyed by
	 * observe_target_id ("www:files[0]") instead, which plan and status
	 * share.
	 */
	int (*describe)(util_buf *out, const config_target *t);
	/*
	 * Compares what is at the target with material; appends one item
	 * to drifts per difference (none: in sync).  Unreadable parts are
	 * drift, not errors; an error return means the check itself could
	 * not run (out of memory).
	 */
	int (*observe)(target_drifts *drifts, const target_env *env,
		       const config_target *t, const target_material *m);
	/* Writes material to the target, idempotently. */
	int (*deploy)(const target_env *env, const config_target *t,
		      const target_material *m);
} target_ops;

/* The table of a kind, or NULL when that kind is not built yet. */
const target_ops *target_ops_for(config_target_type type);

/*
 * The operations through the table.  Each fails with CERTOPS_EINVALID
 * (error set) for a kind that is not built yet.
 */
int target_describe(util_buf *out, const config_target *t);
int target_observe(target_drifts *drifts, const target_env *env,
		   const config_target *t, const target_material *m);
int target_deploy(const target_env *env, const config_target *t,
		  const target_material *m);

/* Adds one drift item (copies); 0 or CERTOPS_ENOMEM. */
int target_drifts_add(target_drifts *d, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Frees the items and empties d. */
void target_drifts_clear(target_drifts *d);

#endif
