#include "cli.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/error.h"

/* Long-option values above any character, so they never clash with a
 * command's short options. */
enum {
	OPT_STATE = 1000,
	OPT_POLICY,
	OPT_LOG_FORMAT,
	OPT_NO_COLOR,
	OPT_HELP,
	OPT_VERBOSE = 'v',
	OPT_QUIET = 'q'
};

static const struct option global_opts[] = {
	{ "state", required_argument, NULL, OPT_STATE },
	{ "policy", required_argument, NULL, OPT_POLICY },
	{ "verbose", no_argument, NULL, OPT_VERBOSE },
	{ "quiet", no_argument, NULL, OPT_QUIET },
	{ "log-format", required_argument, NULL, OPT_LOG_FORMAT },
	{ "no-color", no_argument, NULL, OPT_NO_COLOR },
	{ "help", no_argument, NULL, OPT_HELP },
};
#define NGLOBAL (sizeof(global_opts) / sizeof(global_opts[0]))

void cli_global_help(FILE *f)
{
	fputs("Global options (before or after the command):\n"
	      "  --state DIR          state directory (env CERTOPS_STATE;\n"
	      "                       default $XDG_STATE_HOME/certops, or /var/lib/certops as root)\n"
	      "  --policy FILE        local policy (default /etc/certops/policy.yaml when present)\n"
	      "  -v, --verbose        more log output (repeat for trace)\n"
	      "  -q, --quiet          errors only\n"
	      "  --log-format FMT     text (default) or json log lines on stderr\n"
	      "  --no-color           no colour (also when NO_COLOR is set)\n"
	      "  -h, --help           this help\n",
	      f);
}

int cli_usage_error(const cli_command *cmd, const char *fmt, ...)
{
	va_list ap;

	fputs("certops: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (cmd && cmd->synopsis)
		fprintf(stderr, "usage: %s\nRun 'certops%s%s --help' for more.\n",
			cmd->synopsis, cmd->run ? " " : "",
			cmd->run ? cmd->name : "");
	return CLI_EXIT_USAGE;
}

void cli_print_error(const char *context)
{
	const util_error *e = util_error_last();
	util_buf b = UTIL_BUF_INIT;

	if (e)
		util_error_format(&b, e);
	else
		util_buf_puts(&b, "unknown error");
	if (context)
		fprintf(stderr, "certops: error: %s: %s\n", context, b.ptr);
	else
		fprintf(stderr, "certops: error: %s\n", b.ptr);
	util_buf_release(&b);
}

void cli_setup_logging(cli_ctx *ctx)
{
	int level = UTIL_LOG_INFO + ctx->verbosity;

	if (level < UTIL_LOG_ERROR)
		level = UTIL_LOG_ERROR;
	if (level > UTIL_LOG_TRACE)
		level = UTIL_LOG_TRACE;
	ctx->color = !ctx->no_color && !getenv("NO_COLOR") &&
		     isatty(STDERR_FILENO);
	util_log_setup((util_log_level)level, ctx->log_format, ctx->color, NULL);
}

static int global_opt(cli_ctx *ctx, int opt, const char *arg)
{
	switch (opt) {
	case OPT_STATE:
		ctx->state_dir = arg;
		return 0;
	case OPT_POLICY:
		ctx->policy_path = arg;
		return 0;
	case OPT_VERBOSE:
		ctx->verbosity++;
		return 0;
	case OPT_QUIET:
		ctx->verbosity--;
		return 0;
	case OPT_NO_COLOR:
		ctx->no_color = 1;
		return 0;
	case OPT_LOG_FORMAT:
		if (strcmp(arg, "text") == 0)
			ctx->log_format = UTIL_LOG_TEXT;
		else if (strcmp(arg, "json") == 0)
			ctx->log_format = UTIL_LOG_JSON;
		else
			return cli_usage_error(NULL,
				"invalid --log-format '%s' (expected text or json)", arg);
		return 0;
	}
	return -1;
}

int cli_parse(cli_ctx *ctx, const cli_command *cmd, int argc, char **argv,
	      const struct option *opts, const char *shortopts,
	      int (*on_opt)(cli_ctx *ctx, int opt, const char *arg, void *data),
	      void *data, int *first_arg)
{
	struct option all[64];
	char shorts[64];
	size_t n = 0, i;
	int opt, rc;

	if (opts)
		for (; opts[n].name; n++)
			all[n] = opts[n];
	if (n + NGLOBAL + 1 > sizeof(all) / sizeof(all[0]))
		abort(); /* programmer error: too many options */
	for (i = 0; i < NGLOBAL; i++)
		all[n + i] = global_opts[i];
	memset(&all[n + NGLOBAL], 0, sizeof(all[0]));
	/* The top level stops at the command name ('+'); a command takes its
	 * options before or after its operands (apply PLAN --dir DIR).  ':'
	 * reports a missing argument. */
	rc = snprintf(shorts, sizeof(shorts), "%s:%svqh", cmd->run ? "" : "+",
		      shortopts ? shortopts : "");
	if (rc < 0 || (size_t)rc >= sizeof(shorts))
		abort();

	optind = 0; /* 0: glibc re-reads the ordering flag of shorts */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, shorts, all, NULL)) != -1) {
		if (opt == 'h' || opt == OPT_HELP) {
			cmd->usage(stdout);
			return 1;
		}
		if (opt == '?') {
			if (optopt)
				return cli_usage_error(cmd, "unknown option '-%c'", optopt);
			return cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
		}
		if (opt == ':')
			return cli_usage_error(cmd, "option '%s' needs a value",
					       argv[optind - 1]);
		rc = global_opt(ctx, opt, optarg);
		if (rc == 0)
			continue;
		if (rc > 0)
			return rc;
		if (!on_opt)
			return cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
		rc = on_opt(ctx, opt, optarg, data);
		if (rc != 0)
			return rc;
	}
	*first_arg = optind;
	/* Global options given after the command (-v, --log-format, ...)
	 * take effect too. */
	cli_setup_logging(ctx);
	return 0;
}

int cli_not_yet(const cli_command *cmd)
{
	fprintf(stderr, "certops: '%s' is not implemented in this build yet\n",
		cmd->name);
	return CLI_EXIT_ERROR;
}

int cli_out_color(const cli_ctx *ctx)
{
	return !ctx->no_color && !getenv("NO_COLOR") && isatty(fileno(ctx->out));
}

int cli_exit_code(int error)
{
	switch (error) {
	case 0: return CLI_EXIT_OK;
	case CERTOPS_EINVALID:
	case CERTOPS_EUNSUPPORTED: return CLI_EXIT_DATAERR;
	case CERTOPS_EUSAGE: return CLI_EXIT_USAGE;
	case CERTOPS_ELOCKED: return CLI_EXIT_TEMPFAIL;
	default: return CLI_EXIT_ERROR;
	}
}

void cli_print_diags(FILE *f, const util_diags *d)
{
	util_buf b = UTIL_BUF_INIT;
	size_t i;

	for (i = 0; i < d->count; i++) {
		util_buf_clear(&b);
		util_error_format(&b, &d->items[i]);
		fprintf(f, "%s\n", b.ptr);
	}
	util_buf_release(&b);
}

int cli_engine_fail(const cli_command *cmd, const engine *e, int error,
		    const char *suffix)
{
	if (error == CERTOPS_EUSAGE)
		return cli_usage_error(cmd, "%s", util_error_message());
	if (e && e->diags.count) {
		cli_print_diags(stderr, &e->diags);
		fprintf(stderr, "certops: %zu problem%s in %s%s\n", e->diags.count,
			e->diags.count == 1 ? "" : "s", e->dir ? e->dir : ".",
			suffix ? suffix : "");
	} else {
		cli_print_error(NULL);
	}
	return cli_exit_code(error);
}
