/*
 * The Prometheus exposition of a report: one vocabulary for `certops
 * status --format prometheus` and reconcile's --metrics-file.  Families
 * are tables below, rendered family by family, so every family's samples
 * are contiguous and its HELP/TYPE come once, before them; a family
 * without samples is left out.  docs/operations.md lists the vocabulary:
 * change both together.
 */
#include <string.h>

#include "report/metrics.h"
#include "report/report.h"
#include "util/error.h"

/* A family being written: its header goes out with its first sample. */
typedef struct {
	util_buf *out;
	const char *name, *type, *help;
	int started;
	int error;
} prom;

static void begin(prom *m, const char *name, const char *type, const char *help)
{
	m->name = name;
	m->type = type;
	m->help = help;
	m->started = 0;
}

static void sample(prom *m, const char *const *labels, double v)
{
	if (m->error)
		return;
	if (!m->started && (m->error = report_metric_family(m->out, m->name, m->type,
							     m->help)) < 0)
		return;
	m->started = 1;
	m->error = report_metric_sample(m->out, m->name, labels, v);
}

/* ---- per certificate ---- */

/* Fills *v and returns 1 when c has a sample in the family, else 0. */
typedef int (*cert_fn)(const report_certificate *c, double *v);

static int c_issued(const report_certificate *c, double *v)
{
	*v = c->issued;
	return 1;
}

static int c_not_after(const report_certificate *c, double *v)
{
	*v = (double)c->not_after;
	return c->issued;
}

static int c_renew_at(const report_certificate *c, double *v)
{
	*v = (double)c->renew_at;
	return c->issued;
}

static int c_due(const report_certificate *c, double *v)
{
	*v = c->renewal_due;
	return 1;
}

static int c_expiring(const report_certificate *c, double *v)
{
	*v = c->expiring;
	return c->issued || c->has_last;
}

static int c_last_result(const report_certificate *c, double *v)
{
	*v = c->last_result && !strcmp(c->last_result, "ok");
	return c->has_last;
}

static int c_failures(const report_certificate *c, double *v)
{
	*v = (double)c->failures;
	return c->has_last;
}

static int c_next_attempt(const report_certificate *c, double *v)
{
	*v = (double)c->next_attempt;
	return c->has_last;
}

static const struct {
	const char *name, *type, *help;
	cert_fn fn;
	int reconcile; /* only when a cycle was recorded */
} cert_families[] = {
	{ "certops_certificate_issued", "gauge",
	  "1 when the store holds a current certificate for the declaration.", c_issued, 0 },
	{ "certops_certificate_not_after_timestamp_seconds", "gauge",
	  "When the current certificate expires (Unix time).", c_not_after, 0 },
	{ "certops_certificate_renewal_timestamp_seconds", "gauge",
	  "When the current certificate is due for renewal (Unix time).", c_renew_at, 0 },
	{ "certops_certificate_renewal_due", "gauge",
	  "1 when the plan would (re)issue the certificate now.", c_due, 0 },
	{ "certops_certificate_expiring", "gauge",
	  "1 while the certificate is close to expiry and not being renewed.", c_expiring, 1 },
	{ "certops_certificate_last_result", "gauge",
	  "1 when the certificate converged in the last reconcile cycle, 0 when it "
	  "failed or waits out a retry backoff.", c_last_result, 1 },
	{ "certops_certificate_consecutive_failures", "gauge",
	  "Failed reconcile attempts in a row.", c_failures, 1 },
	{ "certops_certificate_next_attempt_timestamp_seconds", "gauge",
	  "When a failing certificate is tried again (Unix time; 0: not held back).",
	  c_next_attempt, 1 },
};

/* ---- per target ---- */

typedef int (*target_fn)(const report_target *t, double *v);

static int t_in_sync(const report_target *t, double *v)
{
	*v = t->in_sync;
	return 1;
}

static int t_deployed_at(const report_target *t, double *v)
{
	*v = (double)t->deployed_at;
	return t->has_record;
}

static int t_deployed_ok(const report_target *t, double *v)
{
	*v = t->deployed_ok;
	return t->has_record;
}

static const struct {
	const char *name, *type, *help;
	target_fn fn;
} target_families[] = {
	{ "certops_target_in_sync", "gauge",
	  "1 when the target holds the current certificate as declared.", t_in_sync },
	{ "certops_target_last_deploy_timestamp_seconds", "gauge",
	  "When the target was last deployed (Unix time).", t_deployed_at },
	{ "certops_target_last_deploy_success", "gauge",
	  "1 when the last deploy to the target succeeded.", t_deployed_ok },
};

/* ---- the reconcile loop ---- */

typedef double (*loop_fn)(const state_reconcile_status *s);

static double l_cycles(const state_reconcile_status *s) { return (double)s->cycles; }
static double l_failures(const state_reconcile_status *s) { return (double)s->failures; }
static double l_up(const state_reconcile_status *s)
{
	return s->result && !strcmp(s->result, "ok");
}
static double l_last_run(const state_reconcile_status *s) { return (double)s->last_run; }
static double l_last_success(const state_reconcile_status *s) { return (double)s->last_success; }
static double l_duration(const state_reconcile_status *s) { return s->duration; }
static double l_problems(const state_reconcile_status *s) { return (double)s->problems; }
static double l_offline(const state_reconcile_status *s) { return s->offline; }
static double l_offline_cycles(const state_reconcile_status *s) { return (double)s->offline_cycles; }
static double l_notify_failures(const state_reconcile_status *s) { return (double)s->notify_failures; }

static const struct {
	const char *name, *type, *help;
	loop_fn fn;
} loop_families[] = {
	{ "certops_reconcile_cycles_total", "counter", "Reconcile cycles run.", l_cycles },
	{ "certops_reconcile_failures_total", "counter",
	  "Reconcile cycles that failed (source, declarations or apply).", l_failures },
	{ "certops_reconcile_up", "gauge", "1 when the last reconcile cycle succeeded.", l_up },
	{ "certops_reconcile_last_run_timestamp_seconds", "gauge",
	  "When the last reconcile cycle ended (Unix time).", l_last_run },
	{ "certops_reconcile_last_success_timestamp_seconds", "gauge",
	  "When a reconcile cycle last succeeded (Unix time; 0: never).", l_last_success },
	{ "certops_reconcile_duration_seconds", "gauge",
	  "How long the last reconcile cycle took.", l_duration },
	{ "certops_declaration_problems", "gauge",
	  "Problems found in the declarations by the last reconcile cycle.", l_problems },
	{ "certops_source_offline", "gauge",
	  "1 when the last reconcile cycle could not fetch and used the cached commit.",
	  l_offline },
	{ "certops_source_offline_cycles_total", "counter",
	  "Reconcile cycles that ran on the cached commit because the fetch failed.",
	  l_offline_cycles },
	{ "certops_notify_failures_total", "counter",
	  "Notifications that could not be delivered.", l_notify_failures },
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

int report_render_prometheus(util_buf *out, const report *r, unsigned flags)
{
	const state_reconcile_status *last = flags & REPORT_PROM_NO_RECONCILE ? NULL : r->last;
	prom m = { .out = out };
	size_t f, i, j;
	double v;

	for (f = 0; f < COUNT(cert_families); f++) {
		if (cert_families[f].reconcile && !last)
			continue;
		begin(&m, cert_families[f].name, cert_families[f].type, cert_families[f].help);
		for (i = 0; i < r->ncerts; i++) {
			const char *l[] = { "certificate", r->certs[i].name, NULL };

			if (cert_families[f].fn(&r->certs[i], &v))
				sample(&m, l, v);
		}
		/* stored, no longer declared: it still expires */
		for (i = 0; i < r->norphans; i++) {
			const char *l[] = { "certificate", r->orphans[i].name, NULL };

			if (cert_families[f].fn == c_not_after && r->orphans[i].not_after)
				sample(&m, l, (double)r->orphans[i].not_after);
			else if (cert_families[f].fn == c_expiring)
				sample(&m, l, 0); /* not declared: nothing to renew */
		}
	}
	for (f = 0; f < COUNT(target_families); f++) {
		begin(&m, target_families[f].name, target_families[f].type,
		      target_families[f].help);
		for (i = 0; i < r->ncerts; i++)
			for (j = 0; j < r->certs[i].ntargets; j++) {
				const report_target *t = &r->certs[i].targets[j];
				const char *l[] = { "certificate", r->certs[i].name,
						    "target", t->id, NULL };

				if (target_families[f].fn(t, &v))
					sample(&m, l, v);
			}
	}
	if (last) {
		const char *info[] = { "url", last->url ? last->url : "",
				       "ref", last->ref ? last->ref : "",
				       "commit", last->commit ? last->commit : "", NULL };

		for (f = 0; f < COUNT(loop_families); f++) {
			begin(&m, loop_families[f].name, loop_families[f].type,
			      loop_families[f].help);
			sample(&m, NULL, loop_families[f].fn(last));
		}
		begin(&m, "certops_source_info", "gauge",
		      "The source of the last reconcile cycle; the value is always 1.");
		sample(&m, info, 1);
	}
	if (m.error < 0)
		return m.error;
	if (util_buf_failed(out))
		return util_error_oom();
	return 0;
}
