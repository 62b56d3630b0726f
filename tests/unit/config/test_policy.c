/*
 * The local policy: parsing (with positions), the built-in default, and the
 * check of declarations against it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config/config.h"
#include "config/policy.h"

static const char *const policy_text =
	"writeRoots: [/etc/ssl/certops, /srv/app]\n"
	"exec:\n"
	"  - [/usr/sbin/nginx, -s, reload]\n"
	"  - [/usr/bin/systemctl, reload]\n"
	"secrets:\n"
	"  env: [\"CERTOPS_*\", VAULT_TOKEN]\n"
	"  files: [/etc/certops/secrets]\n"
	"issuers: [\"https://acme.example/dir\"]\n";

static config_policy *parse(const char *text, size_t *ndiags)
{
	util_diags diags = UTIL_DIAGS_INIT;
	config_policy *p = NULL;

	config_policy_parse(&p, &diags, "policy.yaml", text, strlen(text),
			    "/var/lib/certops");
	*ndiags = diags.count;
	util_diags_release(&diags);
	return p;
}

static config_set *load(const char *text)
{
	util_diags diags = UTIL_DIAGS_INIT;
	config_set *set = NULL;

	assert_int_equal(config_set_new(&set), 0);
	assert_int_equal(config_set_add_buffer(set, &diags, "d.yaml", text,
					       strlen(text)), 0);
	assert_int_equal(config_set_validate(set, &diags), 0);
	if (diags.count)
		fail_msg("declaration error: %s", diags.items[0].message);
	util_diags_release(&diags);
	return set;
}

static config_strings argv_of(config_string *items, size_t n)
{
	config_strings s = { items, n };

	return s;
}

static void test_questions(void **state)
{
	size_t n;
	config_policy *p = parse(policy_text, &n);
	config_string a[4] = { { "/usr/sbin/nginx", { 0 } }, { "-s", { 0 } },
			       { "reload", { 0 } }, { "extra", { 0 } } };
	config_string b[2] = { { "/usr/sbin/nginx", { 0 } }, { "-t", { 0 } } };
	config_string c[3] = { { "/usr/bin/systemctl", { 0 } },
			       { "reload", { 0 } }, { "nginx", { 0 } } };
	config_strings s;
	config_secret sec = { CONFIG_SECRET_ENV, "CERTOPS_PFX", { 0 } };

	(void)state;
	assert_int_equal(n, 0);
	assert_non_null(p);
	assert_true(config_policy_allows_write(p, "/etc/ssl/certops/www"));
	assert_true(config_policy_allows_write(p, "/srv/app"));
	/* A root is a directory, not a string prefix. */
	assert_false(config_policy_allows_write(p, "/srv/app2/x"));
	assert_false(config_policy_allows_write(p, "/etc/ssl/other"));
	/* Traversal never passes, whatever the prefix. */
	assert_false(config_policy_allows_write(p, "/srv/app/../../etc/shadow"));
	assert_false(config_policy_allows_write(p, "/srv/app/./x"));
	/* The state directory is always writable. */
	assert_true(config_policy_allows_write(p, "/var/lib/certops/keys"));

	/* exec: an allowed argv prefix, element by element. */
	s = argv_of(a, 3);
	assert_true(config_policy_allows_exec(p, &s));
	s = argv_of(a, 4);
	assert_true(config_policy_allows_exec(p, &s));
	s = argv_of(a, 2);
	assert_false(config_policy_allows_exec(p, &s));
	s = argv_of(b, 2);
	assert_false(config_policy_allows_exec(p, &s));
	s = argv_of(c, 3);
	assert_true(config_policy_allows_exec(p, &s));

	assert_true(config_policy_allows_secret(p, &sec));
	sec.ref = "VAULT_TOKEN";
	assert_true(config_policy_allows_secret(p, &sec));
	sec.ref = "VAULT_TOKEN2";
	assert_false(config_policy_allows_secret(p, &sec));
	sec.source = CONFIG_SECRET_FILE;
	sec.ref = "/etc/certops/secrets/pfx";
	assert_true(config_policy_allows_secret(p, &sec));
	sec.ref = "/etc/certops/secrets2";
	assert_false(config_policy_allows_secret(p, &sec));

	assert_true(config_policy_allows_issuer(p, "https://acme.example/dir"));
	assert_false(config_policy_allows_issuer(p, "https://evil.example/dir"));
	assert_string_equal(config_policy_source(p), "policy.yaml");
	config_policy_free(p);
}

static void test_default(void **state)
{
	config_policy *p = NULL;
	config_strings none = { NULL, 0 };
	config_string one[1] = { { "/bin/true", { 0 } } };
	config_strings s = { one, 1 };
	config_secret sec = { CONFIG_SECRET_ENV, "CERTOPS_X", { 0 } };

	(void)state;
	(void)none;
	assert_int_equal(config_policy_default(&p, "/var/lib/certops"), 0);
	assert_true(config_policy_allows_write(p, "/var/lib/certops/x"));
	assert_true(config_policy_allows_write(p, CONFIG_POLICY_DEMO_ROOT "/www"));
	assert_false(config_policy_allows_write(p, "/etc/ssl/www"));
	assert_false(config_policy_allows_exec(p, &s));
	assert_true(config_policy_allows_secret(p, &sec));
	sec.ref = "HOME";
	assert_false(config_policy_allows_secret(p, &sec));
	sec.source = CONFIG_SECRET_FILE;
	sec.ref = "/etc/certops/x";
	assert_false(config_policy_allows_secret(p, &sec));
	assert_true(config_policy_allows_issuer(p, "https://any.example/dir"));
	assert_string_equal(config_policy_source(p), "built-in default");
	config_policy_free(p);
}

static void test_bad_policy(void **state)
{
	util_diags diags = UTIL_DIAGS_INIT;
	config_policy *p = NULL;
	const char *text =
		"writeRoots: [/srv/app/../etc, relative]\n"
		"exec: [nginx]\n"
		"secret: {}\n";
	int rc = config_policy_parse(&p, &diags, "policy.yaml", text,
				     strlen(text), NULL);

	(void)state;
	assert_int_equal(rc, CERTOPS_EINVALID);
	assert_null(p);
	util_diags_sort(&diags);
	assert_int_equal(diags.count, 4);
	assert_int_equal(diags.items[0].line, 1);
	assert_int_equal(diags.items[0].column, 14);
	assert_string_equal(diags.items[0].field, "writeRoots[0]");
	assert_string_equal(diags.items[0].message,
			    "must not contain '..' components");
	assert_string_equal(diags.items[1].field, "writeRoots[1]");
	assert_string_equal(diags.items[2].field, "exec[0]");
	assert_int_equal(diags.items[2].line, 2);
	assert_string_equal(diags.items[3].message,
			    "unknown field 'secret'; did you mean 'secrets'?");
	util_diags_release(&diags);
}

static void test_check(void **state)
{
	size_t n;
	config_policy *p = parse(policy_text, &n);
	util_diags diags = UTIL_DIAGS_INIT;
	config_set *set = load(
		"kind: Issuer\n"                                             /* 1 */
		"name: le\n"                                                 /* 2 */
		"acme: {directory: \"https://acme.example/dir\"}\n"          /* 3 */
		"---\n"                                                      /* 4 */
		"kind: Issuer\n"                                             /* 5 */
		"name: other\n"                                              /* 6 */
		"acme:\n"                                                    /* 7 */
		"  directory: https://evil.example/dir\n"                    /* 8 */
		"  eab: {keyId: k, hmacKey: {env: HMAC}}\n"                  /* 9 */
		"---\n"                                                      /* 10 */
		"kind: Certificate\n"                                        /* 11 */
		"name: www\n"                                                /* 12 */
		"issuer: le\n"                                               /* 13 */
		"domains: [www.example.com]\n"                               /* 14 */
		"challenge: {http01: {webroot: /var/www/html}}\n"            /* 15 */
		"deploy:\n"                                                  /* 16 */
		"  - files: {dir: /etc/ssl/certops/www}\n"                   /* 17 */
		"  - files: {dir: /etc/ssl/elsewhere}\n"                     /* 18 */
		"  - pkcs12: {path: /srv/app/www.p12, password: {file: /root/pw}}\n"
		"  - exec: {command: [/bin/sh, -c, \"rm -rf /\"]}\n"         /* 20 */
		"  - exec: {command: [/usr/sbin/nginx, -s, reload]}\n");     /* 21 */

	(void)state;
	assert_int_equal(n, 0);
	assert_int_equal(config_policy_check(p, set, &diags), 0);
	util_diags_sort(&diags);
	assert_int_equal(diags.count, 6);
	/* Each violation at the declaration, with the field path. */
	assert_int_equal(diags.items[0].line, 8);
	assert_string_equal(diags.items[0].field, "acme.directory");
	assert_int_equal(diags.items[0].code, CERTOPS_EPOLICY);
	assert_non_null(strstr(diags.items[0].message, "evil.example"));
	assert_int_equal(diags.items[1].line, 9);
	assert_string_equal(diags.items[1].field, "acme.eab.hmacKey");
	assert_int_equal(diags.items[2].line, 15);
	assert_string_equal(diags.items[2].field, "challenge.http01.webroot");
	assert_int_equal(diags.items[3].line, 18);
	assert_string_equal(diags.items[3].field, "deploy[1].files.dir");
	assert_int_equal(diags.items[4].line, 19);
	assert_string_equal(diags.items[4].field, "deploy[2].pkcs12.password");
	assert_int_equal(diags.items[5].line, 20);
	assert_string_equal(diags.items[5].field, "deploy[3].exec.command");
	assert_non_null(strstr(diags.items[5].message, "'/bin/sh -c rm -rf /'"));
	util_diags_release(&diags);
	config_set_free(set);
	config_policy_free(p);
}

static void test_env_directory(void **state)
{
	size_t n;
	config_policy *p = parse(policy_text, &n);
	util_diags diags = UTIL_DIAGS_INIT;
	config_set *set = load(
		"kind: Issuer\nname: le\n"
		"acme: {directory: {env: TEST_POLICY_ACME}}\n");

	(void)state;
	unsetenv("TEST_POLICY_ACME");
	assert_int_equal(config_policy_check(p, set, &diags), 0);
	assert_int_equal(diags.count, 1);
	assert_non_null(strstr(diags.items[0].message, "unset"));
	util_diags_release(&diags);
	setenv("TEST_POLICY_ACME", "https://acme.example/dir", 1);
	assert_int_equal(config_policy_check(p, set, &diags), 0);
	assert_int_equal(diags.count, 0);
	setenv("TEST_POLICY_ACME", "https://evil.example/dir", 1);
	assert_int_equal(config_policy_check(p, set, &diags), 0);
	assert_int_equal(diags.count, 1);
	unsetenv("TEST_POLICY_ACME");
	util_diags_release(&diags);
	config_set_free(set);
	config_policy_free(p);
}

static void test_empty_policy(void **state)
{
	static const char *const texts[] = { "", "# nothing\n", "---\n" };
	size_t i, n;

	(void)state;
	for (i = 0; i < 3; i++) {
		config_policy *p = parse(texts[i], &n);

		assert_int_equal(n, 0);
		assert_non_null(p);
		/* Only the state directory. */
		assert_true(config_policy_allows_write(p, "/var/lib/certops/x"));
		assert_false(config_policy_allows_write(p, CONFIG_POLICY_DEMO_ROOT "/x"));
		assert_true(config_policy_allows_issuer(p, "https://a.example/d"));
		config_policy_free(p);
	}
}

static void test_open_missing(void **state)
{
	util_diags diags = UTIL_DIAGS_INIT;
	config_policy *p = NULL;

	(void)state;
	assert_int_equal(config_policy_open(&p, &diags, "/nonexistent/policy.yaml",
					    NULL), CERTOPS_EINVALID);
	assert_null(p);
	assert_int_equal(diags.count, 1);
	util_diags_release(&diags);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_questions),
		cmocka_unit_test(test_default),
		cmocka_unit_test(test_bad_policy),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_env_directory),
		cmocka_unit_test(test_empty_policy),
		cmocka_unit_test(test_open_missing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
