#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "util/log.h"

static char *capture_buf;
static size_t capture_len;
static FILE *capture;

static int setup(void **state)
{
	(void)state;
	capture = open_memstream(&capture_buf, &capture_len);
	return capture ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	fclose(capture);
	free(capture_buf);
	capture_buf = NULL;
	util_secret_clear();
	util_log_setup(UTIL_LOG_INFO, UTIL_LOG_TEXT, 0, NULL);
	return 0;
}

static const char *captured(void)
{
	fflush(capture);
	return capture_buf;
}

static void test_levels_filter(void **state)
{
	(void)state;
	util_log_setup(UTIL_LOG_WARN, UTIL_LOG_TEXT, 0, capture);
	util_log_info("acme", "hidden %d", 1);
	util_log_warn("acme", "shown %d", 2);
	assert_string_equal(captured(), "warn: shown 2\n");
}

static void test_level_parse(void **state)
{
	util_log_level l;
	(void)state;
	assert_int_equal(util_log_level_parse("debug", &l), 0);
	assert_int_equal(l, UTIL_LOG_DEBUG);
	assert_int_equal(util_log_level_parse("loud", &l), -1);
}

static void test_json_lines(void **state)
{
	util_log_field f[] = { { "cert", "www" }, { "order", "https://ca/o/1" } };
	json_error_t err;
	json_t *j;
	(void)state;
	util_log_setup(UTIL_LOG_INFO, UTIL_LOG_JSON, 0, capture);
	util_log_fields(UTIL_LOG_INFO, "apply", f, 2, "issued \"%s\"", "www");
	j = json_loads(captured(), 0, &err);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "level")), "info");
	assert_string_equal(json_string_value(json_object_get(j, "component")), "apply");
	assert_string_equal(json_string_value(json_object_get(j, "msg")), "issued \"www\"");
	assert_string_equal(json_string_value(json_object_get(j, "order")), "https://ca/o/1");
	assert_non_null(json_object_get(j, "time"));
	json_decref(j);
}

static void test_secrets_never_printed(void **state)
{
	util_log_field f[] = { { "token", "s3cr\"et-value" } };
	(void)state;
	util_log_setup(UTIL_LOG_INFO, UTIL_LOG_JSON, 0, capture);
	assert_int_equal(util_secret_register("s3cr\"et-value"), 0);
	util_log_fields(UTIL_LOG_INFO, "vault", f, 1, "using s3cr\"et-value now");
	util_log_setup(UTIL_LOG_INFO, UTIL_LOG_TEXT, 0, capture);
	util_log_info("vault", "again s3cr\"et-value");
	assert_null(strstr(captured(), "s3cr"));
	assert_non_null(strstr(captured(), "using [redacted] now"));
	assert_non_null(strstr(captured(), "again [redacted]"));
}

static void test_private_keys_redacted(void **state)
{
	(void)state;
	util_log_setup(UTIL_LOG_INFO, UTIL_LOG_TEXT, 0, capture);
	util_log_info(NULL, "key: -----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMG\n-----END PRIVATE KEY-----\n"
		      "cert: -----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE----- end");
	assert_null(strstr(captured(), "MIGHAgEAMBMG"));
	assert_non_null(strstr(captured(), "key: [redacted private key]"));
	/* certificates are public and stay readable */
	assert_non_null(strstr(captured(), "MIIB"));
	assert_non_null(strstr(captured(), " end"));
}

static void test_short_secrets_ignored(void **state)
{
	(void)state;
	util_log_setup(UTIL_LOG_INFO, UTIL_LOG_TEXT, 0, capture);
	util_secret_register("on");
	util_log_info(NULL, "done");
	assert_string_equal(captured(), "done\n");
}

static void test_context_fields(void **state)
{
	util_log_field f[] = { { "commit", "explicit" } };
	const char *out;
	(void)state;
	assert_int_equal(util_log_context_set("commit", "0123abcd"), 0);
	util_log_setup(UTIL_LOG_INFO, UTIL_LOG_JSON, 0, capture);
	util_log_info("apply", "one");
	/* a line's own field wins over the context: no duplicate JSON key */
	util_log_fields(UTIL_LOG_INFO, "plan", f, 1, "two");
	util_log_setup(UTIL_LOG_INFO, UTIL_LOG_TEXT, 0, capture);
	util_log_info("apply", "three");   /* text at info: no context */
	util_log_setup(UTIL_LOG_DEBUG, UTIL_LOG_TEXT, 0, capture);
	util_log_info("apply", "four");    /* text with -v: context shown */
	assert_int_equal(util_log_context_set("commit", NULL), 0);
	util_log_info("apply", "five");
	out = captured();
	assert_non_null(strstr(out, "\"msg\":\"one\",\"commit\":\"0123abcd\"}"));
	assert_non_null(strstr(out, "\"msg\":\"two\",\"commit\":\"explicit\"}"));
	assert_null(strstr(out, "\"commit\":\"explicit\",\"commit\""));
	assert_non_null(strstr(out, "\nthree\n"));
	assert_non_null(strstr(out, "\nfour commit=0123abcd\n"));
	assert_non_null(strstr(out, "\nfive\n"));
	util_log_context_clear();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_levels_filter, setup, teardown),
		cmocka_unit_test(test_level_parse),
		cmocka_unit_test_setup_teardown(test_json_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_secrets_never_printed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_private_keys_redacted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_short_secrets_ignored, setup, teardown),
		cmocka_unit_test_setup_teardown(test_context_fields, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
