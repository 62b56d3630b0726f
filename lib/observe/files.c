/*
 * observe: deploy targets as they are.  A `files` target is read file by
 * file and compared byte for byte with what the files target writes for
 * the current certificate (observe_file_content, the one definition both
 * sides use); only a file that differs is parsed, to say how it drifted,
 * so an in-sync target costs a stat and a read per file.
 */
#include <errno.h>
#include <stdint.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/crypto.h"
#include "observe/observe.h"
#include "observe/observe_internal.h"
#include "util/error.h"
#include "util/fs.h"

/* Deployed files are small; anything bigger is not ours. */
#define FILE_MAX (1024 * 1024)

static const char *const role_names[OBSERVE_FILE__COUNT] = {
	"cert", "chain", "fullchain", "key", "combined"
};

const char *observe_file_role_name(observe_file_role role)
{
	return (unsigned)role < OBSERVE_FILE__COUNT ? role_names[role] : "unknown";
}

int observe_target_id(util_buf *out, const config_certificate *cert,
		      const config_target *target)
{
	util_buf_printf(out, "%s:%s[%u]", cert->name,
			config_target_type_name(target->type), target->index);
	return util_buf_failed(out) ? CERTOPS_ENOMEM : 0;
}

/* Appends the CERTIFICATE blocks of pem numbered [skip, skip + max), each
 * ending in "\n"; returns how many blocks there were in all. */
static size_t put_cert_blocks(util_buf *out, const char *pem, size_t skip,
			      size_t max)
{
	static const char begin[] = "-----BEGIN CERTIFICATE-----";
	static const char end[] = "-----END CERTIFICATE-----";
	const char *p = pem, *b, *e;
	size_t n = 0;

	while (p && (b = strstr(p, begin)) && (e = strstr(b, end))) {
		e += sizeof(end) - 1;
		if (n >= skip && n - skip < max) {
			util_buf_put(out, b, (size_t)(e - b));
			util_buf_putc(out, '\n');
		}
		n++;
		p = e;
	}
	return n;
}

static void put_key(util_buf *out, const char *key_pem)
{
	size_t len = strlen(key_pem);

	util_buf_put(out, key_pem, len);
	if (len && key_pem[len - 1] != '\n')
		util_buf_putc(out, '\n');
}

int observe_file_content(util_buf *out, observe_file_role role,
			 const char *chain_pem, const char *key_pem)
{
	util_buf tmp = UTIL_BUF_INIT;
	int error = 0;

	if (!chain_pem || put_cert_blocks(&tmp, chain_pem, 0, 0) == 0) {
		error = util_error_set(CERTOPS_EINVALID, "the chain holds no certificate");
		goto done;
	}
	if ((role == OBSERVE_FILE_KEY || role == OBSERVE_FILE_COMBINED) && !key_pem) {
		error = util_error_set(CERTOPS_EINVALID, "no private key to write");
		goto done;
	}
	switch (role) {
	case OBSERVE_FILE_CERT:
		put_cert_blocks(out, chain_pem, 0, 1);
		break;
	case OBSERVE_FILE_CHAIN:
		put_cert_blocks(out, chain_pem, 1, SIZE_MAX);
		break;
	case OBSERVE_FILE_FULLCHAIN:
		put_cert_blocks(out, chain_pem, 0, SIZE_MAX);
		break;
	case OBSERVE_FILE_KEY:
		put_key(out, key_pem);
		break;
	case OBSERVE_FILE_COMBINED:
		put_key(out, key_pem);
		put_cert_blocks(out, chain_pem, 0, SIZE_MAX);
		break;
	default:
		error = util_error_set(CERTOPS_EINVALID, "unknown file role %d", (int)role);
		goto done;
	}
	if (util_buf_failed(out))
		error = CERTOPS_ENOMEM;
done:
	util_buf_free(&tmp);
	return error;
}

unsigned observe_file_mode(const config_target *t, observe_file_role role)
{
	if (role == OBSERVE_FILE_KEY || role == OBSERVE_FILE_COMBINED)
		return t->files.mode;
	return 0644;
}

static const char *role_file(const config_target *t, observe_file_role role)
{
	switch (role) {
	case OBSERVE_FILE_CERT: return t->files.cert;
	case OBSERVE_FILE_CHAIN: return t->files.chain;
	case OBSERVE_FILE_FULLCHAIN: return t->files.fullchain;
	case OBSERVE_FILE_KEY: return t->files.key;
	case OBSERVE_FILE_COMBINED: return t->files.combined;
	default: return NULL;
	}
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
static void explain_file(observe_file *f, const util_buf *data,
			 current_leaf *leaf)
{
	crypto_cert_info info;
	crypto_key *key = NULL;
	char hex[65];
	util_buf b = UTIL_BUF_INIT;

	f->key_matches = -1;
	if (f->role != OBSERVE_FILE_KEY && strstr(data->ptr, "-----BEGIN CERTIFICATE-----")) {
		memset(&info, 0, sizeof(info));
		if (crypto_cert_parse(&info, data->ptr, data->size) == 0) {
			crypto_hex_encode(&b, info.fingerprint, sizeof(info.fingerprint), 0);
			if (!util_buf_failed(&b) && observe_fingerprint_norm(hex, b.ptr) == 0)
				f->fingerprint = strdup(hex);
			crypto_cert_info_free(&info);
		}
	}
	if (f->role == OBSERVE_FILE_KEY || f->role == OBSERVE_FILE_COMBINED) {
		if (crypto_key_parse(&key, data->ptr, data->size) == 0 && leaf_get(leaf))
			f->key_matches = crypto_cert_matches_key(&leaf->info, key) == 1;
		crypto_key_free(key);
	}
	util_buf_free(&b);
	util_error_clear();
}

static int observe_one_file(observe_file *f, const char *dir, const char *name,
			    observe_file_role role, const char *chain_pem,
			    const char *key_pem, current_leaf *leaf)
{
	util_buf path = UTIL_BUF_INIT, data = UTIL_BUF_INIT, want = UTIL_BUF_INIT;
	struct stat sb;
	int error = 0, rc;

	f->role = role;
	f->content_matches = -1;
	f->key_matches = -1;
	util_fs_join(&path, dir, name);
	if (util_buf_failed(&path) || !(f->path = util_buf_detach(&path))) {
		error = CERTOPS_ENOMEM;
		goto done;
	}
	if (stat(f->path, &sb) < 0) {
		if (errno != ENOENT && errno != ENOTDIR)
			error = observe__set_errorf(&f->error, "cannot stat '%s': %s",
						    f->path, strerror(errno));
		goto done;
	}
	if (!S_ISREG(sb.st_mode)) {
		error = observe__set_errorf(&f->error, "'%s' is not a regular file", f->path);
		goto done;
	}
	f->exists = 1;
	f->mode = sb.st_mode & 07777;
	f->uid = sb.st_uid;
	f->gid = sb.st_gid;
	if ((rc = util_fs_read_file(&data, f->path, FILE_MAX)) < 0) {
		error = observe__set_errorf(&f->error, "%s", util_error_message());
		util_error_clear();
		goto done;
	}
	if (!chain_pem || ((role == OBSERVE_FILE_KEY || role == OBSERVE_FILE_COMBINED) && !key_pem))
		goto done; /* nothing to compare with */
	if (observe_file_content(&want, role, chain_pem, key_pem) < 0) {
		util_error_clear();
		goto done;
	}
	f->content_matches = want.size == data.size &&
		memcmp(want.ptr, data.ptr, data.size) == 0;
	if (!f->content_matches)
		explain_file(f, &data, leaf);
done:
	util_buf_free(&path);
	util_buf_free(&data); /* may hold key bytes: freed, never logged */
	util_buf_free(&want);
	return error;
}

static void resolve_owner(observe_target *t)
{
	struct passwd pw, *pwp = NULL;
	struct group gr, *grp = NULL;
	char buf[4096];

	t->want_uid = t->want_gid = -1;
	if (t->target->files.owner) {
		if (getpwnam_r(t->target->files.owner, &pw, buf, sizeof(buf), &pwp) == 0 && pwp)
			t->want_uid = (long)pwp->pw_uid;
		else
			observe__set_errorf(&t->owner_error, "unknown user '%s'",
					    t->target->files.owner);
	}
	if (t->target->files.group) {
		if (getgrnam_r(t->target->files.group, &gr, buf, sizeof(buf), &grp) == 0 && grp)
			t->want_gid = (long)grp->gr_gid;
		else
			observe__set_errorf(&t->owner_error, "unknown group '%s'",
					    t->target->files.group);
	}
}

int observe__files(observe_target *t, const char *chain_pem, const char *key_pem,
		   const char *current_fp)
{
	current_leaf leaf = { chain_pem, 0, { 0 } };
	size_t nexist = 0, i;
	int role, error = 0;

	if (!(t->files = calloc(OBSERVE_FILE__COUNT, sizeof(*t->files))))
		return util_error_set(CERTOPS_ENOMEM, "out of memory");
	resolve_owner(t);
	for (role = 0; role < OBSERVE_FILE__COUNT; role++) {
		const char *name = role_file(t->target, (observe_file_role)role);

		if (!name)
			continue;
		if ((error = observe_one_file(&t->files[t->nfiles++], t->target->files.dir,
					      name, (observe_file_role)role, chain_pem,
					      key_pem, &leaf)) == CERTOPS_ENOMEM)
			goto done;
		error = 0;
	}
	for (i = 0; i < t->nfiles; i++) {
		nexist += t->files[i].exists;
		/* the leaf found: the first certificate-bearing file's */
		if (!t->fingerprint && t->files[i].exists &&
		    t->files[i].role != OBSERVE_FILE_KEY) {
			const char *fp = t->files[i].content_matches == 1 ?
				current_fp : t->files[i].fingerprint;
			if (fp && !(t->fingerprint = strdup(fp))) {
				error = util_error_set(CERTOPS_ENOMEM, "out of memory");
				goto done;
			}
		}
	}
	t->present = nexist == 0 ? OBSERVE_PRESENT_NO :
		nexist == t->nfiles ? OBSERVE_PRESENT_YES : OBSERVE_PRESENT_PARTIAL;
done:
	if (leaf.parsed == 1)
		crypto_cert_info_free(&leaf.info);
	return error;
}
