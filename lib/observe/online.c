/*
 * observe: the targets that need a secret or the network to be seen
 * (pkcs12, vault) and the `verify: tls` endpoints.  The kinds' own
 * observers are in lib/target (target_observe); this turns their drift
 * lists into the plain fields the planner reads.
 */
#include <stdlib.h>
#include <string.h>

#include "observe/observe.h"
#include "observe/observe_internal.h"
#include "observe/tls_probe.h"
#include "observe/tls_verify.h"
#include "target/target.h"
#include "util/error.h"

unsigned observe_online_default(void)
{
	const char *v = getenv("CERTOPS_OFFLINE");

	return v && *v && strcmp(v, "0") ? 0 : OBSERVE_ONLINE;
}

int observe__kind(observe_target *t, const config_policy *policy, unsigned flags,
		  const char *chain_pem, const char *key_pem, const char *current_fp,
		  const state_deploy *record)
{
	target_drifts d = { NULL, 0 };
	target_material m;
	target_env env = { policy };
	util_buf msg = UTIL_BUF_INIT;
	size_t i;
	int error = 0, missing = 0;

	t->present = OBSERVE_PRESENT_UNKNOWN;
	if (!policy || !chain_pem || !current_fp)
		return 0;
	if (t->kind == CONFIG_TARGET_VAULT && !(flags & OBSERVE_ONLINE))
		return 0;
	memset(&m, 0, sizeof(m));
	m.name = t->cert->name;
	m.chain_pem = chain_pem;
	m.key_pem = key_pem;
	m.fingerprint = current_fp;
	m.cert = t->cert;
	/* the version certops wrote is only worth trusting for what it wrote */
	if (record && record->result == STATE_DEPLOY_OK && record->fingerprint &&
	    !strcasecmp(record->fingerprint, current_fp))
		m.known_version = record->version;
	if ((error = target_observe(&d, &env, t->target, &m)) < 0) {
		if (error == CERTOPS_ENOMEM)
			goto done;
		/* the check itself could not run: an observation error */
		error = observe__set_errorf(&t->error, "%s", util_error_message());
		util_error_clear();
		goto done;
	}
	for (i = 0; i < d.count; i++) {
		if (i)
			util_buf_puts(&msg, "; ");
		util_buf_printf(&msg, "%s: %s", d.items[i].path, d.items[i].what);
		missing |= !strcmp(d.items[i].what, "missing");
	}
	if (util_buf_failed(&msg)) {
		error = util_error_set(CERTOPS_ENOMEM, "out of memory");
		goto done;
	}
	t->present = missing ? OBSERVE_PRESENT_NO : OBSERVE_PRESENT_YES;
	if (d.count && !(t->drift = util_buf_detach(&msg)))
		error = util_error_set(CERTOPS_ENOMEM, "out of memory");
done:
	target_drifts_clear(&d);
	util_buf_free(&msg);
	return error;
}

/* The fingerprints of the older versions of cert (the caller frees each). */
static int older_versions(char ***out, size_t *n, state *st, const char *name,
			  const char *current)
{
	state_cert_meta *metas = NULL;
	size_t count = 0, i;
	char fp[65];
	int error = 0;

	*out = NULL;
	*n = 0;
	if (!st)
		return 0;
	if (state_cert_versions(&metas, &count, st, name) < 0) {
		/* unknown history: anything not current counts as foreign */
		util_error_clear();
		return 0;
	}
	if (count && !(*out = calloc(count, sizeof(**out)))) {
		error = util_error_set(CERTOPS_ENOMEM, "out of memory");
		goto done;
	}
	for (i = 0; i < count; i++) {
		if (!metas[i].fingerprint || observe_fingerprint_norm(fp, metas[i].fingerprint) < 0 ||
		    !strcmp(fp, current))
			continue;
		if (!((*out)[(*n)++] = strdup(fp))) {
			error = util_error_set(CERTOPS_ENOMEM, "out of memory");
			goto done;
		}
	}
done:
	state_cert_meta_array_free(metas, count);
	return error;
}

static int verify_cert(observe_cert *oc, state *st)
{
	char **older = NULL;
	size_t nolder = 0, i;
	int error;

	if ((error = older_versions(&older, &nolder, st, oc->cert->name, oc->cur.fingerprint)) < 0)
		goto done;
	for (i = 0; i < oc->nverifies && i < oc->cert->nverify; i++) {
		observe_verify *ov = &oc->verifies[i];
		observe_tls_endpoint ep = observe_tls_endpoint_of(oc->cert, i);
		observe_tls_result r;

		if ((error = observe_tls_probe(&r, &ep, oc->cur.fingerprint,
					       (const char *const *)older, nolder)) < 0)
			goto done;
		ov->checked = 1;
		ov->status = (int)r.status;
		if (r.fingerprint[0] && !(ov->served_fingerprint = strdup(r.fingerprint)))
			error = util_error_set(CERTOPS_ENOMEM, "out of memory");
		if (r.error && !(ov->error = strdup(r.error)))
			error = util_error_set(CERTOPS_ENOMEM, "out of memory");
		observe_tls_result_free(&r);
		if (error < 0)
			goto done;
	}
done:
	for (i = 0; i < nolder; i++)
		free(older[i]);
	free(older);
	return error;
}

int observe__verifies(observe_result *obs, state *st)
{
	size_t i;
	int error;

	for (i = 0; i < obs->ncerts; i++) {
		observe_cert *oc = &obs->certs[i];

		/* nothing issued: nothing to compare the endpoint with */
		if (!oc->present || !oc->cur.fingerprint || !oc->nverifies)
			continue;
		if ((error = verify_cert(oc, st)) < 0)
			return error;
	}
	return 0;
}
