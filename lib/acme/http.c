/*
 * HTTP for the ACME client: one CURLSH per client shares connections, DNS
 * and TLS sessions between a small pool of easy handles, so that requests
 * from many threads reuse keep-alive connections (and HTTP/2 when the CA
 * offers it) instead of a handshake each.
 */
#include "acme/acme_internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "crypto/crypto.h"
#include "util/error.h"
#include "util/http.h"
#include "util/log.h"

void acme__response_release(acme__response *r)
{
	size_t i;

	util_buf_release(&r->body);
	free(r->content_type);
	free(r->location);
	free(r->nonce);
	free(r->retry_after);
	for (i = 0; i < r->nalternates; i++)
		free(r->alternates[i]);
	free(r->alternates);
	memset(r, 0, sizeof(*r));
}

void acme__stat_add(acme_client *c, unsigned long *field)
{
	pthread_mutex_lock(&c->stats_lock);
	(*field)++;
	pthread_mutex_unlock(&c->stats_lock);
}

void acme__sleep_ms(unsigned ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

uint32_t acme__random32(void)
{
	uint32_t r = 0;

	if (crypto_random(&r, sizeof(r)) < 0)
		r = (uint32_t)time(NULL) * 2654435761u;
	return r;
}

unsigned acme_backoff_ms(unsigned attempt, unsigned base_ms, unsigned cap_ms,
			 uint32_t rnd)
{
	uint64_t d = base_ms;
	unsigned i;

	for (i = 0; i < attempt && d < cap_ms; i++)
		d *= 2;
	if (d > cap_ms)
		d = cap_ms;
	/* jitter in [d/2, d]: spreads retries of many clients, keeps progress */
	return (unsigned)(d / 2 + (d - d / 2) * (uint64_t)rnd / UINT32_MAX);
}

unsigned acme__poll_delay_ms(unsigned attempt, int64_t retry_after, time_t deadline)
{
	/* validation and issuance usually finish within a few hundred ms:
	 * look again soon, then back off to at most 2 s */
	uint64_t d = retry_after >= 0 ? (uint64_t)retry_after * 1000
				      : acme_backoff_ms(attempt, 60, 2000, acme__random32());
	time_t now = time(NULL);

	if (retry_after >= 0 && d > 60000)
		d = 60000;
	if (deadline > now && d > (uint64_t)(deadline - now) * 1000)
		d = (uint64_t)(deadline - now) * 1000;
	return (unsigned)d;
}

int acme_retry_after_parse(int64_t *seconds_out, const char *value, time_t now)
{
	struct tm tm;
	const char *end;
	int64_t v = 0;

	while (*value == ' ')
		value++;
	if (isdigit((unsigned char)*value)) {
		for (end = value; isdigit((unsigned char)*end); end++) {
			if (v > INT32_MAX)
				return util_error_set(CERTOPS_EINVALID, "retry-after too large");
			v = v * 10 + (*end - '0');
		}
		while (*end == ' ')
			end++;
		if (*end)
			return util_error_set(CERTOPS_EINVALID, "invalid retry-after '%s'", value);
		*seconds_out = v;
		return 0;
	}
	memset(&tm, 0, sizeof(tm));
	end = strptime(value, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	if (!end || *end)
		return util_error_set(CERTOPS_EINVALID, "invalid retry-after '%s'", value);
	v = (int64_t)timegm(&tm) - (int64_t)now;
	*seconds_out = v > 0 ? v : 0;
	return 0;
}

/* --- libcurl plumbing ----------------------------------------------- */

static void share_lock(CURL *h, curl_lock_data data, curl_lock_access a, void *p)
{
	acme_client *c = p;
	(void)h;
	(void)a;
	pthread_mutex_lock(&c->share_locks[(unsigned)data % 8]);
}

static void share_unlock(CURL *h, curl_lock_data data, void *p)
{
	acme_client *c = p;
	(void)h;
	pthread_mutex_unlock(&c->share_locks[(unsigned)data % 8]);
}

int acme__http_init(acme_client *c)
{
	CURLSH *sh = curl_share_init();

	if (!sh)
		return util_error_oom();
	curl_share_setopt(sh, CURLSHOPT_LOCKFUNC, share_lock);
	curl_share_setopt(sh, CURLSHOPT_UNLOCKFUNC, share_unlock);
	curl_share_setopt(sh, CURLSHOPT_USERDATA, c);
	curl_share_setopt(sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
	curl_share_setopt(sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	curl_share_setopt(sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
	c->share = sh;
	return 0;
}

void acme__http_cleanup(acme_client *c)
{
	size_t i;

	for (i = 0; i < c->neasy; i++)
		curl_easy_cleanup(c->easy[i]);
	c->neasy = 0;
	if (c->share)
		curl_share_cleanup(c->share);
	c->share = NULL;
}

static CURL *easy_acquire(acme_client *c)
{
	CURL *h = NULL;

	pthread_mutex_lock(&c->easy_lock);
	if (c->neasy)
		h = c->easy[--c->neasy];
	pthread_mutex_unlock(&c->easy_lock);
	if (h)
		curl_easy_reset(h); /* keeps its connections and caches */
	else
		h = curl_easy_init();
	return h;
}

static void easy_release(acme_client *c, CURL *h)
{
	pthread_mutex_lock(&c->easy_lock);
	if (c->neasy < ACME__EASY_POOL) {
		c->easy[c->neasy++] = h;
		h = NULL;
	}
	pthread_mutex_unlock(&c->easy_lock);
	if (h)
		curl_easy_cleanup(h);
}

static size_t on_body(char *p, size_t size, size_t n, void *data)
{
	acme__response *r = data;

	if (util_buf_put(&r->body, p, size * n) < 0)
		return 0; /* over the limit: abort the transfer */
	return size * n;
}

/* Copies len bytes that need not be NUL-terminated (curl's header lines). */
static char *dup_range(const char *p, size_t len)
{
	char *s = malloc(len + 1);

	if (s) {
		memcpy(s, p, len);
		s[len] = '\0';
	}
	return s;
}

static char *header_value(const char *p, size_t len)
{
	while (len && (*p == ' ' || *p == '\t')) {
		p++;
		len--;
	}
	while (len && (p[len - 1] == '\r' || p[len - 1] == '\n' || p[len - 1] == ' '))
		len--;
	return dup_range(p, len);
}

/* Link: <url>;rel="alternate", <url2>;rel="up" (several links per line) */
static void parse_link(acme__response *r, const char *p, size_t len)
{
	const char *end = p + len;

	while (p < end) {
		const char *lt = memchr(p, '<', (size_t)(end - p)), *gt, *next;
		if (!lt || !(gt = memchr(lt, '>', (size_t)(end - lt))))
			return;
		next = memchr(gt, ',', (size_t)(end - gt));
		if (!next)
			next = end;
		if (memmem(gt, (size_t)(next - gt), "\"alternate\"", 11) ||
		    memmem(gt, (size_t)(next - gt), "rel=alternate", 13)) {
			char **n = realloc(r->alternates, (r->nalternates + 1) * sizeof(*n));
			if (!n)
				return;
			r->alternates = n;
			if ((n[r->nalternates] = dup_range(lt + 1, (size_t)(gt - lt - 1))))
				r->nalternates++;
		}
		p = next + 1;
	}
}

static size_t on_header(char *p, size_t size, size_t n, void *data)
{
	acme__response *r = data;
	size_t len = size * n;
	const char *colon = memchr(p, ':', len);
	size_t nlen, vlen;
	char **slot = NULL;

	if (!colon)
		return len;
	nlen = (size_t)(colon - p);
	vlen = len - nlen - 1;
	if (nlen == 12 && !strncasecmp(p, "replay-nonce", nlen))
		slot = &r->nonce;
	else if (nlen == 8 && !strncasecmp(p, "location", nlen))
		slot = &r->location;
	else if (nlen == 12 && !strncasecmp(p, "content-type", nlen))
		slot = &r->content_type;
	else if (nlen == 11 && !strncasecmp(p, "retry-after", nlen))
		slot = &r->retry_after;
	else if (nlen == 4 && !strncasecmp(p, "link", nlen))
		parse_link(r, colon + 1, vlen);
	if (slot) {
		free(*slot);
		*slot = header_value(colon + 1, vlen);
	}
	return len;
}

/*
 * What a transfer failure means for the retry policy: a certificate that
 * does not verify or a bad bundle will not get better by retrying
 * (CERTOPS_EPEER / EINVALID are final); timeouts and connection trouble
 * may (CERTOPS_ETIMEOUT / ERROR are retried).
 */
static int curl_code(CURLcode rc)
{
	switch (rc) {
	case CURLE_OPERATION_TIMEDOUT:
		return CERTOPS_ETIMEOUT;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
		return CERTOPS_EPEER;
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_URL_MALFORMAT:
	case CURLE_UNSUPPORTED_PROTOCOL:
		return CERTOPS_EINVALID;
	default:
		return CERTOPS_ERROR;
	}
}

int acme__http(acme_client *c, acme__response *resp, const char *method,
	       const char *url, const char *body, size_t len)
{
	CURL *h;
	CURLcode rc;
	struct curl_slist *hdrs = NULL;
	char errbuf[CURL_ERROR_SIZE] = "";
	int error = 0;

	acme__response_release(resp);
	util_buf_init_limit(&resp->body, ACME__BODY_LIMIT);
	if (strncmp(url, "https://", 8))
		return util_error_set(CERTOPS_EINVALID, "refusing non-https acme url '%s'", url);
	if (!(h = easy_acquire(c)))
		return util_error_oom();
	{
		util_http_opts ho = { .ca_bundle = c->ca_bundle, .timeout_ms = c->timeout_ms,
				      .errbuf = errbuf };

		if ((error = util_http_setup(h, &ho)) < 0)
			goto done;
	}
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_SHARE, (CURLSH *)c->share);
	/* the shared cache must hold a connection per busy thread, or each
	 * return evicts another and threads keep handshaking (default: 5) */
	curl_easy_setopt(h, CURLOPT_MAXCONNECTS, (long)ACME__EASY_POOL);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, resp);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, resp);
	curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
	if (!strcmp(method, "HEAD")) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	} else if (!strcmp(method, "POST")) {
		hdrs = curl_slist_append(hdrs, "Content-Type: application/jose+json");
		if (!hdrs) {
			error = util_error_oom();
			goto done;
		}
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	}
	acme__stat_add(c, &c->stats.requests);
	rc = curl_easy_perform(h);
	if (rc != CURLE_OK) {
		int code = curl_code(rc);
		if (rc == CURLE_WRITE_ERROR && util_buf_failed(&resp->body))
			error = util_error_set(CERTOPS_EPEER, "%s %s: answer larger than %u bytes",
					       method, url, ACME__BODY_LIMIT);
		else
			error = util_error_set(code, "%s %s: %s", method, url,
					       errbuf[0] ? errbuf : curl_easy_strerror(rc));
		goto done;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
	{
		long fresh = 0;
		/* new connections this transfer had to open: 0 when one was reused */
		if (curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &fresh) == CURLE_OK && fresh > 0) {
			pthread_mutex_lock(&c->stats_lock);
			c->stats.connections += (unsigned long)fresh;
			pthread_mutex_unlock(&c->stats_lock);
		}
	}
	util_log_debug("acme", "%s %s -> %ld", method, url, resp->status);
done:
	curl_slist_free_all(hdrs);
	easy_release(c, h);
	return error;
}

/* Transport failures and 5xx are worth another try; 4xx are final. */
static int retryable(int error, long status)
{
	return (error < 0 && error != CERTOPS_EINVALID && error != CERTOPS_ENOMEM &&
		error != CERTOPS_EPEER) || status >= 500;
}

int acme__get(acme_client *c, acme__response *resp, const char *url)
{
	int attempt, error;
	acme_problem *p;

	for (attempt = 0;; attempt++) {
		error = acme__http(c, resp, "GET", url, NULL, 0);
		if (!retryable(error, error < 0 ? 0 : resp->status) || attempt >= c->max_retries)
			break;
		acme__stat_add(c, &c->stats.network_retries);
		acme__sleep_ms(acme_backoff_ms((unsigned)attempt, c->backoff_base_ms,
					       c->backoff_cap_ms, acme__random32()));
	}
	if (error < 0 || resp->status < 400)
		return error;
	if (!(p = calloc(1, sizeof(*p))))
		return util_error_oom();
	if (acme_problem_parse(p, resp->body.ptr, resp->body.size, resp->status, url) < 0) {
		acme_problem_release(p);
		free(p);
		return util_error_set(resp->status == 429 ? CERTOPS_ERATELIMIT : CERTOPS_EPEER,
				      "GET %s: http status %ld", url, resp->status);
	}
	if (resp->retry_after)
		acme_retry_after_parse(&p->retry_after, resp->retry_after, time(NULL));
	return acme__fail_problem(p, "GET");
}
