/*
 * acme_smoke: drives lib/acme against a CA (Pebble in tests) end to end:
 * account, order(s), http-01, finalize, download, and optionally key
 * rollover, revocation and deactivation.  Used by
 * tests/integration/test_acme.sh; prints "key=value" facts on stdout for
 * the test to assert on and, on failure, "problem=<type>" and the error.
 */
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "acme/acme.h"
#include "challenge/challenge.h"
#include "crypto/crypto.h"
#include "util/error.h"
#include "util/fs.h"

#define MAX_NAMES 128

static struct {
	const char *directory, *ca_bundle, *eab_kid, *eab_hmac, *out, *webroot;
	const char *preferred, *revoke, *profile, *challtest, *contact, *alpn_dir, *listen;
	const char *names[MAX_NAMES];
	size_t nnames;
	crypto_key_type key_type, account_key_type;
	int orders, rollover, deactivate, find, timeout;
} opt = { .key_type = CRYPTO_KEY_EC_P256, .account_key_type = CRYPTO_KEY_EC_P256,
	  .orders = 1, .timeout = 60, .out = "." };

static acme_client *client;

static int fail(const char *what)
{
	const acme_problem *p = acme_problem_last();

	fprintf(stderr, "acme_smoke: %s: %s\n", what, util_error_message());
	printf("error_code=%s\n", util_error_code_name(util_error_last() ? util_error_last()->code : -1));
	if (p) {
		printf("problem=%s\n", p->type);
		printf("problem_status=%ld\n", p->status);
		printf("problem_retry_after=%lld\n", (long long)p->retry_after);
		for (size_t i = 0; i < p->nsubproblems; i++)
			printf("subproblem=%s %s\n", p->subproblems[i].type,
			       p->subproblems[i].id_value ? p->subproblems[i].id_value : "");
	}
	return -1;
}

/* Serves http-01 by writing the key authorization under the webroot. */
static int write_challenge(const char *token, const char *ka)
{
	util_buf dir = UTIL_BUF_INIT, path = UTIL_BUF_INIT;
	int error;

	util_fs_join(&dir, opt.webroot, ".well-known/acme-challenge");
	util_fs_join(&path, dir.ptr, token);
	if ((error = util_fs_mkdir_p(dir.ptr, 0755)) == 0)
		error = util_fs_write_atomic(path.ptr, ka, strlen(ka), 0644);
	util_buf_release(&dir);
	util_buf_release(&path);
	return error;
}

/* Serves dns-01 through pebble-challtestsrv's management API (/set-txt). */
static int set_txt(const char *domain, const char *value)
{
	util_buf url = UTIL_BUF_INIT, body = UTIL_BUF_INIT, host = UTIL_BUF_INIT;
	CURL *h = curl_easy_init();
	long status = 0;
	int rc = -1;

	util_buf_printf(&url, "%s/set-txt", opt.challtest);
	util_buf_printf(&host, "_acme-challenge.%s.", domain);
	util_buf_puts(&body, "{\"host\":");
	util_buf_put_json_string(&body, host.ptr);
	util_buf_puts(&body, ",\"value\":");
	util_buf_put_json_string(&body, value);
	util_buf_putc(&body, '}');
	if (h && !util_buf_failed(&body)) {
		curl_easy_setopt(h, CURLOPT_URL, url.ptr);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.ptr);
		if (curl_easy_perform(h) == CURLE_OK &&
		    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK && status == 200)
			rc = 0;
	}
	if (rc < 0)
		util_error_set(CERTOPS_ERROR, "setting the txt record for '%s' failed", domain);
	if (h)
		curl_easy_cleanup(h);
	util_buf_release(&url);
	util_buf_release(&body);
	util_buf_release(&host);
	return rc;
}

static int http01_present(void *ctx, const acme_authz *a, const acme_challenge *ch,
			  const char *ka)
{
	(void)ctx;
	(void)a;
	/* with PEBBLE_VA_ALWAYS_VALID there is nothing to serve */
	return opt.webroot ? write_challenge(ch->token, ka) : 0;
}

static void http01_cleanup(void *ctx, const acme_authz *a, const acme_challenge *ch,
			   const char *ka)
{
	util_buf dir = UTIL_BUF_INIT, path = UTIL_BUF_INIT;

	(void)ctx;
	(void)a;
	(void)ka;
	if (!opt.webroot)
		return;
	util_fs_join(&dir, opt.webroot, ".well-known/acme-challenge");
	util_fs_join(&path, dir.ptr, ch->token);
	unlink(path.ptr);
	util_buf_release(&dir);
	util_buf_release(&path);
}

static int dns01_present(void *ctx, const acme_authz *a, const acme_challenge *ch,
			 const char *ka)
{
	util_buf txt = UTIL_BUF_INIT;
	int error;

	(void)ctx;
	(void)ch;
	if ((error = acme_dns01_txt_value(&txt, ka)) == 0)
		error = set_txt(a->identifier.value, txt.ptr);
	util_buf_release(&txt);
	return error;
}

/* tls-alpn-01: writes <dir>/<name>.crt/.key for tlsalpn_responder.py */
static int alpn_present(void *ctx, const acme_authz *a, const acme_challenge *ch,
			const char *ka)
{
	crypto_key *k = NULL;
	util_buf ext = UTIL_BUF_INIT, pem = UTIL_BUF_INIT, path = UTIL_BUF_INIT;
	int error;

	(void)ctx;
	(void)ch;
	if ((error = crypto_key_generate(&k, CRYPTO_KEY_EC_P256)) < 0 ||
	    (error = acme_tlsalpn01_extension_value(&ext, ka)) < 0 ||
	    (error = crypto_tlsalpn01_cert(&pem, k, a->identifier.value, ext.ptr, ext.size)) < 0)
		goto done;
	util_buf_printf(&path, "%s/%s.key", opt.alpn_dir, a->identifier.value);
	if ((error = crypto_key_save(k, path.ptr)) < 0)
		goto done;
	util_buf_clear(&path);
	util_buf_printf(&path, "%s/%s.crt", opt.alpn_dir, a->identifier.value);
	error = util_fs_write_atomic(path.ptr, pem.ptr, pem.size, 0644);
done:
	crypto_key_free(k);
	util_buf_release(&ext);
	util_buf_release(&pem);
	util_buf_release(&path);
	return error;
}

/* lib/challenge solvers plugged into the acme flow (docs/challenges.md) */
static int chsolver_present(void *ctx, const acme_authz *a, const acme_challenge *ch,
			    const char *ka)
{
	return challenge_present(ctx, ch->token, ka, a->identifier.value);
}

static void chsolver_cleanup(void *ctx, const acme_authz *a, const acme_challenge *ch,
			     const char *ka)
{
	if (challenge_cleanup(ctx, ch->token, ka, a->identifier.value) < 0)
		fprintf(stderr, "acme_smoke: cleanup: %s\n", util_error_message());
}

static acme_solver listen_solver = { "http-01", chsolver_present, chsolver_cleanup, NULL };
static const acme_solver alpn_solver = { "tls-alpn-01", alpn_present, NULL, NULL };
static const acme_solver http01_solver = { "http-01", http01_present, http01_cleanup, NULL };
static const acme_solver dns01_solver = { "dns-01", dns01_present, NULL, NULL };

static int issue_one(int idx)
{
	acme_order o;
	acme_order_opts oo = { opt.names, opt.nnames, opt.profile, NULL };
	crypto_key *key = NULL;
	util_buf path = UTIL_BUF_INIT;
	acme_chains chains = { 0 };
	time_t deadline = time(NULL) + opt.timeout;
	size_t sel;
	int rc = -1;
	char name[64];

	memset(&o, 0, sizeof(o));
	if (crypto_key_generate(&key, opt.key_type) < 0) {
		fail("generating the certificate key");
		goto done;
	}
	if (acme_issue(&chains, &o, client, &oo, key,
		       opt.challtest ? &dns01_solver : opt.alpn_dir ? &alpn_solver
		       : opt.listen ? &listen_solver : &http01_solver,
		       1, deadline) < 0) {
		fail("issuing");
		goto done;
	}
	sel = acme_chain_select(&chains, opt.preferred);
	snprintf(name, sizeof(name), idx ? "cert-%d.pem" : "cert.pem", idx);
	util_fs_join(&path, opt.out, name);
	if (util_fs_write_atomic(path.ptr, chains.chains[sel], strlen(chains.chains[sel]), 0644) < 0) {
		fail("writing the chain");
		goto done;
	}
	util_buf_clear(&path);
	snprintf(name, sizeof(name), idx ? "key-%d.pem" : "key.pem", idx);
	util_fs_join(&path, opt.out, name);
	if (crypto_key_save(key, path.ptr) < 0) {
		fail("writing the key");
		goto done;
	}
	if (idx == 0) {
		util_buf certid = UTIL_BUF_INIT;
		acme_renewal_info ri;
		int e;

		printf("chains=%zu\nselected_chain=%zu\n", chains.count, sel);
		if (acme_ari_cert_id_from_cert(&certid, chains.chains[0], strlen(chains.chains[0])) < 0) {
			util_buf_release(&certid);
			fail("ari certID");
			goto done;
		}
		printf("ari_cert_id=%s\n", certid.ptr);
		e = acme_ari_fetch(&ri, client, certid.ptr);
		if (e == 0)
			printf("ari_window=%lld %lld\n", (long long)ri.start, (long long)ri.end);
		else
			printf("ari=%s\n", e == CERTOPS_ENOTFOUND ? "unsupported" : "error");
		acme_renewal_info_release(&ri);
		util_buf_release(&certid);
		for (size_t i = 0; i < chains.count; i++) {
			util_buf p2 = UTIL_BUF_INIT;
			snprintf(name, sizeof(name), "chain-%zu.pem", i);
			util_fs_join(&p2, opt.out, name);
			util_fs_write_atomic(p2.ptr, chains.chains[i], strlen(chains.chains[i]), 0644);
			util_buf_release(&p2);
		}
		if (opt.revoke) {
			util_buf der = UTIL_BUF_INIT;
			int by_cert = !strcmp(opt.revoke, "certkey");
			if (crypto_cert_pem_to_der(&der, chains.chains[0], strlen(chains.chains[0])) < 0 ||
			    acme_revoke(client, der.ptr, der.size, 4, by_cert ? key : NULL) < 0) {
				util_buf_release(&der);
				fail("revoke");
				goto done;
			}
			printf("revoked=%s\n", opt.revoke);
			util_buf_release(&der);
		}
	}
	rc = 0;
done:
	acme_chains_release(&chains);
	acme_order_release(&o);
	crypto_key_free(key);
	util_buf_release(&path);
	return rc;
}

static void *order_thread(void *arg)
{
	int idx = (int)(intptr_t)arg;
	int rc = issue_one(idx);

	/* util_error's record is a plain thread-local: release it before the
	 * thread ends (the acme problem is freed by its key destructor) */
	util_error_clear();
	return (void *)(intptr_t)rc;
}

static int parse_args(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "directory", 1, 0, 'd' }, { "ca-bundle", 1, 0, 'c' },
		{ "eab-kid", 1, 0, 'K' },   { "eab-hmac", 1, 0, 'H' },
		{ "name", 1, 0, 'n' },      { "out", 1, 0, 'o' },
		{ "key-type", 1, 0, 'k' },  { "account-key-type", 1, 0, 'a' },
		{ "orders", 1, 0, 'N' },    { "webroot", 1, 0, 'w' },
		{ "preferred-chain", 1, 0, 'p' }, { "revoke", 1, 0, 'r' },
		{ "rollover", 0, 0, 'R' },  { "deactivate", 0, 0, 'D' },
		{ "timeout", 1, 0, 't' },   { "profile", 1, 0, 'P' },
		{ "find", 0, 0, 'F' },      { "dns01-challtest", 1, 0, 'T' },
		{ "update-contact", 1, 0, 'U' }, { "tlsalpn-dir", 1, 0, 'A' },
		{ "listen", 1, 0, 'L' },
		{ 0, 0, 0, 0 }
	};
	int c;
	char *end;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'd': opt.directory = optarg; break;
		case 'c': opt.ca_bundle = optarg; break;
		case 'K': opt.eab_kid = optarg; break;
		case 'H': opt.eab_hmac = optarg; break;
		case 'o': opt.out = optarg; break;
		case 'w': opt.webroot = optarg; break;
		case 'p': opt.preferred = optarg; break;
		case 'r': opt.revoke = optarg; break;
		case 'P': opt.profile = optarg; break;
		case 'R': opt.rollover = 1; break;
		case 'D': opt.deactivate = 1; break;
		case 'F': opt.find = 1; break;
		case 'T': opt.challtest = optarg; break;
		case 'U': opt.contact = optarg; break;
		case 'A': opt.alpn_dir = optarg; break;
		case 'L': opt.listen = optarg; break;
		case 'n':
			if (opt.nnames == MAX_NAMES)
				return -1;
			opt.names[opt.nnames++] = optarg;
			break;
		case 'k':
			if (crypto_key_type_parse(&opt.key_type, optarg) < 0)
				return -1;
			break;
		case 'a':
			if (crypto_key_type_parse(&opt.account_key_type, optarg) < 0)
				return -1;
			break;
		case 'N':
			opt.orders = (int)strtol(optarg, &end, 10);
			if (*end || opt.orders < 1 || opt.orders > 256)
				return -1;
			break;
		case 't':
			opt.timeout = (int)strtol(optarg, &end, 10);
			if (*end || opt.timeout < 1)
				return -1;
			break;
		default:
			return -1;
		}
	}
	return opt.directory && opt.nnames ? 0 : -1;
}

int main(int argc, char **argv)
{
	acme_client_opts co = { 0 };
	acme_account acct;
	acme_eab eab = { 0 };
	acme_stats st;
	crypto_key *akey = NULL, *newkey = NULL;
	pthread_t *threads = NULL;
	int rc = 1, i, failed = 0;
	const char *contacts[] = { "mailto:smoke@example.com" };

	if (parse_args(argc, argv) < 0) {
		fprintf(stderr, "usage: acme_smoke --directory URL [--ca-bundle PEM] --name N... "
				"[--out DIR] [--key-type T] [--account-key-type T] [--eab-kid K --eab-hmac H] "
				"[--orders N] [--webroot DIR] [--preferred-chain CN] "
				"[--revoke account|certkey] [--rollover] [--deactivate] [--find] "
				"[--profile P] [--timeout S] [--dns01-challtest URL] [--update-contact URL] [--tlsalpn-dir DIR] [--listen ADDR:PORT]\n");
		return 64;
	}
	memset(&acct, 0, sizeof(acct));
	if (opt.listen) {
		challenge_solver *ls = NULL;
		if (challenge_http01_listen_new(&ls, opt.listen) < 0) {
			fail("starting the http-01 responder");
			return 1;
		}
		listen_solver.ctx = ls;
	}
	co.directory_url = opt.directory;
	co.ca_bundle = opt.ca_bundle;
	if (acme_client_new(&client, &co) < 0) {
		fail("connecting");
		challenge_solver_free(listen_solver.ctx);
		acme_problem_clear();
		return 1;
	}
	printf("eab_required=%d\n", acme_client_directory(client)->external_account_required);
	if (crypto_key_generate(&akey, opt.account_key_type) < 0) {
		fail("generating the account key");
		goto done;
	}
	eab.kid = opt.eab_kid;
	eab.hmac_key = opt.eab_hmac;
	if (acme_account_new(&acct, client, akey, contacts, 1, 1, opt.eab_kid ? &eab : NULL) < 0) {
		fail("creating the account");
		goto done;
	}
	printf("account=%s\n", acct.url);
	if (opt.find) {
		acme_account found;
		if (acme_account_find(&found, client, akey) < 0) {
			fail("finding the account");
			goto done;
		}
		printf("found=%s\n", found.url);
		acme_account_release(&found);
		/* a key with no account: onlyReturnExisting gives ENOTFOUND */
		{
			crypto_key *stranger = NULL;
			int e;
			if (crypto_key_generate(&stranger, CRYPTO_KEY_EC_P256) < 0) {
				fail("generating a key");
				goto done;
			}
			e = acme_account_find(&found, client, stranger);
			printf("find_unknown=%s\n", util_error_code_name(e));
			crypto_key_free(stranger);
			if (e == 0) {
				acme_account_release(&found);
				goto done;
			}
		}
	}
	if (opt.contact) {
		acme_account upd;
		const char *c1[] = { opt.contact };
		if (acme_account_update(&upd, client, c1, 1) < 0) {
			fail("updating the contacts");
			goto done;
		}
		printf("contacts=%s\n", upd.ncontacts ? upd.contacts[0] : "");
		acme_account_release(&upd);
	}
	if (opt.rollover) {
		if (crypto_key_generate(&newkey, CRYPTO_KEY_EC_P384) < 0 ||
		    acme_account_key_change(client, newkey) < 0) {
			fail("key rollover");
			goto done;
		}
		printf("rollover=ok\n");
		/* the old key no longer names the account */
		{
			acme_account old;
			int e = acme_account_find(&old, client, akey);
			printf("old_key_lookup=%s\n", util_error_code_name(e));
			if (e == 0) {
				acme_account_release(&old);
				goto done;
			}
		}
	}
	if (opt.orders == 1) {
		if (issue_one(0) < 0)
			goto done;
	} else {
		if (!(threads = calloc((size_t)opt.orders, sizeof(*threads))))
			goto done;
		for (i = 0; i < opt.orders; i++)
			if (pthread_create(&threads[i], NULL, order_thread, (void *)(intptr_t)(i + 1))) {
				fprintf(stderr, "acme_smoke: cannot start thread %d\n", i);
				opt.orders = i;
				failed++;
				break;
			}
		for (i = 0; i < opt.orders; i++) {
			void *res;
			pthread_join(threads[i], &res);
			if (res)
				failed++;
		}
		printf("orders=%d failed=%d\n", opt.orders, failed);
		if (failed)
			goto done;
	}
	if (opt.deactivate) {
		if (acme_account_deactivate(client) < 0) {
			fail("deactivating");
			goto done;
		}
		printf("deactivated=ok\n");
		/* the CA must now refuse the account */
		{
			acme_account after;
			const char *c1[] = { "mailto:after@example.com" };
			int e = acme_account_update(&after, client, c1, 1);
			printf("after_deactivation=%s\n", e == 0 ? "accepted"
			       : acme_problem_last() ? acme_problem_last()->type : util_error_code_name(e));
			if (e == 0) {
				acme_account_release(&after);
				goto done;
			}
		}
	}
	rc = 0;
done:
	acme_client_stats(client, &st);
	printf("requests=%lu\nbadnonce_retries=%lu\nnetwork_retries=%lu\nconnections=%lu\n",
	       st.requests, st.badnonce_retries, st.network_retries, st.connections);
	free(threads);
	acme_account_release(&acct);
	acme_client_free(client);
	challenge_solver_free(listen_solver.ctx);
	acme_problem_clear();
	crypto_key_free(akey);
	crypto_key_free(newkey);
	return rc;
}
