/*
 * The bytes of every file a target writes, defined once: the files target
 * writes them, pkcs12 and vault take their parts from them, and
 * observation compares what is on disk with exactly these bytes, so a
 * target certops wrote is never seen as drifted.
 */
#include <stdint.h>
#include <string.h>

#include "target/target.h"
#include "util/error.h"

static const char *const role_names[TARGET_FILE__COUNT] = {
	"cert", "chain", "fullchain", "key", "combined"
};

const char *target_file_role_name(target_file_role role)
{
	return (unsigned)role < TARGET_FILE__COUNT ? role_names[role] : "unknown";
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

int target_file_content(util_buf *out, target_file_role role,
			const char *chain_pem, const char *key_pem)
{
	util_buf tmp = UTIL_BUF_INIT;
	int error = 0;

	if (!chain_pem || put_cert_blocks(&tmp, chain_pem, 0, 0) == 0) {
		error = util_error_set(CERTOPS_EINVALID, "the chain holds no certificate");
		goto done;
	}
	if ((role == TARGET_FILE_KEY || role == TARGET_FILE_COMBINED) && !key_pem) {
		error = util_error_set(CERTOPS_EINVALID, "no private key to write");
		goto done;
	}
	switch (role) {
	case TARGET_FILE_CERT:
		put_cert_blocks(out, chain_pem, 0, 1);
		break;
	case TARGET_FILE_CHAIN:
		put_cert_blocks(out, chain_pem, 1, SIZE_MAX);
		break;
	case TARGET_FILE_FULLCHAIN:
		put_cert_blocks(out, chain_pem, 0, SIZE_MAX);
		break;
	case TARGET_FILE_KEY:
		put_key(out, key_pem);
		break;
	case TARGET_FILE_COMBINED:
		put_key(out, key_pem);
		put_cert_blocks(out, chain_pem, 0, SIZE_MAX);
		break;
	default:
		error = util_error_set(CERTOPS_EINVALID, "unknown file role %d", (int)role);
		goto done;
	}
	if (util_buf_failed(out))
		error = util_error_oom();
done:
	util_buf_release(&tmp);
	return error;
}

unsigned target_file_mode(const config_target *t, target_file_role role)
{
	if (role == TARGET_FILE_KEY || role == TARGET_FILE_COMBINED)
		return t->files.mode;
	return 0644;
}
