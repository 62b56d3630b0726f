/*
 * The one libcurl setup for every HTTP peer certops talks to: the ACME CA
 * (lib/acme/http.c), Vault (lib/target/vault_kv.c) and webhooks
 * (lib/notify/notify.c).  Each caller sets its URL, body and callbacks;
 * what every request must have is set here:
 *
 * - User-Agent "certops/<version>" (RFC 8555 §6.1 asks ACME clients to);
 * - TLS verification of the peer and its name, always (no option turns
 *   it off); the CA bundle when one is given, else libcurl's default;
 * - a connect timeout and a total timeout;
 * - protocols https only, or http and https, for requests and redirects;
 * - proxies from the environment as libcurl reads them (http_proxy,
 *   https_proxy, all_proxy, no_proxy; HTTPS_PROXY etc.): nothing set here
 *   overrides that;
 * - no signals (the handles are used from worker threads).
 */
#ifndef CERTOPS_UTIL_HTTP_H
#define CERTOPS_UTIL_HTTP_H

#include <curl/curl.h>

#define UTIL_HTTP_TIMEOUT_MS 30000L
#define UTIL_HTTP_CONNECT_TIMEOUT_MS 10000L

typedef struct {
	const char *ca_bundle;   /* PEM file of trusted CAs; NULL: libcurl's default */
	long timeout_ms;         /* the whole request; 0: UTIL_HTTP_TIMEOUT_MS */
	long connect_timeout_ms; /* 0: UTIL_HTTP_CONNECT_TIMEOUT_MS, at most timeout_ms */
	int allow_http;          /* 0: https only; 1: http and https */
	char *errbuf;            /* CURL_ERROR_SIZE bytes for libcurl's message, or NULL */
} util_http_opts;

/*
 * curl_global_init, once per process, from any thread.  Returns 0, or
 * CERTOPS_ERROR (set) when libcurl could not initialise.
 */
int util_http_global_init(void);

/*
 * Applies the common options to h (a fresh or curl_easy_reset handle).
 * Returns 0, or CERTOPS_ERROR (set, naming the option) when libcurl
 * refuses one (a build without TLS, say).
 */
int util_http_setup(CURL *h, const util_http_opts *o);

#endif
