/*
 * Commit signature checks.  The cryptography is left to the tools that own
 * the formats: `ssh-keygen -Y` for SSH signatures (git's gpg.format=ssh) and
 * `gpg --verify` for OpenPGP, each run as an argv (never a shell) on the
 * signature and the signed payload that libgit2 extracts from the commit.
 */
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "source/internal.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/proc.h"

/* gpg and ssh-keygen answer in milliseconds; one that hangs (a gpg
 * waiting for an agent, a keyring on a dead NFS mount) must not hold the
 * state lock forever. */
#define SOURCE_RUN_TIMEOUT_MS 30000

int source__run(util_buf *output, const char *const argv[],
		const char *stdin_path)
{
	/* The tools get PATH (where they are found) and nothing else of our
	 * environment: no git tokens, no Vault tokens. */
	const char *path = getenv("PATH");
	util_buf path_var = UTIL_BUF_INIT;
	char *env[2] = { NULL, NULL };
	util_proc_opts o = { .argv = argv, .stdin_path = stdin_path,
			     .timeout_ms = SOURCE_RUN_TIMEOUT_MS,
			     .merge_stderr = 1 };
	util_proc_result res;
	int error;

	while (argv[o.argc])
		o.argc++;
	o.path = path && *path ? path : UTIL_PROC_PATH;
	util_buf_printf(&path_var, "PATH=%s", o.path);
	if (util_buf_failed(&path_var))
		return util_error_oom();
	env[0] = path_var.ptr;
	o.env = env;
	error = util_proc_run(&res, &o);
	if (error == CERTOPS_ENOTFOUND)
		error = util_error_set(CERTOPS_ERROR, "could not run '%s' (is it installed?)",
				       argv[0]);
	else if (error == 0 && !res.exited)
		error = util_error_set(CERTOPS_ERROR, "'%s' was killed by signal %d",
				       argv[0], res.signal);
	else if (error == 0)
		error = res.exit_code;
	if (output && util_buf_put(output, res.out.ptr, res.out.size) < 0 && error >= 0)
		error = util_error_oom();
	util_proc_result_release(&res);
	util_buf_release(&path_var);
	return error;
}

/* The first line of s, for messages (tools print several). */
static void first_line(util_buf *out, const char *s)
{
	size_t len = strcspn(s, "\n");

	util_buf_put(out, s, len);
}

static int verify_ssh(char **signer, const char *hex, const char *sig_path,
		      const char *data_path, const char *allowed)
{
	util_buf outp = UTIL_BUF_INIT, principal = UTIL_BUF_INIT;
	int error, st;

	if (!allowed) {
		error = util_error_set(CERTOPS_EAUTH,
				       "commit %s has an SSH signature but no "
				       "--allowed-signers file was given", hex);
		goto done;
	}
	{
		/* Which allowed principal made this signature, if any. */
		const char *argv[] = { "ssh-keygen", "-Y", "find-principals",
			"-f", allowed, "-s", sig_path, NULL };

		st = source__run(&outp, argv, NULL);
	}
	if (st < 0) {
		error = st;
		goto done;
	}
	if (st != 0 || !outp.size) {
		error = util_error_set(CERTOPS_EAUTH,
				       "commit %s is signed by a key that is not "
				       "in the allowed signers '%s'", hex, allowed);
		goto done;
	}
	first_line(&principal, outp.ptr);
	util_buf_clear(&outp);
	{
		/* Then the signature itself, over the payload, for that
		 * principal and git's namespace. */
		const char *argv[] = { "ssh-keygen", "-Y", "verify", "-f",
			allowed, "-I", principal.ptr, "-n", "git", "-s",
			sig_path, NULL };

		st = source__run(&outp, argv, data_path);
	}
	if (st < 0) {
		error = st;
		goto done;
	}
	if (st != 0) {
		util_buf msg = UTIL_BUF_INIT;

		first_line(&msg, outp.ptr);
		error = util_error_set(CERTOPS_EAUTH,
				       "commit %s: bad SSH signature for '%s': %s",
				       hex, principal.ptr, msg.ptr);
		util_buf_release(&msg);
		goto done;
	}
	*signer = util_buf_detach(&principal);
	error = *signer ? 0 : util_error_oom();
done:
	util_buf_release(&outp);
	util_buf_release(&principal);
	return error;
}

static int remove_entry(const char *path, const struct stat *st, int flag,
			struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

/* Removes a private scratch tree (gpg's home: keyrings, trustdb, sockets). */
static void remove_tree(const char *dir)
{
	if (nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS) < 0 && errno != ENOENT)
		util_log_warn("source", "could not remove '%s'", dir);
}

static int verify_gpg(char **signer, const char *hex, const char *sig_path,
		      const char *data_path, const char *keyring,
		      const char *tmpdir)
{
	util_buf outp = UTIL_BUF_INIT, home = UTIL_BUF_INIT;
	char keyring_abs[PATH_MAX];
	const char *p;
	int error, st;

	if (!keyring) {
		return util_error_set(CERTOPS_EAUTH,
				      "commit %s has an OpenPGP signature but no "
				      "--gpg-keyring was given", hex);
	}
	/* gpg reads a keyring name without a slash from its home directory:
	 * always give it the absolute path. */
	if (!realpath(keyring, keyring_abs))
		return util_error_set_errno(CERTOPS_EINVALID, "gpg keyring '%s'", keyring);
	/* A private home, so that the user's own keyring and trust settings
	 * never widen the set of accepted keys. */
	util_fs_join(&home, tmpdir, "gnupg");
	if (util_fs_mkdir_p(home.ptr, 0700) < 0) {
		error = CERTOPS_ERROR;
		goto done;
	}
	{
		const char *argv[] = { "gpg", "--batch", "--no-tty",
			"--homedir", home.ptr, "--no-default-keyring",
			"--keyring", keyring_abs, "--trust-model", "always",
			"--status-fd", "1", "--verify", sig_path, "-", NULL };

		st = source__run(&outp, argv, data_path);
	}
	if (st < 0) {
		error = st;
		goto done;
	}
	p = strstr(outp.ptr, "[GNUPG:] VALIDSIG ");
	if (st != 0 || !p || !strstr(outp.ptr, "[GNUPG:] GOODSIG ")) {
		error = util_error_set(CERTOPS_EAUTH,
				       "commit %s is not signed by a key in the "
				       "keyring '%s'", hex, keyring);
		goto done;
	}
	p += strlen("[GNUPG:] VALIDSIG ");
	*signer = strndup(p, strcspn(p, " \n"));
	error = *signer ? 0 : util_error_oom();
done:
	if (home.size)
		remove_tree(home.ptr);
	util_buf_release(&outp);
	util_buf_release(&home);
	return error;
}

int source__verify_commit(char **signer, git_repository *repo,
			  const git_oid *commit, const source_opts *opts,
			  const char *tmpdir)
{
	git_buf sig = { 0 }, data = { 0 };
	util_buf sig_path = UTIL_BUF_INIT, data_path = UTIL_BUF_INIT;
	char hex[GIT_OID_HEXSZ + 1];
	git_oid id = *commit;
	int error;

	*signer = NULL;
	git_oid_tostr(hex, sizeof(hex), commit);
	error = git_commit_extract_signature(&sig, &data, repo, &id, NULL);
	if (error == GIT_ENOTFOUND) {
		error = util_error_set(CERTOPS_EAUTH,
				       "commit %s is not signed (--require-signed)",
				       hex);
		goto done;
	}
	if (error < 0) {
		error = source__git_error(CERTOPS_ERROR, "reading the signature");
		goto done;
	}
	util_fs_join(&sig_path, tmpdir, "commit.sig");
	util_fs_join(&data_path, tmpdir, "commit.payload");
	if (util_buf_failed(&sig_path) || util_buf_failed(&data_path)) {
		error = util_error_oom();
		goto done;
	}
	if ((error = util_fs_write_atomic(sig_path.ptr, sig.ptr, sig.size, 0600)) < 0 ||
	    (error = util_fs_write_atomic(data_path.ptr, data.ptr, data.size, 0600)) < 0)
		goto done;

	if (strstr(sig.ptr, "-----BEGIN SSH SIGNATURE-----"))
		error = verify_ssh(signer, hex, sig_path.ptr, data_path.ptr,
				   opts->allowed_signers);
	else if (strstr(sig.ptr, "-----BEGIN PGP SIGNATURE-----"))
		error = verify_gpg(signer, hex, sig_path.ptr, data_path.ptr,
				   opts->gpg_keyring, tmpdir);
	else
		error = util_error_set(CERTOPS_EAUTH,
				       "commit %s has a signature of an unknown "
				       "format (x509?)", hex);
	if (!error)
		util_log_info("source", "commit %s signed by %s", hex, *signer);
done:
	if (sig_path.size)
		unlink(sig_path.ptr);
	if (data_path.size)
		unlink(data_path.ptr);
	git_buf_dispose(&sig);
	git_buf_dispose(&data);
	util_buf_release(&sig_path);
	util_buf_release(&data_path);
	return error;
}
