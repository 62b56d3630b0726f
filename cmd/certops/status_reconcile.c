/* certops status: the last reconcile cycle (reconcile.c writes it). */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "state/state.h"
#include "status_reconcile.h"
#include "util/duration.h"
#include "util/error.h"
#include "util/fs.h"

/*
 * The recorded status (state_reconcile_get) as the JSON object status
 * prints, or NULL when there is none (or it is unreadable).
 */
static json_t *load(const char *state_dir)
{
	state_reconcile_status r;
	state *st = NULL;
	json_t *doc = NULL, *certs;
	size_t i;

	if (state_open(&st, state_dir, STATE_OPEN_NOCREATE) < 0 ||
	    state_reconcile_get(&r, st) < 0) {
		util_error_clear();
		state_free(st);
		return NULL;
	}
	doc = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:f, s:s?, s:b, s:I, s:s, s:s?, s:s?, s:s}",
			"cycles", (json_int_t)r.cycles, "failures", (json_int_t)r.failures,
			"offlineCycles", (json_int_t)r.offline_cycles,
			"notifyFailures", (json_int_t)r.notify_failures,
			"lastRun", (json_int_t)r.last_run, "lastSuccess", (json_int_t)r.last_success,
			"durationSeconds", r.duration, "result", r.result,
			"offline", r.offline, "problems", (json_int_t)r.problems,
			"commit", r.commit ? r.commit : "", "url", r.url, "ref", r.ref,
			"message", r.message ? r.message : "");
	if (doc && r.has_certs) {
		certs = json_array();
		if (json_object_set_new(doc, "certificates", certs) < 0)
			certs = NULL;
		for (i = 0; certs && i < r.ncerts; i++) {
			const state_reconcile_cert *c = &r.certs[i];

			json_array_append_new(certs, json_pack("{s:s, s:s, s:I, s:I, s:s?, s:b}",
				"name", c->name, "result", c->result,
				"failures", (json_int_t)c->failures,
				"nextAttempt", (json_int_t)c->next_attempt,
				"message", c->message, "expiring", c->expiring));
		}
	}
	state_reconcile_status_clear(&r);
	state_free(st);
	return doc;
}

static const char *str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

void status_reconcile_text(util_buf *out, const char *state_dir)
{
	json_t *doc = load(state_dir), *certs, *c;
	size_t i;

	if (!doc)
		return;
	util_buf_puts(out, "\nLast reconcile cycle: ");
	util_time_format(out, (time_t)json_integer_value(json_object_get(doc, "lastRun")));
	util_buf_printf(out, " %s", str(doc, "result"));
	if (*str(doc, "commit"))
		util_buf_printf(out, " at commit %s", str(doc, "commit"));
	if (*str(doc, "url"))
		util_buf_printf(out, " (%s%s%s)", str(doc, "url"), *str(doc, "ref") ? " " : "",
				str(doc, "ref"));
	if (json_is_true(json_object_get(doc, "offline")))
		util_buf_puts(out, " OFFLINE: cached commit");
	util_buf_printf(out, "; %lld cycle%s, %lld failed\n",
			(long long)json_integer_value(json_object_get(doc, "cycles")),
			json_integer_value(json_object_get(doc, "cycles")) == 1 ? "" : "s",
			(long long)json_integer_value(json_object_get(doc, "failures")));
	if (*str(doc, "message"))
		util_buf_printf(out, "  %s\n", str(doc, "message"));
	certs = json_object_get(doc, "certificates");
	json_array_foreach(certs, i, c) {
		time_t next = (time_t)json_integer_value(json_object_get(c, "nextAttempt"));

		if (!strcmp(str(c, "result"), "ok"))
			continue;
		util_buf_printf(out, "  %s: %s, %lld failure%s in a row", str(c, "name"),
				str(c, "result"),
				(long long)json_integer_value(json_object_get(c, "failures")),
				json_integer_value(json_object_get(c, "failures")) == 1 ? "" : "s");
		if (next) {
			util_buf_puts(out, ", next attempt ");
			util_time_format(out, next);
		}
		if (*str(c, "message"))
			util_buf_printf(out, ": %s", str(c, "message"));
		util_buf_putc(out, '\n');
	}
	json_decref(doc);
}

void status_reconcile_json(util_buf *out, const char *state_dir)
{
	json_t *doc = load(state_dir);
	char *s = doc ? json_dumps(doc, JSON_SORT_KEYS | JSON_COMPACT) : NULL;

	util_buf_puts(out, s ? s : "null");
	free(s);
	json_decref(doc);
}
