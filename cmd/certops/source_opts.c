/* The source options shared by the commands that read declarations. */
#include <string.h>

#include "source_opts.h"

#include "util/log.h"
#include "state/state.h"
#include "util/error.h"

int cli_source_opt(cli_source *s, int opt, const char *arg)
{
	source_opts *o = &s->opts;

	switch (opt) {
	case CLI_SOURCE_OPT_REPO:
		if (!*arg) {
			fprintf(stderr, "certops: --repo needs a URL or path\n");
			return CLI_EXIT_USAGE;
		}
		o->url = arg;
		return 0;
	/* Empty means "the default", so that a unit's ${CERTOPS_REF} may be unset. */
	case CLI_SOURCE_OPT_REF: o->ref = *arg ? arg : NULL; return 0;
	case CLI_SOURCE_OPT_PATH: o->subpath = arg; return 0;
	case CLI_SOURCE_OPT_REQUIRE_SIGNED: o->require_signed = 1; return 0;
	case CLI_SOURCE_OPT_ALLOWED_SIGNERS: o->allowed_signers = arg; return 0;
	case CLI_SOURCE_OPT_GPG_KEYRING: o->gpg_keyring = arg; return 0;
	case CLI_SOURCE_OPT_FORCE_OLDER: o->force_older = 1; return 0;
	case CLI_SOURCE_OPT_OFFLINE: o->no_fetch = 1; return 0;
	case CLI_SOURCE_OPT_SSH_KEY: o->ssh_key = arg; return 0;
	case CLI_SOURCE_OPT_KNOWN_HOSTS: o->known_hosts = arg; return 0;
	case CLI_SOURCE_OPT_INSECURE_HOST_KEY: o->insecure_skip_host_key = 1; return 0;
	case CLI_SOURCE_OPT_TOKEN_ENV: o->token_env = arg; return 0;
	case CLI_SOURCE_OPT_TOKEN_FILE: o->token_file = arg; return 0;
	case CLI_SOURCE_OPT_USERNAME: o->username = arg; return 0;
	default: return 1;
	}
}

int cli_source_resolve(source_result **out, cli_source *s, cli_ctx *ctx,
		       const char *dir)
{
	source_opts *o = &s->opts;
	util_buf state_dir = UTIL_BUF_INIT;
	state *st = NULL;
	int error, rc = CLI_EXIT_OK;

	*out = NULL;
	if (o->url && dir) {
		fprintf(stderr, "certops: give either --repo or a directory, not both\n");
		return CLI_EXIT_USAGE;
	}
	if (!o->url && (o->ref || o->require_signed || o->force_older ||
			o->no_fetch)) {
		fprintf(stderr, "certops: --ref, --require-signed, --force-older "
			"and --offline need --repo\n");
		return CLI_EXIT_USAGE;
	}
	if (o->require_signed && !o->allowed_signers && !o->gpg_keyring) {
		fprintf(stderr, "certops: --require-signed needs --allowed-signers "
			"FILE and/or --gpg-keyring FILE\n");
		return CLI_EXIT_USAGE;
	}
	o->dir = dir ? dir : ".";
	if (o->url) {
		/* The cache lives in the store: open it (creating it) first,
		 * so that it is a proper store with the usual modes. */
		if (state_default_dir(&state_dir, ctx->state_dir) < 0 ||
		    state_open(&st, state_dir.ptr, 0) < 0) {
			cli_print_error("opening the state directory");
			rc = CLI_EXIT_ERROR;
			goto done;
		}
		o->st = st;
	}
	error = source_resolve(out, o);
	o->st = NULL; /* freed below */
	if (error < 0) {
		cli_print_error("resolving the source");
		rc = error == CERTOPS_EINVALID ? CLI_EXIT_DATAERR : CLI_EXIT_ERROR;
	}
done:
	state_free(st);
	util_buf_free(&state_dir);
	return rc;
}

int cli_source_given(const cli_source *s)
{
	const source_opts *o = &s->opts;

	return o->url || o->ref || o->subpath || o->require_signed || o->force_older ||
	       o->no_fetch || o->allowed_signers || o->gpg_keyring || o->ssh_key ||
	       o->known_hosts || o->token_env || o->token_file || o->username;
}

void cli_source_describe(FILE *f, const source_result *r)
{
	if (!r->url) {
		fprintf(f, "source: directory %s\n", r->dir);
		return;
	}
	fprintf(f, "source: %s%s%s at commit %s%s\n", r->url,
		r->ref ? " " : "", r->ref ? r->ref : "", r->commit,
		r->offline ? " (OFFLINE: cached, not fetched)" : "");
}

void cli_source_help(FILE *f)
{
	fputs("Source options (docs/source.md):\n"
	      "  --repo URL              read declarations from a Git remote (file://,\n"
	      "                          https://, ssh://, user@host:path, or a path)\n"
	      "  --ref REF               branch, tag or commit (default: the remote's HEAD)\n"
	      "  --path SUBDIR           directory inside the repository\n"
	      "  --require-signed        refuse commits without an allowed signature\n"
	      "  --allowed-signers FILE  SSH allowed_signers file (ssh-keygen -Y verify)\n"
	      "  --gpg-keyring FILE      OpenPGP keyring of allowed keys (gpg --verify)\n"
	      "  --force-older           accept a commit older than the last applied one\n"
	      "  --offline               do not fetch; use the cached commit\n"
	      "  --git-ssh-key FILE      SSH private key (default: the ssh agent)\n"
	      "  --git-known-hosts FILE  known_hosts for SSH (default ~/.ssh/known_hosts)\n"
	      "  --insecure-skip-host-key  do not check the SSH host key (never in production)\n"
	      "  --git-token-env NAME    https token/password from environment variable NAME\n"
	      "  --git-token-file FILE   https token/password from FILE\n"
	      "  --git-username NAME     https/ssh user name\n\n", f);
}
