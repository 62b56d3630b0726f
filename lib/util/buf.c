#include "util/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char util_buf__empty[1];

void util_buf_init(util_buf *b)
{
	b->ptr = util_buf__empty;
	b->size = b->asize = b->limit = 0;
	b->failed = 0;
}

void util_buf_init_limit(util_buf *b, size_t limit)
{
	util_buf_init(b);
	b->limit = limit;
}

void util_buf_release(util_buf *b)
{
	if (b->asize)
		free(b->ptr);
	util_buf_init(b);
}

void util_buf_clear(util_buf *b)
{
	b->size = 0;
	b->failed = 0;
	if (b->asize)
		b->ptr[0] = '\0';
}

int util_buf_grow(util_buf *b, size_t extra)
{
	size_t need, nsize;
	char *p;

	if (b->failed)
		return -1;
	if (extra > (size_t)-1 - b->size - 1)
		goto fail;
	need = b->size + extra + 1;
	if (b->limit && need - 1 > b->limit)
		goto fail;
	if (need <= b->asize)
		return 0;
	nsize = b->asize ? b->asize : 64;
	while (nsize < need) {
		if (nsize > (size_t)-1 / 2) {
			nsize = need;
			break;
		}
		nsize *= 2;
	}
	p = realloc(b->asize ? b->ptr : NULL, nsize);
	if (!p)
		goto fail;
	if (!b->asize)
		p[0] = '\0';
	b->ptr = p;
	b->asize = nsize;
	return 0;
fail:
	b->failed = 1;
	return -1;
}

int util_buf_put(util_buf *b, const void *data, size_t len)
{
	if (util_buf_grow(b, len) < 0)
		return -1;
	if (len)
		memmove(b->ptr + b->size, data, len);
	b->size += len;
	b->ptr[b->size] = '\0';
	return 0;
}

int util_buf_puts(util_buf *b, const char *s)
{
	return util_buf_put(b, s, strlen(s));
}

int util_buf_putc(util_buf *b, char c)
{
	return util_buf_put(b, &c, 1);
}

int util_buf_vprintf(util_buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	if (b->failed)
		return -1;
	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0 || util_buf_grow(b, (size_t)n) < 0) {
		b->failed = 1;
		return -1;
	}
	vsnprintf(b->ptr + b->size, (size_t)n + 1, fmt, ap);
	b->size += (size_t)n;
	return 0;
}

int util_buf_printf(util_buf *b, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = util_buf_vprintf(b, fmt, ap);
	va_end(ap);
	return r;
}

int util_buf_put_json_string(util_buf *b, const char *s)
{
	const unsigned char *p;

	util_buf_putc(b, '"');
	for (p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"': util_buf_puts(b, "\\\""); break;
		case '\\': util_buf_puts(b, "\\\\"); break;
		case '\n': util_buf_puts(b, "\\n"); break;
		case '\r': util_buf_puts(b, "\\r"); break;
		case '\t': util_buf_puts(b, "\\t"); break;
		default:
			if (*p < 0x20)
				util_buf_printf(b, "\\u%04x", *p);
			else
				util_buf_putc(b, (char)*p);
		}
	}
	return util_buf_putc(b, '"');
}

void util_buf_truncate(util_buf *b, size_t len)
{
	if (len < b->size) {
		b->size = len;
		b->ptr[len] = '\0';
	}
}

char *util_buf_detach(util_buf *b)
{
	char *p;

	if (b->failed) {
		util_buf_release(b);
		return NULL;
	}
	p = b->asize ? b->ptr : strdup("");
	util_buf_init(b);
	return p;
}

int util_buf_put_printable(util_buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const char *run = s;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[4] = { '\\', 'x', 0, 0 };

		if (c >= 0x20 && c != 0x7f)
			continue;
		util_buf_put(b, run, (size_t)(s - run));
		esc[2] = hex[c >> 4];
		esc[3] = hex[c & 15];
		util_buf_put(b, esc, sizeof(esc));
		run = s + 1;
	}
	util_buf_put(b, run, (size_t)(s - run));
	return util_buf_failed(b) ? -1 : 0;
}
