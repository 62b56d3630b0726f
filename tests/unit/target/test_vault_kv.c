/*
 * Unit tests of the Vault KV v2 client's building blocks: request URLs and
 * bodies as Vault's API documentation describes them, parsing of read and
 * metadata answers (Vault's documented samples), the error mapping, the
 * address rule, and that the token is registered as a secret.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "target/vault_kv.h"
#include "util/error.h"
#include "util/log.h"

static void test_url(void **state)
{
	util_buf b = UTIL_BUF_INIT;

	(void)state;
	assert_int_equal(target_vault_url(&b, "https://v:8200", "secret", "data", "tls/www"), 0);
	assert_string_equal(b.ptr, "https://v:8200/v1/secret/data/tls/www");
	util_buf_clear(&b);
	assert_int_equal(target_vault_url(&b, "https://v", "kv-team a", "metadata", "a b/c?d#e%"), 0);
	assert_string_equal(b.ptr, "https://v/v1/kv-team%20a/metadata/a%20b/c%3Fd%23e%25");
	util_buf_clear(&b);
	assert_int_equal(target_vault_url(&b, "https://v", "secret", "data", "tls/../sys"), CERTOPS_EINVALID);
	util_buf_clear(&b);
	assert_int_equal(target_vault_url(&b, "https://v", "secret", "data", "tls//www"), CERTOPS_EINVALID);
	util_buf_clear(&b);
	assert_int_equal(target_vault_url(&b, "https://v", "secret", "data", ""), CERTOPS_EINVALID);
	util_buf_release(&b);
}

static void test_write_body(void **state)
{
	util_buf b = UTIL_BUF_INIT;
	target_vault_field f[] = { { "certificate", "-----BEGIN CERTIFICATE-----\nAA==\n" },
				   { "fingerprint", "ab\"cd" } };

	(void)state;
	assert_int_equal(target_vault_write_body(&b, f, 2, 3), 0);
	assert_string_equal(b.ptr, "{\"options\":{\"cas\":3},\"data\":{\"certificate\":"
			    "\"-----BEGIN CERTIFICATE-----\\nAA==\\n\",\"fingerprint\":\"ab\\\"cd\"}}");
	util_buf_clear(&b);
	assert_int_equal(target_vault_write_body(&b, f, 1, 0), 0);
	assert_non_null(strstr(b.ptr, "{\"options\":{\"cas\":0},"));
	util_buf_clear(&b);
	assert_int_equal(target_vault_write_body(&b, f + 1, 1, -1), 0);
	assert_string_equal(b.ptr, "{\"data\":{\"fingerprint\":\"ab\\\"cd\"}}");
	util_buf_release(&b);
}

/* The sample response of "Read secret version" in Vault's KV v2 API docs. */
static const char read_sample[] =
	"{\"data\":{\"data\":{\"foo\":\"bar\",\"n\":3,\"o\":{\"x\":1}},"
	"\"metadata\":{\"created_time\":\"2018-03-22T02:24:06.945319214Z\","
	"\"custom_metadata\":{\"owner\":\"jdoe\"},\"deletion_time\":\"\","
	"\"destroyed\":false,\"version\":2}}}";

static void test_parse_secret(void **state)
{
	target_vault_secret s;

	(void)state;
	assert_int_equal(target_vault_parse_secret(&s, read_sample, sizeof(read_sample) - 1), 0);
	assert_int_equal(s.version, 2);
	/* Only string values: what other writers store as numbers is left out. */
	assert_int_equal(s.count, 1);
	assert_string_equal(target_vault_secret_get(&s, "foo"), "bar");
	assert_null(target_vault_secret_get(&s, "n"));
	target_vault_secret_release(&s);
	assert_int_equal(target_vault_parse_secret(&s, "{\"data\":{}}", 11), CERTOPS_EPEER);
	assert_int_equal(target_vault_parse_secret(&s, "<html>", 6), CERTOPS_EPEER);
	assert_null(s.fields);
}

/* The sample response of "Read secret metadata", trimmed. */
static const char meta_sample[] =
	"{\"data\":{\"cas_required\":false,\"created_time\":\"2018-03-22T02:24:06.945319214Z\","
	"\"current_version\":3,\"max_versions\":0,\"oldest_version\":0,"
	"\"updated_time\":\"2018-03-22T02:36:43.986212308Z\",\"versions\":{"
	"\"1\":{\"created_time\":\"2018-03-22T02:24:06.945319214Z\",\"deletion_time\":\"\",\"destroyed\":false},"
	"\"2\":{\"created_time\":\"2018-03-22T02:36:33.954880664Z\",\"deletion_time\":\"\",\"destroyed\":false},"
	"\"3\":{\"created_time\":\"2018-03-22T02:36:43.986212308Z\",\"deletion_time\":\"2018-03-23T00:00:00Z\",\"destroyed\":false}}}}";

static void test_parse_metadata(void **state)
{
	target_vault_metadata m;

	(void)state;
	assert_int_equal(target_vault_parse_metadata(&m, meta_sample, sizeof(meta_sample) - 1), 0);
	assert_int_equal(m.current_version, 3);
	assert_true(m.current_deleted);
	assert_false(m.current_destroyed);
	assert_int_equal(target_vault_parse_metadata(&m, "[]", 2), CERTOPS_EPEER);
}

static void test_errors(void **state)
{
	static const char denied[] = "{\"errors\":[\"permission denied\"]}";
	static const char cas[] = "{\"errors\":[\"check-and-set parameter did not match the current version\"]}";
	static const char two[] = "{\"errors\":[\"one\",\"two\"]}";

	(void)state;
	assert_int_equal(target_vault_error(403, denied, sizeof(denied) - 1, "vault write a/b"), CERTOPS_EAUTH);
	assert_string_equal(util_error_message(), "vault write a/b: HTTP 403: permission denied");
	assert_int_equal(target_vault_error(401, "", 0, "x"), CERTOPS_EAUTH);
	assert_int_equal(target_vault_error(404, "{\"errors\":[]}", 13, "vault read a/b"), CERTOPS_ENOTFOUND);
	assert_string_equal(util_error_message(), "vault read a/b: HTTP 404");
	assert_int_equal(target_vault_error(400, cas, sizeof(cas) - 1, "w"), CERTOPS_ESTALE);
	assert_int_equal(target_vault_error(412, "", 0, "w"), CERTOPS_ESTALE);
	assert_int_equal(target_vault_error(400, two, sizeof(two) - 1, "w"), CERTOPS_EPEER);
	assert_string_equal(util_error_message(), "w: HTTP 400: one; two");
	assert_int_equal(target_vault_error(500, "<html>", 6, "w"), CERTOPS_EPEER);
	assert_int_equal(target_vault_error(429, "", 0, "w"), CERTOPS_ERATELIMIT);
}

static void test_address_and_token_secret(void **state)
{
	target_vault *v = NULL;
	target_vault_opts o = { .address = "http://vault.example:8200", .token = "hvs.abcdef123456" };

	(void)state;
	assert_int_equal(target_vault_new(&v, &o), CERTOPS_EINVALID);
	assert_non_null(strstr(util_error_message(), "must be https://"));
	o.address = "http://127.0.0.1:8200/";
	assert_int_equal(target_vault_new(&v, &o), 0);
	target_vault_free(v);
	o.address = "https://vault.example:8200";
	assert_int_equal(target_vault_new(&v, &o), 0);
	/* The token is a registered secret from now on. */
	util_error_set(CERTOPS_ERROR, "token was %s", "hvs.abcdef123456");
	assert_null(strstr(util_error_message(), "hvs.abcdef123456"));
	target_vault_free(v);
	util_secret_clear();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url),
		cmocka_unit_test(test_write_body),
		cmocka_unit_test(test_parse_secret),
		cmocka_unit_test(test_parse_metadata),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_address_and_token_secret),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
