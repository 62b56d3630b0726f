/*
 * certops status: the inventory.  Every declared certificate with what the
 * store holds for it, each target, and the last reconcile cycle, as a
 * table, JSON (schemas/status.schema.json) or the Prometheus exposition
 * reconcile's --metrics-file also writes.  Read-only: the model and its
 * renderers are lib/report; this file parses options and prints.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "report/report.h"
#include "source_opts.h"
#include "util/error.h"

enum { OPT_JSON = 2000, OPT_FORMAT };
enum { FMT_TEXT = 0, FMT_JSON, FMT_PROMETHEUS };

typedef struct {
	int format;
	cli_source src;
} status_opts;

static void usage(FILE *f)
{
	fputs("Usage: certops status [--json | --format text|json|prometheus]\n"
	      "         [source options] [DIR]\n\n"
	      "Lists every certificate declared in DIR (default .): identifiers,\n"
	      "issuer, key, not-after, time left, when renewal is due, and each deploy\n"
	      "target: in sync or why not, last deploy and its result.  Read-only.\n\n"
	      "  --json               the same as JSON (schemas/status.schema.json)\n"
	      "  --format prometheus  metrics for node_exporter's textfile collector,\n"
	      "                       the same vocabulary as reconcile --metrics-file\n\n"
	      "The last `certops reconcile` cycle follows (its result, commit and any\n"
	      "failing certificate; \"reconcile\" in JSON), and with --repo the commit\n"
	      "the declarations were read at (\"source\" in JSON).\n\n"
	      "Exit status: 0, 1 error, 64 usage, 65 invalid declarations.\n\n", f);
	cli_source_help(f);
	cli_global_help(f);
}

static int on_opt(cli_ctx *ctx, int opt, const char *arg, void *data)
{
	status_opts *o = data;
	int rc;

	(void)ctx;
	if (opt == OPT_JSON) {
		o->format = FMT_JSON;
	} else if (opt == OPT_FORMAT) {
		if (!strcmp(arg, "text"))
			o->format = FMT_TEXT;
		else if (!strcmp(arg, "json"))
			o->format = FMT_JSON;
		else if (!strcmp(arg, "prometheus"))
			o->format = FMT_PROMETHEUS;
		else
			return cli_usage_error(&cli_cmd_status,
				"invalid --format '%s' (expected text, json or prometheus)", arg);
	} else {
		rc = cli_source_opt(&o->src, opt, arg);
		return rc == 1 ? cli_usage_error(&cli_cmd_status, "unknown option") : rc;
	}
	return 0;
}

/*
 * The one place status reads the world: declarations, policy, store and
 * observation (offline: status never probes), then the plan at now and
 * the last reconcile cycle, into the report.  Returns 0 or the exit code.
 */

static int run(cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		{ "format", required_argument, NULL, OPT_FORMAT },
		CLI_SOURCE_OPTIONS,
		{ NULL, 0, NULL, 0 }
	};
	status_opts o;
	engine_options eo;
	engine *e = NULL;
	report *r = NULL;
	util_buf b = UTIL_BUF_INIT;
	const char *dir = NULL;
	int first, rc, error, exit_code = CLI_EXIT_ERROR;

	memset(&o, 0, sizeof(o));
	rc = cli_parse(ctx, &cli_cmd_status, argc, argv, opts, "", on_opt, &o, &first);
	if (rc)
		return rc == 1 ? CLI_EXIT_OK : rc;
	if (argc - first > 1)
		return cli_usage_error(&cli_cmd_status, "expected at most one directory");
	if (first < argc)
		dir = argv[first];
	cli_engine_options(&eo, ctx, &o.src, dir);
	if ((error = engine_new(&e, &eo)) < 0 || (error = engine_load(e, NULL)) < 0 ||
	    (error = engine_status(&r, e, time(NULL), NULL)) < 0) {
		exit_code = cli_engine_fail(&cli_cmd_status, e, error, NULL);
		goto done;
	}
	if (o.format == FMT_JSON)
		rc = report_render_json(&b, r);
	else if (o.format == FMT_PROMETHEUS)
		rc = report_render_prometheus(&b, r, 0);
	else
		rc = report_render_text(&b, r, 0);
	if (rc < 0) {
		cli_print_error("rendering the status");
		goto done;
	}
	fputs(b.ptr, ctx->out);
	exit_code = CLI_EXIT_OK;
done:
	util_buf_release(&b);
	report_free(r);
	engine_free(e);
	return exit_code;
}

const cli_command cli_cmd_status = { "status", "list certificates and deployments",
	"certops status [--json | --format text|json|prometheus] [DIR]", run, usage };
