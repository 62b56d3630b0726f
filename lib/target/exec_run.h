/*
 * Running a deploy hook: an argv (never a shell), allowed by the local
 * policy, in a clean environment, with a deadline, its output captured.
 *
 * Environment: only PATH (TARGET_EXEC_PATH) and the CERTOPS_* variables
 * below that are known; nothing of certops' own environment leaks into a
 * hook (no tokens, no passwords).  The variables (docs/targets-deploy.md):
 *   CERTOPS_CERT_NAME       the Certificate's name
 *   CERTOPS_CERT_PATH       deployed files, when a files target wrote them
 *   CERTOPS_KEY_PATH
 *   CERTOPS_CHAIN_PATH
 *   CERTOPS_FULLCHAIN_PATH
 *   CERTOPS_FINGERPRINT     SHA-256 of the leaf DER, lowercase hex
 *   CERTOPS_NOT_AFTER       RFC 3339 UTC ("2026-12-01T10:00:00Z")
 *   CERTOPS_DOMAINS         the names, separated by one space
 *
 * The running itself is util_proc_run (util/proc.h).  The hook runs in
 * its own process group.  At the deadline the group gets
 * SIGTERM, and SIGKILL after a grace period, so a hook that forked (a
 * shell script running `sleep`) leaves nothing behind.  stdout and stderr
 * are each kept up to a bound (the rest counted and dropped) and logged,
 * through the log's redaction.
 */
#ifndef CERTOPS_TARGET_EXEC_RUN_H
#define CERTOPS_TARGET_EXEC_RUN_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "config/policy.h"
#include "target/target.h"
#include "util/buf.h"
#include "util/proc.h"

#define TARGET_EXEC_PATH UTIL_PROC_PATH
#define TARGET_EXEC_OUTPUT_LIMIT (64 * 1024)
#define TARGET_EXEC_GRACE_MS 2000

/* The documented variables; NULL fields are not set. */
typedef struct {
	const char *cert_name;
	const char *cert_path, *key_path, *chain_path, *fullchain_path;
	const char *fingerprint;
	const char *not_after;
	const char *const *domains;
	size_t ndomains;
} target_exec_vars;

typedef struct {
	const char *const *argv;  /* argv[0] a path or a name found in PATH */
	size_t argc;
	const target_exec_vars *vars; /* may be NULL */
	int64_t timeout_ms;       /* 0: 60 s */
	int64_t grace_ms;         /* 0: TARGET_EXEC_GRACE_MS */
	size_t output_limit;      /* per stream; 0: TARGET_EXEC_OUTPUT_LIMIT */
	const char *log_component;/* NULL: "exec" */
} target_exec_opts;

/* The process runner's result (util/proc.h): exit, signal, output. */
typedef util_proc_result target_exec_result;

/*
 * Runs the command to completion (or its deadline) and fills *res, which
 * the caller releases with target_exec_result_release (also on failure).
 * Returns 0 when it exited with 0; otherwise the error is set with the
 * command, the exit code or signal, and the tail of its stderr:
 * CERTOPS_ETIMEOUT at the deadline, CERTOPS_ENOTFOUND when the program
 * was not found, CERTOPS_ERROR for a failed run.
 */
int target_exec_run(target_exec_result *res, const target_exec_opts *opts);
void target_exec_result_release(target_exec_result *res);

/*
 * Builds the environment of a hook ("NAME=value" strings, NULL-terminated)
 * into *out, which the caller frees with target_exec_env_free.
 */
int target_exec_env_build(char ***out, const target_exec_vars *vars);
void target_exec_env_free(char **env);

/* The argv of a declaration as an array of borrowed strings (*out the
 * caller's to free(); the strings stay the set's). */
int target_exec_argv(const char ***out, const config_strings *command);

/*
 * CERTOPS_EPOLICY (error set, naming the command and the policy source)
 * when policy p does not allow command; 0 when it does.
 */
int target_exec_check_policy(const config_policy *p,
			     const config_strings *command);

/*
 * Runs an exec target (t->exec: command, timeout) for material m, after
 * the policy check.  The variables come from m (name, fingerprint; the
 * leaf's not-after and names) and, when cert is not NULL, the paths from
 * cert's first files target.  The ops table's deploy calls this with cert
 * NULL (target_material carries no certificate); an executor that has the
 * certificate at hand calls it directly to give hooks the paths.
 */
int target_exec_deploy_cert(const target_env *env, const config_target *t,
			    const target_material *m,
			    const config_certificate *cert);

/* Appends the command as one readable line, words with spaces quoted. */
void target_exec_format_argv(util_buf *out, const char *const *argv,
			     size_t argc);

#endif
