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
#include <sys/stat.h>
#include <time.h>

#include "apply/apply.h"
#include "cli.h"
#include "config/config.h"
#include "config/policy.h"
#include "observe/observe.h"
#include "plan/plan.h"
#include "source_opts.h"
#include "state/state.h"
#include "util/duration.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/log.h"

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

static void print_json(FILE *f, const plan *p, const apply_report *r)
{
	util_buf b = UTIL_BUF_INIT;
	size_t i;

	util_buf_puts(&b, "{\"plan\":");
	if (plan_render_json(&b, p) == 0 && b.size && b.ptr[b.size - 1] == '\n')
		util_buf_truncate(&b, b.size - 1);
	util_buf_printf(&b, ",\"converged\":%s,\"rounds\":%u,\"done\":%zu,\"failed\":%zu,"
			"\"skipped\":%zu,\"actions\":[", r->converged ? "true" : "false",
			r->rounds, r->n_done, r->n_failed, r->n_skipped);
	for (i = 0; i < r->count; i++) {
		const apply_outcome *o = &r->outcomes[i];
		util_buf_puts(&b, i ? ",{\"id\":" : "{\"id\":");
		util_buf_put_json_string(&b, o->id);
		util_buf_printf(&b, ",\"result\":\"%s\",\"round\":%u,\"elapsed\":%.3f,\"error\":",
				o->ok > 0 ? "done" : o->ok == 0 ? "failed" : "skipped",
				o->round, o->elapsed);
		if (o->message)
			util_buf_put_json_string(&b, o->message);
		else
			util_buf_puts(&b, "null");
		util_buf_putc(&b, '}');
	}
	util_buf_puts(&b, "],\"not_converged\":[");
	for (i = 0; i < r->npending; i++) {
		util_buf_puts(&b, i ? ",{\"id\":" : "{\"id\":");
		util_buf_put_json_string(&b, r->pending_ids[i]);
		util_buf_puts(&b, ",\"why\":");
		util_buf_put_json_string(&b, r->pending_why[i]);
		util_buf_putc(&b, '}');
	}
	util_buf_puts(&b, "]}\n");
	fputs(util_buf_failed(&b) ? "{}\n" : b.ptr, f);
	util_buf_free(&b);
}

/* 1 when path is a file that holds a saved plan (JSON), not YAML. */
static int is_saved_plan(const char *path)
{
	struct stat st;
	util_buf b = UTIL_BUF_INIT;
	size_t i;
	int yes = 0;

	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return 0;
	if (util_fs_read_file(&b, path, 64u << 20) == 0) {
		for (i = 0; i < b.size && (b.ptr[i] == ' ' || b.ptr[i] == '\n' ||
					   b.ptr[i] == '\t' || b.ptr[i] == '\r'); i++)
			;
		yes = i < b.size && b.ptr[i] == '{';
	}
	util_buf_free(&b);
	return yes;
}

static int print_diags(util_diags *d, const char *dir)
{
	util_buf b = UTIL_BUF_INIT;
	size_t i;

	util_diags_sort(d);
	for (i = 0; i < d->count; i++) {
		util_buf_clear(&b);
		util_error_format(&b, &d->items[i]);
		fprintf(stderr, "%s\n", b.ptr);
	}
	util_buf_free(&b);
	fprintf(stderr, "certops: %zu problem%s in %s; nothing applied\n", d->count,
		d->count == 1 ? "" : "s", dir);
	return CLI_EXIT_DATAERR;
}

/*
 * After a converged apply from a Git source: the commit becomes the last
 * applied one, so that a stale mirror cannot roll the world back.
 */
static int record_applied(const source_result *src, state *st)
{
	if (!src || !src->url)
		return CLI_EXIT_OK;
	if (state_applied_commit_put(st, src->commit) < 0) {
		cli_print_error("recording the applied commit");
		return CLI_EXIT_ERROR;
	}
	return CLI_EXIT_OK;
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
	util_diags diags = UTIL_DIAGS_INIT;
	util_buf sdir = UTIL_BUF_INIT, out = UTIL_BUF_INIT;
	config_set *set = NULL;
	config_policy *policy = NULL;
	state *st = NULL;
	observe_result *obs = NULL;
	plan *p = NULL;
	source_result *src = NULL;
	apply_ctx *actx = NULL;
	apply_report report;
	apply_options ao;
	plan_options po;
	const char *dir = NULL, *saved = NULL;
	char digest[CONFIG_HASH_HEX_LEN + 1];
	uint64_t serial = 0;
	int first, rc, error, has_state = 1, exit_code = CLI_EXIT_ERROR;
	size_t i;

	memset(&report, 0, sizeof(report));
	memset(&o, 0, sizeof(o));
	o.parallel = APPLY_PARALLEL_DEFAULT;
	rc = cli_parse(ctx, &cli_cmd_apply, argc, argv, opts, "", on_opt, &o, &first);
	if (rc)
		return rc == 1 ? CLI_EXIT_OK : rc;
	if (argc - first > 1)
		return cli_usage_error(&cli_cmd_apply, "expected at most one DIR or SAVED-PLAN");
	if (first < argc) {
		if (is_saved_plan(argv[first])) {
			saved = argv[first];
			dir = o.dir;
		} else {
			dir = argv[first];
		}
	} else if (o.dir) {
		dir = o.dir;
	}

	/* a saved plan says where its declarations came from */
	if (saved) {
		if ((error = plan_load(&p, saved)) < 0) {
			cli_print_error("loading the saved plan");
			exit_code = CLI_EXIT_DATAERR;
			goto done;
		}
		if (p->source_url && !o.src.opts.url && !dir) {
			o.src.opts.url = p->source_url;
			if (!o.src.opts.ref)
				o.src.opts.ref = p->source_ref;
		}
	}
	if (cli_source_given(&o.src)) {
		if ((rc = cli_source_resolve(&src, &o.src, ctx, dir)) != 0) {
			exit_code = rc;
			goto done;
		}
		dir = src->dir;
		if (src->url)
			util_log_info("apply", "source %s at commit %s%s", src->url, src->commit,
				      src->offline ? " (offline: cached)" : "");
	} else if (!dir) {
		dir = ".";
	}
	if (saved && p->source_commit && !src) {
		/* a plan made from Git, applied to a plain directory */
		exit_code = CLI_EXIT_DATAERR;
		fprintf(stderr, "certops: error: %s: the plan was made from %s at commit %s; "
			"apply it with --repo (or without DIR/--dir)\n", saved,
			p->source_url ? p->source_url : "a Git source", p->source_commit);
		goto done;
	}
	if (saved && src && (error = source_check_commit(src, p->source_commit,
							 o.force_commit)) < 0) {
		cli_print_error(saved);
		exit_code = error == CERTOPS_ESTALE ? CLI_EXIT_DATAERR : CLI_EXIT_ERROR;
		goto done;
	}

	/* declarations and policy: the same checks as validate */
	error = config_load_dir(&set, &diags, dir);
	if (error < 0 && error != CERTOPS_EINVALID) {
		cli_print_error("loading declarations");
		goto done;
	}
	if ((error = state_default_dir(&sdir, ctx->state_dir)) < 0) {
		cli_print_error("state");
		goto done;
	}
	if (config_policy_open(&policy, &diags, ctx->policy_path, sdir.ptr) == CERTOPS_ENOMEM ||
	    (policy && set && config_policy_check(policy, set, &diags) < 0)) {
		cli_print_error("checking the policy");
		goto done;
	}
	if (diags.count) {
		exit_code = print_diags(&diags, dir);
		goto done;
	}

	/* the store, locked for the whole apply */
	error = state_open(&st, sdir.ptr, STATE_OPEN_NOCREATE);
	if (error == CERTOPS_ENOTFOUND) {
		has_state = 0;
		error = state_open(&st, sdir.ptr, 0);
	}
	if (error < 0) {
		cli_print_error("opening the state store");
		goto done;
	}
	state_set_command(st, "apply");
	if ((error = state_lock(st, o.lock_timeout)) < 0) {
		cli_print_error(NULL);
		exit_code = error == CERTOPS_ELOCKED ? CLI_EXIT_TEMPFAIL : CLI_EXIT_ERROR;
		goto done;
	}

	if (saved) {
		if ((error = plan_config_digest(digest, set)) < 0 ||
		    (error = state_serial(&serial, st)) < 0) {
			cli_print_error(NULL);
			goto done;
		}
		if ((error = plan_check_fresh(p, digest, has_state, serial)) < 0 ||
		    (error = plan_resolve(p, set)) < 0) {
			cli_print_error(saved);
			exit_code = error == CERTOPS_ESTALE ? CLI_EXIT_DATAERR : CLI_EXIT_ERROR;
			goto done;
		}
	} else {
		memset(&po, 0, sizeof(po));
		po.now = o.at ? o.at : time(NULL);
		po.prune = o.prune;
		po.force = o.force;
		po.nforce = o.nforce;
		if ((error = observe_run(&obs, set, st, &(observe_options){ observe_online_default(), policy })) < 0 ||
		    (error = plan_new(&p, set, obs, &po)) < 0 ||
		    (src && src->url && (error = plan_set_source(p, src->url, src->ref,
							   src->commit)) < 0)) {
			cli_print_error("planning");
			goto done;
		}
	}
	if (!o.json) {
		if ((error = plan_render_human(&out, p, ctx->color ? PLAN_RENDER_COLOR : 0)) < 0) {
			cli_print_error("rendering the plan");
			goto done;
		}
		fputs(out.ptr, ctx->out);
		fflush(ctx->out);
	}

	memset(&ao, 0, sizeof(ao));
	ao.st = st;
	ao.set = set;
	ao.policy = policy;
	ao.parallel = o.parallel;
	ao.at = o.at;
	ao.prune = o.prune;
	ao.progress = o.json ? NULL : progress;
	ao.progress_data = ctx;
	if (!plan_has_changes(p)) {
		report.converged = 1; /* nothing to do is converged */
		if (o.json)
			print_json(ctx->out, p, &report);
		exit_code = record_applied(src, st);
		goto done;
	}
	if (!o.json)
		fputc('\n', ctx->out);
	if ((error = apply_ctx_new(&actx, &ao)) < 0 ||
	    (error = apply_run(&report, actx, p)) < 0) {
		cli_print_error("applying");
		goto done;
	}
	if (o.json) {
		print_json(ctx->out, p, &report);
	} else {
		fprintf(ctx->out, "\nApply %s: %zu done, %zu failed, %zu skipped in %u round%s.\n",
			report.converged ? "complete" : "incomplete", report.n_done,
			report.n_failed, report.n_skipped, report.rounds,
			report.rounds == 1 ? "" : "s");
		for (i = 0; i < report.npending; i++)
			fprintf(ctx->out, "  not converged: %s: %s\n", report.pending_ids[i],
				report.pending_why[i]);
	}
	exit_code = report.converged ? record_applied(src, st) : CLI_EXIT_ERROR;
done:
	apply_ctx_free(actx);
	apply_report_clear(&report);
	plan_free(p);
	source_result_free(src);
	observe_result_free(obs);
	if (st && state_locked(st) && state_unlock(st) < 0) {
		cli_print_error("releasing the state lock");
		exit_code = CLI_EXIT_ERROR;
	}
	state_free(st);
	config_policy_free(policy);
	config_set_free(set);
	util_diags_free(&diags);
	util_buf_free(&sdir);
	util_buf_free(&out);
	return exit_code;
}

const cli_command cli_cmd_apply = { "apply", "make the world match the declarations",
	"certops apply [options] [DIR | SAVED-PLAN]", run, usage };
