/*
 * Small records of the state store: ACME accounts, deployments and pending
 * orders, each one document of the backend (backend.h), so that a write
 * touches one record.
 */
#include "state/internal.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/error.h"
#include "util/fs.h"
#include "util/log.h"

/* Folder names from hashes: 128 bits are plenty and keep paths short. */
#define HASH_NAME_LEN 32

static int hash_name(char out[65], const char *s)
{
	int error = state__sha256_hex(out, s, strlen(s));

	out[HASH_NAME_LEN] = '\0';
	return error;
}

/*
 * ---- accounts: accounts/<issuer>/<hash of directory URL>.json ----
 * One file holds the key and the account URL, so that one atomic write
 * changes both: a key never pairs with another key's account URL.
 */

static int account_key(util_buf *out, const char *issuer, const char *directory_url)
{
	char h[65];
	int error;

	if ((error = state__name_check(issuer, "issuer")) < 0)
		return error;
	if (!directory_url || !*directory_url)
		return util_error_set(CERTOPS_EINVALID, "account of issuer '%s' has no directory URL", issuer);
	if ((error = hash_name(h, directory_url)) < 0)
		return error;
	util_buf_printf(out, "%s/%s", issuer, h);
	return util_buf_failed(out) ? state__oom() : 0;
}

/* Appends where a record lives (for messages). */
static void where(util_buf *out, state *st, state__kind kind, const char *key)
{
	st->be->where(out, st, kind, key);
	if (!out->ptr)
		util_buf_puts(out, "state record");
}

int state_account_get(state_account **out, state *st, const char *issuer,
		      const char *directory_url)
{
	util_buf key = UTIL_BUF_INIT, path = UTIL_BUF_INIT;
	state_account *a = NULL;
	json_t *doc = NULL;
	const char *url;
	int error;

	*out = NULL;
	if ((error = account_key(&key, issuer, directory_url)) < 0)
		goto done;
	where(&path, st, STATE__ACCOUNT, key.ptr);
	error = st->be->get(&doc, st, STATE__ACCOUNT, key.ptr, 0);
	if (error == CERTOPS_ENOTFOUND) {
		error = util_error_set(CERTOPS_ENOTFOUND,
			"no account for issuer '%s' at '%s'", issuer, directory_url);
		goto done;
	}
	if (error < 0)
		goto done;
	url = json_string_value(json_object_get(doc, "directory"));
	if (!url || strcmp(url, directory_url)) {
		error = util_error_set(CERTOPS_EINVALID,
			"'%s' is for another directory URL", path.ptr);
		goto done;
	}
	if (!(a = calloc(1, sizeof(*a)))) {
		error = state__oom();
		goto done;
	}
	a->issuer = strdup(issuer);
	a->directory_url = strdup(directory_url);
	a->key_pem = state__json_strdup(doc, "key");
	a->url = state__json_strdup(doc, "url");
	a->email = state__json_strdup(doc, "email");
	a->created = state__json_time(doc, "created");
	if (!a->issuer || !a->directory_url) {
		error = state__oom();
		goto done;
	}
	if (!a->key_pem || !*a->key_pem) {
		error = util_error_set_at(CERTOPS_EINVALID, path.ptr, 0, 0, "key",
					  "the account has no key");
		goto done;
	}
	*out = a;
	a = NULL;
done:
	state_account_free(a);
	state__doc_free_secret(doc);
	util_buf_release(&key);
	util_buf_release(&path);
	return error;
}

int state_account_put(state *st, const state_account *account)
{
	util_buf key = UTIL_BUF_INIT;
	json_t *doc = NULL;
	int error;

	if (!account->key_pem || !*account->key_pem)
		return util_error_set(CERTOPS_EINVALID, "account of issuer '%s' has no key",
				      account->issuer ? account->issuer : "");
	if ((error = account_key(&key, account->issuer, account->directory_url)) < 0)
		goto out;
	if (!(doc = json_object()) ||
	    state__json_set_str(doc, "issuer", account->issuer) < 0 ||
	    state__json_set_str(doc, "directory", account->directory_url) < 0 ||
	    state__json_set_str(doc, "key", account->key_pem) < 0 ||
	    state__json_set_str(doc, "url", account->url) < 0 ||
	    state__json_set_str(doc, "email", account->email) < 0 ||
	    state__json_set_time(doc, "created",
				 account->created ? account->created : time(NULL)) < 0) {
		error = state__oom();
		goto out;
	}
	error = state__record_put(st, STATE__ACCOUNT, key.ptr, doc);
out:
	state__doc_free_secret(doc);
	util_buf_release(&key);
	return error;
}

void state_account_free(state_account *a)
{
	if (!a)
		return;
	free(a->issuer);
	free(a->directory_url);
	if (a->key_pem) {
		/* do not leave key material in freed heap memory */
		explicit_bzero(a->key_pem, strlen(a->key_pem));
		free(a->key_pem);
	}
	free(a->url);
	free(a->email);
	free(a);
}

/* ---- deployments: one record per target, keyed by a hash of it ---- */

static int deploy_key(char out[65], const char *target)
{
	if (!target || !*target)
		return util_error_set(CERTOPS_EINVALID, "deployment without a target identity");
	return hash_name(out, target);
}

/* Loads one record; target (may be NULL) must match when given. */
static int deploy_load(state_deploy **out, state *st, const char *key, const char *target)
{
	util_buf path = UTIL_BUF_INIT;
	state_deploy *d = NULL;
	json_t *doc = NULL;
	const char *s, *result;
	int error;

	*out = NULL;
	if ((error = st->be->get(&doc, st, STATE__DEPLOY, key, 0)) < 0) {
		if (error == CERTOPS_ENOTFOUND && target)
			error = util_error_set(CERTOPS_ENOTFOUND,
				"nothing recorded as deployed to '%s'", target);
		goto done;
	}
	s = json_string_value(json_object_get(doc, "target"));
	if (!s || (target && strcmp(s, target))) {
		where(&path, st, STATE__DEPLOY, key);
		error = util_error_set(CERTOPS_EINVALID, "'%s' is for another target", path.ptr);
		goto done;
	}
	if (!(d = calloc(1, sizeof(*d))) || !(d->target = strdup(s))) {
		error = state__oom();
		goto done;
	}
	d->certificate = state__json_strdup(doc, "certificate");
	d->fingerprint = state__json_strdup(doc, "fingerprint");
	d->config_hash = state__json_strdup(doc, "configHash");
	d->message = state__json_strdup(doc, "message");
	d->time = state__json_time(doc, "time");
	if (json_is_integer(json_object_get(doc, "version")))
		d->version = json_integer_value(json_object_get(doc, "version"));
	result = json_string_value(json_object_get(doc, "result"));
	d->result = result && !strcmp(result, "ok") ? STATE_DEPLOY_OK : STATE_DEPLOY_FAILED;
	*out = d;
	d = NULL;
done:
	state_deploy_free(d);
	json_decref(doc);
	util_buf_release(&path);
	return error;
}

int state_deploy_get(state_deploy **out, state *st, const char *target)
{
	char key[65];
	int error;

	*out = NULL;
	if ((error = deploy_key(key, target)) < 0)
		return error;
	return deploy_load(out, st, key, target);
}

static int deploy_cmp(const void *a, const void *b)
{
	return strcmp((*(state_deploy *const *)a)->target,
		      (*(state_deploy *const *)b)->target);
}

int state_deploy_list(state_deploy ***out, size_t *count, state *st)
{
	state_deploy **list = NULL;
	char **keys = NULL;
	size_t nkeys = 0, n = 0, i;
	int error;

	*out = NULL;
	*count = 0;
	if ((error = st->be->list(&keys, &nkeys, st, STATE__DEPLOY, NULL)) < 0)
		goto done;
	if (nkeys && !(list = calloc(nkeys, sizeof(*list)))) {
		error = state__oom();
		goto done;
	}
	for (i = 0; i < nkeys; i++) {
		if (deploy_load(&list[n], st, keys[i], NULL) < 0) {
			util_buf msg = UTIL_BUF_INIT;

			/* the formatted error names the file, line and column */
			util_error_format(&msg, util_error_last());
			util_log_warn("state", "skipping deployment record: %s", msg.ptr);
			util_buf_release(&msg);
			util_error_clear();
			continue;
		}
		n++;
	}
	if (n)
		qsort(list, n, sizeof(*list), deploy_cmp);
	*out = list;
	*count = n;
	list = NULL;
	n = 0;
done:
	state_deploy_list_free(list, n);
	state__names_free(keys, nkeys);
	return error;
}

void state_deploy_list_free(state_deploy **list, size_t count)
{
	size_t i;

	for (i = 0; i < count; i++)
		state_deploy_free(list[i]);
	free(list);
}

int state_deploy_delete(state *st, const char *target)
{
	char key[65];
	int error;

	if ((error = deploy_key(key, target)) < 0)
		return error;
	return state__record_delete(st, STATE__DEPLOY, key);
}

int state_deploy_put(state *st, const state_deploy *deploy)
{
	json_t *doc = NULL;
	char key[65];
	int error;

	if ((error = deploy_key(key, deploy->target)) < 0)
		return error;
	if (!(doc = json_object()) ||
	    state__json_set_str(doc, "target", deploy->target) < 0 ||
	    state__json_set_str(doc, "certificate", deploy->certificate) < 0 ||
	    state__json_set_str(doc, "fingerprint", deploy->fingerprint) < 0 ||
	    state__json_set_str(doc, "configHash", deploy->config_hash) < 0 ||
	    state__json_set_str(doc, "message", deploy->message) < 0 ||
	    state__json_set_time(doc, "time", deploy->time ? deploy->time : time(NULL)) < 0 ||
	    state__json_set_str(doc, "result",
				deploy->result == STATE_DEPLOY_OK ? "ok" : "failed") < 0 ||
	    (deploy->version > 0 &&
	     json_object_set_new(doc, "version", json_integer(deploy->version)) < 0))
		error = state__oom();
	else
		error = state__record_put(st, STATE__DEPLOY, key, doc);
	json_decref(doc);
	return error;
}

void state_deploy_free(state_deploy *d)
{
	if (!d)
		return;
	free(d->target);
	free(d->certificate);
	free(d->fingerprint);
	free(d->config_hash);
	free(d->message);
	free(d);
}

/* ---- pending orders: one record per certificate name, the CSR key inside ---- */

int state_order_get(state_order **out, state *st, const char *name)
{
	state_order *o = NULL;
	json_t *doc = NULL;
	int error;

	*out = NULL;
	if ((error = state__name_check(name, "certificate")) < 0)
		return error;
	if ((error = st->be->get(&doc, st, STATE__ORDER, name, 0)) < 0) {
		if (error == CERTOPS_ENOTFOUND)
			error = util_error_set(CERTOPS_ENOTFOUND,
				"no pending order for certificate '%s'", name);
		goto done;
	}
	if (!(o = calloc(1, sizeof(*o))) || !(o->name = strdup(name))) {
		error = state__oom();
		goto done;
	}
	o->order_url = state__json_strdup(doc, "orderUrl");
	o->key_pem = state__json_strdup(doc, "key");
	o->declaration_hash = state__json_strdup(doc, "declarationHash");
	o->created = state__json_time(doc, "created");
	*out = o;
	o = NULL;
done:
	state_order_free(o);
	state__doc_free_secret(doc);
	return error;
}

int state_order_put(state *st, const state_order *order)
{
	json_t *doc = NULL;
	int error;

	if ((error = state__name_check(order->name, "certificate")) < 0)
		return error;
	if (!(doc = json_object()) ||
	    state__json_set_str(doc, "name", order->name) < 0 ||
	    state__json_set_str(doc, "orderUrl", order->order_url) < 0 ||
	    state__json_set_str(doc, "key", order->key_pem) < 0 ||
	    state__json_set_str(doc, "declarationHash", order->declaration_hash) < 0 ||
	    state__json_set_time(doc, "created", order->created ? order->created : time(NULL)) < 0)
		error = state__oom();
	else
		error = state__record_put(st, STATE__ORDER, order->name, doc);
	state__doc_free_secret(doc);
	return error;
}

int state_order_delete(state *st, const char *name)
{
	int error;

	if ((error = state__name_check(name, "certificate")) < 0)
		return error;
	return state__record_delete(st, STATE__ORDER, name);
}

void state_order_free(state_order *o)
{
	if (!o)
		return;
	free(o->name);
	free(o->order_url);
	free(o->declaration_hash);
	if (o->key_pem) {
		explicit_bzero(o->key_pem, strlen(o->key_pem));
		free(o->key_pem);
	}
	free(o);
}
