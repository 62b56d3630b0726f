/*
 * http-01 through a webroot: the key authorization goes to
 * <webroot>/.well-known/acme-challenge/<token>, written atomically (a web
 * server never serves half a file) with mode 0644 so that it can read it.
 * Every file written is remembered and removed by cleanup, and by free for
 * whatever cleanup was not called for, as OpenBSD acme-client does.
 */
#include "challenge/challenge.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/log.h"

typedef struct {
	challenge_solver base;
	char *webroot;
	char *wellknown;   /* <webroot>/.well-known */
	char *dir;         /* <webroot>/.well-known/acme-challenge */
	int made_wellknown, made_dir; /* created by us: removed when empty */
	pthread_mutex_t mu;
	char **tokens;     /* presented, not yet cleaned up */
	size_t ntokens, alloc;
} webroot_solver;

/* Creates one folder 0755 unless it exists; *made says whether we did. */
static int make_dir(const char *path, int *made)
{
	struct stat sb;

	if (mkdir(path, 0755) == 0) {
		*made = 1;
		/* the umask may have narrowed it; the web server must traverse it */
		if (chmod(path, 0755) < 0)
			return util_error_set_errno(CERTOPS_ERROR, "setting the mode of '%s'", path);
		return 0;
	}
	if (errno == EEXIST && stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
		return 0;
	return util_error_set_errno(CERTOPS_ERROR, "creating '%s'", path);
}

static int token_path(util_buf *out, webroot_solver *w, const char *token)
{
	util_fs_join(out, w->dir, token);
	return util_buf_failed(out) ? util_error_oom() : 0;
}

static int webroot_present(challenge_solver *s, const char *token,
			   const char *key_authorization, const char *identifier)
{
	webroot_solver *w = (webroot_solver *)s;
	util_buf path = UTIL_BUF_INIT;
	char *copy = NULL;
	size_t i;
	int error;

	pthread_mutex_lock(&w->mu);
	if ((error = make_dir(w->wellknown, &w->made_wellknown)) < 0 ||
	    (error = make_dir(w->dir, &w->made_dir)) < 0 ||
	    (error = token_path(&path, w, token)) < 0)
		goto done;
	for (i = 0; i < w->ntokens; i++)
		if (!strcmp(w->tokens[i], token))
			break;
	if (i == w->ntokens) {
		if (w->ntokens == w->alloc) {
			size_t na = w->alloc ? w->alloc * 2 : 8;
			char **nt = realloc(w->tokens, na * sizeof(*nt));
			if (!nt) {
				error = util_error_oom();
				goto done;
			}
			w->tokens = nt;
			w->alloc = na;
		}
		if (!(copy = strdup(token))) {
			error = util_error_oom();
			goto done;
		}
	}
	/* remember it before writing: free removes it even if a write half-fails */
	if (copy) {
		w->tokens[w->ntokens++] = copy;
		copy = NULL;
	}
	if ((error = util_fs_write_atomic(path.ptr, key_authorization,
					  strlen(key_authorization), 0644)) < 0) {
		error = util_error_wrap("http-01 webroot for '%s'",
					identifier ? identifier : "?");
		goto done;
	}
	util_log_debug("challenge", "http-01 token for '%s' written to '%s'",
		       identifier ? identifier : "?", path.ptr);
done:
	pthread_mutex_unlock(&w->mu);
	free(copy);
	util_buf_release(&path);
	return error;
}

/* Removes one token's file; the caller holds the mutex. */
static int remove_token(webroot_solver *w, const char *token)
{
	util_buf path = UTIL_BUF_INIT;
	size_t i;
	int error;

	if ((error = token_path(&path, w, token)) < 0)
		goto done;
	if (unlink(path.ptr) < 0 && errno != ENOENT)
		error = util_error_set_errno(CERTOPS_ERROR, "removing '%s'", path.ptr);
	for (i = 0; i < w->ntokens; i++) {
		if (!strcmp(w->tokens[i], token)) {
			free(w->tokens[i]);
			w->tokens[i] = w->tokens[--w->ntokens];
			break;
		}
	}
done:
	util_buf_release(&path);
	return error;
}

/* Removes the folders we created once nothing of ours is left in them. */
static void remove_dirs(webroot_solver *w)
{
	if (w->ntokens)
		return;
	/* rmdir fails harmlessly when someone else put files there */
	if (w->made_dir && rmdir(w->dir) == 0)
		w->made_dir = 0;
	if (w->made_wellknown && !w->made_dir && rmdir(w->wellknown) == 0)
		w->made_wellknown = 0;
}

static int webroot_cleanup(challenge_solver *s, const char *token,
			   const char *key_authorization, const char *identifier)
{
	webroot_solver *w = (webroot_solver *)s;
	int error;

	(void)key_authorization;
	(void)identifier;
	pthread_mutex_lock(&w->mu);
	error = remove_token(w, token);
	remove_dirs(w);
	pthread_mutex_unlock(&w->mu);
	return error;
}

static void webroot_free(challenge_solver *s)
{
	webroot_solver *w = (webroot_solver *)s;

	pthread_mutex_lock(&w->mu);
	while (w->ntokens) {
		if (remove_token(w, w->tokens[w->ntokens - 1]) < 0) {
			/* nothing to return an error to: say it, and move on */
			util_log_warn("challenge", "%s", util_error_message());
			free(w->tokens[--w->ntokens]);
		}
	}
	remove_dirs(w);
	pthread_mutex_unlock(&w->mu);
	pthread_mutex_destroy(&w->mu);
	free(w->tokens);
	free(w->webroot);
	free(w->wellknown);
	free(w->dir);
	free(w);
}

static const challenge_ops webroot_ops = {
	"http-01", "webroot", webroot_present, webroot_cleanup, webroot_free
};

int challenge_http01_webroot_new(challenge_solver **out, const char *webroot)
{
	util_buf a = UTIL_BUF_INIT, b = UTIL_BUF_INIT;
	webroot_solver *w;
	struct stat sb;

	*out = NULL;
	if (!webroot || !*webroot)
		return util_error_set(CERTOPS_EINVALID, "http-01 webroot is empty");
	if (stat(webroot, &sb) < 0)
		return util_error_set_errno(CERTOPS_EINVALID, "http-01 webroot '%s'", webroot);
	if (!S_ISDIR(sb.st_mode))
		return util_error_set(CERTOPS_EINVALID,
			"http-01 webroot '%s' is not a directory", webroot);
	if (!(w = calloc(1, sizeof(*w))))
		return util_error_oom();
	util_fs_join(&a, webroot, ".well-known");
	util_fs_join(&b, webroot, ".well-known/acme-challenge");
	w->webroot = strdup(webroot);
	w->wellknown = util_buf_detach(&a);
	w->dir = util_buf_detach(&b);
	if (!w->webroot || !w->wellknown || !w->dir) {
		free(w->webroot);
		free(w->wellknown);
		free(w->dir);
		free(w);
		return util_error_oom();
	}
	pthread_mutex_init(&w->mu, NULL);
	w->base.ops = &webroot_ops;
	*out = &w->base;
	return 0;
}
