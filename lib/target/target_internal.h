/* Internal to lib/target: the operation table of each kind built. */
#ifndef CERTOPS_TARGET_INTERNAL_H
#define CERTOPS_TARGET_INTERNAL_H

#include "target/target.h"

extern const target_ops target__files_ops;

/*
 * The real location of path for a write: path itself when nothing in it
 * is a symlink; else with every symlink resolved (realpath of the nearest
 * existing ancestor, then the rest appended).  Appends to out.
 */
int target__real_path(util_buf *out, const char *path);
/*
 * Checks that path, and its real location, may be written under the
 * policy; CERTOPS_EPOLICY (error set, naming the path and where it leads)
 * when not.  *real_out (may be NULL) gets the real location.
 */
int target__check_write(util_buf *real_out, const target_env *env,
			const char *path);

/*
 * Appends "<where>: <what>" to o->drift (joined by "; "), what formatted
 * from fmt; 0 or CERTOPS_ENOMEM (set).
 */
int target__drift_add(target_observation *o, const char *where, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
