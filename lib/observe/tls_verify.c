/*
 * verify: tls in observation and after deploys: the declared probes of a
 * certificate, run through tls_probe.c.  See tls_verify.h.
 */
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "observe/observe.h"
#include "observe/tls_verify.h"
#include "util/error.h"

observe_tls_endpoint observe_tls_endpoint_of(const config_certificate *cert, size_t index)
{
	const config_verify *v = &cert->verify[index];
	observe_tls_endpoint ep;

	ep.connect = v->connect;
	ep.server_name = v->server_name ? v->server_name
			 : cert->domains.count ? cert->domains.items[0].value : NULL;
	ep.timeout_ms = v->timeout > 0 ? v->timeout * 1000 : 0;
	return ep;
}

int observe_tls_verify_all(observe_result *obs)
{
	size_t i, j;

	for (i = 0; i < obs->ncerts; i++) {
		observe_cert *oc = &obs->certs[i];

		for (j = 0; j < oc->nverifies && j < oc->cert->nverify; j++) {
			observe_verify *ov = &oc->verifies[j];
			observe_tls_endpoint ep = observe_tls_endpoint_of(oc->cert, j);
			char fp[65];
			int error = observe_tls_fetch(fp, &ep);

			free(ov->served_fingerprint);
			free(ov->error);
			ov->served_fingerprint = ov->error = NULL;
			ov->checked = 1;
			if (error == CERTOPS_ENOMEM)
				return error;
			if (error < 0)
				ov->error = strdup(util_error_message());
			else
				ov->served_fingerprint = strdup(fp);
			util_error_clear();
			if (!ov->error && !ov->served_fingerprint)
				return util_error_oom();
		}
	}
	return 0;
}

int observe_tls_verify_one(const config_certificate *cert, size_t index,
			   const char *expected, const char *const *older,
			   size_t nolder, int64_t window_ms)
{
	observe_tls_endpoint ep = observe_tls_endpoint_of(cert, index);
	observe_tls_result r;
	int error;

	if ((error = observe_tls_wait_served(&r, &ep, expected, older, nolder, window_ms, 0)) < 0)
		return error;
	switch (r.status) {
	case OBSERVE_TLS_SERVED:
		error = 0;
		break;
	case OBSERVE_TLS_STALE:
		error = util_error_set(CERTOPS_ESTALE,
				       "verify %s (%s): stale: serves %s, an older certificate, not %s",
				       ep.connect, ep.server_name ? ep.server_name : "no SNI",
				       r.fingerprint, expected);
		break;
	case OBSERVE_TLS_FOREIGN:
		error = util_error_set(CERTOPS_EPEER,
				       "verify %s (%s): foreign: serves %s, not a certificate of ours (want %s)",
				       ep.connect, ep.server_name ? ep.server_name : "no SNI",
				       r.fingerprint, expected);
		break;
	default:
		error = util_error_set(CERTOPS_EPEER, "verify %s (%s): unreachable: %s", ep.connect,
				       ep.server_name ? ep.server_name : "no SNI",
				       r.error ? r.error : "no handshake");
		break;
	}
	observe_tls_result_release(&r);
	return error;
}
