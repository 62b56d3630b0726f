/*
 * Unit tests of the state store: layout and modes, the format file, the
 * serial, accounts, certificates, deployments, orders and pruning.  The
 * lock has its own file (test_lock.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "state/internal.h"
#include "state/state.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/fs.h"

#define KEY_PEM "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n"
/*
 * A write made without state_lock is a session of its own: the serial moves
 * once to mark it dirty and once for the change (docs/state.md).
 */
#define ONE_WRITE 2

#define CHAIN_PEM "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n"

typedef struct {
	char root[64];
	char dir[128];
} fixture;

static int setup(void **vs)
{
	fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	memcpy(f->root, "/tmp/certops-state-XXXXXX", sizeof("/tmp/certops-state-XXXXXX"));
	assert_non_null(mkdtemp(f->root));
	snprintf(f->dir, sizeof(f->dir), "%s/state", f->root);
	*vs = f;
	return 0;
}

static int teardown(void **vs)
{
	fixture *f = *vs;
	char cmd[200];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->root);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static mode_t mode_of(const char *path)
{
	struct stat sb;

	assert_int_equal(stat(path, &sb), 0);
	return sb.st_mode & 07777;
}

static void path_in(char *out, size_t len, const char *dir, const char *rel)
{
	snprintf(out, len, "%s/%s", dir, rel);
}

static uint64_t serial_of(state *st)
{
	uint64_t s = 0;

	assert_int_equal(state_serial(&s, st), 0);
	return s;
}

/* Counts entries of dir whose names start with prefix. */
static int count_prefix(const char *dir, const char *prefix)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, prefix, strlen(prefix)))
			n++;
	closedir(d);
	return n;
}

static void fill_cert(state_cert *c, const char *name, const char *fp,
		      time_t issued, time_t not_after)
{
	static char *sans[] = { "example.com", "www.example.com" };

	memset(c, 0, sizeof(*c));
	c->meta.name = (char *)name;
	c->meta.sans = sans;
	c->meta.nsans = 2;
	c->meta.not_before = issued;
	c->meta.not_after = not_after;
	c->meta.serial = "0a1b2c";
	c->meta.issuer = "pebble";
	c->meta.key_spec = "ecdsa-p256";
	c->meta.fingerprint = (char *)fp;
	c->meta.order_url = "https://ca/order/1";
	c->meta.declaration_hash = "deadbeef";
	c->meta.issued_at = issued;
	c->chain_pem = CHAIN_PEM;
	c->key_pem = KEY_PEM;
}

static void test_open_creates_0700(void **vs)
{
	fixture *f = *vs;
	char p[256];
	state *st = NULL;

	umask(022);
	assert_int_equal(state_open(&st, f->dir, 0), 0);
	assert_string_equal(state_path(st), f->dir);
	assert_int_equal(mode_of(f->dir), 0700);
	path_in(p, sizeof(p), f->dir, "state.json");
	assert_int_equal(mode_of(p), 0600);
	assert_int_equal(serial_of(st), 0);
	state_free(st);

	/* reopening an existing store keeps it */
	assert_int_equal(state_open(&st, f->dir, STATE_OPEN_NOCREATE), 0);
	state_free(st);
}

static void test_open_nocreate(void **vs)
{
	fixture *f = *vs;
	state *st = NULL;

	assert_int_equal(state_open(&st, f->dir, STATE_OPEN_NOCREATE), CERTOPS_ENOTFOUND);
	assert_null(st);
	assert_int_equal(access(f->dir, F_OK), -1);
}

static void test_open_refuses_group_writable(void **vs)
{
	fixture *f = *vs;
	state *st = NULL;

	assert_int_equal(mkdir(f->dir, 0700), 0);
	assert_int_equal(chmod(f->dir, 0770), 0);
	assert_int_equal(state_open(&st, f->dir, 0), CERTOPS_EINVALID);
	assert_null(st);
	assert_non_null(strstr(util_error_message(), "writable by group or others"));
	assert_non_null(strstr(util_error_message(), "chmod 700"));

	assert_int_equal(chmod(f->dir, 0702), 0);
	assert_int_equal(state_open(&st, f->dir, 0), CERTOPS_EINVALID);
}

static void test_open_refuses_other_owner(void **vs)
{
	fixture *f = *vs;
	state *st = NULL;
	uid_t other = geteuid() == 0 ? 12345 : 0;

	assert_int_equal(mkdir(f->dir, 0700), 0);
	if (chown(f->dir, other, (gid_t)-1) < 0) {
		/* only root may give a directory away; nothing to check otherwise */
		skip();
	}
	assert_int_equal(state_open(&st, f->dir, 0), CERTOPS_EINVALID);
	assert_non_null(strstr(util_error_message(), "owned by uid 12345"));
}

static void test_open_refuses_foreign_dir(void **vs)
{
	fixture *f = *vs;
	char p[256];
	state *st = NULL;

	assert_int_equal(mkdir(f->dir, 0700), 0);
	path_in(p, sizeof(p), f->dir, "photos.jpg");
	assert_int_equal(util_fs_write_atomic(p, "x", 1, 0600), 0);
	assert_int_equal(state_open(&st, f->dir, 0), CERTOPS_EINVALID);
	assert_non_null(strstr(util_error_message(), "not a certops state directory"));
	/* and nothing was created in it */
	path_in(p, sizeof(p), f->dir, "lock");
	assert_int_equal(access(p, F_OK), -1);
	path_in(p, sizeof(p), f->dir, "state.json");
	assert_int_equal(access(p, F_OK), -1);
}

static int migration_calls;

static int migrate_0_to_1(state *st)
{
	util_buf p = UTIL_BUF_INIT;
	int error;

	migration_calls++;
	util_fs_join(&p, state_path(st), "migrated-from-0");
	error = util_fs_write_atomic(p.ptr, "yes", 3, 0600);
	util_buf_release(&p);
	return error;
}

static int migrate_fails(state *st)
{
	(void)st;
	migration_calls++;
	return util_error_set(CERTOPS_ERROR, "disk on fire");
}

static void test_open_runs_migrations(void **vs)
{
	fixture *f = *vs;
	static const state__migration good[] = { { 0, migrate_0_to_1 },
						  { 1, state__migrate_1_to_2 }, { 0, NULL } };
	static const state__migration bad[] = { { 0, migrate_fails }, { 0, NULL } };
	const char *doc = "{\"format\": 0, \"serial\": 5}\n";
	char p[256];
	util_buf b = UTIL_BUF_INIT;
	state *st = NULL;

	assert_int_equal(mkdir(f->dir, 0700), 0);
	path_in(p, sizeof(p), f->dir, "state.json");
	assert_int_equal(util_fs_write_atomic(p, doc, strlen(doc), 0600), 0);

	/* a failing step leaves the store at its old format */
	migration_calls = 0;
	state__set_migrations(bad);
	assert_int_equal(state_open(&st, f->dir, 0), CERTOPS_ERROR);
	assert_non_null(strstr(util_error_message(), "from format 0"));
	assert_non_null(strstr(util_error_message(), "disk on fire"));
	assert_int_equal(migration_calls, 1);
	assert_int_equal(util_fs_read_file(&b, p, 0), 0);
	assert_non_null(strstr(b.ptr, "\"format\": 0"));

	migration_calls = 0;
	state__set_migrations(good);
	assert_int_equal(state_open(&st, f->dir, 0), 0);
	state__set_migrations(NULL);
	assert_int_equal(migration_calls, 1);
	path_in(p, sizeof(p), f->dir, "migrated-from-0");
	assert_int_equal(access(p, F_OK), 0);
	/* the new format is recorded and the serial moved */
	assert_int_equal(serial_of(st), 6);
	state_free(st);
	path_in(p, sizeof(p), f->dir, "state.json");
	util_buf_clear(&b);
	assert_int_equal(util_fs_read_file(&b, p, 0), 0);
	assert_non_null(strstr(b.ptr, "\"format\": 2"));

	/* opened again: nothing more to run */
	migration_calls = 0;
	state__set_migrations(good);
	assert_int_equal(state_open(&st, f->dir, 0), 0);
	state__set_migrations(NULL);
	assert_int_equal(migration_calls, 0);
	state_free(st);
	util_buf_release(&b);
}

static void test_open_refuses_newer_format(void **vs)
{
	fixture *f = *vs;
	const char *doc = "{\"format\": 3, \"serial\": 7}\n";
	char p[256];
	state *st = NULL;

	assert_int_equal(mkdir(f->dir, 0700), 0);
	path_in(p, sizeof(p), f->dir, "state.json");
	assert_int_equal(util_fs_write_atomic(p, doc, strlen(doc), 0600), 0);
	assert_int_equal(state_open(&st, f->dir, 0), CERTOPS_EINVALID);
	assert_null(st);
	assert_non_null(strstr(util_error_message(), "format 3, newer than this certops"));
}

static void test_open_refuses_unmigratable_format(void **vs)
{
	fixture *f = *vs;
	const char *doc = "{\"format\": 0, \"serial\": 3}\n";
	char p[256];
	state *st = NULL;

	assert_int_equal(mkdir(f->dir, 0700), 0);
	path_in(p, sizeof(p), f->dir, "state.json");
	assert_int_equal(util_fs_write_atomic(p, doc, strlen(doc), 0600), 0);
	assert_int_equal(state_open(&st, f->dir, 0), CERTOPS_EINVALID);
	assert_non_null(strstr(util_error_message(), "cannot migrate"));
}

static void test_open_reports_corrupt_format(void **vs)
{
	fixture *f = *vs;
	const char *doc = "{\"format\": 1,\n \"serial\": }\n";
	char p[256];
	state *st = NULL;
	const util_error *e;

	assert_int_equal(mkdir(f->dir, 0700), 0);
	path_in(p, sizeof(p), f->dir, "state.json");
	assert_int_equal(util_fs_write_atomic(p, doc, strlen(doc), 0600), 0);
	assert_int_equal(state_open(&st, f->dir, 0), CERTOPS_EINVALID);
	e = util_error_last();
	assert_non_null(e);
	assert_string_equal(e->file, p);
	assert_int_equal(e->line, 2);
}

static void test_default_dir(void **vs)
{
	util_buf b = UTIL_BUF_INIT;

	(void)vs;
	assert_int_equal(state_default_dir(&b, "/flag"), 0);
	assert_string_equal(b.ptr, "/flag");
	util_buf_clear(&b);

	setenv("CERTOPS_STATE", "/env", 1);
	assert_int_equal(state_default_dir(&b, NULL), 0);
	assert_string_equal(b.ptr, "/env");
	util_buf_clear(&b);
	unsetenv("CERTOPS_STATE");

	setenv("XDG_STATE_HOME", "/xdg", 1);
	assert_int_equal(state_default_dir(&b, NULL), 0);
	assert_string_equal(b.ptr, "/xdg/certops");
	util_buf_clear(&b);

	/* a relative XDG value is invalid per the spec and ignored */
	setenv("XDG_STATE_HOME", "rel", 1);
	setenv("HOME", "/home/u", 1);
	assert_int_equal(state_default_dir(&b, NULL), 0);
	assert_string_equal(b.ptr, geteuid() == 0 ? "/var/lib/certops"
						  : "/home/u/.local/state/certops");
	unsetenv("XDG_STATE_HOME");
	util_buf_release(&b);
}

static void test_account_round_trip(void **vs)
{
	fixture *f = *vs;
	state_account in = { 0 }, *out = NULL;
	state *st = NULL;
	char p[512];

	assert_int_equal(state_open(&st, f->dir, 0), 0);
	assert_int_equal(state_account_get(&out, st, "pebble", "https://ca/dir"),
			 CERTOPS_ENOTFOUND);
	in.issuer = "pebble";
	in.directory_url = "https://ca/dir";
	in.key_pem = KEY_PEM;
	in.url = "https://ca/acct/1";
	in.email = "ops@example.com";
	in.created = 1700000000;
	assert_int_equal(state_account_put(st, &in), 0);
	assert_int_equal(serial_of(st), ONE_WRITE);

	assert_int_equal(state_account_get(&out, st, "pebble", "https://ca/dir"), 0);
	assert_string_equal(out->issuer, "pebble");
	assert_string_equal(out->directory_url, "https://ca/dir");
	assert_string_equal(out->key_pem, KEY_PEM);
	assert_string_equal(out->url, "https://ca/acct/1");
	assert_string_equal(out->email, "ops@example.com");
	assert_int_equal(out->created, 1700000000);
	state_account_free(out);

	/* same issuer, another directory: another account */
	assert_int_equal(state_account_get(&out, st, "pebble", "https://other/dir"),
			 CERTOPS_ENOTFOUND);

	/* modes: the record holding the key 0600, the folders 0700 */
	path_in(p, sizeof(p), f->dir, "accounts");
	assert_int_equal(mode_of(p), 0700);
	path_in(p, sizeof(p), f->dir, "accounts/pebble");
	assert_int_equal(mode_of(p), 0700);
	{
		DIR *d = opendir(p);
		struct dirent *de;
		char k[1024];
		int found = 0;

		assert_non_null(d);
		while ((de = readdir(d))) {
			if (de->d_name[0] == '.')
				continue;
			assert_non_null(strstr(de->d_name, ".json"));
			snprintf(k, sizeof(k), "%s/%s", p, de->d_name);
			assert_int_equal(mode_of(k), 0600);
			found++;
		}
		closedir(d);
		assert_int_equal(found, 1);
	}

	/* replacing the account replaces key and URL together */
	in.key_pem = "-----BEGIN PRIVATE KEY-----\nnew\n-----END PRIVATE KEY-----\n";
	in.url = "https://ca/acct/2";
	assert_int_equal(state_account_put(st, &in), 0);
	assert_int_equal(state_account_get(&out, st, "pebble", "https://ca/dir"), 0);
	assert_non_null(strstr(out->key_pem, "new"));
	assert_string_equal(out->url, "https://ca/acct/2");
	state_account_free(out);

	/* a name that would escape the store is refused */
	in.issuer = "../evil";
	assert_int_equal(state_account_put(st, &in), CERTOPS_EINVALID);
	assert_int_equal(serial_of(st), 2 * ONE_WRITE);
	state_free(st);
}

/* A damaged record that holds a key never quotes the key in the error. */
static void test_corrupt_account_error_has_no_key(void **vs)
{
	fixture *f = *vs;
	state_account in = { 0 }, *out = NULL;
	state *st = NULL;
	char p[512];
	struct dirent *de;
	DIR *d;
	const char *bad = "{\"directory\": \"https://ca/dir\", \"key\": \"MIGHAgEAMBMGBy\nqGSM49AgEGCCq\"}";

	assert_int_equal(state_open(&st, f->dir, 0), 0);
	in.issuer = "pebble";
	in.directory_url = "https://ca/dir";
	in.key_pem = KEY_PEM;
	assert_int_equal(state_account_put(st, &in), 0);
	path_in(p, sizeof(p), f->dir, "accounts/pebble");
	assert_non_null(d = opendir(p));
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			break;
	assert_non_null(de);
	snprintf(p + strlen(p), sizeof(p) - strlen(p), "/%s", de->d_name);
	closedir(d);
	/* a raw newline inside the key string: invalid JSON, and jansson's own
	 * message would quote "MIGHAgEAMBMGBy" */
	assert_int_equal(util_fs_write_atomic(p, bad, strlen(bad), 0600), 0);
	assert_int_equal(state_account_get(&out, st, "pebble", "https://ca/dir"), CERTOPS_EINVALID);
	assert_null(strstr(util_error_message(), "MIG"));
	assert_null(strstr(util_error_message(), "qGSM"));
	assert_int_equal(util_error_last()->line, 1);
	state_free(st);
}

static void test_deploy_round_trip(void **vs)
{
	fixture *f = *vs;
	state_deploy in = { 0 }, *out = NULL;
	state *st = NULL;

	assert_int_equal(state_open(&st, f->dir, 0), 0);
	assert_int_equal(state_deploy_get(&out, st, "files:/etc/ssl/www"), CERTOPS_ENOTFOUND);
	in.target = "files:/etc/ssl/www";
	in.certificate = "www";
	in.fingerprint = "ab12";
	in.config_hash = "cfg1";
	in.time = 1700000100;
	in.result = STATE_DEPLOY_FAILED;
	in.message = "permission denied";
	assert_int_equal(state_deploy_put(st, &in), 0);
	assert_int_equal(state_deploy_get(&out, st, "files:/etc/ssl/www"), 0);
	assert_string_equal(out->target, "files:/etc/ssl/www");
	assert_string_equal(out->certificate, "www");
	assert_string_equal(out->fingerprint, "ab12");
	assert_string_equal(out->config_hash, "cfg1");
	assert_int_equal(out->time, 1700000100);
	assert_int_equal(out->result, STATE_DEPLOY_FAILED);
	assert_string_equal(out->message, "permission denied");
	state_deploy_free(out);

	in.result = STATE_DEPLOY_OK;
	in.message = NULL;
	assert_int_equal(state_deploy_put(st, &in), 0);
	assert_int_equal(state_deploy_get(&out, st, "files:/etc/ssl/www"), 0);
	assert_int_equal(out->result, STATE_DEPLOY_OK);
	assert_null(out->message);
	state_deploy_free(out);
	assert_int_equal(serial_of(st), 2 * ONE_WRITE);
	state_free(st);
}

static void test_order_round_trip(void **vs)
{
	fixture *f = *vs;
	state_order in = { 0 }, *out = NULL;
	state *st = NULL;
	char p[256];

	assert_int_equal(state_open(&st, f->dir, 0), 0);
	in.name = "www";
	in.order_url = "https://ca/order/9";
	in.key_pem = KEY_PEM;
	in.declaration_hash = "h1";
	assert_int_equal(state_order_put(st, &in), 0);
	path_in(p, sizeof(p), f->dir, "orders/www.json");
	assert_int_equal(mode_of(p), 0600);
	assert_int_equal(state_order_get(&out, st, "www"), 0);
	assert_string_equal(out->order_url, "https://ca/order/9");
	assert_string_equal(out->key_pem, KEY_PEM);
	assert_string_equal(out->declaration_hash, "h1");
	assert_true(out->created > 0);
	state_order_free(out);
	assert_int_equal(state_order_delete(st, "www"), 0);
	assert_int_equal(state_order_get(&out, st, "www"), CERTOPS_ENOTFOUND);
	assert_int_equal(serial_of(st), 2 * ONE_WRITE);
	/* deleting nothing changes nothing */
	assert_int_equal(state_order_delete(st, "www"), 0);
	assert_int_equal(serial_of(st), 2 * ONE_WRITE);
	state_free(st);
}

static void test_cert_put_and_current(void **vs)
{
	fixture *f = *vs;
	state_cert in, *out = NULL;
	state_cert_meta *list = NULL;
	char *v1 = NULL, *v2 = NULL, *again = NULL, **names = NULL;
	size_t n = 0;
	state *st = NULL;
	char p[512];

	assert_int_equal(state_open(&st, f->dir, 0), 0);
	assert_int_equal(state_cert_current(&out, st, "www", 0), CERTOPS_ENOTFOUND);

	fill_cert(&in, "www", "aaaaaaaa11", 1700000000, 1707776000);
	assert_int_equal(state_cert_put(st, &in, &v1), 0);
	assert_string_equal(v1, "20231114T221320Z-aaaaaaaa");
	fill_cert(&in, "www", "bbbbbbbb22", 1705000000, 1712776000);
	assert_int_equal(state_cert_put(st, &in, &v2), 0);
	assert_int_equal(serial_of(st), 2 * ONE_WRITE);

	assert_int_equal(state_cert_current(&out, st, "www", STATE_CERT_CHAIN | STATE_CERT_KEY), 0);
	assert_string_equal(out->meta.version, v2);
	assert_string_equal(out->meta.fingerprint, "bbbbbbbb22");
	assert_int_equal(out->meta.nsans, 2);
	assert_string_equal(out->meta.sans[1], "www.example.com");
	assert_int_equal(out->meta.not_after, 1712776000);
	assert_string_equal(out->meta.order_url, "https://ca/order/1");
	assert_string_equal(out->meta.declaration_hash, "deadbeef");
	assert_string_equal(out->meta.key_spec, "ecdsa-p256");
	assert_string_equal(out->chain_pem, CHAIN_PEM);
	assert_string_equal(out->key_pem, KEY_PEM);
	state_cert_free(out);

	/* meta only: nothing else is read */
	assert_int_equal(state_cert_current(&out, st, "www", 0), 0);
	assert_null(out->chain_pem);
	assert_null(out->key_pem);
	state_cert_free(out);

	/* modes */
	snprintf(p, sizeof(p), "%s/certs/www/%s", f->dir, v2);
	assert_int_equal(mode_of(p), 0700);
	snprintf(p, sizeof(p), "%s/certs/www/%s/key.pem", f->dir, v2);
	assert_int_equal(mode_of(p), 0600);

	/* the same certificate again (resumed apply) adds no version */
	fill_cert(&in, "www", "aaaaaaaa11", 1709000000, 1707776000);
	assert_int_equal(state_cert_put(st, &in, &again), 0);
	assert_string_equal(again, v1);
	assert_int_equal(state_cert_versions(&list, &n, st, "www"), 0);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].version, v1);
	assert_string_equal(list[1].version, v2);
	state_cert_meta_array_free(list, n);
	assert_int_equal(state_cert_current(&out, st, "www", 0), 0);
	assert_string_equal(out->meta.version, v1);
	state_cert_free(out);

	/* rollback to v2 */
	assert_int_equal(state_cert_set_current(st, "www", v2), 0);
	assert_int_equal(state_cert_current(&out, st, "www", 0), 0);
	assert_string_equal(out->meta.version, v2);
	state_cert_free(out);
	assert_int_equal(state_cert_set_current(st, "www", "20990101T000000Z-00000000"),
			 CERTOPS_ENOTFOUND);

	fill_cert(&in, "api", "cccccccc33", 1705000000, 1712776000);
	assert_int_equal(state_cert_put(st, &in, NULL), 0);
	assert_int_equal(state_cert_names(&names, &n, st), 0);
	assert_int_equal(n, 2);
	assert_string_equal(names[0], "api");
	assert_string_equal(names[1], "www");
	free(names[0]);
	free(names[1]);
	free(names);
	names = NULL;

	/* a fingerprint in colon form still makes a clean version id */
	fill_cert(&in, "colon", "AB:CD:EF:01:23:45:67:89", 1705000000, 1712776000);
	free(again);
	assert_int_equal(state_cert_put(st, &in, &again), 0);
	assert_string_equal(again, "20240111T190640Z-abcdef01");
	free(again);
	again = NULL;

	fill_cert(&in, "../x", "dddddddd", 1705000000, 1712776000);
	assert_int_equal(state_cert_put(st, &in, NULL), CERTOPS_EINVALID);
	assert_int_equal(state_cert_current(&out, st, "a/b", 0), CERTOPS_EINVALID);
	fill_cert(&in, "www", "dddddddd", 1705000000, 1712776000);
	in.key_pem = NULL;
	assert_int_equal(state_cert_put(st, &in, NULL), CERTOPS_EINVALID);

	free(v1);
	free(v2);
	free(again);
	state_free(st);
}

static void test_cert_put_atomic_on_failure(void **vs)
{
	fixture *f = *vs;
	struct rlimit old, lim;
	state_cert in, *out = NULL;
	state_cert_meta *list = NULL;
	state_account acct = { 0 }, *got = NULL;
	size_t n = 0, big_len = 256 * 1024;
	char *big = malloc(big_len + 1), *v1 = NULL, p[256];
	state *st = NULL;
	uint64_t serial;

	assert_non_null(big);
	memset(big, 'A', big_len);
	big[big_len] = '\0';
	assert_int_equal(state_open(&st, f->dir, 0), 0);
	fill_cert(&in, "www", "aaaaaaaa11", 1700000000, 1707776000);
	assert_int_equal(state_cert_put(st, &in, &v1), 0);
	acct.issuer = "pebble";
	acct.directory_url = "https://ca/dir";
	acct.key_pem = KEY_PEM;
	assert_int_equal(state_account_put(st, &acct), 0);
	serial = serial_of(st);

	/*
	 * Make every write past 64 KiB fail (EFBIG): this works as root too,
	 * where an unwritable directory would not stop anything.
	 */
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_IGN);
	lim = old;
	lim.rlim_cur = 64 * 1024;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);

	fill_cert(&in, "www", "bbbbbbbb22", 1705000000, 1712776000);
	in.chain_pem = big;
	assert_int_not_equal(state_cert_put(st, &in, NULL), 0);
	acct.key_pem = big;
	assert_int_not_equal(state_account_put(st, &acct), 0);

	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_DFL);

	/* the old version is still current, complete, and alone */
	assert_int_equal(state_cert_current(&out, st, "www", STATE_CERT_CHAIN | STATE_CERT_KEY), 0);
	assert_string_equal(out->meta.version, v1);
	assert_string_equal(out->chain_pem, CHAIN_PEM);
	state_cert_free(out);
	assert_int_equal(state_cert_versions(&list, &n, st, "www"), 0);
	assert_int_equal(n, 1);
	state_cert_meta_array_free(list, n);
	/* no temporary folder or file left behind */
	path_in(p, sizeof(p), f->dir, "certs/www");
	assert_int_equal(count_prefix(p, ".tmp-"), 0);
	assert_int_equal(count_prefix(p, "current.certops-tmp"), 0);
	/* the account keeps its old key */
	assert_int_equal(state_account_get(&got, st, "pebble", "https://ca/dir"), 0);
	assert_string_equal(got->key_pem, KEY_PEM);
	state_account_free(got);
	/* failed writes do not move the serial */
	assert_int_equal(serial_of(st), serial);

	free(big);
	free(v1);
	state_free(st);
}

static void test_prune_policy(void **vs)
{
	fixture *f = *vs;
	const time_t day = 86400, now = 1800000000;
	state_prune_policy pol = STATE_PRUNE_POLICY_INIT;
	state_cert in;
	state_cert_meta *list = NULL;
	char fp[16];
	size_t n = 0, removed = 99;
	state *st = NULL;
	uint64_t serial;
	int i;

	assert_int_equal(state_open(&st, f->dir, 0), 0);
	/*
	 * Eight versions, 10 days apart, each valid 15 days: v0..v5 expired
	 * long ago, v6 expired 6 days ago (inside the 7-day grace), v7 is
	 * valid.  v7 is made current by the last put, then rolled back to v1
	 * to show that the current version is kept whatever its age.
	 */
	for (i = 0; i < 8; i++) {
		time_t issued = now - (7 - i) * 10 * day - 11 * day;

		snprintf(fp, sizeof(fp), "%08x", 0xa0000000u + (unsigned)i);
		fill_cert(&in, "www", fp, issued, issued + 15 * day);
		assert_int_equal(state_cert_put(st, &in, NULL), 0);
	}
	assert_int_equal(state_cert_versions(&list, &n, st, "www"), 0);
	assert_int_equal(n, 8);
	assert_int_equal(state_cert_set_current(st, "www", list[1].version), 0);
	state_cert_meta_array_free(list, n);

	pol.keep_previous = 2;
	assert_int_equal(state_cert_prune(st, "www", &pol, now, &removed), 0);
	/* kept: current v1; newest two others v7, v6; nothing else qualifies */
	assert_int_equal(removed, 5);
	assert_int_equal(state_cert_versions(&list, &n, st, "www"), 0);
	assert_int_equal(n, 3);
	assert_string_equal(list[0].fingerprint, "a0000001");
	assert_string_equal(list[1].fingerprint, "a0000006");
	assert_string_equal(list[2].fingerprint, "a0000007");
	state_cert_meta_array_free(list, n);

	/* pruning again removes nothing and leaves the serial alone */
	serial = serial_of(st);
	assert_int_equal(state_cert_prune(st, "www", &pol, now, &removed), 0);
	assert_int_equal(removed, 0);
	assert_int_equal(serial_of(st), serial);

	/* keep_previous 0: v6 still stays for its grace, v7 as still valid */
	pol.keep_previous = 0;
	assert_int_equal(state_cert_prune(st, "www", &pol, now, &removed), 0);
	assert_int_equal(removed, 0);
	/* past v6's grace it goes */
	assert_int_equal(state_cert_prune(st, "www", &pol, now + 4 * day, &removed), 0);
	assert_int_equal(removed, 1);
	assert_int_equal(serial_of(st), serial + ONE_WRITE);

	/* defaults, on a name with no versions: nothing to do */
	assert_int_equal(state_cert_prune(st, "none", NULL, now, &removed), 0);
	assert_int_equal(removed, 0);
	state_free(st);
}

static void test_prune_removes_leftover_tmp(void **vs)
{
	fixture *f = *vs;
	state_cert in;
	size_t removed = 0;
	state *st = NULL;
	char p[256];

	assert_int_equal(state_open(&st, f->dir, 0), 0);
	fill_cert(&in, "www", "aaaaaaaa", 1700000000, 1707776000);
	assert_int_equal(state_cert_put(st, &in, NULL), 0);
	/* what a crash in the middle of a put leaves */
	path_in(p, sizeof(p), f->dir, "certs/www/.tmp-20260101T000000Z-x-1");
	assert_int_equal(mkdir(p, 0700), 0);
	path_in(p, sizeof(p), f->dir, "certs/www/.tmp-20260101T000000Z-x-1/chain.pem");
	assert_int_equal(util_fs_write_atomic(p, "half", 4, 0600), 0);
	assert_int_equal(state_cert_prune(st, "www", NULL, 1700000000, &removed), 0);
	assert_int_equal(removed, 1);
	path_in(p, sizeof(p), f->dir, "certs/www");
	assert_int_equal(count_prefix(p, ".tmp-"), 0);
	state_free(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_creates_0700, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_nocreate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_refuses_group_writable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_refuses_other_owner, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_refuses_foreign_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_refuses_newer_format, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_refuses_unmigratable_format, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_reports_corrupt_format, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_runs_migrations, setup, teardown),
		cmocka_unit_test(test_default_dir),
		cmocka_unit_test_setup_teardown(test_account_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_account_error_has_no_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deploy_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_order_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cert_put_and_current, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cert_put_atomic_on_failure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prune_policy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prune_removes_leftover_tmp, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
