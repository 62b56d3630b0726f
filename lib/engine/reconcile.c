/* One reconcile cycle: see reconcile.h. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/internal.h"
#include "engine/reconcile.h"
#include "engine/reconcile_internal.h"
#include "util/duration.h"
#include "util/error.h"
#include "util/log.h"

struct engine_reconciler {
	engine_reconcile_options o;
	state *st;
	notify *n;
	state_reconcile_status status; /* counters across cycles */
	engine *e;                     /* the last cycle's load */
	engine_cycle_report rep;
};

const char *engine_cert_state_name(engine_cert_state s)
{
	return s == ENGINE_CERT_FAILED ? "failed" : s == ENGINE_CERT_BACKOFF ? "backoff" : "ok";
}

static time_t now_of(const engine_reconciler *r)
{
	return r->o.clock ? r->o.clock(r->o.clock_data) : time(NULL);
}

int64_t engine__backoff_delay(int64_t base, int64_t n)
{
	int64_t cap = base > ENGINE_BACKOFF_MAX ? base : ENGINE_BACKOFF_MAX;
	int64_t d = base;

	while (--n > 0 && d < cap)
		d *= 2;
	return d < cap ? d : cap;
}

static void report_release(engine_cycle_report *rep)
{
	size_t i;

	for (i = 0; i < rep->ncerts; i++) {
		free(rep->certs[i].name);
		free(rep->certs[i].message);
	}
	free(rep->certs);
	for (i = 0; i < rep->ngone; i++)
		free(rep->gone[i]);
	free(rep->gone);
	memset(rep, 0, sizeof(*rep));
}

int engine_reconciler_new(engine_reconciler **out, const engine_reconcile_options *o)
{
	engine_reconciler *r;
	util_buf dir = UTIL_BUF_INIT;
	notify_opts no;
	int error;

	*out = NULL;
	if (!(r = calloc(1, sizeof(*r))))
		return util_error_oom();
	r->o = *o;
	r->o.load.st = NULL;
	if ((error = state_default_dir(&dir, o->load.state_dir)) < 0 ||
	    (error = state_open(&r->st, dir.ptr, 0)) < 0) {
		util_error_wrap("opening the state directory");
		goto fail;
	}
	no = o->notify;
	no.st = r->st;
	if ((error = notify_open(&r->n, &no)) < 0) {
		util_error_wrap("loading the notification state");
		goto fail;
	}
	error = state_reconcile_get(&r->status, r->st);
	if (error == CERTOPS_ENOTFOUND)
		util_error_clear();
	else if (error < 0)
		util_log_warn("reconcile", "the last cycle's status is unreadable (%s); "
			      "counting from zero", util_error_message());
	util_buf_release(&dir);
	*out = r;
	return 0;
fail:
	util_buf_release(&dir);
	engine_reconciler_free(r);
	return error;
}

void engine_reconciler_free(engine_reconciler *r)
{
	if (!r)
		return;
	report_release(&r->rep);
	engine_free(r->e);
	notify_free(r->n);
	state_reconcile_status_clear(&r->status);
	state_free(r->st);
	free(r);
}

void engine_reconciler_reload(engine_reconciler *r)
{
	/* Forget the secrets of the old policy, so that nothing stale is
	 * redacted forever; the next cycle reads the policy afresh. */
	util_secret_clear();
	engine_free(r->e);
	r->e = NULL;
	r->rep.e = NULL;
}

/* ---- the retry backoff ---- */

static engine_cert_result *find_cert(engine_cycle_report *rep, const char *name)
{
	size_t i;

	for (i = 0; i < rep->ncerts; i++)
		if (!strcmp(rep->certs[i].name, name))
			return &rep->certs[i];
	return NULL;
}

/* One entry per declared certificate, with the backoff recorded. */
static int results_init(engine_cycle_report *rep, const config_set *set, state *st,
			time_t now)
{
	state_backoff *bo = NULL;
	size_t nbo = 0, i, j;
	int error;

	if ((error = state_backoff_list(&bo, &nbo, st)) < 0) {
		/* unreadable: no certificate is held back, which is the safe
		 * side (it only costs one more attempt) */
		util_log_warn("reconcile", "the retry backoff is unreadable: %s",
			      util_error_message());
		util_error_clear();
		bo = NULL;
		nbo = 0;
	}
	error = 0;
	if (!(rep->certs = calloc(set->ncertificates + 1, sizeof(*rep->certs))) ||
	    !(rep->gone = calloc(nbo + 1, sizeof(*rep->gone)))) {
		error = util_error_oom();
		goto done;
	}
	for (i = 0; i < set->ncertificates; i++) {
		engine_cert_result *c = &rep->certs[rep->ncerts];

		if (!(c->name = strdup(set->certificates[i]->name))) {
			error = util_error_oom();
			goto done;
		}
		rep->ncerts++;
		for (j = 0; j < nbo && strcmp(bo[j].name, c->name); j++)
			;
		if (j == nbo)
			continue;
		c->failures = bo[j].failures;
		c->next_attempt = bo[j].next_attempt;
		if (bo[j].last_error && !(c->message = strdup(bo[j].last_error))) {
			error = util_error_oom();
			goto done;
		}
		if (c->failures > 0 && c->next_attempt > now) {
			util_buf when = UTIL_BUF_INIT;

			c->state = ENGINE_CERT_BACKOFF;
			rep->n_backoff++;
			util_time_format(&when, c->next_attempt);
			util_log_warn("reconcile", "certificate '%s': %lld failure%s in a row; "
				      "next attempt at %s", c->name, (long long)c->failures,
				      c->failures == 1 ? "" : "s", when.ptr);
			util_buf_release(&when);
		}
	}
	for (j = 0; j < nbo; j++) {
		if (find_cert(rep, bo[j].name))
			continue;
		if (!(rep->gone[rep->ngone] = strdup(bo[j].name))) {
			error = util_error_oom();
			goto done;
		}
		rep->ngone++;
	}
done:
	state_backoff_array_free(bo, nbo);
	return error;
}

static int keep_action(const plan_action *a, void *data)
{
	engine_cycle_report *rep = data;
	const engine_cert_result *c;

	if (!a->certificate)
		return 1; /* accounts: shared, never held back */
	c = find_cert(rep, a->certificate);
	return !c || c->state != ENGINE_CERT_BACKOFF;
}

/* Marks the certificates whose actions failed or were skipped. */
static int results_from_apply(engine_cycle_report *rep, const plan *p,
			      const apply_report *ar, int64_t base, time_t now)
{
	size_t i;

	rep->n_done = ar->n_done;
	for (i = 0; i < ar->count; i++) {
		const apply_outcome *oc = &ar->outcomes[i];
		const plan_action *a = plan_find(p, oc->id);
		engine_cert_result *c;

		if (oc->ok > 0 || !a || !a->certificate ||
		    !(c = find_cert(rep, a->certificate)) || c->state == ENGINE_CERT_FAILED)
			continue;
		c->state = ENGINE_CERT_FAILED;
		free(c->message);
		c->message = NULL;
		if (oc->message && !(c->message = strdup(oc->message)))
			return util_error_oom();
	}
	for (i = 0; i < rep->ncerts; i++) {
		engine_cert_result *c = &rep->certs[i];

		if (c->state == ENGINE_CERT_FAILED) {
			c->failures++;
			c->next_attempt = now + (time_t)engine__backoff_delay(base, c->failures);
			rep->n_failed++;
		} else if (c->state == ENGINE_CERT_OK) {
			c->failures = 0;
			c->next_attempt = 0;
			free(c->message);
			c->message = NULL;
		}
	}
	return 0;
}

static int backoff_save(state *st, const engine_cycle_report *rep)
{
	state_backoff *items = calloc(rep->ncerts + 1, sizeof(*items));
	size_t i, n = 0;
	int error;

	if (!items)
		return util_error_oom();
	for (i = 0; i < rep->ncerts; i++) {
		const engine_cert_result *c = &rep->certs[i];

		if (c->state == ENGINE_CERT_OK)
			continue;
		/* borrowed: the array is freed, not its strings */
		items[n].name = c->name;
		items[n].failures = c->failures;
		items[n].next_attempt = c->next_attempt;
		items[n].last_error = c->message;
		n++;
	}
	error = state_backoff_replace(st, items, n);
	free(items);
	return error;
}

/* ---- recording ---- */

static int set_str(char **dst, const char *s)
{
	free(*dst);
	*dst = NULL;
	if (s && !(*dst = strdup(s)))
		return util_error_oom();
	return 0;
}

/* The cycle's per-certificate results into the status record. */
static int status_certs(state_reconcile_status *s, const engine_cycle_report *rep,
			const engine_notice_input *in)
{
	size_t i, j;

	for (i = 0; i < s->ncerts; i++) {
		free(s->certs[i].name);
		free(s->certs[i].result);
		free(s->certs[i].message);
	}
	free(s->certs);
	s->certs = NULL;
	s->ncerts = 0;
	s->has_certs = rep->ran;
	if (!rep->ran)
		return 0;
	if (!(s->certs = calloc(rep->ncerts + 1, sizeof(*s->certs))))
		return util_error_oom();
	for (i = 0; i < rep->ncerts; i++) {
		const engine_cert_result *c = &rep->certs[i];
		state_reconcile_cert *sc = &s->certs[s->ncerts++];

		if (set_str(&sc->name, c->name) < 0 ||
		    set_str(&sc->result, engine_cert_state_name(c->state)) < 0 ||
		    set_str(&sc->message, c->message) < 0)
			return CERTOPS_ENOMEM;
		sc->failures = c->failures;
		sc->next_attempt = c->next_attempt;
		for (j = 0; j < in->nstored; j++)
			if (!strcmp(in->stored[j].name, c->name))
				sc->expiring = in->stored[j].alerting;
	}
	return 0;
}

/* The current version of every certificate in the store. */
static int stored_load(engine_stored_cert **out, size_t *count, state *st)
{
	char **names = NULL;
	size_t n = 0, i;
	state_cert *c;
	int error;

	*out = NULL;
	*count = 0;
	if ((error = state_cert_names(&names, &n, st)) < 0)
		return error;
	if (!(*out = calloc(n + 1, sizeof(**out)))) {
		error = util_error_oom();
		goto done;
	}
	for (i = 0; i < n; i++) {
		if (state_cert_current(&c, st, names[i], 0) < 0)
			continue; /* no current version: nothing can expire */
		(*out)[*count].name = names[i];
		names[i] = NULL;
		(*out)[*count].not_before = c->meta.not_before;
		(*out)[*count].not_after = c->meta.not_after;
		(*count)++;
		state_cert_free(c);
	}
	util_error_clear();
done:
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return error;
}

static void stored_free(engine_stored_cert *c, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(c[i].name);
	free(c);
}

static void send(engine_reconciler *r, const char *subject, notify_status status,
		 const char *msg)
{
	if (notify_update(r->n, subject, status, msg, r->status.commit) < 0) {
		r->status.notify_failures++;
		util_log_error("reconcile", "notifying: %s", util_error_message());
	}
}

/* Notifications and the status record, at the end of every cycle. */
static int record(engine_reconciler *r, const struct timespec *t0, const char *message)
{
	state_reconcile_status *s = &r->status;
	engine_cycle_report *rep = &r->rep;
	engine_notice_input in;
	engine_notice *notices = NULL;
	size_t nnotices = 0, i;
	struct timespec t1;
	int error, failed = rep->result != ENGINE_CYCLE_OK;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	s->duration = (double)(t1.tv_sec - t0->tv_sec) +
		      (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
	s->cycles++;
	s->last_run = now_of(r);
	if (failed)
		s->failures++;
	else
		s->last_success = s->last_run;
	if (set_str(&s->message, message) < 0)
		return CERTOPS_ENOMEM;

	/* the cycle as a whole fails only when the engine could not run; a
	 * failing certificate is notified on its own subject */
	send(r, "reconcile", failed && !rep->ran ? NOTIFY_FAILING : NOTIFY_OK,
	     message ? message : "reconcile succeeded");

	memset(&in, 0, sizeof(in));
	if (stored_load(&in.stored, &in.nstored, r->st) < 0) {
		util_log_error("reconcile", "reading the certificates in the state store: %s",
			       util_error_message());
		util_error_clear();
	}
	in.rep = rep;
	in.plan_only = r->o.plan_only;
	in.cycle_message = message;
	in.now = s->last_run;
	if ((error = engine__notices(&notices, &nnotices, &in)) < 0)
		goto done;
	for (i = 0; i < nnotices; i++) {
		if (notices[i].status == NOTIFY_EXPIRING)
			util_log_error("reconcile", "%s", notices[i].message);
		send(r, notices[i].subject, notices[i].status, notices[i].message);
	}
	if ((error = status_certs(s, rep, &in)) < 0)
		goto done;
	if ((error = state_reconcile_put(r->st, s)) < 0)
		util_error_wrap("recording the reconcile status");
	rep->status = s;
done:
	engine__notices_free(notices, nnotices);
	stored_free(in.stored, in.nstored);
	return error;
}

/* "<commit>: <message>" of the thread's last error. */
static char *failure_message(const engine *e)
{
	util_buf b = UTIL_BUF_INIT;
	const char *commit = e && e->src ? e->src->commit : "";

	util_buf_printf(&b, "%s%s%s", commit, *commit ? ": " : "", util_error_message());
	return util_buf_detach(&b);
}

int engine_reconcile_cycle(const engine_cycle_report **out, engine_reconciler *r,
			   const engine_events *ev)
{
	engine_cycle_report *rep = &r->rep;
	state_reconcile_status *s = &r->status;
	engine_apply_options ao;
	engine_apply_result res;
	engine_options lo = r->o.load;
	struct timespec t0;
	util_buf msg = UTIL_BUF_INIT;
	char *message = NULL;
	const char *where;
	int error;
	time_t now;

	*out = rep;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	memset(&res, 0, sizeof(res));
	report_release(rep);
	engine_free(r->e);
	r->e = NULL;
	util_error_clear();
	s->offline = 0;
	s->problems = 0;
	now = now_of(r);

	lo.st = r->st;
	error = engine_new(&r->e, &lo);
	if (error == 0)
		error = engine_load(r->e, ev);
	rep->e = r->e;
	if (error < 0) {
		rep->error = error;
		if (error == CERTOPS_EUSAGE) {
			rep->result = ENGINE_CYCLE_USAGE;
			return 0;
		}
		rep->result = error == CERTOPS_EINVALID ? ENGINE_CYCLE_INVALID : ENGINE_CYCLE_ERROR;
		if (r->e)
			s->problems = (int64_t)r->e->diags.count;
	}
	if (r->e && !r->e->src && r->e->dir) {
		/* a plain directory: it is the source */
		if (set_str(&s->url, r->e->dir) < 0 || set_str(&s->ref, NULL) < 0 ||
		    set_str(&s->commit, NULL) < 0) {
			error = CERTOPS_ENOMEM;
			goto done;
		}
	} else if (r->e && r->e->src) {
		const source_result *src = r->e->src;

		if (set_str(&s->url, src->url ? src->url : src->dir) < 0 ||
		    set_str(&s->ref, src->ref) < 0 ||
		    set_str(&s->commit, *src->commit ? src->commit : NULL) < 0) {
			error = CERTOPS_ENOMEM;
			goto done;
		}
		s->offline = src->offline;
		if (src->offline)
			s->offline_cycles++;
	}
	if (error < 0) {
		message = failure_message(r->e);
		goto record;
	}
	if (ev && ev->loaded)
		ev->loaded(ev->data, r->e);

	if ((error = results_init(rep, r->e->set, r->st, now)) < 0)
		goto done;
	memset(&ao, 0, sizeof(ao));
	ao.plan.now = now;
	ao.parallel = r->o.parallel;
	/* One round: a second one would plan the certificates in backoff
	 * again; what did not converge waits for a cycle. */
	ao.max_rounds = 1;
	ao.lock_timeout = r->o.lock_timeout;
	ao.command = "reconcile";
	ao.keep = rep->n_backoff ? keep_action : NULL;
	ao.keep_data = rep;
	ao.plan_only = r->o.plan_only;
	/* The commit is recorded even when some certificates failed: the
	 * others are deployed from it, so going back to an older commit
	 * would be a rollback. */
	ao.record_partial = 1;
	if ((error = engine_apply(&res, r->e, &ao, ev)) < 0) {
		rep->error = error;
		rep->result = ENGINE_CYCLE_ERROR;
		message = failure_message(r->e);
		goto record;
	}
	if (r->o.plan_only) {
		rep->result = ENGINE_CYCLE_OK;
		goto record;
	}
	rep->ran = 1;
	if ((error = results_from_apply(rep, res.plan, &res.report,
					r->o.backoff_base > 0 ? r->o.backoff_base :
					ENGINE_BACKOFF_DEFAULT, now)) < 0)
		goto done;
	if ((error = backoff_save(r->st, rep)) < 0) {
		util_error_wrap("recording the retry backoff");
		goto done;
	}
	if (rep->n_failed || rep->n_backoff) {
		where = s->commit ? s->commit : r->e->dir;
		rep->result = ENGINE_CYCLE_PARTIAL;
		util_buf_printf(&msg, "%zu certificate%s failing at %s",
				rep->n_failed + rep->n_backoff,
				rep->n_failed + rep->n_backoff == 1 ? "" : "s", where);
		if (!(message = util_buf_detach(&msg))) {
			error = util_error_oom();
			goto done;
		}
	} else {
		rep->result = ENGINE_CYCLE_OK;
	}
record:
	error = 0;
	if (set_str(&s->result, rep->result == ENGINE_CYCLE_OK ? "ok" :
		    rep->result == ENGINE_CYCLE_PARTIAL ? "partial" :
		    rep->result == ENGINE_CYCLE_INVALID ? "invalid" : "error") < 0) {
		error = CERTOPS_ENOMEM;
		goto done;
	}
	error = record(r, &t0, message);
	if (error == 0 && r->o.metrics_file &&
	    engine__write_metrics(r->o.metrics_file, r->e, s, now_of(r)) < 0)
		util_log_error("reconcile", "writing the metrics file: %s", util_error_message());
done:
	engine_apply_result_release(&res);
	util_buf_release(&msg);
	free(message);
	return error;
}
