/*
 * The files target: PEM files in a directory (docs/targets.md).
 *
 * Each file is written atomically (util_fs_write_atomic: temporary file
 * created with its final mode, fsync, rename, fsync of the directory), so
 * a reader sees the old file or the new one.  The set of files is not one
 * atomic unit: a reader that needs key and certificate together should
 * read the `combined` file.
 *
 * Symlinks: every path is checked against the policy as declared and
 * again at its real location (symlinks resolved, target__check_write).  A
 * symlink that stays inside the write roots is followed (the file it names
 * is replaced); one that leads outside is refused.  The directory is
 * checked again after it is created.  What remains is the window between
 * the check and the rename, open only to someone who can already write
 * inside a write root.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "observe/observe.h"
#include "target_internal.h"
#include "util/error.h"
#include "util/fs.h"

#define DIR_MODE 0755

typedef struct {
	const char *name; /* file name in dir */
	const char *part; /* "cert", "chain", ... for messages */
	util_buf data;
	unsigned mode;
} file_item;

enum { NITEMS = 5 };

static void items_free(file_item *items)
{
	int i;

	for (i = 0; i < NITEMS; i++)
		util_buf_free(&items[i].data);
}

/*
 * Fills the items of t with their content; unused ones have name NULL.
 * The bytes come from observe_file_content, the one definition that
 * observe compares with, so a deployed target is never seen as drifted.
 */
static int items_build(file_item items[NITEMS], const config_target *t,
		       const target_material *m)
{
	const char *names[NITEMS] = { t->files.cert, t->files.chain, t->files.fullchain,
				      t->files.key, t->files.combined };
	int i, error;

	memset(items, 0, NITEMS * sizeof(*items));
	for (i = 0; i < NITEMS; i++) {
		observe_file_role role = (observe_file_role)i;

		items[i].name = names[i];
		items[i].part = observe_file_role_name(role);
		items[i].mode = observe_file_mode(t, role);
		if (!names[i])
			continue;
		if ((error = observe_file_content(&items[i].data, role, m->chain_pem,
						  m->key_pem)) < 0)
			return util_error_wrap("certificate '%s'", m->name);
	}
	return 0;
}

static int is_number(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

/* Resolves owner/group names (or numbers); (uid_t)-1 when not given. */
static int resolve_ids(uid_t *uid, gid_t *gid, const config_target *t)
{
	char buf[4096];
	struct passwd pw, *pwp = NULL;
	struct group gr, *grp = NULL;

	*uid = (uid_t)-1;
	*gid = (gid_t)-1;
	if (t->files.owner) {
		if (is_number(t->files.owner))
			*uid = (uid_t)strtoul(t->files.owner, NULL, 10);
		else if (getpwnam_r(t->files.owner, &pw, buf, sizeof(buf), &pwp) || !pwp)
			return util_error_set(CERTOPS_EINVALID, "unknown user '%s' (owner of %s)",
					      t->files.owner, t->files.dir);
		else
			*uid = pwp->pw_uid;
	}
	if (t->files.group) {
		if (is_number(t->files.group))
			*gid = (gid_t)strtoul(t->files.group, NULL, 10);
		else if (getgrnam_r(t->files.group, &gr, buf, sizeof(buf), &grp) || !grp)
			return util_error_set(CERTOPS_EINVALID, "unknown group '%s' (group of %s)",
					      t->files.group, t->files.dir);
		else
			*gid = grp->gr_gid;
	}
	return 0;
}

/* The first file the target writes: unique per target (validation). */
static const char *first_name(const config_target *t)
{
	if (t->files.fullchain)
		return t->files.fullchain;
	if (t->files.cert)
		return t->files.cert;
	if (t->files.combined)
		return t->files.combined;
	if (t->files.key)
		return t->files.key;
	return t->files.chain ? t->files.chain : "";
}

static int files_describe(util_buf *out, const config_target *t)
{
	util_buf_puts(out, "files:");
	util_fs_join(out, t->files.dir, first_name(t));
	return util_buf_failed(out) ?
		util_error_set(CERTOPS_ENOMEM, "out of memory") : 0;
}

static int files_observe(target_drifts *drifts, const target_env *env,
			 const config_target *t, const target_material *m)
{
	file_item items[NITEMS];
	util_buf path = UTIL_BUF_INIT, have = UTIL_BUF_INIT;
	uid_t uid;
	gid_t gid;
	struct stat st;
	int i, error;

	if ((error = items_build(items, t, m)) < 0 ||
	    (error = resolve_ids(&uid, &gid, t)) < 0)
		goto done;
	for (i = 0; i < NITEMS && error == 0; i++) {
		if (!items[i].name)
			continue;
		util_buf_clear(&path);
		util_fs_join(&path, t->files.dir, items[i].name);
		if (util_buf_failed(&path)) {
			error = util_error_set(CERTOPS_ENOMEM, "out of memory");
			break;
		}
		if (stat(path.ptr, &st) < 0) {
			error = target_drifts_add(drifts, path.ptr, "%s",
						  errno == ENOENT ? "missing" : strerror(errno));
			continue;
		}
		if (env && env->policy && target__check_write(NULL, env, path.ptr) < 0) {
			error = target_drifts_add(drifts, path.ptr, "%s", util_error_message());
			continue;
		}
		util_buf_clear(&have);
		if (!S_ISREG(st.st_mode) ||
		    util_fs_read_file(&have, path.ptr, 1 << 20) < 0 ||
		    have.size != items[i].data.size ||
		    memcmp(have.ptr, items[i].data.ptr, have.size))
			error = target_drifts_add(drifts, path.ptr,
						  "content differs from the %s of certificate '%s'",
						  items[i].part, m->name);
		if (error == 0 && (st.st_mode & 07777) != items[i].mode)
			error = target_drifts_add(drifts, path.ptr, "mode %04o, want %04o",
						  (unsigned)(st.st_mode & 07777), items[i].mode);
		if (error == 0 && uid != (uid_t)-1 && st.st_uid != uid)
			error = target_drifts_add(drifts, path.ptr, "owner %ld, want %ld",
						  (long)st.st_uid, (long)uid);
		if (error == 0 && gid != (gid_t)-1 && st.st_gid != gid)
			error = target_drifts_add(drifts, path.ptr, "group %ld, want %ld",
						  (long)st.st_gid, (long)gid);
	}
done:
	items_free(items);
	util_buf_free(&path);
	util_buf_free(&have);
	return error;
}

static int files_deploy(const target_env *env, const config_target *t,
			const target_material *m)
{
	file_item items[NITEMS];
	util_buf real = UTIL_BUF_INIT, path = UTIL_BUF_INIT;
	uid_t uid;
	gid_t gid;
	int i, error;

	if ((error = items_build(items, t, m)) < 0 ||
	    (error = resolve_ids(&uid, &gid, t)) < 0 ||
	    (error = target__check_write(&real, env, t->files.dir)) < 0 ||
	    (error = util_fs_mkdir_p(real.ptr, DIR_MODE)) < 0)
		goto done;
	/* again, now that it exists: it may have been swapped for a link */
	util_buf_clear(&real);
	if ((error = target__check_write(&real, env, t->files.dir)) < 0)
		goto done;
	/* the key first, so a reader never finds a certificate without it */
	for (i = NITEMS - 1; i >= 0; i--) {
		if (!items[i].name)
			continue;
		util_buf_clear(&path);
		util_buf_clear(&real);
		util_fs_join(&path, t->files.dir, items[i].name);
		if (util_buf_failed(&path)) {
			error = util_error_set(CERTOPS_ENOMEM, "out of memory");
			goto done;
		}
		if ((error = target__check_write(&real, env, path.ptr)) < 0 ||
		    (error = util_fs_write_atomic(real.ptr, items[i].data.ptr,
						  items[i].data.size, items[i].mode)) < 0)
			goto done;
		if ((uid != (uid_t)-1 || gid != (gid_t)-1) && lchown(real.ptr, uid, gid) < 0) {
			error = util_error_set_errno(CERTOPS_ERROR, "changing the owner of '%s'",
						     real.ptr);
			goto done;
		}
	}
done:
	items_free(items);
	util_buf_free(&real);
	util_buf_free(&path);
	return error;
}

const target_ops target__files_ops = {
	"files",
	files_describe,
	files_observe,
	files_deploy,
};
