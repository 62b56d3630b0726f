#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "report/metrics.h"
#include "util/error.h"
#include "util/fs.h"

static void family_and_samples(void **state)
{
	util_buf b = UTIL_BUF_INIT;
	const char *labels[] = { "url", "file:///r.git", "ref", "refs/heads/main", NULL };

	(void)state;
	assert_int_equal(0, report_metric_family(&b, "certops_cycles_total", "counter",
						 "Cycles run."));
	assert_int_equal(0, report_metric_sample(&b, "certops_cycles_total", NULL, 3));
	assert_int_equal(0, report_metric_family(&b, "certops_info", "gauge", "Info."));
	assert_int_equal(0, report_metric_sample(&b, "certops_info", labels, 1));
	assert_string_equal(b.ptr,
			    "# HELP certops_cycles_total Cycles run.\n"
			    "# TYPE certops_cycles_total counter\n"
			    "certops_cycles_total 3\n"
			    "# HELP certops_info Info.\n"
			    "# TYPE certops_info gauge\n"
			    "certops_info{url=\"file:///r.git\",ref=\"refs/heads/main\"} 1\n");
	util_buf_release(&b);
}

static void values(void **state)
{
	util_buf b = UTIL_BUF_INIT;

	(void)state;
	report_metric_sample(&b, "a", NULL, 0.25);
	report_metric_sample(&b, "b", NULL, NAN);
	report_metric_sample(&b, "c", NULL, INFINITY);
	report_metric_sample(&b, "d", NULL, -INFINITY);
	report_metric_sample(&b, "e", NULL, -7);
	report_metric_sample(&b, "f", NULL, 1795666069);
	assert_string_equal(b.ptr, "a 0.25\nb NaN\nc +Inf\nd -Inf\ne -7\nf 1795666069\n");
	util_buf_release(&b);
}

static void escaping(void **state)
{
	util_buf b = UTIL_BUF_INIT;
	const char *labels[] = { "msg", "a \"quoted\" back\\slash\nnew line", NULL };

	(void)state;
	assert_int_equal(0, report_metric_family(&b, "m", "gauge", "help with \\ and\nnewline"));
	assert_int_equal(0, report_metric_sample(&b, "m", labels, 1));
	assert_string_equal(b.ptr,
			    "# HELP m help with \\\\ and\\nnewline\n"
			    "# TYPE m gauge\n"
			    "m{msg=\"a \\\"quoted\\\" back\\\\slash\\nnew line\"} 1\n");
	util_buf_release(&b);
}

static void bad_names(void **state)
{
	util_buf b = UTIL_BUF_INIT;
	const char *bad_label[] = { "bad-label", "x", NULL };
	const char *reserved[] = { "__name__", "x", NULL };
	const char *colon[] = { "a:b", "x", NULL };

	(void)state;
	assert_int_equal(CERTOPS_EINVALID, report_metric_family(&b, "9lives", "gauge", "x"));
	assert_int_equal(CERTOPS_EINVALID, report_metric_family(&b, "ok", "histo", "x"));
	assert_int_equal(CERTOPS_EINVALID, report_metric_sample(&b, "has space", NULL, 1));
	assert_int_equal(CERTOPS_EINVALID, report_metric_sample(&b, "m", bad_label, 1));
	assert_int_equal(CERTOPS_EINVALID, report_metric_sample(&b, "m", reserved, 1));
	assert_int_equal(CERTOPS_EINVALID, report_metric_sample(&b, "m", colon, 1));
	assert_int_equal(0, report_metric_sample(&b, "name:with_colon", NULL, 1));
	assert_string_equal(b.ptr, "name:with_colon 1\n");
	util_buf_release(&b);
}

static void write_atomic(void **state)
{
	char dir[] = "/tmp/certops-metrics-test.XXXXXX";
	util_buf path = UTIL_BUF_INIT, text = UTIL_BUF_INIT, back = UTIL_BUF_INIT;
	struct stat st;

	(void)state;
	assert_non_null(mkdtemp(dir));
	util_fs_join(&path, dir, "certops.prom");
	report_metric_sample(&text, "x", NULL, 1);
	assert_int_equal(0, report_metrics_write(path.ptr, &text));
	assert_int_equal(0, stat(path.ptr, &st));
	assert_int_equal(0644, st.st_mode & 07777);
	assert_int_equal(0, util_fs_read_file(&back, path.ptr, 0));
	assert_string_equal("x 1\n", back.ptr);
	unlink(path.ptr);
	rmdir(dir);
	util_buf_release(&path);
	util_buf_release(&text);
	util_buf_release(&back);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(family_and_samples),
		cmocka_unit_test(values),
		cmocka_unit_test(escaping),
		cmocka_unit_test(bad_names),
		cmocka_unit_test(write_atomic),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
