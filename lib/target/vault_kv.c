/*
 * Vault KV v2 client over libcurl + jansson.  See vault_kv.h for the
 * endpoints and the error mapping; vault_cert.c builds the certificate
 * upload and observation on top of it.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include "target/vault_kv.h"
#include "util/error.h"
#include "util/http.h"
#include "util/log.h"

#define VAULT_BODY_LIMIT (1024 * 1024)
#define VAULT_DEFAULT_TIMEOUT_MS 30000

struct target_vault {
	CURL *curl;
	char *address;
	char *namespace_;
	char *ca_bundle;
	char *token;
	long timeout_ms;
	int plain_http; /* a loopback dev server */
};

static char *dup_or_null(const char *s, int *oom)
{
	char *d;

	if (!s)
		return NULL;
	if (!(d = strdup(s)))
		*oom = 1;
	return d;
}

/* http:// is allowed only to loopback: a token must not cross a network
 * in clear text. */
static int address_check(int *plain, const char *a)
{
	static const char *const loopback[] = { "http://127.0.0.1", "http://localhost",
						"http://[::1]" };
	size_t i, l;

	*plain = 0;
	if (!strncmp(a, "https://", 8))
		return 0;
	for (i = 0; i < sizeof(loopback) / sizeof(loopback[0]); i++) {
		l = strlen(loopback[i]);
		if (!strncmp(a, loopback[i], l) && (a[l] == ':' || a[l] == '/' || !a[l])) {
			*plain = 1;
			return 0;
		}
	}
	return util_error_set(CERTOPS_EINVALID,
			      "vault: address '%s' must be https:// (plain http only to a loopback address)", a);
}

int target_vault_new(target_vault **out, const target_vault_opts *o)
{
	target_vault *v;
	int oom = 0, error;
	size_t l;

	if ((error = util_http_global_init()) < 0)
		return util_error_wrap("vault");
	if (!o->address || !o->address[0])
		return util_error_set(CERTOPS_EINVALID, "vault: no address");
	if (!(v = calloc(1, sizeof(*v))))
		return util_error_oom();
	if ((error = address_check(&v->plain_http, o->address)) < 0)
		goto fail;
	v->address = dup_or_null(o->address, &oom);
	v->namespace_ = dup_or_null(o->namespace_, &oom);
	v->ca_bundle = dup_or_null(o->ca_bundle, &oom);
	v->token = dup_or_null(o->token, &oom);
	v->timeout_ms = o->timeout_ms > 0 ? (long)o->timeout_ms : VAULT_DEFAULT_TIMEOUT_MS;
	if (oom || !(v->curl = curl_easy_init()) ||
	    (o->token && util_secret_register(o->token) < 0)) {
		error = util_error_oom();
		goto fail;
	}
	/* "https://v:8200/" and "https://v:8200" are the same server. */
	l = strlen(v->address);
	while (l > 0 && v->address[l - 1] == '/')
		v->address[--l] = '\0';
	*out = v;
	return 0;
fail:
	target_vault_free(v);
	return error;
}

void target_vault_free(target_vault *v)
{
	if (!v)
		return;
	if (v->curl)
		curl_easy_cleanup(v->curl);
	free(v->address);
	free(v->namespace_);
	free(v->ca_bundle);
	free(v->token);
	free(v);
}

/* ---- URL and bodies ---- */

static int put_segments(util_buf *out, const char *s)
{
	const char *seg = s, *end;
	size_t len, i;

	for (;;) {
		end = strchr(seg, '/');
		len = end ? (size_t)(end - seg) : strlen(seg);
		if (len == 0 || (len == 1 && seg[0] == '.') ||
		    (len == 2 && seg[0] == '.' && seg[1] == '.'))
			return util_error_set(CERTOPS_EINVALID,
					      "vault: '%s' has an empty, '.' or '..' segment", s);
		for (i = 0; i < len; i++) {
			unsigned char c = (unsigned char)seg[i];
			if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~')
				util_buf_putc(out, (char)c);
			else
				util_buf_printf(out, "%%%02X", c);
		}
		if (!end)
			return 0;
		util_buf_putc(out, '/');
		seg = end + 1;
	}
}

int target_vault_url(util_buf *out, const char *address, const char *mount,
		     const char *kind, const char *path)
{
	int error;

	util_buf_puts(out, address);
	util_buf_puts(out, "/v1/");
	if ((error = put_segments(out, mount)) < 0)
		return error;
	if (kind) {
		util_buf_putc(out, '/');
		util_buf_puts(out, kind);
	}
	if (path) {
		util_buf_putc(out, '/');
		if ((error = put_segments(out, path)) < 0)
			return error;
	}
	return util_buf_failed(out) ? util_error_oom() : 0;
}

int target_vault_write_body(util_buf *out, const target_vault_field *fields,
			    size_t n, int64_t cas)
{
	size_t i;

	util_buf_putc(out, '{');
	if (cas >= 0)
		util_buf_printf(out, "\"options\":{\"cas\":%lld},", (long long)cas);
	util_buf_puts(out, "\"data\":{");
	for (i = 0; i < n; i++) {
		if (i)
			util_buf_putc(out, ',');
		util_buf_put_json_string(out, fields[i].key);
		util_buf_putc(out, ':');
		util_buf_put_json_string(out, fields[i].value);
	}
	util_buf_puts(out, "}}");
	return util_buf_failed(out) ? util_error_oom() : 0;
}

static int64_t json_int(const json_t *o, const char *key)
{
	const json_t *x = json_object_get(o, key);

	return json_is_integer(x) ? (int64_t)json_integer_value(x) : 0;
}

int target_vault_parse_secret(target_vault_secret *out, const char *body, size_t len)
{
	json_error_t jerr;
	json_t *root = json_loadb(body, len, 0, &jerr);
	json_t *data, *inner, *meta, *val;
	const char *key;
	size_t n = 0;
	int error = CERTOPS_EPEER;

	memset(out, 0, sizeof(*out));
	if (!root || !json_is_object(data = json_object_get(root, "data")) ||
	    !json_is_object(inner = json_object_get(data, "data"))) {
		error = util_error_set(CERTOPS_EPEER, "vault: a read answer without data.data");
		goto done;
	}
	if (json_is_object(meta = json_object_get(data, "metadata")))
		out->version = json_int(meta, "version");
	if (!(out->fields = calloc(json_object_size(inner) + 1, sizeof(*out->fields)))) {
		error = util_error_oom();
		goto done;
	}
	json_object_foreach(inner, key, val) {
		/* Other writers may store numbers or objects; only strings are
		 * ours, the rest is left out. */
		if (!json_is_string(val))
			continue;
		out->fields[n].key = strdup(key);
		out->fields[n].value = strdup(json_string_value(val));
		out->count = ++n;
		if (!out->fields[n - 1].key || !out->fields[n - 1].value) {
			error = util_error_oom();
			goto done;
		}
	}
	error = 0;
done:
	if (error < 0)
		target_vault_secret_release(out);
	json_decref(root);
	return error;
}

int target_vault_parse_metadata(target_vault_metadata *out, const char *body, size_t len)
{
	json_error_t jerr;
	json_t *root = json_loadb(body, len, 0, &jerr);
	json_t *data, *versions, *cur, *dt;
	char key[32];
	int error = 0;

	memset(out, 0, sizeof(*out));
	if (!root || !json_is_object(data = json_object_get(root, "data"))) {
		error = util_error_set(CERTOPS_EPEER, "vault: a metadata answer without data");
		goto done;
	}
	out->current_version = json_int(data, "current_version");
	snprintf(key, sizeof(key), "%lld", (long long)out->current_version);
	if (json_is_object(versions = json_object_get(data, "versions")) &&
	    json_is_object(cur = json_object_get(versions, key))) {
		dt = json_object_get(cur, "deletion_time");
		out->current_deleted = json_is_string(dt) && json_string_length(dt) > 0;
		out->current_destroyed = json_is_true(json_object_get(cur, "destroyed"));
	}
done:
	json_decref(root);
	return error;
}

int target_vault_error(long status, const char *body, size_t len, const char *what)
{
	json_error_t jerr;
	json_t *root = len ? json_loadb(body, len, 0, &jerr) : NULL;
	json_t *errors = root ? json_object_get(root, "errors") : NULL, *e;
	util_buf msg = UTIL_BUF_INIT;
	int code, cas = 0;
	size_t i;

	json_array_foreach(errors, i, e) {
		if (!json_is_string(e))
			continue;
		if (msg.size)
			util_buf_puts(&msg, "; ");
		util_buf_puts(&msg, json_string_value(e));
		if (strstr(json_string_value(e), "check-and-set parameter did not match"))
			cas = 1;
	}
	if (status == 401 || status == 403)
		code = CERTOPS_EAUTH;
	else if (status == 404)
		code = CERTOPS_ENOTFOUND;
	else if (status == 412 || (status == 400 && cas))
		code = CERTOPS_ESTALE;
	else if (status == 429)
		code = CERTOPS_ERATELIMIT;
	else
		code = CERTOPS_EPEER;
	util_error_set(code, "%s: HTTP %ld%s%s", what, status, msg.size ? ": " : "",
		       msg.size ? msg.ptr : "");
	util_buf_release(&msg);
	json_decref(root);
	return code;
}

/* ---- HTTP ---- */

static size_t on_body(char *p, size_t size, size_t n, void *data)
{
	util_buf *b = data;

	if (util_buf_put(b, p, size * n) < 0)
		return 0; /* over the limit: curl stops the transfer */
	return size * n;
}

/*
 * One request.  body NULL: GET.  *status_out the HTTP status; the answer
 * body in resp.  Transport failures are CERTOPS_ERROR (set); HTTP
 * statuses are for the caller to judge.
 */
static int vault_request(long *status_out, util_buf *resp, target_vault *v,
			 const char *url, const char *body, const char *what)
{
	struct curl_slist *hdrs = NULL;
	util_buf h = UTIL_BUF_INIT;
	char errbuf[CURL_ERROR_SIZE] = "";
	CURL *c = v->curl;
	CURLcode rc;
	int error = 0;

	curl_easy_reset(c);
	{
		/* plain http only ever to loopback (address_check) */
		util_http_opts ho = { .ca_bundle = v->ca_bundle, .timeout_ms = v->timeout_ms,
				      .allow_http = v->plain_http, .errbuf = errbuf };

		if ((error = util_http_setup(c, &ho)) < 0)
			return error;
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, resp);
	if (v->token) {
		util_buf_printf(&h, "X-Vault-Token: %s", v->token);
		hdrs = curl_slist_append(hdrs, h.ptr);
		util_buf_clear(&h);
	}
	if (v->namespace_) {
		util_buf_printf(&h, "X-Vault-Namespace: %s", v->namespace_);
		hdrs = curl_slist_append(hdrs, h.ptr);
	}
	if (body) {
		hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	if (util_buf_failed(&h)) {
		error = util_error_oom();
		goto done;
	}
	util_log_debug("vault", "%s %s", body ? "POST" : "GET", url);
	if ((rc = curl_easy_perform(c)) != CURLE_OK) {
		error = util_error_set(rc == CURLE_OPERATION_TIMEDOUT ? CERTOPS_ETIMEOUT : CERTOPS_ERROR,
				       "%s: %s", what, errbuf[0] ? errbuf : curl_easy_strerror(rc));
		goto done;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status_out);
done:
	/* The header strings hold the token: wipe them before freeing. */
	if (h.asize)
		memset(h.ptr, 0, h.asize);
	util_buf_release(&h);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(hdrs);
	return error;
}

/* A request whose 2xx answer body is returned in resp; others mapped. */
static int vault_call(util_buf *resp, target_vault *v, const char *url,
		      const char *body, const char *what)
{
	long status = 0;
	int error;

	util_buf_init_limit(resp, VAULT_BODY_LIMIT);
	if ((error = vault_request(&status, resp, v, url, body, what)) < 0)
		return error;
	if (status < 200 || status > 299)
		return target_vault_error(status, resp->ptr, resp->size, what);
	return 0;
}

int target_vault_login_approle(target_vault *v, const char *mount,
			       const char *role_id, const char *secret_id)
{
	util_buf url = UTIL_BUF_INIT, body = UTIL_BUF_INIT, resp = UTIL_BUF_INIT;
	json_error_t jerr;
	json_t *root = NULL, *tok;
	long status = 0;
	int error;
	char *old_token = v->token;

	if (secret_id && util_secret_register(secret_id) < 0)
		return util_error_oom();
	util_buf_printf(&url, "%s/v1/auth/", v->address);
	if ((error = put_segments(&url, mount ? mount : "approle")) < 0)
		goto done;
	util_buf_puts(&url, "/login");
	util_buf_puts(&body, "{\"role_id\":");
	util_buf_put_json_string(&body, role_id ? role_id : "");
	if (secret_id) {
		util_buf_puts(&body, ",\"secret_id\":");
		util_buf_put_json_string(&body, secret_id);
	}
	util_buf_putc(&body, '}');
	if (util_buf_failed(&url) || util_buf_failed(&body)) {
		error = util_error_oom();
		goto done;
	}
	v->token = NULL; /* a login carries no token */
	util_buf_init_limit(&resp, VAULT_BODY_LIMIT);
	error = vault_request(&status, &resp, v, url.ptr, body.ptr, "vault approle login");
	v->token = old_token;
	if (error < 0)
		goto done;
	if (status < 200 || status > 299) {
		error = target_vault_error(status, resp.ptr, resp.size, "vault approle login");
		/* Vault answers a wrong role_id or secret_id with 400. */
		if (status == 400 || error == CERTOPS_ENOTFOUND)
			error = util_error_set(CERTOPS_EAUTH, "%s", util_error_message());
		goto done;
	}
	root = json_loadb(resp.ptr, resp.size, 0, &jerr);
	tok = root ? json_object_get(json_object_get(root, "auth"), "client_token") : NULL;
	if (!json_is_string(tok) || !json_string_length(tok)) {
		error = util_error_set(CERTOPS_EPEER, "vault approle login: no auth.client_token in the answer");
		goto done;
	}
	if (util_secret_register(json_string_value(tok)) < 0 ||
	    !(v->token = strdup(json_string_value(tok)))) {
		v->token = old_token;
		error = util_error_oom();
		goto done;
	}
	free(old_token);
	error = 0;
done:
	if (body.asize)
		memset(body.ptr, 0, body.asize);
	json_decref(root);
	util_buf_release(&url);
	util_buf_release(&body);
	util_buf_release(&resp);
	return error;
}

int target_vault_token_check(target_vault *v, int64_t *ttl_out)
{
	util_buf url = UTIL_BUF_INIT, resp = UTIL_BUF_INIT;
	json_error_t jerr;
	json_t *root = NULL;
	int error;

	if (!v->token)
		return util_error_set(CERTOPS_EAUTH, "vault: no token (and no login)");
	util_buf_printf(&url, "%s/v1/auth/token/lookup-self", v->address);
	if ((error = vault_call(&resp, v, url.ptr, NULL, "vault token lookup-self")) < 0)
		goto done;
	root = json_loadb(resp.ptr, resp.size, 0, &jerr);
	if (!root || !json_is_object(json_object_get(root, "data"))) {
		error = util_error_set(CERTOPS_EPEER, "vault token lookup-self: an answer without data");
		goto done;
	}
	if (ttl_out)
		*ttl_out = json_int(json_object_get(root, "data"), "ttl");
done:
	json_decref(root);
	util_buf_release(&url);
	util_buf_release(&resp);
	return error;
}

int target_vault_read(target_vault_secret *out, target_vault *v,
		      const char *mount, const char *path)
{
	util_buf url = UTIL_BUF_INIT, resp = UTIL_BUF_INIT, what = UTIL_BUF_INIT;
	int error;

	memset(out, 0, sizeof(*out));
	util_buf_printf(&what, "vault read %s/%s", mount, path);
	if ((error = target_vault_url(&url, v->address, mount, "data", path)) < 0 ||
	    (error = vault_call(&resp, v, url.ptr, NULL, what.ptr)) < 0 ||
	    (error = target_vault_parse_secret(out, resp.ptr, resp.size)) < 0)
		goto done;
done:
	/* The answer may hold a private key. */
	if (resp.asize)
		memset(resp.ptr, 0, resp.asize);
	util_buf_release(&resp);
	util_buf_release(&url);
	util_buf_release(&what);
	return error;
}

const char *target_vault_secret_get(const target_vault_secret *s, const char *key)
{
	size_t i;

	for (i = 0; i < s->count; i++)
		if (!strcmp(s->fields[i].key, key))
			return s->fields[i].value;
	return NULL;
}

void target_vault_secret_release(target_vault_secret *s)
{
	size_t i;

	for (i = 0; s->fields && i < s->count; i++) {
		free(s->fields[i].key);
		if (s->fields[i].value) {
			memset(s->fields[i].value, 0, strlen(s->fields[i].value));
			free(s->fields[i].value);
		}
	}
	free(s->fields);
	memset(s, 0, sizeof(*s));
}

int target_vault_write(int64_t *version_out, target_vault *v, const char *mount,
		       const char *path, const target_vault_field *fields, size_t n,
		       int64_t cas)
{
	util_buf url = UTIL_BUF_INIT, body = UTIL_BUF_INIT, resp = UTIL_BUF_INIT,
		 what = UTIL_BUF_INIT;
	json_error_t jerr;
	json_t *root = NULL;
	int error;

	util_buf_printf(&what, "vault write %s/%s", mount, path);
	if ((error = target_vault_url(&url, v->address, mount, "data", path)) < 0 ||
	    (error = target_vault_write_body(&body, fields, n, cas)) < 0 ||
	    (error = vault_call(&resp, v, url.ptr, body.ptr, what.ptr)) < 0)
		goto done;
	root = json_loadb(resp.ptr, resp.size, 0, &jerr);
	if (version_out)
		*version_out = root ? json_int(json_object_get(root, "data"), "version") : 0;
done:
	if (body.asize)
		memset(body.ptr, 0, body.asize);
	json_decref(root);
	util_buf_release(&url);
	util_buf_release(&body);
	util_buf_release(&resp);
	util_buf_release(&what);
	return error;
}

int target_vault_metadata_read(target_vault_metadata *out, target_vault *v,
			       const char *mount, const char *path)
{
	util_buf url = UTIL_BUF_INIT, resp = UTIL_BUF_INIT, what = UTIL_BUF_INIT;
	int error;

	memset(out, 0, sizeof(*out));
	util_buf_printf(&what, "vault metadata %s/%s", mount, path);
	if ((error = target_vault_url(&url, v->address, mount, "metadata", path)) < 0 ||
	    (error = vault_call(&resp, v, url.ptr, NULL, what.ptr)) < 0 ||
	    (error = target_vault_parse_metadata(out, resp.ptr, resp.size)) < 0)
		goto done;
done:
	util_buf_release(&url);
	util_buf_release(&resp);
	util_buf_release(&what);
	return error;
}
