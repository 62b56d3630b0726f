/*
 * lib/engine: the capability table, the retry backoff, the notification
 * decisions (pure), and whole reconcile cycles with an injected clock
 * against a CA that is not there (so every attempt fails, quickly and the
 * same way each time).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "config/config.h"
#include "engine/engine.h"
#include "engine/reconcile.h"
#include "engine/reconcile_internal.h"
#include "state/state.h"
#include "util/error.h"
#include "util/fs.h"

/* ---- the capability table ---- */

static const char unsupported_yaml[] =
	"kind: Issuer\n"                                   /* 1 */
	"name: le\n"
	"acme:\n"
	"  directory: https://acme.example/dir\n"
	"  fallback: [local]\n"                            /* 5 */
	"---\n"
	"kind: Issuer\n"
	"name: local\n"
	"ca: {commonName: test CA}\n"                      /* 9 */
	"---\n"
	"kind: Solver\n"
	"name: hook\n"
	"challenge:\n"
	"  dns01:\n"                                       /* 14 */
	"    exec: {command: [/bin/true]}\n"
	"---\n"
	"kind: Certificate\n"
	"name: www\n"
	"issuer: le\n"
	"domains: [www.example.com]\n"
	"challenge:\n"
	"  http01: {webroot: /var/www}\n";

static void test_capability_refuses_at_position(void **unused)
{
	config_set *set = NULL;
	util_diags d = UTIL_DIAGS_INIT;
	const engine_capability *cap;
	size_t i, n = 0;

	(void)unused;
	assert_int_equal(0, config_set_new(&set));
	assert_int_equal(0, config_set_add_buffer(set, &d, "a.yaml", unsupported_yaml,
						  sizeof(unsupported_yaml) - 1));
	assert_int_equal(0, config_set_validate(set, &d));
	assert_int_equal(0, d.count);
	assert_int_equal(0, engine_capability_check(set, &d));
	assert_int_equal(3, d.count);
	util_diags_sort(&d);
	for (i = 0; i < d.count; i++)
		assert_int_equal(CERTOPS_EUNSUPPORTED, d.items[i].code);
	assert_int_equal(5, d.items[0].line);
	assert_string_equal("acme.fallback", d.items[0].field);
	assert_non_null(strstr(d.items[0].message, "acme.fallback is not supported yet"));
	assert_int_equal(9, d.items[1].line);
	assert_string_equal("ca", d.items[1].field);
	assert_int_equal(14, d.items[2].line);
	assert_string_equal("challenge.dns01.exec", d.items[2].field);
	/* the table lists each feature once, ended by NULL */
	for (cap = engine_unsupported(); cap->feature; cap++)
		n++;
	assert_int_equal(5, n);
	util_diags_release(&d);
	config_set_free(set);
}

/* ---- backoff ---- */

static void test_backoff_doubles_up_to_the_cap(void **unused)
{
	(void)unused;
	assert_int_equal(300, engine__backoff_delay(300, 1));
	assert_int_equal(600, engine__backoff_delay(300, 2));
	assert_int_equal(1200, engine__backoff_delay(300, 3));
	assert_int_equal(ENGINE_BACKOFF_MAX, engine__backoff_delay(300, 10));
	assert_int_equal(ENGINE_BACKOFF_MAX, engine__backoff_delay(300, 1000));
	/* a base above the cap is the cap */
	assert_int_equal(86400, engine__backoff_delay(86400, 5));
}

/* ---- notification decisions ---- */

static engine_cert_result cert_result(const char *name, engine_cert_state st,
				      int64_t failures, const char *msg)
{
	engine_cert_result r = { (char *)name, st, failures, 0, (char *)msg };

	return r;
}

static const engine_notice *notice_of(const engine_notice *n, size_t count,
				      const char *subject)
{
	size_t i;

	for (i = 0; i < count; i++)
		if (!strcmp(n[i].subject, subject))
			return &n[i];
	return NULL;
}

static void test_notices_failing_recovered_expiring(void **unused)
{
	const time_t now = 1800000000;
	engine_cert_result certs[3];
	engine_stored_cert stored[3] = {
		/* 90 days, 10 left: inside the last sixth */
		{ (char *)"www", now - 80 * 86400, now + 10 * 86400, 0 },
		{ (char *)"api", now - 10 * 86400, now + 80 * 86400, 0 },
		{ (char *)"old", now - 10 * 86400, now + 80 * 86400, 0 },
	};
	char *gone[] = { (char *)"removed" };
	engine_cycle_report rep;
	engine_notice_input in;
	engine_notice *n = NULL;
	const engine_notice *x;
	size_t count = 0;

	(void)unused;
	certs[0] = cert_result("www", ENGINE_CERT_FAILED, 2, "connection refused");
	certs[1] = cert_result("api", ENGINE_CERT_OK, 0, NULL);
	certs[2] = cert_result("db", ENGINE_CERT_BACKOFF, 1, "timeout");
	memset(&rep, 0, sizeof(rep));
	rep.ran = 1;
	rep.certs = certs;
	rep.ncerts = 3;
	rep.gone = gone;
	rep.ngone = 1;
	memset(&in, 0, sizeof(in));
	in.stored = stored;
	in.nstored = 3;
	in.rep = &rep;
	in.now = now;
	assert_int_equal(0, engine__notices(&n, &count, &in));

	/* failing and close to expiry: the loud one, instead of "failing" */
	assert_int_equal(1, stored[0].alerting);
	x = notice_of(n, count, "certificate/www");
	assert_non_null(x);
	assert_int_equal(NOTIFY_EXPIRING, x->status);
	assert_string_equal("certificate 'www' expires in 240 hours and is not being "
			    "renewed: connection refused", x->message);
	x = notice_of(n, count, "certificate/api");
	assert_int_equal(NOTIFY_OK, x->status);
	assert_string_equal("certificate 'api' converged", x->message);
	x = notice_of(n, count, "certificate/db");
	assert_int_equal(NOTIFY_FAILING, x->status);
	assert_string_equal("certificate 'db' failed 1 time in a row: timeout", x->message);
	/* in the store, not declared; and a backoff entry no longer declared */
	assert_string_equal("no longer declared", notice_of(n, count, "certificate/old")->message);
	assert_string_equal("no longer declared", notice_of(n, count, "certificate/removed")->message);
	assert_int_equal(5, count);
	engine__notices_free(n, count);

	/* the engine did not run: only the expiry alert, never a recovery */
	rep.ran = 0;
	in.cycle_message = "abc123: 2 problems";
	stored[0].alerting = 0;
	assert_int_equal(0, engine__notices(&n, &count, &in));
	assert_int_equal(1, count);
	assert_string_equal("certificate/www", n[0].subject);
	assert_int_equal(NOTIFY_EXPIRING, n[0].status);
	assert_non_null(strstr(n[0].message, ": abc123: 2 problems"));
	engine__notices_free(n, count);
}

/* ---- whole cycles, with an injected clock ---- */

typedef struct {
	char root[64];
	char decl[128], state[128], policy[128];
	time_t now;
} fixture;

static time_t fake_clock(void *data)
{
	return ((fixture *)data)->now;
}

static int setup(void **state_)
{
	fixture *f = calloc(1, sizeof(*f));
	util_buf y = UTIL_BUF_INIT;

	assert_non_null(f);
	snprintf(f->root, sizeof(f->root), "/tmp/certops-engine-XXXXXX");
	assert_non_null(mkdtemp(f->root));
	snprintf(f->decl, sizeof(f->decl), "%s/decl", f->root);
	snprintf(f->state, sizeof(f->state), "%s/state", f->root);
	snprintf(f->policy, sizeof(f->policy), "%s/policy.yaml", f->root);
	assert_int_equal(0, util_fs_mkdir_p(f->decl, 0700));
	/* nothing listens on port 1: every order fails the same way */
	util_buf_printf(&y, "kind: Issuer\nname: nowhere\nacme:\n"
			"  directory: https://127.0.0.1:1/dir\n"
			"---\nkind: Certificate\nname: www\nissuer: nowhere\n"
			"domains: [www.example.com]\n"
			"challenge: {http01: {webroot: %s}}\n", f->root);
	{
		char path[160];

		snprintf(path, sizeof(path), "%s/certs.yaml", f->decl);
		assert_int_equal(0, util_fs_write_atomic(path, y.ptr, y.size, 0600));
	}
	util_buf_clear(&y);
	util_buf_printf(&y, "writeRoots: [%s]\n", f->root);
	assert_int_equal(0, util_fs_write_atomic(f->policy, y.ptr, y.size, 0600));
	util_buf_release(&y);
	f->now = 1800000000;
	*state_ = f;
	return 0;
}

static int teardown(void **state_)
{
	fixture *f = *state_;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->root);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

/* A reconciler on the fixture's declarations, store and clock. */
static engine_reconciler *open_reconciler(fixture *f)
{
	engine_reconcile_options o;
	engine_reconciler *r = NULL;

	memset(&o, 0, sizeof(o));
	o.load.state_dir = f->state;
	o.load.policy_path = f->policy;
	o.load.dir = f->decl;
	o.clock = fake_clock;
	o.clock_data = f;
	assert_int_equal(0, engine_reconciler_new(&r, &o));
	return r;
}

static void test_cycle_backoff_with_injected_clock(void **state_)
{
	fixture *f = *state_;
	engine_reconciler *r = NULL;
	const engine_cycle_report *rep;
	state_reconcile_status s;
	state_backoff *bo = NULL;
	size_t nbo = 0;
	state *st = NULL;

	r = open_reconciler(f);

	/* 1: the account cannot be registered: www fails, backs off 5 min */
	assert_int_equal(0, engine_reconcile_cycle(&rep, r, NULL));
	assert_int_equal(ENGINE_CYCLE_PARTIAL, rep->result);
	assert_int_equal(1, rep->ran);
	assert_int_equal(1, rep->ncerts);
	assert_int_equal(ENGINE_CERT_FAILED, rep->certs[0].state);
	assert_int_equal(1, rep->certs[0].failures);
	assert_int_equal(f->now + 300, rep->certs[0].next_attempt);
	assert_non_null(rep->certs[0].message);

	/* 2: a minute later: held back, not attempted */
	f->now += 60;
	assert_int_equal(0, engine_reconcile_cycle(&rep, r, NULL));
	assert_int_equal(ENGINE_CYCLE_PARTIAL, rep->result);
	assert_int_equal(ENGINE_CERT_BACKOFF, rep->certs[0].state);
	assert_int_equal(1, rep->n_backoff);
	assert_int_equal(0, rep->n_failed);
	assert_int_equal(1, rep->certs[0].failures);

	/* 3: past the next attempt: tried again, fails, the delay doubles */
	f->now += 300;
	assert_int_equal(0, engine_reconcile_cycle(&rep, r, NULL));
	assert_int_equal(ENGINE_CERT_FAILED, rep->certs[0].state);
	assert_int_equal(2, rep->certs[0].failures);
	assert_int_equal(f->now + 600, rep->certs[0].next_attempt);
	engine_reconciler_free(r);

	/* what the store holds: the backoff and the cycle's status */
	assert_int_equal(0, state_open(&st, f->state, STATE_OPEN_NOCREATE));
	assert_int_equal(0, state_backoff_list(&bo, &nbo, st));
	assert_int_equal(1, nbo);
	assert_string_equal("www", bo[0].name);
	assert_int_equal(2, bo[0].failures);
	assert_int_equal(f->now + 600, bo[0].next_attempt);
	state_backoff_array_free(bo, nbo);
	memset(&s, 0, sizeof(s));
	assert_int_equal(0, state_reconcile_get(&s, st));
	assert_int_equal(3, s.cycles);
	assert_int_equal(3, s.failures);
	assert_string_equal("partial", s.result);
	assert_int_equal(f->now, s.last_run);
	assert_int_equal(0, s.last_success);
	assert_int_equal(1, s.has_certs);
	assert_int_equal(1, s.ncerts);
	assert_string_equal("failed", s.certs[0].result);
	state_reconcile_status_clear(&s);
	state_free(st);
}

static void test_cycle_invalid_declarations_recorded(void **state_)
{
	fixture *f = *state_;
	engine_reconciler *r = NULL;
	const engine_cycle_report *rep;
	char path[160];

	snprintf(path, sizeof(path), "%s/certs.yaml", f->decl);
	assert_int_equal(0, util_fs_write_atomic(path, "kind: Nope\n", 11, 0600));
	r = open_reconciler(f);
	assert_int_equal(0, engine_reconcile_cycle(&rep, r, NULL));
	assert_int_equal(ENGINE_CYCLE_INVALID, rep->result);
	assert_int_equal(0, rep->ran);
	assert_non_null(rep->e);
	assert_true(rep->e->diags.count >= 1);
	assert_string_equal("invalid", rep->status->result);
	assert_int_equal(1, rep->status->failures);
	assert_int_equal((int64_t)rep->e->diags.count, rep->status->problems);
	assert_int_equal(0, rep->status->has_certs);
	engine_reconciler_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_capability_refuses_at_position),
		cmocka_unit_test(test_backoff_doubles_up_to_the_cap),
		cmocka_unit_test(test_notices_failing_recovered_expiring),
		cmocka_unit_test_setup_teardown(test_cycle_backoff_with_injected_clock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cycle_invalid_declarations_recorded, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
