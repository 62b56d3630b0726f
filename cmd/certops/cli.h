/*
 * The command layer: argument parsing and subcommands only.  Every command
 * gets the global options (before or after its name) through cli_parse();
 * the library beneath knows nothing of argv.
 */
#ifndef CERTOPS_CMD_CLI_H
#define CERTOPS_CMD_CLI_H

#include <getopt.h>
#include <stdio.h>

#include "engine/engine.h"
#include "util/log.h"

/* Exit codes, documented in docs/cli.md.  Stable: scripts depend on them. */
enum {
	CLI_EXIT_OK = 0,       /* success; for plan: nothing to do */
	CLI_EXIT_ERROR = 1,    /* a runtime failure (CA, network, I/O, ...) */
	CLI_EXIT_CHANGES = 2,  /* plan --detailed-exitcode: changes pending */
	CLI_EXIT_USAGE = 64,   /* EX_USAGE: bad command line */
	CLI_EXIT_DATAERR = 65, /* EX_DATAERR: invalid declarations or policy */
	CLI_EXIT_TEMPFAIL = 75 /* EX_TEMPFAIL: state locked by another run */
};

typedef struct {
	const char *state_dir;   /* --state, else CERTOPS_STATE, else NULL */
	const char *policy_path; /* --policy, else NULL (default applies) */
	int verbosity;           /* -v adds one, -q subtracts one */
	util_log_format log_format;
	int color;               /* resolved: TTY, NO_COLOR, --no-color */
	int no_color;            /* --no-color was given */
	FILE *out;               /* where results go (stdout) */
} cli_ctx;

typedef struct {
	const char *name;
	const char *summary;
	const char *synopsis; /* one line: "certops plan [options] [DIR]" */
	int (*run)(cli_ctx *ctx, int argc, char **argv);
	void (*usage)(FILE *f);
} cli_command;

/*
 * Parses argv for a command: its own options (opts, shortopts; opts may be
 * NULL) plus the global ones, in any order.  For each of its own options,
 * calls on_opt(ctx, opt, optarg, data), which returns 0 or CLI_EXIT_USAGE.
 * Returns 0 with *first_arg the index of the first operand, 1 when --help was
 * given (usage printed: the caller exits 0), or CLI_EXIT_USAGE after a
 * one-line error and the usage on stderr.
 */
int cli_parse(cli_ctx *ctx, const cli_command *cmd, int argc, char **argv,
	      const struct option *opts, const char *shortopts,
	      int (*on_opt)(cli_ctx *ctx, int opt, const char *arg, void *data),
	      void *data, int *first_arg);

/* Prints "certops: <message>" and a pointer to --help; returns CLI_EXIT_USAGE. */
int cli_usage_error(const cli_command *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Prints the thread's last error as "certops: error: ..." on stderr. */
void cli_print_error(const char *context);
/* Applies ctx's verbosity/format/colour to the logger. */
void cli_setup_logging(cli_ctx *ctx);
/* The global options block shared by every command's help text. */
void cli_global_help(FILE *f);

/* Colour for results on ctx->out: a TTY, and neither --no-color nor NO_COLOR. */
int cli_out_color(const cli_ctx *ctx);

/* The exit code for an engine error code (docs/cli.md). */
int cli_exit_code(int error);

/*
 * Ends a command after an engine call failed: prints the error (a usage
 * error with the command's usage line, problems with their positions, a
 * runtime error as "certops: error: ...") and returns the exit code.
 * suffix follows the problem count ("; nothing applied"), may be NULL.
 */
int cli_engine_fail(const cli_command *cmd, const engine *e, int error,
		    const char *suffix);

/* Prints each diagnostic as file:line:col: field: message on f. */
void cli_print_diags(FILE *f, const util_diags *d);

/* Options kept for commands that are not built yet: print, exit 1. */
int cli_not_yet(const cli_command *cmd);

extern const cli_command cli_cmd_validate, cli_cmd_plan, cli_cmd_apply,
	cli_cmd_reconcile, cli_cmd_status, cli_cmd_version;

#endif
