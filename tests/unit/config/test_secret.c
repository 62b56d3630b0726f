/*
 * Unit tests of config_secret_read (lib/config/secret.c): it refuses what
 * the policy refuses (a variable outside secrets.env, a file outside
 * secrets.files, a symlink inside an allowed directory that leads out of
 * it, a '..' path), reads what it allows (a file losing its trailing
 * newline), and registers the value so that no message shows it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/policy.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/log.h"

typedef struct {
	char dir[64];          /* allowed: dir/secrets */
	char outside[96];      /* dir/outside.txt: not allowed */
	config_policy *p;
} fixture;

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));
	util_buf text = UTIL_BUF_INIT, path = UTIL_BUF_INIT;
	util_diags d = UTIL_DIAGS_INIT;

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/certops-secret-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	util_buf_printf(&path, "%s/secrets", f->dir);
	if (mkdir(path.ptr, 0700) < 0)
		return -1;
	snprintf(f->outside, sizeof(f->outside), "%s/outside.txt", f->dir);
	if (util_fs_write_atomic(f->outside, "outside-value\n", 14, 0600) < 0)
		return -1;
	util_buf_printf(&text, "secrets:\n  env: [CERTOPS_TEST_*]\n  files: [%s]\n", path.ptr);
	if (config_policy_parse(&f->p, &d, "policy.yaml", text.ptr, text.size, NULL) < 0)
		return -1;
	util_diags_release(&d);
	util_buf_release(&text);
	util_buf_release(&path);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	util_buf cmd = UTIL_BUF_INIT;

	util_buf_printf(&cmd, "rm -rf '%s'", f->dir);
	if (system(cmd.ptr) != 0)
		return -1;
	util_buf_release(&cmd);
	config_policy_free(f->p);
	free(f);
	util_secret_clear();
	return 0;
}

static config_secret secret(config_secret_source src, const char *ref)
{
	config_secret s = { src, ref, { "certs/www.yaml", 7, 9 } };
	return s;
}

static void path_in(util_buf *b, const fixture *f, const char *rel)
{
	util_buf_clear(b);
	util_buf_printf(b, "%s/%s", f->dir, rel);
}

static void test_env_allowed_and_registered(void **state)
{
	fixture *f = *state;
	config_secret s = secret(CONFIG_SECRET_ENV, "CERTOPS_TEST_TOKEN");
	char *v = NULL;

	setenv("CERTOPS_TEST_TOKEN", "s3cr3t-token-value", 1);
	assert_int_equal(config_secret_read(&v, f->p, &s), 0);
	assert_string_equal(v, "s3cr3t-token-value");
	/* registered: a message that quotes it shows [redacted] */
	util_error_set(CERTOPS_ERROR, "vault said: %s", v);
	assert_string_equal(util_error_message(), "vault said: [redacted]");
	free(v);
	unsetenv("CERTOPS_TEST_TOKEN");
	assert_int_equal(config_secret_read(&v, f->p, &s), CERTOPS_ENOTFOUND);
	assert_null(v);
	assert_string_equal(util_error_message(), "environment variable 'CERTOPS_TEST_TOKEN' is not set");
}

static void test_env_refused(void **state)
{
	fixture *f = *state;
	config_secret s = secret(CONFIG_SECRET_ENV, "VAULT_TOKEN");
	char *v = NULL;

	setenv("VAULT_TOKEN", "hvs.must-not-be-read", 1);
	assert_int_equal(config_secret_read(&v, f->p, &s), CERTOPS_EPOLICY);
	assert_null(v);
	assert_string_equal(util_error_last()->file, "certs/www.yaml");
	assert_int_equal(util_error_last()->line, 7);
	assert_int_equal(util_error_last()->column, 9);
	assert_string_equal(util_error_message(),
			    "reading secret 'VAULT_TOKEN' is not allowed by the policy (policy.yaml)");
	unsetenv("VAULT_TOKEN");
}

static void test_file_allowed_trimmed(void **state)
{
	fixture *f = *state;
	util_buf path = UTIL_BUF_INIT;
	config_secret s;
	char *v = NULL;

	path_in(&path, f, "secrets/eab.key");
	assert_int_equal(util_fs_write_atomic(path.ptr, "hmac-key-bytes\r\n\n", 17, 0600), 0);
	s = secret(CONFIG_SECRET_FILE, path.ptr);
	assert_int_equal(config_secret_read(&v, f->p, &s), 0);
	assert_string_equal(v, "hmac-key-bytes");
	free(v);
	path_in(&path, f, "secrets/missing.key");
	s = secret(CONFIG_SECRET_FILE, path.ptr);
	assert_int_equal(config_secret_read(&v, f->p, &s), CERTOPS_ENOTFOUND);
	assert_null(v);
	util_buf_release(&path);
}

static void test_file_refused(void **state)
{
	fixture *f = *state;
	util_buf path = UTIL_BUF_INIT;
	config_secret s = secret(CONFIG_SECRET_FILE, f->outside);
	char *v = NULL;

	/* outside secrets.files */
	assert_int_equal(config_secret_read(&v, f->p, &s), CERTOPS_EPOLICY);
	assert_null(v);
	/* textually inside, but climbing out with '..' */
	path_in(&path, f, "secrets/../outside.txt");
	s = secret(CONFIG_SECRET_FILE, path.ptr);
	assert_int_equal(config_secret_read(&v, f->p, &s), CERTOPS_EPOLICY);
	assert_null(v);
	/* a prefix that is not a directory boundary */
	path_in(&path, f, "secrets-other");
	s = secret(CONFIG_SECRET_FILE, path.ptr);
	assert_int_equal(config_secret_read(&v, f->p, &s), CERTOPS_EPOLICY);
	util_buf_release(&path);
}

static void test_symlink_out_refused(void **state)
{
	fixture *f = *state;
	util_buf link = UTIL_BUF_INIT, inside = UTIL_BUF_INIT;
	config_secret s;
	char *v = NULL;

	path_in(&link, f, "secrets/escape.key");
	assert_int_equal(symlink(f->outside, link.ptr), 0);
	s = secret(CONFIG_SECRET_FILE, link.ptr);
	assert_int_equal(config_secret_read(&v, f->p, &s), CERTOPS_EPOLICY);
	assert_null(v);
	assert_non_null(strstr(util_error_message(), "resolves to '"));
	assert_non_null(strstr(util_error_message(), "outside.txt', which the policy (policy.yaml) does not allow"));
	/* a link that stays inside is fine */
	path_in(&inside, f, "secrets/real.key");
	assert_int_equal(util_fs_write_atomic(inside.ptr, "inside-value", 12, 0600), 0);
	path_in(&link, f, "secrets/alias.key");
	assert_int_equal(symlink(inside.ptr, link.ptr), 0);
	s = secret(CONFIG_SECRET_FILE, link.ptr);
	assert_int_equal(config_secret_read(&v, f->p, &s), 0);
	assert_string_equal(v, "inside-value");
	free(v);
	util_buf_release(&link);
	util_buf_release(&inside);
}

static void test_none_and_default_policy(void **state)
{
	fixture *f = *state;
	config_secret none = { 0 };
	config_secret file = secret(CONFIG_SECRET_FILE, f->outside);
	config_policy *def = NULL;
	char *v = NULL;

	assert_int_equal(config_secret_read(&v, f->p, &none), CERTOPS_EINVALID);
	assert_string_equal(util_error_message(), "no secret given");
	/* the built-in policy reads no file at all */
	assert_int_equal(config_policy_default(&def, NULL), 0);
	assert_int_equal(config_secret_read(&v, def, &file), CERTOPS_EPOLICY);
	assert_null(v);
	config_policy_free(def);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_env_allowed_and_registered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_env_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_allowed_trimmed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_symlink_out_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_none_and_default_policy, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
