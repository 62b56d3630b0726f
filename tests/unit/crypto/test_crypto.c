/* Unit tests of lib/crypto: keys, JOSE, CSR, certificates, PEM bundles. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "crypto/crypto.h"
#include "util/error.h"

static void test_b64url(void **state)
{
	util_buf b = UTIL_BUF_INIT, d = UTIL_BUF_INIT;
	const unsigned char bytes[] = { 0xfb, 0xff, 0x00, 0x41 };

	(void)state;
	assert_int_equal(crypto_b64url_encode(&b, bytes, 4), 0);
	assert_string_equal(b.ptr, "-_8AQQ");
	assert_int_equal(crypto_b64url_decode(&d, b.ptr, b.size), 0);
	assert_int_equal(d.size, 4);
	assert_memory_equal(d.ptr, bytes, 4);
	util_buf_clear(&d);
	assert_int_equal(crypto_b64url_decode(&d, "a", 1), CERTOPS_EINVALID);
	assert_int_equal(crypto_b64url_decode(&d, "ab*d", 4), CERTOPS_EINVALID);
	util_buf_release(&b);
	util_buf_release(&d);
}

static void test_key_type_names(void **state)
{
	crypto_key_type t;

	(void)state;
	assert_int_equal(crypto_key_type_parse(&t, "ecdsa-p384"), 0);
	assert_int_equal(t, CRYPTO_KEY_EC_P384);
	assert_string_equal(crypto_key_type_name(CRYPTO_KEY_RSA3072), "rsa-3072");
	assert_int_equal(crypto_key_type_parse(&t, "dsa"), CERTOPS_EINVALID);
	assert_non_null(strstr(util_error_message(), "'dsa'"));
}

/* Verifies a JWS-form signature with OpenSSL directly, independent of lib. */
static int verify_jws_sig(const crypto_key *key, const char *data,
			  const unsigned char *sig, size_t siglen)
{
	util_buf pem = UTIL_BUF_INIT;
	BIO *bio;
	EVP_PKEY *pub;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char *der = NULL;
	int derlen = 0, ok;
	const EVP_MD *md = EVP_sha256();
	crypto_key_type t = crypto_key_get_type(key);

	assert_int_equal(crypto_key_public_pem(&pem, key), 0);
	bio = BIO_new_mem_buf(pem.ptr, (int)pem.size);
	pub = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	assert_non_null(pub);
	if (t == CRYPTO_KEY_EC_P256 || t == CRYPTO_KEY_EC_P384) {
		size_t half = siglen / 2;
		ECDSA_SIG *es = ECDSA_SIG_new();
		assert_int_equal(siglen, t == CRYPTO_KEY_EC_P256 ? 64 : 96);
		ECDSA_SIG_set0(es, BN_bin2bn(sig, (int)half, NULL),
			       BN_bin2bn(sig + half, (int)half, NULL));
		derlen = i2d_ECDSA_SIG(es, &der);
		ECDSA_SIG_free(es);
		if (t == CRYPTO_KEY_EC_P384)
			md = EVP_sha384();
	} else if (t == CRYPTO_KEY_ED25519) {
		md = NULL;
	}
	assert_int_equal(EVP_DigestVerifyInit(ctx, NULL, md, NULL, pub), 1);
	ok = EVP_DigestVerify(ctx, der ? der : sig, der ? (size_t)derlen : siglen,
			      (const unsigned char *)data, strlen(data));
	OPENSSL_free(der);
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pub);
	BIO_free(bio);
	util_buf_release(&pem);
	return ok == 1;
}

static void check_key_type(crypto_key_type type, const char *alg)
{
	crypto_key *k = NULL, *k2 = NULL;
	util_buf pem = UTIL_BUF_INIT, sig = UTIL_BUF_INIT, jwk = UTIL_BUF_INIT,
		 jwk2 = UTIL_BUF_INIT;
	const char *msg = "eyJhbGciOiJFUzI1NiJ9.eyJoZWxsbyI6IndvcmxkIn0";

	assert_int_equal(crypto_key_generate(&k, type), 0);
	assert_int_equal(crypto_key_get_type(k), type);
	assert_string_equal(crypto_key_jws_alg(k), alg);
	assert_int_equal(crypto_key_to_pem(&pem, k), 0);
	assert_non_null(strstr(pem.ptr, "-----BEGIN PRIVATE KEY-----"));
	assert_int_equal(crypto_key_parse(&k2, pem.ptr, pem.size), 0);
	assert_int_equal(crypto_key_get_type(k2), type);
	assert_int_equal(crypto_key_jwk(&jwk, k), 0);
	assert_int_equal(crypto_key_jwk(&jwk2, k2), 0);
	assert_string_equal(jwk.ptr, jwk2.ptr);
	assert_int_equal(crypto_key_sign(&sig, k, msg, strlen(msg)), 0);
	assert_true(verify_jws_sig(k2, msg, (unsigned char *)sig.ptr, sig.size));
	/* a changed message must not verify: the check can fail */
	assert_false(verify_jws_sig(k2, "x.y", (unsigned char *)sig.ptr, sig.size));
	crypto_key_free(k);
	crypto_key_free(k2);
	util_buf_release(&pem);
	util_buf_release(&sig);
	util_buf_release(&jwk);
	util_buf_release(&jwk2);
}

static void test_keys_es256(void **s) { (void)s; check_key_type(CRYPTO_KEY_EC_P256, "ES256"); }
static void test_keys_es384(void **s) { (void)s; check_key_type(CRYPTO_KEY_EC_P384, "ES384"); }
static void test_keys_rs256(void **s) { (void)s; check_key_type(CRYPTO_KEY_RSA2048, "RS256"); }
static void test_keys_eddsa(void **s) { (void)s; check_key_type(CRYPTO_KEY_ED25519, "EdDSA"); }
static void test_keys_rsa3072(void **s) { (void)s; check_key_type(CRYPTO_KEY_RSA3072, "RS256"); }

/* RFC 8037 Appendix A: the Ed25519 key, its thumbprint and a signature. */
static void test_rfc8037_ed25519(void **state)
{
	util_buf d = UTIL_BUF_INIT, der = UTIL_BUF_INIT, jwk = UTIL_BUF_INIT,
		 tp = UTIL_BUF_INIT, sig = UTIL_BUF_INIT, sig64 = UTIL_BUF_INIT;
	const unsigned char prefix[] = { 0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06,
					 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20 };
	const char *input = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc";
	crypto_key *k = NULL;

	(void)state;
	assert_int_equal(crypto_b64url_decode(&d, "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A", 43), 0);
	util_buf_put(&der, prefix, sizeof(prefix));
	util_buf_put(&der, d.ptr, d.size);
	assert_int_equal(crypto_key_parse(&k, der.ptr, der.size), 0);
	assert_int_equal(crypto_key_jwk(&jwk, k), 0);
	assert_string_equal(jwk.ptr, "{\"crv\":\"Ed25519\",\"kty\":\"OKP\","
				     "\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}");
	assert_int_equal(crypto_key_thumbprint(&tp, k), 0);
	assert_string_equal(tp.ptr, "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
	assert_int_equal(crypto_key_sign(&sig, k, input, strlen(input)), 0);
	crypto_b64url_encode(&sig64, sig.ptr, sig.size);
	assert_string_equal(sig64.ptr, "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg");
	crypto_key_free(k);
	util_buf_release(&d); util_buf_release(&der); util_buf_release(&jwk);
	util_buf_release(&tp); util_buf_release(&sig); util_buf_release(&sig64);
}

static void test_key_save_mode(void **state)
{
	char dir[] = "/tmp/certops-crypto-XXXXXX";
	char path[128];
	struct stat st;
	crypto_key *k = NULL, *k2 = NULL;
	mode_t old = umask(0);

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/key.pem", dir);
	assert_int_equal(crypto_key_generate(&k, CRYPTO_KEY_EC_P256), 0);
	assert_int_equal(crypto_key_save(k, path), 0);
	umask(old);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(crypto_key_load(&k2, path), 0);
	assert_int_equal(crypto_key_get_type(k2), CRYPTO_KEY_EC_P256);
	crypto_key_free(k2);
	k2 = NULL;
	unlink(path);
	assert_int_equal(crypto_key_load(&k2, path), CERTOPS_ENOTFOUND);
	rmdir(dir);
	crypto_key_free(k);
	assert_int_equal(crypto_key_parse(&k2, "garbage", 7), CERTOPS_EINVALID);
}

/* An encrypted key is refused without a prompt (stdin is not read). */
static void test_encrypted_key_refused(void **state)
{
	EVP_PKEY *pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	BIO *bio = BIO_new(BIO_s_mem());
	crypto_key *k = NULL;
	char *data;
	long len;

	(void)state;
	assert_int_equal(PEM_write_bio_PrivateKey(bio, pk, EVP_aes_256_cbc(),
						  (unsigned char *)"secret", 6, NULL, NULL), 1);
	len = BIO_get_mem_data(bio, &data);
	assert_int_equal(crypto_key_parse(&k, data, (size_t)len), CERTOPS_EINVALID);
	assert_null(k);
	assert_non_null(strstr(util_error_message(), "unencrypted"));
	BIO_free(bio);
	EVP_PKEY_free(pk);
}

/* Self-signs a CSR's key into a certificate so parsing has a real input. */
static void csr_roundtrip(crypto_key_type type)
{
	const char *names[] = { "example.com", "*.example.com", "192.0.2.7", "2001:db8::1" };
	util_buf der = UTIL_BUF_INIT;
	crypto_key *k = NULL;
	const unsigned char *p;
	X509_REQ *req;
	GENERAL_NAMES *gens;
	STACK_OF(X509_EXTENSION) *exts;
	EVP_PKEY *pub;

	assert_int_equal(crypto_key_generate(&k, type), 0);
	assert_int_equal(crypto_csr_build(&der, k, "example.com", names, 4), 0);
	p = (const unsigned char *)der.ptr;
	req = d2i_X509_REQ(NULL, &p, (long)der.size);
	assert_non_null(req);
	pub = X509_REQ_get_pubkey(req);
	assert_int_equal(X509_REQ_verify(req, pub), 1);
	exts = X509_REQ_get_extensions(req);
	gens = X509V3_get_d2i(exts, NID_subject_alt_name, NULL, NULL);
	assert_non_null(gens);
	assert_int_equal(sk_GENERAL_NAME_num(gens), 4);
	assert_int_equal(sk_GENERAL_NAME_value(gens, 1)->type, GEN_DNS);
	assert_int_equal(sk_GENERAL_NAME_value(gens, 2)->type, GEN_IPADD);
	assert_int_equal(ASN1_STRING_length(sk_GENERAL_NAME_value(gens, 3)->d.iPAddress), 16);
	GENERAL_NAMES_free(gens);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	EVP_PKEY_free(pub);
	X509_REQ_free(req);
	crypto_key_free(k);
	util_buf_release(&der);
}

static void test_csr(void **state)
{
	crypto_key *k = NULL;
	util_buf der = UTIL_BUF_INIT;

	(void)state;
	csr_roundtrip(CRYPTO_KEY_EC_P256);
	csr_roundtrip(CRYPTO_KEY_RSA2048);
	csr_roundtrip(CRYPTO_KEY_ED25519);
	assert_int_equal(crypto_key_generate(&k, CRYPTO_KEY_EC_P256), 0);
	assert_int_equal(crypto_csr_build(&der, k, NULL, NULL, 0), CERTOPS_EINVALID);
	crypto_key_free(k);
}

/* Builds a certificate with OpenSSL directly, signed by issuer_key. */
static void make_cert(util_buf *pem_out, const crypto_key *subject, EVP_PKEY *issuer_key,
		      const char *issuer_cn, long serial)
{
	X509 *x = X509_new();
	util_buf pub = UTIL_BUF_INIT;
	const unsigned char *p;
	EVP_PKEY *spk;
	X509_NAME *n;
	X509_EXTENSION *ext;
	X509V3_CTX ctx;
	BIO *bio = BIO_new(BIO_s_mem());
	char *data;
	long len;

	assert_int_equal(crypto_key_public_der(&pub, subject), 0);
	p = (const unsigned char *)pub.ptr;
	spk = d2i_PUBKEY(NULL, &p, (long)pub.size);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 90);
	X509_set_pubkey(x, spk);
	n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"leaf.example", -1, -1, 0);
	n = X509_NAME_new();
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)issuer_cn, -1, -1, 0);
	X509_set_issuer_name(x, n);
	X509_NAME_free(n);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name,
				  "DNS:a.example,DNS:b.example,IP:127.0.0.1");
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_authority_key_identifier, "keyid:always");
	if (ext) {
		X509_add_ext(x, ext, -1);
		X509_EXTENSION_free(ext);
	}
	assert_true(X509_sign(x, issuer_key, EVP_sha256()) > 0);
	PEM_write_bio_X509(bio, x);
	len = BIO_get_mem_data(bio, &data);
	util_buf_put(pem_out, data, (size_t)len);
	BIO_free(bio);
	EVP_PKEY_free(spk);
	X509_free(x);
	util_buf_release(&pub);
}

static void test_cert_parse_and_chain(void **state)
{
	crypto_key *leaf = NULL, *other = NULL;
	EVP_PKEY *ca = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	util_buf bundle = UTIL_BUF_INIT, der = UTIL_BUF_INIT, fp = UTIL_BUF_INIT;
	crypto_cert_info info;
	crypto_pem_list list;
	unsigned char md[32];

	(void)state;
	assert_int_equal(crypto_key_generate(&leaf, CRYPTO_KEY_EC_P384), 0);
	assert_int_equal(crypto_key_generate(&other, CRYPTO_KEY_EC_P256), 0);
	make_cert(&bundle, leaf, ca, "Test Intermediate", 0x876543);
	util_buf_puts(&bundle, "junk between blocks\n");
	make_cert(&bundle, other, ca, "Test Root", 2);

	assert_int_equal(crypto_pem_split(&list, bundle.ptr, bundle.size), 0);
	assert_int_equal(list.count, 2);
	assert_int_equal(crypto_cert_parse(&info, list.pems[0], strlen(list.pems[0])), 0);
	assert_int_equal(info.ndns, 2);
	assert_string_equal(info.dns_names[1], "b.example");
	assert_int_equal(info.nip, 1);
	assert_string_equal(info.ip_addrs[0], "127.0.0.1");
	assert_string_equal(info.issuer_cn, "Test Intermediate");
	assert_string_equal(info.subject_cn, "leaf.example");
	assert_string_equal(info.serial_hex, "00876543");
	assert_int_equal(info.key_type, CRYPTO_KEY_EC_P384);
	assert_true(info.not_after - info.not_before == 86400L * 90);
	assert_true(crypto_cert_matches_key(&info, leaf));
	assert_false(crypto_cert_matches_key(&info, other));
	/* fingerprint is SHA-256 of the DER */
	assert_int_equal(crypto_cert_pem_to_der(&der, list.pems[0], strlen(list.pems[0])), 0);
	crypto_sha256(md, der.ptr, der.size);
	assert_memory_equal(md, info.fingerprint, 32);
	crypto_hex_encode(&fp, md, 2, ':');
	assert_int_equal(fp.size, 5);
	crypto_cert_info_release(&info);

	/* DER input parses too; a serial with the top bit set keeps its 00 */
	assert_int_equal(crypto_cert_parse(&info, der.ptr, der.size), 0);
	assert_int_equal(info.serial_len, 4);
	crypto_cert_info_release(&info);
	util_buf_clear(&bundle);
	make_cert(&bundle, leaf, ca, "X", 0x7f);
	assert_int_equal(crypto_cert_parse(&info, bundle.ptr, bundle.size), 0);
	assert_int_equal(info.serial_len, 1);
	assert_string_equal(info.serial_hex, "7f");
	crypto_cert_info_release(&info);

	crypto_pem_list_release(&list);
	assert_int_equal(crypto_pem_split(&list, "nothing", 7), CERTOPS_EINVALID);
	assert_int_equal(crypto_pem_split(&list, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", 60),
			 CERTOPS_EINVALID);
	assert_int_equal(crypto_cert_parse(&info, "xx", 2), CERTOPS_EINVALID);
	EVP_PKEY_free(ca);
	crypto_key_free(leaf);
	crypto_key_free(other);
	util_buf_release(&bundle);
	util_buf_release(&der);
	util_buf_release(&fp);
}

static void test_tlsalpn01_cert(void **state)
{
	crypto_key *k = NULL;
	util_buf pem = UTIL_BUF_INIT;
	unsigned char value[34] = { 0x04, 0x20, 1, 2, 3 };
	BIO *bio;
	X509 *x;
	X509_EXTENSION *ext;
	ASN1_OBJECT *oid = OBJ_txt2obj("1.3.6.1.5.5.7.1.31", 1);
	const ASN1_OCTET_STRING *data;
	crypto_cert_info info;
	int idx;

	(void)state;
	assert_int_equal(crypto_key_generate(&k, CRYPTO_KEY_EC_P256), 0);
	assert_int_equal(crypto_tlsalpn01_cert(&pem, k, "alpn.example", value, sizeof(value)), 0);
	bio = BIO_new_mem_buf(pem.ptr, (int)pem.size);
	x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	assert_non_null(x);
	idx = X509_get_ext_by_OBJ(x, oid, -1);
	assert_true(idx >= 0);
	ext = X509_get_ext(x, idx);
	assert_int_equal(X509_EXTENSION_get_critical(ext), 1);
	data = X509_EXTENSION_get_data(ext);
	assert_int_equal(ASN1_STRING_length(data), 34);
	assert_memory_equal(ASN1_STRING_get0_data(data), value, 34);
	assert_int_equal(crypto_cert_parse(&info, pem.ptr, pem.size), 0);
	assert_int_equal(info.ndns, 1);
	assert_string_equal(info.dns_names[0], "alpn.example");
	assert_true(crypto_cert_matches_key(&info, k));
	crypto_cert_info_release(&info);
	ASN1_OBJECT_free(oid);
	X509_free(x);
	BIO_free(bio);
	crypto_key_free(k);
	util_buf_release(&pem);
}

static void test_hmac(void **state)
{
	util_buf mac = UTIL_BUF_INIT, hex = UTIL_BUF_INIT;

	(void)state;
	/* RFC 4231 test case 2 */
	assert_int_equal(crypto_hmac(&mac, "SHA256", "Jefe", 4,
				     "what do ya want for nothing?", 28), 0);
	crypto_hex_encode(&hex, mac.ptr, mac.size, 0);
	assert_string_equal(hex.ptr, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	assert_int_equal(crypto_hmac(&mac, "MD5", "k", 1, "d", 1), CERTOPS_EINVALID);
	util_buf_release(&mac);
	util_buf_release(&hex);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_b64url),
		cmocka_unit_test(test_key_type_names),
		cmocka_unit_test(test_keys_es256),
		cmocka_unit_test(test_keys_es384),
		cmocka_unit_test(test_keys_rs256),
		cmocka_unit_test(test_keys_eddsa),
		cmocka_unit_test(test_keys_rsa3072),
		cmocka_unit_test(test_rfc8037_ed25519),
		cmocka_unit_test(test_key_save_mode),
		cmocka_unit_test(test_encrypted_key_refused),
		cmocka_unit_test(test_csr),
		cmocka_unit_test(test_cert_parse_and_chain),
		cmocka_unit_test(test_tlsalpn01_cert),
		cmocka_unit_test(test_hmac),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
