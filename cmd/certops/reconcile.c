/*
 * certops reconcile: the periodic loop.  Each cycle: fetch the source (a Git
 * remote or a directory) → validate the declarations against the local
 * policy → plan and apply (reconcile_engine.h: the state lock, one apply
 * round, a per-certificate retry backoff) → record the
 * cycle's status in the state store, write the metrics file, notify on a
 * change of state → sleep --interval plus a random part of --jitter.
 *
 * Signals: SIGTERM/SIGINT end the loop after the current cycle (a cycle is
 * never cut in the middle of a step); SIGHUP starts a cycle now, with the
 * policy and secrets read afresh.  Signal handlers only write a byte to a
 * pipe that the sleep polls, so no signal is lost between the check and the
 * sleep.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "config/config.h"
#include "config/policy.h"
#include "notify/notify.h"
#include "reconcile_engine.h"
#include "report/metrics.h"
#include "source_opts.h"
#include "state/state.h"
#include "util/duration.h"
#include "util/error.h"
#include "util/fs.h"

enum {
	OPT_ONCE = 2000,
	OPT_INTERVAL,
	OPT_JITTER,
	OPT_METRICS_FILE,
	OPT_NOTIFY_URL,
	OPT_NOTIFY_CA,
	OPT_RETRY_BACKOFF,
	OPT_LOCK_TIMEOUT,
	OPT_PLAN_ONLY
};

typedef struct {
	cli_source src;
	int once;
	int64_t interval, jitter;
	const char *metrics_file;
	const char *notify_url;
	const char *notify_ca;
	int64_t retry_backoff;
	int64_t lock_timeout;
	int plan_only;
} reconcile_opts;

/* A certificate the store holds, for the expiry alert and metrics. */
typedef struct {
	char *name;
	time_t not_before, not_after;
	int alerting; /* the "expiring" alert is on */
} reconcile_cert;

/* What the loop knows across cycles; recorded with state_reconcile_put. */
typedef struct {
	json_int_t cycles, failures, offline_cycles, notify_failures;
	json_int_t last_run, last_success;
	double duration;
	const char *result;  /* "ok", "invalid", "error" */
	int offline;
	json_int_t problems;
	char commit[SOURCE_COMMIT_HEXSZ + 1];
	util_buf url, ref, message;
	reconcile_cert *certs; /* not persisted: re-read every cycle */
	size_t ncerts;
	/* The engine's per-certificate results of the last cycle; ran is 0
	 * when the cycle stopped before it (source, declarations, lock). */
	reconcile_engine_result eng;
	int ran;
	int plan_only; /* --plan-only: renewals never happen here */
} reconcile_stats;

static int sig_pipe[2] = { -1, -1 };
static volatile sig_atomic_t stop_requested, reload_requested;

static void on_signal(int sig)
{
	int saved = errno;
	char c = (char)sig;

	if (sig == SIGHUP)
		reload_requested = 1;
	else
		stop_requested = 1;
	if (write(sig_pipe[1], &c, 1) < 0) {
		/* The pipe is full: a wake-up is pending anyway. */
	}
	errno = saved;
}

static int setup_signals(void)
{
	struct sigaction sa;

	if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	if (sigaction(SIGTERM, &sa, NULL) < 0 || sigaction(SIGINT, &sa, NULL) < 0 ||
	    sigaction(SIGHUP, &sa, NULL) < 0)
		return -1;
	return 0;
}

/* Sleeps up to seconds, waking early on a signal. */
static void sleep_interruptible(int64_t seconds)
{
	struct timespec end, now;
	struct pollfd pfd = { .events = POLLIN };
	char drain[64];
	int64_t left_ms;

	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += seconds;
	pfd.fd = sig_pipe[0];
	while (!stop_requested && !reload_requested) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		left_ms = (int64_t)(end.tv_sec - now.tv_sec) * 1000 +
			  (end.tv_nsec - now.tv_nsec) / 1000000;
		if (left_ms <= 0)
			break;
		if (poll(&pfd, 1, left_ms > 60000 ? 60000 : (int)left_ms) > 0)
			while (read(sig_pipe[0], drain, sizeof(drain)) > 0)
				;
	}
}

static void stats_load(reconcile_stats *s, state *st)
{
	state_reconcile_status r;

	/* none recorded, or unreadable: the counters start again */
	if (state_reconcile_get(&r, st) == 0) {
		s->cycles = r.cycles;
		s->failures = r.failures;
		s->offline_cycles = r.offline_cycles;
		s->notify_failures = r.notify_failures;
		s->last_success = r.last_success;
		state_reconcile_status_clear(&r);
	}
	util_error_clear();
}

static const char *cert_state_name(reconcile_cert_state st)
{
	return st == RECONCILE_CERT_FAILED ? "failed" :
	       st == RECONCILE_CERT_BACKOFF ? "backoff" : "ok";
}

/* Records the status of the cycle in the store (state_reconcile_put). */
static int stats_save(const reconcile_stats *s, state *st)
{
	state_reconcile_status r;
	size_t i, j;
	int error;

	memset(&r, 0, sizeof(r));
	r.cycles = s->cycles;
	r.failures = s->failures;
	r.offline_cycles = s->offline_cycles;
	r.notify_failures = s->notify_failures;
	r.last_run = (time_t)s->last_run;
	r.last_success = (time_t)s->last_success;
	r.duration = s->duration;
	r.result = (char *)s->result;
	r.offline = s->offline;
	r.problems = s->problems;
	r.commit = *s->commit ? (char *)s->commit : NULL;
	r.url = s->url.size ? s->url.ptr : NULL;
	r.ref = s->ref.size ? s->ref.ptr : NULL;
	r.message = s->message.ptr ? s->message.ptr : "";
	r.has_certs = s->ran;
	if (s->ran && s->eng.count &&
	    !(r.certs = calloc(s->eng.count, sizeof(*r.certs))))
		return util_error_set(CERTOPS_ENOMEM, "out of memory");
	for (i = 0; s->ran && i < s->eng.count; i++) {
		const reconcile_cert_result *c = &s->eng.certs[i];

		r.certs[i].name = c->name;
		r.certs[i].result = (char *)cert_state_name(c->state);
		r.certs[i].failures = c->failures;
		r.certs[i].next_attempt = c->next_attempt;
		r.certs[i].message = c->message;
		for (j = 0; j < s->ncerts; j++)
			if (!strcmp(s->certs[j].name, c->name))
				r.certs[i].expiring = s->certs[j].alerting;
		r.ncerts++;
	}
	error = state_reconcile_put(st, &r);
	free(r.certs);
	return error;
}

/* The engine's per-certificate results as metrics. */
static int cert_metrics(util_buf *m, const reconcile_stats *s)
{
	static const struct { const char *name, *help; int which; } fam[] = {
		{ "certops_certificate_last_result", "1 when the certificate converged in the "
		  "last cycle, 0 when it failed or waits out a retry backoff.", 0 },
		{ "certops_certificate_consecutive_failures", "Failed attempts in a row.", 1 },
		{ "certops_certificate_next_attempt_timestamp_seconds", "When a failing "
		  "certificate is tried again (Unix time; 0: not held back).", 2 },
	};
	size_t f, i;

	for (f = 0; f < sizeof(fam) / sizeof(fam[0]); f++) {
		if (report_metric_family(m, fam[f].name, "gauge", fam[f].help) < 0)
			return CERTOPS_ERROR;
		for (i = 0; i < s->eng.count; i++) {
			const reconcile_cert_result *c = &s->eng.certs[i];
			const char *l[] = { "name", c->name, NULL };
			double v = fam[f].which == 0 ? (c->state == RECONCILE_CERT_OK) :
				   fam[f].which == 1 ? (double)c->failures : (double)c->next_attempt;

			if (report_metric_sample(m, fam[f].name, l, v) < 0)
				return CERTOPS_ERROR;
		}
	}
	return 0;
}

static int write_metrics(const reconcile_stats *s, const char *path)
{
	util_buf m = UTIL_BUF_INIT;
	size_t i;
	const char *info[] = { "url", s->url.ptr, "ref", s->ref.ptr,
			       "commit", s->commit, NULL };
	int error;

#define FAMILY(name, type, help, value) \
	(report_metric_family(&m, name, type, help) < 0 || \
	 report_metric_sample(&m, name, NULL, (double)(value)) < 0)
	if (FAMILY("certops_reconcile_cycles_total", "counter",
		   "Reconcile cycles run.", s->cycles) ||
	    FAMILY("certops_reconcile_failures_total", "counter",
		   "Reconcile cycles that failed (source, declarations or apply).",
		   s->failures) ||
	    FAMILY("certops_reconcile_up", "gauge",
		   "1 when the last cycle succeeded.", !strcmp(s->result, "ok")) ||
	    FAMILY("certops_reconcile_last_run_timestamp_seconds", "gauge",
		   "When the last cycle ended (Unix time).", s->last_run) ||
	    FAMILY("certops_reconcile_last_success_timestamp_seconds", "gauge",
		   "When a cycle last succeeded (Unix time; 0: never).",
		   s->last_success) ||
	    FAMILY("certops_reconcile_duration_seconds", "gauge",
		   "How long the last cycle took.", s->duration) ||
	    FAMILY("certops_declaration_problems", "gauge",
		   "Problems found in the declarations by the last cycle.",
		   s->problems) ||
	    FAMILY("certops_source_offline", "gauge",
		   "1 when the last cycle could not fetch and used the cached commit.",
		   s->offline) ||
	    FAMILY("certops_source_offline_cycles_total", "counter",
		   "Cycles that ran on the cached commit because the fetch failed.",
		   s->offline_cycles) ||
	    FAMILY("certops_notify_failures_total", "counter",
		   "Notifications that could not be delivered.", s->notify_failures) ||
	    report_metric_family(&m, "certops_source_info", "gauge",
				 "The source of the last cycle; the value is always 1.") < 0 ||
	    report_metric_sample(&m, "certops_source_info", info, 1) < 0) {
		error = CERTOPS_ERROR;
		goto done;
	}
#undef FAMILY
	if (report_metric_family(&m, "certops_certificate_not_after_timestamp_seconds", "gauge",
				 "When the current certificate expires (Unix time).") < 0)
		goto fail;
	for (i = 0; i < s->ncerts; i++) {
		const char *l[] = { "name", s->certs[i].name, NULL };

		if (report_metric_sample(&m, "certops_certificate_not_after_timestamp_seconds",
					 l, (double)s->certs[i].not_after) < 0)
			goto fail;
	}
	if (report_metric_family(&m, "certops_certificate_expiring", "gauge",
				 "1 while the certificate is close to expiry and not being renewed.") < 0)
		goto fail;
	for (i = 0; i < s->ncerts; i++) {
		const char *l[] = { "name", s->certs[i].name, NULL };

		if (report_metric_sample(&m, "certops_certificate_expiring", l,
					 s->certs[i].alerting) < 0)
			goto fail;
	}
	if (s->ran && cert_metrics(&m, s) < 0)
		goto fail;
	error = report_metrics_write(path, &m);
	goto done;
fail:
	error = CERTOPS_ERROR;
done:
	util_buf_free(&m);
	return error;
}

static void certs_clear(reconcile_stats *s)
{
	size_t i;

	for (i = 0; i < s->ncerts; i++)
		free(s->certs[i].name);
	free(s->certs);
	s->certs = NULL;
	s->ncerts = 0;
}

/* Reads the current version of every certificate in the store. */
static int certs_load(reconcile_stats *s, state *st)
{
	char **names = NULL;
	size_t n = 0, i;
	state_cert *c;
	int error;

	certs_clear(s);
	if ((error = state_cert_names(&names, &n, st)) < 0)
		return error;
	s->certs = calloc(n ? n : 1, sizeof(*s->certs));
	if (!s->certs) {
		error = util_error_set(CERTOPS_ENOMEM, "out of memory");
		goto done;
	}
	for (i = 0; i < n; i++) {
		if (state_cert_current(&c, st, names[i], 0) < 0)
			continue; /* no current version: nothing can expire */
		s->certs[s->ncerts].name = names[i];
		names[i] = NULL;
		s->certs[s->ncerts].not_before = c->meta.not_before;
		s->certs[s->ncerts].not_after = c->meta.not_after;
		s->ncerts++;
		state_cert_free(c);
	}
	util_error_clear();
	error = 0;
done:
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return error;
}

static void send(reconcile_stats *s, notify *n, const char *name,
		 notify_status status, const char *msg)
{
	util_buf subject = UTIL_BUF_INIT;

	util_buf_printf(&subject, "certificate/%s", name);
	if (notify_update(n, subject.ptr, status, msg, s->commit) < 0) {
		s->notify_failures++;
		cli_print_error("notifying");
	}
	util_buf_free(&subject);
}

/*
 * Per-certificate notifications, one per change of state (lib/notify
 * remembers the last one sent): failing (its actions failed, or it waits
 * out a backoff after failing), expiring, recovered.  Expiring is the last
 * line of defence: less than a sixth of the lifetime left while renewals
 * are not happening (the certificate fails, or the cycle failed before the
 * engine ran) gets its own, louder notification.  When the engine did not
 * run nothing is known about the declared certificates, so only the
 * expiry alert is raised, never a recovery.
 */
static void notify_certs(reconcile_stats *s, notify *n, time_t now)
{
	util_buf msg = UTIL_BUF_INIT;
	const reconcile_cert_result *r;
	size_t i;

	for (i = 0; i < s->ncerts; i++) {
		reconcile_cert *c = &s->certs[i];

		r = s->ran ? reconcile_engine_find(&s->eng, c->name) : NULL;
		c->alerting = (!s->ran || (r && r->state != RECONCILE_CERT_OK)) &&
			      notify_expiring(c->not_before, c->not_after, now, 0);
		if (!c->alerting) {
			if (s->plan_only)
				send(s, n, c->name, NOTIFY_OK, "no longer close to expiry");
			else if (s->ran && !r) /* no longer declared */
				send(s, n, c->name, NOTIFY_OK, "no longer declared");
			continue;
		}
		util_buf_clear(&msg);
		util_buf_printf(&msg, "certificate '%s' expires in %lld hours and is "
				"not being renewed", c->name,
				(long long)(c->not_after - now) / 3600);
		if (r && r->message)
			util_buf_printf(&msg, ": %s", r->message);
		else if (s->message.size)
			util_buf_printf(&msg, ": %s", s->message.ptr);
		util_log_error("reconcile", "%s", msg.ptr);
		send(s, n, c->name, NOTIFY_EXPIRING, msg.ptr);
	}
	for (i = 0; s->ran && i < s->eng.ngone; i++)
		send(s, n, s->eng.gone[i], NOTIFY_OK, "no longer declared");
	for (i = 0; s->ran && i < s->eng.count; i++) {
		size_t j;
		int alerting = 0;

		r = &s->eng.certs[i];
		for (j = 0; j < s->ncerts; j++)
			if (!strcmp(s->certs[j].name, r->name))
				alerting = s->certs[j].alerting;
		if (alerting)
			continue; /* sent above */
		util_buf_clear(&msg);
		if (r->state == RECONCILE_CERT_OK) {
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
		send(s, n, r->name, r->state == RECONCILE_CERT_OK ? NOTIFY_OK : NOTIFY_FAILING,
		     msg.ptr);
	}
	util_buf_free(&msg);
}

/* Loads and checks the declarations; problems go to stderr. */
static int validate(cli_ctx *ctx, const char *dir, config_set **set,
		    config_policy **policy, json_int_t *problems)
{
	util_diags diags = UTIL_DIAGS_INIT;
	util_buf line = UTIL_BUF_INIT;
	size_t i;
	int error;

	*problems = 0;
	error = config_load_dir(set, &diags, dir);
	if (error < 0 && error != CERTOPS_EINVALID)
		goto done;
	if ((error = config_policy_open(policy, &diags, ctx->policy_path,
					ctx->state_dir)) == CERTOPS_ENOMEM)
		goto done;
	if (*policy && *set && (error = config_policy_check(*policy, *set, &diags)) < 0)
		goto done;
	util_diags_sort(&diags);
	for (i = 0; i < diags.count; i++) {
		util_buf_clear(&line);
		util_error_format(&line, &diags.items[i]);
		fprintf(stderr, "%s\n", line.ptr);
	}
	*problems = (json_int_t)diags.count;
	error = diags.count ? util_error_set(CERTOPS_EINVALID, "%zu problem%s in the declarations",
					     diags.count, diags.count == 1 ? "" : "s") : 0;
done:
	util_buf_free(&line);
	util_diags_free(&diags);
	return error;
}

/* One cycle; returns its exit code (0, 1, 65, or 64 for a usage error). */
static int cycle(cli_ctx *ctx, reconcile_opts *ro, reconcile_stats *s,
		 notify *n, state *st, const char *dir)
{
	source_result *src = NULL;
	config_set *set = NULL;
	config_policy *policy = NULL;
	reconcile_engine_opts eo;
	struct timespec t0, t1;
	int rc, error, nrc;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	memset(&eo, 0, sizeof(eo));
	reconcile_engine_result_clear(&s->eng);
	s->ran = 0;
	util_buf_clear(&s->message);
	util_error_clear();
	s->offline = 0;
	s->problems = 0;
	rc = cli_source_resolve(&src, &ro->src, ctx, dir);
	if (rc == CLI_EXIT_USAGE)
		return rc;
	if (rc) {
		s->result = "error";
		util_buf_puts(&s->message, util_error_message());
		goto record;
	}
	cli_source_describe(ctx->out, src);
	fflush(ctx->out);
	util_buf_clear(&s->url);
	util_buf_clear(&s->ref);
	util_buf_puts(&s->url, src->url ? src->url : src->dir);
	util_buf_puts(&s->ref, src->ref ? src->ref : "");
	memcpy(s->commit, src->commit, sizeof(s->commit));
	s->offline = src->offline;
	if (src->offline)
		s->offline_cycles++;

	error = validate(ctx, src->dir, &set, &policy, &s->problems);
	if (error < 0) {
		rc = error == CERTOPS_EINVALID ? CLI_EXIT_DATAERR : CLI_EXIT_ERROR;
		s->result = rc == CLI_EXIT_DATAERR ? "invalid" : "error";
		util_buf_printf(&s->message, "%s%s%s", src->commit,
				*src->commit ? ": " : "", util_error_message());
		cli_print_error("validating");
		goto record;
	}
	fprintf(ctx->out, "valid: %zu certificate%s\n", set->ncertificates,
		set->ncertificates == 1 ? "" : "s");
	fflush(ctx->out);
	eo.st = st;
	eo.set = set;
	eo.policy = policy;
	eo.src = src;
	eo.backoff_base = ro->retry_backoff;
	eo.lock_timeout = (int)ro->lock_timeout;
	eo.now = time(NULL);
	eo.plan_only = ro->plan_only;
	reconcile_engine_result_clear(&s->eng);
	s->ran = 0;
	if (reconcile_engine_run(&s->eng, ctx, &eo) < 0) {
		rc = CLI_EXIT_ERROR;
		s->result = "error";
		util_buf_printf(&s->message, "%s%s%s", src->commit,
				*src->commit ? ": " : "", util_error_message());
		cli_print_error("applying");
		reconcile_engine_result_clear(&s->eng);
		goto record;
	}
	if (ro->plan_only) {
		reconcile_engine_result_clear(&s->eng);
		fprintf(ctx->out, "plan only (--plan-only): nothing applied\n");
		s->result = "ok";
		rc = CLI_EXIT_OK;
		goto record;
	}
	s->ran = 1;
	/* The commit is recorded even when some certificates failed: the
	 * others are deployed from it, so going back to an older commit
	 * would be a rollback. */
	if (src->url && state_applied_commit_put(st, src->commit) < 0)
		cli_print_error("recording the applied commit");
	fprintf(ctx->out, "reconcile: %zu certificate%s, %zu failed, %zu waiting out a retry "
		"backoff, at %s\n", s->eng.count, s->eng.count == 1 ? "" : "s",
		s->eng.n_failed, s->eng.n_backoff, *src->commit ? src->commit : src->dir);
	if (s->eng.n_failed || s->eng.n_backoff) {
		rc = CLI_EXIT_ERROR;
		s->result = "partial";
		util_buf_printf(&s->message, "%zu certificate%s failing at %s",
				s->eng.n_failed + s->eng.n_backoff,
				s->eng.n_failed + s->eng.n_backoff == 1 ? "" : "s",
				*src->commit ? src->commit : src->dir);
		goto record;
	}
	s->result = "ok";
	rc = CLI_EXIT_OK;
record:
	clock_gettime(CLOCK_MONOTONIC, &t1);
	s->duration = (double)(t1.tv_sec - t0.tv_sec) +
		      (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	s->cycles++;
	s->last_run = (json_int_t)time(NULL);
	if (rc)
		s->failures++;
	else
		s->last_success = s->last_run;
	/* the cycle as a whole fails only when the engine could not run; a
	 * failing certificate is notified on its own subject */
	nrc = notify_update(n, "reconcile", rc && !s->ran ? NOTIFY_FAILING : NOTIFY_OK,
			    s->message.size ? s->message.ptr : "reconcile succeeded",
			    s->commit);
	if (nrc < 0) {
		s->notify_failures++;
		cli_print_error("notifying");
	}
	if (certs_load(s, st) < 0)
		cli_print_error("reading the certificates in the state store");
	notify_certs(s, n, (time_t)s->last_run);
	if (stats_save(s, st) < 0)
		cli_print_error("recording the status");
	if (ro->metrics_file && write_metrics(s, ro->metrics_file) < 0)
		cli_print_error("writing the metrics file");
	config_policy_free(policy);
	config_set_free(set);
	source_result_free(src);
	return rc;
}

static int on_opt(cli_ctx *ctx, int opt, const char *arg, void *data)
{
	reconcile_opts *o = data;
	int rc;

	(void)ctx;
	switch (opt) {
	case OPT_ONCE: o->once = 1; return 0;
	case OPT_PLAN_ONLY: o->plan_only = 1; return 0;
	case OPT_INTERVAL:
	case OPT_JITTER:
		if (util_duration_parse(opt == OPT_INTERVAL ? &o->interval : &o->jitter,
					arg) < 0 ||
		    (opt == OPT_INTERVAL ? o->interval <= 0 : o->jitter < 0))
			return cli_usage_error(&cli_cmd_reconcile, "bad duration '%s' for --%s",
					       arg, opt == OPT_INTERVAL ? "interval" : "jitter");
		return 0;
	case OPT_METRICS_FILE: o->metrics_file = arg; return 0;
	/* Empty means none, so that a unit's ${CERTOPS_NOTIFY_URL} may be unset. */
	case OPT_NOTIFY_URL: o->notify_url = *arg ? arg : NULL; return 0;
	case OPT_NOTIFY_CA: o->notify_ca = arg; return 0;
	case OPT_RETRY_BACKOFF:
	case OPT_LOCK_TIMEOUT:
		if (util_duration_parse(opt == OPT_RETRY_BACKOFF ? &o->retry_backoff :
					&o->lock_timeout, arg) < 0 ||
		    (opt == OPT_RETRY_BACKOFF ? o->retry_backoff <= 0 :
		     o->lock_timeout < 0 || o->lock_timeout > 86400))
			return cli_usage_error(&cli_cmd_reconcile, "bad duration '%s' for --%s",
					       arg, opt == OPT_RETRY_BACKOFF ? "retry-backoff" :
					       "lock-timeout");
		return 0;
	}
	rc = cli_source_opt(&o->src, opt, arg);
	return rc == 1 ? cli_usage_error(&cli_cmd_reconcile, "unknown option") : rc;
}

static void usage(FILE *f)
{
	fputs("Usage: certops reconcile [--once] [--interval DUR] [--jitter DUR]\n"
	      "         [--metrics-file PATH] [--notify-url URL] [source options] [DIR]\n\n"
	      "The periodic loop: fetch, validate, plan, apply, record, sleep.\n\n"
	      "  --once               run one cycle and exit with its status (timers, cron)\n"
	      "  --interval DUR       time between cycles (default 1h)\n"
	      "  --jitter DUR         add a random delay up to DUR to each sleep (default 0)\n"
	      "  --metrics-file PATH  write Prometheus text metrics after each cycle\n"
	      "  --notify-url URL     POST a JSON notification on failure and recovery\n"
	      "  --notify-ca FILE     CA bundle for an https --notify-url\n"
	      "  --retry-backoff DUR  wait before retrying a failed certificate (default\n"
	      "                       5m; doubles per failure in a row, up to 6h)\n"
	      "  --lock-timeout DUR   wait for another run's state lock (default 1m)\n"
	      "  --plan-only          fetch, validate and plan; never apply (drift\n"
	      "                       detection; certificates count as not renewed)\n\n"
	      "SIGTERM/SIGINT stop after the current cycle; SIGHUP runs a cycle now\n"
	      "with the policy re-read.  Exit status with --once: 0 ok, 1 failure\n"
	      "(a certificate failed or waits out a backoff; the others proceed),\n"
	      "65 invalid declarations.  See docs/operations.md.\n\n", f);
	cli_source_help(f);
	cli_global_help(f);
}

static int run(cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "once", no_argument, NULL, OPT_ONCE },
		{ "interval", required_argument, NULL, OPT_INTERVAL },
		{ "jitter", required_argument, NULL, OPT_JITTER },
		{ "metrics-file", required_argument, NULL, OPT_METRICS_FILE },
		{ "notify-url", required_argument, NULL, OPT_NOTIFY_URL },
		{ "notify-ca", required_argument, NULL, OPT_NOTIFY_CA },
		{ "retry-backoff", required_argument, NULL, OPT_RETRY_BACKOFF },
		{ "plan-only", no_argument, NULL, OPT_PLAN_ONLY },
		{ "lock-timeout", required_argument, NULL, OPT_LOCK_TIMEOUT },
		CLI_SOURCE_OPTIONS,
		{ NULL, 0, NULL, 0 }
	};
	reconcile_opts o = { .interval = 3600, .retry_backoff = RECONCILE_BACKOFF_DEFAULT,
			     .lock_timeout = 60 };
	reconcile_stats s = { .result = "ok", .url = UTIL_BUF_INIT,
			      .ref = UTIL_BUF_INIT, .message = UTIL_BUF_INIT };
	util_buf state_dir = UTIL_BUF_INIT;
	notify_opts nopts = { 0 };
	notify *n = NULL;
	state *st = NULL;
	const char *dir = NULL;
	int first, rc;

	rc = cli_parse(ctx, &cli_cmd_reconcile, argc, argv, opts, "", on_opt, &o,
		       &first);
	if (rc)
		return rc == 1 ? CLI_EXIT_OK : rc;
	if (argc - first > 1)
		return cli_usage_error(&cli_cmd_reconcile, "expected at most one directory");
	if (first < argc)
		dir = argv[first];

	if (state_default_dir(&state_dir, ctx->state_dir) < 0 ||
	    state_open(&st, state_dir.ptr, 0) < 0) {
		cli_print_error("opening the state directory");
		rc = CLI_EXIT_ERROR;
		goto done;
	}
	stats_load(&s, st);
	s.plan_only = o.plan_only;
	nopts.url = o.notify_url;
	nopts.ca_bundle = o.notify_ca;
	nopts.st = st;
	if (notify_open(&n, &nopts) < 0) {
		cli_print_error("loading the notification state");
		rc = CLI_EXIT_ERROR;
		goto done;
	}
	if (!o.once && setup_signals() < 0) {
		util_error_set_errno(CERTOPS_ERROR, "installing signal handlers");
		cli_print_error(NULL);
		rc = CLI_EXIT_ERROR;
		goto done;
	}
	for (;;) {
		rc = cycle(ctx, &o, &s, n, st, dir);
		if (o.once || rc == CLI_EXIT_USAGE || stop_requested)
			break;
		sleep_interruptible(o.interval +
				    (o.jitter ? (int64_t)arc4random_uniform((uint32_t)
					(o.jitter > UINT32_MAX - 1 ? UINT32_MAX - 1 : o.jitter) + 1) : 0));
		if (stop_requested)
			break;
		if (reload_requested) {
			reload_requested = 0;
			/* The policy is read afresh every cycle; forget the
			 * secrets of the old one so that nothing stale is
			 * redacted forever. */
			util_secret_clear();
			util_log_info("reconcile", "SIGHUP: re-reading the policy and running a cycle now");
		}
	}
	if (stop_requested) {
		util_log_info("reconcile", "stopping on signal");
		rc = CLI_EXIT_OK;
	}
done:
	if (sig_pipe[0] >= 0) {
		close(sig_pipe[0]);
		close(sig_pipe[1]);
		sig_pipe[0] = sig_pipe[1] = -1;
	}
	notify_free(n);
	state_free(st);
	certs_clear(&s);
	util_buf_free(&s.url);
	util_buf_free(&s.ref);
	util_buf_free(&s.message);
	util_buf_free(&state_dir);
	reconcile_engine_result_clear(&s.eng);
	return rc;
}

const cli_command cli_cmd_reconcile = { "reconcile", "fetch, plan and apply in a loop",
	"certops reconcile [--once] [--interval DUR] [source options] [DIR]", run, usage };
