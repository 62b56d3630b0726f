/* The human status table and the last reconcile cycle; see report.h. */
#include <string.h>

#include "report/report.h"
#include "util/duration.h"
#include "util/error.h"

static const char *target_state(const report_target *t)
{
	if (t->in_sync)
		return "in sync";
	switch (t->reason) {
	case PLAN_REASON_DRIFTED: return "drifted";
	case PLAN_REASON_MISSING: return "not deployed";
	case PLAN_REASON_PREVIOUS_FAILED: return "failed";
	case PLAN_REASON_TARGET_CONFIG_CHANGED: return "config changed";
	default: return "outdated";
	}
}

static void put_identifiers(util_buf *b, const report_certificate *c)
{
	size_t i;

	for (i = 0; i < c->nidentifiers; i++) {
		if (i)
			util_buf_putc(b, ',');
		util_buf_puts(b, c->identifiers[i]);
	}
}

static int nonempty(const char *s)
{
	return s && *s;
}

static void render_cert(util_buf *out, util_buf *t, const report_certificate *c,
			time_t now, int wname, int wids, int wiss)
{
	size_t j;

	util_buf_clear(t);
	put_identifiers(t, c);
	util_buf_printf(out, "%-*s  %-*s  %-*s  ", wname, c->name, wids, t->ptr, wiss,
			c->issuer);
	if (!c->issued) {
		util_buf_printf(out, "%-10s  %s\n", "-", c->error ? "unreadable" : "not issued");
	} else {
		util_buf_clear(t);
		util_time_format(t, c->not_after);
		util_buf_printf(out, "%-10s  %-20s  ", c->key_spec ? c->key_spec : "-", t->ptr);
		util_buf_clear(t);
		if (c->not_after > now)
			util_duration_format(t, (c->seconds_left / 3600) * 3600);
		else
			util_buf_puts(t, "expired");
		util_buf_printf(out, "%-8s  ", t->ptr);
		if (c->renewal_due) {
			util_buf_printf(out, "now (%s)", plan_reason_name(c->reason));
		} else {
			util_time_format(out, c->renew_at);
		}
		util_buf_putc(out, '\n');
	}
	for (j = 0; j < c->ntargets; j++) {
		const report_target *tg = &c->targets[j];
		const char *fp = tg->deployed_fingerprint;

		util_buf_printf(out, "  %-*s  %-14s", wname > 14 ? wname : 14, tg->id,
				target_state(tg));
		if (tg->has_record) {
			util_buf_puts(out, "  last ");
			util_time_format(out, tg->deployed_at);
			util_buf_printf(out, " %s  %.16s%s", tg->deployed_ok ? "ok" : "failed",
					fp ? fp : "-", fp && strlen(fp) > 16 ? "..." : "");
		}
		if (tg->message)
			util_buf_printf(out, "  (%s)", tg->message);
		util_buf_putc(out, '\n');
	}
}

static void render_last(util_buf *out, const state_reconcile_status *s)
{
	size_t i;

	util_buf_puts(out, "\nLast reconcile cycle: ");
	util_time_format(out, s->last_run);
	util_buf_printf(out, " %s", s->result ? s->result : "");
	if (nonempty(s->commit))
		util_buf_printf(out, " at commit %s", s->commit);
	if (nonempty(s->url))
		util_buf_printf(out, " (%s%s%s)", s->url, nonempty(s->ref) ? " " : "",
				nonempty(s->ref) ? s->ref : "");
	if (s->offline)
		util_buf_puts(out, " OFFLINE: cached commit");
	util_buf_printf(out, "; %lld cycle%s, %lld failed\n", (long long)s->cycles,
			s->cycles == 1 ? "" : "s", (long long)s->failures);
	if (nonempty(s->message))
		util_buf_printf(out, "  %s\n", s->message);
	for (i = 0; s->has_certs && i < s->ncerts; i++) {
		const state_reconcile_cert *c = &s->certs[i];

		if (!c->result || !strcmp(c->result, "ok"))
			continue;
		util_buf_printf(out, "  %s: %s, %lld failure%s in a row", c->name ? c->name : "",
				c->result, (long long)c->failures, c->failures == 1 ? "" : "s");
		if (c->next_attempt) {
			util_buf_puts(out, ", next attempt ");
			util_time_format(out, c->next_attempt);
		}
		if (nonempty(c->message))
			util_buf_printf(out, ": %s", c->message);
		util_buf_putc(out, '\n');
	}
}

int report_render_text(util_buf *out, const report *r, unsigned flags)
{
	util_buf t = UTIL_BUF_INIT;
	size_t i, wname = 11, wids = 11, wiss = 6;

	(void)flags;
	if (r->source)
		util_buf_printf(out, "Source: %s %s at commit %s%s\n\n", r->source->url,
				r->source->ref ? r->source->ref : "", r->source->commit,
				r->source->offline ? " (OFFLINE: cached)" : "");
	for (i = 0; i < r->ncerts; i++) {
		util_buf_clear(&t);
		put_identifiers(&t, &r->certs[i]);
		if (strlen(r->certs[i].name) > wname)
			wname = strlen(r->certs[i].name);
		if (t.size > wids)
			wids = t.size;
		if (strlen(r->certs[i].issuer) > wiss)
			wiss = strlen(r->certs[i].issuer);
	}
	util_buf_printf(out, "%-*s  %-*s  %-*s  %-10s  %-20s  %-8s  %s\n", (int)wname,
			"CERTIFICATE", (int)wids, "IDENTIFIERS", (int)wiss, "ISSUER", "KEY",
			"NOT AFTER", "LEFT", "RENEWAL DUE");
	for (i = 0; i < r->ncerts; i++)
		render_cert(out, &t, &r->certs[i], r->now, (int)wname, (int)wids, (int)wiss);
	for (i = 0; i < r->norphans; i++)
		util_buf_printf(out, "%-*s  (no longer declared; kept in the store)\n",
				(int)wname, r->orphans[i].name);
	if (r->last)
		render_last(out, r->last);
	util_buf_release(&t);
	if (util_buf_failed(out))
		return util_error_oom();
	return 0;
}
