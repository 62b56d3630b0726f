/*
 * The exec target: a hook run after the targets before it in the deploy
 * list (reload a server).  It has no artifact to observe; the planner runs
 * it when what it follows changed, or when a verify probe finds the
 * endpoint stale.  The runner is exec_run.c.
 */
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "deploy_internal.h"
#include "target/exec_run.h"
#include "util/error.h"
#include "util/fs.h"

static int exec_describe(util_buf *out, const config_target *t)
{
	const char **argv = NULL;
	int error;

	if ((error = target_exec_argv(&argv, &t->exec.command)) < 0)
		return error;
	util_buf_puts(out, "exec:");
	target_exec_format_argv(out, argv, t->exec.command.count);
	free(argv);
	return util_buf_failed(out) ? util_error_oom() : 0;
}

/*
 * A hook leaves nothing behind to look at: presence stays unknown, no
 * drift.  The planner decides from the deployment record alone.
 */
static int exec_observe(target_observation *o, const target_env *env, const config_target *t,
			const target_material *m)
{
	(void)env;
	(void)t;
	(void)m;
	o->present = TARGET_PRESENT_UNKNOWN;
	return 0;
}

/* The first files target of cert, or NULL. */
static const config_target *files_of(const config_certificate *cert)
{
	size_t i;

	for (i = 0; cert && i < cert->ndeploy; i++)
		if (cert->deploy[i].type == CONFIG_TARGET_FILES)
			return &cert->deploy[i];
	return NULL;
}

static void join_or_null(util_buf *b, const char *dir, const char *name)
{
	if (name)
		util_fs_join(b, dir, name);
}

int target_exec_deploy_cert(const target_env *env, const config_target *t,
			    const target_material *m, const config_certificate *cert)
{
	const config_target *files = files_of(cert);
	util_buf certp = UTIL_BUF_INIT, keyp = UTIL_BUF_INIT, chainp = UTIL_BUF_INIT,
		 fullp = UTIL_BUF_INIT;
	crypto_cert_info info;
	target_exec_vars vars;
	target_exec_opts o;
	target_exec_result res;
	const char **argv = NULL, **names = NULL;
	char not_after[21];
	size_t i, n = 0;
	int error;

	memset(&info, 0, sizeof(info));
	memset(&vars, 0, sizeof(vars));
	memset(&res, 0, sizeof(res));
	if ((error = target_exec_check_policy(env->policy, &t->exec.command)) < 0 ||
	    (error = target_exec_argv(&argv, &t->exec.command)) < 0)
		goto done;
	vars.cert_name = m->name;
	vars.fingerprint = m->fingerprint;
	if (m->chain_pem && crypto_cert_parse(&info, m->chain_pem, strlen(m->chain_pem)) == 0) {
		target__rfc3339(not_after, info.not_after);
		vars.not_after = not_after;
		if (!(names = calloc(info.ndns + info.nip + 1, sizeof(char *)))) {
			error = util_error_oom();
			goto done;
		}
		for (i = 0; i < info.ndns; i++)
			names[n++] = info.dns_names[i];
		for (i = 0; i < info.nip; i++)
			names[n++] = info.ip_addrs[i];
		vars.domains = names;
		vars.ndomains = n;
	}
	util_error_clear();
	if (files) {
		join_or_null(&certp, files->files.dir, files->files.cert);
		join_or_null(&keyp, files->files.dir, files->files.key);
		join_or_null(&chainp, files->files.dir, files->files.chain);
		join_or_null(&fullp, files->files.dir, files->files.fullchain);
		vars.cert_path = certp.size ? certp.ptr : NULL;
		vars.key_path = keyp.size ? keyp.ptr : NULL;
		vars.chain_path = chainp.size ? chainp.ptr : NULL;
		vars.fullchain_path = fullp.size ? fullp.ptr : NULL;
	}
	memset(&o, 0, sizeof(o));
	o.argv = argv;
	o.argc = t->exec.command.count;
	o.vars = &vars;
	o.timeout_ms = t->exec.timeout > 0 ? t->exec.timeout * 1000 : 0;
	o.log_component = "deploy";
	error = target_exec_run(&res, &o);
done:
	target_exec_result_release(&res);
	crypto_cert_info_release(&info);
	free(names);
	free(argv);
	util_buf_release(&certp);
	util_buf_release(&keyp);
	util_buf_release(&chainp);
	util_buf_release(&fullp);
	return error;
}

static int exec_deploy(const target_env *env, const config_target *t, const target_material *m)
{
	return target_exec_deploy_cert(env, t, m, m->cert);
}

const target_ops target__exec_ops = {
	"exec",
	exec_describe,
	exec_observe,
	exec_deploy,
	NULL,
};
