/*
 * The client: directory, nonce pool, JWS and the one signed-POST
 * chokepoint through which every request to the CA that changes or reads
 * state passes (uacme's acme_post, RFC 8555 §6.2-6.5).
 */
#include "acme/acme_internal.h"

#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "util/error.h"
#include "util/log.h"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* --- directory ------------------------------------------------------- */

void acme_directory_release(acme_directory *d)
{
	size_t i;

	free(d->new_nonce); free(d->new_account); free(d->new_order);
	free(d->new_authz); free(d->revoke_cert); free(d->key_change);
	free(d->renewal_info); free(d->terms_of_service); free(d->website);
	for (i = 0; i < d->ncaa_identities; i++)
		free(d->caa_identities[i]);
	free(d->caa_identities);
	for (i = 0; i < d->nprofiles; i++) {
		free(d->profile_names[i]);
		free(d->profile_descriptions[i]);
	}
	free(d->profile_names);
	free(d->profile_descriptions);
	memset(d, 0, sizeof(*d));
}

int acme_directory_parse(acme_directory *out, const char *json, size_t len)
{
	json_error_t jerr;
	json_t *obj = json_loadb(json, len, 0, &jerr), *meta, *caa, *profiles, *v;
	const char *k;
	size_t i;
	int error = 0;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(obj)) {
		json_decref(obj);
		return util_error_set(CERTOPS_EPEER, "acme directory is not a json object: %s",
				      jerr.text);
	}
	out->new_nonce = acme__json_str(obj, "newNonce");
	out->new_account = acme__json_str(obj, "newAccount");
	out->new_order = acme__json_str(obj, "newOrder");
	out->new_authz = acme__json_str(obj, "newAuthz");
	out->revoke_cert = acme__json_str(obj, "revokeCert");
	out->key_change = acme__json_str(obj, "keyChange");
	out->renewal_info = acme__json_str(obj, "renewalInfo");
	meta = json_object_get(obj, "meta");
	out->terms_of_service = acme__json_str(meta, "termsOfService");
	out->website = acme__json_str(meta, "website");
	out->external_account_required =
		json_is_true(json_object_get(meta, "externalAccountRequired"));
	caa = json_object_get(meta, "caaIdentities");
	if (json_is_array(caa) && json_array_size(caa)) {
		if (!(out->caa_identities = calloc(json_array_size(caa), sizeof(char *))))
			goto oom;
		json_array_foreach(caa, i, v)
			if (json_is_string(v) &&
			    !(out->caa_identities[out->ncaa_identities++] = strdup(json_string_value(v))))
				goto oom;
	}
	profiles = json_object_get(meta, "profiles");
	if (json_is_object(profiles) && json_object_size(profiles)) {
		size_t n = json_object_size(profiles);
		out->profile_names = calloc(n, sizeof(char *));
		out->profile_descriptions = calloc(n, sizeof(char *));
		if (!out->profile_names || !out->profile_descriptions)
			goto oom;
		json_object_foreach(profiles, k, v) {
			const char *desc = json_is_string(v) ? json_string_value(v) : "";
			out->profile_names[out->nprofiles] = strdup(k);
			out->profile_descriptions[out->nprofiles] = strdup(desc);
			out->nprofiles++;
			if (!out->profile_names[out->nprofiles - 1] ||
			    !out->profile_descriptions[out->nprofiles - 1])
				goto oom;
		}
	}
	if (!out->new_nonce || !out->new_account || !out->new_order) {
		error = util_error_set(CERTOPS_EPEER,
				       "acme directory lacks newNonce, newAccount or newOrder");
		goto done;
	}
	goto done;
oom:
	error = util_error_oom();
done:
	if (error < 0)
		acme_directory_release(out);
	json_decref(obj);
	return error;
}

/* --- client ------------------------------------------------------------ */

int acme_client_new(acme_client **out, const acme_client_opts *opts)
{
	acme_client *c;
	acme__response resp = { 0 };
	int error, i;

	pthread_once(&curl_once, curl_init);
	if (curl_init_rc != CURLE_OK)
		return util_error_set(CERTOPS_ERROR, "initialising libcurl failed");
	if (!opts || !opts->directory_url)
		return util_error_set(CERTOPS_EINVALID, "an acme client needs a directory url");
	if (!(c = calloc(1, sizeof(*c))))
		return util_error_oom();
	pthread_mutex_init(&c->nonce_lock, NULL);
	pthread_mutex_init(&c->easy_lock, NULL);
	pthread_mutex_init(&c->stats_lock, NULL);
	for (i = 0; i < 8; i++)
		pthread_mutex_init(&c->share_locks[i], NULL);
	c->timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms : 30000;
	c->max_retries = opts->max_retries < 0 ? 0 : opts->max_retries ? opts->max_retries : 4;
	/* a retry costs one round trip; 25 keeps a CA (or Pebble) rejecting half
	 * of all nonces from failing a request (0.5^26), yet ends a loop */
	c->max_badnonce = opts->max_badnonce > 0 ? opts->max_badnonce : 25;
	c->backoff_base_ms = opts->backoff_base_ms ? opts->backoff_base_ms : 250;
	c->backoff_cap_ms = opts->backoff_cap_ms ? opts->backoff_cap_ms : 8000;
	c->directory_url = strdup(opts->directory_url);
	c->ca_bundle = opts->ca_bundle ? strdup(opts->ca_bundle) : NULL;
	if (!c->directory_url || (opts->ca_bundle && !c->ca_bundle)) {
		error = util_error_oom();
		goto done;
	}
	if ((error = acme__http_init(c)) < 0)
		goto done;
	if ((error = acme__get(c, &resp, c->directory_url)) < 0) {
		util_error_wrap("fetching the acme directory");
		goto done;
	}
	error = acme_directory_parse(&c->dir, resp.body.ptr, resp.body.size);
done:
	acme__response_release(&resp);
	if (error < 0)
		acme_client_free(c);
	else
		*out = c;
	return error;
}

void acme_client_free(acme_client *c)
{
	size_t i;

	if (!c)
		return;
	acme__http_cleanup(c);
	for (i = 0; i < c->nnonces; i++)
		free(c->nonces[i]);
	acme_directory_release(&c->dir);
	free(c->directory_url);
	free(c->ca_bundle);
	free(c->kid);
	pthread_mutex_destroy(&c->nonce_lock);
	pthread_mutex_destroy(&c->easy_lock);
	pthread_mutex_destroy(&c->stats_lock);
	for (i = 0; i < 8; i++)
		pthread_mutex_destroy(&c->share_locks[i]);
	free(c);
}

const acme_directory *acme_client_directory(const acme_client *c)
{
	return &c->dir;
}

int acme_client_set_account(acme_client *c, const crypto_key *key, const char *kid)
{
	char *k = NULL;

	if (kid && !(k = strdup(kid)))
		return util_error_oom();
	free(c->kid);
	c->kid = k;
	c->key = key;
	return 0;
}

const char *acme_client_kid(const acme_client *c)
{
	return c->kid;
}

void acme_client_stats(const acme_client *c, acme_stats *out)
{
	pthread_mutex_lock((pthread_mutex_t *)&c->stats_lock);
	*out = c->stats;
	pthread_mutex_unlock((pthread_mutex_t *)&c->stats_lock);
}

/* --- nonces (§7.2) ----------------------------------------------------- */

static void nonce_put(acme_client *c, char *nonce)
{
	pthread_mutex_lock(&c->nonce_lock);
	if (c->nnonces < ACME__NONCE_POOL) {
		c->nonces[c->nnonces++] = nonce;
		nonce = NULL;
	}
	pthread_mutex_unlock(&c->nonce_lock);
	free(nonce); /* pool full: the oldest are as good, drop this one */
}

static int nonce_get(acme_client *c, char **out)
{
	acme__response resp = { 0 };
	int error = 0, attempt;

	pthread_mutex_lock(&c->nonce_lock);
	*out = c->nnonces ? c->nonces[--c->nnonces] : NULL;
	pthread_mutex_unlock(&c->nonce_lock);
	if (*out)
		return 0;
	for (attempt = 0;; attempt++) {
		acme__stat_add(c, &c->stats.nonces_fetched);
		error = acme__http(c, &resp, "HEAD", c->dir.new_nonce, NULL, 0);
		if (error == 0 && resp.nonce && resp.status < 400)
			break;
		if (attempt >= c->max_retries) {
			if (error == 0)
				error = util_error_set(CERTOPS_EPEER, "HEAD %s: http status %ld, no nonce",
						       c->dir.new_nonce, resp.status);
			goto done;
		}
		acme__stat_add(c, &c->stats.network_retries);
		acme__sleep_ms(acme_backoff_ms((unsigned)attempt, c->backoff_base_ms,
					       c->backoff_cap_ms, acme__random32()));
	}
	*out = resp.nonce;
	resp.nonce = NULL;
	error = 0;
done:
	acme__response_release(&resp);
	return error;
}

/* --- JWS (§6.2) ---------------------------------------------------------- */

int acme__jws(util_buf *out, const crypto_key *key, const char *kid,
	      const char *nonce, const char *url, const char *payload)
{
	util_buf prot = UTIL_BUF_INIT, input = UTIL_BUF_INIT, sig = UTIL_BUF_INIT;
	const char *alg = crypto_key_jws_alg(key);
	int error;

	if (!alg)
		return util_error_set(CERTOPS_EINVALID, "account key type cannot sign jws");
	util_buf_puts(&prot, "{\"alg\":");
	util_buf_put_json_string(&prot, alg);
	if (kid) {
		util_buf_puts(&prot, ",\"kid\":");
		util_buf_put_json_string(&prot, kid);
	} else {
		util_buf_puts(&prot, ",\"jwk\":");
		if ((error = crypto_key_jwk(&prot, key)) < 0)
			goto done;
	}
	if (nonce) {
		util_buf_puts(&prot, ",\"nonce\":");
		util_buf_put_json_string(&prot, nonce);
	}
	util_buf_puts(&prot, ",\"url\":");
	util_buf_put_json_string(&prot, url);
	util_buf_putc(&prot, '}');
	if (util_buf_failed(&prot)) {
		error = util_error_oom();
		goto done;
	}
	if ((error = crypto_b64url_encode(&input, prot.ptr, prot.size)) < 0)
		goto done;
	util_buf_putc(&input, '.');
	if ((error = crypto_b64url_encode(&input, payload, strlen(payload))) < 0)
		goto done;
	if ((error = crypto_key_sign(&sig, key, input.ptr, input.size)) < 0)
		goto done;
	{
		const char *dot = strchr(input.ptr, '.');
		util_buf_puts(out, "{\"protected\":\"");
		util_buf_put(out, input.ptr, (size_t)(dot - input.ptr));
		util_buf_puts(out, "\",\"payload\":\"");
		util_buf_puts(out, dot + 1);
		util_buf_puts(out, "\",\"signature\":\"");
		crypto_b64url_encode(out, sig.ptr, sig.size);
		util_buf_puts(out, "\"}");
	}
	error = util_buf_failed(out) ? util_error_oom() : 0;
done:
	util_buf_release(&prot);
	util_buf_release(&input);
	util_buf_release(&sig);
	return error;
}

int acme__json(json_t **out, const acme__response *resp, const char *what)
{
	json_error_t jerr;

	*out = json_loadb(resp->body.ptr, resp->body.size, 0, &jerr);
	if (!json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		return util_error_set(CERTOPS_EPEER, "%s: the answer is not a json object", what);
	}
	return 0;
}

/* --- the chokepoint ------------------------------------------------------ */

int acme__post(acme_client *c, acme__response *resp, const char *url,
	       const char *payload, const crypto_key *key, int use_jwk)
{
	util_buf jws = UTIL_BUF_INIT;
	char *nonce = NULL;
	int badnonce = 0, neterr = 0, error;
	acme_problem *p = NULL;

	if (!url)
		return util_error_set(CERTOPS_EINVALID, "no url to post to (the ca did not give one)");
	if (!key)
		key = c->key;
	if (!key)
		return util_error_set(CERTOPS_EINVALID, "no acme account key set");
	for (;;) {
		unsigned delay;

		if ((error = nonce_get(c, &nonce)) < 0)
			goto done;
		util_buf_clear(&jws);
		/* §6.2: jwk for newAccount and certificate-key revocation, kid otherwise */
		error = acme__jws(&jws, key, use_jwk ? NULL : c->kid, nonce, url,
				  payload ? payload : "");
		free(nonce);
		nonce = NULL;
		if (error < 0)
			goto done;
		error = acme__http(c, resp, "POST", url, jws.ptr, jws.size);
		if (error == 0 && resp->nonce) {
			nonce_put(c, resp->nonce);
			resp->nonce = NULL;
		}
		if (error == 0 && resp->status < 400)
			goto done;
		if (error == 0) {
			acme_problem_release(p);
			free(p);
			if (!(p = calloc(1, sizeof(*p)))) {
				error = util_error_oom();
				goto done;
			}
			if (acme_problem_parse(p, resp->body.ptr, resp->body.size, resp->status, url) < 0) {
				free(p);
				p = NULL;
			} else if (resp->retry_after) {
				acme_retry_after_parse(&p->retry_after, resp->retry_after, time(NULL));
			}
			if (p && acme_problem_is(p, "badNonce") && badnonce < c->max_badnonce) {
				/* a fresh nonce came with the answer: retry at once */
				badnonce++;
				acme__stat_add(c, &c->stats.badnonce_retries);
				continue;
			}
			if (resp->status < 500 || neterr >= c->max_retries)
				break;
		} else if (error == CERTOPS_EINVALID || error == CERTOPS_ENOMEM ||
			   error == CERTOPS_EPEER || neterr >= c->max_retries) {
			goto done;
		}
		delay = acme_backoff_ms((unsigned)neterr, c->backoff_base_ms, c->backoff_cap_ms,
					acme__random32());
		if (p && p->retry_after > 0 && (uint64_t)p->retry_after * 1000 > delay)
			delay = p->retry_after > 60 ? 60000 : (unsigned)p->retry_after * 1000;
		neterr++;
		acme__stat_add(c, &c->stats.network_retries);
		util_log_debug("acme", "POST %s failed, retry %d in %u ms", url, neterr, delay);
		acme__sleep_ms(delay);
	}
	/* an error answer */
	if (p) {
		error = acme__fail_problem(p, "POST");
		p = NULL;
	} else {
		error = util_error_set(resp->status == 429 ? CERTOPS_ERATELIMIT : CERTOPS_EPEER,
				       "POST %s: http status %ld", url, resp->status);
	}
done:
	acme_problem_release(p);
	free(p);
	free(nonce);
	util_buf_release(&jws);
	return error;
}
