/*
 * Issuing one certificate: solvers from the declaration, the key, the
 * order recorded before its challenges are answered (so a killed run
 * resumes it), validation, finalize, download, and the new version
 * stored with its metadata.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apply_internal.h"
#include "util/error.h"
#include "util/log.h"

/* acme_solver → challenge_solver */
static int solver_present(void *sctx, const acme_authz *authz, const acme_challenge *ch,
			  const char *key_authorization)
{
	return challenge_present(sctx, ch->token, key_authorization, authz->identifier.value);
}

static void solver_cleanup(void *sctx, const acme_authz *authz, const acme_challenge *ch,
			   const char *key_authorization)
{
	if (challenge_cleanup(sctx, ch->token, key_authorization, authz->identifier.value) < 0)
		util_log_warn("apply", "removing the challenge for '%s': %s",
			      authz->identifier.value, util_error_message());
}

/*
 * The solver of cert's challenge: the run's shared responder for a listen
 * address (borrowed, *owned NULL), or a webroot solver (*owned: the
 * caller frees it).
 */
static int solver_for(acme_solver *out, challenge_solver **owned, apply_ctx *ctx,
		      const config_certificate *cert)
{
	const config_challenge *ch = cert->effective_challenge;
	challenge_solver *s = NULL;
	const char *addr;
	int error;

	*owned = NULL;
	if (!ch || ch->type != CONFIG_CHALLENGE_HTTP01)
		return util_error_set_at(CERTOPS_EINVALID, cert->pos.file, cert->pos.line,
					 cert->pos.column, "challenge",
					 "certificate '%s': only http-01 challenges can be answered in this build",
					 cert->name);
	if (ch->http01.webroot) {
		if (!config_policy_allows_write(ctx->opts.policy, ch->http01.webroot))
			return util_error_set(CERTOPS_EPOLICY,
					      "writing webroot '%s' is not allowed by the policy (%s)",
					      ch->http01.webroot,
					      config_policy_source(ctx->opts.policy));
		if ((error = challenge_http01_webroot_new(&s, ch->http01.webroot)) < 0)
			return error;
		*owned = s;
	} else {
		if ((error = config_value_get(&addr, &ch->http01.listen)) < 0 ||
		    (error = apply__listener_get(&s, ctx, addr)) < 0)
			return error;
	}
	out->type = "http-01";
	out->present = solver_present;
	out->cleanup = solver_cleanup;
	out->ctx = s;
	return 0;
}

/* The names of the order: DNS names then IP addresses (borrowed). */
static int names_of(const char ***out, size_t *n, const config_certificate *cert)
{
	size_t i, k = 0;

	*n = cert->domains.count + cert->ip_addresses.count;
	if (!*n)
		return util_error_set(CERTOPS_EINVALID, "certificate '%s' has no identifiers",
				      cert->name);
	if (!(*out = calloc(*n, sizeof(**out))))
		return util_error_oom();
	for (i = 0; i < cert->domains.count; i++)
		(*out)[k++] = cert->domains.items[i].value;
	for (i = 0; i < cert->ip_addresses.count; i++)
		(*out)[k++] = cert->ip_addresses.items[i].value;
	return 0;
}

/*
 * Resumes the pending order of cert when it is for this declaration and
 * still usable at the CA: 1 with *o and *key filled, 0 when there is
 * nothing to resume (then a stale record is forgotten).
 */
static int order_resume(acme_order *o, crypto_key **key, apply_ctx *ctx, acme_client *c,
			const config_certificate *cert, const char *hash)
{
	state_order *po = NULL;
	int error, resumed = 0;

	memset(o, 0, sizeof(*o));
	error = state_order_get(&po, ctx->opts.st, cert->name);
	if (error == CERTOPS_ENOTFOUND)
		return 0;
	if (error < 0)
		return error;
	if (!po->order_url || !po->key_pem || !po->declaration_hash ||
	    strcmp(po->declaration_hash, hash))
		goto forget;
	o->retry_after = -1;
	if (!(o->url = strdup(po->order_url))) {
		error = util_error_oom();
		goto done;
	}
	if (acme_order_refresh(o, c) < 0 ||
	    (strcmp(o->status, "pending") && strcmp(o->status, "ready") &&
	     strcmp(o->status, "processing") && strcmp(o->status, "valid"))) {
		util_log_info("apply", "certificate '%s': pending order %s cannot be resumed (%s)",
			      cert->name, po->order_url, o->status ? o->status : util_error_message());
		acme_order_release(o);
		goto forget;
	}
	if ((error = crypto_key_parse(key, po->key_pem, strlen(po->key_pem))) < 0) {
		acme_order_release(o);
		goto forget;
	}
	util_log_info("apply", "certificate '%s': resuming order %s (%s)", cert->name,
		      o->url, o->status);
	resumed = 1;
	goto done;
forget:
	error = state_order_delete(ctx->opts.st, cert->name);
done:
	state_order_free(po);
	return error < 0 ? error : resumed;
}

/* The key of a new order: the current one when key.reuse allows, else new. */
static int key_for(crypto_key **key, apply_ctx *ctx, const config_certificate *cert)
{
	state_cert *cur = NULL;
	int error;

	if (cert->key_reuse &&
	    state_cert_current(&cur, ctx->opts.st, cert->name, STATE_CERT_KEY) == 0 &&
	    cur->key_pem && cur->meta.key_spec &&
	    !strcmp(cur->meta.key_spec, config_key_type_name(cert->key_type))) {
		error = crypto_key_parse(key, cur->key_pem, strlen(cur->key_pem));
		state_cert_free(cur);
		if (error == 0)
			return 0;
	} else {
		state_cert_free(cur);
	}
	return crypto_key_generate(key, apply__key_type(cert->key_type));
}

static int store_cert(apply_ctx *ctx, const config_certificate *cert, const char *chain_pem,
		      const crypto_key *key, const char *order_url, const char *hash,
		      char **version_out)
{
	crypto_cert_info info;
	state_cert sc;
	util_buf key_pem = UTIL_BUF_INIT, fp = UTIL_BUF_INIT;
	char **sans = NULL;
	size_t i, n = 0;
	int error;

	memset(&info, 0, sizeof(info));
	memset(&sc, 0, sizeof(sc));
	if ((error = crypto_cert_parse(&info, chain_pem, strlen(chain_pem))) < 0)
		goto done;
	if (!crypto_cert_matches_key(&info, key)) {
		error = util_error_set(CERTOPS_EPEER, "the CA's certificate for '%s' is not for our key",
				       cert->name);
		goto done;
	}
	if (!(sans = calloc(info.ndns + info.nip + 1, sizeof(*sans)))) {
		error = util_error_oom();
		goto done;
	}
	for (i = 0; i < info.ndns; i++)
		sans[n++] = info.dns_names[i];
	for (i = 0; i < info.nip; i++)
		sans[n++] = info.ip_addrs[i];
	if ((error = crypto_key_to_pem(&key_pem, key)) < 0 ||
	    (error = crypto_hex_encode(&fp, info.fingerprint, sizeof(info.fingerprint), 0)) < 0)
		goto done;
	sc.meta.name = (char *)cert->name;
	sc.meta.sans = sans;
	sc.meta.nsans = n;
	sc.meta.not_before = info.not_before;
	sc.meta.not_after = info.not_after;
	sc.meta.serial = info.serial_hex;
	sc.meta.issuer = (char *)cert->issuer;
	sc.meta.key_spec = (char *)config_key_type_name(cert->key_type);
	sc.meta.fingerprint = fp.ptr;
	sc.meta.order_url = (char *)order_url;
	sc.meta.declaration_hash = (char *)hash;
	sc.chain_pem = (char *)chain_pem;
	sc.key_pem = key_pem.ptr;
	error = state_cert_put(ctx->opts.st, &sc, version_out);
done:
	free(sans);
	crypto_cert_info_release(&info);
	util_buf_release(&key_pem);
	util_buf_release(&fp);
	return error;
}

/* Polls a "processing" order until it is valid (finalized by a run that died). */
static int wait_processing(acme_order *o, acme_client *c, time_t deadline)
{
	unsigned attempt = 0;
	int error;

	while (!strcmp(o->status, "processing")) {
		if (time(NULL) >= deadline)
			return util_error_set(CERTOPS_ETIMEOUT, "order %s still processing", o->url);
		usleep(1000u * acme_backoff_ms(attempt++, 100, 2000, (uint32_t)rand()));
		if ((error = acme_order_refresh(o, c)) < 0)
			return error;
	}
	return 0;
}

/* What one attempt at an order needs, set up once per issuance. */
typedef struct {
	apply_ctx *ctx;
	const config_certificate *cert;
	acme_client *c;
	acme_solver solver;
	const char **names;
	size_t nnames;
	const char *hash;
	time_t deadline;
} issue_job;

/*
 * One order, resumed (when allow_resume and one is pending) or new, to a
 * stored certificate.  *resumed_out says which it was.
 */
static int issue_once(issue_job *j, int allow_resume, int *resumed_out, char **version_out)
{
	const config_issuer *is = j->cert->issuer_ref;
	crypto_key *key = NULL;
	acme_order o;
	acme_order_opts oo;
	acme_chains chains = { 0 };
	util_buf csr = UTIL_BUF_INIT, key_pem = UTIL_BUF_INIT;
	state_order rec;
	int error = 0, resumed = 0;

	memset(&o, 0, sizeof(o));
	if (allow_resume &&
	    (resumed = order_resume(&o, &key, j->ctx, j->c, j->cert, j->hash)) < 0) {
		error = resumed;
		resumed = 0;
		goto done;
	}
	*resumed_out = resumed;
	if (!resumed) {
		memset(&oo, 0, sizeof(oo));
		oo.names = j->names;
		oo.nnames = j->nnames;
		oo.profile = is->acme.profile;
		if ((error = key_for(&key, j->ctx, j->cert)) < 0 ||
		    (error = acme_order_new(&o, j->c, &oo)) < 0 ||
		    (error = crypto_key_to_pem(&key_pem, key)) < 0)
			goto done;
		/* recorded before any challenge is answered: a killed run
		 * resumes this order instead of placing another */
		memset(&rec, 0, sizeof(rec));
		rec.name = (char *)j->cert->name;
		rec.order_url = o.url;
		rec.key_pem = key_pem.ptr;
		rec.declaration_hash = (char *)j->hash;
		rec.created = time(NULL);
		if ((error = state_order_put(j->ctx->opts.st, &rec)) < 0)
			goto done;
	}
	if (!strcmp(o.status, "pending") &&
	    (error = acme_order_authorize(&o, j->c, &j->solver, 1, j->deadline)) < 0)
		goto done;
	if (!strcmp(o.status, "ready") &&
	    ((error = crypto_csr_build(&csr, key, NULL, j->names, j->nnames)) < 0 ||
	     (error = acme_order_finalize(&o, j->c, csr.ptr, csr.size, j->deadline)) < 0))
		goto done;
	if ((error = wait_processing(&o, j->c, j->deadline)) < 0)
		goto done;
	if (strcmp(o.status, "valid") || !o.certificate) {
		error = util_error_set(CERTOPS_EPEER, "order %s is %s", o.url, o.status);
		goto done;
	}
	if ((error = acme_order_download(&chains, j->c, &o)) < 0 || !chains.count) {
		if (error == 0)
			error = util_error_set(CERTOPS_EPEER, "order %s gave no certificate", o.url);
		goto done;
	}
	if ((error = store_cert(j->ctx, j->cert,
				chains.chains[acme_chain_select(&chains, is->acme.preferred_chain)],
				key, o.url, j->hash, version_out)) < 0)
		goto done;
	if (state_order_delete(j->ctx->opts.st, j->cert->name) < 0)
		util_log_warn("apply", "certificate '%s': forgetting the order: %s", j->cert->name,
			      util_error_message());
	/* old versions go by the store's documented policy (docs/state.md):
	 * only expired ones beyond the newest few; a failure is no reason to
	 * fail the issuance that just succeeded */
	{
		state_prune_policy pp = STATE_PRUNE_POLICY_INIT;
		if (state_cert_prune(j->ctx->opts.st, j->cert->name, &pp, time(NULL), NULL) < 0)
			util_log_warn("apply", "certificate '%s': pruning old versions: %s",
				      j->cert->name, util_error_message());
	}
done:
	acme_order_release(&o);
	acme_chains_release(&chains);
	crypto_key_free(key);
	util_buf_release(&csr);
	util_buf_release(&key_pem);
	return error;
}

int apply_issue(apply_ctx *ctx, const config_certificate *cert, char **version_out)
{
	const config_issuer *is = cert->issuer_ref;
	char hash[CONFIG_HASH_HEX_LEN + 1];
	challenge_solver *owned = NULL;
	issue_job j;
	int error, resumed = 0;

	memset(&j, 0, sizeof(j));
	if (version_out)
		*version_out = NULL;
	if (!is)
		return util_error_set(CERTOPS_EINVALID, "certificate '%s' has no issuer", cert->name);
	j.ctx = ctx;
	j.cert = cert;
	j.hash = hash;
	j.deadline = time(NULL) + (is->acme.order_timeout > 0 ? is->acme.order_timeout : 300);
	if ((error = config_certificate_hash(hash, cert)) < 0 ||
	    (error = names_of(&j.names, &j.nnames, cert)) < 0 ||
	    (error = apply__client(&j.c, ctx, is)) < 0 ||
	    (error = solver_for(&j.solver, &owned, ctx, cert)) < 0)
		goto done;
	error = issue_once(&j, 1, &resumed, version_out);
	if (error < 0 && resumed) {
		/*
		 * The order of a killed run can fail after all (its challenge
		 * was validated while nobody answered): that one order is
		 * given up, and one new order placed.
		 */
		util_log_warn("apply", "certificate '%s': the resumed order failed (%s); placing a new order",
			      cert->name, util_error_message());
		(void)state_order_delete(ctx->opts.st, cert->name);
		error = issue_once(&j, 0, &resumed, version_out);
	}
	if (error < 0)
		(void)state_order_delete(ctx->opts.st, cert->name);
done:
	challenge_solver_free(owned);
	free(j.names);
	return error;
}
