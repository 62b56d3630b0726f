/*
 * observe_run for the kinds beyond files: a pkcs12 target is read back
 * with the declared password (only when a policy allows reading it), a
 * changed password is drift the planner redeploys; exec hooks stay
 * unobserved; the online switch follows CERTOPS_OFFLINE.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/config.h"
#include "config/policy.h"
#include "crypto/crypto.h"
#include "observe/observe.h"
#include "plan/plan.h"
#include "state/state.h"
#include "target/target.h"
#include "util/error.h"
#include "util/fs.h"

static char root[64];

typedef struct {
	config_set *set;
	config_policy *policy;
	state *st;
	char *chain, *key, *fp;
} fx;

static int setup(void **vs)
{
	fx *f = calloc(1, sizeof(*f));
	char yaml[1024], pol[256], hash[CONFIG_HASH_HEX_LEN + 1];
	char *sans[] = { "www.example.com" };
	unsigned char ext[34] = { 0x04, 0x20 };
	crypto_key *k = NULL, *k2 = NULL;
	util_buf chain = UTIL_BUF_INIT, key = UTIL_BUF_INIT, hex = UTIL_BUF_INIT,
		 p = UTIL_BUF_INIT;
	util_diags d = UTIL_DIAGS_INIT;
	crypto_cert_info info;
	state_cert sc;

	memcpy(root, "/tmp/certops-online-XXXXXX", sizeof("/tmp/certops-online-XXXXXX"));
	assert_non_null(mkdtemp(root));
	setenv("CERTOPS_TEST_P12", "first-password", 1);
	snprintf(yaml, sizeof(yaml),
		 "kind: Issuer\nname: le\nacme: {directory: https://acme.example/dir}\n---\n"
		 "kind: Certificate\nname: www\nissuer: le\ndomains: [www.example.com]\n"
		 "challenge: {http01: {webroot: %s/acme}}\n"
		 "deploy:\n"
		 "  - pkcs12: {path: %s/p12/www.p12, password: {env: CERTOPS_TEST_P12}}\n"
		 "  - exec: {command: [/bin/true]}\n",
		 root, root);
	assert_int_equal(config_set_new(&f->set), 0);
	assert_int_equal(config_set_add_buffer(f->set, &d, "t.yaml", yaml, strlen(yaml)), 0);
	assert_int_equal(config_set_validate(f->set, &d), 0);
	snprintf(pol, sizeof(pol), "writeRoots: [%s]\nexec: [[/bin/true]]\nsecrets: {env: [CERTOPS_TEST_P12]}\n",
		 root);
	assert_int_equal(config_policy_parse(&f->policy, &d, "policy.yaml", pol, strlen(pol), root), 0);
	assert_int_equal(d.count, 0);

	assert_int_equal(crypto_key_generate(&k, CRYPTO_KEY_EC_P256), 0);
	assert_int_equal(crypto_key_generate(&k2, CRYPTO_KEY_EC_P256), 0);
	assert_int_equal(crypto_tlsalpn01_cert(&chain, k, "www.example.com", ext, sizeof(ext)), 0);
	assert_int_equal(crypto_tlsalpn01_cert(&chain, k2, "ca.example", ext, sizeof(ext)), 0);
	assert_int_equal(crypto_key_to_pem(&key, k), 0);
	memset(&info, 0, sizeof(info));
	assert_int_equal(crypto_cert_parse(&info, chain.ptr, chain.size), 0);
	assert_int_equal(crypto_hex_encode(&hex, info.fingerprint, 32, 0), 0);
	crypto_cert_info_release(&info);
	f->chain = util_buf_detach(&chain);
	f->key = util_buf_detach(&key);
	f->fp = util_buf_detach(&hex);
	crypto_key_free(k);
	crypto_key_free(k2);

	util_fs_join(&p, root, "state");
	assert_int_equal(state_open(&f->st, p.ptr, 0), 0);
	memset(&sc, 0, sizeof(sc));
	sc.meta.name = "www";
	sc.meta.sans = sans;
	sc.meta.nsans = 1;
	sc.meta.issuer = "le";
	sc.meta.key_spec = "ecdsa-p256";
	sc.meta.fingerprint = f->fp;
	assert_int_equal(plan_declaration_hash(hash, f->set->certificates[0]), 0);
	sc.meta.declaration_hash = hash;
	sc.chain_pem = f->chain;
	sc.key_pem = f->key;
	assert_int_equal(state_cert_put(f->st, &sc, NULL), 0);
	util_buf_release(&p);
	util_diags_release(&d);
	*vs = f;
	return 0;
}

static int teardown(void **vs)
{
	fx *f = *vs;
	char cmd[128];

	state_free(f->st);
	config_policy_free(f->policy);
	config_set_free(f->set);
	free(f->chain);
	free(f->key);
	free(f->fp);
	free(f);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	assert_int_equal(system(cmd), 0);
	return 0;
}

/* Deploys target i as apply does, with its record. */
static void deploy(fx *f, size_t i)
{
	const config_certificate *c = f->set->certificates[0];
	target_env env = { f->policy, 0 };
	target_material m;
	state_deploy rec;
	util_buf id = UTIL_BUF_INIT;
	char hash[CONFIG_HASH_HEX_LEN + 1];

	memset(&m, 0, sizeof(m));
	m.name = "www";
	m.chain_pem = f->chain;
	m.key_pem = f->key;
	m.fingerprint = f->fp;
	m.cert = c;
	assert_int_equal(target_deploy(&env, &c->deploy[i], &m), 0);
	assert_int_equal(observe_target_id(&id, c, &c->deploy[i]), 0);
	assert_int_equal(config_target_hash(hash, &c->deploy[i]), 0);
	memset(&rec, 0, sizeof(rec));
	rec.target = id.ptr;
	rec.certificate = "www";
	rec.fingerprint = f->fp;
	rec.config_hash = hash;
	rec.result = STATE_DEPLOY_OK;
	assert_int_equal(state_deploy_put(f->st, &rec), 0);
	util_buf_release(&id);
}

static plan *observe_and_plan(fx *f, const config_policy *policy, observe_result **obs_out)
{
	observe_options oo = OBSERVE_OPTIONS_INIT;
	plan_options po;
	plan *p = NULL;

	oo.policy = policy;
	assert_int_equal(observe_run(obs_out, f->set, f->st, &oo), 0);
	memset(&po, 0, sizeof(po));
	po.now = time(NULL);
	assert_int_equal(plan_new(&p, f->set, *obs_out, &po), 0);
	return p;
}

static void test_pkcs12_in_sync_then_password_drift(void **vs)
{
	fx *f = *vs;
	observe_result *obs = NULL;
	const observe_target *t;
	const plan_action *a;
	plan *p;

	deploy(f, 0);
	deploy(f, 1);
	p = observe_and_plan(f, f->policy, &obs);
	t = &obs->certs[0].targets[0];
	assert_int_equal(t->observed.present, TARGET_PRESENT_YES);
	assert_null(t->observed.drift);
	assert_null(t->observed.error);
	/* exec has nothing to observe */
	assert_int_equal(obs->certs[0].targets[1].observed.present, TARGET_PRESENT_UNKNOWN);
	assert_false(plan_has_changes(p));
	plan_free(p);
	observe_result_free(obs);

	/* the declared password changes: the file no longer opens */
	setenv("CERTOPS_TEST_P12", "second-password", 1);
	p = observe_and_plan(f, f->policy, &obs);
	t = &obs->certs[0].targets[0];
	assert_non_null(t->observed.drift);
	assert_non_null(strstr(t->observed.drift, "www.p12: the declared password does not open it"));
	assert_non_null(a = plan_find(p, "deploy:www:pkcs12[0]"));
	assert_string_equal(plan_reason_name(a->reason), "Drifted");
	/* and the hook after it runs again */
	assert_non_null(plan_find(p, "hook:www:exec[1]"));
	plan_free(p);
	observe_result_free(obs);

	/* without a policy the secret is not read: the record is trusted */
	p = observe_and_plan(f, NULL, &obs);
	assert_int_equal(obs->certs[0].targets[0].observed.present, TARGET_PRESENT_UNKNOWN);
	assert_null(obs->certs[0].targets[0].observed.drift);
	assert_false(plan_has_changes(p));
	plan_free(p);
	observe_result_free(obs);

	/* redeployed with the new password: in sync again */
	deploy(f, 0);
	p = observe_and_plan(f, f->policy, &obs);
	assert_null(obs->certs[0].targets[0].observed.drift);
	assert_null(plan_find(p, "deploy:www:pkcs12[0]"));
	plan_free(p);
	observe_result_free(obs);
	setenv("CERTOPS_TEST_P12", "first-password", 1);
}

static void test_pkcs12_missing(void **vs)
{
	fx *f = *vs;
	observe_result *obs = NULL;
	plan *p;

	deploy(f, 0);
	deploy(f, 1);
	{
		util_buf path = UTIL_BUF_INIT;

		util_fs_join(&path, root, "p12/www.p12");
		assert_int_equal(unlink(path.ptr), 0);
		util_buf_release(&path);
	}
	p = observe_and_plan(f, f->policy, &obs);
	assert_int_equal(obs->certs[0].targets[0].observed.present, TARGET_PRESENT_NO);
	assert_non_null(strstr(obs->certs[0].targets[0].observed.drift, "www.p12: missing"));
	assert_non_null(plan_find(p, "deploy:www:pkcs12[0]"));
	plan_free(p);
	observe_result_free(obs);
}

static void test_online_default(void **vs)
{
	(void)vs;
	unsetenv("CERTOPS_OFFLINE");
	assert_int_equal(observe_online_default(), OBSERVE_ONLINE);
	setenv("CERTOPS_OFFLINE", "0", 1);
	assert_int_equal(observe_online_default(), OBSERVE_ONLINE);
	setenv("CERTOPS_OFFLINE", "1", 1);
	assert_int_equal(observe_online_default(), 0);
	unsetenv("CERTOPS_OFFLINE");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pkcs12_in_sync_then_password_drift, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pkcs12_missing, setup, teardown),
		cmocka_unit_test(test_online_default),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
