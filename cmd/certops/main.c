/* certops: the entry point.  Global options, then a git-style subcommand. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "util/version.h"

static const cli_command *const commands[] = {
	&cli_cmd_validate, &cli_cmd_plan,   &cli_cmd_apply,
	&cli_cmd_reconcile, &cli_cmd_status, &cli_cmd_version,
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const char top_synopsis[] =
	"certops [global options] <command> [options] [args]";

static void top_usage(FILE *f)
{
	size_t i;

	fprintf(f, "Usage: %s\n\n", top_synopsis);
	fputs("Keeps TLS certificates true to a declaration kept in Git.\n\n"
	      "Commands:\n", f);
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-11s %s\n", commands[i]->name, commands[i]->summary);
	fputc('\n', f);
	cli_global_help(f);
	fputs("\nRun 'certops <command> --help' for a command's options.\n"
	      "Exit codes: 0 ok, 1 error, 2 changes pending (plan --detailed-exitcode),\n"
	      "64 usage, 65 invalid declarations or policy, 75 state locked.\n", f);
}

static const cli_command top = {
	"certops", NULL, top_synopsis,
	NULL, top_usage
};

int main(int argc, char **argv)
{
	cli_ctx ctx;
	int first = 0, rc;
	size_t i;
	const char *name;

	memset(&ctx, 0, sizeof(ctx));
	ctx.out = stdout;
	ctx.state_dir = getenv("CERTOPS_STATE");

	rc = cli_parse(&ctx, &top, argc, argv, NULL, "", NULL, NULL, &first);
	if (rc == 1)
		return CLI_EXIT_OK;
	if (rc != 0)
		return rc;
	if (first >= argc)
		return cli_usage_error(&top, "no command given");
	name = argv[first];
	if (strcmp(name, "help") == 0) {
		top_usage(stdout);
		return CLI_EXIT_OK;
	}
	for (i = 0; i < NCOMMANDS; i++) {
		if (strcmp(name, commands[i]->name) == 0) {
			cli_setup_logging(&ctx);
			rc = commands[i]->run(&ctx, argc - first, argv + first);
			return rc;
		}
	}
	if (strcmp(name, "--version") == 0)
		return cli_cmd_version.run(&ctx, 1, argv + first);
	return cli_usage_error(&top, "unknown command '%s'", name);
}
