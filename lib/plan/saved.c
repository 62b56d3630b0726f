/*
 * Saved plans: the JSON form read back, written atomically, and checked
 * against the world before apply trusts it (Terraform's rule: a plan pins
 * the declaration and the state serial it was made from).
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "plan/plan.h"
#include "plan/plan_internal.h"
#include "util/duration.h"
#include "util/error.h"
#include "util/fs.h"

/* A saved plan is small; refuse anything absurd before parsing it. */
#define PLAN_FILE_MAX (256u * 1024 * 1024)

static int bad(const char *what)
{
	return util_error_set(CERTOPS_EINVALID, "not a certops plan: %s", what);
}

/* Copies an optional string member; 0, or an error for a wrong type. */
static int get_str(char **out, json_t *o, const char *key, int required)
{
	json_t *v = json_object_get(o, key);

	*out = NULL;
	if (!v || json_is_null(v))
		return required ? util_error_set(CERTOPS_EINVALID,
			"not a certops plan: '%s' is missing", key) : 0;
	if (!json_is_string(v))
		return util_error_set(CERTOPS_EINVALID,
			"not a certops plan: '%s' is not a string", key);
	if (!(*out = strdup(json_string_value(v))))
		return util_error_oom();
	return 0;
}

static int get_time(time_t *out, json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	*out = 0;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v) || util_time_parse(out, json_string_value(v), 0) < 0)
		return util_error_set(CERTOPS_EINVALID,
			"not a certops plan: '%s' is not a time", key);
	return 0;
}

static int parse_action(plan_action *a, json_t *o)
{
	json_t *deps, *v;
	char *s = NULL;
	size_t i;
	int error;

	if (!json_is_object(o))
		return bad("an action is not an object");
	if ((error = get_str(&a->id, o, "id", 1)) < 0 ||
	    (error = get_str(&a->message, o, "message", 0)) < 0 ||
	    (error = get_str(&a->certificate, o, "certificate", 0)) < 0 ||
	    (error = get_str(&a->issuer, o, "issuer", 0)) < 0 ||
	    (error = get_str(&a->target, o, "target", 0)) < 0 ||
	    (error = get_str(&a->current_fingerprint, o, "current_fingerprint", 0)) < 0 ||
	    (error = get_time(&a->current_not_after, o, "current_not_after")) < 0 ||
	    (error = get_time(&a->renew_at, o, "renew_at")) < 0)
		return error;
	if ((error = get_str(&s, o, "kind", 1)) < 0)
		return error;
	error = plan_action_kind_parse(&a->kind, s);
	free(s);
	s = NULL;
	if (error < 0 || (error = get_str(&s, o, "reason", 1)) < 0)
		return error;
	error = plan_reason_parse(&a->reason, s);
	free(s);
	if (error < 0)
		return error;
	v = json_object_get(o, "index");
	a->index = json_is_integer(v) ? (long)json_integer_value(v) : -1;
	a->prune = json_is_true(json_object_get(o, "prune"));
	deps = json_object_get(o, "depends_on");
	if (deps && !json_is_array(deps))
		return bad("'depends_on' is not a list");
	for (i = 0; deps && i < json_array_size(deps); i++) {
		v = json_array_get(deps, i);
		if (!json_is_string(v))
			return bad("a dependency is not a string");
		if ((error = plan__add_dep(a, json_string_value(v))) < 0)
			return error;
	}
	return 0;
}

int plan_parse_json(plan **out, const char *text, size_t len)
{
	json_error_t jerr;
	json_t *doc = NULL, *actions, *st, *v;
	plan *p = NULL;
	plan_action *a;
	const char *fv, *digest;
	size_t i;
	int error = 0;

	*out = NULL;
	if (!(doc = json_loadb(text, len, 0, &jerr))) {
		error = util_error_set(CERTOPS_EINVALID, "not a certops plan: %s (line %d)",
				       jerr.text, jerr.line);
		goto done;
	}
	if (!json_is_object(doc)) {
		error = bad("not a JSON object");
		goto done;
	}
	fv = json_string_value(json_object_get(doc, "format_version"));
	if (!fv) {
		error = bad("no format_version");
		goto done;
	}
	/* same major version: readable (minor versions only add fields) */
	if (strncmp(fv, PLAN_FORMAT_VERSION, strcspn(PLAN_FORMAT_VERSION, ".") + 1)) {
		error = util_error_set(CERTOPS_EINVALID,
			"plan format %s is not supported by this certops (it reads %s)",
			fv, PLAN_FORMAT_VERSION);
		goto done;
	}
	if (!(p = plan__alloc())) {
		error = util_error_oom();
		goto done;
	}
	digest = json_string_value(json_object_get(doc, "config_digest"));
	if (!digest || strlen(digest) != CONFIG_HASH_HEX_LEN) {
		error = bad("no config_digest");
		goto done;
	}
	memcpy(p->config_digest, digest, CONFIG_HASH_HEX_LEN + 1);
	if ((error = get_time(&p->now, doc, "planned_at")) < 0)
		goto done;
	st = json_object_get(doc, "state");
	if (!json_is_object(st)) {
		error = bad("no state");
		goto done;
	}
	p->has_state = json_is_true(json_object_get(st, "present"));
	v = json_object_get(st, "serial");
	if (!json_is_integer(v) || json_integer_value(v) < 0) {
		error = bad("no state serial");
		goto done;
	}
	p->state_serial = (uint64_t)json_integer_value(v);
	v = json_object_get(doc, "source");
	if (v && !json_is_null(v)) {
		if (!json_is_object(v)) {
			error = bad("source is not an object");
			goto done;
		}
		if ((error = get_str(&p->source_url, v, "url", 0)) < 0 ||
		    (error = get_str(&p->source_ref, v, "ref", 0)) < 0 ||
		    (error = get_str(&p->source_commit, v, "commit", 1)) < 0)
			goto done;
	}
	actions = json_object_get(doc, "actions");
	if (!json_is_array(actions)) {
		error = bad("no actions");
		goto done;
	}
	for (i = 0; i < json_array_size(actions); i++) {
		if (!(a = plan__add(p))) {
			error = util_error_oom();
			goto done;
		}
		if ((error = parse_action(a, json_array_get(actions, i))) < 0)
			goto done;
	}
	plan__count(p);
done:
	json_decref(doc);
	if (error < 0)
		plan_free(p);
	else
		*out = p;
	return error;
}

int plan_save(const plan *p, const char *path)
{
	util_buf b = UTIL_BUF_INIT;
	int error;

	if ((error = plan_render_json(&b, p)) == 0)
		error = util_fs_write_atomic(path, b.ptr, b.size, 0600);
	util_buf_release(&b);
	return error;
}

int plan_load(plan **out, const char *path)
{
	util_buf b = UTIL_BUF_INIT;
	int error;

	*out = NULL;
	if ((error = util_fs_read_file(&b, path, PLAN_FILE_MAX)) < 0)
		goto done;
	if ((error = plan_parse_json(out, b.ptr, b.size)) < 0)
		error = util_error_wrap("reading plan '%s'", path);
done:
	util_buf_release(&b);
	return error;
}

int plan_check_fresh(const plan *p, const char *config_digest, int has_state,
		     uint64_t state_serial)
{
	if (strcmp(p->config_digest, config_digest))
		return util_error_set(CERTOPS_ESTALE,
			"the saved plan is stale: the declarations changed since it was "
			"made; run certops plan again");
	if (p->has_state != (has_state != 0) || (has_state && p->state_serial != state_serial))
		return util_error_set(CERTOPS_ESTALE,
			"the saved plan is stale: the state store changed since it was made "
			"(serial %llu, now %llu); run certops plan again",
			(unsigned long long)p->state_serial,
			has_state ? (unsigned long long)state_serial : 0ULL);
	return 0;
}

int plan_resolve(plan *p, const config_set *set)
{
	size_t i;

	for (i = 0; i < p->count; i++) {
		plan_action *a = &p->actions[i];

		a->cert_cfg = NULL;
		a->issuer_cfg = NULL;
		a->target_cfg = NULL;
		a->verify_cfg = NULL;
		if (a->kind == PLAN_ACTION_ORPHAN)
			continue;
		if (a->certificate && !(a->cert_cfg = config_find_certificate(set, a->certificate)))
			return util_error_set(CERTOPS_ESTALE,
				"the saved plan names certificate '%s', which is not declared",
				a->certificate);
		if (a->issuer && !(a->issuer_cfg = config_find_issuer(set, a->issuer)))
			return util_error_set(CERTOPS_ESTALE,
				"the saved plan names issuer '%s', which is not declared", a->issuer);
		if ((a->kind == PLAN_ACTION_DEPLOY || a->kind == PLAN_ACTION_RUN_HOOK)) {
			if (!a->cert_cfg || a->index < 0 || (size_t)a->index >= a->cert_cfg->ndeploy)
				return util_error_set(CERTOPS_ESTALE,
					"the saved plan names target '%s', which is not declared",
					a->target ? a->target : a->id);
			a->target_cfg = &a->cert_cfg->deploy[a->index];
		}
		if (a->kind == PLAN_ACTION_VERIFY) {
			if (!a->cert_cfg || a->index < 0 || (size_t)a->index >= a->cert_cfg->nverify)
				return util_error_set(CERTOPS_ESTALE,
					"the saved plan names verify probe '%s', which is not declared",
					a->id);
			a->verify_cfg = &a->cert_cfg->verify[a->index];
		}
	}
	return 0;
}
