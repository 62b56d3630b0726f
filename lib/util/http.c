/* The common libcurl setup; see http.h. */
#include "util/http.h"

#include <pthread.h>

#include "util/error.h"
#include "util/version.h"

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc;

static void global_init(void)
{
	global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int util_http_global_init(void)
{
	pthread_once(&global_once, global_init);
	if (global_rc != CURLE_OK)
		return util_error_set(CERTOPS_ERROR, "libcurl initialisation failed: %s",
				      curl_easy_strerror(global_rc));
	return 0;
}

#define SET(opt, val)                                                          \
	do {                                                                   \
		CURLcode rc_ = curl_easy_setopt(h, opt, val);                  \
		if (rc_ != CURLE_OK)                                           \
			return util_error_set(CERTOPS_ERROR, "libcurl refused %s: %s", \
					      #opt, curl_easy_strerror(rc_));  \
	} while (0)

int util_http_setup(CURL *h, const util_http_opts *o)
{
	long total = o->timeout_ms > 0 ? o->timeout_ms : UTIL_HTTP_TIMEOUT_MS;
	long connect = o->connect_timeout_ms > 0 ? o->connect_timeout_ms
						 : UTIL_HTTP_CONNECT_TIMEOUT_MS;
	const char *protocols = o->allow_http ? "http,https" : "https";

	if (connect > total)
		connect = total;
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_USERAGENT, CERTOPS_USER_AGENT);
	SET(CURLOPT_TIMEOUT_MS, total);
	SET(CURLOPT_CONNECTTIMEOUT_MS, connect);
	SET(CURLOPT_PROTOCOLS_STR, protocols);
	SET(CURLOPT_REDIR_PROTOCOLS_STR, protocols);
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	/* the same for an https proxy, when the environment names one */
	SET(CURLOPT_PROXY_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_PROXY_SSL_VERIFYHOST, 2L);
	if (o->ca_bundle)
		SET(CURLOPT_CAINFO, o->ca_bundle);
	if (o->errbuf) {
		o->errbuf[0] = '\0';
		SET(CURLOPT_ERRORBUFFER, o->errbuf);
	}
	return 0;
}
