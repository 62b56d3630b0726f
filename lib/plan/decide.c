/*
 * plan_new: the rules.  Per certificate, in name order: does it need a
 * (re)issue, which targets need a deploy, which hooks and verifies follow.
 * Accounts first (only for issuers that will issue), orphans last.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "crypto/crypto.h"
#include "plan/plan.h"
#include "plan/plan_internal.h"
#include "util/duration.h"
#include "util/error.h"
#include "util/fingerprint.h"

/* What the rules decided for one certificate before emitting actions. */
typedef struct {
	int issue;
	plan_reason reason;
	util_buf msg;
	time_t renew_at;
} issue_decision;

/* A short fingerprint for messages: the first 16 hex digits. */
static void put_fp(util_buf *b, const char *fp)
{
	if (!fp) {
		util_buf_puts(b, "(none)");
		return;
	}
	util_buf_put(b, fp, strlen(fp) < 16 ? strlen(fp) : 16);
	if (strlen(fp) > 16)
		util_buf_puts(b, "...");
}


static int is_forced(const config_certificate *c, const plan_options *o)
{
	size_t i;

	if (o->force_all)
		return 1;
	for (i = 0; i < o->nforce; i++)
		if (o->force[i] && !strcmp(o->force[i], c->name))
			return 1;
	return 0;
}

static int in_sans(const observe_cert_current *cur, const char *name)
{
	size_t i;

	for (i = 0; i < cur->nsans; i++)
		if (!strcasecmp(cur->sans[i], name))
			return 1;
	return 0;
}

static int in_declared(const config_certificate *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->domains.count; i++)
		if (!strcasecmp(c->domains.items[i].value, name))
			return 1;
	for (i = 0; i < c->ip_addresses.count; i++)
		if (!strcasecmp(c->ip_addresses.items[i].value, name))
			return 1;
	return 0;
}

/* Describes the identifier difference into b; returns 1 when any. */
static int identifiers_diff(util_buf *b, const config_certificate *c,
			    const observe_cert_current *cur)
{
	const char *sep = "adds ";
	size_t i;
	int n = 0;

	for (i = 0; i < c->domains.count + c->ip_addresses.count; i++) {
		const char *v = i < c->domains.count ? c->domains.items[i].value :
			c->ip_addresses.items[i - c->domains.count].value;

		if (in_sans(cur, v))
			continue;
		util_buf_printf(b, "%s%s", sep, v);
		sep = ", ";
		n++;
	}
	sep = n ? "; removes " : "removes ";
	for (i = 0; i < cur->nsans; i++) {
		if (in_declared(c, cur->sans[i]))
			continue;
		util_buf_printf(b, "%s%s", sep, cur->sans[i]);
		sep = ", ";
		n++;
	}
	return n > 0;
}

static void put_time_left(util_buf *b, time_t t, time_t now)
{
	util_time_format(b, t);
	if (t >= now) {
		util_buf_puts(b, " (in ");
		util_duration_format(b, (int64_t)(t - now));
	} else {
		util_buf_puts(b, " (");
		util_duration_format(b, (int64_t)(now - t));
		util_buf_puts(b, " ago");
	}
	util_buf_putc(b, ')');
}

static void decide_issue(issue_decision *d, const config_certificate *c,
			 const observe_cert *oc, const plan_options *o)
{
	const observe_cert_current *cur = &oc->cur;
	const char *want_key = config_key_type_name(c->key_type);
	char hash[CONFIG_HASH_HEX_LEN + 1];
	plan_renew_basis basis;

	d->issue = 1;
	if (!oc->present) {
		d->reason = PLAN_REASON_MISSING;
		if (oc->error)
			util_buf_printf(&d->msg, "the stored certificate cannot be read (%s)",
					oc->error);
		else
			util_buf_puts(&d->msg, "no certificate issued yet");
		return;
	}
	if (is_forced(c, o)) {
		d->reason = PLAN_REASON_FORCED;
		util_buf_puts(&d->msg, "reissue requested");
		return;
	}
	if (!cur->issuer || strcmp(cur->issuer, c->issuer)) {
		d->reason = PLAN_REASON_ISSUER_CHANGED;
		util_buf_printf(&d->msg, "issuer %s, declared %s",
				cur->issuer ? cur->issuer : "(unknown)", c->issuer);
		return;
	}
	if (identifiers_diff(&d->msg, c, cur)) {
		d->reason = PLAN_REASON_IDENTIFIERS_CHANGED;
		return;
	}
	if (!cur->key_spec || strcmp(cur->key_spec, want_key)) {
		d->reason = PLAN_REASON_KEY_SPEC_CHANGED;
		util_buf_printf(&d->msg, "key %s, declared %s",
				cur->key_spec ? cur->key_spec : "(unknown)", want_key);
		return;
	}
	if (cur->declaration_hash && plan_declaration_hash(hash, c) == 0 &&
	    strcmp(hash, cur->declaration_hash)) {
		d->reason = PLAN_REASON_DECLARATION_CHANGED;
		util_buf_puts(&d->msg, "the declaration changed since it was issued "
			      "(common name or key reuse)");
		return;
	}
	if (oc->renewal.revoked) {
		d->reason = PLAN_REASON_REVOKED;
		util_buf_puts(&d->msg, "the CA reports it revoked");
		return;
	}
	if (cur->not_after <= o->now) {
		d->reason = PLAN_REASON_EXPIRED;
		util_buf_puts(&d->msg, "expired ");
		put_time_left(&d->msg, cur->not_after, o->now);
		return;
	}
	d->renew_at = plan_renewal_time(c, cur, &oc->renewal, o->jitter_max, &basis);
	if (o->now >= d->renew_at) {
		d->reason = basis == PLAN_RENEW_ARI ? PLAN_REASON_RENEWAL_WINDOW :
			PLAN_REASON_EXPIRING;
		util_buf_puts(&d->msg, "expires ");
		put_time_left(&d->msg, cur->not_after, o->now);
		util_buf_puts(&d->msg, basis == PLAN_RENEW_ARI ?
			      ", inside the CA's renewal window since " :
			      ", renewal due since ");
		util_time_format(&d->msg, d->renew_at);
		if (basis == PLAN_RENEW_BEFORE) {
			util_buf_puts(&d->msg, " (renewBefore ");
			util_duration_format(&d->msg, c->renew_before);
			util_buf_putc(&d->msg, ')');
		}
		return;
	}
	d->issue = 0;
}

/* ---- targets ---- */

/* Appends "; " between drift items. */
static void sep(util_buf *b)
{
	if (b->size)
		util_buf_puts(b, "; ");
}

/* Describes how a files target differs from the current certificate. */
static void files_drift(util_buf *b, const observe_target *t,
			const observe_cert_current *cur)
{
	const target_observation *o = &t->observed;
	size_t i;

	if (o->owner_error) {
		sep(b);
		util_buf_puts(b, o->owner_error);
	}
	for (i = 0; i < o->nfiles; i++) {
		const target_file *f = &o->files[i];
		unsigned want_mode = target_file_mode(t->target, f->role);

		if (!f->exists) {
			sep(b);
			if (f->error)
				util_buf_printf(b, "%s", f->error);
			else
				util_buf_printf(b, "%s is missing", f->path);
			continue;
		}
		if (f->error) {
			sep(b);
			util_buf_printf(b, "%s", f->error);
			continue;
		}
		if (f->content_matches == 0) {
			sep(b);
			if (f->role == TARGET_FILE_KEY) {
				if (f->key_matches == 0)
					util_buf_printf(b, "%s holds a key that does not belong "
							"to the certificate", f->path);
				else
					util_buf_printf(b, "%s differs from the stored key", f->path);
			} else if (!f->fingerprint) {
				util_buf_printf(b, "%s holds no certificate", f->path);
			} else if (!util_fingerprint_equal(f->fingerprint, cur->fingerprint)) {
				util_buf_printf(b, "%s holds certificate ", f->path);
				put_fp(b, f->fingerprint);
				util_buf_puts(b, " instead of ");
				put_fp(b, cur->fingerprint);
			} else if (f->role == TARGET_FILE_COMBINED && f->key_matches == 0) {
				util_buf_printf(b, "%s holds a key that does not belong "
						"to the certificate", f->path);
			} else {
				util_buf_printf(b, "%s differs from the issued %s", f->path,
						f->role == TARGET_FILE_COMBINED ?
						"key and chain" : "chain");
			}
		}
		if (f->mode != want_mode) {
			sep(b);
			util_buf_printf(b, "%s has mode %04o, want %04o", f->path,
					f->mode, want_mode);
		}
		if (o->want_uid >= 0 && (long)f->uid != o->want_uid) {
			sep(b);
			util_buf_printf(b, "%s is owned by uid %ld, want %s (%ld)", f->path,
					(long)f->uid, t->target->files.owner, o->want_uid);
		}
		if (o->want_gid >= 0 && (long)f->gid != o->want_gid) {
			sep(b);
			util_buf_printf(b, "%s has group gid %ld, want %s (%ld)", f->path,
					(long)f->gid, t->target->files.group, o->want_gid);
		}
	}
}

/*
 * Decides one non-exec target of a certificate that is not being
 * reissued.  Returns 1 with reason/msg when it needs a deploy.
 */
static int decide_deploy(plan_reason *reason, util_buf *msg,
			 const observe_target *t, const observe_cert_current *cur)
{
	if (t->observed.error) {
		*reason = PLAN_REASON_DRIFTED;
		util_buf_printf(msg, "cannot be observed: %s", t->observed.error);
		return 1;
	}
	if (!t->has_record) {
		*reason = PLAN_REASON_MISSING;
		util_buf_puts(msg, "not deployed yet");
		return 1;
	}
	if (!t->deployed_ok) {
		*reason = PLAN_REASON_PREVIOUS_FAILED;
		util_buf_printf(msg, "the last deploy failed%s%s",
				t->deploy_message ? ": " : "",
				t->deploy_message ? t->deploy_message : "");
		return 1;
	}
	if (!t->deployed_config_hash || !t->config_hash ||
	    strcmp(t->deployed_config_hash, t->config_hash)) {
		*reason = PLAN_REASON_TARGET_CONFIG_CHANGED;
		util_buf_puts(msg, "the target's declaration changed since the last deploy");
		return 1;
	}
	if (!util_fingerprint_equal(t->deployed_fingerprint, cur->fingerprint)) {
		*reason = PLAN_REASON_NEW_CERTIFICATE;
		util_buf_puts(msg, "deployed ");
		put_fp(msg, t->deployed_fingerprint);
		util_buf_puts(msg, ", current ");
		put_fp(msg, cur->fingerprint);
		return 1;
	}
	/* per-file findings say more than the kind's summary */
	if (t->observed.nfiles || t->observed.owner_error)
		files_drift(msg, t, cur);
	else if (t->observed.drift)
		util_buf_puts(msg, t->observed.drift);
	else if (t->observed.present == TARGET_PRESENT_NO)
		util_buf_puts(msg, "nothing is there");
	if (msg->size) {
		*reason = PLAN_REASON_DRIFTED;
		return 1;
	}
	return 0;
}

/* Decides one exec target (a hook) with nothing else planned for it. */
static int decide_hook(plan_reason *reason, util_buf *msg,
		       const observe_target *t, const observe_cert_current *cur)
{
	if (!t->has_record) {
		*reason = PLAN_REASON_MISSING;
		util_buf_puts(msg, "never run");
	} else if (!t->deployed_ok) {
		*reason = PLAN_REASON_PREVIOUS_FAILED;
		util_buf_printf(msg, "the last run failed%s%s",
				t->deploy_message ? ": " : "",
				t->deploy_message ? t->deploy_message : "");
	} else if (!t->deployed_config_hash || !t->config_hash ||
		   strcmp(t->deployed_config_hash, t->config_hash)) {
		*reason = PLAN_REASON_TARGET_CONFIG_CHANGED;
		util_buf_puts(msg, "the hook's declaration changed since it last ran");
	} else if (!util_fingerprint_equal(t->deployed_fingerprint, cur->fingerprint)) {
		*reason = PLAN_REASON_NEW_CERTIFICATE;
		util_buf_puts(msg, "last run for ");
		put_fp(msg, t->deployed_fingerprint);
		util_buf_puts(msg, ", current ");
		put_fp(msg, cur->fingerprint);
	} else {
		return 0;
	}
	return 1;
}

/* ---- emitting actions ---- */

static plan_action *emit(plan *p, plan_action_kind kind, plan_reason reason,
			 const char *id, const util_buf *msg, const char *cert)
{
	plan_action *a = plan__add(p);

	if (!a)
		return NULL;
	a->kind = kind;
	a->reason = reason;
	if (!(a->id = strdup(id)) || !(a->message = strdup(msg ? msg->ptr : "")) ||
	    (cert && !(a->certificate = strdup(cert))))
		return NULL;
	return a;
}

static int cmp_cert_by_name(const void *a, const void *b)
{
	const observe_cert *x = *(const observe_cert *const *)a;
	const observe_cert *y = *(const observe_cert *const *)b;

	return strcmp(x->cert->name, y->cert->name);
}

static const observe_issuer *find_obs_issuer(const observe_result *obs,
					     const config_issuer *issuer, size_t *index)
{
	size_t i;

	for (i = 0; i < obs->nissuers; i++)
		if (obs->issuers[i].issuer == issuer ||
		    (issuer && !strcmp(obs->issuers[i].issuer->name, issuer->name))) {
			*index = i;
			return &obs->issuers[i];
		}
	return NULL;
}

#define OOM() do { error = util_error_oom(); goto done; } while (0)

/* Emits the actions of one certificate (issue decided in d). */
static int plan_cert(plan *p, const observe_cert *oc, issue_decision *d,
		     const char *account_id)
{
	const config_certificate *c = oc->cert;
	util_buf id = UTIL_BUF_INIT, msg = UTIL_BUF_INIT;
	size_t first_deploy = p->count, ndeploys = 0, first_hook, nhooks = 0, i, j;
	char *issue_id = NULL;
	plan_action *a;
	plan_reason reason;
	int error = 0, stale_serving = 0;

	if (d->issue) {
		util_buf_printf(&id, "issue:%s", c->name);
		if (util_buf_failed(&id) || util_buf_failed(&d->msg) ||
		    !(a = emit(p, PLAN_ACTION_ISSUE, d->reason, id.ptr, &d->msg, c->name)) ||
		    !(a->issuer = strdup(c->issuer)))
			OOM();
		a->cert_cfg = c;
		a->issuer_cfg = c->issuer_ref;
		a->renew_at = d->renew_at;
		if (oc->present) {
			a->current_not_after = oc->cur.not_after;
			if (oc->cur.fingerprint &&
			    !(a->current_fingerprint = strdup(oc->cur.fingerprint)))
				OOM();
		}
		if (account_id && (error = plan__add_dep(a, account_id)) < 0)
			goto done;
		if (!(issue_id = strdup(id.ptr)))
			OOM();
	}
	/* deploys (every kind but exec) */
	first_deploy = p->count;
	for (i = 0; i < oc->ntargets; i++) {
		const observe_target *t = &oc->targets[i];

		if (t->kind == CONFIG_TARGET_EXEC)
			continue;
		util_buf_clear(&msg);
		if (issue_id) {
			reason = PLAN_REASON_NEW_CERTIFICATE;
			util_buf_puts(&msg, oc->present ? "deploy the renewed certificate" :
				      "deploy the new certificate");
		} else if (!decide_deploy(&reason, &msg, t, &oc->cur)) {
			continue;
		}
		util_buf_clear(&id);
		util_buf_printf(&id, "deploy:%s", t->id);
		if (util_buf_failed(&id) || util_buf_failed(&msg) ||
		    !(a = emit(p, PLAN_ACTION_DEPLOY, reason, id.ptr, &msg, c->name)) ||
		    !(a->target = strdup(t->id)))
			OOM();
		a->index = (long)t->target->index;
		a->cert_cfg = c;
		a->target_cfg = t->target;
		if (t->deployed_fingerprint &&
		    !(a->current_fingerprint = strdup(t->deployed_fingerprint)))
			OOM();
		if (issue_id && (error = plan__add_dep(a, issue_id)) < 0)
			goto done;
		ndeploys++;
	}
	/* an endpoint serving something else: run the hooks again */
	for (i = 0; i < oc->nverifies; i++)
		if (oc->present && oc->verifies[i].checked &&
		    !util_fingerprint_equal(oc->verifies[i].served_fingerprint, oc->cur.fingerprint))
			stale_serving = 1;
	/* hooks: after every deploy of the certificate, in their order */
	first_hook = p->count;
	for (i = 0; i < oc->ntargets; i++) {
		const observe_target *t = &oc->targets[i];

		if (t->kind != CONFIG_TARGET_EXEC)
			continue;
		util_buf_clear(&msg);
		if (issue_id && !ndeploys) {
			reason = PLAN_REASON_NEW_CERTIFICATE;
			util_buf_puts(&msg, "run for the new certificate");
		} else if (ndeploys) {
			reason = PLAN_REASON_DEPLOYED;
			util_buf_printf(&msg, "run after %zu deploy%s", ndeploys,
					ndeploys == 1 ? "" : "s");
		} else if (!oc->present || !decide_hook(&reason, &msg, t, &oc->cur)) {
			if (!stale_serving)
				continue;
			reason = PLAN_REASON_DRIFTED;
			util_buf_puts(&msg, "an endpoint does not serve the current certificate (stale, foreign or unreachable)");
		}
		util_buf_clear(&id);
		util_buf_printf(&id, "hook:%s", t->id);
		if (util_buf_failed(&id) || util_buf_failed(&msg) ||
		    !(a = emit(p, PLAN_ACTION_RUN_HOOK, reason, id.ptr, &msg, c->name)) ||
		    !(a->target = strdup(t->id)))
			OOM();
		a->index = (long)t->target->index;
		a->cert_cfg = c;
		a->target_cfg = t->target;
		for (j = first_deploy; j < first_deploy + ndeploys; j++)
			if ((error = plan__add_dep(a, p->actions[j].id)) < 0)
				goto done;
		if (!ndeploys && issue_id && (error = plan__add_dep(a, issue_id)) < 0)
			goto done;
		/* hooks keep their declared order */
		if (nhooks && (error = plan__add_dep(a, p->actions[p->count - 2].id)) < 0)
			goto done;
		nhooks++;
	}
	/* verifies: after whatever changed */
	if (issue_id || ndeploys || nhooks || stale_serving) {
		for (i = 0; i < c->nverify; i++) {
			const observe_verify *v = i < oc->nverifies ? &oc->verifies[i] : NULL;

			util_buf_clear(&msg);
			util_buf_clear(&id);
			util_buf_printf(&id, "verify:%s:verify[%zu]", c->name, i);
			util_buf_printf(&msg, "check what %s serves", c->verify[i].connect);
			reason = issue_id || ndeploys || nhooks ? PLAN_REASON_DEPLOYED :
				PLAN_REASON_DRIFTED;
			if (v && v->checked && !util_fingerprint_equal(v->served_fingerprint, oc->cur.fingerprint)) {
				/* v->status: observe_tls_status (tls_probe.h) */
				if (!v->served_fingerprint) {
					util_buf_printf(&msg, " (unreachable: %s)",
							v->error ? v->error : "no handshake");
				} else {
					util_buf_printf(&msg, " (%s: serves ",
							v->status == 1 ? "stale" : "foreign");
					put_fp(&msg, v->served_fingerprint);
					util_buf_puts(&msg, v->status == 1 ? ", an older certificate of ours)"
						      : ", not a certificate of ours)");
				}
			}
			if (util_buf_failed(&id) || util_buf_failed(&msg) ||
			    !(a = emit(p, PLAN_ACTION_VERIFY, reason, id.ptr, &msg, c->name)))
				OOM();
			a->index = (long)i;
			a->cert_cfg = c;
			a->verify_cfg = &c->verify[i];
			if (nhooks) {
				for (j = first_hook; j < first_hook + nhooks; j++)
					if ((error = plan__add_dep(a, p->actions[j].id)) < 0)
						goto done;
			} else if (ndeploys) {
				for (j = first_deploy; j < first_deploy + ndeploys; j++)
					if ((error = plan__add_dep(a, p->actions[j].id)) < 0)
						goto done;
			} else if (issue_id && (error = plan__add_dep(a, issue_id)) < 0) {
				goto done;
			}
		}
	}
done:
	free(issue_id);
	util_buf_release(&id);
	util_buf_release(&msg);
	return error;
}

static int plan_orphans(plan *p, const observe_result *obs, const plan_options *o)
{
	util_buf id = UTIL_BUF_INIT, msg = UTIL_BUF_INIT;
	plan_action *a;
	size_t i;
	int error = 0;

	for (i = 0; i < obs->norphan_certs; i++) {
		const observe_orphan_cert *oc = &obs->orphan_certs[i];

		util_buf_clear(&id);
		util_buf_clear(&msg);
		util_buf_printf(&id, "orphan:%s", oc->name);
		util_buf_puts(&msg, o->prune ? "no longer declared; its stored versions are removed" :
			      "no longer declared; kept (--prune removes it)");
		if (util_buf_failed(&id) || util_buf_failed(&msg) ||
		    !(a = emit(p, PLAN_ACTION_ORPHAN, PLAN_REASON_NOT_DECLARED, id.ptr, &msg,
			       oc->name)))
			OOM();
		a->prune = o->prune;
		a->current_not_after = oc->not_after;
		if (oc->fingerprint && !(a->current_fingerprint = strdup(oc->fingerprint)))
			OOM();
	}
	for (i = 0; i < obs->norphan_targets; i++) {
		const observe_orphan_target *ot = &obs->orphan_targets[i];

		util_buf_clear(&id);
		util_buf_clear(&msg);
		util_buf_printf(&id, "orphan-target:%s", ot->id);
		util_buf_puts(&msg, o->prune ?
			      "no longer declared; its deployment record is forgotten (files are left)" :
			      "no longer declared; kept (--prune forgets its record)");
		if (util_buf_failed(&id) || util_buf_failed(&msg) ||
		    !(a = emit(p, PLAN_ACTION_ORPHAN, PLAN_REASON_NOT_DECLARED, id.ptr, &msg,
			       ot->certificate)) ||
		    !(a->target = strdup(ot->id)))
			OOM();
		a->prune = o->prune;
		if (ot->fingerprint && !(a->current_fingerprint = strdup(ot->fingerprint)))
			OOM();
	}
done:
	util_buf_release(&id);
	util_buf_release(&msg);
	return error;
}

int plan_new(plan **out, const config_set *desired, const observe_result *obs,
	     const plan_options *opts)
{
	plan *p = NULL;
	const observe_cert **order = NULL;
	issue_decision *dec = NULL;
	unsigned char *need_account = NULL;
	char **account_ids = NULL;
	util_buf id = UTIL_BUF_INIT, msg = UTIL_BUF_INIT;
	size_t i, k, n = obs->ncerts;
	int error = 0;

	*out = NULL;
	if (!(p = plan__alloc()))
		OOM();
	p->now = opts->now;
	p->has_state = obs->has_state;
	p->state_serial = obs->state_serial;
	if ((error = plan_config_digest(p->config_digest, desired)) < 0)
		goto done;
	if ((n && (!(order = calloc(n, sizeof(*order))) || !(dec = calloc(n, sizeof(*dec))))) ||
	    (obs->nissuers && (!(need_account = calloc(obs->nissuers, 1)) ||
			       !(account_ids = calloc(obs->nissuers, sizeof(*account_ids))))))
		OOM();
	for (i = 0; i < n; i++)
		order[i] = &obs->certs[i];
	qsort(order, n, sizeof(*order), cmp_cert_by_name);
	for (i = 0; i < n; i++) {
		const observe_issuer *oi;

		util_buf_init(&dec[i].msg);
		decide_issue(&dec[i], order[i]->cert, order[i], opts);
		if (dec[i].issue &&
		    (oi = find_obs_issuer(obs, order[i]->cert->issuer_ref, &k)) && !oi->has_account)
			need_account[k] = 1;
	}
	/* accounts, in issuer name order (the set keeps declaration order) */
	for (;;) {
		size_t best = obs->nissuers;

		for (k = 0; k < obs->nissuers; k++)
			if (need_account[k] == 1 &&
			    (best == obs->nissuers ||
			     strcmp(obs->issuers[k].issuer->name, obs->issuers[best].issuer->name) < 0))
				best = k;
		if (best == obs->nissuers)
			break;
		need_account[best] = 2;
		util_buf_clear(&id);
		util_buf_clear(&msg);
		util_buf_printf(&id, "account:%s", obs->issuers[best].issuer->name);
		util_buf_printf(&msg, "no account at %s",
				obs->issuers[best].directory_url ? obs->issuers[best].directory_url :
				"(directory unresolved)");
		{
			plan_action *a;

			if (util_buf_failed(&id) || util_buf_failed(&msg) ||
			    !(a = emit(p, PLAN_ACTION_REGISTER_ACCOUNT, PLAN_REASON_NO_ACCOUNT,
				       id.ptr, &msg, NULL)) ||
			    !(a->issuer = strdup(obs->issuers[best].issuer->name)) ||
			    !(account_ids[best] = strdup(id.ptr)))
				OOM();
			a->issuer_cfg = obs->issuers[best].issuer;
		}
	}
	for (i = 0; i < n; i++) {
		const char *account_id = NULL;

		if (dec[i].issue && find_obs_issuer(obs, order[i]->cert->issuer_ref, &k))
			account_id = account_ids[k];
		if ((error = plan_cert(p, order[i], &dec[i], account_id)) < 0)
			goto done;
	}
	if ((error = plan_orphans(p, obs, opts)) < 0)
		goto done;
	plan__count(p);
done:
	for (i = 0; dec && i < n; i++)
		util_buf_release(&dec[i].msg);
	for (k = 0; account_ids && k < obs->nissuers; k++)
		free(account_ids[k]);
	free(account_ids);
	free(need_account);
	free(dec);
	free(order);
	util_buf_release(&id);
	util_buf_release(&msg);
	if (error < 0)
		plan_free(p);
	else
		*out = p;
	return error;
}

/* ---- the desired-state digest ---- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int plan_config_digest(char out[CONFIG_HASH_HEX_LEN + 1], const config_set *set)
{
	char **lines = NULL, h[CONFIG_HASH_HEX_LEN + 1];
	size_t n = 0, cap = set->nissuers + set->ncertificates, i, j;
	util_buf b = UTIL_BUF_INIT, hex = UTIL_BUF_INIT;
	unsigned char md[32];
	int error = 0;

	for (i = 0; i < set->ncertificates; i++)
		cap += set->certificates[i]->ndeploy;
	if (cap && !(lines = calloc(cap, sizeof(*lines))))
		OOM();
	for (i = 0; i < set->nissuers; i++) {
		if ((error = config_issuer_hash(h, set->issuers[i])) < 0)
			goto done;
		util_buf_printf(&b, "issuer %s %s", set->issuers[i]->name, h);
		if (util_buf_failed(&b) || !(lines[n++] = util_buf_detach(&b)))
			OOM();
	}
	for (i = 0; i < set->ncertificates; i++) {
		const config_certificate *c = set->certificates[i];

		if ((error = config_certificate_hash(h, c)) < 0)
			goto done;
		/* renewal policy, challenge and verify are outside the
		 * certificate hash but change what a plan does */
		util_buf_printf(&b, "certificate %s %s %lld %.17g %s %zu", c->name, h,
				(long long)c->renew_before, c->renew_fraction,
				c->solver ? c->solver : "-", c->nverify);
		for (j = 0; j < c->nverify; j++)
			util_buf_printf(&b, " %s", c->verify[j].connect);
		if (util_buf_failed(&b) || !(lines[n++] = util_buf_detach(&b)))
			OOM();
		for (j = 0; j < c->ndeploy; j++) {
			if ((error = config_target_hash(h, &c->deploy[j])) < 0)
				goto done;
			util_buf_printf(&b, "target %s %u %s", c->name, c->deploy[j].index, h);
			if (util_buf_failed(&b) || !(lines[n++] = util_buf_detach(&b)))
				OOM();
		}
	}
	if (n)
		qsort(lines, n, sizeof(*lines), cmp_str);
	for (i = 0; i < n; i++) {
		util_buf_puts(&b, lines[i]);
		util_buf_putc(&b, '\n');
	}
	if (util_buf_failed(&b))
		OOM();
	if ((error = crypto_sha256(md, b.ptr, b.size)) < 0 ||
	    (error = crypto_hex_encode(&hex, md, sizeof(md), 0)) < 0)
		goto done;
	if (hex.size != CONFIG_HASH_HEX_LEN)
		OOM();
	memcpy(out, hex.ptr, CONFIG_HASH_HEX_LEN + 1);
done:
	for (i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
	util_buf_release(&b);
	util_buf_release(&hex);
	return error;
}
