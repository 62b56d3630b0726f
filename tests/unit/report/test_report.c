/*
 * The report model and its renderers: three certificates (in sync, a
 * failed deploy, never issued) with several targets and a recorded
 * reconcile cycle, rendered as Prometheus text (exact lines), status
 * JSON, the table and the apply JSON.
 */
#include "../plan/helpers.h"

#include <jansson.h>

#include "report/report.h"

static const char *const yaml =
	"kind: Issuer\nname: le\nacme: {directory: https://acme.example/dir}\n---\n"
	"kind: Certificate\nname: www\nissuer: le\ndomains: [www.example.com, example.com]\n"
	"renewBefore: 30d\nchallenge: {http01: {webroot: /var/www/html}}\n"
	"deploy:\n"
	"  - files: {dir: /nonexistent/certops/www}\n"
	"  - files: {dir: /nonexistent/certops/www2}\n"
	"  - exec: {command: [/bin/true]}\n---\n"
	"kind: Certificate\nname: api\nissuer: le\ndomains: [api.example.com]\n"
	"ipAddresses: [192.0.2.7]\n"
	"renewBefore: 30d\nchallenge: {http01: {webroot: /var/www/html}}\n"
	"deploy:\n"
	"  - files: {dir: /nonexistent/certops/api}\n"
	"  - files: {dir: /nonexistent/certops/api2}\n---\n"
	"kind: Certificate\nname: new\nissuer: le\ndomains: [new.example.com]\n"
	"challenge: {http01: {webroot: /var/www/html}}\n"
	"deploy:\n"
	"  - files: {dir: /nonexistent/certops/new}\n";

#define COMMIT "0123456789abcdef0123456789abcdef01234567"

typedef struct {
	config_set *set;
	observe_result *obs;
	plan *p;
	state_reconcile_cert certs[3];
	state_reconcile_status last;
	report *r;
	util_buf b;
} fx;

static int setup(void **vs)
{
	fx *f = calloc(1, sizeof(*f));
	observe_cert *www, *api;

	f->set = load_set(yaml);
	f->obs = observe_empty(f->set);
	set_accounts(f->obs);
	f->obs->has_state = 1;
	f->obs->state_serial = 7;
	www = ocert(f->obs, "www");
	api = ocert(f->obs, "api");
	set_current(www, T0 - 30 * DAY, T0 + 60 * DAY, FP_A);
	set_in_sync(www, FP_A);
	set_current(api, T0 - 80 * DAY, T0 + 10 * DAY, FP_B);
	set_in_sync(api, FP_B);
	/* api's second target: the last deploy failed */
	api->targets[1].deployed_ok = 0;
	api->targets[1].deploy_message = strdup("permission denied");
	f->p = make_plan(f->set, f->obs, T0);

	f->certs[0] = (state_reconcile_cert){ "api", "failed", 2, T0 + 3600, "boom", 1 };
	f->certs[1] = (state_reconcile_cert){ "new", "backoff", 1, T0 + 600, NULL, 0 };
	f->certs[2] = (state_reconcile_cert){ "www", "ok", 0, 0, NULL, 0 };
	f->last = (state_reconcile_status){
		.cycles = 12, .failures = 3, .offline_cycles = 1, .notify_failures = 2,
		.last_run = T0 - 60, .last_success = T0 - 3600, .duration = 1.5,
		.result = "partial", .offline = 0, .problems = 0, .commit = COMMIT,
		.url = "https://git.example/certs.git", .ref = "refs/heads/main",
		.message = "2 certificates failing at " COMMIT, .has_certs = 1,
		.certs = f->certs, .ncerts = 3 };
	util_buf_init(&f->b);
	*vs = f;
	return 0;
}

static int teardown(void **vs)
{
	fx *f = *vs;

	report_free(f->r);
	plan_free(f->p);
	observe_result_free(f->obs);
	config_set_free(f->set);
	util_buf_release(&f->b);
	free(f);
	return 0;
}

static void build(fx *f, const state_reconcile_status *last, const source_result *src)
{
	assert_int_equal(report_build(&f->r, f->set, f->obs, f->p, last, src, T0), 0);
}

/* "name{certificate=\"c\"} <renewal time>\n" as plan_renewal_time says. */
static void renew_line(util_buf *b, fx *f, const char *name)
{
	observe_cert *oc = ocert(f->obs, name);

	util_buf_printf(b, "certops_certificate_renewal_timestamp_seconds{certificate=\"%s\"} %lld\n",
			name, (long long)plan_renewal_time(oc->cert, &oc->cur, &oc->renewal, 0, NULL));
}

static void test_prometheus_exact(void **vs)
{
	fx *f = *vs;
	util_buf want = UTIL_BUF_INIT;

	build(f, &f->last, NULL);
	assert_int_equal(report_render_prometheus(&f->b, f->r, 0), 0);
	util_buf_puts(&want,
		"# HELP certops_certificate_issued 1 when the store holds a current certificate for the declaration.\n"
		"# TYPE certops_certificate_issued gauge\n"
		"certops_certificate_issued{certificate=\"www\"} 1\n"
		"certops_certificate_issued{certificate=\"api\"} 1\n"
		"certops_certificate_issued{certificate=\"new\"} 0\n"
		"# HELP certops_certificate_not_after_timestamp_seconds When the current certificate expires (Unix time).\n"
		"# TYPE certops_certificate_not_after_timestamp_seconds gauge\n"
		"certops_certificate_not_after_timestamp_seconds{certificate=\"www\"} 1798675200\n"
		"certops_certificate_not_after_timestamp_seconds{certificate=\"api\"} 1794355200\n"
		"# HELP certops_certificate_renewal_timestamp_seconds When the current certificate is due for renewal (Unix time).\n"
		"# TYPE certops_certificate_renewal_timestamp_seconds gauge\n");
	renew_line(&want, f, "www");
	renew_line(&want, f, "api");
	util_buf_puts(&want,
		"# HELP certops_certificate_renewal_due 1 when the plan would (re)issue the certificate now.\n"
		"# TYPE certops_certificate_renewal_due gauge\n"
		"certops_certificate_renewal_due{certificate=\"www\"} 0\n"
		"certops_certificate_renewal_due{certificate=\"api\"} 1\n"
		"certops_certificate_renewal_due{certificate=\"new\"} 1\n"
		"# HELP certops_certificate_expiring 1 while the certificate is close to expiry and not being renewed.\n"
		"# TYPE certops_certificate_expiring gauge\n"
		"certops_certificate_expiring{certificate=\"www\"} 0\n"
		"certops_certificate_expiring{certificate=\"api\"} 1\n"
		"certops_certificate_expiring{certificate=\"new\"} 0\n"
		"# HELP certops_certificate_last_result 1 when the certificate converged in the last reconcile cycle, 0 when it failed or waits out a retry backoff.\n"
		"# TYPE certops_certificate_last_result gauge\n"
		"certops_certificate_last_result{certificate=\"www\"} 1\n"
		"certops_certificate_last_result{certificate=\"api\"} 0\n"
		"certops_certificate_last_result{certificate=\"new\"} 0\n"
		"# HELP certops_certificate_consecutive_failures Failed reconcile attempts in a row.\n"
		"# TYPE certops_certificate_consecutive_failures gauge\n"
		"certops_certificate_consecutive_failures{certificate=\"www\"} 0\n"
		"certops_certificate_consecutive_failures{certificate=\"api\"} 2\n"
		"certops_certificate_consecutive_failures{certificate=\"new\"} 1\n"
		"# HELP certops_certificate_next_attempt_timestamp_seconds When a failing certificate is tried again (Unix time; 0: not held back).\n"
		"# TYPE certops_certificate_next_attempt_timestamp_seconds gauge\n"
		"certops_certificate_next_attempt_timestamp_seconds{certificate=\"www\"} 0\n"
		"certops_certificate_next_attempt_timestamp_seconds{certificate=\"api\"} 1793494800\n"
		"certops_certificate_next_attempt_timestamp_seconds{certificate=\"new\"} 1793491800\n"
		"# HELP certops_target_in_sync 1 when the target holds the current certificate as declared.\n"
		"# TYPE certops_target_in_sync gauge\n"
		"certops_target_in_sync{certificate=\"www\",target=\"www:files[0]\"} 1\n"
		"certops_target_in_sync{certificate=\"www\",target=\"www:files[1]\"} 1\n"
		"certops_target_in_sync{certificate=\"www\",target=\"www:exec[2]\"} 1\n"
		"certops_target_in_sync{certificate=\"api\",target=\"api:files[0]\"} 0\n"
		"certops_target_in_sync{certificate=\"api\",target=\"api:files[1]\"} 0\n"
		"certops_target_in_sync{certificate=\"new\",target=\"new:files[0]\"} 0\n"
		"# HELP certops_target_last_deploy_timestamp_seconds When the target was last deployed (Unix time).\n"
		"# TYPE certops_target_last_deploy_timestamp_seconds gauge\n"
		"certops_target_last_deploy_timestamp_seconds{certificate=\"www\",target=\"www:files[0]\"} 1793491200\n"
		"certops_target_last_deploy_timestamp_seconds{certificate=\"www\",target=\"www:files[1]\"} 1793491200\n"
		"certops_target_last_deploy_timestamp_seconds{certificate=\"www\",target=\"www:exec[2]\"} 1793491200\n"
		"certops_target_last_deploy_timestamp_seconds{certificate=\"api\",target=\"api:files[0]\"} 1793491200\n"
		"certops_target_last_deploy_timestamp_seconds{certificate=\"api\",target=\"api:files[1]\"} 1793491200\n"
		"# HELP certops_target_last_deploy_success 1 when the last deploy to the target succeeded.\n"
		"# TYPE certops_target_last_deploy_success gauge\n"
		"certops_target_last_deploy_success{certificate=\"www\",target=\"www:files[0]\"} 1\n"
		"certops_target_last_deploy_success{certificate=\"www\",target=\"www:files[1]\"} 1\n"
		"certops_target_last_deploy_success{certificate=\"www\",target=\"www:exec[2]\"} 1\n"
		"certops_target_last_deploy_success{certificate=\"api\",target=\"api:files[0]\"} 1\n"
		"certops_target_last_deploy_success{certificate=\"api\",target=\"api:files[1]\"} 0\n"
		"# HELP certops_reconcile_cycles_total Reconcile cycles run.\n"
		"# TYPE certops_reconcile_cycles_total counter\n"
		"certops_reconcile_cycles_total 12\n"
		"# HELP certops_reconcile_failures_total Reconcile cycles that failed (source, declarations or apply).\n"
		"# TYPE certops_reconcile_failures_total counter\n"
		"certops_reconcile_failures_total 3\n"
		"# HELP certops_reconcile_up 1 when the last reconcile cycle succeeded.\n"
		"# TYPE certops_reconcile_up gauge\n"
		"certops_reconcile_up 0\n"
		"# HELP certops_reconcile_last_run_timestamp_seconds When the last reconcile cycle ended (Unix time).\n"
		"# TYPE certops_reconcile_last_run_timestamp_seconds gauge\n"
		"certops_reconcile_last_run_timestamp_seconds 1793491140\n"
		"# HELP certops_reconcile_last_success_timestamp_seconds When a reconcile cycle last succeeded (Unix time; 0: never).\n"
		"# TYPE certops_reconcile_last_success_timestamp_seconds gauge\n"
		"certops_reconcile_last_success_timestamp_seconds 1793487600\n"
		"# HELP certops_reconcile_duration_seconds How long the last reconcile cycle took.\n"
		"# TYPE certops_reconcile_duration_seconds gauge\n"
		"certops_reconcile_duration_seconds 1.5\n"
		"# HELP certops_declaration_problems Problems found in the declarations by the last reconcile cycle.\n"
		"# TYPE certops_declaration_problems gauge\n"
		"certops_declaration_problems 0\n"
		"# HELP certops_source_offline 1 when the last reconcile cycle could not fetch and used the cached commit.\n"
		"# TYPE certops_source_offline gauge\n"
		"certops_source_offline 0\n"
		"# HELP certops_source_offline_cycles_total Reconcile cycles that ran on the cached commit because the fetch failed.\n"
		"# TYPE certops_source_offline_cycles_total counter\n"
		"certops_source_offline_cycles_total 1\n"
		"# HELP certops_notify_failures_total Notifications that could not be delivered.\n"
		"# TYPE certops_notify_failures_total counter\n"
		"certops_notify_failures_total 2\n"
		"# HELP certops_source_info The source of the last reconcile cycle; the value is always 1.\n"
		"# TYPE certops_source_info gauge\n"
		"certops_source_info{url=\"https://git.example/certs.git\",ref=\"refs/heads/main\","
		"commit=\"" COMMIT "\"} 1\n");
	assert_string_equal(f->b.ptr, want.ptr);
	util_buf_release(&want);
}

/* The metric name of each sample line, in order; one family is one run. */
static void assert_contiguous(const char *text)
{
	char seen[64][96], prev[96] = "";
	size_t nseen = 0, i, n;
	const char *line, *end;

	for (line = text; *line; line = end + 1) {
		end = strchr(line, '\n');
		assert_non_null(end);
		if (*line == '#')
			continue;
		n = strcspn(line, "{ ");
		assert_true(n < sizeof(prev));
		if (strlen(prev) == n && !strncmp(prev, line, n))
			continue;
		for (i = 0; i < nseen; i++)
			if (strlen(seen[i]) == n && !strncmp(seen[i], line, n))
				fail_msg("samples of %.*s are not contiguous", (int)n, line);
		memcpy(prev, line, n);
		prev[n] = '\0';
		assert_true(nseen < 64);
		memcpy(seen[nseen++], prev, n + 1);
	}
}

static void test_prometheus_without_cycle(void **vs)
{
	fx *f = *vs;
	util_buf with_flag = UTIL_BUF_INIT;
	report *r2 = NULL;

	build(f, NULL, NULL);
	assert_int_equal(report_render_prometheus(&f->b, f->r, 0), 0);
	assert_contiguous(f->b.ptr);
	assert_non_null(strstr(f->b.ptr, "\ncertops_target_in_sync{certificate=\"new\",target=\"new:files[0]\"} 0\n"));
	assert_null(strstr(f->b.ptr, "certops_reconcile_"));
	assert_null(strstr(f->b.ptr, "certops_source_"));
	assert_null(strstr(f->b.ptr, "certops_certificate_expiring"));
	assert_null(strstr(f->b.ptr, "certops_certificate_last_result"));
	/* a never-issued certificate has no expiry sample */
	assert_null(strstr(f->b.ptr, "not_after_timestamp_seconds{certificate=\"new\"}"));
	/* REPORT_PROM_NO_RECONCILE: the same as no cycle recorded */
	assert_int_equal(report_build(&r2, f->set, f->obs, f->p, &f->last, NULL, T0), 0);
	assert_int_equal(report_render_prometheus(&with_flag, r2, REPORT_PROM_NO_RECONCILE), 0);
	assert_string_equal(with_flag.ptr, f->b.ptr);
	report_free(r2);
	util_buf_release(&with_flag);
}

/* A cycle that stopped before the engine ran: nothing renews, so the
 * expiry rule decides the alert for every issued certificate. */
static void test_expiring_when_engine_did_not_run(void **vs)
{
	fx *f = *vs;

	f->last.has_certs = 0;
	f->last.result = "error";
	build(f, &f->last, NULL);
	assert_int_equal(report_render_prometheus(&f->b, f->r, 0), 0);
	assert_contiguous(f->b.ptr);
	assert_non_null(strstr(f->b.ptr, "\ncertops_certificate_expiring{certificate=\"www\"} 0\n"
					 "certops_certificate_expiring{certificate=\"api\"} 1\n#"));
	assert_null(strstr(f->b.ptr, "certops_certificate_last_result"));
	assert_non_null(strstr(f->b.ptr, "\ncertops_reconcile_up 0\n"));
	assert_null(report_find(f->r, "new")->last_result);
}

static void test_text(void **vs)
{
	fx *f = *vs;

	build(f, &f->last, NULL);
	assert_int_equal(report_render_text(&f->b, f->r, 0), 0);
	assert_non_null(strstr(f->b.ptr,
		"\n  api:files[1]    outdated        last 2026-11-01T00:00:00Z failed  "
		"bbbbbbbbbbbbbbbb...  (deploy the renewed certificate)\n"
		"new          new.example.com              le      -           not issued\n"
		"  new:files[0]    outdated        (deploy the new certificate)\n"
		"\n"
		"Last reconcile cycle: 2026-10-31T23:59:00Z partial at commit " COMMIT
		" (https://git.example/certs.git refs/heads/main); 12 cycles, 3 failed\n"
		"  2 certificates failing at " COMMIT "\n"
		"  api: failed, 2 failures in a row, next attempt 2026-11-01T01:00:00Z: boom\n"
		"  new: backoff, 1 failure in a row, next attempt 2026-11-01T00:10:00Z\n"));
	assert_non_null(strstr(f->b.ptr,
		"api          api.example.com,192.0.2.7    le      ecdsa-p256  "
		"2026-11-11T00:00:00Z  10d       now (Expiring)\n"));
	assert_int_equal(0, strncmp(f->b.ptr, "CERTIFICATE  IDENTIFIERS ", 25));
}

/* The report owns copies: the inputs are freed before it is rendered. */
static void test_json_owns_copies(void **vs)
{
	fx *f = *vs;
	source_result src;
	state_reconcile_status *last = calloc(1, sizeof(*last));
	json_t *doc, *c, *rec;
	json_error_t jerr;

	memset(&src, 0, sizeof(src));
	src.url = strdup("https://git.example/certs.git");
	src.ref = strdup("refs/heads/main");
	memcpy(src.commit, COMMIT, sizeof(COMMIT));
	src.offline = 1;
	*last = f->last;
	last->result = strdup("ok");
	last->commit = strdup(COMMIT);
	last->certs = calloc(1, sizeof(*last->certs));
	last->certs[0].name = strdup("www");
	last->certs[0].result = strdup("ok");
	last->ncerts = 1;
	build(f, last, &src);
	free(src.url);
	free(src.ref);
	free(last->result);
	free(last->commit);
	free(last->certs[0].name);
	free(last->certs[0].result);
	free(last->certs);
	free(last);
	plan_free(f->p);
	observe_result_free(f->obs);
	config_set_free(f->set);
	f->p = NULL;
	f->obs = NULL;
	f->set = NULL;

	assert_int_equal(report_render_json(&f->b, f->r), 0);
	doc = json_loads(f->b.ptr, 0, &jerr);
	if (!doc)
		fail_msg("bad JSON: %s at %d:%d", jerr.text, jerr.line, jerr.column);
	assert_string_equal("1.0", json_string_value(json_object_get(doc, "format_version")));
	assert_int_equal(7, json_integer_value(json_object_get(json_object_get(doc, "state"), "serial")));
	c = json_array_get(json_object_get(doc, "certificates"), 1);
	assert_string_equal("api", json_string_value(json_object_get(c, "name")));
	assert_string_equal("192.0.2.7", json_string_value(
		json_array_get(json_object_get(c, "identifiers"), 1)));
	assert_string_equal("Expiring", json_string_value(json_object_get(c, "reason")));
	assert_int_equal(10 * DAY, json_integer_value(json_object_get(c, "seconds_left")));
	c = json_array_get(json_object_get(c, "targets"), 1);
	assert_string_equal("failed", json_string_value(json_object_get(c, "result")));
	assert_string_equal("permission denied", json_string_value(json_object_get(c, "error")));
	assert_string_equal(COMMIT, json_string_value(json_object_get(
		json_object_get(doc, "source"), "commit")));
	assert_true(json_is_true(json_object_get(json_object_get(doc, "source"), "offline")));
	rec = json_object_get(doc, "reconcile");
	assert_string_equal(COMMIT, json_string_value(json_object_get(rec, "commit")));
	assert_string_equal("ok", json_string_value(json_object_get(rec, "result")));
	assert_int_equal(12, json_integer_value(json_object_get(rec, "cycles")));
	assert_int_equal(T0 - 60, json_integer_value(json_object_get(rec, "lastRun")));
	assert_string_equal("https://git.example/certs.git",
			    json_string_value(json_object_get(rec, "url")));
	assert_string_equal("www", json_string_value(json_object_get(
		json_array_get(json_object_get(rec, "certificates"), 0), "name")));
	json_decref(doc);
}

static void test_json_no_cycle(void **vs)
{
	fx *f = *vs;
	json_t *doc;

	build(f, NULL, NULL);
	assert_int_equal(report_render_json(&f->b, f->r), 0);
	assert_non_null(doc = json_loads(f->b.ptr, 0, NULL));
	assert_true(json_is_null(json_object_get(doc, "reconcile")));
	assert_true(json_is_null(json_object_get(doc, "source")));
	assert_true(json_is_null(json_object_get(json_array_get(
		json_object_get(doc, "certificates"), 2), "current")));
	json_decref(doc);
}

static void test_apply_json(void **vs)
{
	fx *f = *vs;
	apply_outcome o[2] = {
		{ "issue:api", 1, NULL, 1.25, 1 },
		{ "deploy:api:files[1]", 0, "permission \"denied\"", 0.5, 1 },
	};
	char *ids[] = { "deploy:api:files[1]" }, *why[] = { "failed: permission denied" };
	apply_report ar;
	util_buf want = UTIL_BUF_INIT;

	memset(&ar, 0, sizeof(ar));
	ar.outcomes = o;
	ar.count = 2;
	ar.n_done = 1;
	ar.n_failed = 1;
	ar.rounds = 2;
	ar.pending_ids = ids;
	ar.pending_why = why;
	ar.npending = 1;
	assert_int_equal(report_render_apply_json(&f->b, f->p, &ar), 0);
	util_buf_puts(&want, "{\"plan\":");
	assert_int_equal(plan_render_json(&want, f->p), 0);
	util_buf_truncate(&want, want.size - 1);
	util_buf_puts(&want, ",\"converged\":false,\"rounds\":2,\"done\":1,\"failed\":1,\"skipped\":0,"
		"\"actions\":[{\"id\":\"issue:api\",\"result\":\"done\",\"round\":1,\"elapsed\":1.250,"
		"\"error\":null},{\"id\":\"deploy:api:files[1]\",\"result\":\"failed\",\"round\":1,"
		"\"elapsed\":0.500,\"error\":\"permission \\\"denied\\\"\"}],"
		"\"not_converged\":[{\"id\":\"deploy:api:files[1]\",\"why\":\"failed: permission denied\"}]}\n");
	assert_string_equal(f->b.ptr, want.ptr);
	util_buf_release(&want);
}

/* A stored certificate no longer declared keeps its expiry in the metrics. */
static void test_orphans(void **vs)
{
	fx *f = *vs;
	json_t *doc;

	free(f->obs->orphan_certs);
	f->obs->orphan_certs = calloc(1, sizeof(*f->obs->orphan_certs));
	f->obs->orphan_certs[0].name = strdup("gone");
	f->obs->orphan_certs[0].not_after = T0 + 5 * DAY;
	f->obs->norphan_certs = 1;
	build(f, &f->last, NULL);
	assert_int_equal(report_render_prometheus(&f->b, f->r, 0), 0);
	assert_contiguous(f->b.ptr);
	assert_non_null(strstr(f->b.ptr,
		"certops_certificate_not_after_timestamp_seconds{certificate=\"api\"} 1794355200\n"
		"certops_certificate_not_after_timestamp_seconds{certificate=\"gone\"} 1793923200\n#"));
	assert_non_null(strstr(f->b.ptr,
		"certops_certificate_expiring{certificate=\"new\"} 0\n"
		"certops_certificate_expiring{certificate=\"gone\"} 0\n#"));
	assert_null(strstr(f->b.ptr, "certops_certificate_issued{certificate=\"gone\"}"));
	util_buf_clear(&f->b);
	assert_int_equal(report_render_text(&f->b, f->r, 0), 0);
	assert_non_null(strstr(f->b.ptr, "\ngone         (no longer declared; kept in the store)\n"));
	util_buf_clear(&f->b);
	assert_int_equal(report_render_json(&f->b, f->r), 0);
	assert_non_null(doc = json_loads(f->b.ptr, 0, NULL));
	assert_string_equal("gone", json_string_value(json_array_get(json_object_get(doc, "orphans"), 0)));
	json_decref(doc);
	/* the engine did not run: not declared, so never "expiring" */
	report_free(f->r);
	f->r = NULL;
	f->last.has_certs = 0;
	build(f, &f->last, NULL);
	util_buf_clear(&f->b);
	assert_int_equal(report_render_prometheus(&f->b, f->r, 0), 0);
	assert_non_null(strstr(f->b.ptr, "certops_certificate_expiring{certificate=\"gone\"} 0\n"));
	assert_non_null(strstr(f->b.ptr, "not_after_timestamp_seconds{certificate=\"gone\"}"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_prometheus_exact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prometheus_without_cycle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expiring_when_engine_did_not_run, setup, teardown),
		cmocka_unit_test_setup_teardown(test_text, setup, teardown),
		cmocka_unit_test_setup_teardown(test_json_owns_copies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_json_no_cycle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_orphans, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apply_json, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
