/* Internal to lib/acme: the client, HTTP answers and the signed-POST chokepoint. */
#ifndef CERTOPS_ACME_INTERNAL_H
#define CERTOPS_ACME_INTERNAL_H

#include <pthread.h>
#include <jansson.h>

#include "acme/acme.h"

#define ACME__NONCE_POOL 32
#define ACME__EASY_POOL 64
#define ACME__BODY_LIMIT (8u << 20) /* a chain or JSON object is far smaller */

typedef struct {
	long status;
	util_buf body;
	char *content_type;
	char *location;
	char *nonce;
	char *retry_after;
	char **alternates; /* Link: <...>;rel="alternate" */
	size_t nalternates;
} acme__response;

struct acme_client {
	char *directory_url;
	char *ca_bundle;
	long timeout_ms;
	int max_retries, max_badnonce;
	unsigned backoff_base_ms, backoff_cap_ms;
	acme_directory dir;

	/* account: written only by the account calls (see acme.h) */
	const crypto_key *key;
	char *kid;

	pthread_mutex_t nonce_lock;
	char *nonces[ACME__NONCE_POOL];
	size_t nnonces;

	void *share; /* CURLSH: connections, DNS, TLS sessions */
	pthread_mutex_t share_locks[8];
	pthread_mutex_t easy_lock;
	void *easy[ACME__EASY_POOL]; /* idle CURL handles, reused */
	size_t neasy;

	pthread_mutex_t stats_lock;
	acme_stats stats;
};

int acme__http_init(acme_client *c);
void acme__http_cleanup(acme_client *c);
void acme__response_release(acme__response *r);
/* One HTTP exchange, no retries.  method "GET", "HEAD" or "POST". */
int acme__http(acme_client *c, acme__response *resp, const char *method,
	       const char *url, const char *body, size_t len);
/* GET with the network/5xx retry policy; fails on status >= 400. */
int acme__get(acme_client *c, acme__response *resp, const char *url);
/*
 * The signed-POST chokepoint: takes a nonce, builds the JWS (kid, or jwk
 * when use_jwk or no kid yet), posts it, keeps the answer's nonce, retries
 * badNonce and network/5xx, and turns an error answer into the thread's
 * problem and a CERTOPS_* code.  payload NULL is POST-as-GET.  key NULL
 * is the account key.
 */
int acme__post(acme_client *c, acme__response *resp, const char *url,
	       const char *payload, const crypto_key *key, int use_jwk);
/* Builds a flattened JWS (RFC 7515 §7.2.2) into out. */
int acme__jws(util_buf *out, const crypto_key *key, const char *kid,
	      const char *nonce, const char *url, const char *payload);
/* §7.3.4: the externalAccountBinding JWS over key's JWK, MAC'd with eab. */
int acme__eab_jws(util_buf *out, const acme_eab *eab, const crypto_key *key,
		  const char *url);
/* Parses a response body as a JSON object (error set on failure). */
int acme__json(json_t **out, const acme__response *resp, const char *what);
/* Records p as the thread's problem (takes ownership), sets the message. */
int acme__fail_problem(acme_problem *p, const char *what);
/* Detaches the thread's problem (caller owns it) / installs p as it. */
acme_problem *acme__problem_take(void);
void acme__problem_put(acme_problem *p);
void acme__stat_add(acme_client *c, unsigned long *field);
void acme__sleep_ms(unsigned ms);
uint32_t acme__random32(void);
/* strdup of a JSON string member, or NULL (absent, not a string, or no memory). */
char *acme__json_str(json_t *obj, const char *key);
/* The same, counting a failed copy of a present string in *oom. */
char *acme__json_str_oom(json_t *obj, const char *key, int *oom);
/* Parses an object's "error" member into a new problem, or NULL. */
acme_problem *acme__json_problem(json_t *obj);
/* Poll delay for attempt n: soon, then doubling, capped, or Retry-After. */
unsigned acme__poll_delay_ms(unsigned attempt, int64_t retry_after, time_t deadline);

#endif
