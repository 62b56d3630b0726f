/* Webhook notifications, one per subject per state change; see notify.h. */
#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "notify/notify.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/http.h"
#include "util/log.h"

struct notify {
	notify_opts opts;  /* strings below are owned copies */
	char *url, *ca_bundle;
	json_t *states;    /* subject -> status name */
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

const char *notify_status_name(notify_status s)
{
	switch (s) {
	case NOTIFY_OK: return "ok";
	case NOTIFY_FAILING: return "failing";
	case NOTIFY_EXPIRING: return "expiring";
	}
	return "unknown";
}

int notify_expiring(time_t not_before, time_t not_after, time_t now,
		    unsigned divisor)
{
	long long lifetime = (long long)not_after - (long long)not_before;

	if (!divisor)
		divisor = 6;
	if (now >= not_after)
		return 1;
	if (lifetime <= 0)
		return 0; /* nonsense dates: nothing sensible to say */
	return (long long)not_after - (long long)now < lifetime / (long long)divisor;
}

static char *dup_or_null(const char *s, int *oom)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		*oom = 1;
	return d;
}

void notify_free(notify *n)
{
	if (!n)
		return;
	free(n->url);
	free(n->ca_bundle);
	json_decref(n->states);
	free(n);
}

int notify_open(notify **out, const notify_opts *opts)
{
	state_notified *known = NULL;
	size_t nknown = 0, i;
	notify *n;
	int error = 0, oom = 0;

	*out = NULL;
	n = calloc(1, sizeof(*n));
	if (!n)
		return util_error_oom();
	n->opts = *opts;
	n->opts.url = n->url = dup_or_null(opts->url, &oom);
	n->opts.ca_bundle = n->ca_bundle = dup_or_null(opts->ca_bundle, &oom);
	if (oom) {
		error = util_error_oom();
		goto done;
	}
	if (!(n->states = json_object())) {
		error = util_error_oom();
		goto done;
	}
	if (n->opts.st && (error = state_notified_list(&known, &nknown, n->opts.st)) < 0)
		goto done;
	for (i = 0; i < nknown; i++) {
		if (json_object_set_new(n->states, known[i].subject,
					json_string(known[i].status)) < 0) {
			error = util_error_oom();
			goto done;
		}
	}
done:
	state_notified_array_free(known, nknown);
	if (error < 0)
		notify_free(n);
	else
		*out = n;
	return error;
}

static size_t discard(char *ptr, size_t size, size_t nmemb, void *ud)
{
	(void)ptr;
	(void)ud;
	return size * nmemb;
}

/* One POST; returns the HTTP status, or -1 with err filled. */
static long post_once(const notify_opts *o, const char *body, char *err)
{
	struct curl_slist *hdrs = NULL;
	CURL *c;
	CURLcode rc;
	long status = -1;

	err[0] = '\0';
	c = curl_easy_init();
	if (!c) {
		snprintf(err, CURL_ERROR_SIZE, "curl_easy_init failed");
		return -1;
	}
	hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	{
		util_http_opts ho = { .ca_bundle = o->ca_bundle,
				      .timeout_ms = (o->timeout_s > 0 ? o->timeout_s : 10L) * 1000L,
				      .allow_http = 1, .errbuf = err };

		if (util_http_setup(c, &ho) < 0) {
			snprintf(err, CURL_ERROR_SIZE, "%s", util_error_message());
			curl_slist_free_all(hdrs);
			curl_easy_cleanup(c);
			return -1;
		}
	}
	curl_easy_setopt(c, CURLOPT_URL, o->url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	else if (!err[0])
		snprintf(err, CURL_ERROR_SIZE, "%s", curl_easy_strerror(rc));
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	return status;
}

int notify_post(const notify_opts *o, const char *body)
{
	char err[CURL_ERROR_SIZE];
	int attempt, max = o->max_attempts > 0 ? o->max_attempts : 4;
	long wait_ms = o->backoff_ms > 0 ? o->backoff_ms : 1000, status = -1;
	struct timespec ts;

	if (!o->url)
		return 0;
	pthread_once(&curl_once, curl_init);
	if (curl_init_rc != CURLE_OK)
		return util_error_set(CERTOPS_ERROR, "libcurl initialisation failed");
	for (attempt = 1; ; attempt++) {
		status = post_once(o, body, err);
		if (status >= 200 && status < 300)
			return 0;
		/* A 4xx other than 429 is our mistake: retrying repeats it. */
		if (status >= 400 && status < 500 && status != 429)
			break;
		if (attempt >= max)
			break;
		util_log_debug("notify", "webhook attempt %d failed (%s); retrying in %ld ms",
			       attempt, status < 0 ? err : "HTTP error", wait_ms);
		ts.tv_sec = wait_ms / 1000;
		ts.tv_nsec = (wait_ms % 1000) * 1000000L;
		while (nanosleep(&ts, &ts) < 0)
			;
		wait_ms *= 2;
	}
	if (status < 0)
		return util_error_set(CERTOPS_ERROR, "webhook '%s': %s (after %d attempt%s)",
				      o->url, err, attempt, attempt == 1 ? "" : "s");
	return util_error_set(CERTOPS_EPEER, "webhook '%s' answered HTTP %ld (after %d attempt%s)",
			      o->url, status, attempt, attempt == 1 ? "" : "s");
}


int notify_update(notify *n, const char *subject, notify_status status,
		  const char *message, const char *commit)
{
	const char *prev_borrowed = json_string_value(json_object_get(n->states, subject));
	const char *now_name = notify_status_name(status);
	char prev[16];
	json_t *body = NULL;
	char *text = NULL, tbuf[32];
	struct tm tm;
	time_t t = time(NULL);
	int error;

	/* A copy: the stored string dies when the new status replaces it. */
	snprintf(prev, sizeof(prev), "%s", prev_borrowed ? prev_borrowed : "ok");
	if (!strcmp(prev, now_name))
		return 0;
	gmtime_r(&t, &tm);
	strftime(tbuf, sizeof(tbuf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	body = json_pack("{s:s, s:s, s:s, s:s*, s:s*, s:s}", "subject", subject,
			 "status", status == NOTIFY_OK ? "recovered" : now_name,
			 "previous", prev, "message", message, "commit",
			 commit && *commit ? commit : NULL, "time", tbuf);
	if (!body || !(text = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS))) {
		error = util_error_oom();
		goto done;
	}
	if ((error = notify_post(&n->opts, text)) < 0)
		goto done;
	if (json_object_set_new(n->states, subject, json_string(now_name)) < 0) {
		error = util_error_oom();
		goto done;
	}
	if (n->opts.st && (error = state_notified_put(n->opts.st, subject, now_name)) < 0)
		goto done;
	if (n->opts.url)
		util_log_info("notify", "notified %s: %s -> %s", subject, prev, now_name);
	error = n->opts.url ? 1 : 0;
done:
	free(text);
	json_decref(body);
	return error;
}
