/* certops reconcile: fetch, plan and apply in a loop.  The command is wired up; the engine lands later. */
#include "cli.h"

static void usage(FILE *f)
{
	fputs("Usage: certops reconcile [--once]\n\n"
	      "The periodic loop: fetch, validate, plan, apply, verify, record, sleep.\n\n", f);
	cli_global_help(f);
}

static int run(cli_ctx *ctx, int argc, char **argv)
{
	int first, rc;

	rc = cli_parse(ctx, &cli_cmd_reconcile, argc, argv, NULL, "", NULL, NULL, &first);
	if (rc)
		return rc == 1 ? CLI_EXIT_OK : rc;
	return cli_not_yet(&cli_cmd_reconcile);
}

const cli_command cli_cmd_reconcile = { "reconcile", "fetch, plan and apply in a loop",
	"certops reconcile [--once]", run, usage };
