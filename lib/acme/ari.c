/* ACME Renewal Information (RFC 9773) and RFC 3339 times. */
#include "acme/acme_internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"

static int digits(const char **p, int n, int *out)
{
	int v = 0;

	while (n--) {
		if (!isdigit((unsigned char)**p))
			return -1;
		v = v * 10 + (*(*p)++ - '0');
	}
	*out = v;
	return 0;
}

int acme_time_parse(time_t *out, const char *s)
{
	const char *p = s;
	struct tm tm;
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;

	memset(&tm, 0, sizeof(tm));
	if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' ||
	    digits(&p, 2, &d) || (*p != 'T' && *p != 't' && *p != ' '))
		goto bad;
	p++;
	if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi) || *p++ != ':' ||
	    digits(&p, 2, &sec))
		goto bad;
	if (*p == '.') /* fractional seconds: precision we do not need */
		for (p++; isdigit((unsigned char)*p); p++)
			;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p++ == '+' ? 1 : -1;
		if (digits(&p, 2, &oh) || *p++ != ':' || digits(&p, 2, &om))
			goto bad;
	} else {
		goto bad;
	}
	if (*p || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		goto bad;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	*out = timegm(&tm) - sign * (oh * 3600 + om * 60);
	return 0;
bad:
	return util_error_set(CERTOPS_EINVALID, "invalid rfc 3339 time '%s'", s);
}

int acme_ari_cert_id(util_buf *out, const unsigned char *aki, size_t aki_len,
		     const unsigned char *serial, size_t serial_len)
{
	int error;

	if (!aki || !aki_len || !serial || !serial_len)
		return util_error_set(CERTOPS_EINVALID,
				      "an ari certID needs the authority key id and the serial");
	if ((error = crypto_b64url_encode(out, aki, aki_len)) < 0)
		return error;
	util_buf_putc(out, '.');
	return crypto_b64url_encode(out, serial, serial_len);
}

int acme_ari_cert_id_from_cert(util_buf *out, const void *cert, size_t len)
{
	crypto_cert_info info;
	int error;

	if ((error = crypto_cert_parse(&info, cert, len)) < 0)
		return error;
	if (!info.aki)
		error = util_error_set(CERTOPS_EINVALID,
				       "certificate has no authority key identifier (no ari certID)");
	else
		error = acme_ari_cert_id(out, info.aki, info.aki_len, info.serial, info.serial_len);
	crypto_cert_info_release(&info);
	return error;
}

void acme_renewal_info_release(acme_renewal_info *ri)
{
	free(ri->explanation_url);
	memset(ri, 0, sizeof(*ri));
	ri->retry_after = -1;
}

int acme_ari_parse(acme_renewal_info *out, const char *json, size_t len)
{
	json_error_t jerr;
	json_t *obj = json_loadb(json, len, 0, &jerr), *win;
	const char *start, *end;
	int error = 0;

	memset(out, 0, sizeof(*out));
	out->retry_after = -1;
	win = json_object_get(obj, "suggestedWindow");
	start = json_string_value(json_object_get(win, "start"));
	end = json_string_value(json_object_get(win, "end"));
	if (!start || !end) {
		error = util_error_set(CERTOPS_EPEER, "renewalInfo lacks suggestedWindow start/end");
		goto done;
	}
	if ((error = acme_time_parse(&out->start, start)) < 0 ||
	    (error = acme_time_parse(&out->end, end)) < 0) {
		util_error_wrap("renewalInfo suggestedWindow");
		goto done;
	}
	if (out->end < out->start) {
		error = util_error_set(CERTOPS_EPEER, "renewalInfo window ends before it starts");
		goto done;
	}
	out->explanation_url = acme__json_str(obj, "explanationURL");
done:
	json_decref(obj);
	return error;
}

int acme_ari_fetch(acme_renewal_info *out, acme_client *c, const char *cert_id)
{
	acme__response resp = { 0 };
	util_buf url = UTIL_BUF_INIT;
	int error;

	memset(out, 0, sizeof(*out));
	out->retry_after = -1;
	if (!c->dir.renewal_info)
		return util_error_set(CERTOPS_ENOTFOUND, "the ca offers no renewalInfo");
	util_buf_puts(&url, c->dir.renewal_info);
	if (url.size && url.ptr[url.size - 1] != '/')
		util_buf_putc(&url, '/');
	util_buf_puts(&url, cert_id);
	if (util_buf_failed(&url)) {
		error = util_error_oom();
		goto done;
	}
	if ((error = acme__get(c, &resp, url.ptr)) < 0)
		goto done;
	if ((error = acme_ari_parse(out, resp.body.ptr, resp.body.size)) < 0)
		goto done;
	if (resp.retry_after &&
	    acme_retry_after_parse(&out->retry_after, resp.retry_after, time(NULL)) < 0) {
		util_error_clear();
		out->retry_after = -1;
	}
done:
	acme__response_release(&resp);
	util_buf_release(&url);
	return error;
}

time_t acme_ari_pick_time(const acme_renewal_info *ri, uint64_t rnd)
{
	uint64_t span = (uint64_t)(ri->end - ri->start);

	if (ri->end <= ri->start)
		return ri->start;
	/* uniform in [start, end): spreads a fleet's renewals over the window */
	return ri->start + (time_t)(rnd % span);
}
