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
	crypto_cert_info_release(&info);
	crypto_key_free(k);
	f->m = (target_material){ .name = "www", .chain_pem = f->chain.ptr, .key_pem = f->key.ptr, .fingerprint = f->fp.ptr };
	setenv("CERTOPS_TEST_PFX", "pfx-password-1", 1);
	setenv("CERTOPS_TEST_PFX_NEW", "pfx-password-2", 1);
	util_buf_release(&yaml);
	util_buf_release(&pol);
	util_diags_release(&d);
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
	util_buf_release(&cmd);
	config_set_free(f->set);
	config_policy_free(f->policy);
	util_buf_release(&f->chain);
	util_buf_release(&f->key);
	util_buf_release(&f->fp);
	util_secret_clear();
	free(f);
	return 0;
}

static const config_target *target(fixture *f, size_t i)
{
	return &f->set->certificates[0]->deploy[i];
}

/*
 * Observes target i through its table with m and returns the drift text
 * ("" when in sync; caller frees); *present (may be NULL) gets presence.
 */
static char *observe_m(fixture *f, const target_ops *ops, size_t i, const target_material *m,
		       target_presence *present)
{
	target_observation o = TARGET_OBSERVATION_INIT;
	target_env env = { f->policy, 0 };
	char *drift;

	assert_ptr_equal(target_ops_for(target(f, i)->type), ops);
	assert_int_equal(target_observe(&o, &env, target(f, i), m), 0);
	assert_null(o.error);
	drift = strdup(o.drift ? o.drift : "");
	if (present)
		*present = o.present;
	target_observation_clear(&o);
	return drift;
}

static char *observe(fixture *f, const target_ops *ops, size_t i)
{
	return observe_m(f, ops, i, &f->m, NULL);
}

/* "<dir>/p12/www.pfx: <what>", the drift item of the PFX file. */
static char *pfx_drift(fixture *f, const char *what)
{
	util_buf b = UTIL_BUF_INIT;

	util_buf_printf(&b, "%s/p12/www.pfx: %s", f->dir, what);
	return util_buf_detach(&b);
}

static void assert_drift(fixture *f, const target_ops *ops, size_t i, const char *what)
{
	char *got = observe(f, ops, i), *want = what[0] ? pfx_drift(f, what) : strdup("");

	assert_string_equal(got, want);
	free(got);
	free(want);
}

static void test_pkcs12_deploy_and_drift(void **state)
{
	fixture *f = *state;
	target_env env = { f->policy, 0 };
	const target_ops *ops = &target__pkcs12_ops;
	target_observation o = TARGET_OBSERVATION_INIT;
	target_presence present;
	util_buf path = UTIL_BUF_INIT, id = UTIL_BUF_INIT;
	struct stat st;
	char *drift;

	drift = observe_m(f, ops, 1, &f->m, &present);
	assert_int_equal(present, TARGET_PRESENT_NO);
	free(drift);
	assert_drift(f, ops, 1, "missing");
	assert_int_equal(ops->deploy(&env, target(f, 1), &f->m), 0);
	util_buf_printf(&path, "%s/p12/www.pfx", f->dir);
	assert_int_equal(stat(path.ptr, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	/* in sync: present, the leaf found is ours */
	assert_int_equal(target_observe(&o, &env, target(f, 1), &f->m), 0);
	assert_int_equal(o.present, TARGET_PRESENT_YES);
	assert_null(o.drift);
	assert_null(o.error);
	assert_string_equal(o.fingerprint, f->fp.ptr);
	assert_int_equal(o.nfiles, 0);
	target_observation_clear(&o);
	/* The same file seen through changed declarations. */
	assert_drift(f, ops, 2, "the declared password does not open it");
	assert_drift(f, ops, 3, "encryption modern, want legacy");
	assert_drift(f, ops, 4, "friendly name 'www', want 'other'");
	/* Another certificate is drift too (any spelling of ours is not). */
	{
		target_material other = f->m;
		util_buf upper = UTIL_BUF_INIT;
		size_t k;

		other.fingerprint = "00";
		drift = observe_m(f, ops, 1, &other, &present);
		assert_int_equal(present, TARGET_PRESENT_YES);
		free(drift);
		for (k = 0; k < f->fp.size; k++)
			util_buf_printf(&upper, "%s%c", k && k % 2 == 0 ? ":" : "",
					f->fp.ptr[k] >= 'a' ? f->fp.ptr[k] - 32 : f->fp.ptr[k]);
		other.fingerprint = upper.ptr;
		drift = observe_m(f, ops, 1, &other, NULL);
		assert_string_equal(drift, "");
		free(drift);
		other.fingerprint = "00";
		{
			char *got = observe_m(f, ops, 1, &other, NULL),
			     *want = pfx_drift(f, "certificate differs");
			assert_string_equal(got, want);
			free(got);
			free(want);
		}
		util_buf_release(&upper);
	}
	/* Redeploying with the new password fixes the drift. */
	assert_int_equal(ops->deploy(&env, target(f, 2), &f->m), 0);
	assert_drift(f, ops, 2, "");
	assert_int_equal(ops->describe(&id, target(f, 1)), 0);
	assert_non_null(strstr(id.ptr, "pkcs12:/tmp/certops-deploy-"));
	util_buf_release(&path);
	util_buf_release(&id);
}

/* Without a policy (no password may be read) or nothing issued: unknown. */
static void test_pkcs12_not_observed(void **state)
{
	fixture *f = *state;
	target_env none = { NULL, 1 };
	target_material nothing = { .name = "www" };
	target_observation o = TARGET_OBSERVATION_INIT;
	target_env env = { f->policy, 0 };

	assert_int_equal(target_observe(&o, &none, target(f, 1), &f->m), 0);
	assert_int_equal(o.present, TARGET_PRESENT_UNKNOWN);
	assert_null(o.drift);
	target_observation_clear(&o);
	assert_int_equal(target_observe(&o, &env, target(f, 1), &nothing), 0);
	assert_int_equal(o.present, TARGET_PRESENT_UNKNOWN);
	assert_null(o.drift);
	assert_null(o.error);
	target_observation_clear(&o);
}

/* vault is read only online, with a policy, and something issued. */
static void test_vault_offline_unknown(void **state)
{
	fixture *f = *state;
	target_env offline = { f->policy, 0 };
	target_observation o = TARGET_OBSERVATION_INIT;
	config_target t;

	memset(&t, 0, sizeof(t));
	t.type = CONFIG_TARGET_VAULT;
	t.vault.address = "http://127.0.0.1:1";
	t.vault.mount = "secret";
	t.vault.path = "tls/www";
	assert_int_equal(target_observe(&o, &offline, &t, &f->m), 0);
	assert_int_equal(o.present, TARGET_PRESENT_UNKNOWN);
	assert_null(o.drift);
	assert_null(o.error);
	target_observation_clear(&o);
}

static void test_pkcs12_outside_policy(void **state)
{
	fixture *f = *state;
	target_env env = { f->policy, 0 };

	assert_int_equal(target__pkcs12_ops.deploy(&env, target(f, 5), &f->m), CERTOPS_EPOLICY);
	assert_non_null(strstr(util_error_message(), "/etc/certops-outside/www.pfx"));
}

static void test_exec_vars(void **state)
{
	fixture *f = *state;
	target_env env = { f->policy, 0 };
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
	util_buf_release(&out);
	util_buf_release(&path);
	util_buf_release(&want);
}

static void test_exec_policy(void **state)
{
	fixture *f = *state;
	target_env env = { f->policy, 0 };
	util_buf id = UTIL_BUF_INIT;
	char *drift;

	assert_int_equal(target__exec_ops.deploy(&env, target(f, 7), &f->m), CERTOPS_EPOLICY);
	assert_non_null(strstr(util_error_message(), "does not allow running '/bin/rm -rf /'"));
	/* a hook leaves nothing to look at: unknown, never drift */
	{
		target_presence present = TARGET_PRESENT_YES;

		drift = observe_m(f, &target__exec_ops, 7, &f->m, &present);
		assert_string_equal(drift, "");
		assert_int_equal(present, TARGET_PRESENT_UNKNOWN);
		free(drift);
	}
	assert_int_equal(target__exec_ops.describe(&id, target(f, 7)), 0);
	assert_string_equal(id.ptr, "exec:/bin/rm -rf /");
	util_buf_release(&id);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pkcs12_deploy_and_drift),
		cmocka_unit_test(test_pkcs12_not_observed),
		cmocka_unit_test(test_vault_offline_unknown),
		cmocka_unit_test(test_pkcs12_outside_policy),
		cmocka_unit_test(test_exec_vars),
		cmocka_unit_test(test_exec_policy),
	};
	util_log_setup(UTIL_LOG_ERROR, UTIL_LOG_TEXT, 0, NULL);
	return cmocka_run_group_tests(tests, setup, teardown);
}
