/*
 * The built-in http-01 responder: one server thread running a poll(2) loop
 * over the listening socket, a wake-up pipe and up to MAX_CONNS clients.
 * Each connection gets one response and is closed (Connection: close), which
 * is all an ACME validation needs; every client has a size cap on its request
 * and a deadline, so a slow or hostile peer cannot hold the responder.
 * Tokens live in a mutex-guarded table that present/cleanup change while the
 * thread serves.
 */
#include "challenge/challenge.h"
#include "challenge/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/error.h"
#include "util/log.h"

#define MAX_CONNS 64
#define REQUEST_MAX 8192          /* request line and headers */
#define CONN_TIMEOUT_MS 10000     /* whole exchange, per connection */
#define PREFIX "/.well-known/acme-challenge/"

typedef struct {
	int fd;
	long deadline;   /* monotonic ms */
	char req[REQUEST_MAX];
	size_t len;
	util_buf out;    /* the response, once the request is complete */
	size_t sent;
	int responding;
} conn;

typedef struct {
	char *token;
	char *key_authorization;
} entry;

typedef struct {
	challenge_solver base;
	char *listen;
	int lfd;
	int wake[2];
	int port;
	int timeout_ms;     /* per connection; atomic: tests change it */
	pthread_t thread;
	int started;
	pthread_mutex_t mu; /* guards entries */
	entry *entries;
	size_t nentries, alloc;
	conn *conns[MAX_CONNS];
} listen_solver;

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void conn_close(conn *c)
{
	close(c->fd);
	util_buf_release(&c->out);
	free(c);
}

/* Finds token; the caller holds the mutex.  Returns its index or -1. */
static long find_entry(listen_solver *l, const char *token)
{
	size_t i;

	for (i = 0; i < l->nentries; i++)
		if (!strcmp(l->entries[i].token, token))
			return (long)i;
	return -1;
}

static void respond(conn *c, int status, const char *reason, const char *body,
		    int head)
{
	size_t blen = strlen(body);

	util_buf_printf(&c->out,
		"HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\n"
		"Content-Length: %zu\r\nConnection: close\r\nServer: certops\r\n\r\n",
		status, reason, blen);
	if (!head)
		util_buf_put(&c->out, body, blen);
	c->responding = 1;
}

/* Parses the request line once the headers are complete and responds. */
static void handle_request(listen_solver *l, conn *c)
{
	char method[8], *target, *sp, *line_end, *q;
	size_t mlen;
	int head = 0;
	long i;

	line_end = memchr(c->req, '\n', c->len);
	if (!line_end) {
		respond(c, 400, "Bad Request", "bad request\n", 0);
		return;
	}
	*line_end = '\0';
	sp = strchr(c->req, ' ');
	if (!sp || (mlen = (size_t)(sp - c->req)) >= sizeof(method)) {
		respond(c, 400, "Bad Request", "bad request\n", 0);
		return;
	}
	memcpy(method, c->req, mlen);
	method[mlen] = '\0';
	target = sp + 1;
	if (!(sp = strchr(target, ' ')) || strncmp(sp + 1, "HTTP/1.", 7)) {
		respond(c, 400, "Bad Request", "bad request\n", 0);
		return;
	}
	*sp = '\0';
	if (!strcmp(method, "HEAD"))
		head = 1;
	else if (strcmp(method, "GET")) {
		respond(c, 405, "Method Not Allowed", "method not allowed\n", 0);
		return;
	}
	if ((q = strchr(target, '?')))
		*q = '\0';
	if (strncmp(target, PREFIX, strlen(PREFIX)) ||
	    challenge_token_check(target + strlen(PREFIX)) < 0) {
		util_error_clear();
		respond(c, 404, "Not Found", "not found\n", head);
		return;
	}
	target += strlen(PREFIX);
	pthread_mutex_lock(&l->mu);
	i = find_entry(l, target);
	if (i >= 0)
		respond(c, 200, "OK", l->entries[i].key_authorization, head);
	pthread_mutex_unlock(&l->mu);
	if (i < 0)
		respond(c, 404, "Not Found", "not found\n", head);
	util_log_debug("challenge", "http-01 responder: %s %s -> %d", method,
		       target, i >= 0 ? 200 : 404);
}

/* Reads what is there; returns -1 when the connection is done with. */
static int conn_read(listen_solver *l, conn *c)
{
	for (;;) {
		ssize_t n;

		if (c->len == sizeof(c->req) - 1) {
			respond(c, 431, "Request Header Fields Too Large", "request too large\n", 0);
			return 0;
		}
		n = recv(c->fd, c->req + c->len, sizeof(c->req) - 1 - c->len, 0);
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
		if (n == 0)
			return -1;
		c->len += (size_t)n;
		c->req[c->len] = '\0';
		if (strstr(c->req, "\r\n\r\n") || strstr(c->req, "\n\n")) {
			handle_request(l, c);
			return 0;
		}
	}
}

/* Writes what it can; returns -1 when finished or failed (close it). */
static int conn_write(conn *c)
{
	while (c->sent < c->out.size) {
		ssize_t n = send(c->fd, c->out.ptr + c->sent, c->out.size - c->sent,
				 MSG_NOSIGNAL);
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
		c->sent += (size_t)n;
	}
	shutdown(c->fd, SHUT_WR);
	return -1;
}

static void accept_all(listen_solver *l)
{
	for (;;) {
		size_t slot;
		conn *c;
		int fd;

		for (slot = 0; slot < MAX_CONNS && l->conns[slot]; slot++)
			;
		if (slot == MAX_CONNS)
			return; /* full: the backlog holds the rest */
		fd = accept4(l->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		if (!(c = calloc(1, sizeof(*c)))) {
			close(fd);
			return;
		}
		c->fd = fd;
		c->deadline = now_ms() + __atomic_load_n(&l->timeout_ms, __ATOMIC_RELAXED);
		util_buf_init_limit(&c->out, 4 * REQUEST_MAX);
		l->conns[slot] = c;
	}
}

static void *serve(void *arg)
{
	listen_solver *l = arg;
	struct pollfd pfd[MAX_CONNS + 2];
	size_t idx[MAX_CONNS];

	for (;;) {
		size_t n = 0, i, nc = 0, free_slots = 0;
		long now = now_ms(), wait = 1000;
		int r;

		pfd[n++] = (struct pollfd){ l->wake[0], POLLIN, 0 };
		for (i = 0; i < MAX_CONNS; i++) {
			conn *c = l->conns[i];
			if (!c) {
				free_slots++;
				continue;
			}
			if (c->deadline - now < wait)
				wait = c->deadline - now;
			idx[nc++] = i;
			pfd[n++] = (struct pollfd){ c->fd, c->responding ? POLLOUT : POLLIN, 0 };
		}
		if (free_slots)
			pfd[n++] = (struct pollfd){ l->lfd, POLLIN, 0 };
		r = poll(pfd, n, wait < 0 ? 0 : (int)wait);
		if (r < 0 && errno != EINTR) {
			/* cannot happen with valid descriptors; do not spin on it */
			util_log_error("challenge", "http-01 responder on '%s' stops: poll: %s",
				       l->listen, strerror(errno));
			break;
		}
		if (pfd[0].revents)
			break; /* asked to stop */
		now = now_ms();
		for (i = 0; i < nc; i++) {
			conn *c = l->conns[idx[i]];
			short ev = pfd[i + 1].revents;
			int done = 0;

			if (ev & (POLLERR | POLLNVAL))
				done = -1;
			else if (!c->responding && (ev & (POLLIN | POLLHUP)))
				done = conn_read(l, c);
			/* a response is written as soon as it exists: the socket
			 * is almost always writable, which saves a poll round */
			if (!done && c->responding)
				done = conn_write(c);
			if (!done && now >= c->deadline)
				done = -1; /* too slow: drop it */
			if (done) {
				conn_close(c);
				l->conns[idx[i]] = NULL;
			}
		}
		if (free_slots && pfd[n - 1].revents & POLLIN)
			accept_all(l);
	}
	return NULL;
}

static int listen_present(challenge_solver *s, const char *token,
			  const char *key_authorization, const char *identifier)
{
	listen_solver *l = (listen_solver *)s;
	char *t = strdup(token), *ka = strdup(key_authorization);
	long i;
	int error = 0;

	(void)identifier;
	if (!t || !ka) {
		error = util_error_oom();
		goto done;
	}
	pthread_mutex_lock(&l->mu);
	if ((i = find_entry(l, token)) >= 0) {
		free(l->entries[i].key_authorization);
		l->entries[i].key_authorization = ka;
		ka = NULL;
	} else {
		if (l->nentries == l->alloc) {
			size_t na = l->alloc ? l->alloc * 2 : 16;
			entry *ne = realloc(l->entries, na * sizeof(*ne));

			if (!ne) {
				error = util_error_oom();
				goto unlock;
			}
			l->entries = ne;
			l->alloc = na;
		}
		l->entries[l->nentries].token = t;
		l->entries[l->nentries].key_authorization = ka;
		l->nentries++;
		t = ka = NULL;
	}
unlock:
	pthread_mutex_unlock(&l->mu);
done:
	free(t);
	free(ka);
	return error;
}

static int listen_cleanup(challenge_solver *s, const char *token,
			  const char *key_authorization, const char *identifier)
{
	listen_solver *l = (listen_solver *)s;
	long i;

	(void)key_authorization;
	(void)identifier;
	pthread_mutex_lock(&l->mu);
	if ((i = find_entry(l, token)) >= 0) {
		free(l->entries[i].token);
		free(l->entries[i].key_authorization);
		l->entries[i] = l->entries[--l->nentries];
	}
	pthread_mutex_unlock(&l->mu);
	return 0;
}

static void listen_free(challenge_solver *s)
{
	listen_solver *l = (listen_solver *)s;
	size_t i;

	if (l->started) {
		ssize_t n;

		do
			n = write(l->wake[1], "x", 1);
		while (n < 0 && errno == EINTR);
		pthread_join(l->thread, NULL);
	}
	for (i = 0; i < MAX_CONNS; i++)
		if (l->conns[i])
			conn_close(l->conns[i]);
	for (i = 0; i < l->nentries; i++) {
		free(l->entries[i].token);
		free(l->entries[i].key_authorization);
	}
	if (l->lfd >= 0)
		close(l->lfd);
	if (l->wake[0] >= 0)
		close(l->wake[0]);
	if (l->wake[1] >= 0)
		close(l->wake[1]);
	pthread_mutex_destroy(&l->mu);
	free(l->entries);
	free(l->listen);
	free(l);
}

static const challenge_ops listen_ops = {
	"http-01", "listen", listen_present, listen_cleanup, listen_free
};

/* Splits "host:port", "[v6]:port" or ":port" into host (NULL: any) and port. */
static int split_listen(char **host_out, char **port_out, const char *listen)
{
	const char *colon, *host = listen, *host_end;

	*host_out = *port_out = NULL;
	if (listen[0] == '[') {
		host = listen + 1;
		host_end = strchr(host, ']');
		if (!host_end || host_end[1] != ':')
			goto bad;
		colon = host_end + 1;
	} else {
		colon = strrchr(listen, ':');
		if (!colon || memchr(listen, ':', (size_t)(colon - listen)))
			goto bad;
		host_end = colon;
	}
	if (!colon[1] || strspn(colon + 1, "0123456789") != strlen(colon + 1) ||
	    strlen(colon + 1) > 5 || strtol(colon + 1, NULL, 10) > 65535)
		goto bad;
	if (host_end > host && !(*host_out = strndup(host, (size_t)(host_end - host))))
		return util_error_oom();
	if (!(*port_out = strdup(colon + 1))) {
		free(*host_out);
		*host_out = NULL;
		return util_error_oom();
	}
	return 0;
bad:
	return util_error_set(CERTOPS_EINVALID,
		"http-01 listen address '%s' is not HOST:PORT, [IPv6]:PORT or :PORT", listen);
}

static int bind_listen(listen_solver *l)
{
	struct addrinfo hints = { 0 }, *res = NULL;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char *host = NULL, *port = NULL;
	int error, rc, one = 1;

	if ((error = split_listen(&host, &port, l->listen)) < 0)
		return error;
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV | (host ? AI_NUMERICHOST : 0);
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		error = util_error_set(CERTOPS_EINVALID,
			"http-01 listen address '%s': %s (give a numeric address)",
			l->listen, gai_strerror(rc));
		goto done;
	}
	l->lfd = socket(res->ai_family, res->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
			res->ai_protocol);
	if (l->lfd < 0) {
		error = util_error_set_errno(CERTOPS_ERROR, "http-01 responder socket");
		goto done;
	}
	setsockopt(l->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(l->lfd, res->ai_addr, res->ai_addrlen) < 0) {
		error = util_error_set_errno(CERTOPS_ERROR,
			"http-01 responder cannot listen on '%s'%s", l->listen,
			errno == EADDRINUSE ? " (another program uses that port)" : "");
		goto done;
	}
	if (listen(l->lfd, 128) < 0) {
		error = util_error_set_errno(CERTOPS_ERROR, "listening on '%s'", l->listen);
		goto done;
	}
	if (getsockname(l->lfd, (struct sockaddr *)&ss, &sl) == 0)
		l->port = ntohs(ss.ss_family == AF_INET6
			? ((struct sockaddr_in6 *)&ss)->sin6_port
			: ((struct sockaddr_in *)&ss)->sin_port);
	error = 0;
done:
	if (res)
		freeaddrinfo(res);
	free(host);
	free(port);
	return error;
}

int challenge_http01_listen_new(challenge_solver **out, const char *listen_addr)
{
	listen_solver *l;
	int error;

	*out = NULL;
	if (!listen_addr || !*listen_addr)
		return util_error_set(CERTOPS_EINVALID, "http-01 listen address is empty");
	if (!(l = calloc(1, sizeof(*l))))
		return util_error_oom();
	l->base.ops = &listen_ops;
	l->lfd = l->wake[0] = l->wake[1] = -1;
	l->timeout_ms = CONN_TIMEOUT_MS;
	pthread_mutex_init(&l->mu, NULL);
	if (!(l->listen = strdup(listen_addr))) {
		error = util_error_oom();
		goto fail;
	}
	if ((error = bind_listen(l)) < 0)
		goto fail;
	if (pipe2(l->wake, O_CLOEXEC) < 0) {
		error = util_error_set_errno(CERTOPS_ERROR, "http-01 responder pipe");
		goto fail;
	}
	if ((error = pthread_create(&l->thread, NULL, serve, l)) != 0) {
		errno = error;
		error = util_error_set_errno(CERTOPS_ERROR, "starting the http-01 responder");
		goto fail;
	}
	l->started = 1;
	util_log_debug("challenge", "http-01 responder listening on '%s' (port %d)",
		       l->listen, l->port);
	*out = &l->base;
	return 0;
fail:
	listen_free(&l->base);
	return error;
}

int challenge_http01_listen_port(const challenge_solver *s)
{
	return s && s->ops == &listen_ops ? ((const listen_solver *)s)->port : -1;
}

void challenge__http01_listen_set_timeout(challenge_solver *s, int ms)
{
	if (s && s->ops == &listen_ops)
		__atomic_store_n(&((listen_solver *)s)->timeout_ms, ms, __ATOMIC_RELAXED);
}
