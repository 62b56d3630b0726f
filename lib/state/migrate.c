/*
 * Format 1 to 2: the store adopts the files that cmd/ and lib/source wrote
 * beside it in format 1 (docs/state.md, "Formats and migrations").
 *
 * The files keep their places, so the step reads each one with the strict
 * format-2 reader and writes it back through its record: a readable file
 * comes out normalised (format 1's "commit": "" of a directory source is
 * dropped, notified.json is re-indented).  Format 1 tolerated a damaged
 * file (read as empty); format 2 reports it, so a file the reader refuses
 * is set aside as <file>.v1-unreadable with a warning, which is what
 * format 1 effectively did with it.  The Git cache (<state>/source/<id>/)
 * stays where it is: it is already the "source" cache directory.
 *
 * Running it again after a crash is safe: every write is a whole record.
 */
#include "state/internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "util/error.h"
#include "util/log.h"

/* Moves an unreadable format-1 file out of the way. */
static int set_aside(state *st, state__kind kind)
{
	util_buf path = UTIL_BUF_INIT, aside = UTIL_BUF_INIT, msg = UTIL_BUF_INIT;
	int error = 0;

	util_error_format(&msg, util_error_last());
	util_error_clear();
	st->be->where(&path, st, kind, NULL);
	util_buf_printf(&aside, "%s.v1-unreadable", path.ptr ? path.ptr : "");
	if (util_buf_failed(&path) || util_buf_failed(&aside)) {
		error = state__oom();
		goto done;
	}
	util_log_warn("state", "setting '%s' aside as '%s': %s", path.ptr, aside.ptr,
		      msg.ptr ? msg.ptr : "unreadable");
	if (rename(path.ptr, aside.ptr) < 0 && errno != ENOENT)
		error = util_error_set_errno(CERTOPS_ERROR, "renaming '%s'", path.ptr);
done:
	util_buf_release(&path);
	util_buf_release(&aside);
	util_buf_release(&msg);
	return error;
}

/* What a read returned: 0 go on and write, 1 skip, or an error. */
static int triage(state *st, state__kind kind, int error)
{
	if (error == CERTOPS_ENOTFOUND) {
		util_error_clear();
		return 1;
	}
	if (error == CERTOPS_EINVALID)
		return set_aside(st, kind) < 0 ? CERTOPS_ERROR : 1;
	return error;
}

static int adopt_reconcile(state *st)
{
	state_reconcile_status r;
	int error = triage(st, STATE__RECONCILE, state_reconcile_get(&r, st));

	if (error)
		return error < 0 ? error : 0;
	error = state_reconcile_put(st, &r);
	state_reconcile_status_clear(&r);
	return error;
}

static int adopt_backoff(state *st)
{
	state_backoff *items = NULL;
	size_t n = 0;
	int error = triage(st, STATE__BACKOFF, state_backoff_list(&items, &n, st));

	/* a missing file reads as an empty list: only rewrite what exists */
	if (error == 0 && n)
		error = state_backoff_replace(st, items, n);
	state_backoff_array_free(items, n);
	return error < 0 ? error : 0;
}

static int adopt_notified(state *st)
{
	state_notified *items = NULL;
	json_t *doc = NULL;
	size_t n = 0;
	int error = triage(st, STATE__NOTIFIED, state_notified_list(&items, &n, st));

	state_notified_array_free(items, n);
	if (error || !n)
		return error < 0 ? error : 0;
	/* readable: written back whole, in the store's spelling */
	if ((error = st->be->get(&doc, st, STATE__NOTIFIED, NULL, 0)) == 0)
		error = state__record_put(st, STATE__NOTIFIED, NULL, doc);
	json_decref(doc);
	return error;
}

static int adopt_applied(state *st)
{
	char commit[41];
	int error = triage(st, STATE__APPLIED, state_applied_commit_get(commit, st));

	if (error)
		return error < 0 ? error : 0;
	return state_applied_commit_put(st, commit);
}

int state__migrate_1_to_2(state *st)
{
	int error;

	if ((error = adopt_reconcile(st)) < 0 || (error = adopt_backoff(st)) < 0 ||
	    (error = adopt_notified(st)) < 0 || (error = adopt_applied(st)) < 0)
		return error;
	return 0;
}

const state__migration state__dir_migrations[] = {
	{ 1, state__migrate_1_to_2 },
	{ 0, NULL } /* terminator */
};
