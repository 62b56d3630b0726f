/*
 * Internal to lib/config: the arena, the YAML node tree with positions, and
 * the decoding context shared by the decode_*.c files.
 */
#ifndef CERTOPS_CONFIG_INTERNAL_H
#define CERTOPS_CONFIG_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>

#include "config/config.h"
#include "util/buf.h"

/* ---- arena: bump allocation, freed at once ---- */

/* Returns NULL when out of memory; memory is zeroed. */
config_arena *config__arena_new(void);
void config__arena_free(config_arena *a);
void *config__arena_alloc(config_arena *a, size_t size);
char *config__arena_strndup(config_arena *a, const char *s, size_t len);
char *config__arena_strdup(config_arena *a, const char *s);

/* ---- YAML node tree ---- */

typedef enum {
	CFG_NODE_SCALAR = 1,
	CFG_NODE_MAP,
	CFG_NODE_SEQ
} cfg_node_kind;

/* What a plain scalar resolves to under YAML 1.1 (as PyYAML does), so that
 * the C loader and the JSON Schema agree on types. */
typedef enum {
	CFG_SCALAR_STR = 0,
	CFG_SCALAR_NULL,
	CFG_SCALAR_BOOL,
	CFG_SCALAR_INT,
	CFG_SCALAR_FLOAT
} cfg_scalar_type;

typedef struct cfg_node {
	cfg_node_kind kind;
	unsigned line, column;
	/* scalar */
	const char *str; /* NUL-terminated, in the tree's arena */
	size_t len;
	cfg_scalar_type stype;
	int bval; /* CFG_SCALAR_BOOL */
	/* map: keys and values alternate (2 * n items); seq: n items */
	struct cfg_node **items;
	size_t n;
} cfg_node;

/* A parsed document (the root is NULL for an empty document). */
typedef struct {
	cfg_node *root;
	unsigned line, column; /* of the document start */
	int skip; /* uses anchors/aliases (reported): not decoded */
} cfg_doc;

/*
 * Parses a YAML text into documents: nodes allocated in arena, scalar text
 * in str_arena (declarations point into it).  Syntax errors and
 * unsupported features (anchors, aliases, tags, duplicate keys) become
 * diagnostics; documents parsed before a syntax error are kept.
 * Returns 0 or CERTOPS_ENOMEM.
 */
int config__yaml_parse(cfg_doc **docs_out, size_t *ndocs_out,
		       config_arena *arena, config_arena *str_arena,
		       util_diags *diags, const char *file, const char *data,
		       size_t len);

/* Value of key in a map node, or NULL. */
cfg_node *config__map_get(const cfg_node *map, const char *key);
const char *config__node_kind_name(const cfg_node *n);

/* ---- decoding ---- */

typedef struct {
	config_set *set;
	config_arena *arena; /* the set's */
	util_diags *diags;
	const char *file;    /* in the set's arena */
	util_buf path;       /* current field path, "" at the document */
	int nerrors;
	int oom;
} cfg_dec;

/* Records a diagnostic at node's position, for the current path. */
void config__err(cfg_dec *d, const cfg_node *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The same for the field path "<current>.<field>". */
void config__err_field(cfg_dec *d, const cfg_node *at, const char *field,
		       const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Path stack: push ".key" / "[i]", pop back to the saved length. */
size_t config__path_push(cfg_dec *d, const char *key);
size_t config__path_push_index(cfg_dec *d, size_t i);
void config__path_pop(cfg_dec *d, size_t saved);

config_pos config__pos(const cfg_dec *d, const cfg_node *n);

/*
 * Checks that n is a map whose keys are all in allowed (NULL-terminated),
 * reporting unknown keys with a "did you mean" for near misses, and fills
 * *fields.  Returns 1 when n is a map of known keys, 2 when a map with
 * unknown keys (callers then skip "needs one of" checks: one typo, one
 * message), 0 when not a map.
 */
int config__expect_map(cfg_dec *d, const cfg_node *n,
		       const char *const *allowed, config_fields *fields);

/* Field getters: absent fields leave *out unchanged and return 0; a present
 * field of the wrong type or form is reported and returns -1; present and
 * good returns 1.  required reports a missing field against the map. */
int config__get_str(cfg_dec *d, const cfg_node *map, const char *key,
		    int required, const char **out, const cfg_node **node_out);
int config__get_bool(cfg_dec *d, const cfg_node *map, const char *key,
		     int *out);
int config__get_duration(cfg_dec *d, const cfg_node *map, const char *key,
			 int required, int64_t *out);
int config__get_mode(cfg_dec *d, const cfg_node *map, const char *key,
		     unsigned *out);
int config__get_secret(cfg_dec *d, const cfg_node *map, const char *key,
		       int required, config_secret *out);
int config__get_value(cfg_dec *d, const cfg_node *map, const char *key,
		      int required, config_value *out);
/* An absolute, normalized path (no "..", ".", "//", trailing "/"). */
int config__get_path(cfg_dec *d, const cfg_node *map, const char *key,
		     int required, const char **out);
/* NULL when s is absolute and normalized, else why not (static). */
const char *config__path_problem(const char *s);
/* A plain file name: no "/", not "." or "..". */
int config__get_filename(cfg_dec *d, const cfg_node *map, const char *key,
			 const char **out);
/* A list of strings; required 1: present and nonempty; 2: optional, but
 * nonempty when present. */
int config__get_strings(cfg_dec *d, const cfg_node *map, const char *key,
			int required, config_strings *out);
int config__get_key_type(cfg_dec *d, const cfg_node *map, const char *key,
			 config_key_type *out);
/* "host:port" with a numeric port 1-65535. */
int config__check_hostport(cfg_dec *d, const cfg_node *at, const char *field,
			   const char *s);
/* An object name: [a-z0-9] then [a-z0-9._-], up to 63 characters. */
int config__check_name(const char *s);

/* The required "name" of an object, checked (config__check_name). */
int config__get_name(cfg_dec *d, const cfg_node *root, const char **out);
/* decode_issuer.c */
void config__decode_issuer(cfg_dec *d, const cfg_node *root);
void config__decode_solver(cfg_dec *d, const cfg_node *root);
/* Decodes one document (a map with "kind") into the set. */
void config__decode_document(cfg_dec *d, const cfg_node *root);
/* decode_cert.c */
void config__decode_certificate(cfg_dec *d, const cfg_node *root);
int config__decode_challenge(cfg_dec *d, const cfg_node *map,
			     config_challenge *out);

/* names.c: DNS names and IP addresses; return NULL when good, else a
 * message (static).  *norm gets the lowercased / canonical form. */
const char *config__check_dns_name(const char *s, char *norm, size_t normsz);
const char *config__check_ip(const char *s, char *norm, size_t normsz);

/* suggest.c: the closest candidate within a small edit distance, or NULL. */
const char *config__suggest(const char *word, const char *const *candidates);

/* Appends to set's growable pointer arrays; 0 or CERTOPS_ENOMEM. */
int config__set_push(void ***arr, size_t *n, size_t *alloc, void *item);

/* hash.c: identity strings of what a target writes (NUL-separated list in
 * out, *count of them); exec targets write nothing. */
void config__target_identities(util_buf *out, size_t *count,
			       const config_target *t);

#endif
