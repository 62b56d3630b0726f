/*
 * The `verify: tls` probe: connect to host:port, complete a TLS handshake
 * (with SNI), and compare the leaf the endpoint serves with the one that
 * should be there.  No chain verification: the question is "which
 * certificate is served", answered by its fingerprint, not "is it trusted".
 *
 *   served       the expected certificate
 *   stale        an older certificate of ours (the reload did not happen)
 *   foreign      some other certificate (a different config won, a proxy)
 *   unreachable  no handshake: the connect or TLS error says why
 *
 * Fingerprints are the SHA-256 of the leaf DER in hex, compared without
 * regard to case or ':' separators (the state store's spelling).
 * OpenSSL stays inside tls_probe.c.
 */
#ifndef CERTOPS_OBSERVE_TLS_PROBE_H
#define CERTOPS_OBSERVE_TLS_PROBE_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
	OBSERVE_TLS_SERVED = 0,
	OBSERVE_TLS_STALE,
	OBSERVE_TLS_FOREIGN,
	OBSERVE_TLS_UNREACHABLE
} observe_tls_status;

/* "served", "stale", "foreign", "unreachable". */
const char *observe_tls_status_name(observe_tls_status s);

typedef struct {
	const char *connect;     /* "host:port", "[v6]:port" */
	const char *server_name; /* SNI; NULL or an IP literal: none sent */
	int64_t timeout_ms;      /* connect + handshake; 0: 10 s */
} observe_tls_endpoint;

/*
 * Handshakes with the endpoint and writes the served leaf's fingerprint
 * (lowercase hex) to fp_out.  CERTOPS_EINVALID for a malformed connect
 * string, CERTOPS_ETIMEOUT at the deadline, CERTOPS_EPEER for a refused
 * connection or failed handshake (the message says which, with the
 * address), all with the error set.
 */
int observe_tls_fetch(char fp_out[65], const observe_tls_endpoint *ep);

/* Compares served with expected, then with each of older (ours, earlier). */
observe_tls_status observe_tls_classify(const char *served,
					const char *expected,
					const char *const *older, size_t nolder);

typedef struct {
	observe_tls_status status;
	char fingerprint[65]; /* served leaf; "" when unreachable */
	char *error;          /* why unreachable, else NULL */
} observe_tls_result;

/*
 * One probe: fetch + classify.  Returns 0 with the outcome in *out
 * (unreachable is an outcome, not a failure), or CERTOPS_ENOMEM.
 * Release with observe_tls_result_release.
 */
int observe_tls_probe(observe_tls_result *out, const observe_tls_endpoint *ep,
		      const char *expected, const char *const *older,
		      size_t nolder);

/*
 * The retry window after a reload: probes every interval_ms (0: 250)
 * until the endpoint serves expected or window_ms has passed, and leaves
 * the last outcome in *out.  A server that reloads gracefully keeps
 * serving the old certificate from old workers for a moment; this is
 * that moment, not a way to wait for a server that is down.
 */
int observe_tls_wait_served(observe_tls_result *out,
			    const observe_tls_endpoint *ep,
			    const char *expected, const char *const *older,
			    size_t nolder, int64_t window_ms,
			    int64_t interval_ms);

void observe_tls_result_release(observe_tls_result *r);

#endif
