/* Orders, authorizations and challenges (RFC 8555 §7.4, §7.5, §8; RFC 8737, 8738). */
#include "acme/acme_internal.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "util/log.h"

int acme_name_is_ip(const char *name)
{
	unsigned char addr[16];

	return inet_pton(AF_INET, name, addr) == 1 || inet_pton(AF_INET6, name, addr) == 1;
}

static time_t json_time(json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));
	time_t t = 0;

	if (s && acme_time_parse(&t, s) < 0)
		util_error_clear();
	return t;
}

static int64_t response_retry_after(const acme__response *r)
{
	int64_t s = -1;

	if (r->retry_after && acme_retry_after_parse(&s, r->retry_after, time(NULL)) < 0) {
		util_error_clear();
		s = -1;
	}
	return s;
}

/* --- orders ------------------------------------------------------------ */

void acme_order_release(acme_order *o)
{
	size_t i;

	free(o->url); free(o->status); free(o->finalize); free(o->certificate);
	free(o->profile); free(o->replaces);
	for (i = 0; i < o->nidentifiers; i++) {
		free(o->identifiers[i].type);
		free(o->identifiers[i].value);
	}
	free(o->identifiers);
	for (i = 0; i < o->nauthorizations; i++)
		free(o->authorizations[i]);
	free(o->authorizations);
	acme_problem_release(o->error);
	free(o->error);
	memset(o, 0, sizeof(*o));
}

/* Fills o from an answer, keeping o->url (the order's own URL). */
static int order_update(acme_order *o, const acme__response *resp)
{
	json_t *obj = NULL, *ids, *authz, *v;
	char *url = o->url;
	size_t i;
	int error, oom = 0;

	if ((error = acme__json(&obj, resp, "order")) < 0)
		return error;
	o->url = NULL;
	acme_order_release(o);
	o->url = url;
	o->status = acme__json_str_oom(obj, "status", &oom);
	o->finalize = acme__json_str_oom(obj, "finalize", &oom);
	o->certificate = acme__json_str_oom(obj, "certificate", &oom);
	o->profile = acme__json_str_oom(obj, "profile", &oom);
	o->replaces = acme__json_str_oom(obj, "replaces", &oom);
	o->expires = json_time(obj, "expires");
	o->error = acme__json_problem(obj);
	o->retry_after = response_retry_after(resp);
	ids = json_object_get(obj, "identifiers");
	if (json_is_array(ids) && json_array_size(ids) &&
	    !(o->identifiers = calloc(json_array_size(ids), sizeof(*o->identifiers))))
		oom = 1;
	if (o->identifiers)
		json_array_foreach(ids, i, v) {
			o->identifiers[o->nidentifiers].type = acme__json_str_oom(v, "type", &oom);
			o->identifiers[o->nidentifiers].value = acme__json_str_oom(v, "value", &oom);
			o->nidentifiers++;
		}
	authz = json_object_get(obj, "authorizations");
	if (json_is_array(authz) && json_array_size(authz) &&
	    !(o->authorizations = calloc(json_array_size(authz), sizeof(char *))))
		oom = 1;
	if (o->authorizations)
		json_array_foreach(authz, i, v) {
			if (!json_is_string(v))
				continue;
			if (!(o->authorizations[o->nauthorizations] = strdup(json_string_value(v))))
				oom = 1;
			else
				o->nauthorizations++;
		}
	json_decref(obj);
	if (oom)
		return util_error_oom();
	if (!o->status || !o->finalize)
		return util_error_set(CERTOPS_EPEER, "order %s lacks status or finalize",
				      o->url ? o->url : "");
	return 0;
}

int acme_order_new(acme_order *out, acme_client *c, const acme_order_opts *opts)
{
	util_buf payload = UTIL_BUF_INIT;
	acme__response resp = { 0 };
	size_t i;
	int error;

	memset(out, 0, sizeof(*out));
	out->retry_after = -1;
	if (!opts->nnames)
		return util_error_set(CERTOPS_EINVALID, "an order needs at least one name");
	util_buf_puts(&payload, "{\"identifiers\":[");
	for (i = 0; i < opts->nnames; i++) {
		util_buf_printf(&payload, "%s{\"type\":\"%s\",\"value\":", i ? "," : "",
				acme_name_is_ip(opts->names[i]) ? "ip" : "dns");
		util_buf_put_json_string(&payload, opts->names[i]);
		util_buf_putc(&payload, '}');
	}
	util_buf_putc(&payload, ']');
	if (opts->profile) {
		util_buf_puts(&payload, ",\"profile\":");
		util_buf_put_json_string(&payload, opts->profile);
	}
	if (opts->replaces) {
		util_buf_puts(&payload, ",\"replaces\":");
		util_buf_put_json_string(&payload, opts->replaces);
	}
	util_buf_putc(&payload, '}');
	if (util_buf_failed(&payload)) {
		error = util_error_oom();
		goto done;
	}
	if ((error = acme__post(c, &resp, c->dir.new_order, payload.ptr, NULL, 0)) < 0) {
		util_error_wrap("creating the order for '%s'", opts->names[0]);
		goto done;
	}
	if (!resp.location) {
		error = util_error_set(CERTOPS_EPEER, "newOrder answer has no Location");
		goto done;
	}
	out->url = resp.location;
	resp.location = NULL;
	error = order_update(out, &resp);
done:
	if (error < 0)
		acme_order_release(out);
	acme__response_release(&resp);
	util_buf_release(&payload);
	return error;
}

int acme_order_refresh(acme_order *o, acme_client *c)
{
	acme__response resp = { 0 };
	int error;

	if (!o->url)
		return util_error_set(CERTOPS_EINVALID, "an order to refresh needs its url");
	if ((error = acme__post(c, &resp, o->url, NULL, NULL, 0)) == 0)
		error = order_update(o, &resp);
	acme__response_release(&resp);
	return error;
}

static int order_failed(acme_order *o)
{
	if (o->error) {
		acme_problem *p = o->error;
		o->error = NULL;
		if (!p->url)
			p->url = o->url ? strdup(o->url) : NULL;
		return acme__fail_problem(p, "order");
	}
	return util_error_set(CERTOPS_EPEER, "order %s became %s", o->url, o->status);
}

/* 1 when status is one of the space-separated words of list. */
static int status_in(const char *status, const char *list)
{
	size_t n = strlen(status);
	const char *p = list;

	while (n && (p = strstr(p, status))) {
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return 1;
		p += n;
	}
	return 0;
}

/* Polls while the order's status is one of the waiting ones. */
static int order_poll(acme_order *o, acme_client *c, const char *waiting, time_t deadline)
{
	unsigned attempt;
	int error;

	for (attempt = 0;; attempt++) {
		if (!o->status)
			return util_error_set(CERTOPS_EINVALID, "order %s has no status: refresh it first",
					      o->url ? o->url : "(no url)");
		if (!strcmp(o->status, "invalid"))
			return order_failed(o);
		if (!status_in(o->status, waiting))
			return 0;
		if (time(NULL) >= deadline)
			return util_error_set(CERTOPS_ETIMEOUT, "order %s still %s at the deadline",
					      o->url, o->status);
		acme__sleep_ms(acme__poll_delay_ms(attempt, o->retry_after, deadline));
		if ((error = acme_order_refresh(o, c)) < 0)
			return error;
	}
}

int acme_order_wait_ready(acme_order *o, acme_client *c, time_t deadline)
{
	return order_poll(o, c, "pending", deadline);
}

int acme_order_finalize(acme_order *o, acme_client *c, const void *csr_der,
			size_t csr_len, time_t deadline)
{
	util_buf payload = UTIL_BUF_INIT;
	acme__response resp = { 0 };
	int error;

	util_buf_puts(&payload, "{\"csr\":\"");
	if ((error = crypto_b64url_encode(&payload, csr_der, csr_len)) < 0)
		goto done;
	util_buf_puts(&payload, "\"}");
	if (util_buf_failed(&payload)) {
		error = util_error_oom();
		goto done;
	}
	if ((error = acme__post(c, &resp, o->finalize, payload.ptr, NULL, 0)) < 0) {
		util_error_wrap("finalizing order %s", o->url);
		goto done;
	}
	if ((error = order_update(o, &resp)) < 0)
		goto done;
	/* "ready" may linger briefly after the finalize POST on some CAs */
	if ((error = order_poll(o, c, "ready processing", deadline)) < 0)
		goto done;
	if (strcmp(o->status, "valid") || !o->certificate)
		error = util_error_set(CERTOPS_EPEER, "order %s is %s after finalize", o->url,
				       o->status);
done:
	acme__response_release(&resp);
	util_buf_release(&payload);
	return error;
}

/* --- authorizations and challenges ------------------------------------- */

void acme_authz_release(acme_authz *a)
{
	size_t i;

	free(a->url); free(a->status);
	free(a->identifier.type); free(a->identifier.value);
	for (i = 0; i < a->nchallenges; i++) {
		acme_challenge *ch = &a->challenges[i];
		free(ch->type); free(ch->url); free(ch->status); free(ch->token);
		acme_problem_release(ch->error);
		free(ch->error);
	}
	free(a->challenges);
	memset(a, 0, sizeof(*a));
}

static int authz_update(acme_authz *a, const acme__response *resp)
{
	json_t *obj = NULL, *chs, *v;
	char *url = a->url;
	size_t i;
	int error, oom = 0;

	if ((error = acme__json(&obj, resp, "authorization")) < 0)
		return error;
	a->url = NULL;
	acme_authz_release(a);
	a->url = url;
	a->status = acme__json_str_oom(obj, "status", &oom);
	a->identifier.type = acme__json_str_oom(json_object_get(obj, "identifier"), "type", &oom);
	a->identifier.value = acme__json_str_oom(json_object_get(obj, "identifier"), "value", &oom);
	a->wildcard = json_is_true(json_object_get(obj, "wildcard"));
	a->expires = json_time(obj, "expires");
	a->retry_after = response_retry_after(resp);
	chs = json_object_get(obj, "challenges");
	if (json_is_array(chs) && json_array_size(chs) &&
	    !(a->challenges = calloc(json_array_size(chs), sizeof(*a->challenges))))
		oom = 1;
	if (a->challenges)
		json_array_foreach(chs, i, v) {
			acme_challenge *ch = &a->challenges[a->nchallenges++];
			ch->type = acme__json_str_oom(v, "type", &oom);
			ch->url = acme__json_str_oom(v, "url", &oom);
			ch->status = acme__json_str_oom(v, "status", &oom);
			ch->token = acme__json_str_oom(v, "token", &oom);
			ch->error = acme__json_problem(v);
		}
	json_decref(obj);
	if (oom)
		return util_error_oom();
	if (!a->status || !a->identifier.value)
		return util_error_set(CERTOPS_EPEER, "authorization %s lacks status or identifier", url);
	return 0;
}

int acme_authz_get(acme_authz *out, acme_client *c, const char *url)
{
	acme__response resp = { 0 };
	int error;

	memset(out, 0, sizeof(*out));
	if (!url)
		return util_error_set(CERTOPS_EINVALID, "no authorization url");
	if (!(out->url = strdup(url)))
		return util_error_oom();
	if ((error = acme__post(c, &resp, url, NULL, NULL, 0)) == 0)
		error = authz_update(out, &resp);
	if (error < 0)
		acme_authz_release(out);
	acme__response_release(&resp);
	return error;
}

const acme_challenge *acme_authz_challenge(const acme_authz *a, const char *type)
{
	size_t i;

	for (i = 0; i < a->nchallenges; i++)
		if (a->challenges[i].type && !strcmp(a->challenges[i].type, type))
			return &a->challenges[i];
	return NULL;
}

int acme_challenge_respond(acme_client *c, const acme_challenge *ch)
{
	acme__response resp = { 0 };
	int error = acme__post(c, &resp, ch->url, "{}", NULL, 0);

	acme__response_release(&resp);
	return error;
}

static int authz_failed(acme_authz *a)
{
	size_t i;

	for (i = 0; i < a->nchallenges; i++) {
		acme_challenge *ch = &a->challenges[i];
		if (ch->error) {
			acme_problem *p = ch->error;
			util_buf what = UTIL_BUF_INIT;
			int code;
			ch->error = NULL;
			if (!p->url && ch->url)
				p->url = strdup(ch->url);
			util_buf_printf(&what, "%s challenge for %s '%s'", ch->type,
					a->identifier.type, a->identifier.value);
			code = acme__fail_problem(p, util_buf_failed(&what) ? "challenge" : what.ptr);
			util_buf_release(&what);
			return code;
		}
	}
	return util_error_set(CERTOPS_EPEER, "authorization for %s '%s' is %s",
			      a->identifier.type, a->identifier.value, a->status);
}

int acme_authz_wait(acme_authz *a, acme_client *c, time_t deadline)
{
	acme__response resp = { 0 };
	unsigned attempt;
	int error = 0;

	for (attempt = 0;; attempt++) {
		if (!a->status) {
			error = util_error_set(CERTOPS_EINVALID, "authorization %s has no status",
					       a->url ? a->url : "(no url)");
			break;
		}
		if (!strcmp(a->status, "valid"))
			break;
		if (strcmp(a->status, "pending")) {
			error = authz_failed(a);
			break;
		}
		if (time(NULL) >= deadline) {
			error = util_error_set(CERTOPS_ETIMEOUT,
					       "authorization for '%s' still pending at the deadline",
					       a->identifier.value);
			break;
		}
		acme__sleep_ms(acme__poll_delay_ms(attempt, a->retry_after, deadline));
		if ((error = acme__post(c, &resp, a->url, NULL, NULL, 0)) < 0 ||
		    (error = authz_update(a, &resp)) < 0)
			break;
	}
	acme__response_release(&resp);
	return error;
}

int acme_authz_deactivate(acme_client *c, const char *url)
{
	acme__response resp = { 0 };
	int error = acme__post(c, &resp, url, "{\"status\":\"deactivated\"}", NULL, 0);

	acme__response_release(&resp);
	return error;
}

int acme_key_authorization(util_buf *out, const crypto_key *account_key, const char *token)
{
	util_buf_puts(out, token);
	util_buf_putc(out, '.');
	return crypto_key_thumbprint(out, account_key);
}

int acme_dns01_txt_value(util_buf *out, const char *key_authorization)
{
	unsigned char md[32];
	int error;

	if ((error = crypto_sha256(md, key_authorization, strlen(key_authorization))) < 0)
		return error;
	return crypto_b64url_encode(out, md, sizeof(md));
}

int acme_tlsalpn01_extension_value(util_buf *out, const char *key_authorization)
{
	unsigned char der[34] = { 0x04, 0x20 }; /* OCTET STRING, 32 bytes */
	int error;

	if ((error = crypto_sha256(der + 2, key_authorization, strlen(key_authorization))) < 0)
		return error;
	return util_buf_put(out, der, sizeof(der)) < 0
		? util_error_oom() : 0;
}
