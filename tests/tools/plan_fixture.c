/*
 * plan_fixture STATE_DIR DIR [--no-deploy]: makes the world of DIR's
 * declarations true without a CA, for plan tests and benchmarks.  Every
 * declared certificate gets a self-signed ECDSA P-256 certificate for its
 * first identifier (so declare one identifier each and key ecdsa-p256),
 * stored as current in STATE_DIR; every ACME issuer an account; and,
 * unless --no-deploy, every files target its files (written as the files
 * target writes them, target_file_content) and every target a deployment
 * record.  Prints "fixture: N certificates, M targets".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "crypto/crypto.h"
#include "observe/observe.h"
#include "plan/plan.h"
#include "state/state.h"
#include "target/target.h"
#include "util/error.h"
#include "util/fs.h"

static int die(const char *what)
{
	fprintf(stderr, "plan_fixture: %s: %s\n", what, util_error_message());
	return 1;
}

static const struct {
	target_file_role role;
	size_t off;
} roles[] = {
	{ TARGET_FILE_CERT, offsetof(config_target, files.cert) },
	{ TARGET_FILE_CHAIN, offsetof(config_target, files.chain) },
	{ TARGET_FILE_FULLCHAIN, offsetof(config_target, files.fullchain) },
	{ TARGET_FILE_KEY, offsetof(config_target, files.key) },
	{ TARGET_FILE_COMBINED, offsetof(config_target, files.combined) },
};

static int write_files(const config_target *t, const char *chain, const char *key)
{
	util_buf path = UTIL_BUF_INIT, data = UTIL_BUF_INIT;
	size_t i;
	int error = 0;

	if ((error = util_fs_mkdir_p(t->files.dir, 0755)) < 0)
		goto done;
	for (i = 0; i < sizeof(roles) / sizeof(roles[0]); i++) {
		const char *name = *(const char *const *)((const char *)t + roles[i].off);

		if (!name)
			continue;
		util_buf_clear(&path);
		util_buf_clear(&data);
		util_fs_join(&path, t->files.dir, name);
		if ((error = target_file_content(&data, roles[i].role, chain, key)) < 0 ||
		    (error = util_fs_write_atomic(path.ptr, data.ptr, data.size,
						  target_file_mode(t, roles[i].role))) < 0)
			goto done;
	}
done:
	util_buf_release(&path);
	util_buf_release(&data);
	return error;
}

int main(int argc, char **argv)
{
	util_diags diags = UTIL_DIAGS_INIT;
	config_set *set = NULL;
	state *st = NULL;
	unsigned char ext[34] = { 0x04, 0x20 };
	size_t i, j, ntargets = 0;
	int deploy = !(argc > 3 && !strcmp(argv[3], "--no-deploy"));

	if (argc < 3) {
		fprintf(stderr, "usage: plan_fixture STATE_DIR DIR [--no-deploy]\n");
		return 64;
	}
	if (config_load_dir(&set, &diags, argv[2]) < 0 || diags.count)
		return die("loading declarations (invalid?)");
	if (state_open(&st, argv[1], 0) < 0)
		return die("opening the store");
	for (i = 0; i < set->nissuers; i++) {
		const config_issuer *is = set->issuers[i];
		state_account a;
		const char *url;
		crypto_key *k = NULL;
		util_buf pem = UTIL_BUF_INIT;

		if (is->type != CONFIG_ISSUER_ACME)
			continue;
		if (config_value_get(&url, &is->acme.directory) < 0 ||
		    crypto_key_generate(&k, CRYPTO_KEY_EC_P256) < 0 || crypto_key_to_pem(&pem, k) < 0)
			return die("account key");
		memset(&a, 0, sizeof(a));
		a.issuer = (char *)is->name;
		a.directory_url = (char *)url;
		a.key_pem = pem.ptr;
		a.url = "https://fixture.invalid/acct/1";
		if (state_account_put(st, &a) < 0)
			return die("storing an account");
		crypto_key_free(k);
		util_buf_release(&pem);
	}
	for (i = 0; i < set->ncertificates; i++) {
		const config_certificate *c = set->certificates[i];
		crypto_key *k = NULL;
		util_buf chain = UTIL_BUF_INIT, key = UTIL_BUF_INIT, hex = UTIL_BUF_INIT;
		crypto_cert_info info;
		state_cert sc;
		char hash[CONFIG_HASH_HEX_LEN + 1];
		char *sans[1];

		if (c->key_type != CONFIG_KEY_ECDSA_P256 || !c->domains.count) {
			fprintf(stderr, "plan_fixture: %s: needs a domain and key ecdsa-p256\n", c->name);
			return 1;
		}
		sans[0] = (char *)c->domains.items[0].value;
		memset(&info, 0, sizeof(info));
		if (crypto_key_generate(&k, CRYPTO_KEY_EC_P256) < 0 ||
		    crypto_tlsalpn01_cert(&chain, k, sans[0], ext, sizeof(ext)) < 0 ||
		    crypto_key_to_pem(&key, k) < 0 ||
		    crypto_cert_parse(&info, chain.ptr, chain.size) < 0 ||
		    crypto_hex_encode(&hex, info.fingerprint, 32, 0) < 0 ||
		    plan_declaration_hash(hash, c) < 0)
			return die(c->name);
		memset(&sc, 0, sizeof(sc));
		sc.meta.name = (char *)c->name;
		sc.meta.sans = sans;
		sc.meta.nsans = 1;
		sc.meta.not_before = info.not_before;
		sc.meta.not_after = info.not_after;
		sc.meta.serial = info.serial_hex;
		sc.meta.issuer = (char *)c->issuer;
		sc.meta.key_spec = "ecdsa-p256";
		sc.meta.fingerprint = hex.ptr;
		sc.meta.declaration_hash = hash;
		sc.chain_pem = chain.ptr;
		sc.key_pem = key.ptr;
		if (state_cert_put(st, &sc, NULL) < 0)
			return die("storing a certificate");
		for (j = 0; deploy && j < c->ndeploy; j++) {
			const config_target *t = &c->deploy[j];
			util_buf id = UTIL_BUF_INIT;
			state_deploy rec;
			char thash[CONFIG_HASH_HEX_LEN + 1];

			if (t->type == CONFIG_TARGET_FILES && write_files(t, chain.ptr, key.ptr) < 0)
				return die("writing files");
			if (observe_target_id(&id, c, t) < 0 || config_target_hash(thash, t) < 0)
				return die("target id");
			memset(&rec, 0, sizeof(rec));
			rec.target = id.ptr;
			rec.certificate = (char *)c->name;
			rec.fingerprint = hex.ptr;
			rec.config_hash = thash;
			rec.result = STATE_DEPLOY_OK;
			if (state_deploy_put(st, &rec) < 0)
				return die("storing a deployment");
			util_buf_release(&id);
			ntargets++;
		}
		crypto_cert_info_release(&info);
		crypto_key_free(k);
		util_buf_release(&chain);
		util_buf_release(&key);
		util_buf_release(&hex);
	}
	printf("fixture: %zu certificates, %zu targets\n", set->ncertificates, ntargets);
	state_free(st);
	config_set_free(set);
	util_diags_release(&diags);
	return 0;
}
