/*
 * Hook runner: fork + execve of an argv in its own process group, a clean
 * environment, bounded output capture and a deadline.  See exec_run.h.
 */
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

#include "target/exec_run.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/log.h"

#define EXEC_DEFAULT_TIMEOUT_MS 60000
#define EXEC_ERR_TAIL 512

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int env_add(char ***env, size_t *n, const char *name, const char *value)
{
	util_buf b = UTIL_BUF_INIT;
	char **grown;

	if (!value)
		return 0;
	util_buf_printf(&b, "%s=%s", name, value);
	if (util_buf_failed(&b) || !(grown = realloc(*env, (*n + 2) * sizeof(char *)))) {
		util_buf_free(&b);
		return util_error_set(CERTOPS_ENOMEM, "out of memory");
	}
	*env = grown;
	grown[(*n)++] = util_buf_detach(&b);
	grown[*n] = NULL;
	return 0;
}

int target_exec_env_build(char ***out, const target_exec_vars *v)
{
	char **env = NULL;
	size_t n = 0, i;
	util_buf domains = UTIL_BUF_INIT;
	int error;

	if ((error = env_add(&env, &n, "PATH", TARGET_EXEC_PATH)) < 0)
		goto done;
	if (v) {
		for (i = 0; i < v->ndomains; i++) {
			if (i)
				util_buf_putc(&domains, ' ');
			util_buf_puts(&domains, v->domains[i]);
		}
		if (util_buf_failed(&domains)) {
			error = util_error_set(CERTOPS_ENOMEM, "out of memory");
			goto done;
		}
		if ((error = env_add(&env, &n, "CERTOPS_CERT_NAME", v->cert_name)) < 0 ||
		    (error = env_add(&env, &n, "CERTOPS_CERT_PATH", v->cert_path)) < 0 ||
		    (error = env_add(&env, &n, "CERTOPS_KEY_PATH", v->key_path)) < 0 ||
		    (error = env_add(&env, &n, "CERTOPS_CHAIN_PATH", v->chain_path)) < 0 ||
		    (error = env_add(&env, &n, "CERTOPS_FULLCHAIN_PATH", v->fullchain_path)) < 0 ||
		    (error = env_add(&env, &n, "CERTOPS_FINGERPRINT", v->fingerprint)) < 0 ||
		    (error = env_add(&env, &n, "CERTOPS_NOT_AFTER", v->not_after)) < 0 ||
		    (error = env_add(&env, &n, "CERTOPS_DOMAINS",
				     v->ndomains ? domains.ptr : NULL)) < 0)
			goto done;
	}
	*out = env;
	env = NULL;
done:
	util_buf_free(&domains);
	target_exec_env_free(env);
	return error;
}

void target_exec_env_free(char **env)
{
	size_t i;

	for (i = 0; env && env[i]; i++)
		free(env[i]);
	free(env);
}

int target_exec_argv(const char ***out, const config_strings *command)
{
	const char **argv = calloc(command->count + 1, sizeof(char *));
	size_t i;

	if (!argv)
		return util_error_set(CERTOPS_ENOMEM, "out of memory");
	for (i = 0; i < command->count; i++)
		argv[i] = command->items[i].value;
	*out = argv;
	return 0;
}

void target_exec_format_argv(util_buf *out, const char *const *argv, size_t argc)
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

int target_exec_check_policy(const config_policy *p, const config_strings *command)
{
	util_buf line = UTIL_BUF_INIT;
	const char **argv = NULL;
	int error;

	if (config_policy_allows_exec(p, command))
		return 0;
	if ((error = target_exec_argv(&argv, command)) < 0)
		return error;
	target_exec_format_argv(&line, argv, command->count);
	error = util_error_set(CERTOPS_EPOLICY,
			       "the local policy (%s) does not allow running '%s'",
			       config_policy_source(p), line.ptr);
	util_buf_free(&line);
	free(argv);
	return error;
}

/* The paths execve tries, resolved before fork (no allocation after it). */
static int exec_candidates(char ***out, const char *prog)
{
	const char *dirs = TARGET_EXEC_PATH, *colon;
	char **list = NULL;
	size_t n = 0;
	util_buf b = UTIL_BUF_INIT;

	if (!(list = calloc(8, sizeof(char *))))
		return util_error_set(CERTOPS_ENOMEM, "out of memory");
	if (strchr(prog, '/')) {
		if (!(list[0] = strdup(prog)))
			goto oom;
		*out = list;
		return 0;
	}
	while (*dirs && n < 7) {
		colon = strchr(dirs, ':');
		util_buf_put(&b, dirs, colon ? (size_t)(colon - dirs) : strlen(dirs));
		util_buf_putc(&b, '/');
		util_buf_puts(&b, prog);
		if (!(list[n++] = util_buf_detach(&b)))
			goto oom;
		dirs = colon ? colon + 1 : dirs + strlen(dirs);
	}
	*out = list;
	return 0;
oom:
	target_exec_env_free(list);
	util_buf_free(&b);
	return util_error_set(CERTOPS_ENOMEM, "out of memory");
}

/* In the child: only async-signal-safe calls from here to execve. */
static void exec_child(char *const *paths, char *const *argv, char *const *env,
		       int devnull, int out_w, int err_w, int status_w)
{
	sigset_t none;
	int i, saved = ENOENT;

	setpgid(0, 0);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	if (dup2(devnull, 0) < 0 || dup2(out_w, 1) < 0 || dup2(err_w, 2) < 0)
		_exit(127);
	/* Nothing else of ours reaches the hook: a descriptor opened without
	 * O_CLOEXEC (by a library) could be the state lock, held for as long
	 * as a daemon the hook starts lives.  The status pipe moves to fd 3
	 * (close-on-exec), everything above it is closed. */
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
		execve(paths[i], argv, env);
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

/* Reads what is there; returns 0 at EOF (fd closed), 1 when open. */
static int drain(int *fd, util_buf *b, size_t *dropped, size_t limit)
{
	char chunk[4096];
	ssize_t r = read(*fd, chunk, sizeof(chunk));

	if (r > 0) {
		take(b, dropped, limit, chunk, (size_t)r);
		return 1;
	}
	if (r < 0 && (errno == EINTR || errno == EAGAIN))
		return 1;
	close(*fd);
	*fd = -1;
	return 0;
}

static void log_result(const target_exec_opts *o, const char *line,
		       const target_exec_result *res, int ok)
{
	util_buf code = UTIL_BUF_INIT;
	util_log_field f[4];
	size_t n = 0;

	if (res->exited)
		util_buf_printf(&code, "%d", res->exit_code);
	else
		util_buf_printf(&code, "signal %d", res->signal);
	f[n++] = (util_log_field){ "command", line };
	f[n++] = (util_log_field){ "exit", code.ptr };
	if (res->out.size)
		f[n++] = (util_log_field){ "stdout", res->out.ptr };
	if (res->err.size)
		f[n++] = (util_log_field){ "stderr", res->err.ptr };
	util_log_fields(ok ? UTIL_LOG_INFO : UTIL_LOG_WARN,
			o->log_component ? o->log_component : "exec", f, n,
			ok ? "command succeeded" : "command failed");
	util_buf_free(&code);
}

/* The last bytes of stderr, trimmed, for the error message. */
static const char *err_tail(const util_buf *err, size_t *len)
{
	size_t start = err->size > EXEC_ERR_TAIL ? err->size - EXEC_ERR_TAIL : 0;
	size_t end = err->size;

	while (end > start && (err->ptr[end - 1] == '\n' || err->ptr[end - 1] == ' '))
		end--;
	*len = end - start;
	return err->ptr + start;
}

int target_exec_run(target_exec_result *res, const target_exec_opts *o)
{
	char **env = NULL, **paths = NULL;
	const char **argv = NULL;
	int out_p[2] = { -1, -1 }, err_p[2] = { -1, -1 }, st_p[2] = { -1, -1 };
	int devnull = -1, error = CERTOPS_ERROR, child_errno = 0, reaped = 0;
	int64_t timeout = o->timeout_ms > 0 ? o->timeout_ms : EXEC_DEFAULT_TIMEOUT_MS;
	int64_t grace = o->grace_ms > 0 ? o->grace_ms : TARGET_EXEC_GRACE_MS;
	int64_t deadline, kill_at = 0, drain_until = 0, t;
	size_t limit = o->output_limit ? o->output_limit : TARGET_EXEC_OUTPUT_LIMIT;
	util_buf line = UTIL_BUF_INIT;
	pid_t pid = -1;
	ssize_t r;
	int status = 0;

	memset(res, 0, sizeof(*res));
	util_buf_init(&res->out);
	util_buf_init(&res->err);
	if (o->argc == 0 || !o->argv[0] || !o->argv[0][0])
		return util_error_set(CERTOPS_EINVALID, "exec: empty command");
	target_exec_format_argv(&line, o->argv, o->argc);
	if (!(argv = calloc(o->argc + 1, sizeof(char *)))) {
		error = util_error_set(CERTOPS_ENOMEM, "out of memory");
		goto done;
	}
	memcpy(argv, o->argv, o->argc * sizeof(char *));
	if ((error = target_exec_env_build(&env, o->vars)) < 0 ||
	    (error = exec_candidates(&paths, o->argv[0])) < 0)
		goto done;
	if (pipe2(out_p, O_CLOEXEC) < 0 || pipe2(err_p, O_CLOEXEC) < 0 ||
	    pipe2(st_p, O_CLOEXEC) < 0 ||
	    (devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0) {
		error = util_error_set_errno(CERTOPS_ERROR, "exec '%s': creating pipes", line.ptr);
		goto done;
	}
	if ((pid = fork()) < 0) {
		error = util_error_set_errno(CERTOPS_ERROR, "exec '%s': fork", line.ptr);
		goto done;
	}
	if (pid == 0)
		exec_child(paths, (char *const *)argv, env, devnull, out_p[1],
			   err_p[1], st_p[1]);
	/* Both sides set the group, so that a kill right after fork finds it. */
	setpgid(pid, pid);
	close(out_p[1]);
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
					     line.ptr, o->argv[0], TARGET_EXEC_PATH);
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
		error = util_error_set(CERTOPS_ENOMEM, "out of memory");
		goto done;
	}
	log_result(o, line.ptr, res, !res->timed_out && res->exited && res->exit_code == 0);
	{
		size_t tl;
		const char *tail = err_tail(&res->err, &tl);

		if (res->timed_out)
			error = util_error_set(CERTOPS_ETIMEOUT,
					       "command '%s' did not finish within %lld ms and was killed%s%.*s",
					       line.ptr, (long long)timeout, tl ? ": " : "", (int)tl, tail);
		else if (!res->exited)
			error = util_error_set(CERTOPS_ERROR, "command '%s' was killed by signal %d%s%.*s",
					       line.ptr, res->signal, tl ? ": " : "", (int)tl, tail);
		else if (res->exit_code != 0)
			error = util_error_set(CERTOPS_ERROR, "command '%s' exited with code %d%s%.*s",
					       line.ptr, res->exit_code, tl ? ": " : "", (int)tl, tail);
		else
			error = 0;
	}
done:
	if (pid > 0) {
		kill(-pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
	{
		int *fds[] = { &out_p[0], &out_p[1], &err_p[0], &err_p[1],
			       &st_p[0], &st_p[1], &devnull };
		size_t i;
		for (i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
			if (*fds[i] >= 0)
				close(*fds[i]);
	}
	util_buf_free(&line);
	target_exec_env_free(env);
	target_exec_env_free(paths);
	free(argv);
	return error;
}

void target_exec_result_free(target_exec_result *res)
{
	util_buf_free(&res->out);
	util_buf_free(&res->err);
	memset(res, 0, sizeof(*res));
}
