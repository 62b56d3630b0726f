/*
 * The reconcile records (status, retry backoff), the notification memory,
 * the last applied commit and the cache directory: round trips, the files
 * they make, the serial each write moves, and errors on bad records.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "state/state.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/fs.h"

/* A write made without state_lock is a session of its own: two steps. */
#define ONE_WRITE 2
#define C1 "0123456789abcdef0123456789abcdef01234567"

static char root[64], dir[128];

static int setup(void **vs)
{
	(void)vs;
	memcpy(root, "/tmp/certops-rr-XXXXXX", sizeof("/tmp/certops-rr-XXXXXX"));
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

static uint64_t serial_of(state *st)
{
	uint64_t s = 0;

	assert_int_equal(state_serial(&s, st), 0);
	return s;
}

static void read_rel(util_buf *b, const char *rel)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	util_buf_clear(b);
	assert_int_equal(util_fs_read_file(b, p, 0), 0);
}

static void write_rel(const char *rel, const char *text)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	assert_int_equal(util_fs_write_atomic(p, text, strlen(text), 0600), 0);
}

static mode_t mode_rel(const char *rel)
{
	struct stat sb;
	char p[256];

	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	assert_int_equal(stat(p, &sb), 0);
	return sb.st_mode & 07777;
}

static void test_backoff_round_trip(void **vs)
{
	state_backoff in[2] = {
		{ "www", 2, 1700000000, "http-01 failed" },
		{ "api", 1, 1700000500, NULL },
	}, *out = NULL;
	size_t n = 99;
	util_buf b = UTIL_BUF_INIT;
	state *st = NULL;
	uint64_t s0;

	(void)vs;
	assert_int_equal(state_open(&st, dir, 0), 0);
	assert_int_equal(state_backoff_list(&out, &n, st), 0);
	assert_int_equal(n, 0);
	assert_null(out);

	s0 = serial_of(st);
	assert_int_equal(state_backoff_replace(st, in, 2), 0);
	assert_int_equal(serial_of(st), s0 + ONE_WRITE);
	assert_int_equal(state_backoff_list(&out, &n, st), 0);
	assert_int_equal(n, 2);
	assert_string_equal(out[0].name, "api");
	assert_int_equal(out[0].failures, 1);
	assert_int_equal(out[0].next_attempt, 1700000500);
	assert_null(out[0].last_error);
	assert_string_equal(out[1].name, "www");
	assert_int_equal(out[1].failures, 2);
	assert_string_equal(out[1].last_error, "http-01 failed");
	state_backoff_array_free(out, n);

	/* the file is the one format 1 had: {name: {failures, nextAttempt, lastError}} */
	read_rel(&b, "reconcile/backoff.json");
	assert_non_null(strstr(b.ptr, "\"nextAttempt\": 1700000000"));
	assert_non_null(strstr(b.ptr, "\"lastError\": \"http-01 failed\""));
	assert_int_equal(mode_rel("reconcile/backoff.json"), 0600);
	assert_int_equal(mode_rel("reconcile"), 0700);

	/* forgetting all leaves an empty set */
	assert_int_equal(state_backoff_replace(st, NULL, 0), 0);
	read_rel(&b, "reconcile/backoff.json");
	assert_string_equal(b.ptr, "{}\n");
	assert_int_equal(state_backoff_list(&out, &n, st), 0);
	assert_int_equal(n, 0);

	/* a bad name is refused, nothing written */
	in[0].name = "../x";
	s0 = serial_of(st);
	assert_int_equal(state_backoff_replace(st, in, 1), CERTOPS_EINVALID);
	assert_int_equal(serial_of(st), s0);

	/* a record of the wrong shape names the file and the field */
	write_rel("reconcile/backoff.json", "{\"www\": {\"failures\": \"many\"}}");
	assert_int_equal(state_backoff_list(&out, &n, st), CERTOPS_EINVALID);
	assert_non_null(strstr(util_error_last()->file, "reconcile/backoff.json"));
	assert_non_null(strstr(util_error_message(), "expected an integer"));
	state_free(st);
	util_buf_release(&b);
}

static void test_reconcile_round_trip(void **vs)
{
	state_reconcile_cert certs[2] = {
		{ "www", "ok", 0, 0, NULL, 1 },
		{ "bad", "backoff", 3, 1700003600, "no route", 0 },
	};
	state_reconcile_status in = { 0 }, out;
	util_buf b = UTIL_BUF_INIT;
	state *st = NULL;
	uint64_t s0;

	(void)vs;
	assert_int_equal(state_open(&st, dir, 0), 0);
	assert_int_equal(state_reconcile_get(&out, st), CERTOPS_ENOTFOUND);

	in.cycles = 7;
	in.failures = 2;
	in.offline_cycles = 1;
	in.notify_failures = 4;
	in.last_run = 1700000100;
	in.last_success = 1700000000;
	in.duration = 1.5;
	in.result = "partial";
	in.offline = 1;
	in.problems = 0;
	in.commit = C1;
	in.url = "https://git.example/r.git";
	in.ref = "refs/heads/main";
	in.message = "1 certificate failing";
	in.has_certs = 1;
	in.certs = certs;
	in.ncerts = 2;
	s0 = serial_of(st);
	assert_int_equal(state_reconcile_put(st, &in), 0);
	assert_int_equal(serial_of(st), s0 + ONE_WRITE);

	assert_int_equal(state_reconcile_get(&out, st), 0);
	assert_int_equal(out.cycles, 7);
	assert_int_equal(out.failures, 2);
	assert_int_equal(out.offline_cycles, 1);
	assert_int_equal(out.notify_failures, 4);
	assert_int_equal(out.last_run, 1700000100);
	assert_int_equal(out.last_success, 1700000000);
	assert_true(out.duration > 1.49 && out.duration < 1.51);
	assert_string_equal(out.result, "partial");
	assert_int_equal(out.offline, 1);
	assert_string_equal(out.commit, C1);
	assert_string_equal(out.url, "https://git.example/r.git");
	assert_string_equal(out.ref, "refs/heads/main");
	assert_string_equal(out.message, "1 certificate failing");
	assert_int_equal(out.has_certs, 1);
	assert_int_equal(out.ncerts, 2);
	assert_string_equal(out.certs[0].name, "www");
	assert_int_equal(out.certs[0].expiring, 1);
	assert_null(out.certs[0].message);
	assert_string_equal(out.certs[1].result, "backoff");
	assert_int_equal(out.certs[1].failures, 3);
	assert_int_equal(out.certs[1].next_attempt, 1700003600);
	assert_string_equal(out.certs[1].message, "no route");
	state_reconcile_status_clear(&out);

	/* the file keeps format 1's keys and spelling */
	read_rel(&b, "reconcile/status.json");
	assert_non_null(strstr(b.ptr, "\"offline\": true"));
	assert_non_null(strstr(b.ptr, "\"commit\": \"" C1 "\""));
	assert_non_null(strstr(b.ptr, "\"lastRun\": 1700000100"));
	assert_non_null(strstr(b.ptr, "\"durationSeconds\": 1.5"));

	/* a cycle that stopped before the engine: no certificates, no commit */
	memset(&in, 0, sizeof(in));
	in.result = "error";
	assert_int_equal(state_reconcile_put(st, &in), 0);
	assert_int_equal(state_reconcile_get(&out, st), 0);
	assert_int_equal(out.has_certs, 0);
	assert_null(out.commit);
	assert_null(out.certs);
	assert_string_equal(out.result, "error");
	state_reconcile_status_clear(&out);

	write_rel("reconcile/status.json", "{\"cycles\": 1, \"certificates\": {}}");
	assert_int_equal(state_reconcile_get(&out, st), CERTOPS_EINVALID);
	assert_string_equal(util_error_last()->field, "certificates");
	state_free(st);
	util_buf_release(&b);
}

static void test_notified(void **vs)
{
	state_notified *items = NULL;
	size_t n = 0;
	state *st = NULL;
	uint64_t s0;

	(void)vs;
	assert_int_equal(state_open(&st, dir, 0), 0);
	assert_int_equal(state_notified_list(&items, &n, st), 0);
	assert_int_equal(n, 0);
	s0 = serial_of(st);
	assert_int_equal(state_notified_put(st, "reconcile", "failing"), 0);
	assert_int_equal(state_notified_put(st, "certificate/www", "expiring"), 0);
	assert_int_equal(serial_of(st), s0 + 2 * ONE_WRITE);
	/* the same status again changes nothing */
	assert_int_equal(state_notified_put(st, "reconcile", "failing"), 0);
	assert_int_equal(serial_of(st), s0 + 2 * ONE_WRITE);
	assert_int_equal(state_notified_put(st, "reconcile", "ok"), 0);
	assert_int_equal(state_notified_list(&items, &n, st), 0);
	assert_int_equal(n, 2);
	assert_string_equal(items[0].subject, "certificate/www");
	assert_string_equal(items[0].status, "expiring");
	assert_string_equal(items[1].subject, "reconcile");
	assert_string_equal(items[1].status, "ok");
	state_notified_array_free(items, n);
	assert_int_equal(state_notified_put(st, "", "ok"), CERTOPS_EINVALID);
	state_free(st);
}

static void test_applied_commit_and_cache(void **vs)
{
	util_buf b = UTIL_BUF_INIT;
	char commit[41] = "x";
	state *st = NULL;
	uint64_t s0;

	(void)vs;
	assert_int_equal(state_open(&st, dir, 0), 0);
	assert_int_equal(state_applied_commit_get(commit, st), CERTOPS_ENOTFOUND);
	assert_string_equal(commit, "");
	s0 = serial_of(st);
	assert_int_equal(state_applied_commit_put(st, C1), 0);
	assert_int_equal(serial_of(st), s0 + ONE_WRITE);
	assert_int_equal(state_applied_commit_get(commit, st), 0);
	assert_string_equal(commit, C1);
	read_rel(&b, "source/last-applied");
	assert_string_equal(b.ptr, C1 "\n");
	assert_int_equal(mode_rel("source"), 0700);

	assert_int_equal(state_applied_commit_put(st, "0123abc"), CERTOPS_EINVALID);
	assert_int_equal(state_applied_commit_put(st, "0123456789ABCDEF0123456789abcdef01234567"),
			 CERTOPS_EINVALID);
	write_rel("source/last-applied", "not a commit\n");
	assert_int_equal(state_applied_commit_get(commit, st), CERTOPS_EINVALID);
	assert_non_null(strstr(util_error_last()->file, "last-applied"));

	util_buf_clear(&b);
	assert_int_equal(state_cache_dir(&b, st, "source"), 0);
	assert_non_null(strstr(b.ptr, "/state/source"));
	assert_int_equal(mode_rel("source"), 0700);
	util_buf_clear(&b);
	assert_int_equal(state_cache_dir(&b, st, "../etc"), CERTOPS_EINVALID);
	state_free(st);
	util_buf_release(&b);
}

/* A format-1 store with the files cmd/ and lib/source wrote beside it. */
static void make_v1_store(const char *status, const char *backoff,
			  const char *notified, const char *applied)
{
	char p[256];
	const char *fmt = "{\"format\": 1, \"serial\": 41}\n";

	assert_int_equal(mkdir(dir, 0700), 0);
	write_rel("state.json", fmt);
	snprintf(p, sizeof(p), "%s/reconcile", dir);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/source", dir);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/source/0123456789abcdef", dir);
	assert_int_equal(mkdir(p, 0700), 0);
	write_rel("source/0123456789abcdef/remote-head", "refs/heads/main\n");
	write_rel("reconcile/status.json", status);
	write_rel("reconcile/backoff.json", backoff);
	write_rel("reconcile/notified.json", notified);
	write_rel("source/last-applied", applied);
}

static void test_migrates_format_1(void **vs)
{
	/* exactly what format 1's stats_save, backoff_save and notify wrote */
	const char *status =
		"{\n  \"certificates\": [\n    {\n      \"failures\": 2,\n"
		"      \"message\": \"order failed\",\n      \"name\": \"bad\",\n"
		"      \"nextAttempt\": 1700007200,\n      \"result\": \"backoff\"\n    },\n"
		"    {\n      \"failures\": 0,\n      \"name\": \"www\",\n"
		"      \"nextAttempt\": 0,\n      \"result\": \"ok\"\n    }\n  ],\n"
		"  \"commit\": \"" C1 "\",\n  \"cycles\": 12,\n"
		"  \"durationSeconds\": 0.25,\n  \"failures\": 3,\n"
		"  \"lastRun\": 1700000100,\n  \"lastSuccess\": 1699990000,\n"
		"  \"message\": \"1 certificate failing at " C1 "\",\n"
		"  \"notifyFailures\": 1,\n  \"offline\": false,\n"
		"  \"offlineCycles\": 2,\n  \"problems\": 0,\n"
		"  \"ref\": \"refs/heads/main\",\n  \"result\": \"partial\",\n"
		"  \"url\": \"file:///srv/r.git\"\n}";
	const char *backoff = "{\n  \"bad\": {\n    \"failures\": 2,\n"
		"    \"lastError\": \"order failed\",\n    \"nextAttempt\": 1700007200\n  }\n}";
	const char *notified = "{\n \"certificate/bad\": \"failing\",\n \"reconcile\": \"ok\"\n}";
	state_reconcile_status r;
	state_backoff *b = NULL;
	state_notified *nt = NULL;
	size_t n = 0;
	util_buf text = UTIL_BUF_INIT;
	char commit[41];
	state *st = NULL;

	(void)vs;
	make_v1_store(status, backoff, notified, C1 "\n");
	assert_int_equal(state_open(&st, dir, 0), 0);
	/* the format is 2 and the serial moved once */
	read_rel(&text, "state.json");
	assert_non_null(strstr(text.ptr, "\"format\": 2"));
	assert_int_equal(serial_of(st), 42);

	assert_int_equal(state_reconcile_get(&r, st), 0);
	assert_int_equal(r.cycles, 12);
	assert_int_equal(r.failures, 3);
	assert_int_equal(r.offline_cycles, 2);
	assert_int_equal(r.notify_failures, 1);
	assert_int_equal(r.last_run, 1700000100);
	assert_int_equal(r.last_success, 1699990000);
	assert_string_equal(r.result, "partial");
	assert_string_equal(r.commit, C1);
	assert_string_equal(r.url, "file:///srv/r.git");
	assert_int_equal(r.has_certs, 1);
	assert_int_equal(r.ncerts, 2);
	assert_string_equal(r.certs[0].name, "bad");
	assert_int_equal(r.certs[0].failures, 2);
	assert_int_equal(r.certs[0].next_attempt, 1700007200);
	assert_string_equal(r.certs[0].message, "order failed");
	assert_int_equal(r.certs[0].expiring, 0);
	state_reconcile_status_clear(&r);
	/* rewritten in format 2's spelling: the new field is there */
	read_rel(&text, "reconcile/status.json");
	assert_non_null(strstr(text.ptr, "\"expiring\": false"));

	assert_int_equal(state_backoff_list(&b, &n, st), 0);
	assert_int_equal(n, 1);
	assert_string_equal(b[0].name, "bad");
	assert_int_equal(b[0].failures, 2);
	assert_int_equal(b[0].next_attempt, 1700007200);
	assert_string_equal(b[0].last_error, "order failed");
	state_backoff_array_free(b, n);

	assert_int_equal(state_notified_list(&nt, &n, st), 0);
	assert_int_equal(n, 2);
	assert_string_equal(nt[0].subject, "certificate/bad");
	assert_string_equal(nt[0].status, "failing");
	state_notified_array_free(nt, n);
	read_rel(&text, "reconcile/notified.json");
	assert_non_null(strstr(text.ptr, "  \"reconcile\": \"ok\""));

	assert_int_equal(state_applied_commit_get(commit, st), 0);
	assert_string_equal(commit, C1);
	/* the Git cache stays where it is: the "source" cache directory */
	read_rel(&text, "source/0123456789abcdef/remote-head");
	assert_string_equal(text.ptr, "refs/heads/main\n");
	state_free(st);
	util_buf_release(&text);
}

static void test_migration_sets_damaged_files_aside(void **vs)
{
	state_backoff *b = NULL;
	state_reconcile_status r;
	size_t n = 9;
	util_buf text = UTIL_BUF_INIT;
	char commit[41];
	state *st = NULL;

	(void)vs;
	/* format 1 read these as "nothing recorded" */
	make_v1_store("{\"cycles\": ", "[]", "{\"reconcile\": 1}", "garbage\n");
	assert_int_equal(state_open(&st, dir, 0), 0);
	assert_int_equal(state_reconcile_get(&r, st), CERTOPS_ENOTFOUND);
	assert_int_equal(state_backoff_list(&b, &n, st), 0);
	assert_int_equal(n, 0);
	{
		state_notified *nt = NULL;

		assert_int_equal(state_notified_list(&nt, &n, st), 0);
		assert_null(nt);
	}
	assert_int_equal(n, 0);
	assert_int_equal(state_applied_commit_get(commit, st), CERTOPS_ENOTFOUND);
	/* kept for a human to look at, under a name that says why */
	read_rel(&text, "reconcile/status.json.v1-unreadable");
	assert_string_equal(text.ptr, "{\"cycles\": ");
	read_rel(&text, "source/last-applied.v1-unreadable");
	assert_string_equal(text.ptr, "garbage\n");
	read_rel(&text, "state.json");
	assert_non_null(strstr(text.ptr, "\"format\": 2"));
	state_free(st);
	util_buf_release(&text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_backoff_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reconcile_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_notified, setup, teardown),
		cmocka_unit_test_setup_teardown(test_applied_commit_and_cache, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrates_format_1, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migration_sets_damaged_files_aside, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
