/* observe: helpers shared by its files (not part of the public API). */
#ifndef CERTOPS_OBSERVE_INTERNAL_H
#define CERTOPS_OBSERVE_INTERNAL_H

#include "observe/observe.h"

/*
 * Sets *field (freeing an older value) to the formatted message; returns
 * 0, or CERTOPS_ENOMEM.  Observation errors are data, not the thread's
 * error record: they never stop the rest.
 */
int observe__set_errorf(char **field, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Observes a `files` target (t->target) against the current certificate
 * (chain_pem, key_pem and its normalised fingerprint current_fp; all NULL
 * when there is none).  Returns 0 or CERTOPS_ENOMEM.
 */
int observe__files(observe_target *t, const char *chain_pem,
		   const char *key_pem, const char *current_fp);

/*
 * Observes a pkcs12 or vault target through its table (target_observe)
 * into t->present and t->drift ("<where>: <what>; ..."), given the policy
 * that allows reading its secret (NULL: not observed).  vault targets are
 * read only with OBSERVE_ONLINE in flags.  Nothing issued (chain_pem
 * NULL): not observed.  Returns 0 or CERTOPS_ENOMEM.
 */
int observe__kind(observe_target *t, const config_policy *policy, unsigned flags,
		  const char *chain_pem, const char *key_pem, const char *current_fp,
		  const state_deploy *record);

/*
 * Probes the `verify: tls` endpoints of every issued certificate in obs,
 * classifying what is served against the current certificate and the
 * store's older versions (st may be NULL).  Returns 0 or CERTOPS_ENOMEM.
 */
int observe__verifies(observe_result *obs, state *st);

#endif
