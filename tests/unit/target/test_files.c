/*
 * The files target: what it writes (content, modes), drift it sees, and
 * the policy and symlink rules on where it writes.
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

#include "config/policy.h"
#include "crypto/crypto.h"
#include "observe/observe.h"
#include "target/target.h"
#include "util/error.h"
#include "util/fs.h"

static char root[64], allowed[128], outside[128];
static util_buf chain = UTIL_BUF_INIT, key = UTIL_BUF_INIT;
static config_policy *policy;

static int setup(void **vs)
{
	util_diags diags = UTIL_DIAGS_INIT;
	util_buf text = UTIL_BUF_INIT;
	crypto_key *k = NULL;
	static const unsigned char ext[] = { 0x04, 0x01, 0x00 };

	(void)vs;
	memcpy(root, "/tmp/certops-target-XXXXXX", sizeof("/tmp/certops-target-XXXXXX"));
	assert_non_null(mkdtemp(root));
	snprintf(allowed, sizeof(allowed), "%s/allowed", root);
	snprintf(outside, sizeof(outside), "%s/outside", root);
	assert_int_equal(mkdir(allowed, 0755), 0);
	assert_int_equal(mkdir(outside, 0755), 0);
	util_buf_printf(&text, "writeRoots: [%s]\n", allowed);
	assert_int_equal(config_policy_parse(&policy, &diags, "policy.yaml", text.ptr,
					     text.size, NULL), 0);
	/* a two-certificate "chain": leaf then intermediate */
	assert_int_equal(crypto_key_generate(&k, CRYPTO_KEY_EC_P256), 0);
	assert_int_equal(crypto_tlsalpn01_cert(&chain, k, "leaf.example", ext, sizeof(ext)), 0);
	assert_int_equal(crypto_tlsalpn01_cert(&chain, k, "ca.example", ext, sizeof(ext)), 0);
	assert_int_equal(crypto_key_to_pem(&key, k), 0);
	crypto_key_free(k);
	util_buf_free(&text);
	util_diags_free(&diags);
	return 0;
}

static int teardown(void **vs)
{
	char cmd[200];

	(void)vs;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	assert_int_equal(system(cmd), 0);
	config_policy_free(policy);
	util_buf_free(&chain);
	util_buf_free(&key);
	return 0;
}

static config_target files_target(const char *dir)
{
	config_target t;

	memset(&t, 0, sizeof(t));
	t.type = CONFIG_TARGET_FILES;
	t.files.dir = dir;
	t.files.cert = "cert.pem";
	t.files.chain = "chain.pem";
	t.files.fullchain = "fullchain.pem";
	t.files.key = "privkey.pem";
	t.files.combined = "combined.pem";
	t.files.mode = 0600;
	return t;
}

static target_material material(void)
{
	target_material m = { .name = "www", .chain_pem = chain.ptr, .key_pem = key.ptr, .fingerprint = "00" };
	return m;
}

static void assert_mode(const char *dir, const char *name, unsigned mode)
{
	char path[256];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, mode);
}

static void read_file(util_buf *out, const char *dir, const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	util_buf_clear(out);
	assert_int_equal(util_fs_read_file(out, path, 0), 0);
}

static void test_deploy_writes_every_part(void **vs)
{
	char dir[200];
	config_target t;
	target_material m = material();
	target_env env = { policy };
	target_drifts d = { 0 };
	util_buf b = UTIL_BUF_INIT, leaf = UTIL_BUF_INIT, inter = UTIL_BUF_INIT;

	(void)vs;
	snprintf(dir, sizeof(dir), "%s/a/b", allowed);
	t = files_target(dir);
	assert_int_equal(target_deploy(&env, &t, &m), 0);
	assert_int_equal(observe_file_content(&leaf, OBSERVE_FILE_CERT, chain.ptr, key.ptr), 0);
	assert_int_equal(observe_file_content(&inter, OBSERVE_FILE_CHAIN, chain.ptr, key.ptr), 0);
	read_file(&b, dir, "cert.pem");
	assert_string_equal(b.ptr, leaf.ptr);
	read_file(&b, dir, "chain.pem");
	assert_string_equal(b.ptr, inter.ptr);
	read_file(&b, dir, "fullchain.pem");
	assert_int_equal(b.size, leaf.size + inter.size);
	read_file(&b, dir, "privkey.pem");
	assert_string_equal(b.ptr, key.ptr);
	read_file(&b, dir, "combined.pem");
	assert_int_equal(strncmp(b.ptr, key.ptr, key.size), 0);
	assert_non_null(strstr(b.ptr, leaf.ptr));
	assert_mode(dir, "privkey.pem", 0600);
	assert_mode(dir, "combined.pem", 0600);
	assert_mode(dir, "fullchain.pem", 0644);
	assert_mode(dir, "cert.pem", 0644);
	assert_int_equal(target_observe(&d, &env, &t, &m), 0);
	assert_int_equal(d.count, 0);

	/* a deleted file and a changed mode are drift, naming the file */
	snprintf(dir + strlen(dir), sizeof(dir) - strlen(dir), "/fullchain.pem");
	assert_int_equal(unlink(dir), 0);
	*strrchr(dir, '/') = '\0';
	util_buf_clear(&b);
	util_fs_join(&b, dir, "privkey.pem");
	assert_int_equal(chmod(b.ptr, 0644), 0);
	assert_int_equal(target_observe(&d, &env, &t, &m), 0);
	assert_int_equal(d.count, 2);
	assert_non_null(strstr(d.items[0].path, "fullchain.pem"));
	assert_string_equal(d.items[0].what, "missing");
	assert_non_null(strstr(d.items[1].path, "privkey.pem"));
	assert_string_equal(d.items[1].what, "mode 0644, want 0600");
	target_drifts_clear(&d);

	/* redeploying repairs both */
	assert_int_equal(target_deploy(&env, &t, &m), 0);
	assert_int_equal(target_observe(&d, &env, &t, &m), 0);
	assert_int_equal(d.count, 0);
	util_buf_free(&b);
	util_buf_free(&leaf);
	util_buf_free(&inter);
}

static void test_outside_policy_refused(void **vs)
{
	config_target t = files_target(outside);
	target_material m = material();
	target_env env = { policy };
	char path[256];

	(void)vs;
	assert_int_equal(target_deploy(&env, &t, &m), CERTOPS_EPOLICY);
	assert_non_null(strstr(util_error_message(), outside));
	snprintf(path, sizeof(path), "%s/privkey.pem", outside);
	assert_int_equal(access(path, F_OK), -1);
}

static void test_symlinks(void **vs)
{
	char link_out[200], link_in[300], inner[200], path[256];
	config_target t;
	target_material m = material();
	target_env env = { policy };

	(void)vs;
	/* a directory link inside the root that leads outside: refused */
	snprintf(link_out, sizeof(link_out), "%s/escape", allowed);
	assert_int_equal(symlink(outside, link_out), 0);
	t = files_target(link_out);
	assert_int_equal(target_deploy(&env, &t, &m), CERTOPS_EPOLICY);
	assert_non_null(strstr(util_error_message(), "symlink"));
	snprintf(path, sizeof(path), "%s/privkey.pem", outside);
	assert_int_equal(access(path, F_OK), -1);

	/* a file link leading outside: refused, the outside file untouched */
	snprintf(inner, sizeof(inner), "%s/inner", allowed);
	assert_int_equal(mkdir(inner, 0755), 0);
	snprintf(path, sizeof(path), "%s/victim", outside);
	assert_int_equal(util_fs_write_atomic(path, "x", 1, 0644), 0);
	snprintf(link_in, sizeof(link_in), "%s/privkey.pem", inner);
	assert_int_equal(symlink(path, link_in), 0);
	t = files_target(inner);
	assert_int_equal(target_deploy(&env, &t, &m), CERTOPS_EPOLICY);
	assert_int_equal(access(path, F_OK), 0);
	{
		util_buf b = UTIL_BUF_INIT;
		assert_int_equal(util_fs_read_file(&b, path, 0), 0);
		assert_string_equal(b.ptr, "x");
		util_buf_free(&b);
	}

	/* a directory link that stays inside the root is followed */
	snprintf(link_in, sizeof(link_in), "%s/current", allowed);
	snprintf(path, sizeof(path), "%s/real", allowed);
	assert_int_equal(mkdir(path, 0755), 0);
	assert_int_equal(symlink(path, link_in), 0);
	t = files_target(link_in);
	assert_int_equal(target_deploy(&env, &t, &m), 0);
	assert_mode(path, "privkey.pem", 0600);
}

static void test_every_kind_registered(void **vs)
{
	static const char *const names[CONFIG_TARGET__COUNT] = {
		[CONFIG_TARGET_FILES] = "files", [CONFIG_TARGET_PKCS12] = "pkcs12",
		[CONFIG_TARGET_EXEC] = "exec", [CONFIG_TARGET_VAULT] = "vault",
	};
	config_target t;
	util_buf b = UTIL_BUF_INIT;
	int k;

	(void)vs;
	for (k = 0; k < CONFIG_TARGET__COUNT; k++) {
		const target_ops *ops = target_ops_for((config_target_type)k);

		assert_non_null(ops);
		assert_string_equal(ops->name, names[k]);
	}
	assert_null(target_ops_for(CONFIG_TARGET__COUNT));
	t = files_target("/srv/x");
	assert_int_equal(target_describe(&b, &t), 0);
	assert_string_equal(b.ptr, "files:/srv/x/fullchain.pem");
	util_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deploy_writes_every_part),
		cmocka_unit_test(test_outside_policy_refused),
		cmocka_unit_test(test_symlinks),
		cmocka_unit_test(test_every_kind_registered),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
