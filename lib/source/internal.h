/* Internal to lib/source: shared between source.c, auth.c and verify.c. */
#ifndef CERTOPS_SOURCE_INTERNAL_H
#define CERTOPS_SOURCE_INTERNAL_H

#include <git2.h>

#include "source/source.h"
#include "util/buf.h"

/* Records libgit2's last error as ours: "<what>: <libgit2 message>". */
int source__git_error(int code, const char *what);

/*
 * Runs argv (argv[0] looked up in PATH; no shell; util_proc_run) with
 * stdin from stdin_path (NULL: /dev/null), only PATH in its environment,
 * a 30 s deadline, and stdout+stderr captured into output (appending,
 * capped at 64 KiB).  Returns the exit status (0..255), or a negative code
 * with the error set when it could not run, was killed, or timed out
 * (CERTOPS_ETIMEOUT).
 */
int source__run(util_buf *output, const char *const argv[],
		const char *stdin_path);

/* The payload of the transport callbacks of one fetch. */
typedef struct {
	const source_opts *opts;
	int cred_tries;
	int port;      /* ssh port from the URL, 0 when default */
} source__auth;

/* Fills callbacks (credentials, host key check) for a fetch of opts->url. */
void source__auth_setup(git_remote_callbacks *cb, source__auth *auth,
			const source_opts *opts);

/*
 * Checks the signature of commit against opts' allowed keys.  tmpdir is a
 * private (0700) directory for the signature files.  On success *signer
 * (the caller's: free) names the accepted principal or key.  Refusals are
 * CERTOPS_EAUTH with a message naming the commit.
 */
int source__verify_commit(char **signer, git_repository *repo,
			  const git_oid *commit, const source_opts *opts,
			  const char *tmpdir);

#endif
