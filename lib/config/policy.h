/*
 * The local policy: a file that lives on the host, not in the desired-state
 * repo, and bounds what any commit to that repo can make certops do: which
 * directories it may write, which commands it may run, which secrets it may
 * read, which ACME directories it may talk to.  See docs/policy.md.
 *
 * Checks here are on the declared paths (absolute, normalized, no "..";
 * the loader enforces that).  Symlinks are resolved at apply time by the
 * writers, which must refuse a path whose real location leaves the root.
 */
#ifndef CERTOPS_CONFIG_POLICY_H
#define CERTOPS_CONFIG_POLICY_H

#include <stddef.h>

#include "config/config.h"

#define CONFIG_POLICY_DEFAULT_PATH "/etc/certops/policy.yaml"
/* The write root of the built-in default policy, for demos and tries. */
#define CONFIG_POLICY_DEMO_ROOT "/tmp/certops-demo"
/* Env secrets the default policy allows. */
#define CONFIG_POLICY_DEFAULT_ENV "CERTOPS_*"

typedef struct config_policy config_policy;

/*
 * The built-in policy used when there is no policy file: writes under
 * state_dir (may be NULL) and CONFIG_POLICY_DEMO_ROOT, no exec, env secrets
 * named CERTOPS_* only, no file secrets, any issuer.
 */
int config_policy_default(config_policy **out, const char *state_dir);

/*
 * Parses a policy text (name is used in positions).  Problems go to diags;
 * returns 0, CERTOPS_EINVALID when diags got any (*out is NULL then), or
 * CERTOPS_ENOMEM.  state_dir (may be NULL) is always a write root.
 */
int config_policy_parse(config_policy **out, util_diags *diags,
			const char *name, const char *data, size_t len,
			const char *state_dir);

/*
 * The policy for a run: path when given (it must exist), else
 * CONFIG_POLICY_DEFAULT_PATH when that file exists, else the default.
 * Returns as config_policy_parse; an unreadable file given by path is a
 * diagnostic.
 */
int config_policy_open(config_policy **out, util_diags *diags,
		       const char *path, const char *state_dir);

void config_policy_free(config_policy *p);

/* Where the policy came from: a file path, or "built-in default". */
const char *config_policy_source(const config_policy *p);

/*
 * Checks every declaration of set against p and adds one diagnostic
 * (code CERTOPS_EPOLICY, at the declaration's position) per violation.
 * Returns 0, or CERTOPS_ENOMEM.
 */
int config_policy_check(const config_policy *p, const config_set *set,
			util_diags *diags);

/* Single questions, for the writers and runners at apply time; 1 allowed. */
int config_policy_allows_write(const config_policy *p, const char *path);
int config_policy_allows_exec(const config_policy *p,
			      const config_strings *argv);
int config_policy_allows_secret(const config_policy *p,
				const config_secret *s);
int config_policy_allows_issuer(const config_policy *p, const char *url);

/*
 * Reads secret s under policy p into *out (the caller's: free), and
 * registers the value with util_secret_register so that no message or log
 * line shows it.  A file loses its trailing newlines; its real path
 * (symlinks resolved) must be allowed as well as the declared one.
 * CERTOPS_EPOLICY (at s's position) when p does not allow it,
 * CERTOPS_ENOTFOUND when the variable is unset or empty or the file does
 * not exist, CERTOPS_EINVALID for no secret or a file over 64 KiB.
 */
int config_secret_read(char **out, const config_policy *p,
		       const config_secret *s);

#endif
