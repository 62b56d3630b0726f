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
#include "target/target.h"
#include "util/error.h"
#include "util/fs.h"

static char root[64], allowed[128], outside[128];
static util_buf chain = UTIL_BUF_INIT, key = UTIL_BUF_INIT, fp = UTIL_BUF_INIT;
/* another certificate and key, for drift */
static util_buf chain2 = UTIL_BUF_INIT, key2 = UTIL_BUF_INIT, fp2 = UTIL_BUF_INIT;
static config_policy *policy;

static void fingerprint_of(util_buf *out, const util_buf *pem)
{
	crypto_cert_info info;

	memset(&info, 0, sizeof(info));
	assert_int_equal(crypto_cert_parse(&info, pem->ptr, pem->size), 0);
	assert_int_equal(crypto_hex_encode(out, info.fingerprint, 32, 0), 0);
	crypto_cert_info_release(&info);
}

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
	k = NULL;
	assert_int_equal(crypto_key_generate(&k, CRYPTO_KEY_EC_P256), 0);
	assert_int_equal(crypto_tlsalpn01_cert(&chain2, k, "leaf.example", ext, sizeof(ext)), 0);
	assert_int_equal(crypto_key_to_pem(&key2, k), 0);
	crypto_key_free(k);
	fingerprint_of(&fp, &chain);
	fingerprint_of(&fp2, &chain2);
	util_buf_release(&text);
	util_diags_release(&diags);
	return 0;
}

static int teardown(void **vs)
{
	char cmd[200];

	(void)vs;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	assert_int_equal(system(cmd), 0);
	config_policy_free(policy);
	util_buf_release(&chain);
	util_buf_release(&key);
	util_buf_release(&fp);
	util_buf_release(&chain2);
	util_buf_release(&key2);
	util_buf_release(&fp2);
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
	target_material m = { .name = "www", .chain_pem = chain.ptr, .key_pem = key.ptr, .fingerprint = fp.ptr };
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
	target_env env = { policy, 0 };
	target_observation o = TARGET_OBSERVATION_INIT;
	util_buf b = UTIL_BUF_INIT, leaf = UTIL_BUF_INIT, inter = UTIL_BUF_INIT;

	(void)vs;
	snprintf(dir, sizeof(dir), "%s/a/b", allowed);
	t = files_target(dir);
	assert_int_equal(target_deploy(&env, &t, &m), 0);
	assert_int_equal(target_file_content(&leaf, TARGET_FILE_CERT, chain.ptr, key.ptr), 0);
	assert_int_equal(target_file_content(&inter, TARGET_FILE_CHAIN, chain.ptr, key.ptr), 0);
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
	assert_int_equal(target_observe(&o, &env, &t, &m), 0);
	assert_int_equal(o.present, TARGET_PRESENT_YES);
	assert_null(o.drift);
	assert_null(o.error);
	assert_string_equal(o.fingerprint, fp.ptr);
	assert_int_equal(o.nfiles, TARGET_FILE__COUNT);
	{
		size_t i;

		for (i = 0; i < o.nfiles; i++) {
			assert_int_equal(o.files[i].role, (target_file_role)i);
			assert_true(o.files[i].exists);
			assert_int_equal(o.files[i].content_matches, 1);
			assert_int_equal(o.files[i].mode, target_file_mode(&t, o.files[i].role));
			assert_int_equal(o.files[i].uid, getuid());
			assert_null(o.files[i].error);
		}
	}
	target_observation_clear(&o);

	/* a deleted file and a changed mode are drift, naming the file */
	snprintf(dir + strlen(dir), sizeof(dir) - strlen(dir), "/fullchain.pem");
	assert_int_equal(unlink(dir), 0);
	*strrchr(dir, '/') = '\0';
	util_buf_clear(&b);
	util_fs_join(&b, dir, "privkey.pem");
	assert_int_equal(chmod(b.ptr, 0644), 0);
	assert_int_equal(target_observe(&o, &env, &t, &m), 0);
	assert_int_equal(o.present, TARGET_PRESENT_PARTIAL);
	util_buf_clear(&b);
	util_buf_printf(&b, "%s/fullchain.pem: missing; %s/privkey.pem: mode 0644, want 0600",
			dir, dir);
	assert_string_equal(o.drift, b.ptr);
	assert_false(o.files[TARGET_FILE_FULLCHAIN].exists);
	assert_int_equal(o.files[TARGET_FILE_FULLCHAIN].content_matches, -1);
	assert_int_equal(o.files[TARGET_FILE_KEY].mode, 0644);
	target_observation_clear(&o);

	/* redeploying repairs both */
	assert_int_equal(target_deploy(&env, &t, &m), 0);
	assert_int_equal(target_observe(&o, &env, &t, &m), 0);
	assert_null(o.drift);
	target_observation_clear(&o);
	util_buf_release(&b);
	util_buf_release(&leaf);
	util_buf_release(&inter);
}

/* Writes data at dir/name with mode. */
static void put(const char *dir, const char *name, const char *data, unsigned mode)
{
	util_buf p = UTIL_BUF_INIT;

	util_fs_join(&p, dir, name);
	assert_int_equal(util_fs_write_atomic(p.ptr, data, strlen(data), mode), 0);
	util_buf_release(&p);
}

/* "<dir>/<name>: <what>" */
static char *item(const char *dir, const char *name, const char *what)
{
	util_buf b = UTIL_BUF_INIT;

	util_buf_printf(&b, "%s/%s: %s", dir, name, what);
	return util_buf_detach(&b);
}

static void assert_drift_is(const target_observation *o, const char *dir, const char *name,
			    const char *what)
{
	char *want = item(dir, name, what);

	assert_non_null(o->drift);
	assert_string_equal(o->drift, want);
	free(want);
}

/* What the files target sees, one difference at a time. */
static void test_observe_drift(void **vs)
{
	char dir[200];
	config_target t;
	target_material m = material(), nothing = { .name = "www" };
	target_env env = { policy, 0 };
	target_observation o = TARGET_OBSERVATION_INIT;
	util_buf b = UTIL_BUF_INIT, path = UTIL_BUF_INIT;
	char owner[32];

	(void)vs;
	snprintf(dir, sizeof(dir), "%s/drift", allowed);
	t = files_target(dir);
	t.files.cert = t.files.chain = t.files.combined = NULL; /* fullchain + key */

	/* nothing there */
	assert_int_equal(target_observe(&o, &env, &t, &m), 0);
	assert_int_equal(o.present, TARGET_PRESENT_NO);
	assert_int_equal(o.nfiles, 2);
	assert_null(o.fingerprint);
	util_buf_printf(&b, "%s/fullchain.pem: missing; %s/privkey.pem: missing", dir, dir);
	assert_string_equal(o.drift, b.ptr);
	target_observation_clear(&o);
	assert_int_equal(target_deploy(&env, &t, &m), 0);

	/* nothing issued yet: seen, not compared */
	assert_int_equal(target_observe(&o, &env, &t, &nothing), 0);
	assert_int_equal(o.present, TARGET_PRESENT_YES);
	assert_int_equal(o.files[0].content_matches, -1);
	assert_int_equal(o.files[1].content_matches, -1);
	assert_null(o.drift);
	target_observation_clear(&o);

	/* another certificate in fullchain.pem: its leaf is what is found */
	util_buf_clear(&b);
	assert_int_equal(target_file_content(&b, TARGET_FILE_FULLCHAIN, chain2.ptr, NULL), 0);
	put(dir, "fullchain.pem", b.ptr, 0644);
	assert_int_equal(target_observe(&o, &env, &t, &m), 0);
	assert_int_equal(o.present, TARGET_PRESENT_YES);
	assert_int_equal(o.files[0].content_matches, 0);
	assert_string_equal(o.files[0].fingerprint, fp2.ptr);
	assert_string_equal(o.fingerprint, fp2.ptr);
	assert_drift_is(&o, dir, "fullchain.pem",
			"content differs from the fullchain of certificate 'www'");
	target_observation_clear(&o);
	assert_int_equal(target_deploy(&env, &t, &m), 0);

	/* a key that does not belong to the certificate */
	put(dir, "privkey.pem", key2.ptr, 0600);
	assert_int_equal(target_observe(&o, &env, &t, &m), 0);
	assert_int_equal(o.files[1].role, TARGET_FILE_KEY);
	assert_int_equal(o.files[1].content_matches, 0);
	assert_int_equal(o.files[1].key_matches, 0);
	assert_null(o.files[1].fingerprint);
	assert_string_equal(o.fingerprint, fp.ptr);
	assert_drift_is(&o, dir, "privkey.pem", "content differs from the key of certificate 'www'");
	target_observation_clear(&o);
	/* the right key, written differently: differs, but it matches */
	{
		util_buf k2 = UTIL_BUF_INIT;

		util_buf_printf(&k2, "\n%s", key.ptr);
		put(dir, "privkey.pem", k2.ptr, 0600);
		util_buf_release(&k2);
	}
	assert_int_equal(target_observe(&o, &env, &t, &m), 0);
	assert_int_equal(o.files[1].content_matches, 0);
	assert_int_equal(o.files[1].key_matches, 1);
	target_observation_clear(&o);
	assert_int_equal(target_deploy(&env, &t, &m), 0);

	/* mode */
	util_fs_join(&path, dir, "fullchain.pem");
	assert_int_equal(chmod(path.ptr, 0600), 0);
	assert_int_equal(target_observe(&o, &env, &t, &m), 0);
	assert_int_equal(o.files[0].mode, 0600);
	assert_drift_is(&o, dir, "fullchain.pem", "mode 0600, want 0644");
	target_observation_clear(&o);
	assert_int_equal(chmod(path.ptr, 0644), 0);

	/* owner: a numeric id is resolved as such, a name that is nobody's is said */
	snprintf(owner, sizeof(owner), "%ld", (long)getuid() + 4242);
	t.files.owner = owner;
	assert_int_equal(target_observe(&o, &env, &t, &m), 0);
	assert_int_equal(o.want_uid, (long)getuid() + 4242);
	assert_null(o.owner_error);
	util_buf_clear(&b);
	util_buf_printf(&b, "%s/fullchain.pem: owner %ld, want %s; %s/privkey.pem: owner %ld, want %s",
			dir, (long)getuid(), owner, dir, (long)getuid(), owner);
	assert_string_equal(o.drift, b.ptr);
	target_observation_clear(&o);
	t.files.owner = "certops-no-such-user";
	assert_int_equal(target_observe(&o, &env, &t, &m), 0);
	assert_int_equal(o.want_uid, -1);
	assert_string_equal(o.owner_error, "unknown user 'certops-no-such-user'");
	util_buf_clear(&b);
	util_buf_printf(&b, "%s: unknown user 'certops-no-such-user'", dir);
	assert_string_equal(o.drift, b.ptr);
	target_observation_clear(&o);
	t.files.owner = NULL;

	/* symlinks: one to the right bytes is followed, one to a directory is
	 * not a file, a dangling one is missing */
	{
		util_buf real = UTIL_BUF_INIT, want = UTIL_BUF_INIT;

		util_fs_join(&real, allowed, "real-fullchain.pem");
		assert_int_equal(rename(path.ptr, real.ptr), 0);
		assert_int_equal(symlink(real.ptr, path.ptr), 0);
		assert_int_equal(target_observe(&o, &env, &t, &m), 0);
		assert_int_equal(o.files[0].content_matches, 1);
		assert_null(o.drift);
		target_observation_clear(&o);

		assert_int_equal(unlink(real.ptr), 0);
		assert_int_equal(target_observe(&o, &env, &t, &m), 0);
		assert_false(o.files[0].exists);
		assert_int_equal(o.present, TARGET_PRESENT_PARTIAL);
		assert_drift_is(&o, dir, "fullchain.pem", "missing");
		target_observation_clear(&o);

		assert_int_equal(unlink(path.ptr), 0);
		assert_int_equal(symlink(allowed, path.ptr), 0);
		assert_int_equal(target_observe(&o, &env, &t, &m), 0);
		assert_false(o.files[0].exists);
		util_buf_printf(&want, "'%s' is not a regular file", path.ptr);
		assert_string_equal(o.files[0].error, want.ptr);
		assert_drift_is(&o, dir, "fullchain.pem", want.ptr);
		target_observation_clear(&o);
		assert_int_equal(unlink(path.ptr), 0);
		util_buf_release(&real);
		util_buf_release(&want);
	}
	util_buf_release(&b);
	util_buf_release(&path);
}

static void test_file_content(void **vs)
{
	util_buf b = UTIL_BUF_INIT, leaf = UTIL_BUF_INIT;
	config_target t = files_target("/x");

	(void)vs;
	assert_string_equal(target_file_role_name(TARGET_FILE_COMBINED), "combined");
	assert_string_equal(target_file_role_name(TARGET_FILE__COUNT), "unknown");
	assert_int_equal(target_file_mode(&t, TARGET_FILE_KEY), 0600);
	assert_int_equal(target_file_mode(&t, TARGET_FILE_CHAIN), 0644);
	assert_int_equal(target_file_content(&leaf, TARGET_FILE_CERT, chain.ptr, NULL), 0);
	/* chain with no intermediates is empty, combined is key then chain */
	assert_int_equal(target_file_content(&b, TARGET_FILE_CHAIN, leaf.ptr, NULL), 0);
	assert_int_equal(b.size, 0);
	assert_int_equal(target_file_content(&b, TARGET_FILE_COMBINED, leaf.ptr, "K"), 0);
	assert_int_equal(strncmp(b.ptr, "K\n-----BEGIN CERTIFICATE-----", 29), 0);
	assert_int_equal(target_file_content(&b, TARGET_FILE_KEY, leaf.ptr, NULL), CERTOPS_EINVALID);
	assert_string_equal(util_error_message(), "no private key to write");
	assert_int_equal(target_file_content(&b, TARGET_FILE_CERT, "junk", NULL), CERTOPS_EINVALID);
	util_buf_release(&b);
	util_buf_release(&leaf);
}

static void test_outside_policy_refused(void **vs)
{
	config_target t = files_target(outside);
	target_material m = material();
	target_env env = { policy, 0 };
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
	target_env env = { policy, 0 };

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
		util_buf_release(&b);
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
	util_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deploy_writes_every_part),
		cmocka_unit_test(test_observe_drift),
		cmocka_unit_test(test_file_content),
		cmocka_unit_test(test_outside_policy_refused),
		cmocka_unit_test(test_symlinks),
		cmocka_unit_test(test_every_kind_registered),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
