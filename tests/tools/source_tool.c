/*
 * A test driver for lib/source:
 *   source_tool record STATE COMMIT     source_record_applied
 *   source_tool last STATE              prints the last applied commit
 *   source_tool resolve STATE URL [REF] prints "dir commit offline"
 * Exit 0 on success, 1 with the error on stderr.
 */
#include <stdio.h>
#include <string.h>

#include "source/source.h"
#include "util/error.h"

int main(int argc, char **argv)
{
	char last[SOURCE_COMMIT_HEXSZ + 1];
	source_opts o = { 0 };
	source_result *r = NULL;

	if (argc == 4 && !strcmp(argv[1], "record")) {
		if (source_record_applied(argv[2], argv[3]) < 0)
			goto fail;
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "last")) {
		if (source_last_applied(last, argv[2]) < 0)
			goto fail;
		printf("%s\n", last);
		return 0;
	}
	if ((argc == 4 || argc == 5) && !strcmp(argv[1], "resolve")) {
		o.state_dir = argv[2];
		o.url = argv[3];
		o.ref = argc == 5 ? argv[4] : NULL;
		if (source_resolve(&r, &o) < 0)
			goto fail;
		printf("%s %s %d\n", r->dir, r->commit, r->offline);
		source_result_free(r);
		return 0;
	}
	fprintf(stderr, "usage: source_tool record STATE COMMIT | last STATE | "
		"resolve STATE URL [REF]\n");
	return 2;
fail:
	fprintf(stderr, "source_tool: %s\n", util_error_message());
	return 1;
}
