/*
 * One pass: plan (observe → plan) and apply (lock → plan or a checked saved
 * plan → apply rounds → the applied commit recorded → unlock).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/engine.h"
#include "engine/internal.h"
#include "util/error.h"
#include "util/log.h"

static int check_force(const engine *e, const engine_plan_options *o)
{
	size_t i;

	for (i = 0; i < o->nforce; i++)
		if (!config_find_certificate(e->set, o->force[i]))
			return util_error_set(CERTOPS_EUSAGE,
					      "--force '%s': no such certificate is declared",
					      o->force[i]);
	return 0;
}

int engine__observe_plan(plan **out, engine *e, const engine_plan_options *o)
{
	observe_options oo = OBSERVE_OPTIONS_INIT;
	plan_options po;
	int error;

	*out = NULL;
	observe_result_free(e->obs);
	e->obs = NULL;
	/* online (endpoints, vault) unless asked not to; secrets per policy */
	oo.flags = o->observe_flags | observe_online_default();
	oo.policy = e->policy;
	if ((error = observe_run(&e->obs, e->set, e->st, &oo)) < 0)
		return util_error_wrap("observing");
	memset(&po, 0, sizeof(po));
	po.now = o->now ? o->now : time(NULL);
	po.prune = o->prune;
	po.force = o->force;
	po.nforce = o->nforce;
	if ((error = plan_new(out, e->set, e->obs, &po)) < 0 ||
	    (e->src && e->src->url &&
	     (error = plan_set_source(*out, e->src->url, e->src->ref, e->src->commit)) < 0)) {
		plan_free(*out);
		*out = NULL;
		return util_error_wrap("planning");
	}
	return 0;
}

int engine_plan(plan **out, engine *e, const engine_plan_options *o)
{
	int error;

	*out = NULL;
	if (!e->set)
		return util_error_set(CERTOPS_EINVALID, "no declarations loaded");
	if ((error = check_force(e, o)) < 0 || (error = engine__open_state(e, 0)) < 0)
		return error;
	return engine__observe_plan(out, e, o);
}

void engine_apply_result_release(engine_apply_result *r)
{
	plan_free(r->plan);
	apply_report_clear(&r->report);
	memset(r, 0, sizeof(*r));
}

/* The saved plan, checked: same declarations, same state serial. */
static int take_saved(plan **out, engine *e)
{
	char digest[CONFIG_HASH_HEX_LEN + 1];
	uint64_t serial = 0;
	int error;

	if ((error = plan_config_digest(digest, e->set)) < 0 ||
	    (error = state_serial(&serial, e->st)) < 0)
		return error;
	if ((error = plan_check_fresh(e->saved, digest, e->has_state, serial)) < 0 ||
	    (error = plan_resolve(e->saved, e->set)) < 0) {
		util_error_wrap("%s", e->opts.saved_plan);
		return error == CERTOPS_ESTALE ? CERTOPS_EINVALID : error;
	}
	*out = e->saved;
	e->saved = NULL;
	return 0;
}

/*
 * After an apply from a Git source: the commit becomes the last applied
 * one, so that a stale mirror cannot roll the world back.
 */
static int record_applied(engine *e)
{
	if (!e->src || !e->src->url)
		return 0;
	if (state_applied_commit_put(e->st, e->src->commit) < 0)
		return util_error_wrap("recording the applied commit");
	return 0;
}

int engine_apply(engine_apply_result *out, engine *e, const engine_apply_options *o,
		 const engine_events *ev)
{
	apply_ctx *actx = NULL;
	apply_options ao;
	int error;

	memset(out, 0, sizeof(*out));
	if (!e->set)
		return util_error_set(CERTOPS_EINVALID, "no declarations loaded");
	if (!e->saved && (error = check_force(e, &o->plan)) < 0)
		return error;
	if ((error = engine__open_state(e, !o->plan_only)) < 0)
		return error;
	if (!o->plan_only) {
		state_set_command(e->st, o->command ? o->command : "apply");
		if ((error = state_lock(e->st, o->lock_timeout)) < 0)
			return error;
	}
	if (e->saved)
		error = take_saved(&out->plan, e);
	else
		error = engine__observe_plan(&out->plan, e, &o->plan);
	if (error < 0)
		goto done;
	if (o->keep)
		out->dropped = plan_filter(out->plan, o->keep, o->keep_data);
	if (ev && ev->plan)
		ev->plan(ev->data, out->plan, out->dropped);
	if (o->plan_only)
		goto done;
	if (!plan_has_changes(out->plan)) {
		out->report.converged = 1; /* nothing to do is converged */
		error = record_applied(e);
		goto done;
	}
	memset(&ao, 0, sizeof(ao));
	ao.st = e->st;
	ao.set = e->set;
	ao.policy = e->policy;
	ao.parallel = o->parallel;
	ao.max_rounds = o->max_rounds;
	ao.at = o->plan.now;
	ao.prune = o->plan.prune;
	ao.progress = ev ? ev->progress : NULL;
	ao.progress_data = ev ? ev->data : NULL;
	if ((error = apply_ctx_new(&actx, &ao)) < 0 ||
	    (error = apply_run(&out->report, actx, out->plan)) < 0) {
		util_error_wrap("applying");
		goto done;
	}
	out->ran = 1;
	if (out->report.converged || o->record_partial)
		error = record_applied(e);
done:
	apply_ctx_free(actx);
	if (e->st && state_locked(e->st) && state_unlock(e->st) < 0 && !error)
		error = util_error_wrap("releasing the state lock");
	return error;
}
