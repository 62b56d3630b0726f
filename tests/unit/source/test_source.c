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
#include "util/error.h"
#include "util/fs.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/certops-source-test.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	util_buf cmd = UTIL_BUF_INIT;
	int rc;

	(void)state;
	util_buf_printf(&cmd, "rm -rf '%s'", dir);
	rc = system(cmd.ptr);
	util_buf_free(&cmd);
	return rc == 0 ? 0 : -1;
}

static void url_or_directory(void **state)
{
	(void)state;
	assert_true(source_is_url("file:///srv/repo.git"));
	assert_true(source_is_url("https://git.example.com/ops/certs.git"));
	assert_true(source_is_url("ssh://git@git.example.com:2222/ops/certs.git"));
	assert_true(source_is_url("git@github.com:ops/certs.git"));
	assert_false(source_is_url("/srv/declarations"));
	assert_false(source_is_url("declarations"));
	assert_false(source_is_url("./a:b"));
	assert_false(source_is_url(":nohost"));
}

static void record_and_read_last_applied(void **state)
{
	const char *c1 = "0123456789abcdef0123456789abcdef01234567";
	char out[SOURCE_COMMIT_HEXSZ + 1];
	util_buf path = UTIL_BUF_INIT;
	struct stat st;

	(void)state;
	assert_int_equal(CERTOPS_ENOTFOUND, source_last_applied(out, dir));
	assert_string_equal("", out);
	assert_int_equal(0, source_record_applied(dir, c1));
	assert_int_equal(0, source_last_applied(out, dir));
	assert_string_equal(c1, out);
	util_fs_join(&path, dir, "source/last-applied");
	assert_int_equal(0, stat(path.ptr, &st));
	assert_int_equal(0600, st.st_mode & 07777);
	util_buf_clear(&path);
	util_fs_join(&path, dir, "source");
	assert_int_equal(0, stat(path.ptr, &st));
	assert_int_equal(0700, st.st_mode & 07777);
	/* Only full lowercase ids are recorded. */
	assert_int_equal(CERTOPS_EINVALID, source_record_applied(dir, "0123abc"));
	assert_int_equal(CERTOPS_EINVALID,
			 source_record_applied(dir, "0123456789ABCDEF0123456789abcdef01234567"));
	assert_int_equal(CERTOPS_EINVALID, source_record_applied(dir, NULL));
	assert_int_equal(0, source_last_applied(out, dir));
	assert_string_equal(c1, out);
	/* A damaged record is an error naming the file, not "nothing applied". */
	util_buf_clear(&path);
	util_fs_join(&path, dir, "source/last-applied");
	assert_int_equal(0, util_fs_write_atomic(path.ptr, "garbage\n", 8, 0600));
	assert_int_equal(CERTOPS_EINVALID, source_last_applied(out, dir));
	assert_non_null(strstr(util_error_last()->file, "last-applied"));
	unlink(path.ptr);
	util_buf_free(&path);
}

static void plain_directory_and_subpaths(void **state)
{
	util_buf top = UTIL_BUF_INIT, sub = UTIL_BUF_INIT, link = UTIL_BUF_INIT;
	source_opts o = { 0 };
	source_result *r = NULL;

	(void)state;
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
	util_buf_free(&top);
	util_buf_free(&sub);
	util_buf_free(&link);
}

static void url_passwords_are_never_shown(void **state)
{
	source_opts o = { 0 };
	source_result *r = NULL;
	int error;

	(void)state;
	/* Port 1 on loopback: refused at once; nothing is cached either. */
	o.url = "https://ci-token:s3cr3t-t0ken@127.0.0.1:1/ops/certs.git";
	o.state_dir = dir;
	o.ref = "main";
	error = source_resolve(&r, &o);
	assert_int_equal(CERTOPS_ENOTFOUND, error);
	assert_null(r);
	assert_non_null(strstr(util_error_message(),
			       "https://ci-token:[redacted]@127.0.0.1:1/ops/certs.git"));
	assert_null(strstr(util_error_message(), "s3cr3t-t0ken"));
}

static void saved_plan_commit_check(void **state)
{
	source_result r = { 0 };
	const char *a = "0123456789abcdef0123456789abcdef01234567";
	const char *b = "89abcdef0123456789abcdef0123456789abcdef";

	(void)state;
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

static void init_is_idempotent(void **state)
{
	(void)state;
	assert_int_equal(0, source_global_init());
	assert_int_equal(0, source_global_init());
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(url_or_directory),
		cmocka_unit_test(record_and_read_last_applied),
		cmocka_unit_test(plain_directory_and_subpaths),
		cmocka_unit_test(url_passwords_are_never_shown),
		cmocka_unit_test(saved_plan_commit_check),
		cmocka_unit_test(init_is_idempotent),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
