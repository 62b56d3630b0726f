/*
 * The reconcile records (the last cycle's status, the retry backoff), the
 * notification memory and the last applied commit.  Each is one document
 * (backend.h); times are Unix seconds, as format 1's files had them.
 */
#include "state/internal.h"

#include <stdlib.h>
#include <string.h>

#include "util/error.h"

/* ---- decoding: a wrong type is an error naming the record and field ---- */

static int bad(state *st, state__kind kind, const char *field, const char *what)
{
	util_buf where = UTIL_BUF_INIT;
	int error;

	st->be->where(&where, st, kind, NULL);
	error = util_error_set_at(CERTOPS_EINVALID, where.ptr ? where.ptr : "state", 0, 0,
				  field, "expected %s", what);
	util_buf_release(&where);
	return error;
}

/* An integer member (absent: 0). */
static int get_int(int64_t *out, state *st, state__kind kind, json_t *obj,
		   const char *key, const char *field)
{
	json_t *v = json_object_get(obj, key);

	*out = 0;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_integer(v))
		return bad(st, kind, field ? field : key, "an integer");
	*out = json_integer_value(v);
	return 0;
}

static int get_time(time_t *out, state *st, state__kind kind, json_t *obj,
		    const char *key, const char *field)
{
	int64_t v;
	int error = get_int(&v, st, kind, obj, key, field);

	*out = (time_t)v;
	return error;
}

/* A string member, copied; absent, null or "": NULL. */
static int get_str(char **out, state *st, state__kind kind, json_t *obj,
		   const char *key, const char *field)
{
	json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return bad(st, kind, field ? field : key, "a string");
	if (!*json_string_value(v))
		return 0;
	return (*out = strdup(json_string_value(v))) ? 0 : state__oom();
}

/* Loads a one-document record; ENOTFOUND passes through unset. */
static int load(json_t **out, state *st, state__kind kind)
{
	return st->be->get(out, st, kind, NULL, 0);
}

/*
 * Loads a record that maps names to entries, with room for one item of
 * size bytes per entry in *items (NULL when empty).  Absent is 0 with
 * *doc NULL: no entries.
 */
static int load_map(json_t **doc, void **items, size_t size, state *st, state__kind kind)
{
	int error;

	*doc = NULL;
	*items = NULL;
	error = load(doc, st, kind);
	if (error == CERTOPS_ENOTFOUND) {
		util_error_clear();
		return 0;
	}
	if (error < 0)
		return error;
	if (json_object_size(*doc) && !(*items = calloc(json_object_size(*doc), size))) {
		json_decref(*doc);
		*doc = NULL;
		return state__oom();
	}
	return 0;
}

/* ---- retry backoff ---- */

void state_backoff_array_free(state_backoff *items, size_t count)
{
	size_t i;

	for (i = 0; i < count; i++) {
		free(items[i].name);
		free(items[i].last_error);
	}
	free(items);
}

static int backoff_cmp(const void *a, const void *b)
{
	return strcmp(((const state_backoff *)a)->name, ((const state_backoff *)b)->name);
}

int state_backoff_list(state_backoff **out, size_t *count, state *st)
{
	state_backoff *items = NULL;
	json_t *doc = NULL, *e;
	const char *name;
	size_t n = 0;
	int error;

	*out = NULL;
	*count = 0;
	if ((error = load_map(&doc, (void **)&items, sizeof(*items), st, STATE__BACKOFF)) < 0 || !doc)
		return error;
	json_object_foreach(doc, name, e) {
		state_backoff *b = &items[n];
		int64_t failures;

		if (!json_is_object(e)) {
			error = bad(st, STATE__BACKOFF, name, "an object");
			goto done;
		}
		if (!(b->name = strdup(name))) {
			error = state__oom();
			goto done;
		}
		n++;
		if ((error = get_int(&failures, st, STATE__BACKOFF, e, "failures", name)) < 0 ||
		    (error = get_time(&b->next_attempt, st, STATE__BACKOFF, e, "nextAttempt",
				      name)) < 0 ||
		    (error = get_str(&b->last_error, st, STATE__BACKOFF, e, "lastError",
				     name)) < 0)
			goto done;
		if (failures < 0) {
			error = bad(st, STATE__BACKOFF, name, "a failure count of 0 or more");
			goto done;
		}
		b->failures = failures;
	}
	if (n)
		qsort(items, n, sizeof(*items), backoff_cmp);
	*out = items;
	*count = n;
	items = NULL;
	n = 0;
done:
	state_backoff_array_free(items, n);
	json_decref(doc);
	return error;
}

int state_backoff_replace(state *st, const state_backoff *items, size_t count)
{
	json_t *doc = json_object();
	size_t i;
	int error;

	if (!doc)
		return state__oom();
	for (i = 0; i < count; i++) {
		const state_backoff *b = &items[i];

		if ((error = state__name_check(b->name, "certificate")) < 0)
			goto done;
		if (json_object_set_new(doc, b->name,
			json_pack("{s:I, s:I, s:s?}", "failures", (json_int_t)b->failures,
				  "nextAttempt", (json_int_t)b->next_attempt,
				  "lastError", b->last_error)) < 0) {
			error = state__oom();
			goto done;
		}
	}
	error = state__record_put(st, STATE__BACKOFF, NULL, doc);
done:
	json_decref(doc);
	return error;
}

/* ---- the last reconcile cycle ---- */

void state_reconcile_status_clear(state_reconcile_status *s)
{
	size_t i;

	free(s->result);
	free(s->commit);
	free(s->url);
	free(s->ref);
	free(s->message);
	for (i = 0; i < s->ncerts; i++) {
		free(s->certs[i].name);
		free(s->certs[i].result);
		free(s->certs[i].message);
	}
	free(s->certs);
	memset(s, 0, sizeof(*s));
}

static int cert_from_json(state_reconcile_cert *c, state *st, json_t *o, size_t i)
{
	char field[64];
	int error;

	snprintf(field, sizeof(field), "certificates[%zu]", i);
	if (!json_is_object(o))
		return bad(st, STATE__RECONCILE, field, "an object");
	if ((error = get_str(&c->name, st, STATE__RECONCILE, o, "name", field)) < 0 ||
	    (error = get_str(&c->result, st, STATE__RECONCILE, o, "result", field)) < 0 ||
	    (error = get_int(&c->failures, st, STATE__RECONCILE, o, "failures", field)) < 0 ||
	    (error = get_time(&c->next_attempt, st, STATE__RECONCILE, o, "nextAttempt",
			      field)) < 0 ||
	    (error = get_str(&c->message, st, STATE__RECONCILE, o, "message", field)) < 0)
		return error;
	if (!c->name || !c->result)
		return bad(st, STATE__RECONCILE, field, "a name and a result");
	c->expiring = json_is_true(json_object_get(o, "expiring"));
	return 0;
}

int state_reconcile_get(state_reconcile_status *out, state *st)
{
	json_t *doc = NULL, *v, *c;
	size_t i;
	int error;

	memset(out, 0, sizeof(*out));
	if ((error = load(&doc, st, STATE__RECONCILE)) < 0) {
		if (error == CERTOPS_ENOTFOUND)
			error = util_error_set(CERTOPS_ENOTFOUND, "no reconcile cycle recorded");
		return error;
	}
	if ((error = get_int(&out->cycles, st, STATE__RECONCILE, doc, "cycles", NULL)) < 0 ||
	    (error = get_int(&out->failures, st, STATE__RECONCILE, doc, "failures", NULL)) < 0 ||
	    (error = get_int(&out->offline_cycles, st, STATE__RECONCILE, doc,
			     "offlineCycles", NULL)) < 0 ||
	    (error = get_int(&out->notify_failures, st, STATE__RECONCILE, doc,
			     "notifyFailures", NULL)) < 0 ||
	    (error = get_time(&out->last_run, st, STATE__RECONCILE, doc, "lastRun", NULL)) < 0 ||
	    (error = get_time(&out->last_success, st, STATE__RECONCILE, doc, "lastSuccess",
			      NULL)) < 0 ||
	    (error = get_int(&out->problems, st, STATE__RECONCILE, doc, "problems", NULL)) < 0 ||
	    (error = get_str(&out->result, st, STATE__RECONCILE, doc, "result", NULL)) < 0 ||
	    (error = get_str(&out->commit, st, STATE__RECONCILE, doc, "commit", NULL)) < 0 ||
	    (error = get_str(&out->url, st, STATE__RECONCILE, doc, "url", NULL)) < 0 ||
	    (error = get_str(&out->ref, st, STATE__RECONCILE, doc, "ref", NULL)) < 0 ||
	    (error = get_str(&out->message, st, STATE__RECONCILE, doc, "message", NULL)) < 0)
		goto done;
	v = json_object_get(doc, "durationSeconds");
	if (v && !json_is_number(v)) {
		error = bad(st, STATE__RECONCILE, "durationSeconds", "a number");
		goto done;
	}
	out->duration = json_number_value(v);
	out->offline = json_is_true(json_object_get(doc, "offline"));
	v = json_object_get(doc, "certificates");
	if (v && !json_is_array(v)) {
		error = bad(st, STATE__RECONCILE, "certificates", "an array");
		goto done;
	}
	if (v) {
		out->has_certs = 1;
		if (json_array_size(v) &&
		    !(out->certs = calloc(json_array_size(v), sizeof(*out->certs)))) {
			error = state__oom();
			goto done;
		}
		json_array_foreach(v, i, c) {
			out->ncerts++;
			if ((error = cert_from_json(&out->certs[i], st, c, i)) < 0)
				goto done;
		}
	}
done:
	if (error < 0)
		state_reconcile_status_clear(out);
	json_decref(doc);
	return error;
}

int state_reconcile_put(state *st, const state_reconcile_status *s)
{
	json_t *doc, *certs = NULL;
	size_t i;
	int error;

	doc = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:f, s:s, s:b, s:I, s:s?, s:s?, s:s?, s:s?}",
			"cycles", (json_int_t)s->cycles, "failures", (json_int_t)s->failures,
			"offlineCycles", (json_int_t)s->offline_cycles,
			"notifyFailures", (json_int_t)s->notify_failures,
			"lastRun", (json_int_t)s->last_run,
			"lastSuccess", (json_int_t)s->last_success,
			"durationSeconds", s->duration, "result", s->result ? s->result : "ok",
			"offline", s->offline, "problems", (json_int_t)s->problems,
			"commit", s->commit, "url", s->url, "ref", s->ref,
			"message", s->message);
	if (!doc)
		return state__oom();
	if (s->has_certs) {
		if (!(certs = json_array()) || json_object_set_new(doc, "certificates", certs) < 0) {
			error = state__oom();
			goto done;
		}
		for (i = 0; i < s->ncerts; i++) {
			const state_reconcile_cert *c = &s->certs[i];

			if (!c->name || !c->result) {
				error = util_error_set(CERTOPS_EINVALID,
					"a reconcile certificate result needs a name and a result");
				goto done;
			}
			if (json_array_append_new(certs, json_pack("{s:s, s:s, s:I, s:I, s:s?, s:b}",
				"name", c->name, "result", c->result,
				"failures", (json_int_t)c->failures,
				"nextAttempt", (json_int_t)c->next_attempt,
				"message", c->message, "expiring", c->expiring)) < 0) {
				error = state__oom();
				goto done;
			}
		}
	}
	error = state__record_put(st, STATE__RECONCILE, NULL, doc);
done:
	json_decref(doc);
	return error;
}

/* ---- notification memory ---- */

void state_notified_array_free(state_notified *items, size_t count)
{
	size_t i;

	for (i = 0; i < count; i++) {
		free(items[i].subject);
		free(items[i].status);
	}
	free(items);
}

static int notified_cmp(const void *a, const void *b)
{
	return strcmp(((const state_notified *)a)->subject,
		      ((const state_notified *)b)->subject);
}

int state_notified_list(state_notified **out, size_t *count, state *st)
{
	state_notified *items = NULL;
	json_t *doc = NULL, *v;
	const char *subject;
	size_t n = 0;
	int error;

	*out = NULL;
	*count = 0;
	if ((error = load_map(&doc, (void **)&items, sizeof(*items), st, STATE__NOTIFIED)) < 0 || !doc)
		return error;
	json_object_foreach(doc, subject, v) {
		if (!json_is_string(v)) {
			error = bad(st, STATE__NOTIFIED, subject, "a status name");
			goto done;
		}
		if (!(items[n].subject = strdup(subject)) ||
		    !(items[n].status = strdup(json_string_value(v)))) {
			n++;
			error = state__oom();
			goto done;
		}
		n++;
	}
	if (n)
		qsort(items, n, sizeof(*items), notified_cmp);
	*out = items;
	*count = n;
	items = NULL;
	n = 0;
done:
	state_notified_array_free(items, n);
	json_decref(doc);
	return error;
}

/* Serialises the read-modify-write of the notification document. */
#define NOTIFIED_LOCK "\001notified"

int state_notified_put(state *st, const char *subject, const char *status)
{
	json_t *doc = NULL;
	const char *prev;
	int error;

	if (!subject || !*subject || !status || !*status)
		return util_error_set(CERTOPS_EINVALID, "a notification needs a subject and a status");
	state__name_lock(st, NOTIFIED_LOCK);
	error = load(&doc, st, STATE__NOTIFIED);
	if (error == CERTOPS_ENOTFOUND) {
		util_error_clear();
		error = (doc = json_object()) ? 0 : state__oom();
	}
	if (error < 0)
		goto done;
	prev = json_string_value(json_object_get(doc, subject));
	if (prev && !strcmp(prev, status))
		goto done; /* nothing changes: no write, no serial change */
	if (json_object_set_new(doc, subject, json_string(status)) < 0) {
		error = state__oom();
		goto done;
	}
	error = state__record_put(st, STATE__NOTIFIED, NULL, doc);
done:
	state__name_unlock(st, NOTIFIED_LOCK);
	json_decref(doc);
	return error;
}

/* ---- the source ---- */

int state_applied_commit_get(char out[41], state *st)
{
	json_t *doc = NULL;
	const char *c;
	int error;

	out[0] = '\0';
	if ((error = load(&doc, st, STATE__APPLIED)) < 0)
		return error;
	c = json_string_value(json_object_get(doc, "commit"));
	if (!c || strlen(c) != 40 || strspn(c, "0123456789abcdef") != 40)
		error = bad(st, STATE__APPLIED, "commit", "a full commit id");
	else
		memcpy(out, c, 41);
	json_decref(doc);
	return error;
}

int state_applied_commit_put(state *st, const char *commit)
{
	json_t *doc;
	int error;

	if (!commit || strlen(commit) != 40 || strspn(commit, "0123456789abcdef") != 40)
		return util_error_set(CERTOPS_EINVALID, "'%s' is not a full commit id",
				      commit ? commit : "");
	if (!(doc = json_pack("{s:s}", "commit", commit)))
		return state__oom();
	error = state__record_put(st, STATE__APPLIED, NULL, doc);
	json_decref(doc);
	return error;
}

int state_cache_dir(util_buf *out, state *st, const char *name)
{
	return st->be->cache_dir(out, st, name);
}
