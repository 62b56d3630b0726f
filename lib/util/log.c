#include "util/log.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static struct {
	util_log_level level;
	util_log_format format;
	int color;
	FILE *out;
} log_cfg = { UTIL_LOG_INFO, UTIL_LOG_TEXT, 0, NULL };

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

/* Process-wide fields of every line (util_log_context_set); log_lock. */
#define LOG_CONTEXT_MAX 8
static struct {
	char *key, *value;
} log_context[LOG_CONTEXT_MAX];
static size_t nlog_context;

static pthread_mutex_t secret_lock = PTHREAD_MUTEX_INITIALIZER;
static char **secrets;
static size_t nsecrets;

static const char *const level_names[] = { "error", "warn", "info", "debug",
					   "trace" };

void util_log_setup(util_log_level level, util_log_format format, int color,
		    FILE *out)
{
	pthread_mutex_lock(&log_lock);
	log_cfg.level = level;
	log_cfg.format = format;
	log_cfg.color = color;
	log_cfg.out = out;
	pthread_mutex_unlock(&log_lock);
}

util_log_level util_log_get_level(void)
{
	return log_cfg.level;
}

int util_log_enabled(util_log_level level)
{
	return level <= log_cfg.level;
}

int util_log_level_parse(const char *s, util_log_level *out)
{
	size_t i;

	for (i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*out = (util_log_level)i;
			return 0;
		}
	}
	if (strcmp(s, "warning") == 0) {
		*out = UTIL_LOG_WARN;
		return 0;
	}
	return -1;
}

int util_log_context_set(const char *key, const char *value)
{
	char *v = NULL, *k = NULL;
	size_t i;
	int rc = 0;

	if (value && !(v = strdup(value)))
		return -1;
	pthread_mutex_lock(&log_lock);
	for (i = 0; i < nlog_context; i++)
		if (strcmp(log_context[i].key, key) == 0)
			break;
	if (i < nlog_context) {
		free(log_context[i].value);
		if (v) {
			log_context[i].value = v;
		} else {
			free(log_context[i].key);
			log_context[i] = log_context[--nlog_context];
		}
	} else if (v) {
		if (nlog_context == LOG_CONTEXT_MAX || !(k = strdup(key))) {
			free(v);
			rc = -1;
		} else {
			log_context[nlog_context].key = k;
			log_context[nlog_context++].value = v;
		}
	}
	pthread_mutex_unlock(&log_lock);
	return rc;
}

void util_log_context_clear(void)
{
	pthread_mutex_lock(&log_lock);
	while (nlog_context) {
		nlog_context--;
		free(log_context[nlog_context].key);
		free(log_context[nlog_context].value);
	}
	pthread_mutex_unlock(&log_lock);
}

int util_secret_register(const char *value)
{
	char **p, *copy;
	size_t i;

	if (!value || strlen(value) < 4)
		return 0;
	pthread_mutex_lock(&secret_lock);
	for (i = 0; i < nsecrets; i++) {
		if (strcmp(secrets[i], value) == 0) {
			pthread_mutex_unlock(&secret_lock);
			return 0;
		}
	}
	copy = strdup(value);
	p = copy ? realloc(secrets, (nsecrets + 1) * sizeof(*p)) : NULL;
	if (!p) {
		free(copy);
		pthread_mutex_unlock(&secret_lock);
		return -1;
	}
	secrets = p;
	secrets[nsecrets++] = copy;
	pthread_mutex_unlock(&secret_lock);
	return 0;
}

void util_secret_clear(void)
{
	size_t i;

	pthread_mutex_lock(&secret_lock);
	for (i = 0; i < nsecrets; i++) {
		/* wipe before free: the heap may be dumped later */
		memset(secrets[i], 0, strlen(secrets[i]));
		free(secrets[i]);
	}
	free(secrets);
	secrets = NULL;
	nsecrets = 0;
	pthread_mutex_unlock(&secret_lock);
}

static void replace_all(util_buf *b, const char *needle)
{
	static const char mark[] = "[redacted]";
	size_t nlen = strlen(needle), pos = 0;
	char *hit;

	while (pos < b->size && (hit = strstr(b->ptr + pos, needle))) {
		size_t at = (size_t)(hit - b->ptr);
		util_buf tail = UTIL_BUF_INIT;

		util_buf_puts(&tail, hit + nlen);
		util_buf_truncate(b, at);
		util_buf_puts(b, mark);
		util_buf_put(b, tail.ptr, tail.size);
		util_buf_release(&tail);
		pos = at + sizeof(mark) - 1;
	}
}

/* Cuts every "-----BEGIN ... PRIVATE KEY-----" block down to a marker. */
static void redact_pem_keys(util_buf *b)
{
	size_t pos = 0;
	char *begin;

	while (pos < b->size && (begin = strstr(b->ptr + pos, "-----BEGIN "))) {
		char *eol = strstr(begin + 11, "-----");
		char *end;
		size_t at = (size_t)(begin - b->ptr);
		util_buf tail = UTIL_BUF_INIT;

		if (!eol)
			return;
		if (!memmem(begin, (size_t)(eol - begin), "PRIVATE KEY", 11)) {
			pos = (size_t)(eol - b->ptr) + 5;
			continue;
		}
		end = strstr(eol + 5, "-----END ");
		if (end) {
			end = strstr(end + 9, "-----");
			end = end ? end + 5 : b->ptr + b->size;
		} else {
			end = b->ptr + b->size;
		}
		util_buf_puts(&tail, end);
		util_buf_truncate(b, at);
		util_buf_puts(b, "[redacted private key]");
		util_buf_put(b, tail.ptr, tail.size);
		util_buf_release(&tail);
		pos = at + 22;
	}
}

void util_redact(util_buf *b)
{
	size_t i;

	pthread_mutex_lock(&secret_lock);
	for (i = 0; i < nsecrets; i++)
		replace_all(b, secrets[i]);
	pthread_mutex_unlock(&secret_lock);
	redact_pem_keys(b);
}

static void put_time(util_buf *b)
{
	struct timespec ts;
	struct tm tm;
	char tbuf[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(tbuf, sizeof(tbuf), "%Y-%m-%dT%H:%M:%S", &tm);
	util_buf_printf(b, "%s.%03ldZ", tbuf, ts.tv_nsec / 1000000L);
}

static const char *level_color(util_log_level level)
{
	switch (level) {
	case UTIL_LOG_ERROR: return "\033[31m";
	case UTIL_LOG_WARN: return "\033[33m";
	case UTIL_LOG_DEBUG:
	case UTIL_LOG_TRACE: return "\033[2m";
	default: return "";
	}
}

/* Whether a line's own fields name key (a context field would repeat it). */
static int has_field(const util_log_field *fields, size_t n, const char *key)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(fields[i].key, key) == 0)
			return 1;
	return 0;
}

/* Appends key/value fields: `,"k":"v"` in JSON, ` k=v` in text. */
static void put_field(util_buf *line, int json, const char *key, const char *value)
{
	util_buf val = UTIL_BUF_INIT;

	util_buf_puts(&val, value ? value : "");
	/* before encoding: a JSON-escaped secret would no longer match */
	util_redact(&val);
	if (json) {
		util_buf_putc(line, ',');
		util_buf_put_json_string(line, key);
		util_buf_putc(line, ':');
		util_buf_put_json_string(line, val.ptr);
	} else {
		util_buf_printf(line, " %s=%s", key, val.ptr);
	}
	util_buf_release(&val);
}

void util_logv(util_log_level level, const char *component,
	       const util_log_field *fields, size_t nfields, const char *fmt,
	       va_list ap)
{
	util_buf msg = UTIL_BUF_INIT, line = UTIL_BUF_INIT;
	int json = log_cfg.format == UTIL_LOG_JSON, color = 0;
	FILE *out;
	size_t i;

	if (!util_log_enabled(level))
		return;
	util_buf_vprintf(&msg, fmt, ap);
	util_redact(&msg);

	pthread_mutex_lock(&log_lock); /* log_context, and whole lines */
	if (json) {
		util_buf_puts(&line, "{\"time\":\"");
		put_time(&line);
		util_buf_printf(&line, "\",\"level\":\"%s\"", level_names[level]);
		if (component) {
			util_buf_puts(&line, ",\"component\":");
			util_buf_put_json_string(&line, component);
		}
		util_buf_puts(&line, ",\"msg\":");
		util_buf_put_json_string(&line, msg.ptr);
	} else {
		color = log_cfg.color && *level_color(level);
		if (color)
			util_buf_puts(&line, level_color(level));
		if (level != UTIL_LOG_INFO)
			util_buf_printf(&line, "%s: ", level_names[level]);
		if (component && level >= UTIL_LOG_DEBUG)
			util_buf_printf(&line, "[%s] ", component);
		util_buf_put(&line, msg.ptr, msg.size);
	}
	for (i = 0; i < nfields; i++)
		put_field(&line, json, fields[i].key, fields[i].value);
	if (json || log_cfg.level >= UTIL_LOG_DEBUG)
		for (i = 0; i < nlog_context; i++)
			if (!has_field(fields, nfields, log_context[i].key))
				put_field(&line, json, log_context[i].key, log_context[i].value);
	if (color)
		util_buf_puts(&line, "\033[0m");
	util_buf_puts(&line, json ? "}\n" : "\n");
	util_redact(&line);

	out = log_cfg.out ? log_cfg.out : stderr;
	if (!util_buf_failed(&line)) {
		fwrite(line.ptr, 1, line.size, out);
		fflush(out);
	}
	pthread_mutex_unlock(&log_lock);
	util_buf_release(&msg);
	util_buf_release(&line);
}

void util_log_fields(util_log_level level, const char *component,
		     const util_log_field *fields, size_t nfields,
		     const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	util_logv(level, component, fields, nfields, fmt, ap);
	va_end(ap);
}
