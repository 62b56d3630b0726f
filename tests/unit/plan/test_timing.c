/*
 * Renewal timing: renewBefore, the lifetime fraction (1/3; 1/2 for
 * lifetimes of 10 days or less, as 6-day certificates need), the ARI
 * window, and the per-certificate jitter (deterministic, bounded, spread).
 */
#include "helpers.h"

static config_certificate *cert_with(config_set **set_out, const char *renew)
{
	char yaml[512];
	config_set *set;

	snprintf(yaml, sizeof(yaml),
		 "kind: Issuer\nname: le\nacme: {directory: https://a.example/dir}\n---\n"
		 "kind: Certificate\nname: www\nissuer: le\ndomains: [a.example]\n"
		 "challenge: {http01: {webroot: /var/www}}\n%s", renew);
	set = load_set(yaml);
	*set_out = set;
	return set->certificates[0];
}

static observe_cert_current cur_of(time_t nb, time_t lifetime)
{
	observe_cert_current c;

	memset(&c, 0, sizeof(c));
	c.not_before = nb;
	c.not_after = nb + lifetime;
	return c;
}

static void test_fraction_default_third(void **vs)
{
	config_set *set;
	config_certificate *c = cert_with(&set, "");
	observe_cert_current cur = cur_of(T0, 90 * DAY);
	plan_renew_basis basis;

	(void)vs;
	assert_int_equal(plan_renewal_time(c, &cur, NULL, -1, &basis), T0 + 60 * DAY);
	assert_int_equal(basis, PLAN_RENEW_FRACTION);
	config_set_free(set);
}

/* 6-day certificates renew at half-life (3 days left), not at 2 days left. */
static void test_fraction_short_lived_half(void **vs)
{
	config_set *set;
	config_certificate *c = cert_with(&set, "");
	observe_cert_current six = cur_of(T0, 6 * DAY), ten = cur_of(T0, 10 * DAY),
		eleven = cur_of(T0, 11 * DAY);

	(void)vs;
	assert_int_equal(plan_renewal_time(c, &six, NULL, -1, NULL), T0 + 3 * DAY);
	assert_int_equal(plan_renewal_time(c, &ten, NULL, -1, NULL), T0 + 5 * DAY);
	/* just over 10 days: back to a third */
	assert_int_equal(plan_renewal_time(c, &eleven, NULL, -1, NULL),
			 T0 + 11 * DAY - (time_t)(11 * DAY / 3));
	config_set_free(set);
}

/* A fraction written in the declaration is kept even for short lifetimes. */
static void test_fraction_declared(void **vs)
{
	config_set *set;
	config_certificate *c = cert_with(&set, "renewBefore: 0.25\n");
	observe_cert_current six = cur_of(T0, 6 * DAY);

	(void)vs;
	assert_int_equal(plan_renewal_time(c, &six, NULL, -1, NULL), T0 + 6 * DAY - 6 * DAY / 4);
	config_set_free(set);
}

static void test_renew_before(void **vs)
{
	config_set *set;
	config_certificate *c = cert_with(&set, "renewBefore: 30d\n");
	observe_cert_current cur = cur_of(T0, 90 * DAY), six = cur_of(T0, 6 * DAY);
	plan_renew_basis basis;

	(void)vs;
	assert_int_equal(plan_renewal_time(c, &cur, NULL, -1, &basis), T0 + 60 * DAY);
	assert_int_equal(basis, PLAN_RENEW_BEFORE);
	/* longer than the lifetime: due from the start (always renew) */
	assert_true(plan_renewal_time(c, &six, NULL, -1, NULL) <= T0);
	config_set_free(set);
}

static void test_ari_window_wins(void **vs)
{
	config_set *set;
	config_certificate *c = cert_with(&set, "renewBefore: 30d\n");
	observe_cert_current cur = cur_of(T0, 90 * DAY);
	observe_renewal_info ri;
	plan_renew_basis basis;
	time_t t;

	(void)vs;
	memset(&ri, 0, sizeof(ri));
	ri.has_window = 1;
	ri.window_start = T0 + 10 * DAY;
	ri.window_end = T0 + 12 * DAY;
	t = plan_renewal_time(c, &cur, &ri, -1, &basis);
	assert_int_equal(basis, PLAN_RENEW_ARI);
	assert_true(t >= ri.window_start && t < ri.window_end);
	/* the same certificate always picks the same moment */
	assert_int_equal(plan_renewal_time(c, &cur, &ri, -1, NULL), t);
	ri.window_end = ri.window_start; /* degenerate window */
	assert_int_equal(plan_renewal_time(c, &cur, &ri, -1, NULL), ri.window_start);
	config_set_free(set);
}

/* Jitter moves renewal earlier, by less than the cap and 1/20 of the lifetime. */
static void test_jitter_bounds(void **vs)
{
	config_set *set;
	config_certificate *c = cert_with(&set, "renewBefore: 30d\n");
	observe_cert_current cur = cur_of(T0, 90 * DAY), six = cur_of(T0, 6 * DAY);
	config_certificate *s;
	config_set *set2;
	time_t exact = T0 + 60 * DAY, t;

	(void)vs;
	t = plan_renewal_time(c, &cur, NULL, 0, NULL);
	assert_true(t <= exact && t > exact - PLAN_JITTER_MAX);
	t = plan_renewal_time(c, &cur, NULL, 3600, NULL);
	assert_true(t <= exact && t > exact - 3600);
	assert_int_equal(plan_renewal_time(c, &cur, NULL, -1, NULL), exact);
	s = cert_with(&set2, "");
	t = plan_renewal_time(s, &six, NULL, 0, NULL);
	assert_true(t <= T0 + 3 * DAY && t > T0 + 3 * DAY - 6 * DAY / 20);
	config_set_free(set);
	config_set_free(set2);
}

static void test_jitter_deterministic(void **vs)
{
	(void)vs;
	assert_int_equal(plan_jitter("www", 86400), plan_jitter("www", 86400));
	assert_int_not_equal(plan_jitter("www", 86400), plan_jitter("www2", 86400));
	assert_int_equal(plan_jitter("www", 0), 0);
	assert_int_equal(plan_jitter("www", -5), 0);
	assert_true(plan_jitter("", 10) >= 0 && plan_jitter("", 10) < 10);
}

/*
 * 10,000 certificates issued the same second, named as a fleet would name
 * them: over the 2-day span no minute gets more than a handful, and most
 * minutes get some.
 */
static void test_jitter_spread(void **vs)
{
	enum { N = 10000, MINUTES = PLAN_JITTER_MAX / 60 };
	unsigned *bucket = calloc(MINUTES, sizeof(*bucket));
	unsigned max = 0, used = 0;
	char name[32];
	int i;

	(void)vs;
	for (i = 0; i < N; i++) {
		int64_t j;

		snprintf(name, sizeof(name), "host-%05d", i);
		j = plan_jitter(name, PLAN_JITTER_MAX);
		assert_true(j >= 0 && j < PLAN_JITTER_MAX);
		bucket[j / 60]++;
	}
	for (i = 0; i < MINUTES; i++) {
		if (bucket[i] > max)
			max = bucket[i];
		used += bucket[i] > 0;
	}
	/* a uniform spread puts ~3.5 per minute; allow far more, not 10,000 */
	assert_true(max <= 20);
	assert_true(used >= MINUTES * 9 / 10);
	free(bucket);
}

/* --at: the plan is a function of the time given, not of the clock. */
static void test_at_moves_the_plan(void **vs)
{
	config_set *set;
	observe_result *obs;
	plan *p;

	(void)vs;
	cert_with(&set, "");
	obs = observe_empty(set);
	set_accounts(obs);
	set_current(ocert(obs, "www"), T0, T0 + 90 * DAY, FP_A);
	p = make_plan(set, obs, T0 + 59 * DAY);
	assert_false(plan_has_changes(p));
	plan_free(p);
	p = make_plan(set, obs, T0 + 61 * DAY);
	assert_string_equal(plan_reason_name(must_find(p, "issue:www")->reason), "Expiring");
	assert_int_equal(p->now, T0 + 61 * DAY);
	plan_free(p);
	observe_result_free(obs);
	config_set_free(set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fraction_default_third),
		cmocka_unit_test(test_fraction_short_lived_half),
		cmocka_unit_test(test_fraction_declared),
		cmocka_unit_test(test_renew_before),
		cmocka_unit_test(test_ari_window_wins),
		cmocka_unit_test(test_jitter_bounds),
		cmocka_unit_test(test_jitter_deterministic),
		cmocka_unit_test(test_jitter_spread),
		cmocka_unit_test(test_at_moves_the_plan),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
