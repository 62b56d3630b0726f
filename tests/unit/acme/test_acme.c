/* Unit tests of lib/acme on the RFCs' own examples (no network). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "acme/acme.h"
#include "acme/acme_internal.h"
#include "util/error.h"

/* The Ed25519 key of RFC 8037 Appendix A.1 (thumbprint in A.3). */
static crypto_key *rfc8037_key(void)
{
	static const unsigned char prefix[] = { 0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06,
						0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20 };
	util_buf der = UTIL_BUF_INIT;
	crypto_key *k = NULL;

	util_buf_put(&der, prefix, sizeof(prefix));
	assert_int_equal(crypto_b64url_decode(&der, "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A", 43), 0);
	assert_int_equal(crypto_key_parse(&k, der.ptr, der.size), 0);
	util_buf_release(&der);
	return k;
}

static void test_key_authorization_and_digests(void **state)
{
	crypto_key *k = rfc8037_key();
	util_buf ka = UTIL_BUF_INIT, txt = UTIL_BUF_INIT, ext = UTIL_BUF_INIT;
	const unsigned char digest[] = { 0x94, 0x05, 0x76, 0xf7, 0x57, 0x77, 0xef, 0x6c };

	(void)state;
	/* RFC 8555 §8.1: token "." base64url(JWK thumbprint) */
	assert_int_equal(acme_key_authorization(&ka, k, "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA"), 0);
	assert_string_equal(ka.ptr, "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA."
				    "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
	/* §8.4: the TXT value is base64url(SHA-256(key authorization)) */
	assert_int_equal(acme_dns01_txt_value(&txt, ka.ptr), 0);
	assert_string_equal(txt.ptr, "lAV291d372xyXVEZRY9j2FQ8g1TYpOaJr620CiahePA");
	assert_int_equal(strlen(txt.ptr), 43);
	/* RFC 8737 §3: acmeIdentifier is an OCTET STRING of the same digest */
	assert_int_equal(acme_tlsalpn01_extension_value(&ext, ka.ptr), 0);
	assert_int_equal(ext.size, 34);
	assert_int_equal((unsigned char)ext.ptr[0], 0x04);
	assert_int_equal((unsigned char)ext.ptr[1], 0x20);
	assert_memory_equal(ext.ptr + 2, digest, sizeof(digest));
	crypto_key_free(k);
	util_buf_release(&ka);
	util_buf_release(&txt);
	util_buf_release(&ext);
}

static json_t *decode_part(json_t *jws, const char *member)
{
	util_buf raw = UTIL_BUF_INIT;
	const char *s = json_string_value(json_object_get(jws, member));
	json_t *j;

	assert_non_null(s);
	assert_int_equal(crypto_b64url_decode(&raw, s, strlen(s)), 0);
	j = json_loadb(raw.ptr, raw.size, 0, NULL);
	util_buf_release(&raw);
	return j;
}

/* Verifies an ES256 JWS with OpenSSL directly. */
static int verify_es256(const crypto_key *key, json_t *jws)
{
	util_buf input = UTIL_BUF_INIT, sig = UTIL_BUF_INIT, pem = UTIL_BUF_INIT;
	const char *sig64 = json_string_value(json_object_get(jws, "signature"));
	ECDSA_SIG *es = ECDSA_SIG_new();
	unsigned char *der = NULL;
	int derlen, ok;
	BIO *bio;
	EVP_PKEY *pub;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	util_buf_printf(&input, "%s.%s", json_string_value(json_object_get(jws, "protected")),
			json_string_value(json_object_get(jws, "payload")));
	assert_int_equal(crypto_b64url_decode(&sig, sig64, strlen(sig64)), 0);
	assert_int_equal(sig.size, 64);
	ECDSA_SIG_set0(es, BN_bin2bn((unsigned char *)sig.ptr, 32, NULL),
		       BN_bin2bn((unsigned char *)sig.ptr + 32, 32, NULL));
	derlen = i2d_ECDSA_SIG(es, &der);
	assert_int_equal(crypto_key_public_pem(&pem, key), 0);
	bio = BIO_new_mem_buf(pem.ptr, (int)pem.size);
	pub = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, pub);
	ok = EVP_DigestVerify(ctx, der, (size_t)derlen, (unsigned char *)input.ptr, input.size);
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pub);
	BIO_free(bio);
	OPENSSL_free(der);
	ECDSA_SIG_free(es);
	util_buf_release(&input);
	util_buf_release(&sig);
	util_buf_release(&pem);
	return ok == 1;
}

static void test_jws_kid_and_jwk(void **state)
{
	crypto_key *k = NULL;
	util_buf out = UTIL_BUF_INIT;
	json_t *jws, *prot, *payload;

	(void)state;
	assert_int_equal(crypto_key_generate(&k, CRYPTO_KEY_EC_P256), 0);

	/* §6.2: with an account, "kid" and never "jwk" */
	assert_int_equal(acme__jws(&out, k, "https://ca/acct/1", "n0nce", "https://ca/new-order",
				   "{\"identifiers\":[]}"), 0);
	jws = json_loads(out.ptr, 0, NULL);
	assert_non_null(jws);
	prot = decode_part(jws, "protected");
	assert_string_equal(json_string_value(json_object_get(prot, "alg")), "ES256");
	assert_string_equal(json_string_value(json_object_get(prot, "kid")), "https://ca/acct/1");
	assert_null(json_object_get(prot, "jwk"));
	assert_string_equal(json_string_value(json_object_get(prot, "nonce")), "n0nce");
	assert_string_equal(json_string_value(json_object_get(prot, "url")), "https://ca/new-order");
	payload = decode_part(jws, "payload");
	assert_true(json_is_array(json_object_get(payload, "identifiers")));
	assert_true(verify_es256(k, jws));
	/* tampering with the payload must break the signature */
	json_object_set_new(jws, "payload", json_string("e30"));
	assert_false(verify_es256(k, jws));
	json_decref(prot);
	json_decref(payload);
	json_decref(jws);

	/* newAccount: "jwk", no "kid"; POST-as-GET: empty payload */
	util_buf_clear(&out);
	assert_int_equal(acme__jws(&out, k, NULL, "n2", "https://ca/new-acct", ""), 0);
	jws = json_loads(out.ptr, 0, NULL);
	prot = decode_part(jws, "protected");
	assert_null(json_object_get(prot, "kid"));
	assert_string_equal(json_string_value(json_object_get(json_object_get(prot, "jwk"), "kty")), "EC");
	assert_string_equal(json_string_value(json_object_get(jws, "payload")), "");
	assert_true(verify_es256(k, jws));
	json_decref(prot);
	json_decref(jws);
	crypto_key_free(k);
	util_buf_release(&out);
}

/* RFC 8555 §7.3.4: protected {alg, kid, url} (no nonce), payload = account JWK. */
static void check_eab(const char *alg, const char *digest)
{
	crypto_key *k = NULL;
	acme_eab eab = { "kid-1", "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W", alg };
	util_buf out = UTIL_BUF_INIT, jwk = UTIL_BUF_INIT, input = UTIL_BUF_INIT,
		 mackey = UTIL_BUF_INIT, mac = UTIL_BUF_INIT, mac64 = UTIL_BUF_INIT;
	json_t *jws, *prot, *payload;

	assert_int_equal(crypto_key_generate(&k, CRYPTO_KEY_EC_P256), 0);
	assert_int_equal(acme__eab_jws(&out, &eab, k, "https://ca/new-account"), 0);
	jws = json_loads(out.ptr, 0, NULL);
	prot = decode_part(jws, "protected");
	assert_string_equal(json_string_value(json_object_get(prot, "alg")), alg ? alg : "HS256");
	assert_string_equal(json_string_value(json_object_get(prot, "kid")), "kid-1");
	assert_string_equal(json_string_value(json_object_get(prot, "url")), "https://ca/new-account");
	assert_null(json_object_get(prot, "nonce"));
	payload = decode_part(jws, "payload");
	crypto_key_jwk(&jwk, k);
	{
		json_t *want = json_loads(jwk.ptr, 0, NULL);
		assert_true(json_equal(payload, want));
		json_decref(want);
	}
	util_buf_printf(&input, "%s.%s", json_string_value(json_object_get(jws, "protected")),
			json_string_value(json_object_get(jws, "payload")));
	crypto_b64url_decode(&mackey, eab.hmac_key, strlen(eab.hmac_key));
	assert_int_equal(crypto_hmac(&mac, digest, mackey.ptr, mackey.size, input.ptr, input.size), 0);
	crypto_b64url_encode(&mac64, mac.ptr, mac.size);
	assert_string_equal(json_string_value(json_object_get(jws, "signature")), mac64.ptr);
	json_decref(prot);
	json_decref(payload);
	json_decref(jws);
	crypto_key_free(k);
	util_buf_release(&out); util_buf_release(&jwk); util_buf_release(&input);
	util_buf_release(&mackey); util_buf_release(&mac); util_buf_release(&mac64);
}

static void test_eab(void **state)
{
	crypto_key *k = NULL;
	util_buf out = UTIL_BUF_INIT;
	acme_eab bad = { "kid-1", "AAAA", "HS1" };

	(void)state;
	check_eab(NULL, "SHA256");
	check_eab("HS384", "SHA384");
	check_eab("HS512", "SHA512");
	assert_int_equal(crypto_key_generate(&k, CRYPTO_KEY_EC_P256), 0);
	assert_int_equal(acme__eab_jws(&out, &bad, k, "https://ca/new-account"), CERTOPS_EINVALID);
	bad.alg = NULL;
	bad.hmac_key = "not base64url!";
	assert_int_equal(acme__eab_jws(&out, &bad, k, "https://ca/new-account"), CERTOPS_EINVALID);
	/* the MAC key is a registered secret: it never reaches a message */
	util_error_set(CERTOPS_ERROR, "key zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W");
	assert_null(strstr(util_error_message(), "zWNDZM6eQGHW"));
	crypto_key_free(k);
	util_buf_release(&out);
}

/* RFC 8555 §6.7.1 */
static const char rfc_problem[] =
	"{\"type\":\"urn:ietf:params:acme:error:malformed\","
	"\"detail\":\"Some of the identifiers requested were rejected\","
	"\"subproblems\":[{\"type\":\"urn:ietf:params:acme:error:malformed\","
	"\"detail\":\"Invalid underscore in DNS name \\\"_example.org\\\"\","
	"\"identifier\":{\"type\":\"dns\",\"value\":\"_example.org\"}},"
	"{\"type\":\"urn:ietf:params:acme:error:rejectedIdentifier\","
	"\"detail\":\"This CA will not issue for \\\"example.net\\\"\","
	"\"identifier\":{\"type\":\"dns\",\"value\":\"example.net\"}}]}";

static int parse_str(acme_problem *q, const char *json, long status)
{
	return acme_problem_parse(q, json, strlen(json), status, NULL);
}

static void test_problem_documents(void **state)
{
	acme_problem *p = calloc(1, sizeof(*p));
	acme_problem q;
	int code;

	(void)state;
	assert_int_equal(acme_problem_parse(p, rfc_problem, strlen(rfc_problem), 403,
					    "https://ca/new-order"), 0);
	assert_true(acme_problem_is(p, "malformed"));
	assert_false(acme_problem_is(p, "badNonce"));
	assert_int_equal(p->status, 403);
	assert_int_equal(p->nsubproblems, 2);
	assert_string_equal(p->subproblems[1].id_value, "example.net");
	assert_string_equal(p->subproblems[1].type, "urn:ietf:params:acme:error:rejectedIdentifier");
	assert_int_equal(p->retry_after, -1);
	/* recorded as the thread's problem, message names the identifiers */
	code = acme__fail_problem(p, "POST");
	assert_int_equal(code, CERTOPS_EINVALID);
	assert_ptr_equal(acme_problem_last(), p);
	assert_non_null(strstr(util_error_message(), "'example.net': rejectedIdentifier"));
	assert_non_null(strstr(util_error_message(), "https://ca/new-order"));
	acme_problem_clear();
	assert_null(acme_problem_last());

	assert_int_equal(parse_str(&q, "{\"type\":\"urn:ietf:params:acme:error:rateLimited\","
					    "\"detail\":\"too many\"}", 429), 0);
	assert_int_equal(acme_problem_code(&q), CERTOPS_ERATELIMIT);
	acme_problem_release(&q);
	/* a 429 without a typed body is still a rate limit */
	assert_int_equal(parse_str(&q, "{}", 429), 0);
	assert_string_equal(q.type, "about:blank");
	assert_int_equal(acme_problem_code(&q), CERTOPS_ERATELIMIT);
	acme_problem_release(&q);
	assert_int_equal(parse_str(&q, "{\"type\":\"urn:ietf:params:acme:error:accountDoesNotExist\"}", 400), 0);
	assert_int_equal(acme_problem_code(&q), CERTOPS_ENOTFOUND);
	acme_problem_release(&q);
	assert_int_equal(parse_str(&q, "{\"type\":\"urn:ietf:params:acme:error:externalAccountRequired\"}", 403), 0);
	assert_int_equal(acme_problem_code(&q), CERTOPS_EAUTH);
	acme_problem_release(&q);
	assert_int_equal(parse_str(&q, "<html>", 500), CERTOPS_EINVALID);
}

/* RFC 8555 §7.1.1 with RFC 8555 meta and the ACME profiles extension. */
static void test_directory_meta(void **state)
{
	const char *json =
		"{\"newNonce\":\"https://example.com/acme/new-nonce\","
		"\"newAccount\":\"https://example.com/acme/new-account\","
		"\"newOrder\":\"https://example.com/acme/new-order\","
		"\"newAuthz\":\"https://example.com/acme/new-authz\","
		"\"revokeCert\":\"https://example.com/acme/revoke-cert\","
		"\"keyChange\":\"https://example.com/acme/key-change\","
		"\"renewalInfo\":\"https://example.com/acme/renewal-info\","
		"\"meta\":{\"termsOfService\":\"https://example.com/acme/terms/2017-5-30\","
		"\"website\":\"https://www.example.com/\","
		"\"caaIdentities\":[\"example.com\"],"
		"\"externalAccountRequired\":false,"
		"\"profiles\":{\"classic\":\"The same profile you're accustomed to\","
		"\"tlsserver\":\"https://example.com/docs/tlsserver\"}}}";
	acme_directory d;
	size_t i;
	int seen = 0;

	(void)state;
	assert_int_equal(acme_directory_parse(&d, json, strlen(json)), 0);
	assert_string_equal(d.new_order, "https://example.com/acme/new-order");
	assert_string_equal(d.renewal_info, "https://example.com/acme/renewal-info");
	assert_string_equal(d.terms_of_service, "https://example.com/acme/terms/2017-5-30");
	assert_int_equal(d.ncaa_identities, 1);
	assert_string_equal(d.caa_identities[0], "example.com");
	assert_int_equal(d.external_account_required, 0);
	assert_int_equal(d.nprofiles, 2);
	for (i = 0; i < d.nprofiles; i++)
		if (!strcmp(d.profile_names[i], "tlsserver")) {
			assert_string_equal(d.profile_descriptions[i], "https://example.com/docs/tlsserver");
			seen = 1;
		}
	assert_true(seen);
	acme_directory_release(&d);
	assert_int_equal(acme_directory_parse(&d, "{\"newNonce\":\"x\"}", 15), CERTOPS_EPEER);
	assert_int_equal(acme_directory_parse(&d, "[", 1), CERTOPS_EPEER);
}

/* RFC 9773 §4.1: the example certificate's AKI and serial. */
static void test_ari_cert_id(void **state)
{
	const unsigned char aki[] = { 0x69, 0x88, 0x5B, 0x6B, 0x87, 0x46, 0x40, 0x41, 0xE1, 0xB3,
				      0x7B, 0x84, 0x7B, 0xA0, 0xAE, 0x2C, 0xDE, 0x01, 0xC8, 0xD4 };
	const unsigned char serial[] = { 0x00, 0x87, 0x65, 0x43, 0x21 };
	util_buf id = UTIL_BUF_INIT;

	(void)state;
	assert_int_equal(acme_ari_cert_id(&id, aki, sizeof(aki), serial, sizeof(serial)), 0);
	assert_string_equal(id.ptr, "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE");
	assert_int_equal(acme_ari_cert_id(&id, NULL, 0, serial, sizeof(serial)), CERTOPS_EINVALID);
	util_buf_release(&id);
}

/* RFC 9773 §4.2 */
static void test_ari_window(void **state)
{
	const char *json = "{\"suggestedWindow\":{\"start\":\"2025-01-02T04:00:00Z\","
			   "\"end\":\"2025-01-03T04:00:00Z\"},"
			   "\"explanationURL\":\"https://acme.example.com/docs/ari\"}";
	acme_renewal_info ri;
	time_t start = 1735790400; /* 2025-01-02T04:00:00Z */
	time_t t;

	(void)state;
	assert_int_equal(acme_ari_parse(&ri, json, strlen(json)), 0);
	assert_int_equal(ri.start, start);
	assert_int_equal(ri.end, start + 86400);
	assert_string_equal(ri.explanation_url, "https://acme.example.com/docs/ari");
	assert_int_equal(acme_ari_pick_time(&ri, 0), start);
	t = acme_ari_pick_time(&ri, UINT64_MAX);
	assert_true(t >= ri.start && t < ri.end);
	assert_int_equal(acme_ari_pick_time(&ri, 3600), start + 3600);
	acme_renewal_info_release(&ri);
	json = "{\"suggestedWindow\":{\"start\":\"2025-01-03T04:00:00Z\","
	       "\"end\":\"2025-01-02T04:00:00Z\"}}";
	assert_int_equal(acme_ari_parse(&ri, json, strlen(json)), CERTOPS_EPEER);
	assert_int_equal(acme_ari_parse(&ri, "{}", 2), CERTOPS_EPEER);
}

static void test_times(void **state)
{
	time_t t;

	(void)state;
	assert_int_equal(acme_time_parse(&t, "2025-01-02T04:00:00Z"), 0);
	assert_int_equal(t, 1735790400);
	assert_int_equal(acme_time_parse(&t, "2025-01-02T05:30:00.123456+01:30"), 0);
	assert_int_equal(t, 1735790400);
	assert_int_equal(acme_time_parse(&t, "2025-01-02T04:00:00"), CERTOPS_EINVALID);
	assert_int_equal(acme_time_parse(&t, "2025-13-02T04:00:00Z"), CERTOPS_EINVALID);
}

static void test_retry_after(void **state)
{
	int64_t s = -1;
	time_t date = 1445412480; /* Wed, 21 Oct 2015 07:28:00 GMT */

	(void)state;
	assert_int_equal(acme_retry_after_parse(&s, "120", 0), 0);
	assert_int_equal(s, 120);
	assert_int_equal(acme_retry_after_parse(&s, "Wed, 21 Oct 2015 07:28:00 GMT", date - 60), 0);
	assert_int_equal(s, 60);
	assert_int_equal(acme_retry_after_parse(&s, "Wed, 21 Oct 2015 07:28:00 GMT", date + 60), 0);
	assert_int_equal(s, 0);
	assert_int_equal(acme_retry_after_parse(&s, "soon", 0), CERTOPS_EINVALID);
	assert_int_equal(acme_retry_after_parse(&s, "12x", 0), CERTOPS_EINVALID);
	assert_int_equal(acme_retry_after_parse(&s, "99999999999999999999", 0), CERTOPS_EINVALID);
}

static void test_backoff(void **state)
{
	unsigned a, prev_max = 0;

	(void)state;
	assert_int_equal(acme_backoff_ms(0, 250, 8000, 0), 125);
	assert_int_equal(acme_backoff_ms(0, 250, 8000, UINT32_MAX), 250);
	assert_int_equal(acme_backoff_ms(2, 250, 8000, UINT32_MAX), 1000);
	for (a = 0; a < 40; a++) {
		unsigned hi = acme_backoff_ms(a, 250, 8000, UINT32_MAX);
		unsigned lo = acme_backoff_ms(a, 250, 8000, 0);
		assert_true(hi <= 8000);
		assert_true(lo >= hi / 2);
		assert_true(hi >= prev_max); /* never shrinks */
		prev_max = hi;
	}
	assert_int_equal(prev_max, 8000);
	/* polling: soon first, Retry-After wins, capped by the deadline */
	assert_true(acme__poll_delay_ms(0, -1, time(NULL) + 100) <= 60);
	assert_int_equal(acme__poll_delay_ms(0, 3, time(NULL) + 100), 3000);
	assert_true(acme__poll_delay_ms(0, 30, time(NULL) + 2) <= 2000);
}

static void test_name_is_ip(void **state)
{
	(void)state;
	assert_true(acme_name_is_ip("127.0.0.1"));
	assert_true(acme_name_is_ip("2001:db8::1"));
	assert_false(acme_name_is_ip("example.com"));
	assert_false(acme_name_is_ip("*.example.com"));
	assert_false(acme_name_is_ip("1.2.3"));
}

/* A self-made certificate with the given issuer CN, as PEM. */
static char *cert_pem(EVP_PKEY *key, const char *issuer_cn)
{
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();
	BIO *bio = BIO_new(BIO_s_mem());
	char *data, *pem;
	long len;

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 42);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, key);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)issuer_cn, -1, -1, 0);
	X509_set_issuer_name(x, n);
	X509_set_subject_name(x, n);
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	PEM_write_bio_X509(bio, x);
	len = BIO_get_mem_data(bio, &data);
	pem = calloc(1, (size_t)len + 1);
	memcpy(pem, data, (size_t)len);
	BIO_free(bio);
	X509_NAME_free(n);
	X509_free(x);
	return pem;
}

static void test_chain_select(void **state)
{
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	char *chains[3];
	acme_chains ch = { chains, 3 };
	crypto_cert_info info;
	util_buf fp = UTIL_BUF_INIT;

	(void)state;
	chains[0] = cert_pem(key, "Root A");
	chains[1] = cert_pem(key, "Root B");
	chains[2] = cert_pem(key, "Root C");
	assert_int_equal(acme_chain_select(&ch, "Root B"), 1);
	assert_int_equal(acme_chain_select(&ch, "Root C"), 2);
	assert_int_equal(acme_chain_select(&ch, "Root"), 0);    /* exact names only */
	assert_int_equal(acme_chain_select(&ch, "Nobody"), 0);  /* default chain */
	assert_int_equal(acme_chain_select(&ch, NULL), 0);
	/* by fingerprint, in any case */
	assert_int_equal(crypto_cert_parse(&info, chains[2], strlen(chains[2])), 0);
	util_buf_puts(&fp, "SHA256:");
	crypto_hex_encode(&fp, info.fingerprint, 32, 0);
	assert_int_equal(acme_chain_select(&ch, fp.ptr), 2);
	crypto_cert_info_release(&info);
	util_buf_release(&fp);
	free(chains[0]);
	free(chains[1]);
	free(chains[2]);
	EVP_PKEY_free(key);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_authorization_and_digests),
		cmocka_unit_test(test_jws_kid_and_jwk),
		cmocka_unit_test(test_eab),
		cmocka_unit_test(test_problem_documents),
		cmocka_unit_test(test_directory_meta),
		cmocka_unit_test(test_ari_cert_id),
		cmocka_unit_test(test_ari_window),
		cmocka_unit_test(test_times),
		cmocka_unit_test(test_retry_after),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_name_is_ip),
		cmocka_unit_test(test_chain_select),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
