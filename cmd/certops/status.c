/* certops status: show certificates, deployments and the last run.  The command is wired up; the engine lands later. */
#include "cli.h"

static void usage(FILE *f)
{
	fputs("Usage: certops status \n\n"
	      "Reads the state store and prints what certops holds and deployed.\n\n", f);
	cli_global_help(f);
}

static int run(cli_ctx *ctx, int argc, char **argv)
{
	int first, rc;

	rc = cli_parse(ctx, &cli_cmd_status, argc, argv, NULL, "", NULL, NULL, &first);
	if (rc)
		return rc == 1 ? CLI_EXIT_OK : rc;
	return cli_not_yet(&cli_cmd_status);
}

const cli_command cli_cmd_status = { "status", "show certificates, deployments and the last run",
	"certops status ", run, usage };
