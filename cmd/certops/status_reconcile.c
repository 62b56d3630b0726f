/* certops status: the last reconcile cycle (reconcile.c writes it). */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "status_reconcile.h"
#include "util/duration.h"
#include "util/error.h"
#include "util/fs.h"

/* The recorded status, or NULL when there is none (or it is unreadable). */
static json_t *load(const char *state_dir)
{
	util_buf path = UTIL_BUF_INIT, data = UTIL_BUF_INIT;
	json_t *doc = NULL;

	util_fs_join(&path, state_dir, "reconcile/status.json");
	if (!util_buf_failed(&path) && util_fs_read_file(&data, path.ptr, 16u << 20) == 0)
		doc = json_loadb(data.ptr, data.size, 0, NULL);
	util_error_clear();
	util_buf_free(&path);
	util_buf_free(&data);
	if (doc && !json_is_object(doc)) {
		json_decref(doc);
		doc = NULL;
	}
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
