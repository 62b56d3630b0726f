/*
 * vault_smoke: drives lib/target/vault_kv for the integration tests.
 *
 *   vault_smoke --address URL [--ca-bundle PEM] [--namespace NS]
 *               [--token-file F] [--approle ROLE:SECRET] COMMAND ARGS
 *
 *   check                             token lookup-self
 *   put MOUNT PATH CERT KEY [CHAIN]   upload a certificate (check-and-set)
 *   read MOUNT PATH                   print the current version's fields
 *                                     (the private key's length only)
 *   observe MOUNT PATH FP KNOWN_VER   in sync / missing / changed
 *
 * Prints key=value lines; on failure "code=<name>" and the message on
 * stderr, exit 1.  The token is read from a file, as certops reads a
 * {file: ...} secret, so it never shows in a process list.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/crypto.h"
#include "target/vault_kv.h"
#include "util/error.h"
#include "util/fs.h"

static int fail(void)
{
	const util_error *e = util_error_last();

	printf("code=%s\n", util_error_code_name(e ? e->code : CERTOPS_ERROR));
	fprintf(stderr, "vault_smoke: %s\n", util_error_message());
	return 1;
}

static int put(target_vault *v, int argc, char **argv)
{
	util_buf cert = UTIL_BUF_INIT, key = UTIL_BUF_INIT, chain = UTIL_BUF_INIT,
		 full = UTIL_BUF_INIT, fp = UTIL_BUF_INIT;
	crypto_cert_info info;
	target_vault_cert c = { 0 };
	char not_after[32];
	struct tm tm;
	int64_t version = 0;
	int rc = 1;

	memset(&info, 0, sizeof(info));
	if (argc < 4)
		return 64;
	if (util_fs_read_file(&cert, argv[2], 0) < 0 || util_fs_read_file(&key, argv[3], 0) < 0 ||
	    (argc > 4 && util_fs_read_file(&chain, argv[4], 0) < 0) ||
	    crypto_cert_parse(&info, cert.ptr, cert.size) < 0 ||
	    crypto_hex_encode(&fp, info.fingerprint, 32, 0) < 0) {
		rc = fail();
		goto done;
	}
	gmtime_r(&info.not_after, &tm);
	strftime(not_after, sizeof(not_after), "%Y-%m-%dT%H:%M:%SZ", &tm);
	util_buf_put(&full, cert.ptr, cert.size);
	util_buf_put(&full, chain.ptr, chain.size);
	c.certificate = cert.ptr;
	c.chain = chain.size ? chain.ptr : NULL;
	c.fullchain = full.ptr;
	c.private_key = key.ptr;
	c.not_after = not_after;
	c.fingerprint = fp.ptr;
	if (target_vault_put_cert(&version, v, argv[0], argv[1], NULL, &c) < 0) {
		rc = fail();
		goto done;
	}
	printf("version=%lld\nfingerprint=%s\n", (long long)version, fp.ptr);
	rc = 0;
done:
	crypto_cert_info_release(&info);
	util_buf_release(&cert);
	util_buf_release(&key);
	util_buf_release(&chain);
	util_buf_release(&full);
	util_buf_release(&fp);
	return rc;
}

static int read_cmd(target_vault *v, char **argv)
{
	target_vault_secret s;
	size_t i;

	if (target_vault_read(&s, v, argv[0], argv[1]) < 0)
		return fail();
	printf("version=%lld\n", (long long)s.version);
	for (i = 0; i < s.count; i++) {
		if (!strcmp(s.fields[i].key, "private_key"))
			printf("field.private_key.length=%zu\n", strlen(s.fields[i].value));
		else if (!strchr(s.fields[i].value, '\n'))
			printf("field.%s=%s\n", s.fields[i].key, s.fields[i].value);
		else
			printf("field.%s.length=%zu\n", s.fields[i].key, strlen(s.fields[i].value));
	}
	target_vault_secret_release(&s);
	return 0;
}

int main(int argc, char **argv)
{
	target_vault_opts o = { 0 };
	target_vault *v = NULL;
	util_buf token = UTIL_BUF_INIT;
	const char *approle = NULL;
	int i = 1, rc = 1;

	for (; i + 1 < argc && !strncmp(argv[i], "--", 2); i += 2) {
		if (!strcmp(argv[i], "--address"))
			o.address = argv[i + 1];
		else if (!strcmp(argv[i], "--ca-bundle"))
			o.ca_bundle = argv[i + 1];
		else if (!strcmp(argv[i], "--namespace"))
			o.namespace_ = argv[i + 1];
		else if (!strcmp(argv[i], "--token-file")) {
			if (util_fs_read_file(&token, argv[i + 1], 4096) < 0)
				return fail();
			while (token.size && (token.ptr[token.size - 1] == '\n'))
				util_buf_truncate(&token, token.size - 1);
			o.token = token.ptr;
		} else if (!strcmp(argv[i], "--approle"))
			approle = argv[i + 1];
		else
			break;
	}
	if (i >= argc || !o.address) {
		fprintf(stderr, "usage: vault_smoke --address URL [options] check|put|read|observe ...\n");
		return 64;
	}
	if (target_vault_new(&v, &o) < 0) {
		rc = fail();
		goto done;
	}
	if (approle) {
		char role[256];
		const char *colon = strchr(approle, ':');
		if (!colon || (size_t)(colon - approle) >= sizeof(role)) {
			rc = 64;
			goto done;
		}
		memcpy(role, approle, (size_t)(colon - approle));
		role[colon - approle] = '\0';
		if (target_vault_login_approle(v, NULL, role, colon + 1) < 0) {
			rc = fail();
			goto done;
		}
		printf("login=ok\n");
	}
	if (!strcmp(argv[i], "check")) {
		int64_t ttl = 0;
		if (target_vault_token_check(v, &ttl) < 0) {
			rc = fail();
			goto done;
		}
		printf("token=ok\nttl=%lld\n", (long long)ttl);
		rc = 0;
	} else if (!strcmp(argv[i], "put")) {
		rc = put(v, argc - i - 1, argv + i + 1);
	} else if (!strcmp(argv[i], "read") && argc - i > 2) {
		rc = read_cmd(v, argv + i + 1);
	} else if (!strcmp(argv[i], "observe") && argc - i > 4) {
		target_vault_state st;
		int64_t ver = 0;
		if (target_vault_observe_cert(&st, &ver, v, argv[i + 1], argv[i + 2], NULL,
					      argv[i + 3], strtoll(argv[i + 4], NULL, 10)) < 0) {
			rc = fail();
			goto done;
		}
		printf("state=%s\nversion=%lld\n", target_vault_state_name(st), (long long)ver);
		rc = 0;
	} else {
		fprintf(stderr, "vault_smoke: unknown command or missing arguments\n");
		rc = 64;
	}
done:
	target_vault_free(v);
	util_buf_release(&token);
	return rc;
}
