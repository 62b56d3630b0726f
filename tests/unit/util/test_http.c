/*
 * Unit tests of util_http_setup (lib/util/http.c) against servers on the
 * loopback: the request carries User-Agent certops/<version>; http is
 * refused unless allowed and other protocols always; the total timeout
 * ends a request the server never answers; a proxy named by http_proxy is
 * used as libcurl does it; the CA bundle given is the one loaded; and a
 * self-signed server is refused (verification is on).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/ssl.h>

#include "crypto/crypto.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/http.h"
#include "util/version.h"

typedef enum { SRV_ANSWER, SRV_HOLD, SRV_TLS } srv_mode;

typedef struct {
	int fd, port;
	srv_mode mode;
	pthread_t thread;
	char request[4096];     /* what the client sent (SRV_ANSWER) */
	SSL_CTX *tls;
	int stop_pipe[2];
} server;

static void *serve(void *p)
{
	server *s = p;
	int c = accept(s->fd, NULL, NULL);
	size_t n = 0;
	ssize_t r;

	if (c < 0)
		return NULL;
	if (s->mode == SRV_ANSWER) {
		static const char answer[] =
			"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
		while (n < sizeof(s->request) - 1 &&
		       (r = read(c, s->request + n, sizeof(s->request) - 1 - n)) > 0) {
			n += (size_t)r;
			s->request[n] = '\0';
			if (strstr(s->request, "\r\n\r\n"))
				break;
		}
		(void)!write(c, answer, sizeof(answer) - 1);
	} else if (s->mode == SRV_TLS) {
		SSL *ssl = SSL_new(s->tls);

		SSL_set_fd(ssl, c);
		(void)SSL_accept(ssl); /* the client gives up at verification */
		SSL_free(ssl);
	} else {
		/* accept, say nothing, until the test is done */
		struct pollfd pfd = { s->stop_pipe[0], POLLIN, 0 };
		(void)poll(&pfd, 1, 10000);
	}
	close(c);
	return NULL;
}

static void server_start(server *s, srv_mode mode)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);

	s->mode = mode;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(pipe(s->stop_pipe), 0);
	assert_true((s->fd = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	assert_int_equal(bind(s->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(s->fd, 4), 0);
	assert_int_equal(getsockname(s->fd, (struct sockaddr *)&a, &len), 0);
	s->port = ntohs(a.sin_port);
	assert_int_equal(pthread_create(&s->thread, NULL, serve, s), 0);
}

static void server_stop(server *s)
{
	(void)!write(s->stop_pipe[1], "x", 1);
	/* unblock an accept that never came */
	shutdown(s->fd, SHUT_RDWR);
	pthread_join(s->thread, NULL);
	close(s->fd);
	close(s->stop_pipe[0]);
	close(s->stop_pipe[1]);
	if (s->tls)
		SSL_CTX_free(s->tls);
}

static CURLcode get(const char *url, const util_http_opts *o, char *errbuf)
{
	CURL *h = curl_easy_init();
	util_http_opts copy = *o;
	CURLcode rc;

	assert_non_null(h);
	copy.errbuf = errbuf;
	assert_int_equal(util_http_setup(h, &copy), 0);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, NULL); /* fwrite to WRITEDATA */
	{
		FILE *sink = fopen("/dev/null", "w");
		curl_easy_setopt(h, CURLOPT_WRITEDATA, sink);
		rc = curl_easy_perform(h);
		fclose(sink);
	}
	curl_easy_cleanup(h);
	return rc;
}

static void url_of(char *out, size_t n, const char *scheme, const server *s, const char *path)
{
	snprintf(out, n, "%s://127.0.0.1:%d%s", scheme, s->port, path);
}

static void clear_proxy_env(void)
{
	static const char *const names[] = { "http_proxy", "HTTP_PROXY", "https_proxy",
					     "HTTPS_PROXY", "all_proxy", "ALL_PROXY",
					     "no_proxy", "NO_PROXY" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		unsetenv(names[i]);
}

static void test_user_agent(void **state)
{
	server s = { 0 };
	util_http_opts o = { .allow_http = 1 };
	char url[128], err[CURL_ERROR_SIZE];

	(void)state;
	server_start(&s, SRV_ANSWER);
	url_of(url, sizeof(url), "http", &s, "/hook");
	assert_int_equal(get(url, &o, err), CURLE_OK);
	server_stop(&s);
	assert_non_null(strstr(s.request, "GET /hook HTTP/1.1\r\n"));
	assert_non_null(strstr(s.request, "\r\nUser-Agent: certops/" CERTOPS_VERSION "\r\n"));
}

static void test_protocols(void **state)
{
	util_http_opts https_only = { 0 }, both = { .allow_http = 1 };
	char err[CURL_ERROR_SIZE];

	(void)state;
	/* refused before any connection: nothing needs to listen */
	assert_int_equal(get("http://127.0.0.1:9/x", &https_only, err), CURLE_UNSUPPORTED_PROTOCOL);
	assert_true(err[0] != '\0');
	assert_int_equal(get("ftp://127.0.0.1:9/x", &both, err), CURLE_UNSUPPORTED_PROTOCOL);
	assert_int_equal(get("file:///etc/passwd", &both, err), CURLE_UNSUPPORTED_PROTOCOL);
}

static void test_total_timeout(void **state)
{
	server s = { 0 };
	util_http_opts o = { .allow_http = 1, .timeout_ms = 300 };
	char url[128], err[CURL_ERROR_SIZE];
	struct timespec t0, t1;
	long ms;

	(void)state;
	server_start(&s, SRV_HOLD);
	url_of(url, sizeof(url), "http", &s, "/slow");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(get(url, &o, err), CURLE_OPERATION_TIMEDOUT);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	server_stop(&s);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	assert_true(ms >= 280 && ms < 3000);
}

static void test_proxy_from_environment(void **state)
{
	server proxy = { 0 };
	util_http_opts o = { .allow_http = 1 };
	char url[128], err[CURL_ERROR_SIZE];

	(void)state;
	server_start(&proxy, SRV_ANSWER);
	clear_proxy_env();
	url_of(url, sizeof(url), "http", &proxy, "");
	setenv("http_proxy", url, 1);
	assert_int_equal(get("http://webhook.certops.invalid/notify", &o, err), CURLE_OK);
	clear_proxy_env();
	server_stop(&proxy);
	/* the absolute URI: the request went through the proxy */
	assert_non_null(strstr(proxy.request, "GET http://webhook.certops.invalid/notify HTTP/1.1\r\n"));
}

static void test_ca_bundle_is_used(void **state)
{
	server s = { 0 };
	util_http_opts o = { .ca_bundle = "/nonexistent/certops-ca.pem" };
	char url[128], err[CURL_ERROR_SIZE];

	(void)state;
	clear_proxy_env();
	server_start(&s, SRV_HOLD);
	url_of(url, sizeof(url), "https", &s, "/");
	assert_int_equal(get(url, &o, err), CURLE_SSL_CACERT_BADFILE);
	server_stop(&s);
}

static SSL_CTX *self_signed_ctx(void)
{
	unsigned char ext[34] = { 0x04, 0x20 };
	crypto_key *key = NULL;
	util_buf cert = UTIL_BUF_INIT, kpem = UTIL_BUF_INIT;
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	BIO *b;
	X509 *x;
	EVP_PKEY *pk;

	assert_non_null(ctx);
	assert_int_equal(crypto_key_generate(&key, CRYPTO_KEY_EC_P256), 0);
	assert_int_equal(crypto_tlsalpn01_cert(&cert, key, "127.0.0.1.certops.test", ext, sizeof(ext)), 0);
	assert_int_equal(crypto_key_to_pem(&kpem, key), 0);
	b = BIO_new_mem_buf(cert.ptr, (int)cert.size);
	x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	b = BIO_new_mem_buf(kpem.ptr, (int)kpem.size);
	pk = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	BIO_free(b);
	assert_non_null(x);
	assert_non_null(pk);
	assert_int_equal(SSL_CTX_use_certificate(ctx, x), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey(ctx, pk), 1);
	X509_free(x);
	EVP_PKEY_free(pk);
	crypto_key_free(key);
	util_buf_release(&cert);
	util_buf_release(&kpem);
	return ctx;
}

static void test_verification_on(void **state)
{
	server s = { 0 };
	util_http_opts o = { 0 };
	char url[128], err[CURL_ERROR_SIZE];

	(void)state;
	clear_proxy_env();
	s.tls = self_signed_ctx();
	server_start(&s, SRV_TLS);
	url_of(url, sizeof(url), "https", &s, "/");
	assert_int_equal(get(url, &o, err), CURLE_PEER_FAILED_VERIFICATION);
	server_stop(&s);
}

static void test_setup_repeatable(void **state)
{
	CURL *h = curl_easy_init();
	util_http_opts o = { .timeout_ms = 50 };

	(void)state;
	/* what is set must be accepted; a handle can be set up again */
	assert_int_equal(util_http_setup(h, &o), 0);
	curl_easy_reset(h);
	assert_int_equal(util_http_setup(h, &o), 0);
	curl_easy_cleanup(h);
	assert_int_equal(util_http_global_init(), 0);
	assert_int_equal(util_http_global_init(), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_user_agent),
		cmocka_unit_test(test_protocols),
		cmocka_unit_test(test_total_timeout),
		cmocka_unit_test(test_proxy_from_environment),
		cmocka_unit_test(test_ca_bundle_is_used),
		cmocka_unit_test(test_verification_on),
		cmocka_unit_test(test_setup_repeatable),
	};

	/* the tests talk to the loopback, never through this host's proxy */
	clear_proxy_env();
	if (util_http_global_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
