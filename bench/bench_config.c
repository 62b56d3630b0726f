/*
 * bench_config [N]: generates N Certificate declarations (default 10,000)
 * spread over 100 files plus one Issuer and one Solver, then times
 * config_load_dir (read, parse, decode, validate) and the content hashes.
 * Prints wall and CPU time (best of 3); exits 1 when the load is not valid
 * or takes a second of CPU or more (the budget in issue 3).  Most of the
 * time is libyaml's own scanning.
 */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config/config.h"
#include "util/fs.h"

static double clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now(void) { return clock_s(CLOCK_MONOTONIC); }
/* CPU time: the budget holds on a busy CI machine too. */
static double cpu(void) { return clock_s(CLOCK_PROCESS_CPUTIME_ID); }

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int generate(const char *dir, long n)
{
	util_buf b = UTIL_BUF_INIT, path = UTIL_BUF_INIT;
	long i, files = 100, per = (n + files - 1) / files, f;
	int error = 0;

	util_buf_puts(&b, "kind: Issuer\nname: le\nacme:\n"
		      "  directory: https://acme.example/dir\n"
		      "  email: ops@example.com\n---\n"
		      "kind: Solver\nname: web\ndefault: true\n"
		      "challenge: {http01: {webroot: /var/www/acme}}\n");
	util_fs_join(&path, dir, "issuers.yaml");
	error = util_fs_write_atomic(path.ptr, b.ptr, b.size, 0644);
	for (f = 0; !error && f < files; f++) {
		util_buf_clear(&b);
		for (i = f * per; i < (f + 1) * per && i < n; i++)
			util_buf_printf(&b,
				"---\nkind: Certificate\nname: cert-%ld\nissuer: le\n"
				"domains: [host-%ld.example.com, www.host-%ld.example.com]\n"
				"key: {type: ecdsa-p256}\nrenewBefore: 30d\n"
				"labels: {team: team-%ld}\n"
				"deploy:\n"
				"  - files: {dir: /etc/ssl/certops/cert-%ld, mode: \"0640\"}\n"
				"  - exec: {command: [/usr/sbin/nginx, -s, reload]}\n"
				"verify:\n  - tls: {connect: \"127.0.0.1:443\", serverName: host-%ld.example.com}\n",
				i, i, i, i % 17, i, i);
		util_buf_clear(&path);
		util_buf_printf(&path, "%s/certs-%03ld.yaml", dir, f);
		if (util_buf_failed(&b) || util_buf_failed(&path))
			error = -1;
		else
			error = util_fs_write_atomic(path.ptr, b.ptr, b.size, 0644);
	}
	util_buf_release(&b);
	util_buf_release(&path);
	return error;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 10000;
	char tmpl[] = "/tmp/certops-bench.XXXXXX";
	char *dir = mkdtemp(tmpl);
	util_diags diags = UTIL_DIAGS_INIT;
	config_set *set = NULL;
	char hash[CONFIG_HASH_HEX_LEN + 1];
	double t0, t1, t2, c0, c1, best = 1e9, best_cpu = 1e9;
	size_t i;
	int rc = 0, round;

	if (!dir || n <= 0 || generate(dir, n) < 0) {
		fprintf(stderr, "bench_config: cannot generate the input\n");
		return 1;
	}
	for (round = 0; round < 3; round++) {
		t0 = now();
		c0 = cpu();
		if (config_load_dir(&set, &diags, dir) != 0) {
			fprintf(stderr, "bench_config: load failed (%zu problems)\n",
				diags.count);
			rc = 1;
			break;
		}
		t1 = now();
		c1 = cpu();
		if (t1 - t0 < best)
			best = t1 - t0;
		if (c1 - c0 < best_cpu)
			best_cpu = c1 - c0;
		for (i = 0; i < set->ncertificates; i++)
			config_certificate_hash(hash, set->certificates[i]);
		t2 = now();
		if (round == 2)
			printf("bench_config: certificates=%zu load_best_ms=%.1f load_cpu_ms=%.1f hash_all_ms=%.1f\n",
			       set->ncertificates, best * 1e3, best_cpu * 1e3,
			       (t2 - t1) * 1e3);
		config_set_free(set);
		set = NULL;
	}
	if (!rc && best_cpu >= 1.0) {
		fprintf(stderr, "bench_config: loading took %.3fs of CPU (budget 1s)\n",
			best_cpu);
		rc = 1;
	}
	util_diags_release(&diags);
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return rc;
}
