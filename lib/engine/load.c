/*
 * Loading a pass's inputs: one resolution of the state directory, the
 * source, the saved plan, the declarations, the policy, the capability
 * table.  See engine.h.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "engine/engine.h"
#include "engine/internal.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/log.h"

int engine_source_given(const source_opts *o)
{
	return o->url || o->ref || o->subpath || o->require_signed || o->force_older ||
	       o->no_fetch || o->allowed_signers || o->gpg_keyring || o->ssh_key ||
	       o->known_hosts || o->token_env || o->token_file || o->username;
}

int engine_new(engine **out, const engine_options *o)
{
	util_buf dir = UTIL_BUF_INIT;
	engine *e;
	int error;

	*out = NULL;
	if (!(e = calloc(1, sizeof(*e))))
		return util_error_oom();
	e->opts = *o;
	e->diags = (util_diags)UTIL_DIAGS_INIT;
	if ((error = state_default_dir(&dir, o->state_dir)) < 0) {
		util_buf_release(&dir);
		free(e);
		return error;
	}
	e->state_dir = util_buf_detach(&dir);
	if (!e->state_dir) {
		free(e);
		return util_error_oom();
	}
	if (o->st) {
		e->st = o->st;
		e->has_state = 1;
	}
	*out = e;
	return 0;
}

void engine_free(engine *e)
{
	if (!e)
		return;
	observe_result_free(e->obs);
	if (e->own_st) {
		if (state_locked(e->st) && state_unlock(e->st) < 0)
			util_log_error("engine", "releasing the state lock: %s",
				       util_error_message());
		state_free(e->st);
	}
	plan_free(e->saved);
	config_policy_free(e->policy);
	config_set_free(e->set);
	util_diags_release(&e->diags);
	source_result_free(e->src);
	free(e->state_dir);
	free(e);
}

int engine__open_state(engine *e, int create)
{
	int error;

	if (e->st)
		return 0;
	error = state_open(&e->st, e->state_dir, STATE_OPEN_NOCREATE);
	if (error == CERTOPS_ENOTFOUND) {
		util_error_clear();
		e->st = NULL;
		if (!create)
			return 0; /* no store yet: nothing issued */
		error = state_open(&e->st, e->state_dir, 0);
	} else if (error == 0) {
		e->has_state = 1;
	}
	if (error < 0)
		return util_error_wrap("opening the state store '%s'", e->state_dir);
	e->own_st = 1;
	return 0;
}

/* The source options that make no sense together, as usage errors. */
static int check_source_opts(const source_opts *o, const char *dir)
{
	if (o->url && dir)
		return util_error_set(CERTOPS_EUSAGE, "give either --repo or a directory, not both");
	if (!o->url && (o->ref || o->require_signed || o->force_older || o->no_fetch))
		return util_error_set(CERTOPS_EUSAGE, "--ref, --require-signed, --force-older "
				      "and --offline need --repo");
	if (o->require_signed && !o->allowed_signers && !o->gpg_keyring)
		return util_error_set(CERTOPS_EUSAGE, "--require-signed needs --allowed-signers "
				      "FILE and/or --gpg-keyring FILE");
	return 0;
}

static int load_source(engine *e)
{
	source_opts so = e->opts.source;
	const char *dir = e->opts.dir;
	int error;

	/* a saved plan says where its declarations came from */
	if (e->saved && e->saved->source_url && !so.url && !dir) {
		so.url = e->saved->source_url;
		if (!so.ref)
			so.ref = e->saved->source_ref;
	}
	if (!e->opts.use_source && !so.url) {
		e->dir = dir ? dir : ".";
		return 0;
	}
	if ((error = check_source_opts(&so, dir)) < 0)
		return error;
	so.dir = dir ? dir : ".";
	if (so.url) {
		/* the Git cache lives in the store: a proper one, created */
		if ((error = engine__open_state(e, 1)) < 0)
			return error;
		so.st = e->st;
	}
	if ((error = source_resolve(&e->src, &so)) < 0)
		return util_error_wrap("resolving the source");
	e->dir = e->src->dir;
	return 0;
}

/* The saved plan's commit against the source resolved now. */
static int check_saved_source(engine *e)
{
	const plan *p = e->saved;
	int error;

	if (!p)
		return 0;
	if (p->source_commit && !e->src)
		return util_error_set(CERTOPS_EINVALID, "%s: the plan was made from %s at "
				      "commit %s; apply it with --repo (or without DIR/--dir)",
				      e->opts.saved_plan,
				      p->source_url ? p->source_url : "a Git source",
				      p->source_commit);
	if (e->src && (error = source_check_commit(e->src, p->source_commit,
						   e->opts.force_commit)) < 0) {
		util_error_wrap("%s", e->opts.saved_plan);
		return error == CERTOPS_ESTALE ? CERTOPS_EINVALID : error;
	}
	return 0;
}

int engine_load(engine *e, const engine_events *ev)
{
	int error;

	if (e->opts.saved_plan && (error = plan_load(&e->saved, e->opts.saved_plan)) < 0) {
		util_error_wrap("loading the saved plan");
		return CERTOPS_EINVALID;
	}
	if ((error = load_source(e)) < 0)
		return error;
	if (e->src && ev && ev->source)
		ev->source(ev->data, e->src);
	if (e->src && e->src->url)
		util_log_info("engine", "source %s at commit %s%s", e->src->url, e->src->commit,
			      e->src->offline ? " (offline: cached)" : "");
	if ((error = check_saved_source(e)) < 0)
		return error;

	/* a Git checkout is the trust boundary: no link out of it is followed */
	error = e->src && e->src->url ? config_load_dir_confined(&e->set, &e->diags, e->dir) :
		config_load_dir(&e->set, &e->diags, e->dir);
	if (error < 0 && error != CERTOPS_EINVALID)
		return util_error_wrap("loading declarations");
	/* The policy is checked even when declarations have errors, so that
	 * one run shows every problem; its root is the one state dir. */
	if (config_policy_open(&e->policy, &e->diags, e->opts.policy_path,
			       e->state_dir) == CERTOPS_ENOMEM)
		return util_error_wrap("loading the policy");
	if (e->policy && e->set && config_policy_check(e->policy, e->set, &e->diags) < 0)
		return util_error_wrap("checking the policy");
	if (e->set && engine_capability_check(e->set, &e->diags) < 0)
		return CERTOPS_ENOMEM;
	if (e->diags.count) {
		util_diags_sort(&e->diags);
		return util_error_set(CERTOPS_EINVALID, "%zu problem%s in %s", e->diags.count,
				      e->diags.count == 1 ? "" : "s", e->dir);
	}
	return 0;
}

int engine_is_saved_plan(const char *path)
{
	struct stat st;
	util_buf b = UTIL_BUF_INIT;
	size_t i;
	int yes = 0;

	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return 0;
	if (util_fs_read_file(&b, path, 64u << 20) == 0) {
		for (i = 0; i < b.size && (b.ptr[i] == ' ' || b.ptr[i] == '\n' ||
					   b.ptr[i] == '\t' || b.ptr[i] == '\r'); i++)
			;
		yes = i < b.size && b.ptr[i] == '{';
	}
	util_error_clear();
	util_buf_release(&b);
	return yes;
}
