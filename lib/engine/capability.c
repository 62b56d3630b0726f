/*
 * The capability table: what the declaration language has that this build
 * cannot carry out at apply.  validate and plan refuse each use at its
 * position, so a declaration that validates is one that apply can do (the
 * honesty rule, docs/hacking.md).  A feature that gets built removes its
 * entry here and its check below, and its "not built yet" mark in
 * docs/declarations.md.
 */
#include "engine/engine.h"

#include "util/error.h"

enum {
	CAP_ISSUER_CA = 0,
	CAP_ACME_FALLBACK,
	CAP_DNS01_RFC2136,
	CAP_DNS01_EXEC,
	CAP_TLSALPN01,
	CAP__COUNT
};

static const engine_capability unsupported[CAP__COUNT + 1] = {
	[CAP_ISSUER_CA] = { "issuer.ca", "a local CA issuer (kind: Issuer with ca:)" },
	[CAP_ACME_FALLBACK] = { "acme.fallback", "falling back to another issuer when a CA fails" },
	[CAP_DNS01_RFC2136] = { "dns01.rfc2136", "dns-01 challenges through RFC 2136 updates" },
	[CAP_DNS01_EXEC] = { "dns01.exec", "dns-01 challenges through exec hooks" },
	[CAP_TLSALPN01] = { "tlsalpn01", "tls-alpn-01 challenges" },
	[CAP__COUNT] = { NULL, NULL }
};

const engine_capability *engine_unsupported(void)
{
	return unsupported;
}

static int refuse(util_diags *d, int cap, config_pos pos, const char *field)
{
	if (util_diags_add(d, CERTOPS_EUNSUPPORTED, pos.file, pos.line, pos.column,
			   field, "%s is not supported yet: this build cannot carry out %s "
			   "(docs/declarations.md)", unsupported[cap].feature,
			   unsupported[cap].summary) < 0)
		return util_error_oom();
	return 0;
}

static int check_challenge(util_diags *d, const config_challenge *c)
{
	switch (c->type) {
	case CONFIG_CHALLENGE_DNS01:
		return refuse(d, c->dns01.type == CONFIG_DNS01_RFC2136 ?
			      CAP_DNS01_RFC2136 : CAP_DNS01_EXEC, c->pos,
			      c->dns01.type == CONFIG_DNS01_RFC2136 ?
			      "challenge.dns01.rfc2136" : "challenge.dns01.exec");
	case CONFIG_CHALLENGE_TLSALPN01:
		return refuse(d, CAP_TLSALPN01, c->pos, "challenge.tlsalpn01");
	default:
		return 0;
	}
}

int engine_capability_check(const config_set *set, util_diags *diags)
{
	size_t i;
	int error = 0;

	for (i = 0; !error && i < set->nissuers; i++) {
		const config_issuer *is = set->issuers[i];

		if (is->type == CONFIG_ISSUER_CA)
			error = refuse(diags, CAP_ISSUER_CA,
				       config_field_pos_of(&is->field_pos, is->pos, "ca"), "ca");
		else if (is->acme.fallback.count)
			error = refuse(diags, CAP_ACME_FALLBACK,
				       config_field_pos_of(&is->acme.field_pos, is->pos,
							   "fallback"), "acme.fallback");
	}
	for (i = 0; !error && i < set->nsolvers; i++)
		error = check_challenge(diags, &set->solvers[i]->challenge);
	for (i = 0; !error && i < set->ncertificates; i++)
		if (set->certificates[i]->challenge.type != CONFIG_CHALLENGE_NONE)
			error = check_challenge(diags, &set->certificates[i]->challenge);
	return error;
}
