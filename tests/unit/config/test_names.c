/*
 * The small checkers under the loader: DNS names and IP addresses as ACME
 * identifiers, "did you mean", and YAML 1.1 scalar typing (which must match
 * what PyYAML does, or the schemas and the C validator disagree).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "config/config_internal.h"

static void ok_dns(const char *in, const char *want)
{
	char norm[256];
	const char *why = config__check_dns_name(in, norm, sizeof(norm));

	if (why)
		fail_msg("'%s' refused: %s", in, why);
	assert_string_equal(norm, want);
}

static void bad_dns(const char *in, const char *fragment)
{
	char norm[256];
	const char *why = config__check_dns_name(in, norm, sizeof(norm));

	if (!why)
		fail_msg("'%s' accepted", in);
	if (!strstr(why, fragment))
		fail_msg("'%s': '%s' does not say '%s'", in, why, fragment);
}

static void test_dns(void **state)
{
	char label63[64], long_name[260];

	(void)state;
	memset(label63, 'a', 63);
	label63[63] = '\0';
	ok_dns("example.com", "example.com");
	ok_dns("WWW.Example.COM", "www.example.com");
	ok_dns("*.example.com", "*.example.com");
	ok_dns("xn--bcher-kva.example", "xn--bcher-kva.example");
	ok_dns("123.example", "123.example");
	ok_dns("a-b.c", "a-b.c");
	/* 63 is the longest label, 253 the longest name. */
	snprintf(long_name, sizeof(long_name), "%s.com", label63);
	ok_dns(long_name, long_name);
	snprintf(long_name, sizeof(long_name), "%s.%s.%s.%.57s.com", label63,
		 label63, label63, label63);
	assert_int_equal(strlen(long_name), 253);
	ok_dns(long_name, long_name);
	snprintf(long_name, sizeof(long_name), "%s.%s.%s.%.58s.com", label63,
		 label63, label63, label63);
	bad_dns(long_name, "longer than 253");
	snprintf(long_name, sizeof(long_name), "a%s.com", label63);
	bad_dns(long_name, "label longer than 63");

	bad_dns("bücher.example", "A-label");
	bad_dns("localhost", "needs a dot");
	bad_dns("example.com.", "end with '.'");
	bad_dns("a..example.com", "empty label");
	bad_dns(".example.com", "empty label");
	bad_dns("-a.example.com", "starting with '-'");
	bad_dns("a-.example.com", "ending with '-'");
	bad_dns("example.com-", "ending with '-'");
	bad_dns("ex ample.com", "invalid character");
	bad_dns("exa_mple.com", "invalid character");
	bad_dns("192.168.1.1", "ipAddresses");
	bad_dns("*.com", "two labels");
	bad_dns("*", "wildcard");
	bad_dns("a.*.example.com", "wildcard");
	bad_dns("**.example.com", "wildcard");
	bad_dns("*a.example.com", "wildcard");
	bad_dns("", "invalid");
}

static void test_ip(void **state)
{
	char norm[64];

	(void)state;
	assert_null(config__check_ip("192.0.2.1", norm, sizeof(norm)));
	assert_string_equal(norm, "192.0.2.1");
	/* IPv6 in canonical (RFC 5952) form, so duplicates are found. */
	assert_null(config__check_ip("2001:DB8:0:0::1", norm, sizeof(norm)));
	assert_string_equal(norm, "2001:db8::1");
	assert_null(config__check_ip("::ffff:192.0.2.1", norm, sizeof(norm)));
	assert_non_null(config__check_ip("300.1.1.1", norm, sizeof(norm)));
	assert_non_null(config__check_ip("1.2.3", norm, sizeof(norm)));
	assert_non_null(config__check_ip("2001:db8::1::2", norm, sizeof(norm)));
	assert_non_null(config__check_ip("example.com", norm, sizeof(norm)));
	assert_non_null(config__check_ip("[::1]", norm, sizeof(norm)));
}

static void test_suggest(void **state)
{
	static const char *const fields[] = { "domains", "ipAddresses",
		"issuer", "renewBefore", "solver", NULL };

	(void)state;
	assert_string_equal(config__suggest("domian", fields), "domains");
	assert_string_equal(config__suggest("Domains", fields), "domains");
	assert_string_equal(config__suggest("isuer", fields), "issuer");
	assert_string_equal(config__suggest("renewbefore", fields), "renewBefore");
	assert_null(config__suggest("colour", fields));
	assert_null(config__suggest("x", fields));
	assert_null(config__suggest("", fields));
}

/* The type a plain scalar gets, seen through the loader's message. */
static const char *type_of(const char *scalar)
{
	static char msg[256];
	util_diags diags = UTIL_DIAGS_INIT;
	config_set *set = NULL;
	char text[128];

	snprintf(text, sizeof(text),
		 "kind: Issuer\nname: le\nacme: {directory: %s}\n", scalar);
	assert_int_equal(config_set_new(&set), 0);
	assert_int_equal(config_set_add_buffer(set, &diags, "t.yaml", text,
					       strlen(text)), 0);
	if (!diags.count)
		snprintf(msg, sizeof(msg), "a string");
	else
		snprintf(msg, sizeof(msg), "%s", diags.items[0].message);
	util_diags_release(&diags);
	config_set_free(set);
	return msg;
}

static void test_scalar_types(void **state)
{
	static const char *const cases[][2] = {
		{ "yes", "a boolean" }, { "No", "a boolean" },
		{ "on", "a boolean" }, { "OFF", "a boolean" },
		{ "true", "a boolean" }, { "y", "must be an https" },
		{ "~", "null" }, { "null", "null" }, { "\"\"", "must not be empty" },
		{ "0640", "an integer" }, { "0x1F", "an integer" },
		{ "0b101", "an integer" }, { "1_000", "an integer" },
		{ "-12", "an integer" }, { "1:30", "an integer" },
		{ "08", "must be an https" }, /* not octal: a string */
		{ "1.5", "a number" }, { ".5", "a number" },
		{ "1.0e+3", "a number" }, { ".inf", "a number" },
		{ "-.inf", "a number" }, { ".nan", "a number" },
		{ "1e3", "must be an https" }, /* YAML 1.1 needs the dot */
		{ "\"yes\"", "must be an https" },
		{ "'0640'", "must be an https" },
		{ "!!str 12", "must be an https" },
		{ "https://acme.example/dir", "a string" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *got = type_of(cases[i][0]);

		if (!strstr(got, cases[i][1]))
			fail_msg("%s: got '%s', expected '%s'", cases[i][0], got,
				 cases[i][1]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dns),
		cmocka_unit_test(test_ip),
		cmocka_unit_test(test_suggest),
		cmocka_unit_test(test_scalar_types),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
