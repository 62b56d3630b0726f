/*
 * certops reconcile: the periodic loop.  Each cycle is one call into
 * lib/engine (engine/reconcile.h: fetch, validate, plan, apply one round
 * with a per-certificate retry backoff, record, notify, metrics); this
 * file parses the options, prints what the cycle reports, and sleeps
 * --interval plus a random part of --jitter between cycles.
 *
 * Signals: SIGTERM/SIGINT end the loop after the current cycle (a cycle is
 * never cut in the middle of a step); SIGHUP starts a cycle now, with the
 * policy and secrets read afresh.  Signal handlers only write a byte to a
 * pipe that the sleep polls, so no signal is lost between the check and the
 * sleep.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "engine/reconcile.h"
#include "source_opts.h"
#include "util/duration.h"
#include "util/error.h"

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

/* ---- rendering what a cycle reports ---- */

static void on_source(void *data, const source_result *src)
{
	cli_ctx *ctx = data;

	cli_source_describe(ctx->out, src);
	fflush(ctx->out);
}

static void on_loaded(void *data, const engine *e)
{
	cli_ctx *ctx = data;

	if (!e->src)
		fprintf(ctx->out, "source: directory %s\n", e->dir);
	fprintf(ctx->out, "valid: %zu certificate%s\n", e->set->ncertificates,
		e->set->ncertificates == 1 ? "" : "s");
	fflush(ctx->out);
}

static void on_plan(void *data, const plan *p, size_t dropped)
{
	cli_ctx *ctx = data;
	util_buf b = UTIL_BUF_INIT;

	if (plan_render_human(&b, p, 0) == 0)
		fputs(b.ptr, ctx->out);
	else
		cli_print_error("rendering the plan");
	if (dropped)
		fprintf(ctx->out, "%zu action%s left out: certificates waiting out a retry backoff\n",
			dropped, dropped == 1 ? "" : "s");
	fflush(ctx->out);
	util_buf_release(&b);
}

static void on_progress(void *data, const apply_event *ev)
{
	cli_ctx *ctx = data;

	if (ev->kind == APPLY_EVENT_START || ev->kind == APPLY_EVENT_ROUND)
		return;
	fprintf(ctx->out, "%s: %s%s%s\n", ev->action->id,
		ev->kind == APPLY_EVENT_DONE ? "done" :
		ev->kind == APPLY_EVENT_FAILED ? "FAILED" : "skipped",
		ev->message ? ": " : "", ev->message ? ev->message : "");
	fflush(ctx->out);
}

/* Prints the end of a cycle; returns its exit code (0, 1, 64 or 65). */
static int show_cycle(cli_ctx *ctx, const reconcile_opts *o, const engine_cycle_report *rep)
{
	const char *where;

	switch (rep->result) {
	case ENGINE_CYCLE_USAGE:
		return cli_engine_fail(&cli_cmd_reconcile, rep->e, rep->error, NULL);
	case ENGINE_CYCLE_INVALID:
	case ENGINE_CYCLE_ERROR:
		if (rep->e && rep->e->diags.count)
			cli_print_diags(stderr, &rep->e->diags);
		/* the cycle's own record says why (the engine's error is gone) */
		fprintf(stderr, "certops: error: %s: %s\n",
			rep->e && rep->e->diags.count ? "validating" :
			rep->e && rep->e->set ? "applying" : "reconcile",
			rep->status && rep->status->message ? rep->status->message : "unknown error");
		return rep->result == ENGINE_CYCLE_INVALID ? CLI_EXIT_DATAERR : CLI_EXIT_ERROR;
	default:
		break;
	}
	if (o->plan_only) {
		fprintf(ctx->out, "plan only (--plan-only): nothing applied\n");
		return CLI_EXIT_OK;
	}
	where = rep->e->src && *rep->e->src->commit ? rep->e->src->commit : rep->e->dir;
	fprintf(ctx->out, "reconcile: %zu certificate%s, %zu failed, %zu waiting out a retry "
		"backoff, at %s\n", rep->ncerts, rep->ncerts == 1 ? "" : "s",
		rep->n_failed, rep->n_backoff, where);
	fflush(ctx->out);
	return rep->result == ENGINE_CYCLE_OK ? CLI_EXIT_OK : CLI_EXIT_ERROR;
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
	reconcile_opts o = { .interval = 3600, .retry_backoff = ENGINE_BACKOFF_DEFAULT,
			     .lock_timeout = 60 };
	engine_reconcile_options ro;
	engine_events ev = { .source = on_source, .loaded = on_loaded, .plan = on_plan,
			     .progress = on_progress, .data = ctx };
	engine_reconciler *r = NULL;
	const engine_cycle_report *rep;
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

	memset(&ro, 0, sizeof(ro));
	cli_engine_options(&ro.load, ctx, &o.src, dir);
	ro.backoff_base = o.retry_backoff;
	ro.lock_timeout = (int)o.lock_timeout;
	ro.plan_only = o.plan_only;
	ro.notify.url = o.notify_url;
	ro.notify.ca_bundle = o.notify_ca;
	ro.metrics_file = o.metrics_file;
	if (engine_reconciler_new(&r, &ro) < 0) {
		cli_print_error(NULL);
		return CLI_EXIT_ERROR;
	}
	if (!o.once && setup_signals() < 0) {
		util_error_set_errno(CERTOPS_ERROR, "installing signal handlers");
		cli_print_error(NULL);
		rc = CLI_EXIT_ERROR;
		goto done;
	}
	for (;;) {
		if (engine_reconcile_cycle(&rep, r, &ev) < 0) {
			cli_print_error("recording the cycle");
			rc = CLI_EXIT_ERROR;
		} else {
			rc = show_cycle(ctx, &o, rep);
		}
		if (o.once || rc == CLI_EXIT_USAGE || stop_requested)
			break;
		sleep_interruptible(o.interval +
				    (o.jitter ? (int64_t)arc4random_uniform((uint32_t)
					(o.jitter > UINT32_MAX - 1 ? UINT32_MAX - 1 : o.jitter) + 1) : 0));
		if (stop_requested)
			break;
		if (reload_requested) {
			reload_requested = 0;
			engine_reconciler_reload(r);
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
	engine_reconciler_free(r);
	return rc;
}

const cli_command cli_cmd_reconcile = { "reconcile", "fetch, plan and apply in a loop",
	"certops reconcile [--once] [--interval DUR] [source options] [DIR]", run, usage };
