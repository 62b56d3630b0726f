#include "util/error.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

static _Thread_local util_error last_error;
static _Thread_local int last_set;

/*
 * A worker thread that ends with an error recorded would leak its message:
 * a pthread key's destructor frees it at thread exit (the thread's own
 * _Thread_local storage is still valid while key destructors run).
 */
static pthread_key_t exit_key;
static pthread_once_t exit_once = PTHREAD_ONCE_INIT;

static void error_reset(util_error *e);

static void exit_destructor(void *p)
{
	error_reset(p);
}

static void exit_key_init(void)
{
	if (pthread_key_create(&exit_key, exit_destructor) != 0)
		abort();
}

/* Marks this thread's record as set, arranging its release at thread exit. */
static void mark_set(void)
{
	if (!last_set) {
		pthread_once(&exit_once, exit_key_init);
		pthread_setspecific(exit_key, &last_error);
	}
	last_set = 1;
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static void error_reset(util_error *e)
{
	free(e->message);
	free(e->file);
	free(e->field);
	memset(e, 0, sizeof(*e));
}

/* Formats and redacts a message; never returns NULL (falls back). */
static char *format_message(const char *fmt, va_list ap, const char *suffix)
{
	util_buf b = UTIL_BUF_INIT;
	char *s;

	util_buf_vprintf(&b, fmt, ap);
	if (suffix)
		util_buf_printf(&b, ": %s", suffix);
	util_redact(&b);
	s = util_buf_detach(&b);
	return s ? s : strdup("out of memory");
}

static int set_va(int code, const char *file, unsigned line, unsigned column,
		  const char *field, const char *suffix, const char *fmt,
		  va_list ap)
{
	util_error e = { 0 };

	e.code = code;
	e.message = format_message(fmt, ap, suffix);
	e.file = dup_or_null(file);
	e.line = line;
	e.column = column;
	e.field = dup_or_null(field);
	error_reset(&last_error);
	last_error = e;
	mark_set();
	return code;
}

int util_error_set(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_va(code, NULL, 0, 0, NULL, NULL, fmt, ap);
	va_end(ap);
	return code;
}

int util_error_set_at(int code, const char *file, unsigned line,
		      unsigned column, const char *field, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_va(code, file, line, column, field, NULL, fmt, ap);
	va_end(ap);
	return code;
}

int util_error_set_errno(int code, const char *fmt, ...)
{
	va_list ap;
	int saved = errno;
	char buf[256];
	/* GNU strerror_r (we build with _GNU_SOURCE): returns the message,
	 * which may or may not be in buf. */
	const char *msg = strerror_r(saved, buf, sizeof(buf));

	va_start(ap, fmt);
	set_va(code, NULL, 0, 0, NULL, msg, fmt, ap);
	va_end(ap);
	errno = saved;
	return code;
}

int util_error_wrap(const char *fmt, ...)
{
	util_buf b = UTIL_BUF_INIT;
	va_list ap;
	char *s;

	if (!last_set) {
		last_error.code = CERTOPS_ERROR;
		last_error.message = strdup("unknown error");
		mark_set();
	}
	va_start(ap, fmt);
	util_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	util_buf_printf(&b, ": %s",
			last_error.message ? last_error.message : "unknown error");
	util_redact(&b);
	s = util_buf_detach(&b);
	if (s) {
		free(last_error.message);
		last_error.message = s;
	}
	return last_error.code;
}

int util_error_oom(void)
{
	return util_error_set(CERTOPS_ENOMEM, "out of memory");
}

const util_error *util_error_last(void)
{
	return last_set ? &last_error : NULL;
}

const char *util_error_message(void)
{
	return last_set && last_error.message ? last_error.message
					      : "unknown error";
}

void util_error_clear(void)
{
	error_reset(&last_error);
	last_set = 0;
}

void util_error_format(util_buf *out, const util_error *e)
{
	/* names and messages may come from a repository: no raw controls */
	if (e->file) {
		util_buf_put_printable(out, e->file);
		if (e->line) {
			util_buf_printf(out, ":%u", e->line);
			if (e->column)
				util_buf_printf(out, ":%u", e->column);
		}
		util_buf_puts(out, ": ");
	}
	if (e->field && *e->field) {
		util_buf_put_printable(out, e->field);
		util_buf_puts(out, ": ");
	}
	util_buf_put_printable(out, e->message ? e->message : "unknown error");
}

const char *util_error_code_name(int code)
{
	switch (code) {
	case CERTOPS_OK: return "ok";
	case CERTOPS_ENOTFOUND: return "not found";
	case CERTOPS_EEXISTS: return "exists";
	case CERTOPS_ELOCKED: return "locked";
	case CERTOPS_EINVALID: return "invalid";
	case CERTOPS_EPOLICY: return "policy";
	case CERTOPS_EAUTH: return "auth";
	case CERTOPS_ERATELIMIT: return "rate limited";
	case CERTOPS_ETIMEOUT: return "timeout";
	case CERTOPS_ESTALE: return "stale";
	case CERTOPS_ENOMEM: return "out of memory";
	case CERTOPS_EPEER: return "peer error";
	case CERTOPS_EUNSUPPORTED: return "not supported yet";
	case CERTOPS_EUSAGE: return "usage";
	default: return "error";
	}
}

int util_diags_add(util_diags *d, int code, const char *file, unsigned line,
		   unsigned column, const char *field, const char *fmt, ...)
{
	util_error *e;
	va_list ap;

	if (d->count == d->alloc) {
		size_t n = d->alloc ? d->alloc * 2 : 16;
		util_error *p = realloc(d->items, n * sizeof(*p));
		if (!p)
			return -1;
		d->items = p;
		d->alloc = n;
	}
	e = &d->items[d->count];
	memset(e, 0, sizeof(*e));
	e->code = code;
	va_start(ap, fmt);
	e->message = format_message(fmt, ap, NULL);
	va_end(ap);
	e->file = dup_or_null(file);
	e->line = line;
	e->column = column;
	e->field = dup_or_null(field);
	d->count++;
	return 0;
}

int util_diags_add_last(util_diags *d)
{
	const util_error *e = util_error_last();

	if (!e)
		return util_diags_add(d, CERTOPS_ERROR, NULL, 0, 0, NULL,
				      "unknown error");
	return util_diags_add(d, e->code, e->file, e->line, e->column, e->field,
			      "%s", e->message ? e->message : "unknown error");
}

/* Compares through pointers into the unsorted array, so that the address
 * (the original order) breaks ties and the sort is stable. */
static int diag_cmp(const void *a, const void *b)
{
	const util_error *x = *(const util_error *const *)a;
	const util_error *y = *(const util_error *const *)b;
	int c = strcmp(x->file ? x->file : "", y->file ? y->file : "");

	if (c)
		return c;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->column != y->column)
		return x->column < y->column ? -1 : 1;
	return x < y ? -1 : (x > y);
}

void util_diags_sort(util_diags *d)
{
	util_error **order, *sorted;
	size_t i;

	if (d->count < 2)
		return;
	order = calloc(d->count, sizeof(*order));
	sorted = calloc(d->count, sizeof(*sorted));
	if (!order || !sorted)
		goto done; /* unsorted is still correct output */
	for (i = 0; i < d->count; i++)
		order[i] = &d->items[i];
	qsort(order, d->count, sizeof(*order), diag_cmp);
	for (i = 0; i < d->count; i++)
		sorted[i] = *order[i];
	memcpy(d->items, sorted, d->count * sizeof(*sorted));
done:
	free(order);
	free(sorted);
}

void util_diags_release(util_diags *d)
{
	size_t i;

	for (i = 0; i < d->count; i++)
		error_reset(&d->items[i]);
	free(d->items);
	d->items = NULL;
	d->count = d->alloc = 0;
}
