/*
 * YAML text → node tree with positions, through libyaml's event parser.
 *
 * The tree keeps what validation needs: kind, 1-based line/column, scalar
 * text and its YAML 1.1 type.  Anchors, aliases and tags (other than
 * !!str) are refused: declarations stay greppable, and an alias bomb
 * cannot blow up memory.  A document using them is reported once per
 * anchor/alias and not decoded (no follow-on errors).  Duplicate keys are errors (PyYAML would keep the
 * last one silently; a reviewer would read the first).
 */
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "config/config_internal.h"

#define MAX_DEPTH 64

typedef struct {
	cfg_node *node;
	cfg_node **items; /* malloc'd while open */
	size_t n, alloc;
} frame;

typedef struct {
	config_arena *arena;     /* nodes: die after decoding */
	config_arena *str_arena; /* scalar text: kept by declarations */
	util_diags *diags;
	const char *file;
	frame stack[MAX_DEPTH + 1];
	int depth;
	cfg_doc *docs;
	size_t ndocs, adocs;
	int oom;
} parser_ctx;

static int add_diag(parser_ctx *p, yaml_mark_t m, const char *msg)
{
	if (util_diags_add(p->diags, CERTOPS_EINVALID, p->file,
			   (unsigned)m.line + 1, (unsigned)m.column + 1, NULL,
			   "%s", msg) < 0)
		p->oom = 1;
	return -1;
}

static int is_one_of(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(s, *list))
			return 1;
	return 0;
}

static int all_of(const char *s, const char *set)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!strchr(set, *s))
			return 0;
	return 1;
}

/* YAML 1.1 int: [-+]?(0b[01_]+ | 0[0-7_]+ | 0 | [1-9][0-9_]* | 0x[0-9a-fA-F_]+
 * | [1-9][0-9_]*(:[0-5]?[0-9])+), as PyYAML resolves it. */
static int is_int(const char *s)
{
	const char *p;

	if (*s == '-' || *s == '+')
		s++;
	if (!*s)
		return 0;
	if (!strncmp(s, "0b", 2))
		return all_of(s + 2, "01_");
	if (!strncmp(s, "0x", 2))
		return all_of(s + 2, "0123456789abcdefABCDEF_");
	if (s[0] == '0')
		return !s[1] || all_of(s + 1, "01234567_");
	if (s[0] < '1' || s[0] > '9')
		return 0;
	for (p = s; *p && *p != ':'; p++)
		if (!strchr("0123456789_", *p))
			return 0;
	while (*p == ':') {
		p++;
		if (*p >= '0' && *p <= '5' && p[1] >= '0' && p[1] <= '9')
			p += 2;
		else if (*p >= '0' && *p <= '9')
			p++;
		else
			return 0;
	}
	return *p == '\0';
}

/* YAML 1.1 float as PyYAML: [-+]?[0-9][0-9_]*\.[0-9_]*([eE][-+][0-9]+)?,
 * \.[0-9_]+..., sexagesimal floats, .inf, .nan. */
static int is_float(const char *s)
{
	static const char *const special[] = { ".inf", ".Inf", ".INF",
		".nan", ".NaN", ".NAN", NULL };
	const char *p = s;

	if (is_one_of(s, special))
		return 1;
	if (*p == '-' || *p == '+') {
		p++;
		if (is_one_of(p, special) && strncmp(p, ".n", 2) &&
		    strncmp(p, ".N", 2))
			return 1;
	}
	if (*p >= '0' && *p <= '9') {
		while ((*p >= '0' && *p <= '9') || *p == '_' || *p == ':')
			p++;
		if (*p != '.')
			return 0;
	} else if (*p != '.' || !(p[1] >= '0' && p[1] <= '9')) {
		return 0;
	}
	p++;
	while ((*p >= '0' && *p <= '9') || *p == '_')
		p++;
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p != '-' && *p != '+')
			return 0;
		p++;
		if (!(*p >= '0' && *p <= '9'))
			return 0;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	return *p == '\0';
}

static void resolve_plain(cfg_node *n)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL",
		NULL };
	static const char *const trues[] = { "yes", "Yes", "YES", "true",
		"True", "TRUE", "on", "On", "ON", NULL };
	static const char *const falses[] = { "no", "No", "NO", "false",
		"False", "FALSE", "off", "Off", "OFF", NULL };

	/* Most scalars are names and paths: skip the lists by first byte. */
	if (n->str[0] && !strchr("~nNyYtTfFoO+-.0123456789", n->str[0])) {
		n->stype = CFG_SCALAR_STR;
		return;
	}
	if (is_one_of(n->str, nulls))
		n->stype = CFG_SCALAR_NULL;
	else if (is_one_of(n->str, trues))
		n->stype = CFG_SCALAR_BOOL, n->bval = 1;
	else if (is_one_of(n->str, falses))
		n->stype = CFG_SCALAR_BOOL, n->bval = 0;
	else if (is_int(n->str))
		n->stype = CFG_SCALAR_INT;
	else if (is_float(n->str))
		n->stype = CFG_SCALAR_FLOAT;
	else
		n->stype = CFG_SCALAR_STR;
}

static int push_child(parser_ctx *p, cfg_node *child)
{
	frame *f;

	if (p->depth == 0) {
		cfg_doc *d = &p->docs[p->ndocs - 1];

		d->root = child;
		return 0;
	}
	f = &p->stack[p->depth - 1];
	if (f->n == f->alloc) {
		size_t na = f->alloc ? f->alloc * 2 : 8;
		cfg_node **ni = realloc(f->items, na * sizeof(*ni));

		if (!ni)
			return -1;
		f->items = ni;
		f->alloc = na;
	}
	f->items[f->n++] = child;
	return 0;
}

static cfg_node *new_node(parser_ctx *p, cfg_node_kind kind, yaml_mark_t m)
{
	cfg_node *n = config__arena_alloc(p->arena, sizeof(*n));

	if (!n)
		return NULL;
	n->kind = kind;
	n->line = (unsigned)m.line + 1;
	n->column = (unsigned)m.column + 1;
	return n;
}

static void check_duplicate_keys(parser_ctx *p, cfg_node *map)
{
	size_t i, j;

	for (i = 0; i < map->n; i++) {
		cfg_node *k = map->items[2 * i];

		if (k->kind != CFG_NODE_SCALAR)
			continue;
		for (j = 0; j < i; j++) {
			cfg_node *o = map->items[2 * j];

			if (o->kind == CFG_NODE_SCALAR && !strcmp(o->str, k->str)) {
				if (util_diags_add(p->diags, CERTOPS_EINVALID,
					p->file, k->line, k->column, NULL,
					"duplicate key '%s' (first at line %u)",
					k->str, o->line) < 0)
					p->oom = 1;
				break;
			}
		}
	}
}

static int close_frame(parser_ctx *p, yaml_mark_t m)
{
	frame *f = &p->stack[--p->depth];
	cfg_node *n = f->node;
	size_t i;

	if (n->kind == CFG_NODE_MAP && (f->n % 2))
		f->n--; /* cannot happen with a well-formed event stream */
	n->n = n->kind == CFG_NODE_MAP ? f->n / 2 : f->n;
	if (f->n) {
		n->items = config__arena_alloc(p->arena, f->n * sizeof(*n->items));
		if (!n->items) {
			free(f->items);
			return -1;
		}
		memcpy(n->items, f->items, f->n * sizeof(*n->items));
	}
	free(f->items);
	memset(f, 0, sizeof(*f));
	if (n->kind == CFG_NODE_MAP) {
		for (i = 0; i < n->n; i++)
			if (n->items[2 * i]->kind != CFG_NODE_SCALAR) {
				yaml_mark_t km = m;

				km.line = n->items[2 * i]->line - 1;
				km.column = n->items[2 * i]->column - 1;
				add_diag(p, km, "mapping keys must be plain strings");
			}
		check_duplicate_keys(p, n);
	}
	return push_child(p, n);
}

static int on_event(parser_ctx *p, yaml_event_t *ev)
{
	yaml_char_t *anchor = NULL, *tag = NULL;
	cfg_node *n;

	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (p->ndocs == p->adocs) {
			size_t na = p->adocs ? p->adocs * 2 : 4;
			cfg_doc *nd = realloc(p->docs, na * sizeof(*nd));

			if (!nd)
				return -1;
			p->docs = nd;
			p->adocs = na;
		}
		memset(&p->docs[p->ndocs], 0, sizeof(cfg_doc));
		p->docs[p->ndocs].line = (unsigned)ev->start_mark.line + 1;
		p->docs[p->ndocs].column = (unsigned)ev->start_mark.column + 1;
		p->ndocs++;
		return 0;
	case YAML_ALIAS_EVENT:
		add_diag(p, ev->start_mark,
			 "anchors and aliases are not supported");
		if (p->ndocs)
			p->docs[p->ndocs - 1].skip = 1;
		n = new_node(p, CFG_NODE_SCALAR, ev->start_mark);
		if (!n)
			return -1;
		n->str = "";
		n->stype = CFG_SCALAR_NULL;
		return push_child(p, n);
	case YAML_SCALAR_EVENT:
		anchor = ev->data.scalar.anchor;
		tag = ev->data.scalar.tag;
		n = new_node(p, CFG_NODE_SCALAR, ev->start_mark);
		if (!n)
			return -1;
		n->len = ev->data.scalar.length;
		n->str = config__arena_strndup(p->str_arena,
			(const char *)ev->data.scalar.value, n->len);
		if (!n->str)
			return -1;
		if (tag && strcmp((const char *)tag, YAML_STR_TAG))
			add_diag(p, ev->start_mark, "tags are not supported");
		if (!tag && ev->data.scalar.plain_implicit &&
		    ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
			resolve_plain(n);
		break;
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		if (ev->type == YAML_SEQUENCE_START_EVENT) {
			anchor = ev->data.sequence_start.anchor;
			tag = ev->data.sequence_start.tag;
		} else {
			anchor = ev->data.mapping_start.anchor;
			tag = ev->data.mapping_start.tag;
		}
		if (p->depth >= MAX_DEPTH) {
			add_diag(p, ev->start_mark, "nested too deeply");
			return 1;
		}
		n = new_node(p, ev->type == YAML_SEQUENCE_START_EVENT ?
			     CFG_NODE_SEQ : CFG_NODE_MAP, ev->start_mark);
		if (!n)
			return -1;
		if (tag)
			add_diag(p, ev->start_mark, "tags are not supported");
		if (anchor) {
			add_diag(p, ev->start_mark,
				 "anchors and aliases are not supported");
			if (p->ndocs)
				p->docs[p->ndocs - 1].skip = 1;
		}
		p->stack[p->depth++].node = n;
		return 0;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		if (p->depth <= 0)
			return 0;
		return close_frame(p, ev->start_mark);
	default:
		return 0;
	}
	if (anchor) {
		add_diag(p, ev->start_mark,
			 "anchors and aliases are not supported");
		if (p->ndocs)
			p->docs[p->ndocs - 1].skip = 1;
	}
	return push_child(p, n);
}

int config__yaml_parse(cfg_doc **docs_out, size_t *ndocs_out,
		       config_arena *arena, config_arena *str_arena,
		       util_diags *diags, const char *file, const char *data,
		       size_t len)
{
	parser_ctx p;
	yaml_parser_t parser;
	yaml_event_t ev;
	int error = 0, done = 0;

	memset(&p, 0, sizeof(p));
	p.arena = arena;
	p.str_arena = str_arena;
	p.diags = diags;
	p.file = file;
	*docs_out = NULL;
	*ndocs_out = 0;
	if (!yaml_parser_initialize(&parser))
		return util_error_oom();
	yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
	while (!done) {
		int rc;

		if (!yaml_parser_parse(&parser, &ev)) {
			char msg[512];

			if (parser.error == YAML_MEMORY_ERROR) {
				error = -1;
				break;
			}
			snprintf(msg, sizeof(msg), "invalid YAML: %s%s%s",
				 parser.problem ? parser.problem : "syntax error",
				 parser.context ? " " : "",
				 parser.context ? parser.context : "");
			add_diag(&p, parser.problem_mark, msg);
			/* Keep only documents that were complete. */
			if (p.ndocs && p.depth)
				p.ndocs--;
			break;
		}
		done = ev.type == YAML_STREAM_END_EVENT;
		rc = on_event(&p, &ev);
		yaml_event_delete(&ev);
		if (rc < 0) {
			error = -1;
			break;
		}
		if (rc > 0) { /* too deep: drop the document being built */
			if (p.ndocs)
				p.ndocs--;
			break;
		}
	}
	yaml_parser_delete(&parser);
	while (p.depth > 0)
		free(p.stack[--p.depth].items);
	if (error || p.oom) {
		free(p.docs);
		return util_error_oom();
	}
	*docs_out = p.docs;
	*ndocs_out = p.ndocs;
	return 0;
}

cfg_node *config__map_get(const cfg_node *map, const char *key)
{
	size_t i;

	if (!map || map->kind != CFG_NODE_MAP)
		return NULL;
	for (i = 0; i < map->n; i++) {
		const cfg_node *k = map->items[2 * i];

		if (k->kind == CFG_NODE_SCALAR && !strcmp(k->str, key))
			return map->items[2 * i + 1];
	}
	return NULL;
}

const char *config__node_kind_name(const cfg_node *n)
{
	if (n->kind == CFG_NODE_MAP)
		return "a mapping";
	if (n->kind == CFG_NODE_SEQ)
		return "a list";
	switch (n->stype) {
	case CFG_SCALAR_NULL: return "null";
	case CFG_SCALAR_BOOL: return "a boolean";
	case CFG_SCALAR_INT: return "an integer";
	case CFG_SCALAR_FLOAT: return "a number";
	default: return "a string";
	}
}
