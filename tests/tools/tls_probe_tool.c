/*
 * tls_probe_tool: drives lib/observe/tls_probe for the integration tests.
 *
 *   tls_probe_tool [--sni NAME] [--timeout MS] [--wait MS] CONNECT EXPECTED [OLDER...]
 *
 * Prints "status=<served|stale|foreign|unreachable>", "fingerprint=<hex>"
 * and, when unreachable, "error=<why>".  With --wait, polls until served
 * or the window ends (observe_tls_wait_served).  Exit 0 when served, 1
 * otherwise, 64 for bad usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "observe/tls_probe.h"
#include "util/error.h"

static long num(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*end || v < 0) {
		fprintf(stderr, "tls_probe_tool: bad number '%s'\n", s);
		exit(64);
	}
	return v;
}

int main(int argc, char **argv)
{
	observe_tls_endpoint ep = { NULL, NULL, 5000 };
	observe_tls_result r;
	long wait = -1;
	int i = 1, rc;

	for (; i < argc && !strncmp(argv[i], "--", 2); i += 2) {
		if (i + 1 >= argc)
			break;
		if (!strcmp(argv[i], "--sni"))
			ep.server_name = argv[i + 1];
		else if (!strcmp(argv[i], "--timeout"))
			ep.timeout_ms = num(argv[i + 1]);
		else if (!strcmp(argv[i], "--wait"))
			wait = num(argv[i + 1]);
		else
			break;
	}
	if (argc - i < 2) {
		fprintf(stderr, "usage: tls_probe_tool [--sni NAME] [--timeout MS] [--wait MS] "
			"CONNECT EXPECTED [OLDER...]\n");
		return 64;
	}
	ep.connect = argv[i];
	if (wait >= 0)
		rc = observe_tls_wait_served(&r, &ep, argv[i + 1], (const char *const *)argv + i + 2,
					     (size_t)(argc - i - 2), wait, 100);
	else
		rc = observe_tls_probe(&r, &ep, argv[i + 1], (const char *const *)argv + i + 2,
				       (size_t)(argc - i - 2));
	if (rc < 0) {
		fprintf(stderr, "tls_probe_tool: %s\n", util_error_message());
		return 1;
	}
	printf("status=%s\nfingerprint=%s\n", observe_tls_status_name(r.status), r.fingerprint);
	if (r.error)
		printf("error=%s\n", r.error);
	rc = r.status == OBSERVE_TLS_SERVED ? 0 : 1;
	observe_tls_result_release(&r);
	return rc;
}
