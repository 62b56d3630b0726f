/*
 * Hook runner: the hook's clean environment and its policy check, over
 * the process runner of lib/util/proc.c (own process group, deadline,
 * bounded capture).  See exec_run.h.
 */
#include <stdlib.h>
#include <string.h>

#include "target/exec_run.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/proc.h"

#define EXEC_DEFAULT_TIMEOUT_MS 60000

static int env_add(char ***env, size_t *n, const char *name, const char *value)
{
	util_buf b = UTIL_BUF_INIT;
	char **grown;

	if (!value)
		return 0;
	util_buf_printf(&b, "%s=%s", name, value);
	if (util_buf_failed(&b) || !(grown = realloc(*env, (*n + 2) * sizeof(char *)))) {
		util_buf_release(&b);
		return util_error_oom();
	}
	*env = grown;
	grown[(*n)++] = util_buf_detach(&b);
	grown[*n] = NULL;
	return 0;
}

int target_exec_env_build(char ***out, const target_exec_vars *v)
{
	char **env = NULL;
	size_t n = 0, i;
	util_buf domains = UTIL_BUF_INIT;
	int error;

	if ((error = env_add(&env, &n, "PATH", TARGET_EXEC_PATH)) < 0)
		goto done;
	if (v) {
		for (i = 0; i < v->ndomains; i++) {
			if (i)
				util_buf_putc(&domains, ' ');
			util_buf_puts(&domains, v->domains[i]);
		}
		if (util_buf_failed(&domains)) {
			error = util_error_oom();
			goto done;
		}
		if ((error = env_add(&env, &n, "CERTOPS_CERT_NAME", v->cert_name)) < 0 ||
		    (error = env_add(&env, &n, "CERTOPS_CERT_PATH", v->cert_path)) < 0 ||
		    (error = env_add(&env, &n, "CERTOPS_KEY_PATH", v->key_path)) < 0 ||
		    (error = env_add(&env, &n, "CERTOPS_CHAIN_PATH", v->chain_path)) < 0 ||
		    (error = env_add(&env, &n, "CERTOPS_FULLCHAIN_PATH", v->fullchain_path)) < 0 ||
		    (error = env_add(&env, &n, "CERTOPS_FINGERPRINT", v->fingerprint)) < 0 ||
		    (error = env_add(&env, &n, "CERTOPS_NOT_AFTER", v->not_after)) < 0 ||
		    (error = env_add(&env, &n, "CERTOPS_DOMAINS",
				     v->ndomains ? domains.ptr : NULL)) < 0)
			goto done;
	}
	*out = env;
	env = NULL;
done:
	util_buf_release(&domains);
	target_exec_env_free(env);
	return error;
}

void target_exec_env_free(char **env)
{
	size_t i;

	for (i = 0; env && env[i]; i++)
		free(env[i]);
	free(env);
}

int target_exec_argv(const char ***out, const config_strings *command)
{
	const char **argv = calloc(command->count + 1, sizeof(char *));
	size_t i;

	if (!argv)
		return util_error_oom();
	for (i = 0; i < command->count; i++)
		argv[i] = command->items[i].value;
	*out = argv;
	return 0;
}

void target_exec_format_argv(util_buf *out, const char *const *argv, size_t argc)
{
	util_proc_format_argv(out, argv, argc);
}

int target_exec_check_policy(const config_policy *p, const config_strings *command)
{
	util_buf line = UTIL_BUF_INIT;
	const char **argv = NULL;
	int error;

	if (config_policy_allows_exec(p, command))
		return 0;
	if ((error = target_exec_argv(&argv, command)) < 0)
		return error;
	target_exec_format_argv(&line, argv, command->count);
	error = util_error_set(CERTOPS_EPOLICY,
			       "the local policy (%s) does not allow running '%s'",
			       config_policy_source(p), line.ptr);
	util_buf_release(&line);
	free(argv);
	return error;
}

static void log_result(const target_exec_opts *o, const char *line,
		       const target_exec_result *res, int ok)
{
	util_buf code = UTIL_BUF_INIT;
	util_log_field f[4];
	size_t n = 0;

	if (res->exited)
		util_buf_printf(&code, "%d", res->exit_code);
	else
		util_buf_printf(&code, "signal %d", res->signal);
	f[n++] = (util_log_field){ "command", line };
	f[n++] = (util_log_field){ "exit", code.ptr };
	if (res->out.size)
		f[n++] = (util_log_field){ "stdout", res->out.ptr };
	if (res->err.size)
		f[n++] = (util_log_field){ "stderr", res->err.ptr };
	util_log_fields(ok ? UTIL_LOG_INFO : UTIL_LOG_WARN,
			o->log_component ? o->log_component : "exec", f, n,
			ok ? "command succeeded" : "command failed");
	util_buf_release(&code);
}

int target_exec_run(target_exec_result *res, const target_exec_opts *o)
{
	util_proc_opts po = {
		.argv = o->argv, .argc = o->argc, .path = TARGET_EXEC_PATH,
		.timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : EXEC_DEFAULT_TIMEOUT_MS,
		.grace_ms = o->grace_ms > 0 ? o->grace_ms : TARGET_EXEC_GRACE_MS,
		.output_limit = o->output_limit ? o->output_limit : TARGET_EXEC_OUTPUT_LIMIT,
	};
	util_buf line = UTIL_BUF_INIT;
	char **env = NULL;
	int error;

	memset(res, 0, sizeof(*res));
	util_buf_init(&res->out);
	util_buf_init(&res->err);
	if ((error = target_exec_env_build(&env, o->vars)) < 0)
		return error;
	po.env = env;
	error = util_proc_run(res, &po);
	/* a run that could not start has nothing to log */
	if (error == 0 || error == CERTOPS_ETIMEOUT) {
		util_proc_format_argv(&line, o->argv, o->argc);
		log_result(o, line.ptr, res,
			   !res->timed_out && res->exited && res->exit_code == 0);
		if (error == 0)
			error = util_proc_result_check(res, &po);
	}
	util_buf_release(&line);
	target_exec_env_free(env);
	return error;
}

void target_exec_result_release(target_exec_result *res)
{
	util_proc_result_release(res);
}
