/* ACME problem documents (RFC 7807, RFC 8555 §6.7) as typed errors. */
#include "acme/acme_internal.h"

#include <stdlib.h>
#include <string.h>

#include "util/error.h"

#define ACME_ERR_PREFIX "urn:ietf:params:acme:error:"

/*
 * The thread's last problem lives under a pthread key, not a plain
 * thread-local, so that a worker thread that ends after a failure frees it
 * (the destructor) instead of leaking it.
 */
static pthread_key_t problem_key;
static pthread_once_t problem_once = PTHREAD_ONCE_INIT;

static void problem_destroy(void *p)
{
	acme_problem_release(p);
	free(p);
}

static void problem_key_init(void)
{
	if (pthread_key_create(&problem_key, problem_destroy))
		abort(); /* only when the process is out of keys: a programmer error */
}

static acme_problem *last_get(void)
{
	pthread_once(&problem_once, problem_key_init);
	return pthread_getspecific(problem_key);
}

static void last_set(acme_problem *p)
{
	pthread_once(&problem_once, problem_key_init);
	pthread_setspecific(problem_key, p);
}

char *acme__json_str(json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s ? strdup(s) : NULL;
}

char *acme__json_str_oom(json_t *obj, const char *key, int *oom)
{
	const char *s = json_string_value(json_object_get(obj, key));
	char *d = s ? strdup(s) : NULL;

	if (s && !d)
		*oom = 1;
	return d;
}

void acme_problem_release(acme_problem *p)
{
	size_t i;

	if (!p)
		return;
	free(p->type);
	free(p->detail);
	free(p->instance);
	free(p->url);
	for (i = 0; i < p->nsubproblems; i++) {
		free(p->subproblems[i].type);
		free(p->subproblems[i].detail);
		free(p->subproblems[i].id_type);
		free(p->subproblems[i].id_value);
	}
	free(p->subproblems);
	memset(p, 0, sizeof(*p));
	p->retry_after = -1;
}

static int problem_from_json(acme_problem *out, json_t *obj)
{
	json_t *subs = json_object_get(obj, "subproblems"), *s;
	size_t i;

	out->type = acme__json_str(obj, "type");
	if (!out->type && !(out->type = strdup("about:blank")))
		return -1;
	out->detail = acme__json_str(obj, "detail");
	out->instance = acme__json_str(obj, "instance");
	if (json_is_array(subs) && json_array_size(subs)) {
		out->subproblems = calloc(json_array_size(subs), sizeof(*out->subproblems));
		if (!out->subproblems)
			return -1;
		json_array_foreach(subs, i, s) {
			acme_subproblem *sp = &out->subproblems[out->nsubproblems++];
			json_t *id = json_object_get(s, "identifier");
			sp->type = acme__json_str(s, "type");
			sp->detail = acme__json_str(s, "detail");
			sp->id_type = acme__json_str(id, "type");
			sp->id_value = acme__json_str(id, "value");
		}
	}
	return 0;
}

int acme_problem_parse(acme_problem *out, const char *json, size_t len,
		       long status, const char *url)
{
	json_error_t jerr;
	json_t *obj = json_loadb(json, len, 0, &jerr);
	int error = 0;

	memset(out, 0, sizeof(*out));
	out->retry_after = -1;
	out->status = status;
	if (!json_is_object(obj)) {
		json_decref(obj);
		return util_error_set(CERTOPS_EINVALID, "problem document is not a json object");
	}
	if (problem_from_json(out, obj) < 0 || (url && !(out->url = strdup(url)))) {
		acme_problem_release(out);
		error = util_error_oom();
	}
	json_decref(obj);
	return error;
}

acme_problem *acme__json_problem(json_t *obj)
{
	json_t *e = json_object_get(obj, "error");
	acme_problem *p;

	if (!json_is_object(e) || !(p = calloc(1, sizeof(*p))))
		return NULL;
	p->retry_after = -1;
	if (problem_from_json(p, e) < 0) {
		acme_problem_release(p);
		free(p);
		return NULL;
	}
	return p;
}

int acme_problem_is(const acme_problem *p, const char *short_name)
{
	size_t n = strlen(ACME_ERR_PREFIX);

	return p && p->type && !strncmp(p->type, ACME_ERR_PREFIX, n) &&
	       !strcmp(p->type + n, short_name);
}

int acme_problem_code(const acme_problem *p)
{
	if (!p)
		return CERTOPS_ERROR;
	if (acme_problem_is(p, "rateLimited") || p->status == 429)
		return CERTOPS_ERATELIMIT;
	if (acme_problem_is(p, "accountDoesNotExist"))
		return CERTOPS_ENOTFOUND;
	if (acme_problem_is(p, "unauthorized") || acme_problem_is(p, "externalAccountRequired") ||
	    acme_problem_is(p, "badSignatureAlgorithm") || acme_problem_is(p, "userActionRequired"))
		return CERTOPS_EAUTH;
	if (acme_problem_is(p, "malformed") || acme_problem_is(p, "rejectedIdentifier") ||
	    acme_problem_is(p, "unsupportedIdentifier") || acme_problem_is(p, "badCSR") ||
	    acme_problem_is(p, "invalidContact") || acme_problem_is(p, "unsupportedContact"))
		return CERTOPS_EINVALID;
	return CERTOPS_EPEER;
}

const acme_problem *acme_problem_last(void)
{
	return last_get();
}

void acme_problem_clear(void)
{
	acme_problem *p = last_get();

	if (p) {
		last_set(NULL);
		problem_destroy(p);
	}
}

static const char *short_type(const char *type)
{
	size_t n = strlen(ACME_ERR_PREFIX);

	return type && !strncmp(type, ACME_ERR_PREFIX, n) ? type + n : type;
}

int acme__fail_problem(acme_problem *p, const char *what)
{
	util_buf msg = UTIL_BUF_INIT;
	int code = acme_problem_code(p);
	size_t i;

	util_buf_printf(&msg, "%s%s%s: %s", what, p->url ? " " : "", p->url ? p->url : "",
			short_type(p->type));
	if (p->detail)
		util_buf_printf(&msg, ": %s", p->detail);
	for (i = 0; i < p->nsubproblems; i++) {
		const acme_subproblem *s = &p->subproblems[i];
		util_buf_printf(&msg, "; %s '%s': %s: %s", s->id_type ? s->id_type : "identifier",
				s->id_value ? s->id_value : "?", short_type(s->type),
				s->detail ? s->detail : "");
	}
	if (p->retry_after >= 0)
		util_buf_printf(&msg, " (retry after %llds)", (long long)p->retry_after);
	acme_problem_clear();
	last_set(p);
	util_error_set(code, "%s", util_buf_failed(&msg) ? "acme error" : msg.ptr);
	util_buf_release(&msg);
	return code;
}

acme_problem *acme__problem_take(void)
{
	acme_problem *p = last_get();

	last_set(NULL);
	return p;
}

void acme__problem_put(acme_problem *p)
{
	acme_problem_clear();
	last_set(p);
}
