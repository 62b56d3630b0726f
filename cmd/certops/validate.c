/* certops validate: check declarations and the local policy.  The command is wired up; the engine lands later. */
#include "cli.h"

static void usage(FILE *f)
{
	fputs("Usage: certops validate [DIR]\n\n"
	      "Loads every *.yaml/*.yml below DIR (default .) and reports every problem\nas file:line:column: field: message. Changes nothing.\n\n", f);
	cli_global_help(f);
}

static int run(cli_ctx *ctx, int argc, char **argv)
{
	int first, rc;

	rc = cli_parse(ctx, &cli_cmd_validate, argc, argv, NULL, "", NULL, NULL, &first);
	if (rc)
		return rc == 1 ? CLI_EXIT_OK : rc;
	return cli_not_yet(&cli_cmd_validate);
}

const cli_command cli_cmd_validate = { "validate", "check declarations and the local policy",
	"certops validate [DIR]", run, usage };
