/*
 * The webhook notifier against a tiny HTTP listener run in a thread of the
 * test: it answers each request with the next status of a script and keeps
 * the bodies it received.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "notify/notify.h"
#include "state/state.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/fs.h"

#define MAX_REQ 8

typedef struct {
	int fd, port;
	int statuses[MAX_REQ], nstatuses;
	int nreq;
	util_buf bodies[MAX_REQ];
	volatile int stop;
	pthread_t thread;
	pthread_mutex_t mu;
} server;

static server srv;
static char tmpdir[64];

/* Reads one request; returns its body (appended to body) or -1. */
static int read_request(int c, util_buf *body)
{
	util_buf req = UTIL_BUF_INIT;
	char chunk[1024];
	const char *end, *cl;
	size_t need = 0, hdr = 0;
	ssize_t n;
	int rc = -1;

	for (;;) {
		n = read(c, chunk, sizeof(chunk));
		if (n <= 0)
			goto done;
		util_buf_put(&req, chunk, (size_t)n);
		if (!hdr && (end = strstr(req.ptr, "\r\n\r\n"))) {
			hdr = (size_t)(end - req.ptr) + 4;
			cl = strcasestr(req.ptr, "Content-Length:");
			need = cl ? strtoul(cl + 15, NULL, 10) : 0;
		}
		if (hdr && req.size >= hdr + need)
			break;
	}
	util_buf_put(body, req.ptr + hdr, need);
	rc = 0;
done:
	util_buf_release(&req);
	return rc;
}

static void *serve(void *arg)
{
	struct pollfd pfd = { .fd = srv.fd, .events = POLLIN };
	char resp[128];
	int c, status, i;

	(void)arg;
	while (!srv.stop) {
		if (poll(&pfd, 1, 50) <= 0)
			continue;
		c = accept(srv.fd, NULL, NULL);
		if (c < 0)
			continue;
		pthread_mutex_lock(&srv.mu);
		i = srv.nreq < MAX_REQ ? srv.nreq : MAX_REQ - 1;
		pthread_mutex_unlock(&srv.mu);
		if (read_request(c, &srv.bodies[i]) == 0) {
			status = i < srv.nstatuses ? srv.statuses[i] : 200;
			snprintf(resp, sizeof(resp), "HTTP/1.1 %d X\r\nContent-Length: 0\r\n"
				 "Connection: close\r\n\r\n", status);
			/* Counted before the answer: once the client has its
			 * answer, the test may look at the count. */
			pthread_mutex_lock(&srv.mu);
			srv.nreq++;
			pthread_mutex_unlock(&srv.mu);
			if (write(c, resp, strlen(resp)) < 0) {
				/* the client gave up; it retries */
			}
		}
		close(c);
	}
	return NULL;
}

static void server_start(const int *statuses, int n)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int i;

	memset(&srv, 0, sizeof(srv));
	pthread_mutex_init(&srv.mu, NULL);
	for (i = 0; i < MAX_REQ; i++)
		util_buf_init(&srv.bodies[i]);
	for (i = 0; i < n; i++)
		srv.statuses[i] = statuses[i];
	srv.nstatuses = n;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	srv.fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(srv.fd >= 0);
	assert_int_equal(0, bind(srv.fd, (struct sockaddr *)&a, sizeof(a)));
	assert_int_equal(0, listen(srv.fd, 8));
	assert_int_equal(0, getsockname(srv.fd, (struct sockaddr *)&a, &len));
	srv.port = ntohs(a.sin_port);
	assert_int_equal(0, pthread_create(&srv.thread, NULL, serve, NULL));
}

static int server_requests(void)
{
	int n;

	pthread_mutex_lock(&srv.mu);
	n = srv.nreq;
	pthread_mutex_unlock(&srv.mu);
	return n;
}

static void server_stop(void)
{
	int i;

	srv.stop = 1;
	pthread_join(srv.thread, NULL);
	close(srv.fd);
	for (i = 0; i < MAX_REQ; i++)
		util_buf_release(&srv.bodies[i]);
	pthread_mutex_destroy(&srv.mu);
}

static void url_of(util_buf *b)
{
	util_buf_printf(b, "http://127.0.0.1:%d/hook", srv.port);
}

static int setup(void **vs)
{
	(void)vs;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/certops-notify-test.XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **vs)
{
	char cmd[128];

	(void)vs;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* A state store in tmpdir (one per test): the notification memory lives there. */
static state *store(const char *name)
{
	util_buf p = UTIL_BUF_INIT;
	state *st = NULL;

	util_fs_join(&p, tmpdir, name);
	assert_int_equal(0, state_open(&st, p.ptr, 0));
	util_buf_release(&p);
	return st;
}

static void post_retries_then_succeeds(void **vs)
{
	const int script[] = { 500, 503, 200 };
	notify_opts o = { .max_attempts = 4, .backoff_ms = 5 };
	util_buf url = UTIL_BUF_INIT;

	(void)vs;
	server_start(script, 3);
	url_of(&url);
	o.url = url.ptr;
	assert_int_equal(0, notify_post(&o, "{\"a\":1}"));
	assert_int_equal(3, server_requests());
	assert_string_equal("{\"a\":1}", srv.bodies[0].ptr);
	assert_string_equal("{\"a\":1}", srv.bodies[2].ptr);
	server_stop();
	util_buf_release(&url);
}

static void post_gives_up_and_4xx_is_not_retried(void **vs)
{
	const int script[] = { 500, 500, 400 };
	notify_opts o = { .max_attempts = 2, .backoff_ms = 5 };
	util_buf url = UTIL_BUF_INIT;

	(void)vs;
	server_start(script, 3);
	url_of(&url);
	o.url = url.ptr;
	assert_int_equal(CERTOPS_EPEER, notify_post(&o, "{}"));
	assert_int_equal(2, server_requests());
	assert_non_null(strstr(util_error_message(), "answered HTTP 500 (after 2 attempts)"));
	o.max_attempts = 5;
	assert_int_equal(CERTOPS_EPEER, notify_post(&o, "{}"));
	assert_int_equal(3, server_requests()); /* the 400: once, no retry */
	assert_non_null(strstr(util_error_message(), "HTTP 400 (after 1 attempt)"));
	server_stop();
	util_buf_release(&url);
}

static void post_connection_refused(void **vs)
{
	notify_opts o = { .max_attempts = 2, .backoff_ms = 1 };
	util_buf url = UTIL_BUF_INIT;
	int fd, port;
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);

	(void)vs;
	/* A port that was just free: bound, then closed. */
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(0, bind(fd, (struct sockaddr *)&a, sizeof(a)));
	getsockname(fd, (struct sockaddr *)&a, &len);
	port = ntohs(a.sin_port);
	close(fd);
	util_buf_printf(&url, "http://127.0.0.1:%d/", port);
	o.url = url.ptr;
	assert_int_equal(CERTOPS_ERROR, notify_post(&o, "{}"));
	assert_non_null(strstr(util_error_message(), "(after 2 attempts)"));
	util_buf_release(&url);
}

static void once_per_state_change(void **vs)
{
	notify_opts o = { .max_attempts = 1, .backoff_ms = 1 };
	util_buf url = UTIL_BUF_INIT;
	notify *n = NULL;
	state *st = store("once");

	(void)vs;
	server_start(NULL, 0);
	url_of(&url);
	o.url = url.ptr;
	o.st = st;
	assert_int_equal(0, notify_open(&n, &o));
	/* A subject seen healthy for the first time: nothing to say. */
	assert_int_equal(0, notify_update(n, "certificate/api", NOTIFY_OK, NULL, NULL));
	assert_int_equal(0, server_requests());
	/* Failing: one notification, however many cycles it keeps failing. */
	assert_int_equal(1, notify_update(n, "certificate/www", NOTIFY_FAILING,
					  "order failed", "0123456789abcdef0123456789abcdef01234567"));
	assert_int_equal(0, notify_update(n, "certificate/www", NOTIFY_FAILING, "again", NULL));
	assert_int_equal(0, notify_update(n, "certificate/www", NOTIFY_FAILING, "again", NULL));
	assert_int_equal(1, server_requests());
	assert_non_null(strstr(srv.bodies[0].ptr, "\"subject\":\"certificate/www\""));
	assert_non_null(strstr(srv.bodies[0].ptr, "\"status\":\"failing\""));
	assert_non_null(strstr(srv.bodies[0].ptr, "\"previous\":\"ok\""));
	assert_non_null(strstr(srv.bodies[0].ptr, "\"message\":\"order failed\""));
	assert_non_null(strstr(srv.bodies[0].ptr, "\"commit\":\"0123456789abcdef"));
	/* Close to expiry while failing: the louder, distinct alert. */
	assert_int_equal(1, notify_update(n, "certificate/www", NOTIFY_EXPIRING, "3d left", NULL));
	assert_non_null(strstr(srv.bodies[1].ptr, "\"status\":\"expiring\""));
	notify_free(n);

	/* The states survive a restart (the --once timer case). */
	state_free(st);
	o.st = st = store("once");
	assert_int_equal(0, notify_open(&n, &o));
	assert_int_equal(0, notify_update(n, "certificate/www", NOTIFY_EXPIRING, NULL, NULL));
	assert_int_equal(1, notify_update(n, "certificate/www", NOTIFY_OK, NULL, NULL));
	assert_int_equal(3, server_requests());
	assert_non_null(strstr(srv.bodies[2].ptr, "\"status\":\"recovered\""));
	assert_non_null(strstr(srv.bodies[2].ptr, "\"previous\":\"expiring\""));
	assert_null(strstr(srv.bodies[2].ptr, "\"commit\""));
	notify_free(n);
	state_free(st);
	server_stop();
	util_buf_release(&url);
}

static void undelivered_is_retried_next_time(void **vs)
{
	const int script[] = { 500, 200 };
	notify_opts o = { .max_attempts = 1, .backoff_ms = 1 };
	util_buf url = UTIL_BUF_INIT;
	state_notified *items = NULL;
	size_t count = 0;
	notify *n = NULL;
	state *st = store("undelivered");

	(void)vs;
	server_start(script, 2);
	url_of(&url);
	o.url = url.ptr;
	o.st = st;
	assert_int_equal(0, notify_open(&n, &o));
	assert_true(notify_update(n, "reconcile", NOTIFY_FAILING, "x", NULL) < 0);
	/* Not recorded: the next check sends it again. */
	assert_int_equal(0, state_notified_list(&items, &count, st));
	assert_int_equal(0, count);
	assert_int_equal(1, notify_update(n, "reconcile", NOTIFY_FAILING, "x", NULL));
	assert_int_equal(2, server_requests());
	assert_int_equal(0, state_notified_list(&items, &count, st));
	assert_int_equal(1, count);
	assert_string_equal("reconcile", items[0].subject);
	assert_string_equal("failing", items[0].status);
	state_notified_array_free(items, count);
	notify_free(n);
	state_free(st);
	server_stop();
	util_buf_release(&url);
}

static void no_url_tracks_silently_and_bad_state_file(void **vs)
{
	notify_opts o = { 0 };
	util_buf path = UTIL_BUF_INIT;
	notify *n = NULL;
	state *st = store("nourl");

	(void)vs;
	/* no store: remembered in memory only */
	assert_int_equal(0, notify_open(&n, &o));
	assert_int_equal(0, notify_update(n, "reconcile", NOTIFY_FAILING, NULL, NULL));
	assert_int_equal(0, notify_update(n, "reconcile", NOTIFY_FAILING, NULL, NULL));
	notify_free(n);
	o.st = st;
	assert_int_equal(0, notify_open(&n, &o));
	assert_int_equal(0, notify_update(n, "reconcile", NOTIFY_FAILING, NULL, NULL));
	notify_free(n);
	util_fs_join(&path, state_path(st), "reconcile/notified.json");
	assert_int_equal(0, util_fs_write_atomic(path.ptr, "[1,", 3, 0600));
	assert_int_equal(CERTOPS_EINVALID, notify_open(&n, &o));
	assert_null(n);
	assert_string_equal(path.ptr, util_error_last()->file);
	state_free(st);
	util_buf_release(&path);
}

static void expiring_threshold(void **vs)
{
	const time_t day = 86400, nb = 1000 * 86400, na = nb + 90 * 86400;

	(void)vs;
	/* 90 days: the alert starts when less than 15 days remain. */
	assert_false(notify_expiring(nb, na, nb, 0));
	assert_false(notify_expiring(nb, na, na - 16 * day, 0));
	assert_false(notify_expiring(nb, na, na - 15 * day, 0));
	assert_true(notify_expiring(nb, na, na - 15 * day + 1, 0));
	assert_true(notify_expiring(nb, na, na - 1, 0));
	assert_true(notify_expiring(nb, na, na, 0));
	assert_true(notify_expiring(nb, na, na + 10 * day, 0));
	/* Another divisor: a third of 90 days. */
	assert_true(notify_expiring(nb, na, na - 29 * day, 3));
	assert_false(notify_expiring(nb, na, na - 31 * day, 3));
	/* Dates that make no sense: only "expired" is said. */
	assert_false(notify_expiring(na, nb, nb - day, 0));
	assert_true(notify_expiring(na, nb, nb, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(post_retries_then_succeeds),
		cmocka_unit_test(post_gives_up_and_4xx_is_not_retried),
		cmocka_unit_test(post_connection_refused),
		cmocka_unit_test(once_per_state_change),
		cmocka_unit_test(undelivered_is_retried_next_time),
		cmocka_unit_test(no_url_tracks_silently_and_bad_state_file),
		cmocka_unit_test(expiring_threshold),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
