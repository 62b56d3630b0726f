/*
 * A HashiCorp Vault / OpenBao client for the KV version 2 secrets engine,
 * the part the `vault` deploy target needs, following Vault's HTTP API
 * documentation (https://developer.hashicorp.com/vault/api-docs/secret/kv/kv-v2,
 * .../api-docs/auth/token, .../api-docs/auth/approle):
 *
 *   GET  /v1/<mount>/data/<path>        read the current version
 *   POST /v1/<mount>/data/<path>        write {"options":{"cas":N},"data":{...}}
 *   GET  /v1/<mount>/metadata/<path>    current_version, versions
 *   GET  /v1/auth/token/lookup-self     is the token good
 *   POST /v1/auth/approle/login         {"role_id","secret_id"} -> auth.client_token
 *
 * Headers X-Vault-Token and, for Vault Enterprise / HCP namespaces,
 * X-Vault-Namespace.  HTTPS with peer verification (an optional CA
 * bundle); plain http only to a loopback address (a dev server).
 *
 * Errors (the message carries Vault's "errors" array):
 *   CERTOPS_EAUTH      401/403: token missing, wrong, expired or without
 *                      the capability; a refused AppRole login
 *   CERTOPS_ENOTFOUND  404: no such secret (or its current version deleted)
 *   CERTOPS_ESTALE     check-and-set failed: Vault answers 400 with
 *                      "check-and-set parameter did not match the current
 *                      version" (and 412 is treated alike)
 *   CERTOPS_EPEER      any other answer; CERTOPS_ERROR for transport errors
 *
 * Secrets: the token, a client token from a login, the AppRole secret_id
 * and every value written under the private key field are registered with
 * util_secret_register, so no log line or error message can carry them.
 * A client is used by one thread at a time.
 */
#ifndef CERTOPS_TARGET_VAULT_KV_H
#define CERTOPS_TARGET_VAULT_KV_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

typedef struct target_vault target_vault;

typedef struct {
	const char *address;    /* "https://vault.internal:8200" */
	const char *namespace_; /* NULL: none */
	const char *ca_bundle;  /* PEM file; NULL: the system store */
	const char *token;      /* NULL: log in (approle) before use */
	int64_t timeout_ms;     /* per request; 0: 30 s */
} target_vault_opts;

/* A client; *out is the caller's (target_vault_free).  Strings copied. */
int target_vault_new(target_vault **out, const target_vault_opts *opts);
void target_vault_free(target_vault *v);

/*
 * AppRole login at auth/<mount>/login (mount NULL: "approle"); the client
 * token it returns is used from then on.
 */
int target_vault_login_approle(target_vault *v, const char *mount,
			       const char *role_id, const char *secret_id);

/* Checks the token with lookup-self; *ttl_out (may be NULL) its ttl in
 * seconds (0: no expiry). */
int target_vault_token_check(target_vault *v, int64_t *ttl_out);

/* One string field of a secret. */
typedef struct {
	char *key;
	char *value;
} target_vault_field;

typedef struct {
	int64_t version;           /* metadata.version */
	target_vault_field *fields; /* data, string values only */
	size_t count;
} target_vault_secret;

/* Reads the current version; release *out with target_vault_secret_release. */
int target_vault_read(target_vault_secret *out, target_vault *v,
		      const char *mount, const char *path);
/* The value of key, borrowed, or NULL. */
const char *target_vault_secret_get(const target_vault_secret *s,
				    const char *key);
void target_vault_secret_release(target_vault_secret *s);

/*
 * Writes a new version with the fields (borrowed key/value pairs).  cas
 * >= 0 is a check-and-set on that current version (0: only when the
 * secret does not exist); cas < 0: no check.  *version_out (may be NULL)
 * gets the version written.
 */
int target_vault_write(int64_t *version_out, target_vault *v,
		       const char *mount, const char *path,
		       const target_vault_field *fields, size_t n, int64_t cas);

typedef struct {
	int64_t current_version;   /* 0: no version */
	int current_deleted;       /* deletion_time set on the current version */
	int current_destroyed;
} target_vault_metadata;

/* Reads the metadata (no secret data); ENOTFOUND when there is none. */
int target_vault_metadata_read(target_vault_metadata *out, target_vault *v,
			       const char *mount, const char *path);

/* ---- the certificate as the vault target stores it ---- */

/* Field names inside the secret; NULL members take the defaults
 * "certificate", "chain", "fullchain", "private_key", "not_after",
 * "fingerprint". */
typedef struct {
	const char *certificate, *chain, *fullchain, *private_key, *not_after,
		*fingerprint;
} target_vault_names;

/* The values (borrowed); NULL members are not written. */
typedef struct {
	const char *certificate, *chain, *fullchain, *private_key, *not_after,
		*fingerprint;
} target_vault_cert;

/*
 * Uploads a certificate with check-and-set on the version that is there
 * now (from the metadata; 0 when the secret does not exist).  When another
 * writer wins the race, re-reads and retries once, then fails with
 * CERTOPS_ESTALE naming the path.  *version_out (may be NULL) gets the
 * version written.
 */
int target_vault_put_cert(int64_t *version_out, target_vault *v,
			  const char *mount, const char *path,
			  const target_vault_names *names,
			  const target_vault_cert *cert);

typedef enum {
	TARGET_VAULT_IN_SYNC = 0,
	TARGET_VAULT_MISSING,      /* no secret, or current version deleted */
	TARGET_VAULT_CHANGED,      /* another version holds another certificate */
	TARGET_VAULT_NO_FINGERPRINT /* a version without our fingerprint field */
} target_vault_state;

/*
 * Observes the secret against the certificate that should be there.  When
 * known_version (the version certops wrote, from its deployment record;
 * 0: unknown) is still current, the metadata suffices and no secret data
 * (no private key) is downloaded; otherwise the current version's
 * fingerprint field is read and compared, case-insensitively.
 * *version_out (may be NULL) gets the current version.
 */
int target_vault_observe_cert(target_vault_state *state_out,
			      int64_t *version_out, target_vault *v,
			      const char *mount, const char *path,
			      const target_vault_names *names,
			      const char *fingerprint, int64_t known_version);

const char *target_vault_state_name(target_vault_state s);

/* ---- building blocks, exposed for the unit tests ---- */

/*
 * Appends address + "/v1/" + mount + "/" + kind + "/" + path, each segment
 * percent-encoded (RFC 3986 unreserved kept); kind NULL leaves it out.
 * CERTOPS_EINVALID for an empty, "." or ".." segment.
 */
int target_vault_url(util_buf *out, const char *address, const char *mount,
		     const char *kind, const char *path);
/* Appends the JSON body of a write (keys sorted as given; cas < 0: no
 * options). */
int target_vault_write_body(util_buf *out, const target_vault_field *fields,
			    size_t n, int64_t cas);
/* Parses the answer to a read. */
int target_vault_parse_secret(target_vault_secret *out, const char *body,
			      size_t len);
int target_vault_parse_metadata(target_vault_metadata *out, const char *body,
				size_t len);
/*
 * Maps a non-2xx answer to a code and sets the error: "<what>: HTTP
 * <status>: <errors joined by "; ">".  Returns the code.
 */
int target_vault_error(long status, const char *body, size_t len,
		       const char *what);

#endif
