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
 * Probes the `verify: tls` endpoints of every issued certificate in obs,
 * classifying what is served against the current certificate and the
 * store's older versions (st may be NULL).  Returns 0 or CERTOPS_ENOMEM.
 */
int observe__verifies(observe_result *obs, state *st);

#endif
