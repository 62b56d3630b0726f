/*
 * SHA-256, the one implementation: fingerprints, SPKI pins, JWK
 * thumbprints, declaration hashes and state keys all come here.  The
 * EVP_MD is fetched once per process (a one-shot EVP_Digest with
 * EVP_sha256() looks the algorithm up in the provider on every call).
 */
#include "crypto/crypto.h"

#include <pthread.h>

#include <openssl/evp.h>

#include "util/error.h"

static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;
static EVP_MD *sha256_md; /* kept for the life of the process */

static void sha256_fetch(void)
{
	sha256_md = EVP_MD_fetch(NULL, "SHA2-256", NULL);
}

int crypto_sha256(unsigned char out[32], const void *data, size_t len)
{
	unsigned int n = 0;

	pthread_once(&sha256_once, sha256_fetch);
	if (!sha256_md)
		return util_error_set(CERTOPS_ERROR, "sha-256 is not available from OpenSSL");
	if (!EVP_Digest(data, len, out, &n, sha256_md, NULL) || n != 32)
		return util_error_set(CERTOPS_ERROR, "computing sha-256 failed");
	return 0;
}

int crypto_sha256_hex(char out[65], const void *data, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[32];
	int error, i;

	out[0] = '\0';
	if ((error = crypto_sha256(md, data, len)) < 0)
		return error;
	for (i = 0; i < 32; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[64] = '\0';
	return 0;
}
