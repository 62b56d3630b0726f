/*
 * Reading a secret reference ({env: NAME} or {file: PATH}) at apply time,
 * under the local policy: the one reader for every secret certops uses
 * (EAB keys, Vault tokens, PKCS#12 passwords).  See config/policy.h.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "config/policy.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/log.h"

/* A secret file is a key or a token, never more than this. */
#define SECRET_FILE_MAX (1 << 16)

static int refused(const config_policy *p, const config_secret *s)
{
	return util_error_set_at(CERTOPS_EPOLICY, s->pos.file, s->pos.line, s->pos.column,
				 NULL, "reading secret '%s' is not allowed by the policy (%s)",
				 s->ref, config_policy_source(p));
}

static int read_file(util_buf *b, const config_policy *p, const config_secret *s)
{
	config_secret real = *s;
	char resolved[PATH_MAX];
	int error;

	/* The policy names places: a symlink in an allowed directory must not
	 * lead the read elsewhere (to /etc/shadow, to another team's key). */
	if (!realpath(s->ref, resolved)) {
		if (errno == ENOENT || errno == ENOTDIR)
			return util_error_set_at(CERTOPS_ENOTFOUND, s->pos.file, s->pos.line,
						 s->pos.column, NULL,
						 "secret file '%s' does not exist", s->ref);
		return util_error_set_errno(CERTOPS_ERROR, "secret file '%s'", s->ref);
	}
	real.ref = resolved;
	if (strcmp(resolved, s->ref) && !config_policy_allows_secret(p, &real))
		return util_error_set_at(CERTOPS_EPOLICY, s->pos.file, s->pos.line, s->pos.column,
					 NULL, "secret file '%s' resolves to '%s', which the "
					 "policy (%s) does not allow", s->ref, resolved,
					 config_policy_source(p));
	if ((error = util_fs_read_file(b, resolved, SECRET_FILE_MAX)) < 0)
		return error;
	/* a trailing newline is the editor's, not the secret's */
	while (b->size && (b->ptr[b->size - 1] == '\n' || b->ptr[b->size - 1] == '\r'))
		util_buf_truncate(b, b->size - 1);
	return 0;
}

int config_secret_read(char **out, const config_policy *p, const config_secret *s)
{
	util_buf b = UTIL_BUF_INIT;
	const char *v;
	int error;

	*out = NULL;
	if (s->source == CONFIG_SECRET_NONE || !s->ref)
		return util_error_set(CERTOPS_EINVALID, "no secret given");
	if (!config_policy_allows_secret(p, s))
		return refused(p, s);
	if (s->source == CONFIG_SECRET_ENV) {
		if (!(v = getenv(s->ref)) || !*v)
			return util_error_set_at(CERTOPS_ENOTFOUND, s->pos.file, s->pos.line,
						 s->pos.column, NULL,
						 "environment variable '%s' is not set", s->ref);
		util_buf_puts(&b, v);
	} else if ((error = read_file(&b, p, s)) < 0) {
		util_buf_release(&b);
		return error;
	}
	/* Registered before anyone sees it: no message or log line shows it. */
	if (util_buf_failed(&b) || util_secret_register(b.ptr) < 0) {
		util_buf_release(&b);
		return util_error_oom();
	}
	*out = util_buf_detach(&b);
	return *out ? 0 : util_error_oom();
}
