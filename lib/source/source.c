/*
 * The source: resolve a plain directory, or fetch a Git remote into the
 * cache and check out one exact commit.  See source.h for the contract.
 *
 * Cache layout, all 0700, under the store's cache directory
 * (state_cache_dir(st, "source"): <state>/source/ in a directory store):
 *   <id>/lock               flock'd for the duration of a resolve
 *   <id>/remote-head        the remote's default branch, from the last fetch
 *   <id>/repo/              a non-bare repository (no remote configured: the
 *                           URL is given on each fetch); its work tree is
 *                           what is loaded
 *   <id>/tmp/               signature files while they are checked
 * <id> is a hash of the URL, so two remotes never share a cache.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "source/internal.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/log.h"

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_error;

static void shutdown_at_exit(void)
{
	git_libgit2_shutdown();
}

static void init_once_fn(void)
{
	if (git_libgit2_init() < 0) {
		init_error = -1;
		return;
	}
	atexit(shutdown_at_exit);
}

int source_global_init(void)
{
	pthread_once(&init_once, init_once_fn);
	if (init_error)
		return util_error_set(CERTOPS_ERROR, "initialising libgit2 failed");
	return 0;
}

int source__git_error(int code, const char *what)
{
	const git_error *e = git_error_last();

	return util_error_set(code, "%s: %s", what,
			      e && e->message ? e->message : "unknown libgit2 error");
}

int source_is_url(const char *s)
{
	const char *colon, *slash;

	if (!strncmp(s, "file://", 7) || !strncmp(s, "https://", 8) ||
	    !strncmp(s, "http://", 7) || !strncmp(s, "ssh://", 6) ||
	    !strncmp(s, "git://", 6))
		return 1;
	/* scp-style "user@host:path": a colon before any slash. */
	colon = strchr(s, ':');
	slash = strchr(s, '/');
	return s[0] != '/' && colon && (!slash || colon < slash) && colon > s;
}

/*
 * The URL as it may be shown: a password or token embedded in it
 * ("https://ci:TOKEN@host/r.git", as GitLab CI hands out) is replaced and
 * registered as a secret so that no log line or error carries it.  The
 * caller frees the result.
 */
static char *display_url(const char *url)
{
	const char *scheme = strstr(url, "://"), *host, *at, *colon;
	util_buf b = UTIL_BUF_INIT;
	char *pw;

	if (!scheme)
		return strdup(url);
	host = scheme + 3;
	at = memchr(host, '@', strcspn(host, "/"));
	colon = at ? memchr(host, ':', (size_t)(at - host)) : NULL;
	if (!colon)
		return strdup(url);
	pw = strndup(colon + 1, (size_t)(at - colon - 1));
	if (pw) {
		util_secret_register(pw);
		free(pw);
	}
	util_buf_put(&b, url, (size_t)(colon - url));
	util_buf_puts(&b, ":[redacted]");
	util_buf_puts(&b, at);
	return util_buf_detach(&b);
}

void source_result_free(source_result *r)
{
	if (!r)
		return;
	free(r->dir);
	free(r->url);
	free(r->ref);
	free(r->offline_reason);
	free(r->signer);
	free(r);
}

static int is_hex(const char *s, size_t min, size_t max)
{
	size_t n = strspn(s, "0123456789abcdef");

	return !s[n] && n >= min && n <= max;
}

int source_check_commit(const source_result *r, const char *planned, int force)
{
	const char *now = r->commit;

	if (!planned)
		planned = "";
	if (!strcmp(planned, now))
		return 0;
	if (force) {
		util_log_warn("source", "the plan was made at commit %s; the source "
			      "is now at %s: applying it anyway", *planned ? planned : "(none)",
			      *now ? now : "(a directory)");
		return 0;
	}
	return util_error_set(CERTOPS_ESTALE,
			      "the plan was made at commit %s; the source is now "
			      "at %s: make a new plan", *planned ? planned : "(none: a directory)",
			      *now ? now : "(none: a directory)");
}

/* Checks that subpath stays inside the tree and joins it to top. */
static int join_subpath(char **out, const char *top, const char *subpath)
{
	util_buf b = UTIL_BUF_INIT;
	char real_top[PATH_MAX], real_dir[PATH_MAX];
	struct stat st;
	size_t n;
	int error = 0;

	*out = NULL;
	if (subpath && *subpath) {
		if (subpath[0] == '/' || !strcmp(subpath, "..") ||
		    !strncmp(subpath, "../", 3) || strstr(subpath, "/../") ||
		    ((n = strlen(subpath)) >= 3 && !strcmp(subpath + n - 3, "/..")))
			return util_error_set(CERTOPS_EINVALID,
					      "--path '%s' must be relative and "
					      "stay inside the repository", subpath);
		util_fs_join(&b, top, subpath);
	} else {
		util_buf_puts(&b, top);
	}
	if (util_buf_failed(&b)) {
		error = util_error_oom();
		goto done;
	}
	if (stat(b.ptr, &st) < 0 || !S_ISDIR(st.st_mode)) {
		error = util_error_set(CERTOPS_EINVALID,
				       "path '%s' is not a directory in the source",
				       subpath && *subpath ? subpath : ".");
		goto done;
	}
	/* A symlink in the repository must not lead the loader elsewhere. */
	if (!realpath(top, real_top) || !realpath(b.ptr, real_dir)) {
		error = util_error_set_errno(CERTOPS_ERROR, "resolving '%s'", b.ptr);
		goto done;
	}
	n = strlen(real_top);
	if (strncmp(real_dir, real_top, n) || (real_dir[n] && real_dir[n] != '/')) {
		error = util_error_set(CERTOPS_EINVALID,
				       "path '%s' leads outside the repository",
				       subpath);
		goto done;
	}
	*out = util_buf_detach(&b);
	if (!*out)
		error = util_error_oom();
done:
	util_buf_release(&b);
	return error;
}

/* Opens the cache repository, creating it when missing. */
static int open_cache(git_repository **repo, const char *path)
{
	if (git_repository_open_ext(repo, path, GIT_REPOSITORY_OPEN_NO_SEARCH,
				    NULL) == 0)
		return 0;
	if (git_repository_init(repo, path, 0) < 0)
		return source__git_error(CERTOPS_ERROR, "creating the source cache");
	return 0;
}

/*
 * Fetches every branch (as refs/remotes/origin/NAME) and tag; on success
 * records the remote's default branch.  The remote is an in-memory one made
 * from the URL, never read from the cache's config: libgit2 1.5 leaks in
 * its config regex lookups (remote by name, url.*.insteadOf), and a config
 * edited inside the cache must not redirect the fetch anyway.
 */
static int fetch(git_repository *repo, const source_opts *o, const char *head_file)
{
	git_remote_callbacks cb;
	git_fetch_options fo;
	git_remote *remote = NULL;
	git_remote_create_options ro;
	git_buf head = { 0 };
	source__auth auth;
	char *specs[] = { "+refs/heads/*:refs/remotes/origin/*",
			  "+refs/tags/*:refs/tags/*" };
	git_strarray refspecs = { specs, 2 };
	int error;

	/* The _init functions, not the macros: gcc's -Wextra flags the
	 * macros' partial initialisers. */
	git_remote_init_callbacks(&cb, GIT_REMOTE_CALLBACKS_VERSION);
	git_fetch_options_init(&fo, GIT_FETCH_OPTIONS_VERSION);
	source__auth_setup(&cb, &auth, o);
	fo.callbacks = cb;
	fo.prune = GIT_FETCH_PRUNE;
	fo.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_ALL;
	git_remote_create_options_init(&ro, GIT_REMOTE_CREATE_OPTIONS_VERSION);
	ro.repository = repo;
	ro.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF |
		   GIT_REMOTE_CREATE_SKIP_DEFAULT_FETCHSPEC;
	if (git_remote_create_with_opts(&remote, o->url, &ro) < 0) {
		error = source__git_error(CERTOPS_EINVALID, "bad Git URL");
		goto done;
	}
	if (git_remote_connect(remote, GIT_DIRECTION_FETCH, &cb, NULL, NULL) < 0) {
		error = source__git_error(CERTOPS_ERROR, "connecting");
		goto done;
	}
	if (git_remote_default_branch(&head, remote) == 0) {
		util_buf line = UTIL_BUF_INIT;

		util_buf_printf(&line, "%s\n", head.ptr);
		if (util_fs_write_atomic(head_file, line.ptr, line.size, 0600) < 0)
			util_log_warn("source", "%s", util_error_message());
		util_buf_release(&line);
	}
	if (git_remote_download(remote, &refspecs, &fo) < 0 ||
	    git_remote_update_tips(remote, &cb, 0, GIT_REMOTE_DOWNLOAD_TAGS_ALL,
				   "certops fetch") < 0 ||
	    git_remote_prune(remote, &cb) < 0) {
		error = source__git_error(CERTOPS_ERROR, "fetching");
		goto done;
	}
	error = 0;
done:
	if (remote)
		git_remote_disconnect(remote);
	git_buf_dispose(&head);
	git_remote_free(remote);
	return error;
}

/* Peels ref name to a commit; 0, GIT_ENOTFOUND-like 1, or an error. */
static int peel(git_oid *oid, git_repository *repo, const char *name)
{
	git_reference *ref = NULL;
	git_object *obj = NULL;
	int error;

	if (git_reference_lookup(&ref, repo, name) < 0)
		return 1;
	error = git_reference_peel(&obj, ref, GIT_OBJECT_COMMIT);
	if (error == 0)
		git_oid_cpy(oid, git_object_id(obj));
	git_object_free(obj);
	git_reference_free(ref);
	return error < 0 ? source__git_error(CERTOPS_EINVALID, name) : 0;
}

/*
 * Resolves the requested ref in the cache.  *name_out (the caller's) is the
 * ref as the remote names it, NULL for a bare commit id.
 */
static int resolve_ref(git_oid *oid, char **name_out, git_repository *repo,
		       const char *want, const char *head_file)
{
	util_buf head = UTIL_BUF_INIT, local = UTIL_BUF_INIT, remote = UTIL_BUF_INIT;
	git_object *obj = NULL;
	int error;

	*name_out = NULL;
	if (!want) {
		if (util_fs_read_file(&head, head_file, 4096) < 0) {
			error = util_error_set(CERTOPS_ENOTFOUND,
					       "the remote's default branch is not "
					       "known yet (no successful fetch); give --ref");
			goto done;
		}
		util_buf_truncate(&head, strcspn(head.ptr, "\n"));
		want = head.ptr;
	}
	if (!strncmp(want, "refs/heads/", 11)) {
		util_buf_printf(&local, "refs/remotes/origin/%s", want + 11);
		util_buf_puts(&remote, want);
		if ((error = peel(oid, repo, local.ptr)) <= 0)
			goto found;
	} else if (!strncmp(want, "refs/", 5)) {
		util_buf_puts(&remote, want);
		if ((error = peel(oid, repo, want)) <= 0)
			goto found;
	} else {
		util_buf_printf(&local, "refs/remotes/origin/%s", want);
		util_buf_printf(&remote, "refs/heads/%s", want);
		if ((error = peel(oid, repo, local.ptr)) <= 0)
			goto found;
		util_buf_clear(&local);
		util_buf_clear(&remote);
		util_buf_printf(&local, "refs/tags/%s", want);
		util_buf_puts(&remote, local.ptr);
		if ((error = peel(oid, repo, local.ptr)) <= 0)
			goto found;
		util_buf_clear(&remote);
		/* A commit id: only hex, so that rev syntax ("HEAD~3",
		 * "main@{1}") cannot reach into the cache's own history. */
		if (is_hex(want, 4, GIT_OID_HEXSZ) &&
		    git_revparse_single(&obj, repo, want) == 0 &&
		    git_object_type(obj) == GIT_OBJECT_COMMIT) {
			git_oid_cpy(oid, git_object_id(obj));
			error = 0;
			goto found;
		}
	}
	error = util_error_set(CERTOPS_EINVALID,
			       "ref '%s' is not a branch, tag or commit of the remote",
			       want);
	goto done;
found:
	if (error == 0 && remote.size && !(*name_out = util_buf_detach(&remote)))
		error = util_error_oom();
done:
	git_object_free(obj);
	util_buf_release(&head);
	util_buf_release(&local);
	util_buf_release(&remote);
	return error;
}

/* The rollback guard: commit must be the last applied one or descend from it. */
static int check_not_older(git_repository *repo, const git_oid *commit,
			   const source_opts *o)
{
	char last_hex[SOURCE_COMMIT_HEXSZ + 1], hex[GIT_OID_HEXSZ + 1];
	git_oid last;
	int error, rel;

	error = state_applied_commit_get(last_hex, o->st);
	if (error == CERTOPS_ENOTFOUND) {
		util_error_clear();
		return 0;
	}
	if (error < 0)
		return error;
	git_oid_tostr(hex, sizeof(hex), commit);
	if (!strcmp(hex, last_hex))
		return 0;
	if (git_oid_fromstr(&last, last_hex) < 0)
		return source__git_error(CERTOPS_EINVALID, "last applied commit");
	rel = git_graph_descendant_of(repo, commit, &last);
	if (rel == 1)
		return 0;
	if (o->force_older) {
		util_log_warn("source", "commit %s does not descend from the last "
			      "applied commit %s: going back because of --force-older",
			      hex, last_hex);
		return 0;
	}
	git_error_clear();
	return util_error_set(CERTOPS_ESTALE,
			      "commit %s does not descend from the last applied "
			      "commit %s%s: refusing to go back (a stale mirror or "
			      "a rewritten branch?); --force-older allows it",
			      hex, last_hex,
			      rel < 0 ? " (which is not in the fetched history)" : "");
}

static int checkout(git_repository *repo, const git_oid *oid)
{
	git_checkout_options co;
	git_commit *commit = NULL;
	int error = 0;

	git_checkout_options_init(&co, GIT_CHECKOUT_OPTIONS_VERSION);
	/* FORCE + REMOVE_UNTRACKED: the tree is exactly the commit, whatever
	 * was left or edited in it. */
	co.checkout_strategy = GIT_CHECKOUT_FORCE | GIT_CHECKOUT_REMOVE_UNTRACKED;
	if (git_commit_lookup(&commit, repo, oid) < 0 ||
	    git_checkout_tree(repo, (const git_object *)commit, &co) < 0 ||
	    git_repository_set_head_detached(repo, oid) < 0)
		error = source__git_error(CERTOPS_ERROR, "checking out");
	git_commit_free(commit);
	return error;
}

static int resolve_remote(source_result *r, const source_opts *o)
{
	util_buf cache = UTIL_BUF_INIT, path = UTIL_BUF_INIT, head = UTIL_BUF_INIT,
		 tmp = UTIL_BUF_INIT;
	git_repository *repo = NULL;
	git_oid id, oid;
	char idhex[GIT_OID_HEXSZ + 1];
	int error, lock_fd = -1;

	if (!o->st)
		return util_error_set(CERTOPS_EINVALID, "a Git source needs a state store");
	/* The shown URL, so that a rotated token keeps the same cache. */
	if (git_odb_hash(&id, r->url, strlen(r->url), GIT_OBJECT_BLOB) < 0)
		return source__git_error(CERTOPS_ERROR, "hashing the URL");
	git_oid_tostr(idhex, 17, &id);
	if ((error = state_cache_dir(&cache, o->st, "source")) < 0)
		goto done;
	util_buf_printf(&cache, "/%s", idhex);
	if (util_buf_failed(&cache)) {
		error = util_error_oom();
		goto done;
	}
	if ((error = util_fs_mkdir_p(cache.ptr, 0700)) < 0)
		goto done;
	util_fs_join(&path, cache.ptr, "lock");
	lock_fd = open(path.ptr, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lock_fd < 0 || flock(lock_fd, LOCK_EX) < 0) {
		error = util_error_set_errno(CERTOPS_ERROR, "locking '%s'", path.ptr);
		goto done;
	}
	util_buf_clear(&path);
	util_fs_join(&path, cache.ptr, "repo");
	util_fs_join(&head, cache.ptr, "remote-head");
	util_fs_join(&tmp, cache.ptr, "tmp");
	if ((error = open_cache(&repo, path.ptr)) < 0)
		goto done;

	if (o->no_fetch) {
		r->offline = 1;
		r->offline_reason = strdup("fetching disabled");
	} else if (fetch(repo, o, head.ptr) < 0) {
		r->offline = 1;
		r->offline_reason = strdup(util_error_message());
	}
	if (r->offline && !r->offline_reason) {
		error = util_error_oom();
		goto done;
	}
	error = resolve_ref(&oid, &r->ref, repo, o->ref, head.ptr);
	if (error < 0 && r->offline) {
		error = util_error_set(CERTOPS_ENOTFOUND,
				       "cannot fetch '%s' (%s) and nothing usable "
				       "is cached: %s", r->url, r->offline_reason,
				       util_error_message());
		goto done;
	}
	if (error < 0)
		goto done;
	git_oid_tostr(r->commit, sizeof(r->commit), &oid);
	if (r->offline)
		util_log_warn("source", "OFFLINE: cannot fetch '%s' (%s); using "
			      "the cached commit %s", r->url, r->offline_reason,
			      r->commit);
	if ((error = check_not_older(repo, &oid, o)) < 0)
		goto done;
	if (o->require_signed) {
		if ((error = util_fs_mkdir_p(tmp.ptr, 0700)) < 0 ||
		    (error = source__verify_commit(&r->signer, repo, &oid, o,
						   tmp.ptr)) < 0)
			goto done;
	}
	if ((error = checkout(repo, &oid)) < 0)
		goto done;
	error = join_subpath(&r->dir, git_repository_workdir(repo), o->subpath);
done:
	git_repository_free(repo);
	if (lock_fd >= 0)
		close(lock_fd); /* releases the flock */
	util_buf_release(&cache);
	util_buf_release(&path);
	util_buf_release(&head);
	util_buf_release(&tmp);
	return error;
}

int source_resolve(source_result **out, const source_opts *o)
{
	source_result *r;
	int error;

	*out = NULL;
	if (!o->url && !o->dir)
		return util_error_set(CERTOPS_EINVALID, "no source given");
	r = calloc(1, sizeof(*r));
	if (!r)
		return util_error_oom();
	if (!o->url) {
		if (o->require_signed) {
			error = util_error_set(CERTOPS_EINVALID,
					       "--require-signed needs a Git source (--repo)");
			goto done;
		}
		error = join_subpath(&r->dir, o->dir, o->subpath);
		goto done;
	}
	if ((error = source_global_init()) < 0)
		goto done;
	if (!(r->url = display_url(o->url))) {
		error = util_error_oom();
		goto done;
	}
	error = resolve_remote(r, o);
	/* From here on every log line names the commit (util_log_context_set). */
	if (!error && util_log_context_set("commit", r->commit) < 0)
		error = util_error_oom();
	if (!error)
		util_log_info("source", "%s at %s%s%s", r->url, r->commit,
			      r->ref ? " " : "", r->ref ? r->ref : "");
done:
	if (error < 0)
		source_result_free(r);
	else
		*out = r;
	return error;
}
