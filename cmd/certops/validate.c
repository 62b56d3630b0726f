/* certops validate: check declarations and the local policy; changes nothing. */
#include <string.h>

#include "cli.h"
#include "config/config.h"
#include "config/policy.h"
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
		util_buf_put_json_string(&b, e->code == CERTOPS_EPOLICY ?
					 "policy" : "invalid");
		util_buf_putc(&b, '}');
	}
	util_buf_puts(&b, d->count ? "\n]\n" : "]\n");
	fputs(util_buf_failed(&b) ? "[]\n" : b.ptr, out);
	util_buf_free(&b);
}

static void print_text(FILE *out, const util_diags *d)
{
	util_buf b = UTIL_BUF_INIT;
	size_t i;

	for (i = 0; i < d->count; i++) {
		util_buf_clear(&b);
		util_error_format(&b, &d->items[i]);
		fprintf(out, "%s\n", b.ptr);
	}
	util_buf_free(&b);
}

static int run(cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		CLI_SOURCE_OPTIONS,
		{ NULL, 0, NULL, 0 }
	};
	validate_opts o;
	source_result *src = NULL;
	util_diags diags = UTIL_DIAGS_INIT;
	config_set *set = NULL;
	config_policy *policy = NULL;
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
	/* a FILE operand is only for a plain directory source */
	if (cli_source_given(&o.src)) {
		if ((rc = cli_source_resolve(&src, &o.src, ctx, dir)) != 0)
			return rc;
		dir = src->dir;
		if (src->url)
			cli_source_describe(o.json ? stderr : ctx->out, src);
	} else if (!dir) {
		dir = ".";
	}

	error = config_load_dir(&set, &diags, dir);
	if (error < 0 && error != CERTOPS_EINVALID) {
		cli_print_error("loading declarations");
		exit_code = CLI_EXIT_ERROR;
		goto done;
	}
	/* The policy is checked even when declarations have errors, so that
	 * one run shows every problem. */
	error = config_policy_open(&policy, &diags, ctx->policy_path,
				   ctx->state_dir);
	if (error == CERTOPS_ENOMEM) {
		cli_print_error("loading the policy");
		exit_code = CLI_EXIT_ERROR;
		goto done;
	}
	if (policy && set && config_policy_check(policy, set, &diags) < 0) {
		cli_print_error("checking the policy");
		exit_code = CLI_EXIT_ERROR;
		goto done;
	}
	util_diags_sort(&diags);
	if (o.json)
		print_json(ctx->out, &diags);
	else
		print_text(ctx->out, &diags);
	if (diags.count) {
		fprintf(stderr, "certops: %zu problem%s in %s\n", diags.count,
			diags.count == 1 ? "" : "s", dir);
		exit_code = CLI_EXIT_DATAERR;
	} else {
		if (!o.json)
			fprintf(ctx->out,
				"valid: %zu issuer%s, %zu solver%s, %zu certificate%s in %zu file%s (policy: %s)\n",
				set->nissuers, set->nissuers == 1 ? "" : "s",
				set->nsolvers, set->nsolvers == 1 ? "" : "s",
				set->ncertificates,
				set->ncertificates == 1 ? "" : "s",
				set->nfiles, set->nfiles == 1 ? "" : "s",
				config_policy_source(policy));
		exit_code = CLI_EXIT_OK;
	}
done:
	config_policy_free(policy);
	config_set_free(set);
	util_diags_free(&diags);
	source_result_free(src);
	return exit_code;
}

const cli_command cli_cmd_validate = { "validate",
	"check declarations and the local policy",
	"certops validate [--json] [DIR|FILE]", run, usage };
