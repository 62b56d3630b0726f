/* certops plan: show what apply would change.  The command is wired up; the engine lands later. */
#include "cli.h"

static void usage(FILE *f)
{
	fputs("Usage: certops plan [DIR]\n\n"
	      "Compares the declarations with the state store and what is deployed,\nand prints the actions apply would take. Changes nothing.\n\n", f);
	cli_global_help(f);
}

static int run(cli_ctx *ctx, int argc, char **argv)
{
	int first, rc;

	rc = cli_parse(ctx, &cli_cmd_plan, argc, argv, NULL, "", NULL, NULL, &first);
	if (rc)
		return rc == 1 ? CLI_EXIT_OK : rc;
	return cli_not_yet(&cli_cmd_plan);
}

const cli_command cli_cmd_plan = { "plan", "show what apply would change",
	"certops plan [DIR]", run, usage };
