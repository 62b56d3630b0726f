/* Loading declarations, policy, state and observation for status. */
#include <string.h>
#include <time.h>

#include "world.h"

int cmd_world_load(cmd_world *w, cli_ctx *ctx, const cli_command *cmd,
		   const cli_source *src, const char *dir, unsigned observe_flags)
{
	engine_options eo;
	engine_plan_options po;
	int error;

	memset(w, 0, sizeof(*w));
	cli_engine_options(&eo, ctx, src, dir);
	memset(&po, 0, sizeof(po));
	po.now = time(NULL);
	po.observe_flags = observe_flags;
	if ((error = engine_new(&w->e, &eo)) < 0 || (error = engine_load(w->e, NULL)) < 0 ||
	    (error = engine_plan(&w->plan, w->e, &po)) < 0)
		return cli_engine_fail(cmd, w->e, error, NULL);
	w->set = w->e->set;
	w->obs = w->e->obs;
	return 0;
}

void cmd_world_free(cmd_world *w)
{
	plan_free(w->plan);
	engine_free(w->e);
	memset(w, 0, sizeof(*w));
}
