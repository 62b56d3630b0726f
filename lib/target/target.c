/*
 * The target table and what the kinds share: observations and their
 * drift text, the write check on real locations.
 */
#include "target/target.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "deploy_internal.h"
#include "target_internal.h"
#include "util/error.h"

/* Indexed by config_target_type (docs/targets.md, "Adding a target"). */
static const target_ops *const table[CONFIG_TARGET__COUNT] = {
	[CONFIG_TARGET_FILES] = &target__files_ops,
	[CONFIG_TARGET_PKCS12] = &target__pkcs12_ops,
	[CONFIG_TARGET_EXEC] = &target__exec_ops,
	[CONFIG_TARGET_VAULT] = &target__vault_ops,
};

const target_ops *target_ops_for(config_target_type type)
{
	if ((unsigned)type >= CONFIG_TARGET__COUNT)
		return NULL;
	return table[type];
}

static int get_ops(const target_ops **out, const config_target *t)
{
	if (!(*out = target_ops_for(t->type)))
		return util_error_set(CERTOPS_EINVALID,
				      "the '%s' target is not built yet",
				      config_target_type_name(t->type));
	return 0;
}

int target_describe(util_buf *out, const config_target *t)
{
	const target_ops *ops;
	int error;

	if ((error = get_ops(&ops, t)) < 0)
		return error;
	return ops->describe(out, t);
}

int target_observe(target_observation *out, const target_env *env,
		   const config_target *t, const target_material *m)
{
	static const target_observation init = TARGET_OBSERVATION_INIT;
	const target_ops *ops;
	int error;

	*out = init;
	if ((error = get_ops(&ops, t)) < 0)
		return error;
	if ((error = ops->observe(out, env, t, m)) < 0 && error != CERTOPS_ENOMEM) {
		/* the check itself could not run: an observation error */
		free(out->error);
		if (!(out->error = strdup(util_error_message())))
			error = util_error_oom();
		else
			error = 0;
		out->present = TARGET_PRESENT_UNKNOWN;
		util_error_clear();
	}
	return error;
}

int target_deploy(const target_env *env, const config_target *t,
		  const target_material *m)
{
	const target_ops *ops;
	int error;

	if ((error = get_ops(&ops, t)) < 0)
		return error;
	return ops->deploy(env, t, m);
}

int target_observe_needs_key(const config_target *t)
{
	const target_ops *ops = target_ops_for(t->type);

	return ops && ops->observe_needs_key && ops->observe_needs_key(t);
}

void target_observation_clear(target_observation *o)
{
	static const target_observation init = TARGET_OBSERVATION_INIT;
	size_t i;

	if (!o)
		return;
	free(o->fingerprint);
	free(o->drift);
	for (i = 0; i < o->nfiles; i++) {
		free(o->files[i].path);
		free(o->files[i].fingerprint);
		free(o->files[i].error);
	}
	free(o->files);
	free(o->owner_error);
	free(o->error);
	*o = init;
}

int target__drift_add(target_observation *o, const char *where, const char *fmt, ...)
{
	util_buf b = UTIL_BUF_INIT;
	va_list ap;

	if (o->drift)
		util_buf_printf(&b, "%s; ", o->drift);
	util_buf_printf(&b, "%s: ", where);
	va_start(ap, fmt);
	util_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	if (util_buf_failed(&b))
		return util_error_oom();
	free(o->drift);
	if (!(o->drift = util_buf_detach(&b)))
		return util_error_oom();
	return 0;
}

int target__real_path(util_buf *out, const char *path)
{
	util_buf head = UTIL_BUF_INIT;
	char *real = NULL;
	const char *rest;
	size_t len = strlen(path);
	int error = 0;

	/*
	 * Walk up to the nearest existing ancestor: what does not exist yet
	 * cannot be a symlink (we create it as a directory or file).
	 */
	util_buf_put(&head, path, len);
	for (;;) {
		if (util_buf_failed(&head)) {
			error = util_error_oom();
			goto done;
		}
		if ((real = realpath(head.ptr, NULL)))
			break;
		if (errno != ENOENT) {
			error = util_error_set_errno(CERTOPS_ERROR,
						     "resolving '%s'", head.ptr);
			goto done;
		}
		char *slash = strrchr(head.ptr, '/');
		if (!slash || slash == head.ptr) {
			util_buf_clear(&head);
			util_buf_puts(&head, "/");
		} else {
			util_buf_truncate(&head, (size_t)(slash - head.ptr));
		}
	}
	rest = path + (strcmp(head.ptr, "/") ? head.size : 0);
	util_buf_puts(out, real);
	if (*rest) {
		if (strcmp(real, "/") == 0 && rest[0] == '/')
			rest++;
		else if (rest[0] != '/')
			util_buf_putc(out, '/');
		util_buf_puts(out, rest);
	}
	if (util_buf_failed(out))
		error = util_error_oom();
done:
	free(real);
	util_buf_release(&head);
	return error;
}

int target__check_write(util_buf *real_out, const target_env *env,
			const char *path)
{
	util_buf real = UTIL_BUF_INIT;
	int error;

	if (!config_policy_allows_write(env->policy, path)) {
		error = util_error_set(CERTOPS_EPOLICY,
				       "writing '%s' is not allowed by the policy (%s)",
				       path, config_policy_source(env->policy));
		goto done;
	}
	if ((error = target__real_path(&real, path)) < 0)
		goto done;
	if (!config_policy_allows_write(env->policy, real.ptr)) {
		error = util_error_set(CERTOPS_EPOLICY,
				       "'%s' leads through a symlink to '%s', outside the write roots of the policy (%s)",
				       path, real.ptr, config_policy_source(env->policy));
		goto done;
	}
	if (real_out)
		util_buf_puts(real_out, real.ptr);
done:
	util_buf_release(&real);
	return error;
}
