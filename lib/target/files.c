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
 *
 * Observation reads every configured file and compares it byte for byte
 * with target_file_content (the bytes deploy writes); only a file that
 * differs is parsed, to say how it drifted, so an in-sync target costs a
 * stat and a read per file.  It reads at the declared paths and writes
 * nothing, so it needs no policy.
 */
#include <errno.h>
#include <stdarg.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/crypto.h"
#include "target_internal.h"
#include "util/error.h"
#include "util/fingerprint.h"
#include "util/fs.h"

#define DIR_MODE 0755
/* Deployed files are small; anything bigger is not ours. */
#define FILE_MAX (1024 * 1024)

typedef struct {
	const char *name; /* file name in dir */
	const char *part; /* "cert", "chain", ... for messages */
	util_buf data;
	unsigned mode;
} file_item;

enum { NITEMS = TARGET_FILE__COUNT };

static void items_release(file_item *items)
{
	int i;

	for (i = 0; i < NITEMS; i++)
		util_buf_release(&items[i].data);
}

/* The configured file name of role, or NULL when t does not write it. */
static const char *role_file(const config_target *t, target_file_role role)
{
	switch (role) {
	case TARGET_FILE_CERT: return t->files.cert;
	case TARGET_FILE_CHAIN: return t->files.chain;
	case TARGET_FILE_FULLCHAIN: return t->files.fullchain;
	case TARGET_FILE_KEY: return t->files.key;
	case TARGET_FILE_COMBINED: return t->files.combined;
	default: return NULL;
	}
}

/*
 * Fills the items of t with their content; unused ones have name NULL.
 * The bytes come from target_file_content, the one definition that
 * observe compares with, so a deployed target is never seen as drifted.
 */
static int items_build(file_item items[NITEMS], const config_target *t,
		       const target_material *m)
{
	int i, error;

	memset(items, 0, NITEMS * sizeof(*items));
	for (i = 0; i < NITEMS; i++) {
		target_file_role role = (target_file_role)i;

		items[i].name = role_file(t, role);
		items[i].part = target_file_role_name(role);
		items[i].mode = target_file_mode(t, role);
		if (!items[i].name)
			continue;
		if ((error = target_file_content(&items[i].data, role, m->chain_pem,
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

/*
 * The id of a user (group: 1) or group name, or of a numeric id; -1 when
 * name is NULL, -2 when no such user or group exists.
 */
static long lookup_id(const char *name, int group)
{
	char buf[4096];
	struct passwd pw, *pwp = NULL;
	struct group gr, *grp = NULL;

	if (!name)
		return -1;
	if (is_number(name))
		return (long)strtoul(name, NULL, 10);
	if (group)
		return getgrnam_r(name, &gr, buf, sizeof(buf), &grp) == 0 && grp ?
			(long)grp->gr_gid : -2;
	return getpwnam_r(name, &pw, buf, sizeof(buf), &pwp) == 0 && pwp ?
		(long)pwp->pw_uid : -2;
}

/* Resolves owner/group for a deploy; (uid_t)-1 when not given. */
static int resolve_ids(uid_t *uid, gid_t *gid, const config_target *t)
{
	long u = lookup_id(t->files.owner, 0), g = lookup_id(t->files.group, 1);

	*uid = (uid_t)-1;
	*gid = (gid_t)-1;
	if (u == -2)
		return util_error_set(CERTOPS_EINVALID, "unknown user '%s' (owner of %s)",
				      t->files.owner, t->files.dir);
	if (g == -2)
		return util_error_set(CERTOPS_EINVALID, "unknown group '%s' (group of %s)",
				      t->files.group, t->files.dir);
	if (u >= 0)
		*uid = (uid_t)u;
	if (g >= 0)
		*gid = (gid_t)g;
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
		util_error_oom() : 0;
}

/* The lazily parsed current certificate, for key matching on drift. */
typedef struct {
	const char *chain_pem;
	int parsed; /* 0 not tried, 1 ok, -1 failed */
	crypto_cert_info info;
} current_leaf;

static int leaf_get(current_leaf *leaf)
{
	if (!leaf->parsed)
		leaf->parsed = leaf->chain_pem &&
			crypto_cert_parse(&leaf->info, leaf->chain_pem,
					  strlen(leaf->chain_pem)) == 0 ? 1 : -1;
	return leaf->parsed == 1;
}

/* Fills the "how it differs" fields of a file whose bytes are not ours. */
static int explain_file(target_file *f, const util_buf *data, current_leaf *leaf)
{
	crypto_cert_info info;
	crypto_key *key = NULL;
	char fp[UTIL_FINGERPRINT_HEX_LEN + 1];
	util_buf b = UTIL_BUF_INIT;
	int error = 0;

	f->key_matches = -1;
	if (f->role != TARGET_FILE_KEY && strstr(data->ptr, "-----BEGIN CERTIFICATE-----")) {
		memset(&info, 0, sizeof(info));
		if (crypto_cert_parse(&info, data->ptr, data->size) == 0) {
			crypto_hex_encode(&b, info.fingerprint, sizeof(info.fingerprint), 0);
			if (!util_buf_failed(&b) && util_fingerprint_norm(fp, b.ptr) == 0 &&
			    !(f->fingerprint = strdup(fp)))
				error = util_error_oom();
			crypto_cert_info_release(&info);
		}
	}
	if (f->role == TARGET_FILE_KEY || f->role == TARGET_FILE_COMBINED) {
		if (crypto_key_parse(&key, data->ptr, data->size) == 0 && leaf_get(leaf))
			f->key_matches = crypto_cert_matches_key(&leaf->info, key) == 1;
		crypto_key_free(key);
	}
	util_buf_release(&b);
	if (!error)
		util_error_clear();
	return error;
}

/* Sets *field (freeing an older value) to a message; 0 or CERTOPS_ENOMEM. */
static int set_msg(char **field, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int set_msg(char **field, const char *fmt, ...)
{
	util_buf m = UTIL_BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	util_buf_vprintf(&m, fmt, ap);
	va_end(ap);
	free(*field);
	if (util_buf_failed(&m) || !(*field = util_buf_detach(&m)))
		return util_error_oom();
	return 0;
}

static int observe_one_file(target_file *f, const char *dir, const char *name,
			    target_file_role role, const target_material *m,
			    current_leaf *leaf)
{
	util_buf path = UTIL_BUF_INIT, data = UTIL_BUF_INIT, want = UTIL_BUF_INIT;
	struct stat sb;
	int error = 0;

	f->role = role;
	f->content_matches = -1;
	f->key_matches = -1;
	util_fs_join(&path, dir, name);
	if (util_buf_failed(&path) || !(f->path = util_buf_detach(&path))) {
		error = util_error_oom();
		goto done;
	}
	if (stat(f->path, &sb) < 0) {
		if (errno != ENOENT && errno != ENOTDIR)
			error = set_msg(&f->error, "cannot stat '%s': %s", f->path, strerror(errno));
		goto done;
	}
	if (!S_ISREG(sb.st_mode)) {
		error = set_msg(&f->error, "'%s' is not a regular file", f->path);
		goto done;
	}
	f->exists = 1;
	f->mode = sb.st_mode & 07777;
	f->uid = sb.st_uid;
	f->gid = sb.st_gid;
	if (util_fs_read_file(&data, f->path, FILE_MAX) < 0) {
		error = set_msg(&f->error, "%s", util_error_message());
		util_error_clear();
		goto done;
	}
	if (!m->chain_pem || ((role == TARGET_FILE_KEY || role == TARGET_FILE_COMBINED) && !m->key_pem))
		goto done; /* nothing to compare with */
	if ((error = target_file_content(&want, role, m->chain_pem, m->key_pem)) < 0) {
		if (error != CERTOPS_ENOMEM) {
			error = 0;
			util_error_clear();
		}
		goto done;
	}
	f->content_matches = want.size == data.size &&
		memcmp(want.ptr, data.ptr, data.size) == 0;
	if (!f->content_matches)
		error = explain_file(f, &data, leaf);
done:
	util_buf_release(&path);
	util_buf_release(&data); /* may hold key bytes: freed, never logged */
	util_buf_release(&want);
	return error;
}

static int resolve_owner(target_observation *o, const config_target *t)
{
	int error = 0;

	o->want_uid = lookup_id(t->files.owner, 0);
	o->want_gid = lookup_id(t->files.group, 1);
	if (o->want_uid == -2) {
		o->want_uid = -1;
		error = set_msg(&o->owner_error, "unknown user '%s'", t->files.owner);
	}
	if (!error && o->want_gid == -2) {
		o->want_gid = -1;
		error = set_msg(&o->owner_error, "unknown group '%s'", t->files.group);
	}
	return error;
}

/* The drift text of what was found, one item per difference. */
static int describe_drift(target_observation *o, const config_target *t,
			  const target_material *m)
{
	size_t i;
	int error = 0;

	if (o->owner_error)
		error = target__drift_add(o, t->files.dir, "%s", o->owner_error);
	for (i = 0; i < o->nfiles && !error; i++) {
		const target_file *f = &o->files[i];
		unsigned want = target_file_mode(t, f->role);

		if (!f->exists || f->error) {
			error = target__drift_add(o, f->path, "%s", f->error ? f->error : "missing");
			continue;
		}
		if (f->content_matches == 0)
			error = target__drift_add(o, f->path,
						  "content differs from the %s of certificate '%s'",
						  target_file_role_name(f->role), m->name);
		if (!error && f->mode != want)
			error = target__drift_add(o, f->path, "mode %04o, want %04o", f->mode, want);
		if (!error && o->want_uid >= 0 && (long)f->uid != o->want_uid)
			error = target__drift_add(o, f->path, "owner %ld, want %ld",
						  (long)f->uid, o->want_uid);
		if (!error && o->want_gid >= 0 && (long)f->gid != o->want_gid)
			error = target__drift_add(o, f->path, "group %ld, want %ld",
						  (long)f->gid, o->want_gid);
	}
	return error;
}

static int files_observe(target_observation *o, const target_env *env,
			 const config_target *t, const target_material *m)
{
	current_leaf leaf = { m->chain_pem, 0, { 0 } };
	char current_fp[UTIL_FINGERPRINT_HEX_LEN + 1];
	int have_fp = util_fingerprint_norm(current_fp, m->fingerprint) == 0;
	size_t nexist = 0, i;
	int role, error = 0;

	(void)env; /* reads at the declared paths; writes nothing */
	if (!(o->files = calloc(TARGET_FILE__COUNT, sizeof(*o->files))))
		return util_error_oom();
	if ((error = resolve_owner(o, t)) < 0)
		goto done;
	for (role = 0; role < TARGET_FILE__COUNT; role++) {
		const char *name = role_file(t, (target_file_role)role);

		if (!name)
			continue;
		if ((error = observe_one_file(&o->files[o->nfiles++], t->files.dir, name,
					      (target_file_role)role, m, &leaf)) < 0)
			goto done;
	}
	for (i = 0; i < o->nfiles; i++) {
		const target_file *f = &o->files[i];

		nexist += f->exists;
		/* the leaf found: the first certificate-bearing file's */
		if (!o->fingerprint && f->exists && f->role != TARGET_FILE_KEY) {
			const char *fp = f->content_matches == 1 ?
				(have_fp ? current_fp : NULL) : f->fingerprint;

			if (fp && !(o->fingerprint = strdup(fp))) {
				error = util_error_oom();
				goto done;
			}
		}
	}
	o->present = nexist == 0 ? TARGET_PRESENT_NO :
		nexist == o->nfiles ? TARGET_PRESENT_YES : TARGET_PRESENT_PARTIAL;
	error = describe_drift(o, t, m);
done:
	if (leaf.parsed == 1)
		crypto_cert_info_release(&leaf.info);
	return error;
}

static int files_needs_key(const config_target *t)
{
	return t->files.key || t->files.combined;
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
			error = util_error_oom();
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
	items_release(items);
	util_buf_release(&real);
	util_buf_release(&path);
	return error;
}

const target_ops target__files_ops = {
	"files",
	files_describe,
	files_observe,
	files_deploy,
	files_needs_key,
};
