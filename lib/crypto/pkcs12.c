/*
 * PKCS#12 bundles: build (leaf + chain without root + key) and read back.
 * See pkcs12.h for the two encryptions and the password-less form.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "crypto/crypto_internal.h"
#include "crypto/pkcs12.h"
#include "util/error.h"
#include "util/log.h"

/* OpenSSL 3's own default (PKCS12_DEFAULT_ITER); kept explicit on purpose
 * so that a library default change does not silently change our files. */
#define P12_ITER 2048

static X509 *p12_x509(const void *data, size_t len)
{
	static const char begin[] = "-----BEGIN CERTIFICATE-----";
	X509 *x = NULL;

	if (len > INT32_MAX)
		return NULL;
	if (memmem(data, len, begin, sizeof(begin) - 1)) {
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

/* A root is self-issued and self-signed; it does not belong in a bundle. */
static int p12_is_root(X509 *x)
{
	return X509_check_issued(x, x) == X509_V_OK;
}

static int p12_chain(STACK_OF(X509) **out, const char *pem, size_t len)
{
	crypto_pem_list list = { NULL, 0 };
	STACK_OF(X509) *sk = sk_X509_new_null();
	int error = CERTOPS_ENOMEM;
	size_t i;

	if (!sk) {
		util_error_oom();
		goto done;
	}
	if (pem && len) {
		if ((error = crypto_pem_split(&list, pem, len)) < 0) {
			util_error_wrap("pkcs12 chain");
			goto done;
		}
		for (i = 0; i < list.count; i++) {
			X509 *x = p12_x509(list.pems[i], strlen(list.pems[i]));
			if (!x) {
				error = util_error_set(CERTOPS_EINVALID,
						       "pkcs12 chain: certificate %zu does not parse", i + 1);
				goto done;
			}
			if (p12_is_root(x)) {
				X509_free(x);
				continue;
			}
			if (!sk_X509_push(sk, x)) {
				X509_free(x);
				error = util_error_oom();
				goto done;
			}
		}
	}
	*out = sk;
	sk = NULL;
	error = 0;
done:
	sk_X509_pop_free(sk, X509_free);
	crypto_pem_list_release(&list);
	return error;
}

int crypto_pkcs12_build(util_buf *der_out, const void *leaf, size_t leaf_len,
			const char *chain_pem, size_t chain_len,
			const crypto_key *key, const crypto_pkcs12_opts *opts)
{
	X509 *x = NULL;
	STACK_OF(X509) *ca = NULL;
	PKCS12 *p12 = NULL;
	EVP_PKEY *pkey = (EVP_PKEY *)crypto__key_pkey(key);
	unsigned char *der = NULL;
	const char *pass = opts->password;
	int nid_key, nid_cert, len, error = CERTOPS_ERROR;
	const EVP_MD *md;

	if (pass && util_secret_register(pass) < 0) {
		error = util_error_oom();
		goto done;
	}
	if (!(x = p12_x509(leaf, leaf_len))) {
		error = util_error_set(CERTOPS_EINVALID, "pkcs12: the leaf certificate does not parse");
		goto done;
	}
	if (X509_check_private_key(x, pkey) != 1) {
		ERR_clear_error();
		error = util_error_set(CERTOPS_EINVALID, "pkcs12: the key does not match the leaf certificate");
		goto done;
	}
	if ((error = p12_chain(&ca, chain_pem, chain_len)) < 0)
		goto done;

	if (!pass) {
		nid_key = nid_cert = -1; /* no encryption */
		md = NULL;
	} else if (opts->encryption == CRYPTO_PKCS12_LEGACY) {
		nid_key = nid_cert = NID_pbe_WithSHA1And3_Key_TripleDES_CBC;
		md = EVP_sha1();
	} else {
		/* PBES2: PBKDF2 with hmacWithSHA256 (OpenSSL 3's PRF default). */
		nid_key = nid_cert = NID_aes_256_cbc;
		md = EVP_sha256();
	}
	/* mac_iter -1: no MAC here; it is set below with an explicit digest. */
	p12 = PKCS12_create_ex((char *)pass, (char *)opts->friendly_name, pkey,
			       x, ca, nid_key, nid_cert, P12_ITER, -1, 0,
			       NULL, NULL);
	if (!p12) {
		error = util_error_set(CERTOPS_ERROR, "pkcs12: building the bundle failed: %s",
				       ERR_reason_error_string(ERR_peek_last_error()));
		ERR_clear_error();
		goto done;
	}
	if (md && !PKCS12_set_mac(p12, pass, -1, NULL, 0, P12_ITER, md)) {
		error = util_error_set(CERTOPS_ERROR, "pkcs12: computing the MAC failed");
		ERR_clear_error();
		goto done;
	}
	if ((len = i2d_PKCS12(p12, &der)) <= 0) {
		error = util_error_set(CERTOPS_ERROR, "pkcs12: encoding failed");
		ERR_clear_error();
		goto done;
	}
	if (util_buf_put(der_out, der, (size_t)len) < 0) {
		error = util_error_oom();
		goto done;
	}
	error = 0;
done:
	OPENSSL_free(der);
	PKCS12_free(p12);
	sk_X509_pop_free(ca, X509_free);
	X509_free(x);
	return error;
}

static int p12_fingerprint(unsigned char out[32], X509 *x)
{
	unsigned char *der = NULL;
	int len = i2d_X509(x, &der), error;

	if (len <= 0)
		return util_error_set(CERTOPS_EINVALID, "pkcs12: certificate does not encode");
	error = crypto_sha256(out, der, (size_t)len);
	OPENSSL_free(der);
	return error;
}

int crypto_pkcs12_read(crypto_pkcs12_info *out, const void *der, size_t len,
		       const char *password)
{
	const unsigned char *p = der;
	PKCS12 *p12 = NULL;
	EVP_PKEY *pkey = NULL;
	X509 *x = NULL;
	STACK_OF(X509) *ca = NULL;
	const X509_ALGOR *macalg = NULL;
	const ASN1_OBJECT *obj = NULL;
	const unsigned char *alias;
	int alias_len = 0, error = CERTOPS_ERROR;

	memset(out, 0, sizeof(*out));
	if (password && util_secret_register(password) < 0)
		return util_error_oom();
	if (len > INT32_MAX || !(p12 = d2i_PKCS12(NULL, &p, (long)len))) {
		error = util_error_set(CERTOPS_EINVALID, "not a PKCS#12 file");
		goto done;
	}
	out->has_mac = PKCS12_mac_present(p12);
	if (out->has_mac) {
		/* An absent password is tried as both NULL and "" (tools differ). */
		if (!PKCS12_verify_mac(p12, password, -1) &&
		    !(password == NULL && PKCS12_verify_mac(p12, "", 0))) {
			error = util_error_set(CERTOPS_EAUTH,
					       "pkcs12: the password does not open the file (MAC verification failed)");
			goto done;
		}
		PKCS12_get0_mac(NULL, &macalg, NULL, NULL, p12);
		if (macalg) {
			X509_ALGOR_get0(&obj, NULL, NULL, macalg);
			out->legacy_mac = OBJ_obj2nid(obj) == NID_sha1;
		}
	}
	if (!PKCS12_parse(p12, password, &pkey, &x, &ca)) {
		error = util_error_set(out->has_mac ? CERTOPS_EINVALID : CERTOPS_EAUTH,
				       "pkcs12: the file does not open with the password: %s",
				       ERR_reason_error_string(ERR_peek_last_error()));
		goto done;
	}
	if (!x) {
		error = util_error_set(CERTOPS_EINVALID, "pkcs12: no certificate with a key in the file");
		goto done;
	}
	if ((error = p12_fingerprint(out->fingerprint, x)) < 0)
		goto done;
	out->has_key = pkey != NULL;
	out->key_matches = pkey && X509_check_private_key(x, pkey) == 1;
	out->nchain = ca ? (size_t)sk_X509_num(ca) : 0;
	if ((alias = X509_alias_get0(x, &alias_len)) && alias_len > 0) {
		if (!(out->friendly_name = malloc((size_t)alias_len + 1))) {
			error = util_error_oom();
			goto done;
		}
		memcpy(out->friendly_name, alias, (size_t)alias_len);
		out->friendly_name[alias_len] = '\0';
	}
	error = 0;
done:
	ERR_clear_error();
	if (error < 0)
		crypto_pkcs12_info_release(out);
	sk_X509_pop_free(ca, X509_free);
	X509_free(x);
	EVP_PKEY_free(pkey);
	PKCS12_free(p12);
	return error;
}

void crypto_pkcs12_info_release(crypto_pkcs12_info *info)
{
	free(info->friendly_name);
	memset(info, 0, sizeof(*info));
}
