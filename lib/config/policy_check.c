/*
 * A declaration set against the local policy: one diagnostic per
 * violation, at the position of the declaration that asks for it.
 */
#include <string.h>

#include "config/config_internal.h"
#include "config/policy.h"

typedef struct {
	const config_policy *p;
	util_diags *diags;
	util_buf field;
	int oom;
} pctx;

static void violation(pctx *c, config_pos pos, const char *suffix,
		      const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void violation(pctx *c, config_pos pos, const char *suffix,
		      const char *fmt, ...)
{
	util_buf msg = UTIL_BUF_INIT, field = UTIL_BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	util_buf_vprintf(&msg, fmt, ap);
	va_end(ap);
	util_buf_printf(&msg, " (policy: %s)", config_policy_source(c->p));
	util_buf_puts(&field, c->field.ptr);
	if (suffix) {
		if (field.size)
			util_buf_putc(&field, '.');
		util_buf_puts(&field, suffix);
	}
	if (util_buf_failed(&msg) || util_buf_failed(&field) ||
	    util_diags_add(c->diags, CERTOPS_EPOLICY, pos.file, pos.line,
			   pos.column, field.size ? field.ptr : NULL, "%s",
			   msg.ptr) < 0)
		c->oom = 1;
	util_buf_release(&msg);
	util_buf_release(&field);
}

static void check_write(pctx *c, const char *path, config_pos pos,
			const char *suffix)
{
	if (path && !config_policy_allows_write(c->p, path))
		violation(c, pos, suffix,
			  "'%s' is outside the write roots", path);
}

static void check_secret(pctx *c, const config_secret *s, const char *suffix)
{
	if (s->source == CONFIG_SECRET_NONE || config_policy_allows_secret(c->p, s))
		return;
	if (s->source == CONFIG_SECRET_ENV)
		violation(c, s->pos, suffix,
			  "secret from environment variable '%s' is not allowed",
			  s->ref);
	else
		violation(c, s->pos, suffix,
			  "secret file '%s' is not allowed", s->ref);
}

static void check_exec(pctx *c, const config_strings *argv, config_pos pos,
		       const char *suffix)
{
	util_buf cmd = UTIL_BUF_INIT;
	size_t i;

	if (!argv->count || config_policy_allows_exec(c->p, argv))
		return;
	for (i = 0; i < argv->count; i++) {
		if (i)
			util_buf_putc(&cmd, ' ');
		util_buf_puts(&cmd, argv->items[i].value);
	}
	violation(c, argv->items[0].pos.line ? argv->items[0].pos : pos, suffix,
		  "command '%s' is not allowed", cmd.ptr);
	util_buf_release(&cmd);
}

static void check_challenge(pctx *c, const config_challenge *ch)
{
	switch (ch->type) {
	case CONFIG_CHALLENGE_HTTP01:
		check_write(c, ch->http01.webroot,
			    config_field_pos_of(&ch->field_pos, ch->pos, "webroot"),
			    "http01.webroot");
		break;
	case CONFIG_CHALLENGE_DNS01:
		if (ch->dns01.type == CONFIG_DNS01_EXEC)
			check_exec(c, &ch->dns01.command, ch->pos,
				   "dns01.exec.command");
		else
			check_secret(c, &ch->dns01.tsig_secret,
				     "dns01.rfc2136.tsigKey.secret");
		break;
	default:
		break;
	}
}

static void check_target(pctx *c, const config_target *t)
{
	const char *kind = config_target_type_name(t->type);
	size_t saved = c->field.size;

	util_buf_printf(&c->field, "deploy[%u].%s", t->index, kind);
	switch (t->type) {
	case CONFIG_TARGET_FILES:
		check_write(c, t->files.dir,
			    config_field_pos_of(&t->field_pos, t->pos, "dir"), "dir");
		break;
	case CONFIG_TARGET_PKCS12:
		check_write(c, t->pkcs12.path,
			    config_field_pos_of(&t->field_pos, t->pos, "path"),
			    "path");
		check_secret(c, &t->pkcs12.password, "password");
		break;
	case CONFIG_TARGET_EXEC:
		check_exec(c, &t->exec.command, t->pos, "command");
		break;
	case CONFIG_TARGET_VAULT:
		check_secret(c, &t->vault.token, "token");
		break;
	default:
		break;
	}
	util_buf_truncate(&c->field, saved);
}

static void check_issuer(pctx *c, const config_issuer *is)
{
	const char *url = NULL;

	if (is->type == CONFIG_ISSUER_CA) {
		check_secret(c, &is->ca.key, "ca.key");
		check_secret(c, &is->ca.cert, "ca.cert");
		return;
	}
	check_secret(c, &is->acme.eab_hmac_key, "acme.eab.hmacKey");
	if (config_policy_allows_issuer(c->p, NULL))
		return; /* any issuer */
	if (config_value_get(&url, &is->acme.directory) < 0)
		violation(c, is->acme.directory.pos, "acme.directory",
			  "directory comes from environment variable '%s', which is unset; only listed issuers are allowed",
			  is->acme.directory.env ? is->acme.directory.env : "?");
	else if (!config_policy_allows_issuer(c->p, url))
		violation(c, is->acme.directory.pos, "acme.directory",
			  "issuer '%s' is not allowed", url);
}

int config_policy_check(const config_policy *p, const config_set *set,
			util_diags *diags)
{
	pctx c = { p, diags, UTIL_BUF_INIT, 0 };
	size_t i, j;

	for (i = 0; i < set->nissuers; i++)
		check_issuer(&c, set->issuers[i]);
	for (i = 0; i < set->nsolvers; i++) {
		util_buf_clear(&c.field);
		util_buf_puts(&c.field, "challenge");
		check_challenge(&c, &set->solvers[i]->challenge);
	}
	for (i = 0; i < set->ncertificates; i++) {
		const config_certificate *cert = set->certificates[i];

		util_buf_clear(&c.field);
		util_buf_puts(&c.field, "challenge");
		check_challenge(&c, &cert->challenge);
		util_buf_clear(&c.field);
		for (j = 0; j < cert->ndeploy; j++)
			check_target(&c, &cert->deploy[j]);
	}
	if (util_buf_failed(&c.field))
		c.oom = 1;
	util_buf_release(&c.field);
	return c.oom ? util_error_oom() : 0;
}
