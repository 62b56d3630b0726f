#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "util/error.h"
#include "util/fs.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/certops-fs-test.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	util_buf cmd = UTIL_BUF_INIT;
	(void)state;
	chmod(dir, 0700);
	util_buf_printf(&cmd, "rm -rf '%s'", dir);
	if (system(cmd.ptr) != 0)
		return -1;
	util_buf_release(&cmd);
	return 0;
}

static void path_in(util_buf *b, const char *name)
{
	util_buf_clear(b);
	util_fs_join(b, dir, name);
}

static int count_entries(const char *d)
{
	DIR *dh = opendir(d);
	struct dirent *e;
	int n = 0;

	assert_non_null(dh);
	while ((e = readdir(dh)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(dh);
	return n;
}

static void test_write_mode_exact_despite_umask(void **state)
{
	util_buf p = UTIL_BUF_INIT, got = UTIL_BUF_INIT;
	struct stat st;
	mode_t old = umask(0);
	(void)state;
	path_in(&p, "key.pem");
	assert_int_equal(util_fs_write_atomic(p.ptr, "secret", 6, 0600), 0);
	assert_int_equal(stat(p.ptr, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	umask(0077);
	path_in(&p, "cert.pem");
	assert_int_equal(util_fs_write_atomic(p.ptr, "cert", 4, 0644), 0);
	assert_int_equal(stat(p.ptr, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	umask(old);
	assert_int_equal(util_fs_read_file(&got, p.ptr, 0), 0);
	assert_string_equal(got.ptr, "cert");
	util_buf_release(&p);
	util_buf_release(&got);
}

static void test_replace_leaves_no_temp(void **state)
{
	util_buf p = UTIL_BUF_INIT, got = UTIL_BUF_INIT;
	(void)state;
	path_in(&p, "f");
	assert_int_equal(util_fs_write_atomic(p.ptr, "one", 3, 0644), 0);
	assert_int_equal(util_fs_write_atomic(p.ptr, "two!", 4, 0644), 0);
	assert_int_equal(util_fs_read_file(&got, p.ptr, 0), 0);
	assert_string_equal(got.ptr, "two!");
	assert_int_equal(count_entries(dir), 1);
	util_buf_release(&p);
	util_buf_release(&got);
}

static void test_failed_write_keeps_old(void **state)
{
	util_buf p = UTIL_BUF_INIT, got = UTIL_BUF_INIT;
	struct rlimit old_lim, lim;
	(void)state;
	path_in(&p, "f");
	assert_int_equal(util_fs_write_atomic(p.ptr, "old", 3, 0644), 0);
	/* A file size limit makes the write fail halfway, as a full disk
	 * would, even for root. */
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old_lim), 0);
	lim = old_lim;
	lim.rlim_cur = 4;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	assert_true(util_fs_write_atomic(p.ptr, "new and longer", 14, 0644) < 0);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old_lim), 0);
	assert_int_equal(util_fs_read_file(&got, p.ptr, 0), 0);
	assert_string_equal(got.ptr, "old");
	assert_int_equal(count_entries(dir), 1);
	util_buf_release(&p);
	util_buf_release(&got);
	util_error_clear();
}

static void test_write_into_missing_dir_fails_cleanly(void **state)
{
	util_buf p = UTIL_BUF_INIT;
	(void)state;
	path_in(&p, "missing/f");
	assert_true(util_fs_write_atomic(p.ptr, "x", 1, 0644) < 0);
	assert_non_null(strstr(util_error_message(), "missing"));
	assert_int_equal(count_entries(dir), 0);
	util_buf_release(&p);
	util_error_clear();
}

static void test_mkdir_p_and_read_limits(void **state)
{
	util_buf p = UTIL_BUF_INIT, got = UTIL_BUF_INIT;
	struct stat st;
	(void)state;
	path_in(&p, "a/b/c");
	assert_int_equal(util_fs_mkdir_p(p.ptr, 0700), 0);
	assert_int_equal(util_fs_mkdir_p(p.ptr, 0700), 0); /* exists: fine */
	assert_int_equal(stat(p.ptr, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0700);
	path_in(&p, "big");
	assert_int_equal(util_fs_write_atomic(p.ptr, "0123456789", 10, 0600), 0);
	assert_int_equal(util_fs_read_file(&got, p.ptr, 5), CERTOPS_EINVALID);
	path_in(&p, "nope");
	util_buf_clear(&got);
	assert_int_equal(util_fs_read_file(&got, p.ptr, 0), CERTOPS_ENOTFOUND);
	util_buf_release(&p);
	util_buf_release(&got);
	util_error_clear();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_write_mode_exact_despite_umask, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replace_leaves_no_temp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_write_keeps_old, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_into_missing_dir_fails_cleanly, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mkdir_p_and_read_limits, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
