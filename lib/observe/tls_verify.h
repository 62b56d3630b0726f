/*
 * verify: tls in observation and after deploys: the declared probes of a
 * certificate run through tls_probe.h, for observe (fill observe_verify)
 * and apply (a verify action).  Apart from tls_probe.h so that the probe
 * itself does not pull in observe.h and the state store.
 */
#ifndef CERTOPS_OBSERVE_TLS_VERIFY_H
#define CERTOPS_OBSERVE_TLS_VERIFY_H

#include "config/config.h"
#include "observe/observe.h"
#include "observe/tls_probe.h"

/*
 * The endpoint of a declared probe: connect, serverName (default: the
 * certificate's first domain), timeout.  Borrowed from the declaration.
 */
observe_tls_endpoint observe_tls_endpoint_of(const config_certificate *cert,
					     size_t index);

/*
 * The online part of observation: probes every declared verify endpoint of
 * every certificate in obs (from observe_run) and fills each
 * observe_verify: checked = 1, served_fingerprint, or error when
 * unreachable.  Returns 0 (unreachable endpoints are outcomes), or
 * CERTOPS_ENOMEM.
 */
int observe_tls_verify_all(observe_result *obs);

/*
 * A verify action after a deploy: probes probe index of cert within
 * window_ms (observe_tls_wait_served) and returns 0 when expected is
 * served; otherwise sets the error ("verify 127.0.0.1:443 (www.example.com):
 * stale: serves <fp>, an older certificate, not <fp>") and returns
 * CERTOPS_ESTALE for stale, CERTOPS_EPEER for foreign or unreachable.
 */
int observe_tls_verify_one(const config_certificate *cert, size_t index,
			   const char *expected, const char *const *older,
			   size_t nolder, int64_t window_ms);

#endif
