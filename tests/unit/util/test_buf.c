#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "util/buf.h"

static void test_empty_is_valid_string(void **state)
{
	util_buf b = UTIL_BUF_INIT;
	(void)state;
	assert_non_null(b.ptr);
	assert_string_equal(b.ptr, "");
	assert_int_equal(b.size, 0);
	util_buf_release(&b);
	assert_string_equal(b.ptr, "");
}

static void test_appends(void **state)
{
	util_buf b = UTIL_BUF_INIT;
	int i;
	(void)state;
	util_buf_puts(&b, "abc");
	util_buf_putc(&b, '-');
	util_buf_printf(&b, "%d/%s", 42, "x");
	assert_string_equal(b.ptr, "abc-42/x");
	assert_int_equal(b.size, 8);
	for (i = 0; i < 1000; i++)
		util_buf_puts(&b, "0123456789");
	assert_int_equal(b.size, 8 + 10000);
	assert_int_equal(strlen(b.ptr), b.size);
	util_buf_truncate(&b, 3);
	assert_string_equal(b.ptr, "abc");
	util_buf_release(&b);
}

static void test_embedded_nul(void **state)
{
	util_buf b = UTIL_BUF_INIT;
	(void)state;
	util_buf_put(&b, "a\0b", 3);
	assert_int_equal(b.size, 3);
	assert_memory_equal(b.ptr, "a\0b", 4);
	util_buf_release(&b);
}

static void test_limit_is_sticky(void **state)
{
	util_buf b;
	(void)state;
	util_buf_init_limit(&b, 8);
	assert_int_equal(util_buf_puts(&b, "12345"), 0);
	assert_true(util_buf_puts(&b, "67890") < 0);
	assert_true(util_buf_failed(&b));
	/* later appends are no-ops, even small ones that would fit */
	assert_true(util_buf_puts(&b, "x") < 0);
	assert_null(util_buf_detach(&b));
	util_buf_release(&b);
}

static void test_clear_resets_failure(void **state)
{
	util_buf b;
	(void)state;
	util_buf_init_limit(&b, 4);
	util_buf_puts(&b, "too long");
	assert_true(util_buf_failed(&b));
	util_buf_clear(&b);
	assert_false(util_buf_failed(&b));
	assert_int_equal(util_buf_puts(&b, "ok"), 0);
	assert_string_equal(b.ptr, "ok");
	util_buf_release(&b);
}

static void test_detach(void **state)
{
	util_buf b = UTIL_BUF_INIT;
	char *s;
	(void)state;
	util_buf_puts(&b, "hello");
	s = util_buf_detach(&b);
	assert_string_equal(s, "hello");
	assert_string_equal(b.ptr, "");
	assert_int_equal(b.size, 0);
	free(s);
	/* detaching an empty buffer gives an empty string the caller owns */
	s = util_buf_detach(&b);
	assert_non_null(s);
	assert_string_equal(s, "");
	free(s);
}

static void test_json_string(void **state)
{
	util_buf b = UTIL_BUF_INIT;
	(void)state;
	util_buf_put_json_string(&b, "a\"b\\c\n\t\x01z");
	assert_string_equal(b.ptr, "\"a\\\"b\\\\c\\n\\t\\u0001z\"");
	util_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_is_valid_string),
		cmocka_unit_test(test_appends),
		cmocka_unit_test(test_embedded_nul),
		cmocka_unit_test(test_limit_is_sticky),
		cmocka_unit_test(test_clear_resets_failure),
		cmocka_unit_test(test_detach),
		cmocka_unit_test(test_json_string),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
