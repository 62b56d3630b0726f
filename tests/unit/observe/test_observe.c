/*
 * Observation against a real state store and real files: a certificate
 * stored and deployed exactly as the files target writes it is in sync;
 * each kind of drift on disk (mode, another certificate, a foreign key, a
 * missing file) is seen and named by the planner, for that target only;
 * accounts and orphans come from the store.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/config.h"
#include "crypto/crypto.h"
#include "observe/observe.h"
#include "plan/plan.h"
#include "state/state.h"
#include "util/error.h"
#include "util/fingerprint.h"
#include "util/fs.h"

#define FP_REST "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"
#define FP_REST_LOWER "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static char root[64];
static char yaml[1024];

typedef struct {
	char *chain, *key, *fp;
} test_cert;

/* A self-signed certificate for name (leaf + a second as "intermediate"). */
static void make_cert(test_cert *out, const char *name)
{
	unsigned char ext[34] = { 0x04, 0x20 };
	crypto_key *k = NULL, *k2 = NULL;
	util_buf chain = UTIL_BUF_INIT, key = UTIL_BUF_INIT, hex = UTIL_BUF_INIT;
	crypto_cert_info info;

	assert_int_equal(crypto_key_generate(&k, CRYPTO_KEY_EC_P256), 0);
	assert_int_equal(crypto_key_generate(&k2, CRYPTO_KEY_EC_P256), 0);
	assert_int_equal(crypto_tlsalpn01_cert(&chain, k, name, ext, sizeof(ext)), 0);
	assert_int_equal(crypto_tlsalpn01_cert(&chain, k2, "ca.example", ext, sizeof(ext)), 0);
	assert_int_equal(crypto_key_to_pem(&key, k), 0);
	memset(&info, 0, sizeof(info));
	assert_int_equal(crypto_cert_parse(&info, chain.ptr, chain.size), 0);
	assert_int_equal(crypto_hex_encode(&hex, info.fingerprint, 32, 0), 0);
	crypto_cert_info_release(&info);
	out->chain = util_buf_detach(&chain);
	out->key = util_buf_detach(&key);
	out->fp = util_buf_detach(&hex);
	crypto_key_free(k);
	crypto_key_free(k2);
}

static void free_cert(test_cert *c)
{
	free(c->chain);
	free(c->key);
	free(c->fp);
}

static config_set *load(void)
{
	config_set *set = NULL;
	util_diags d = UTIL_DIAGS_INIT;

	assert_int_equal(config_set_new(&set), 0);
	assert_int_equal(config_set_add_buffer(set, &d, "t.yaml", yaml, strlen(yaml)), 0);
	assert_int_equal(config_set_validate(set, &d), 0);
	assert_int_equal(d.count, 0);
	util_diags_release(&d);
	return set;
}

static void path_of(util_buf *b, const char *rel)
{
	util_buf_clear(b);
	util_fs_join(b, root, rel);
}

/* Writes a files target's file as the files target would. */
static void deploy_file(const char *rel, target_file_role role, const test_cert *c,
			unsigned mode)
{
	util_buf p = UTIL_BUF_INIT, data = UTIL_BUF_INIT;

	path_of(&p, rel);
	assert_int_equal(target_file_content(&data, role, c->chain, c->key), 0);
	assert_int_equal(util_fs_write_atomic(p.ptr, data.ptr, data.size, mode), 0);
	util_buf_release(&p);
	util_buf_release(&data);
}

typedef struct {
	config_set *set;
	state *st;
	test_cert cert;
} fx;

static int setup(void **vs)
{
	fx *f = calloc(1, sizeof(*f));
	util_buf p = UTIL_BUF_INIT;
	state_cert sc;
	state_deploy rec;
	state_account acct;
	char hash[CONFIG_HASH_HEX_LEN + 1];
	char *sans[] = { "www.example.com" };
	size_t i;

	memcpy(root, "/tmp/certops-observe-XXXXXX", sizeof("/tmp/certops-observe-XXXXXX"));
	assert_non_null(mkdtemp(root));
	snprintf(yaml, sizeof(yaml),
		 "kind: Issuer\nname: le\nacme: {directory: https://acme.example/dir}\n---\n"
		 "kind: Certificate\nname: www\nissuer: le\ndomains: [www.example.com]\n"
		 "challenge: {http01: {webroot: /var/www/html}}\n"
		 "deploy:\n"
		 "  - files: {dir: %s/a, fullchain: fullchain.pem, key: privkey.pem, mode: \"0600\"}\n"
		 "  - files: {dir: %s/b, cert: cert.pem, chain: chain.pem, combined: all.pem}\n",
		 root, root);
	f->set = load();
	make_cert(&f->cert, "www.example.com");
	path_of(&p, "state");
	assert_int_equal(state_open(&f->st, p.ptr, 0), 0);

	memset(&sc, 0, sizeof(sc));
	sc.meta.name = "www";
	sc.meta.sans = sans;
	sc.meta.nsans = 1;
	sc.meta.issuer = "le";
	sc.meta.key_spec = "ecdsa-p256";
	sc.meta.fingerprint = f->cert.fp;
	assert_int_equal(plan_declaration_hash(hash, f->set->certificates[0]), 0);
	sc.meta.declaration_hash = hash;
	sc.chain_pem = f->cert.chain;
	sc.key_pem = f->cert.key;
	assert_int_equal(state_cert_put(f->st, &sc, NULL), 0);

	memset(&acct, 0, sizeof(acct));
	acct.issuer = "le";
	acct.directory_url = "https://acme.example/dir";
	acct.key_pem = f->cert.key;
	acct.url = "https://acme.example/acct/1";
	assert_int_equal(state_account_put(f->st, &acct), 0);

	path_of(&p, "a");
	assert_int_equal(util_fs_mkdir_p(p.ptr, 0755), 0);
	path_of(&p, "b");
	assert_int_equal(util_fs_mkdir_p(p.ptr, 0755), 0);
	deploy_file("a/fullchain.pem", TARGET_FILE_FULLCHAIN, &f->cert, 0644);
	deploy_file("a/privkey.pem", TARGET_FILE_KEY, &f->cert, 0600);
	deploy_file("b/cert.pem", TARGET_FILE_CERT, &f->cert, 0644);
	deploy_file("b/chain.pem", TARGET_FILE_CHAIN, &f->cert, 0644);
	deploy_file("b/all.pem", TARGET_FILE_COMBINED, &f->cert, 0600);
	for (i = 0; i < 2; i++) {
		memset(&rec, 0, sizeof(rec));
		rec.target = i ? "www:files[1]" : "www:files[0]";
		rec.certificate = "www";
		rec.fingerprint = f->cert.fp;
		assert_int_equal(config_target_hash(hash, &f->set->certificates[0]->deploy[i]), 0);
		rec.config_hash = hash;
		rec.result = STATE_DEPLOY_OK;
		assert_int_equal(state_deploy_put(f->st, &rec), 0);
	}
	util_buf_release(&p);
	*vs = f;
	return 0;
}

static int teardown(void **vs)
{
	fx *f = *vs;
	char cmd[128];

	state_free(f->st);
	config_set_free(f->set);
	free_cert(&f->cert);
	free(f);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static plan *observe_and_plan(fx *f, observe_result **obs_out)
{
	observe_result *obs = NULL;
	plan_options o;
	plan *p = NULL;

	assert_int_equal(observe_run(&obs, f->set, f->st, NULL), 0);
	memset(&o, 0, sizeof(o));
	o.now = time(NULL);
	assert_int_equal(plan_new(&p, f->set, obs, &o), 0);
	if (obs_out)
		*obs_out = obs;
	else
		observe_result_free(obs);
	return p;
}

static void test_in_sync(void **vs)
{
	fx *f = *vs;
	observe_result *obs;
	plan *p = observe_and_plan(f, &obs);
	const observe_cert *oc = &obs->certs[0];
	size_t i, j;

	assert_true(obs->has_state);
	assert_true(oc->present);
	assert_null(oc->error);
	assert_string_equal(oc->cur.fingerprint, f->cert.fp);
	assert_int_equal(oc->cur.nsans, 1);
	assert_string_equal(oc->cur.sans[0], "www.example.com");
	assert_string_equal(oc->cur.key_spec, "ecdsa-p256");
	assert_string_equal(oc->cur.issuer, "le");
	assert_true(oc->cur.not_after > oc->cur.not_before);
	assert_true(obs->issuers[0].has_account);
	assert_int_equal(oc->ntargets, 2);
	assert_string_equal(oc->targets[0].id, "www:files[0]");
	assert_int_equal(oc->targets[0].observed.nfiles, 2);
	assert_int_equal(oc->targets[1].observed.nfiles, 3);
	for (i = 0; i < 2; i++) {
		assert_true(oc->targets[i].has_record);
		assert_int_equal(oc->targets[i].observed.present, TARGET_PRESENT_YES);
		assert_string_equal(oc->targets[i].observed.fingerprint, f->cert.fp);
		for (j = 0; j < oc->targets[i].observed.nfiles; j++)
			assert_int_equal(oc->targets[i].observed.files[j].content_matches, 1);
	}
	assert_int_equal(obs->norphan_certs, 0);
	assert_int_equal(obs->norphan_targets, 0);
	if (p->count)
		fail_msg("unexpected action %s: %s", p->actions[0].id, p->actions[0].message);
	plan_free(p);
	observe_result_free(obs);
}

static void test_mode_drift(void **vs)
{
	fx *f = *vs;
	util_buf path = UTIL_BUF_INIT, want = UTIL_BUF_INIT;
	plan *p;

	path_of(&path, "a/privkey.pem");
	assert_int_equal(chmod(path.ptr, 0644), 0);
	p = observe_and_plan(f, NULL);
	assert_int_equal(p->count, 1);
	assert_string_equal(p->actions[0].id, "deploy:www:files[0]");
	assert_string_equal(plan_reason_name(p->actions[0].reason), "Drifted");
	util_buf_printf(&want, "%s has mode 0644, want 0600", path.ptr);
	assert_string_equal(p->actions[0].message, want.ptr);
	plan_free(p);
	util_buf_release(&path);
	util_buf_release(&want);
}

static void test_other_certificate_and_key(void **vs)
{
	fx *f = *vs;
	test_cert other;
	util_buf want = UTIL_BUF_INIT;
	plan *p;

	make_cert(&other, "www.example.com");
	deploy_file("b/cert.pem", TARGET_FILE_CERT, &other, 0644);
	deploy_file("b/all.pem", TARGET_FILE_COMBINED, &other, 0600);
	p = observe_and_plan(f, NULL);
	assert_int_equal(p->count, 1);
	assert_string_equal(p->actions[0].id, "deploy:www:files[1]");
	util_buf_printf(&want, "%s/b/cert.pem holds certificate %.16s... instead of %.16s...",
			root, other.fp, f->cert.fp);
	assert_non_null(strstr(p->actions[0].message, want.ptr));
	assert_non_null(strstr(p->actions[0].message, "all.pem holds certificate"));
	plan_free(p);

	/* the right certificate but a foreign key */
	deploy_file("b/cert.pem", TARGET_FILE_CERT, &f->cert, 0644);
	{
		test_cert mixed = { f->cert.chain, other.key, NULL };

		deploy_file("b/all.pem", TARGET_FILE_COMBINED, &mixed, 0600);
		deploy_file("a/privkey.pem", TARGET_FILE_KEY, &mixed, 0600);
	}
	p = observe_and_plan(f, NULL);
	assert_int_equal(p->count, 2);
	assert_non_null(strstr(plan_find(p, "deploy:www:files[0]")->message,
			       "privkey.pem holds a key that does not belong to the certificate"));
	assert_non_null(strstr(plan_find(p, "deploy:www:files[1]")->message,
			       "all.pem holds a key that does not belong to the certificate"));
	plan_free(p);
	free_cert(&other);
	util_buf_release(&want);
}

static void test_missing_file_and_dir(void **vs)
{
	fx *f = *vs;
	util_buf path = UTIL_BUF_INIT;
	observe_result *obs;
	plan *p;

	path_of(&path, "b/chain.pem");
	assert_int_equal(unlink(path.ptr), 0);
	p = observe_and_plan(f, &obs);
	assert_int_equal(obs->certs[0].targets[1].observed.present, TARGET_PRESENT_PARTIAL);
	/* the kind's own summary, beside the per-file findings the plan reads */
	{
		util_buf want = UTIL_BUF_INIT;

		util_buf_printf(&want, "%s: missing", path.ptr);
		assert_string_equal(obs->certs[0].targets[1].observed.drift, want.ptr);
		assert_null(obs->certs[0].targets[0].observed.drift);
		util_buf_release(&want);
	}
	assert_int_equal(p->count, 1);
	util_buf_puts(&path, " is missing");
	assert_string_equal(p->actions[0].message, path.ptr);
	plan_free(p);
	observe_result_free(obs);
	util_buf_release(&path);
}

static void test_orphans_from_store(void **vs)
{
	fx *f = *vs;
	state_cert sc;
	state_deploy rec;
	observe_result *obs;
	char *sans[] = { "old.example.com" };
	plan *p;

	memset(&sc, 0, sizeof(sc));
	sc.meta.name = "old";
	sc.meta.sans = sans;
	sc.meta.nsans = 1;
	sc.meta.issuer = "le";
	sc.meta.fingerprint = f->cert.fp;
	sc.chain_pem = f->cert.chain;
	sc.key_pem = f->cert.key;
	assert_int_equal(state_cert_put(f->st, &sc, NULL), 0);
	memset(&rec, 0, sizeof(rec));
	rec.target = "old:files[0]";
	rec.certificate = "old";
	rec.fingerprint = f->cert.fp;
	rec.config_hash = "x";
	assert_int_equal(state_deploy_put(f->st, &rec), 0);
	p = observe_and_plan(f, &obs);
	assert_int_equal(obs->norphan_certs, 1);
	assert_string_equal(obs->orphan_certs[0].name, "old");
	assert_int_equal(obs->norphan_targets, 1);
	assert_string_equal(obs->orphan_targets[0].id, "old:files[0]");
	assert_non_null(plan_find(p, "orphan:old"));
	assert_non_null(plan_find(p, "orphan-target:old:files[0]"));
	assert_false(plan_has_changes(p));
	plan_free(p);
	observe_result_free(obs);
}

/* No store: nothing issued; files on disk still read (and not compared). */
static void test_no_store(void **vs)
{
	fx *f = *vs;
	observe_result *obs = NULL;

	assert_int_equal(observe_run(&obs, f->set, NULL, NULL), 0);
	assert_false(obs->has_state);
	assert_false(obs->certs[0].present);
	assert_false(obs->issuers[0].has_account);
	assert_string_equal(obs->issuers[0].directory_url, "https://acme.example/dir");
	assert_true(obs->certs[0].targets[0].observed.files[0].exists);
	assert_int_equal(obs->certs[0].targets[0].observed.files[0].content_matches, -1);
	observe_result_free(obs);
}

static void test_file_content_and_fingerprints(void **vs)
{
	fx *f = *vs;
	util_buf b = UTIL_BUF_INIT;
	char fp[65];

	assert_int_equal(target_file_content(&b, TARGET_FILE_CERT, f->cert.chain, NULL), 0);
	assert_int_equal(strstr(b.ptr, "-----END CERTIFICATE-----\n") + 26 - b.ptr, (long)b.size);
	util_buf_clear(&b);
	assert_int_equal(target_file_content(&b, TARGET_FILE_KEY, f->cert.chain, NULL),
			 CERTOPS_EINVALID);
	assert_int_equal(target_file_content(&b, TARGET_FILE_FULLCHAIN, "junk", NULL),
			 CERTOPS_EINVALID);
	assert_int_equal(util_fingerprint_norm(fp, "SHA256:AA:" FP_REST), 0);
	assert_string_equal(fp, "aa" FP_REST_LOWER);
	assert_int_equal(util_fingerprint_norm(fp, "abc"), CERTOPS_EINVALID);
	assert_int_equal(util_fingerprint_norm(fp, "aa" FP_REST "00"), CERTOPS_EINVALID);
	assert_int_equal(util_fingerprint_norm(fp, "zz" FP_REST), CERTOPS_EINVALID);
	/* the one comparison: spellings agree, malformed never equals */
	assert_true(util_fingerprint_equal("SHA256:AA:" FP_REST, "aa" FP_REST_LOWER));
	assert_false(util_fingerprint_equal("aa" FP_REST, "ab" FP_REST));
	assert_false(util_fingerprint_equal("abc", "abc"));
	assert_false(util_fingerprint_equal("", ""));
	assert_false(util_fingerprint_equal(NULL, NULL));
	assert_false(util_fingerprint_equal("aa" FP_REST, NULL));
	util_buf_release(&b);
}

/* Enough certificates for the threaded walk: every one observed, in order. */
static void test_many_certificates(void **vs)
{
	util_buf y = UTIL_BUF_INIT, id = UTIL_BUF_INIT;
	config_set *set = NULL;
	util_diags d = UTIL_DIAGS_INIT;
	observe_result *obs = NULL;
	size_t i;

	(void)vs;
	util_buf_puts(&y, "kind: Issuer\nname: le\nacme: {directory: https://acme.example/dir}\n");
	for (i = 0; i < 300; i++)
		util_buf_printf(&y, "---\nkind: Certificate\nname: c%03zu\nissuer: le\n"
				"domains: [c%03zu.example.com]\n"
				"challenge: {http01: {webroot: /var/www}}\n"
				"deploy: [{files: {dir: /nonexistent/certops/c%03zu}}]\n", i, i, i);
	assert_int_equal(config_set_new(&set), 0);
	assert_int_equal(config_set_add_buffer(set, &d, "many.yaml", y.ptr, y.size), 0);
	assert_int_equal(config_set_validate(set, &d), 0);
	assert_int_equal(d.count, 0);
	assert_int_equal(observe_run(&obs, set, NULL, NULL), 0);
	assert_int_equal(obs->ncerts, 300);
	for (i = 0; i < 300; i++) {
		assert_ptr_equal(obs->certs[i].cert, set->certificates[i]);
		assert_int_equal(obs->certs[i].ntargets, 1);
		util_buf_clear(&id);
		util_buf_printf(&id, "%s:files[0]", set->certificates[i]->name);
		assert_string_equal(obs->certs[i].targets[0].id, id.ptr);
		assert_int_equal(obs->certs[i].targets[0].observed.present, TARGET_PRESENT_NO);
	}
	observe_result_free(obs);
	config_set_free(set);
	util_diags_release(&d);
	util_buf_release(&y);
	util_buf_release(&id);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(x) cmocka_unit_test_setup_teardown(x, setup, teardown)
		T(test_in_sync),
		T(test_mode_drift),
		T(test_other_certificate_and_key),
		T(test_missing_file_and_dir),
		T(test_orphans_from_store),
		T(test_no_store),
		T(test_file_content_and_fingerprints),
#undef T
		cmocka_unit_test(test_many_certificates),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
