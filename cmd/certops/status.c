/*
 * certops status: the inventory.  Every declared certificate with what the
 * store holds for it (identifiers, issuer, key, not-after, time left,
 * renewal due) and each target (in sync or why not, last deploy, result),
 * as a table, JSON, or Prometheus text exposition for node_exporter's
 * textfile collector.  Read-only: built from the same observation and plan
 * as `certops plan`.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "plan/plan.h"
#include "source_opts.h"
#include "status_reconcile.h"
#include "util/duration.h"
#include "util/error.h"
#include "world.h"

enum { OPT_JSON = 2000, OPT_FORMAT };
enum { FMT_TEXT = 0, FMT_JSON, FMT_PROMETHEUS };

typedef struct {
	int format;
	cli_source src;
} status_opts;

static void usage(FILE *f)
{
	fputs("Usage: certops status [--json | --format text|json|prometheus]\n"
	      "         [source options] [DIR]\n\n"
	      "Lists every certificate declared in DIR (default .): identifiers,\n"
	      "issuer, key, not-after, time left, when renewal is due, and each deploy\n"
	      "target: in sync or why not, last deploy and its result.  Read-only.\n\n"
	      "  --json               the same as JSON\n"
	      "  --format prometheus  metrics for node_exporter's textfile collector\n\n"
	      "The last `certops reconcile` cycle follows (its result, commit and any\n"
	      "failing certificate; \"reconcile\" in JSON), and with --repo the commit\n"
	      "the declarations were read at (\"source\" in JSON).\n\n"
	      "Exit status: 0, 1 error, 64 usage, 65 invalid declarations.\n\n", f);
	cli_source_help(f);
	cli_global_help(f);
}

static int on_opt(cli_ctx *ctx, int opt, const char *arg, void *data)
{
	status_opts *o = data;
	int rc;

	(void)ctx;
	if (opt == OPT_JSON) {
		o->format = FMT_JSON;
	} else if (opt == OPT_FORMAT) {
		if (!strcmp(arg, "text"))
			o->format = FMT_TEXT;
		else if (!strcmp(arg, "json"))
			o->format = FMT_JSON;
		else if (!strcmp(arg, "prometheus"))
			o->format = FMT_PROMETHEUS;
		else
			return cli_usage_error(&cli_cmd_status,
				"invalid --format '%s' (expected text, json or prometheus)", arg);
	} else {
		rc = cli_source_opt(&o->src, opt, arg);
		return rc == 1 ? cli_usage_error(&cli_cmd_status, "unknown option") : rc;
	}
	return 0;
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
		if (p->actions[i].kind == PLAN_ACTION_ISSUE && !strcmp(p->actions[i].certificate, name))
			return &p->actions[i];
	return NULL;
}

static const char *target_state(const plan_action *a)
{
	if (!a)
		return "in sync";
	switch (a->reason) {
	case PLAN_REASON_DRIFTED: return "drifted";
	case PLAN_REASON_MISSING: return "not deployed";
	case PLAN_REASON_PREVIOUS_FAILED: return "failed";
	case PLAN_REASON_TARGET_CONFIG_CHANGED: return "config changed";
	default: return "outdated";
	}
}

static void put_identifiers(util_buf *b, const config_certificate *c, const char *sep)
{
	size_t i, n = c->domains.count + c->ip_addresses.count;

	for (i = 0; i < n; i++) {
		if (i)
			util_buf_puts(b, sep);
		util_buf_puts(b, i < c->domains.count ? c->domains.items[i].value :
			      c->ip_addresses.items[i - c->domains.count].value);
	}
}

static void put_fp16(util_buf *b, const char *fp)
{
	util_buf_printf(b, "%.16s%s", fp ? fp : "-", fp && strlen(fp) > 16 ? "..." : "");
}

/* ---- text ---- */

static void render_text(util_buf *out, const cmd_world *w, const plan *p, time_t now)
{
	size_t i, j, wname = 11, wids = 11, wiss = 6;
	util_buf ids = UTIL_BUF_INIT, t = UTIL_BUF_INIT;

	for (i = 0; i < w->obs->ncerts; i++) {
		const config_certificate *c = w->obs->certs[i].cert;

		util_buf_clear(&ids);
		put_identifiers(&ids, c, ",");
		if (strlen(c->name) > wname)
			wname = strlen(c->name);
		if (ids.size > wids)
			wids = ids.size;
		if (strlen(c->issuer) > wiss)
			wiss = strlen(c->issuer);
	}
	util_buf_printf(out, "%-*s  %-*s  %-*s  %-10s  %-20s  %-8s  %s\n", (int)wname,
			"CERTIFICATE", (int)wids, "IDENTIFIERS", (int)wiss, "ISSUER", "KEY",
			"NOT AFTER", "LEFT", "RENEWAL DUE");
	for (i = 0; i < w->obs->ncerts; i++) {
		const observe_cert *oc = &w->obs->certs[i];
		const config_certificate *c = oc->cert;
		const plan_action *issue = issue_action(p, c->name);

		util_buf_clear(&ids);
		put_identifiers(&ids, c, ",");
		util_buf_printf(out, "%-*s  %-*s  %-*s  ", (int)wname, c->name, (int)wids,
				ids.ptr, (int)wiss, c->issuer);
		if (!oc->present) {
			util_buf_printf(out, "%-10s  %s\n", "-",
					oc->error ? "unreadable" : "not issued");
		} else {
			util_buf_clear(&t);
			util_time_format(&t, oc->cur.not_after);
			util_buf_printf(out, "%-10s  %-20s  ", oc->cur.key_spec ? oc->cur.key_spec : "-",
					t.ptr);
			util_buf_clear(&t);
			if (oc->cur.not_after > now)
				util_duration_format(&t, ((int64_t)(oc->cur.not_after - now) / 3600) * 3600);
			else
				util_buf_puts(&t, "expired");
			util_buf_printf(out, "%-8s  ", t.ptr);
			util_buf_clear(&t);
			if (issue) {
				util_buf_printf(out, "now (%s)", plan_reason_name(issue->reason));
			} else {
				util_time_format(&t, plan_renewal_time(c, &oc->cur, &oc->renewal, 0, NULL));
				util_buf_puts(out, t.ptr);
			}
			util_buf_putc(out, '\n');
		}
		for (j = 0; j < oc->ntargets; j++) {
			const observe_target *tg = &oc->targets[j];
			const plan_action *a = target_action(p, tg->id);

			util_buf_printf(out, "  %-*s  %-14s", (int)(wname > 14 ? wname : 14), tg->id,
					target_state(a));
			if (tg->has_record) {
				util_buf_clear(&t);
				util_time_format(&t, tg->deployed_at);
				util_buf_printf(out, "  last %s %s  ", t.ptr,
						tg->deployed_ok ? "ok" : "failed");
				put_fp16(out, tg->deployed_fingerprint);
			}
			if (a && a->message && *a->message)
				util_buf_printf(out, "  (%s)", a->message);
			util_buf_putc(out, '\n');
		}
	}
	for (i = 0; i < w->obs->norphan_certs; i++)
		util_buf_printf(out, "%-*s  (no longer declared; kept in the store)\n", (int)wname,
				w->obs->orphan_certs[i].name);
	util_buf_free(&ids);
	util_buf_free(&t);
}

/* ---- JSON ---- */

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

static void render_json(util_buf *out, const cmd_world *w, const plan *p, time_t now)
{
	size_t i, j;

	util_buf_puts(out, "{\"format_version\": \"1.0\", \"generated_at\": ");
	json_time(out, now);
	util_buf_printf(out, ", \"state\": {\"present\": %s, \"serial\": %llu},\n \"certificates\": [",
			w->obs->has_state ? "true" : "false",
			(unsigned long long)w->obs->state_serial);
	for (i = 0; i < w->obs->ncerts; i++) {
		const observe_cert *oc = &w->obs->certs[i];
		const config_certificate *c = oc->cert;
		const plan_action *issue = issue_action(p, c->name);

		util_buf_puts(out, i ? ",\n  {" : "\n  {");
		util_buf_puts(out, "\"name\": ");
		json_str(out, c->name);
		util_buf_puts(out, ", \"identifiers\": [");
		for (j = 0; j < c->domains.count + c->ip_addresses.count; j++) {
			if (j)
				util_buf_puts(out, ", ");
			json_str(out, j < c->domains.count ? c->domains.items[j].value :
				 c->ip_addresses.items[j - c->domains.count].value);
		}
		util_buf_puts(out, "], \"issuer\": ");
		json_str(out, c->issuer);
		util_buf_puts(out, ", \"key_type\": ");
		json_str(out, config_key_type_name(c->key_type));
		util_buf_printf(out, ", \"issued\": %s", oc->present ? "true" : "false");
		util_buf_puts(out, ", \"error\": ");
		json_str(out, oc->error);
		if (oc->present) {
			util_buf_puts(out, ", \"current\": {\"version\": ");
			json_str(out, oc->cur.version);
			util_buf_puts(out, ", \"fingerprint\": ");
			json_str(out, oc->cur.fingerprint);
			util_buf_puts(out, ", \"serial\": ");
			json_str(out, oc->cur.serial);
			util_buf_puts(out, ", \"key_spec\": ");
			json_str(out, oc->cur.key_spec);
			util_buf_puts(out, ", \"issuer_cn\": ");
			json_str(out, oc->cur.issuer_cn);
			util_buf_puts(out, ", \"not_before\": ");
			json_time(out, oc->cur.not_before);
			util_buf_puts(out, ", \"not_after\": ");
			json_time(out, oc->cur.not_after);
			util_buf_printf(out, "}, \"seconds_left\": %lld, \"renew_at\": ",
					(long long)(oc->cur.not_after - now));
			json_time(out, plan_renewal_time(c, &oc->cur, &oc->renewal, 0, NULL));
		} else {
			util_buf_puts(out, ", \"current\": null, \"seconds_left\": null, \"renew_at\": null");
		}
		util_buf_printf(out, ", \"renewal_due\": %s, \"reason\": ", issue ? "true" : "false");
		json_str(out, issue ? plan_reason_name(issue->reason) : NULL);
		util_buf_puts(out, ", \"targets\": [");
		for (j = 0; j < oc->ntargets; j++) {
			const observe_target *tg = &oc->targets[j];
			const plan_action *a = target_action(p, tg->id);

			util_buf_puts(out, j ? ", {" : "{");
			util_buf_puts(out, "\"id\": ");
			json_str(out, tg->id);
			util_buf_puts(out, ", \"kind\": ");
			json_str(out, config_target_type_name(tg->kind));
			util_buf_printf(out, ", \"in_sync\": %s, \"reason\": ", a ? "false" : "true");
			json_str(out, a ? plan_reason_name(a->reason) : NULL);
			util_buf_puts(out, ", \"message\": ");
			json_str(out, a ? a->message : NULL);
			util_buf_puts(out, ", \"deployed_at\": ");
			json_time(out, tg->has_record ? tg->deployed_at : 0);
			util_buf_puts(out, ", \"deployed_fingerprint\": ");
			json_str(out, tg->deployed_fingerprint);
			util_buf_puts(out, ", \"result\": ");
			json_str(out, !tg->has_record ? NULL : tg->deployed_ok ? "ok" : "failed");
			util_buf_puts(out, ", \"error\": ");
			json_str(out, tg->deploy_message);
			util_buf_putc(out, '}');
		}
		util_buf_puts(out, "]}");
	}
	util_buf_puts(out, "\n ],\n \"orphans\": [");
	for (i = 0; i < w->obs->norphan_certs; i++) {
		if (i)
			util_buf_puts(out, ", ");
		json_str(out, w->obs->orphan_certs[i].name);
	}
	util_buf_puts(out, "]}\n");
}

/* ---- Prometheus text exposition ---- */

/* Label values escape \, " and newline (exposition format). */
static void prom_label(util_buf *b, const char *s)
{
	util_buf_putc(b, '"');
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			util_buf_putc(b, '\\');
		if (*s == '\n')
			util_buf_puts(b, "\\n");
		else
			util_buf_putc(b, *s);
	}
	util_buf_putc(b, '"');
}

static void render_prometheus(util_buf *out, const cmd_world *w, const plan *p)
{
	size_t i, j;

	util_buf_puts(out,
		"# HELP certops_certificate_not_after_seconds Expiry of the current certificate (Unix time).\n"
		"# TYPE certops_certificate_not_after_seconds gauge\n");
	for (i = 0; i < w->obs->ncerts; i++)
		if (w->obs->certs[i].present) {
			util_buf_puts(out, "certops_certificate_not_after_seconds{certificate=");
			prom_label(out, w->obs->certs[i].cert->name);
			util_buf_printf(out, "} %lld\n", (long long)w->obs->certs[i].cur.not_after);
		}
	util_buf_puts(out,
		"# HELP certops_certificate_issued 1 when the store holds a certificate for the declaration.\n"
		"# TYPE certops_certificate_issued gauge\n");
	for (i = 0; i < w->obs->ncerts; i++) {
		util_buf_puts(out, "certops_certificate_issued{certificate=");
		prom_label(out, w->obs->certs[i].cert->name);
		util_buf_printf(out, "} %d\n", w->obs->certs[i].present);
	}
	util_buf_puts(out,
		"# HELP certops_certificate_renewal_due 1 when the plan would (re)issue it now.\n"
		"# TYPE certops_certificate_renewal_due gauge\n");
	for (i = 0; i < w->obs->ncerts; i++) {
		util_buf_puts(out, "certops_certificate_renewal_due{certificate=");
		prom_label(out, w->obs->certs[i].cert->name);
		util_buf_printf(out, "} %d\n", issue_action(p, w->obs->certs[i].cert->name) != NULL);
	}
	util_buf_puts(out,
		"# HELP certops_target_in_sync 1 when the target holds the current certificate as declared.\n"
		"# TYPE certops_target_in_sync gauge\n"
		"# HELP certops_target_last_deploy_timestamp_seconds When the target was last deployed (Unix time).\n"
		"# TYPE certops_target_last_deploy_timestamp_seconds gauge\n"
		"# HELP certops_target_last_deploy_success 1 when the last deploy succeeded.\n"
		"# TYPE certops_target_last_deploy_success gauge\n");
	for (i = 0; i < w->obs->ncerts; i++)
		for (j = 0; j < w->obs->certs[i].ntargets; j++) {
			const observe_target *tg = &w->obs->certs[i].targets[j];

			util_buf_puts(out, "certops_target_in_sync{certificate=");
			prom_label(out, tg->cert->name);
			util_buf_puts(out, ",target=");
			prom_label(out, tg->id);
			util_buf_printf(out, "} %d\n", target_action(p, tg->id) == NULL);
			if (!tg->has_record)
				continue;
			util_buf_puts(out, "certops_target_last_deploy_timestamp_seconds{certificate=");
			prom_label(out, tg->cert->name);
			util_buf_puts(out, ",target=");
			prom_label(out, tg->id);
			util_buf_printf(out, "} %lld\n", (long long)tg->deployed_at);
			util_buf_puts(out, "certops_target_last_deploy_success{certificate=");
			prom_label(out, tg->cert->name);
			util_buf_puts(out, ",target=");
			prom_label(out, tg->id);
			util_buf_printf(out, "} %d\n", tg->deployed_ok);
		}
}

static int run(cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		{ "format", required_argument, NULL, OPT_FORMAT },
		CLI_SOURCE_OPTIONS,
		{ NULL, 0, NULL, 0 }
	};
	status_opts o;
	const source_result *src = NULL;
	util_buf sdir = UTIL_BUF_INIT;
	cmd_world w;
	plan *p = NULL;
	util_buf b = UTIL_BUF_INIT;
	const char *dir = NULL;
	time_t now = time(NULL);
	int first, rc, exit_code = CLI_EXIT_ERROR;

	memset(&w, 0, sizeof(w));
	memset(&o, 0, sizeof(o));
	rc = cli_parse(ctx, &cli_cmd_status, argc, argv, opts, "", on_opt, &o, &first);
	if (rc)
		return rc == 1 ? CLI_EXIT_OK : rc;
	if (argc - first > 1)
		return cli_usage_error(&cli_cmd_status, "expected at most one directory");
	if (first < argc)
		dir = argv[first];
	if ((rc = cmd_world_load(&w, ctx, &cli_cmd_status, &o.src, dir, OBSERVE_OFFLINE)) != 0) {
		exit_code = rc;
		goto done;
	}
	p = w.plan;
	src = w.e->src;
	util_buf_puts(&sdir, w.e->state_dir);
	if (o.format == FMT_JSON) {
		render_json(&b, &w, p, now);
		/* the source and the last cycle go inside the one object */
		if (b.size >= 2 && !strcmp(b.ptr + b.size - 2, "}\n")) {
			util_buf_truncate(&b, b.size - 2);
			util_buf_puts(&b, ",\n \"source\": ");
			if (src && src->url) {
				util_buf_puts(&b, "{\"url\": ");
				util_buf_put_json_string(&b, src->url);
				util_buf_puts(&b, ", \"ref\": ");
				util_buf_put_json_string(&b, src->ref ? src->ref : "");
				util_buf_printf(&b, ", \"commit\": \"%s\", \"offline\": %s}",
						src->commit, src->offline ? "true" : "false");
			} else {
				util_buf_puts(&b, "null");
			}
			util_buf_puts(&b, ",\n \"reconcile\": ");
			status_reconcile_json(&b, sdir.ptr);
			util_buf_puts(&b, "}\n");
		}
	} else if (o.format == FMT_PROMETHEUS) {
		render_prometheus(&b, &w, p);
	} else {
		if (src && src->url)
			util_buf_printf(&b, "Source: %s %s at commit %s%s\n\n", src->url,
					src->ref ? src->ref : "", src->commit,
					src->offline ? " (OFFLINE: cached)" : "");
		render_text(&b, &w, p, now);
		status_reconcile_text(&b, sdir.ptr);
	}
	if (util_buf_failed(&b)) {
		util_error_set(CERTOPS_ENOMEM, "out of memory");
		cli_print_error("rendering the status");
		goto done;
	}
	fputs(b.ptr, ctx->out);
	exit_code = CLI_EXIT_OK;
done:
	util_buf_free(&b);
	cmd_world_free(&w);
	util_buf_free(&sdir);
	return exit_code;
}

const cli_command cli_cmd_status = { "status", "list certificates and deployments",
	"certops status [--json | --format text|json|prometheus] [DIR]", run, usage };
