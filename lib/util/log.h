/*
 * Logging: one sink (stderr by default), levels, text or JSON lines, and
 * redaction.  Every line and every error message passes through
 * util_redact(), which replaces each registered secret value and any PEM
 * private key block with "[redacted]", so a secret read from env or a file
 * cannot reach a terminal, a CI log or a JSON log by accident.
 */
#ifndef CERTOPS_UTIL_LOG_H
#define CERTOPS_UTIL_LOG_H

#include <stdarg.h>
#include <stdio.h>

#include "util/buf.h"

typedef enum {
	UTIL_LOG_ERROR = 0,
	UTIL_LOG_WARN,
	UTIL_LOG_INFO,
	UTIL_LOG_DEBUG,
	UTIL_LOG_TRACE
} util_log_level;

typedef enum { UTIL_LOG_TEXT = 0, UTIL_LOG_JSON } util_log_format;

/* Configures the sink; out NULL means stderr.  Safe to call again. */
void util_log_setup(util_log_level level, util_log_format format, int color,
		    FILE *out);
util_log_level util_log_get_level(void);
int util_log_enabled(util_log_level level);
/* Parses "error|warn|info|debug|trace"; returns -1 when unknown. */
int util_log_level_parse(const char *s, util_log_level *out);

/* A key/value field of a structured log line. */
typedef struct {
	const char *key;
	const char *value;
} util_log_field;

/*
 * Writes one line: in text form "level component: message key=value ...",
 * in JSON form {"time":...,"level":...,"component":...,"msg":...,"key":...}.
 * fields may be NULL; nfields counts them.
 */
void util_log_fields(util_log_level level, const char *component,
		     const util_log_field *fields, size_t nfields,
		     const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void util_logv(util_log_level level, const char *component,
	       const util_log_field *fields, size_t nfields, const char *fmt,
	       va_list ap) __attribute__((format(printf, 5, 0)));

#define util_log_error(comp, ...) util_log_fields(UTIL_LOG_ERROR, comp, NULL, 0, __VA_ARGS__)
#define util_log_warn(comp, ...)  util_log_fields(UTIL_LOG_WARN, comp, NULL, 0, __VA_ARGS__)
#define util_log_info(comp, ...)  util_log_fields(UTIL_LOG_INFO, comp, NULL, 0, __VA_ARGS__)
#define util_log_debug(comp, ...) util_log_fields(UTIL_LOG_DEBUG, comp, NULL, 0, __VA_ARGS__)
#define util_log_trace(comp, ...) util_log_fields(UTIL_LOG_TRACE, comp, NULL, 0, __VA_ARGS__)

/*
 * Sets a field that every later log line carries (the desired-state commit,
 * say), or removes it when value is NULL.  JSON lines always carry it; text
 * lines only at debug level and above, where a terminal reader asked for
 * detail (the commit is in every plan's header anyway).  The strings are
 * copied.  Returns 0, or -1 when out of memory.
 */
int util_log_context_set(const char *key, const char *value);
/* Removes every context field. */
void util_log_context_clear(void);

/*
 * Registers a secret value (a password, token, HMAC key) so that it is
 * redacted from every later log line and error message.  The value is
 * copied; values shorter than 4 bytes are ignored (they would redact
 * ordinary words).  Returns 0, or -1 when out of memory.
 */
int util_secret_register(const char *value);
/* Forgets every registered secret (tests, and after a policy reload). */
void util_secret_clear(void);
/* Replaces registered secrets and PEM private key blocks in b in place. */
void util_redact(util_buf *b);

#endif
