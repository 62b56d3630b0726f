/* certops version: its own version and the runtime versions of its libraries. */
#include <curl/curl.h>
#include <git2.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <yaml.h>

#include "cli.h"
#include "util/version.h"

static void usage(FILE *f)
{
	fputs("Usage: certops version\n\n"
	      "Prints the certops version and the versions of the libraries it runs with.\n\n", f);
	cli_global_help(f);
}

static int run(cli_ctx *ctx, int argc, char **argv)
{
	int first, rc, major, minor, rev;
	const curl_version_info_data *cv;
	const engine_capability *cap;

	rc = cli_parse(ctx, &cli_cmd_version, argc, argv, NULL, "", NULL, NULL, &first);
	if (rc)
		return rc == 1 ? CLI_EXIT_OK : rc;
	if (first < argc)
		return cli_usage_error(&cli_cmd_version, "unexpected argument '%s'", argv[first]);

	if (git_libgit2_version(&major, &minor, &rev) < 0)
		major = minor = rev = 0;
	cv = curl_version_info(CURLVERSION_NOW);
	fprintf(ctx->out,
		"certops %s\n"
		"libgit2 %d.%d.%d\n"
		"OpenSSL %s\n"
		"libcurl %s\n"
		"libyaml %s\n"
		"jansson %s\n",
		CERTOPS_VERSION, major, minor, rev,
		OpenSSL_version(OPENSSL_VERSION_STRING),
		cv && cv->version ? cv->version : "unknown",
		yaml_get_version_string(), jansson_version_str());
	for (cap = engine_unsupported(); cap->feature; cap++)
		fprintf(ctx->out, "%s%s", cap == engine_unsupported() ?
			"not built yet (refused by validate): " : ", ", cap->feature);
	if (engine_unsupported()->feature)
		fputc('\n', ctx->out);
	return CLI_EXIT_OK;
}

const cli_command cli_cmd_version = { "version", "print versions of certops and its libraries",
	"certops version", run, usage };
