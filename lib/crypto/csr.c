/*
 * PKCS#10 certificate requests for ACME finalize (RFC 8555 §7.4), and the
 * tls-alpn-01 validation certificate (RFC 8737).
 */
#include "crypto/crypto.h"
#include "crypto/crypto_internal.h"

#include <arpa/inet.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "util/error.h"

static GENERAL_NAME *san_entry(const char *name)
{
	unsigned char addr[16];
	GENERAL_NAME *g = GENERAL_NAME_new();
	ASN1_STRING *s = NULL;
	int type;

	if (!g)
		return NULL;
	if (inet_pton(AF_INET, name, addr) == 1 || inet_pton(AF_INET6, name, addr) == 1) {
		int len = strchr(name, ':') ? 16 : 4;
		s = ASN1_OCTET_STRING_new();
		type = GEN_IPADD;
		if (s && !ASN1_OCTET_STRING_set(s, addr, len))
			goto fail;
	} else {
		s = ASN1_IA5STRING_new();
		type = GEN_DNS;
		if (s && !ASN1_STRING_set(s, name, (int)strlen(name)))
			goto fail;
	}
	if (!s)
		goto fail;
	GENERAL_NAME_set0_value(g, type, s);
	return g;
fail:
	ASN1_STRING_free(s);
	GENERAL_NAME_free(g);
	return NULL;
}

int crypto_csr_build(util_buf *der_out, const crypto_key *key, const char *cn,
		     const char *const *names, size_t nnames)
{
	X509_REQ *req = X509_REQ_new();
	X509_NAME *subj = NULL;
	GENERAL_NAMES *gens = NULL;
	STACK_OF(X509_EXTENSION) *exts = NULL;
	X509_EXTENSION *ext = NULL;
	EVP_PKEY *pkey = (EVP_PKEY *)crypto__key_pkey(key);
	unsigned char *der = NULL;
	size_t i;
	int n, error = CERTOPS_ERROR;

	if (!nnames && !cn) {
		error = util_error_set(CERTOPS_EINVALID, "a csr needs at least one name");
		goto done_noset;
	}
	if (!req || !(subj = X509_NAME_new()) || !(gens = GENERAL_NAMES_new()) ||
	    !(exts = sk_X509_EXTENSION_new_null()))
		goto done;
	for (i = 0; i < nnames; i++) {
		GENERAL_NAME *g;
		if (!names[i] || strlen(names[i]) > 253) {
			error = util_error_set(CERTOPS_EINVALID, "invalid name %zu for the csr", i);
			goto done_noset;
		}
		if (!(g = san_entry(names[i])))
			goto done;
		if (!sk_GENERAL_NAME_push(gens, g)) {
			GENERAL_NAME_free(g);
			goto done;
		}
	}
	if (!X509_REQ_set_version(req, 0))
		goto done;
	if (cn && !X509_NAME_add_entry_by_NID(subj, NID_commonName, MBSTRING_UTF8,
					      (const unsigned char *)cn, -1, -1, 0))
		goto done;
	if (!X509_REQ_set_subject_name(req, subj) || !X509_REQ_set_pubkey(req, pkey))
		goto done;
	if (nnames) {
		if (!(ext = X509V3_EXT_i2d(NID_subject_alt_name, 0, gens)) ||
		    !sk_X509_EXTENSION_push(exts, ext))
			goto done;
		ext = NULL;
		if (!X509_REQ_add_extensions(req, exts))
			goto done;
	}
	if (!X509_REQ_sign(req, pkey, crypto_key_get_type(key) == CRYPTO_KEY_ED25519
					      ? NULL : EVP_sha256()))
		goto done;
	if ((n = i2d_X509_REQ(req, &der)) <= 0)
		goto done;
	if (util_buf_put(der_out, der, (size_t)n) < 0) {
		error = util_error_oom();
		goto done_noset;
	}
	error = 0;
	goto done_noset;
done:
	util_error_set(CERTOPS_ERROR, "building the csr failed");
done_noset:
	OPENSSL_free(der);
	X509_EXTENSION_free(ext);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	GENERAL_NAMES_free(gens);
	X509_NAME_free(subj);
	X509_REQ_free(req);
	return error;
}

int crypto_tlsalpn01_cert(util_buf *pem_out, const crypto_key *key, const char *name,
			  const void *ext_value, size_t ext_len)
{
	X509 *x = X509_new();
	EVP_PKEY *pkey = (EVP_PKEY *)crypto__key_pkey(key);
	GENERAL_NAMES *gens = GENERAL_NAMES_new();
	GENERAL_NAME *g = NULL;
	ASN1_OBJECT *oid = NULL;
	ASN1_OCTET_STRING *val = ASN1_OCTET_STRING_new();
	X509_EXTENSION *ext = NULL;
	BIO *bio = BIO_new(BIO_s_mem());
	unsigned char serial[16];
	BIGNUM *bn = NULL;
	char *data = NULL;
	long n;
	int error = CERTOPS_ERROR;

	if (!x || !gens || !val || !bio)
		goto fail;
	if (ext_len > INT32_MAX || crypto_random(serial, sizeof(serial)) < 0)
		goto fail;
	serial[0] &= 0x7f; /* positive */
	if (!(bn = BN_bin2bn(serial, sizeof(serial), NULL)) ||
	    !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) ||
	    !X509_set_version(x, 2) ||
	    !X509_gmtime_adj(X509_getm_notBefore(x), -3600) ||
	    !X509_gmtime_adj(X509_getm_notAfter(x), 7L * 86400) ||
	    !X509_set_pubkey(x, pkey))
		goto fail;
	if (!(g = san_entry(name)) || !sk_GENERAL_NAME_push(gens, g))
		goto fail;
	g = NULL;
	if (!(ext = X509V3_EXT_i2d(NID_subject_alt_name, 0, gens)) || !X509_add_ext(x, ext, -1))
		goto fail;
	X509_EXTENSION_free(ext);
	ext = NULL;
	/* id-pe-acmeIdentifier, critical (RFC 8737 §3) */
	if (!(oid = OBJ_txt2obj("1.3.6.1.5.5.7.1.31", 1)) ||
	    !ASN1_OCTET_STRING_set(val, ext_value, (int)ext_len) ||
	    !(ext = X509_EXTENSION_create_by_OBJ(NULL, oid, 1, val)) ||
	    !X509_add_ext(x, ext, -1))
		goto fail;
	if (!X509_sign(x, pkey, crypto_key_get_type(key) == CRYPTO_KEY_ED25519 ? NULL : EVP_sha256()) ||
	    !PEM_write_bio_X509(bio, x))
		goto fail;
	n = BIO_get_mem_data(bio, &data);
	if (n < 0 || util_buf_put(pem_out, data, (size_t)n) < 0) {
		error = util_error_oom();
		goto done;
	}
	error = 0;
	goto done;
fail:
	util_error_set(CERTOPS_ERROR, "building the tls-alpn-01 certificate for '%s' failed", name);
done:
	BN_free(bn);
	GENERAL_NAME_free(g);
	GENERAL_NAMES_free(gens);
	X509_EXTENSION_free(ext);
	ASN1_OBJECT_free(oid);
	ASN1_OCTET_STRING_free(val);
	BIO_free(bio);
	X509_free(x);
	return error;
}
