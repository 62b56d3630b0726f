/*
 * Rendering and saved plans: the human form (markers, reasons, summary),
 * the JSON form and its round trip, plan_save/plan_load, the staleness
 * check and re-resolving a loaded plan against the declarations.
 */
#include "helpers.h"

#include <unistd.h>

#include "util/fs.h"

static const char *const yaml =
	"kind: Issuer\nname: le\nacme: {directory: https://acme.example/dir}\n---\n"
	"kind: Certificate\nname: www\nissuer: le\ndomains: [www.example.com]\n"
	"renewBefore: 30d\n"
	"challenge: {http01: {webroot: /var/www/html}}\n"
	"deploy:\n"
	"  - files: {dir: /nonexistent/certops/www}\n"
	"  - exec: {command: [/bin/true]}\n"
	"verify:\n"
	"  - tls: {connect: \"127.0.0.1:443\"}\n";

typedef struct {
	config_set *set;
	observe_result *obs;
	plan *p;
	util_buf b;
} fx;

static int setup(void **vs)
{
	fx *f = calloc(1, sizeof(*f));

	f->set = load_set(yaml);
	f->obs = observe_empty(f->set);
	util_buf_init(&f->b);
	*vs = f;
	return 0;
}

static int teardown(void **vs)
{
	fx *f = *vs;

	plan_free(f->p);
	observe_result_free(f->obs);
	config_set_free(f->set);
	util_buf_release(&f->b);
	free(f);
	return 0;
}

static void test_human_fresh(void **vs)
{
	fx *f = *vs;

	f->p = make_plan(f->set, f->obs, T0);
	assert_int_equal(plan_render_human(&f->b, f->p, 0), 0);
	assert_string_equal(f->b.ptr,
		"  + account:le (NoAccount): no account at https://acme.example/dir\n"
		"  + issue:www (Missing): no certificate issued yet\n"
		"  + deploy:www:files[0] (NewCertificate): deploy the new certificate\n"
		"  ~ hook:www:exec[1] (Deployed): run after 1 deploy\n"
		"  ~ verify:www:verify[0] (Deployed): check what 127.0.0.1:443 serves\n"
		"\n"
		"Plan: 1 to issue, 0 to renew, 1 to deploy, 0 no longer declared. "
		"Also 1 account to register, 1 hook to run, 1 endpoint to verify.\n");
	assert_null(strchr(f->b.ptr, '\033'));
}

static void test_human_colour(void **vs)
{
	fx *f = *vs;

	f->p = make_plan(f->set, f->obs, T0);
	assert_int_equal(plan_render_human(&f->b, f->p, PLAN_RENDER_COLOR), 0);
	assert_non_null(strstr(f->b.ptr, "\033[32m+\033[0m"));
}

static void test_human_no_changes_and_orphans(void **vs)
{
	fx *f = *vs;

	set_accounts(f->obs);
	set_current(ocert(f->obs, "www"), T0, T0 + 90 * DAY, FP_A);
	set_in_sync(ocert(f->obs, "www"), FP_A);
	f->p = make_plan(f->set, f->obs, T0);
	assert_int_equal(plan_render_human(&f->b, f->p, 0), 0);
	assert_string_equal(f->b.ptr,
		"No changes. Certificates and targets match the declaration.\n");

	f->obs->orphan_certs = calloc(1, sizeof(*f->obs->orphan_certs));
	f->obs->orphan_certs[0].name = strdup("old");
	f->obs->norphan_certs = 1;
	plan_free(f->p);
	f->p = make_plan(f->set, f->obs, T0);
	util_buf_clear(&f->b);
	assert_int_equal(plan_render_human(&f->b, f->p, 0), 0);
	assert_string_equal(f->b.ptr,
		"  # orphan:old (NotDeclared): no longer declared; kept (--prune removes it)\n"
		"\n"
		"No changes. Certificates and targets match the declaration.\n"
		"1 no longer declared (kept; --prune removes it).\n");
}

static void test_human_renew_marker(void **vs)
{
	fx *f = *vs;

	set_accounts(f->obs);
	set_current(ocert(f->obs, "www"), T0, T0 + 90 * DAY, FP_A);
	set_in_sync(ocert(f->obs, "www"), FP_A);
	f->p = make_plan(f->set, f->obs, T0 + 70 * DAY);
	assert_int_equal(plan_render_human(&f->b, f->p, 0), 0);
	assert_non_null(strstr(f->b.ptr, "  ~ issue:www (Expiring): expires "));
	assert_non_null(strstr(f->b.ptr, "  ~ deploy:www:files[0] (NewCertificate)"));
	assert_non_null(strstr(f->b.ptr, "Plan: 0 to issue, 1 to renew, 1 to deploy"));
}

static void json_roundtrip(fx *f)
{
	plan *back = NULL;
	util_buf again = UTIL_BUF_INIT;
	size_t i, j;

	assert_int_equal(plan_render_json(&f->b, f->p), 0);
	assert_int_equal(plan_parse_json(&back, f->b.ptr, f->b.size), 0);
	assert_int_equal(back->count, f->p->count);
	for (i = 0; i < back->count; i++) {
		const plan_action *a = &f->p->actions[i], *b = &back->actions[i];

		assert_string_equal(a->id, b->id);
		assert_int_equal(a->kind, b->kind);
		assert_int_equal(a->reason, b->reason);
		assert_string_equal(a->message, b->message);
		assert_int_equal(a->index, b->index);
		assert_int_equal(a->prune, b->prune);
		assert_int_equal(a->renew_at, b->renew_at);
		assert_int_equal(a->current_not_after, b->current_not_after);
		assert_int_equal(a->ndepends, b->ndepends);
		for (j = 0; j < a->ndepends; j++)
			assert_string_equal(a->depends_on[j], b->depends_on[j]);
	}
	assert_string_equal(back->config_digest, f->p->config_digest);
	assert_int_equal(back->state_serial, f->p->state_serial);
	assert_int_equal(back->now, f->p->now);
	assert_int_equal(back->n_deploy, f->p->n_deploy);
	assert_int_equal(plan_render_json(&again, back), 0);
	assert_string_equal(again.ptr, f->b.ptr);
	util_buf_release(&again);
	plan_free(back);
}

static void test_json_roundtrip_fresh(void **vs)
{
	fx *f = *vs;

	f->p = make_plan(f->set, f->obs, T0);
	json_roundtrip(f);
	assert_non_null(strstr(f->b.ptr, "\"format_version\": \"" PLAN_FORMAT_VERSION "\""));
	assert_non_null(strstr(f->b.ptr, "\"planned_at\": \"2026-11-01T00:00:00Z\""));
}

static void test_json_roundtrip_renewal(void **vs)
{
	fx *f = *vs;

	set_accounts(f->obs);
	set_current(ocert(f->obs, "www"), T0, T0 + 90 * DAY, FP_A);
	set_in_sync(ocert(f->obs, "www"), FP_A);
	f->obs->has_state = 1;
	f->obs->state_serial = 42;
	f->p = make_plan(f->set, f->obs, T0 + 70 * DAY);
	json_roundtrip(f);
	assert_non_null(strstr(f->b.ptr, "\"serial\": 42"));
	assert_non_null(strstr(f->b.ptr, "\"current_fingerprint\": \"" FP_A "\""));
}

static void test_parse_rejects(void **vs)
{
	plan *p = NULL;
	static const char *const bad[] = {
		"",
		"[]",
		"{\"format_version\": \"2.0\"}",
		"{\"format_version\": \"1.0\", \"config_digest\": \"x\"}",
		"{\"format_version\": \"1.0\", \"config_digest\": \"" FP_A "\","
		" \"state\": {\"present\": true, \"serial\": 1}, \"actions\": [{\"id\": \"x\","
		" \"kind\": \"explode\", \"reason\": \"Missing\"}]}",
		"{\"format_version\": \"1.0\", \"config_digest\": \"" FP_A "\","
		" \"state\": {\"present\": true, \"serial\": 1}, \"actions\": [{\"id\": \"x\","
		" \"kind\": \"issue\", \"reason\": \"Because\"}]}",
	};
	size_t i;

	(void)vs;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(plan_parse_json(&p, bad[i], strlen(bad[i])), CERTOPS_EINVALID);
		assert_null(p);
	}
	assert_non_null(strstr(util_error_message(), "unknown reason 'Because'"));
}

static void test_save_load_fresh_check(void **vs)
{
	fx *f = *vs;
	char dir[] = "/tmp/certops-plan-XXXXXX";
	util_buf path = UTIL_BUF_INIT;
	plan *back = NULL;
	char digest[CONFIG_HASH_HEX_LEN + 1];

	assert_non_null(mkdtemp(dir));
	util_fs_join(&path, dir, "plan.json");
	f->obs->has_state = 1;
	f->obs->state_serial = 7;
	f->p = make_plan(f->set, f->obs, T0);
	assert_int_equal(plan_save(f->p, path.ptr), 0);
	assert_int_equal(plan_load(&back, path.ptr), 0);
	assert_int_equal(back->count, f->p->count);

	assert_int_equal(plan_config_digest(digest, f->set), 0);
	assert_int_equal(plan_check_fresh(back, digest, 1, 7), 0);
	assert_int_equal(plan_check_fresh(back, digest, 1, 8), CERTOPS_ESTALE);
	assert_non_null(strstr(util_error_message(), "the state store changed"));
	assert_int_equal(plan_check_fresh(back, digest, 0, 0), CERTOPS_ESTALE);
	digest[0] = digest[0] == '0' ? '1' : '0';
	assert_int_equal(plan_check_fresh(back, digest, 1, 7), CERTOPS_ESTALE);
	assert_non_null(strstr(util_error_message(), "the declarations changed"));

	/* resolve points actions at the declarations again */
	assert_null(back->actions[2].target_cfg);
	assert_int_equal(plan_resolve(back, f->set), 0);
	assert_ptr_equal(plan_find(back, "deploy:www:files[0]")->target_cfg,
			 &f->set->certificates[0]->deploy[0]);
	assert_ptr_equal(plan_find(back, "verify:www:verify[0]")->verify_cfg,
			 &f->set->certificates[0]->verify[0]);
	assert_ptr_equal(plan_find(back, "issue:www")->issuer_cfg, f->set->issuers[0]);
	plan_free(back);

	/* a missing or broken file says which */
	assert_int_equal(util_fs_write_atomic(path.ptr, "{", 1, 0600), 0);
	assert_int_equal(plan_load(&back, path.ptr), CERTOPS_EINVALID);
	assert_non_null(strstr(util_error_message(), path.ptr));
	unlink(path.ptr);
	assert_int_equal(plan_load(&back, path.ptr), CERTOPS_ENOTFOUND);
	rmdir(dir);
	util_buf_release(&path);
}

static void test_resolve_missing_target(void **vs)
{
	fx *f = *vs;
	config_set *smaller = load_set(
		"kind: Issuer\nname: le\nacme: {directory: https://acme.example/dir}\n---\n"
		"kind: Certificate\nname: www\nissuer: le\ndomains: [www.example.com]\n"
		"challenge: {http01: {webroot: /var/www/html}}\n");

	f->p = make_plan(f->set, f->obs, T0);
	assert_int_equal(plan_resolve(f->p, smaller), CERTOPS_ESTALE);
	assert_non_null(strstr(util_error_message(), "www:files[0]"));
	config_set_free(smaller);
}

static void test_names(void **vs)
{
	plan_reason r;
	plan_action_kind k;
	int i;

	(void)vs;
	for (i = 0; i < PLAN_REASON__COUNT; i++) {
		assert_int_equal(plan_reason_parse(&r, plan_reason_name((plan_reason)i)), 0);
		assert_int_equal(r, i);
	}
	for (i = 0; i < PLAN_ACTION__COUNT; i++) {
		assert_int_equal(plan_action_kind_parse(&k, plan_action_kind_name((plan_action_kind)i)), 0);
		assert_int_equal(k, i);
	}
	assert_string_equal(plan_reason_name(PLAN_REASON_RENEWAL_WINDOW), "RenewalWindow");
	assert_string_equal(plan_action_kind_name(PLAN_ACTION_RUN_HOOK), "run-hook");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(x) cmocka_unit_test_setup_teardown(x, setup, teardown)
		T(test_human_fresh),
		T(test_human_colour),
		T(test_human_no_changes_and_orphans),
		T(test_human_renew_marker),
		T(test_json_roundtrip_fresh),
		T(test_json_roundtrip_renewal),
		T(test_parse_rejects),
		T(test_save_load_fresh_check),
		T(test_resolve_missing_target),
		T(test_names),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
