/*
 * Deployment records in bulk, and many threads writing through one handle:
 * every write lands and bumps the serial exactly once.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "state/state.h"
#include "util/error.h"
#include "util/buf.h"
#include "util/fs.h"

static char root[64], dir[128];

static int setup(void **vs)
{
	(void)vs;
	memcpy(root, "/tmp/certops-rec-XXXXXX", sizeof("/tmp/certops-rec-XXXXXX"));
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

static void test_deploy_list_and_delete(void **vs)
{
	state_deploy d = { 0 }, **list = NULL;
	size_t n = 0;
	state *st = NULL;
	uint64_t serial;
	char junk[256];

	(void)vs;
	assert_int_equal(state_open(&st, dir, 0), 0);
	assert_int_equal(state_deploy_list(&list, &n, st), 0);
	assert_int_equal(n, 0);

	d.fingerprint = "fp";
	d.result = STATE_DEPLOY_OK;
	d.target = "files:/b";
	assert_int_equal(state_deploy_put(st, &d), 0);
	d.target = "files:/a";
	assert_int_equal(state_deploy_put(st, &d), 0);
	d.target = "exec:reload nginx";
	d.result = STATE_DEPLOY_FAILED;
	d.message = "exit status 1";
	assert_int_equal(state_deploy_put(st, &d), 0);
	/* a stray file and a corrupt record do not hide the others */
	snprintf(junk, sizeof(junk), "%s/deployments/README", dir);
	assert_int_equal(util_fs_write_atomic(junk, "x", 1, 0600), 0);
	snprintf(junk, sizeof(junk), "%s/deployments/00000000000000000000000000000000.json", dir);
	assert_int_equal(util_fs_write_atomic(junk, "{", 1, 0600), 0);

	assert_int_equal(state_deploy_list(&list, &n, st), 0);
	assert_int_equal(n, 3);
	assert_string_equal(list[0]->target, "exec:reload nginx");
	assert_int_equal(list[0]->result, STATE_DEPLOY_FAILED);
	assert_string_equal(list[0]->message, "exit status 1");
	assert_string_equal(list[1]->target, "files:/a");
	assert_string_equal(list[2]->target, "files:/b");
	state_deploy_list_free(list, n);

	serial = 0;
	assert_int_equal(state_serial(&serial, st), 0);
	assert_int_equal(state_deploy_delete(st, "files:/a"), 0);
	{
		state_deploy *gone = NULL;
		assert_int_equal(state_deploy_get(&gone, st, "files:/a"), CERTOPS_ENOTFOUND);
		assert_null(gone);
	}
	/* deleting what is not there changes nothing */
	assert_int_equal(state_deploy_delete(st, "files:/a"), 0);
	{
		uint64_t after = 0;
		assert_int_equal(state_serial(&after, st), 0);
		assert_int_equal(after, serial + 2); /* a one-write session */
	}
	state_free(st);
}

#define THREADS 8
#define WRITES 25

typedef struct {
	state *st;
	int id;
	int failures;
} writer_arg;

static void *writer(void *p)
{
	writer_arg *a = p;
	char target[64];
	state_deploy d = { 0 };
	int i;

	for (i = 0; i < WRITES; i++) {
		snprintf(target, sizeof(target), "files:/t%d/%d", a->id, i);
		d.target = target;
		d.fingerprint = "fp";
		d.result = STATE_DEPLOY_OK;
		if (state_deploy_put(a->st, &d) < 0)
			a->failures++;
	}
	return NULL;
}

/* One handle shared by the threads of an apply, holding the lock. */
static void test_threads_share_one_handle(void **vs)
{
	pthread_t th[THREADS];
	writer_arg args[THREADS];
	state_deploy **list = NULL;
	size_t n = 0;
	uint64_t serial = 0;
	state *st = NULL;
	int i;

	(void)vs;
	assert_int_equal(state_open(&st, dir, 0), 0);
	assert_int_equal(state_lock(st, 0), 0);
	for (i = 0; i < THREADS; i++) {
		args[i] = (writer_arg){ st, i, 0 };
		assert_int_equal(pthread_create(&th[i], NULL, writer, &args[i]), 0);
	}
	for (i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(args[i].failures, 0);
	}
	/* mid-session the store reads dirty: the serial marked, not final */
	assert_int_equal(state_serial(&serial, st), 0);
	assert_int_equal(serial, 1);
	assert_int_equal(state_unlock(st), 0);
	/* ended: one for the dirty mark, one per change */
	assert_int_equal(state_serial(&serial, st), 0);
	assert_int_equal(serial, 1 + THREADS * WRITES);
	assert_int_equal(state_deploy_list(&list, &n, st), 0);
	assert_int_equal(n, THREADS * WRITES);
	state_deploy_list_free(list, n);
	state_free(st);
}

/* Without state_lock, each write takes the lock for itself: still exact. */
static void test_threads_without_lock(void **vs)
{
	pthread_t th[THREADS];
	writer_arg args[THREADS];
	uint64_t serial = 0;
	state *st = NULL;
	int i;

	(void)vs;
	assert_int_equal(state_open(&st, dir, 0), 0);
	for (i = 0; i < THREADS; i++) {
		args[i] = (writer_arg){ st, i, 0 };
		assert_int_equal(pthread_create(&th[i], NULL, writer, &args[i]), 0);
	}
	for (i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(args[i].failures, 0);
	}
	assert_false(state_locked(st));
	assert_int_equal(state_serial(&serial, st), 0);
	assert_int_equal(serial, 2 * THREADS * WRITES);
	state_free(st);
}

/* Reads state.json's text. */
static void read_state_json(util_buf *b)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/state.json", dir);
	util_buf_clear(b);
	assert_int_equal(util_fs_read_file(b, p, 0), 0);
}

/*
 * The serial protects saved plans: a serial read while a session writes
 * never equals the serial after it; a session that changed nothing gives
 * the serial back; a session cut short by a crash is moved on by the next
 * holder of the lock.
 */
static void test_serial_sessions(void **vs)
{
	state_deploy d = { 0 };
	util_buf b = UTIL_BUF_INIT;
	uint64_t before, mid, after;
	state *st = NULL;
	pid_t pid;
	int status;

	(void)vs;
	assert_int_equal(state_open(&st, dir, 0), 0);
	d.target = "files:/x";
	d.fingerprint = "fp";
	assert_int_equal(state_serial(&before, st), 0);

	/* a session with one change */
	assert_int_equal(state_lock(st, 0), 0);
	assert_int_equal(state_deploy_put(st, &d), 0);
	assert_int_equal(state_serial(&mid, st), 0);
	read_state_json(&b);
	assert_non_null(strstr(b.ptr, "\"dirty\": true"));
	assert_int_equal(state_unlock(st), 0);
	assert_int_equal(state_serial(&after, st), 0);
	read_state_json(&b);
	assert_null(strstr(b.ptr, "dirty"));
	assert_true(mid != before && after != mid && after > before);

	/* a session whose only write fails: the serial comes back */
	before = after;
	assert_int_equal(state_lock(st, 0), 0);
	d.target = "";
	assert_int_equal(state_deploy_put(st, &d), CERTOPS_EINVALID);
	{
		state_account a = { 0 };
		a.issuer = "x";
		a.directory_url = "https://ca/dir";
		a.key_pem = "k";
		/* fails after the session started: the account folder is a file */
		char p[256];
		snprintf(p, sizeof(p), "%s/accounts", dir);
		assert_int_equal(util_fs_write_atomic(p, "x", 1, 0600), 0);
		assert_int_not_equal(state_account_put(st, &a), 0);
		assert_int_equal(unlink(p), 0);
	}
	assert_int_equal(state_unlock(st), 0);
	assert_int_equal(state_serial(&after, st), 0);
	assert_int_equal(after, before);

	/* a holder killed mid-session leaves state.json dirty */
	d.target = "files:/y";
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		state *cst = NULL;

		if (state_open(&cst, dir, 0) < 0 || state_lock(cst, 0) < 0 ||
		    state_deploy_put(cst, &d) < 0)
			_exit(3);
		_exit(0); /* no unlock: as if killed */
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	read_state_json(&b);
	assert_non_null(strstr(b.ptr, "\"dirty\": true"));
	assert_int_equal(state_serial(&mid, st), 0);
	/* the next holder moves it on, so a plan that read mid is stale */
	assert_int_equal(state_lock(st, 0), 0);
	assert_int_equal(state_unlock(st), 0);
	assert_int_equal(state_serial(&after, st), 0);
	assert_true(after > mid);
	read_state_json(&b);
	assert_null(strstr(b.ptr, "dirty"));

	util_buf_release(&b);
	state_free(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_deploy_list_and_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_threads_share_one_handle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_threads_without_lock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_serial_sessions, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
