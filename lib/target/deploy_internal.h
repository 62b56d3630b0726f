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

/* Secret references are read with config_secret_read (config/policy.h). */

/* "2026-12-01T10:00:00Z" of t (UTC) into out[21]. */
void target__rfc3339(char out[21], time_t t);

#endif
