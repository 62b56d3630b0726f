/* Accounts (RFC 8555 §7.3): create, find, update, key rollover, deactivate, EAB. */
#include "acme/acme_internal.h"

#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "util/log.h"

void acme_account_release(acme_account *a)
{
	size_t i;

	free(a->url);
	free(a->status);
	free(a->orders);
	for (i = 0; i < a->ncontacts; i++)
		free(a->contacts[i]);
	free(a->contacts);
	memset(a, 0, sizeof(*a));
}

static int account_from_response(acme_account *out, const acme__response *resp,
				 const char *url)
{
	json_t *obj = NULL, *contacts, *v;
	size_t i;
	int error;

	memset(out, 0, sizeof(*out));
	if ((error = acme__json(&obj, resp, "account")) < 0)
		return error;
	out->url = strdup(resp->location ? resp->location : url);
	out->status = acme__json_str(obj, "status");
	out->orders = acme__json_str(obj, "orders");
	out->existed = resp->status == 200;
	contacts = json_object_get(obj, "contact");
	if (json_is_array(contacts) && json_array_size(contacts)) {
		out->contacts = calloc(json_array_size(contacts), sizeof(char *));
		if (out->contacts)
			json_array_foreach(contacts, i, v)
				if (json_is_string(v) &&
				    (out->contacts[out->ncontacts] = strdup(json_string_value(v))))
					out->ncontacts++;
	}
	json_decref(obj);
	if (!out->url) {
		acme_account_release(out);
		return util_error_oom();
	}
	return 0;
}

static void put_contacts(util_buf *b, const char *const *contacts, size_t n)
{
	size_t i;

	util_buf_puts(b, "\"contact\":[");
	for (i = 0; i < n; i++) {
		if (i)
			util_buf_putc(b, ',');
		util_buf_put_json_string(b, contacts[i]);
	}
	util_buf_putc(b, ']');
}

/* §7.3.4: a JWS over the account JWK, MAC'd with the CA-issued key. */
int acme__eab_jws(util_buf *out, const acme_eab *eab, const crypto_key *key,
		  const char *url)
{
	util_buf prot = UTIL_BUF_INIT, jwk = UTIL_BUF_INIT, input = UTIL_BUF_INIT,
		 mackey = UTIL_BUF_INIT, mac = UTIL_BUF_INIT;
	const char *alg = eab->alg ? eab->alg : "HS256";
	const char *digest = !strcmp(alg, "HS256") ? "SHA256" : !strcmp(alg, "HS384") ? "SHA384"
			   : !strcmp(alg, "HS512") ? "SHA512" : NULL;
	int error;

	if (!digest)
		return util_error_set(CERTOPS_EINVALID, "unsupported eab algorithm '%s'", alg);
	if (!eab->kid || !eab->hmac_key)
		return util_error_set(CERTOPS_EINVALID, "eab needs a key id and an hmac key");
	/* keep the MAC key out of every log line and error message */
	if (util_secret_register(eab->hmac_key) < 0)
		return util_error_oom();
	if ((error = crypto_b64url_decode(&mackey, eab->hmac_key, strlen(eab->hmac_key))) < 0) {
		util_error_wrap("decoding the eab hmac key");
		goto done;
	}
	util_buf_puts(&prot, "{\"alg\":");
	util_buf_put_json_string(&prot, alg);
	util_buf_puts(&prot, ",\"kid\":");
	util_buf_put_json_string(&prot, eab->kid);
	util_buf_puts(&prot, ",\"url\":");
	util_buf_put_json_string(&prot, url);
	util_buf_putc(&prot, '}');
	if ((error = crypto_key_jwk(&jwk, key)) < 0 ||
	    (error = crypto_b64url_encode(&input, prot.ptr, prot.size)) < 0)
		goto done;
	util_buf_putc(&input, '.');
	if ((error = crypto_b64url_encode(&input, jwk.ptr, jwk.size)) < 0 ||
	    (error = crypto_hmac(&mac, digest, mackey.ptr, mackey.size, input.ptr, input.size)) < 0)
		goto done;
	{
		const char *dot = strchr(input.ptr, '.');
		util_buf_puts(out, "{\"protected\":\"");
		util_buf_put(out, input.ptr, (size_t)(dot - input.ptr));
		util_buf_puts(out, "\",\"payload\":\"");
		util_buf_puts(out, dot + 1);
		util_buf_puts(out, "\",\"signature\":\"");
		crypto_b64url_encode(out, mac.ptr, mac.size);
		util_buf_puts(out, "\"}");
	}
	error = util_buf_failed(out) || util_buf_failed(&prot)
		? util_error_oom() : 0;
done:
	util_buf_release(&prot);
	util_buf_release(&jwk);
	util_buf_release(&input);
	util_buf_release(&mackey);
	util_buf_release(&mac);
	return error;
}

int acme_account_new(acme_account *out, acme_client *c, const crypto_key *key,
		     const char *const *contacts, size_t ncontacts, int agree_tos,
		     const acme_eab *eab)
{
	util_buf payload = UTIL_BUF_INIT;
	acme__response resp = { 0 };
	int error;

	memset(out, 0, sizeof(*out));
	util_buf_printf(&payload, "{\"termsOfServiceAgreed\":%s", agree_tos ? "true" : "false");
	if (ncontacts) {
		util_buf_putc(&payload, ',');
		put_contacts(&payload, contacts, ncontacts);
	}
	if (eab) {
		util_buf_puts(&payload, ",\"externalAccountBinding\":");
		if ((error = acme__eab_jws(&payload, eab, key, c->dir.new_account)) < 0)
			goto done;
	}
	util_buf_putc(&payload, '}');
	if (util_buf_failed(&payload)) {
		error = util_error_oom();
		goto done;
	}
	if ((error = acme__post(c, &resp, c->dir.new_account, payload.ptr, key, 1)) < 0) {
		util_error_wrap("creating the acme account");
		goto done;
	}
	if (!resp.location) {
		error = util_error_set(CERTOPS_EPEER, "newAccount answer has no Location");
		goto done;
	}
	if ((error = account_from_response(out, &resp, c->dir.new_account)) < 0)
		goto done;
	error = acme_client_set_account(c, key, out->url);
done:
	acme__response_release(&resp);
	util_buf_release(&payload);
	return error;
}

int acme_account_find(acme_account *out, acme_client *c, const crypto_key *key)
{
	acme__response resp = { 0 };
	int error;

	memset(out, 0, sizeof(*out));
	if ((error = acme__post(c, &resp, c->dir.new_account, "{\"onlyReturnExisting\":true}",
				key, 1)) < 0)
		goto done;
	if (!resp.location) {
		error = util_error_set(CERTOPS_EPEER, "newAccount answer has no Location");
		goto done;
	}
	if ((error = account_from_response(out, &resp, c->dir.new_account)) < 0)
		goto done;
	error = acme_client_set_account(c, key, out->url);
done:
	acme__response_release(&resp);
	return error;
}

int acme_account_update(acme_account *out, acme_client *c,
			const char *const *contacts, size_t ncontacts)
{
	util_buf payload = UTIL_BUF_INIT;
	acme__response resp = { 0 };
	int error;

	memset(out, 0, sizeof(*out));
	if (!c->kid)
		return util_error_set(CERTOPS_EINVALID, "no acme account to update");
	util_buf_putc(&payload, '{');
	put_contacts(&payload, contacts, ncontacts);
	util_buf_putc(&payload, '}');
	if (util_buf_failed(&payload)) {
		error = util_error_oom();
		goto done;
	}
	if ((error = acme__post(c, &resp, c->kid, payload.ptr, NULL, 0)) < 0)
		goto done;
	error = account_from_response(out, &resp, c->kid);
done:
	acme__response_release(&resp);
	util_buf_release(&payload);
	return error;
}

int acme_account_key_change(acme_client *c, const crypto_key *new_key)
{
	util_buf inner = UTIL_BUF_INIT, payload = UTIL_BUF_INIT;
	acme__response resp = { 0 };
	int error;

	if (!c->kid || !c->key)
		return util_error_set(CERTOPS_EINVALID, "no acme account for a key change");
	if (!c->dir.key_change)
		return util_error_set(CERTOPS_ENOTFOUND, "the ca offers no keyChange");
	/* inner JWS: signed by the new key, jwk, no nonce (§7.3.5) */
	util_buf_puts(&payload, "{\"account\":");
	util_buf_put_json_string(&payload, c->kid);
	util_buf_puts(&payload, ",\"oldKey\":");
	if ((error = crypto_key_jwk(&payload, c->key)) < 0)
		goto done;
	util_buf_putc(&payload, '}');
	if (util_buf_failed(&payload)) {
		error = util_error_oom();
		goto done;
	}
	if ((error = acme__jws(&inner, new_key, NULL, NULL, c->dir.key_change, payload.ptr)) < 0)
		goto done;
	if ((error = acme__post(c, &resp, c->dir.key_change, inner.ptr, NULL, 0)) < 0) {
		util_error_wrap("rolling over the account key");
		goto done;
	}
	c->key = new_key;
done:
	acme__response_release(&resp);
	util_buf_release(&inner);
	util_buf_release(&payload);
	return error;
}

int acme_account_deactivate(acme_client *c)
{
	acme__response resp = { 0 };
	int error;

	if (!c->kid)
		return util_error_set(CERTOPS_EINVALID, "no acme account to deactivate");
	error = acme__post(c, &resp, c->kid, "{\"status\":\"deactivated\"}", NULL, 0);
	acme__response_release(&resp);
	return error;
}

int acme_revoke(acme_client *c, const void *cert_der, size_t len, int reason,
		const crypto_key *cert_key)
{
	util_buf payload = UTIL_BUF_INIT;
	acme__response resp = { 0 };
	int error;

	if (!c->dir.revoke_cert)
		return util_error_set(CERTOPS_ENOTFOUND, "the ca offers no revokeCert");
	util_buf_puts(&payload, "{\"certificate\":\"");
	if ((error = crypto_b64url_encode(&payload, cert_der, len)) < 0)
		goto done;
	util_buf_putc(&payload, '"');
	if (reason >= 0)
		util_buf_printf(&payload, ",\"reason\":%d", reason);
	util_buf_putc(&payload, '}');
	if (util_buf_failed(&payload)) {
		error = util_error_oom();
		goto done;
	}
	error = acme__post(c, &resp, c->dir.revoke_cert, payload.ptr, cert_key, cert_key != NULL);
	if (error < 0)
		util_error_wrap("revoking the certificate");
done:
	acme__response_release(&resp);
	util_buf_release(&payload);
	return error;
}
