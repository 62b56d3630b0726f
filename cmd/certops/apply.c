/*
 * certops apply: make the world match the declarations.  Loads and checks
 * them, takes the state lock, plans (or loads a saved plan and checks it
 * is still fresh), prints the plan, runs it (lib/apply) with a progress
 * line per action, and prints a summary.  Non-interactive: the plan shown
 * is the plan run.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apply/apply.h"
#include "cli.h"
#include "plan/plan.h"
#include "source_opts.h"
#include "util/duration.h"
#include "util/error.h"

enum { OPT_LOCK_TIMEOUT = 2000, OPT_PARALLEL, OPT_AT, OPT_JSON, OPT_DIR, OPT_PRUNE, OPT_FORCE, OPT_AUTO_APPROVE,
       OPT_FORCE_COMMIT };

#define MAX_FORCE 64

typedef struct {
	int lock_timeout;
	unsigned parallel;
	time_t at;
	int json;
	int prune;
	const char *dir; /* --dir: declarations of a saved plan */
	const char *force[MAX_FORCE]; /* --force NAME */
	size_t nforce;
	int force_commit; /* apply a saved plan made at another commit */
	cli_source src;
} apply_opts;

static void usage(FILE *f)
{
	fputs("Usage: certops apply [options] [DIR | SAVED-PLAN]\n\n"
	      "Plans like `certops plan`, prints the plan, then runs it: accounts,\n"
	      "orders, deploys, in dependency order and in parallel, each recorded in\n"
	      "the state store as it succeeds; then plans again until nothing is left.\n"
	      "Non-interactive: the plan printed is the plan run.  A SAVED-PLAN (from\n"
	      "`certops plan -o FILE`) is refused when the declarations or the state\n"
	      "store changed since it was made.\n\n"
	      "  --lock-timeout SECS  wait up to SECS for another run's lock (default 0:\n"
	      "                       fail at once, naming the holder)\n"
	      "  --parallel N         actions run at once (default 4, at most 32)\n"
	      "  --at TIME            plan as of TIME (RFC 3339, YYYY-MM-DD, +30d)\n"
	      "  --prune              remove what is no longer declared\n"
	      "  --force NAME         reissue certificate NAME (repeatable)\n"
	      "  --dir DIR            the declarations of a SAVED-PLAN (default .)\n"
	      "  --auto-approve       accepted for scripts; apply never prompts\n"
	      "  --json               print the plan and the result as JSON\n"
	      "  --force-commit       apply a SAVED-PLAN although the source moved on\n"
	      "                       from the commit it was made at\n\n"
	      "A SAVED-PLAN made with --repo is applied from the same repository and\n"
	      "ref (unless --repo is given again) and refused when the source is no\n"
	      "longer at the plan's commit.  After a successful apply from a Git source\n"
	      "the commit is recorded as the last applied (the rollback guard).\n\n"
	      "Exit status: 0 converged, 1 an action failed or did not converge,\n"
	      "64 usage, 65 invalid declarations, policy or stale plan, 75 the state\n"
	      "is locked by another run.\n\n", f);
	cli_source_help(f);
	cli_global_help(f);
}

static int on_opt(cli_ctx *ctx, int opt, const char *arg, void *data)
{
	apply_opts *o = data;
	char *end;
	long v;
	int rc;

	(void)ctx;
	switch (opt) {
	case OPT_LOCK_TIMEOUT:
		errno = 0;
		v = strtol(arg, &end, 10);
		if (errno || *end || end == arg || v < 0 || v > 86400)
			return cli_usage_error(&cli_cmd_apply, "invalid --lock-timeout '%s'", arg);
		o->lock_timeout = (int)v;
		break;
	case OPT_PARALLEL:
		errno = 0;
		v = strtol(arg, &end, 10);
		if (errno || *end || end == arg || v < 1 || v > APPLY_PARALLEL_MAX)
			return cli_usage_error(&cli_cmd_apply,
					       "invalid --parallel '%s' (1 to %d)", arg,
					       APPLY_PARALLEL_MAX);
		o->parallel = (unsigned)v;
		break;
	case OPT_AT:
		if (util_time_parse(&o->at, arg, time(NULL)) < 0)
			return cli_usage_error(&cli_cmd_apply, "invalid --at '%s'", arg);
		break;
	case OPT_JSON:
		o->json = 1;
		break;
	case OPT_PRUNE:
		o->prune = 1;
		break;
	case OPT_AUTO_APPROVE:
		/* apply never prompts; accepted so CI scripts written for a
		 * prompting apply keep working */
		break;
	case OPT_DIR:
		o->dir = arg;
		break;
	case OPT_FORCE:
		if (o->nforce == MAX_FORCE)
			return cli_usage_error(&cli_cmd_apply, "at most %d --force", MAX_FORCE);
		o->force[o->nforce++] = arg;
		break;
	case OPT_FORCE_COMMIT:
		o->force_commit = 1;
		break;
	default:
		rc = cli_source_opt(&o->src, opt, arg);
		return rc == 1 ? cli_usage_error(&cli_cmd_apply, "unknown option") : rc;
	}
	return 0;
}

static const char *event_word(apply_event_kind k)
{
	switch (k) {
	case APPLY_EVENT_START: return "start";
	case APPLY_EVENT_DONE: return "done";
	case APPLY_EVENT_FAILED: return "FAILED";
	case APPLY_EVENT_SKIPPED: return "skipped";
	default: return "";
	}
}

/* Progress lines go to stderr with --json, so stdout stays one document. */
static void progress(void *data, const apply_event *ev)
{
	cli_ctx *ctx = data;
	FILE *f = ctx->out;

	if (ev->kind == APPLY_EVENT_ROUND) {
		fprintf(f, "round %u: planning again found more to do\n", ev->round);
	} else if (ev->kind == APPLY_EVENT_START) {
		fprintf(f, "%s: %s (%s)\n", ev->action->id, event_word(ev->kind),
			plan_reason_name(ev->action->reason));
	} else if (ev->kind == APPLY_EVENT_SKIPPED) {
		fprintf(f, "%s: skipped: %s\n", ev->action->id, ev->message);
	} else {
		fprintf(f, "%s: %s after %.2fs%s%s\n", ev->action->id, event_word(ev->kind),
			ev->elapsed, ev->message ? ": " : "", ev->message ? ev->message : "");
	}
	fflush(f);
}

static int print_json(FILE *f, const plan *p, const apply_report *r)
{
	util_buf b = UTIL_BUF_INIT;
	int error = report_render_apply_json(&b, p, r);

	if (error == 0)
		fputs(b.ptr, f);
	else
		cli_print_error("rendering the result");
	util_buf_release(&b);
	return error;
}

/* The plan, before it runs (text mode): the plan shown is the plan run. */
static void show_plan(void *data, const plan *p, size_t dropped)
{
	cli_ctx *ctx = data;
	util_buf out = UTIL_BUF_INIT;

	(void)dropped;
	if (plan_render_human(&out, p, cli_out_color(ctx) ? PLAN_RENDER_COLOR : 0) < 0) {
		cli_print_error("rendering the plan");
	} else {
		fputs(out.ptr, ctx->out);
		if (plan_has_changes(p))
			fputc('\n', ctx->out);
	}
	fflush(ctx->out);
	util_buf_release(&out);
}

static int run(cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "lock-timeout", required_argument, NULL, OPT_LOCK_TIMEOUT },
		{ "parallel", required_argument, NULL, OPT_PARALLEL },
		{ "parallelism", required_argument, NULL, OPT_PARALLEL },
		{ "at", required_argument, NULL, OPT_AT },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "prune", no_argument, NULL, OPT_PRUNE },
		{ "dir", required_argument, NULL, OPT_DIR },
		{ "force", required_argument, NULL, OPT_FORCE },
		{ "auto-approve", no_argument, NULL, OPT_AUTO_APPROVE },
		{ "force-commit", no_argument, NULL, OPT_FORCE_COMMIT },
		CLI_SOURCE_OPTIONS,
		{ NULL, 0, NULL, 0 }
	};
	apply_opts o;
	engine_options eo;
	engine_apply_options ao;
	engine_events ev = { .data = NULL };
	engine_apply_result res;
	engine *e = NULL;
	const char *dir = NULL, *saved = NULL;
	const apply_report *r = &res.report;
	int first, rc, error, exit_code = CLI_EXIT_ERROR;
	size_t i;

	memset(&res, 0, sizeof(res));
	memset(&o, 0, sizeof(o));
	o.parallel = APPLY_PARALLEL_DEFAULT;
	rc = cli_parse(ctx, &cli_cmd_apply, argc, argv, opts, "", on_opt, &o, &first);
	if (rc)
		return rc == 1 ? CLI_EXIT_OK : rc;
	if (argc - first > 1)
		return cli_usage_error(&cli_cmd_apply, "expected at most one DIR or SAVED-PLAN");
	if (first < argc) {
		if (engine_is_saved_plan(argv[first])) {
			saved = argv[first];
			dir = o.dir;
		} else {
			dir = argv[first];
		}
	} else if (o.dir) {
		dir = o.dir;
	}

	cli_engine_options(&eo, ctx, &o.src, dir);
	eo.saved_plan = saved;
	eo.force_commit = o.force_commit;
	memset(&ao, 0, sizeof(ao));
	ao.plan.now = o.at;
	ao.plan.prune = o.prune;
	ao.plan.force = o.force;
	ao.plan.nforce = o.nforce;
	ao.parallel = o.parallel;
	ao.lock_timeout = o.lock_timeout;
	ev.data = ctx;
	if (!o.json) {
		ev.plan = show_plan;
		ev.progress = progress;
	}
	if ((error = engine_new(&e, &eo)) < 0 || (error = engine_load(e, NULL)) < 0 ||
	    (error = engine_apply(&res, e, &ao, &ev)) < 0) {
		exit_code = cli_engine_fail(&cli_cmd_apply, e, error, "; nothing applied");
		goto done;
	}
	if (o.json) {
		if (print_json(ctx->out, res.plan, r) < 0)
			goto done;
	} else if (res.ran) {
		fprintf(ctx->out, "\nApply %s: %zu done, %zu failed, %zu skipped in %u round%s.\n",
			r->converged ? "complete" : "incomplete", r->n_done,
			r->n_failed, r->n_skipped, r->rounds, r->rounds == 1 ? "" : "s");
		for (i = 0; i < r->npending; i++)
			fprintf(ctx->out, "  not converged: %s: %s\n", r->pending_ids[i],
				r->pending_why[i]);
	}
	exit_code = r->converged ? CLI_EXIT_OK : CLI_EXIT_ERROR;
done:
	engine_apply_result_release(&res);
	engine_free(e);
	return exit_code;
}

const cli_command cli_cmd_apply = { "apply", "make the world match the declarations",
	"certops apply [options] [DIR | SAVED-PLAN]", run, usage };
