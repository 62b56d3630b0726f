/*
 * The directory backend: where each record lives in the embedded store
 * (docs/state.md, "Layout"), and its reads and writes.  Every file is
 * written atomically (temp file, fsync, rename, fsync of the directory),
 * records 0600 in folders 0700.
 */
#include "state/backend.h"
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

#define CURRENT_FILE "current.json"
#define APPLIED_FILE "source/last-applied"

/*
 * The folder of a record (dir_out) and its file (path_out).  Keys with two
 * components ("a/b") are checked by the record code; here each component
 * must still be one path component.
 */
static int record_path(util_buf *dir_out, util_buf *path_out, state *st,
		       state__kind kind, const char *key)
{
	const char *slash = key ? strchr(key, '/') : NULL;
	util_buf first = UTIL_BUF_INIT;
	int error = 0;

	if (key && (!*key || key[0] == '.' || (slash && (strchr(slash + 1, '/') ||
							 slash[1] == '.' || !slash[1]))))
		return util_error_set(CERTOPS_EINVALID, "bad state record key '%s'", key);
	if (slash)
		util_buf_put(&first, key, (size_t)(slash - key));
	switch (kind) {
	case STATE__ACCOUNT:
		if (!slash)
			goto bad;
		state__path(dir_out, st, "accounts", first.ptr, NULL);
		util_buf_printf(path_out, "%s/%s.json", dir_out->ptr, slash + 1);
		break;
	case STATE__CERT_VERSION:
		if (!slash)
			goto bad;
		state__path(dir_out, st, "certs", first.ptr, slash + 1);
		util_fs_join(path_out, dir_out->ptr, "meta.json");
		break;
	case STATE__CERT_CURRENT:
		if (slash)
			goto bad;
		state__path(dir_out, st, "certs", key, NULL);
		util_fs_join(path_out, dir_out->ptr, CURRENT_FILE);
		break;
	case STATE__DEPLOY:
	case STATE__ORDER:
		if (slash)
			goto bad;
		state__path(dir_out, st, kind == STATE__DEPLOY ? "deployments" : "orders",
			    NULL, NULL);
		util_buf_printf(path_out, "%s/%s.json", dir_out->ptr, key);
		break;
	case STATE__RECONCILE:
	case STATE__BACKOFF:
	case STATE__NOTIFIED:
		state__path(dir_out, st, "reconcile", NULL, NULL);
		util_fs_join(path_out, dir_out->ptr,
			     kind == STATE__RECONCILE ? "status.json" :
			     kind == STATE__BACKOFF ? "backoff.json" : "notified.json");
		break;
	case STATE__APPLIED:
		state__path(dir_out, st, "source", NULL, NULL);
		state__path(path_out, st, APPLIED_FILE, NULL, NULL);
		break;
	default:
		goto bad;
	}
	if (util_buf_failed(dir_out) || util_buf_failed(path_out) || util_buf_failed(&first))
		error = state__oom();
	util_buf_release(&first);
	return error;
bad:
	util_buf_release(&first);
	return util_error_set(CERTOPS_EINVALID, "bad key '%s' for a state record of kind %d",
			      key ? key : "(none)", (int)kind);
}

static void dir_where(util_buf *out, state *st, state__kind kind, const char *key)
{
	util_buf dir = UTIL_BUF_INIT;

	if (record_path(&dir, out, st, kind, key) < 0)
		util_error_clear();
	util_buf_release(&dir);
}

static int is_hex40(const char *s)
{
	return strspn(s, "0123456789abcdef") == 40 && !s[40];
}

/* source/last-applied is text (40 hex and a newline), as format 1 had it. */
static int applied_get(json_t **out, const char *path)
{
	util_buf data = UTIL_BUF_INIT;
	int error;

	if ((error = util_fs_read_file(&data, path, 4096)) < 0)
		goto done;
	if (data.size && data.ptr[data.size - 1] == '\n')
		util_buf_truncate(&data, data.size - 1);
	if (!is_hex40(data.ptr)) {
		error = util_error_set_at(CERTOPS_EINVALID, path, 1, 1, NULL,
					  "not a full commit id");
		goto done;
	}
	if (!(*out = json_pack("{s:s}", "commit", data.ptr)))
		error = state__oom();
done:
	util_buf_release(&data);
	return error;
}

static int read_member(json_t *doc, const char *dir, const char *file,
		       const char *member)
{
	util_buf path = UTIL_BUF_INIT;
	char *text = NULL;
	int error;

	util_fs_join(&path, dir, file);
	if (util_buf_failed(&path))
		error = state__oom();
	else if ((error = state__read_string(&text, path.ptr, STATE__PEM_MAX)) == 0 &&
		 json_object_set_new(doc, member, json_string(text)) < 0)
		error = util_error_set(CERTOPS_EINVALID, "'%s' is not UTF-8 text", path.ptr);
	if (text) {
		explicit_bzero(text, strlen(text));
		free(text);
	}
	util_buf_release(&path);
	return error;
}

static int dir_get(json_t **out, state *st, state__kind kind, const char *key,
		   unsigned parts)
{
	util_buf dir = UTIL_BUF_INIT, path = UTIL_BUF_INIT;
	int error;

	*out = NULL;
	if ((error = record_path(&dir, &path, st, kind, key)) < 0)
		goto done;
	if (kind == STATE__APPLIED) {
		error = applied_get(out, path.ptr);
		goto done;
	}
	if ((error = state__json_load(out, path.ptr)) < 0)
		goto done;
	if (kind == STATE__CERT_VERSION &&
	    (((parts & STATE_CERT_CHAIN) &&
	      (error = read_member(*out, dir.ptr, "chain.pem", "chain")) < 0) ||
	     ((parts & STATE_CERT_KEY) &&
	      (error = read_member(*out, dir.ptr, "key.pem", "key")) < 0))) {
		state__doc_free_secret(*out);
		*out = NULL;
	}
done:
	util_buf_release(&dir);
	util_buf_release(&path);
	return error;
}

/*
 * Writes one file of a version folder being built.  The folder is not
 * visible under its final name yet, so a plain write and fsync suffice:
 * the rename of the whole folder is what makes it appear, complete.
 */
static int write_in(const char *dir, const char *file, const char *data, mode_t mode)
{
	util_buf path = UTIL_BUF_INIT;
	size_t len = strlen(data), off = 0;
	int fd = -1, error = 0;

	util_fs_join(&path, dir, file);
	if (util_buf_failed(&path)) {
		error = state__oom();
		goto done;
	}
	fd = open(path.ptr, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0 || fchmod(fd, mode) < 0) {
		error = util_error_set_errno(CERTOPS_ERROR, "creating '%s'", path.ptr);
		goto done;
	}
	while (off < len) {
		ssize_t n = write(fd, data + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			error = util_error_set_errno(CERTOPS_ERROR, "writing '%s'", path.ptr);
			goto done;
		}
		off += (size_t)n;
	}
	if (fsync(fd) < 0)
		error = util_error_set_errno(CERTOPS_ERROR, "syncing '%s'", path.ptr);
done:
	if (fd >= 0 && close(fd) < 0 && !error)
		error = util_error_set_errno(CERTOPS_ERROR, "closing '%s'", path.ptr);
	util_buf_release(&path);
	return error;
}

/*
 * A certificate version: certs/<name>/<version>/ with key.pem, chain.pem
 * and meta.json (the document without its PEM members), built under a
 * temporary name and renamed into place.
 */
static int put_version(const char *final, json_t *doc)
{
	util_buf tmp = UTIL_BUF_INIT, base = UTIL_BUF_INIT;
	const char *chain = json_string_value(json_object_get(doc, "chain"));
	const char *key = json_string_value(json_object_get(doc, "key"));
	const char *slash = strrchr(final, '/');
	json_t *meta = NULL;
	char *meta_text = NULL;
	int error, tmp_made = 0;

	if (!chain || !key)
		return util_error_set(CERTOPS_EINVALID, "a certificate version needs a chain and a key");
	util_buf_put(&base, final, (size_t)(slash - final));
	util_fs_join(&tmp, base.ptr, STATE__TMP_PREFIX);
	util_buf_printf(&tmp, "%s-%ld", slash + 1, (long)getpid());
	if (!(meta = json_deep_copy(doc)) || json_object_del(meta, "chain") < 0 ||
	    json_object_del(meta, "key") < 0 ||
	    !(meta_text = json_dumps(meta, JSON_INDENT(2) | JSON_SORT_KEYS)) ||
	    util_buf_failed(&tmp) || util_buf_failed(&base)) {
		error = state__oom();
		goto done;
	}
	if ((error = util_fs_mkdir_p(base.ptr, 0700)) < 0)
		goto done;
	if (access(final, F_OK) == 0) {
		error = util_error_set(CERTOPS_EEXISTS, "'%s' exists already", final);
		goto done;
	}
	if ((error = state__remove_tree(tmp.ptr)) < 0)
		goto done;
	if (mkdir(tmp.ptr, 0700) < 0) {
		error = util_error_set_errno(CERTOPS_ERROR, "creating '%s'", tmp.ptr);
		goto done;
	}
	tmp_made = 1;
	if ((error = write_in(tmp.ptr, "key.pem", key, 0600)) < 0 ||
	    (error = write_in(tmp.ptr, "chain.pem", chain, 0600)) < 0 ||
	    (error = write_in(tmp.ptr, "meta.json", meta_text, 0600)) < 0 ||
	    (error = util_fs_fsync_dir(tmp.ptr)) < 0)
		goto done;
	if (rename(tmp.ptr, final) < 0) {
		error = util_error_set_errno(CERTOPS_ERROR, "renaming '%s' to '%s'",
					     tmp.ptr, final);
		goto done;
	}
	tmp_made = 0;
	error = util_fs_fsync_dir(base.ptr);
done:
	if (tmp_made && error < 0) {
		/* keep the first error: the cleanup's own failure matters less */
		char *msg = strdup(util_error_message());

		state__remove_tree(tmp.ptr);
		util_error_set(error, "%s", msg ? msg : "storing certificate failed");
		free(msg);
	}
	free(meta_text);
	json_decref(meta);
	util_buf_release(&tmp);
	util_buf_release(&base);
	return error;
}

static int dir_put(state *st, state__kind kind, const char *key, json_t *doc)
{
	util_buf dir = UTIL_BUF_INIT, path = UTIL_BUF_INIT, text = UTIL_BUF_INIT;
	int error;

	if ((error = record_path(&dir, &path, st, kind, key)) < 0)
		goto done;
	if (kind == STATE__CERT_VERSION) {
		error = put_version(dir.ptr, doc);
		goto done;
	}
	if ((error = util_fs_mkdir_p(dir.ptr, 0700)) < 0)
		goto done;
	if (kind == STATE__APPLIED) {
		const char *c = json_string_value(json_object_get(doc, "commit"));

		if (!c || !is_hex40(c)) {
			error = util_error_set(CERTOPS_EINVALID, "'%s' is not a full commit id",
					       c ? c : "");
			goto done;
		}
		util_buf_printf(&text, "%s\n", c);
		error = util_buf_failed(&text) ? state__oom() :
			util_fs_write_atomic(path.ptr, text.ptr, text.size, 0600);
		goto done;
	}
	error = state__json_write(path.ptr, doc, 0600);
done:
	util_buf_release(&dir);
	util_buf_release(&path);
	util_buf_release(&text);
	return error;
}

static int dir_del(state *st, state__kind kind, const char *key, int *existed)
{
	util_buf dir = UTIL_BUF_INIT, path = UTIL_BUF_INIT;
	int error;

	if (existed)
		*existed = 0;
	if ((error = record_path(&dir, &path, st, kind, key)) < 0)
		goto done;
	if (kind == STATE__CERT_VERSION) {
		if (access(dir.ptr, F_OK) < 0)
			goto done;
		if (existed)
			*existed = 1;
		error = state__remove_tree(dir.ptr);
		goto done;
	}
	if (unlink(path.ptr) < 0) {
		if (errno != ENOENT)
			error = util_error_set_errno(CERTOPS_ERROR, "removing '%s'", path.ptr);
		goto done;
	}
	if (existed)
		*existed = 1;
	/* the last record of a certificate gone (state_cert_delete): its folder goes too */
	if (kind == STATE__CERT_CURRENT && rmdir(dir.ptr) == 0)
		goto done;
	error = util_fs_fsync_dir(dir.ptr);
done:
	util_buf_release(&dir);
	util_buf_release(&path);
	return error;
}

/* Only <hash>.json: temporary files of a write in progress are not. */
static int keep_json(const struct dirent *de)
{
	size_t len = strlen(de->d_name);

	return de->d_name[0] != '.' && len > 5 && !strcmp(de->d_name + len - 5, ".json") &&
	       !strchr(de->d_name, '~');
}

/* Folders with a usable name: current.json and temp folders are not. */
static int keep_folder(const struct dirent *de)
{
	if (de->d_name[0] == '.' || (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN))
		return 0;
	if (state__name_check(de->d_name, "record") < 0) {
		util_error_clear();
		return 0;
	}
	return 1;
}

static int dir_list(char ***out, size_t *count, state *st, state__kind kind,
		    const char *parent)
{
	util_buf dir = UTIL_BUF_INIT;
	size_t i;
	int error;

	*out = NULL;
	*count = 0;
	switch (kind) {
	case STATE__CERT_VERSION:
	case STATE__CERT_CURRENT:
		state__path(&dir, st, "certs", parent, NULL);
		if (util_buf_failed(&dir))
			error = state__oom();
		else
			error = state__list_dir(out, count, dir.ptr, keep_folder);
		break;
	case STATE__DEPLOY:
	case STATE__ORDER:
		state__path(&dir, st, kind == STATE__DEPLOY ? "deployments" : "orders",
			    NULL, NULL);
		if (util_buf_failed(&dir)) {
			error = state__oom();
			break;
		}
		if ((error = state__list_dir(out, count, dir.ptr, keep_json)) < 0)
			break;
		for (i = 0; i < *count; i++)
			(*out)[i][strlen((*out)[i]) - 5] = '\0';
		break;
	default:
		error = util_error_set(CERTOPS_EINVALID, "state records of kind %d are not listed",
				       (int)kind);
	}
	util_buf_release(&dir);
	return error;
}

/* The .tmp-* folders interrupted certificate puts left in certs/<name>/. */
static int dir_sweep(size_t *found, state *st, const char *name, int remove)
{
	util_buf dir = UTIL_BUF_INIT, child = UTIL_BUF_INIT;
	struct dirent *de;
	DIR *d;
	int error = 0;

	*found = 0;
	state__path(&dir, st, "certs", name, NULL);
	if (util_buf_failed(&dir)) {
		error = state__oom();
		goto done;
	}
	if (!(d = opendir(dir.ptr)))
		goto done;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, STATE__TMP_PREFIX, strlen(STATE__TMP_PREFIX)))
			continue;
		if (remove) {
			util_buf_clear(&child);
			util_fs_join(&child, dir.ptr, de->d_name);
			if (util_buf_failed(&child)) {
				error = state__oom();
				break;
			}
			if ((error = state__remove_tree(child.ptr)) < 0)
				break;
		}
		(*found)++;
	}
	closedir(d);
done:
	util_buf_release(&dir);
	util_buf_release(&child);
	return error;
}

static int dir_cache_dir(util_buf *out, state *st, const char *name)
{
	int error;

	if ((error = state__name_check(name, "cache")) < 0)
		return error;
	state__path(out, st, name, NULL, NULL);
	if (util_buf_failed(out))
		return state__oom();
	if ((error = util_fs_mkdir_p(out->ptr, 0700)) < 0)
		return error;
	if (chmod(out->ptr, 0700) < 0)
		return util_error_set_errno(CERTOPS_ERROR, "setting the mode of '%s'", out->ptr);
	return 0;
}

const state__backend state__backend_dir = {
	.name = "dir",
	.open = state__dir_open,
	.close = state__dir_close,
	.get = dir_get,
	.put = dir_put,
	.del = dir_del,
	.list = dir_list,
	.sweep = dir_sweep,
	.where = dir_where,
	.lock = state__dir_lock,
	.unlock = state__dir_unlock,
	.holder = state__dir_holder,
	.serial = state__dir_serial,
	.session_begin = state__dir_session_begin,
	.session_end = state__dir_session_end,
	.format = state__dir_format,
	.format_done = state__dir_format_done,
	.cache_dir = dir_cache_dir,
	.migrations = state__dir_migrations,
};
