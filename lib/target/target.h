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
 * Every target observes itself (target_observe): lib/observe calls the
 * table for every kind and never looks at the kind; what each kind sees
 * is a target_observation the planner reads.
 *
 * Threads: the operations keep no state of their own and may run for
 * different targets at once.
 */
#ifndef CERTOPS_TARGET_H
#define CERTOPS_TARGET_H

#include <stddef.h>
#include <sys/types.h>

#include "config/config.h"
#include "config/policy.h"
#include "util/buf.h"

/* What is deployed: one certificate version, all borrowed. */
typedef struct {
	const char *name;        /* the certificate's name */
	const char *chain_pem;   /* leaf first, then intermediates; observe:
				    NULL when nothing is issued yet */
	const char *key_pem;     /* the private key, or NULL; never logged */
	const char *fingerprint; /* SHA-256 of the leaf DER, hex in any
				    spelling (util_fingerprint_norm); observe:
				    NULL when nothing is issued yet */
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
	/*
	 * Required for deploy.  For observe: the policy that allows reading
	 * the kind's secrets (a PKCS#12 password, a Vault token); NULL reads
	 * none, and kinds that need one leave presence unknown.
	 */
	const config_policy *policy;
	/*
	 * observe may use the network (vault); 0: kinds that need it leave
	 * presence unknown.  deploy ignores it.
	 */
	int online;
} target_env;

/* ---- what a file-writing target writes ---- */

/* The files a file-writing target (files) can write. */
typedef enum {
	TARGET_FILE_CERT = 0,  /* leaf only */
	TARGET_FILE_CHAIN,     /* intermediates only */
	TARGET_FILE_FULLCHAIN, /* leaf + intermediates */
	TARGET_FILE_KEY,       /* private key */
	TARGET_FILE_COMBINED,  /* private key, then leaf + intermediates */
	TARGET_FILE__COUNT
} target_file_role;

/* "cert", "chain", "fullchain", "key", "combined"; "unknown" otherwise. */
const char *target_file_role_name(target_file_role role);

/*
 * Appends the exact bytes written for role, from the store's chain_pem
 * (leaf first) and key_pem: the one definition shared by every kind that
 * writes them (files, the parts of pkcs12 and vault) and by observation,
 * which compares with them.  Every PEM block ends in "\n".
 * CERTOPS_EINVALID (set) when chain_pem holds no certificate, or key_pem
 * is NULL for KEY/COMBINED.
 */
int target_file_content(util_buf *out, target_file_role role,
			const char *chain_pem, const char *key_pem);

/* The mode a file of role must have under files target t (keys: t's mode). */
unsigned target_file_mode(const config_target *t, target_file_role role);

/* ---- what a target observes ---- */

/* Presence of a target's deployed artifact, for every kind. */
typedef enum {
	TARGET_PRESENT_UNKNOWN = 0, /* not observable (exec), not read, or error */
	TARGET_PRESENT_NO,          /* nothing there */
	TARGET_PRESENT_PARTIAL,     /* some files/fields missing */
	TARGET_PRESENT_YES
} target_presence;

/* One configured file of a file-writing target, as found on disk. */
typedef struct {
	target_file_role role;
	char *path;        /* dir joined with the configured name */
	int exists;        /* 1: a regular file is there */
	/*
	 * 1: the bytes are exactly target_file_content() of the current
	 * certificate; 0: they differ; -1: not compared (nothing issued, no
	 * key to compare with, file missing or unreadable).
	 */
	int content_matches;
	/*
	 * Only filled when content_matches is 0 (to say how it drifted):
	 * fingerprint of the first certificate in the file (normalised; NULL:
	 * none or unparsable; always NULL for KEY), and for KEY/COMBINED
	 * whether the key in the file belongs to the current certificate (1
	 * yes, 0 no, -1 unknown: no key found or not parsable).
	 */
	char *fingerprint;
	int key_matches;
	unsigned mode;     /* permission bits (07777), when exists */
	uid_t uid;
	gid_t gid;
	char *error;       /* could not stat/read it (not "missing"), or NULL */
} target_file;

/*
 * What a target's observe op found, as plain data for the planner; all of
 * it owned (target_observation_clear).
 */
typedef struct {
	target_presence present;
	char *fingerprint; /* the leaf found there (normalised), or NULL */
	/*
	 * How it differs from the material, for people:
	 * "<where>: <what>" items joined by "; " ("/etc/ssl/www/privkey.pem:
	 * mode 0644, want 0600"); NULL: in sync, or not checked.
	 */
	char *drift;
	/* File-writing kinds: one per configured file, in role order. */
	target_file *files;
	size_t nfiles;
	/*
	 * files: the owner/group the declaration asks for, resolved (names
	 * or numeric ids): -1 when none is asked for or the name is unknown
	 * (then owner_error says "unknown user 'x'").
	 */
	long want_uid, want_gid;
	char *owner_error;
	char *error;       /* the target could not be observed at all, or NULL */
} target_observation;

#define TARGET_OBSERVATION_INIT \
	{ TARGET_PRESENT_UNKNOWN, NULL, NULL, NULL, 0, -1, -1, NULL, NULL }

/* Frees what o owns and resets it to TARGET_OBSERVATION_INIT. */
void target_observation_clear(target_observation *o);

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
	 * Looks at what is at the target and compares it with m (docs/
	 * targets.md, "How a target observes itself").  out is
	 * TARGET_OBSERVATION_INIT on entry.  m->chain_pem and m->fingerprint
	 * are NULL when nothing is issued yet: a kind then still reports
	 * what it can see (files: exists, mode, owner) or leaves presence
	 * unknown.  Never writes, never runs a command.  What is missing,
	 * unreadable or different is data (drift, files[].error), not an
	 * error; a negative return means the check itself could not run
	 * (CERTOPS_ENOMEM, or a code whose message target_observe records as
	 * out->error).
	 */
	int (*observe)(target_observation *out, const target_env *env,
		       const config_target *t, const target_material *m);
	/* Writes material to the target, idempotently. */
	int (*deploy)(const target_env *env, const config_target *t,
		      const target_material *m);
	/*
	 * Optional: 1 when observe compares the private key (the store then
	 * loads it for observation); NULL: never.
	 */
	int (*observe_needs_key)(const config_target *t);
} target_ops;

/* The table of a kind, or NULL when that kind is not built yet. */
const target_ops *target_ops_for(config_target_type type);

/*
 * The operations through the table.  Each fails with CERTOPS_EINVALID
 * (error set) for a kind that is not built yet.
 */
int target_describe(util_buf *out, const config_target *t);
/*
 * Observes t into *out (overwritten: clear an earlier observation first;
 * release with target_observation_clear).  Returns 0, with whatever could
 * not be seen in out (a failed check: out->error, present unknown), or
 * CERTOPS_ENOMEM, or CERTOPS_EINVALID for a kind not built yet.
 */
int target_observe(target_observation *out, const target_env *env,
		   const config_target *t, const target_material *m);
int target_deploy(const target_env *env, const config_target *t,
		  const target_material *m);
/* 1 when observing t compares the private key (observe_needs_key). */
int target_observe_needs_key(const config_target *t);

#endif
