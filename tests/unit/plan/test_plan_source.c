/*
 * The source of a plan (plan_set_source: the human header, the JSON
 * "source" object, its round trip through a saved plan) and plan_filter
 * (reconcile's retry backoff: a certificate's actions and their dependents
 * dropped, the others and the shared account kept).
 */
#include "helpers.h"

#include <unistd.h>

#include "util/fs.h"

static const char *const yaml =
	"kind: Issuer\nname: le\nacme: {directory: https://acme.example/dir}\n---\n"
	"kind: Certificate\nname: www\nissuer: le\ndomains: [www.example.com]\n"
	"challenge: {http01: {webroot: /var/www/html}}\n"
	"deploy:\n"
	"  - files: {dir: /nonexistent/certops/www}\n"
	"  - exec: {command: [/bin/true]}\n---\n"
	"kind: Certificate\nname: api\nissuer: le\ndomains: [api.example.com]\n"
	"challenge: {http01: {webroot: /var/www/html}}\n"
	"deploy:\n"
	"  - files: {dir: /nonexistent/certops/api}\n";

#define COMMIT "0123456789abcdef0123456789abcdef01234567"

typedef struct {
	config_set *set;
	observe_result *obs;
	plan *p;
	util_buf b;
} fx;

static int setup(void **vs)
{
	fx *f = calloc(1, sizeof(*f));

	f->set = load_set(yaml);
	f->obs = observe_empty(f->set);
	f->p = make_plan(f->set, f->obs, T0);
	util_buf_init(&f->b);
	*vs = f;
	return 0;
}

static int teardown(void **vs)
{
	fx *f = *vs;

	plan_free(f->p);
	observe_result_free(f->obs);
	config_set_free(f->set);
	util_buf_release(&f->b);
	free(f);
	return 0;
}

static void test_no_source_by_default(void **vs)
{
	fx *f = *vs;

	assert_int_equal(plan_render_json(&f->b, f->p), 0);
	assert_null(strstr(f->b.ptr, "\"source\""));
	util_buf_clear(&f->b);
	assert_int_equal(plan_render_human(&f->b, f->p, 0), 0);
	assert_null(strstr(f->b.ptr, "Source:"));
}

static void test_source_rendered_and_saved(void **vs)
{
	fx *f = *vs;
	plan *back = NULL;
	util_buf path = UTIL_BUF_INIT;
	char dir[] = "/tmp/certops-plan-src.XXXXXX";

	assert_int_equal(plan_set_source(f->p, "file:///srv/certs.git", "refs/heads/main",
					 COMMIT), 0);
	assert_int_equal(plan_render_human(&f->b, f->p, 0), 0);
	assert_true(!strncmp(f->b.ptr, "Source: file:///srv/certs.git refs/heads/main at commit "
			     COMMIT "\n\n", strlen("Source: file:///srv/certs.git refs/heads/main "
						   "at commit " COMMIT "\n\n")));
	util_buf_clear(&f->b);
	assert_int_equal(plan_render_json(&f->b, f->p), 0);
	assert_non_null(strstr(f->b.ptr, "\"commit\": \"" COMMIT "\""));

	assert_non_null(mkdtemp(dir));
	util_fs_join(&path, dir, "plan.json");
	assert_int_equal(plan_save(f->p, path.ptr), 0);
	assert_int_equal(plan_load(&back, path.ptr), 0);
	assert_string_equal(back->source_url, "file:///srv/certs.git");
	assert_string_equal(back->source_ref, "refs/heads/main");
	assert_string_equal(back->source_commit, COMMIT);
	plan_free(back);
	unlink(path.ptr);
	rmdir(dir);
	util_buf_release(&path);
}

static void test_parse_rejects_bad_source(void **vs)
{
	static const char *const bad[] = {
		"\"source\": 3",
		"\"source\": {\"url\": \"x\"}",            /* no commit */
		"\"source\": {\"commit\": 7}",
	};
	fx *f = *vs;
	util_buf doc = UTIL_BUF_INIT;
	plan *p = NULL;
	size_t i;

	assert_int_equal(plan_render_json(&f->b, f->p), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		util_buf_clear(&doc);
		/* the source goes right after the opening brace */
		util_buf_printf(&doc, "{%s,%s", bad[i], f->b.ptr + 1);
		assert_int_equal(plan_parse_json(&p, doc.ptr, doc.size), CERTOPS_EINVALID);
		assert_null(p);
	}
	util_buf_release(&doc);
}

static int keep_not_www(const plan_action *a, void *data)
{
	(void)data;
	return !a->certificate || strcmp(a->certificate, "www");
}

static void test_filter_drops_a_certificate_and_dependents(void **vs)
{
	fx *f = *vs;
	size_t before = f->p->count, dropped, i;

	assert_non_null(plan_find(f->p, "hook:www:exec[1]"));
	dropped = plan_filter(f->p, keep_not_www, NULL);
	assert_int_equal(dropped, 3); /* issue, deploy, hook of www */
	assert_int_equal(f->p->count, before - 3);
	for (i = 0; i < f->p->count; i++)
		assert_true(!f->p->actions[i].certificate ||
			    strcmp(f->p->actions[i].certificate, "www"));
	assert_non_null(plan_find(f->p, "account:le"));
	assert_non_null(plan_find(f->p, "issue:api"));
	assert_non_null(plan_find(f->p, "deploy:api:files[0]"));
	assert_int_equal(f->p->n_issue, 1);
	assert_int_equal(f->p->n_deploy, 1);
	assert_int_equal(f->p->n_hooks, 0);
}

static int keep_no_account(const plan_action *a, void *data)
{
	(void)data;
	return a->kind != PLAN_ACTION_REGISTER_ACCOUNT;
}

static void test_filter_drops_transitively(void **vs)
{
	fx *f = *vs;
	size_t before = f->p->count;

	/* everything depends on the account, directly or not */
	assert_true(before > 1);
	assert_int_equal(plan_filter(f->p, keep_no_account, NULL), before);
	assert_int_equal(f->p->count, 0);
	assert_false(plan_has_changes(f->p));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(x) cmocka_unit_test_setup_teardown(x, setup, teardown)
		T(test_no_source_by_default),
		T(test_source_rendered_and_saved),
		T(test_parse_rejects_bad_source),
		T(test_filter_drops_a_certificate_and_dependents),
		T(test_filter_drops_transitively),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
