/*
 * Transport callbacks of a fetch: credentials (ssh key or agent, an https
 * token from the environment or a file) and the SSH host key check against
 * known_hosts, which is on unless explicitly skipped.
 */
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "source/internal.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/log.h"

static int fail(const char *msg)
{
	git_error_set_str(GIT_ERROR_NET, msg);
	return GIT_EAUTH;
}

/* The token, from the environment or a file; the caller frees. */
static char *read_token(const source_opts *o)
{
	util_buf b = UTIL_BUF_INIT;
	const char *v;

	if (o->token_env) {
		v = getenv(o->token_env);
		return v && *v ? strdup(v) : NULL;
	}
	if (o->token_file) {
		if (util_fs_read_file(&b, o->token_file, 64 * 1024) < 0) {
			util_buf_release(&b);
			return NULL;
		}
		while (b.size && (b.ptr[b.size - 1] == '\n' ||
				  b.ptr[b.size - 1] == '\r'))
			util_buf_truncate(&b, b.size - 1);
		return util_buf_detach(&b);
	}
	return NULL;
}

static int credentials(git_credential **out, const char *url,
		       const char *user_from_url, unsigned int allowed,
		       void *payload)
{
	source__auth *a = payload;
	const source_opts *o = a->opts;
	const char *user;
	char *token;
	int error;

	(void)url;
	/* libgit2 asks again after a refusal; asking forever would loop. */
	if (++a->cred_tries > 3)
		return fail("authentication refused by the remote");
	if (allowed & GIT_CREDENTIAL_SSH_KEY) {
		user = user_from_url ? user_from_url : (o->username ? o->username : "git");
		if (o->ssh_key)
			return git_credential_ssh_key_new(out, user, NULL,
							  o->ssh_key, NULL);
		return git_credential_ssh_key_from_agent(out, user);
	}
	if (allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT) {
		token = read_token(o);
		if (!token)
			return fail("the remote wants credentials: give a token "
				    "with --git-token-env NAME or --git-token-file FILE");
		util_secret_register(token);
		user = o->username ? o->username :
		       (user_from_url ? user_from_url : "x-access-token");
		error = git_credential_userpass_plaintext_new(out, user, token);
		explicit_bzero(token, strlen(token));
		free(token);
		return error;
	}
	if (allowed & GIT_CREDENTIAL_USERNAME)
		return git_credential_username_new(out, o->username ? o->username : "git");
	return fail("no supported authentication method");
}

/* Standard base64 of data (known_hosts' encoding), without padding. */
static int b64(util_buf *out, const void *data, size_t len)
{
	size_t i;

	if (crypto_b64url_encode(out, data, len) < 0)
		return -1;
	for (i = 0; i < out->size; i++) {
		if (out->ptr[i] == '-')
			out->ptr[i] = '+';
		else if (out->ptr[i] == '_')
			out->ptr[i] = '/';
	}
	return 0;
}

/* Whether known_hosts has key for host (hashed entries included, which
 * is why ssh-keygen -F does the lookup). */
static int known_host(const char *file, const char *host, int port,
		      const char *key_b64)
{
	util_buf name = UTIL_BUF_INIT, outp = UTIL_BUF_INIT;
	const char *line;
	int found = 0, st;

	if (port && port != 22)
		util_buf_printf(&name, "[%s]:%d", host, port);
	else
		util_buf_puts(&name, host);
	{
		const char *argv[] = { "ssh-keygen", "-F", name.ptr, "-f", file, NULL };

		st = source__run(&outp, argv, NULL);
	}
	for (line = outp.ptr; st == 0 && *line; ) {
		size_t len = strcspn(line, "\n");
		const char *k;

		/* "host keytype base64 [comment]": find the key field. */
		if (*line != '#') {
			k = memchr(line, ' ', len);
			k = k ? memchr(k + 1, ' ', len - (size_t)(k + 1 - line)) : NULL;
			if (k) {
				size_t klen = strcspn(k + 1, " =\n");

				if (klen == strlen(key_b64) &&
				    !memcmp(k + 1, key_b64, klen))
					found = 1;
			}
		}
		line += len + (line[len] == '\n');
	}
	util_buf_release(&name);
	util_buf_release(&outp);
	return found;
}

static int check_cert(git_cert *cert, int valid, const char *host, void *payload)
{
	source__auth *a = payload;
	const source_opts *o = a->opts;
	git_cert_hostkey *hk;
	util_buf file = UTIL_BUF_INIT, key = UTIL_BUF_INIT;
	const char *home;
	int error;

	(void)valid;
	if (cert->cert_type != GIT_CERT_HOSTKEY_LIBSSH2)
		return GIT_PASSTHROUGH; /* x509: libgit2 checks the chain */
	if (o->insecure_skip_host_key) {
		util_log_warn("source", "SSH host key of '%s' NOT checked "
			      "(--insecure-skip-host-key)", host);
		return 0;
	}
	hk = (git_cert_hostkey *)cert;
	if (!(hk->type & GIT_CERT_SSH_RAW))
		return fail("the SSH host key is not available for checking");
	if (o->known_hosts) {
		util_buf_puts(&file, o->known_hosts);
	} else {
		home = getenv("HOME");
		util_fs_join(&file, home ? home : "/", ".ssh/known_hosts");
	}
	if (b64(&key, hk->hostkey, hk->hostkey_len) < 0 || util_buf_failed(&file)) {
		error = fail("out of memory");
		goto done;
	}
	if (known_host(file.ptr, host, a->port, key.ptr)) {
		error = 0;
	} else {
		util_buf msg = UTIL_BUF_INIT;

		util_buf_printf(&msg, "the SSH host key of '%s' is not in '%s' "
				"(add it with ssh-keyscan after checking it)",
				host, file.ptr);
		git_error_set_str(GIT_ERROR_SSH, msg.ptr);
		util_buf_release(&msg);
		error = GIT_ECERTIFICATE;
	}
done:
	util_buf_release(&file);
	util_buf_release(&key);
	return error;
}

/* The port of an ssh:// URL ("ssh://user@host:2222/path"), else 0. */
static int url_port(const char *url)
{
	const char *p, *end;
	long port = 0;

	if (strncmp(url, "ssh://", 6))
		return 0;
	p = url + 6;
	end = p + strcspn(p, "/");
	p = memchr(p, '@', (size_t)(end - p)) ? (const char *)memchr(p, '@', (size_t)(end - p)) + 1 : p;
	if (*p == '[')
		p = memchr(p, ']', (size_t)(end - p)) ? (const char *)memchr(p, ']', (size_t)(end - p)) + 1 : end;
	p = memchr(p, ':', (size_t)(end - p));
	if (!p)
		return 0;
	for (p++; p < end && *p >= '0' && *p <= '9'; p++)
		port = port * 10 + (*p - '0');
	return port > 0 && port < 65536 ? (int)port : 0;
}

void source__auth_setup(git_remote_callbacks *cb, source__auth *auth,
			const source_opts *opts)
{
	auth->opts = opts;
	auth->cred_tries = 0;
	auth->port = url_port(opts->url);
	cb->credentials = credentials;
	cb->certificate_check = check_cert;
	cb->payload = auth;
}
