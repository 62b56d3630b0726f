/* The report model: built from the observation, the plan and the last cycle. */
#include <stdlib.h>
#include <string.h>

#include "notify/notify.h"
#include "report/report.h"
#include "util/error.h"

/*
 * Copies s (NULL stays NULL); on failure sets *oom, so a whole build can
 * copy without checking each string and fail once at the end.
 */
static char *dup(const char *s, int *oom)
{
	char *d;

	if (!s)
		return NULL;
	if (!(d = strdup(s)))
		*oom = 1;
	return d;
}

static void *zalloc(size_t n, size_t size, int *oom)
{
	void *p = calloc(n ? n : 1, size);

	if (!p)
		*oom = 1;
	return p;
}

/* The plan's action for a target id (deploy or hook), or NULL: in sync. */
static const plan_action *target_action(const plan *p, const char *id)
{
	size_t i;

	for (i = 0; i < p->count; i++)
		if ((p->actions[i].kind == PLAN_ACTION_DEPLOY ||
		     p->actions[i].kind == PLAN_ACTION_RUN_HOOK) &&
		    p->actions[i].target && !strcmp(p->actions[i].target, id))
			return &p->actions[i];
	return NULL;
}

static const plan_action *issue_action(const plan *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->count; i++)
		if (p->actions[i].kind == PLAN_ACTION_ISSUE &&
		    !strcmp(p->actions[i].certificate, name))
			return &p->actions[i];
	return NULL;
}

static const state_reconcile_cert *last_cert(const state_reconcile_status *last,
					     const char *name)
{
	size_t i;

	for (i = 0; last && last->has_certs && i < last->ncerts; i++)
		if (last->certs[i].name && !strcmp(last->certs[i].name, name))
			return &last->certs[i];
	return NULL;
}

static state_reconcile_status *copy_last(const state_reconcile_status *s, int *oom)
{
	state_reconcile_status *d = zalloc(1, sizeof(*d), oom);
	size_t i;

	if (!d)
		return NULL;
	*d = *s;
	d->result = dup(s->result, oom);
	d->commit = dup(s->commit, oom);
	d->url = dup(s->url, oom);
	d->ref = dup(s->ref, oom);
	d->message = dup(s->message, oom);
	d->certs = NULL;
	d->ncerts = 0;
	if (!s->ncerts)
		return d;
	if (!(d->certs = zalloc(s->ncerts, sizeof(*d->certs), oom)))
		return d;
	for (i = 0; i < s->ncerts; i++) {
		d->certs[i] = s->certs[i];
		d->certs[i].name = dup(s->certs[i].name, oom);
		d->certs[i].result = dup(s->certs[i].result, oom);
		d->certs[i].message = dup(s->certs[i].message, oom);
	}
	d->ncerts = s->ncerts;
	return d;
}

static void free_last(state_reconcile_status *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->ncerts; i++) {
		free(s->certs[i].name);
		free(s->certs[i].result);
		free(s->certs[i].message);
	}
	free(s->certs);
	free(s->result);
	free(s->commit);
	free(s->url);
	free(s->ref);
	free(s->message);
	free(s);
}

static void build_target(report_target *t, const observe_target *tg, const plan *p,
			 int *oom)
{
	const plan_action *a = target_action(p, tg->id);

	t->id = dup(tg->id, oom);
	t->kind = tg->kind;
	t->in_sync = a == NULL;
	t->reason = a ? a->reason : PLAN_REASON_MISSING;
	t->message = a && a->message && *a->message ? dup(a->message, oom) : NULL;
	t->has_record = tg->has_record;
	if (tg->has_record) {
		t->deployed_at = tg->deployed_at;
		t->deployed_ok = tg->deployed_ok;
		t->deployed_fingerprint = dup(tg->deployed_fingerprint, oom);
		t->deploy_error = dup(tg->deploy_message, oom);
	}
}

static void build_cert(report_certificate *c, const observe_cert *oc, const plan *p,
		       const state_reconcile_status *last, time_t now, int *oom)
{
	const config_certificate *d = oc->cert;
	const plan_action *issue = issue_action(p, d->name);
	const state_reconcile_cert *lc = last_cert(last, d->name);
	size_t i, n = d->domains.count + d->ip_addresses.count;

	c->name = dup(d->name, oom);
	c->issuer = dup(d->issuer, oom);
	c->key_type = d->key_type;
	if ((c->identifiers = zalloc(n, sizeof(char *), oom))) {
		for (i = 0; i < n; i++)
			c->identifiers[i] = dup(i < d->domains.count ? d->domains.items[i].value :
						d->ip_addresses.items[i - d->domains.count].value,
						oom);
		c->nidentifiers = n;
	}
	c->issued = oc->present;
	c->error = dup(oc->error, oom);
	if (oc->present) {
		c->version = dup(oc->cur.version, oom);
		c->fingerprint = dup(oc->cur.fingerprint, oom);
		c->serial = dup(oc->cur.serial, oom);
		c->key_spec = dup(oc->cur.key_spec, oom);
		c->issuer_cn = dup(oc->cur.issuer_cn, oom);
		c->not_before = oc->cur.not_before;
		c->not_after = oc->cur.not_after;
		c->seconds_left = (int64_t)(oc->cur.not_after - now);
		c->renew_at = plan_renewal_time(d, &oc->cur, &oc->renewal, 0, NULL);
	}
	c->renewal_due = issue != NULL;
	c->reason = issue ? issue->reason : PLAN_REASON_MISSING;
	if (lc) {
		c->has_last = 1;
		c->last_result = dup(lc->result, oom);
		c->failures = lc->failures;
		c->next_attempt = lc->next_attempt;
		c->last_message = dup(lc->message, oom);
		c->expiring = lc->expiring;
	} else if (last && !last->has_certs && oc->present) {
		/* the cycle stopped before the engine: nothing renews it */
		c->expiring = notify_expiring(oc->cur.not_before, oc->cur.not_after, now, 0);
	}
	if (oc->ntargets && (c->targets = zalloc(oc->ntargets, sizeof(*c->targets), oom))) {
		for (i = 0; i < oc->ntargets; i++)
			build_target(&c->targets[i], &oc->targets[i], p, oom);
		c->ntargets = oc->ntargets;
	}
}

int report_build(report **out, const config_set *set, const observe_result *obs,
		 const plan *p, const state_reconcile_status *last,
		 const source_result *src, time_t now)
{
	report *r;
	size_t i;
	int oom = 0;

	(void)set; /* obs->certs[i].cert are set's declarations, in order */
	*out = NULL;
	if (!(r = zalloc(1, sizeof(*r), &oom)))
		return util_error_oom();
	r->now = now;
	r->has_state = obs->has_state;
	r->state_serial = obs->state_serial;
	if (obs->ncerts && (r->certs = zalloc(obs->ncerts, sizeof(*r->certs), &oom))) {
		for (i = 0; i < obs->ncerts; i++)
			build_cert(&r->certs[i], &obs->certs[i], p, last, now, &oom);
		r->ncerts = obs->ncerts;
	}
	if (obs->norphan_certs &&
	    (r->orphans = zalloc(obs->norphan_certs, sizeof(*r->orphans), &oom))) {
		for (i = 0; i < obs->norphan_certs; i++) {
			const observe_orphan_cert *o = &obs->orphan_certs[i];

			r->orphans[i].name = dup(o->name, &oom);
			r->orphans[i].not_after = o->not_after;
		}
		r->norphans = obs->norphan_certs;
	}
	if (src && src->url && (r->source = zalloc(1, sizeof(*r->source), &oom))) {
		r->source->url = dup(src->url, &oom);
		r->source->ref = dup(src->ref, &oom);
		memcpy(r->source->commit, src->commit, sizeof(r->source->commit));
		r->source->offline = src->offline;
	}
	if (last)
		r->last = copy_last(last, &oom);
	if (oom) {
		report_free(r);
		return util_error_oom();
	}
	*out = r;
	return 0;
}

static void free_cert(report_certificate *c)
{
	size_t i;

	free(c->name);
	for (i = 0; i < c->nidentifiers; i++)
		free(c->identifiers[i]);
	free(c->identifiers);
	free(c->issuer);
	free(c->error);
	free(c->version);
	free(c->fingerprint);
	free(c->serial);
	free(c->key_spec);
	free(c->issuer_cn);
	for (i = 0; i < c->ntargets; i++) {
		free(c->targets[i].id);
		free(c->targets[i].message);
		free(c->targets[i].deployed_fingerprint);
		free(c->targets[i].deploy_error);
	}
	free(c->targets);
	free(c->last_result);
	free(c->last_message);
}

void report_free(report *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->ncerts; i++)
		free_cert(&r->certs[i]);
	free(r->certs);
	for (i = 0; i < r->norphans; i++)
		free(r->orphans[i].name);
	free(r->orphans);
	if (r->source) {
		free(r->source->url);
		free(r->source->ref);
		free(r->source);
	}
	free_last(r->last);
	free(r);
}

const report_certificate *report_find(const report *r, const char *name)
{
	size_t i;

	for (i = 0; r && i < r->ncerts; i++)
		if (!strcmp(r->certs[i].name, name))
			return &r->certs[i];
	return NULL;
}
