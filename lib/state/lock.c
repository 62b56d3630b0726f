/*
 * The state lock.  In a directory store: flock(2) on <dir>/lock, so that the kernel releases it
 * when the holder dies (even by SIGKILL) and no stale lock needs breaking.
 * While held, the file records the holder (PID, host, command, since when)
 * for the message a second run prints.  The file is rewritten in place,
 * never renamed over: a new inode would not carry the lock.
 */
#include "state/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "util/duration.h"
#include "util/error.h"
#include "util/fs.h"

#define HOLDER_MAX 4096
#define COMMAND_MAX 200

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* This process's command line, arguments joined by spaces, bounded. */
static void self_command(util_buf *out)
{
	util_buf raw = UTIL_BUF_INIT;
	size_t i;

	if (util_fs_read_file(&raw, "/proc/self/cmdline", 65536) < 0) {
		util_error_clear();
		util_buf_puts(out, "certops");
		goto done;
	}
	for (i = 0; i < raw.size && i < COMMAND_MAX; i++)
		util_buf_putc(out, raw.ptr[i] ? raw.ptr[i] : ' ');
	while (out->size && out->ptr[out->size - 1] == ' ')
		util_buf_truncate(out, out->size - 1);
done:
	util_buf_release(&raw);
}

/* Records this process as the holder; failures only lose the record. */
static void write_holder(state *st)
{
	char host[256] = "unknown";
	util_buf cmd = UTIL_BUF_INIT;
	json_t *doc = json_object();
	char *text = NULL;

	if (gethostname(host, sizeof(host) - 1) < 0)
		memcpy(host, "unknown", sizeof("unknown"));
	host[sizeof(host) - 1] = '\0';
	if (st->command)
		util_buf_puts(&cmd, st->command);
	else
		self_command(&cmd);
	if (!doc || util_buf_failed(&cmd) ||
	    json_object_set_new(doc, "pid", json_integer(getpid())) < 0 ||
	    json_object_set_new(doc, "host", json_string(host)) < 0 ||
	    json_object_set_new(doc, "command", json_string(cmd.ptr)) < 0 ||
	    state__json_set_time(doc, "since", time(NULL)) < 0 ||
	    !(text = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS)))
		goto done;
	if (ftruncate(st->lock_fd, 0) == 0) {
		size_t len = strlen(text);
		ssize_t n = pwrite(st->lock_fd, text, len, 0);
		(void)n; /* best effort: the lock itself is what matters */
	}
done:
	free(text);
	json_decref(doc);
	util_buf_release(&cmd);
}

/* One attempt at reading the holder record; -1 when empty or torn. */
static int read_holder_once(state_lock_holder *out, int fd)
{
	char buf[HOLDER_MAX];
	json_t *doc, *pid;
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	if (n <= 0)
		return -1;
	buf[n] = '\0';
	if (!(doc = json_loads(buf, 0, NULL)))
		return -1;
	pid = json_object_get(doc, "pid");
	if (!json_is_integer(pid)) {
		json_decref(doc);
		return -1;
	}
	out->pid = (long)json_integer_value(pid);
	out->host = state__json_strdup(doc, "host");
	out->command = state__json_strdup(doc, "command");
	out->since = state__json_time(doc, "since");
	json_decref(doc);
	return 0;
}

int state__dir_holder(state_lock_holder *out, state *st)
{
	int attempt;

	memset(out, 0, sizeof(*out));
	/* the holder writes its record right after locking: allow it a moment */
	for (attempt = 0; attempt < 10; attempt++) {
		if (read_holder_once(out, st->lock_fd) == 0)
			return 0;
		sleep_ms(10);
	}
	return util_error_set(CERTOPS_ENOTFOUND, "no lock holder recorded in '%s'", st->dir);
}

void state_lock_holder_clear(state_lock_holder *h)
{
	free(h->host);
	free(h->command);
	memset(h, 0, sizeof(*h));
}

static int locked_error(state *st, int timeout_ms)
{
	state_lock_holder h;
	util_buf since = UTIL_BUF_INIT, waited = UTIL_BUF_INIT;
	int error;

	if (timeout_ms > 0)
		util_buf_printf(&waited, " (waited %d s)", (timeout_ms + 999) / 1000);
	if (state_lock_holder_get(&h, st) < 0) {
		error = util_error_set(CERTOPS_ELOCKED,
			"state directory '%s' is locked by another certops run%s",
			st->dir, waited.ptr);
		goto done;
	}
	util_time_format(&since, h.since);
	error = util_error_set(CERTOPS_ELOCKED,
		"state directory '%s' is locked by pid %ld on %s (%s), holding it "
		"since %s%s", st->dir, h.pid, h.host ? h.host : "unknown host",
		h.command ? h.command : "unknown command",
		h.since ? since.ptr : "an unknown time", waited.ptr);
	state_lock_holder_clear(&h);
done:
	util_buf_release(&since);
	util_buf_release(&waited);
	return error;
}

int state__dir_lock(state *st, int timeout_ms)
{
	long deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	long pause = 10;
	int error;

	for (;;) {
		long left;

		if (flock(st->lock_fd, LOCK_EX | LOCK_NB) == 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK)
			return util_error_set_errno(CERTOPS_ERROR, "locking '%s'", st->dir);
		left = deadline - now_ms();
		if (left <= 0)
			return locked_error(st, timeout_ms);
		/* poll with a growing pause: cheap, and no signal games */
		sleep_ms(pause < left ? pause : left);
		if (pause < 200)
			pause *= 2;
	}
	write_holder(st);
	/* a dirty state.json (its writer died) moves the serial on */
	if ((error = state__dir_session_recover(st)) < 0) {
		state__dir_unlock(st);
		return error;
	}
	return 0;
}

int state__dir_unlock(state *st)
{
	int error = 0;

	/* clear the record first, so that it never names a finished holder */
	if (ftruncate(st->lock_fd, 0) < 0)
		error = util_error_set_errno(CERTOPS_ERROR, "clearing the lock of '%s'", st->dir);
	if (flock(st->lock_fd, LOCK_UN) < 0)
		error = util_error_set_errno(CERTOPS_ERROR, "unlocking '%s'", st->dir);
	return error;
}

/* ---- the backend-neutral part: the handle's lock state ---- */

int state_lock_holder_get(state_lock_holder *out, state *st)
{
	return st->be->holder(out, st);
}

int state__lock_locked(state *st, int timeout_ms)
{
	int error;

	if (st->locked)
		return 0;
	if ((error = st->be->lock(st, timeout_ms)) < 0)
		return error;
	st->locked = 1;
	return 0;
}

int state__unlock_locked(state *st)
{
	int error, e2;

	if (!st->locked)
		return 0;
	/* the session ends (its final serial) while the lock is still ours */
	error = st->be->session_end(st);
	e2 = st->be->unlock(st);
	st->locked = 0;
	return error < 0 ? error : e2;
}

int state_lock(state *st, int timeout_seconds)
{
	int error;

	if (timeout_seconds < 0)
		return util_error_set(CERTOPS_EINVALID, "negative lock timeout");
	if (timeout_seconds > 86400 * 7)
		timeout_seconds = 86400 * 7;
	pthread_mutex_lock(&st->mu);
	error = state__lock_locked(st, timeout_seconds * 1000);
	pthread_mutex_unlock(&st->mu);
	return error;
}

int state_unlock(state *st)
{
	int error;

	pthread_mutex_lock(&st->mu);
	error = state__unlock_locked(st);
	pthread_mutex_unlock(&st->mu);
	return error;
}

int state_locked(const state *st)
{
	return st->locked;
}

int state_set_command(state *st, const char *command)
{
	char *copy = command ? strndup(command, COMMAND_MAX) : NULL;

	if (command && !copy)
		return util_error_oom();
	pthread_mutex_lock(&st->mu);
	free(st->command);
	st->command = copy;
	pthread_mutex_unlock(&st->mu);
	return 0;
}
