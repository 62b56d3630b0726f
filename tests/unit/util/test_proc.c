/*
 * Unit tests of lib/util/proc.c with real processes: a sleeping child is
 * killed at the deadline (CERTOPS_ETIMEOUT) with its process group, the
 * output is capped and the excess counted, inherited descriptors are
 * closed, the environment is exactly the caller's, stdin comes from the
 * given file, and a failed run's error names the command and its stderr.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/error.h"
#include "util/fs.h"
#include "util/proc.h"

#define ARGC(a) (sizeof(a) / sizeof((a)[0]))

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* 1 while pid exists and is not a zombie. */
static int alive(pid_t pid)
{
	char path[64], buf[512], *p;
	util_buf st = UTIL_BUF_INIT;
	int live;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (util_fs_read_file(&st, path, 0) < 0) {
		util_error_clear();
		return 0;
	}
	snprintf(buf, sizeof(buf), "%s", st.ptr);
	p = strrchr(buf, ')');
	live = p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
	util_buf_release(&st);
	return live;
}

static void test_deadline_kills_sleeper(void **state)
{
	const char *argv[] = { "sleep", "30" };
	util_proc_opts o = { .argv = argv, .argc = 2, .timeout_ms = 200, .grace_ms = 200 };
	util_proc_result res;
	int64_t t0 = mono_ms(), took;

	(void)state;
	assert_int_equal(util_proc_run(&res, &o), CERTOPS_ETIMEOUT);
	took = mono_ms() - t0;
	assert_true(res.timed_out);
	assert_false(res.exited);
	assert_int_equal(res.signal, SIGTERM); /* sleep dies of the first signal */
	assert_true(took >= 200 && took < 2000);
	assert_string_equal(util_error_message(),
			    "command 'sleep 30' did not finish within 200 ms and was killed");
	util_proc_result_release(&res);
}

static void test_deadline_kills_group_after_grace(void **state)
{
	/* TERM is ignored, so only the KILL after the grace ends it; the
	 * background sleep it forked must die with it. */
	const char *argv[] = { "/bin/sh", "-c",
			       "trap '' TERM; sleep 100 & echo $!; echo waiting >&2; sleep 100; wait" };
	util_proc_opts o = { .argv = argv, .argc = ARGC(argv), .timeout_ms = 200,
			     .grace_ms = 200 };
	util_proc_result res;
	pid_t grandchild;
	char *end;
	long v;
	int i;

	(void)state;
	assert_int_equal(util_proc_run(&res, &o), CERTOPS_ETIMEOUT);
	assert_int_equal(res.signal, SIGKILL);
	assert_non_null(strstr(util_error_message(), "did not finish within 200 ms and was killed: waiting"));
	v = strtol(res.out.ptr, &end, 10);
	assert_true(v > 1 && *end == '\n');
	grandchild = (pid_t)v;
	for (i = 0; i < 200 && alive(grandchild); i++)
		usleep(10000);
	assert_false(alive(grandchild));
	assert_int_equal(util_proc_result_check(&res, &o), CERTOPS_ETIMEOUT);
	util_proc_result_release(&res);
}

static void test_output_capped(void **state)
{
	const char *argv[] = { "/bin/sh", "-c", "head -c 100000 /dev/zero; head -c 5000 /dev/zero >&2" };
	util_proc_opts o = { .argv = argv, .argc = ARGC(argv), .output_limit = 1000 };
	util_proc_result res;

	(void)state;
	assert_int_equal(util_proc_run(&res, &o), 0);
	assert_true(res.exited);
	assert_int_equal(res.exit_code, 0);
	assert_int_equal(res.out.size, 1000);
	assert_int_equal(res.out_dropped, 99000);
	assert_int_equal(res.err.size, 1000);
	assert_int_equal(res.err_dropped, 4000);
	util_proc_result_release(&res);
}

static void test_fds_closed(void **state)
{
	/* Opened without O_CLOEXEC, as a library might: must not reach it;
	 * nor may fd 3, where the runner keeps its exec status pipe. */
	int fd = open("/dev/null", O_RDONLY), fd2 = open("/dev/null", O_RDONLY);
	char a[16], b[16];
	const char *argv[] = { "/bin/sh", "-c",
			       "for f in 0 1 2 3 $0 $1; do [ -e /proc/$$/fd/$f ] && printf '%s ' $f; done; :",
			       a, b };
	util_proc_opts o = { .argv = argv, .argc = ARGC(argv) };
	util_proc_result res;

	(void)state;
	assert_true(fd > 2 && fd2 > fd);
	snprintf(a, sizeof(a), "%d", fd);
	snprintf(b, sizeof(b), "%d", fd2);
	assert_int_equal(util_proc_run(&res, &o), 0);
	assert_string_equal(res.out.ptr, "0 1 2 ");
	util_proc_result_release(&res);
	close(fd);
	close(fd2);
}

static void test_env_exactly_given(void **state)
{
	char *env[] = { "PATH=/usr/bin:/bin", "ONLY=this", NULL };
	const char *argv[] = { "env" };
	util_proc_opts o = { .argv = argv, .argc = 1, .env = env };
	util_proc_result res;

	(void)state;
	setenv("CERTOPS_TEST_LEAK", "leaked", 1);
	assert_int_equal(util_proc_run(&res, &o), 0);
	assert_string_equal(res.out.ptr, "PATH=/usr/bin:/bin\nONLY=this\n");
	util_proc_result_release(&res);
	/* NULL: an empty environment */
	o.env = NULL;
	assert_int_equal(util_proc_run(&res, &o), 0);
	assert_string_equal(res.out.ptr, "");
	util_proc_result_release(&res);
	unsetenv("CERTOPS_TEST_LEAK");
}

static void test_stdin_and_merge(void **state)
{
	char path[] = "/tmp/certops-proc-in-XXXXXX";
	int fd = mkstemp(path);
	const char *argv[] = { "/bin/sh", "-c", "cat; echo to-stderr >&2" };
	util_proc_opts o = { .argv = argv, .argc = ARGC(argv), .stdin_path = path,
			     .merge_stderr = 1 };
	util_proc_result res;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "payload\n", 8), 8);
	close(fd);
	assert_int_equal(util_proc_run(&res, &o), 0);
	assert_string_equal(res.out.ptr, "payload\nto-stderr\n");
	assert_int_equal(res.err.size, 0);
	util_proc_result_release(&res);
	/* no stdin_path: /dev/null, so cat ends at once */
	o.stdin_path = NULL;
	assert_int_equal(util_proc_run(&res, &o), 0);
	assert_string_equal(res.out.ptr, "to-stderr\n");
	util_proc_result_release(&res);
	unlink(path);
}

static void test_exit_code_and_check(void **state)
{
	const char *argv[] = { "/bin/sh", "-c", "echo out; echo 'it broke' >&2; exit 3" };
	util_proc_opts o = { .argv = argv, .argc = ARGC(argv) };
	util_proc_result res;

	(void)state;
	/* A run that ended by itself is 0; the exit code is the caller's. */
	assert_int_equal(util_proc_run(&res, &o), 0);
	assert_true(res.exited);
	assert_int_equal(res.exit_code, 3);
	assert_string_equal(res.out.ptr, "out\n");
	assert_int_equal(util_proc_result_check(&res, &o), CERTOPS_ERROR);
	assert_string_equal(util_error_message(),
			    "command '/bin/sh -c \"echo out; echo 'it broke' >&2; exit 3\"' "
			    "exited with code 3: it broke");
	util_proc_result_release(&res);
}

static void test_not_found_and_search(void **state)
{
	const char *missing[] = { "certops-no-such-program" };
	const char *found[] = { "true" };
	util_proc_opts o = { .argv = missing, .argc = 1, .path = "/nonexistent:/usr/bin:/bin" };
	util_proc_result res;

	(void)state;
	assert_int_equal(util_proc_run(&res, &o), CERTOPS_ENOTFOUND);
	assert_non_null(strstr(util_error_message(),
			       "cannot run 'certops-no-such-program' (searched /nonexistent:/usr/bin:/bin)"));
	util_proc_result_release(&res);
	o.argv = found;
	assert_int_equal(util_proc_run(&res, &o), 0);
	assert_int_equal(util_proc_result_check(&res, &o), 0);
	util_proc_result_release(&res);
	o.argc = 0;
	assert_int_equal(util_proc_run(&res, &o), CERTOPS_EINVALID);
	util_proc_result_release(&res);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deadline_kills_sleeper),
		cmocka_unit_test(test_deadline_kills_group_after_grace),
		cmocka_unit_test(test_output_capped),
		cmocka_unit_test(test_fds_closed),
		cmocka_unit_test(test_env_exactly_given),
		cmocka_unit_test(test_stdin_and_merge),
		cmocka_unit_test(test_exit_code_and_check),
		cmocka_unit_test(test_not_found_and_search),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
