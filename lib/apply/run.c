/*
 * The executor: a plan's actions on a bounded pool of worker threads in
 * dependency order, then observe and plan again until nothing is left.
 *
 * Each action id runs at most once per apply: an action that failed is not
 * retried in a later round (its dependents are skipped), and one still
 * planned after it succeeded is reported as not converging instead of
 * being run in a loop.  So a round that has nothing new to run ends the
 * apply, and the bound on rounds is only a backstop.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apply_internal.h"
#include "observe/observe.h"
#include "util/error.h"
#include "util/log.h"

enum { ST_WAIT = 0, ST_RUNNING, ST_DONE, ST_FAILED, ST_SKIPPED };

typedef struct {
	apply_ctx *ctx;
	const plan *p;
	apply_report *report;
	unsigned round;
	int *status;
	size_t **deps;
	size_t *ndeps;
	size_t remaining;
	int error; /* out of memory while recording */
	pthread_mutex_t lock;
	pthread_cond_t cond;
} sched;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int apply_action(apply_ctx *ctx, const plan_action *a)
{
	switch (a->kind) {
	case PLAN_ACTION_REGISTER_ACCOUNT:
		if (!a->issuer_cfg)
			break;
		return apply_account(ctx, a->issuer_cfg, NULL);
	case PLAN_ACTION_ISSUE:
		if (!a->cert_cfg)
			break;
		return apply_issue(ctx, a->cert_cfg, NULL);
	case PLAN_ACTION_DEPLOY:
	case PLAN_ACTION_RUN_HOOK:
		/* hooks are exec targets: deployed through their table */
		if (!a->cert_cfg || !a->target_cfg)
			break;
		return apply_deploy(ctx, a->cert_cfg, a->target_cfg);
	case PLAN_ACTION_VERIFY:
		if (!a->cert_cfg || a->index < 0)
			break;
		return apply_verify(ctx, a->cert_cfg, (size_t)a->index);
	case PLAN_ACTION_ORPHAN:
		if (a->prune && a->target && !a->cert_cfg)
			return state_deploy_delete(ctx->opts.st, a->target);
		if (a->prune && a->certificate)
			return state_cert_delete(ctx->opts.st, a->certificate);
		return 0;
	default:
		break;
	}
	return util_error_set(CERTOPS_EINVALID, "%s: action is not resolved against the declarations",
			      a->id);
}

/* The outcome of id in this apply, or NULL. */
static const apply_outcome *history(const apply_report *r, const char *id)
{
	size_t i;

	for (i = r->count; i-- > 0;)
		if (!strcmp(r->outcomes[i].id, id))
			return &r->outcomes[i];
	return NULL;
}

/* An action that changes nothing: a kept orphan. */
static int inert(const plan_action *a)
{
	return a->kind == PLAN_ACTION_ORPHAN && !a->prune;
}

static int record(sched *s, const plan_action *a, int ok, const char *msg, double elapsed)
{
	apply_report *r = s->report;
	apply_outcome *o = realloc(r->outcomes, (r->count + 1) * sizeof(*o));

	if (!o)
		return CERTOPS_ENOMEM;
	r->outcomes = o;
	o = &o[r->count];
	memset(o, 0, sizeof(*o));
	o->ok = ok;
	o->elapsed = elapsed;
	o->round = s->round;
	if (!(o->id = strdup(a->id)) || (msg && !(o->message = strdup(msg)))) {
		free(o->id);
		return CERTOPS_ENOMEM;
	}
	r->count++;
	if (ok > 0)
		r->n_done++;
	else if (ok == 0)
		r->n_failed++;
	else
		r->n_skipped++;
	return 0;
}

static void emit(sched *s, apply_event_kind kind, const plan_action *a, double elapsed,
		 const char *msg)
{
	apply_event ev = { kind, a, s->round, elapsed, msg };

	apply__emit(s->ctx, &ev);
}

/* Next runnable action (lock held); skips what depends on a failure. */
static long pick(sched *s)
{
	size_t i, k;

	for (i = 0; i < s->p->count; i++) {
		int ready = 1, failed = 0;

		if (s->status[i] != ST_WAIT)
			continue;
		for (k = 0; k < s->ndeps[i]; k++) {
			int d = s->status[s->deps[i][k]];
			if (d == ST_FAILED || d == ST_SKIPPED)
				failed = 1;
			else if (d != ST_DONE)
				ready = 0;
		}
		if (failed) {
			const plan_action *a = &s->p->actions[i];
			s->status[i] = ST_SKIPPED;
			s->remaining--;
			if (record(s, a, -1, "an action it depends on failed", 0) < 0)
				s->error = CERTOPS_ENOMEM;
			emit(s, APPLY_EVENT_SKIPPED, a, 0, "an action it depends on failed");
			pthread_cond_broadcast(&s->cond);
			i = (size_t)-1; /* rescan: its dependents may come earlier */
			continue;
		}
		if (ready)
			return (long)i;
	}
	return -1;
}

static void *worker(void *data)
{
	sched *s = data;
	long i;

	pthread_mutex_lock(&s->lock);
	while (s->remaining) {
		const plan_action *a;
		double t0, dt;
		int error;
		char *msg = NULL;

		if ((i = pick(s)) < 0) {
			if (s->remaining)
				pthread_cond_wait(&s->cond, &s->lock);
			continue;
		}
		a = &s->p->actions[i];
		s->status[i] = ST_RUNNING;
		pthread_mutex_unlock(&s->lock);

		emit(s, APPLY_EVENT_START, a, 0, NULL);
		t0 = now_s();
		error = apply_action(s->ctx, a);
		dt = now_s() - t0;
		if (error < 0)
			msg = strdup(util_error_message());
		emit(s, error < 0 ? APPLY_EVENT_FAILED : APPLY_EVENT_DONE, a, dt,
		     error < 0 ? (msg ? msg : "failed") : NULL);

		pthread_mutex_lock(&s->lock);
		s->status[i] = error < 0 ? ST_FAILED : ST_DONE;
		s->remaining--;
		if (record(s, a, error < 0 ? 0 : 1, msg, dt) < 0)
			s->error = CERTOPS_ENOMEM;
		free(msg);
		pthread_cond_broadcast(&s->cond);
	}
	pthread_mutex_unlock(&s->lock);
	/* this thread's error and problem records die with it */
	util_error_clear();
	acme_problem_clear();
	return NULL;
}

/* Runs the actions of p not run before in this apply; *ran: how many ran. */
static int execute(apply_ctx *ctx, apply_report *report, const plan *p, unsigned round,
		   size_t *ran)
{
	sched s;
	pthread_t threads[APPLY_PARALLEL_MAX];
	size_t i, k, nthreads = 0, todo = 0;
	int error = 0;

	*ran = 0;
	memset(&s, 0, sizeof(s));
	s.ctx = ctx;
	s.p = p;
	s.report = report;
	s.round = round;
	if (!p->count)
		return 0;
	if (!(s.status = calloc(p->count, sizeof(*s.status))) ||
	    !(s.deps = calloc(p->count, sizeof(*s.deps))) ||
	    !(s.ndeps = calloc(p->count, sizeof(*s.ndeps)))) {
		error = util_error_oom();
		goto done;
	}
	for (i = 0; i < p->count; i++) {
		const plan_action *a = &p->actions[i];
		const apply_outcome *h = history(report, a->id);

		/* earlier rounds' results stand: done is done, failed stays failed */
		if (inert(a) || (h && h->ok > 0))
			s.status[i] = ST_DONE;
		else if (h)
			s.status[i] = ST_FAILED;
		else
			todo++;
		if (a->ndepends && !(s.deps[i] = calloc(a->ndepends, sizeof(size_t)))) {
			error = util_error_oom();
			goto done;
		}
		for (k = 0; k < a->ndepends; k++) {
			const plan_action *d = plan_find(p, a->depends_on[k]);
			if (d)
				s.deps[i][s.ndeps[i]++] = (size_t)(d - p->actions);
		}
	}
	if (!todo)
		goto done;
	s.remaining = todo;
	pthread_mutex_init(&s.lock, NULL);
	pthread_cond_init(&s.cond, NULL);
	nthreads = ctx->opts.parallel < todo ? ctx->opts.parallel : todo;
	for (i = 0; i < nthreads; i++)
		if (pthread_create(&threads[i], NULL, worker, &s) != 0)
			break;
	if (i == 0)
		worker(&s); /* no thread could start: run inline */
	nthreads = i;
	for (i = 0; i < nthreads; i++)
		pthread_join(threads[i], NULL);
	pthread_cond_destroy(&s.cond);
	pthread_mutex_destroy(&s.lock);
	*ran = todo;
	if (s.error)
		error = util_error_oom();
done:
	for (i = 0; s.deps && i < p->count; i++)
		free(s.deps[i]);
	free(s.deps);
	free(s.ndeps);
	free(s.status);
	return error;
}

/* Records id as not converged, for why (taken). */
static int push_pending(apply_report *r, const char *id, util_buf *why)
{
	char **ids, **whys;

	if (!(ids = realloc(r->pending_ids, (r->npending + 1) * sizeof(char *))))
		return util_error_oom();
	r->pending_ids = ids;
	if (!(whys = realloc(r->pending_why, (r->npending + 1) * sizeof(char *))))
		return util_error_oom();
	r->pending_why = whys;
	r->pending_ids[r->npending] = strdup(id);
	r->pending_why[r->npending] = util_buf_detach(why);
	if (!r->pending_ids[r->npending] || !r->pending_why[r->npending]) {
		free(r->pending_ids[r->npending]);
		free(r->pending_why[r->npending]);
		return util_error_oom();
	}
	r->npending++;
	return 0;
}

static int add_pending(apply_report *r, const plan_action *a, const apply_outcome *h,
		       int round_limit)
{
	util_buf why = UTIL_BUF_INIT;

	if (h && h->ok == 0)
		util_buf_printf(&why, "failed: %s", h->message ? h->message : "unknown error");
	else if (h && h->ok < 0)
		util_buf_puts(&why, "skipped: an action it depends on failed");
	else if (h)
		util_buf_printf(&why, "still planned after it ran (%s%s%s)",
				plan_reason_name(a->reason), a->message ? ": " : "",
				a->message ? a->message : "");
	else
		util_buf_printf(&why, "not run: %s (%s)",
				round_limit ? "the round limit was reached" : "nothing else could run",
				plan_reason_name(a->reason));
	return push_pending(r, a->id, &why);
}

/*
 * An action that failed is a failed apply, whatever the re-plan says: a
 * forced reissue that failed is not planned again without --force, and
 * its failure must not read as converged.
 */
static int add_failed(apply_report *r, const plan *cur)
{
	util_buf why = UTIL_BUF_INIT;
	size_t i;
	int error = 0;

	for (i = 0; i < r->count && !error; i++) {
		const apply_outcome *o = &r->outcomes[i];

		if (o->ok != 0 || plan_find(cur, o->id) || history(r, o->id) != o)
			continue; /* listed with the plan's pending actions */
		util_buf_clear(&why);
		util_buf_printf(&why, "failed: %s", o->message && *o->message ?
				o->message : "no reason was recorded");
		error = push_pending(r, o->id, &why);
	}
	util_buf_release(&why);
	return error;
}

int apply_run(apply_report *report, apply_ctx *ctx, const plan *p)
{
	const plan *cur = p;
	plan *next = NULL;
	observe_result *obs = NULL;
	plan_options po;
	observe_options oo = OBSERVE_OPTIONS_INIT;
	size_t i, ran = 0, fresh;
	unsigned round;
	int error = 0;

	memset(report, 0, sizeof(*report));
	for (round = 1;; round++) {
		if (round > 1) {
			apply_event ev = { APPLY_EVENT_ROUND, NULL, round, 0, NULL };
			apply__emit(ctx, &ev);
		}
		report->rounds = round;
		if ((error = execute(ctx, report, cur, round, &ran)) < 0)
			goto done;
		/* observe and plan again: what is true now */
		plan_free(next);
		next = NULL;
		observe_result_free(obs);
		obs = NULL;
		memset(&po, 0, sizeof(po));
		po.now = ctx->opts.at ? ctx->opts.at : time(NULL);
		po.prune = ctx->opts.prune;
		/* online like the first plan, so a stale endpoint stays drift */
		oo.flags = observe_online_default();
		oo.policy = ctx->opts.policy;
		if ((error = observe_run(&obs, ctx->opts.set, ctx->opts.st, &oo)) < 0 ||
		    (error = plan_new(&next, ctx->opts.set, obs, &po)) < 0)
			goto done;
		cur = next;
		if (!plan_has_changes(next)) {
			report->converged = report->n_failed == 0;
			break;
		}
		for (i = 0, fresh = 0; i < next->count; i++)
			if (!inert(&next->actions[i]) && !history(report, next->actions[i].id))
				fresh++;
		if (!fresh || round >= ctx->opts.max_rounds)
			break;
	}
	if (!report->converged)
		for (i = 0; i < cur->count && error == 0; i++)
			if (!inert(&cur->actions[i]))
				error = add_pending(report, &cur->actions[i],
						    history(report, cur->actions[i].id),
						    round >= ctx->opts.max_rounds);
	if (!report->converged && error == 0)
		error = add_failed(report, cur);
done:
	plan_free(next);
	observe_result_free(obs);
	return error;
}

void apply_report_clear(apply_report *r)
{
	size_t i;

	for (i = 0; i < r->count; i++) {
		free(r->outcomes[i].id);
		free(r->outcomes[i].message);
	}
	free(r->outcomes);
	for (i = 0; i < r->npending; i++) {
		free(r->pending_ids[i]);
		free(r->pending_why[i]);
	}
	free(r->pending_ids);
	free(r->pending_why);
	memset(r, 0, sizeof(*r));
}
