/*
 * Unit tests of the verify: tls probe's pure parts: classification of a
 * served fingerprint, the spelling rules of fingerprints, and the refusal
 * of a malformed connect string (the network parts are tested against a
 * real nginx in tests/integration/test_tls_probe.sh).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "observe/tls_probe.h"
#include "util/error.h"

#define FP_A "aa11bb22cc33dd44ee55ff6600770088aa11bb22cc33dd44ee55ff6600770088"
#define FP_B "0011223344556677889900112233445566778899001122334455667788990011"
#define FP_C "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100"

static void test_classify(void **vs)
{
	const char *older[] = { FP_B, FP_C };

	(void)vs;
	assert_int_equal(observe_tls_classify(FP_A, FP_A, older, 2), OBSERVE_TLS_SERVED);
	assert_int_equal(observe_tls_classify(FP_C, FP_A, older, 2), OBSERVE_TLS_STALE);
	assert_int_equal(observe_tls_classify(FP_C, FP_A, older, 0), OBSERVE_TLS_FOREIGN);
	assert_int_equal(observe_tls_classify(FP_C, FP_A, NULL, 0), OBSERVE_TLS_FOREIGN);
	assert_int_equal(observe_tls_classify("", FP_A, older, 2), OBSERVE_TLS_UNREACHABLE);
	assert_int_equal(observe_tls_classify(NULL, FP_A, older, 2), OBSERVE_TLS_UNREACHABLE);
	/* No expected certificate yet: whatever is served is not ours. */
	assert_int_equal(observe_tls_classify(FP_A, NULL, NULL, 0), OBSERVE_TLS_FOREIGN);
	/* A prefix is not a match. */
	assert_int_equal(observe_tls_classify(FP_A, "aa11bb22", NULL, 0), OBSERVE_TLS_FOREIGN);
}

static void test_spelling(void **vs)
{
	(void)vs;
	assert_int_equal(observe_tls_classify(FP_A,
		"AA:11:BB:22:CC:33:DD:44:EE:55:FF:66:00:77:00:88:AA:11:BB:22:CC:33:DD:44:EE:55:FF:66:00:77:00:88",
		NULL, 0), OBSERVE_TLS_SERVED);
}

static void test_names(void **vs)
{
	(void)vs;
	assert_string_equal(observe_tls_status_name(OBSERVE_TLS_SERVED), "served");
	assert_string_equal(observe_tls_status_name(OBSERVE_TLS_STALE), "stale");
	assert_string_equal(observe_tls_status_name(OBSERVE_TLS_FOREIGN), "foreign");
	assert_string_equal(observe_tls_status_name(OBSERVE_TLS_UNREACHABLE), "unreachable");
}

static void test_bad_connect(void **vs)
{
	const char *bad[] = { "host", "host:", ":443", "host:44x3", "::1:443", "[::1]443" };
	char fp[65];
	size_t i;

	(void)vs;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		observe_tls_endpoint ep = { bad[i], NULL, 100 };
		assert_int_equal(observe_tls_fetch(fp, &ep), CERTOPS_EINVALID);
		assert_string_equal(fp, "");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_spelling),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_bad_connect),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
