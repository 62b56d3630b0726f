/*
 * observe: what needs the network: the online switch and the `verify:
 * tls` endpoints.  (Targets that need the network, vault, are read by
 * their own kind, given target_env.online.)
 */
#include <stdlib.h>
#include <string.h>

#include "observe/observe.h"
#include "observe/observe_internal.h"
#include "observe/tls_probe.h"
#include "observe/tls_verify.h"
#include "util/fingerprint.h"
#include "util/error.h"

unsigned observe_online_default(void)
{
	const char *v = getenv("CERTOPS_OFFLINE");

	return v && *v && strcmp(v, "0") ? 0 : OBSERVE_ONLINE;
}

/* The fingerprints of the older versions of cert (the caller frees each). */
static int older_versions(char ***out, size_t *n, state *st, const char *name,
			  const char *current)
{
	state_cert_meta *metas = NULL;
	size_t count = 0, i;
	char fp[UTIL_FINGERPRINT_HEX_LEN + 1];
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
		error = util_error_oom();
		goto done;
	}
	for (i = 0; i < count; i++) {
		if (!metas[i].fingerprint || util_fingerprint_norm(fp, metas[i].fingerprint) < 0 ||
		    util_fingerprint_equal(fp, current))
			continue;
		if (!((*out)[(*n)++] = strdup(fp))) {
			error = util_error_oom();
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
			error = util_error_oom();
		if (r.error && !(ov->error = strdup(r.error)))
			error = util_error_oom();
		observe_tls_result_release(&r);
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
