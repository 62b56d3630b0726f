#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "source/source.h"
#include "state/state.h"
#include "util/error.h"
#include "util/fs.h"

static char dir[64];

static int setup(void **vs)
{
	(void)vs;
	snprintf(dir, sizeof(dir), "/tmp/certops-source-test.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **vs)
{
	util_buf cmd = UTIL_BUF_INIT;
	int rc;

	(void)vs;
	util_buf_printf(&cmd, "rm -rf '%s'", dir);
	rc = system(cmd.ptr);
	util_buf_release(&cmd);
	return rc == 0 ? 0 : -1;
}

static void url_or_directory(void **vs)
{
	(void)vs;
	assert_true(source_is_url("file:///srv/repo.git"));
	assert_true(source_is_url("https://git.example.com/ops/certs.git"));
	assert_true(source_is_url("ssh://git@git.example.com:2222/ops/certs.git"));
	assert_true(source_is_url("git@github.com:ops/certs.git"));
	assert_false(source_is_url("/srv/declarations"));
	assert_false(source_is_url("declarations"));
	assert_false(source_is_url("./a:b"));
	assert_false(source_is_url(":nohost"));
}

/* The rollback guard and the cache need the store; the cache is its own. */
static void git_source_uses_the_state_store(void **vs)
{
	source_opts o = { 0 };
	source_result *r = NULL;
	util_buf path = UTIL_BUF_INIT;
	state *st = NULL;
	struct stat sb;

	(void)vs;
	o.url = "https://127.0.0.1:1/ops/certs.git";
	o.ref = "main";
	assert_int_equal(CERTOPS_EINVALID, source_resolve(&r, &o));
	assert_non_null(strstr(util_error_message(), "a Git source needs a state store"));

	util_fs_join(&path, dir, "store");
	assert_int_equal(0, state_open(&st, path.ptr, 0));
	o.st = st;
	/* unreachable, nothing cached: but the cache folder is the store's */
	assert_int_equal(CERTOPS_ENOTFOUND, source_resolve(&r, &o));
	assert_null(r);
	util_buf_clear(&path);
	assert_int_equal(0, state_cache_dir(&path, st, "source"));
	assert_int_equal(0, stat(path.ptr, &sb));
	assert_int_equal(0700, sb.st_mode & 07777);
	state_free(st);
	util_buf_release(&path);
}

static void plain_directory_and_subpaths(void **vs)
{
	util_buf top = UTIL_BUF_INIT, sub = UTIL_BUF_INIT, link = UTIL_BUF_INIT;
	source_opts o = { 0 };
	source_result *r = NULL;

	(void)vs;
	util_fs_join(&top, dir, "decl");
	util_fs_join(&sub, top.ptr, "prod");
	assert_int_equal(0, util_fs_mkdir_p(sub.ptr, 0700));
	util_fs_join(&link, top.ptr, "escape");
	assert_int_equal(0, symlink("/etc", link.ptr));

	o.dir = top.ptr;
	assert_int_equal(0, source_resolve(&r, &o));
	assert_string_equal(top.ptr, r->dir);
	assert_string_equal("", r->commit);
	assert_null(r->url);
	assert_int_equal(0, r->offline);
	source_result_free(r);

	o.subpath = "prod";
	assert_int_equal(0, source_resolve(&r, &o));
	assert_string_equal(sub.ptr, r->dir);
	source_result_free(r);

	o.subpath = "../decl";
	assert_int_equal(CERTOPS_EINVALID, source_resolve(&r, &o));
	assert_null(r);
	o.subpath = "prod/../..";
	assert_int_equal(CERTOPS_EINVALID, source_resolve(&r, &o));
	o.subpath = "/etc";
	assert_int_equal(CERTOPS_EINVALID, source_resolve(&r, &o));
	o.subpath = "missing";
	assert_int_equal(CERTOPS_EINVALID, source_resolve(&r, &o));
	assert_non_null(strstr(util_error_message(), "'missing' is not a directory"));
	/* A symlink may not lead the loader out of the tree. */
	o.subpath = "escape";
	assert_int_equal(CERTOPS_EINVALID, source_resolve(&r, &o));
	assert_non_null(strstr(util_error_message(), "leads outside the repository"));

	/* Signatures only make sense for Git. */
	o.subpath = NULL;
	o.require_signed = 1;
	assert_int_equal(CERTOPS_EINVALID, source_resolve(&r, &o));

	/* Nothing at all, and a URL without a state directory. */
	memset(&o, 0, sizeof(o));
	assert_int_equal(CERTOPS_EINVALID, source_resolve(&r, &o));
	o.url = "file:///nowhere.git";
	assert_int_equal(CERTOPS_EINVALID, source_resolve(&r, &o));
	util_buf_release(&top);
	util_buf_release(&sub);
	util_buf_release(&link);
}

static void url_passwords_are_never_shown(void **vs)
{
	source_opts o = { 0 };
	source_result *r = NULL;
	util_buf path = UTIL_BUF_INIT;
	state *st = NULL;
	int error;

	(void)vs;
	util_fs_join(&path, dir, "store-pw");
	assert_int_equal(0, state_open(&st, path.ptr, 0));
	util_buf_release(&path);
	/* Port 1 on loopback: refused at once; nothing is cached either. */
	o.url = "https://ci-token:s3cr3t-t0ken@127.0.0.1:1/ops/certs.git";
	o.st = st;
	o.ref = "main";
	error = source_resolve(&r, &o);
	assert_int_equal(CERTOPS_ENOTFOUND, error);
	assert_null(r);
	assert_non_null(strstr(util_error_message(),
			       "https://ci-token:[redacted]@127.0.0.1:1/ops/certs.git"));
	assert_null(strstr(util_error_message(), "s3cr3t-t0ken"));
	state_free(st);
}

static void saved_plan_commit_check(void **vs)
{
	source_result r = { 0 };
	const char *a = "0123456789abcdef0123456789abcdef01234567";
	const char *b = "89abcdef0123456789abcdef0123456789abcdef";

	(void)vs;
	memcpy(r.commit, a, sizeof(r.commit));
	assert_int_equal(0, source_check_commit(&r, a, 0));
	assert_int_equal(CERTOPS_ESTALE, source_check_commit(&r, b, 0));
	assert_non_null(strstr(util_error_message(), "the plan was made at commit "
			       "89abcdef0123456789abcdef0123456789abcdef; the source is now "
			       "at 0123456789abcdef0123456789abcdef01234567"));
	assert_int_equal(0, source_check_commit(&r, b, 1));
	/* A plan from a directory, applied against Git, and the reverse. */
	assert_int_equal(CERTOPS_ESTALE, source_check_commit(&r, NULL, 0));
	r.commit[0] = '\0';
	assert_int_equal(0, source_check_commit(&r, "", 0));
	assert_int_equal(CERTOPS_ESTALE, source_check_commit(&r, a, 0));
}

static void init_is_idempotent(void **vs)
{
	(void)vs;
	assert_int_equal(0, source_global_init());
	assert_int_equal(0, source_global_init());
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(url_or_directory),
		cmocka_unit_test(git_source_uses_the_state_store),
		cmocka_unit_test(plain_directory_and_subpaths),
		cmocka_unit_test(url_passwords_are_never_shown),
		cmocka_unit_test(saved_plan_commit_check),
		cmocka_unit_test(init_is_idempotent),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
