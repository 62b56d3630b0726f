/*
 * Unit tests of the pkcs12 and exec deploy targets through their
 * operation tables (lib/target/pkcs12.c, exec.c), with declarations and a
 * policy parsed from YAML: a deployed PFX observes in sync; a changed
 * password, encryption or friendly name is drift; a path outside the
 * write roots or a command outside the exec list is refused; a hook gets
 * the documented variables, paths included when the certificate is known.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "config/policy.h"
#include "crypto/crypto.h"
#include "target/deploy_internal.h"
#include "target/exec_run.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/log.h"

typedef struct {
	char dir[64];
	config_set *set;
	config_policy *policy;
	util_buf chain, key, fp;
	target_material m;
} fixture;

static const char decl_fmt[] =
	"kind: Certificate\n"
	"name: www\n"
	"issuer: none\n"
	"domains: [www.example.test]\n"
	"deploy:\n"
	"  - files: {dir: %s/files}\n"
	"  - pkcs12: {path: %s/p12/www.pfx, password: {env: CERTOPS_TEST_PFX}, friendlyName: www}\n"
	"  - pkcs12: {path: %s/p12/www.pfx, password: {env: CERTOPS_TEST_PFX_NEW}, friendlyName: www}\n"
	"  - pkcs12: {path: %s/p12/www.pfx, password: {env: CERTOPS_TEST_PFX}, encryption: legacy, friendlyName: www}\n"
	"  - pkcs12: {path: %s/p12/www.pfx, password: {env: CERTOPS_TEST_PFX}, friendlyName: other}\n"
	"  - pkcs12: {path: /etc/certops-outside/www.pfx, password: {env: CERTOPS_TEST_PFX}}\n"
	"  - exec: {command: [/bin/sh, -c, 'env > \"$0\"', %s/env.out]}\n"
	"  - exec: {command: [/bin/rm, -rf, /]}\n";

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));
	util_buf yaml = UTIL_BUF_INIT, pol = UTIL_BUF_INIT;
	util_diags d = UTIL_DIAGS_INIT;
	crypto_key *k = NULL;
	crypto_cert_info info;

	snprintf(f->dir, sizeof(f->dir), "/tmp/certops-deploy-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	util_buf_printf(&yaml, decl_fmt, f->dir, f->dir, f->dir, f->dir, f->dir, f->dir);
	util_buf_printf(&pol, "writeRoots: [%s]\nexec:\n  - [/bin/sh, -c]\n"
			"secrets:\n  env: [\"CERTOPS_*\"]\n", f->dir);
	if (config_set_new(&f->set) < 0 ||
	    config_set_add_buffer(f->set, &d, "decl.yaml", yaml.ptr, yaml.size) < 0 || d.count ||
	    config_policy_parse(&f->policy, &d, "policy.yaml", pol.ptr, pol.size, NULL) < 0 || d.count) {
		size_t i;
		for (i = 0; i < d.count; i++)
			fprintf(stderr, "%s\n", d.items[i].message);
		return -1;
	}
	/* A self-signed certificate for the material (the tls-alpn-01 maker
	 * is the one certificate builder lib/crypto has). */
	if (crypto_key_generate(&k, CRYPTO_KEY_EC_P256) < 0 ||
	    crypto_tlsalpn01_cert(&f->chain, k, "www.example.test", "\x04\x20" "0123456789abcdef0123456789abcdef", 34) < 0 ||
	    crypto_key_to_pem(&f->key, k) < 0 ||
	    crypto_cert_parse(&info, f->chain.ptr, f->chain.size) < 0)
		return -1;
	crypto_hex_encode(&f->fp, info.fingerprint, 32, 0);
	crypto_cert_info_free(&info);
	crypto_key_free(k);
	f->m = (target_material){ .name = "www", .chain_pem = f->chain.ptr, .key_pem = f->key.ptr, .fingerprint = f->fp.ptr };
	setenv("CERTOPS_TEST_PFX", "pfx-password-1", 1);
	setenv("CERTOPS_TEST_PFX_NEW", "pfx-password-2", 1);
	util_buf_free(&yaml);
	util_buf_free(&pol);
	util_diags_free(&d);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	util_buf cmd = UTIL_BUF_INIT;

	util_buf_printf(&cmd, "rm -rf %s", f->dir);
	if (system(cmd.ptr) != 0)
		fprintf(stderr, "cleanup failed\n");
	util_buf_free(&cmd);
	config_set_free(f->set);
	config_policy_free(f->policy);
	util_buf_free(&f->chain);
	util_buf_free(&f->key);
	util_buf_free(&f->fp);
	util_secret_clear();
	free(f);
	return 0;
}

static const config_target *target(fixture *f, size_t i)
{
	return &f->set->certificates[0]->deploy[i];
}

/* Observes t and returns the drift text ("" when in sync; caller frees). */
static char *observe(fixture *f, const target_ops *ops, size_t i)
{
	target_drifts d = { NULL, 0 };
	target_env env = { f->policy };
	util_buf out = UTIL_BUF_INIT;
	size_t k;

	assert_int_equal(ops->observe(&d, &env, target(f, i), &f->m), 0);
	for (k = 0; k < d.count; k++)
		util_buf_printf(&out, "%s%s", k ? "; " : "", d.items[k].what);
	target_drifts_clear(&d);
	return util_buf_detach(&out);
}

static void test_pkcs12_deploy_and_drift(void **state)
{
	fixture *f = *state;
	target_env env = { f->policy };
	const target_ops *ops = &target__pkcs12_ops;
	util_buf path = UTIL_BUF_INIT, id = UTIL_BUF_INIT;
	struct stat st;
	char *drift;

	drift = observe(f, ops, 1);
	assert_string_equal(drift, "missing");
	free(drift);
	assert_int_equal(ops->deploy(&env, target(f, 1), &f->m), 0);
	util_buf_printf(&path, "%s/p12/www.pfx", f->dir);
	assert_int_equal(stat(path.ptr, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	drift = observe(f, ops, 1);
	assert_string_equal(drift, "");
	free(drift);
	/* The same file seen through changed declarations. */
	drift = observe(f, ops, 2);
	assert_string_equal(drift, "the declared password does not open it");
	free(drift);
	drift = observe(f, ops, 3);
	assert_string_equal(drift, "encryption modern, want legacy");
	free(drift);
	drift = observe(f, ops, 4);
	assert_string_equal(drift, "friendly name 'www', want 'other'");
	free(drift);
	/* Another certificate is drift too. */
	{
		target_material other = f->m;
		other.fingerprint = "00";
		target_drifts d = { NULL, 0 };
		assert_int_equal(ops->observe(&d, &env, target(f, 1), &other), 0);
		assert_int_equal(d.count, 1);
		assert_string_equal(d.items[0].what, "certificate differs");
		target_drifts_clear(&d);
	}
	/* Redeploying with the new password fixes the drift. */
	assert_int_equal(ops->deploy(&env, target(f, 2), &f->m), 0);
	drift = observe(f, ops, 2);
	assert_string_equal(drift, "");
	free(drift);
	assert_int_equal(ops->describe(&id, target(f, 1)), 0);
	assert_non_null(strstr(id.ptr, "pkcs12:/tmp/certops-deploy-"));
	util_buf_free(&path);
	util_buf_free(&id);
}

static void test_pkcs12_outside_policy(void **state)
{
	fixture *f = *state;
	target_env env = { f->policy };

	assert_int_equal(target__pkcs12_ops.deploy(&env, target(f, 5), &f->m), CERTOPS_EPOLICY);
	assert_non_null(strstr(util_error_message(), "/etc/certops-outside/www.pfx"));
}

static void test_exec_vars(void **state)
{
	fixture *f = *state;
	target_env env = { f->policy };
	util_buf out = UTIL_BUF_INIT, path = UTIL_BUF_INIT, want = UTIL_BUF_INIT;

	util_buf_printf(&path, "%s/env.out", f->dir);
	assert_int_equal(target__exec_ops.deploy(&env, target(f, 6), &f->m), 0);
	assert_int_equal(util_fs_read_file(&out, path.ptr, 0), 0);
	assert_non_null(strstr(out.ptr, "CERTOPS_CERT_NAME=www\n"));
	util_buf_printf(&want, "CERTOPS_FINGERPRINT=%s\n", f->fp.ptr);
	assert_non_null(strstr(out.ptr, want.ptr));
	assert_non_null(strstr(out.ptr, "CERTOPS_DOMAINS=www.example.test\n"));
	assert_non_null(strstr(out.ptr, "CERTOPS_NOT_AFTER=20"));
	assert_null(strstr(out.ptr, "CERTOPS_TEST_PFX"));
	assert_null(strstr(out.ptr, "CERTOPS_FULLCHAIN_PATH"));
	/* With the certificate known, the files target's paths are given. */
	util_buf_clear(&out);
	util_buf_clear(&want);
	assert_int_equal(target_exec_deploy_cert(&env, target(f, 6), &f->m,
						 f->set->certificates[0]), 0);
	assert_int_equal(util_fs_read_file(&out, path.ptr, 0), 0);
	util_buf_printf(&want, "CERTOPS_KEY_PATH=%s/files/privkey.pem\n"
			"CERTOPS_FULLCHAIN_PATH=%s/files/fullchain.pem\n", f->dir, f->dir);
	assert_non_null(strstr(out.ptr, want.ptr));
	util_buf_free(&out);
	util_buf_free(&path);
	util_buf_free(&want);
}

static void test_exec_policy(void **state)
{
	fixture *f = *state;
	target_env env = { f->policy };
	util_buf id = UTIL_BUF_INIT;
	char *drift;

	assert_int_equal(target__exec_ops.deploy(&env, target(f, 7), &f->m), CERTOPS_EPOLICY);
	assert_non_null(strstr(util_error_message(), "does not allow running '/bin/rm -rf /'"));
	drift = observe(f, &target__exec_ops, 7);
	assert_string_equal(drift, "");
	free(drift);
	assert_int_equal(target__exec_ops.describe(&id, target(f, 7)), 0);
	assert_string_equal(id.ptr, "exec:/bin/rm -rf /");
	util_buf_free(&id);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pkcs12_deploy_and_drift),
		cmocka_unit_test(test_pkcs12_outside_policy),
		cmocka_unit_test(test_exec_vars),
		cmocka_unit_test(test_exec_policy),
	};
	util_log_setup(UTIL_LOG_ERROR, UTIL_LOG_TEXT, 0, NULL);
	return cmocka_run_group_tests(tests, setup, teardown);
}
