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

#define FORMAT_FILE "state.json"
#define LOCK_FILE "lock"

/* How long a write made without state_lock waits for the lock. */
#define WRITE_LOCK_WAIT_MS 2000

/*
 * Migrations: each entry upgrades a store from format `from` to from + 1,
 * under the lock, before state.json is rewritten with the new format.
 * Format 1 is the first format, so the table holds only its terminator;
 * the day format 2 comes, its step goes here (see docs/state.md).
 */
static const state__migration builtin_migrations[] = {
	{ 0, NULL } /* terminator */
};
static const state__migration *migrations = builtin_migrations;

void state__set_migrations(const state__migration *table)
{
	migrations = table ? table : builtin_migrations;
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
	return util_buf_failed(out) ? util_error_set(CERTOPS_ENOMEM, "out of memory") : 0;
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
		util_buf_free(&b);
		return error;
	}
	if (!(*out = util_buf_detach(&b)))
		return util_error_set(CERTOPS_ENOMEM, "out of memory");
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
	util_buf_free(&b);
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
		error = util_error_set(CERTOPS_ENOMEM, "out of memory");
	else
		error = util_fs_write_atomic(path, b.ptr, b.size, mode);
	util_buf_free(&b);
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
	util_buf_free(&b);
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
			error = util_error_set(CERTOPS_ENOMEM, "out of memory");
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
	util_buf_free(&child);
	return error;
}

/* Refuses a directory another user could write into or replace files of. */
static int check_dir(const char *dir)
{
	struct stat sb;

	if (stat(dir, &sb) < 0)
		return util_error_set_errno(errno == ENOENT ? CERTOPS_ENOTFOUND : CERTOPS_ERROR,
					    "state directory '%s'", dir);
	if (!S_ISDIR(sb.st_mode))
		return util_error_set(CERTOPS_EINVALID,
			"state directory '%s' is not a directory", dir);
	if (sb.st_uid != geteuid())
		return util_error_set(CERTOPS_EINVALID,
			"state directory '%s' is owned by uid %ld, not by this user (uid %ld); "
			"refusing to use it", dir, (long)sb.st_uid, (long)geteuid());
	if (sb.st_mode & (S_IWGRP | S_IWOTH))
		return util_error_set(CERTOPS_EINVALID,
			"state directory '%s' is writable by group or others (mode %04o); "
			"run: chmod 700 '%s'", dir, (unsigned)(sb.st_mode & 07777), dir);
	return 0;
}

/* Nonzero when dir holds nothing (a fresh mkdir or an empty volume). */
static int dir_is_empty(const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int empty = 1;

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		/* another process creating the store at the same time leaves
		 * only these behind */
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") &&
		    strcmp(de->d_name, LOCK_FILE) &&
		    strncmp(de->d_name, FORMAT_FILE ".certops-tmp-",
			    strlen(FORMAT_FILE ".certops-tmp-"))) {
			empty = 0;
			break;
		}
	}
	closedir(d);
	return empty;
}

/*
 * Writes state.json with the current format, st->serial, and the dirty mark
 * of a write session in progress (see "The serial" in docs/state.md).
 */
static int write_format(state *st, int dirty)
{
	util_buf path = UTIL_BUF_INIT;
	json_t *doc = json_object();
	int error;

	if (!st->created)
		st->created = time(NULL);
	state__path(&path, st, FORMAT_FILE, NULL, NULL);
	if (!doc || util_buf_failed(&path) ||
	    json_object_set_new(doc, "format", json_integer(STATE_FORMAT_VERSION)) < 0 ||
	    json_object_set_new(doc, "serial", json_integer((json_int_t)st->serial)) < 0 ||
	    (dirty && json_object_set_new(doc, "dirty", json_true()) < 0) ||
	    state__json_set_time(doc, "created", st->created) < 0 ||
	    state__json_set_time(doc, "updated", time(NULL)) < 0) {
		error = util_error_set(CERTOPS_ENOMEM, "out of memory");
		goto done;
	}
	error = state__json_write(path.ptr, doc, 0600);
done:
	json_decref(doc);
	util_buf_free(&path);
	return error;
}

/* Reads state.json into st (serial, created); format and dirty mark out. */
static int read_format(state *st, json_int_t *format_out, int *dirty_out)
{
	util_buf path = UTIL_BUF_INIT;
	json_t *doc = NULL, *v;
	int error;

	state__path(&path, st, FORMAT_FILE, NULL, NULL);
	if (util_buf_failed(&path)) {
		error = util_error_set(CERTOPS_ENOMEM, "out of memory");
		goto done;
	}
	if ((error = state__json_load(&doc, path.ptr)) < 0)
		goto done;
	v = json_object_get(doc, "format");
	if (!json_is_integer(v) || json_integer_value(v) < 0) {
		error = util_error_set_at(CERTOPS_EINVALID, path.ptr, 0, 0, "format",
					  "missing or not a non-negative integer");
		goto done;
	}
	*format_out = json_integer_value(v);
	v = json_object_get(doc, "serial");
	if (!json_is_integer(v) || json_integer_value(v) < 0) {
		error = util_error_set_at(CERTOPS_EINVALID, path.ptr, 0, 0, "serial",
					  "missing or not a non-negative integer");
		goto done;
	}
	st->serial = (uint64_t)json_integer_value(v);
	st->created = state__json_time(doc, "created");
	if (dirty_out)
		*dirty_out = json_is_true(json_object_get(doc, "dirty"));
done:
	json_decref(doc);
	util_buf_free(&path);
	return error;
}

int state__session_recover(state *st)
{
	json_int_t format;
	int dirty = 0, error;

	error = read_format(st, &format, &dirty);
	if (error == CERTOPS_ENOTFOUND) {
		util_error_clear();
		return 0; /* a store being created: nothing to recover */
	}
	if (error < 0 || !dirty)
		return error;
	/* a holder died in the middle of a session: what it changed is unknown */
	util_log_warn("state", "state directory '%s' was left mid-write by an "
		      "interrupted run; moving its serial on", st->dir);
	st->serial++;
	return write_format(st, 0);
}

int state__session_finish(state *st)
{
	int error;

	if (!st->dirty)
		return 0;
	/*
	 * Changes made: the serial ends past the dirty value, so a plan that
	 * read the dirty value is stale.  None: back to the value before the
	 * session, as the store is as it was.
	 */
	if (st->changes)
		st->serial += st->changes;
	else
		st->serial--;
	error = write_format(st, 0);
	st->dirty = 0;
	st->changes = 0;
	return error;
}

/* Marks a session dirty before its first change; the caller holds st->mu. */
static int session_start(state *st)
{
	json_int_t format;
	int error;

	if (st->dirty)
		return 0;
	if ((error = read_format(st, &format, NULL)) < 0)
		return error;
	st->serial++;
	if ((error = write_format(st, 1)) < 0)
		return error;
	st->dirty = 1;
	st->changes = 0;
	return 0;
}

static int migrate(state *st, json_int_t from)
{
	json_int_t v;
	int error;

	if ((error = state_lock(st, 0)) < 0)
		return util_error_wrap("migrating state directory '%s'", st->dir);
	/* re-read under the lock: another process may have migrated already */
	if ((error = read_format(st, &from, NULL)) < 0)
		goto done;
	for (v = from; v < STATE_FORMAT_VERSION; v++) {
		size_t i;

		for (i = 0; migrations[i].fn; i++)
			if (migrations[i].from == v)
				break;
		if (!migrations[i].fn) {
			error = util_error_set(CERTOPS_EINVALID,
				"state directory '%s' has format %lld, which this certops "
				"cannot migrate", st->dir, (long long)from);
			goto done;
		}
		if ((error = migrations[i].fn(st)) < 0) {
			error = util_error_wrap("migrating '%s' from format %lld",
						st->dir, (long long)v);
			goto done;
		}
	}
	st->serial++;
	error = write_format(st, 0);
done:
	state_unlock(st);
	return error;
}

int state_open(state **out, const char *dir, unsigned flags)
{
	util_buf path = UTIL_BUF_INIT;
	state *st = NULL;
	json_int_t format = 0;
	int error, fresh = 0;
	size_t i;

	*out = NULL;
	if (!dir || !*dir)
		return util_error_set(CERTOPS_EINVALID, "no state directory given");
	error = check_dir(dir);
	if (error == CERTOPS_ENOTFOUND) {
		if (flags & STATE_OPEN_NOCREATE)
			return error;
		if ((error = util_fs_mkdir_p(dir, 0700)) < 0)
			return error;
		/* mkdir obeys the umask; the store wants exactly 0700 */
		if (chmod(dir, 0700) < 0)
			return util_error_set_errno(CERTOPS_ERROR, "setting the mode of '%s'", dir);
		error = check_dir(dir);
	}
	if (error < 0)
		return error;

	if (!(st = calloc(1, sizeof(*st))) || !(st->dir = strdup(dir))) {
		free(st);
		return util_error_set(CERTOPS_ENOMEM, "out of memory");
	}
	st->lock_fd = -1;
	pthread_mutex_init(&st->mu, NULL);
	for (i = 0; i < STATE__NAME_LOCKS; i++)
		pthread_mutex_init(&st->name_mu[i], NULL);

	/* decide whether this is a store before creating anything in it */
	error = read_format(st, &format, NULL);
	if (error == CERTOPS_ENOTFOUND) {
		if (!dir_is_empty(dir)) {
			error = util_error_set(CERTOPS_EINVALID,
				"'%s' is not empty and holds no %s: not a certops state "
				"directory", dir, FORMAT_FILE);
			goto done;
		}
		util_error_clear();
		fresh = 1;
	} else if (error < 0) {
		goto done;
	}

	state__path(&path, st, LOCK_FILE, NULL, NULL);
	if (util_buf_failed(&path)) {
		error = util_error_set(CERTOPS_ENOMEM, "out of memory");
		goto done;
	}
	st->lock_fd = open(path.ptr, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (st->lock_fd < 0) {
		error = util_error_set_errno(CERTOPS_ERROR, "opening lock file '%s'", path.ptr);
		goto done;
	}

	if (fresh) {
		/* Two processes may create the store at once: decide under the lock. */
		if ((error = state_lock(st, WRITE_LOCK_WAIT_MS / 1000)) < 0)
			goto done;
		error = read_format(st, &format, NULL);
		if (error == CERTOPS_ENOTFOUND) {
			util_error_clear();
			st->serial = 0;
			st->created = time(NULL);
			format = STATE_FORMAT_VERSION;
			error = write_format(st, 0);
		}
		state_unlock(st);
		if (error < 0)
			goto done;
	}
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
	util_buf_free(&path);
	state_free(st);
	return error;
}

void state_free(state *st)
{
	size_t i;

	if (!st)
		return;
	state_unlock(st);
	if (st->lock_fd >= 0)
		close(st->lock_fd);
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
	json_int_t format;
	uint64_t keep;
	int error;

	pthread_mutex_lock(&st->mu);
	/* in our own session st->serial is the dirty value: keep it as is */
	keep = st->serial;
	error = read_format(st, &format, NULL);
	*out = st->serial;
	if (st->dirty)
		st->serial = keep;
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
	if ((error = session_start(st)) < 0)
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
	return util_error_set(CERTOPS_ENOMEM, "out of memory");
}
