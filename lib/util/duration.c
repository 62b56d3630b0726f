#include "util/duration.h"

#include <ctype.h>
#include <string.h>

#include "util/error.h"

int util_duration_parse(int64_t *seconds_out, const char *s)
{
	const char *p = s;
	int64_t total = 0;
	int parts = 0;

	if (!s || !*s)
		return util_error_set(CERTOPS_EINVALID, "empty duration");
	while (*p) {
		int64_t n = 0, unit;
		int digits = 0;

		while (isdigit((unsigned char)*p)) {
			if (n > (INT64_MAX - 9) / 10)
				return util_error_set(CERTOPS_EINVALID,
					"duration '%s' is too large", s);
			n = n * 10 + (*p++ - '0');
			digits++;
		}
		if (!digits)
			goto bad;
		switch (*p++) {
		case 'w': unit = 7 * 86400; break;
		case 'd': unit = 86400; break;
		case 'h': unit = 3600; break;
		case 'm': unit = 60; break;
		case 's': unit = 1; break;
		default: goto bad;
		}
		if (n > (INT64_MAX - total) / unit)
			return util_error_set(CERTOPS_EINVALID,
				"duration '%s' is too large", s);
		total += n * unit;
		parts++;
	}
	if (!parts)
		goto bad;
	*seconds_out = total;
	return 0;
bad:
	return util_error_set(CERTOPS_EINVALID,
		"invalid duration '%s' (expected a number and a unit: w, d, h, m, s, as in 90d or 1d12h)",
		s);
}

void util_duration_format(util_buf *out, int64_t seconds)
{
	static const struct { int64_t unit; char c; } units[] = {
		{ 86400, 'd' }, { 3600, 'h' }, { 60, 'm' }, { 1, 's' }
	};
	size_t i;
	int any = 0;

	if (seconds < 0) {
		util_buf_putc(out, '-');
		seconds = -seconds;
	}
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (seconds >= units[i].unit) {
			util_buf_printf(out, "%lld%c",
					(long long)(seconds / units[i].unit), units[i].c);
			seconds %= units[i].unit;
			any = 1;
		}
	}
	if (!any)
		util_buf_puts(out, "0s");
}

int util_time_parse(time_t *out, const char *s, time_t now)
{
	struct tm tm;
	const char *end;
	int64_t d;

	if (!s || !*s)
		return util_error_set(CERTOPS_EINVALID, "empty time");
	if (*s == '+') {
		if (util_duration_parse(&d, s + 1) < 0)
			return util_error_set(CERTOPS_EINVALID,
				"invalid time '%s' (a relative time is + and a duration, as in +30d)", s);
		*out = now + (time_t)d;
		return 0;
	}
	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (end && (strcmp(end, "Z") == 0 || strcmp(end, "+00:00") == 0)) {
		*out = timegm(&tm);
		return 0;
	}
	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%d", &tm);
	if (end && *end == '\0') {
		*out = timegm(&tm);
		return 0;
	}
	return util_error_set(CERTOPS_EINVALID,
		"invalid time '%s' (expected 2026-12-15, 2026-12-15T08:00:00Z or +30d)", s);
}

void util_time_format(util_buf *out, time_t t)
{
	struct tm tm;
	char b[32];

	gmtime_r(&t, &tm);
	strftime(b, sizeof(b), "%Y-%m-%dT%H:%M:%SZ", &tm);
	util_buf_puts(out, b);
}
