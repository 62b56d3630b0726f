/*
 * What spans documents: names, references, fallback cycles, deploy
 * targets that two certificates would fight over.  Runs once after every
 * file is loaded; sorts by name (O(n log n)) so that 10,000 certificates
 * stay fast.
 */
#include <stdlib.h>
#include <string.h>

#include "config/config_internal.h"

typedef struct {
	util_diags *diags;
	int oom;
} rctx;

static void diag(rctx *r, config_pos pos, const char *field,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void diag(rctx *r, config_pos pos, const char *field,
		 const char *fmt, ...)
{
	util_buf msg = UTIL_BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	util_buf_vprintf(&msg, fmt, ap);
	va_end(ap);
	if (util_buf_failed(&msg) ||
	    util_diags_add(r->diags, CERTOPS_EINVALID, pos.file, pos.line,
			   pos.column, field, "%s", msg.ptr) < 0)
		r->oom = 1;
	util_buf_release(&msg);
}

/* Sorting by name, the load order (pointer order in the arena is not the
 * load order) breaks ties: an index is kept in a side array. */
typedef struct {
	const char *name;
	size_t index;
	void *obj;
} named;

static int cmp_named(const void *a, const void *b)
{
	const named *x = a, *y = b;
	int c = strcmp(x->name ? x->name : "", y->name ? y->name : "");

	if (c)
		return c;
	return x->index < y->index ? -1 : x->index > y->index;
}

static void **sort_names(rctx *r, void **objs, size_t n,
			 const char *(*name_of)(void *), config_pos (*pos_of)(void *),
			 const char *kind)
{
	named *tmp = calloc(n ? n : 1, sizeof(*tmp));
	void **sorted = calloc(n + 1, sizeof(*sorted));
	size_t i, k = 0;

	if (!tmp || !sorted) {
		free(tmp);
		free(sorted);
		r->oom = 1;
		return NULL;
	}
	for (i = 0; i < n; i++) {
		tmp[i].name = name_of(objs[i]);
		tmp[i].index = i;
		tmp[i].obj = objs[i];
	}
	qsort(tmp, n, sizeof(*tmp), cmp_named);
	for (i = 0; i < n; i++) {
		if (!tmp[i].name)
			continue;
		if (k && !strcmp(name_of(sorted[k - 1]), tmp[i].name)) {
			config_pos first = pos_of(sorted[k - 1]);

			diag(r, pos_of(tmp[i].obj), "name",
			     "duplicate %s name '%s' (first at %s:%u)", kind,
			     tmp[i].name, first.file, first.line);
			continue;
		}
		sorted[k++] = tmp[i].obj;
	}
	sorted[k] = NULL;
	free(tmp);
	return sorted;
}

static const char *issuer_name(void *o) { return ((config_issuer *)o)->name; }
static const char *solver_name(void *o) { return ((config_solver *)o)->name; }
static const char *cert_name(void *o) { return ((config_certificate *)o)->name; }
static config_pos issuer_pos(void *o)
{
	config_issuer *x = o;
	return config_field_pos_of(&x->field_pos, x->pos, "name");
}
static config_pos solver_pos(void *o)
{
	config_solver *x = o;
	return config_field_pos_of(&x->field_pos, x->pos, "name");
}
static config_pos cert_pos(void *o)
{
	config_certificate *x = o;
	return config_field_pos_of(&x->field_pos, x->pos, "name");
}

static void *find(void **sorted, const char *name, const char *(*name_of)(void *))
{
	size_t lo = 0, hi = 0;

	if (!sorted || !name)
		return NULL;
	while (sorted[hi])
		hi++;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, name_of(sorted[mid]));

		if (!c)
			return sorted[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

config_issuer *config_find_issuer(const config_set *set, const char *name)
{
	return find((void **)set->issuers_by_name, name, issuer_name);
}

config_solver *config_find_solver(const config_set *set, const char *name)
{
	return find((void **)set->solvers_by_name, name, solver_name);
}

config_certificate *config_find_certificate(const config_set *set,
					    const char *name)
{
	return find((void **)set->certificates_by_name, name, cert_name);
}

/* The first few names, for "did you mean" among what exists. */
static const char *suggest_in(void **sorted, const char *(*name_of)(void *),
			      const char *word)
{
	const char *cands[2] = { NULL, NULL }, *best = NULL;
	size_t i;

	for (i = 0; sorted && sorted[i]; i++) {
		cands[0] = name_of(sorted[i]);
		if (config__suggest(word, cands)) {
			best = cands[0];
			break;
		}
	}
	return best;
}

static void unknown_ref(rctx *r, config_pos pos, const char *field,
			const char *kind, const char *name, const char *hint)
{
	if (hint)
		diag(r, pos, field, "unknown %s '%s'; did you mean '%s'?", kind,
		     name, hint);
	else
		diag(r, pos, field, "unknown %s '%s'", kind, name);
}

/* ---- fallback cycles: depth-first, colour marks ---- */

static int dfs(rctx *r, config_issuer *is, config_issuer **stack,
	       size_t depth, unsigned char *color, config_issuer **all, size_t n)
{
	size_t i, me = 0, j;

	for (j = 0; j < n; j++)
		if (all[j] == is)
			me = j;
	color[me] = 1;
	stack[depth] = is;
	for (i = 0; i < is->acme.fallback.count; i++) {
		config_issuer *next = is->acme.fallback_refs ?
			is->acme.fallback_refs[i] : NULL;
		size_t ni = 0, k;

		if (!next)
			continue;
		for (j = 0; j < n; j++)
			if (all[j] == next)
				ni = j;
		if (color[ni] == 1) {
			util_buf path = UTIL_BUF_INIT, field = UTIL_BUF_INIT;

			for (k = 0; k <= depth; k++)
				if (stack[k] == next)
					break;
			for (; k <= depth; k++)
				util_buf_printf(&path, "%s -> ", stack[k]->name);
			util_buf_puts(&path, next->name);
			util_buf_printf(&field, "acme.fallback[%zu]", i);
			diag(r, is->acme.fallback.items[i].pos, field.ptr,
			     "fallback cycle: %s", path.ptr);
			if (util_buf_failed(&path) || util_buf_failed(&field))
				r->oom = 1;
			util_buf_release(&path);
			util_buf_release(&field);
		} else if (!color[ni]) {
			dfs(r, next, stack, depth + 1, color, all, n);
		}
	}
	color[me] = 2;
	return 0;
}

static void check_fallback(rctx *r, config_set *set)
{
	config_issuer **stack;
	unsigned char *color;
	size_t i, j;

	for (i = 0; i < set->nissuers; i++) {
		config_acme *a = &set->issuers[i]->acme;

		if (!a->fallback.count)
			continue;
		a->fallback_refs = config__arena_alloc(set->arena,
				a->fallback.count * sizeof(*a->fallback_refs));
		if (!a->fallback_refs) {
			r->oom = 1;
			return;
		}
		for (j = 0; j < a->fallback.count; j++) {
			const char *nm = a->fallback.items[j].value;
			config_issuer *to = config_find_issuer(set, nm);
			util_buf field = UTIL_BUF_INIT;

			a->fallback_refs[j] = to;
			if (to)
				continue;
			util_buf_printf(&field, "acme.fallback[%zu]", j);
			unknown_ref(r, a->fallback.items[j].pos, field.ptr,
				    "issuer", nm, suggest_in(
					(void **)set->issuers_by_name,
					issuer_name, nm));
			util_buf_release(&field);
		}
	}
	stack = calloc(set->nissuers + 1, sizeof(*stack));
	color = calloc(set->nissuers + 1, 1);
	if (!stack || !color) {
		r->oom = 1;
	} else {
		for (i = 0; i < set->nissuers; i++)
			if (!color[i])
				dfs(r, set->issuers[i], stack, 0, color,
				    set->issuers, set->nissuers);
	}
	free(stack);
	free(color);
}

/* ---- certificates: references, challenge needs ---- */

static void check_certificate(rctx *r, config_set *set, config_certificate *c,
			      config_solver *deflt)
{
	const config_challenge *ch = NULL;
	size_t i;

	if (c->issuer && !(c->issuer_ref = config_find_issuer(set, c->issuer)))
		unknown_ref(r, config_field_pos_of(&c->field_pos, c->pos, "issuer"),
			    "issuer", "issuer", c->issuer,
			    suggest_in((void **)set->issuers_by_name,
				       issuer_name, c->issuer));
	if (c->issuer_ref && c->issuer_ref->type == CONFIG_ISSUER_CA) {
		/* A local CA proves nothing: no challenge is needed, and a
		 * named solver need only exist. */
		if (c->solver && !(c->solver_ref = config_find_solver(set, c->solver)))
			unknown_ref(r, config_field_pos_of(&c->field_pos, c->pos,
				    "solver"), "solver", "solver", c->solver,
				    suggest_in((void **)set->solvers_by_name,
					       solver_name, c->solver));
		c->effective_challenge = NULL;
		return;
	}
	if (c->solver) {
		if (!(c->solver_ref = config_find_solver(set, c->solver)))
			unknown_ref(r, config_field_pos_of(&c->field_pos, c->pos,
				    "solver"), "solver", "solver", c->solver,
				    suggest_in((void **)set->solvers_by_name,
					       solver_name, c->solver));
		else
			ch = &c->solver_ref->challenge;
	} else if (c->challenge.type != CONFIG_CHALLENGE_NONE) {
		ch = &c->challenge;
	} else {
		config_pos none = { NULL, 0, 0 };

		if (config_field_pos_of(&c->field_pos, none, "challenge").file)
			return; /* a challenge that failed to decode: reported */
		if (deflt) {
			c->solver_ref = deflt;
			ch = &deflt->challenge;
		} else {
			diag(r, c->pos, "challenge",
			     "missing required field (or 'solver', or a Solver with 'default: true')");
		}
	}
	c->effective_challenge = ch;
	if (!ch || ch->type == CONFIG_CHALLENGE_NONE)
		return;
	for (i = 0; i < c->domains.count; i++) {
		char norm[256];

		/* Names already reported as malformed are not judged again. */
		if (ch->type != CONFIG_CHALLENGE_DNS01 &&
		    !strncmp(c->domains.items[i].value, "*.", 2) &&
		    !config__check_dns_name(c->domains.items[i].value, norm,
					    sizeof(norm))) {
			util_buf field = UTIL_BUF_INIT;

			util_buf_printf(&field, "domains[%zu]", i);
			diag(r, c->domains.items[i].pos, field.ptr,
			     "wildcard '%s' needs a dns01 challenge (got %s)",
			     c->domains.items[i].value,
			     config_challenge_type_name(ch->type));
			util_buf_release(&field);
		}
	}
	for (i = 0; i < c->ip_addresses.count; i++) {
		if (ch->type == CONFIG_CHALLENGE_DNS01) {
			util_buf field = UTIL_BUF_INIT;

			util_buf_printf(&field, "ipAddresses[%zu]", i);
			diag(r, c->ip_addresses.items[i].pos, field.ptr,
			     "IP address '%s' cannot be validated with dns01",
			     c->ip_addresses.items[i].value);
			util_buf_release(&field);
		}
	}
}

/* ---- deploy targets shared by two certificates ---- */

typedef struct {
	const char *id;
	size_t off; /* into the ids buffer, which moves while it grows */
	size_t cert, target, order;
} target_id;

static int cmp_target_id(const void *a, const void *b)
{
	const target_id *x = a, *y = b;
	int c = strcmp(x->id, y->id);

	if (c)
		return c;
	return x->order < y->order ? -1 : x->order > y->order;
}

static void check_targets(rctx *r, config_set *set)
{
	util_buf ids = UTIL_BUF_INIT;
	target_id *list = NULL;
	size_t n = 0, alloc = 0, i, j;

	for (i = 0; i < set->ncertificates; i++) {
		config_certificate *c = set->certificates[i];

		for (j = 0; j < c->ndeploy; j++) {
			size_t off = ids.size, count = 0, k;

			config__target_identities(&ids, &count, &c->deploy[j]);
			if (util_buf_failed(&ids))
				goto oom;
			if (n + count > alloc) {
				size_t na = (n + count) * 2 + 16;
				target_id *nl = realloc(list, na * sizeof(*nl));

				if (!nl)
					goto oom;
				list = nl;
				alloc = na;
			}
			for (k = 0; k < count; k++) {
				list[n].off = off;
				list[n].cert = i;
				list[n].target = j;
				list[n].order = n;
				n++;
				off += strlen(ids.ptr + off) + 1;
			}
		}
	}
	for (i = 0; i < n; i++)
		list[i].id = ids.ptr + list[i].off;
	if (n)
		qsort(list, n, sizeof(*list), cmp_target_id);
	for (i = 1; i < n; i++) {
		const target_id *a = &list[i - 1], *b = &list[i];
		config_certificate *ca, *cb;
		config_target *tb;
		util_buf field = UTIL_BUF_INIT;

		if (strcmp(a->id, b->id))
			continue;
		ca = set->certificates[a->cert];
		cb = set->certificates[b->cert];
		tb = &cb->deploy[b->target];
		util_buf_printf(&field, "deploy[%u].%s", tb->index,
				config_target_type_name(tb->type));
		if (a->cert == b->cert)
			diag(r, tb->pos, field.ptr,
			     "writes '%s' twice in this certificate", b->id);
		else
			diag(r, tb->pos, field.ptr,
			     "writes '%s', which certificate '%s' also writes (%s:%u)",
			     b->id, ca->name ? ca->name : "?",
			     ca->deploy[a->target].pos.file,
			     ca->deploy[a->target].pos.line);
		util_buf_release(&field);
	}
	goto done;
oom:
	r->oom = 1;
done:
	free(list);
	util_buf_release(&ids);
}

int config_set_validate(config_set *set, util_diags *diags)
{
	rctx r = { diags, 0 };
	config_solver *deflt = NULL;
	size_t i;

	free(set->issuers_by_name);
	free(set->solvers_by_name);
	free(set->certificates_by_name);
	set->issuers_by_name = (config_issuer **)sort_names(&r,
		(void **)set->issuers, set->nissuers, issuer_name, issuer_pos,
		"Issuer");
	set->solvers_by_name = (config_solver **)sort_names(&r,
		(void **)set->solvers, set->nsolvers, solver_name, solver_pos,
		"Solver");
	set->certificates_by_name = (config_certificate **)sort_names(&r,
		(void **)set->certificates, set->ncertificates, cert_name,
		cert_pos, "Certificate");
	if (r.oom)
		return util_error_oom();
	for (i = 0; i < set->nsolvers; i++) {
		config_solver *s = set->solvers[i];

		if (!s->is_default)
			continue;
		if (deflt)
			diag(&r, config_field_pos_of(&s->field_pos, s->pos,
				"default"), "default",
			     "only one Solver may be the default ('%s' is already)",
			     deflt->name);
		else
			deflt = s;
	}
	check_fallback(&r, set);
	for (i = 0; i < set->ncertificates; i++)
		check_certificate(&r, set, set->certificates[i], deflt);
	check_targets(&r, set);
	if (r.oom)
		return util_error_oom();
	return 0;
}
