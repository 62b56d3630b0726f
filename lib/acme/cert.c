/* Certificate download with alternate chains (§7.4.2) and chain selection. */
#include "acme/acme_internal.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/error.h"

void acme_chains_release(acme_chains *ch)
{
	size_t i;

	for (i = 0; i < ch->count; i++)
		free(ch->chains[i]);
	free(ch->chains);
	memset(ch, 0, sizeof(*ch));
}

static int chains_push(acme_chains *ch, acme__response *resp, const char *url)
{
	crypto_pem_list list;
	char **n;
	int error;

	/* refuse anything that is not a PEM chain before keeping it */
	if ((error = crypto_pem_split(&list, resp->body.ptr, resp->body.size)) < 0)
		return util_error_wrap("certificate chain from %s", url);
	crypto_pem_list_release(&list);
	if (!(n = realloc(ch->chains, (ch->count + 1) * sizeof(*n))))
		return util_error_oom();
	ch->chains = n;
	if (!(n[ch->count] = util_buf_detach(&resp->body)))
		return util_error_oom();
	ch->count++;
	return 0;
}

int acme_order_download(acme_chains *out, acme_client *c, const acme_order *o)
{
	acme__response resp = { 0 }, alt = { 0 };
	size_t i;
	int error;

	memset(out, 0, sizeof(*out));
	if (!o->certificate)
		return util_error_set(CERTOPS_EINVALID, "order %s has no certificate yet", o->url);
	if ((error = acme__post(c, &resp, o->certificate, NULL, NULL, 0)) < 0 ||
	    (error = chains_push(out, &resp, o->certificate)) < 0)
		goto done;
	for (i = 0; i < resp.nalternates; i++) {
		if ((error = acme__post(c, &alt, resp.alternates[i], NULL, NULL, 0)) < 0 ||
		    (error = chains_push(out, &alt, resp.alternates[i])) < 0)
			goto done;
	}
done:
	if (error < 0)
		acme_chains_release(out);
	acme__response_release(&resp);
	acme__response_release(&alt);
	return error;
}

static int chain_matches(const char *chain, const char *preferred)
{
	crypto_pem_list list;
	util_buf hex = UTIL_BUF_INIT;
	size_t i;
	int match = 0;

	if (crypto_pem_split(&list, chain, strlen(chain)) < 0) {
		util_error_clear();
		return 0;
	}
	for (i = 0; i < list.count && !match; i++) {
		crypto_cert_info info;
		if (crypto_cert_parse(&info, list.pems[i], strlen(list.pems[i])) < 0)
			continue;
		if (!strncasecmp(preferred, "sha256:", 7)) {
			util_buf_clear(&hex);
			crypto_hex_encode(&hex, info.fingerprint, 32, 0);
			/* roots are seldom sent: this matches an intermediate */
			match = !strcasecmp(hex.ptr, preferred + 7);
		} else {
			match = info.issuer_cn && !strcmp(info.issuer_cn, preferred);
		}
		crypto_cert_info_release(&info);
	}
	util_buf_release(&hex);
	crypto_pem_list_release(&list);
	return match;
}

size_t acme_chain_select(const acme_chains *chains, const char *preferred)
{
	size_t i;

	if (!preferred || !*preferred)
		return 0;
	for (i = 0; i < chains->count; i++)
		if (chain_matches(chains->chains[i], preferred))
			return i;
	return 0;
}
