/*
 * Unit tests of lib/target/exec_run.c with real processes: the hook sees
 * only PATH and the CERTOPS_* variables, a hook past its deadline is
 * killed with everything it forked, a failed hook's error names the
 * command, its exit code and its stderr, output is bounded, secrets in
 * the output are redacted from the log, and the policy check refuses a
 * command the policy does not list.
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
#include <unistd.h>

#include "config/policy.h"
#include "target/exec_run.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/log.h"

#define ARGC(a) (sizeof(a) / sizeof((a)[0]))

static void test_env_is_clean(void **state)
{
	const char *argv[] = { "env" };
	const char *domains[] = { "example.test", "www.example.test" };
	target_exec_vars v = { .cert_name = "www", .fullchain_path = "/etc/ssl/www/fullchain.pem",
			       .key_path = "/etc/ssl/www/privkey.pem",
			       .fingerprint = "ab12", .not_after = "2026-12-01T10:00:00Z",
			       .domains = domains, .ndomains = 2 };
	target_exec_opts o = { .argv = argv, .argc = 1, .vars = &v };
	target_exec_result res;

	(void)state;
	setenv("CERTOPS_TEST_LEAK", "leaked-value", 1);
	setenv("VAULT_TOKEN", "hvs.leaked", 1);
	assert_int_equal(target_exec_run(&res, &o), 0);
	assert_true(res.exited);
	assert_int_equal(res.exit_code, 0);
	/* Exactly these lines, in this order: nothing inherited. */
	assert_string_equal(res.out.ptr,
			    "PATH=/usr/sbin:/usr/bin:/sbin:/bin\n"
			    "CERTOPS_CERT_NAME=www\n"
			    "CERTOPS_KEY_PATH=/etc/ssl/www/privkey.pem\n"
			    "CERTOPS_FULLCHAIN_PATH=/etc/ssl/www/fullchain.pem\n"
			    "CERTOPS_FINGERPRINT=ab12\n"
			    "CERTOPS_NOT_AFTER=2026-12-01T10:00:00Z\n"
			    "CERTOPS_DOMAINS=example.test www.example.test\n");
	target_exec_result_release(&res);
	unsetenv("CERTOPS_TEST_LEAK");
	unsetenv("VAULT_TOKEN");
}

/* 1 while pid exists and is not a zombie. */
static int alive(pid_t pid)
{
	char path[64], buf[512], *p;
	util_buf stat = UTIL_BUF_INIT;
	int live;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (util_fs_read_file(&stat, path, 0) < 0) {
		util_error_clear();
		return 0;
	}
	snprintf(buf, sizeof(buf), "%s", stat.ptr);
	p = strrchr(buf, ')');
	live = p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
	util_buf_release(&stat);
	return live;
}

static void test_timeout_kills_the_group(void **state)
{
	/* The shell ignores SIGTERM, so only the SIGKILL after the grace
	 * ends it; its background sleep must die with it. */
	const char *argv[] = { "/bin/sh", "-c",
			       "trap '' TERM; sleep 100 & echo $!; sleep 100; wait" };
	target_exec_opts o = { .argv = argv, .argc = ARGC(argv), .timeout_ms = 300,
			       .grace_ms = 200 };
	target_exec_result res;
	pid_t grandchild;
	char *end;
	long v;

	(void)state;
	assert_int_equal(target_exec_run(&res, &o), CERTOPS_ETIMEOUT);
	assert_true(res.timed_out);
	assert_false(res.exited);
	assert_int_equal(res.signal, SIGKILL);
	assert_non_null(strstr(util_error_message(), "did not finish within 300 ms"));
	v = strtol(res.out.ptr, &end, 10);
	assert_true(v > 1 && *end == '\n');
	grandchild = (pid_t)v;
	/* It may take a moment for init to reap it; killed it must be. */
	{
		int i;
		for (i = 0; i < 200 && alive(grandchild); i++)
			usleep(10000);
	}
	assert_false(alive(grandchild));
	target_exec_result_release(&res);
}

static void test_nonzero_exit(void **state)
{
	const char *argv[] = { "/bin/sh", "-c", "echo starting; echo 'config test failed: bad line' >&2; exit 3" };
	target_exec_opts o = { .argv = argv, .argc = ARGC(argv) };
	target_exec_result res;
	const char *msg;

	(void)state;
	assert_int_equal(target_exec_run(&res, &o), CERTOPS_ERROR);
	assert_true(res.exited);
	assert_int_equal(res.exit_code, 3);
	msg = util_error_message();
	assert_non_null(strstr(msg, "command '/bin/sh -c \"echo starting;"));
	assert_non_null(strstr(msg, "exited with code 3: config test failed: bad line"));
	assert_string_equal(res.out.ptr, "starting\n");
	target_exec_result_release(&res);
}

static void test_output_bounded(void **state)
{
	const char *argv[] = { "head", "-c", "100000", "/dev/zero" };
	target_exec_opts o = { .argv = argv, .argc = ARGC(argv), .output_limit = 1000 };
	target_exec_result res;

	(void)state;
	assert_int_equal(target_exec_run(&res, &o), 0);
	assert_int_equal(res.out.size, 1000);
	assert_int_equal(res.out_dropped, 99000);
	target_exec_result_release(&res);
}

static void test_not_found(void **state)
{
	const char *argv[] = { "certops-no-such-program" };
	target_exec_opts o = { .argv = argv, .argc = 1 };
	target_exec_result res;

	(void)state;
	assert_int_equal(target_exec_run(&res, &o), CERTOPS_ENOTFOUND);
	assert_non_null(strstr(util_error_message(), "certops-no-such-program"));
	target_exec_result_release(&res);
}

static void test_output_logged_redacted(void **state)
{
	const char *argv[] = { "/bin/sh", "-c", "echo token=hunter2-secret-value; echo warn-line >&2" };
	target_exec_opts o = { .argv = argv, .argc = ARGC(argv), .log_component = "deploy" };
	target_exec_result res;
	util_buf log = UTIL_BUF_INIT;
	char path[] = "/tmp/certops-exec-log-XXXXXX";
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");

	(void)state;
	assert_non_null(f);
	assert_int_equal(util_secret_register("hunter2-secret-value"), 0);
	util_log_setup(UTIL_LOG_INFO, UTIL_LOG_JSON, 0, f);
	assert_int_equal(target_exec_run(&res, &o), 0);
	util_log_setup(UTIL_LOG_WARN, UTIL_LOG_TEXT, 0, NULL);
	fclose(f);
	assert_int_equal(util_fs_read_file(&log, path, 0), 0);
	unlink(path);
	assert_non_null(strstr(log.ptr, "\"component\":\"deploy\""));
	assert_non_null(strstr(log.ptr, "token=[redacted]"));
	assert_non_null(strstr(log.ptr, "warn-line"));
	assert_null(strstr(log.ptr, "hunter2"));
	util_secret_clear();
	util_buf_release(&log);
	target_exec_result_release(&res);
}

static void test_no_inherited_fds(void **state)
{
	/* A descriptor certops holds without O_CLOEXEC (a lock file, a
	 * library's socket) must not reach the hook. */
	int fd = open("/dev/null", O_RDONLY);
	char num[16];
	const char *argv[] = { "/bin/sh", "-c", "if [ -e /proc/$$/fd/$0 ]; then echo leaked; else echo clean; fi", num };
	target_exec_opts o = { .argv = argv, .argc = ARGC(argv) };
	target_exec_result res;

	(void)state;
	assert_true(fd > 2);
	snprintf(num, sizeof(num), "%d", fd);
	assert_int_equal(target_exec_run(&res, &o), 0);
	assert_string_equal(res.out.ptr, "clean\n");
	target_exec_result_release(&res);
	close(fd);
}

static void test_policy(void **state)
{
	static const char text[] = "exec:\n  - [/usr/sbin/nginx, -s, reload]\n";
	config_policy *p = NULL;
	util_diags d = UTIL_DIAGS_INIT;
	config_string ok_items[] = { { "/usr/sbin/nginx", { 0 } }, { "-s", { 0 } },
				     { "reload", { 0 } } };
	config_string bad_items[] = { { "/usr/sbin/nginx", { 0 } }, { "-s", { 0 } },
				      { "stop", { 0 } } };
	config_strings ok = { ok_items, 3 }, bad = { bad_items, 3 };

	(void)state;
	assert_int_equal(config_policy_parse(&p, &d, "policy.yaml", text, sizeof(text) - 1, NULL), 0);
	assert_int_equal(target_exec_check_policy(p, &ok), 0);
	assert_int_equal(target_exec_check_policy(p, &bad), CERTOPS_EPOLICY);
	assert_non_null(strstr(util_error_message(), "'/usr/sbin/nginx -s stop'"));
	assert_non_null(strstr(util_error_message(), "policy.yaml"));
	config_policy_free(p);
	util_diags_release(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_env_is_clean),
		cmocka_unit_test(test_timeout_kills_the_group),
		cmocka_unit_test(test_nonzero_exit),
		cmocka_unit_test(test_output_bounded),
		cmocka_unit_test(test_not_found),
		cmocka_unit_test(test_output_logged_redacted),
		cmocka_unit_test(test_no_inherited_fds),
		cmocka_unit_test(test_policy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
