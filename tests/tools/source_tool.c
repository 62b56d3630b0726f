/*
 * A test driver for lib/source:
 *   source_tool record STATE COMMIT     state_applied_commit_put
 *   source_tool last STATE              prints the last applied commit
 *   source_tool resolve STATE URL [REF] prints "dir commit offline"
 * Exit 0 on success, 1 with the error on stderr.
 */
#include <stdio.h>
#include <string.h>

#include "source/source.h"
#include "state/state.h"
#include "util/error.h"

int main(int argc, char **argv)
{
	char last[SOURCE_COMMIT_HEXSZ + 1];
	source_opts o = { 0 };
	source_result *r = NULL;
	state *st = NULL;

	if (argc >= 3 && state_open(&st, argv[2], 0) < 0)
		goto fail;
	if (argc == 4 && !strcmp(argv[1], "record")) {
		if (state_applied_commit_put(st, argv[3]) < 0)
			goto fail;
		state_free(st);
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "last")) {
		if (state_applied_commit_get(last, st) < 0)
			goto fail;
		printf("%s\n", last);
		state_free(st);
		return 0;
	}
	if ((argc == 4 || argc == 5) && !strcmp(argv[1], "resolve")) {
		o.st = st;
		o.url = argv[3];
		o.ref = argc == 5 ? argv[4] : NULL;
		if (source_resolve(&r, &o) < 0)
			goto fail;
		printf("%s %s %d\n", r->dir, r->commit, r->offline);
		source_result_free(r);
		state_free(st);
		return 0;
	}
	state_free(st);
	fprintf(stderr, "usage: source_tool record STATE COMMIT | last STATE | "
		"resolve STATE URL [REF]\n");
	return 2;
fail:
	fprintf(stderr, "source_tool: %s\n", util_error_message());
	state_free(st);
	return 1;
}
