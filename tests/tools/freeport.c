/*
 * freeport: prints N free TCP ports on 127.0.0.1 (default 1), one per line.
 * The kernel picks each (bind to port 0); all sockets stay open until every
 * port is chosen, so the N ports are distinct.  A port can still be taken
 * between here and the server's bind: the harness retries a failed start.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int fds[64], n = 1, i, rc = 0;
	char *end;

	if (argc > 1) {
		long v = strtol(argv[1], &end, 10);
		if (*end || v < 1 || v > 64) {
			fprintf(stderr, "usage: freeport [COUNT 1..64]\n");
			return 64;
		}
		n = (int)v;
	}
	for (i = 0; i < n; i++) {
		struct sockaddr_in sa;
		socklen_t len = sizeof(sa);

		memset(&sa, 0, sizeof(sa));
		sa.sin_family = AF_INET;
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		fds[i] = socket(AF_INET, SOCK_STREAM, 0);
		if (fds[i] < 0 || bind(fds[i], (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
		    getsockname(fds[i], (struct sockaddr *)&sa, &len) < 0) {
			perror("freeport");
			return 1;
		}
		printf("%u\n", ntohs(sa.sin_port));
	}
	for (i = 0; i < n; i++)
		close(fds[i]);
	return rc;
}
