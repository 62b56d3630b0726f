/* The status of a pass: the report model (lib/report) from the offline
 * observation, the plan and the last reconcile cycle. */
#include <string.h>

#include "engine/engine.h"
#include "engine/internal.h"
#include "engine/reconcile_internal.h"
#include "report/metrics.h"
#include "util/error.h"
#include "util/log.h"

int engine_status(report **out, engine *e, time_t now,
		  const state_reconcile_status *cycle)
{
	engine_plan_options po;
	state_reconcile_status last;
	plan *p = NULL;
	int has_last = 0, error;

	*out = NULL;
	memset(&last, 0, sizeof(last));
	memset(&po, 0, sizeof(po));
	po.now = now;
	po.observe_flags = OBSERVE_OFFLINE;
	if ((error = engine_plan(&p, e, &po)) < 0)
		goto done;
	/* an unreadable record hides the cycle, not the inventory */
	if (!cycle && e->st) {
		error = state_reconcile_get(&last, e->st);
		if (error == CERTOPS_ENOMEM)
			goto done;
		if (error < 0 && error != CERTOPS_ENOTFOUND)
			util_log_warn("status", "%s", util_error_message());
		util_error_clear();
		has_last = error == 0;
		cycle = has_last ? &last : NULL;
	}
	if ((error = report_build(out, e->set, e->obs, p, cycle, e->src, now)) < 0)
		util_error_wrap("building the status");
done:
	state_reconcile_status_clear(&last);
	plan_free(p);
	return error;
}

int engine__write_metrics(const char *path, engine *e, const state_reconcile_status *s,
			  time_t now)
{
	observe_result empty;
	report *r = NULL;
	util_buf b = UTIL_BUF_INIT;
	int error;

	if (e && e->set && !e->diags.count) {
		error = engine_status(&r, e, now, s);
	} else {
		/* the cycle stopped before the declarations: only its own families */
		memset(&empty, 0, sizeof(empty));
		error = report_build(&r, NULL, &empty, NULL, s, e ? e->src : NULL, now);
	}
	if (error == 0 && (error = report_render_prometheus(&b, r, 0)) == 0)
		error = report_metrics_write(path, &b);
	util_buf_release(&b);
	report_free(r);
	return error;
}
