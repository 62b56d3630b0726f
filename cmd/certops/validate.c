/* certops validate: check declarations and the local policy; changes nothing. */
#include <string.h>

#include "cli.h"
#include "source_opts.h"

/* Above the global options' values (cli.c uses 1000 and up). */
enum { OPT_JSON = 2000 };

typedef struct {
	int json;
	cli_source src;
} validate_opts;

static void usage(FILE *f)
{
	fputs("Usage: certops validate [--json] [source options] [DIR|FILE]\n\n"
	      "Loads every *.yaml/*.yml below DIR (default .), or one FILE, checks the\n"
	      "declarations and the local policy, and reports every problem as\n"
	      "file:line:column: field: message.  Changes nothing.\n\n"
	      "  --json    print the problems as a JSON array of\n"
	      "            {file, line, column, field, message, code}\n\n"
	      "Exit status: 0 valid, 65 invalid declarations or policy, 64 usage,\n"
	      "1 when DIR cannot be read.  With --repo the commit checked is printed\n"
	      "first (\"source: URL REF at commit ID\"; on stderr with --json).\n\n", f);
	cli_source_help(f);
	cli_global_help(f);
}

static int on_opt(cli_ctx *ctx, int opt, const char *arg, void *data)
{
	validate_opts *o = data;
	int rc;

	(void)ctx;
	if (opt == OPT_JSON) {
		o->json = 1;
		return 0;
	}
	rc = cli_source_opt(&o->src, opt, arg);
	return rc == 1 ? cli_usage_error(&cli_cmd_validate, "unknown option") : rc;
}

static void print_json(FILE *out, const util_diags *d)
{
	util_buf b = UTIL_BUF_INIT;
	size_t i;

	util_buf_putc(&b, '[');
	for (i = 0; i < d->count; i++) {
		const util_error *e = &d->items[i];

		util_buf_puts(&b, i ? ",\n {" : "\n {");
		util_buf_puts(&b, "\"file\":");
		util_buf_put_json_string(&b, e->file ? e->file : "");
		util_buf_printf(&b, ",\"line\":%u,\"column\":%u,\"field\":",
				e->line, e->column);
		if (e->field)
			util_buf_put_json_string(&b, e->field);
		else
			util_buf_puts(&b, "null");
		util_buf_puts(&b, ",\"message\":");
		util_buf_put_json_string(&b, e->message ? e->message : "");
		util_buf_puts(&b, ",\"code\":");
		util_buf_put_json_string(&b, e->code == CERTOPS_EPOLICY ? "policy" :
					 e->code == CERTOPS_EUNSUPPORTED ? "unsupported" : "invalid");
		util_buf_putc(&b, '}');
	}
	util_buf_puts(&b, d->count ? "\n]\n" : "]\n");
	fputs(util_buf_failed(&b) ? "[]\n" : b.ptr, out);
	util_buf_release(&b);
}

/* With --repo, the commit checked comes first (on stderr with --json). */
static void on_source(void *data, const source_result *src)
{
	const validate_opts *o = data;

	if (src->url)
		cli_source_describe(o->json ? stderr : stdout, src);
}

static int run(cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		CLI_SOURCE_OPTIONS,
		{ NULL, 0, NULL, 0 }
	};
	validate_opts o;
	engine_options eo;
	engine_events ev = { .source = on_source };
	engine *e = NULL;
	const char *dir = NULL;
	int first, rc, error, exit_code;

	memset(&o, 0, sizeof(o));
	rc = cli_parse(ctx, &cli_cmd_validate, argc, argv, opts, "", on_opt, &o,
		       &first);
	if (rc)
		return rc == 1 ? CLI_EXIT_OK : rc;
	if (argc - first > 1)
		return cli_usage_error(&cli_cmd_validate,
				       "expected at most one directory");
	if (first < argc)
		dir = argv[first];
	ev.data = &o;
	cli_engine_options(&eo, ctx, &o.src, dir);
	error = engine_new(&e, &eo);
	if (error == 0)
		error = engine_load(e, &ev);
	if (error < 0 && !(e && e->diags.count)) {
		exit_code = cli_engine_fail(&cli_cmd_validate, e, error, NULL);
		goto done;
	}
	/* the problems are the result: on stdout */
	if (o.json)
		print_json(ctx->out, &e->diags);
	else
		cli_print_diags(ctx->out, &e->diags);
	if (e->diags.count) {
		fprintf(stderr, "certops: %zu problem%s in %s\n", e->diags.count,
			e->diags.count == 1 ? "" : "s", e->dir);
		exit_code = CLI_EXIT_DATAERR;
	} else {
		const config_set *set = e->set;

		if (!o.json)
			fprintf(ctx->out,
				"valid: %zu issuer%s, %zu solver%s, %zu certificate%s in %zu file%s (policy: %s)\n",
				set->nissuers, set->nissuers == 1 ? "" : "s",
				set->nsolvers, set->nsolvers == 1 ? "" : "s",
				set->ncertificates,
				set->ncertificates == 1 ? "" : "s",
				set->nfiles, set->nfiles == 1 ? "" : "s",
				config_policy_source(e->policy));
		exit_code = CLI_EXIT_OK;
	}
done:
	engine_free(e);
	return exit_code;
}

const cli_command cli_cmd_validate = { "validate",
	"check declarations and the local policy",
	"certops validate [--json] [DIR|FILE]", run, usage };
