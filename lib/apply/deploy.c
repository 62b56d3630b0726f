/* Deploying one target, and recording what was deployed. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apply_internal.h"
#include "observe/observe.h"
#include "target/target.h"
#include "util/error.h"

int apply_deploy(apply_ctx *ctx, const config_certificate *cert,
		 const config_target *target)
{
	state_cert *cur = NULL;
	state_deploy rec;
	target_material m;
	target_env env = { ctx->opts.policy, 0 };
	util_buf id = UTIL_BUF_INIT, msg = UTIL_BUF_INIT;
	char hash[CONFIG_HASH_HEX_LEN + 1];
	long long version = 0;
	int error, rerr;

	if ((error = observe_target_id(&id, cert, target)) < 0 ||
	    (error = config_target_hash(hash, target)) < 0)
		goto done;
	if ((error = state_cert_current(&cur, ctx->opts.st, cert->name,
					STATE_CERT_CHAIN | STATE_CERT_KEY)) < 0) {
		if (error == CERTOPS_ENOTFOUND)
			util_error_set(error, "certificate '%s' has not been issued", cert->name);
		goto done;
	}
	/* never deploy broken material over what works */
	if ((error = crypto_material_check(cur->chain_pem, cur->key_pem)) < 0) {
		util_error_wrap("certificate '%s', version %s: not deployed", cert->name,
				cur->meta.version ? cur->meta.version : "?");
		goto done;
	}
	memset(&m, 0, sizeof(m));
	m.name = cert->name;
	m.chain_pem = cur->chain_pem;
	m.key_pem = cur->key_pem;
	m.fingerprint = cur->meta.fingerprint;
	m.cert = cert;              /* hooks get the files' paths */
	m.version_out = &version;   /* vault: recorded for observation */
	error = target_deploy(&env, target, &m);
	/* the record says what was attempted, failures included, so the
	 * next plan can say "PreviousFailed" and status can show why */
	if (error < 0)
		util_buf_puts(&msg, util_error_message());
	memset(&rec, 0, sizeof(rec));
	rec.target = id.ptr;
	rec.certificate = (char *)cert->name;
	rec.fingerprint = cur->meta.fingerprint;
	rec.config_hash = hash;
	rec.time = time(NULL);
	rec.result = error < 0 ? STATE_DEPLOY_FAILED : STATE_DEPLOY_OK;
	rec.message = error < 0 ? msg.ptr : NULL;
	rec.version = error < 0 ? 0 : version;
	if ((rerr = state_deploy_put(ctx->opts.st, &rec)) < 0) {
		if (error == 0)
			error = rerr;
	} else if (error < 0) {
		/* put the deploy failure back as this thread's error */
		util_error_set(error, "%s", msg.ptr ? msg.ptr : "deploy failed");
	}
done:
	state_cert_free(cur);
	util_buf_release(&id);
	util_buf_release(&msg);
	return error;
}
