/*
 * TLS endpoint probe: non-blocking connect and handshake under one
 * deadline, leaf fingerprint, classification.  See tls_probe.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "crypto/crypto.h"
#include "observe/tls_probe.h"
#include "util/error.h"
#include "util/fingerprint.h"

#define PROBE_DEFAULT_TIMEOUT_MS 10000

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *observe_tls_status_name(observe_tls_status s)
{
	switch (s) {
	case OBSERVE_TLS_SERVED: return "served";
	case OBSERVE_TLS_STALE: return "stale";
	case OBSERVE_TLS_FOREIGN: return "foreign";
	case OBSERVE_TLS_UNREACHABLE: return "unreachable";
	}
	return "unknown";
}

/* Splits "host:port" / "[v6]:port" into host and port (copies). */
static int split_hostport(char *host, size_t hostsz, char *port, size_t portsz,
			  const char *s)
{
	const char *colon, *h = s;
	size_t hl;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (!close || close[1] != ':')
			return -1;
		h = s + 1;
		hl = (size_t)(close - h);
		colon = close + 1;
	} else {
		if (!(colon = strrchr(s, ':')) || memchr(s, ':', (size_t)(colon - s)))
			return -1;
		hl = (size_t)(colon - s);
	}
	if (hl == 0 || hl >= hostsz || !colon[1] || strlen(colon + 1) >= portsz ||
	    strspn(colon + 1, "0123456789") != strlen(colon + 1))
		return -1;
	memcpy(host, h, hl);
	host[hl] = '\0';
	memcpy(port, colon + 1, strlen(colon + 1) + 1);
	return 0;
}

/* Waits for events on fd until deadline; 1 ready, 0 timed out. */
static int wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	int64_t left;
	int rc;

	for (;;) {
		left = deadline - now_ms();
		if (left <= 0)
			return 0;
		rc = poll(&p, 1, left > 1000 ? 1000 : (int)left);
		if (rc > 0)
			return 1;
		if (rc < 0 && errno != EINTR)
			return 1; /* let the next call report the error */
	}
}

static int connect_one(int *fd_out, const struct addrinfo *ai, int64_t deadline,
		       int *err_out)
{
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
			ai->ai_protocol);
	int soerr = 0;
	socklen_t len = sizeof(soerr);

	if (fd < 0) {
		*err_out = errno;
		return -1;
	}
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		if (errno != EINPROGRESS) {
			*err_out = errno;
			close(fd);
			return -1;
		}
		if (!wait_fd(fd, POLLOUT, deadline)) {
			*err_out = ETIMEDOUT;
			close(fd);
			return -1;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0 || soerr) {
			*err_out = soerr ? soerr : errno;
			close(fd);
			return -1;
		}
	}
	*fd_out = fd;
	return 0;
}

static int is_ip_literal(const char *s)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

int observe_tls_fetch(char fp_out[65], const observe_tls_endpoint *ep)
{
	char host[256], port[16];
	struct addrinfo hints, *res = NULL, *ai;
	int64_t timeout = ep->timeout_ms > 0 ? ep->timeout_ms : PROBE_DEFAULT_TIMEOUT_MS;
	int64_t deadline = now_ms() + timeout;
	int fd = -1, gai, err = 0, rc, error = CERTOPS_ERROR;
	SSL_CTX *ctx = NULL;
	SSL *ssl = NULL;
	X509 *leaf = NULL;
	unsigned char *der = NULL, md[32];
	util_buf hex = UTIL_BUF_INIT;
	int len;

	fp_out[0] = '\0';
	if (!ep->connect || split_hostport(host, sizeof(host), port, sizeof(port), ep->connect) < 0)
		return util_error_set(CERTOPS_EINVALID, "verify: '%s' is not host:port",
				      ep->connect ? ep->connect : "");
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((gai = getaddrinfo(host, port, &hints, &res)) != 0)
		return util_error_set(CERTOPS_EPEER, "connect %s: %s", ep->connect, gai_strerror(gai));
	for (ai = res; ai; ai = ai->ai_next)
		if (connect_one(&fd, ai, deadline, &err) == 0)
			break;
	if (fd < 0) {
		error = util_error_set(err == ETIMEDOUT ? CERTOPS_ETIMEOUT : CERTOPS_EPEER,
				       "connect %s: %s", ep->connect, strerror(err));
		goto done;
	}
	if (!(ctx = SSL_CTX_new(TLS_client_method())) || !(ssl = SSL_new(ctx))) {
		error = util_error_oom();
		goto done;
	}
	SSL_set_verify(ssl, SSL_VERIFY_NONE, NULL);
	if (ep->server_name && ep->server_name[0] && !is_ip_literal(ep->server_name) &&
	    !SSL_set_tlsext_host_name(ssl, ep->server_name)) {
		error = util_error_set(CERTOPS_EINVALID, "verify: bad serverName '%s'", ep->server_name);
		goto done;
	}
	SSL_set_fd(ssl, fd);
	for (;;) {
		int e;

		ERR_clear_error();
		if ((rc = SSL_connect(ssl)) == 1)
			break;
		e = SSL_get_error(ssl, rc);
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
			if (!wait_fd(fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline)) {
				error = util_error_set(CERTOPS_ETIMEOUT,
						       "tls handshake with %s: no answer within %lld ms",
						       ep->connect, (long long)timeout);
				goto done;
			}
			continue;
		}
		{
			unsigned long l = ERR_peek_last_error();
			const char *why = l ? ERR_reason_error_string(l) : NULL;

			if (!why)
				why = e == SSL_ERROR_SYSCALL ? "connection closed" : "handshake failed";
			error = util_error_set(CERTOPS_EPEER, "tls handshake with %s: %s",
					       ep->connect, why);
		}
		goto done;
	}
	if (!(leaf = SSL_get1_peer_certificate(ssl))) {
		error = util_error_set(CERTOPS_EPEER, "tls handshake with %s: no certificate served",
				       ep->connect);
		goto done;
	}
	if ((len = i2d_X509(leaf, &der)) <= 0) {
		error = util_error_set(CERTOPS_EPEER, "tls %s: the served certificate does not encode",
				       ep->connect);
		goto done;
	}
	if ((error = crypto_sha256(md, der, (size_t)len)) < 0 ||
	    (error = crypto_hex_encode(&hex, md, sizeof(md), 0)) < 0)
		goto done;
	if (hex.size != 64) {
		error = util_error_oom();
		goto done;
	}
	memcpy(fp_out, hex.ptr, 65);
	error = 0;
	/* A polite close; the answer does not matter. */
	SSL_shutdown(ssl);
done:
	ERR_clear_error();
	util_buf_release(&hex);
	OPENSSL_free(der);
	X509_free(leaf);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	if (fd >= 0)
		close(fd);
	if (res)
		freeaddrinfo(res);
	return error;
}

observe_tls_status observe_tls_classify(const char *served, const char *expected,
					const char *const *older, size_t nolder)
{
	size_t i;

	if (!served || !served[0])
		return OBSERVE_TLS_UNREACHABLE;
	if (util_fingerprint_equal(served, expected))
		return OBSERVE_TLS_SERVED;
	for (i = 0; i < nolder; i++)
		if (util_fingerprint_equal(served, older[i]))
			return OBSERVE_TLS_STALE;
	return OBSERVE_TLS_FOREIGN;
}

int observe_tls_probe(observe_tls_result *out, const observe_tls_endpoint *ep,
		      const char *expected, const char *const *older, size_t nolder)
{
	int error;

	memset(out, 0, sizeof(*out));
	error = observe_tls_fetch(out->fingerprint, ep);
	if (error == CERTOPS_ENOMEM)
		return error;
	if (error < 0) {
		out->status = OBSERVE_TLS_UNREACHABLE;
		if (!(out->error = strdup(util_error_message())))
			return util_error_oom();
		return 0;
	}
	out->status = observe_tls_classify(out->fingerprint, expected, older, nolder);
	return 0;
}

int observe_tls_wait_served(observe_tls_result *out, const observe_tls_endpoint *ep,
			    const char *expected, const char *const *older,
			    size_t nolder, int64_t window_ms, int64_t interval_ms)
{
	int64_t deadline = now_ms() + (window_ms > 0 ? window_ms : 0);
	int64_t step = interval_ms > 0 ? interval_ms : 250;
	int error;

	for (;;) {
		if ((error = observe_tls_probe(out, ep, expected, older, nolder)) < 0)
			return error;
		if (out->status == OBSERVE_TLS_SERVED || now_ms() + step > deadline)
			return 0;
		observe_tls_result_release(out);
		{
			struct timespec ts = { (time_t)(step / 1000), (long)(step % 1000) * 1000000 };
			nanosleep(&ts, NULL);
		}
	}
}

void observe_tls_result_release(observe_tls_result *r)
{
	free(r->error);
	memset(r, 0, sizeof(*r));
}
