/*
 * state_cert_fake STATE NAME NOT_BEFORE NOT_AFTER: stores a placeholder
 * certificate version (Unix times given) as NAME's current one, for tests
 * of what reads the store (the reconcile expiry alert, metrics).  The PEM
 * contents are placeholders: nothing here may deploy them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state/state.h"
#include "util/error.h"

int main(int argc, char **argv)
{
	state *st = NULL;
	state_cert c;
	char *sans[] = { NULL };
	char fp[65];
	int rc = 1;

	if (argc != 5) {
		fprintf(stderr, "usage: state_cert_fake STATE NAME NOT_BEFORE NOT_AFTER\n");
		return 2;
	}
	memset(&c, 0, sizeof(c));
	c.meta.name = argv[2];
	sans[0] = argv[2];
	c.meta.sans = sans;
	c.meta.nsans = 1;
	c.meta.not_before = (time_t)strtoll(argv[3], NULL, 10);
	c.meta.not_after = (time_t)strtoll(argv[4], NULL, 10);
	c.meta.serial = "01";
	c.meta.issuer = "test";
	c.meta.key_spec = "ecdsa-p256";
	/* Distinct leading digits: the store names versions after them. */
	snprintf(fp, sizeof(fp), "%08llx%056d",
		 (unsigned long long)c.meta.not_after & 0xffffffffULL, 0);
	c.meta.fingerprint = fp;
	c.chain_pem = "-----BEGIN CERTIFICATE-----\nplaceholder\n-----END CERTIFICATE-----\n";
	c.key_pem = "placeholder key\n";
	if (state_open(&st, argv[1], 0) < 0 || state_cert_put(st, &c, NULL) < 0)
		fprintf(stderr, "state_cert_fake: %s\n", util_error_message());
	else
		rc = 0;
	state_free(st);
	return rc;
}
