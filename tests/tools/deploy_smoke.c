/*
 * deploy_smoke: deploys one issued certificate through the deploy targets
 * of its declaration, in order, then runs its verify probes, the way
 * apply is to do it (issue 7), for tests/integration/test_deploy_nginx.sh.
 *
 *   deploy_smoke --dir DECL --policy POLICY --cert NAME --chain PEM --key PEM
 *                [--older FP]... [--window MS] [--observe | --verify-only]
 *
 * --chain is the issued chain (leaf first), --key its key.  --older names
 * fingerprints of earlier certificates of ours (for "stale").  With
 * --observe nothing is deployed: each target's drift and each probe's
 * result (observe_run + observe_tls_verify_all, as plan sees it) are
 * printed.  --verify-only runs the probes as an apply verify action
 * (observe_tls_verify_one): "verify.N=ok" or "verify.N=failed: msg".  Prints "deploy.N=ok" / "deploy.N=failed: msg",
 * "drift.N=..." and "verify.N=<status> <fingerprint>" ("error.N=" when
 * unreachable).  Exit 0 when everything deployed and every probe served.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "config/policy.h"
#include "crypto/crypto.h"
#include "observe/observe.h"
#include "observe/tls_verify.h"
#include "target/deploy_internal.h"
#include "target/exec_run.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/log.h"

#define MAX_OLDER 16

/* The table of a kind: the files target's from target.c, ours beside it
 * until target.c registers them. */
static const target_ops *ops_for(config_target_type type)
{
	const target_ops *ops = target_ops_for(type);

	if (ops)
		return ops;
	switch (type) {
	case CONFIG_TARGET_PKCS12: return &target__pkcs12_ops;
	case CONFIG_TARGET_EXEC: return &target__exec_ops;
	case CONFIG_TARGET_VAULT: return &target__vault_ops;
	default: return NULL;
	}
}

static void print_diags(const util_diags *d)
{
	util_buf b = UTIL_BUF_INIT;
	size_t i;

	for (i = 0; i < d->count; i++) {
		util_buf_clear(&b);
		util_error_format(&b, &d->items[i]);
		fprintf(stderr, "deploy_smoke: %s\n", b.ptr);
	}
	util_buf_release(&b);
}

int main(int argc, char **argv)
{
	const char *dir = NULL, *policy_path = NULL, *name = NULL, *chain_path = NULL,
		   *key_path = NULL, *older[MAX_OLDER];
	size_t nolder = 0, i;
	long window = 5000;
	int observe = 0, verify_only = 0, rc = 1, failed = 0;
	observe_result *obs = NULL;
	config_set *set = NULL;
	config_policy *policy = NULL;
	util_diags d = UTIL_DIAGS_INIT;
	util_buf chain = UTIL_BUF_INIT, key = UTIL_BUF_INIT, fp = UTIL_BUF_INIT;
	crypto_cert_info info;
	const config_certificate *cert;
	target_material m;
	target_env env;

	memset(&info, 0, sizeof(info));
	for (i = 1; i < (size_t)argc; i++) {
		const char *a = argv[i], *v = i + 1 < (size_t)argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--observe")) {
			observe = 1;
			continue;
		}
		if (!strcmp(a, "--verify-only")) {
			verify_only = 1;
			continue;
		}
		if (!v)
			goto usage;
		i++;
		if (!strcmp(a, "--dir"))
			dir = v;
		else if (!strcmp(a, "--policy"))
			policy_path = v;
		else if (!strcmp(a, "--cert"))
			name = v;
		else if (!strcmp(a, "--chain"))
			chain_path = v;
		else if (!strcmp(a, "--key"))
			key_path = v;
		else if (!strcmp(a, "--older") && nolder < MAX_OLDER)
			older[nolder++] = v;
		else if (!strcmp(a, "--window"))
			window = strtol(v, NULL, 10);
		else
			goto usage;
	}
	if (!dir || !policy_path || !name || !chain_path || !key_path)
		goto usage;
	util_log_setup(UTIL_LOG_INFO, UTIL_LOG_TEXT, 0, NULL);
	if (config_load_dir(&set, &d, dir) < 0 ||
	    config_policy_open(&policy, &d, policy_path, NULL) < 0 ||
	    config_policy_check(policy, set, &d) < 0 || d.count) {
		print_diags(&d);
		if (!d.count)
			fprintf(stderr, "deploy_smoke: %s\n", util_error_message());
		printf("valid=no\n");
		goto done;
	}
	if (!(cert = config_find_certificate(set, name))) {
		fprintf(stderr, "deploy_smoke: no certificate '%s'\n", name);
		goto done;
	}
	if (util_fs_read_file(&chain, chain_path, 0) < 0 || util_fs_read_file(&key, key_path, 0) < 0 ||
	    crypto_cert_parse(&info, chain.ptr, chain.size) < 0 ||
	    crypto_hex_encode(&fp, info.fingerprint, 32, 0) < 0) {
		fprintf(stderr, "deploy_smoke: %s\n", util_error_message());
		goto done;
	}
	m = (target_material){ .name = cert->name, .chain_pem = chain.ptr, .key_pem = key.ptr,
			       .fingerprint = fp.ptr, .cert = cert };
	env = (target_env){ policy, 1 }; /* online: vault is read too */
	printf("fingerprint=%s\n", fp.ptr);

	if (verify_only) {
		for (i = 0; i < cert->nverify; i++) {
			if (observe_tls_verify_one(cert, i, fp.ptr, older, nolder, window) < 0) {
				printf("verify.%zu=failed: %s\n", i, util_error_message());
				failed = 1;
			} else {
				printf("verify.%zu=ok\n", i);
			}
		}
		rc = failed;
		goto done;
	}
	for (i = 0; i < cert->ndeploy && !verify_only; i++) {
		const config_target *t = &cert->deploy[i];
		const target_ops *ops = ops_for(t->type);
		int e;

		if (observe) {
			target_observation o = TARGET_OBSERVATION_INIT;

			if (target_observe(&o, &env, t, &m) < 0) {
				fprintf(stderr, "deploy_smoke: %s\n", util_error_message());
				goto done;
			}
			printf("drift.%zu=%s\n", i, o.drift ? o.drift : "");
			if (o.error)
				printf("observe_error.%zu=%s\n", i, o.error);
			target_observation_clear(&o);
			continue;
		}
		e = t->type == CONFIG_TARGET_EXEC ? target_exec_deploy_cert(&env, t, &m, cert)
						  : ops->deploy(&env, t, &m);
		if (e < 0) {
			printf("deploy.%zu=failed: %s\n", i, util_error_message());
			failed = 1;
			break; /* later targets (the hooks) follow the earlier ones */
		}
		printf("deploy.%zu=ok\n", i);
	}
	if (observe) {
		/* What plan sees: observe (no store: nothing issued) + the
		 * online probes, classified against this certificate. */
		observe_options oo = { OBSERVE_NO_TARGETS, NULL };
		const observe_cert *oc = NULL;
		size_t k;

		if (observe_run(&obs, set, NULL, &oo) < 0 || observe_tls_verify_all(obs) < 0) {
			fprintf(stderr, "deploy_smoke: %s\n", util_error_message());
			goto done;
		}
		for (k = 0; k < obs->ncerts; k++)
			if (obs->certs[k].cert == cert)
				oc = &obs->certs[k];
		for (i = 0; oc && i < oc->nverifies; i++) {
			const observe_verify *ov = &oc->verifies[i];
			observe_tls_status st = observe_tls_classify(ov->served_fingerprint, fp.ptr,
								     older, nolder);
			printf("verify.%zu=%s %s\n", i, observe_tls_status_name(st),
			       ov->served_fingerprint ? ov->served_fingerprint : "");
			if (ov->error)
				printf("error.%zu=%s\n", i, ov->error);
			if (st != OBSERVE_TLS_SERVED)
				failed = 1;
		}
		rc = failed;
		goto done;
	}
	for (i = 0; i < cert->nverify; i++) {
		observe_tls_endpoint ep = observe_tls_endpoint_of(cert, i);
		observe_tls_result r;

		if (observe_tls_wait_served(&r, &ep, fp.ptr, older, nolder, window, 100) < 0)
			goto done;
		printf("verify.%zu=%s %s\n", i, observe_tls_status_name(r.status), r.fingerprint);
		if (r.error)
			printf("error.%zu=%s\n", i, r.error);
		if (r.status != OBSERVE_TLS_SERVED)
			failed = 1;
		observe_tls_result_release(&r);
	}
	rc = failed;
done:
	observe_result_free(obs);
	crypto_cert_info_release(&info);
	util_buf_release(&chain);
	util_buf_release(&key);
	util_buf_release(&fp);
	config_set_free(set);
	config_policy_free(policy);
	util_diags_release(&d);
	return rc;
usage:
	fprintf(stderr, "usage: deploy_smoke --dir DECL --policy POLICY --cert NAME --chain PEM "
		"--key PEM [--older FP]... [--window MS] [--observe | --verify-only]\n");
	return 64;
}
