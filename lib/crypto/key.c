/* Private keys: generation, parsing, PEM/DER output, JWK and JWS signing. */
#include "crypto/crypto.h"
#include "crypto/crypto_internal.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "util/error.h"
#include "util/fs.h"

struct crypto_key {
	EVP_PKEY *pkey;
	crypto_key_type type;
};

static const struct {
	crypto_key_type type;
	const char *name;
} key_names[] = {
	{ CRYPTO_KEY_RSA2048, "rsa-2048" },   { CRYPTO_KEY_RSA3072, "rsa-3072" },
	{ CRYPTO_KEY_RSA4096, "rsa-4096" },   { CRYPTO_KEY_EC_P256, "ecdsa-p256" },
	{ CRYPTO_KEY_EC_P384, "ecdsa-p384" }, { CRYPTO_KEY_ED25519, "ed25519" },
};

int crypto_key_type_parse(crypto_key_type *out, const char *s)
{
	size_t i;

	for (i = 0; i < sizeof(key_names) / sizeof(key_names[0]); i++)
		if (!strcmp(s, key_names[i].name)) {
			*out = key_names[i].type;
			return 0;
		}
	return util_error_set(CERTOPS_EINVALID,
			      "unknown key type '%s' (expected rsa-2048, rsa-3072, rsa-4096, "
			      "ecdsa-p256, ecdsa-p384 or ed25519)", s);
}

const char *crypto_key_type_name(crypto_key_type type)
{
	size_t i;

	for (i = 0; i < sizeof(key_names) / sizeof(key_names[0]); i++)
		if (key_names[i].type == type)
			return key_names[i].name;
	return "unknown";
}

crypto_key_type crypto__pkey_type(const EVP_PKEY *pkey)
{
	char group[64];
	size_t glen = 0;

	switch (EVP_PKEY_get_base_id(pkey)) {
	case EVP_PKEY_RSA:
		switch (EVP_PKEY_get_bits(pkey)) {
		case 2048: return CRYPTO_KEY_RSA2048;
		case 3072: return CRYPTO_KEY_RSA3072;
		case 4096: return CRYPTO_KEY_RSA4096;
		default: return CRYPTO_KEY_UNKNOWN;
		}
	case EVP_PKEY_EC:
		if (!EVP_PKEY_get_group_name(pkey, group, sizeof(group), &glen))
			return CRYPTO_KEY_UNKNOWN;
		if (!strcmp(group, "prime256v1") || !strcmp(group, "P-256"))
			return CRYPTO_KEY_EC_P256;
		if (!strcmp(group, "secp384r1") || !strcmp(group, "P-384"))
			return CRYPTO_KEY_EC_P384;
		return CRYPTO_KEY_UNKNOWN;
	case EVP_PKEY_ED25519:
		return CRYPTO_KEY_ED25519;
	default:
		return CRYPTO_KEY_UNKNOWN;
	}
}

static int key_wrap(crypto_key **out, EVP_PKEY *pkey)
{
	crypto_key *k;
	crypto_key_type type = crypto__pkey_type(pkey);

	if (type == CRYPTO_KEY_UNKNOWN) {
		EVP_PKEY_free(pkey);
		return util_error_set(CERTOPS_EINVALID,
				      "unsupported key (use RSA 2048/3072/4096, ECDSA P-256/P-384 or Ed25519)");
	}
	if (!(k = calloc(1, sizeof(*k)))) {
		EVP_PKEY_free(pkey);
		return util_error_oom();
	}
	k->pkey = pkey;
	k->type = type;
	*out = k;
	return 0;
}

int crypto_key_generate(crypto_key **out, crypto_key_type type)
{
	EVP_PKEY *pkey = NULL;

	switch (type) {
	case CRYPTO_KEY_RSA2048: pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048); break;
	case CRYPTO_KEY_RSA3072: pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)3072); break;
	case CRYPTO_KEY_RSA4096: pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)4096); break;
	case CRYPTO_KEY_EC_P256: pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"); break;
	case CRYPTO_KEY_EC_P384: pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384"); break;
	case CRYPTO_KEY_ED25519: pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"); break;
	default:
		return util_error_set(CERTOPS_EINVALID, "cannot generate a key of unknown type");
	}
	if (!pkey)
		return util_error_set(CERTOPS_ERROR, "generating a %s key failed",
				      crypto_key_type_name(type));
	return key_wrap(out, pkey);
}

/* Encrypted keys are refused: without this OpenSSL would prompt on the tty,
 * and certops runs unattended. */
static int no_password(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

int crypto_key_parse(crypto_key **out, const void *data, size_t len)
{
	EVP_PKEY *pkey = NULL;
	BIO *bio;

	if (len > INT32_MAX)
		return util_error_set(CERTOPS_EINVALID, "key too large");
	if (len >= 11 && memmem(data, len, "-----BEGIN ", 11)) {
		if (!(bio = BIO_new_mem_buf(data, (int)len)))
			return util_error_oom();
		pkey = PEM_read_bio_PrivateKey(bio, NULL, no_password, NULL);
		BIO_free(bio);
	} else {
		const unsigned char *p = data;
		pkey = d2i_AutoPrivateKey(NULL, &p, (long)len);
	}
	if (!pkey)
		return util_error_set(CERTOPS_EINVALID,
				      "not an unencrypted private key (PEM or DER)");
	return key_wrap(out, pkey);
}

int crypto_key_load(crypto_key **out, const char *path)
{
	util_buf b = UTIL_BUF_INIT;
	int error;

	if ((error = util_fs_read_file(&b, path, 1 << 20)) < 0)
		goto done;
	if ((error = crypto_key_parse(out, b.ptr, b.size)) < 0)
		util_error_wrap("loading key '%s'", path);
done:
	/* the buffer held the secret: wipe before release */
	if (b.asize)
		OPENSSL_cleanse(b.ptr, b.size);
	util_buf_release(&b);
	return error;
}

static int bio_append(util_buf *out, BIO *bio)
{
	char *p = NULL;
	long n = BIO_get_mem_data(bio, &p);

	if (n < 0 || util_buf_put(out, p, (size_t)n) < 0)
		return util_error_oom();
	return 0;
}

int crypto_key_to_pem(util_buf *out, const crypto_key *key)
{
	BIO *bio = BIO_new(BIO_s_secmem());
	int error;

	if (!bio)
		return util_error_oom();
	if (!PEM_write_bio_PrivateKey(bio, key->pkey, NULL, NULL, 0, NULL, NULL))
		error = util_error_set(CERTOPS_ERROR, "encoding the private key failed");
	else
		error = bio_append(out, bio);
	BIO_free(bio);
	return error;
}

int crypto_key_public_der(util_buf *out, const crypto_key *key)
{
	unsigned char *der = NULL;
	int n = i2d_PUBKEY(key->pkey, &der);

	if (n <= 0)
		return util_error_set(CERTOPS_ERROR, "encoding the public key failed");
	n = util_buf_put(out, der, (size_t)n) < 0 ? util_error_oom() : 0;
	OPENSSL_free(der);
	return n;
}

int crypto_key_public_pem(util_buf *out, const crypto_key *key)
{
	BIO *bio = BIO_new(BIO_s_mem());
	int error;

	if (!bio)
		return util_error_oom();
	if (!PEM_write_bio_PUBKEY(bio, key->pkey))
		error = util_error_set(CERTOPS_ERROR, "encoding the public key failed");
	else
		error = bio_append(out, bio);
	BIO_free(bio);
	return error;
}

int crypto_key_save(const crypto_key *key, const char *path)
{
	util_buf pem = UTIL_BUF_INIT;
	int error;

	if ((error = crypto_key_to_pem(&pem, key)) < 0)
		goto done;
	error = util_fs_write_atomic(path, pem.ptr, pem.size, 0600);
done:
	if (pem.asize)
		OPENSSL_cleanse(pem.ptr, pem.size);
	util_buf_release(&pem);
	return error;
}

crypto_key_type crypto_key_get_type(const crypto_key *key)
{
	return key->type;
}

int crypto_key_spki_sha256(unsigned char out[32], const crypto_key *key)
{
	util_buf der = UTIL_BUF_INIT;
	int error;

	if ((error = crypto_key_public_der(&der, key)) == 0)
		error = crypto_sha256(out, der.ptr, der.size);
	util_buf_release(&der);
	return error;
}

void crypto_key_free(crypto_key *key)
{
	if (!key)
		return;
	EVP_PKEY_free(key->pkey);
	free(key);
}

const EVP_PKEY *crypto__key_pkey(const crypto_key *key)
{
	return key->pkey;
}

/* --- JOSE ------------------------------------------------------------- */

const char *crypto_key_jws_alg(const crypto_key *key)
{
	switch (key->type) {
	case CRYPTO_KEY_RSA2048: case CRYPTO_KEY_RSA3072: case CRYPTO_KEY_RSA4096:
		return "RS256";
	case CRYPTO_KEY_EC_P256: return "ES256";
	case CRYPTO_KEY_EC_P384: return "ES384";
	case CRYPTO_KEY_ED25519: return "EdDSA";
	default: return NULL;
	}
}

/* Appends "name":"b64url(bn, padded to pad bytes)" */
static int jwk_bn(util_buf *out, const EVP_PKEY *pkey, const char *param,
		  size_t pad, const char *name)
{
	BIGNUM *bn = NULL;
	unsigned char *bytes = NULL;
	size_t n;
	int error = CERTOPS_ERROR;

	if (!EVP_PKEY_get_bn_param(pkey, param, &bn)) {
		util_error_set(CERTOPS_ERROR, "reading key parameter %s failed", param);
		goto done;
	}
	n = pad ? pad : (size_t)BN_num_bytes(bn);
	if (!(bytes = malloc(n ? n : 1))) {
		error = util_error_oom();
		goto done;
	}
	if (BN_bn2binpad(bn, bytes, (int)n) < 0) {
		util_error_set(CERTOPS_ERROR, "key parameter %s too large", param);
		goto done;
	}
	util_buf_printf(out, "\"%s\":\"", name);
	crypto_b64url_encode(out, bytes, n);
	util_buf_putc(out, '"');
	error = util_buf_failed(out) ? util_error_oom() : 0;
done:
	BN_free(bn);
	free(bytes);
	return error;
}

int crypto_key_jwk(util_buf *out, const crypto_key *key)
{
	const EVP_PKEY *pkey = key->pkey;
	unsigned char raw[64];
	size_t rawlen = sizeof(raw);
	int error = 0;

	switch (key->type) {
	case CRYPTO_KEY_RSA2048: case CRYPTO_KEY_RSA3072: case CRYPTO_KEY_RSA4096:
		util_buf_putc(out, '{');
		if ((error = jwk_bn(out, pkey, OSSL_PKEY_PARAM_RSA_E, 0, "e")) < 0)
			return error;
		util_buf_puts(out, ",\"kty\":\"RSA\",");
		if ((error = jwk_bn(out, pkey, OSSL_PKEY_PARAM_RSA_N, 0, "n")) < 0)
			return error;
		util_buf_putc(out, '}');
		break;
	case CRYPTO_KEY_EC_P256: case CRYPTO_KEY_EC_P384: {
		size_t sz = key->type == CRYPTO_KEY_EC_P256 ? 32 : 48;
		util_buf_printf(out, "{\"crv\":\"%s\",\"kty\":\"EC\",",
				key->type == CRYPTO_KEY_EC_P256 ? "P-256" : "P-384");
		if ((error = jwk_bn(out, pkey, OSSL_PKEY_PARAM_EC_PUB_X, sz, "x")) < 0)
			return error;
		util_buf_putc(out, ',');
		if ((error = jwk_bn(out, pkey, OSSL_PKEY_PARAM_EC_PUB_Y, sz, "y")) < 0)
			return error;
		util_buf_putc(out, '}');
		break;
	}
	case CRYPTO_KEY_ED25519:
		if (!EVP_PKEY_get_raw_public_key(pkey, raw, &rawlen))
			return util_error_set(CERTOPS_ERROR, "reading the ed25519 public key failed");
		util_buf_puts(out, "{\"crv\":\"Ed25519\",\"kty\":\"OKP\",\"x\":\"");
		crypto_b64url_encode(out, raw, rawlen);
		util_buf_puts(out, "\"}");
		break;
	default:
		return util_error_set(CERTOPS_EINVALID, "no jwk for this key type");
	}
	return util_buf_failed(out) ? util_error_oom() : 0;
}

int crypto_key_thumbprint(util_buf *out, const crypto_key *key)
{
	util_buf jwk = UTIL_BUF_INIT;
	unsigned char md[32];
	int error;

	if ((error = crypto_key_jwk(&jwk, key)) < 0 ||
	    (error = crypto_sha256(md, jwk.ptr, jwk.size)) < 0)
		goto done;
	error = crypto_b64url_encode(out, md, sizeof(md));
done:
	util_buf_release(&jwk);
	return error;
}

/* Converts a DER ECDSA-Sig-Value to the JWS r||s form. */
static int ecdsa_der_to_raw(util_buf *out, const unsigned char *der, size_t len,
			    size_t half)
{
	const unsigned char *p = der;
	ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)len);
	const BIGNUM *r, *s;
	unsigned char buf[132];
	int error = 0;

	if (!sig)
		return util_error_set(CERTOPS_ERROR, "decoding the ecdsa signature failed");
	ECDSA_SIG_get0(sig, &r, &s);
	if (half * 2 > sizeof(buf) || BN_bn2binpad(r, buf, (int)half) < 0 ||
	    BN_bn2binpad(s, buf + half, (int)half) < 0)
		error = util_error_set(CERTOPS_ERROR, "ecdsa signature too large");
	else if (util_buf_put(out, buf, half * 2) < 0)
		error = util_error_oom();
	ECDSA_SIG_free(sig);
	return error;
}

int crypto_key_sign(util_buf *sig_out, const crypto_key *key,
		    const void *data, size_t len)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	const EVP_MD *md = NULL;
	unsigned char *sig = NULL;
	size_t siglen = 0;
	int error = CERTOPS_ERROR;

	if (!ctx)
		return util_error_oom();
	switch (key->type) {
	case CRYPTO_KEY_EC_P384: md = EVP_sha384(); break;
	case CRYPTO_KEY_ED25519: md = NULL; break;
	default: md = EVP_sha256(); break;
	}
	if (!EVP_DigestSignInit(ctx, NULL, md, NULL, key->pkey) ||
	    !EVP_DigestSign(ctx, NULL, &siglen, data, len)) {
		util_error_set(CERTOPS_ERROR, "signing failed");
		goto done;
	}
	if (!(sig = malloc(siglen))) {
		error = util_error_oom();
		goto done;
	}
	if (!EVP_DigestSign(ctx, sig, &siglen, data, len)) {
		util_error_set(CERTOPS_ERROR, "signing failed");
		goto done;
	}
	if (key->type == CRYPTO_KEY_EC_P256 || key->type == CRYPTO_KEY_EC_P384)
		error = ecdsa_der_to_raw(sig_out, sig, siglen,
					 key->type == CRYPTO_KEY_EC_P256 ? 32 : 48);
	else
		error = util_buf_put(sig_out, sig, siglen) < 0
			? util_error_oom() : 0;
done:
	free(sig);
	EVP_MD_CTX_free(ctx);
	return error;
}
