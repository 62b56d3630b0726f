/*
 * Unit tests of lib/crypto/pkcs12.c: bundles built by certops open with
 * the openssl command (an independent reader), with the right encryption,
 * MAC digest, friendly name and chain (without the root), and read back
 * to the leaf fingerprint and key match; a wrong password is refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "crypto/crypto.h"
#include "crypto/pkcs12.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/log.h"

typedef struct {
	char dir[64];
	util_buf leaf, chain;
	crypto_key *key;
	crypto_cert_info info;
} fixture;

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	util_buf cmd = UTIL_BUF_INIT;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	util_buf_vprintf(&cmd, fmt, ap);
	va_end(ap);
	rc = system(cmd.ptr);
	util_buf_release(&cmd);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* Runs a command and returns its stdout+stderr (caller frees). */
static char *sh_out(const char *cmd)
{
	util_buf out = UTIL_BUF_INIT;
	char chunk[4096];
	size_t n;
	FILE *p = popen(cmd, "r");

	assert_non_null(p);
	while ((n = fread(chunk, 1, sizeof(chunk), p)) > 0)
		util_buf_put(&out, chunk, n);
	pclose(p);
	return util_buf_detach(&out);
}

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));
	util_buf path = UTIL_BUF_INIT;

	snprintf(f->dir, sizeof(f->dir), "/tmp/certops-p12-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	/* root -> intermediate -> leaf, made by the openssl command. */
	if (sh("cd %s && "
	       "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
	       "-keyout root.key -out root.pem -subj /CN=p12-root -days 30 "
	       "-addext basicConstraints=critical,CA:TRUE 2>/dev/null && "
	       "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
	       "-keyout int.key -out int.csr -subj /CN=p12-int 2>/dev/null && "
	       "printf 'basicConstraints=critical,CA:TRUE\\n' > ca.ext && "
	       "openssl x509 -req -in int.csr -CA root.pem -CAkey root.key "
	       "-CAcreateserial -out int.pem -days 30 -extfile ca.ext 2>/dev/null && "
	       "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
	       "-keyout leaf.key -out leaf.csr -subj /CN=www.example.test 2>/dev/null && "
	       "openssl x509 -req -in leaf.csr -CA int.pem -CAkey int.key "
	       "-CAcreateserial -out leaf.pem -days 30 2>/dev/null && "
	       "cat int.pem root.pem > chain.pem", f->dir) != 0)
		return -1;
	util_fs_join(&path, f->dir, "leaf.pem");
	if (util_fs_read_file(&f->leaf, path.ptr, 0) < 0)
		return -1;
	util_buf_clear(&path);
	util_fs_join(&path, f->dir, "chain.pem");
	if (util_fs_read_file(&f->chain, path.ptr, 0) < 0)
		return -1;
	util_buf_clear(&path);
	util_fs_join(&path, f->dir, "leaf.key");
	if (crypto_key_load(&f->key, path.ptr) < 0)
		return -1;
	util_buf_release(&path);
	if (crypto_cert_parse(&f->info, f->leaf.ptr, f->leaf.size) < 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;

	sh("rm -rf %s", f->dir);
	util_buf_release(&f->leaf);
	util_buf_release(&f->chain);
	crypto_key_free(f->key);
	crypto_cert_info_release(&f->info);
	util_secret_clear();
	free(f);
	return 0;
}

/* Builds a bundle and writes it to dir/name. */
static void build_to(fixture *f, const char *name, const crypto_pkcs12_opts *o,
		     util_buf *der)
{
	util_buf path = UTIL_BUF_INIT;

	assert_int_equal(crypto_pkcs12_build(der, f->leaf.ptr, f->leaf.size,
					     f->chain.ptr, f->chain.size, f->key, o), 0);
	util_fs_join(&path, f->dir, name);
	assert_int_equal(util_fs_write_atomic(path.ptr, der->ptr, der->size, 0600), 0);
	util_buf_release(&path);
}

static void check_with_openssl(fixture *f, const char *name, const char *pass,
			       const char *want_alg, const char *want_mac)
{
	util_buf cmd = UTIL_BUF_INIT;
	char *out;

	/* -info prints the algorithms (on stderr); -nokeys the cert bags. */
	util_buf_printf(&cmd, "cd %s && openssl pkcs12 -in %s -info -nokeys "
			"-passin pass:%s 2>&1", f->dir, name, pass);
	out = sh_out(cmd.ptr);
	assert_non_null(strstr(out, want_alg));
	assert_non_null(strstr(out, want_mac));
	assert_non_null(strstr(out, "friendlyName: www-tls"));
	assert_non_null(strstr(out, "subject=CN = www.example.test"));
	assert_non_null(strstr(out, "subject=CN = p12-int"));
	/* The root is not shipped in the bundle. */
	assert_null(strstr(out, "subject=CN = p12-root"));
	free(out);

	assert_int_equal(sh("cd %s && openssl pkcs12 -in %s -info -noout -passin pass:%s 2>/dev/null",
			    f->dir, name, pass), 0);
	assert_int_not_equal(sh("cd %s && openssl pkcs12 -in %s -info -noout -passin pass:wrong-%s 2>/dev/null",
				f->dir, name, pass), 0);
	/* The key in the bundle is the leaf's key. */
	assert_int_equal(sh("cd %s && openssl pkcs12 -in %s -nocerts -nodes -passin pass:%s 2>/dev/null "
			    "| openssl pkey -pubout > p12.pub && openssl pkey -in leaf.key -pubout > leaf.pub "
			    "&& cmp -s p12.pub leaf.pub", f->dir, name, pass), 0);
	util_buf_release(&cmd);
}

static void check_read_back(fixture *f, const util_buf *der, const char *pass,
			    int legacy)
{
	crypto_pkcs12_info info;

	assert_int_equal(crypto_pkcs12_read(&info, der->ptr, der->size, pass), 0);
	assert_memory_equal(info.fingerprint, f->info.fingerprint, 32);
	assert_true(info.has_key);
	assert_true(info.key_matches);
	assert_int_equal(info.nchain, 1);
	assert_non_null(info.friendly_name);
	assert_string_equal(info.friendly_name, "www-tls");
	assert_int_equal(info.has_mac, pass != NULL);
	assert_int_equal(info.legacy_mac, legacy);
	crypto_pkcs12_info_release(&info);

	if (pass) {
		assert_int_equal(crypto_pkcs12_read(&info, der->ptr, der->size, "not-the-password"),
				 CERTOPS_EAUTH);
		assert_int_equal(crypto_pkcs12_read(&info, der->ptr, der->size, NULL),
				 CERTOPS_EAUTH);
		/* The refused password is never echoed. */
		assert_null(strstr(util_error_message(), pass));
	}
}

static void test_modern(void **state)
{
	fixture *f = *state;
	util_buf der = UTIL_BUF_INIT;
	crypto_pkcs12_opts o = { "s3cret-modern", CRYPTO_PKCS12_MODERN, "www-tls" };

	build_to(f, "modern.p12", &o, &der);
	check_with_openssl(f, "modern.p12", "s3cret-modern",
			   "PBES2, PBKDF2, AES-256-CBC, Iteration 2048, PRF hmacWithSHA256",
			   "MAC: sha256");
	check_read_back(f, &der, "s3cret-modern", 0);
	util_buf_release(&der);
}

static void test_legacy(void **state)
{
	fixture *f = *state;
	util_buf der = UTIL_BUF_INIT;
	crypto_pkcs12_opts o = { "s3cret-legacy", CRYPTO_PKCS12_LEGACY, "www-tls" };

	build_to(f, "legacy.p12", &o, &der);
	/* 3DES opens without -legacy: only RC2 needs the legacy provider. */
	check_with_openssl(f, "legacy.p12", "s3cret-legacy",
			   "pbeWithSHA1And3-KeyTripleDES-CBC, Iteration 2048",
			   "MAC: sha1");
	check_read_back(f, &der, "s3cret-legacy", 1);
	util_buf_release(&der);
}

static void test_no_password(void **state)
{
	fixture *f = *state;
	util_buf der = UTIL_BUF_INIT;
	crypto_pkcs12_opts o = { NULL, CRYPTO_PKCS12_MODERN, "www-tls" };
	char *out;
	util_buf cmd = UTIL_BUF_INIT;

	build_to(f, "none.p12", &o, &der);
	util_buf_printf(&cmd, "cd %s && openssl pkcs12 -in none.p12 -info -nodes -passin pass: 2>&1", f->dir);
	out = sh_out(cmd.ptr);
	assert_non_null(strstr(out, "MAC is absent"));
	assert_non_null(strstr(out, "PKCS7 Data"));
	assert_null(strstr(out, "PKCS7 Encrypted data"));
	assert_non_null(strstr(out, "BEGIN PRIVATE KEY"));
	free(out);
	util_buf_release(&cmd);
	check_read_back(f, &der, NULL, 0);
	util_buf_release(&der);
}

static void test_key_mismatch(void **state)
{
	fixture *f = *state;
	util_buf der = UTIL_BUF_INIT;
	crypto_key *other = NULL;
	crypto_pkcs12_opts o = { "pw-mismatch", CRYPTO_PKCS12_MODERN, NULL };

	assert_int_equal(crypto_key_generate(&other, CRYPTO_KEY_EC_P256), 0);
	assert_int_equal(crypto_pkcs12_build(&der, f->leaf.ptr, f->leaf.size,
					     NULL, 0, other, &o), CERTOPS_EINVALID);
	assert_non_null(strstr(util_error_message(), "does not match"));
	assert_int_equal(der.size, 0);
	crypto_key_free(other);
}

static void test_not_pkcs12(void **state)
{
	crypto_pkcs12_info info;

	(void)state;
	assert_int_equal(crypto_pkcs12_read(&info, "junk", 4, "pw"), CERTOPS_EINVALID);
	assert_null(info.friendly_name);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_modern),
		cmocka_unit_test(test_legacy),
		cmocka_unit_test(test_no_password),
		cmocka_unit_test(test_key_mismatch),
		cmocka_unit_test(test_not_pkcs12),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
