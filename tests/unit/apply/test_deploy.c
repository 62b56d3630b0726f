/*
 * apply_deploy and apply_action without a CA: the current certificate of
 * the store is written to a files target, and the result, success or
 * failure, is recorded under the target's identity.
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

#include "apply/apply.h"
#include "config/policy.h"
#include "crypto/crypto.h"
#include "util/error.h"
#include "util/fs.h"

static char root[64];
static config_set *set;
static config_policy *policy;
static state *st;

static void load(const char *dir_ok, const char *dir_bad)
{
	util_diags diags = UTIL_DIAGS_INIT;
	util_buf y = UTIL_BUF_INIT, p = UTIL_BUF_INIT;

	util_buf_printf(&y,
			"kind: Issuer\nname: ca\nacme: {directory: https://127.0.0.1:1/dir}\n---\n"
			"kind: Certificate\nname: www\nissuer: ca\ndomains: [www.example.com]\n"
			"challenge: {http01: {listen: \"127.0.0.1:5002\"}}\n"
			"deploy:\n  - files: {dir: %s}\n  - files: {dir: %s}\n", dir_ok, dir_bad);
	util_buf_printf(&p, "writeRoots: [%s/ok]\n", root);
	assert_int_equal(config_set_new(&set), 0);
	assert_int_equal(config_set_add_buffer(set, &diags, "t.yaml", y.ptr, y.size), 0);
	assert_int_equal(config_set_validate(set, &diags), 0);
	assert_int_equal(diags.count, 0);
	assert_int_equal(config_policy_parse(&policy, &diags, "policy.yaml", p.ptr, p.size,
					     NULL), 0);
	util_buf_release(&y);
	util_buf_release(&p);
	util_diags_release(&diags);
}

static int setup(void **vs)
{
	char sdir[128], ok[128], bad[128];

	(void)vs;
	memcpy(root, "/tmp/certops-apply-XXXXXX", sizeof("/tmp/certops-apply-XXXXXX"));
	assert_non_null(mkdtemp(root));
	snprintf(sdir, sizeof(sdir), "%s/state", root);
	snprintf(ok, sizeof(ok), "%s/ok/www", root);
	snprintf(bad, sizeof(bad), "%s/bad/www", root);
	load(ok, bad);
	assert_int_equal(state_open(&st, sdir, 0), 0);
	return 0;
}

static int teardown(void **vs)
{
	char cmd[200];

	(void)vs;
	state_free(st);
	config_policy_free(policy);
	config_set_free(set);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	assert_int_equal(system(cmd), 0);
	return 0;
}

/* Stores a self-signed stand-in as the current version of www. */
static void store_current(char fp_out[65])
{
	static const unsigned char ext[] = { 0x04, 0x01, 0x00 };
	crypto_key *k = NULL;
	crypto_cert_info info;
	util_buf chain = UTIL_BUF_INIT, key = UTIL_BUF_INIT, fp = UTIL_BUF_INIT;
	char *sans[] = { "www.example.com" };
	state_cert c;

	assert_int_equal(crypto_key_generate(&k, CRYPTO_KEY_EC_P256), 0);
	assert_int_equal(crypto_tlsalpn01_cert(&chain, k, "www.example.com", ext, sizeof(ext)), 0);
	assert_int_equal(crypto_key_to_pem(&key, k), 0);
	assert_int_equal(crypto_cert_parse(&info, chain.ptr, chain.size), 0);
	assert_int_equal(crypto_hex_encode(&fp, info.fingerprint, 32, 0), 0);
	memset(&c, 0, sizeof(c));
	c.meta.name = "www";
	c.meta.sans = sans;
	c.meta.nsans = 1;
	c.meta.not_before = info.not_before;
	c.meta.not_after = info.not_after;
	c.meta.serial = info.serial_hex;
	c.meta.issuer = "ca";
	c.meta.key_spec = "ecdsa-p256";
	c.meta.fingerprint = fp.ptr;
	c.meta.declaration_hash = "x";
	c.chain_pem = chain.ptr;
	c.key_pem = key.ptr;
	assert_int_equal(state_cert_put(st, &c, NULL), 0);
	snprintf(fp_out, 65, "%s", fp.ptr);
	crypto_cert_info_release(&info);
	crypto_key_free(k);
	util_buf_release(&chain);
	util_buf_release(&key);
	util_buf_release(&fp);
}

static apply_ctx *new_ctx(void)
{
	apply_options o;
	apply_ctx *ctx = NULL;

	memset(&o, 0, sizeof(o));
	o.st = st;
	o.set = set;
	o.policy = policy;
	assert_int_equal(apply_ctx_new(&ctx, &o), 0);
	return ctx;
}

static void test_deploy_before_issue_fails(void **vs)
{
	const config_certificate *c = config_find_certificate(set, "www");
	apply_ctx *ctx = new_ctx();

	(void)vs;
	assert_int_equal(apply_deploy(ctx, c, &c->deploy[0]), CERTOPS_ENOTFOUND);
	assert_non_null(strstr(util_error_message(), "has not been issued"));
	apply_ctx_free(ctx);
}

static void test_deploy_records_success_and_failure(void **vs)
{
	const config_certificate *c = config_find_certificate(set, "www");
	apply_ctx *ctx = new_ctx();
	state_deploy *rec = NULL;
	char fp[65], hash[CONFIG_HASH_HEX_LEN + 1], path[200];
	struct stat sb;

	(void)vs;
	store_current(fp);
	assert_int_equal(apply_deploy(ctx, c, &c->deploy[0]), 0);
	snprintf(path, sizeof(path), "%s/ok/www/privkey.pem", root);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0600);
	assert_int_equal(state_deploy_get(&rec, st, "www:files[0]"), 0);
	assert_int_equal(rec->result, STATE_DEPLOY_OK);
	assert_string_equal(rec->fingerprint, fp);
	assert_string_equal(rec->certificate, "www");
	assert_int_equal(config_target_hash(hash, &c->deploy[0]), 0);
	assert_string_equal(rec->config_hash, hash);
	assert_null(rec->message);
	state_deploy_free(rec);

	/* outside the policy: fails, and the failure is recorded with why */
	assert_int_equal(apply_deploy(ctx, c, &c->deploy[1]), CERTOPS_EPOLICY);
	assert_non_null(strstr(util_error_message(), "not allowed by the policy"));
	assert_int_equal(state_deploy_get(&rec, st, "www:files[1]"), 0);
	assert_int_equal(rec->result, STATE_DEPLOY_FAILED);
	assert_non_null(rec->message);
	assert_non_null(strstr(rec->message, "not allowed by the policy"));
	state_deploy_free(rec);
	snprintf(path, sizeof(path), "%s/bad", root);
	assert_int_equal(access(path, F_OK), -1);
	apply_ctx_free(ctx);
}

static void test_unresolved_and_unbuilt_actions(void **vs)
{
	apply_ctx *ctx = new_ctx();
	plan_action a;

	(void)vs;
	memset(&a, 0, sizeof(a));
	a.id = "issue:www";
	a.kind = PLAN_ACTION_ISSUE;
	a.index = -1;
	assert_int_equal(apply_action(ctx, &a), CERTOPS_EINVALID);
	assert_non_null(strstr(util_error_message(), "not resolved"));
	/* a verify without its declaration: not resolved either */
	a.id = "verify:www:verify[0]";
	a.kind = PLAN_ACTION_VERIFY;
	a.index = 0;
	assert_int_equal(apply_action(ctx, &a), CERTOPS_EINVALID);
	assert_non_null(strstr(util_error_message(), "not resolved"));
	/* a kept orphan changes nothing */
	a.id = "orphan:old";
	a.kind = PLAN_ACTION_ORPHAN;
	assert_int_equal(apply_action(ctx, &a), 0);
	apply_ctx_free(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deploy_before_issue_fails),
		cmocka_unit_test(test_deploy_records_success_and_failure),
		cmocka_unit_test(test_unresolved_and_unbuilt_actions),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
