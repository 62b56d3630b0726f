/*
 * plan: the decisions.  A pure function of the declaration, the
 * observation, the time and the options: no I/O, no clock.  The rules,
 * in the order they are tried, are documented in docs/plan.md; each
 * yields one stable reason code and a message saying what differs.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan/plan.h"
#include "plan/plan_internal.h"
#include "util/duration.h"
#include "util/error.h"

static const char *const kind_names[PLAN_ACTION__COUNT] = {
	"register-account", "issue", "deploy", "run-hook", "verify", "orphan"
};

static const char *const reason_names[PLAN_REASON__COUNT] = {
	"Missing", "IdentifiersChanged", "KeySpecChanged", "IssuerChanged",
	"DeclarationChanged", "Expired", "Expiring", "RenewalWindow", "Revoked",
	"Forced", "NewCertificate", "Drifted", "TargetConfigChanged",
	"PreviousFailed", "Deployed", "NoAccount", "NotDeclared"
};

const char *plan_action_kind_name(plan_action_kind kind)
{
	return (unsigned)kind < PLAN_ACTION__COUNT ? kind_names[kind] : "unknown";
}

const char *plan_reason_name(plan_reason reason)
{
	return (unsigned)reason < PLAN_REASON__COUNT ? reason_names[reason] : "Unknown";
}

int plan_action_kind_parse(plan_action_kind *out, const char *name)
{
	int i;

	for (i = 0; i < PLAN_ACTION__COUNT; i++)
		if (!strcmp(name, kind_names[i])) {
			*out = (plan_action_kind)i;
			return 0;
		}
	return util_error_set(CERTOPS_EINVALID, "unknown action kind '%s'", name);
}

int plan_reason_parse(plan_reason *out, const char *name)
{
	int i;

	for (i = 0; i < PLAN_REASON__COUNT; i++)
		if (!strcmp(name, reason_names[i])) {
			*out = (plan_reason)i;
			return 0;
		}
	return util_error_set(CERTOPS_EINVALID, "unknown reason '%s'", name);
}

/* ---- the plan container ---- */

plan *plan__alloc(void)
{
	return calloc(1, sizeof(plan));
}

plan_action *plan__add(plan *p)
{
	plan_action *a;

	if (p->count % 64 == 0) {
		a = realloc(p->actions, (p->count + 64) * sizeof(*a));
		if (!a)
			return NULL;
		p->actions = a;
	}
	a = &p->actions[p->count++];
	memset(a, 0, sizeof(*a));
	a->index = -1;
	return a;
}

int plan__add_dep(plan_action *a, const char *id)
{
	char **d = realloc(a->depends_on, (a->ndepends + 1) * sizeof(*d));

	if (!d)
		return util_error_oom();
	a->depends_on = d;
	if (!(d[a->ndepends] = strdup(id)))
		return util_error_oom();
	a->ndepends++;
	return 0;
}

void plan__action_clear(plan_action *a)
{
	size_t i;

	free(a->id);
	free(a->message);
	free(a->certificate);
	free(a->issuer);
	free(a->target);
	for (i = 0; i < a->ndepends; i++)
		free(a->depends_on[i]);
	free(a->depends_on);
	free(a->current_fingerprint);
}

void plan_free(plan *p)
{
	size_t i;

	if (!p)
		return;
	for (i = 0; i < p->count; i++)
		plan__action_clear(&p->actions[i]);
	free(p->actions);
	free(p->source_url);
	free(p->source_ref);
	free(p->source_commit);
	free(p);
}

static int dropped_dep(const plan *p, const unsigned char *drop,
		       const plan_action *a)
{
	size_t i, j;

	for (i = 0; i < a->ndepends; i++)
		for (j = 0; j < p->count; j++)
			if (drop[j] && !strcmp(p->actions[j].id, a->depends_on[i]))
				return 1;
	return 0;
}

size_t plan_filter(plan *p, int (*keep)(const plan_action *a, void *data),
		   void *data)
{
	unsigned char *drop;
	size_t i, n = 0, w = 0;
	int changed = 1;

	if (!p->count || !(drop = calloc(p->count, 1)))
		return 0;
	for (i = 0; i < p->count; i++)
		drop[i] = !keep(&p->actions[i], data);
	/* actions are in dependency order, but loop to a fixed point anyway:
	 * cheap, and it does not rely on that order */
	while (changed) {
		changed = 0;
		for (i = 0; i < p->count; i++)
			if (!drop[i] && dropped_dep(p, drop, &p->actions[i]))
				drop[i] = changed = 1;
	}
	for (i = 0; i < p->count; i++) {
		if (drop[i]) {
			plan__action_clear(&p->actions[i]);
			n++;
		} else {
			if (w != i)
				p->actions[w] = p->actions[i];
			w++;
		}
	}
	p->count = w;
	free(drop);
	plan__count(p);
	return n;
}

static int dup_opt(char **out, const char *s)
{
	free(*out);
	*out = NULL;
	if (s && *s && !(*out = strdup(s)))
		return util_error_oom();
	return 0;
}

int plan_set_source(plan *p, const char *url, const char *ref,
		    const char *commit)
{
	int error;

	if ((error = dup_opt(&p->source_url, url)) < 0 ||
	    (error = dup_opt(&p->source_ref, ref)) < 0 ||
	    (error = dup_opt(&p->source_commit, commit)) < 0)
		return error;
	return 0;
}

void plan__count(plan *p)
{
	size_t i;

	p->n_issue = p->n_renew = p->n_deploy = p->n_hooks = p->n_verify = 0;
	p->n_accounts = p->n_orphans = p->n_prune = 0;
	for (i = 0; i < p->count; i++) {
		const plan_action *a = &p->actions[i];

		switch (a->kind) {
		case PLAN_ACTION_REGISTER_ACCOUNT: p->n_accounts++; break;
		case PLAN_ACTION_ISSUE:
			if (a->reason == PLAN_REASON_MISSING)
				p->n_issue++;
			else
				p->n_renew++;
			break;
		case PLAN_ACTION_DEPLOY: p->n_deploy++; break;
		case PLAN_ACTION_RUN_HOOK: p->n_hooks++; break;
		case PLAN_ACTION_VERIFY: p->n_verify++; break;
		case PLAN_ACTION_ORPHAN:
			if (a->prune)
				p->n_prune++;
			else
				p->n_orphans++;
			break;
		default: break;
		}
	}
}

int plan_has_changes(const plan *p)
{
	return p->count > p->n_orphans;
}

const plan_action *plan_find(const plan *p, const char *id)
{
	size_t i;

	for (i = 0; i < p->count; i++)
		if (!strcmp(p->actions[i].id, id))
			return &p->actions[i];
	return NULL;
}

int plan_declaration_hash(char out[CONFIG_HASH_HEX_LEN + 1],
			  const config_certificate *cert)
{
	return config_certificate_hash(out, cert);
}

/* ---- renewal timing ---- */

int64_t plan_jitter(const char *name, int64_t span)
{
	uint64_t h = 14695981039346656037ULL; /* FNV-1a 64 */

	if (span <= 0)
		return 0;
	for (; *name; name++) {
		h ^= (unsigned char)*name;
		h *= 1099511628211ULL;
	}
	/* fold the high bits in: FNV's low bits mix poorly for short names */
	h ^= h >> 29;
	return (int64_t)(h % (uint64_t)span);
}

static int has_field(const config_fields *f, const char *key)
{
	size_t i;

	for (i = 0; i < f->count; i++)
		if (!strcmp(f->items[i].key, key))
			return 1;
	return 0;
}

time_t plan_renewal_time(const config_certificate *cert,
			 const observe_cert_current *cur,
			 const observe_renewal_info *ri,
			 int64_t jitter_max, plan_renew_basis *basis_out)
{
	int64_t lifetime = (int64_t)cur->not_after - (int64_t)cur->not_before;
	int64_t span, left;
	double fraction;

	if (lifetime < 0)
		lifetime = 0;
	if (ri && ri->has_window) {
		if (basis_out)
			*basis_out = PLAN_RENEW_ARI;
		if (ri->window_end <= ri->window_start)
			return ri->window_start;
		return ri->window_start +
			(time_t)plan_jitter(cert->name, (int64_t)(ri->window_end - ri->window_start));
	}
	span = jitter_max == 0 ? PLAN_JITTER_MAX : jitter_max;
	if (span > lifetime / 20)
		span = lifetime / 20;
	if (cert->renew_before > 0) {
		if (basis_out)
			*basis_out = PLAN_RENEW_BEFORE;
		left = cert->renew_before;
	} else {
		if (basis_out)
			*basis_out = PLAN_RENEW_FRACTION;
		fraction = cert->renew_fraction > 0 ? cert->renew_fraction : 1.0 / 3.0;
		/* short-lived certificates (6-day ones) renew at half-life */
		if (!has_field(&cert->field_pos, "renewBefore") && lifetime <= 10 * 86400)
			fraction = 0.5;
		left = (int64_t)((double)lifetime * fraction);
	}
	return (time_t)((int64_t)cur->not_after - left - plan_jitter(cert->name, span));
}
