/*
 * Running a program with a deadline: the one runner under deploy hooks
 * (lib/target/exec_run.c) and the signature tools (gpg, ssh-keygen in
 * lib/source/verify.c).
 *
 * - an argv, never a shell; argv[0] a path, or a name searched in the
 *   directories of opts->path (resolved before fork);
 * - the environment is exactly opts->env: nothing of certops' own leaks
 *   (no tokens, no passwords) unless the caller puts it there;
 * - stdin from opts->stdin_path or /dev/null; every other inherited
 *   descriptor is closed in the child, O_CLOEXEC or not (a lock file or a
 *   library's socket must not outlive us in a daemon the program starts);
 * - its own process group: at the deadline the group gets SIGTERM, and
 *   SIGKILL after the grace period, so what it forked dies with it;
 * - stdout and stderr each kept up to a bound, the rest counted and
 *   dropped (merge_stderr: both into out, as a terminal would show them).
 *
 * Whoever owns the result: util_proc_result_release frees its buffers.
 */
#ifndef CERTOPS_UTIL_PROC_H
#define CERTOPS_UTIL_PROC_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

#define UTIL_PROC_PATH "/usr/sbin:/usr/bin:/sbin:/bin"
#define UTIL_PROC_TIMEOUT_MS 60000
#define UTIL_PROC_GRACE_MS 2000
#define UTIL_PROC_OUTPUT_LIMIT (64 * 1024)

typedef struct {
	const char *const *argv;  /* argc words; argv[0] a path or a name */
	size_t argc;
	char *const *env;         /* NULL-terminated "NAME=value"; NULL: empty */
	const char *path;         /* search dirs for a bare name; NULL: UTIL_PROC_PATH */
	const char *stdin_path;   /* NULL: /dev/null */
	int64_t timeout_ms;       /* 0: UTIL_PROC_TIMEOUT_MS */
	int64_t grace_ms;         /* TERM to KILL; 0: UTIL_PROC_GRACE_MS */
	size_t output_limit;      /* per stream; 0: UTIL_PROC_OUTPUT_LIMIT */
	int merge_stderr;         /* 1: stderr goes to out as well */
} util_proc_opts;

typedef struct {
	int exited;       /* 1: exit_code is valid */
	int exit_code;
	int signal;       /* the signal that ended it, or 0 */
	int timed_out;
	util_buf out, err; /* captured, bounded; never NULL after a run */
	size_t out_dropped, err_dropped; /* bytes past the bound */
} util_proc_result;

/*
 * Runs the program to its end or its deadline and fills *res, which the
 * caller releases with util_proc_result_release (also on failure).
 * Returns 0 when the program ran and ended by itself, whatever its exit
 * code (see util_proc_result_check); CERTOPS_ETIMEOUT when it was killed
 * at the deadline ("command 'x' did not finish within N ms and was
 * killed: <stderr tail>"); CERTOPS_ENOTFOUND when the program was not
 * found; CERTOPS_EINVALID for an empty argv; CERTOPS_ERROR otherwise.
 */
int util_proc_run(util_proc_result *res, const util_proc_opts *opts);

/*
 * 0 when the run exited with 0; otherwise records "command 'x' exited
 * with code N: <stderr tail>" (or "was killed by signal N") and returns
 * CERTOPS_ERROR.
 */
int util_proc_result_check(const util_proc_result *res,
			   const util_proc_opts *opts);

void util_proc_result_release(util_proc_result *res);

/* Appends the command as one readable line, words with spaces quoted. */
void util_proc_format_argv(util_buf *out, const char *const *argv,
			   size_t argc);

#endif
