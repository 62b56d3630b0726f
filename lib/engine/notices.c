/* The notification decisions of a reconcile cycle: a pure function. */
#include <stdlib.h>
#include <string.h>

#include "engine/reconcile_internal.h"
#include "util/buf.h"
#include "util/duration.h"
#include "util/error.h"

typedef struct {
	engine_notice *items;
	size_t count;
	int error;
} notices;

static void add(notices *ns, const char *name, notify_status status, util_buf *msg)
{
	engine_notice *n;
	util_buf subject = UTIL_BUF_INIT;

	if (ns->error)
		return;
	n = realloc(ns->items, (ns->count + 1) * sizeof(*n));
	if (!n) {
		ns->error = util_error_oom();
		return;
	}
	ns->items = n;
	n = &ns->items[ns->count];
	util_buf_printf(&subject, "certificate/%s", name);
	n->subject = util_buf_detach(&subject);
	n->message = util_buf_detach(msg);
	n->status = status;
	if (!n->subject || !n->message) {
		free(n->subject);
		free(n->message);
		ns->error = util_error_oom();
		return;
	}
	ns->count++;
}

static void add_text(notices *ns, const char *name, notify_status status, const char *text)
{
	util_buf msg = UTIL_BUF_INIT;

	util_buf_puts(&msg, text);
	add(ns, name, status, &msg);
	util_buf_release(&msg);
}

static const engine_cert_result *result_of(const engine_cycle_report *rep, const char *name)
{
	size_t i;

	for (i = 0; i < rep->ncerts; i++)
		if (!strcmp(rep->certs[i].name, name))
			return &rep->certs[i];
	return NULL;
}

int engine__notices(engine_notice **out, size_t *count, engine_notice_input *in)
{
	const engine_cycle_report *rep = in->rep;
	notices ns = { NULL, 0, 0 };
	util_buf msg = UTIL_BUF_INIT;
	const engine_cert_result *r;
	size_t i, j;

	for (i = 0; i < in->nstored; i++) {
		engine_stored_cert *c = &in->stored[i];

		r = rep->ran ? result_of(rep, c->name) : NULL;
		c->alerting = (!rep->ran || (r && r->state != ENGINE_CERT_OK)) &&
			      notify_expiring(c->not_before, c->not_after, in->now, 0);
		if (!c->alerting) {
			if (in->plan_only)
				add_text(&ns, c->name, NOTIFY_OK, "no longer close to expiry");
			else if (rep->ran && !r) /* no longer declared */
				add_text(&ns, c->name, NOTIFY_OK, "no longer declared");
			continue;
		}
		util_buf_clear(&msg);
		util_buf_printf(&msg, "certificate '%s' expires in %lld hours and is "
				"not being renewed", c->name,
				(long long)(c->not_after - in->now) / 3600);
		if (r && r->message)
			util_buf_printf(&msg, ": %s", r->message);
		else if (in->cycle_message)
			util_buf_printf(&msg, ": %s", in->cycle_message);
		add(&ns, c->name, NOTIFY_EXPIRING, &msg);
	}
	for (i = 0; rep->ran && i < rep->ngone; i++)
		add_text(&ns, rep->gone[i], NOTIFY_OK, "no longer declared");
	for (i = 0; rep->ran && i < rep->ncerts; i++) {
		int alerting = 0;

		r = &rep->certs[i];
		for (j = 0; j < in->nstored; j++)
			if (!strcmp(in->stored[j].name, r->name))
				alerting = in->stored[j].alerting;
		if (alerting)
			continue; /* sent above */
		util_buf_clear(&msg);
		if (r->state == ENGINE_CERT_OK) {
			util_buf_printf(&msg, "certificate '%s' converged", r->name);
		} else {
			util_buf_printf(&msg, "certificate '%s' failed %lld time%s in a row",
					r->name, (long long)r->failures,
					r->failures == 1 ? "" : "s");
			if (r->message)
				util_buf_printf(&msg, ": %s", r->message);
			if (r->next_attempt) {
				util_buf_puts(&msg, "; next attempt at ");
				util_time_format(&msg, r->next_attempt);
			}
		}
		add(&ns, r->name, r->state == ENGINE_CERT_OK ? NOTIFY_OK : NOTIFY_FAILING, &msg);
	}
	util_buf_release(&msg);
	if (ns.error) {
		engine__notices_free(ns.items, ns.count);
		*out = NULL;
		*count = 0;
		return ns.error;
	}
	*out = ns.items;
	*count = ns.count;
	return 0;
}

void engine__notices_free(engine_notice *n, size_t count)
{
	size_t i;

	for (i = 0; i < count; i++) {
		free(n[i].subject);
		free(n[i].message);
	}
	free(n);
}
