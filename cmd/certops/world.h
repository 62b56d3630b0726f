/*
 * The world as plan and status see it: the declarations (validated, with
 * the local policy checked), the state store opened without creating it,
 * and the observation.  Shared by the read-only commands.
 */
#ifndef CERTOPS_CMD_WORLD_H
#define CERTOPS_CMD_WORLD_H

#include "cli.h"
#include "config/config.h"
#include "config/policy.h"
#include "observe/observe.h"
#include "state/state.h"

typedef struct {
	config_set *set;
	config_policy *policy;
	state *st;           /* NULL: no store yet (nothing issued) */
	observe_result *obs;
} cmd_world;

/*
 * Loads dir's declarations and the policy (every problem printed to
 * stderr as file:line:col: field: message), opens the store read-only and
 * observes.  Returns 0, or the exit code to end with (CLI_EXIT_DATAERR for
 * invalid declarations or policy, CLI_EXIT_ERROR otherwise; the message is
 * printed).  Release with cmd_world_free in both cases.
 */
int cmd_world_load(cmd_world *w, cli_ctx *ctx, const char *dir,
		   unsigned observe_flags);
void cmd_world_free(cmd_world *w);

/* Colour for results on ctx->out: a TTY, and neither --no-color nor NO_COLOR. */
int cmd_out_color(const cli_ctx *ctx);

#endif
