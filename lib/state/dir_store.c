/*
 * The directory backend's store-wide parts: opening (modes, ownership, a
 * fresh store), the format file state.json with the serial and the dirty
 * mark of a write session (docs/state.md, "The serial"), and the serial.
 * The records are in backend_dir.c, the flock in lock.c.
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

#define FORMAT_FILE "state.json"
#define LOCK_FILE "lock"

/* How long creating a store waits for another process creating it too. */
#define CREATE_LOCK_WAIT_MS 2000

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
		error = util_error_oom();
		goto done;
	}
	error = state__json_write(path.ptr, doc, 0600);
done:
	json_decref(doc);
	util_buf_release(&path);
	return error;
}

/* Reads state.json into st (serial, created); format and dirty mark out. */
static int read_format(state *st, int64_t *format_out, int *dirty_out)
{
	util_buf path = UTIL_BUF_INIT;
	json_t *doc = NULL, *v;
	int error;

	state__path(&path, st, FORMAT_FILE, NULL, NULL);
	if (util_buf_failed(&path)) {
		error = util_error_oom();
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
	util_buf_release(&path);
	return error;
}

int state__dir_session_recover(state *st)
{
	int64_t format;
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

int state__dir_session_end(state *st)
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
int state__dir_session_begin(state *st)
{
	int64_t format;
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


int state__dir_format(int64_t *out, state *st)
{
	return read_format(st, out, NULL);
}

int state__dir_format_done(state *st)
{
	st->serial++;
	return write_format(st, 0);
}

int state__dir_serial(uint64_t *out, state *st)
{
	int64_t format;
	uint64_t keep;
	int error;

	/* in our own session st->serial is the dirty value: keep it as is */
	keep = st->serial;
	error = read_format(st, &format, NULL);
	*out = st->serial;
	if (st->dirty)
		st->serial = keep;
	return error;
}

int state__dir_open(state *st, const char *dir, unsigned flags, int64_t *format_out)
{
	util_buf path = UTIL_BUF_INIT;
	int64_t format = 0;
	int error, fresh = 0;

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
		error = state__oom();
		goto done;
	}
	st->lock_fd = open(path.ptr, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (st->lock_fd < 0) {
		error = util_error_set_errno(CERTOPS_ERROR, "opening lock file '%s'", path.ptr);
		goto done;
	}

	if (fresh) {
		/* Two processes may create the store at once: decide under the lock. */
		if ((error = state_lock(st, CREATE_LOCK_WAIT_MS / 1000)) < 0)
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
	*format_out = format;
done:
	util_buf_release(&path);
	return error;
}

void state__dir_close(state *st)
{
	if (st->lock_fd >= 0)
		close(st->lock_fd);
	st->lock_fd = -1;
}
