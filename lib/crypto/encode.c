/* Encodings, digests, HMAC and randomness: thin, checked EVP wrappers. */
#include "crypto/crypto.h"

#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "util/error.h"

static const char b64url_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int crypto_b64url_encode(util_buf *out, const void *data, size_t len)
{
	const unsigned char *p = data;
	size_t i;
	char q[4];

	if (util_buf_grow(out, (len + 2) / 3 * 4) < 0)
		return util_error_oom();
	for (i = 0; i + 2 < len; i += 3) {
		q[0] = b64url_alphabet[p[i] >> 2];
		q[1] = b64url_alphabet[((p[i] & 3) << 4) | (p[i + 1] >> 4)];
		q[2] = b64url_alphabet[((p[i + 1] & 15) << 2) | (p[i + 2] >> 6)];
		q[3] = b64url_alphabet[p[i + 2] & 63];
		util_buf_put(out, q, 4);
	}
	if (len - i == 1) {
		q[0] = b64url_alphabet[p[i] >> 2];
		q[1] = b64url_alphabet[(p[i] & 3) << 4];
		util_buf_put(out, q, 2);
	} else if (len - i == 2) {
		q[0] = b64url_alphabet[p[i] >> 2];
		q[1] = b64url_alphabet[((p[i] & 3) << 4) | (p[i + 1] >> 4)];
		q[2] = b64url_alphabet[(p[i + 1] & 15) << 2];
		util_buf_put(out, q, 3);
	}
	return util_buf_failed(out) ? util_error_oom() : 0;
}

static int b64url_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-' || c == '+')
		return 62;
	if (c == '_' || c == '/')
		return 63;
	return -1;
}

int crypto_b64url_decode(util_buf *out, const char *s, size_t len)
{
	unsigned acc = 0;
	int bits = 0;
	size_t i;

	while (len && s[len - 1] == '=')
		len--;
	if (len % 4 == 1)
		return util_error_set(CERTOPS_EINVALID, "invalid base64url length");
	for (i = 0; i < len; i++) {
		int v = b64url_value(s[i]);
		if (v < 0)
			return util_error_set(CERTOPS_EINVALID,
					      "invalid base64url character at offset %zu", i);
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			util_buf_putc(out, (char)((acc >> bits) & 0xff));
		}
	}
	return util_buf_failed(out) ? util_error_oom() : 0;
}

int crypto_hex_encode(util_buf *out, const void *data, size_t len, char sep)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = data;
	size_t i;

	for (i = 0; i < len; i++) {
		if (sep && i)
			util_buf_putc(out, sep);
		util_buf_putc(out, hex[p[i] >> 4]);
		util_buf_putc(out, hex[p[i] & 15]);
	}
	return util_buf_failed(out) ? util_error_oom() : 0;
}

int crypto_hmac(util_buf *out, const char *digest, const void *key,
		size_t keylen, const void *data, size_t len)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	size_t maclen = 0;

	if (strcmp(digest, "SHA256") && strcmp(digest, "SHA384") && strcmp(digest, "SHA512"))
		return util_error_set(CERTOPS_EINVALID, "unsupported hmac digest '%s'", digest);
	if (!EVP_Q_mac(NULL, "HMAC", NULL, digest, NULL, key, keylen, data, len,
		       mac, sizeof(mac), &maclen))
		return util_error_set(CERTOPS_ERROR, "computing hmac-%s failed", digest);
	if (util_buf_put(out, mac, maclen) < 0)
		return util_error_oom();
	return 0;
}

int crypto_random(void *out, size_t len)
{
	if (len > (size_t)INT32_MAX || RAND_bytes(out, (int)len) != 1)
		return util_error_set(CERTOPS_ERROR, "random generator failed");
	return 0;
}
