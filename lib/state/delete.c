/*
 * Forgetting a certificate: `apply --prune` of one that is no longer
 * declared removes every stored version, the current pointer and a
 * pending order, through the backend.  Deployment records go through
 * their own orphan actions.
 */
#include "state/internal.h"

#include <stdlib.h>

#include "state/backend.h"
#include "util/error.h"

int state_cert_delete(state *st, const char *name)
{
	util_buf key = UTIL_BUF_INIT;
	char **versions = NULL;
	size_t n = 0, i;
	state__write w;
	int error;

	if ((error = state__name_check(name, "certificate")) < 0)
		return error;
	state__name_lock(st, name);
	if ((error = st->be->list(&versions, &n, st, STATE__CERT_VERSION, name)) < 0 ||
	    (error = state__write_begin(st, &w)) < 0)
		goto out;
	for (i = 0; i < n && !error; i++) {
		util_buf_clear(&key);
		util_buf_printf(&key, "%s/%s", name, versions[i]);
		error = util_buf_failed(&key) ? state__oom() :
			st->be->del(st, STATE__CERT_VERSION, key.ptr, NULL);
	}
	if (!error)
		error = st->be->del(st, STATE__ORDER, name, NULL);
	if (!error)
		error = st->be->del(st, STATE__CERT_CURRENT, name, NULL);
	w.partial = error < 0;
	error = state__write_end(st, &w, error);
out:
	state__name_unlock(st, name);
	if (error < 0)
		util_error_wrap("removing certificate '%s' from the store", name);
	state__names_free(versions, n);
	util_buf_release(&key);
	return error;
}
