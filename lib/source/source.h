/*
 * The desired-state source: a local directory, or a Git remote fetched with
 * libgit2 into a cache in the state directory and checked out detached at
 * one exact commit.
 *
 * A remote is cloned once into <id>/ under the store's cache directory
 * (state_cache_dir(st, "source"), <state>/source/ in a directory store;
 * mode 0700; <id> is a hash of the URL) and fetched, never re-cloned, on later runs.  When the
 * fetch fails (remote unreachable, moved, auth refused), the commit fetched
 * last is used and the result says so (offline = 1, a warning is logged):
 * certops keeps converging on what it knew rather than stopping.
 *
 * Rollback guard: after an apply the caller records the commit it applied
 * (state_applied_commit_put).  A later resolve refuses a commit that is not that
 * one or a descendant of it (a stale mirror, a force-pushed branch) with
 * CERTOPS_ESTALE, unless force_older is set.
 *
 * Signatures: with require_signed, the commit must carry an SSH signature
 * accepted by `ssh-keygen -Y verify` against allowed_signers, or an OpenPGP
 * signature accepted by `gpg --verify` against gpg_keyring; anything else is
 * refused with CERTOPS_EAUTH and a message naming the commit.
 *
 * Logging: once a remote's commit is resolved, it is set as the "commit"
 * log context field (util_log_context_set), so every later log line names it.
 */
#ifndef CERTOPS_SOURCE_H
#define CERTOPS_SOURCE_H

#include <stddef.h>

#include "state/state.h"

/* A full SHA-1 commit id in hex, plus the NUL. */
#define SOURCE_COMMIT_HEXSZ 40

typedef struct {
	/* A Git URL (file://, https://, ssh://, user@host:path, or a local
	 * path to a repository).  NULL: `dir` is a plain directory, no Git. */
	const char *url;
	/* The plain directory when url is NULL. */
	const char *dir;
	/* Branch, tag, full or abbreviated commit id, or a full ref name;
	 * NULL: the remote's default branch (its HEAD). */
	const char *ref;
	/* A directory inside the repository to load; NULL or "" for the top.
	 * Must be relative and must not contain "..". */
	const char *subpath;
	/* The state store (required for a URL): the Git cache and the last
	 * applied commit (state_applied_commit_get).  Borrowed. */
	state *st;

	/* Transport credentials.  ssh: a private key file (else the agent);
	 * known_hosts NULL means ~/.ssh/known_hosts; host key checking is on
	 * unless insecure_skip_host_key.  https: a token (or password) read
	 * from the environment variable token_env or the file token_file,
	 * sent with basic auth as username (default from the URL, else
	 * "x-access-token"). */
	const char *ssh_key;
	const char *known_hosts;
	int insecure_skip_host_key;
	const char *token_env;
	const char *token_file;
	const char *username;

	/* Signature policy. */
	int require_signed;
	const char *allowed_signers; /* ssh-keygen allowed_signers file */
	const char *gpg_keyring;     /* an OpenPGP keyring file (gpg --keyring) */

	/* Accept a commit that does not descend from the last applied one. */
	int force_older;
	/* Do not try the network: use the cached commit (tests, --offline). */
	int no_fetch;
} source_opts;

typedef struct {
	char *dir;      /* the directory to load declarations from */
	char *url;      /* the URL as shown (an embedded password replaced by
			   "[redacted]"), or NULL for a plain directory */
	char *ref;      /* the ref that was resolved ("refs/heads/main"), or NULL */
	char commit[SOURCE_COMMIT_HEXSZ + 1]; /* "" for a plain directory */
	int offline;    /* 1: the fetch failed, commit is the cached one */
	char *offline_reason; /* why the fetch failed, when offline */
	char *signer;   /* the accepted signer's principal/key, or NULL */
} source_result;

/*
 * Initialises libgit2 once per process (thread-safe, idempotent); the
 * matching shutdown runs at exit, so callers need not pair it.  Every
 * source_ function calls it; it is public for tools that use libgit2 too.
 */
int source_global_init(void);

/*
 * Resolves opts to a directory and, for a URL, a commit: fetches (or
 * clones) the cache, resolves the ref, checks the rollback guard and the
 * signature policy, and checks the commit out.  *out is the caller's:
 * source_result_free.  Errors: CERTOPS_EINVALID (bad options, unknown ref),
 * CERTOPS_ENOTFOUND (nothing cached and the remote unreachable),
 * CERTOPS_ESTALE (older than the last applied commit), CERTOPS_EAUTH
 * (signature refused), CERTOPS_ERROR.
 */
int source_resolve(source_result **out, const source_opts *opts);
void source_result_free(source_result *r);

/*
 * For a saved plan: checks that the source resolved now (r) is still at the
 * commit the plan was made from (planned: full hex, or NULL/"" for a plan
 * made from a plain directory).  Returns 0, or CERTOPS_ESTALE naming both
 * commits ("the plan was made at commit A; the source is now at B"), unless
 * force is set (then a warning is logged and 0 returned).
 */
int source_check_commit(const source_result *r, const char *planned, int force);

/* Nonzero when s looks like a Git URL rather than a plain directory. */
int source_is_url(const char *s);

#endif
