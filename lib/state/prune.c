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

/* Collects the .tmp-* folders that interrupted puts left (malloc'd paths). */
static int find_tmp(char ***out, size_t *count, state *st, const char *name)
{
	util_buf dir = UTIL_BUF_INIT, child = UTIL_BUF_INIT;
	char **list = NULL;
	size_t n = 0;
	struct dirent *de;
	DIR *d;
	int error = 0;

	*out = NULL;
	*count = 0;
	state__path(&dir, st, "certs", name, NULL);
	if (util_buf_failed(&dir)) {
		error = state__oom();
		goto done;
	}
	if (!(d = opendir(dir.ptr)))
		goto done;
	while ((de = readdir(d))) {
		char **nl;

		if (strncmp(de->d_name, STATE__TMP_PREFIX, strlen(STATE__TMP_PREFIX)))
			continue;
		util_buf_clear(&child);
		util_fs_join(&child, dir.ptr, de->d_name);
		if (util_buf_failed(&child) || !(nl = realloc(list, (n + 1) * sizeof(*nl)))) {
			error = state__oom();
			break;
		}
		list = nl;
		if (!(list[n] = util_buf_detach(&child))) {
			error = state__oom();
			break;
		}
		n++;
	}
	closedir(d);
done:
	*out = list;
	*count = n;
	util_buf_free(&dir);
	util_buf_free(&child);
	return error;
}

int state_cert_prune(state *st, const char *name,
		     const state_prune_policy *policy, time_t now,
		     size_t *removed_out)
{
	state_prune_policy def = STATE_PRUNE_POLICY_INIT;
	state_cert_meta *list = NULL;
	util_buf dir = UTIL_BUF_INIT;
	char *current = NULL, **tmps = NULL;
	unsigned char *doom = NULL;
	size_t n = 0, ntmp = 0, removed = 0, kept_previous = 0, doomed = 0, i;
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
	if (error < 0 ||
	    (error = find_tmp(&tmps, &ntmp, st, name)) < 0 ||
	    (error = state_cert_versions(&list, &n, st, name)) < 0)
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
	if (!doomed && !ntmp)
		goto out; /* nothing to do: no write, no serial change */

	if ((error = state__write_begin(st, &w)) < 0)
		goto out;
	for (i = 0; i < ntmp && !error; i++)
		if ((error = state__remove_tree(tmps[i])) == 0)
			removed++;
	for (i = 0; i < n && !error; i++) {
		if (!doom[i])
			continue;
		util_buf_clear(&dir);
		state__path(&dir, st, "certs", name, list[i].version);
		if (util_buf_failed(&dir)) {
			error = state__oom();
			break;
		}
		if ((error = state__remove_tree(dir.ptr)) == 0)
			removed++;
	}
	w.unchanged = removed == 0;
	w.partial = removed > 0; /* some went before a failure */
	error = state__write_end(st, &w, error);
out:
	state__name_unlock(st, name);
	if (removed_out)
		*removed_out = removed;
	for (i = 0; i < ntmp; i++)
		free(tmps[i]);
	free(tmps);
	free(doom);
	free(current);
	state_cert_meta_array_free(list, n);
	util_buf_free(&dir);
	return error;
}
