/* Secret references for the deploy targets (deploy_internal.h). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/policy.h"
#include "deploy_internal.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/log.h"

int target__secret_read(char **out, const target_env *env, const config_secret *s)
{
	util_buf b = UTIL_BUF_INIT;
	const char *v;
	int error;

	*out = NULL;
	if (s->source == CONFIG_SECRET_NONE)
		return util_error_set(CERTOPS_EINVALID, "no secret given");
	if (!config_policy_allows_secret(env->policy, s))
		return util_error_set_at(CERTOPS_EPOLICY, s->pos.file, s->pos.line, s->pos.column,
					 NULL, "reading secret '%s' is not allowed by the policy (%s)",
					 s->ref, config_policy_source(env->policy));
	if (s->source == CONFIG_SECRET_ENV) {
		if (!(v = getenv(s->ref)) || !*v)
			return util_error_set_at(CERTOPS_ENOTFOUND, s->pos.file, s->pos.line,
						 s->pos.column, NULL,
						 "environment variable '%s' is not set", s->ref);
		util_buf_puts(&b, v);
	} else {
		if ((error = util_fs_read_file(&b, s->ref, 1 << 16)) < 0)
			return error;
		/* a trailing newline is the editor's, not the secret's */
		while (b.size && (b.ptr[b.size - 1] == '\n' || b.ptr[b.size - 1] == '\r'))
			util_buf_truncate(&b, b.size - 1);
	}
	if (util_buf_failed(&b) || util_secret_register(b.ptr) < 0) {
		util_buf_free(&b);
		return util_error_set(CERTOPS_ENOMEM, "out of memory");
	}
	*out = util_buf_detach(&b);
	return *out ? 0 : util_error_set(CERTOPS_ENOMEM, "out of memory");
}

void target__rfc3339(char out[21], time_t t)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
