/*
 * crypto: keys, CSRs, certificate parsing, fingerprints and the few JOSE
 * primitives the ACME client needs, over OpenSSL 3 EVP APIs only.
 *
 * OpenSSL types never appear here: a key is the opaque crypto_key, a
 * certificate is handed around as PEM or DER bytes and described by the
 * plain crypto_cert_info struct.  That keeps key handling a narrow piece
 * (a later sandbox can put it behind a process boundary).
 *
 * Conventions: functions return 0 or a negative CERTOPS_* code with the
 * error recorded (util/error.h); util_buf out-params are appended to.
 * Private key material is never logged: error messages name the file,
 * never the bytes.
 */
#ifndef CERTOPS_CRYPTO_H
#define CERTOPS_CRYPTO_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "util/buf.h"

typedef enum {
	CRYPTO_KEY_UNKNOWN = 0, /* a key or certificate of a kind we do not issue */
	CRYPTO_KEY_RSA2048,
	CRYPTO_KEY_RSA3072,
	CRYPTO_KEY_RSA4096,
	CRYPTO_KEY_EC_P256,
	CRYPTO_KEY_EC_P384,
	CRYPTO_KEY_ED25519
} crypto_key_type;

/* Parses "rsa-2048", "rsa-3072", "rsa-4096", "ecdsa-p256", "ecdsa-p384",
 * "ed25519"; CERTOPS_EINVALID (set) otherwise. */
int crypto_key_type_parse(crypto_key_type *out, const char *s);
/* The name crypto_key_type_parse accepts, or "unknown"; static string. */
const char *crypto_key_type_name(crypto_key_type type);

typedef struct crypto_key crypto_key;

/* Generates a fresh key; *out is the caller's (crypto_key_free). */
int crypto_key_generate(crypto_key **out, crypto_key_type type);
/*
 * Loads a private key from PEM (PKCS#8 or traditional) or DER bytes.
 * Only the types of crypto_key_type are accepted (CERTOPS_EINVALID).
 */
int crypto_key_parse(crypto_key **out, const void *data, size_t len);
/* Reads and parses a key file; CERTOPS_ENOTFOUND when it does not exist. */
int crypto_key_load(crypto_key **out, const char *path);
/* Appends the private key as PKCS#8 PEM.  The bytes are secret. */
int crypto_key_to_pem(util_buf *out, const crypto_key *key);
/* Appends the public key as SubjectPublicKeyInfo DER / PEM. */
int crypto_key_public_der(util_buf *out, const crypto_key *key);
int crypto_key_public_pem(util_buf *out, const crypto_key *key);
/*
 * Writes the private key as PEM to path atomically, with mode 0600 set on
 * the temporary file before any byte is written.
 */
int crypto_key_save(const crypto_key *key, const char *path);
crypto_key_type crypto_key_get_type(const crypto_key *key);
/* SHA-256 of the SubjectPublicKeyInfo DER (32 bytes into out). */
int crypto_key_spki_sha256(unsigned char out[32], const crypto_key *key);
void crypto_key_free(crypto_key *key);

/* --- JOSE (RFC 7515/7517/7518/8037) ------------------------------------ */

/* "RS256", "ES256", "ES384" or "EdDSA"; NULL for an unknown key. */
const char *crypto_key_jws_alg(const crypto_key *key);
/*
 * Appends the public JWK with only the required members in lexicographic
 * order and no whitespace, which is also the RFC 7638 thumbprint input.
 */
int crypto_key_jwk(util_buf *out, const crypto_key *key);
/* Appends base64url(SHA-256(jwk)): the RFC 7638 thumbprint. */
int crypto_key_thumbprint(util_buf *out, const crypto_key *key);
/*
 * Signs data as JWS wants it (raw bytes appended to sig_out): RSASSA
 * PKCS#1 v1.5 SHA-256, ECDSA as fixed-size r||s (RFC 7518 §3.4), Ed25519.
 */
int crypto_key_sign(util_buf *sig_out, const crypto_key *key,
		    const void *data, size_t len);

/* --- encodings and digests -------------------------------------------- */

/* Appends base64url without padding. */
int crypto_b64url_encode(util_buf *out, const void *data, size_t len);
/* Appends the decoded bytes; accepts input with or without padding. */
int crypto_b64url_decode(util_buf *out, const char *s, size_t len);
/* Appends lowercase hex, with sep between bytes when sep is not 0. */
int crypto_hex_encode(util_buf *out, const void *data, size_t len, char sep);
/* SHA-256 of data (sha256.c; the digest is fetched from OpenSSL once). */
int crypto_sha256(unsigned char out[32], const void *data, size_t len);
/* The same as 64 lowercase hex digits and a NUL; out is "" on failure. */
int crypto_sha256_hex(char out[65], const void *data, size_t len);
/* HMAC with "SHA256", "SHA384" or "SHA512" (appended to out). */
int crypto_hmac(util_buf *out, const char *digest, const void *key,
		size_t keylen, const void *data, size_t len);
/* Cryptographically strong random bytes. */
int crypto_random(void *out, size_t len);

/* --- CSR --------------------------------------------------------------- */

/*
 * Builds a DER PKCS#10 request signed by key, with every name of names in
 * the subjectAltName (IP literals as iPAddress, the rest as dNSName) and,
 * when cn is not NULL, a subject CN.  Appends the DER to der_out.
 */
int crypto_csr_build(util_buf *der_out, const crypto_key *key, const char *cn,
		     const char *const *names, size_t nnames);

/*
 * Builds the self-signed certificate a tls-alpn-01 responder presents
 * (RFC 8737 §3): subjectAltName name only, and the critical
 * id-pe-acmeIdentifier extension holding ext_value (the DER OCTET STRING
 * from acme_tlsalpn01_extension_value).  Appends the PEM to pem_out.
 */
int crypto_tlsalpn01_cert(util_buf *pem_out, const crypto_key *key, const char *name,
			  const void *ext_value, size_t ext_len);

/* --- certificates ------------------------------------------------------ */

typedef struct {
	char **dns_names;      /* dNSName SANs in certificate order */
	size_t ndns;
	char **ip_addrs;       /* iPAddress SANs as text ("127.0.0.1", "::1") */
	size_t nip;
	time_t not_before, not_after;
	char *serial_hex;      /* lowercase hex of the serial's DER content */
	unsigned char *serial; /* DER content bytes of the serial (ARI) */
	size_t serial_len;
	unsigned char *aki;    /* authorityKeyIdentifier keyIdentifier, or NULL */
	size_t aki_len;
	char *subject_cn;      /* NULL when absent */
	char *issuer_cn;       /* NULL when absent */
	crypto_key_type key_type;
	unsigned char fingerprint[32]; /* SHA-256 of the certificate DER */
	unsigned char spki_sha256[32]; /* SHA-256 of its SubjectPublicKeyInfo */
	unsigned char *der;    /* the certificate DER */
	size_t der_len;
} crypto_cert_info;

/*
 * Parses one certificate, from PEM (the first CERTIFICATE block) or DER.
 * Fills *out, which the caller releases with crypto_cert_info_release.
 */
int crypto_cert_parse(crypto_cert_info *out, const void *data, size_t len);
void crypto_cert_info_release(crypto_cert_info *info);
/* 1 when the certificate's public key is key's, 0 when not. */
int crypto_cert_matches_key(const crypto_cert_info *cert, const crypto_key *key);

/*
 * Checks stored material before it is trusted or deployed: chain_pem's
 * first certificate parses, and key_pem (when not NULL) parses and belongs
 * to it.  Returns 0, or CERTOPS_EINVALID with a message saying which part
 * is broken (never the key itself).
 */
int crypto_material_check(const char *chain_pem, const char *key_pem);

/* A list of PEM certificates, each a NUL-terminated block ending in "\n". */
typedef struct {
	char **pems;
	size_t count;
} crypto_pem_list;

/*
 * Splits a PEM bundle into its CERTIFICATE blocks (other blocks are
 * skipped), checking that each parses.  CERTOPS_EINVALID when none or
 * one is bad.  Release with crypto_pem_list_release.
 */
int crypto_pem_split(crypto_pem_list *out, const char *pem, size_t len);
void crypto_pem_list_release(crypto_pem_list *list);
/* Appends the DER of a PEM certificate, or PEM of DER. */
int crypto_cert_pem_to_der(util_buf *out, const char *pem, size_t len);
int crypto_cert_der_to_pem(util_buf *out, const void *der, size_t len);

#endif
