/*
 * The target table and what the kinds share: drift lists, chain parts,
 * the write check on real locations.
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

int target_observe(target_drifts *drifts, const target_env *env,
		   const config_target *t, const target_material *m)
{
	const target_ops *ops;
	int error;

	if ((error = get_ops(&ops, t)) < 0)
		return error;
	return ops->observe(drifts, env, t, m);
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

int target_drifts_add(target_drifts *d, const char *path, const char *fmt, ...)
{
	util_buf what = UTIL_BUF_INIT;
	target_drift *items;
	va_list ap;

	va_start(ap, fmt);
	util_buf_vprintf(&what, fmt, ap);
	va_end(ap);
	items = realloc(d->items, (d->count + 1) * sizeof(*items));
	if (!items || util_buf_failed(&what)) {
		if (items)
			d->items = items;
		util_buf_free(&what);
		return util_error_set(CERTOPS_ENOMEM, "out of memory");
	}
	d->items = items;
	items[d->count].path = strdup(path);
	items[d->count].what = util_buf_detach(&what);
	if (!items[d->count].path || !items[d->count].what) {
		free(items[d->count].path);
		free(items[d->count].what);
		return util_error_set(CERTOPS_ENOMEM, "out of memory");
	}
	d->count++;
	return 0;
}

void target_drifts_clear(target_drifts *d)
{
	size_t i;

	for (i = 0; i < d->count; i++) {
		free(d->items[i].path);
		free(d->items[i].what);
	}
	free(d->items);
	d->items = NULL;
	d->count = 0;
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
			error = util_error_set(CERTOPS_ENOMEM, "out of memory");
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
		error = util_error_set(CERTOPS_ENOMEM, "out of memory");
done:
	free(real);
	util_buf_free(&head);
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
	util_buf_free(&real);
	return error;
}
