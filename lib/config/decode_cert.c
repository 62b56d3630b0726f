/*
 * The Certificate kind and its parts: identifiers, key, renewal policy,
 * challenge (shared with Solver), deploy targets and verify probes.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_internal.h"

/* Exactly one of the keys in names is present; returns its index or -1. */
static int one_of(cfg_dec *d, const cfg_node *map, const char *const *names,
		  const char *what)
{
	int i, found = -1;

	for (i = 0; names[i]; i++) {
		const cfg_node *v = config__map_get(map, names[i]);

		if (!v)
			continue;
		if (found >= 0) {
			config__err_field(d, v, names[i],
				"give only one of %s", what);
			return -1;
		}
		found = i;
	}
	if (found < 0)
		config__err(d, map, "needs one of %s", what);
	return found;
}

static void check_listen(cfg_dec *d, const cfg_node *map, config_value *v)
{
	if (config__get_value(d, map, "listen", 1, v) > 0 && v->literal)
		config__check_hostport(d, config__map_get(map, "listen"),
				       "listen", v->literal);
}

static void decode_dns01(cfg_dec *d, const cfg_node *n, config_challenge *c)
{
	static const char *const allowed[] = { "rfc2136", "exec",
		"propagationTimeout", NULL };
	static const char *const kinds[] = { "rfc2136", "exec", NULL };
	static const char *const rfc_allowed[] = { "server", "zone", "tsigKey",
		NULL };
	static const char *const tsig_allowed[] = { "name", "algorithm",
		"secret", NULL };
	static const char *const exec_allowed[] = { "command", "timeout", NULL };
	static const char *const algs[] = { "hmac-sha256", "hmac-sha384",
		"hmac-sha512", NULL };
	const cfg_node *sub, *tk, *an;
	size_t s1, s2;
	const char *server = NULL, *alg;
	int which, i, rc;

	c->dns01.timeout = 60;
	c->dns01.propagation_timeout = 120;
	c->dns01.tsig_algorithm = "hmac-sha256";
	if ((rc = config__expect_map(d, n, allowed, &c->field_pos)) == 0)
		return;
	config__get_duration(d, n, "propagationTimeout", 0,
			     &c->dns01.propagation_timeout);
	if (rc != 1 || (which = one_of(d, n, kinds, "'rfc2136' or 'exec'")) < 0)
		return;
	sub = config__map_get(n, kinds[which]);
	s1 = config__path_push(d, kinds[which]);
	if (which == 0) {
		c->dns01.type = CONFIG_DNS01_RFC2136;
		if (!config__expect_map(d, sub, rfc_allowed, NULL))
			goto done;
		if (config__get_str(d, sub, "server", 1, &server, NULL) > 0 &&
		    config__check_hostport(d, config__map_get(sub, "server"),
					   "server", server) > 0)
			c->dns01.server = server;
		config__get_str(d, sub, "zone", 1, &c->dns01.zone, NULL);
		if ((tk = config__map_get(sub, "tsigKey"))) {
			s2 = config__path_push(d, "tsigKey");
			if (config__expect_map(d, tk, tsig_allowed, NULL)) {
				config__get_str(d, tk, "name", 1,
						&c->dns01.tsig_name, NULL);
				config__get_secret(d, tk, "secret", 1,
						   &c->dns01.tsig_secret);
				if (config__get_str(d, tk, "algorithm", 0, &alg,
						    &an) > 0) {
					for (i = 0; algs[i]; i++)
						if (!strcmp(algs[i], alg))
							break;
					if (algs[i])
						c->dns01.tsig_algorithm = algs[i];
					else
						config__err_field(d, an, "algorithm",
							"unknown TSIG algorithm '%s' (hmac-sha256, hmac-sha384, hmac-sha512)",
							alg);
				}
			}
			config__path_pop(d, s2);
		}
	} else {
		c->dns01.type = CONFIG_DNS01_EXEC;
		if (config__expect_map(d, sub, exec_allowed, NULL)) {
			config__get_strings(d, sub, "command", 1,
					    &c->dns01.command);
			config__get_duration(d, sub, "timeout", 0,
					     &c->dns01.timeout);
		}
	}
done:
	config__path_pop(d, s1);
}

int config__decode_challenge(cfg_dec *d, const cfg_node *map,
			     config_challenge *c)
{
	static const char *const kinds[] = { "http01", "dns01", "tlsalpn01",
		NULL };
	static const char *const http_allowed[] = { "webroot", "listen", NULL };
	static const char *const http_kinds[] = { "webroot", "listen", NULL };
	static const char *const alpn_allowed[] = { "listen", NULL };
	const cfg_node *n;
	size_t saved;
	int which;

	c->pos = config__pos(d, map);
	if (config__expect_map(d, map, kinds, NULL) != 1)
		return -1;
	if ((which = one_of(d, map, kinds,
			    "'http01', 'dns01' or 'tlsalpn01'")) < 0)
		return -1;
	n = config__map_get(map, kinds[which]);
	saved = config__path_push(d, kinds[which]);
	c->type = (config_challenge_type)(which + 1);
	switch (c->type) {
	case CONFIG_CHALLENGE_HTTP01:
		if (config__expect_map(d, n, http_allowed, &c->field_pos) != 1)
			break;
		if (one_of(d, n, http_kinds, "'webroot' or 'listen'") == 0)
			config__get_path(d, n, "webroot", 1, &c->http01.webroot);
		else if (config__map_get(n, "listen"))
			check_listen(d, n, &c->http01.listen);
		break;
	case CONFIG_CHALLENGE_DNS01:
		decode_dns01(d, n, c);
		break;
	default:
		if (config__expect_map(d, n, alpn_allowed, &c->field_pos))
			check_listen(d, n, &c->tlsalpn01.listen);
		break;
	}
	config__path_pop(d, saved);
	return 0;
}

/* ---- deploy targets ---- */

/* A user or group: a POSIX-style name (at most 32) or a numeric id. */
static void get_account(cfg_dec *d, const cfg_node *map, const char *key,
			const char **out)
{
	const cfg_node *n;
	const char *s;
	size_t len;

	if (config__get_str(d, map, key, 0, &s, &n) <= 0)
		return;
	len = strlen(s);
	if (strspn(s, "0123456789") == len ||
	    (len <= 32 && (isalpha((unsigned char)s[0]) || s[0] == '_') &&
	     strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789_.-") == len))
		*out = s;
	else
		config__err_field(d, n, key,
			"invalid %s '%s' (a user or group name, or a numeric id)",
			key, s);
}

static void decode_files(cfg_dec *d, const cfg_node *n, config_target *t)
{
	static const char *const allowed[] = { "dir", "cert", "chain",
		"fullchain", "key", "combined", "mode", "owner", "group", NULL };
	static const char *const names[] = { "cert", "chain", "fullchain",
		"key", "combined", NULL };
	const char **slots[] = { &t->files.cert, &t->files.chain,
		&t->files.fullchain, &t->files.key, &t->files.combined };
	int i, any = 0;

	t->files.mode = 0600;
	if (!config__expect_map(d, n, allowed, &t->field_pos))
		return;
	config__get_path(d, n, "dir", 1, &t->files.dir);
	for (i = 0; names[i]; i++) {
		if (config__map_get(n, names[i]))
			any = 1;
		config__get_filename(d, n, names[i], slots[i]);
	}
	if (!any) {
		t->files.fullchain = "fullchain.pem";
		t->files.key = "privkey.pem";
	}
	config__get_mode(d, n, "mode", &t->files.mode);
	get_account(d, n, "owner", &t->files.owner);
	get_account(d, n, "group", &t->files.group);
}

static void decode_pkcs12(cfg_dec *d, const cfg_node *n, config_target *t)
{
	static const char *const allowed[] = { "path", "password", "encryption",
		"friendlyName", "mode", NULL };
	const cfg_node *en;
	const char *enc;

	t->pkcs12.mode = 0600;
	if (!config__expect_map(d, n, allowed, &t->field_pos))
		return;
	config__get_path(d, n, "path", 1, &t->pkcs12.path);
	config__get_secret(d, n, "password", 1, &t->pkcs12.password);
	if (config__get_str(d, n, "encryption", 0, &enc, &en) > 0) {
		if (!strcmp(enc, "legacy"))
			t->pkcs12.legacy = 1;
		else if (strcmp(enc, "modern"))
			config__err_field(d, en, "encryption",
				"unknown encryption '%s' (modern or legacy)", enc);
	}
	config__get_str(d, n, "friendlyName", 0, &t->pkcs12.friendly_name, NULL);
	config__get_mode(d, n, "mode", &t->pkcs12.mode);
}

static void decode_exec(cfg_dec *d, const cfg_node *n, config_target *t)
{
	static const char *const allowed[] = { "command", "timeout", NULL };

	t->exec.timeout = 60;
	if (!config__expect_map(d, n, allowed, &t->field_pos))
		return;
	config__get_strings(d, n, "command", 1, &t->exec.command);
	config__get_duration(d, n, "timeout", 0, &t->exec.timeout);
}

static void decode_vault(cfg_dec *d, const cfg_node *n, config_target *t)
{
	static const char *const allowed[] = { "address", "mount", "path",
		"token", "namespace", "fields", "caBundle", NULL };
	static const char *const fields_allowed[] = { "cert", "chain",
		"fullchain", "key", NULL };
	const cfg_node *an, *fn;
	const char *addr;

	t->vault.mount = "secret";
	t->vault.field_cert = "certificate";
	t->vault.field_chain = "chain";
	t->vault.field_fullchain = "fullchain";
	t->vault.field_key = "private_key";
	if (!config__expect_map(d, n, allowed, &t->field_pos))
		return;
	if (config__get_str(d, n, "address", 1, &addr, &an) > 0) {
		if (strncmp(addr, "https://", 8) && strncmp(addr, "http://", 7))
			config__err_field(d, an, "address",
				"must be an http(s):// URL, got '%s'", addr);
		else
			t->vault.address = addr;
	}
	config__get_str(d, n, "mount", 0, &t->vault.mount, NULL);
	config__get_str(d, n, "path", 1, &t->vault.path, NULL);
	config__get_secret(d, n, "token", 1, &t->vault.token);
	config__get_str(d, n, "namespace", 0, &t->vault.namespace_, NULL);
	config__get_path(d, n, "caBundle", 0, &t->vault.ca_bundle);
	if ((fn = config__map_get(n, "fields"))) {
		size_t saved = config__path_push(d, "fields");

		if (config__expect_map(d, fn, fields_allowed, NULL)) {
			config__get_str(d, fn, "cert", 0, &t->vault.field_cert, NULL);
			config__get_str(d, fn, "chain", 0, &t->vault.field_chain, NULL);
			config__get_str(d, fn, "fullchain", 0,
					&t->vault.field_fullchain, NULL);
			config__get_str(d, fn, "key", 0, &t->vault.field_key, NULL);
		}
		config__path_pop(d, saved);
	}
}

static void decode_deploy(cfg_dec *d, const cfg_node *list,
			  config_certificate *c)
{
	static const char *const kinds[] = { "files", "pkcs12", "exec", "vault",
		NULL };
	size_t i, saved = config__path_push(d, "deploy");

	if (list->kind != CFG_NODE_SEQ) {
		config__err(d, list, "expected a list, got %s",
			    config__node_kind_name(list));
		goto done;
	}
	c->deploy = config__arena_alloc(d->arena,
				(list->n ? list->n : 1) * sizeof(*c->deploy));
	if (!c->deploy) {
		d->oom = 1;
		goto done;
	}
	for (i = 0; i < list->n; i++) {
		const cfg_node *it = list->items[i];
		config_target *t = &c->deploy[c->ndeploy];
		size_t s1 = config__path_push_index(d, i), s2;
		int which;

		if (config__expect_map(d, it, kinds, NULL) != 1 ||
		    (which = one_of(d, it, kinds,
			"'files', 'pkcs12', 'exec' or 'vault'")) < 0) {
			config__path_pop(d, s1);
			continue;
		}
		t->type = (config_target_type)which;
		t->index = (unsigned)i;
		t->pos = config__pos(d, it);
		s2 = config__path_push(d, kinds[which]);
		switch (t->type) {
		case CONFIG_TARGET_FILES:
			decode_files(d, config__map_get(it, kinds[which]), t);
			break;
		case CONFIG_TARGET_PKCS12:
			decode_pkcs12(d, config__map_get(it, kinds[which]), t);
			break;
		case CONFIG_TARGET_EXEC:
			decode_exec(d, config__map_get(it, kinds[which]), t);
			break;
		default:
			decode_vault(d, config__map_get(it, kinds[which]), t);
			break;
		}
		config__path_pop(d, s2);
		config__path_pop(d, s1);
		c->ndeploy++;
	}
done:
	config__path_pop(d, saved);
}

static void decode_verify(cfg_dec *d, const cfg_node *list,
			  config_certificate *c)
{
	static const char *const kinds[] = { "tls", NULL };
	static const char *const tls_allowed[] = { "connect", "serverName",
		"timeout", NULL };
	size_t i, saved = config__path_push(d, "verify");

	if (list->kind != CFG_NODE_SEQ) {
		config__err(d, list, "expected a list, got %s",
			    config__node_kind_name(list));
		goto done;
	}
	c->verify = config__arena_alloc(d->arena,
				(list->n ? list->n : 1) * sizeof(*c->verify));
	if (!c->verify) {
		d->oom = 1;
		goto done;
	}
	for (i = 0; i < list->n; i++) {
		const cfg_node *it = list->items[i], *tls, *cn;
		config_verify *v = &c->verify[c->nverify];
		size_t s1 = config__path_push_index(d, i), s2;
		const char *connect;

		if (config__expect_map(d, it, kinds, NULL) != 1 ||
		    one_of(d, it, kinds, "'tls'") < 0) {
			config__path_pop(d, s1);
			continue;
		}
		tls = config__map_get(it, "tls");
		v->type = CONFIG_VERIFY_TLS;
		v->pos = config__pos(d, it);
		v->timeout = 10;
		s2 = config__path_push(d, "tls");
		if (config__expect_map(d, tls, tls_allowed, &v->field_pos)) {
			if (config__get_str(d, tls, "connect", 1, &connect, &cn) > 0 &&
			    config__check_hostport(d, cn, "connect", connect) > 0)
				v->connect = connect;
			config__get_str(d, tls, "serverName", 0, &v->server_name,
					NULL);
			config__get_duration(d, tls, "timeout", 0, &v->timeout);
		}
		config__path_pop(d, s2);
		config__path_pop(d, s1);
		c->nverify++;
	}
done:
	config__path_pop(d, saved);
}

/* ---- identifiers, renewal, labels ---- */

static void check_identifiers(cfg_dec *d, config_certificate *c, int dns)
{
	config_strings *list = dns ? &c->domains : &c->ip_addresses;
	size_t i, j, saved = config__path_push(d, dns ? "domains" : "ipAddresses");

	for (i = 0; i < list->count; i++) {
		config_string *it = &list->items[i];
		cfg_node at = { 0 };
		char norm[256];
		const char *why;
		size_t s1;

		at.line = it->pos.line;
		at.column = it->pos.column;
		s1 = config__path_push_index(d, i);
		why = dns ? config__check_dns_name(it->value, norm, sizeof(norm)) :
			    config__check_ip(it->value, norm, sizeof(norm));
		if (why) {
			config__err(d, &at, why, it->value);
		} else {
			if (strcmp(norm, it->value)) {
				it->value = config__arena_strdup(d->arena, norm);
				if (!it->value)
					d->oom = 1;
			}
			for (j = 0; it->value && j < i; j++)
				if (list->items[j].value &&
				    !strcmp(list->items[j].value, it->value)) {
					config__err(d, &at,
						"duplicate identifier '%s' (also at line %u)",
						it->value, list->items[j].pos.line);
					break;
				}
		}
		config__path_pop(d, s1);
	}
	config__path_pop(d, saved);
}

static void decode_renew(cfg_dec *d, const cfg_node *root,
			 config_certificate *c)
{
	const cfg_node *n = config__map_get(root, "renewBefore");
	char *end;
	double f;

	c->renew_fraction = 1.0 / 3.0;
	if (!n)
		return;
	if (n->kind == CFG_NODE_SCALAR && n->stype == CFG_SCALAR_FLOAT) {
		f = strtod(n->str, &end);
		if (*end || !(f > 0.0 && f < 1.0))
			config__err_field(d, n, "renewBefore",
				"a fraction of the lifetime must be between 0 and 1, got %s",
				n->str);
		else
			c->renew_fraction = f;
		return;
	}
	if (n->kind == CFG_NODE_SCALAR && n->stype == CFG_SCALAR_INT) {
		config__err_field(d, n, "renewBefore",
			"expected a duration (\"30d\") or a fraction (0.33), got an integer");
		return;
	}
	if (config__get_duration(d, root, "renewBefore", 0, &c->renew_before) > 0)
		c->renew_fraction = 0;
}

static void decode_labels(cfg_dec *d, const cfg_node *n, config_certificate *c)
{
	size_t i, saved = config__path_push(d, "labels");

	if (n->kind != CFG_NODE_MAP) {
		config__err(d, n, "expected a mapping, got %s",
			    config__node_kind_name(n));
		goto done;
	}
	c->labels = config__arena_alloc(d->arena,
				(n->n ? n->n : 1) * sizeof(*c->labels));
	if (!c->labels) {
		d->oom = 1;
		goto done;
	}
	for (i = 0; i < n->n; i++) {
		const cfg_node *k = n->items[2 * i], *v = n->items[2 * i + 1];

		if (k->kind != CFG_NODE_SCALAR)
			continue;
		if (v->kind != CFG_NODE_SCALAR || v->stype != CFG_SCALAR_STR) {
			config__err_field(d, v, k->str,
				"expected a string, got %s%s",
				config__node_kind_name(v),
				v->kind == CFG_NODE_SCALAR &&
				v->stype != CFG_SCALAR_NULL ? " (quote it)" : "");
			continue;
		}
		c->labels[c->nlabels].key = k->str;
		c->labels[c->nlabels].value = v->str;
		c->nlabels++;
	}
done:
	config__path_pop(d, saved);
}

void config__decode_certificate(cfg_dec *d, const cfg_node *root)
{
	static const char *const allowed[] = { "kind", "name", "issuer",
		"domains", "ipAddresses", "commonName", "key", "renewBefore",
		"challenge", "solver", "deploy", "verify", "labels", NULL };
	static const char *const key_allowed[] = { "type", "reuse", NULL };
	config_certificate *c = config__arena_alloc(d->arena, sizeof(*c));
	const cfg_node *n, *cn;
	size_t i, saved;
	int found;

	if (!c) {
		d->oom = 1;
		return;
	}
	c->pos = config__pos(d, root);
	config__expect_map(d, root, allowed, &c->field_pos);
	config__get_name(d, root, &c->name);
	config__get_str(d, root, "issuer", 1, &c->issuer, NULL);
	if (config__get_strings(d, root, "domains", 2, &c->domains) > 0)
		check_identifiers(d, c, 1);
	if (config__get_strings(d, root, "ipAddresses", 2,
				&c->ip_addresses) > 0)
		check_identifiers(d, c, 0);
	if (!config__map_get(root, "domains") &&
	    !config__map_get(root, "ipAddresses"))
		config__err_field(d, root, "domains",
			"missing required field (or 'ipAddresses')");
	if (config__get_str(d, root, "commonName", 0, &c->common_name, &cn) > 0) {
		found = 0;
		for (i = 0; i < c->domains.count; i++)
			if (!strcasecmp(c->domains.items[i].value, c->common_name))
				found = 1;
		for (i = 0; i < c->ip_addresses.count; i++)
			if (!strcmp(c->ip_addresses.items[i].value, c->common_name))
				found = 1;
		if (strlen(c->common_name) > 64)
			config__err_field(d, cn, "commonName",
				"longer than 64 characters");
		else if (!found)
			config__err_field(d, cn, "commonName",
				"'%s' is not one of the domains or ipAddresses",
				c->common_name);
	}
	if ((n = config__map_get(root, "key"))) {
		saved = config__path_push(d, "key");
		if (config__expect_map(d, n, key_allowed, NULL)) {
			config__get_key_type(d, n, "type", &c->key_type);
			config__get_bool(d, n, "reuse", &c->key_reuse);
		}
		config__path_pop(d, saved);
	}
	decode_renew(d, root, c);
	config__get_str(d, root, "solver", 0, &c->solver, NULL);
	if ((n = config__map_get(root, "challenge"))) {
		if (c->solver)
			config__err_field(d, n, "challenge",
				"give only one of 'challenge' or 'solver'");
		saved = config__path_push(d, "challenge");
		config__decode_challenge(d, n, &c->challenge);
		config__path_pop(d, saved);
	}
	if ((n = config__map_get(root, "deploy")))
		decode_deploy(d, n, c);
	if ((n = config__map_get(root, "verify")))
		decode_verify(d, n, c);
	if ((n = config__map_get(root, "labels")))
		decode_labels(d, n, c);
	if (config__set_push((void ***)&d->set->certificates,
			     &d->set->ncertificates, &d->set->acertificates, c) < 0)
		d->oom = 1;
}
