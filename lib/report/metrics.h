/*
 * Prometheus text exposition (format 0.0.4) for --metrics-file, meant for
 * node_exporter's textfile collector: families are appended to a util_buf
 * and the file is replaced atomically, so a scrape never sees half a file.
 */
#ifndef CERTOPS_REPORT_METRICS_H
#define CERTOPS_REPORT_METRICS_H

#include "util/buf.h"

/*
 * Appends the "# HELP" and "# TYPE" lines of a family.  type is "counter",
 * "gauge" or "untyped"; name must match [a-zA-Z_:][a-zA-Z0-9_:]* (checked:
 * returns CERTOPS_EINVALID otherwise).  Call once per family, before its
 * samples.
 */
int report_metric_family(util_buf *out, const char *name, const char *type,
			 const char *help);

/*
 * Appends one sample: name{k="v",...} value.  labels is NULL or an array of
 * key, value pairs ended by NULL; values are escaped as the format says
 * (backslash, double quote, newline).  Returns 0 or CERTOPS_EINVALID for a
 * bad name or label name.
 */
int report_metric_sample(util_buf *out, const char *name,
			 const char *const *labels, double value);

/* Writes text to path atomically with mode 0644 (a collector reads it). */
int report_metrics_write(const char *path, const util_buf *text);

#endif
