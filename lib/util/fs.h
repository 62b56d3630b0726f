/*
 * File helpers with the durability rules of certops: every write goes to a
 * temporary file in the same directory, created with its final mode before
 * any byte is written, is fsync'd, renamed over the target, and the
 * directory is fsync'd, so a crash leaves the old file or the new one,
 * never a mix.
 */
#ifndef CERTOPS_UTIL_FS_H
#define CERTOPS_UTIL_FS_H

#include <stddef.h>
#include <sys/types.h>

#include "util/buf.h"

/*
 * Writes data atomically to path with the given mode (applied exactly,
 * whatever the umask).  Returns 0 or CERTOPS_ERROR with the error set.
 */
int util_fs_write_atomic(const char *path, const void *data, size_t len,
			 mode_t mode);
/* Creates path and its missing parents with mode; existing dirs are kept. */
int util_fs_mkdir_p(const char *path, mode_t mode);
/*
 * Reads a whole file into out (appending).  Fails with CERTOPS_ENOTFOUND
 * when it does not exist and CERTOPS_EINVALID when larger than max bytes
 * (0: no limit).
 */
int util_fs_read_file(util_buf *out, const char *path, size_t max);
/* fsyncs a directory so that a rename in it is durable. */
int util_fs_fsync_dir(const char *dir);
/* Joins a and b with one '/' into out (appending). */
void util_fs_join(util_buf *out, const char *a, const char *b);

#endif
