/*
 * acme: an RFC 8555 client (with RFC 8737 tls-alpn-01, RFC 8738 IP
 * identifiers and RFC 9773 renewal information) over libcurl, jansson and
 * lib/crypto.  See docs/acme.md for what is supported, the retry policy
 * and the concurrency model.
 *
 * Conventions: functions return 0 or a negative CERTOPS_* code with the
 * message recorded (util/error.h).  When the CA answered with a problem
 * document, acme_problem_last() returns it (per thread) until the next
 * call that fails.  Structs filled through out-params are the caller's and
 * are released with the matching _free; strings inside are owned by them.
 *
 * Threads: one acme_client may be used from many threads at once (orders,
 * authorizations, downloads, ARI, revocation).  The nonce pool and the
 * connection pool are mutex-protected.  Changing the account itself
 * (acme_client_set_account, acme_account_new/find, acme_account_key_change)
 * must not run concurrently with other calls on the same client.
 */
#ifndef CERTOPS_ACME_H
#define CERTOPS_ACME_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "crypto/crypto.h"
#include "util/buf.h"

/* --- problem documents (RFC 7807, RFC 8555 §6.7) ------------------------ */

typedef struct {
	char *type;     /* full URN ("urn:ietf:params:acme:error:dns") */
	char *detail;   /* may be NULL */
	char *id_type;  /* the identifier it is about, or NULL */
	char *id_value;
} acme_subproblem;

typedef struct {
	char *type;        /* full URN, or "about:blank" when the CA sent none */
	char *detail;      /* may be NULL */
	char *instance;    /* may be NULL */
	long status;       /* HTTP status of the answer (0 inside an object) */
	char *url;         /* the request URL, or NULL */
	acme_subproblem *subproblems;
	size_t nsubproblems;
	int64_t retry_after; /* seconds the CA asked to wait, -1 when not said */
} acme_problem;

/* Parses a problem document; status/url are recorded as given (may be 0/NULL). */
int acme_problem_parse(acme_problem *out, const char *json, size_t len,
		       long status, const char *url);
void acme_problem_release(acme_problem *p);
/*
 * 1 when p's type is the ACME error short name (e.g. "badNonce",
 * "rateLimited", "externalAccountRequired"), 0 otherwise (p may be NULL).
 */
int acme_problem_is(const acme_problem *p, const char *short_name);
/* The CERTOPS_* code a problem maps to (rateLimited/429 → ERATELIMIT, ...). */
int acme_problem_code(const acme_problem *p);
/* The problem of this thread's last failed call (borrowed), or NULL. */
const acme_problem *acme_problem_last(void);
void acme_problem_clear(void);

/* --- retry helpers (pure; exposed for tests and for callers' own loops) */

/*
 * Parses a Retry-After value: delta-seconds or an HTTP-date (against now).
 * A date in the past gives 0.  CERTOPS_EINVALID for anything else.
 */
int acme_retry_after_parse(int64_t *seconds_out, const char *value, time_t now);
/*
 * Capped exponential backoff with jitter: the attempt-th delay (0-based)
 * is base*2^attempt capped at cap, then scaled into [half, full] by rnd.
 */
unsigned acme_backoff_ms(unsigned attempt, unsigned base_ms, unsigned cap_ms,
			 uint32_t rnd);
/* Parses an RFC 3339 time (fractional seconds and offsets allowed). */
int acme_time_parse(time_t *out, const char *s);

/* --- directory and client --------------------------------------------- */

typedef struct {
	char *new_nonce, *new_account, *new_order, *new_authz, *revoke_cert,
		*key_change, *renewal_info; /* NULL when not offered */
	char *terms_of_service, *website; /* meta, NULL when absent */
	char **caa_identities;
	size_t ncaa_identities;
	int external_account_required;
	char **profile_names;        /* meta.profiles keys */
	char **profile_descriptions; /* their values */
	size_t nprofiles;
} acme_directory;

int acme_directory_parse(acme_directory *out, const char *json, size_t len);
void acme_directory_release(acme_directory *d);

typedef struct {
	const char *directory_url; /* required */
	const char *ca_bundle;     /* PEM file trusted for the CA's HTTPS, or NULL: system store */
	long timeout_ms;           /* per HTTP request; 0: 30 s */
	int max_retries;           /* network/5xx retries per request; <0: none, 0: default 4 */
	int max_badnonce;          /* badNonce retries per POST; 0: default 25 */
	unsigned backoff_base_ms;  /* 0: 250 ms */
	unsigned backoff_cap_ms;   /* 0: 8 s */
} acme_client_opts;

typedef struct acme_client acme_client;

/* Creates a client and fetches the directory.  *out is the caller's. */
int acme_client_new(acme_client **out, const acme_client_opts *opts);
void acme_client_free(acme_client *c);
/* Borrowed; valid while the client lives. */
const acme_directory *acme_client_directory(const acme_client *c);
/*
 * Sets the account key (borrowed: it must outlive its use by the client)
 * and the account URL ("kid", copied; NULL until registered).
 */
int acme_client_set_account(acme_client *c, const crypto_key *key, const char *kid);
/* The account URL, or NULL (borrowed). */
const char *acme_client_kid(const acme_client *c);

typedef struct {
	unsigned long requests;         /* HTTP requests sent */
	unsigned long badnonce_retries; /* POSTs re-sent after badNonce */
	unsigned long network_retries;  /* requests re-sent after network/5xx */
	unsigned long nonces_fetched;   /* HEAD newNonce round trips */
	unsigned long connections;      /* TCP/TLS connections opened (the rest reused one) */
} acme_stats;

void acme_client_stats(const acme_client *c, acme_stats *out);

/* --- accounts (RFC 8555 §7.3) ----------------------------------------- */

typedef struct {
	char *url;
	char *status; /* "valid", "deactivated", "revoked" */
	char **contacts;
	size_t ncontacts;
	char *orders;
	int existed;  /* 1 when newAccount found an existing account */
} acme_account;

typedef struct {
	const char *kid;      /* the CA's key identifier */
	const char *hmac_key; /* base64url MAC key as the CA hands it out */
	const char *alg;      /* "HS256" (default), "HS384", "HS512" */
} acme_eab;

/*
 * Registers key (or finds its account) and makes it the client's account.
 * contacts are "mailto:" URLs; eab is NULL unless the CA requires it.
 */
int acme_account_new(acme_account *out, acme_client *c, const crypto_key *key,
		     const char *const *contacts, size_t ncontacts, int agree_tos,
		     const acme_eab *eab);
/* onlyReturnExisting: CERTOPS_ENOTFOUND when key has no account. */
int acme_account_find(acme_account *out, acme_client *c, const crypto_key *key);
/* Replaces the contacts of the client's account. */
int acme_account_update(acme_account *out, acme_client *c,
			const char *const *contacts, size_t ncontacts);
/* §7.3.5 key rollover; on success the client signs with new_key (borrowed). */
int acme_account_key_change(acme_client *c, const crypto_key *new_key);
int acme_account_deactivate(acme_client *c);
void acme_account_release(acme_account *a);

/* --- orders, authorizations, challenges (RFC 8555 §7.4, §7.5, §8) ------ */

typedef struct {
	char *type;  /* "dns" or "ip" */
	char *value;
} acme_identifier;

typedef struct {
	char *url;
	char *status; /* pending, ready, processing, valid, invalid */
	time_t expires;
	acme_identifier *identifiers;
	size_t nidentifiers;
	char **authorizations;
	size_t nauthorizations;
	char *finalize;
	char *certificate; /* NULL until valid */
	char *profile;     /* NULL when none */
	char *replaces;    /* NULL when none */
	acme_problem *error; /* the order's error object, or NULL */
	int64_t retry_after; /* from the last answer, -1 when none */
} acme_order;

typedef struct {
	const char *const *names; /* DNS names ("*.x" ok) and IP literals */
	size_t nnames;
	const char *profile;  /* NULL: the CA's default */
	const char *replaces; /* ARI certID of the certificate renewed, or NULL */
} acme_order_opts;

int acme_order_new(acme_order *out, acme_client *c, const acme_order_opts *opts);
/* Re-reads the order (POST-as-GET). */
int acme_order_refresh(acme_order *o, acme_client *c);
/*
 * Polls until the order leaves "pending" (ready) or becomes invalid;
 * polls soon then backs off, honouring Retry-After; CERTOPS_ETIMEOUT at
 * deadline (absolute, time(NULL) clock).
 */
int acme_order_wait_ready(acme_order *o, acme_client *c, time_t deadline);
/* Sends the CSR (DER) and polls until the order is valid. */
int acme_order_finalize(acme_order *o, acme_client *c, const void *csr_der,
			size_t csr_len, time_t deadline);
void acme_order_release(acme_order *o);

typedef struct {
	char *type;   /* "http-01", "dns-01", "tls-alpn-01", ... */
	char *url;
	char *status;
	char *token;
	acme_problem *error; /* or NULL */
} acme_challenge;

typedef struct {
	char *url;
	char *status;
	acme_identifier identifier;
	int wildcard;
	time_t expires;
	acme_challenge *challenges;
	size_t nchallenges;
	int64_t retry_after;
} acme_authz;

int acme_authz_get(acme_authz *out, acme_client *c, const char *url);
/* The challenge of that type (borrowed), or NULL. */
const acme_challenge *acme_authz_challenge(const acme_authz *a, const char *type);
/* Tells the CA the challenge is ready to be validated. */
int acme_challenge_respond(acme_client *c, const acme_challenge *ch);
/*
 * Polls until the authorization is valid (0) or invalid (CERTOPS_EPEER
 * with the challenge's problem and the identifier in the message).
 */
int acme_authz_wait(acme_authz *a, acme_client *c, time_t deadline);
/* Deactivates an authorization (on abandon). */
int acme_authz_deactivate(acme_client *c, const char *url);
void acme_authz_release(acme_authz *a);

/* token "." thumbprint(account key) */
int acme_key_authorization(util_buf *out, const crypto_key *account_key,
			   const char *token);
/* dns-01 TXT value: base64url(SHA-256(key authorization)) */
int acme_dns01_txt_value(util_buf *out, const char *key_authorization);
/* tls-alpn-01 acmeIdentifier extension value: DER OCTET STRING of the digest */
int acme_tlsalpn01_extension_value(util_buf *out, const char *key_authorization);
/* 1 when name is an IPv4 or IPv6 literal (an "ip" identifier) */
int acme_name_is_ip(const char *name);

/* --- certificates ------------------------------------------------------ */

typedef struct {
	char **chains; /* PEM chains; [0] the default, then Link rel="alternate" ones */
	size_t count;
} acme_chains;

/* Downloads the default chain and every alternate one. */
int acme_order_download(acme_chains *out, acme_client *c, const acme_order *o);
/*
 * Picks the chain whose certificates include one issued by preferred
 * (issuer CN), or one whose SHA-256 fingerprint is preferred when it is
 * written "sha256:<hex>".  The default (0) when none matches or preferred
 * is NULL.
 */
size_t acme_chain_select(const acme_chains *chains, const char *preferred);
void acme_chains_release(acme_chains *ch);

/* §7.6: reason is an RFC 5280 CRLReason (-1: omit).  cert_key NULL signs
 * with the account key; else with the certificate's own key (jwk). */
int acme_revoke(acme_client *c, const void *cert_der, size_t len, int reason,
		const crypto_key *cert_key);

/* --- the issuance flow ------------------------------------------------- */

/*
 * A challenge solver, as an operation table (lib/challenge provides them).
 * present makes the key authorization reachable for the CA (webroot file,
 * TXT record, ALPN certificate) and returns 0 or a CERTOPS_* code;
 * cleanup undoes it and is always called after a successful present,
 * whatever the outcome.  authz and ch are borrowed for the call only.
 * Both may be called from several threads at once when several orders
 * run in parallel.
 */
typedef struct {
	const char *type; /* "http-01", "dns-01" or "tls-alpn-01" */
	int (*present)(void *ctx, const acme_authz *authz, const acme_challenge *ch,
		       const char *key_authorization);
	void (*cleanup)(void *ctx, const acme_authz *authz, const acme_challenge *ch,
			const char *key_authorization);
	void *ctx;
} acme_solver;

/*
 * Satisfies every pending authorization of o with the first solver (in
 * the order given) whose type the CA offers for it: presents and responds
 * to all of them first, then waits for each, so that the CA validates
 * them in parallel; then waits for the order to be ready.  On failure the
 * authorizations still pending are deactivated (abandoned) and the first
 * error is returned (its problem names the identifier).
 */
int acme_order_authorize(acme_order *o, acme_client *c, const acme_solver *solvers,
			 size_t nsolvers, time_t deadline);

/*
 * The whole issuance: newOrder for opts, acme_order_authorize, a CSR of
 * cert_key for opts->names (no CN), finalize, download.  *chains_out is
 * the caller's; *order_out (may be NULL) receives the final order.
 */
int acme_issue(acme_chains *chains_out, acme_order *order_out, acme_client *c,
	       const acme_order_opts *opts, const crypto_key *cert_key,
	       const acme_solver *solvers, size_t nsolvers, time_t deadline);

/* --- renewal information (RFC 9773) ------------------------------------ */

/* base64url(AKI keyIdentifier) "." base64url(serial DER content) */
int acme_ari_cert_id(util_buf *out, const unsigned char *aki, size_t aki_len,
		     const unsigned char *serial, size_t serial_len);
/* The same from a certificate (PEM or DER). */
int acme_ari_cert_id_from_cert(util_buf *out, const void *cert, size_t len);

typedef struct {
	time_t start, end;     /* suggestedWindow */
	char *explanation_url; /* or NULL */
	int64_t retry_after;   /* seconds until asking again, -1 when not said */
} acme_renewal_info;

int acme_ari_parse(acme_renewal_info *out, const char *json, size_t len);
/* GET renewalInfo/<certID>; CERTOPS_ENOTFOUND when the CA has no ARI. */
int acme_ari_fetch(acme_renewal_info *out, acme_client *c, const char *cert_id);
/* A uniformly random time in the window (rnd: a random 64-bit value). */
time_t acme_ari_pick_time(const acme_renewal_info *ri, uint64_t rnd);
void acme_renewal_info_release(acme_renewal_info *ri);

#endif
