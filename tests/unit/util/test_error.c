#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "util/error.h"
#include "util/log.h"

static void test_set_returns_code(void **state)
{
	(void)state;
	assert_int_equal(util_error_set(CERTOPS_ENOTFOUND, "no issuer '%s'", "le"),
			 CERTOPS_ENOTFOUND);
	assert_int_equal(util_error_last()->code, CERTOPS_ENOTFOUND);
	assert_string_equal(util_error_message(), "no issuer 'le'");
	util_error_clear();
	assert_null(util_error_last());
	assert_string_equal(util_error_message(), "unknown error");
}

static void test_position_format(void **state)
{
	util_buf b = UTIL_BUF_INIT;
	(void)state;
	util_error_set_at(CERTOPS_EINVALID, "certs/www.yaml", 12, 5,
			  "spec.domains[1]", "invalid DNS name '%s'", "a..b");
	util_error_format(&b, util_error_last());
	assert_string_equal(b.ptr,
		"certs/www.yaml:12:5: spec.domains[1]: invalid DNS name 'a..b'");
	util_buf_release(&b);
	util_error_clear();
}

static void test_oom(void **state)
{
	(void)state;
	util_error_set(CERTOPS_EINVALID, "previous");
	assert_int_equal(util_error_oom(), CERTOPS_ENOMEM);
	assert_int_equal(util_error_last()->code, CERTOPS_ENOMEM);
	assert_string_equal(util_error_message(), "out of memory");
	util_error_clear();
}

static void test_errno_and_wrap(void **state)
{
	(void)state;
	errno = ENOENT;
	util_error_set_errno(CERTOPS_ENOTFOUND, "opening '%s'", "/x");
	assert_string_equal(util_error_message(),
			    "opening '/x': No such file or directory");
	assert_int_equal(util_error_wrap("loading state"), CERTOPS_ENOTFOUND);
	assert_string_equal(util_error_message(),
			    "loading state: opening '/x': No such file or directory");
	util_error_clear();
	assert_int_equal(util_error_wrap("nothing set"), CERTOPS_ERROR);
	util_error_clear();
}

static void test_messages_are_redacted(void **state)
{
	(void)state;
	util_secret_register("hunter2-token");
	util_error_set(CERTOPS_EAUTH, "vault refused token hunter2-token at %s", "x");
	assert_string_equal(util_error_message(), "vault refused token [redacted] at x");
	util_secret_clear();
	util_error_clear();
}

static void test_diags_sorted_stable(void **state)
{
	util_diags d = UTIL_DIAGS_INIT;
	(void)state;
	assert_int_equal(util_diags_add(&d, CERTOPS_EINVALID, "b.yaml", 3, 1, "x", "third"), 0);
	assert_int_equal(util_diags_add(&d, CERTOPS_EINVALID, "a.yaml", 9, 2, "y", "second"), 0);
	assert_int_equal(util_diags_add(&d, CERTOPS_EINVALID, "a.yaml", 1, 1, NULL, "first"), 0);
	assert_int_equal(util_diags_add(&d, CERTOPS_EINVALID, "a.yaml", 9, 2, "z", "second-b"), 0);
	util_diags_sort(&d);
	assert_int_equal(d.count, 4);
	assert_string_equal(d.items[0].message, "first");
	assert_string_equal(d.items[1].message, "second");
	assert_string_equal(d.items[2].message, "second-b");
	assert_string_equal(d.items[3].message, "third");
	util_error_set(CERTOPS_EPOLICY, "not allowed");
	assert_int_equal(util_diags_add_last(&d), 0);
	assert_int_equal(d.items[4].code, CERTOPS_EPOLICY);
	util_diags_release(&d);
	assert_int_equal(d.count, 0);
	util_error_clear();
}

static void *thread_sets_error(void *arg)
{
	(void)arg;
	util_error_set(CERTOPS_EPEER, "the CA answered 500 in a worker thread");
	/* ends without clearing: LeakSanitizer fails this test on a leak */
	return NULL;
}

static void test_thread_exit_frees_error(void **state)
{
	pthread_t t[4];
	size_t i;
	(void)state;
	for (i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, thread_sets_error, NULL), 0);
	for (i = 0; i < 4; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	/* each thread has its own record: this one saw none of theirs */
	assert_null(util_error_last());
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set_returns_code),
		cmocka_unit_test(test_position_format),
		cmocka_unit_test(test_oom),
		cmocka_unit_test(test_errno_and_wrap),
		cmocka_unit_test(test_messages_are_redacted),
		cmocka_unit_test(test_diags_sorted_stable),
		cmocka_unit_test(test_thread_exit_frees_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
