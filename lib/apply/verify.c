/* A verify action: does the endpoint serve the current certificate now? */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apply_internal.h"
#include "observe/tls_verify.h"
#include "util/error.h"
#include "util/fingerprint.h"

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Served, and still served a moment later.  During a graceful reload the
 * old workers of a server like nginx may accept a few more connections
 * after a new worker already answered with the new certificate; one
 * lucky handshake would pass here and the next observation would find
 * the endpoint stale.
 */
static int confirm_served(const config_certificate *cert, size_t index,
			  const char *expected, const char *const *older, size_t nolder)
{
	int64_t deadline = now_ms() + APPLY_VERIFY_WINDOW_MS, left;
	struct timespec pause = { 0, APPLY_VERIFY_SETTLE_MS * 1000000L };
	int error;

	for (;;) {
		left = deadline - now_ms();
		if ((error = observe_tls_verify_one(cert, index, expected, older, nolder,
						    left > 0 ? left : 0)) < 0)
			return error;
		nanosleep(&pause, NULL);
		if ((error = observe_tls_verify_one(cert, index, expected, older, nolder, 0)) == 0 ||
		    error == CERTOPS_ENOMEM || now_ms() >= deadline)
			return error;
		util_error_clear();
	}
}

int apply_verify(apply_ctx *ctx, const config_certificate *cert, size_t index)
{
	state_cert *cur = NULL;
	state_cert_meta *metas = NULL;
	const char **older = NULL;
	char expected[UTIL_FINGERPRINT_HEX_LEN + 1], (*fps)[UTIL_FINGERPRINT_HEX_LEN + 1] = NULL;
	size_t count = 0, nolder = 0, i;
	int error;

	if (index >= cert->nverify)
		return util_error_set(CERTOPS_EINVALID, "certificate '%s' has no verify[%zu]",
				      cert->name, index);
	if ((error = state_cert_current(&cur, ctx->opts.st, cert->name, 0)) < 0) {
		if (error == CERTOPS_ENOTFOUND)
			util_error_set(error, "certificate '%s' has not been issued", cert->name);
		goto done;
	}
	if (!cur->meta.fingerprint || util_fingerprint_norm(expected, cur->meta.fingerprint) < 0) {
		error = util_error_set(CERTOPS_EINVALID, "certificate '%s': no fingerprint in the store",
				       cert->name);
		goto done;
	}
	/* older versions of ours tell "stale" (no reload) from "foreign" */
	if (state_cert_versions(&metas, &count, ctx->opts.st, cert->name) < 0) {
		util_error_clear();
		count = 0;
	}
	if (count && (!(older = calloc(count, sizeof(*older))) ||
		      !(fps = calloc(count, sizeof(*fps))))) {
		error = util_error_oom();
		goto done;
	}
	for (i = 0; i < count; i++)
		if (metas[i].fingerprint && util_fingerprint_norm(fps[i], metas[i].fingerprint) == 0 &&
		    !util_fingerprint_equal(fps[i], expected))
			older[nolder++] = fps[i];
	error = confirm_served(cert, index, expected, older, nolder);
done:
	free(older);
	free(fps);
	state_cert_meta_array_free(metas, count);
	state_cert_free(cur);
	return error;
}
