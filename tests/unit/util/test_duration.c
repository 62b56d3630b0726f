#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "util/duration.h"
#include "util/error.h"

static int64_t parse_ok(const char *s)
{
	int64_t v = -1;
	assert_int_equal(util_duration_parse(&v, s), 0);
	return v;
}

static void test_parse(void **state)
{
	(void)state;
	assert_int_equal(parse_ok("90d"), 90 * 86400);
	assert_int_equal(parse_ok("12h"), 12 * 3600);
	assert_int_equal(parse_ok("30m"), 1800);
	assert_int_equal(parse_ok("45s"), 45);
	assert_int_equal(parse_ok("1w"), 7 * 86400);
	assert_int_equal(parse_ok("1d12h"), 36 * 3600);
	assert_int_equal(parse_ok("0s"), 0);
}

static void test_parse_errors(void **state)
{
	static const char *bad[] = { "", "90", "d", "1x", "1d 2h", "-1d", "1.5d",
				     "99999999999999999999d" };
	size_t i;
	int64_t v;
	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(util_duration_parse(&v, bad[i]), CERTOPS_EINVALID);
		assert_non_null(util_error_message());
	}
	util_duration_parse(&v, "90");
	assert_non_null(strstr(util_error_message(), "invalid duration '90'"));
	util_error_clear();
}

static void test_format_round_trip(void **state)
{
	static const char *forms[] = { "30d", "1d12h", "0s", "2h30m", "59s" };
	size_t i;
	(void)state;
	for (i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		util_buf b = UTIL_BUF_INIT;
		util_duration_format(&b, parse_ok(forms[i]));
		assert_string_equal(b.ptr, forms[i]);
		util_buf_release(&b);
	}
}

static void test_time_parse(void **state)
{
	time_t t, now = 1764547200; /* 2025-12-01T00:00:00Z */
	util_buf b = UTIL_BUF_INIT;
	(void)state;
	assert_int_equal(util_time_parse(&t, "2026-12-15T08:00:00Z", now), 0);
	util_time_format(&b, t);
	assert_string_equal(b.ptr, "2026-12-15T08:00:00Z");
	assert_int_equal(util_time_parse(&t, "2026-12-15", now), 0);
	assert_int_equal(t % 86400, 0);
	assert_int_equal(util_time_parse(&t, "+30d", now), 0);
	assert_int_equal(t, now + 30 * 86400);
	assert_int_equal(util_time_parse(&t, "2026-12-15T08:00:00", now), CERTOPS_EINVALID);
	assert_int_equal(util_time_parse(&t, "tomorrow", now), CERTOPS_EINVALID);
	assert_int_equal(util_time_parse(&t, "+soon", now), CERTOPS_EINVALID);
	util_buf_release(&b);
	util_error_clear();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_format_round_trip),
		cmocka_unit_test(test_time_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
