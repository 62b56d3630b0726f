/*
 * Forgetting a certificate: `apply --prune` of one that is no longer
 * declared removes every stored version, the current pointer and a
 * pending order.  Deployment records go through their own orphan actions.
 */
#include "state/internal.h"

#include "util/error.h"

int state_cert_delete(state *st, const char *name)
{
	util_buf dir = UTIL_BUF_INIT;
	state__write w;
	int error;

	if ((error = state__name_check(name, "certificate")) < 0)
		return error;
	state__path(&dir, st, "certs", name, NULL);
	if (util_buf_failed(&dir))
		return state__oom();
	error = state_order_delete(st, name);
	if (error == CERTOPS_ENOTFOUND)
		error = 0;
	if (error < 0)
		goto done;
	state__name_lock(st, name);
	if ((error = state__write_begin(st, &w)) == 0) {
		error = state__remove_tree(dir.ptr);
		error = state__write_end(st, &w, error);
	}
	state__name_unlock(st, name);
	if (error < 0)
		util_error_wrap("removing certificate '%s' from the store", name);
done:
	util_buf_release(&dir);
	return error;
}
