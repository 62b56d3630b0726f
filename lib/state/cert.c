/*
 * Certificates in the state store: every issued version is one record
 * (STATE__CERT_VERSION: meta, chain and key) and the CERT_CURRENT record
 * is a copy of the meta of the version in use (one record to read per
 * certificate when planning).  A version is stored complete before current
 * is flipped, so readers never see half a certificate.  In a directory
 * store: certs/<name>/<version>/{chain.pem,key.pem,meta.json} and
 * certs/<name>/current.json (backend_dir.c).
 */
#include "state/internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/error.h"
#include "util/fs.h"
#include "util/log.h"


void state_cert_meta_clear(state_cert_meta *m)
{
	size_t i;

	free(m->name);
	free(m->version);
	for (i = 0; i < m->nsans; i++)
		free(m->sans[i]);
	free(m->sans);
	free(m->serial);
	free(m->issuer);
	free(m->key_spec);
	free(m->fingerprint);
	free(m->order_url);
	free(m->declaration_hash);
	memset(m, 0, sizeof(*m));
}

void state_cert_meta_array_free(state_cert_meta *metas, size_t count)
{
	size_t i;

	for (i = 0; i < count; i++)
		state_cert_meta_clear(&metas[i]);
	free(metas);
}

void state_cert_free(state_cert *c)
{
	if (!c)
		return;
	state_cert_meta_clear(&c->meta);
	free(c->chain_pem);
	if (c->key_pem) {
		explicit_bzero(c->key_pem, strlen(c->key_pem));
		free(c->key_pem);
	}
	free(c);
}

static json_t *meta_to_json(const state_cert_meta *m, const char *version,
			    time_t issued_at)
{
	json_t *doc = json_object(), *sans = json_array();
	size_t i;

	if (!doc || !sans)
		goto fail;
	for (i = 0; i < m->nsans; i++)
		if (json_array_append_new(sans, json_string(m->sans[i])) < 0)
			goto fail;
	if (json_object_set_new(doc, "sans", sans) < 0) {
		sans = NULL;
		goto fail;
	}
	sans = NULL;
	if (state__json_set_str(doc, "name", m->name) < 0 ||
	    state__json_set_str(doc, "version", version) < 0 ||
	    state__json_set_time(doc, "notBefore", m->not_before) < 0 ||
	    state__json_set_time(doc, "notAfter", m->not_after) < 0 ||
	    state__json_set_str(doc, "serial", m->serial) < 0 ||
	    state__json_set_str(doc, "issuer", m->issuer) < 0 ||
	    state__json_set_str(doc, "keySpec", m->key_spec) < 0 ||
	    state__json_set_str(doc, "fingerprint", m->fingerprint) < 0 ||
	    state__json_set_str(doc, "orderUrl", m->order_url) < 0 ||
	    state__json_set_str(doc, "declarationHash", m->declaration_hash) < 0 ||
	    state__json_set_time(doc, "issuedAt", issued_at) < 0)
		goto fail;
	return doc;
fail:
	json_decref(sans);
	json_decref(doc);
	return NULL;
}

static int meta_from_json(state_cert_meta *m, json_t *doc, const char *path)
{
	json_t *sans = json_object_get(doc, "sans"), *v;
	size_t i;

	memset(m, 0, sizeof(*m));
	if (!json_is_string(json_object_get(doc, "name")) ||
	    !json_is_string(json_object_get(doc, "version")))
		return util_error_set_at(CERTOPS_EINVALID, path, 0, 0, "name",
					 "meta.json lacks name or version");
	if (sans && !json_is_array(sans))
		return util_error_set_at(CERTOPS_EINVALID, path, 0, 0, "sans",
					 "expected an array of strings");
	if (sans && json_array_size(sans)) {
		if (!(m->sans = calloc(json_array_size(sans), sizeof(char *))))
			return state__oom();
		json_array_foreach(sans, i, v) {
			if (!json_is_string(v))
				return util_error_set_at(CERTOPS_EINVALID, path, 0, 0,
							 "sans", "expected strings");
			if (!(m->sans[m->nsans] = strdup(json_string_value(v))))
				return state__oom();
			m->nsans++;
		}
	}
	m->name = state__json_strdup(doc, "name");
	m->version = state__json_strdup(doc, "version");
	m->serial = state__json_strdup(doc, "serial");
	m->issuer = state__json_strdup(doc, "issuer");
	m->key_spec = state__json_strdup(doc, "keySpec");
	m->fingerprint = state__json_strdup(doc, "fingerprint");
	m->order_url = state__json_strdup(doc, "orderUrl");
	m->declaration_hash = state__json_strdup(doc, "declarationHash");
	m->not_before = state__json_time(doc, "notBefore");
	m->not_after = state__json_time(doc, "notAfter");
	m->issued_at = state__json_time(doc, "issuedAt");
	if (!m->name || !m->version)
		return state__oom();
	return 0;
}

static int version_key(util_buf *out, const char *name, const char *version)
{
	int error;

	if ((error = state__name_check(version, "version")) < 0)
		return error;
	util_buf_printf(out, "%s/%s", name, version);
	return util_buf_failed(out) ? state__oom() : 0;
}

/* Takes a PEM member of a version document (a copy). */
static int take_pem(char **out, json_t *doc, const char *member)
{
	const char *s = json_string_value(json_object_get(doc, member));

	return s && !(*out = strdup(s)) ? state__oom() : 0;
}

/* Loads version of name with what flags asks for. */
static int load_version(state_cert **out, state *st, const char *name,
			const char *version, unsigned flags)
{
	util_buf key = UTIL_BUF_INIT, where = UTIL_BUF_INIT;
	state_cert *c = NULL;
	json_t *doc = NULL;
	int error;

	*out = NULL;
	if ((error = version_key(&key, name, version)) < 0)
		goto done;
	flags &= STATE_CERT_CHAIN | STATE_CERT_KEY;
	if ((error = st->be->get(&doc, st, STATE__CERT_VERSION, key.ptr, flags)) < 0) {
		if (error == CERTOPS_ENOTFOUND)
			error = util_error_set(CERTOPS_ENOTFOUND,
				"certificate '%s' has no version '%s'", name, version);
		goto done;
	}
	if (!(c = calloc(1, sizeof(*c)))) {
		error = state__oom();
		goto done;
	}
	st->be->where(&where, st, STATE__CERT_VERSION, key.ptr);
	if ((error = meta_from_json(&c->meta, doc, where.ptr ? where.ptr : key.ptr)) < 0 ||
	    (error = take_pem(&c->chain_pem, doc, "chain")) < 0 ||
	    (error = take_pem(&c->key_pem, doc, "key")) < 0)
		goto done;
	*out = c;
	c = NULL;
done:
	state_cert_free(c);
	state__doc_free_secret(doc);
	util_buf_release(&key);
	util_buf_release(&where);
	return error;
}

/* Loads the meta of the current version (the CERT_CURRENT record). */
static int read_current_meta(state_cert_meta *out, state *st, const char *name)
{
	util_buf where = UTIL_BUF_INIT;
	json_t *doc = NULL;
	int error;

	memset(out, 0, sizeof(*out));
	if ((error = st->be->get(&doc, st, STATE__CERT_CURRENT, name, 0)) < 0) {
		if (error == CERTOPS_ENOTFOUND)
			error = util_error_set(CERTOPS_ENOTFOUND,
				"no current certificate '%s' in the state", name);
		goto done;
	}
	st->be->where(&where, st, STATE__CERT_CURRENT, name);
	if ((error = meta_from_json(out, doc, where.ptr ? where.ptr : name)) < 0 ||
	    (error = state__name_check(out->version, "version")) < 0) {
		state_cert_meta_clear(out);
		error = error == CERTOPS_ENOMEM ? error
			: util_error_wrap("'%s'", where.ptr ? where.ptr : name);
	}
done:
	json_decref(doc);
	util_buf_release(&where);
	return error;
}

int state__cert_current_version(char **out, state *st, const char *name)
{
	state_cert_meta m;
	int error;

	*out = NULL;
	if ((error = read_current_meta(&m, st, name)) < 0)
		return error;
	*out = m.version;
	m.version = NULL;
	state_cert_meta_clear(&m);
	return 0;
}

int state_cert_get(state_cert **out, state *st, const char *name,
		   const char *version, unsigned flags)
{
	int error;

	*out = NULL;
	if ((error = state__name_check(name, "certificate")) < 0)
		return error;
	return load_version(out, st, name, version, flags);
}

int state_cert_current(state_cert **out, state *st, const char *name,
		       unsigned flags)
{
	state_cert *c = NULL;
	int error;

	*out = NULL;
	if ((error = state__name_check(name, "certificate")) < 0)
		return error;
	if (!(c = calloc(1, sizeof(*c))))
		return state__oom();
	if ((error = read_current_meta(&c->meta, st, name)) < 0)
		goto done;
	if (flags & (STATE_CERT_CHAIN | STATE_CERT_KEY)) {
		state_cert *full = NULL;

		error = load_version(&full, st, name, c->meta.version, flags);
		if (error == CERTOPS_ENOTFOUND)
			error = util_error_set(CERTOPS_EINVALID,
				"certificate '%s': current names version '%s', which is missing",
				name, c->meta.version);
		if (error < 0)
			goto done;
		state_cert_free(c);
		c = full;
	}
	*out = c;
	c = NULL;
done:
	state_cert_free(c);
	return error;
}

static int meta_cmp(const void *a, const void *b)
{
	const state_cert_meta *x = a, *y = b;

	return strcmp(x->version, y->version);
}

int state_cert_versions(state_cert_meta **out, size_t *count, state *st,
			const char *name)
{
	state_cert_meta *list = NULL;
	char **names = NULL;
	size_t nnames = 0, n = 0, i;
	int error;

	*out = NULL;
	*count = 0;
	if ((error = state__name_check(name, "certificate")) < 0)
		return error;
	if ((error = st->be->list(&names, &nnames, st, STATE__CERT_VERSION, name)) < 0)
		goto done;
	if (nnames && !(list = calloc(nnames, sizeof(*list)))) {
		error = state__oom();
		goto done;
	}
	for (i = 0; i < nnames; i++) {
		state_cert *c = NULL;

		if (load_version(&c, st, name, names[i], 0) < 0) {
			/* one bad folder must not hide the others; say so */
			util_buf msg = UTIL_BUF_INIT;

			util_error_format(&msg, util_error_last());
			util_log_warn("state", "skipping certificate '%s' version '%s': %s",
				      name, names[i], msg.ptr);
			util_buf_release(&msg);
			util_error_clear();
			continue;
		}
		list[n++] = c->meta;
		memset(&c->meta, 0, sizeof(c->meta));
		state_cert_free(c);
	}
	if (n)
		qsort(list, n, sizeof(*list), meta_cmp);
	*out = list;
	*count = n;
	list = NULL;
	n = 0;
done:
	state_cert_meta_array_free(list, n);
	state__names_free(names, nnames);
	return error;
}

int state_cert_names(char ***out, size_t *count, state *st)
{
	return st->be->list(out, count, st, STATE__CERT_VERSION, NULL);
}

/* Makes version current: its meta becomes the CERT_CURRENT record. */
static int flip_current(state *st, const char *name, const char *version)
{
	util_buf key = UTIL_BUF_INIT;
	json_t *doc = NULL;
	int error;

	if ((error = version_key(&key, name, version)) == 0 &&
	    (error = st->be->get(&doc, st, STATE__CERT_VERSION, key.ptr, 0)) == 0)
		error = st->be->put(st, STATE__CERT_CURRENT, name, doc);
	json_decref(doc);
	util_buf_release(&key);
	return error;
}

/*
 * The version id: issue time (sortable) and the first 8 hex digits of the
 * fingerprint, whatever its spelling ("AB:CD:...", "sha256:abcd..."); a
 * hash of the chain when there is no usable fingerprint.
 */
static int make_version(util_buf *out, const state_cert *cert, time_t issued)
{
	static const char hex[] = "0123456789abcdef";
	const char *f = cert->meta.fingerprint;
	char fp[65];
	size_t n = 0;
	struct tm tm;
	int error;

	if (f && !strncmp(f, "sha256:", 7))
		f += 7;
	for (; f && *f && n < 8; f++) {
		const char *h = strchr(hex, *f >= 'A' && *f <= 'F' ? *f - 'A' + 'a' : *f);
		if (h && *f)
			fp[n++] = *h;
	}
	if (n < 8 && (error = state__sha256_hex(fp, cert->chain_pem, strlen(cert->chain_pem))) < 0)
		return error;
	fp[8] = '\0';
	if (!gmtime_r(&issued, &tm) || tm.tm_year + 1900 > 9999 || tm.tm_year + 1900 < 1970)
		return util_error_set(CERTOPS_EINVALID, "issue time out of range");
	util_buf_printf(out, "%04d%02d%02dT%02d%02d%02dZ-%s", tm.tm_year + 1900,
			tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, fp);
	return util_buf_failed(out) ? state__oom() : 0;
}

/* Finds an existing version with the same fingerprint; *out malloc'd. */
static int find_fingerprint(char **out, state *st, const char *name, const char *fp)
{
	state_cert_meta *list = NULL;
	size_t n = 0, i;
	int error;

	*out = NULL;
	if (!fp)
		return 0;
	if ((error = state_cert_versions(&list, &n, st, name)) < 0)
		return error;
	for (i = 0; i < n; i++) {
		if (list[i].fingerprint && !strcmp(list[i].fingerprint, fp)) {
			if (!(*out = strdup(list[i].version)))
				error = state__oom();
			break;
		}
	}
	state_cert_meta_array_free(list, n);
	return error;
}

/*
 * Stores the version (meta and PEM members in one document: the backend
 * makes it appear complete or not at all); the caller holds the write and
 * the name lock.
 */
static int put_version(state *st, const state_cert *cert, const char *version,
		       json_t *doc)
{
	util_buf key = UTIL_BUF_INIT;
	int error;

	if ((error = version_key(&key, cert->meta.name, version)) < 0)
		goto done;
	if (json_object_set_new(doc, "chain", json_string(cert->chain_pem)) < 0 ||
	    json_object_set_new(doc, "key", json_string(cert->key_pem)) < 0) {
		error = util_error_set(CERTOPS_EINVALID,
			"certificate '%s': the chain and key must be UTF-8 text", cert->meta.name);
		goto done;
	}
	error = st->be->put(st, STATE__CERT_VERSION, key.ptr, doc);
	if (error == CERTOPS_EEXISTS)
		error = util_error_set(CERTOPS_EEXISTS,
			"certificate '%s' already has a version '%s'", cert->meta.name, version);
done:
	util_buf_release(&key);
	return error;
}

int state_cert_put(state *st, const state_cert *cert, char **version_out)
{
	util_buf version = UTIL_BUF_INIT;
	const char *name = cert->meta.name;
	time_t issued = cert->meta.issued_at ? cert->meta.issued_at : time(NULL);
	char *existing = NULL;
	json_t *doc = NULL;
	state__write w;
	int error;

	if (version_out)
		*version_out = NULL;
	if ((error = state__name_check(name, "certificate")) < 0)
		return error;
	if (!cert->chain_pem || !*cert->chain_pem || !cert->key_pem || !*cert->key_pem)
		return util_error_set(CERTOPS_EINVALID,
			"certificate '%s' needs both a chain and a key to be stored", name);
	if ((error = make_version(&version, cert, issued)) < 0)
		goto out;
	if (!(doc = meta_to_json(&cert->meta, version.ptr, issued))) {
		error = state__oom();
		goto out;
	}

	state__name_lock(st, name);
	if ((error = state__write_begin(st, &w)) < 0) {
		state__name_unlock(st, name);
		goto out;
	}
	/* the same certificate again (a resumed apply): only make it current */
	if ((error = find_fingerprint(&existing, st, name, cert->meta.fingerprint)) < 0)
		goto done;
	if (!existing && (error = put_version(st, cert, version.ptr, doc)) < 0)
		goto done;
	/* from here a failure still leaves a new (not current) version */
	w.partial = !existing;
	if ((error = flip_current(st, name, existing ? existing : version.ptr)) < 0)
		goto done;
	if (version_out) {
		*version_out = existing ? existing : util_buf_detach(&version);
		existing = NULL;
		if (!*version_out)
			error = state__oom();
	}
done:
	error = state__write_end(st, &w, error);
	state__name_unlock(st, name);
out:
	free(existing);
	state__doc_free_secret(doc);
	util_buf_release(&version);
	return error;
}

int state_cert_set_current(state *st, const char *name, const char *version)
{
	state_cert *c = NULL;
	state__write w;
	int error;

	if ((error = state_cert_get(&c, st, name, version, 0)) < 0)
		return error;
	state_cert_free(c);
	state__name_lock(st, name);
	if ((error = state__write_begin(st, &w)) == 0) {
		error = flip_current(st, name, version);
		error = state__write_end(st, &w, error);
	}
	state__name_unlock(st, name);
	return error;
}
