/*
 * http-01 solvers: token checks, the webroot solver's files, and the
 * built-in responder spoken to over a real loopback socket.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "challenge/challenge.h"
#include "challenge/internal.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/fs.h"

#define TOKEN_A "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA"
#define KA_A TOKEN_A ".9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI"
#define TOKEN_B "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0"
#define KA_B TOKEN_B ".9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI"

static int connect_port(int port)
{
	struct sockaddr_in sa = { 0 };
	struct timeval tv = { 5, 0 };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* Sends raw request bytes and returns the whole response (caller frees). */
static char *exchange(int port, const char *request, size_t len)
{
	util_buf b = UTIL_BUF_INIT;
	char chunk[4096];
	int fd = connect_port(port);
	ssize_t n;

	if (len && send(fd, request, len, MSG_NOSIGNAL) != (ssize_t)len) {
		close(fd);
		return strdup("");
	}
	while ((n = recv(fd, chunk, sizeof(chunk), 0)) > 0)
		util_buf_put(&b, chunk, (size_t)n);
	close(fd);
	return util_buf_detach(&b);
}

static char *get(int port, const char *path)
{
	char req[1024];
	int len = snprintf(req, sizeof(req),
			   "GET %s HTTP/1.1\r\nHost: example.com\r\nUser-Agent: test\r\n\r\n", path);

	return exchange(port, req, (size_t)len);
}

static int status_of(const char *resp)
{
	int code = 0;

	if (sscanf(resp, "HTTP/1.1 %d", &code) != 1)
		return -1;
	return code;
}

static const char *body_of(const char *resp)
{
	const char *p = strstr(resp, "\r\n\r\n");

	return p ? p + 4 : "";
}

static void test_token_check(void **vs)
{
	char long_token[300];

	(void)vs;
	assert_int_equal(challenge_token_check(TOKEN_A), 0);
	assert_int_equal(challenge_token_check("abc-_XYZ019"), 0);
	assert_int_equal(challenge_token_check(""), CERTOPS_EINVALID);
	assert_int_equal(challenge_token_check(NULL), CERTOPS_EINVALID);
	assert_int_equal(challenge_token_check(".."), CERTOPS_EINVALID);
	assert_int_equal(challenge_token_check("../etc/passwd"), CERTOPS_EINVALID);
	assert_int_equal(challenge_token_check("a/b"), CERTOPS_EINVALID);
	assert_int_equal(challenge_token_check("a b"), CERTOPS_EINVALID);
	assert_int_equal(challenge_token_check("a+b="), CERTOPS_EINVALID);
	memset(long_token, 'a', sizeof(long_token) - 1);
	long_token[sizeof(long_token) - 1] = '\0';
	assert_int_equal(challenge_token_check(long_token), CERTOPS_EINVALID);

	assert_int_equal(challenge_key_authorization_check(KA_A), 0);
	assert_int_equal(challenge_key_authorization_check(TOKEN_A), CERTOPS_EINVALID);
	assert_int_equal(challenge_key_authorization_check("a.b.c"), CERTOPS_EINVALID);
	assert_int_equal(challenge_key_authorization_check("a.b\n"), CERTOPS_EINVALID);
	assert_int_equal(challenge_key_authorization_check(".b"), CERTOPS_EINVALID);
}

static void test_listen_serves_tokens(void **vs)
{
	challenge_solver *s = NULL;
	char *r;
	int port;

	(void)vs;
	assert_int_equal(challenge_http01_listen_new(&s, "127.0.0.1:0"), 0);
	assert_string_equal(challenge_solver_type(s), "http-01");
	port = challenge_http01_listen_port(s);
	assert_true(port > 0);

	assert_int_equal(challenge_present(s, TOKEN_A, KA_A, "a.example"), 0);
	assert_int_equal(challenge_present(s, TOKEN_B, KA_B, "b.example"), 0);

	r = get(port, "/.well-known/acme-challenge/" TOKEN_A);
	assert_int_equal(status_of(r), 200);
	assert_non_null(strstr(r, "Content-Type: text/plain\r\n"));
	assert_string_equal(body_of(r), KA_A);
	free(r);
	r = get(port, "/.well-known/acme-challenge/" TOKEN_B);
	assert_int_equal(status_of(r), 200);
	assert_string_equal(body_of(r), KA_B);
	free(r);

	/* unknown token, other paths, traversal: 404 */
	r = get(port, "/.well-known/acme-challenge/unknownToken");
	assert_int_equal(status_of(r), 404);
	free(r);
	r = get(port, "/");
	assert_int_equal(status_of(r), 404);
	free(r);
	r = get(port, "/.well-known/acme-challenge/../acme-challenge/" TOKEN_A);
	assert_int_equal(status_of(r), 404);
	free(r);

	/* HEAD: headers only; POST: refused */
	r = exchange(port, "HEAD /.well-known/acme-challenge/" TOKEN_A " HTTP/1.1\r\n\r\n",
		     strlen("HEAD /.well-known/acme-challenge/" TOKEN_A " HTTP/1.1\r\n\r\n"));
	assert_int_equal(status_of(r), 200);
	assert_string_equal(body_of(r), "");
	free(r);
	r = exchange(port, "POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
		     strlen("POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n"));
	assert_int_equal(status_of(r), 405);
	free(r);
	r = exchange(port, "garbage\r\n\r\n", strlen("garbage\r\n\r\n"));
	assert_int_equal(status_of(r), 400);
	free(r);

	/* a query string does not hide the token */
	r = get(port, "/.well-known/acme-challenge/" TOKEN_A "?x=1");
	assert_int_equal(status_of(r), 200);
	free(r);

	/* cleanup withdraws one token, not the other */
	assert_int_equal(challenge_cleanup(s, TOKEN_A, KA_A, "a.example"), 0);
	r = get(port, "/.well-known/acme-challenge/" TOKEN_A);
	assert_int_equal(status_of(r), 404);
	free(r);
	r = get(port, "/.well-known/acme-challenge/" TOKEN_B);
	assert_int_equal(status_of(r), 200);
	free(r);
	/* cleaning up twice is fine */
	assert_int_equal(challenge_cleanup(s, TOKEN_A, KA_A, "a.example"), 0);

	/* re-presenting replaces the answer */
	assert_int_equal(challenge_present(s, TOKEN_B, TOKEN_B ".other", NULL), 0);
	r = get(port, "/.well-known/acme-challenge/" TOKEN_B);
	assert_string_equal(body_of(r), TOKEN_B ".other");
	free(r);

	/* bad input never reaches the table */
	assert_int_equal(challenge_present(s, "../x", KA_A, NULL), CERTOPS_EINVALID);
	assert_int_equal(challenge_present(s, TOKEN_A, "not a ka", NULL), CERTOPS_EINVALID);
	challenge_solver_free(s);
}

static void test_listen_bounds_request_size(void **vs)
{
	challenge_solver *s = NULL;
	/* exactly the responder's buffer (8 KiB less the NUL), no header end */
	size_t len = 8191;
	char *big = malloc(len), *r;

	(void)vs;
	assert_non_null(big);
	memset(big, 'a', len);
	memcpy(big, "GET /", 5);
	assert_int_equal(challenge_http01_listen_new(&s, "127.0.0.1:0"), 0);
	r = exchange(challenge_http01_listen_port(s), big, len);
	/* the responder answers 431 once its buffer is full, then closes */
	assert_int_equal(status_of(r), 431);
	free(r);
	free(big);
	challenge_solver_free(s);
}

/* A client that connects and says nothing must not block others, nor stop. */
static void test_listen_slow_client_and_stop(void **vs)
{
	challenge_solver *s = NULL;
	struct timespec t0, t1;
	int idle, port;
	char *r;

	(void)vs;
	assert_int_equal(challenge_http01_listen_new(&s, "127.0.0.1:0"), 0);
	port = challenge_http01_listen_port(s);
	assert_int_equal(challenge_present(s, TOKEN_A, KA_A, NULL), 0);
	idle = connect_port(port);
	r = get(port, "/.well-known/acme-challenge/" TOKEN_A);
	assert_int_equal(status_of(r), 200);
	free(r);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	challenge_solver_free(s);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	/* stopping does not wait for the idle client's timeout */
	assert_true(t1.tv_sec - t0.tv_sec < 3);
	close(idle);
}

static size_t curl_sink(char *data, size_t size, size_t nmemb, void *p)
{
	util_buf_put(p, data, size * nmemb);
	return size * nmemb;
}

/* A real HTTP client (as a CA's validator is) gets the same answers. */
static void test_listen_with_libcurl(void **vs)
{
	challenge_solver *s = NULL;
	util_buf body = UTIL_BUF_INIT;
	char url[256];
	char *ctype = NULL;
	long code = 0;
	CURL *c;

	(void)vs;
	assert_int_equal(challenge_http01_listen_new(&s, "127.0.0.1:0"), 0);
	assert_int_equal(challenge_present(s, TOKEN_A, KA_A, "a.example"), 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/.well-known/acme-challenge/%s",
		 challenge_http01_listen_port(s), TOKEN_A);
	assert_non_null(c = curl_easy_init());
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, curl_sink);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 5L);
	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ctype);
	assert_int_equal(code, 200);
	assert_string_equal(ctype, "text/plain");
	assert_string_equal(body.ptr, KA_A);

	util_buf_clear(&body);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/.well-known/acme-challenge/nope",
		 challenge_http01_listen_port(s));
	curl_easy_setopt(c, CURLOPT_URL, url);
	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	assert_int_equal(code, 404);
	curl_easy_cleanup(c);
	util_buf_release(&body);
	challenge_solver_free(s);
}

/* A client that connects and never sends is dropped at its deadline. */
static void test_listen_drops_silent_client(void **vs)
{
	challenge_solver *s = NULL;
	struct timeval tv = { 5, 0 };
	char buf[64];
	ssize_t n;
	int fd;

	(void)vs;
	assert_int_equal(challenge_http01_listen_new(&s, "127.0.0.1:0"), 0);
	challenge__http01_listen_set_timeout(s, 200);
	fd = connect_port(challenge_http01_listen_port(s));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	/* half a request line, then silence: the responder closes (EOF) */
	assert_int_equal(send(fd, "GET /", 5, MSG_NOSIGNAL), 5);
	n = recv(fd, buf, sizeof(buf), 0);
	assert_true(n <= 0);
	if (n < 0)
		assert_int_not_equal(errno, EAGAIN); /* not our 5 s guard firing */
	close(fd);
	challenge_solver_free(s);
}

typedef struct {
	int port;
	int ok;
} hammer_arg;

static void *hammer(void *p)
{
	hammer_arg *a = p;
	int i;

	for (i = 0; i < 50; i++) {
		char *r = get(a->port, "/.well-known/acme-challenge/" TOKEN_A);
		if (status_of(r) == 200 && !strcmp(body_of(r), KA_A))
			a->ok++;
		free(r);
	}
	return NULL;
}

/* Many clients at once while tokens come and go. */
static void test_listen_concurrent(void **vs)
{
	challenge_solver *s = NULL;
	pthread_t th[8];
	hammer_arg args[8];
	char token[32], ka[64];
	int i;

	(void)vs;
	assert_int_equal(challenge_http01_listen_new(&s, "127.0.0.1:0"), 0);
	assert_int_equal(challenge_present(s, TOKEN_A, KA_A, NULL), 0);
	for (i = 0; i < 8; i++) {
		args[i].port = challenge_http01_listen_port(s);
		args[i].ok = 0;
		assert_int_equal(pthread_create(&th[i], NULL, hammer, &args[i]), 0);
	}
	for (i = 0; i < 200; i++) {
		snprintf(token, sizeof(token), "tok%d", i);
		snprintf(ka, sizeof(ka), "tok%d.thumb", i);
		assert_int_equal(challenge_present(s, token, ka, NULL), 0);
		if (i % 2)
			assert_int_equal(challenge_cleanup(s, token, ka, NULL), 0);
	}
	for (i = 0; i < 8; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(args[i].ok, 50);
	}
	/* free with 100 tokens still presented: they go with it */
	challenge_solver_free(s);
}

static void test_listen_bad_address(void **vs)
{
	challenge_solver *s = NULL, *s2 = NULL;
	char addr[64];

	(void)vs;
	assert_int_equal(challenge_http01_listen_new(&s, "nonsense"), CERTOPS_EINVALID);
	assert_int_equal(challenge_http01_listen_new(&s, "127.0.0.1:99999"), CERTOPS_EINVALID);
	assert_int_equal(challenge_http01_listen_new(&s, "127.0.0.1:"), CERTOPS_EINVALID);
	assert_int_equal(challenge_http01_listen_new(&s, "localhost:80"), CERTOPS_EINVALID);
	assert_int_equal(challenge_http01_listen_new(&s, "[::1"), CERTOPS_EINVALID);
	assert_null(s);

	/* the port is taken: say so */
	assert_int_equal(challenge_http01_listen_new(&s, "127.0.0.1:0"), 0);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", challenge_http01_listen_port(s));
	assert_int_not_equal(challenge_http01_listen_new(&s2, addr), 0);
	assert_null(s2);
	assert_non_null(strstr(util_error_message(), "another program uses that port"));
	challenge_solver_free(s);
}

static void test_listen_ipv6_and_any(void **vs)
{
	challenge_solver *s = NULL;

	(void)vs;
	assert_int_equal(challenge_http01_listen_new(&s, ":0"), 0);
	assert_true(challenge_http01_listen_port(s) > 0);
	challenge_solver_free(s);
	/* IPv6 may be off in a container: only check that it parses */
	if (challenge_http01_listen_new(&s, "[::1]:0") == 0)
		challenge_solver_free(s);
	else
		assert_int_not_equal(util_error_last()->code, CERTOPS_EINVALID);
}

/* ---- webroot ---- */

typedef struct {
	char root[64];
} wfix;

static int wsetup(void **vs)
{
	wfix *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	memcpy(f->root, "/tmp/certops-webroot-XXXXXX", sizeof("/tmp/certops-webroot-XXXXXX"));
	assert_non_null(mkdtemp(f->root));
	*vs = f;
	return 0;
}

static int wteardown(void **vs)
{
	wfix *f = *vs;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->root);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static void read_into(util_buf *b, const char *path)
{
	util_buf_clear(b);
	assert_int_equal(util_fs_read_file(b, path, 0), 0);
}

static mode_t mode_of(const char *path)
{
	struct stat sb;

	assert_int_equal(stat(path, &sb), 0);
	return sb.st_mode & 07777;
}

static void test_webroot_present_cleanup(void **vs)
{
	wfix *f = *vs;
	challenge_solver *s = NULL;
	util_buf b = UTIL_BUF_INIT;
	char pa[512], pb[512], dir[256], wk[256];
	mode_t old = umask(077); /* the file must still be world-readable */

	snprintf(wk, sizeof(wk), "%s/.well-known", f->root);
	snprintf(dir, sizeof(dir), "%s/.well-known/acme-challenge", f->root);
	snprintf(pa, sizeof(pa), "%s/%s", dir, TOKEN_A);
	snprintf(pb, sizeof(pb), "%s/%s", dir, TOKEN_B);

	assert_int_equal(challenge_http01_webroot_new(&s, f->root), 0);
	assert_string_equal(challenge_solver_type(s), "http-01");
	assert_int_equal(challenge_present(s, TOKEN_A, KA_A, "a.example"), 0);
	assert_int_equal(challenge_present(s, TOKEN_B, KA_B, "b.example"), 0);
	read_into(&b, pa);
	assert_string_equal(b.ptr, KA_A);
	read_into(&b, pb);
	assert_string_equal(b.ptr, KA_B);
	assert_int_equal(mode_of(pa), 0644);
	assert_int_equal(mode_of(dir), 0755);
	assert_int_equal(mode_of(wk), 0755);

	assert_int_equal(challenge_cleanup(s, TOKEN_A, KA_A, "a.example"), 0);
	assert_int_equal(access(pa, F_OK), -1);
	assert_int_equal(access(pb, F_OK), 0);
	/* a token still there: the folders stay */
	assert_int_equal(access(dir, F_OK), 0);
	assert_int_equal(challenge_cleanup(s, TOKEN_B, KA_B, "b.example"), 0);
	/* the folders were ours: gone with the last token */
	assert_int_equal(access(dir, F_OK), -1);
	assert_int_equal(access(wk, F_OK), -1);

	assert_int_equal(challenge_present(s, "../../x", KA_A, NULL), CERTOPS_EINVALID);
	assert_int_equal(challenge_cleanup(s, "a/b", KA_A, NULL), CERTOPS_EINVALID);
	challenge_solver_free(s);
	umask(old);
	util_buf_release(&b);
}

static void test_webroot_free_removes_leftovers(void **vs)
{
	wfix *f = *vs;
	challenge_solver *s = NULL;
	char pa[256], wk[128], other[256];

	/* a .well-known that exists already (another tool's) is left in place */
	snprintf(wk, sizeof(wk), "%s/.well-known", f->root);
	assert_int_equal(mkdir(wk, 0755), 0);
	snprintf(other, sizeof(other), "%s/security.txt", wk);
	assert_int_equal(util_fs_write_atomic(other, "x", 1, 0644), 0);
	snprintf(pa, sizeof(pa), "%s/.well-known/acme-challenge/%s", f->root, TOKEN_A);

	assert_int_equal(challenge_http01_webroot_new(&s, f->root), 0);
	assert_int_equal(challenge_present(s, TOKEN_A, KA_A, NULL), 0);
	assert_int_equal(access(pa, F_OK), 0);
	/* the caller "fails" and never calls cleanup: free does it */
	challenge_solver_free(s);
	assert_int_equal(access(pa, F_OK), -1);
	assert_int_equal(access(wk, F_OK), 0);
	assert_int_equal(access(other, F_OK), 0);
}

typedef struct {
	challenge_solver *s;
	const char *root;
	int id, bad;
} wr_arg;

static void *webroot_worker(void *p)
{
	wr_arg *a = p;
	char token[32], ka[64], path[256];
	util_buf b = UTIL_BUF_INIT;
	int i;

	for (i = 0; i < 40; i++) {
		snprintf(token, sizeof(token), "t%d_%d", a->id, i);
		snprintf(ka, sizeof(ka), "t%d_%d.thumb", a->id, i);
		snprintf(path, sizeof(path), "%s/.well-known/acme-challenge/%s", a->root, token);
		util_buf_clear(&b);
		if (challenge_present(a->s, token, ka, NULL) < 0 ||
		    util_fs_read_file(&b, path, 0) < 0 || strcmp(b.ptr, ka))
			a->bad++;
		if (i % 2 && challenge_cleanup(a->s, token, ka, NULL) < 0)
			a->bad++;
	}
	util_buf_release(&b);
	return NULL;
}

/* Many orders present and clean up at once; free removes the rest. */
static void test_webroot_concurrent(void **vs)
{
	wfix *f = *vs;
	challenge_solver *s = NULL;
	pthread_t th[6];
	wr_arg args[6];
	char dir[256];
	int i;

	assert_int_equal(challenge_http01_webroot_new(&s, f->root), 0);
	for (i = 0; i < 6; i++) {
		args[i] = (wr_arg){ s, f->root, i, 0 };
		assert_int_equal(pthread_create(&th[i], NULL, webroot_worker, &args[i]), 0);
	}
	for (i = 0; i < 6; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(args[i].bad, 0);
	}
	challenge_solver_free(s);
	/* every file gone, and the folders the solver made */
	snprintf(dir, sizeof(dir), "%s/.well-known", f->root);
	assert_int_equal(access(dir, F_OK), -1);
}

static void test_webroot_bad(void **vs)
{
	wfix *f = *vs;
	challenge_solver *s = NULL;
	char file[256];

	assert_int_equal(challenge_http01_webroot_new(&s, "/nonexistent/certops/x"), CERTOPS_EINVALID);
	assert_int_equal(challenge_http01_webroot_new(&s, ""), CERTOPS_EINVALID);
	snprintf(file, sizeof(file), "%s/file", f->root);
	assert_int_equal(util_fs_write_atomic(file, "x", 1, 0644), 0);
	assert_int_equal(challenge_http01_webroot_new(&s, file), CERTOPS_EINVALID);
	assert_null(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_token_check),
		cmocka_unit_test(test_listen_serves_tokens),
		cmocka_unit_test(test_listen_bounds_request_size),
		cmocka_unit_test(test_listen_slow_client_and_stop),
		cmocka_unit_test(test_listen_with_libcurl),
		cmocka_unit_test(test_listen_drops_silent_client),
		cmocka_unit_test(test_listen_concurrent),
		cmocka_unit_test(test_listen_bad_address),
		cmocka_unit_test(test_listen_ipv6_and_any),
		cmocka_unit_test_setup_teardown(test_webroot_present_cleanup, wsetup, wteardown),
		cmocka_unit_test_setup_teardown(test_webroot_free_removes_leftovers, wsetup, wteardown),
		cmocka_unit_test_setup_teardown(test_webroot_concurrent, wsetup, wteardown),
		cmocka_unit_test_setup_teardown(test_webroot_bad, wsetup, wteardown),
	};

	int failed;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	failed = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return failed;
}
