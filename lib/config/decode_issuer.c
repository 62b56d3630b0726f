/*
 * The Issuer and Solver kinds.
 */
#include <string.h>

#include "config/config_internal.h"

int config__get_name(cfg_dec *d, const cfg_node *root, const char **out)
{
	const cfg_node *n;
	int rc = config__get_str(d, root, "name", 1, out, &n);

	if (rc > 0 && !config__check_name(*out)) {
		config__err_field(d, n, "name",
			"invalid name '%s' (lowercase letters, digits, '.', '_', '-'; at most 63)",
			*out);
		return -1;
	}
	return rc;
}

/* ---- Issuer ---- */

static void decode_emails(cfg_dec *d, const cfg_node *acme, config_acme *a)
{
	const cfg_node *n = config__map_get(acme, "email");
	size_t i, saved;

	if (!n)
		return;
	if (n->kind == CFG_NODE_SCALAR) {
		const char *s;

		if (config__get_str(d, acme, "email", 0, &s, NULL) <= 0)
			return;
		a->emails.items = config__arena_alloc(d->arena,
						sizeof(config_string));
		if (!a->emails.items) {
			d->oom = 1;
			return;
		}
		a->emails.items[0].value = s;
		a->emails.items[0].pos = config__pos(d, n);
		a->emails.count = 1;
	} else if (config__get_strings(d, acme, "email", 1, &a->emails) < 0) {
		return;
	}
	saved = config__path_push(d, "email");
	for (i = 0; i < a->emails.count; i++) {
		const char *s = a->emails.items[i].value, *at = strchr(s, '@');
		cfg_node fake = { 0 };

		fake.line = a->emails.items[i].pos.line;
		fake.column = a->emails.items[i].pos.column;
		if (!at || at == s || !at[1] || strchr(at + 1, '@') ||
		    strpbrk(s, " \t,<>:") || !strchr(at + 1, '.')) {
			if (n->kind == CFG_NODE_SEQ) {
				size_t s2 = config__path_push_index(d, i);

				config__err(d, &fake, "invalid email address '%s'", s);
				config__path_pop(d, s2);
			} else {
				config__err(d, &fake, "invalid email address '%s'", s);
			}
		}
	}
	config__path_pop(d, saved);
}

static int check_url_value(cfg_dec *d, const cfg_node *map, const char *key,
			   const config_value *v)
{
	const cfg_node *n = config__map_get(map, key);
	const char *s = v->literal ? v->literal : v->fallback;

	if (!n || !s)
		return 0;
	if (strncmp(s, "https://", 8) || !s[8] || strpbrk(s, " \t")) {
		if (v->literal)
			config__err_field(d, n, key,
				"must be an https:// URL, got '%s'", s);
		else
			config__err_field(d, config__map_get(n, "default"), key,
				"default must be an https:// URL, got '%s'", s);
		return -1;
	}
	return 0;
}

static void decode_acme(cfg_dec *d, const cfg_node *n, config_issuer *is)
{
	static const char *const allowed[] = { "directory", "email", "eab",
		"preferredChain", "profile", "accountKey", "fallback",
		"caBundle", "timeouts", NULL };
	static const char *const eab_allowed[] = { "keyId", "hmacKey", NULL };
	static const char *const to_allowed[] = { "request", "order", NULL };
	config_acme *a = &is->acme;
	const cfg_node *sub;
	size_t saved = config__path_push(d, "acme"), s2, i;

	a->request_timeout = 30;
	a->order_timeout = 300;
	if (!config__expect_map(d, n, allowed, &a->field_pos))
		goto done;
	if (config__get_value(d, n, "directory", 1, &a->directory) > 0)
		check_url_value(d, n, "directory", &a->directory);
	decode_emails(d, n, a);
	if ((sub = config__map_get(n, "eab"))) {
		s2 = config__path_push(d, "eab");
		if (config__expect_map(d, sub, eab_allowed, NULL)) {
			a->has_eab = 1;
			config__get_str(d, sub, "keyId", 1, &a->eab_key_id, NULL);
			config__get_secret(d, sub, "hmacKey", 1, &a->eab_hmac_key);
		}
		config__path_pop(d, s2);
	}
	config__get_str(d, n, "preferredChain", 0, &a->preferred_chain, NULL);
	config__get_str(d, n, "profile", 0, &a->profile, NULL);
	config__get_key_type(d, n, "accountKey", &a->account_key);
	if (config__get_strings(d, n, "fallback", 0, &a->fallback) > 0) {
		s2 = config__path_push(d, "fallback");
		for (i = 0; i < a->fallback.count; i++) {
			cfg_node fake = { 0 };
			size_t s3;

			if (config__check_name(a->fallback.items[i].value))
				continue;
			fake.line = a->fallback.items[i].pos.line;
			fake.column = a->fallback.items[i].pos.column;
			s3 = config__path_push_index(d, i);
			config__err(d, &fake, "invalid issuer name '%s'",
				    a->fallback.items[i].value);
			config__path_pop(d, s3);
		}
		config__path_pop(d, s2);
	}
	if (config__get_value(d, n, "caBundle", 0, &a->ca_bundle) > 0 &&
	    a->ca_bundle.literal && a->ca_bundle.literal[0] != '/')
		config__err_field(d, config__map_get(n, "caBundle"), "caBundle",
				  "must be an absolute path");
	if ((sub = config__map_get(n, "timeouts"))) {
		s2 = config__path_push(d, "timeouts");
		if (config__expect_map(d, sub, to_allowed, NULL)) {
			config__get_duration(d, sub, "request", 0,
					     &a->request_timeout);
			config__get_duration(d, sub, "order", 0,
					     &a->order_timeout);
		}
		config__path_pop(d, s2);
	}
done:
	config__path_pop(d, saved);
}

static void decode_ca(cfg_dec *d, const cfg_node *n, config_issuer *is)
{
	static const char *const allowed[] = { "key", "cert", "commonName",
		"keyType", "lifetime", NULL };
	config_local_ca *ca = &is->ca;
	size_t saved = config__path_push(d, "ca");

	ca->lifetime = 90 * 86400;
	if (!config__expect_map(d, n, allowed, &ca->field_pos))
		goto done;
	config__get_secret(d, n, "key", 0, &ca->key);
	config__get_secret(d, n, "cert", 0, &ca->cert);
	if (config__map_get(n, "key") && !config__map_get(n, "cert"))
		config__err_field(d, n, "cert",
			"missing required field (with 'key')");
	else if (config__map_get(n, "cert") && !config__map_get(n, "key"))
		config__err_field(d, n, "key",
			"missing required field (with 'cert')");
	config__get_str(d, n, "commonName", 0, &ca->common_name, NULL);
	config__get_key_type(d, n, "keyType", &ca->key_type);
	config__get_duration(d, n, "lifetime", 0, &ca->lifetime);
done:
	config__path_pop(d, saved);
}

void config__decode_issuer(cfg_dec *d, const cfg_node *root)
{
	static const char *const allowed[] = { "kind", "name", "acme", "ca",
		NULL };
	config_issuer *is = config__arena_alloc(d->arena, sizeof(*is));
	const cfg_node *acme, *ca;

	if (!is) {
		d->oom = 1;
		return;
	}
	is->pos = config__pos(d, root);
	config__expect_map(d, root, allowed, &is->field_pos);
	config__get_name(d, root, &is->name);
	acme = config__map_get(root, "acme");
	ca = config__map_get(root, "ca");
	if (acme && ca) {
		config__err_field(d, ca, "ca",
			"give only one of 'acme' or 'ca'");
	} else if (acme) {
		is->type = CONFIG_ISSUER_ACME;
		decode_acme(d, acme, is);
	} else if (ca) {
		is->type = CONFIG_ISSUER_CA;
		decode_ca(d, ca, is);
	} else {
		config__err(d, root, "an Issuer needs 'acme' or 'ca'");
	}
	if (config__set_push((void ***)&d->set->issuers, &d->set->nissuers,
			     &d->set->aissuers, is) < 0)
		d->oom = 1;
}

/* ---- Solver ---- */

void config__decode_solver(cfg_dec *d, const cfg_node *root)
{
	static const char *const allowed[] = { "kind", "name", "default",
		"challenge", NULL };
	config_solver *s = config__arena_alloc(d->arena, sizeof(*s));
	const cfg_node *ch;

	if (!s) {
		d->oom = 1;
		return;
	}
	s->pos = config__pos(d, root);
	config__expect_map(d, root, allowed, &s->field_pos);
	config__get_name(d, root, &s->name);
	config__get_bool(d, root, "default", &s->is_default);
	if (!(ch = config__map_get(root, "challenge"))) {
		config__err_field(d, root, "challenge", "missing required field");
	} else {
		size_t saved = config__path_push(d, "challenge");

		config__decode_challenge(d, ch, &s->challenge);
		config__path_pop(d, saved);
	}
	if (config__set_push((void ***)&d->set->solvers, &d->set->nsolvers,
			     &d->set->asolvers, s) < 0)
		d->oom = 1;
}

