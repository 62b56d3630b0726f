/*
 * The planner's rules: each issue reason, deploy reasons and drift
 * messages, dependencies and order, orphans, --at.
 */
#include "helpers.h"

#include <sys/stat.h>

static const char *const yaml =
	"kind: Issuer\n"
	"name: le\n"
	"acme: {directory: https://acme.example/dir}\n"
	"---\n"
	"kind: Issuer\n"
	"name: other\n"
	"acme: {directory: https://other.example/dir}\n"
	"---\n"
	"kind: Certificate\n"
	"name: www\n"
	"issuer: le\n"
	"domains: [www.example.com, example.com]\n"
	"renewBefore: 30d\n"
	"challenge: {http01: {webroot: /var/www/html}}\n"
	"deploy:\n"
	"  - files: {dir: /nonexistent/certops/www, fullchain: fullchain.pem, key: privkey.pem, mode: \"0600\"}\n"
	"  - files: {dir: /nonexistent/certops/www2, cert: cert.pem}\n"
	"  - exec: {command: [/bin/true]}\n"
	"verify:\n"
	"  - tls: {connect: \"127.0.0.1:443\"}\n"
	"---\n"
	"kind: Certificate\n"
	"name: api\n"
	"issuer: le\n"
	"domains: [api.example.com]\n"
	"key: {type: rsa-2048}\n"
	"challenge: {http01: {webroot: /var/www/html}}\n";

typedef struct {
	config_set *set;
	observe_result *obs;
	plan *p;
} fx;

static int setup(void **vs)
{
	fx *f = calloc(1, sizeof(*f));

	f->set = load_set(yaml);
	f->obs = observe_empty(f->set);
	*vs = f;
	return 0;
}

static int teardown(void **vs)
{
	fx *f = *vs;

	plan_free(f->p);
	observe_result_free(f->obs);
	config_set_free(f->set);
	free(f);
	return 0;
}

/* Everything issued 10 days before T0 for 90 days, deployed, in sync. */
static void all_in_sync(fx *f)
{
	observe_cert *www = ocert(f->obs, "www"), *api = ocert(f->obs, "api");

	set_accounts(f->obs);
	set_current(www, T0 - 10 * DAY, T0 + 80 * DAY, FP_A);
	set_in_sync(www, FP_A);
	set_current(api, T0 - 10 * DAY, T0 + 80 * DAY, FP_B);
	set_in_sync(api, FP_B);
}

static void replan(fx *f, time_t now)
{
	plan_free(f->p);
	f->p = make_plan(f->set, f->obs, now);
}

static void test_fresh(void **vs)
{
	fx *f = *vs;
	const plan_action *a;

	replan(f, T0);
	/* one account for both certificates, issued first */
	assert_string_equal(f->p->actions[0].id, "account:le");
	assert_int_equal(f->p->actions[0].kind, PLAN_ACTION_REGISTER_ACCOUNT);
	assert_null(plan_find(f->p, "account:other")); /* no certificate uses it */
	a = must_find(f->p, "issue:www");
	assert_int_equal(a->kind, PLAN_ACTION_ISSUE);
	assert_string_equal(plan_reason_name(a->reason), "Missing");
	assert_true(depends(a, "account:le"));
	a = must_find(f->p, "deploy:www:files[0]");
	assert_string_equal(plan_reason_name(a->reason), "NewCertificate");
	assert_true(depends(a, "issue:www"));
	assert_int_equal(a->index, 0);
	must_find(f->p, "deploy:www:files[1]");
	a = must_find(f->p, "hook:www:exec[2]");
	assert_int_equal(a->kind, PLAN_ACTION_RUN_HOOK);
	assert_true(depends(a, "deploy:www:files[0]"));
	assert_true(depends(a, "deploy:www:files[1]"));
	assert_false(depends(a, "issue:www"));
	a = must_find(f->p, "verify:www:verify[0]");
	assert_true(depends(a, "hook:www:exec[2]"));
	assert_false(depends(a, "deploy:www:files[0]"));
	assert_int_equal(f->p->n_issue, 2);
	assert_int_equal(f->p->n_renew, 0);
	assert_int_equal(f->p->n_deploy, 2);
	assert_int_equal(f->p->n_hooks, 1);
	assert_int_equal(f->p->n_accounts, 1);
	assert_true(plan_has_changes(f->p));
}

/* Every dependency names an action that comes earlier in the list. */
static void test_order_is_topological(void **vs)
{
	fx *f = *vs;
	size_t i, j;

	replan(f, T0);
	for (i = 0; i < f->p->count; i++)
		for (j = 0; j < f->p->actions[i].ndepends; j++)
			assert_true(pos_of(f->p, f->p->actions[i].depends_on[j]) < i);
	/* certificates in name order: api before www */
	assert_true(pos_of(f->p, "issue:api") < pos_of(f->p, "issue:www"));
}

static void test_no_changes(void **vs)
{
	fx *f = *vs;

	all_in_sync(f);
	replan(f, T0);
	assert_int_equal(f->p->count, 0);
	assert_false(plan_has_changes(f->p));
}

static void test_account_only_when_issuing(void **vs)
{
	fx *f = *vs;

	all_in_sync(f);
	f->obs->issuers[0].has_account = 0;
	replan(f, T0);
	assert_int_equal(f->p->count, 0); /* nothing to issue: no account needed */
	ocert(f->obs, "api")->renewal.revoked = 1;
	replan(f, T0);
	assert_non_null(plan_find(f->p, "account:le"));
	assert_true(depends(must_find(f->p, "issue:api"), "account:le"));
}

static void test_identifiers_changed(void **vs)
{
	fx *f = *vs;
	observe_cert *www;
	const plan_action *a;

	all_in_sync(f);
	www = ocert(f->obs, "www");
	/* issued for www + old, declared www + example.com */
	free(www->cur.sans[1]);
	www->cur.sans[1] = strdup("old.example.com");
	replan(f, T0);
	a = must_find(f->p, "issue:www");
	assert_string_equal(plan_reason_name(a->reason), "IdentifiersChanged");
	assert_string_equal(a->message, "adds example.com; removes old.example.com");
	assert_string_equal(a->current_fingerprint, FP_A);
	assert_int_equal(f->p->n_renew, 1);
	assert_int_equal(f->p->n_issue, 0);
	/* its targets get the new certificate, after the issue */
	assert_true(depends(must_find(f->p, "deploy:www:files[0]"), "issue:www"));
	assert_null(plan_find(f->p, "issue:api"));
}

static void test_identifiers_case_and_order_ignored(void **vs)
{
	fx *f = *vs;
	observe_cert *www;
	char *t;

	all_in_sync(f);
	www = ocert(f->obs, "www");
	t = www->cur.sans[0];
	www->cur.sans[0] = www->cur.sans[1];
	www->cur.sans[1] = t;
	www->cur.sans[0][0] = 'E';
	replan(f, T0);
	assert_null(plan_find(f->p, "issue:www"));
}

static void test_key_spec_changed(void **vs)
{
	fx *f = *vs;
	observe_cert *api;
	const plan_action *a;

	all_in_sync(f);
	api = ocert(f->obs, "api");
	free(api->cur.key_spec);
	api->cur.key_spec = strdup("ecdsa-p256");
	replan(f, T0);
	a = must_find(f->p, "issue:api");
	assert_string_equal(plan_reason_name(a->reason), "KeySpecChanged");
	assert_string_equal(a->message, "key ecdsa-p256, declared rsa-2048");
}

static void test_issuer_changed(void **vs)
{
	fx *f = *vs;
	observe_cert *api;
	const plan_action *a;

	all_in_sync(f);
	api = ocert(f->obs, "api");
	free(api->cur.issuer);
	api->cur.issuer = strdup("other");
	replan(f, T0);
	a = must_find(f->p, "issue:api");
	assert_string_equal(plan_reason_name(a->reason), "IssuerChanged");
	assert_string_equal(a->message, "issuer other, declared le");
}

static void test_declaration_changed(void **vs)
{
	fx *f = *vs;
	observe_cert *api;

	all_in_sync(f);
	api = ocert(f->obs, "api");
	free(api->cur.declaration_hash);
	api->cur.declaration_hash = strdup(FP_B);
	replan(f, T0);
	assert_string_equal(plan_reason_name(must_find(f->p, "issue:api")->reason),
			    "DeclarationChanged");
}

static void test_revoked_and_forced(void **vs)
{
	fx *f = *vs;
	plan_options o;
	const char *force[] = { "www" };

	all_in_sync(f);
	ocert(f->obs, "api")->renewal.revoked = 1;
	replan(f, T0);
	assert_string_equal(plan_reason_name(must_find(f->p, "issue:api")->reason), "Revoked");
	assert_null(plan_find(f->p, "issue:www"));

	memset(&o, 0, sizeof(o));
	o.now = T0;
	o.force = force;
	o.nforce = 1;
	plan_free(f->p);
	assert_int_equal(plan_new(&f->p, f->set, f->obs, &o), 0);
	assert_string_equal(plan_reason_name(must_find(f->p, "issue:www")->reason), "Forced");
	o.nforce = 0;
	o.force_all = 1;
	plan_free(f->p);
	assert_int_equal(plan_new(&f->p, f->set, f->obs, &o), 0);
	/* Forced does not hide a more specific reason */
	assert_string_equal(plan_reason_name(must_find(f->p, "issue:www")->reason), "Forced");
	assert_non_null(plan_find(f->p, "issue:api"));
}

static void test_expired(void **vs)
{
	fx *f = *vs;
	const plan_action *a;

	all_in_sync(f);
	replan(f, T0 + 81 * DAY);
	a = must_find(f->p, "issue:www");
	assert_string_equal(plan_reason_name(a->reason), "Expired");
	assert_non_null(strstr(a->message, "expired 2027-01-20T00:00:00Z (1d ago)"));
}

/* renewBefore 30d: due exactly 30 days before notAfter (no jitter here). */
static void test_expiring_renew_before_and_at(void **vs)
{
	fx *f = *vs;
	const plan_action *a;
	time_t na = T0 + 80 * DAY;

	all_in_sync(f);
	replan(f, na - 30 * DAY - 1);
	assert_null(plan_find(f->p, "issue:www"));
	replan(f, na - 30 * DAY);
	a = must_find(f->p, "issue:www");
	assert_string_equal(plan_reason_name(a->reason), "Expiring");
	assert_int_equal(a->renew_at, na - 30 * DAY);
	assert_non_null(strstr(a->message, "(renewBefore 30d)"));
	assert_non_null(strstr(a->message, "expires 2027-01-20T00:00:00Z (in 30d)"));
	assert_int_equal(f->p->now, na - 30 * DAY);
}

static void test_ari_window(void **vs)
{
	fx *f = *vs;
	observe_cert *www;
	const plan_action *a;

	all_in_sync(f);
	www = ocert(f->obs, "www");
	/* the CA wants it renewed well before renewBefore would */
	www->renewal.has_window = 1;
	www->renewal.window_start = T0 + 5 * DAY;
	www->renewal.window_end = T0 + 6 * DAY;
	replan(f, T0 + 4 * DAY);
	assert_null(plan_find(f->p, "issue:www"));
	replan(f, T0 + 6 * DAY);
	a = must_find(f->p, "issue:www");
	assert_string_equal(plan_reason_name(a->reason), "RenewalWindow");
	assert_true(a->renew_at >= T0 + 5 * DAY && a->renew_at < T0 + 6 * DAY);
}

/* ---- deploys ---- */

static void test_drift_missing_file_only_that_target(void **vs)
{
	fx *f = *vs;
	observe_target *t;
	const plan_action *a;

	all_in_sync(f);
	t = &ocert(f->obs, "www")->targets[0];
	t->observed.files[0].exists = 0;
	t->observed.files[0].content_matches = -1;
	replan(f, T0);
	a = must_find(f->p, "deploy:www:files[0]");
	assert_string_equal(plan_reason_name(a->reason), "Drifted");
	assert_string_equal(a->message, "/nonexistent/certops/www/fullchain.pem is missing");
	assert_string_equal(a->current_fingerprint, FP_A);
	assert_int_equal(a->ndepends, 0); /* no new order */
	assert_null(plan_find(f->p, "issue:www"));
	assert_null(plan_find(f->p, "deploy:www:files[1]"));
	/* the hook runs after the redeploy, the verify after the hook */
	assert_true(depends(must_find(f->p, "hook:www:exec[2]"), "deploy:www:files[0]"));
	assert_string_equal(plan_reason_name(must_find(f->p, "hook:www:exec[2]")->reason),
			    "Deployed");
	assert_true(depends(must_find(f->p, "verify:www:verify[0]"), "hook:www:exec[2]"));
	assert_int_equal(f->p->n_deploy, 1);
}

static void test_drift_mode(void **vs)
{
	fx *f = *vs;
	observe_target *t;

	all_in_sync(f);
	t = &ocert(f->obs, "www")->targets[0];
	t->observed.files[1].mode = 0644; /* the key */
	replan(f, T0);
	assert_string_equal(must_find(f->p, "deploy:www:files[0]")->message,
			    "/nonexistent/certops/www/privkey.pem has mode 0644, want 0600");
	/* certificates are 0644: 0600 on cert.pem is drift too */
	t = &ocert(f->obs, "www")->targets[1];
	t->observed.files[0].mode = 0600;
	replan(f, T0);
	assert_string_equal(must_find(f->p, "deploy:www:files[1]")->message,
			    "/nonexistent/certops/www2/cert.pem has mode 0600, want 0644");
}

static void test_drift_other_certificate_and_key(void **vs)
{
	fx *f = *vs;
	observe_target *t;
	const plan_action *a;

	all_in_sync(f);
	t = &ocert(f->obs, "www")->targets[0];
	t->observed.files[0].content_matches = 0;
	t->observed.files[0].fingerprint = strdup(FP_B);
	t->observed.files[1].content_matches = 0;
	t->observed.files[1].key_matches = 0;
	replan(f, T0);
	a = must_find(f->p, "deploy:www:files[0]");
	assert_string_equal(a->message,
			    "/nonexistent/certops/www/fullchain.pem holds certificate "
			    "bbbbbbbbbbbbbbbb... instead of aaaaaaaaaaaaaaaa...; "
			    "/nonexistent/certops/www/privkey.pem holds a key that does not "
			    "belong to the certificate");
	/* same leaf, other bytes (a chain edited by hand) */
	t->observed.files[1].content_matches = 1;
	free(t->observed.files[0].fingerprint);
	t->observed.files[0].fingerprint = strdup(FP_A);
	replan(f, T0);
	assert_string_equal(must_find(f->p, "deploy:www:files[0]")->message,
			    "/nonexistent/certops/www/fullchain.pem differs from the issued chain");
	/* not a certificate at all */
	free(t->observed.files[0].fingerprint);
	t->observed.files[0].fingerprint = NULL;
	replan(f, T0);
	assert_string_equal(must_find(f->p, "deploy:www:files[0]")->message,
			    "/nonexistent/certops/www/fullchain.pem holds no certificate");
}

static void test_drift_owner(void **vs)
{
	fx *f = *vs;
	observe_target *t;

	all_in_sync(f);
	t = &ocert(f->obs, "www")->targets[1];
	t->observed.want_uid = 0;
	t->observed.files[0].uid = 1000;
	replan(f, T0);
	assert_non_null(strstr(must_find(f->p, "deploy:www:files[1]")->message,
			       "cert.pem is owned by uid 1000"));
}

static void test_deploy_reasons_from_record(void **vs)
{
	fx *f = *vs;
	observe_target *t;
	const plan_action *a;

	all_in_sync(f);
	t = &ocert(f->obs, "www")->targets[0];
	t->has_record = 0;
	replan(f, T0);
	assert_string_equal(plan_reason_name(must_find(f->p, "deploy:www:files[0]")->reason),
			    "Missing");

	t->has_record = 1;
	t->deployed_ok = 0;
	t->deploy_message = strdup("permission denied");
	replan(f, T0);
	a = must_find(f->p, "deploy:www:files[0]");
	assert_string_equal(plan_reason_name(a->reason), "PreviousFailed");
	assert_string_equal(a->message, "the last deploy failed: permission denied");

	t->deployed_ok = 1;
	free(t->deployed_config_hash);
	t->deployed_config_hash = strdup(FP_B);
	replan(f, T0);
	assert_string_equal(plan_reason_name(must_find(f->p, "deploy:www:files[0]")->reason),
			    "TargetConfigChanged");

	free(t->deployed_config_hash);
	t->deployed_config_hash = strdup(t->config_hash);
	free(t->deployed_fingerprint);
	t->deployed_fingerprint = strdup(FP_B);
	replan(f, T0);
	a = must_find(f->p, "deploy:www:files[0]");
	assert_string_equal(plan_reason_name(a->reason), "NewCertificate");
	assert_string_equal(a->message, "deployed bbbbbbbbbbbbbbbb..., current aaaaaaaaaaaaaaaa...");
}

static void test_hook_alone(void **vs)
{
	fx *f = *vs;
	observe_target *t;
	const plan_action *a;

	all_in_sync(f);
	t = &ocert(f->obs, "www")->targets[2];
	t->deployed_ok = 0;
	replan(f, T0);
	a = must_find(f->p, "hook:www:exec[2]");
	assert_string_equal(plan_reason_name(a->reason), "PreviousFailed");
	assert_int_equal(a->ndepends, 0);
	assert_int_equal(f->p->n_deploy, 0);
	assert_true(depends(must_find(f->p, "verify:www:verify[0]"), "hook:www:exec[2]"));
}

static void test_served_stale_reruns_hooks(void **vs)
{
	fx *f = *vs;
	observe_cert *www;

	all_in_sync(f);
	www = ocert(f->obs, "www");
	www->verifies[0].checked = 1;
	www->verifies[0].status = 1; /* OBSERVE_TLS_STALE */
	www->verifies[0].served_fingerprint = strdup(FP_B);
	replan(f, T0);
	assert_string_equal(plan_reason_name(must_find(f->p, "hook:www:exec[2]")->reason),
			    "Drifted");
	assert_non_null(strstr(must_find(f->p, "verify:www:verify[0]")->message,
			       "(stale: serves bbbbbbbbbbbbbbbb..., an older certificate of ours)"));
	/* someone else's certificate: foreign, hooks again too */
	www->verifies[0].status = 2; /* OBSERVE_TLS_FOREIGN */
	replan(f, T0);
	assert_non_null(must_find(f->p, "hook:www:exec[2]"));
	assert_non_null(strstr(must_find(f->p, "verify:www:verify[0]")->message,
			       "(foreign: serves bbbbbbbbbbbbbbbb..., not a certificate of ours)"));
	/* no handshake: unreachable, with the error */
	www->verifies[0].status = 3; /* OBSERVE_TLS_UNREACHABLE */
	free(www->verifies[0].served_fingerprint);
	www->verifies[0].served_fingerprint = NULL;
	www->verifies[0].error = strdup("connect 127.0.0.1:443: Connection refused");
	replan(f, T0);
	assert_non_null(must_find(f->p, "hook:www:exec[2]"));
	assert_non_null(strstr(must_find(f->p, "verify:www:verify[0]")->message,
			       "(unreachable: connect 127.0.0.1:443: Connection refused)"));
	free(www->verifies[0].error);
	www->verifies[0].error = NULL;
	www->verifies[0].status = 0;
	www->verifies[0].served_fingerprint = strdup(FP_B);
	www->verifies[0].served_fingerprint[0] = 'a';
	memset(www->verifies[0].served_fingerprint, 'a', 64);
	replan(f, T0);
	assert_int_equal(f->p->count, 0);
}

static void test_observation_error_redeploys(void **vs)
{
	fx *f = *vs;
	observe_target *t;

	all_in_sync(f);
	t = &ocert(f->obs, "www")->targets[1];
	t->observed.files[0].error = strdup("cannot stat '/x/cert.pem': Permission denied");
	replan(f, T0);
	assert_string_equal(must_find(f->p, "deploy:www:files[1]")->message,
			    "cannot stat '/x/cert.pem': Permission denied");
}

static void test_unreadable_store_record(void **vs)
{
	fx *f = *vs;
	observe_cert *api;

	all_in_sync(f);
	api = ocert(f->obs, "api");
	api->present = 0;
	api->error = strdup("corrupt meta.json");
	replan(f, T0);
	assert_string_equal(must_find(f->p, "issue:api")->message,
			    "the stored certificate cannot be read (corrupt meta.json)");
}

/* ---- orphans ---- */

static void add_orphans(observe_result *obs)
{
	obs->orphan_certs = calloc(1, sizeof(*obs->orphan_certs));
	obs->orphan_certs[0].name = strdup("old");
	obs->orphan_certs[0].fingerprint = strdup(FP_B);
	obs->norphan_certs = 1;
	obs->orphan_targets = calloc(1, sizeof(*obs->orphan_targets));
	obs->orphan_targets[0].id = strdup("old:files[0]");
	obs->orphan_targets[0].certificate = strdup("old");
	obs->norphan_targets = 1;
}

static void test_orphans_kept_are_not_changes(void **vs)
{
	fx *f = *vs;
	plan_options o;
	const plan_action *a;

	all_in_sync(f);
	add_orphans(f->obs);
	replan(f, T0);
	assert_int_equal(f->p->count, 2);
	a = must_find(f->p, "orphan:old");
	assert_int_equal(a->kind, PLAN_ACTION_ORPHAN);
	assert_string_equal(plan_reason_name(a->reason), "NotDeclared");
	assert_false(a->prune);
	assert_string_equal(must_find(f->p, "orphan-target:old:files[0]")->target, "old:files[0]");
	assert_int_equal(f->p->n_orphans, 2);
	assert_false(plan_has_changes(f->p));

	memset(&o, 0, sizeof(o));
	o.now = T0;
	o.prune = 1;
	plan_free(f->p);
	assert_int_equal(plan_new(&f->p, f->set, f->obs, &o), 0);
	assert_true(must_find(f->p, "orphan:old")->prune);
	assert_int_equal(f->p->n_prune, 2);
	assert_true(plan_has_changes(f->p));
}

/* ---- the digest ---- */

static void test_config_digest(void **vs)
{
	fx *f = *vs;
	char d1[CONFIG_HASH_HEX_LEN + 1], d2[CONFIG_HASH_HEX_LEN + 1];
	config_set *other;
	util_buf y = UTIL_BUF_INIT;
	const char *at = strstr(yaml, "example.com]");

	assert_int_equal(plan_config_digest(d1, f->set), 0);
	assert_int_equal(plan_config_digest(d2, f->set), 0);
	assert_string_equal(d1, d2);
	assert_int_equal(strlen(d1), 64);
	/* adding a name changes it */
	util_buf_put(&y, yaml, (size_t)(at - yaml));
	util_buf_puts(&y, "example.com, new.example.com");
	util_buf_puts(&y, at + strlen("example.com"));
	other = load_set(y.ptr);
	assert_int_equal(plan_config_digest(d2, other), 0);
	assert_string_not_equal(d1, d2);
	config_set_free(other);
	util_buf_release(&y);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(x) cmocka_unit_test_setup_teardown(x, setup, teardown)
		T(test_fresh),
		T(test_order_is_topological),
		T(test_no_changes),
		T(test_account_only_when_issuing),
		T(test_identifiers_changed),
		T(test_identifiers_case_and_order_ignored),
		T(test_key_spec_changed),
		T(test_issuer_changed),
		T(test_declaration_changed),
		T(test_revoked_and_forced),
		T(test_expired),
		T(test_expiring_renew_before_and_at),
		T(test_ari_window),
		T(test_drift_missing_file_only_that_target),
		T(test_drift_mode),
		T(test_drift_other_certificate_and_key),
		T(test_drift_owner),
		T(test_deploy_reasons_from_record),
		T(test_hook_alone),
		T(test_served_stale_reruns_hooks),
		T(test_observation_error_redeploys),
		T(test_unreadable_store_record),
		T(test_orphans_kept_are_not_changes),
		T(test_config_digest),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
