/* Prometheus text exposition; see metrics.h. */
#include <math.h>
#include <string.h>

#include "report/metrics.h"
#include "util/error.h"
#include "util/fs.h"

static int valid_name(const char *s, int label)
{
	const char *p;

	if (!s || !*s || (*s >= '0' && *s <= '9'))
		return 0;
	for (p = s; *p; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_' || (!label && *p == ':')))
			return 0;
	}
	/* Names starting "__" are reserved for Prometheus itself. */
	return !(label && !strncmp(s, "__", 2));
}

/* HELP text escapes backslash and newline; label values also '"'. */
static void escape(util_buf *out, const char *s, int quote)
{
	for (; *s; s++) {
		if (*s == '\\')
			util_buf_puts(out, "\\\\");
		else if (*s == '\n')
			util_buf_puts(out, "\\n");
		else if (quote && *s == '"')
			util_buf_puts(out, "\\\"");
		else
			util_buf_putc(out, *s);
	}
}

int report_metric_family(util_buf *out, const char *name, const char *type,
			 const char *help)
{
	if (!valid_name(name, 0))
		return util_error_set(CERTOPS_EINVALID, "bad metric name '%s'",
				      name ? name : "");
	if (strcmp(type, "counter") && strcmp(type, "gauge") && strcmp(type, "untyped"))
		return util_error_set(CERTOPS_EINVALID, "bad metric type '%s'", type);
	util_buf_printf(out, "# HELP %s ", name);
	escape(out, help, 0);
	util_buf_printf(out, "\n# TYPE %s %s\n", name, type);
	return 0;
}

int report_metric_sample(util_buf *out, const char *name,
			 const char *const *labels, double value)
{
	size_t i;

	if (!valid_name(name, 0))
		return util_error_set(CERTOPS_EINVALID, "bad metric name '%s'",
				      name ? name : "");
	for (i = 0; labels && labels[i]; i += 2) {
		if (!valid_name(labels[i], 1) || !labels[i + 1])
			return util_error_set(CERTOPS_EINVALID,
					      "bad label '%s' on metric '%s'",
					      labels[i], name);
	}
	util_buf_puts(out, name);
	if (labels && labels[0]) {
		util_buf_putc(out, '{');
		for (i = 0; labels[i]; i += 2) {
			util_buf_printf(out, "%s%s=\"", i ? "," : "", labels[i]);
			escape(out, labels[i + 1], 1);
			util_buf_putc(out, '"');
		}
		util_buf_putc(out, '}');
	}
	if (isnan(value))
		util_buf_puts(out, " NaN\n");
	else if (isinf(value))
		util_buf_puts(out, value > 0 ? " +Inf\n" : " -Inf\n");
	else if (value == (double)(long long)value && fabs(value) < 1e15)
		util_buf_printf(out, " %lld\n", (long long)value);
	else
		util_buf_printf(out, " %.17g\n", value);
	return 0;
}

int report_metrics_write(const char *path, const util_buf *text)
{
	if (util_buf_failed(text))
		return util_error_oom();
	return util_fs_write_atomic(path, text->ptr, text->size, 0644);
}
