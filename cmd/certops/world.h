/*
 * The world as status sees it, loaded by lib/engine: the declarations,
 * the policy, the store (read-only) and the observation, and the plan.
 */
#ifndef CERTOPS_CMD_WORLD_H
#define CERTOPS_CMD_WORLD_H

#include "cli.h"
#include "source_opts.h"

typedef struct {
	engine *e;
	config_set *set;      /* borrowed from e */
	observe_result *obs;  /* borrowed from e */
	plan *plan;
} cmd_world;

/*
 * Loads and plans through the engine (observe_flags: OBSERVE_OFFLINE for
 * status).  Returns 0, or the exit code to end with (the error printed).
 * Release with cmd_world_free in both cases.
 */
int cmd_world_load(cmd_world *w, cli_ctx *ctx, const cli_command *cmd,
		   const cli_source *src, const char *dir, unsigned observe_flags);
void cmd_world_free(cmd_world *w);

#endif
