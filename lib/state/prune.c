/*
 * Pruning old certificate versions (the policy is in state.h and
 * docs/state.md), and the leftovers of interrupted writes.
 */
#include "state/internal.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "util/fs.h"

int state_cert_prune(state *st, const char *name,
		     const state_prune_policy *policy, time_t now,
		     size_t *removed_out)
{
	state_prune_policy def = STATE_PRUNE_POLICY_INIT;
	state_cert_meta *list = NULL;
	util_buf key = UTIL_BUF_INIT;
	char *current = NULL;
	unsigned char *doom = NULL;
	size_t n = 0, removed = 0, swept = 0, kept_previous = 0, doomed = 0, i;
	state__write w;
	int error;

	if (removed_out)
		*removed_out = 0;
	if (!policy)
		policy = &def;
	if ((error = state__name_check(name, "certificate")) < 0)
		return error;
	state__name_lock(st, name);
	error = state__cert_current_version(&current, st, name);
	if (error == CERTOPS_ENOTFOUND) {
		util_error_clear();
		error = 0;
	}
	if (error < 0 || (error = state_cert_versions(&list, &n, st, name)) < 0)
		goto out;
	if (n && !(doom = calloc(n, 1))) {
		error = state__oom();
		goto out;
	}
	/*
	 * Mark what goes, newest first: the current one and the first
	 * keep_previous others stay, and so does anything still usable or
	 * expired only recently.
	 */
	for (i = n; i-- > 0;) {
		const state_cert_meta *m = &list[i];

		if (current && !strcmp(m->version, current))
			continue;
		if (kept_previous < policy->keep_previous) {
			kept_previous++;
			continue;
		}
		if (m->not_after == 0 || (int64_t)m->not_after + policy->expired_grace >= (int64_t)now)
			continue;
		doom[i] = 1;
		doomed++;
	}
	/* what interrupted writes left (a directory store's temp folders) */
	if ((error = st->be->sweep(&swept, st, name, 0)) < 0)
		goto out;
	if (!doomed && !swept)
		goto out; /* nothing to do: no write, no serial change */

	if ((error = state__write_begin(st, &w)) < 0)
		goto out;
	if (swept && (error = st->be->sweep(&swept, st, name, 1)) == 0)
		removed += swept;
	for (i = 0; i < n && !error; i++) {
		int existed = 0;

		if (!doom[i])
			continue;
		util_buf_clear(&key);
		util_buf_printf(&key, "%s/%s", name, list[i].version);
		if (util_buf_failed(&key)) {
			error = state__oom();
			break;
		}
		if ((error = st->be->del(st, STATE__CERT_VERSION, key.ptr, &existed)) == 0 &&
		    existed)
			removed++;
	}
	/* nothing removed: no change, the serial goes back */
	w.unchanged = removed == 0;
	w.partial = removed > 0; /* some went before a failure */
	error = state__write_end(st, &w, error);
out:
	state__name_unlock(st, name);
	if (removed_out)
		*removed_out = removed;
	free(doom);
	free(current);
	state_cert_meta_array_free(list, n);
	util_buf_release(&key);
	return error;
}
