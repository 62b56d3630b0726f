/* certops apply: make the world match the declarations.  The command is wired up; the engine lands later. */
#include "cli.h"

static void usage(FILE *f)
{
	fputs("Usage: certops apply [DIR]\n\n"
	      "Issues, renews and deploys certificates until the plan is empty.\n\n", f);
	cli_global_help(f);
}

static int run(cli_ctx *ctx, int argc, char **argv)
{
	int first, rc;

	rc = cli_parse(ctx, &cli_cmd_apply, argc, argv, NULL, "", NULL, NULL, &first);
	if (rc)
		return rc == 1 ? CLI_EXIT_OK : rc;
	return cli_not_yet(&cli_cmd_apply);
}

const cli_command cli_cmd_apply = { "apply", "make the world match the declarations",
	"certops apply [DIR]", run, usage };
