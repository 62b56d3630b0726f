/* certops plan: show what apply would change; changes nothing. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "plan/plan.h"
#include "source_opts.h"
#include "util/duration.h"
#include "util/error.h"

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
	engine_options eo;
	engine_plan_options po;
	engine *e = NULL;
	plan *p = NULL;
	util_buf b = UTIL_BUF_INIT;
	const char *dir = NULL;
	time_t now = time(NULL);
	int first, rc, error, exit_code = CLI_EXIT_ERROR;

	memset(&o, 0, sizeof(o));
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

	cli_engine_options(&eo, ctx, &o.src, dir);
	memset(&po, 0, sizeof(po));
	po.now = now;
	po.prune = o.prune;
	po.force = o.force;
	po.nforce = o.nforce;
	if ((error = engine_new(&e, &eo)) < 0 || (error = engine_load(e, NULL)) < 0 ||
	    (error = engine_plan(&p, e, &po)) < 0) {
		exit_code = cli_engine_fail(&cli_cmd_plan, e, error, NULL);
		goto done;
	}
	if (o.json)
		rc = plan_render_json(&b, p);
	else
		rc = plan_render_human(&b, p, cli_out_color(ctx) ? PLAN_RENDER_COLOR : 0);
	if (rc < 0) {
		cli_print_error("rendering the plan");
		goto done;
	}
	if (o.at && !o.json) {
		util_buf when = UTIL_BUF_INIT;

		util_time_format(&when, now);
		fprintf(ctx->out, "Planning as of %s (--at).\n\n", when.ptr);
		util_buf_release(&when);
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
	util_buf_release(&b);
	plan_free(p);
	engine_free(e);
	return exit_code;
}

const cli_command cli_cmd_plan = { "plan", "show what apply would change",
	"certops plan [--json] [--detailed-exitcode] [--at TIME] [-o FILE] [--prune] [DIR]",
	run, usage };
