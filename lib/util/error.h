/*
 * Errors, libgit2-style: functions return 0 or a negative code; the message
 * is recorded once, where the failure happens, in a per-thread record that
 * callers read with util_error_last() and pass up unchanged.
 *
 * Input errors carry a position (file:line:column) and the field path, so
 * they print as "file.yaml:12:5: spec.domains[1]: message".  Where many
 * problems must be reported at once (validation), they are collected in a
 * util_diags list instead of stopping at the first.
 */
#ifndef CERTOPS_UTIL_ERROR_H
#define CERTOPS_UTIL_ERROR_H

#include <stddef.h>

#include "util/buf.h"

/* The codes callers branch on; anything else is CERTOPS_ERROR. */
enum {
	CERTOPS_OK = 0,
	CERTOPS_ERROR = -1,     /* generic failure; see the message */
	CERTOPS_ENOTFOUND = -3, /* a thing that was looked up does not exist */
	CERTOPS_EEXISTS = -4,   /* a thing to be created exists already */
	CERTOPS_ELOCKED = -5,   /* another certops holds the state lock */
	CERTOPS_EINVALID = -6,  /* bad input: declaration, policy, flag, file */
	CERTOPS_EPOLICY = -7,   /* forbidden by the local policy */
	CERTOPS_EAUTH = -8,     /* credentials refused */
	CERTOPS_ERATELIMIT = -9,/* the peer asked us to back off */
	CERTOPS_ETIMEOUT = -10, /* a deadline passed */
	CERTOPS_ESTALE = -11,   /* a saved plan no longer matches the world */
	CERTOPS_ENOMEM = -12,   /* out of memory */
	CERTOPS_EPEER = -13,    /* the remote side answered with an error */
	CERTOPS_EUNSUPPORTED = -14, /* declared, but this build cannot carry it out */
	CERTOPS_EUSAGE = -15    /* a command-line option names nothing / contradicts another */
};

typedef struct {
	int code;
	char *message; /* never NULL once set */
	char *file;    /* NULL unless an input error */
	unsigned line, column; /* 1-based; 0 when unknown */
	char *field;   /* dotted field path, or NULL */
} util_error;

/*
 * Records an error for this thread, replacing the previous one, and returns
 * code so that `return util_error_set(CERTOPS_ENOTFOUND, "...")` works.
 * The message passes through util_redact: registered secrets never reach it.
 */
int util_error_set(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The same with the position of an input error; file/field may be NULL. */
int util_error_set_at(int code, const char *file, unsigned line,
		      unsigned column, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
/* Records code with strerror(errno) appended: "opening 'x': No such file". */
int util_error_set_errno(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/*
 * Prefixes the current message with context ("loading state: <old>") and
 * returns the current code (CERTOPS_ERROR when none was set).
 */
int util_error_wrap(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * Records "out of memory" and returns CERTOPS_ENOMEM: the one spelling of
 * `return util_error_oom();`.
 */
int util_error_oom(void);

/* The last error of this thread (borrowed), or NULL. */
const util_error *util_error_last(void);
/* The last message, or "unknown error"; borrowed, valid until the next set. */
const char *util_error_message(void);
void util_error_clear(void);

/* Appends "file:line:col: field: message" (the parts that are known). */
void util_error_format(util_buf *out, const util_error *e);
/* A short stable name for a code ("not found", "locked", ...). */
const char *util_error_code_name(int code);

/* A list of diagnostics, for reporting every problem at once. */
typedef struct {
	util_error *items;
	size_t count, alloc;
} util_diags;

#define UTIL_DIAGS_INIT { NULL, 0, 0 }

/* Adds one diagnostic; returns 0, or -1 when out of memory. */
int util_diags_add(util_diags *d, int code, const char *file, unsigned line,
		   unsigned column, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));
/* Sorts by file, line, column (stable for equal positions). */
void util_diags_sort(util_diags *d);
void util_diags_release(util_diags *d);
/* Copies the thread's last error into the list. */
int util_diags_add_last(util_diags *d);

#endif
