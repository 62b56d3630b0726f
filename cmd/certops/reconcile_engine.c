/* reconcile: plan → apply with a per-certificate retry backoff. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "apply/apply.h"
#include "observe/observe.h"
#include "plan/plan.h"
#include "reconcile_engine.h"
#include "util/duration.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/log.h"

void reconcile_engine_result_clear(reconcile_engine_result *r)
{
	size_t i;

	for (i = 0; i < r->count; i++) {
		free(r->certs[i].name);
		free(r->certs[i].message);
	}
	free(r->certs);
	for (i = 0; i < r->ngone; i++)
		free(r->gone[i]);
	free(r->gone);
	memset(r, 0, sizeof(*r));
}

const reconcile_cert_result *reconcile_engine_find(
	const reconcile_engine_result *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->count; i++)
		if (!strcmp(r->certs[i].name, name))
			return &r->certs[i];
	return NULL;
}

static reconcile_cert_result *find_mut(reconcile_engine_result *r,
				       const char *name)
{
	return (reconcile_cert_result *)reconcile_engine_find(r, name);
}

/* The recorded backoff; unreadable: none, the safe side (one more attempt). */
static void backoff_load(state_backoff **out, size_t *count, state *st)
{
	if (state_backoff_list(out, count, st) < 0) {
		util_log_warn("reconcile", "ignoring the recorded retry backoff: %s",
			      util_error_message());
		util_error_clear();
		*out = NULL;
		*count = 0;
	}
}

static const state_backoff *backoff_find(const state_backoff *b, size_t n,
					 const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(b[i].name, name))
			return &b[i];
	return NULL;
}

static int backoff_save(state *st, const reconcile_engine_result *r)
{
	state_backoff *items = calloc(r->count ? r->count : 1, sizeof(*items));
	size_t i, n = 0;
	int error;

	if (!items)
		return util_error_set(CERTOPS_ENOMEM, "out of memory");
	for (i = 0; i < r->count; i++) {
		const reconcile_cert_result *c = &r->certs[i];

		if (c->state == RECONCILE_CERT_OK)
			continue;
		items[n].name = c->name;
		items[n].failures = c->failures;
		items[n].next_attempt = c->next_attempt;
		items[n].last_error = c->message;
		n++;
	}
	error = state_backoff_replace(st, items, n);
	free(items);
	return error;
}

static int keep_action(const plan_action *a, void *data)
{
	reconcile_engine_result *r = data;
	const reconcile_cert_result *c;

	if (!a->certificate)
		return 1; /* accounts: shared, never held back */
	c = reconcile_engine_find(r, a->certificate);
	return !c || c->state != RECONCILE_CERT_BACKOFF;
}

static void progress(void *data, const apply_event *ev)
{
	cli_ctx *ctx = data;

	if (ev->kind == APPLY_EVENT_START || ev->kind == APPLY_EVENT_ROUND)
		return;
	fprintf(ctx->out, "%s: %s%s%s\n", ev->action->id,
		ev->kind == APPLY_EVENT_DONE ? "done" :
		ev->kind == APPLY_EVENT_FAILED ? "FAILED" : "skipped",
		ev->message ? ": " : "", ev->message ? ev->message : "");
	fflush(ctx->out);
}

/* The delay after the n-th consecutive failure (n >= 1). */
static int64_t backoff_delay(int64_t base, int64_t n)
{
	int64_t cap = base > RECONCILE_BACKOFF_MAX ? base : RECONCILE_BACKOFF_MAX;
	int64_t d = base;

	while (--n > 0 && d < cap)
		d *= 2;
	return d < cap ? d : cap;
}

/* The names in the recorded backoff that are no longer declared. */
static int results_gone(reconcile_engine_result *out, const state_backoff *backoff,
			size_t nbackoff)
{
	size_t i;

	out->gone = calloc(nbackoff + 1, sizeof(*out->gone));
	if (!out->gone)
		return util_error_set(CERTOPS_ENOMEM, "out of memory");
	for (i = 0; i < nbackoff; i++) {
		const char *name = backoff[i].name;

		if (reconcile_engine_find(out, name))
			continue;
		if (!(out->gone[out->ngone] = strdup(name)))
			return util_error_set(CERTOPS_ENOMEM, "out of memory");
		out->ngone++;
	}
	return 0;
}

/* One entry per declared certificate, backoff read from the store. */
static int results_init(reconcile_engine_result *out,
			const reconcile_engine_opts *o, const state_backoff *backoff,
			size_t nbackoff)
{
	size_t i;

	out->certs = calloc(o->set->ncertificates ? o->set->ncertificates : 1,
			    sizeof(*out->certs));
	if (!out->certs)
		return util_error_set(CERTOPS_ENOMEM, "out of memory");
	for (i = 0; i < o->set->ncertificates; i++) {
		reconcile_cert_result *c = &out->certs[out->count];
		const state_backoff *e = backoff_find(backoff, nbackoff,
						      o->set->certificates[i]->name);
		const char *msg = e ? e->last_error : NULL;

		if (!(c->name = strdup(o->set->certificates[i]->name)))
			return util_error_set(CERTOPS_ENOMEM, "out of memory");
		out->count++;
		c->failures = e ? e->failures : 0;
		c->next_attempt = e ? e->next_attempt : 0;
		if (msg && !(c->message = strdup(msg)))
			return util_error_set(CERTOPS_ENOMEM, "out of memory");
		if (c->failures > 0 && c->next_attempt > o->now) {
			util_buf when = UTIL_BUF_INIT;

			c->state = RECONCILE_CERT_BACKOFF;
			out->n_backoff++;
			util_time_format(&when, c->next_attempt);
			util_log_warn("reconcile", "certificate '%s': %lld failure%s in a row; "
				      "next attempt at %s", c->name, (long long)c->failures,
				      c->failures == 1 ? "" : "s", when.ptr);
			util_buf_free(&when);
		}
	}
	return results_gone(out, backoff, nbackoff);
}

/* Marks the certificates whose actions failed or were skipped. */
static int results_from_report(reconcile_engine_result *out, const plan *p,
			       const apply_report *rep, const reconcile_engine_opts *o)
{
	int64_t base = o->backoff_base > 0 ? o->backoff_base : RECONCILE_BACKOFF_DEFAULT;
	size_t i;

	out->n_done = rep->n_done;
	for (i = 0; i < rep->count; i++) {
		const apply_outcome *oc = &rep->outcomes[i];
		const plan_action *a = plan_find(p, oc->id);
		reconcile_cert_result *c;

		if (oc->ok > 0 || !a || !a->certificate ||
		    !(c = find_mut(out, a->certificate)) || c->state == RECONCILE_CERT_FAILED)
			continue;
		c->state = RECONCILE_CERT_FAILED;
		free(c->message);
		c->message = NULL;
		if (oc->message && !(c->message = strdup(oc->message)))
			return util_error_set(CERTOPS_ENOMEM, "out of memory");
	}
	for (i = 0; i < out->count; i++) {
		reconcile_cert_result *c = &out->certs[i];

		if (c->state == RECONCILE_CERT_FAILED) {
			c->failures++;
			c->next_attempt = o->now + (time_t)backoff_delay(base, c->failures);
			out->n_failed++;
		} else if (c->state == RECONCILE_CERT_OK) {
			c->failures = 0;
			c->next_attempt = 0;
			free(c->message);
			c->message = NULL;
		}
	}
	return 0;
}

int reconcile_engine_run(reconcile_engine_result *out, cli_ctx *ctx,
			 const reconcile_engine_opts *o)
{
	state_backoff *backoff = NULL;
	size_t nbackoff = 0;
	observe_result *obs = NULL;
	plan *p = NULL;
	apply_ctx *actx = NULL;
	apply_report rep;
	apply_options ao;
	plan_options po;
	util_buf b = UTIL_BUF_INIT;
	size_t dropped;
	int error;

	memset(out, 0, sizeof(*out));
	memset(&rep, 0, sizeof(rep));
	backoff_load(&backoff, &nbackoff, o->st);
	if ((error = results_init(out, o, backoff, nbackoff)) < 0)
		goto done;

	state_set_command(o->st, "reconcile");
	/* plan-only reads like `certops plan`: no lock needed */
	if (!o->plan_only && (error = state_lock(o->st, o->lock_timeout)) < 0)
		goto done;
	memset(&po, 0, sizeof(po));
	po.now = o->now;
	if ((error = observe_run(&obs, o->set, o->st, &(observe_options){ observe_online_default(), o->policy })) < 0 ||
	    (error = plan_new(&p, o->set, obs, &po)) < 0 ||
	    (o->src && o->src->url &&
	     (error = plan_set_source(p, o->src->url, o->src->ref, o->src->commit)) < 0))
		goto done;
	dropped = out->n_backoff ? plan_filter(p, keep_action, out) : 0;
	if ((error = plan_render_human(&b, p, 0)) < 0)
		goto done;
	fputs(b.ptr, ctx->out);
	if (dropped)
		fprintf(ctx->out, "%zu action%s left out: certificate%s waiting out a retry backoff\n",
			dropped, dropped == 1 ? "" : "s", out->n_backoff == 1 ? "" : "s");
	fflush(ctx->out);
	if (o->plan_only)
		goto done;
	if (plan_has_changes(p)) {
		memset(&ao, 0, sizeof(ao));
		ao.st = o->st;
		ao.set = o->set;
		ao.policy = o->policy;
		/* One round: a second one would plan the certificates in
		 * backoff again; what did not converge waits for a cycle. */
		ao.max_rounds = 1;
		ao.progress = progress;
		ao.progress_data = ctx;
		if ((error = apply_ctx_new(&actx, &ao)) < 0 ||
		    (error = apply_run(&rep, actx, p)) < 0)
			goto done;
	}
	if ((error = results_from_report(out, p, &rep, o)) < 0)
		goto done;
	if ((error = backoff_save(o->st, out)) < 0)
		error = util_error_wrap("recording the retry backoff");
done:
	apply_ctx_free(actx);
	apply_report_clear(&rep);
	plan_free(p);
	observe_result_free(obs);
	if (state_locked(o->st) && state_unlock(o->st) < 0 && error == 0)
		error = CERTOPS_ERROR;
	state_backoff_array_free(backoff, nbackoff);
	util_buf_free(&b);
	return error;
}
