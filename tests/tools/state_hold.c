/*
 * state_hold: holds the lock of a state store for a test.  Opens (creating)
 * the store in DIR, takes its lock, prints "locked <pid>" and waits until
 * stdin reaches EOF or SECONDS (default 60) pass, then releases it.  Used
 * to show that a second apply fails fast (exit 75) naming the holder.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "state/state.h"
#include "util/error.h"

int main(int argc, char **argv)
{
	state *st = NULL;
	long seconds = 60;
	char *end, buf[64];
	struct pollfd pfd = { 0, POLLIN, 0 };

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: state_hold DIR [SECONDS]\n");
		return 64;
	}
	if (argc == 3 && ((seconds = strtol(argv[2], &end, 10)) < 1 || *end)) {
		fprintf(stderr, "state_hold: bad SECONDS\n");
		return 64;
	}
	if (state_open(&st, argv[1], 0) < 0 || state_set_command(st, "state_hold") < 0 ||
	    state_lock(st, 0) < 0) {
		fprintf(stderr, "state_hold: %s\n", util_error_message());
		state_free(st);
		return 1;
	}
	printf("locked %ld\n", (long)getpid());
	fflush(stdout);
	/* until stdin closes (or has data), or the time is up */
	if (poll(&pfd, 1, (int)(seconds * 1000)) > 0)
		(void)read(0, buf, sizeof(buf));
	state_unlock(st);
	state_free(st);
	return 0;
}
