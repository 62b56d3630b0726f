/*
 * observe: the state store side (accounts, current certificates,
 * deployment records, orphans) and the walk over every declaration.
 * Every item gets its own error field; only running out of memory stops
 * the walk.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto/crypto.h"
#include "observe/observe.h"
#include "observe/observe_internal.h"
#include "util/error.h"
#include "util/fingerprint.h"

int observe__set_errorf(char **field, const char *fmt, ...)
{
	util_buf b = UTIL_BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	util_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	if (util_buf_failed(&b))
		return util_error_oom();
	free(*field);
	*field = util_buf_detach(&b);
	return *field ? 0 : util_error_oom();
}

int observe_target_id(util_buf *out, const config_certificate *cert,
		      const config_target *target)
{
	util_buf_printf(out, "%s:%s[%u]", cert->name,
			config_target_type_name(target->type), target->index);
	return util_buf_failed(out) ? CERTOPS_ENOMEM : 0;
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

#define DUP(dst, src) \
	do { const char *s_ = (src); \
	     if (s_ && !((dst) = strdup(s_))) goto oom; } while (0)

/* ---- clearing ---- */

static void current_clear(observe_cert_current *c)
{
	size_t i;

	free(c->version);
	for (i = 0; i < c->nsans; i++)
		free(c->sans[i]);
	free(c->sans);
	free(c->key_spec);
	free(c->issuer);
	free(c->issuer_cn);
	free(c->profile);
	free(c->serial);
	free(c->fingerprint);
	free(c->declaration_hash);
	free(c->order_url);
	memset(c, 0, sizeof(*c));
}

void observe_target_clear(observe_target *t)
{
	if (!t)
		return;
	free(t->id);
	free(t->config_hash);
	free(t->deployed_fingerprint);
	free(t->deployed_config_hash);
	free(t->deploy_message);
	target_observation_clear(&t->observed);
	memset(t, 0, sizeof(*t));
}

void observe_result_free(observe_result *obs)
{
	size_t i, j;

	if (!obs)
		return;
	for (i = 0; i < obs->ncerts; i++) {
		observe_cert *c = &obs->certs[i];

		current_clear(&c->cur);
		free(c->renewal.explanation_url);
		free(c->error);
		for (j = 0; j < c->ntargets; j++)
			observe_target_clear(&c->targets[j]);
		free(c->targets);
		for (j = 0; j < c->nverifies; j++) {
			free(c->verifies[j].served_fingerprint);
			free(c->verifies[j].error);
		}
		free(c->verifies);
	}
	free(obs->certs);
	for (i = 0; i < obs->nissuers; i++) {
		free(obs->issuers[i].directory_url);
		free(obs->issuers[i].error);
	}
	free(obs->issuers);
	for (i = 0; i < obs->norphan_certs; i++) {
		free(obs->orphan_certs[i].name);
		free(obs->orphan_certs[i].fingerprint);
	}
	free(obs->orphan_certs);
	for (i = 0; i < obs->norphan_targets; i++) {
		free(obs->orphan_targets[i].id);
		free(obs->orphan_targets[i].certificate);
		free(obs->orphan_targets[i].fingerprint);
	}
	free(obs->orphan_targets);
	free(obs->error);
	free(obs);
}

/* ---- one target ---- */

/*
 * observe_target_run with the current fingerprint known (NULL: none):
 * the record, then the kind's own observation (target_observe).
 */
static int target_run(observe_target *out, const config_certificate *cert,
		      const config_target *target, const char *chain_pem,
		      const char *key_pem, const char *current_fp,
		      const state_deploy *record, const config_policy *policy,
		      unsigned flags)
{
	static const target_observation init = TARGET_OBSERVATION_INIT;
	util_buf id = UTIL_BUF_INIT;
	char hash[CONFIG_HASH_HEX_LEN + 1], fp[UTIL_FINGERPRINT_HEX_LEN + 1];
	target_material m;
	target_env env;
	int error = 0;

	memset(out, 0, sizeof(*out));
	out->cert = cert;
	out->target = target;
	out->kind = target->type;
	out->observed = init;
	if ((error = observe_target_id(&id, cert, target)) < 0 ||
	    !(out->id = util_buf_detach(&id)))
		goto oom;
	if ((error = config_target_hash(hash, target)) < 0 || !(out->config_hash = strdup(hash)))
		goto oom;
	if (record) {
		out->has_record = 1;
		out->deployed_at = record->time;
		out->deployed_ok = record->result == STATE_DEPLOY_OK;
		if (util_fingerprint_norm(fp, record->fingerprint) == 0)
			DUP(out->deployed_fingerprint, fp);
		else
			DUP(out->deployed_fingerprint, record->fingerprint);
		DUP(out->deployed_config_hash, record->config_hash);
		DUP(out->deploy_message, record->message);
	}
	memset(&m, 0, sizeof(m));
	m.name = cert->name;
	m.chain_pem = chain_pem;
	m.key_pem = key_pem;
	m.fingerprint = current_fp;
	m.cert = cert;
	/* the version certops wrote is only worth trusting for what it wrote */
	if (record && record->result == STATE_DEPLOY_OK &&
	    util_fingerprint_equal(record->fingerprint, current_fp))
		m.known_version = record->version;
	env.policy = policy;
	env.online = (flags & OBSERVE_ONLINE) != 0;
	if ((error = target_observe(&out->observed, &env, target, &m)) == CERTOPS_ENOMEM)
		goto done;
	if (error < 0) {
		/* a kind not built yet: the target cannot be observed */
		error = observe__set_errorf(&out->observed.error, "%s", util_error_message());
		util_error_clear();
	}
	goto done;
oom:
	error = util_error_oom();
done:
	util_buf_release(&id);
	return error;
}

int observe_target_run(observe_target *out, const config_certificate *cert,
		       const config_target *target, const char *chain_pem,
		       const char *key_pem, const state_deploy *record)
{
	crypto_cert_info info;
	util_buf hex = UTIL_BUF_INIT;
	char fp[UTIL_FINGERPRINT_HEX_LEN + 1];
	const char *current_fp = NULL;
	int error;

	if (chain_pem) {
		memset(&info, 0, sizeof(info));
		if (crypto_cert_parse(&info, chain_pem, strlen(chain_pem)) == 0) {
			crypto_hex_encode(&hex, info.fingerprint, sizeof(info.fingerprint), 0);
			crypto_cert_info_release(&info);
			if (!util_buf_failed(&hex) && util_fingerprint_norm(fp, hex.ptr) == 0)
				current_fp = fp;
		}
		util_error_clear();
	}
	error = target_run(out, cert, target, chain_pem, key_pem, current_fp, record,
			   NULL, 0);
	util_buf_release(&hex);
	return error;
}

/* ---- one certificate ---- */

static int meta_complete(const state_cert_meta *m)
{
	char fp[UTIL_FINGERPRINT_HEX_LEN + 1];

	return m->nsans && m->not_after > m->not_before && m->key_spec &&
		m->fingerprint && util_fingerprint_norm(fp, m->fingerprint) == 0;
}

static int fill_current(observe_cert_current *c, const state_cert *sc)
{
	crypto_cert_info info;
	util_buf hex = UTIL_BUF_INIT;
	char fp[UTIL_FINGERPRINT_HEX_LEN + 1];
	size_t i, n;
	int parsed = 0;

	memset(&info, 0, sizeof(info));
	DUP(c->version, sc->meta.version);
	DUP(c->issuer, sc->meta.issuer);
	DUP(c->declaration_hash, sc->meta.declaration_hash);
	DUP(c->order_url, sc->meta.order_url);
	c->issued_at = sc->meta.issued_at;
	/*
	 * The store's metadata was taken from the certificate when it was
	 * stored; parsing 10,000 chains on every no-op plan costs more than
	 * everything else together, so the chain is parsed only when the
	 * metadata is incomplete.  (The chain's bytes are still compared
	 * with every deployed file.)
	 */
	if (sc->chain_pem && !meta_complete(&sc->meta) &&
	    crypto_cert_parse(&info, sc->chain_pem, strlen(sc->chain_pem)) == 0)
		parsed = 1;
	util_error_clear();
	if (parsed) {
		/* the certificate itself is the authority; meta is a cache */
		n = info.ndns + info.nip;
		if (n && !(c->sans = calloc(n, sizeof(*c->sans))))
			goto oom;
		for (i = 0; i < info.ndns; i++)
			DUP(c->sans[c->nsans++], info.dns_names[i]);
		for (i = 0; i < info.nip; i++)
			DUP(c->sans[c->nsans++], info.ip_addrs[i]);
		c->not_before = info.not_before;
		c->not_after = info.not_after;
		DUP(c->serial, info.serial_hex);
		DUP(c->issuer_cn, info.issuer_cn);
		if (info.key_type != CRYPTO_KEY_UNKNOWN)
			DUP(c->key_spec, crypto_key_type_name(info.key_type));
		crypto_hex_encode(&hex, info.fingerprint, sizeof(info.fingerprint), 0);
		if (util_buf_failed(&hex))
			goto oom;
		DUP(c->fingerprint, hex.ptr);
	} else {
		if (sc->meta.nsans && !(c->sans = calloc(sc->meta.nsans, sizeof(*c->sans))))
			goto oom;
		for (i = 0; i < sc->meta.nsans; i++)
			DUP(c->sans[c->nsans++], sc->meta.sans[i]);
		c->not_before = sc->meta.not_before;
		c->not_after = sc->meta.not_after;
		DUP(c->serial, sc->meta.serial);
		if (sc->meta.fingerprint && util_fingerprint_norm(fp, sc->meta.fingerprint) == 0)
			DUP(c->fingerprint, fp);
	}
	if (!c->key_spec)
		DUP(c->key_spec, sc->meta.key_spec);
	crypto_cert_info_release(&info);
	util_buf_release(&hex);
	return 0;
oom:
	if (parsed)
		crypto_cert_info_release(&info);
	util_buf_release(&hex);
	return util_error_oom();
}

static int cmp_deploy_id(const void *key, const void *elem)
{
	return strcmp((const char *)key, (*(state_deploy *const *)elem)->target);
}

/* The record of id in the sorted list, or NULL; marks it used. */
static const state_deploy *find_record(state_deploy **list, size_t n,
				       unsigned char *used, const char *id)
{
	state_deploy **hit;

	if (!n)
		return NULL;
	hit = bsearch(id, list, n, sizeof(*list), cmp_deploy_id);
	if (!hit)
		return NULL;
	used[hit - list] = 1;
	return *hit;
}

static int needs_key(const config_certificate *cert)
{
	size_t i;

	for (i = 0; i < cert->ndeploy; i++)
		if (target_observe_needs_key(&cert->deploy[i]))
			return 1;
	return 0;
}

static int observe_cert_run(observe_cert *oc, const config_certificate *cert,
			    state *st, state_deploy **records, size_t nrecords,
			    unsigned char *used, const config_policy *policy,
			    unsigned flags)
{
	state_cert *sc = NULL;
	util_buf id = UTIL_BUF_INIT;
	unsigned load = STATE_CERT_CHAIN;
	size_t i;
	int error = 0, rc;

	oc->cert = cert;
	if (!(flags & OBSERVE_NO_TARGETS) && needs_key(cert))
		load |= STATE_CERT_KEY;
	if (st) {
		rc = state_cert_current(&sc, st, cert->name, load);
		/* broken material is never trusted or handed to a target: the
		 * planner sees it as unreadable and reissues */
		if (rc == 0 && crypto_material_check(sc->chain_pem, sc->key_pem) < 0) {
			if ((error = observe__set_errorf(&oc->error, "version %s is corrupt: %s",
							 sc->meta.version ? sc->meta.version : "?",
							 util_error_message())) < 0)
				goto done;
			state_cert_free(sc);
			sc = NULL;
			rc = CERTOPS_EINVALID;
		} else if (rc == 0) {
			oc->present = 1;
			if ((error = fill_current(&oc->cur, sc)) < 0)
				goto done;
		} else if (rc == CERTOPS_ENOMEM) {
			error = rc;
			goto done;
		} else if (rc != CERTOPS_ENOTFOUND) {
			if ((error = observe__set_errorf(&oc->error, "%s", util_error_message())) < 0)
				goto done;
		}
		util_error_clear();
	}
	if (cert->nverify) {
		if (!(oc->verifies = calloc(cert->nverify, sizeof(*oc->verifies))))
			goto oom;
		oc->nverifies = cert->nverify;
		for (i = 0; i < cert->nverify; i++)
			oc->verifies[i].verify = &cert->verify[i];
	}
	if ((flags & OBSERVE_NO_TARGETS) || !cert->ndeploy)
		goto done;
	if (!(oc->targets = calloc(cert->ndeploy, sizeof(*oc->targets))))
		goto oom;
	for (i = 0; i < cert->ndeploy; i++) {
		const state_deploy *rec;

		util_buf_clear(&id);
		if (observe_target_id(&id, cert, &cert->deploy[i]) < 0)
			goto oom;
		rec = find_record(records, nrecords, used, id.ptr);
		error = target_run(&oc->targets[i], cert, &cert->deploy[i],
				   sc ? sc->chain_pem : NULL, sc ? sc->key_pem : NULL,
				   oc->present ? oc->cur.fingerprint : NULL, rec,
				   policy, flags);
		oc->ntargets = i + 1;
		if (error < 0)
			goto done;
	}
	goto done;
oom:
	error = util_error_oom();
done:
	state_cert_free(sc);
	util_buf_release(&id);
	return error;
}

/* ---- orphans ---- */

static int cmp_str_ptr(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int is_declared(const char **sorted, size_t n, const char *name)
{
	return n && bsearch(&name, sorted, n, sizeof(*sorted), cmp_str_ptr) != NULL;
}

static int observe_orphans(observe_result *obs, state *st,
			   state_deploy **records, size_t nrecords,
			   const unsigned char *used)
{
	char **names = NULL;
	const char **declared = NULL;
	size_t nnames = 0, i, n = 0;
	state_cert *sc = NULL;
	int error = 0;

	if ((error = state_cert_names(&names, &nnames, st)) < 0) {
		if (error == CERTOPS_ENOMEM)
			goto done;
		error = observe__set_errorf(&obs->error, "listing certificates: %s",
					    util_error_message());
		util_error_clear();
		goto done;
	}
	/* declared names, sorted, for a lookup that stays O(log n) per name */
	if (obs->ncerts && !(declared = malloc(obs->ncerts * sizeof(*declared))))
		goto oom;
	for (i = 0; i < obs->ncerts; i++)
		declared[i] = obs->certs[i].cert->name;
	if (obs->ncerts)
		qsort(declared, obs->ncerts, sizeof(*declared), cmp_str_ptr);
	for (i = 0; i < nnames; i++)
		n += !is_declared(declared, obs->ncerts, names[i]);
	if (n && !(obs->orphan_certs = calloc(n, sizeof(*obs->orphan_certs))))
		goto oom;
	for (i = 0; i < nnames; i++) {
		observe_orphan_cert *o;

		if (is_declared(declared, obs->ncerts, names[i]))
			continue;
		o = &obs->orphan_certs[obs->norphan_certs++];
		o->name = names[i];
		names[i] = NULL;
		if (state_cert_current(&sc, st, o->name, 0) == 0) {
			char fp[UTIL_FINGERPRINT_HEX_LEN + 1];

			o->not_after = sc->meta.not_after;
			if (sc->meta.fingerprint && util_fingerprint_norm(fp, sc->meta.fingerprint) == 0)
				DUP(o->fingerprint, fp);
			state_cert_free(sc);
			sc = NULL;
		}
		util_error_clear();
	}
	n = 0;
	for (i = 0; i < nrecords; i++)
		n += !used[i];
	if (n && !(obs->orphan_targets = calloc(n, sizeof(*obs->orphan_targets))))
		goto oom;
	for (i = 0; i < nrecords; i++) {
		observe_orphan_target *o;

		if (used[i])
			continue;
		o = &obs->orphan_targets[obs->norphan_targets++];
		DUP(o->id, records[i]->target);
		DUP(o->certificate, records[i]->certificate);
		DUP(o->fingerprint, records[i]->fingerprint);
	}
	goto done;
oom:
	error = util_error_oom();
done:
	state_cert_free(sc);
	for (i = 0; i < nnames; i++)
		free(names[i]);
	free(names);
	free(declared);
	return error;
}

/* ---- issuers ---- */

static int observe_issuer_run(observe_issuer *oi, const config_issuer *issuer, state *st)
{
	state_account *acct = NULL;
	const char *url = NULL;
	int rc;

	oi->issuer = issuer;
	if (issuer->type != CONFIG_ISSUER_ACME) {
		oi->has_account = 1; /* a local CA needs none */
		return 0;
	}
	if (config_value_get(&url, &issuer->acme.directory) < 0) {
		rc = observe__set_errorf(&oi->error, "%s", util_error_message());
		util_error_clear();
		return rc;
	}
	if (!(oi->directory_url = dup_or_null(url)))
		return util_error_oom();
	if (!st)
		return 0;
	rc = state_account_get(&acct, st, issuer->name, url);
	if (rc == 0) {
		oi->has_account = acct->url != NULL;
		state_account_free(acct);
	} else if (rc == CERTOPS_ENOMEM) {
		return rc;
	} else if (rc != CERTOPS_ENOTFOUND) {
		rc = observe__set_errorf(&oi->error, "%s", util_error_message());
		util_error_clear();
		return rc;
	}
	util_error_clear();
	return 0;
}

/* ---- every certificate, on a few threads ---- */

/*
 * Observing is reading many small files; a few threads keep both cores
 * and the page cache busy.  Each worker takes the next certificate; every
 * certificate writes only its own observe_cert and the used[] bytes of
 * its own records (each record belongs to one target id), so they share
 * nothing else.  The state handle may be shared by threads (state.h).
 */
#define OBSERVE_THREADS_MAX 4
#define OBSERVE_PER_THREAD_MIN 64

typedef struct {
	observe_result *obs;
	const config_set *set;
	state *st;
	state_deploy **records;
	size_t nrecords;
	unsigned char *used;
	const config_policy *policy;
	unsigned flags;
	size_t next;            /* atomic: the next certificate index */
	int failed;             /* atomic: stop taking work */
	pthread_mutex_t mu;     /* guards error and message */
	int error;
	char *message;
} certs_job;

static void *certs_worker(void *arg)
{
	certs_job *j = arg;
	size_t i;
	int error;

	while (!__atomic_load_n(&j->failed, __ATOMIC_RELAXED) &&
	       (i = __atomic_fetch_add(&j->next, 1, __ATOMIC_RELAXED)) < j->set->ncertificates) {
		error = observe_cert_run(&j->obs->certs[i], j->set->certificates[i], j->st,
					 j->records, j->nrecords, j->used, j->policy, j->flags);
		if (error < 0) {
			/* the error record is per thread: carry it to the caller */
			pthread_mutex_lock(&j->mu);
			if (!j->error) {
				j->error = error;
				j->message = strdup(util_error_message());
			}
			pthread_mutex_unlock(&j->mu);
			__atomic_store_n(&j->failed, 1, __ATOMIC_RELAXED);
		}
	}
	return NULL;
}

static int observe_certs(observe_result *obs, const config_set *set, state *st,
			 state_deploy **records, size_t nrecords, unsigned char *used,
			 const config_policy *policy, unsigned flags)
{
	certs_job j;
	pthread_t tids[OBSERVE_THREADS_MAX];
	size_t nthreads, started = 0, i;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	memset(&j, 0, sizeof(j));
	j.obs = obs;
	j.set = set;
	j.st = st;
	j.records = records;
	j.nrecords = nrecords;
	j.used = used;
	j.policy = policy;
	j.flags = flags;
	pthread_mutex_init(&j.mu, NULL);
	nthreads = ncpu > 1 ? (size_t)ncpu : 1;
	if (nthreads > OBSERVE_THREADS_MAX)
		nthreads = OBSERVE_THREADS_MAX;
	if (nthreads > set->ncertificates / OBSERVE_PER_THREAD_MIN)
		nthreads = set->ncertificates / OBSERVE_PER_THREAD_MIN;
	/* this thread works too; extra threads only help big sets */
	for (i = 1; i < nthreads; i++)
		if (pthread_create(&tids[started], NULL, certs_worker, &j) == 0)
			started++;
	certs_worker(&j);
	for (i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	pthread_mutex_destroy(&j.mu);
	if (j.error) {
		util_error_set(j.error, "%s", j.message ? j.message : "observing failed");
		free(j.message);
		return j.error;
	}
	return 0;
}

/* ---- the whole ---- */

int observe_run(observe_result **out, const config_set *set, state *st,
		const observe_options *opts)
{
	observe_result *obs;
	state_deploy **records = NULL;
	size_t nrecords = 0, i;
	unsigned char *used = NULL;
	unsigned flags = opts ? opts->flags : 0;
	const config_policy *policy = opts ? opts->policy : NULL;
	int error = 0;

	*out = NULL;
	if (flags & OBSERVE_OFFLINE)
		flags &= ~(unsigned)OBSERVE_ONLINE;
	if (!(obs = calloc(1, sizeof(*obs))))
		return util_error_oom();
	if (st) {
		obs->has_state = 1;
		if ((error = state_serial(&obs->state_serial, st)) < 0)
			goto done;
		if ((error = state_deploy_list(&records, &nrecords, st)) < 0)
			goto done;
		if (nrecords && !(used = calloc(nrecords, 1)))
			goto oom;
	}
	if (set->nissuers &&
	    !(obs->issuers = calloc(set->nissuers, sizeof(*obs->issuers))))
		goto oom;
	for (i = 0; i < set->nissuers; i++) {
		obs->nissuers = i + 1;
		if ((error = observe_issuer_run(&obs->issuers[i], set->issuers[i], st)) < 0)
			goto done;
	}
	if (set->ncertificates &&
	    !(obs->certs = calloc(set->ncertificates, sizeof(*obs->certs))))
		goto oom;
	obs->ncerts = set->ncertificates;
	if ((error = observe_certs(obs, set, st, records, nrecords, used, policy, flags)) < 0)
		goto done;
	/* the endpoints last: they take the longest and share nothing */
	if ((flags & OBSERVE_ONLINE) && (error = observe__verifies(obs, st)) < 0)
		goto done;
	if (st && (error = observe_orphans(obs, st, records, nrecords, used)) < 0)
		goto done;
	goto done;
oom:
	error = util_error_oom();
done:
	state_deploy_list_free(records, nrecords);
	free(used);
	if (error < 0)
		observe_result_free(obs);
	else
		*out = obs;
	return error;
}
