/*
 * Content hashes of declarations, for the planner's "declaration changed".
 *
 * The canonical form is one "key=<JSON string>" line per field, in a fixed
 * order, with lists sorted where order has no meaning (identifiers): no
 * ambiguity, no dependence on YAML formatting, comments or field order.
 * The "v1" first line lets a later format change be told apart.
 * (SHA-256 is crypto_sha256_hex.)
 */
#include <stdlib.h>
#include <string.h>

#include "config/config_internal.h"
#include "crypto/crypto.h"

static void field(util_buf *b, const char *key, const char *value)
{
	util_buf_puts(b, key);
	util_buf_putc(b, '=');
	if (value)
		util_buf_put_json_string(b, value);
	else
		util_buf_puts(b, "null");
	util_buf_putc(b, '\n');
}

static void field_u(util_buf *b, const char *key, unsigned long long v)
{
	util_buf_printf(b, "%s=%llu\n", key, v);
}

static void field_secret(util_buf *b, const char *key, const config_secret *s)
{
	util_buf_puts(b, key);
	util_buf_puts(b, s->source == CONFIG_SECRET_ENV ? ".env" :
		      s->source == CONFIG_SECRET_FILE ? ".file" : ".none");
	util_buf_putc(b, '=');
	util_buf_put_json_string(b, s->ref ? s->ref : "");
	util_buf_putc(b, '\n');
}

static void field_list(util_buf *b, const char *key, const config_strings *l)
{
	size_t i;

	for (i = 0; i < l->count; i++)
		field(b, key, l->items[i].value);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int field_sorted(util_buf *b, const char *key, const config_strings *l)
{
	const char **v = malloc((l->count ? l->count : 1) * sizeof(*v));
	size_t i;

	if (!v)
		return -1;
	for (i = 0; i < l->count; i++)
		v[i] = l->items[i].value ? l->items[i].value : "";
	qsort(v, l->count, sizeof(*v), cmp_str);
	for (i = 0; i < l->count; i++)
		field(b, key, v[i]);
	free(v);
	return 0;
}

_Static_assert(CONFIG_HASH_HEX_LEN == 64, "a declaration hash is a hex SHA-256");

static int digest_hex(char out[CONFIG_HASH_HEX_LEN + 1], util_buf *b)
{
	out[0] = '\0';
	if (util_buf_failed(b))
		return util_error_oom();
	return crypto_sha256_hex(out, b->ptr, b->size);
}

int config_certificate_hash(char out[CONFIG_HASH_HEX_LEN + 1],
			    const config_certificate *c)
{
	util_buf b = UTIL_BUF_INIT;
	int error;

	util_buf_puts(&b, "v1 certificate\n");
	field(&b, "issuer", c->issuer);
	if (field_sorted(&b, "dns", &c->domains) < 0 ||
	    field_sorted(&b, "ip", &c->ip_addresses) < 0) {
		util_buf_release(&b);
		return util_error_oom();
	}
	field(&b, "commonName", c->common_name);
	field(&b, "keyType", config_key_type_name(c->key_type));
	field_u(&b, "keyReuse", (unsigned long long)!!c->key_reuse);
	error = digest_hex(out, &b);
	util_buf_release(&b);
	return error;
}

int config_target_hash(char out[CONFIG_HASH_HEX_LEN + 1],
		       const config_target *t)
{
	util_buf b = UTIL_BUF_INIT;
	int error;

	util_buf_printf(&b, "v1 target %s\n", config_target_type_name(t->type));
	switch (t->type) {
	case CONFIG_TARGET_FILES:
		field(&b, "dir", t->files.dir);
		field(&b, "cert", t->files.cert);
		field(&b, "chain", t->files.chain);
		field(&b, "fullchain", t->files.fullchain);
		field(&b, "key", t->files.key);
		field(&b, "combined", t->files.combined);
		field_u(&b, "mode", t->files.mode);
		field(&b, "owner", t->files.owner);
		field(&b, "group", t->files.group);
		break;
	case CONFIG_TARGET_PKCS12:
		field(&b, "path", t->pkcs12.path);
		field_secret(&b, "password", &t->pkcs12.password);
		field_u(&b, "legacy", (unsigned long long)t->pkcs12.legacy);
		field(&b, "friendlyName", t->pkcs12.friendly_name);
		field_u(&b, "mode", t->pkcs12.mode);
		break;
	case CONFIG_TARGET_EXEC:
		field_list(&b, "command", &t->exec.command);
		field_u(&b, "timeout", (unsigned long long)t->exec.timeout);
		break;
	case CONFIG_TARGET_VAULT:
		field(&b, "address", t->vault.address);
		field(&b, "mount", t->vault.mount);
		field(&b, "path", t->vault.path);
		field(&b, "namespace", t->vault.namespace_);
		field_secret(&b, "token", &t->vault.token);
		field(&b, "caBundle", t->vault.ca_bundle);
		field(&b, "fields.cert", t->vault.field_cert);
		field(&b, "fields.chain", t->vault.field_chain);
		field(&b, "fields.fullchain", t->vault.field_fullchain);
		field(&b, "fields.key", t->vault.field_key);
		break;
	default:
		break;
	}
	error = digest_hex(out, &b);
	util_buf_release(&b);
	return error;
}

int config_issuer_hash(char out[CONFIG_HASH_HEX_LEN + 1],
		       const config_issuer *is)
{
	util_buf b = UTIL_BUF_INIT;
	int error;

	util_buf_puts(&b, "v1 issuer\n");
	if (is->type == CONFIG_ISSUER_ACME) {
		field(&b, "type", "acme");
		field(&b, "directory", is->acme.directory.literal);
		field(&b, "directory.env", is->acme.directory.env);
		field(&b, "directory.default", is->acme.directory.fallback);
		field(&b, "eab.keyId", is->acme.has_eab ? is->acme.eab_key_id : NULL);
		field(&b, "profile", is->acme.profile);
		field(&b, "preferredChain", is->acme.preferred_chain);
	} else {
		field(&b, "type", "ca");
		field_secret(&b, "key", &is->ca.key);
		field_secret(&b, "cert", &is->ca.cert);
		field(&b, "commonName", is->ca.common_name);
		field(&b, "keyType", config_key_type_name(is->ca.key_type));
		field_u(&b, "lifetime", (unsigned long long)is->ca.lifetime);
	}
	error = digest_hex(out, &b);
	util_buf_release(&b);
	return error;
}

static void add_id(util_buf *out, size_t *count, const char *a,
		   const char *b)
{
	if (!a || (b == NULL && a == NULL))
		return;
	util_buf_puts(out, a);
	if (b) {
		util_buf_putc(out, '/');
		util_buf_puts(out, b);
	}
	util_buf_putc(out, '\0');
	(*count)++;
}

void config__target_identities(util_buf *out, size_t *count,
			       const config_target *t)
{
	util_buf tmp = UTIL_BUF_INIT;

	*count = 0;
	switch (t->type) {
	case CONFIG_TARGET_FILES:
		if (!t->files.dir)
			break;
		if (t->files.cert)
			add_id(out, count, t->files.dir, t->files.cert);
		if (t->files.chain)
			add_id(out, count, t->files.dir, t->files.chain);
		if (t->files.fullchain)
			add_id(out, count, t->files.dir, t->files.fullchain);
		if (t->files.key)
			add_id(out, count, t->files.dir, t->files.key);
		if (t->files.combined)
			add_id(out, count, t->files.dir, t->files.combined);
		break;
	case CONFIG_TARGET_PKCS12:
		add_id(out, count, t->pkcs12.path, NULL);
		break;
	case CONFIG_TARGET_VAULT:
		if (!t->vault.address || !t->vault.path)
			break;
		util_buf_printf(&tmp, "vault:%s%s%s/%s/%s",
				t->vault.address,
				t->vault.namespace_ ? "/ns:" : "",
				t->vault.namespace_ ? t->vault.namespace_ : "",
				t->vault.mount, t->vault.path);
		if (util_buf_failed(&tmp))
			out->failed = 1;
		else
			add_id(out, count, tmp.ptr, NULL);
		break;
	default:
		break; /* exec writes nothing certops owns */
	}
	util_buf_release(&tmp);
}
