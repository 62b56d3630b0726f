/*
 * The pkcs12 target: one PFX file with the leaf, the intermediates and the
 * key (docs/targets-deploy.md).  Written atomically with its final mode
 * (default 0600) at a path the policy allows, checked at its real
 * location.  Observation opens the file with the declared password, so a
 * changed password, encryption or friendly name is drift as much as a
 * changed certificate.  Without a policy (the password cannot be read) or
 * with nothing issued, it is not observed: presence stays unknown.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "crypto/crypto.h"
#include "crypto/pkcs12.h"
#include "deploy_internal.h"
#include "target_internal.h"
#include "util/error.h"
#include "util/fingerprint.h"
#include "util/fs.h"

static int p12_describe(util_buf *out, const config_target *t)
{
	util_buf_printf(out, "pkcs12:%s", t->pkcs12.path);
	return util_buf_failed(out) ? util_error_oom() : 0;
}

static int p12_password(char **out, const target_env *env, const config_target *t)
{
	*out = NULL;
	if (t->pkcs12.password.source == CONFIG_SECRET_NONE)
		return 0; /* a password-less bundle */
	return config_secret_read(out, env->policy, &t->pkcs12.password);
}

static int p12_observe(target_observation *o, const target_env *env, const config_target *t,
		       const target_material *m)
{
	const char *path = t->pkcs12.path;
	util_buf data = UTIL_BUF_INIT, found = UTIL_BUF_INIT;
	crypto_pkcs12_info info;
	char *pass = NULL;
	struct stat st;
	int error, rc = 0;

	memset(&info, 0, sizeof(info));
	if (!env || !env->policy || !m->chain_pem || !m->fingerprint)
		return 0; /* the password may not be read, or nothing to compare */
	o->present = TARGET_PRESENT_YES;
	if ((error = util_fs_read_file(&data, path, 16 << 20)) < 0) {
		if (error == CERTOPS_ENOTFOUND) {
			o->present = TARGET_PRESENT_NO;
			rc = target__drift_add(o, path, "missing");
		} else {
			rc = target__drift_add(o, path, "unreadable: %s", util_error_message());
		}
		goto done;
	}
	if ((error = p12_password(&pass, env, t)) < 0) {
		rc = target__drift_add(o, path, "password unavailable: %s", util_error_message());
		goto done;
	}
	if ((error = crypto_pkcs12_read(&info, data.ptr, data.size, pass)) < 0) {
		rc = error == CERTOPS_EAUTH
			? target__drift_add(o, path, "the declared password does not open it")
			: target__drift_add(o, path, "unreadable: %s", util_error_message());
		goto done;
	}
	if (crypto_hex_encode(&found, info.fingerprint, sizeof(info.fingerprint), 0) < 0 ||
	    !(o->fingerprint = strdup(found.ptr))) {
		rc = util_error_oom();
		goto done;
	}
	/* one item: the first difference is what the redeploy repairs */
	if (!util_fingerprint_equal(m->fingerprint, o->fingerprint))
		rc = target__drift_add(o, path, "certificate differs");
	else if (!info.key_matches)
		rc = target__drift_add(o, path, info.has_key ? "key does not match the certificate"
							     : "no private key");
	else if (pass && info.legacy_mac != (t->pkcs12.legacy != 0))
		rc = target__drift_add(o, path, "encryption %s, want %s",
				       info.legacy_mac ? "legacy" : "modern",
				       t->pkcs12.legacy ? "legacy" : "modern");
	else if ((t->pkcs12.friendly_name == NULL) != (info.friendly_name == NULL) ||
		 (info.friendly_name && strcmp(info.friendly_name, t->pkcs12.friendly_name)))
		rc = target__drift_add(o, path, "friendly name '%s', want '%s'",
				       info.friendly_name ? info.friendly_name : "",
				       t->pkcs12.friendly_name ? t->pkcs12.friendly_name : "");
	else if (stat(path, &st) == 0 && (st.st_mode & 07777) != t->pkcs12.mode)
		rc = target__drift_add(o, path, "mode %04o, want %04o",
				       (unsigned)(st.st_mode & 07777), t->pkcs12.mode);
done:
	if (rc == 0)
		util_error_clear();
	crypto_pkcs12_info_release(&info);
	if (pass) {
		memset(pass, 0, strlen(pass));
		free(pass);
	}
	util_buf_release(&data);
	util_buf_release(&found);
	return rc;
}

static int p12_deploy(const target_env *env, const config_target *t, const target_material *m)
{
	util_buf real = UTIL_BUF_INIT, leaf = UTIL_BUF_INIT, chain = UTIL_BUF_INIT,
		 der = UTIL_BUF_INIT, dir = UTIL_BUF_INIT;
	crypto_pkcs12_opts o = { NULL, t->pkcs12.legacy ? CRYPTO_PKCS12_LEGACY : CRYPTO_PKCS12_MODERN,
				 t->pkcs12.friendly_name };
	crypto_key *key = NULL;
	char *pass = NULL, *slash;
	int error;

	if ((error = target__check_write(&real, env, t->pkcs12.path)) < 0)
		goto done;
	if (!m->key_pem || !m->key_pem[0]) {
		error = util_error_set(CERTOPS_EINVALID, "no private key for certificate '%s'", m->name);
		goto done;
	}
	if ((error = p12_password(&pass, env, t)) < 0 ||
	    (error = crypto_key_parse(&key, m->key_pem, strlen(m->key_pem))) < 0 ||
	    (error = target_file_content(&leaf, TARGET_FILE_CERT, m->chain_pem, NULL)) < 0 ||
	    (error = target_file_content(&chain, TARGET_FILE_CHAIN, m->chain_pem, NULL)) < 0)
		goto done;
	o.password = pass;
	if ((error = crypto_pkcs12_build(&der, leaf.ptr, leaf.size, chain.ptr, chain.size, key, &o)) < 0)
		goto done;
	util_buf_puts(&dir, real.ptr);
	if ((slash = strrchr(dir.ptr, '/')) && slash != dir.ptr) {
		util_buf_truncate(&dir, (size_t)(slash - dir.ptr));
		if ((error = util_fs_mkdir_p(dir.ptr, 0755)) < 0)
			goto done;
	}
	if ((error = util_fs_write_atomic(real.ptr, der.ptr, der.size, t->pkcs12.mode)) < 0)
		util_error_wrap("pkcs12 '%s'", t->pkcs12.path);
done:
	if (der.asize)
		memset(der.ptr, 0, der.asize);
	if (pass) {
		memset(pass, 0, strlen(pass));
		free(pass);
	}
	crypto_key_free(key);
	util_buf_release(&real);
	util_buf_release(&leaf);
	util_buf_release(&chain);
	util_buf_release(&der);
	util_buf_release(&dir);
	return error;
}

const target_ops target__pkcs12_ops = {
	"pkcs12",
	p12_describe,
	p12_observe,
	p12_deploy,
	NULL,
};
