/*
 * Plan test fixtures: a config_set from YAML text and an observation
 * built from it without a store (observe_run with no state, then filled
 * in by hand), so each test states exactly the world it plans against.
 */
#ifndef CERTOPS_TEST_PLAN_HELPERS_H
#define CERTOPS_TEST_PLAN_HELPERS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config/config.h"
#include "observe/observe.h"
#include "plan/plan.h"
#include "util/error.h"

#define DAY 86400
/* 2026-11-01T00:00:00Z */
#define T0 ((time_t)1793491200)

#define FP_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define FP_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static inline config_set *load_set(const char *yaml)
{
	config_set *set = NULL;
	util_diags d = UTIL_DIAGS_INIT;

	assert_int_equal(config_set_new(&set), 0);
	assert_int_equal(config_set_add_buffer(set, &d, "test.yaml", yaml, strlen(yaml)), 0);
	assert_int_equal(config_set_validate(set, &d), 0);
	if (d.count)
		fail_msg("fixture invalid: %s:%u: %s", d.items[0].file, d.items[0].line,
			 d.items[0].message);
	util_diags_release(&d);
	return set;
}

static inline observe_result *observe_empty(const config_set *set)
{
	observe_result *obs = NULL;

	assert_int_equal(observe_run(&obs, set, NULL, NULL), 0);
	return obs;
}

static inline observe_cert *ocert(observe_result *obs, const char *name)
{
	size_t i;

	for (i = 0; i < obs->ncerts; i++)
		if (!strcmp(obs->certs[i].cert->name, name))
			return &obs->certs[i];
	fail_msg("no certificate %s", name);
	return NULL;
}

/*
 * Makes cert name present as issued for its declaration: identifiers,
 * key, issuer and declaration hash match; valid [nb, na); fingerprint fp.
 */
static inline void set_current(observe_cert *oc, time_t nb, time_t na, const char *fp)
{
	const config_certificate *c = oc->cert;
	char hash[CONFIG_HASH_HEX_LEN + 1];
	size_t i, n = c->domains.count + c->ip_addresses.count;

	oc->present = 1;
	oc->cur.sans = calloc(n ? n : 1, sizeof(char *));
	for (i = 0; i < c->domains.count; i++)
		oc->cur.sans[oc->cur.nsans++] = strdup(c->domains.items[i].value);
	for (i = 0; i < c->ip_addresses.count; i++)
		oc->cur.sans[oc->cur.nsans++] = strdup(c->ip_addresses.items[i].value);
	oc->cur.key_spec = strdup(config_key_type_name(c->key_type));
	oc->cur.issuer = strdup(c->issuer);
	assert_int_equal(plan_declaration_hash(hash, c), 0);
	oc->cur.declaration_hash = strdup(hash);
	oc->cur.not_before = nb;
	oc->cur.not_after = na;
	oc->cur.fingerprint = strdup(fp);
	oc->cur.version = strdup("v1");
}

/* Makes every target of oc deployed and in sync with fingerprint fp. */
static inline void set_in_sync(observe_cert *oc, const char *fp)
{
	size_t i, j;

	for (i = 0; i < oc->ntargets; i++) {
		observe_target *t = &oc->targets[i];

		t->has_record = 1;
		t->deployed_ok = 1;
		t->deployed_at = T0;
		free(t->deployed_fingerprint);
		t->deployed_fingerprint = strdup(fp);
		free(t->deployed_config_hash);
		t->deployed_config_hash = strdup(t->config_hash);
		t->observed.present = TARGET_PRESENT_YES;
		for (j = 0; j < t->observed.nfiles; j++) {
			target_file *f = &t->observed.files[j];

			f->exists = 1;
			f->content_matches = 1;
			f->mode = target_file_mode(t->target, f->role);
			free(f->error);
			f->error = NULL;
		}
	}
}

/* Marks every issuer as having an account. */
static inline void set_accounts(observe_result *obs)
{
	size_t i;

	for (i = 0; i < obs->nissuers; i++)
		obs->issuers[i].has_account = 1;
}

static inline plan *make_plan(const config_set *set, const observe_result *obs, time_t now)
{
	plan_options o;
	plan *p = NULL;

	memset(&o, 0, sizeof(o));
	o.now = now;
	o.jitter_max = -1; /* exact times; jitter has its own tests */
	assert_int_equal(plan_new(&p, set, obs, &o), 0);
	return p;
}

static inline const plan_action *must_find(const plan *p, const char *id)
{
	const plan_action *a = plan_find(p, id);

	if (!a)
		fail_msg("no action %s in the plan", id);
	return a;
}

static inline int depends(const plan_action *a, const char *id)
{
	size_t i;

	for (i = 0; i < a->ndepends; i++)
		if (!strcmp(a->depends_on[i], id))
			return 1;
	return 0;
}

static inline size_t pos_of(const plan *p, const char *id)
{
	size_t i;

	for (i = 0; i < p->count; i++)
		if (!strcmp(p->actions[i].id, id))
			return i;
	fail_msg("no action %s", id);
	return 0;
}

#endif
