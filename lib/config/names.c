/*
 * DNS names and IP addresses as ACME identifiers.  Names are checked as
 * written in the repo: ASCII LDH labels, lowercased; a U-label (non-ASCII)
 * is refused with a pointer to its A-label form rather than converted, so
 * that what is reviewed is exactly what is requested from the CA.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <string.h>

#include "config/config_internal.h"

const char *config__check_dns_name(const char *s, char *norm, size_t normsz)
{
	size_t len = strlen(s), i, label = 0, labels = 0;
	const char *p = s, *last = s;
	int all_digits = 1;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] >= 0x80)
			return "'%s' is not ASCII: write the A-label form (xn--...) of internationalized names";
	if (len > 253 || len + 1 > normsz)
		return "'%s' is longer than 253 characters";
	if (!strncmp(s, "*.", 2)) {
		p = s + 2;
		if (!strchr(p, '.'))
			return "wildcard '%s' must have at least two labels after '*.'";
	}
	if (strchr(p, '*'))
		return "'%s' misuses a wildcard: only a leading '*.' label is allowed";
	if (!*p)
		return "invalid DNS name '%s'";
	if (p[strlen(p) - 1] == '.')
		return "'%s' must not end with '.'";
	for (i = 0; p[i]; i++) {
		unsigned char ch = (unsigned char)p[i];

		if (ch == '.') {
			if (!label)
				return "'%s' has an empty label";
			if (p[i - 1] == '-')
				return "'%s' has a label ending with '-'";
			labels++;
			label = 0;
			last = p + i + 1;
			all_digits = 1;
			continue;
		}
		if (!(isalnum(ch) || ch == '-'))
			return "'%s' has an invalid character (letters, digits, '-' and '.' only)";
		if (ch == '-' && !label)
			return "'%s' has a label starting with '-'";
		if (!isdigit(ch))
			all_digits = 0;
		if (++label > 63)
			return "'%s' has a label longer than 63 characters";
	}
	if (p[i - 1] == '-')
		return "'%s' has a label ending with '-'";
	if (!labels)
		return "'%s' is not a fully qualified name (needs a dot)";
	if (all_digits)
		return "'%s' looks like an IP address: put it in ipAddresses";
	(void)last;
	for (i = 0; i <= len; i++)
		norm[i] = (char)tolower((unsigned char)s[i]);
	return NULL;
}

const char *config__check_ip(const char *s, char *norm, size_t normsz)
{
	unsigned char addr[16];
	int af = strchr(s, ':') ? AF_INET6 : AF_INET;

	if (inet_pton(af, s, addr) != 1)
		return "invalid IP address '%s'";
	if (!inet_ntop(af, addr, norm, (socklen_t)normsz))
		return "invalid IP address '%s'";
	return NULL;
}
