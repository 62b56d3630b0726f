/*
 * util_buf: the one growable string buffer of certops.
 *
 * Modelled on git's strbuf and curl's dynbuf: ptr is never NULL and always
 * NUL-terminated; an allocation failure (or going past an optional size
 * limit) makes the buffer "failed" and every later append a no-op, so a
 * sequence of appends needs one check at the end (util_buf_failed).
 * Memory leaves the buffer only through util_buf_detach.
 */
#ifndef CERTOPS_UTIL_BUF_H
#define CERTOPS_UTIL_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct {
	char *ptr;    /* never NULL, always NUL-terminated */
	size_t size;  /* bytes in use, not counting the NUL */
	size_t asize; /* bytes allocated (0: ptr is the shared empty string) */
	size_t limit; /* 0: no limit; else the most bytes the buffer may hold */
	int failed;   /* sticky: out of memory or over the limit */
} util_buf;

extern char util_buf__empty[];
#define UTIL_BUF_INIT { util_buf__empty, 0, 0, 0, 0 }

void util_buf_init(util_buf *b);
/* A buffer that refuses to grow past limit bytes (network bodies). */
void util_buf_init_limit(util_buf *b, size_t limit);
void util_buf_release(util_buf *b);
/* Empties the buffer, keeping its memory and clearing the failed flag. */
void util_buf_clear(util_buf *b);

int util_buf_grow(util_buf *b, size_t extra);
int util_buf_put(util_buf *b, const void *data, size_t len);
int util_buf_puts(util_buf *b, const char *s);
int util_buf_putc(util_buf *b, char c);
int util_buf_printf(util_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int util_buf_vprintf(util_buf *b, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
/* Appends s as a JSON string literal, quotes included. */
int util_buf_put_json_string(util_buf *b, const char *s);
/*
 * Appends s with every control character (below 0x20, and DEL) written as
 * \xHH, so that a name from a repository cannot move the cursor, ring a
 * bell or forge a new line in a terminal or a CI log.
 */
int util_buf_put_printable(util_buf *b, const char *s);
void util_buf_truncate(util_buf *b, size_t len);

/* Nonzero when an append failed (out of memory or over the limit). */
static inline int util_buf_failed(const util_buf *b) { return b->failed; }

/*
 * Hands the contents over: returns a malloc'd NUL-terminated string the
 * caller frees (never NULL unless out of memory) and resets the buffer.
 * Returns NULL when the buffer failed.
 */
char *util_buf_detach(util_buf *b);

#endif
