/*
 * certops status: the inventory.  Every declared certificate with what the
 * store holds for it, each target, and the last reconcile cycle, as a
 * table, JSON (schemas/status.schema.json) or the Prometheus exposition
 * reconcile's --metrics-file also writes.  Read-only: the model and its
 * renderers are lib/report; this file parses options and prints.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "plan/plan.h"
#include "report/report.h"
#include "source_opts.h"
#include "util/error.h"
#include "util/fs.h"
#include "world.h"

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
 * TEMPORARY, until lib/state's state_reconcile_get lands (branch state):
 * reads reconcile's <state>/reconcile/status.json into the typed record.
 * CERTOPS_ENOTFOUND when no cycle was recorded.
 */
static char *jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s && *s ? strdup(s) : NULL;
}

static void last_clear(state_reconcile_status *s)
{
	size_t i;

	for (i = 0; i < s->ncerts; i++) {
		free(s->certs[i].name);
		free(s->certs[i].result);
		free(s->certs[i].message);
	}
	free(s->certs);
	free(s->result);
	free(s->commit);
	free(s->url);
	free(s->ref);
	free(s->message);
	memset(s, 0, sizeof(*s));
}

static int last_get(state_reconcile_status *out, state *st)
{
	util_buf path = UTIL_BUF_INIT, data = UTIL_BUF_INIT;
	json_t *doc = NULL, *certs, *c;
	size_t i;
	int error = CERTOPS_ENOTFOUND;

	memset(out, 0, sizeof(*out));
	util_fs_join(&path, state_path(st), "reconcile/status.json");
	if (util_buf_failed(&path) || util_fs_read_file(&data, path.ptr, 16u << 20) < 0 ||
	    !(doc = json_loadb(data.ptr, data.size, 0, NULL)) || !json_is_object(doc))
		goto done;
	out->cycles = json_integer_value(json_object_get(doc, "cycles"));
	out->failures = json_integer_value(json_object_get(doc, "failures"));
	out->offline_cycles = json_integer_value(json_object_get(doc, "offlineCycles"));
	out->notify_failures = json_integer_value(json_object_get(doc, "notifyFailures"));
	out->last_run = (time_t)json_integer_value(json_object_get(doc, "lastRun"));
	out->last_success = (time_t)json_integer_value(json_object_get(doc, "lastSuccess"));
	out->duration = json_number_value(json_object_get(doc, "durationSeconds"));
	out->result = jstr(doc, "result");
	out->offline = json_is_true(json_object_get(doc, "offline"));
	out->problems = json_integer_value(json_object_get(doc, "problems"));
	out->commit = jstr(doc, "commit");
	out->url = jstr(doc, "url");
	out->ref = jstr(doc, "ref");
	out->message = jstr(doc, "message");
	certs = json_object_get(doc, "certificates");
	if (json_is_array(certs)) {
		out->has_certs = 1;
		out->certs = calloc(json_array_size(certs) + 1, sizeof(*out->certs));
		if (!out->certs) {
			last_clear(out);
			error = util_error_set(CERTOPS_ENOMEM, "out of memory");
			goto done;
		}
		json_array_foreach(certs, i, c) {
			state_reconcile_cert *rc = &out->certs[out->ncerts++];

			rc->name = jstr(c, "name");
			rc->result = jstr(c, "result");
			rc->failures = json_integer_value(json_object_get(c, "failures"));
			rc->next_attempt = (time_t)json_integer_value(json_object_get(c, "nextAttempt"));
			rc->message = jstr(c, "message");
			rc->expiring = json_is_true(json_object_get(c, "expiring"));
		}
	}
	error = 0;
done:
	if (error == CERTOPS_ENOTFOUND)
		util_error_clear();
	json_decref(doc);
	util_buf_free(&path);
	util_buf_free(&data);
	return error;
}

/*
 * The one place status reads the world: declarations, policy, store and
 * observation (offline: status never probes), then the plan at now and
 * the last reconcile cycle, into the report.  Returns 0 or the exit code.
 */
static int load(report **out, cli_ctx *ctx, const char *dir, const source_result *src,
		time_t now)
{
	cmd_world w;
	plan_options po;
	plan *p = NULL;
	state_reconcile_status last;
	int has_last = 0, error, rc;

	memset(&last, 0, sizeof(last));
	if ((rc = cmd_world_load(&w, ctx, dir, OBSERVE_OFFLINE)) != 0)
		goto done;
	rc = CLI_EXIT_ERROR;
	memset(&po, 0, sizeof(po));
	po.now = now;
	if (plan_new(&p, w.set, w.obs, &po) < 0) {
		cli_print_error("planning");
		goto done;
	}
	if (w.st) {
		if ((error = last_get(&last, w.st)) < 0 && error != CERTOPS_ENOTFOUND) {
			cli_print_error("reading the last reconcile cycle");
			goto done;
		}
		has_last = error == 0;
	}
	if (report_build(out, w.set, w.obs, p, has_last ? &last : NULL, src, now) < 0) {
		cli_print_error("building the status");
		goto done;
	}
	rc = 0;
done:
	last_clear(&last);
	plan_free(p);
	cmd_world_free(&w);
	return rc;
}

static int run(cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		{ "format", required_argument, NULL, OPT_FORMAT },
		CLI_SOURCE_OPTIONS,
		{ NULL, 0, NULL, 0 }
	};
	status_opts o;
	source_result *src = NULL;
	report *r = NULL;
	util_buf b = UTIL_BUF_INIT;
	const char *dir = NULL;
	int first, rc, exit_code = CLI_EXIT_ERROR;

	memset(&o, 0, sizeof(o));
	rc = cli_parse(ctx, &cli_cmd_status, argc, argv, opts, "", on_opt, &o, &first);
	if (rc)
		return rc == 1 ? CLI_EXIT_OK : rc;
	if (argc - first > 1)
		return cli_usage_error(&cli_cmd_status, "expected at most one directory");
	if (first < argc)
		dir = argv[first];
	if (cli_source_given(&o.src)) {
		if ((rc = cli_source_resolve(&src, &o.src, ctx, dir)) != 0) {
			exit_code = rc;
			goto done;
		}
		dir = src->dir;
	}
	if ((rc = load(&r, ctx, dir ? dir : ".", src, time(NULL))) != 0) {
		exit_code = rc;
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
	util_buf_free(&b);
	report_free(r);
	source_result_free(src);
	return exit_code;
}

const cli_command cli_cmd_status = { "status", "list certificates and deployments",
	"certops status [--json | --format text|json|prometheus] [DIR]", run, usage };
