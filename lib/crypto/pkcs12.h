/*
 * PKCS#12 (PFX/P12) files for the applications that read a certificate and
 * its key as one password-protected bundle (Java, Windows, .NET).
 *
 * Two encryptions: "modern" is what OpenSSL 3 writes by default (PBES2 with
 * PBKDF2-HMAC-SHA256 and AES-256-CBC for the key and the certificates, an
 * HMAC-SHA256 MAC); "legacy" is what old Windows and Java 8 read
 * (pbeWithSHAAnd3-KeyTripleDES-CBC for key and certificates, HMAC-SHA1 MAC).
 * Both run on OpenSSL's default provider: the legacy provider is only
 * needed for RC2, which certops never writes.
 *
 * Without a password the bundle has no encryption and no MAC (what Java 18+
 * and OpenSSL call a password-less keystore): the file mode is then the only
 * protection of the key.
 *
 * OpenSSL types stay inside lib/crypto: bundles are DER bytes in util_buf.
 */
#ifndef CERTOPS_CRYPTO_PKCS12_H
#define CERTOPS_CRYPTO_PKCS12_H

#include <stddef.h>

#include "crypto/crypto.h"

typedef enum {
	CRYPTO_PKCS12_MODERN = 0,
	CRYPTO_PKCS12_LEGACY
} crypto_pkcs12_encryption;

typedef struct {
	const char *password;      /* NULL: none (no encryption, no MAC) */
	crypto_pkcs12_encryption encryption;
	const char *friendly_name; /* NULL: none; set on the leaf and key */
} crypto_pkcs12_opts;

/*
 * Builds a PFX of the leaf certificate (PEM or DER), the chain (a PEM
 * bundle of intermediates, may be NULL/0) and key, and appends its DER to
 * der_out.  Self-signed certificates in the chain (a root) are left out:
 * the client must trust its own root, not one shipped beside the leaf.
 * The key must match the leaf (CERTOPS_EINVALID otherwise).  The password
 * is registered as a secret so that no log line can show it.
 */
int crypto_pkcs12_build(util_buf *der_out, const void *leaf, size_t leaf_len,
			const char *chain_pem, size_t chain_len,
			const crypto_key *key, const crypto_pkcs12_opts *opts);

/* What a PFX holds, as far as drift detection needs. */
typedef struct {
	unsigned char fingerprint[32]; /* SHA-256 of the leaf DER */
	int has_key;       /* a private key was found */
	int key_matches;   /* 1: the key is the leaf's */
	size_t nchain;     /* other certificates in the bundle */
	char *friendly_name; /* of the leaf, or NULL */
	int has_mac;
	int legacy_mac;    /* 1: the MAC digest is SHA-1 (a "legacy" file) */
} crypto_pkcs12_info;

/*
 * Opens a PFX with password (NULL: none) and fills *out, which the caller
 * releases with crypto_pkcs12_info_release.  CERTOPS_EAUTH when the password
 * does not open it (a changed password in the declaration is drift),
 * CERTOPS_EINVALID when it is not a PKCS#12 file with a certificate.
 */
int crypto_pkcs12_read(crypto_pkcs12_info *out, const void *der, size_t len,
		       const char *password);
void crypto_pkcs12_info_release(crypto_pkcs12_info *info);

#endif
