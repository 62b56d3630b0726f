/*
 * The typed model: what a declaration turns into (fields, defaults,
 * positions), lookups, hashes, env values, the directory walk.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/config.h"
#include "util/fs.h"

static const char *const base =
	"kind: Issuer\n"                                    /* 1 */
	"name: le\n"                                        /* 2 */
	"acme:\n"                                           /* 3 */
	"  directory: https://acme.example/dir\n"           /* 4 */
	"  email: ops@example.com\n"                        /* 5 */
	"  fallback: [backup]\n"                            /* 6 */
	"---\n"                                             /* 7 */
	"kind: Issuer\n"                                    /* 8 */
	"name: backup\n"                                    /* 9 */
	"acme: {directory: {env: TEST_CONFIG_DIR, default: \"https://b.example/dir\"}}\n"
	"---\n"                                             /* 11 */
	"kind: Certificate\n"                               /* 12 */
	"name: www\n"                                       /* 13 */
	"issuer: le\n"                                      /* 14 */
	"domains: [WWW.Example.com, example.com]\n"         /* 15 */
	"key: {type: rsa-4096, reuse: true}\n"              /* 16 */
	"renewBefore: 20d\n"                                /* 17 */
	"challenge:\n"                                      /* 18 */
	"  http01: {webroot: /var/www/html}\n"              /* 19 */
	"deploy:\n"                                         /* 20 */
	"  - files: {dir: /etc/ssl/www, mode: \"0640\"}\n"  /* 21 */
	"  - exec: {command: [/usr/sbin/nginx, -s, reload]}\n"
	"labels: {team: web}\n";

static config_set *load(const char *text, size_t *ndiags)
{
	util_diags diags = UTIL_DIAGS_INIT;
	config_set *set = NULL;

	assert_int_equal(config_set_new(&set), 0);
	assert_int_equal(config_set_add_buffer(set, &diags, "t.yaml", text,
					       strlen(text)), 0);
	assert_int_equal(config_set_validate(set, &diags), 0);
	*ndiags = diags.count;
	util_diags_release(&diags);
	return set;
}

static void test_model(void **state)
{
	size_t n;
	config_set *set = load(base, &n);
	config_certificate *c;
	config_issuer *le, *backup;
	config_pos p;

	(void)state;
	assert_int_equal(n, 0);
	assert_int_equal(set->nissuers, 2);
	assert_int_equal(set->ncertificates, 1);
	le = config_find_issuer(set, "le");
	backup = config_find_issuer(set, "backup");
	assert_non_null(le);
	assert_non_null(backup);
	assert_null(config_find_issuer(set, "nope"));
	assert_int_equal(le->type, CONFIG_ISSUER_ACME);
	assert_string_equal(le->acme.directory.literal, "https://acme.example/dir");
	assert_int_equal(le->acme.emails.count, 1);
	assert_int_equal(le->acme.request_timeout, 30);
	assert_int_equal(le->acme.fallback.count, 1);
	assert_ptr_equal(le->acme.fallback_refs[0], backup);
	assert_string_equal(backup->acme.directory.env, "TEST_CONFIG_DIR");

	c = config_find_certificate(set, "www");
	assert_non_null(c);
	assert_ptr_equal(c->issuer_ref, le);
	/* Names are lowercased. */
	assert_string_equal(c->domains.items[0].value, "www.example.com");
	assert_int_equal(c->domains.items[0].pos.line, 15);
	assert_int_equal(c->domains.items[0].pos.column, 11);
	assert_int_equal(c->key_type, CONFIG_KEY_RSA_4096);
	assert_true(c->key_reuse);
	assert_int_equal(c->renew_before, 20 * 86400);
	assert_true(c->renew_fraction == 0.0);
	assert_ptr_equal(c->effective_challenge, &c->challenge);
	assert_int_equal(c->challenge.type, CONFIG_CHALLENGE_HTTP01);
	assert_string_equal(c->challenge.http01.webroot, "/var/www/html");
	assert_int_equal(c->ndeploy, 2);
	assert_int_equal(c->deploy[0].type, CONFIG_TARGET_FILES);
	assert_int_equal(c->deploy[0].files.mode, 0640);
	/* Defaults when no file name is given. */
	assert_string_equal(c->deploy[0].files.fullchain, "fullchain.pem");
	assert_string_equal(c->deploy[0].files.key, "privkey.pem");
	assert_null(c->deploy[0].files.cert);
	assert_int_equal(c->deploy[1].type, CONFIG_TARGET_EXEC);
	assert_int_equal(c->deploy[1].exec.command.count, 3);
	assert_int_equal(c->deploy[1].exec.timeout, 60);
	assert_int_equal(c->deploy[1].index, 1);
	assert_int_equal(c->nlabels, 1);
	assert_string_equal(c->labels[0].key, "team");

	/* Positions: the object, a field, a nested field. */
	assert_string_equal(c->pos.file, "t.yaml");
	assert_int_equal(c->pos.line, 12);
	p = config_field_pos_of(&c->field_pos, c->pos, "renewBefore");
	assert_int_equal(p.line, 17);
	assert_int_equal(p.column, 14);
	p = config_field_pos_of(&c->deploy[0].field_pos, c->deploy[0].pos, "mode");
	assert_int_equal(p.line, 21);
	p = config_field_pos_of(&c->field_pos, c->pos, "verify");
	assert_int_equal(p.line, 12); /* absent: the object's position */
	config_set_free(set);
}

static void test_defaults(void **state)
{
	size_t n;
	config_set *set = load(
		"kind: Issuer\nname: le\nacme: {directory: \"https://a.example/d\"}\n"
		"---\nkind: Solver\nname: web\ndefault: true\n"
		"challenge: {http01: {listen: \"127.0.0.1:5002\"}}\n"
		"---\nkind: Certificate\nname: a\nissuer: le\ndomains: [a.example.com]\n"
		"deploy: [{pkcs12: {path: /srv/a.p12, password: {env: CERTOPS_P}}}]\n",
		&n);
	config_certificate *c;

	(void)state;
	assert_int_equal(n, 0);
	c = config_find_certificate(set, "a");
	assert_non_null(c);
	assert_int_equal(c->key_type, CONFIG_KEY_ECDSA_P256);
	assert_false(c->key_reuse);
	assert_true(c->renew_fraction > 0.33 && c->renew_fraction < 0.34);
	assert_int_equal(c->renew_before, 0);
	/* No challenge: the default Solver. */
	assert_ptr_equal(c->solver_ref, config_find_solver(set, "web"));
	assert_ptr_equal(c->effective_challenge, &c->solver_ref->challenge);
	assert_string_equal(c->effective_challenge->http01.listen.literal,
			    "127.0.0.1:5002");
	assert_int_equal(c->deploy[0].pkcs12.mode, 0600);
	assert_false(c->deploy[0].pkcs12.legacy);
	assert_int_equal(c->deploy[0].pkcs12.password.source, CONFIG_SECRET_ENV);
	assert_string_equal(c->deploy[0].pkcs12.password.ref, "CERTOPS_P");
	config_set_free(set);
}

static void test_local_ca_needs_no_challenge(void **state)
{
	size_t n;
	config_set *set = load(
		"kind: Issuer\nname: internal\nca: {lifetime: 30d}\n---\n"
		"kind: Certificate\nname: db\nissuer: internal\n"
		"domains: [\"*.db.internal.example\"]\nipAddresses: [10.0.0.5]\n", &n);
	config_certificate *c = config_find_certificate(set, "db");

	(void)state;
	assert_int_equal(n, 0);
	assert_non_null(c);
	assert_null(c->effective_challenge);
	assert_int_equal(c->issuer_ref->ca.lifetime, 30 * 86400);
	config_set_free(set);
}

static void test_value_env(void **state)
{
	size_t n;
	config_set *set = load(base, &n);
	config_issuer *b = config_find_issuer(set, "backup");
	const char *v = NULL;
	config_value unset = { NULL, "TEST_CONFIG_UNSET", NULL, { "f", 3, 4 } };

	(void)state;
	unsetenv("TEST_CONFIG_DIR");
	assert_int_equal(config_value_get(&v, &b->acme.directory), 0);
	assert_string_equal(v, "https://b.example/dir");
	setenv("TEST_CONFIG_DIR", "https://pebble:14000/dir", 1);
	assert_int_equal(config_value_get(&v, &b->acme.directory), 0);
	assert_string_equal(v, "https://pebble:14000/dir");
	unsetenv("TEST_CONFIG_DIR");
	unsetenv("TEST_CONFIG_UNSET");
	assert_int_equal(config_value_get(&v, &unset), CERTOPS_ENOTFOUND);
	assert_int_equal(util_error_last()->line, 3);
	assert_non_null(strstr(util_error_message(), "TEST_CONFIG_UNSET"));
	config_set_free(set);
}

static void hashes(const char *text, char cert[65], char target[65])
{
	size_t n;
	config_set *set = load(text, &n);
	config_certificate *c;

	assert_int_equal(n, 0);
	c = config_find_certificate(set, "www");
	assert_int_equal(config_certificate_hash(cert, c), 0);
	assert_int_equal(config_target_hash(target, &c->deploy[0]), 0);
	assert_int_equal(strlen(cert), 64);
	config_set_free(set);
}

static char *replace(const char *s, const char *from, const char *to)
{
	const char *p = strstr(s, from);
	util_buf b = UTIL_BUF_INIT;

	assert_non_null(p);
	util_buf_put(&b, s, (size_t)(p - s));
	util_buf_puts(&b, to);
	util_buf_puts(&b, p + strlen(from));
	return util_buf_detach(&b);
}

static void test_hashes(void **state)
{
	char c0[65], t0[65], c1[65], t1[65];
	char *v;

	(void)state;
	hashes(base, c0, t0);
	/* Stable across loads. */
	hashes(base, c1, t1);
	assert_string_equal(c0, c1);
	assert_string_equal(t0, t1);
	/* Order and case of names, renewal, challenge, labels: no reissue. */
	v = replace(base, "[WWW.Example.com, example.com]", "[example.com, www.example.com]");
	hashes(v, c1, t1);
	assert_string_equal(c0, c1);
	free(v);
	v = replace(base, "renewBefore: 20d", "renewBefore: 0.5");
	hashes(v, c1, t1);
	assert_string_equal(c0, c1);
	free(v);
	v = replace(base, "webroot: /var/www/html", "listen: \"127.0.0.1:80\"");
	hashes(v, c1, t1);
	assert_string_equal(c0, c1);
	free(v);
	/* A new name or key type: a different certificate. */
	v = replace(base, "example.com]", "example.com, api.example.com]");
	hashes(v, c1, t1);
	assert_string_not_equal(c0, c1);
	assert_string_equal(t0, t1);
	free(v);
	v = replace(base, "rsa-4096", "rsa-2048");
	hashes(v, c1, t1);
	assert_string_not_equal(c0, c1);
	free(v);
	/* The target's own config: its hash only. */
	v = replace(base, "mode: \"0640\"", "mode: \"0600\"");
	hashes(v, c1, t1);
	assert_string_equal(c0, c1);
	assert_string_not_equal(t0, t1);
	free(v);
}

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void test_issuer_hash(void **state)
{
	char h0[65], h1[65], h2[65];
	size_t n;
	config_set *set = load(base, &n);
	config_issuer *le = config_find_issuer(set, "le");

	(void)state;
	assert_int_equal(config_issuer_hash(h0, le), 0);
	le->acme.emails.count = 0; /* contacts do not matter */
	assert_int_equal(config_issuer_hash(h1, le), 0);
	assert_string_equal(h0, h1);
	le->acme.directory.literal = "https://staging.example/dir";
	assert_int_equal(config_issuer_hash(h2, le), 0);
	assert_string_not_equal(h0, h2);
	assert_int_equal(config_issuer_hash(h1, config_find_issuer(set, "backup")), 0);
	assert_string_not_equal(h0, h1);
	config_set_free(set);
}

static void write_file(const char *path, const char *text)
{
	assert_int_equal(util_fs_write_atomic(path, text, strlen(text), 0644), 0);
}

static void test_load_dir(void **state)
{
	char tmpl[] = "/tmp/certops-config-test.XXXXXX";
	char *dir = mkdtemp(tmpl);
	util_buf p = UTIL_BUF_INIT;
	util_diags diags = UTIL_DIAGS_INIT;
	config_set *set = NULL;
	const char *issuer = "kind: Issuer\nname: le\nacme: {directory: \"https://a.example/d\"}\n";

	(void)state;
	assert_non_null(dir);
#define PATH(rel) (util_buf_clear(&p), util_fs_join(&p, dir, rel), p.ptr)
	assert_int_equal(util_fs_mkdir_p(PATH("b/c"), 0755), 0);
	assert_int_equal(util_fs_mkdir_p(PATH(".git"), 0755), 0);
	write_file(PATH("z.yaml"), issuer);
	write_file(PATH("b/c/cert.yml"),
		   "kind: Certificate\nname: x\nissuer: le\ndomains: [x.example.com]\n"
		   "challenge: {http01: {webroot: /srv/www}}\n");
	write_file(PATH(".git/ignored.yaml"), "not: [valid");
	write_file(PATH("b/notes.txt"), "not yaml at all: [");
	assert_int_equal(config_load_dir(&set, &diags, dir), 0);
	assert_int_equal(diags.count, 0);
	assert_int_equal(set->nfiles, 2);
	assert_int_equal(set->ncertificates, 1);
	/* Positions name the path under the directory given. */
	assert_non_null(strstr(set->certificates[0]->pos.file, "/b/c/cert.yml"));
	config_set_free(set);

	/* A second issuer with the same name in a later file (sorted order:
	 * b/... before z.yaml): the duplicate is reported at z.yaml. */
	write_file(PATH("a.yaml"), issuer);
	assert_int_equal(config_load_dir(&set, &diags, dir), CERTOPS_EINVALID);
	assert_int_equal(diags.count, 1);
	assert_non_null(strstr(diags.items[0].file, "z.yaml"));
	assert_non_null(strstr(diags.items[0].message, "duplicate Issuer name 'le'"));
	config_set_free(set);
	util_diags_release(&diags);

	assert_int_equal(config_load_dir(&set, &diags, PATH("missing")),
			 CERTOPS_ENOTFOUND);
	assert_null(set);
	util_buf_release(&p);
	assert_int_equal(nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS), 0);
#undef PATH
}

static void test_many_errors_at_once(void **state)
{
	size_t n;
	config_set *set = load(
		"kind: Certificate\nname: BAD\nissuer: nope\ndomains: [-a.example.com]\n"
		"renewBefore: soon\ndeploy: [{files: {dir: rel}}]\nextra: 1\n", &n);

	(void)state;
	/* name, unknown issuer, domain, renewBefore, dir, extra, challenge */
	assert_int_equal(n, 7);
	config_set_free(set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_model),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_local_ca_needs_no_challenge),
		cmocka_unit_test(test_value_env),
		cmocka_unit_test(test_hashes),
		cmocka_unit_test(test_issuer_hash),
		cmocka_unit_test(test_load_dir),
		cmocka_unit_test(test_many_errors_at_once),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
