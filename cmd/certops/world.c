/* Loading declarations, policy, state and observation for plan/status. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "world.h"
#include "util/error.h"

int cmd_out_color(const cli_ctx *ctx)
{
	return !ctx->no_color && !getenv("NO_COLOR") && isatty(fileno(ctx->out));
}

static void print_diags(const char *dir, const util_diags *d)
{
	util_buf b = UTIL_BUF_INIT;
	size_t i;

	for (i = 0; i < d->count; i++) {
		util_buf_clear(&b);
		util_error_format(&b, &d->items[i]);
		fprintf(stderr, "%s\n", b.ptr);
	}
	fprintf(stderr, "certops: %zu problem%s in %s\n", d->count,
		d->count == 1 ? "" : "s", dir);
	util_buf_free(&b);
}

int cmd_world_load(cmd_world *w, cli_ctx *ctx, const char *dir,
		   unsigned observe_flags)
{
	util_diags diags = UTIL_DIAGS_INIT;
	util_buf sdir = UTIL_BUF_INIT;
	observe_options oo = OBSERVE_OPTIONS_INIT;
	int error, rc = CLI_EXIT_ERROR;

	memset(w, 0, sizeof(*w));
	error = config_load_dir(&w->set, &diags, dir);
	if (error < 0 && error != CERTOPS_EINVALID) {
		cli_print_error("loading declarations");
		goto done;
	}
	error = config_policy_open(&w->policy, &diags, ctx->policy_path, ctx->state_dir);
	if (error == CERTOPS_ENOMEM) {
		cli_print_error("loading the policy");
		goto done;
	}
	if (w->policy && w->set && config_policy_check(w->policy, w->set, &diags) < 0) {
		cli_print_error("checking the policy");
		goto done;
	}
	if (diags.count) {
		util_diags_sort(&diags);
		print_diags(dir, &diags);
		rc = CLI_EXIT_DATAERR;
		goto done;
	}
	if (state_default_dir(&sdir, ctx->state_dir) < 0) {
		cli_print_error("finding the state store");
		goto done;
	}
	/* read-only: a store that does not exist yet means nothing issued */
	error = state_open(&w->st, sdir.ptr, STATE_OPEN_NOCREATE);
	if (error == CERTOPS_ENOTFOUND) {
		util_error_clear();
		w->st = NULL;
	} else if (error < 0) {
		cli_print_error("opening the state store");
		goto done;
	}
	/* online (endpoints, vault) unless asked not to; secrets per policy */
	oo.flags = observe_flags | observe_online_default();
	oo.policy = w->policy;
	if (observe_run(&w->obs, w->set, w->st, &oo) < 0) {
		cli_print_error("observing");
		goto done;
	}
	rc = 0;
done:
	util_diags_free(&diags);
	util_buf_free(&sdir);
	return rc;
}

void cmd_world_free(cmd_world *w)
{
	observe_result_free(w->obs);
	state_free(w->st);
	config_policy_free(w->policy);
	config_set_free(w->set);
	memset(w, 0, sizeof(*w));
}
