#include "util/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/error.h"

int util_fs_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return util_error_set_errno(CERTOPS_ERROR, "opening directory '%s'", dir);
	if (fsync(fd) < 0 && errno != EINVAL) {
		close(fd);
		return util_error_set_errno(CERTOPS_ERROR, "syncing directory '%s'", dir);
	}
	close(fd);
	return 0;
}

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int util_fs_write_atomic(const char *path, const void *data, size_t len,
			 mode_t mode)
{
	util_buf tmp = UTIL_BUF_INIT, dir = UTIL_BUF_INIT;
	const char *slash = strrchr(path, '/');
	int fd = -1, error = CERTOPS_ERROR, attempt;

	if (slash)
		util_buf_put(&dir, path, slash == path ? 1 : (size_t)(slash - path));
	else
		util_buf_puts(&dir, ".");

	for (attempt = 0; attempt < 100 && fd < 0; attempt++) {
		util_buf_clear(&tmp);
		util_buf_printf(&tmp, "%s.certops-tmp-%ld-%d", path, (long)getpid(), attempt);
		if (util_buf_failed(&tmp)) {
			error = util_error_oom();
			goto done;
		}
		fd = open(tmp.ptr, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
			  mode & 07777);
		if (fd < 0 && errno != EEXIST) {
			util_error_set_errno(CERTOPS_ERROR, "creating '%s'", tmp.ptr);
			goto done;
		}
	}
	if (fd < 0) {
		util_error_set(CERTOPS_ERROR, "creating a temporary file beside '%s'", path);
		goto done;
	}
	/* the umask may have narrowed the mode: set it exactly */
	if (fchmod(fd, mode & 07777) < 0) {
		util_error_set_errno(CERTOPS_ERROR, "setting the mode of '%s'", tmp.ptr);
		goto fail_unlink;
	}
	if (write_all(fd, data, len) < 0) {
		util_error_set_errno(CERTOPS_ERROR, "writing '%s'", tmp.ptr);
		goto fail_unlink;
	}
	if (fsync(fd) < 0) {
		util_error_set_errno(CERTOPS_ERROR, "syncing '%s'", tmp.ptr);
		goto fail_unlink;
	}
	if (close(fd) < 0) {
		fd = -1;
		util_error_set_errno(CERTOPS_ERROR, "closing '%s'", tmp.ptr);
		goto fail_unlink;
	}
	fd = -1;
	if (rename(tmp.ptr, path) < 0) {
		util_error_set_errno(CERTOPS_ERROR, "renaming '%s' to '%s'", tmp.ptr, path);
		goto fail_unlink;
	}
	error = util_fs_fsync_dir(dir.ptr);
	goto done;

fail_unlink:
	if (fd >= 0)
		close(fd);
	fd = -1;
	unlink(tmp.ptr);
done:
	if (fd >= 0)
		close(fd);
	util_buf_release(&tmp);
	util_buf_release(&dir);
	return error;
}

int util_fs_mkdir_p(const char *path, mode_t mode)
{
	util_buf b = UTIL_BUF_INIT;
	char *p;
	int error = 0;

	util_buf_puts(&b, path);
	if (util_buf_failed(&b))
		return util_error_oom();
	for (p = b.ptr + 1; ; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;
			struct stat st;

			*p = '\0';
			if (mkdir(b.ptr, mode) < 0) {
				if (errno != EEXIST || stat(b.ptr, &st) < 0 ||
				    !S_ISDIR(st.st_mode)) {
					error = util_error_set_errno(CERTOPS_ERROR,
						"creating directory '%s'", b.ptr);
					break;
				}
			}
			*p = c;
			if (!c)
				break;
		}
	}
	util_buf_release(&b);
	return error;
}

int util_fs_read_file(util_buf *out, const char *path, size_t max)
{
	char chunk[16384];
	size_t total = 0;
	int fd, error = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return util_error_set_errno(errno == ENOENT ? CERTOPS_ENOTFOUND
							    : CERTOPS_ERROR,
					    "reading '%s'", path);
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			error = util_error_set_errno(CERTOPS_ERROR, "reading '%s'", path);
			break;
		}
		if (n == 0)
			break;
		total += (size_t)n;
		if (max && total > max) {
			error = util_error_set(CERTOPS_EINVALID,
				"'%s' is larger than %zu bytes", path, max);
			break;
		}
		if (util_buf_put(out, chunk, (size_t)n) < 0) {
			error = util_error_set(CERTOPS_ENOMEM, "out of memory reading '%s'", path);
			break;
		}
	}
	close(fd);
	return error;
}

void util_fs_join(util_buf *out, const char *a, const char *b)
{
	size_t la = strlen(a);

	util_buf_puts(out, a);
	if (la && a[la - 1] != '/')
		util_buf_putc(out, '/');
	while (*b == '/')
		b++;
	util_buf_puts(out, b);
}
