/*
 * Unit tests of the one SHA-256 (lib/crypto/sha256.c): the FIPS 180-2
 * vectors (Appendix B.1 "abc", B.2 the 448-bit message, B.3 a million
 * 'a'), the empty message, the hex form, and many threads at once (the
 * digest is fetched once).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "util/buf.h"
#include "util/error.h"

static void hex_of(char out[65], const unsigned char md[32])
{
	util_buf b = UTIL_BUF_INIT;

	assert_int_equal(crypto_hex_encode(&b, md, 32, 0), 0);
	memcpy(out, b.ptr, 65);
	util_buf_release(&b);
}

static void test_fips_abc(void **state)
{
	static const unsigned char expect[32] = {
		0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde,
		0x5d, 0xae, 0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c,
		0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad };
	unsigned char md[32];
	char hex[65];

	(void)state;
	assert_int_equal(crypto_sha256(md, "abc", 3), 0);
	assert_memory_equal(md, expect, 32);
	assert_int_equal(crypto_sha256_hex(hex, "abc", 3), 0);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void test_fips_two_blocks_and_million(void **state)
{
	static const char msg[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	char hex[65];
	char *a = malloc(1000000);

	(void)state;
	assert_int_equal(crypto_sha256_hex(hex, msg, strlen(msg)), 0);
	assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	assert_non_null(a);
	memset(a, 'a', 1000000);
	assert_int_equal(crypto_sha256_hex(hex, a, 1000000), 0);
	assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	free(a);
}

static void test_empty_and_hex_agree(void **state)
{
	unsigned char md[32];
	char hex[65], via[65];

	(void)state;
	assert_int_equal(crypto_sha256_hex(hex, "", 0), 0);
	assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	/* the table hex and crypto_hex_encode say the same */
	assert_int_equal(crypto_sha256(md, "certops", 7), 0);
	assert_int_equal(crypto_sha256_hex(hex, "certops", 7), 0);
	hex_of(via, md);
	assert_string_equal(hex, via);
	assert_int_equal(strlen(hex), 64);
}

static void *hash_many(void *p)
{
	char hex[65];
	int i;

	(void)p;
	for (i = 0; i < 2000; i++)
		if (crypto_sha256_hex(hex, "abc", 3) < 0 ||
		    strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"))
			return (void *)1;
	return NULL;
}

static void test_threads(void **state)
{
	pthread_t t[8];
	void *r;
	int i, bad = 0;

	(void)state;
	for (i = 0; i < 8; i++)
		assert_int_equal(pthread_create(&t[i], NULL, hash_many, NULL), 0);
	for (i = 0; i < 8; i++) {
		pthread_join(t[i], &r);
		bad += r != NULL;
	}
	assert_int_equal(bad, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fips_abc),
		cmocka_unit_test(test_fips_two_blocks_and_million),
		cmocka_unit_test(test_empty_and_hex_agree),
		cmocka_unit_test(test_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
