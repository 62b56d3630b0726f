/* Certificate parsing, key matching and PEM bundle splitting. */
#include "crypto/crypto.h"
#include "crypto/crypto_internal.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "util/error.h"

#define PEM_BEGIN "-----BEGIN CERTIFICATE-----"
#define PEM_END "-----END CERTIFICATE-----"

static X509 *x509_from_bytes(const void *data, size_t len)
{
	X509 *x = NULL;

	if (len > INT32_MAX)
		return NULL;
	if (len >= strlen(PEM_BEGIN) && memmem(data, len, PEM_BEGIN, strlen(PEM_BEGIN))) {
		BIO *bio = BIO_new_mem_buf(data, (int)len);
		if (bio) {
			x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
			BIO_free(bio);
		}
	} else {
		const unsigned char *p = data;
		x = d2i_X509(NULL, &p, (long)len);
	}
	return x;
}

/* Copies len bytes that need not be NUL-terminated (ASN.1 string data). */
static char *dup_range(const void *p, size_t len)
{
	char *s = malloc(len + 1);

	if (s) {
		memcpy(s, p, len);
		s[len] = '\0';
	}
	return s;
}

static char *name_cn(const X509_NAME *name)
{
	int idx = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
	unsigned char *utf8 = NULL;
	char *s;
	int n;

	if (idx < 0)
		return NULL;
	n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx)));
	if (n < 0)
		return NULL;
	s = dup_range(utf8, (size_t)n);
	OPENSSL_free(utf8);
	return s;
}

static int push_str(char ***list, size_t *count, const char *s, size_t len)
{
	char **n = realloc(*list, (*count + 1) * sizeof(**list));

	if (!n)
		return -1;
	*list = n;
	if (!(n[*count] = dup_range(s, len)))
		return -1;
	(*count)++;
	return 0;
}

static int cert_sans(crypto_cert_info *info, X509 *x)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	int i, error = 0;

	if (!gens)
		return 0;
	for (i = 0; i < sk_GENERAL_NAME_num(gens) && !error; i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		const unsigned char *d;
		int len;
		char ip[INET6_ADDRSTRLEN];

		if (g->type == GEN_DNS) {
			d = ASN1_STRING_get0_data(g->d.dNSName);
			len = ASN1_STRING_length(g->d.dNSName);
			error = push_str(&info->dns_names, &info->ndns, (const char *)d, (size_t)len);
		} else if (g->type == GEN_IPADD) {
			d = ASN1_STRING_get0_data(g->d.iPAddress);
			len = ASN1_STRING_length(g->d.iPAddress);
			if ((len == 4 && inet_ntop(AF_INET, d, ip, sizeof(ip))) ||
			    (len == 16 && inet_ntop(AF_INET6, d, ip, sizeof(ip))))
				error = push_str(&info->ip_addrs, &info->nip, ip, strlen(ip));
		}
	}
	GENERAL_NAMES_free(gens);
	return error ? util_error_oom() : 0;
}

static int asn1_time(time_t *out, const ASN1_TIME *t)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (!ASN1_TIME_to_tm(t, &tm))
		return -1;
	*out = timegm(&tm);
	return 0;
}

static void *memdup(const void *p, size_t len)
{
	void *n = malloc(len ? len : 1);

	if (n && len)
		memcpy(n, p, len);
	return n;
}

int crypto_cert_parse(crypto_cert_info *out, const void *data, size_t len)
{
	X509 *x = x509_from_bytes(data, len);
	unsigned char *der = NULL, *sder = NULL, *spki = NULL;
	const unsigned char *p;
	long slen;
	int tag, xclass, n, error = CERTOPS_ENOMEM;
	const ASN1_OCTET_STRING *aki;
	EVP_PKEY *pkey;
	util_buf hex = UTIL_BUF_INIT;

	memset(out, 0, sizeof(*out));
	if (!x)
		return util_error_set(CERTOPS_EINVALID, "not a certificate (PEM or DER)");

	if ((n = i2d_X509(x, &der)) <= 0)
		goto fail;
	if (!(out->der = memdup(der, (size_t)n)))
		goto fail;
	out->der_len = (size_t)n;
	if (crypto_sha256(out->fingerprint, der, (size_t)n) < 0)
		goto fail_set;

	if ((n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &spki)) <= 0 ||
	    crypto_sha256(out->spki_sha256, spki, (size_t)n) < 0)
		goto fail_set;
	if ((pkey = X509_get0_pubkey(x)))
		out->key_type = crypto__pkey_type(pkey);

	/* the serial's DER content octets, leading zero included (RFC 9773) */
	if ((n = i2d_ASN1_INTEGER(X509_get0_serialNumber(x), &sder)) <= 0)
		goto fail;
	p = sder;
	if (ASN1_get_object(&p, &slen, &tag, &xclass, n) & 0x80)
		goto fail_set;
	if (!(out->serial = memdup(p, (size_t)slen)))
		goto fail;
	out->serial_len = (size_t)slen;
	if (crypto_hex_encode(&hex, out->serial, out->serial_len, 0) < 0 ||
	    !(out->serial_hex = util_buf_detach(&hex)))
		goto fail;

	if ((aki = X509_get0_authority_key_id(x))) {
		out->aki_len = (size_t)ASN1_STRING_length(aki);
		if (!(out->aki = memdup(ASN1_STRING_get0_data(aki), out->aki_len)))
			goto fail;
	}
	if (asn1_time(&out->not_before, X509_get0_notBefore(x)) < 0 ||
	    asn1_time(&out->not_after, X509_get0_notAfter(x)) < 0)
		goto fail_set;
	out->subject_cn = name_cn(X509_get_subject_name(x));
	out->issuer_cn = name_cn(X509_get_issuer_name(x));
	if ((error = cert_sans(out, x)) < 0)
		goto done;
	error = 0;
	goto done;

fail_set:
	error = CERTOPS_EINVALID;
fail:
	util_error_set(error, error == CERTOPS_ENOMEM ? "out of memory"
			      : "malformed certificate");
done:
	if (error < 0)
		crypto_cert_info_release(out);
	OPENSSL_free(der);
	OPENSSL_free(sder);
	OPENSSL_free(spki);
	util_buf_release(&hex);
	X509_free(x);
	return error;
}

void crypto_cert_info_release(crypto_cert_info *info)
{
	size_t i;

	for (i = 0; i < info->ndns; i++)
		free(info->dns_names[i]);
	for (i = 0; i < info->nip; i++)
		free(info->ip_addrs[i]);
	free(info->dns_names);
	free(info->ip_addrs);
	free(info->serial_hex);
	free(info->serial);
	free(info->aki);
	free(info->subject_cn);
	free(info->issuer_cn);
	free(info->der);
	memset(info, 0, sizeof(*info));
}

int crypto_cert_matches_key(const crypto_cert_info *cert, const crypto_key *key)
{
	unsigned char h[32];

	if (crypto_key_spki_sha256(h, key) < 0)
		return 0;
	return !memcmp(h, cert->spki_sha256, sizeof(h));
}

int crypto_pem_split(crypto_pem_list *out, const char *pem, size_t len)
{
	const char *p = pem, *end = pem + len, *b, *e;
	size_t elen = strlen(PEM_END);
	int error = 0;

	memset(out, 0, sizeof(*out));
	while (p < end && (b = memmem(p, (size_t)(end - p), PEM_BEGIN, strlen(PEM_BEGIN)))) {
		X509 *x;
		char **n;

		if (!(e = memmem(b, (size_t)(end - b), PEM_END, elen))) {
			error = util_error_set(CERTOPS_EINVALID,
					       "certificate %zu of the bundle has no END line",
					       out->count + 1);
			goto done;
		}
		e += elen;
		if (!(x = x509_from_bytes(b, (size_t)(e - b)))) {
			error = util_error_set(CERTOPS_EINVALID,
					       "certificate %zu of the bundle does not parse",
					       out->count + 1);
			goto done;
		}
		X509_free(x);
		if (!(n = realloc(out->pems, (out->count + 1) * sizeof(*n)))) {
			error = util_error_oom();
			goto done;
		}
		out->pems = n;
		if (!(n[out->count] = malloc((size_t)(e - b) + 2))) {
			error = util_error_oom();
			goto done;
		}
		memcpy(n[out->count], b, (size_t)(e - b));
		n[out->count][e - b] = '\n';
		n[out->count][e - b + 1] = '\0';
		out->count++;
		p = e;
	}
	if (!out->count)
		error = util_error_set(CERTOPS_EINVALID, "no certificate in the PEM bundle");
done:
	if (error < 0)
		crypto_pem_list_release(out);
	return error;
}

void crypto_pem_list_release(crypto_pem_list *list)
{
	size_t i;

	for (i = 0; i < list->count; i++)
		free(list->pems[i]);
	free(list->pems);
	list->pems = NULL;
	list->count = 0;
}

int crypto_cert_pem_to_der(util_buf *out, const char *pem, size_t len)
{
	X509 *x = x509_from_bytes(pem, len);
	unsigned char *der = NULL;
	int n, error = 0;

	if (!x)
		return util_error_set(CERTOPS_EINVALID, "not a certificate (PEM or DER)");
	if ((n = i2d_X509(x, &der)) <= 0)
		error = util_error_set(CERTOPS_ERROR, "encoding the certificate failed");
	else if (util_buf_put(out, der, (size_t)n) < 0)
		error = util_error_oom();
	OPENSSL_free(der);
	X509_free(x);
	return error;
}

int crypto_cert_der_to_pem(util_buf *out, const void *der, size_t len)
{
	X509 *x = x509_from_bytes(der, len);
	BIO *bio = NULL;
	char *p = NULL;
	long n;
	int error = 0;

	if (!x)
		return util_error_set(CERTOPS_EINVALID, "not a certificate (PEM or DER)");
	if (!(bio = BIO_new(BIO_s_mem())) || !PEM_write_bio_X509(bio, x)) {
		error = util_error_set(CERTOPS_ERROR, "encoding the certificate failed");
		goto done;
	}
	n = BIO_get_mem_data(bio, &p);
	if (n < 0 || util_buf_put(out, p, (size_t)n) < 0)
		error = util_error_oom();
done:
	BIO_free(bio);
	X509_free(x);
	return error;
}

int crypto_material_check(const char *chain_pem, const char *key_pem)
{
	crypto_cert_info info;
	crypto_key *key = NULL;
	int error = 0;

	memset(&info, 0, sizeof(info));
	if (!chain_pem || crypto_cert_parse(&info, chain_pem, strlen(chain_pem)) < 0) {
		util_error_clear();
		return util_error_set(CERTOPS_EINVALID, "the stored certificate does not parse");
	}
	if (key_pem) {
		if (crypto_key_parse(&key, key_pem, strlen(key_pem)) < 0) {
			util_error_clear();
			error = util_error_set(CERTOPS_EINVALID, "the stored private key does not parse");
		} else if (crypto_cert_matches_key(&info, key) != 1) {
			error = util_error_set(CERTOPS_EINVALID, "the stored private key does not "
					       "belong to the stored certificate");
		}
	}
	crypto_key_free(key);
	crypto_cert_info_release(&info);
	return error;
}
