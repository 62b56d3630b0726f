/*
 * The certificate as the vault target keeps it in one KV v2 secret: the
 * upload with check-and-set, and the observation that reads no secret data
 * when the metadata shows that the version certops wrote is still current.
 */
#include <string.h>

#include "target/vault_kv.h"
#include "util/error.h"
#include "util/fingerprint.h"
#include "util/log.h"

#define NAME_OR(n, field, dflt) ((n) && (n)->field ? (n)->field : (dflt))

static size_t cert_fields(target_vault_field out[6], const target_vault_names *n,
			  const target_vault_cert *c)
{
	const char *keys[6] = {
		NAME_OR(n, certificate, "certificate"), NAME_OR(n, chain, "chain"),
		NAME_OR(n, fullchain, "fullchain"), NAME_OR(n, private_key, "private_key"),
		NAME_OR(n, not_after, "not_after"), NAME_OR(n, fingerprint, "fingerprint"),
	};
	const char *vals[6] = { c->certificate, c->chain, c->fullchain, c->private_key,
				c->not_after, c->fingerprint };
	size_t i, k = 0;

	for (i = 0; i < 6; i++) {
		if (!vals[i])
			continue;
		out[k].key = (char *)keys[i];
		out[k].value = (char *)vals[i];
		k++;
	}
	return k;
}

int target_vault_put_cert(int64_t *version_out, target_vault *v, const char *mount,
			  const char *path, const target_vault_names *names,
			  const target_vault_cert *cert)
{
	target_vault_field fields[6];
	target_vault_metadata meta;
	size_t n = cert_fields(fields, names, cert);
	int64_t cas;
	int attempt, error;

	if (cert->private_key && util_secret_register(cert->private_key) < 0)
		return util_error_oom();
	for (attempt = 0;; attempt++) {
		error = target_vault_metadata_read(&meta, v, mount, path);
		if (error == CERTOPS_ENOTFOUND)
			cas = 0; /* create only: nobody else may create it meanwhile */
		else if (error < 0)
			return error;
		else
			cas = meta.current_version;
		error = target_vault_write(version_out, v, mount, path, fields, n, cas);
		if (error != CERTOPS_ESTALE)
			return error;
		if (attempt == 1)
			return util_error_set(CERTOPS_ESTALE,
					      "vault %s/%s: another writer changed the secret twice while "
					      "certops wrote it (check-and-set on version %lld failed): %s",
					      mount, path, (long long)cas, util_error_message());
		util_log_warn("vault", "%s/%s changed while writing (check-and-set on version %lld); "
			      "reading it again", mount, path, (long long)cas);
	}
}

int target_vault_observe_cert(target_vault_state *state_out, int64_t *version_out,
			      target_vault *v, const char *mount, const char *path,
			      const target_vault_names *names, const char *fingerprint,
			      int64_t known_version)
{
	target_vault_metadata meta;
	target_vault_secret s;
	const char *got;
	int error;

	if (version_out)
		*version_out = 0;
	error = target_vault_metadata_read(&meta, v, mount, path);
	if (error == CERTOPS_ENOTFOUND) {
		util_error_clear();
		*state_out = TARGET_VAULT_MISSING;
		return 0;
	}
	if (error < 0)
		return error;
	if (version_out)
		*version_out = meta.current_version;
	if (meta.current_version == 0 || meta.current_deleted || meta.current_destroyed) {
		*state_out = TARGET_VAULT_MISSING;
		return 0;
	}
	if (known_version > 0 && meta.current_version == known_version) {
		/* Versions are immutable: the one we wrote is still current. */
		*state_out = TARGET_VAULT_IN_SYNC;
		return 0;
	}
	error = target_vault_read(&s, v, mount, path);
	if (error == CERTOPS_ENOTFOUND) {
		util_error_clear();
		*state_out = TARGET_VAULT_MISSING;
		return 0;
	}
	if (error < 0)
		return error;
	got = target_vault_secret_get(&s, NAME_OR(names, fingerprint, "fingerprint"));
	if (!got)
		*state_out = TARGET_VAULT_NO_FINGERPRINT;
	else
		*state_out = util_fingerprint_equal(got, fingerprint) ? TARGET_VAULT_IN_SYNC : TARGET_VAULT_CHANGED;
	if (version_out && s.version)
		*version_out = s.version;
	target_vault_secret_release(&s);
	return 0;
}

const char *target_vault_state_name(target_vault_state s)
{
	switch (s) {
	case TARGET_VAULT_IN_SYNC: return "in sync";
	case TARGET_VAULT_MISSING: return "missing";
	case TARGET_VAULT_CHANGED: return "changed";
	case TARGET_VAULT_NO_FINGERPRINT: return "no fingerprint";
	}
	return "unknown";
}
