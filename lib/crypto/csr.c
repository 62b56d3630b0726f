/* PKCS#10 certificate requests for ACME finalize (RFC 8555 §7.4). */
#include "crypto/crypto.h"
#include "crypto/crypto_internal.h"

#include <arpa/inet.h>
#include <string.h>

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
		error = util_error_set(CERTOPS_ENOMEM, "out of memory");
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
