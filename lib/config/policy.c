/*
 * The local policy (see policy.h and docs/policy.md): parsing, and the
 * check of a declaration set against it.
 */
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config_internal.h"
#include "config/policy.h"
#include "util/fs.h"

#define MAX_POLICY_SIZE (1024 * 1024)

struct config_policy {
	config_arena *arena;
	const char *source;
	const char **write_roots;
	size_t nwrite_roots;
	config_strings *exec;
	size_t nexec;
	const char **env;
	size_t nenv;
	const char **files;
	size_t nfiles;
	const char **issuers;
	size_t nissuers;
	int any_issuer;
};

void config_policy_free(config_policy *p)
{
	if (!p)
		return;
	config__arena_free(p->arena);
	free(p);
}

const char *config_policy_source(const config_policy *p)
{
	return p->source;
}

static config_policy *policy_new(void)
{
	config_policy *p = calloc(1, sizeof(*p));

	if (p && !(p->arena = config__arena_new())) {
		free(p);
		p = NULL;
	}
	return p;
}

/* Copies list (plus up to extra more slots) into the arena. */
static const char **str_array(config_arena *a, const config_strings *l,
			      size_t extra)
{
	const char **v = config__arena_alloc(a, (l->count + extra + 1) *
					     sizeof(*v));
	size_t i;

	if (!v)
		return NULL;
	for (i = 0; i < l->count; i++)
		v[i] = l->items[i].value;
	return v;
}

static int add_state_root(config_policy *p, const char *state_dir)
{
	char *s;
	size_t n;

	if (!state_dir || !*state_dir)
		return 0;
	if (!(s = config__arena_strdup(p->arena, state_dir)))
		return -1;
	n = strlen(s);
	while (n > 1 && s[n - 1] == '/')
		s[--n] = '\0';
	p->write_roots[p->nwrite_roots++] = s;
	return 0;
}

int config_policy_default(config_policy **out, const char *state_dir)
{
	config_policy *p = policy_new();

	*out = NULL;
	if (!p)
		return util_error_oom();
	p->source = "built-in default";
	p->write_roots = config__arena_alloc(p->arena, 3 * sizeof(char *));
	p->env = config__arena_alloc(p->arena, sizeof(char *));
	if (!p->write_roots || !p->env || add_state_root(p, state_dir) < 0) {
		config_policy_free(p);
		return util_error_oom();
	}
	p->write_roots[p->nwrite_roots++] = CONFIG_POLICY_DEMO_ROOT;
	p->env[p->nenv++] = CONFIG_POLICY_DEFAULT_ENV;
	p->any_issuer = 1;
	*out = p;
	return 0;
}

static void check_paths(cfg_dec *d, const cfg_node *map, const char *key,
			const config_strings *l)
{
	size_t i, s2, saved = config__path_push(d, key);

	(void)map;
	for (i = 0; i < l->count; i++) {
		const char *why = config__path_problem(l->items[i].value);
		cfg_node at = { 0 };

		if (!why)
			continue;
		at.line = l->items[i].pos.line;
		at.column = l->items[i].pos.column;
		s2 = config__path_push_index(d, i);
		config__err(d, &at, "%s", why);
		config__path_pop(d, s2);
	}
	config__path_pop(d, saved);
}

/* One allowed argv prefix: a non-empty list of strings. */
static void parse_exec_item(cfg_dec *d, config_policy *p, const cfg_node *it,
			    size_t i)
{
	config_strings *out = &p->exec[p->nexec];
	size_t j, saved = config__path_push_index(d, i);

	if (it->kind != CFG_NODE_SEQ || !it->n) {
		config__err(d, it,
			"expected a non-empty argv list such as [/usr/sbin/nginx, -s, reload]");
		goto done;
	}
	out->items = config__arena_alloc(d->arena, it->n * sizeof(*out->items));
	if (!out->items) {
		d->oom = 1;
		goto done;
	}
	for (j = 0; j < it->n; j++) {
		const cfg_node *a = it->items[j];

		if (a->kind != CFG_NODE_SCALAR || a->stype != CFG_SCALAR_STR ||
		    !a->len || strlen(a->str) != a->len) {
			size_t s2 = config__path_push_index(d, j);

			config__err(d, a, "expected a non-empty string, got %s",
				    config__node_kind_name(a));
			config__path_pop(d, s2);
			goto done;
		}
		out->items[j].value = a->str;
		out->items[j].pos = config__pos(d, a);
	}
	out->count = it->n;
	p->nexec++;
done:
	config__path_pop(d, saved);
}

static void parse_root(cfg_dec *d, config_policy *p, const cfg_node *root,
		       const char *state_dir)
{
	static const char *const allowed[] = { "writeRoots", "exec", "secrets",
		"issuers", NULL };
	static const char *const sec_allowed[] = { "env", "files", NULL };
	config_strings roots = { NULL, 0 }, env = { NULL, 0 },
		files = { NULL, 0 }, issuers = { NULL, 0 };
	const cfg_node *ex, *sec;
	size_t i, saved;

	if (!config__expect_map(d, root, allowed, NULL))
		return;
	if (config__get_strings(d, root, "writeRoots", 0, &roots) > 0)
		check_paths(d, root, "writeRoots", &roots);
	if ((ex = config__map_get(root, "exec"))) {
		saved = config__path_push(d, "exec");
		if (ex->kind != CFG_NODE_SEQ) {
			config__err(d, ex, "expected a list of argv prefixes, got %s",
				    config__node_kind_name(ex));
		} else {
			p->exec = config__arena_alloc(d->arena, (ex->n + 1) *
						      sizeof(*p->exec));
			if (!p->exec)
				d->oom = 1;
			for (i = 0; p->exec && i < ex->n; i++)
				parse_exec_item(d, p, ex->items[i], i);
		}
		config__path_pop(d, saved);
	}
	if ((sec = config__map_get(root, "secrets"))) {
		saved = config__path_push(d, "secrets");
		if (config__expect_map(d, sec, sec_allowed, NULL)) {
			config__get_strings(d, sec, "env", 0, &env);
			if (config__get_strings(d, sec, "files", 0, &files) > 0)
				check_paths(d, sec, "files", &files);
		}
		config__path_pop(d, saved);
	}
	if (config__map_get(root, "issuers"))
		config__get_strings(d, root, "issuers", 0, &issuers);
	else
		p->any_issuer = 1;
	p->write_roots = str_array(d->arena, &roots, 1);
	p->env = str_array(d->arena, &env, 0);
	p->files = str_array(d->arena, &files, 0);
	p->issuers = str_array(d->arena, &issuers, 0);
	if (!p->write_roots || !p->env || !p->files || !p->issuers) {
		d->oom = 1;
		return;
	}
	p->nwrite_roots = roots.count;
	p->nenv = env.count;
	p->nfiles = files.count;
	p->nissuers = issuers.count;
	if (add_state_root(p, state_dir) < 0)
		d->oom = 1;
}

int config_policy_parse(config_policy **out, util_diags *diags,
			const char *name, const char *data, size_t len,
			const char *state_dir)
{
	config_policy *p = policy_new();
	config_arena *tree = config__arena_new();
	cfg_doc *docs = NULL;
	size_t ndocs = 0, before = diags->count;
	cfg_dec d;
	int error = 0;

	*out = NULL;
	memset(&d, 0, sizeof(d));
	util_buf_init(&d.path);
	if (!p || !tree)
		goto oom;
	d.arena = p->arena;
	d.diags = diags;
	if (!(d.file = p->source = config__arena_strdup(p->arena, name)))
		goto oom;
	if (config__yaml_parse(&docs, &ndocs, tree, p->arena, diags, d.file,
			       data, len) < 0)
		goto oom;
	if (ndocs > 1 && docs[1].root) {
		cfg_node at = { 0 };

		at.line = docs[1].line;
		at.column = docs[1].column;
		config__err(&d, &at, "a policy file holds one document");
	}
	if (ndocs && docs[0].root && !(docs[0].root->kind == CFG_NODE_SCALAR &&
				       docs[0].root->stype == CFG_SCALAR_NULL)) {
		parse_root(&d, p, docs[0].root, state_dir);
	} else if (diags->count == before) {
		/* An empty policy file: every field absent. */
		p->any_issuer = 1; /* as when "issuers" is absent */
		p->write_roots = config__arena_alloc(p->arena, 2 * sizeof(char *));
		if (!p->write_roots || add_state_root(p, state_dir) < 0)
			goto oom;
	}
	if (d.oom)
		goto oom;
	if (diags->count > before)
		error = CERTOPS_EINVALID;
	goto done;
oom:
	error = util_error_oom();
done:
	free(docs);
	config__arena_free(tree);
	util_buf_release(&d.path);
	if (error < 0)
		config_policy_free(p);
	else
		*out = p;
	return error;
}

int config_policy_open(config_policy **out, util_diags *diags,
		       const char *path, const char *state_dir)
{
	util_buf data = UTIL_BUF_INIT;
	int error;

	*out = NULL;
	if (!path) {
		if (access(CONFIG_POLICY_DEFAULT_PATH, F_OK) < 0)
			return config_policy_default(out, state_dir);
		path = CONFIG_POLICY_DEFAULT_PATH;
	}
	if (util_fs_read_file(&data, path, MAX_POLICY_SIZE) < 0) {
		error = util_diags_add(diags, CERTOPS_EINVALID, path, 0, 0, NULL,
				       "%s", util_error_message()) < 0 ?
			util_error_oom() :
			CERTOPS_EINVALID;
		goto done;
	}
	error = config_policy_parse(out, diags, path, data.ptr, data.size,
				    state_dir);
done:
	util_buf_release(&data);
	return error;
}

/* ---- questions ---- */

static int under(const char *path, const char *root)
{
	size_t n = strlen(root);

	if (!strcmp(root, "/"))
		return path[0] == '/';
	return !strncmp(path, root, n) && (path[n] == '/' || !path[n]);
}

int config_policy_allows_write(const config_policy *p, const char *path)
{
	size_t i;

	if (!path || config__path_problem(path))
		return 0;
	for (i = 0; i < p->nwrite_roots; i++)
		if (under(path, p->write_roots[i]))
			return 1;
	return 0;
}

int config_policy_allows_exec(const config_policy *p,
			      const config_strings *argv)
{
	size_t i, j;

	for (i = 0; i < p->nexec; i++) {
		const config_strings *pre = &p->exec[i];

		if (pre->count > argv->count)
			continue;
		for (j = 0; j < pre->count; j++)
			if (strcmp(pre->items[j].value, argv->items[j].value))
				break;
		if (j == pre->count)
			return 1;
	}
	return 0;
}

int config_policy_allows_secret(const config_policy *p,
				const config_secret *s)
{
	size_t i;

	if (s->source == CONFIG_SECRET_ENV) {
		for (i = 0; i < p->nenv; i++)
			if (!fnmatch(p->env[i], s->ref, 0))
				return 1;
	} else if (s->source == CONFIG_SECRET_FILE) {
		if (!s->ref || config__path_problem(s->ref))
			return 0;
		for (i = 0; i < p->nfiles; i++)
			if (under(s->ref, p->files[i]))
				return 1;
	}
	return 0;
}

int config_policy_allows_issuer(const config_policy *p, const char *url)
{
	size_t i;

	if (p->any_issuer)
		return 1;
	for (i = 0; url && i < p->nissuers; i++)
		if (!strcmp(p->issuers[i], url))
			return 1;
	return 0;
}
