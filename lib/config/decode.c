/*
 * Node tree → typed declarations: the shared field getters and the
 * document dispatch by kind (the kinds are in decode_issuer.c and
 * decode_cert.c).  Every problem is reported, with its position and field
 * path, and decoding goes on so that one run shows them all.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_internal.h"
#include "util/duration.h"

static void verr(cfg_dec *d, const cfg_node *at, const char *field,
		 const char *fmt, va_list ap)
{
	util_buf msg = UTIL_BUF_INIT;
	const char *path = d->path.ptr;
	size_t saved = d->path.size;

	if (field)
		config__path_push(d, field);
	path = d->path.ptr[0] == '.' ? d->path.ptr + 1 : d->path.ptr;
	util_buf_vprintf(&msg, fmt, ap);
	if (util_buf_failed(&msg) ||
	    util_diags_add(d->diags, CERTOPS_EINVALID, d->file, at->line,
			   at->column, *path ? path : NULL, "%s", msg.ptr) < 0)
		d->oom = 1;
	util_buf_release(&msg);
	config__path_pop(d, saved);
	d->nerrors++;
}

void config__err(cfg_dec *d, const cfg_node *at, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verr(d, at, NULL, fmt, ap);
	va_end(ap);
}

void config__err_field(cfg_dec *d, const cfg_node *at, const char *field,
		       const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verr(d, at, field, fmt, ap);
	va_end(ap);
}

size_t config__path_push(cfg_dec *d, const char *key)
{
	size_t saved = d->path.size;

	util_buf_putc(&d->path, '.');
	util_buf_puts(&d->path, key);
	return saved;
}

size_t config__path_push_index(cfg_dec *d, size_t i)
{
	size_t saved = d->path.size;

	util_buf_printf(&d->path, "[%zu]", i);
	return saved;
}

void config__path_pop(cfg_dec *d, size_t saved)
{
	util_buf_truncate(&d->path, saved);
}

config_pos config__pos(const cfg_dec *d, const cfg_node *n)
{
	config_pos p = { d->file, n->line, n->column };

	return p;
}

int config__set_push(void ***arr, size_t *n, size_t *alloc, void *item)
{
	if (*n == *alloc) {
		size_t na = *alloc ? *alloc * 2 : 16;
		void **p = realloc(*arr, na * sizeof(*p));

		if (!p)
			return util_error_oom();
		*arr = p;
		*alloc = na;
	}
	(*arr)[(*n)++] = item;
	return 0;
}

/* Without a near miss, a short list of what is allowed helps more. */
static void unknown_field(cfg_dec *d, const cfg_node *k,
			  const char *const *allowed)
{
	util_buf list = UTIL_BUF_INIT;
	size_t i;

	for (i = 0; allowed[i]; i++) {
		if (i)
			util_buf_puts(&list, ", ");
		util_buf_puts(&list, allowed[i]);
	}
	if (i <= 6 && !util_buf_failed(&list))
		config__err_field(d, k, k->str,
			"unknown field '%s' (expected %s%s)", k->str,
			i > 1 ? "one of " : "", list.ptr);
	else
		config__err_field(d, k, k->str, "unknown field '%s'", k->str);
	util_buf_release(&list);
}

int config__expect_map(cfg_dec *d, const cfg_node *n,
		       const char *const *allowed, config_fields *fields)
{
	size_t i;
	int rc = 1;

	if (n->kind != CFG_NODE_MAP) {
		config__err(d, n, "expected a mapping, got %s",
			    config__node_kind_name(n));
		return 0;
	}
	if (fields && n->n) {
		fields->items = config__arena_alloc(d->arena,
					n->n * sizeof(*fields->items));
		if (!fields->items)
			d->oom = 1;
	}
	for (i = 0; i < n->n; i++) {
		const cfg_node *k = n->items[2 * i];
		const char *const *a;

		if (k->kind != CFG_NODE_SCALAR)
			continue; /* reported by the parser */
		for (a = allowed; *a; a++)
			if (!strcmp(*a, k->str))
				break;
		if (!*a) {
			const char *s = config__suggest(k->str, allowed);

			if (s)
				config__err_field(d, k, k->str,
					"unknown field '%s'; did you mean '%s'?",
					k->str, s);
			else
				unknown_field(d, k, allowed);
			rc = 2;
			continue;
		}
		if (fields && fields->items) {
			config_field *f = &fields->items[fields->count++];

			f->key = *a; /* static string */
			f->pos = config__pos(d, n->items[2 * i + 1]);
		}
	}
	return rc;
}

static void missing(cfg_dec *d, const cfg_node *map, const char *key)
{
	config__err_field(d, map, key, "missing required field");
}

/* A scalar string node, non-empty, without NUL; reports otherwise. */
static int want_string(cfg_dec *d, const cfg_node *n, const char *key)
{
	if (n->kind != CFG_NODE_SCALAR || n->stype != CFG_SCALAR_STR) {
		if (n->kind == CFG_NODE_SCALAR && n->stype != CFG_SCALAR_NULL)
			config__err_field(d, n, key,
				"expected a string, got %s (quote it)",
				config__node_kind_name(n));
		else
			config__err_field(d, n, key,
				"expected a string, got %s",
				config__node_kind_name(n));
		return -1;
	}
	if (!n->len) {
		config__err_field(d, n, key, "must not be empty");
		return -1;
	}
	if (strlen(n->str) != n->len) {
		config__err_field(d, n, key, "must not contain NUL characters");
		return -1;
	}
	return 1;
}

int config__get_str(cfg_dec *d, const cfg_node *map, const char *key,
		    int required, const char **out, const cfg_node **node_out)
{
	const cfg_node *n = config__map_get(map, key);

	if (node_out)
		*node_out = n;
	if (!n) {
		if (required)
			missing(d, map, key);
		return required ? -1 : 0;
	}
	if (want_string(d, n, key) < 0)
		return -1;
	*out = n->str;
	return 1;
}

int config__get_bool(cfg_dec *d, const cfg_node *map, const char *key,
		     int *out)
{
	const cfg_node *n = config__map_get(map, key);

	if (!n)
		return 0;
	if (n->kind != CFG_NODE_SCALAR || n->stype != CFG_SCALAR_BOOL) {
		config__err_field(d, n, key, "expected true or false, got %s",
				  config__node_kind_name(n));
		return -1;
	}
	*out = n->bval;
	return 1;
}

int config__get_duration(cfg_dec *d, const cfg_node *map, const char *key,
			 int required, int64_t *out)
{
	const cfg_node *n;
	const char *s;
	int64_t v;
	int rc = config__get_str(d, map, key, required, &s, &n);

	if (rc <= 0)
		return rc;
	if (util_duration_parse(&v, s) < 0) {
		config__err_field(d, n, key,
			"invalid duration '%s' (use e.g. 90d, 12h, 30m, 1d12h)", s);
		return -1;
	}
	if (v <= 0) {
		config__err_field(d, n, key, "duration must be positive");
		return -1;
	}
	*out = v;
	return 1;
}

int config__get_mode(cfg_dec *d, const cfg_node *map, const char *key,
		     unsigned *out)
{
	const cfg_node *n = config__map_get(map, key);
	unsigned v = 0;
	const char *p;

	if (!n)
		return 0;
	if (n->kind == CFG_NODE_SCALAR && n->stype == CFG_SCALAR_INT) {
		config__err_field(d, n, key,
			"expected a string, got an integer (quote file modes: \"0640\")");
		return -1;
	}
	if (want_string(d, n, key) < 0)
		return -1;
	p = n->str;
	if (n->len == 4 && *p == '0')
		p++;
	if (strlen(p) != 3 || strspn(p, "01234567") != 3) {
		config__err_field(d, n, key,
			"invalid file mode '%s' (use octal, e.g. \"0640\")",
			n->str);
		return -1;
	}
	for (; *p; p++)
		v = v * 8 + (unsigned)(*p - '0');
	if (v & 0002) {
		config__err_field(d, n, key,
			"file mode '%s' is world-writable", n->str);
		return -1;
	}
	*out = v;
	return 1;
}

static int check_env_name(const char *s)
{
	if (!(isalpha((unsigned char)*s) || *s == '_'))
		return 0;
	for (s++; *s; s++)
		if (!(isalnum((unsigned char)*s) || *s == '_'))
			return 0;
	return 1;
}

/* Absolute and normalized: what a policy root comparison can trust. */
const char *config__path_problem(const char *s)
{
	const char *p;

	if (s[0] != '/')
		return "must be an absolute path";
	for (p = s; *p; p++) {
		if (*p != '/')
			continue;
		if (p[1] == '/')
			return "must not contain '//'";
		if (p[1] == '.' && (p[2] == '/' || !p[2]))
			return "must not contain '.' components";
		if (p[1] == '.' && p[2] == '.' && (p[3] == '/' || !p[3]))
			return "must not contain '..' components";
		if (!p[1] && p != s)
			return "must not end with '/'";
	}
	return NULL;
}

int config__get_path(cfg_dec *d, const cfg_node *map, const char *key,
		     int required, const char **out)
{
	const cfg_node *n;
	const char *s, *why;
	int rc = config__get_str(d, map, key, required, &s, &n);

	if (rc <= 0)
		return rc;
	if ((why = config__path_problem(s))) {
		config__err_field(d, n, key, "%s", why);
		return -1;
	}
	*out = s;
	return 1;
}

int config__get_filename(cfg_dec *d, const cfg_node *map, const char *key,
			 const char **out)
{
	const cfg_node *n;
	const char *s;
	int rc = config__get_str(d, map, key, 0, &s, &n);

	if (rc <= 0)
		return rc;
	if (strchr(s, '/') || !strcmp(s, ".") || !strcmp(s, "..")) {
		config__err_field(d, n, key,
			"must be a file name without '/' (set 'dir' for the directory)");
		return -1;
	}
	*out = s;
	return 1;
}

int config__get_secret(cfg_dec *d, const cfg_node *map, const char *key,
		       int required, config_secret *out)
{
	static const char *const allowed[] = { "env", "file", NULL };
	const cfg_node *n = config__map_get(map, key), *env, *file;
	size_t saved;
	const char *s = NULL;
	int rc = 1;

	if (!n) {
		if (required)
			missing(d, map, key);
		return required ? -1 : 0;
	}
	if (n->kind == CFG_NODE_SCALAR && n->stype != CFG_SCALAR_NULL) {
		config__err_field(d, n, key,
			"a literal secret is not allowed in declarations; use {env: NAME} or {file: PATH}");
		return -1;
	}
	saved = config__path_push(d, key);
	if (config__expect_map(d, n, allowed, NULL) != 1) {
		rc = -1;
		goto done;
	}
	env = config__map_get(n, "env");
	file = config__map_get(n, "file");
	if (!env == !file) {
		config__err(d, n, "give exactly one of 'env' or 'file'");
		rc = -1;
	} else if (env) {
		if (config__get_str(d, n, "env", 1, &s, NULL) < 0)
			rc = -1;
		else if (!check_env_name(s)) {
			config__err_field(d, env, "env",
				"invalid environment variable name '%s'", s);
			rc = -1;
		} else {
			out->source = CONFIG_SECRET_ENV;
		}
	} else {
		if (config__get_path(d, n, "file", 1, &s) < 0)
			rc = -1;
		else
			out->source = CONFIG_SECRET_FILE;
	}
	out->ref = s;
	out->pos = config__pos(d, n);
done:
	config__path_pop(d, saved);
	return rc;
}

int config__get_value(cfg_dec *d, const cfg_node *map, const char *key,
		      int required, config_value *out)
{
	static const char *const allowed[] = { "env", "default", NULL };
	const cfg_node *n = config__map_get(map, key), *env;
	size_t saved;
	const char *s = NULL;
	int rc = 1;

	if (!n) {
		if (required)
			missing(d, map, key);
		return required ? -1 : 0;
	}
	out->pos = config__pos(d, n);
	if (n->kind != CFG_NODE_MAP) {
		if (want_string(d, n, key) < 0)
			return -1;
		out->literal = n->str;
		return 1;
	}
	saved = config__path_push(d, key);
	if (config__expect_map(d, n, allowed, NULL) != 1) {
		rc = -1;
		goto out;
	}
	env = config__map_get(n, "env");
	if (config__get_str(d, n, "env", 1, &s, NULL) < 0) {
		rc = -1;
	} else if (!check_env_name(s)) {
		config__err_field(d, env, "env",
			"invalid environment variable name '%s'", s);
		rc = -1;
	} else {
		out->env = s;
	}
	if (config__get_str(d, n, "default", 0, &out->fallback, NULL) < 0)
		rc = -1;
out:
	config__path_pop(d, saved);
	return rc;
}

int config__get_strings(cfg_dec *d, const cfg_node *map, const char *key,
			int required, config_strings *out)
{
	const cfg_node *n = config__map_get(map, key);
	size_t i, saved;
	int rc = 1;

	if (!n) {
		if (required == 1)
			missing(d, map, key);
		return required == 1 ? -1 : 0;
	}
	if (n->kind != CFG_NODE_SEQ) {
		config__err_field(d, n, key, "expected a list, got %s",
				  config__node_kind_name(n));
		return -1;
	}
	if (!n->n && required) {
		config__err_field(d, n, key, "must not be empty");
		return -1;
	}
	out->items = config__arena_alloc(d->arena,
				(n->n ? n->n : 1) * sizeof(*out->items));
	if (!out->items) {
		d->oom = 1;
		return -1;
	}
	out->count = 0;
	saved = config__path_push(d, key);
	for (i = 0; i < n->n; i++) {
		const cfg_node *it = n->items[i];
		size_t s2 = config__path_push_index(d, i);

		if (want_string(d, it, NULL) < 0) {
			rc = -1;
		} else {
			out->items[out->count].value = it->str;
			out->items[out->count].pos = config__pos(d, it);
			out->count++;
		}
		config__path_pop(d, s2);
	}
	config__path_pop(d, saved);
	return rc;
}

int config__get_key_type(cfg_dec *d, const cfg_node *map, const char *key,
			 config_key_type *out)
{
	static const char *const names[] = { "ecdsa-p256", "ecdsa-p384",
		"rsa-2048", "rsa-3072", "rsa-4096", "ed25519", NULL };
	const cfg_node *n;
	const char *s;
	int i, rc = config__get_str(d, map, key, 0, &s, &n);

	if (rc <= 0)
		return rc;
	for (i = 0; names[i]; i++)
		if (!strcmp(names[i], s)) {
			*out = (config_key_type)i;
			return 1;
		}
	if (config__suggest(s, names))
		config__err_field(d, n, key,
			"unknown key type '%s'; did you mean '%s'?", s,
			config__suggest(s, names));
	else
		config__err_field(d, n, key,
			"unknown key type '%s' (one of ecdsa-p256, ecdsa-p384, rsa-2048, rsa-3072, rsa-4096, ed25519)",
			s);
	return -1;
}

const char *config_key_type_name(config_key_type t)
{
	static const char *const names[] = { "ecdsa-p256", "ecdsa-p384",
		"rsa-2048", "rsa-3072", "rsa-4096", "ed25519" };

	return (unsigned)t < sizeof(names) / sizeof(names[0]) ?
		names[t] : "unknown";
}

int config__check_hostport(cfg_dec *d, const cfg_node *at, const char *field,
			   const char *s)
{
	const char *colon = strrchr(s, ':');
	char *end;
	long port;

	if (!colon || colon == s) {
		config__err_field(d, at, field,
			"expected host:port, got '%s'", s);
		return -1;
	}
	port = strtol(colon + 1, &end, 10);
	if (*end || end == colon + 1 || port < 1 || port > 65535) {
		config__err_field(d, at, field,
			"invalid port in '%s' (1-65535)", s);
		return -1;
	}
	return 1;
}

int config__check_name(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > 63)
		return 0;
	if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s)))
		return 0;
	return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

void config__decode_document(cfg_dec *d, const cfg_node *root)
{
	static const char *const kinds[] = { "Issuer", "Certificate", "Solver",
		NULL };
	const cfg_node *kn;
	const char *kind, *s;

	if (root->kind != CFG_NODE_MAP) {
		config__err(d, root, "a document must be a mapping with 'kind', got %s",
			    config__node_kind_name(root));
		return;
	}
	if (config__get_str(d, root, "kind", 1, &kind, &kn) <= 0)
		return;
	if (!strcmp(kind, "Issuer"))
		config__decode_issuer(d, root);
	else if (!strcmp(kind, "Certificate"))
		config__decode_certificate(d, root);
	else if (!strcmp(kind, "Solver"))
		config__decode_solver(d, root);
	else if ((s = config__suggest(kind, kinds)))
		config__err_field(d, kn, "kind",
			"unknown kind '%s'; did you mean '%s'?", kind, s);
	else
		config__err_field(d, kn, "kind",
			"unknown kind '%s' (one of Issuer, Certificate, Solver)",
			kind);
}
