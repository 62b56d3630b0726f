/*
 * The declaration corpus: every file of corpus/bad must produce exactly the
 * diagnostics of its .expect file (position, field path and message), and
 * every file of corpus/good and every example must load without one.
 * (tests/schemas/check_schemas.py holds the JSON Schemas to the same files.)
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/config.h"
#include "util/fs.h"

/* Run from the repository root (as tests/run.sh does). */
#define CORPUS "tests/unit/config/corpus"

typedef struct {
	char **names;
	size_t n;
} names;

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void list_yaml(names *out, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	out->names = NULL;
	out->n = 0;
	if (!d)
		fail_msg("cannot open %s (run from the repository root)", dir);
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);

		if (len < 6 || strcmp(de->d_name + len - 5, ".yaml"))
			continue;
		out->names = realloc(out->names, (out->n + 1) * sizeof(char *));
		assert_non_null(out->names);
		out->names[out->n] = strdup(de->d_name);
		assert_non_null(out->names[out->n]);
		out->n++;
	}
	closedir(d);
	qsort(out->names, out->n, sizeof(char *), cmp);
}

static void free_names(names *n)
{
	size_t i;

	for (i = 0; i < n->n; i++)
		free(n->names[i]);
	free(n->names);
}

/* Loads one file as a set of its own; diagnostics formatted, one a line. */
static char *load_one(const char *dir, const char *name, size_t *count)
{
	util_diags diags = UTIL_DIAGS_INIT;
	util_buf path = UTIL_BUF_INIT, out = UTIL_BUF_INIT;
	config_set *set = NULL;
	size_t i;

	util_fs_join(&path, dir, name);
	assert_int_equal(config_set_new(&set), 0);
	assert_int_equal(config_set_add_file(set, &diags, path.ptr, name), 0);
	assert_int_equal(config_set_validate(set, &diags), 0);
	util_diags_sort(&diags);
	for (i = 0; i < diags.count; i++) {
		util_error_format(&out, &diags.items[i]);
		util_buf_putc(&out, '\n');
	}
	*count = diags.count;
	util_diags_release(&diags);
	config_set_free(set);
	util_buf_release(&path);
	return util_buf_detach(&out);
}

/* The .expect file without "#" lines, each line prefixed with "name:". */
static char *expected(const char *dir, const char *name, size_t *count)
{
	util_buf path = UTIL_BUF_INIT, data = UTIL_BUF_INIT, out = UTIL_BUF_INIT;
	size_t len = strlen(name);
	char *line, *nl;

	util_buf_put(&path, dir, strlen(dir));
	util_buf_putc(&path, '/');
	util_buf_put(&path, name, len - 5);
	util_buf_puts(&path, ".expect");
	if (util_fs_read_file(&data, path.ptr, 0) < 0)
		fail_msg("%s: missing .expect file", name);
	*count = 0;
	for (line = data.ptr; *line; line = nl + 1) {
		if (!(nl = strchr(line, '\n')))
			nl = line + strlen(line) - 1; /* last line, no newline */
		else
			*nl = '\0';
		if (line[0] != '#' && line[0])
			util_buf_printf(&out, "%s:%s\n", name, line);
		if (line[0] != '#' && line[0])
			(*count)++;
		if (!nl[1])
			break;
	}
	util_buf_release(&path);
	util_buf_release(&data);
	return util_buf_detach(&out);
}

static void test_bad_corpus(void **state)
{
	names n;
	size_t i, failures = 0;

	(void)state;
	list_yaml(&n, CORPUS "/bad");
	/* The issue asks for at least 40 single-mistake files. */
	assert_true(n.n >= 40);
	for (i = 0; i < n.n; i++) {
		size_t got_n, want_n;
		char *got = load_one(CORPUS "/bad", n.names[i], &got_n);
		char *want = expected(CORPUS "/bad", n.names[i], &want_n);

		if (want_n == 0 || strcmp(got, want)) {
			print_error("%s:\n  expected:\n%s  got:\n%s", n.names[i],
				    want, got);
			failures++;
		}
		free(got);
		free(want);
	}
	free_names(&n);
	assert_int_equal(failures, 0);
}

static void test_good_corpus(void **state)
{
	names n;
	size_t i, failures = 0;

	(void)state;
	list_yaml(&n, CORPUS "/good");
	assert_true(n.n >= 5);
	for (i = 0; i < n.n; i++) {
		size_t count;
		char *got = load_one(CORPUS "/good", n.names[i], &count);

		if (count) {
			print_error("%s: expected no problem, got:\n%s",
				    n.names[i], got);
			failures++;
		}
		free(got);
	}
	free_names(&n);
	assert_int_equal(failures, 0);
}

static void check_example(const char *dir, size_t min_certs)
{
	util_diags diags = UTIL_DIAGS_INIT;
	util_buf msg = UTIL_BUF_INIT;
	config_set *set = NULL;
	size_t i;
	int rc = config_load_dir(&set, &diags, dir);

	for (i = 0; i < diags.count; i++) {
		util_error_format(&msg, &diags.items[i]);
		util_buf_putc(&msg, '\n');
	}
	if (rc != 0)
		fail_msg("%s: %s", dir, msg.ptr);
	assert_non_null(set);
	assert_true(set->ncertificates >= min_certs);
	config_set_free(set);
	util_diags_release(&diags);
	util_buf_release(&msg);
}

static void test_examples(void **state)
{
	(void)state;
	check_example("examples/quickstart", 1);
	check_example("examples/multi-team", 20);
}

/* The tests read repository files: find the root from wherever we run. */
static void chdir_to_root(void)
{
	int i;

	for (i = 0; i < 8; i++) {
		DIR *d = opendir(CORPUS);

		if (d) {
			closedir(d);
			return;
		}
		if (chdir("..") < 0)
			return;
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_corpus),
		cmocka_unit_test(test_good_corpus),
		cmocka_unit_test(test_examples),
	};

	chdir_to_root();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
