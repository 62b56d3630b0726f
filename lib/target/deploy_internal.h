/*
 * Internal to lib/target: what the pkcs12, exec and vault targets share
 * (issue 7).  The table entries are declared here rather than in
 * target_internal.h, which belongs to the files target's author.
 */
#ifndef CERTOPS_TARGET_DEPLOY_INTERNAL_H
#define CERTOPS_TARGET_DEPLOY_INTERNAL_H

#include <time.h>

#include "target/target.h"

extern const target_ops target__pkcs12_ops;
extern const target_ops target__exec_ops;
extern const target_ops target__vault_ops;

/*
 * Reads a secret reference ({env: NAME} / {file: PATH}) after the policy
 * allows it, registering the value as a secret; *out is the caller's
 * (free()).  A trailing newline of a file is dropped.  CERTOPS_EPOLICY,
 * CERTOPS_ENOTFOUND (unset variable, missing file), set with the
 * declaration's position.
 */
int target__secret_read(char **out, const target_env *env,
			const config_secret *s);

/* "2026-12-01T10:00:00Z" of t (UTC) into out[21]. */
void target__rfc3339(char out[21], time_t t);

#endif
