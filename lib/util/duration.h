/*
 * Durations and times as operators write them: "90d", "12h", "30m", "45s",
 * "1w", and combinations such as "1d12h".  Times are RFC 3339 UTC
 * ("2026-12-15T00:00:00Z") or a date ("2026-12-15"), or "+30d" from now.
 */
#ifndef CERTOPS_UTIL_DURATION_H
#define CERTOPS_UTIL_DURATION_H

#include <stdint.h>
#include <time.h>

#include "util/buf.h"

/* Parses a duration into seconds; returns 0, or CERTOPS_EINVALID (set). */
int util_duration_parse(int64_t *seconds_out, const char *s);
/* Formats seconds compactly ("30d", "1d12h", "0s") into out (appending). */
void util_duration_format(util_buf *out, int64_t seconds);
/* Parses a time as above, relative forms against now; 0 or CERTOPS_EINVALID. */
int util_time_parse(time_t *out, const char *s, time_t now);
/* Appends t as RFC 3339 UTC ("2026-12-15T00:00:00Z"). */
void util_time_format(util_buf *out, time_t t);

#endif
