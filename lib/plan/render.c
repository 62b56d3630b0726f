/*
 * plan rendering: the JSON form is the plan's data (versioned by
 * PLAN_FORMAT_VERSION, schemas/plan.schema.json); the human form is drawn
 * from the same fields, Terraform-like.  Pure: no I/O.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "plan/plan.h"
#include "plan/plan_internal.h"
#include "util/duration.h"
#include "util/error.h"
#include "util/version.h"

#define GREEN "\033[32m"
#define YELLOW "\033[33m"
#define RED "\033[31m"
#define DIM "\033[2m"
#define BOLD "\033[1m"
#define RESET "\033[0m"

/* "+" creates, "~" changes or reruns, "-" removes, "#" notes (kept orphan). */
static char marker(const plan_action *a)
{
	switch (a->kind) {
	case PLAN_ACTION_REGISTER_ACCOUNT:
		return '+';
	case PLAN_ACTION_ISSUE:
		return a->reason == PLAN_REASON_MISSING ? '+' : '~';
	case PLAN_ACTION_DEPLOY:
		/* nothing deployed there before: a creation */
		return a->reason == PLAN_REASON_MISSING || !a->current_fingerprint ?
			'+' : '~';
	case PLAN_ACTION_ORPHAN:
		return a->prune ? '-' : '#';
	default:
		return '~';
	}
}

static const char *marker_color(char m)
{
	switch (m) {
	case '+': return GREEN;
	case '~': return YELLOW;
	case '-': return RED;
	default: return DIM;
	}
}

static void put_count(util_buf *b, const char **sep, size_t n, const char *one,
		      const char *many)
{
	if (!n)
		return;
	util_buf_printf(b, "%s%zu %s", *sep, n, n == 1 ? one : many);
	*sep = ", ";
}

int plan_render_human(util_buf *out, const plan *p, unsigned flags)
{
	int color = (flags & PLAN_RENDER_COLOR) != 0;
	const char *sep = "";
	size_t i;

	/* the commit first: a reviewer must know what the plan was made from */
	if (p->source_commit)
		util_buf_printf(out, "Source: %s%s%s at commit %s\n\n",
				p->source_url ? p->source_url : "(local)",
				p->source_ref ? " " : "", p->source_ref ? p->source_ref : "",
				p->source_commit);
	for (i = 0; i < p->count; i++) {
		const plan_action *a = &p->actions[i];
		char m = marker(a);

		util_buf_puts(out, "  ");
		if (color)
			util_buf_printf(out, "%s%c%s", marker_color(m), m, RESET);
		else
			util_buf_putc(out, m);
		util_buf_printf(out, " %s%s%s (%s): %s\n", color ? BOLD : "", a->id,
				color ? RESET : "", plan_reason_name(a->reason), a->message);
	}
	if (p->count)
		util_buf_putc(out, '\n');
	if (!plan_has_changes(p)) {
		util_buf_puts(out, "No changes. Certificates and targets match the declaration.\n");
		if (p->n_orphans)
			util_buf_printf(out, "%zu no longer declared (kept; --prune removes %s).\n",
					p->n_orphans, p->n_orphans == 1 ? "it" : "them");
	} else {
		util_buf_printf(out, "%sPlan:%s %zu to issue, %zu to renew, %zu to deploy, "
				"%zu no longer declared.", color ? BOLD : "", color ? RESET : "",
				p->n_issue, p->n_renew, p->n_deploy, p->n_orphans + p->n_prune);
		if (p->n_accounts || p->n_hooks || p->n_verify) {
			util_buf_puts(out, " Also ");
			put_count(out, &sep, p->n_accounts, "account to register",
				  "accounts to register");
			put_count(out, &sep, p->n_hooks, "hook to run", "hooks to run");
			put_count(out, &sep, p->n_verify, "endpoint to verify",
				  "endpoints to verify");
			util_buf_putc(out, '.');
		}
		util_buf_putc(out, '\n');
	}
	return util_buf_failed(out) ? util_error_oom() : 0;
}

/* ---- JSON ---- */

static json_t *jstr_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *jtime_or_null(time_t t)
{
	util_buf b = UTIL_BUF_INIT;
	json_t *j;

	if (!t)
		return json_null();
	util_time_format(&b, t);
	j = util_buf_failed(&b) ? NULL : json_string(b.ptr);
	util_buf_release(&b);
	return j;
}

static json_t *action_json(const plan_action *a)
{
	json_t *o = json_object(), *deps = json_array();
	size_t i;

	/* json_object_set_new steals its value even when it fails: put the
	 * containers in first, then fill them through borrowed pointers */
	if (!o || !deps || json_object_set_new(o, "id", json_string(a->id)) < 0 ||
	    json_object_set_new(o, "depends_on", deps) < 0) {
		json_decref(o);
		return NULL;
	}
	for (i = 0; i < a->ndepends; i++)
		if (json_array_append_new(deps, json_string(a->depends_on[i])) < 0)
			goto fail;
	if (json_object_set_new(o, "kind", json_string(plan_action_kind_name(a->kind))) < 0 ||
	    json_object_set_new(o, "reason", json_string(plan_reason_name(a->reason))) < 0 ||
	    json_object_set_new(o, "message", json_string(a->message ? a->message : "")) < 0 ||
	    json_object_set_new(o, "certificate", jstr_or_null(a->certificate)) < 0 ||
	    json_object_set_new(o, "issuer", jstr_or_null(a->issuer)) < 0 ||
	    json_object_set_new(o, "target", jstr_or_null(a->target)) < 0 ||
	    json_object_set_new(o, "index", a->index >= 0 ? json_integer(a->index) : json_null()) < 0 ||
	    json_object_set_new(o, "current_fingerprint", jstr_or_null(a->current_fingerprint)) < 0 ||
	    json_object_set_new(o, "current_not_after", jtime_or_null(a->current_not_after)) < 0 ||
	    json_object_set_new(o, "renew_at", jtime_or_null(a->renew_at)) < 0 ||
	    json_object_set_new(o, "prune", json_boolean(a->prune)) < 0)
		goto fail;
	return o;
fail:
	json_decref(o);
	return NULL;
}

static json_t *plan__to_json(const plan *p)
{
	json_t *o = json_object(), *actions = json_array(), *summary = json_object(),
	       *st = json_object();
	size_t i;

	if (!o || json_object_set_new(o, "format_version", json_string(PLAN_FORMAT_VERSION)) < 0 ||
	    json_object_set_new(o, "certops_version", json_string(CERTOPS_VERSION)) < 0 ||
	    json_object_set_new(o, "planned_at", jtime_or_null(p->now)) < 0 ||
	    json_object_set_new(o, "config_digest", json_string(p->config_digest)) < 0 ||
	    json_object_set_new(o, "state", st) < 0 ||
	    json_object_set_new(o, "changes", json_boolean(plan_has_changes(p))) < 0 ||
	    json_object_set_new(o, "summary", summary) < 0 ||
	    json_object_set_new(o, "actions", actions) < 0 || !st || !summary || !actions)
		goto fail;
	if (p->source_commit) {
		json_t *src = json_pack("{s:s?, s:s?, s:s}", "url", p->source_url,
					"ref", p->source_ref, "commit", p->source_commit);

		if (!src || json_object_set_new(o, "source", src) < 0)
			goto fail;
	}
	if (json_object_set_new(st, "present", json_boolean(p->has_state)) < 0 ||
	    json_object_set_new(st, "serial", json_integer((json_int_t)p->state_serial)) < 0)
		goto fail;
	if (json_object_set_new(summary, "issue", json_integer((json_int_t)p->n_issue)) < 0 ||
	    json_object_set_new(summary, "renew", json_integer((json_int_t)p->n_renew)) < 0 ||
	    json_object_set_new(summary, "deploy", json_integer((json_int_t)p->n_deploy)) < 0 ||
	    json_object_set_new(summary, "run_hook", json_integer((json_int_t)p->n_hooks)) < 0 ||
	    json_object_set_new(summary, "verify", json_integer((json_int_t)p->n_verify)) < 0 ||
	    json_object_set_new(summary, "register_account", json_integer((json_int_t)p->n_accounts)) < 0 ||
	    json_object_set_new(summary, "orphan_kept", json_integer((json_int_t)p->n_orphans)) < 0 ||
	    json_object_set_new(summary, "orphan_pruned", json_integer((json_int_t)p->n_prune)) < 0)
		goto fail;
	for (i = 0; i < p->count; i++) {
		json_t *a = action_json(&p->actions[i]);

		if (!a || json_array_append_new(actions, a) < 0)
			goto fail;
	}
	return o;
fail:
	json_decref(o);
	return NULL;
}

int plan_render_json(util_buf *out, const plan *p)
{
	json_t *o = plan__to_json(p);
	char *s;

	if (!o)
		return util_error_oom();
	s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (!s)
		return util_error_oom();
	util_buf_puts(out, s);
	util_buf_putc(out, '\n');
	free(s);
	return util_buf_failed(out) ? util_error_oom() : 0;
}
