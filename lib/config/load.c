/*
 * Loading: the set's lifecycle, the directory walk (sorted, deterministic),
 * and one YAML text → documents → declarations.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config_internal.h"
#include "util/fs.h"

/* A declaration file bigger than this is surely a mistake. */
#define MAX_FILE_SIZE (64u * 1024 * 1024)
#define MAX_DIR_DEPTH 32

int config_set_new(config_set **out)
{
	config_set *set = calloc(1, sizeof(*set));

	*out = NULL;
	if (!set || !(set->arena = config__arena_new())) {
		free(set);
		return util_error_oom();
	}
	*out = set;
	return 0;
}

void config_set_free(config_set *set)
{
	if (!set)
		return;
	free(set->issuers);
	free(set->solvers);
	free(set->certificates);
	free(set->issuers_by_name);
	free(set->solvers_by_name);
	free(set->certificates_by_name);
	config__arena_free(set->arena);
	free(set);
}

int config_set_add_buffer(config_set *set, util_diags *diags, const char *name,
			  const char *data, size_t len)
{
	config_arena *tree = config__arena_new();
	cfg_doc *docs = NULL;
	size_t ndocs = 0, i;
	cfg_dec d;
	int error = 0;

	memset(&d, 0, sizeof(d));
	util_buf_init(&d.path);
	if (!tree)
		return util_error_oom();
	d.set = set;
	d.arena = set->arena;
	d.diags = diags;
	if (!(d.file = config__arena_strdup(set->arena, name))) {
		error = util_error_oom();
		goto done;
	}
	set->nfiles++;
	/* Nodes die with this function; scalar text goes to the set's arena
	 * because the declarations point into it. */
	if ((error = config__yaml_parse(&docs, &ndocs, tree, set->arena, diags,
					d.file, data, len)) < 0)
		goto done;
	for (i = 0; i < ndocs && !d.oom; i++) {
		const cfg_node *r = docs[i].root;

		/* An empty document (only comments) is a null scalar. */
		if (!r || docs[i].skip || (r->kind == CFG_NODE_SCALAR &&
					   r->stype == CFG_SCALAR_NULL))
			continue;
		util_buf_clear(&d.path);
		config__decode_document(&d, docs[i].root);
	}
	if (d.oom || util_buf_failed(&d.path))
		error = util_error_oom();
done:
	free(docs);
	util_buf_release(&d.path);
	config__arena_free(tree);
	return error;
}

int config_set_add_file(config_set *set, util_diags *diags, const char *path,
			const char *name)
{
	util_buf data = UTIL_BUF_INIT;
	int error;

	if (util_fs_read_file(&data, path, MAX_FILE_SIZE) < 0) {
		error = util_diags_add(diags, CERTOPS_EINVALID, name, 0, 0, NULL,
				       "%s", util_error_message()) < 0 ?
			util_error_oom() : 0;
		goto done;
	}
	error = config_set_add_buffer(set, diags, name, data.ptr, data.size);
done:
	util_buf_release(&data);
	return error;
}

typedef struct {
	char **paths;
	size_t n, alloc;
} path_list;

static int has_yaml_ext(const char *name)
{
	size_t n = strlen(name);

	return (n > 5 && !strcmp(name + n - 5, ".yaml")) ||
	       (n > 4 && !strcmp(name + n - 4, ".yml"));
}

/* Where the walk may go: links must resolve inside root (NULL: anywhere). */
typedef struct {
	const char *root; /* realpath of the loaded directory */
	util_diags *diags;
} walk_confine;

/* 1 when the real path of a link stays inside c->root; 0 after a diagnostic. */
static int link_stays_inside(const walk_confine *c, const char *path)
{
	char *real = realpath(path, NULL), target[4096];
	size_t n = strlen(c->root);
	ssize_t len;
	int inside;

	if (!real)
		return -1; /* dangling: nothing to read */
	inside = !strncmp(real, c->root, n) && (real[n] == '/' || real[n] == '\0');
	free(real);
	if (inside)
		return 1;
	len = readlink(path, target, sizeof(target) - 1);
	target[len < 0 ? 0 : len] = '\0';
	if (util_diags_add(c->diags, CERTOPS_EPOLICY, !strncmp(path, "./", 2) ? path + 2 : path,
			   0, 0, NULL, "a symbolic link to '%s', which leaves the repository "
			   "checkout '%s': not read", target, c->root) < 0)
		return util_error_oom();
	return 0;
}

static int walk(path_list *out, const char *dir, int depth, const walk_confine *c)
{
	DIR *dh;
	struct dirent *de;
	int error = 0;

	if (depth > MAX_DIR_DEPTH)
		return util_error_set(CERTOPS_EINVALID,
				      "directory '%s' is nested too deeply", dir);
	if (!(dh = opendir(dir)))
		return util_error_set_errno(errno == ENOENT ? CERTOPS_ENOTFOUND :
					    CERTOPS_ERROR, "opening '%s'", dir);
	while ((de = readdir(dh))) {
		util_buf p = UTIL_BUF_INIT;
		struct stat st;
		char *s;

		if (de->d_name[0] == '.')
			continue; /* ., .., .git, editor files */
		util_fs_join(&p, dir, de->d_name);
		if (util_buf_failed(&p)) {
			error = util_error_oom();
			break;
		}
		if (c && lstat(p.ptr, &st) == 0 && S_ISLNK(st.st_mode) &&
		    (error = link_stays_inside(c, p.ptr)) <= 0) {
			util_buf_release(&p);
			if (error == CERTOPS_ENOMEM)
				break;
			error = 0;
			continue; /* refused (diagnosed) or dangling */
		}
		if (stat(p.ptr, &st) < 0) {
			util_buf_release(&p);
			continue; /* dangling link: nothing to read */
		}
		if (S_ISDIR(st.st_mode)) {
			error = walk(out, p.ptr, depth + 1, c);
			util_buf_release(&p);
			if (error < 0)
				break;
			continue;
		}
		if (!S_ISREG(st.st_mode) || !has_yaml_ext(de->d_name)) {
			util_buf_release(&p);
			continue;
		}
		s = util_buf_detach(&p);
		if (!s || config__set_push((void ***)&out->paths, &out->n,
					   &out->alloc, s) < 0) {
			free(s);
			error = util_error_oom();
			break;
		}
	}
	closedir(dh);
	return error;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int load_dir(config_set **out, util_diags *diags, const char *dir, int confined)
{
	path_list files = { NULL, 0, 0 };
	walk_confine conf = { NULL, diags };
	char *root = NULL;
	config_set *set = NULL;
	struct stat st;
	size_t i, before = diags->count;
	int error;

	*out = NULL;
	/* A single file works too (editors, pre-commit hooks). */
	if (stat(dir, &st) == 0 && S_ISREG(st.st_mode)) {
		char *one = strdup(dir);

		if (!one || config__set_push((void ***)&files.paths, &files.n,
					     &files.alloc, one) < 0) {
			free(one);
			error = util_error_oom();
			goto done;
		}
	} else {
		if (confined && !(conf.root = root = realpath(dir, NULL))) {
			error = util_error_set_errno(errno == ENOENT ? CERTOPS_ENOTFOUND :
						     CERTOPS_ERROR, "opening '%s'", dir);
			goto done;
		}
		if ((error = walk(&files, dir, 0, confined ? &conf : NULL)) < 0)
			goto done;
	}
	if (files.n)
		qsort(files.paths, files.n, sizeof(char *), cmp_str);
	if ((error = config_set_new(&set)) < 0)
		goto done;
	for (i = 0; i < files.n; i++) {
		const char *name = files.paths[i];

		if (!strncmp(name, "./", 2))
			name += 2;
		if ((error = config_set_add_file(set, diags, files.paths[i],
						 name)) < 0)
			goto done;
	}
	if ((error = config_set_validate(set, diags)) < 0)
		goto done;
	*out = set;
	set = NULL;
	error = diags->count > before ? CERTOPS_EINVALID : 0;
done:
	for (i = 0; i < files.n; i++)
		free(files.paths[i]);
	free(files.paths);
	free(root);
	config_set_free(set);
	return error;
}

int config_load_dir(config_set **out, util_diags *diags, const char *dir)
{
	return load_dir(out, diags, dir, 0);
}

int config_load_dir_confined(config_set **out, util_diags *diags, const char *dir)
{
	return load_dir(out, diags, dir, 1);
}

config_pos config_field_pos_of(const config_fields *f, config_pos obj,
			       const char *key)
{
	size_t i;

	for (i = 0; i < f->count; i++)
		if (!strcmp(f->items[i].key, key))
			return f->items[i].pos;
	return obj;
}

int config_value_get(const char **out, const config_value *v)
{
	const char *s;

	if (v->literal) {
		*out = v->literal;
		return 0;
	}
	if (v->env && (s = getenv(v->env)) && *s) {
		*out = s;
		return 0;
	}
	if (v->fallback) {
		*out = v->fallback;
		return 0;
	}
	if (!v->env)
		return util_error_set(CERTOPS_ENOTFOUND, "value not set");
	return util_error_set_at(CERTOPS_ENOTFOUND, v->pos.file, v->pos.line,
				 v->pos.column, NULL,
				 "environment variable '%s' is not set", v->env);
}

const char *config_target_type_name(config_target_type t)
{
	static const char *const names[] = { "files", "pkcs12", "exec",
		"vault" };

	return (unsigned)t < CONFIG_TARGET__COUNT ? names[t] : "unknown";
}

const char *config_challenge_type_name(config_challenge_type t)
{
	static const char *const names[] = { "none", "http01", "dns01",
		"tlsalpn01" };

	return (unsigned)t <= CONFIG_CHALLENGE_TLSALPN01 ? names[t] : "unknown";
}
