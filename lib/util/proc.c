/*
 * The process runner: fork + execve of an argv in its own process group,
 * the caller's environment, bounded output capture and a deadline.  See
 * proc.h.
 */
#include "util/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/error.h"

#define PROC_ERR_TAIL 512

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void util_proc_format_argv(util_buf *out, const char *const *argv, size_t argc)
{
	size_t i;

	for (i = 0; i < argc; i++) {
		if (i)
			util_buf_putc(out, ' ');
		if (!argv[i][0] || strpbrk(argv[i], " \t\"'\\"))
			util_buf_put_json_string(out, argv[i]);
		else
			util_buf_puts(out, argv[i]);
	}
}

static void strv_free(char **v)
{
	size_t i;

	for (i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

/* The paths execve tries, resolved before fork (no allocation after it). */
static int exec_candidates(char ***out, const char *prog, const char *dirs)
{
	const char *p, *colon;
	char **list;
	size_t n = 0, count = 1;
	util_buf b = UTIL_BUF_INIT;

	if (strchr(prog, '/')) {
		if (!(list = calloc(2, sizeof(char *))) || !(list[0] = strdup(prog))) {
			free(list);
			return util_error_oom();
		}
		*out = list;
		return 0;
	}
	for (p = dirs; *p; p++)
		count += *p == ':';
	if (!(list = calloc(count + 1, sizeof(char *))))
		return util_error_oom();
	for (p = dirs; n < count; n++) {
		size_t len;

		colon = strchr(p, ':');
		len = colon ? (size_t)(colon - p) : strlen(p);
		/* an empty entry is the current directory, as for execvp */
		if (len)
			util_buf_put(&b, p, len);
		else
			util_buf_putc(&b, '.');
		util_buf_putc(&b, '/');
		util_buf_puts(&b, prog);
		if (!(list[n] = util_buf_detach(&b))) {
			strv_free(list);
			return util_error_oom();
		}
		p = colon ? colon + 1 : p + len;
	}
	*out = list;
	return 0;
}

/* In the child: only async-signal-safe calls from here to execve. */
static void exec_child(char *const *paths, char *const *argv, char *const *env,
		       int in_fd, int out_w, int err_w, int status_w)
{
	static char *const empty_env[] = { NULL };
	sigset_t none;
	int i, saved = ENOENT;

	setpgid(0, 0);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	if (dup2(in_fd, 0) < 0 || dup2(out_w, 1) < 0 || dup2(err_w, 2) < 0)
		_exit(127);
	/* The status pipe moves to fd 3 (close-on-exec), everything above it
	 * is closed: nothing else of ours reaches the program. */
	if (status_w != 3) {
		if (dup3(status_w, 3, O_CLOEXEC) < 0)
			_exit(127);
		status_w = 3;
	}
	if (syscall(SYS_close_range, 4U, ~0U, 0U) < 0) {
		int fd;
		for (fd = 4; fd < 1024; fd++)
			close(fd);
	}
	for (i = 0; paths[i]; i++) {
		execve(paths[i], argv, env ? env : empty_env);
		if (errno != ENOENT && errno != ENOTDIR)
			saved = errno;
	}
	(void)!write(status_w, &saved, sizeof(saved));
	_exit(127);
}

static void take(util_buf *b, size_t *dropped, size_t limit, const char *p, size_t n)
{
	size_t room = b->size < limit ? limit - b->size : 0;

	if (n > room) {
		*dropped += n - room;
		n = room;
	}
	util_buf_put(b, p, n);
}

/* Reads what is there; closes *fd at EOF. */
static void drain(int *fd, util_buf *b, size_t *dropped, size_t limit)
{
	char chunk[4096];
	ssize_t r = read(*fd, chunk, sizeof(chunk));

	if (r > 0) {
		take(b, dropped, limit, chunk, (size_t)r);
		return;
	}
	if (r < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	close(*fd);
	*fd = -1;
}

/* The last bytes of what the program said on stderr (or its merged
 * output), trimmed, for an error message. */
static const char *err_tail(const util_proc_result *res, int merged, size_t *len)
{
	const util_buf *b = merged ? &res->out : &res->err;
	size_t start = b->size > PROC_ERR_TAIL ? b->size - PROC_ERR_TAIL : 0;
	size_t end = b->size;

	while (end > start && (b->ptr[end - 1] == '\n' || b->ptr[end - 1] == ' '))
		end--;
	*len = end - start;
	return b->ptr + start;
}

int util_proc_run(util_proc_result *res, const util_proc_opts *o)
{
	char **paths = NULL;
	const char **argv = NULL;
	int out_p[2] = { -1, -1 }, err_p[2] = { -1, -1 }, st_p[2] = { -1, -1 };
	int in_fd = -1, error = CERTOPS_ERROR, child_errno = 0, reaped = 0;
	int64_t timeout = o->timeout_ms > 0 ? o->timeout_ms : UTIL_PROC_TIMEOUT_MS;
	int64_t grace = o->grace_ms > 0 ? o->grace_ms : UTIL_PROC_GRACE_MS;
	int64_t deadline, kill_at = 0, drain_until = 0, t;
	size_t limit = o->output_limit ? o->output_limit : UTIL_PROC_OUTPUT_LIMIT;
	const char *stdin_path = o->stdin_path ? o->stdin_path : "/dev/null";
	util_buf line = UTIL_BUF_INIT;
	pid_t pid = -1;
	ssize_t r;
	int status = 0;

	memset(res, 0, sizeof(*res));
	util_buf_init(&res->out);
	util_buf_init(&res->err);
	if (o->argc == 0 || !o->argv[0] || !o->argv[0][0])
		return util_error_set(CERTOPS_EINVALID, "exec: empty command");
	util_proc_format_argv(&line, o->argv, o->argc);
	if (util_buf_failed(&line) || !(argv = calloc(o->argc + 1, sizeof(char *)))) {
		error = util_error_oom();
		goto done;
	}
	memcpy(argv, o->argv, o->argc * sizeof(char *));
	if ((error = exec_candidates(&paths, o->argv[0],
				     o->path ? o->path : UTIL_PROC_PATH)) < 0)
		goto done;
	if ((in_fd = open(stdin_path, O_RDONLY | O_CLOEXEC)) < 0) {
		error = util_error_set_errno(CERTOPS_ERROR, "exec '%s': opening '%s'",
					     line.ptr, stdin_path);
		goto done;
	}
	if (pipe2(out_p, O_CLOEXEC) < 0 ||
	    (!o->merge_stderr && pipe2(err_p, O_CLOEXEC) < 0) ||
	    pipe2(st_p, O_CLOEXEC) < 0) {
		error = util_error_set_errno(CERTOPS_ERROR, "exec '%s': creating pipes", line.ptr);
		goto done;
	}
	if ((pid = fork()) < 0) {
		error = util_error_set_errno(CERTOPS_ERROR, "exec '%s': fork", line.ptr);
		goto done;
	}
	if (pid == 0)
		exec_child(paths, (char *const *)argv, o->env, in_fd, out_p[1],
			   o->merge_stderr ? out_p[1] : err_p[1], st_p[1]);
	/* Both sides set the group, so that a kill right after fork finds it. */
	setpgid(pid, pid);
	close(out_p[1]);
	if (err_p[1] >= 0)
		close(err_p[1]);
	close(st_p[1]);
	out_p[1] = err_p[1] = st_p[1] = -1;
	deadline = now_ms() + timeout;

	/* The status pipe closes on a successful execve, or carries errno. */
	do
		r = read(st_p[0], &child_errno, sizeof(child_errno));
	while (r < 0 && errno == EINTR);
	if (r == (ssize_t)sizeof(child_errno)) {
		waitpid(pid, &status, 0);
		pid = -1;
		errno = child_errno;
		error = util_error_set_errno(child_errno == ENOENT ? CERTOPS_ENOTFOUND : CERTOPS_ERROR,
					     "exec '%s': cannot run '%s' (searched %s)",
					     line.ptr, o->argv[0],
					     strchr(o->argv[0], '/') ? o->argv[0]
					     : o->path ? o->path : UTIL_PROC_PATH);
		goto done;
	}

	for (;;) {
		struct pollfd pfd[2];
		nfds_t n = 0;
		siginfo_t si;

		t = now_ms();
		if (!reaped) {
			memset(&si, 0, sizeof(si));
			/* WNOWAIT: the group id stays ours until we reap. */
			if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
			    si.si_pid == pid) {
				if (res->timed_out)
					kill(-pid, SIGKILL); /* stragglers of the group */
				waitpid(pid, &status, 0);
				reaped = 1;
				drain_until = t + grace;
			} else if (!res->timed_out && t >= deadline) {
				res->timed_out = 1;
				kill(-pid, SIGTERM);
				kill_at = t + grace;
			} else if (res->timed_out && t >= kill_at) {
				kill(-pid, SIGKILL);
				kill_at = t + 3600 * 1000;
			}
		}
		if (out_p[0] >= 0)
			pfd[n++] = (struct pollfd){ .fd = out_p[0], .events = POLLIN };
		if (err_p[0] >= 0)
			pfd[n++] = (struct pollfd){ .fd = err_p[0], .events = POLLIN };
		/* Done when reaped and the pipes closed, or when a process that
		 * left the pipes open (a daemon it started) had its grace. */
		if (reaped && (n == 0 || t >= drain_until))
			break;
		if (n == 0) {
			/* Pipes closed, child still running: wait in small steps. */
			struct timespec ts = { 0, 20 * 1000000 };
			nanosleep(&ts, NULL);
			continue;
		}
		if (poll(pfd, n, 20) > 0) {
			nfds_t i;
			for (i = 0; i < n; i++) {
				if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
					continue;
				if (pfd[i].fd == out_p[0])
					drain(&out_p[0], &res->out, &res->out_dropped, limit);
				else
					drain(&err_p[0], &res->err, &res->err_dropped, limit);
			}
		}
	}
	pid = -1;
	if (WIFEXITED(status)) {
		res->exited = 1;
		res->exit_code = WEXITSTATUS(status);
	} else if (WIFSIGNALED(status)) {
		res->signal = WTERMSIG(status);
	}
	if (util_buf_failed(&res->out) || util_buf_failed(&res->err)) {
		error = util_error_oom();
		goto done;
	}
	if (res->timed_out) {
		size_t tl;
		const char *tail = err_tail(res, o->merge_stderr, &tl);

		error = util_error_set(CERTOPS_ETIMEOUT,
				       "command '%s' did not finish within %lld ms and was killed%s%.*s",
				       line.ptr, (long long)timeout, tl ? ": " : "", (int)tl, tail);
	} else {
		error = 0;
	}
done:
	if (pid > 0) {
		kill(-pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
	{
		int *fds[] = { &out_p[0], &out_p[1], &err_p[0], &err_p[1],
			       &st_p[0], &st_p[1], &in_fd };
		size_t i;
		for (i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
			if (*fds[i] >= 0)
				close(*fds[i]);
	}
	util_buf_release(&line);
	strv_free(paths);
	free(argv);
	return error;
}

int util_proc_result_check(const util_proc_result *res, const util_proc_opts *o)
{
	util_buf line = UTIL_BUF_INIT;
	const char *tail;
	size_t tl;
	int error;

	if (res->exited && res->exit_code == 0 && !res->timed_out)
		return 0;
	util_proc_format_argv(&line, o->argv, o->argc);
	if (util_buf_failed(&line))
		return util_error_oom();
	tail = err_tail(res, o->merge_stderr, &tl);
	if (res->timed_out)
		error = util_error_set(CERTOPS_ETIMEOUT,
				       "command '%s' did not finish within %lld ms and was killed%s%.*s",
				       line.ptr, (long long)(o->timeout_ms > 0 ? o->timeout_ms
							      : UTIL_PROC_TIMEOUT_MS),
				       tl ? ": " : "", (int)tl, tail);
	else if (!res->exited)
		error = util_error_set(CERTOPS_ERROR, "command '%s' was killed by signal %d%s%.*s",
				       line.ptr, res->signal, tl ? ": " : "", (int)tl, tail);
	else
		error = util_error_set(CERTOPS_ERROR, "command '%s' exited with code %d%s%.*s",
				       line.ptr, res->exit_code, tl ? ": " : "", (int)tl, tail);
	util_buf_release(&line);
	return error;
}

void util_proc_result_release(util_proc_result *res)
{
	util_buf_release(&res->out);
	util_buf_release(&res->err);
	memset(res, 0, sizeof(*res));
}
