/*
 * The source options shared by validate, plan, apply and reconcile:
 * --repo URL, --ref REF, --path SUBDIR, --require-signed, --allowed-signers
 * FILE, --gpg-keyring FILE, --force-older, --offline, and the transport
 * credentials.  A command adds CLI_SOURCE_OPTIONS to its option table,
 * passes unknown option codes to cli_source_opt(), and calls
 * cli_engine_options() to hand them to lib/engine.
 */
#ifndef CERTOPS_CMD_SOURCE_OPTS_H
#define CERTOPS_CMD_SOURCE_OPTS_H

#include <stdio.h>

#include "cli.h"
#include "engine/engine.h"
#include "source/source.h"

/* Option codes, above the global options (1000+) and commands' own (2000+). */
enum {
	CLI_SOURCE_OPT_REPO = 3000,
	CLI_SOURCE_OPT_REF,
	CLI_SOURCE_OPT_PATH,
	CLI_SOURCE_OPT_REQUIRE_SIGNED,
	CLI_SOURCE_OPT_ALLOWED_SIGNERS,
	CLI_SOURCE_OPT_GPG_KEYRING,
	CLI_SOURCE_OPT_FORCE_OLDER,
	CLI_SOURCE_OPT_OFFLINE,
	CLI_SOURCE_OPT_SSH_KEY,
	CLI_SOURCE_OPT_KNOWN_HOSTS,
	CLI_SOURCE_OPT_INSECURE_HOST_KEY,
	CLI_SOURCE_OPT_TOKEN_ENV,
	CLI_SOURCE_OPT_TOKEN_FILE,
	CLI_SOURCE_OPT_USERNAME
};

/* Entries for a command's struct option table (before its { NULL } end). */
#define CLI_SOURCE_OPTIONS \
	{ "repo", required_argument, NULL, CLI_SOURCE_OPT_REPO }, \
	{ "ref", required_argument, NULL, CLI_SOURCE_OPT_REF }, \
	{ "path", required_argument, NULL, CLI_SOURCE_OPT_PATH }, \
	{ "require-signed", no_argument, NULL, CLI_SOURCE_OPT_REQUIRE_SIGNED }, \
	{ "allowed-signers", required_argument, NULL, CLI_SOURCE_OPT_ALLOWED_SIGNERS }, \
	{ "gpg-keyring", required_argument, NULL, CLI_SOURCE_OPT_GPG_KEYRING }, \
	{ "force-older", no_argument, NULL, CLI_SOURCE_OPT_FORCE_OLDER }, \
	{ "offline", no_argument, NULL, CLI_SOURCE_OPT_OFFLINE }, \
	{ "git-ssh-key", required_argument, NULL, CLI_SOURCE_OPT_SSH_KEY }, \
	{ "git-known-hosts", required_argument, NULL, CLI_SOURCE_OPT_KNOWN_HOSTS }, \
	{ "insecure-skip-host-key", no_argument, NULL, CLI_SOURCE_OPT_INSECURE_HOST_KEY }, \
	{ "git-token-env", required_argument, NULL, CLI_SOURCE_OPT_TOKEN_ENV }, \
	{ "git-token-file", required_argument, NULL, CLI_SOURCE_OPT_TOKEN_FILE }, \
	{ "git-username", required_argument, NULL, CLI_SOURCE_OPT_USERNAME }

typedef struct {
	source_opts opts; /* strings borrowed from argv */
} cli_source;

/*
 * Handles a source option: returns 0 when handled, 1 when opt is not a
 * source option (the command handles it), CLI_EXIT_USAGE on a bad value.
 */
int cli_source_opt(cli_source *s, int opt, const char *arg);

/*
 * Fills the engine options of a command: the global options of ctx, the
 * DIR operand (NULL: ".") and the source options s (strings borrowed).
 */
void cli_engine_options(engine_options *eo, const cli_ctx *ctx,
			const cli_source *s, const char *dir);

/* One line for humans: "source: URL REF at COMMIT (offline: cached)". */
void cli_source_describe(FILE *f, const source_result *r);

/* The options block for a command's --help. */
void cli_source_help(FILE *f);

#endif
