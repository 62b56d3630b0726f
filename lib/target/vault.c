/*
 * The vault target: the certificate in one Vault / OpenBao KV v2 secret
 * (docs/targets-deploy.md), written with check-and-set (vault_cert.c) over
 * the client in vault_kv.c.  The token comes from a secret reference the
 * policy allows; it and the key never reach a log.
 */
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "deploy_internal.h"
#include "target_internal.h"
#include "target/vault_kv.h"
#include "util/error.h"

static int vault_describe(util_buf *out, const config_target *t)
{
	util_buf_printf(out, "vault:%s/", t->vault.address);
	if (t->vault.namespace_)
		util_buf_printf(out, "%s/", t->vault.namespace_);
	util_buf_printf(out, "%s/%s", t->vault.mount, t->vault.path);
	return util_buf_failed(out) ? util_error_oom() : 0;
}

static target_vault_names names_of(const config_target *t)
{
	target_vault_names n = { t->vault.field_cert, t->vault.field_chain,
				 t->vault.field_fullchain, t->vault.field_key, NULL, NULL };
	return n;
}

static int client_for(target_vault **out, char **token, const target_env *env,
		      const config_target *t)
{
	target_vault_opts o;
	int error;

	if ((error = config_secret_read(token, env->policy, &t->vault.token)) < 0)
		return error;
	memset(&o, 0, sizeof(o));
	o.address = t->vault.address;
	o.namespace_ = t->vault.namespace_;
	o.ca_bundle = t->vault.ca_bundle;
	o.token = *token;
	return target_vault_new(out, &o);
}

static void token_free(char *token)
{
	if (token) {
		memset(token, 0, strlen(token));
		free(token);
	}
}

/*
 * Read only online, with a policy that allows reading the token, and
 * when something is issued; otherwise presence stays unknown (the
 * planner trusts the deployment record).
 */
static int vault_observe(target_observation *o, const target_env *env, const config_target *t,
			 const target_material *m)
{
	target_vault_names n = names_of(t);
	target_vault *v = NULL;
	target_vault_state st = TARGET_VAULT_IN_SYNC;
	char *token = NULL;
	util_buf where = UTIL_BUF_INIT;
	int error, rc = 0;

	if (!env || !env->online || !env->policy || !m->chain_pem || !m->fingerprint)
		return 0;
	o->present = TARGET_PRESENT_YES;
	if ((rc = vault_describe(&where, t)) < 0)
		goto done;
	if ((error = client_for(&v, &token, env, t)) < 0 ||
	    (error = target_vault_observe_cert(&st, NULL, v, t->vault.mount, t->vault.path, &n,
					       m->fingerprint, m->known_version)) < 0) {
		rc = target__drift_add(o, where.ptr, "unreadable: %s", util_error_message());
		goto done;
	}
	if (st == TARGET_VAULT_MISSING)
		o->present = TARGET_PRESENT_NO;
	if (st != TARGET_VAULT_IN_SYNC)
		rc = target__drift_add(o, where.ptr, "%s",
				       st == TARGET_VAULT_CHANGED ? "certificate differs"
								  : target_vault_state_name(st));
done:
	if (rc == 0)
		util_error_clear();
	target_vault_free(v);
	token_free(token);
	util_buf_release(&where);
	return rc;
}

static int vault_deploy(const target_env *env, const config_target *t, const target_material *m)
{
	target_vault_names n = names_of(t);
	target_vault_cert c;
	target_vault *v = NULL;
	crypto_cert_info info;
	util_buf leaf = UTIL_BUF_INIT, chain = UTIL_BUF_INIT, full = UTIL_BUF_INIT,
		 fp = UTIL_BUF_INIT;
	char *token = NULL, not_after[21];
	int64_t version = 0;
	int error;

	memset(&info, 0, sizeof(info));
	if (!m->key_pem || !m->key_pem[0]) {
		error = util_error_set(CERTOPS_EINVALID, "no private key for certificate '%s'", m->name);
		goto done;
	}
	if ((error = target_file_content(&leaf, TARGET_FILE_CERT, m->chain_pem, NULL)) < 0 ||
	    (error = target_file_content(&chain, TARGET_FILE_CHAIN, m->chain_pem, NULL)) < 0 ||
	    (error = target_file_content(&full, TARGET_FILE_FULLCHAIN, m->chain_pem, NULL)) < 0 ||
	    (error = crypto_cert_parse(&info, leaf.ptr, leaf.size)) < 0 ||
	    (error = crypto_hex_encode(&fp, info.fingerprint, 32, 0)) < 0)
		goto done;
	target__rfc3339(not_after, info.not_after);
	c.certificate = leaf.ptr;
	c.chain = chain.ptr;
	c.fullchain = full.ptr;
	c.private_key = m->key_pem;
	c.not_after = not_after;
	c.fingerprint = fp.ptr;
	if ((error = client_for(&v, &token, env, t)) < 0 ||
	    (error = target_vault_put_cert(&version, v, t->vault.mount, t->vault.path, &n, &c)) < 0)
		goto done;
	if (m->version_out)
		*m->version_out = version;
done:
	target_vault_free(v);
	token_free(token);
	crypto_cert_info_release(&info);
	util_buf_release(&leaf);
	util_buf_release(&chain);
	util_buf_release(&full);
	util_buf_release(&fp);
	return error;
}

const target_ops target__vault_ops = {
	"vault",
	vault_describe,
	vault_observe,
	vault_deploy,
	NULL,
};
