/*
 * state_cert_fake STATE NAME NOT_BEFORE NOT_AFTER: stores a placeholder
 * certificate version (Unix times given) as NAME's current one, for tests
 * of what reads the store (the reconcile expiry alert, metrics).  The
 * chain is a real self-signed certificate with those times and the key is
 * its own (observation checks that stored material parses and matches),
 * but the metadata's fingerprint is made up: nothing may deploy them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "state/state.h"
#include "util/error.h"

/* A self-signed P-256 certificate for name, valid [nb, na]: PEM into *cert, *key. */
static int make_material(char **cert, char **key, const char *name, time_t nb, time_t na)
{
	EVP_PKEY *pk = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	BIO *bc = BIO_new(BIO_s_mem()), *bk = BIO_new(BIO_s_mem());
	char *p;
	long n;
	int ok = pk && x && bc && bk &&
		 ASN1_INTEGER_set(X509_get_serialNumber(x), 1) &&
		 ASN1_TIME_set(X509_getm_notBefore(x), nb) &&
		 ASN1_TIME_set(X509_getm_notAfter(x), na) &&
		 X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
					    (const unsigned char *)name, -1, -1, 0) &&
		 X509_set_issuer_name(x, X509_get_subject_name(x)) &&
		 X509_set_pubkey(x, pk) && X509_sign(x, pk, EVP_sha256()) &&
		 PEM_write_bio_X509(bc, x) &&
		 PEM_write_bio_PrivateKey(bk, pk, NULL, NULL, 0, NULL, NULL);

	*cert = *key = NULL;
	if (ok) {
		n = BIO_get_mem_data(bc, &p);
		if ((*cert = malloc((size_t)n + 1))) {
			memcpy(*cert, p, (size_t)n);
			(*cert)[n] = '\0';
		}
		n = BIO_get_mem_data(bk, &p);
		if ((*key = malloc((size_t)n + 1))) {
			memcpy(*key, p, (size_t)n);
			(*key)[n] = '\0';
		}
	}
	BIO_free(bc);
	BIO_free(bk);
	X509_free(x);
	EVP_PKEY_free(pk);
	return *cert && *key ? 0 : -1;
}

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
	if (make_material(&c.chain_pem, &c.key_pem, argv[2], c.meta.not_before,
			  c.meta.not_after) < 0) {
		fprintf(stderr, "state_cert_fake: making the certificate failed\n");
		return 1;
	}
	if (state_open(&st, argv[1], 0) < 0 || state_cert_put(st, &c, NULL) < 0)
		fprintf(stderr, "state_cert_fake: %s\n", util_error_message());
	else
		rc = 0;
	free(c.chain_pem);
	free(c.key_pem);
	state_free(st);
	return rc;
}
