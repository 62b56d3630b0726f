/*
 * The issuance flow over the protocol calls: authorize an order through
 * solver operation tables, then finalize and download (uacme's
 * authorize/cert_issue).  Challenges are presented and answered all at
 * once and waited for afterwards: a CA validates them in parallel, so an
 * order with 50 names costs about one validation round trip, not 50.
 */
#include "acme/acme_internal.h"

#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "util/log.h"

typedef struct {
	acme_authz authz;
	const acme_solver *solver;
	acme_challenge ch; /* a copy: polling the authz replaces its challenges */
	char *key_authorization;
	int presented;
} pending_authz;

static const acme_solver *pick_solver(const acme_authz *a, const acme_solver *solvers,
				      size_t nsolvers, const acme_challenge **ch_out)
{
	size_t i;

	for (i = 0; i < nsolvers; i++)
		if ((*ch_out = acme_authz_challenge(a, solvers[i].type)))
			return &solvers[i];
	return NULL;
}

static void challenge_release(acme_challenge *ch)
{
	free(ch->type);
	free(ch->url);
	free(ch->status);
	free(ch->token);
	memset(ch, 0, sizeof(*ch));
}

static int challenge_copy(acme_challenge *out, const acme_challenge *ch)
{
	memset(out, 0, sizeof(*out));
	if (!ch->token || !ch->url)
		return util_error_set(CERTOPS_EPEER, "%s challenge without url or token", ch->type);
	out->type = strdup(ch->type);
	out->url = strdup(ch->url);
	out->status = ch->status ? strdup(ch->status) : NULL;
	out->token = strdup(ch->token);
	if (!out->type || !out->url || !out->token || (ch->status && !out->status)) {
		challenge_release(out);
		return util_error_oom();
	}
	return 0;
}

int acme_order_authorize(acme_order *o, acme_client *c, const acme_solver *solvers,
			 size_t nsolvers, time_t deadline)
{
	pending_authz *pa = NULL;
	const acme_challenge *offered = NULL;
	acme_problem *first_problem = NULL;
	util_buf first_msg = UTIL_BUF_INIT, ka = UTIL_BUF_INIT;
	size_t i, n = o->nauthorizations;
	int error = 0;

	if (n && !(pa = calloc(n, sizeof(*pa))))
		return util_error_oom();
	/* 1: read every authorization, present and respond for the pending ones */
	for (i = 0; i < n && error == 0; i++) {
		pending_authz *p = &pa[i];
		if ((error = acme_authz_get(&p->authz, c, o->authorizations[i])) < 0)
			break;
		if (strcmp(p->authz.status, "pending"))
			continue;
		if (!(p->solver = pick_solver(&p->authz, solvers, nsolvers, &offered))) {
			error = util_error_set(CERTOPS_EINVALID,
					       "no configured solver fits the challenges offered for %s '%s'",
					       p->authz.identifier.type, p->authz.identifier.value);
			break;
		}
		if ((error = challenge_copy(&p->ch, offered)) < 0)
			break;
		util_buf_clear(&ka);
		if ((error = acme_key_authorization(&ka, c->key, p->ch.token)) < 0)
			break;
		if (!(p->key_authorization = strdup(ka.ptr))) {
			error = util_error_oom();
			break;
		}
		if ((error = p->solver->present(p->solver->ctx, &p->authz, &p->ch,
						p->key_authorization)) < 0) {
			util_error_wrap("presenting %s for '%s'", p->ch.type, p->authz.identifier.value);
			break;
		}
		p->presented = 1;
		if ((error = acme_challenge_respond(c, &p->ch)) < 0)
			break;
	}
	/* 2: wait for each (all are being validated by now) */
	for (i = 0; i < n && error == 0; i++)
		if (pa[i].presented)
			error = acme_authz_wait(&pa[i].authz, c, deadline);
	if (error < 0) {
		/* keep the first failure: the cleanup below may record others */
		util_buf_puts(&first_msg, util_error_message());
		first_problem = acme__problem_take();
	}
	/* 3: clean up every challenge presented; abandon what is left pending */
	for (i = 0; i < n; i++) {
		pending_authz *p = &pa[i];
		if (p->presented && p->solver->cleanup)
			p->solver->cleanup(p->solver->ctx, &p->authz, &p->ch, p->key_authorization);
		if (error < 0 && p->authz.status && !strcmp(p->authz.status, "pending") &&
		    acme_authz_deactivate(c, p->authz.url) < 0)
			util_log_warn("acme", "deactivating %s failed: %s", p->authz.url,
				      util_error_message());
	}
	if (error == 0 && (error = acme_order_refresh(o, c)) == 0)
		error = acme_order_wait_ready(o, c, deadline);
	else if (error < 0) {
		/* restore the first failure as this thread's error and problem */
		acme__problem_put(first_problem);
		first_problem = NULL;
		util_error_set(error, "%s", util_buf_failed(&first_msg) ? "authorizing failed"
								       : first_msg.ptr);
	}
	for (i = 0; i < n; i++) {
		acme_authz_release(&pa[i].authz);
		challenge_release(&pa[i].ch);
		free(pa[i].key_authorization);
	}
	free(pa);
	acme_problem_release(first_problem);
	free(first_problem);
	util_buf_release(&first_msg);
	util_buf_release(&ka);
	return error;
}

int acme_issue(acme_chains *chains_out, acme_order *order_out, acme_client *c,
	       const acme_order_opts *opts, const crypto_key *cert_key,
	       const acme_solver *solvers, size_t nsolvers, time_t deadline)
{
	acme_order o;
	util_buf csr = UTIL_BUF_INIT;
	int error;

	memset(chains_out, 0, sizeof(*chains_out));
	if (order_out)
		memset(order_out, 0, sizeof(*order_out));
	if ((error = acme_order_new(&o, c, opts)) < 0)
		return error;
	if ((error = acme_order_authorize(&o, c, solvers, nsolvers, deadline)) < 0 ||
	    (error = crypto_csr_build(&csr, cert_key, NULL, opts->names, opts->nnames)) < 0 ||
	    (error = acme_order_finalize(&o, c, csr.ptr, csr.size, deadline)) < 0 ||
	    (error = acme_order_download(chains_out, c, &o)) < 0)
		goto done;
done:
	util_buf_release(&csr);
	if (order_out)
		*order_out = o;
	else
		acme_order_release(&o);
	return error;
}
