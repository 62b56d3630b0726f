/* Fingerprint spelling and comparison (util/fingerprint.h). */
#include "util/fingerprint.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "util/error.h"

int util_fingerprint_norm(char out[UTIL_FINGERPRINT_HEX_LEN + 1], const char *fp)
{
	size_t n = 0;

	if (!fp)
		return CERTOPS_EINVALID;
	if (!strncasecmp(fp, "sha256:", 7))
		fp += 7;
	for (; *fp; fp++) {
		if (*fp == ':')
			continue;
		if (!isxdigit((unsigned char)*fp) || n == UTIL_FINGERPRINT_HEX_LEN)
			return CERTOPS_EINVALID;
		out[n++] = (char)tolower((unsigned char)*fp);
	}
	out[n] = '\0';
	return n == UTIL_FINGERPRINT_HEX_LEN ? 0 : CERTOPS_EINVALID;
}

int util_fingerprint_equal(const char *a, const char *b)
{
	char na[UTIL_FINGERPRINT_HEX_LEN + 1], nb[UTIL_FINGERPRINT_HEX_LEN + 1];

	return util_fingerprint_norm(na, a) == 0 && util_fingerprint_norm(nb, b) == 0 &&
		memcmp(na, nb, UTIL_FINGERPRINT_HEX_LEN) == 0;
}
