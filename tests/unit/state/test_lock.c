/*
 * The state lock across processes: a forked child holds it; the parent
 * sees CERTOPS_ELOCKED naming the child, or waits for it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "state/state.h"
#include "util/error.h"

static char root[64], dir[128];

static int setup(void **vs)
{
	(void)vs;
	memcpy(root, "/tmp/certops-lock-XXXXXX", sizeof("/tmp/certops-lock-XXXXXX"));
	assert_non_null(mkdtemp(root));
	snprintf(dir, sizeof(dir), "%s/state", root);
	return 0;
}

static int teardown(void **vs)
{
	char cmd[200];

	(void)vs;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	assert_int_equal(system(cmd), 0);
	return 0;
}

/*
 * Forks a child that opens the store, takes the lock, reports on ready,
 * holds the lock until a byte arrives on go, then for hold_ms more, and
 * exits (releasing it).
 */
static pid_t spawn_holder(int ready[2], int go[2], int hold_ms)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		state *st = NULL;
		char c = 'r';

		close(ready[0]);
		close(go[1]);
		if (state_open(&st, dir, 0) < 0 || state_set_command(st, "certops apply (test holder)") < 0 ||
		    state_lock(st, 0) < 0)
			_exit(3);
		if (write(ready[1], &c, 1) != 1)
			_exit(4);
		if (read(go[0], &c, 1) < 0)
			_exit(5);
		if (hold_ms > 0) {
			struct timespec ts = { hold_ms / 1000, (hold_ms % 1000) * 1000000L };
			nanosleep(&ts, NULL);
		}
		state_free(st); /* releases */
		_exit(0);
	}
	close(ready[1]);
	close(go[0]);
	return pid;
}

static void wait_ready(int fd)
{
	char c;

	assert_int_equal(read(fd, &c, 1), 1);
	close(fd);
}

static void reap(pid_t pid)
{
	int status = 0;

	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_lock_fails_at_once_naming_holder(void **vs)
{
	int ready[2], go[2];
	state *st = NULL;
	state_lock_holder h;
	state_account acct = { 0 };
	char want[64];
	pid_t pid;

	(void)vs;
	assert_int_equal(state_open(&st, dir, 0), 0);
	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(go), 0);
	pid = spawn_holder(ready, go, 0);
	wait_ready(ready[0]);

	assert_int_equal(state_lock(st, 0), CERTOPS_ELOCKED);
	assert_false(state_locked(st));
	snprintf(want, sizeof(want), "pid %ld", (long)pid);
	assert_non_null(strstr(util_error_message(), want));
	assert_non_null(strstr(util_error_message(), "certops apply (test holder)"));
	assert_non_null(strstr(util_error_message(), "since 20"));

	assert_int_equal(state_lock_holder_get(&h, st), 0);
	assert_int_equal(h.pid, (long)pid);
	assert_true(h.since > 0 && h.since <= time(NULL));
	assert_non_null(h.host);
	state_lock_holder_clear(&h);

	/* a write without the lock waits briefly, then fails the same way */
	acct.issuer = "pebble";
	acct.directory_url = "https://ca/dir";
	acct.key_pem = "k";
	assert_int_equal(state_account_put(st, &acct), CERTOPS_ELOCKED);

	assert_int_equal(write(go[1], "g", 1), 1);
	close(go[1]);
	reap(pid);

	/* released: now it is ours, and the record names us */
	assert_int_equal(state_lock(st, 0), 0);
	assert_true(state_locked(st));
	assert_int_equal(state_lock(st, 0), 0); /* twice through one handle */
	assert_int_equal(state_lock_holder_get(&h, st), 0);
	assert_int_equal(h.pid, (long)getpid());
	state_lock_holder_clear(&h);
	assert_int_equal(state_unlock(st), 0);
	assert_int_equal(state_lock_holder_get(&h, st), CERTOPS_ENOTFOUND);
	state_free(st);
}

static void test_lock_waits_for_holder(void **vs)
{
	int ready[2], go[2];
	state *st = NULL;
	pid_t pid;

	(void)vs;
	assert_int_equal(state_open(&st, dir, 0), 0);
	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(go), 0);
	pid = spawn_holder(ready, go, 300);
	wait_ready(ready[0]);
	assert_int_equal(state_lock(st, 0), CERTOPS_ELOCKED);
	/* the holder lets go 300 ms after this: a 10 s wait succeeds */
	assert_int_equal(write(go[1], "g", 1), 1);
	close(go[1]);
	assert_int_equal(state_lock(st, 10), 0);
	assert_true(state_locked(st));
	reap(pid);
	state_free(st);
}

static void test_lock_released_when_holder_killed(void **vs)
{
	int ready[2], go[2];
	state *st = NULL;
	pid_t pid;
	int status;

	(void)vs;
	assert_int_equal(state_open(&st, dir, 0), 0);
	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(go), 0);
	pid = spawn_holder(ready, go, 0);
	wait_ready(ready[0]);
	assert_int_equal(state_lock(st, 0), CERTOPS_ELOCKED);
	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	close(go[1]);
	/* the kernel dropped the dead holder's lock: no stale lock to break */
	assert_int_equal(state_lock(st, 0), 0);
	state_free(st);
}

static void test_lock_rejects_negative_timeout(void **vs)
{
	state *st = NULL;

	(void)vs;
	assert_int_equal(state_open(&st, dir, 0), 0);
	assert_int_equal(state_lock(st, -1), CERTOPS_EINVALID);
	state_free(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_lock_fails_at_once_naming_holder, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock_waits_for_holder, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock_released_when_holder_killed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock_rejects_negative_timeout, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
