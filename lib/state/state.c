/*
 * The state store: opening, the format file and its migrations, the serial,
 * and small helpers shared by the other files of the module.
 */
#include "state/internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/crypto.h"
#include "util/duration.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/log.h"

/* How long a write made without state_lock waits for the lock. */
#define WRITE_LOCK_WAIT_MS 2000

/*
 * Migrations: each backend has a table (state__backend.migrations) whose
 * entries upgrade a store from format `from` to from + 1, under the lock,
 * before the new format is recorded (docs/state.md, "Formats and
 * migrations").  Tests may replace it: NULL here means the backend's own.
 */
static const state__migration *migrations;

void state__set_migrations(const state__migration *table)
{
	migrations = table;
}

int state_default_dir(util_buf *out, const char *flag_dir)
{
	const char *env;

	if (flag_dir && *flag_dir) {
		util_buf_puts(out, flag_dir);
		goto done;
	}
	env = getenv("CERTOPS_STATE");
	if (env && *env) {
		util_buf_puts(out, env);
		goto done;
	}
	/* The XDG spec says relative values are invalid and must be ignored. */
	env = getenv("XDG_STATE_HOME");
	if (env && env[0] == '/') {
		util_fs_join(out, env, "certops");
		goto done;
	}
	if (geteuid() == 0) {
		util_buf_puts(out, "/var/lib/certops");
		goto done;
	}
	env = getenv("HOME");
	if (!env || env[0] != '/')
		return util_error_set(CERTOPS_EINVALID,
			"no state directory: give --state, or set CERTOPS_STATE or HOME");
	util_fs_join(out, env, ".local/state/certops");
done:
	return util_buf_failed(out) ? util_error_oom() : 0;
}

int state__name_check(const char *name, const char *what)
{
	size_t i, len = name ? strlen(name) : 0;

	if (len == 0 || len > 200)
		return util_error_set(CERTOPS_EINVALID,
			"%s name must have 1 to 200 characters", what);
	if (name[0] == '.' || name[0] == '-')
		return util_error_set(CERTOPS_EINVALID,
			"%s name '%s' must not start with '.' or '-'", what, name);
	for (i = 0; i < len; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'))
			return util_error_set(CERTOPS_EINVALID,
				"%s name '%s' may hold only letters, digits, '.', '-' and '_'",
				what, name);
	}
	return 0;
}

int state__sha256_hex(char out[65], const void *data, size_t len)
{
	return crypto_sha256_hex(out, data, len);
}

void state__path(util_buf *out, const state *st, const char *a, const char *b,
		 const char *c)
{
	util_buf_puts(out, st->dir);
	if (a) {
		util_buf_putc(out, '/');
		util_buf_puts(out, a);
	}
	if (a && b) {
		util_buf_putc(out, '/');
		util_buf_puts(out, b);
	}
	if (a && b && c) {
		util_buf_putc(out, '/');
		util_buf_puts(out, c);
	}
}

int state__read_string(char **out, const char *path, size_t max)
{
	util_buf b = UTIL_BUF_INIT;
	int error;

	*out = NULL;
	if ((error = util_fs_read_file(&b, path, max)) < 0) {
		util_buf_release(&b);
		return error;
	}
	if (!(*out = util_buf_detach(&b)))
		return util_error_oom();
	return 0;
}

int state__json_load(json_t **out, const char *path)
{
	util_buf b = UTIL_BUF_INIT;
	json_error_t jerr;
	int error;

	*out = NULL;
	if ((error = util_fs_read_file(&b, path, STATE__JSON_MAX)) < 0)
		goto done;
	*out = json_loadb(b.ptr, b.size, JSON_REJECT_DUPLICATES, &jerr);
	if (!*out) {
		/*
		 * jansson quotes the text near the error ("near '...'"): in a
		 * record that holds a private key that could be part of the key,
		 * so the quote is cut; line and column say where to look.
		 */
		char *near = strstr(jerr.text, " near ");

		if (near)
			*near = '\0';
		error = util_error_set_at(CERTOPS_EINVALID, path, (unsigned)jerr.line,
					  (unsigned)jerr.column, NULL, "%s", jerr.text);
		goto done;
	}
	if (!json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		error = util_error_set_at(CERTOPS_EINVALID, path, 1, 1, NULL,
					  "expected a JSON object");
	}
done:
	util_buf_release(&b);
	return error;
}

int state__json_write(const char *path, json_t *doc, mode_t mode)
{
	char *text = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS);
	util_buf b = UTIL_BUF_INIT;
	int error;

	if (!text)
		return util_error_set(CERTOPS_ENOMEM, "out of memory encoding '%s'", path);
	util_buf_puts(&b, text);
	util_buf_putc(&b, '\n');
	free(text);
	if (util_buf_failed(&b))
		error = util_error_oom();
	else
		error = util_fs_write_atomic(path, b.ptr, b.size, mode);
	util_buf_release(&b);
	return error;
}

char *state__json_strdup(json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s ? strdup(s) : NULL;
}

time_t state__json_time(json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));
	time_t t = 0;

	if (!s || util_time_parse(&t, s, 0) < 0) {
		util_error_clear();
		return 0;
	}
	return t;
}

int state__json_set_time(json_t *obj, const char *key, time_t t)
{
	util_buf b = UTIL_BUF_INIT;
	int error = 0;

	if (!t)
		return 0;
	util_time_format(&b, t);
	if (util_buf_failed(&b) || json_object_set_new(obj, key, json_string(b.ptr)) < 0)
		error = -1;
	util_buf_release(&b);
	return error;
}

int state__json_set_str(json_t *obj, const char *key, const char *s)
{
	if (!s)
		return 0;
	return json_object_set_new(obj, key, json_string(s)) < 0 ? -1 : 0;
}

int state__remove_tree(const char *path)
{
	util_buf child = UTIL_BUF_INIT;
	struct dirent *de;
	DIR *d;
	int error = 0;

	d = opendir(path);
	if (!d) {
		if (errno == ENOENT)
			return 0;
		return util_error_set_errno(CERTOPS_ERROR, "opening '%s'", path);
	}
	while ((de = readdir(d))) {
		struct stat sb;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		util_buf_clear(&child);
		util_fs_join(&child, path, de->d_name);
		if (util_buf_failed(&child)) {
			error = util_error_oom();
			break;
		}
		if (lstat(child.ptr, &sb) < 0)
			continue;
		if (S_ISDIR(sb.st_mode))
			error = state__remove_tree(child.ptr);
		else if (unlink(child.ptr) < 0 && errno != ENOENT)
			error = util_error_set_errno(CERTOPS_ERROR, "removing '%s'", child.ptr);
		if (error < 0)
			break;
	}
	closedir(d);
	if (!error && rmdir(path) < 0 && errno != ENOENT)
		error = util_error_set_errno(CERTOPS_ERROR, "removing '%s'", path);
	util_buf_release(&child);
	return error;
}

static int migrate(state *st, int64_t from)
{
	const state__migration *table = migrations ? migrations : st->be->migrations;
	int64_t v;
	int error;

	if ((error = state_lock(st, 0)) < 0)
		return util_error_wrap("migrating state directory '%s'", st->dir);
	/* re-read under the lock: another process may have migrated already */
	if ((error = st->be->format(&from, st)) < 0)
		goto done;
	for (v = from; v < STATE_FORMAT_VERSION; v++) {
		size_t i;

		for (i = 0; table[i].fn; i++)
			if (table[i].from == v)
				break;
		if (!table[i].fn) {
			error = util_error_set(CERTOPS_EINVALID,
				"state directory '%s' has format %lld, which this certops "
				"cannot migrate", st->dir, (long long)from);
			goto done;
		}
		st->migrating = 1;
		error = table[i].fn(st);
		st->migrating = 0;
		if (error < 0) {
			error = util_error_wrap("migrating '%s' from format %lld",
						st->dir, (long long)v);
			goto done;
		}
	}
	error = st->be->format_done(st);
done:
	state_unlock(st);
	return error;
}

/*
 * The backend of a location.  Today every location is a directory; a
 * PostgreSQL backend will claim "postgres://" and "postgresql://" here
 * (state__backend_postgres, built when libpq is found), and nothing
 * above lib/state changes.
 */
static const state__backend *backend_for(const char *location)
{
	(void)location;
	return &state__backend_dir;
}

int state_open(state **out, const char *dir, unsigned flags)
{
	state *st = NULL;
	int64_t format = 0;
	int error;
	size_t i;

	*out = NULL;
	if (!dir || !*dir)
		return util_error_set(CERTOPS_EINVALID, "no state directory given");
	if (!(st = calloc(1, sizeof(*st))) || !(st->dir = strdup(dir))) {
		free(st);
		return util_error_oom();
	}
	st->be = backend_for(dir);
	st->lock_fd = -1;
	pthread_mutex_init(&st->mu, NULL);
	for (i = 0; i < STATE__NAME_LOCKS; i++)
		pthread_mutex_init(&st->name_mu[i], NULL);
	if ((error = st->be->open(st, dir, flags, &format)) < 0)
		goto done;
	if (format > STATE_FORMAT_VERSION) {
		error = util_error_set(CERTOPS_EINVALID,
			"state directory '%s' has format %lld, newer than this certops "
			"understands (%d); upgrade certops", dir, (long long)format,
			STATE_FORMAT_VERSION);
		goto done;
	}
	if (format < STATE_FORMAT_VERSION && (error = migrate(st, format)) < 0)
		goto done;
	*out = st;
	st = NULL;
done:
	state_free(st);
	return error;
}

void state_free(state *st)
{
	size_t i;

	if (!st)
		return;
	state_unlock(st);
	st->be->close(st);
	pthread_mutex_destroy(&st->mu);
	for (i = 0; i < STATE__NAME_LOCKS; i++)
		pthread_mutex_destroy(&st->name_mu[i]);
	free(st->command);
	free(st->dir);
	free(st);
}

const char *state_path(const state *st)
{
	return st->dir;
}

int state_serial(uint64_t *out, state *st)
{
	int error;

	pthread_mutex_lock(&st->mu);
	error = st->be->serial(out, st);
	pthread_mutex_unlock(&st->mu);
	return error;
}

int state__write_begin(state *st, state__write *w)
{
	int error;

	w->took_lock = 0;
	w->unchanged = 0;
	w->partial = 0;
	pthread_mutex_lock(&st->mu);
	if (!st->locked) {
		if ((error = state__lock_locked(st, WRITE_LOCK_WAIT_MS)) < 0)
			goto fail;
		w->took_lock = 1;
	}
	if ((error = st->be->session_begin(st)) < 0)
		goto fail;
	/*
	 * Inside a session held by state_lock, the data writes of several
	 * threads run in parallel (they touch different files); a one-write
	 * session keeps the mutex to the end, as it owns the lock alone.
	 */
	if (!w->took_lock)
		pthread_mutex_unlock(&st->mu);
	return 0;
fail:
	if (w->took_lock)
		state__unlock_locked(st);
	w->took_lock = 0;
	pthread_mutex_unlock(&st->mu);
	return error;
}

int state__write_end(state *st, state__write *w, int error)
{
	int e2;

	if (!w->took_lock)
		pthread_mutex_lock(&st->mu);
	if ((error == 0 && !w->unchanged) || (error < 0 && w->partial))
		st->changes++;
	if (w->took_lock && (e2 = state__unlock_locked(st)) < 0 && error == 0)
		error = e2;
	w->took_lock = 0;
	pthread_mutex_unlock(&st->mu);
	return error;
}

static size_t name_slot(const char *name)
{
	size_t h = 5381;

	while (*name)
		h = h * 33 + (unsigned char)*name++;
	return h % STATE__NAME_LOCKS;
}

void state__name_lock(state *st, const char *name)
{
	pthread_mutex_lock(&st->name_mu[name_slot(name)]);
}

void state__name_unlock(state *st, const char *name)
{
	pthread_mutex_unlock(&st->name_mu[name_slot(name)]);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int state__list_dir(char ***out, size_t *count, const char *dir,
		    int (*keep)(const struct dirent *de))
{
	char **list = NULL;
	size_t n = 0, alloc = 0;
	struct dirent *de;
	DIR *d;
	int error = 0;

	*out = NULL;
	*count = 0;
	if (!(d = opendir(dir))) {
		if (errno != ENOENT)
			return util_error_set_errno(CERTOPS_ERROR, "listing '%s'", dir);
		return 0;
	}
	while ((de = readdir(d))) {
		if (!keep(de))
			continue;
		if (n == alloc) {
			size_t na = alloc ? alloc * 2 : 16;
			char **nl = realloc(list, na * sizeof(*nl));

			if (!nl) {
				error = state__oom();
				goto done;
			}
			list = nl;
			alloc = na;
		}
		if (!(list[n] = strdup(de->d_name))) {
			error = state__oom();
			goto done;
		}
		n++;
	}
	if (n)
		qsort(list, n, sizeof(*list), name_cmp);
	*out = list;
	*count = n;
	list = NULL;
	n = 0;
done:
	closedir(d);
	state__names_free(list, n);
	return error;
}

void state__names_free(char **names, size_t count)
{
	size_t i;

	for (i = 0; i < count; i++)
		free(names[i]);
	free(names);
}

int state__oom(void)
{
	return util_error_oom();
}

void state__doc_free_secret(json_t *doc)
{
	json_t *key = json_object_get(doc, "key");

	/* do not leave key material in freed heap memory */
	if (json_is_string(key) && doc->refcount == 1)
		explicit_bzero((char *)json_string_value(key), json_string_length(key));
	json_decref(doc);
}

int state__record_put(state *st, state__kind kind, const char *key, json_t *doc)
{
	state__write w;
	int error;

	/* a migration step runs under the lock; migrate() moves the serial */
	if (st->migrating)
		return st->be->put(st, kind, key, doc);
	if ((error = state__write_begin(st, &w)) < 0)
		return error;
	error = st->be->put(st, kind, key, doc);
	return state__write_end(st, &w, error);
}

int state__record_delete(state *st, state__kind kind, const char *key)
{
	json_t *doc = NULL;
	state__write w;
	int error, existed = 0;

	/* nothing recorded: nothing changes, no serial change */
	error = st->be->get(&doc, st, kind, key, 0);
	state__doc_free_secret(doc);
	if (error == CERTOPS_ENOTFOUND) {
		util_error_clear();
		return 0;
	}
	if ((error = state__write_begin(st, &w)) < 0)
		return error;
	error = st->be->del(st, kind, key, &existed);
	w.unchanged = !existed;
	return state__write_end(st, &w, error);
}
