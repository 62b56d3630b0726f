/*
 * The run context: one ACME client and account per issuer, one http-01
 * responder per listen address, secrets read under the policy.
 */
#include <stdlib.h>
#include <string.h>

#include "apply_internal.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/log.h"

int apply_ctx_new(apply_ctx **out, const apply_options *opts)
{
	apply_ctx *ctx;
	size_t i;

	*out = NULL;
	if (!opts->st || !opts->set || !opts->policy)
		return util_error_set(CERTOPS_EINVALID, "apply needs a state store, declarations and a policy");
	if (!(ctx = calloc(1, sizeof(*ctx))))
		return util_error_oom();
	ctx->opts = *opts;
	if (!ctx->opts.parallel)
		ctx->opts.parallel = APPLY_PARALLEL_DEFAULT;
	if (ctx->opts.parallel > APPLY_PARALLEL_MAX)
		ctx->opts.parallel = APPLY_PARALLEL_MAX;
	if (!ctx->opts.max_rounds)
		ctx->opts.max_rounds = APPLY_ROUNDS_DEFAULT;
	pthread_mutex_init(&ctx->lock, NULL);
	ctx->nissuers = opts->set->nissuers;
	if (ctx->nissuers &&
	    !(ctx->issuers = calloc(ctx->nissuers, sizeof(*ctx->issuers)))) {
		apply_ctx_free(ctx);
		return util_error_oom();
	}
	for (i = 0; i < ctx->nissuers; i++) {
		ctx->issuers[i].issuer = opts->set->issuers[i];
		pthread_mutex_init(&ctx->issuers[i].lock, NULL);
	}
	*out = ctx;
	return 0;
}

void apply_ctx_free(apply_ctx *ctx)
{
	size_t i;

	if (!ctx)
		return;
	for (i = 0; i < ctx->nlisteners; i++) {
		challenge_solver_free(ctx->listeners[i].solver);
		free(ctx->listeners[i].addr);
	}
	free(ctx->listeners);
	for (i = 0; i < ctx->nissuers; i++) {
		acme_client_free(ctx->issuers[i].client);
		crypto_key_free(ctx->issuers[i].account_key);
		pthread_mutex_destroy(&ctx->issuers[i].lock);
	}
	free(ctx->issuers);
	pthread_mutex_destroy(&ctx->lock);
	free(ctx);
}

void apply__emit(apply_ctx *ctx, const apply_event *ev)
{
	if (!ctx->opts.progress)
		return;
	pthread_mutex_lock(&ctx->lock);
	ctx->opts.progress(ctx->opts.progress_data, ev);
	pthread_mutex_unlock(&ctx->lock);
}

int apply__directory(const char **out, apply_ctx *ctx, const config_issuer *issuer)
{
	int error;

	if (issuer->type != CONFIG_ISSUER_ACME)
		return util_error_set(CERTOPS_EINVALID,
				      "issuer '%s': only ACME issuers can issue in this build",
				      issuer->name);
	if ((error = config_value_get(out, &issuer->acme.directory)) < 0)
		return util_error_wrap("issuer '%s' directory", issuer->name);
	if (!config_policy_allows_issuer(ctx->opts.policy, *out))
		return util_error_set(CERTOPS_EPOLICY,
				      "issuer '%s': directory '%s' is not allowed by the policy (%s)",
				      issuer->name, *out, config_policy_source(ctx->opts.policy));
	return 0;
}

static apply__issuer *find_issuer(apply_ctx *ctx, const config_issuer *issuer)
{
	size_t i;

	for (i = 0; i < ctx->nissuers; i++)
		if (ctx->issuers[i].issuer == issuer ||
		    !strcmp(ctx->issuers[i].issuer->name, issuer->name))
			return &ctx->issuers[i];
	return NULL;
}

/* Creates the client of ai (lock held). */
static int client_open(apply_ctx *ctx, apply__issuer *ai)
{
	acme_client_opts o;
	const char *url, *bundle = NULL;
	int error;

	if (ai->client)
		return 0;
	if ((error = apply__directory(&url, ctx, ai->issuer)) < 0)
		return error;
	if ((ai->issuer->acme.ca_bundle.literal || ai->issuer->acme.ca_bundle.env) &&
	    (error = config_value_get(&bundle, &ai->issuer->acme.ca_bundle)) < 0)
		return util_error_wrap("issuer '%s' caBundle", ai->issuer->name);
	memset(&o, 0, sizeof(o));
	o.directory_url = url;
	o.ca_bundle = bundle;
	o.timeout_ms = ai->issuer->acme.request_timeout > 0 ?
		(long)ai->issuer->acme.request_timeout * 1000 : 0;
	if ((error = acme_client_new(&ai->client, &o)) < 0)
		return util_error_wrap("issuer '%s'", ai->issuer->name);
	return 0;
}

crypto_key_type apply__key_type(config_key_type t)
{
	switch (t) {
	case CONFIG_KEY_ECDSA_P384: return CRYPTO_KEY_EC_P384;
	case CONFIG_KEY_RSA_2048: return CRYPTO_KEY_RSA2048;
	case CONFIG_KEY_RSA_3072: return CRYPTO_KEY_RSA3072;
	case CONFIG_KEY_RSA_4096: return CRYPTO_KEY_RSA4096;
	case CONFIG_KEY_ED25519: return CRYPTO_KEY_ED25519;
	default: return CRYPTO_KEY_EC_P256;
	}
}

/* Ensures the account (lock held, client open). */
static int account_ensure(apply_ctx *ctx, apply__issuer *ai, int *registered)
{
	const config_issuer *is = ai->issuer;
	state_account *sa = NULL, rec;
	acme_account acc;
	util_buf pem = UTIL_BUF_INIT;
	const char *url;
	const char **contacts = NULL;
	char **mailto = NULL;
	char *hmac = NULL;
	acme_eab eab = { 0 };
	size_t i, n = is->acme.emails.count;
	int error;

	memset(&acc, 0, sizeof(acc));
	if ((error = apply__directory(&url, ctx, is)) < 0)
		return error;
	error = state_account_get(&sa, ctx->opts.st, is->name, url);
	if (error < 0 && error != CERTOPS_ENOTFOUND)
		goto done;
	if (sa) {
		if ((error = crypto_key_parse(&ai->account_key, sa->key_pem,
					      strlen(sa->key_pem))) < 0)
			goto done;
		if (sa->url) {
			error = acme_client_set_account(ai->client, ai->account_key, sa->url);
			goto done;
		}
		/* stored, never registered: a run was killed in between */
	} else {
		/* the key is stored before registering, so a run killed after
		 * the CA created the account finds it again with this key */
		if ((error = crypto_key_generate(&ai->account_key,
						 apply__key_type(is->acme.account_key))) < 0 ||
		    (error = crypto_key_to_pem(&pem, ai->account_key)) < 0)
			goto done;
		memset(&rec, 0, sizeof(rec));
		rec.issuer = (char *)is->name;
		rec.directory_url = (char *)url;
		rec.key_pem = pem.ptr;
		rec.email = n ? (char *)is->acme.emails.items[0].value : NULL;
		if ((error = state_account_put(ctx->opts.st, &rec)) < 0)
			goto done;
	}
	if (n && (!(contacts = calloc(n, sizeof(*contacts))) ||
		  !(mailto = calloc(n, sizeof(*mailto))))) {
		error = util_error_oom();
		goto done;
	}
	for (i = 0; i < n; i++) {
		util_buf m = UTIL_BUF_INIT;
		util_buf_printf(&m, "mailto:%s", is->acme.emails.items[i].value);
		if (!(mailto[i] = util_buf_detach(&m))) {
			error = util_error_oom();
			goto done;
		}
		contacts[i] = mailto[i];
	}
	if (is->acme.has_eab) {
		if ((error = config_secret_read(&hmac, ctx->opts.policy, &is->acme.eab_hmac_key)) < 0)
			goto done;
		eab.kid = is->acme.eab_key_id;
		eab.hmac_key = hmac;
	}
	if ((error = acme_account_new(&acc, ai->client, ai->account_key, contacts, n, 1,
				      is->acme.has_eab ? &eab : NULL)) < 0) {
		util_error_wrap("registering the account of issuer '%s'", is->name);
		goto done;
	}
	util_buf_clear(&pem);
	if ((error = crypto_key_to_pem(&pem, ai->account_key)) < 0)
		goto done;
	memset(&rec, 0, sizeof(rec));
	rec.issuer = (char *)is->name;
	rec.directory_url = (char *)url;
	rec.key_pem = pem.ptr;
	rec.url = acc.url;
	rec.email = n ? (char *)is->acme.emails.items[0].value : NULL;
	if ((error = state_account_put(ctx->opts.st, &rec)) < 0)
		goto done;
	if (registered)
		*registered = !acc.existed;
	util_log_info("apply", "account of issuer '%s' %s: %s", is->name,
		      acc.existed ? "found" : "registered", acc.url);
done:
	for (i = 0; mailto && i < n; i++)
		free(mailto[i]);
	free(mailto);
	free(contacts);
	free(hmac);
	acme_account_release(&acc);
	state_account_free(sa);
	util_buf_release(&pem);
	return error;
}

int apply_account(apply_ctx *ctx, const config_issuer *issuer, int *registered_out)
{
	apply__issuer *ai = find_issuer(ctx, issuer);
	int error = 0;

	if (registered_out)
		*registered_out = 0;
	if (!ai)
		return util_error_set(CERTOPS_ENOTFOUND, "unknown issuer '%s'", issuer->name);
	pthread_mutex_lock(&ai->lock);
	if (!ai->ready && (error = client_open(ctx, ai)) == 0 &&
	    (error = account_ensure(ctx, ai, registered_out)) == 0)
		ai->ready = 1;
	pthread_mutex_unlock(&ai->lock);
	return error;
}

int apply__client(acme_client **out, apply_ctx *ctx, const config_issuer *issuer)
{
	apply__issuer *ai = find_issuer(ctx, issuer);
	int error;

	*out = NULL;
	if ((error = apply_account(ctx, issuer, NULL)) < 0)
		return error;
	*out = ai->client;
	return 0;
}

int apply__listener_get(challenge_solver **out, apply_ctx *ctx, const char *addr)
{
	apply__listener *l;
	size_t i;
	int error = 0;

	*out = NULL;
	pthread_mutex_lock(&ctx->lock);
	for (i = 0; i < ctx->nlisteners; i++)
		if (!strcmp(ctx->listeners[i].addr, addr)) {
			*out = ctx->listeners[i].solver;
			goto done;
		}
	if (!(l = realloc(ctx->listeners, (ctx->nlisteners + 1) * sizeof(*l)))) {
		error = util_error_oom();
		goto done;
	}
	ctx->listeners = l;
	l = &ctx->listeners[ctx->nlisteners];
	memset(l, 0, sizeof(*l));
	if (!(l->addr = strdup(addr))) {
		error = util_error_oom();
		goto done;
	}
	if ((error = challenge_http01_listen_new(&l->solver, addr)) < 0) {
		free(l->addr);
		goto done;
	}
	ctx->nlisteners++;
	*out = l->solver;
done:
	pthread_mutex_unlock(&ctx->lock);
	return error;
}
