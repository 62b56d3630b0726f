/*
 * Small records of the state store: ACME accounts, deployments and pending
 * orders.  Each lives in its own files so that a write touches one record.
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

/* Writes one JSON record (0600) in its folder (0700) as one state change. */
static int record_write(state *st, const char *dir, const char *path, json_t *doc)
{
	state__write w;
	int error;

	if ((error = state__write_begin(st, &w)) < 0)
		return error;
	if ((error = util_fs_mkdir_p(dir, 0700)) == 0)
		error = state__json_write(path, doc, 0600);
	return state__write_end(st, &w, error);
}
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

static int account_path(util_buf *dir_out, util_buf *path_out, state *st,
			const char *issuer, const char *directory_url)
{
	char h[65];
	int error;

	if ((error = state__name_check(issuer, "issuer")) < 0)
		return error;
	if (!directory_url || !*directory_url)
		return util_error_set(CERTOPS_EINVALID, "account of issuer '%s' has no directory URL", issuer);
	if ((error = hash_name(h, directory_url)) < 0)
		return error;
	state__path(dir_out, st, "accounts", issuer, NULL);
	util_fs_join(path_out, dir_out->ptr, h);
	util_buf_puts(path_out, ".json");
	return util_buf_failed(dir_out) || util_buf_failed(path_out) ? state__oom() : 0;
}

int state_account_get(state_account **out, state *st, const char *issuer,
		      const char *directory_url)
{
	util_buf dir = UTIL_BUF_INIT, path = UTIL_BUF_INIT;
	state_account *a = NULL;
	json_t *doc = NULL;
	const char *url;
	int error;

	*out = NULL;
	if ((error = account_path(&dir, &path, st, issuer, directory_url)) < 0)
		goto done;
	error = state__json_load(&doc, path.ptr);
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
	json_decref(doc);
	util_buf_free(&dir);
	util_buf_free(&path);
	return error;
}

int state_account_put(state *st, const state_account *account)
{
	util_buf dir = UTIL_BUF_INIT, path = UTIL_BUF_INIT;
	json_t *doc = NULL;
	int error;

	if (!account->key_pem || !*account->key_pem)
		return util_error_set(CERTOPS_EINVALID, "account of issuer '%s' has no key",
				      account->issuer ? account->issuer : "");
	if ((error = account_path(&dir, &path, st, account->issuer, account->directory_url)) < 0)
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
	error = record_write(st, dir.ptr, path.ptr, doc);
out:
	json_decref(doc);
	util_buf_free(&dir);
	util_buf_free(&path);
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

/* ---- deployments: deployments/<hash of target>.json ---- */

static int deploy_path(util_buf *out, state *st, const char *target)
{
	char h[65 + 5];
	int error;

	if (!target || !*target)
		return util_error_set(CERTOPS_EINVALID, "deployment without a target identity");
	if ((error = hash_name(h, target)) < 0)
		return error;
	memcpy(h + HASH_NAME_LEN, ".json", 6);
	state__path(out, st, "deployments", h, NULL);
	return util_buf_failed(out) ? state__oom() : 0;
}

/* Loads one record file; target (may be NULL) must match when given. */
static int deploy_load(state_deploy **out, const char *path, const char *target)
{
	state_deploy *d = NULL;
	json_t *doc = NULL;
	const char *s, *result;
	int error;

	*out = NULL;
	if ((error = state__json_load(&doc, path)) < 0) {
		if (error == CERTOPS_ENOTFOUND && target)
			error = util_error_set(CERTOPS_ENOTFOUND,
				"nothing recorded as deployed to '%s'", target);
		goto done;
	}
	s = json_string_value(json_object_get(doc, "target"));
	if (!s || (target && strcmp(s, target))) {
		error = util_error_set(CERTOPS_EINVALID, "'%s' is for another target", path);
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
	return error;
}

int state_deploy_get(state_deploy **out, state *st, const char *target)
{
	util_buf path = UTIL_BUF_INIT;
	int error;

	*out = NULL;
	if ((error = deploy_path(&path, st, target)) == 0)
		error = deploy_load(out, path.ptr, target);
	util_buf_free(&path);
	return error;
}

static int deploy_cmp(const void *a, const void *b)
{
	return strcmp((*(state_deploy *const *)a)->target,
		      (*(state_deploy *const *)b)->target);
}

/* Only <hash>.json: temporary files of a write in progress are not. */
static int keep_deploy_record(const struct dirent *de)
{
	size_t len = strlen(de->d_name);

	return len == HASH_NAME_LEN + 5 && !strcmp(de->d_name + HASH_NAME_LEN, ".json");
}

int state_deploy_list(state_deploy ***out, size_t *count, state *st)
{
	util_buf dir = UTIL_BUF_INIT, path = UTIL_BUF_INIT;
	state_deploy **list = NULL;
	char **names = NULL;
	size_t nnames = 0, n = 0, i;
	int error;

	*out = NULL;
	*count = 0;
	state__path(&dir, st, "deployments", NULL, NULL);
	if (util_buf_failed(&dir)) {
		error = state__oom();
		goto done;
	}
	if ((error = state__list_dir(&names, &nnames, dir.ptr, keep_deploy_record)) < 0)
		goto done;
	if (nnames && !(list = calloc(nnames, sizeof(*list)))) {
		error = state__oom();
		goto done;
	}
	for (i = 0; i < nnames; i++) {
		util_buf_clear(&path);
		util_fs_join(&path, dir.ptr, names[i]);
		if (util_buf_failed(&path)) {
			error = state__oom();
			goto done;
		}
		if (deploy_load(&list[n], path.ptr, NULL) < 0) {
			util_buf msg = UTIL_BUF_INIT;

			/* the formatted error names the file, line and column */
			util_error_format(&msg, util_error_last());
			util_log_warn("state", "skipping deployment record: %s", msg.ptr);
			util_buf_free(&msg);
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
	state__names_free(names, nnames);
	util_buf_free(&dir);
	util_buf_free(&path);
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
	util_buf path = UTIL_BUF_INIT;
	state__write w;
	int error;

	if ((error = deploy_path(&path, st, target)) < 0)
		goto out;
	if (access(path.ptr, F_OK) < 0)
		goto out; /* nothing recorded: nothing changes */
	if ((error = state__write_begin(st, &w)) < 0)
		goto out;
	if (unlink(path.ptr) < 0 && errno != ENOENT)
		error = util_error_set_errno(CERTOPS_ERROR, "removing '%s'", path.ptr);
	error = state__write_end(st, &w, error);
out:
	util_buf_free(&path);
	return error;
}

int state_deploy_put(state *st, const state_deploy *deploy)
{
	util_buf path = UTIL_BUF_INIT, dir = UTIL_BUF_INIT;
	json_t *doc = NULL;
	int error;

	if ((error = deploy_path(&path, st, deploy->target)) < 0)
		goto out;
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
	     json_object_set_new(doc, "version", json_integer(deploy->version)) < 0)) {
		error = state__oom();
		goto out;
	}
	state__path(&dir, st, "deployments", NULL, NULL);
	if (util_buf_failed(&dir)) {
		error = state__oom();
		goto out;
	}
	error = record_write(st, dir.ptr, path.ptr, doc);
out:
	json_decref(doc);
	util_buf_free(&path);
	util_buf_free(&dir);
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

/* ---- pending orders: orders/<name>.json, the CSR key inside (0600) ---- */

static int order_path(util_buf *dir_out, util_buf *path_out, state *st, const char *name)
{
	int error;

	if ((error = state__name_check(name, "certificate")) < 0)
		return error;
	state__path(dir_out, st, "orders", NULL, NULL);
	state__path(path_out, st, "orders", name, NULL);
	util_buf_puts(path_out, ".json");
	return util_buf_failed(dir_out) || util_buf_failed(path_out) ? state__oom() : 0;
}

int state_order_get(state_order **out, state *st, const char *name)
{
	util_buf dir = UTIL_BUF_INIT, path = UTIL_BUF_INIT;
	state_order *o = NULL;
	json_t *doc = NULL;
	int error;

	*out = NULL;
	if ((error = order_path(&dir, &path, st, name)) < 0)
		goto done;
	if ((error = state__json_load(&doc, path.ptr)) < 0) {
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
	json_decref(doc);
	util_buf_free(&dir);
	util_buf_free(&path);
	return error;
}

int state_order_put(state *st, const state_order *order)
{
	util_buf dir = UTIL_BUF_INIT, path = UTIL_BUF_INIT;
	json_t *doc = NULL;
	int error;

	if ((error = order_path(&dir, &path, st, order->name)) < 0)
		goto out;
	if (!(doc = json_object()) ||
	    state__json_set_str(doc, "name", order->name) < 0 ||
	    state__json_set_str(doc, "orderUrl", order->order_url) < 0 ||
	    state__json_set_str(doc, "key", order->key_pem) < 0 ||
	    state__json_set_str(doc, "declarationHash", order->declaration_hash) < 0 ||
	    state__json_set_time(doc, "created", order->created ? order->created : time(NULL)) < 0) {
		error = state__oom();
		goto out;
	}
	error = record_write(st, dir.ptr, path.ptr, doc);
out:
	json_decref(doc);
	util_buf_free(&dir);
	util_buf_free(&path);
	return error;
}

int state_order_delete(state *st, const char *name)
{
	util_buf dir = UTIL_BUF_INIT, path = UTIL_BUF_INIT;
	state__write w;
	int error;

	if ((error = order_path(&dir, &path, st, name)) < 0)
		goto out;
	if (access(path.ptr, F_OK) < 0)
		goto out; /* nothing pending: nothing changes, no serial change */
	if ((error = state__write_begin(st, &w)) < 0)
		goto out;
	if (unlink(path.ptr) < 0 && errno != ENOENT)
		error = util_error_set_errno(CERTOPS_ERROR, "removing '%s'", path.ptr);
	else
		error = util_fs_fsync_dir(dir.ptr);
	error = state__write_end(st, &w, error);
out:
	util_buf_free(&dir);
	util_buf_free(&path);
	return error;
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
