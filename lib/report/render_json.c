/*
 * The status JSON (schemas/status.schema.json) and the apply JSON
 * (schemas/apply.schema.json); see report.h.
 */
#include <string.h>

#include "report/report.h"
#include "util/duration.h"
#include "util/error.h"

static void json_time(util_buf *b, time_t t)
{
	if (!t) {
		util_buf_puts(b, "null");
		return;
	}
	util_buf_putc(b, '"');
	util_time_format(b, t);
	util_buf_putc(b, '"');
}

static void json_str(util_buf *b, const char *s)
{
	if (s)
		util_buf_put_json_string(b, s);
	else
		util_buf_puts(b, "null");
}

static void render_target(util_buf *out, const report_target *t)
{
	util_buf_puts(out, "{\"id\": ");
	json_str(out, t->id);
	util_buf_puts(out, ", \"kind\": ");
	json_str(out, config_target_type_name(t->kind));
	util_buf_printf(out, ", \"in_sync\": %s, \"reason\": ", t->in_sync ? "true" : "false");
	json_str(out, t->in_sync ? NULL : plan_reason_name(t->reason));
	util_buf_puts(out, ", \"message\": ");
	json_str(out, t->in_sync ? NULL : t->message ? t->message : "");
	util_buf_puts(out, ", \"deployed_at\": ");
	json_time(out, t->has_record ? t->deployed_at : 0);
	util_buf_puts(out, ", \"deployed_fingerprint\": ");
	json_str(out, t->deployed_fingerprint);
	util_buf_puts(out, ", \"result\": ");
	json_str(out, !t->has_record ? NULL : t->deployed_ok ? "ok" : "failed");
	util_buf_puts(out, ", \"error\": ");
	json_str(out, t->deploy_error);
	util_buf_putc(out, '}');
}

static void render_cert(util_buf *out, const report_certificate *c)
{
	size_t j;

	util_buf_puts(out, "{\"name\": ");
	json_str(out, c->name);
	util_buf_puts(out, ", \"identifiers\": [");
	for (j = 0; j < c->nidentifiers; j++) {
		if (j)
			util_buf_puts(out, ", ");
		json_str(out, c->identifiers[j]);
	}
	util_buf_puts(out, "], \"issuer\": ");
	json_str(out, c->issuer);
	util_buf_puts(out, ", \"key_type\": ");
	json_str(out, config_key_type_name(c->key_type));
	util_buf_printf(out, ", \"issued\": %s, \"error\": ", c->issued ? "true" : "false");
	json_str(out, c->error);
	if (c->issued) {
		util_buf_puts(out, ", \"current\": {\"version\": ");
		json_str(out, c->version);
		util_buf_puts(out, ", \"fingerprint\": ");
		json_str(out, c->fingerprint);
		util_buf_puts(out, ", \"serial\": ");
		json_str(out, c->serial);
		util_buf_puts(out, ", \"key_spec\": ");
		json_str(out, c->key_spec);
		util_buf_puts(out, ", \"issuer_cn\": ");
		json_str(out, c->issuer_cn);
		util_buf_puts(out, ", \"not_before\": ");
		json_time(out, c->not_before);
		util_buf_puts(out, ", \"not_after\": ");
		json_time(out, c->not_after);
		util_buf_printf(out, "}, \"seconds_left\": %lld, \"renew_at\": ",
				(long long)c->seconds_left);
		json_time(out, c->renew_at);
	} else {
		util_buf_puts(out, ", \"current\": null, \"seconds_left\": null, \"renew_at\": null");
	}
	util_buf_printf(out, ", \"renewal_due\": %s, \"reason\": ", c->renewal_due ? "true" : "false");
	json_str(out, c->renewal_due ? plan_reason_name(c->reason) : NULL);
	util_buf_puts(out, ", \"targets\": [");
	for (j = 0; j < c->ntargets; j++) {
		if (j)
			util_buf_puts(out, ", ");
		render_target(out, &c->targets[j]);
	}
	util_buf_puts(out, "]}");
}

/*
 * The last cycle with the key names reconcile has always written in its
 * status.json (camelCase, sorted), so readers of either keep working.
 */
static void render_last(util_buf *out, const state_reconcile_status *s)
{
	size_t i;

	util_buf_putc(out, '{');
	if (s->has_certs) {
		util_buf_puts(out, "\"certificates\":[");
		for (i = 0; i < s->ncerts; i++) {
			const state_reconcile_cert *c = &s->certs[i];

			util_buf_printf(out, "%s{\"expiring\":%s,\"failures\":%lld,\"message\":",
					i ? "," : "", c->expiring ? "true" : "false",
					(long long)c->failures);
			json_str(out, c->message);
			util_buf_puts(out, ",\"name\":");
			json_str(out, c->name ? c->name : "");
			util_buf_printf(out, ",\"nextAttempt\":%lld,\"result\":",
					(long long)c->next_attempt);
			json_str(out, c->result ? c->result : "");
			util_buf_putc(out, '}');
		}
		util_buf_puts(out, "],");
	}
	util_buf_puts(out, "\"commit\":");
	json_str(out, s->commit);
	util_buf_printf(out, ",\"cycles\":%lld,\"durationSeconds\":%.3f,\"failures\":%lld,"
			"\"lastRun\":%lld,\"lastSuccess\":%lld,\"message\":",
			(long long)s->cycles, s->duration, (long long)s->failures,
			(long long)s->last_run, (long long)s->last_success);
	json_str(out, s->message);
	util_buf_printf(out, ",\"notifyFailures\":%lld,\"offline\":%s,\"offlineCycles\":%lld,"
			"\"problems\":%lld,\"ref\":", (long long)s->notify_failures,
			s->offline ? "true" : "false", (long long)s->offline_cycles,
			(long long)s->problems);
	json_str(out, s->ref);
	util_buf_puts(out, ",\"result\":");
	json_str(out, s->result ? s->result : "");
	util_buf_puts(out, ",\"url\":");
	json_str(out, s->url);
	util_buf_putc(out, '}');
}

int report_render_json(util_buf *out, const report *r)
{
	size_t i;

	util_buf_puts(out, "{\"format_version\": \"" REPORT_FORMAT_VERSION "\", \"generated_at\": ");
	json_time(out, r->now);
	util_buf_printf(out, ", \"state\": {\"present\": %s, \"serial\": %llu},\n \"certificates\": [",
			r->has_state ? "true" : "false", (unsigned long long)r->state_serial);
	for (i = 0; i < r->ncerts; i++) {
		util_buf_puts(out, i ? ",\n  " : "\n  ");
		render_cert(out, &r->certs[i]);
	}
	util_buf_puts(out, "\n ],\n \"orphans\": [");
	for (i = 0; i < r->norphans; i++) {
		if (i)
			util_buf_puts(out, ", ");
		json_str(out, r->orphans[i].name);
	}
	util_buf_puts(out, "],\n \"source\": ");
	if (r->source) {
		util_buf_puts(out, "{\"url\": ");
		json_str(out, r->source->url);
		util_buf_puts(out, ", \"ref\": ");
		json_str(out, r->source->ref ? r->source->ref : "");
		util_buf_printf(out, ", \"commit\": \"%s\", \"offline\": %s}", r->source->commit,
				r->source->offline ? "true" : "false");
	} else {
		util_buf_puts(out, "null");
	}
	util_buf_puts(out, ",\n \"reconcile\": ");
	if (r->last)
		render_last(out, r->last);
	else
		util_buf_puts(out, "null");
	util_buf_puts(out, "}\n");
	if (util_buf_failed(out))
		return util_error_oom();
	return 0;
}

int report_render_apply_json(util_buf *out, const plan *p, const apply_report *r)
{
	size_t i, start = out->size;
	int error;

	util_buf_puts(out, "{\"plan\":");
	if ((error = plan_render_json(out, p)) < 0)
		return error;
	if (out->size > start && out->ptr[out->size - 1] == '\n')
		util_buf_truncate(out, out->size - 1);
	util_buf_printf(out, ",\"converged\":%s,\"rounds\":%u,\"done\":%zu,\"failed\":%zu,"
			"\"skipped\":%zu,\"actions\":[", r->converged ? "true" : "false",
			r->rounds, r->n_done, r->n_failed, r->n_skipped);
	for (i = 0; i < r->count; i++) {
		const apply_outcome *o = &r->outcomes[i];

		util_buf_puts(out, i ? ",{\"id\":" : "{\"id\":");
		json_str(out, o->id);
		util_buf_printf(out, ",\"result\":\"%s\",\"round\":%u,\"elapsed\":%.3f,\"error\":",
				o->ok > 0 ? "done" : o->ok == 0 ? "failed" : "skipped",
				o->round, o->elapsed);
		json_str(out, o->message);
		util_buf_putc(out, '}');
	}
	util_buf_puts(out, "],\"not_converged\":[");
	for (i = 0; i < r->npending; i++) {
		util_buf_puts(out, i ? ",{\"id\":" : "{\"id\":");
		json_str(out, r->pending_ids[i]);
		util_buf_puts(out, ",\"why\":");
		json_str(out, r->pending_why[i]);
		util_buf_putc(out, '}');
	}
	util_buf_puts(out, "]}\n");
	if (util_buf_failed(out))
		return util_error_oom();
	return 0;
}
