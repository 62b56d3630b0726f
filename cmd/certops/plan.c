/* certops plan: show what apply would change; changes nothing. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "plan/plan.h"
#include "source_opts.h"
#include "util/duration.h"
#include "util/error.h"
#include "util/log.h"
#include "world.h"

/* Above the global options' values (cli.c uses 1000 and up). */
enum { OPT_JSON = 2000, OPT_DETAILED, OPT_AT, OPT_OUT, OPT_PRUNE, OPT_FORCE };

#define MAX_FORCE 64

typedef struct {
	int json, detailed, prune;
	const char *at, *out;
	const char *force[MAX_FORCE];
	size_t nforce;
	cli_source src;
} plan_cmd_opts;

static void usage(FILE *f)
{
	fputs("Usage: certops plan [options] [DIR]\n\n"
	      "Compares the declarations in DIR (default .) with the state store and\n"
	      "what is deployed, and prints the actions apply would take, each with its\n"
	      "reason.  Changes nothing; a missing state store means nothing issued yet.\n\n"
	      "  --json                print the plan as JSON (schemas/plan.schema.json)\n"
	      "  --detailed-exitcode   exit 2 when there are changes, 0 when none\n"
	      "  --at TIME             plan as of TIME (2026-12-15, 2026-12-15T00:00:00Z, +30d)\n"
	      "  -o, --out FILE        save the plan for `certops apply FILE`\n"
	      "  --prune               remove what is no longer declared\n"
	      "  --force NAME          reissue certificate NAME (repeatable)\n\n"
	      "Exit status: 0 success (no changes with --detailed-exitcode), 2 changes\n"
	      "(with --detailed-exitcode), 1 error, 64 usage, 65 invalid declarations.\n"
	      "With --repo the plan names the commit (a \"Source:\" line; \"source\" in\n"
	      "JSON and in a saved plan).\n\n", f);
	cli_source_help(f);
	cli_global_help(f);
}

static int on_opt(cli_ctx *ctx, int opt, const char *arg, void *data)
{
	plan_cmd_opts *o = data;
	int rc;

	(void)ctx;
	switch (opt) {
	case OPT_JSON: o->json = 1; break;
	case OPT_DETAILED: o->detailed = 1; break;
	case OPT_AT: o->at = arg; break;
	case 'o':
	case OPT_OUT: o->out = arg; break;
	case OPT_PRUNE: o->prune = 1; break;
	case OPT_FORCE:
		if (o->nforce == MAX_FORCE)
			return cli_usage_error(&cli_cmd_plan, "too many --force options");
		o->force[o->nforce++] = arg;
		break;
	default:
		rc = cli_source_opt(&o->src, opt, arg);
		return rc == 1 ? cli_usage_error(&cli_cmd_plan, "unknown option") : rc;
	}
	return 0;
}

static int run(cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		{ "detailed-exitcode", no_argument, NULL, OPT_DETAILED },
		{ "at", required_argument, NULL, OPT_AT },
		{ "out", required_argument, NULL, OPT_OUT },
		{ "prune", no_argument, NULL, OPT_PRUNE },
		{ "force", required_argument, NULL, OPT_FORCE },
		CLI_SOURCE_OPTIONS,
		{ NULL, 0, NULL, 0 }
	};
	plan_cmd_opts o;
	plan_options po;
	cmd_world w;
	plan *p = NULL;
	source_result *src = NULL;
	util_buf b = UTIL_BUF_INIT;
	const char *dir = NULL;
	time_t now = time(NULL);
	int first, rc, exit_code = CLI_EXIT_ERROR;
	size_t i;

	memset(&o, 0, sizeof(o));
	memset(&w, 0, sizeof(w));
	rc = cli_parse(ctx, &cli_cmd_plan, argc, argv, opts, "o:", on_opt, &o, &first);
	if (rc)
		return rc == 1 ? CLI_EXIT_OK : rc;
	if (argc - first > 1)
		return cli_usage_error(&cli_cmd_plan, "expected at most one directory");
	if (first < argc)
		dir = argv[first];
	if (o.at && util_time_parse(&now, o.at, now) < 0)
		return cli_usage_error(&cli_cmd_plan, "invalid --at '%s': %s", o.at,
				       util_error_message());

	if (cli_source_given(&o.src)) {
		if ((rc = cli_source_resolve(&src, &o.src, ctx, dir)) != 0) {
			exit_code = rc;
			goto done;
		}
		dir = src->dir;
		if (src->url)
			util_log_info("plan", "source %s at commit %s%s", src->url, src->commit,
				      src->offline ? " (offline: cached)" : "");
	}
	if ((rc = cmd_world_load(&w, ctx, dir ? dir : ".", 0)) != 0) {
		exit_code = rc;
		goto done;
	}
	memset(&po, 0, sizeof(po));
	po.now = now;
	po.prune = o.prune;
	po.force = o.force;
	po.nforce = o.nforce;
	for (i = 0; i < o.nforce; i++)
		if (!config_find_certificate(w.set, o.force[i])) {
			exit_code = cli_usage_error(&cli_cmd_plan,
				"--force '%s': no such certificate is declared", o.force[i]);
			goto done;
		}
	if (plan_new(&p, w.set, w.obs, &po) < 0 ||
	    (src && src->url && plan_set_source(p, src->url, src->ref, src->commit) < 0)) {
		cli_print_error("planning");
		goto done;
	}
	if (o.json)
		rc = plan_render_json(&b, p);
	else
		rc = plan_render_human(&b, p, cmd_out_color(ctx) ? PLAN_RENDER_COLOR : 0);
	if (rc < 0) {
		cli_print_error("rendering the plan");
		goto done;
	}
	if (o.at && !o.json) {
		util_buf when = UTIL_BUF_INIT;

		util_time_format(&when, now);
		fprintf(ctx->out, "Planning as of %s (--at).\n\n", when.ptr);
		util_buf_free(&when);
	}
	fputs(b.ptr, ctx->out);
	if (o.out) {
		if (plan_save(p, o.out) < 0) {
			cli_print_error("saving the plan");
			goto done;
		}
		if (!o.json)
			fprintf(ctx->out, "\nSaved the plan to %s; apply it with: certops apply %s\n",
				o.out, o.out);
	}
	exit_code = o.detailed && plan_has_changes(p) ? CLI_EXIT_CHANGES : CLI_EXIT_OK;
done:
	util_buf_free(&b);
	plan_free(p);
	cmd_world_free(&w);
	source_result_free(src);
	return exit_code;
}

const cli_command cli_cmd_plan = { "plan", "show what apply would change",
	"certops plan [--json] [--detailed-exitcode] [--at TIME] [-o FILE] [--prune] [DIR]",
	run, usage };
