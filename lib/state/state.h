/*
 * The state store: what certops knows that the declaration does not say.
 *
 * The embedded store is a directory (docs/state.md describes its layout):
 * ACME accounts, every issued certificate version, what was deployed where,
 * a format file with the state serial, and a lock file.  Every write is
 * atomic (temp file, fsync, rename, fsync of the directory) and moves the
 * serial, so that a saved plan can tell that the world moved after it was
 * made.  Private keys are written 0600 and never logged; directories 0700.
 *
 * Threads: one state handle may be shared by the threads of an apply;
 * writes to distinct records run in parallel, writes to one certificate
 * name are serialised.  Processes: writers hold the lock (state_lock); a
 * write made without it takes the lock for its duration.
 */
#ifndef CERTOPS_STATE_H
#define CERTOPS_STATE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "util/buf.h"

/* The format this build writes; newer ones are refused, older migrated. */
#define STATE_FORMAT_VERSION 2

typedef struct state state;

enum {
	/* Fail with CERTOPS_ENOTFOUND instead of creating a missing store. */
	STATE_OPEN_NOCREATE = 1 << 0
};

/*
 * Resolves the state directory: flag_dir (--state) when not NULL, else
 * $CERTOPS_STATE, else $XDG_STATE_HOME/certops, else /var/lib/certops for
 * root, else $HOME/.local/state/certops.  Appends it to out; returns 0 or
 * CERTOPS_EINVALID (set) when nothing applies (no HOME).
 */
int state_default_dir(util_buf *out, const char *flag_dir);

/*
 * Opens (and unless STATE_OPEN_NOCREATE, creates with mode 0700) the store
 * in dir.  Refuses a directory that is not owned by the effective user or is
 * writable by group or others, a non-empty directory that is not a store,
 * and a store of a newer format (CERTOPS_EINVALID, message says why); runs
 * the migrations of an older format.  *out is the caller's: state_free.
 */
int state_open(state **out, const char *dir, unsigned flags);
/* Releases the lock if held and frees the handle.  NULL is fine. */
void state_free(state *st);
/* The directory of the store (borrowed). */
const char *state_path(const state *st);

/*
 * The serial, read from disk now (another process may have written since
 * the open).  A serial read before or during a change never equals the
 * serial after it (docs/state.md, "The serial"); compare for equality only.
 */
int state_serial(uint64_t *out, state *st);

/*
 * Takes the exclusive lock of the store (flock on <dir>/lock).  With
 * timeout_seconds 0 fails at once, else waits up to that long; on failure
 * returns CERTOPS_ELOCKED with a message naming the holder's PID, host,
 * command and since when it holds the lock.  The lock file records this
 * process as holder while held.  Taking it twice through one handle is a
 * no-op.  The lock belongs to the open file description: a forked child
 * shares it, exec'd programs do not inherit it (close-on-exec).
 */
int state_lock(state *st, int timeout_seconds);
/*
 * Ends the write session (writes the final serial) and releases the lock;
 * a no-op when not held.  Call it once no thread is writing any more.
 */
int state_unlock(state *st);
/* Nonzero while this handle holds the lock. */
int state_locked(const state *st);
/*
 * Sets the command recorded as lock holder ("apply", "reconcile"); default
 * is this process's command line.  Copied.
 */
int state_set_command(state *st, const char *command);

/* The holder recorded in a lock file (all fields the caller's). */
typedef struct {
	long pid;
	char *host;
	char *command;
	time_t since;
} state_lock_holder;

/* Reads the recorded holder; CERTOPS_ENOTFOUND when none is recorded. */
int state_lock_holder_get(state_lock_holder *out, state *st);
void state_lock_holder_clear(state_lock_holder *h);

/* ---- ACME accounts: one per issuer name and directory URL ---- */

typedef struct {
	char *issuer;        /* issuer name from the declaration */
	char *directory_url; /* the ACME directory URL */
	char *key_pem;       /* account private key (PEM); never log it */
	char *url;           /* account URL (the "kid"); NULL before registered */
	char *email;         /* contact, or NULL */
	time_t created;      /* when the account was first stored */
} state_account;

/*
 * Loads the account of issuer at directory_url into *out (the caller's:
 * state_account_free), or returns CERTOPS_ENOTFOUND.
 */
int state_account_get(state_account **out, state *st, const char *issuer,
		      const char *directory_url);
/* Stores (replaces) an account; issuer, directory_url and key_pem needed. */
int state_account_put(state *st, const state_account *account);
void state_account_free(state_account *account);

/* ---- Certificates: every issued version kept, one is "current" ---- */

typedef struct {
	char *name;             /* certificate name from the declaration */
	char *version;          /* version id (folder name), set by the store */
	char **sans;            /* identifiers, in the order issued */
	size_t nsans;
	time_t not_before, not_after;
	char *serial;           /* certificate serial, hex */
	char *issuer;           /* issuer name from the declaration */
	char *key_spec;         /* "ecdsa-p256", "rsa-2048", ... */
	char *fingerprint;      /* SHA-256 of the leaf DER in hex; kept as given */
	char *order_url;        /* the ACME order it came from, or NULL */
	char *declaration_hash; /* hash of the declaration it was issued for */
	time_t issued_at;       /* when issued; 0 on put means now */
} state_cert_meta;

typedef struct {
	state_cert_meta meta;
	char *chain_pem; /* leaf first, then intermediates; NULL unless loaded */
	char *key_pem;   /* private key PEM, NULL unless loaded; never log it */
} state_cert;

enum {
	STATE_CERT_CHAIN = 1 << 0, /* load chain_pem */
	STATE_CERT_KEY = 1 << 1    /* load key_pem */
};

/*
 * Stores a new version of cert->meta.name (chain_pem, key_pem, and the
 * meta fields set; meta.version is ignored) and makes it current.  The
 * version folder is written completely under a temporary name and renamed
 * before the current pointer flips, so a crash leaves the old current or
 * the new one.  Storing the same fingerprint again only flips current.
 * When version_out is not NULL, *version_out is the new version id (the
 * caller's, free()).
 */
int state_cert_put(state *st, const state_cert *cert, char **version_out);
/*
 * Loads the current version of name with what flags asks for (meta always);
 * CERTOPS_ENOTFOUND when there is none.  *out: state_cert_free.
 */
int state_cert_current(state_cert **out, state *st, const char *name,
		       unsigned flags);
/* Loads one version of name; CERTOPS_ENOTFOUND when absent. */
int state_cert_get(state_cert **out, state *st, const char *name,
		   const char *version, unsigned flags);
/* Makes an existing version current (rollback). */
int state_cert_set_current(state *st, const char *name, const char *version);
/*
 * Lists the versions of name, oldest first, into *out (*count items; the
 * caller's: state_cert_meta_array_free).  No versions: 0 with *count 0.
 */
int state_cert_versions(state_cert_meta **out, size_t *count, state *st,
			const char *name);
/* Lists the certificate names in the store, sorted (free each, then *out). */
int state_cert_names(char ***out, size_t *count, state *st);
void state_cert_free(state_cert *cert);
void state_cert_meta_clear(state_cert_meta *meta);
void state_cert_meta_array_free(state_cert_meta *metas, size_t count);

/*
 * Pruning (docs/state.md): a version is removed when it is not current,
 * is not one of the keep_previous newest other versions, and expired more
 * than expired_grace seconds before now.  A version that can still be
 * used is never removed.
 */
typedef struct {
	unsigned keep_previous; /* default 3 */
	int64_t expired_grace;  /* seconds; default 7 days */
} state_prune_policy;

#define STATE_PRUNE_POLICY_INIT { 3, 7 * 86400 }

/* Prunes the versions of name; *removed_out (may be NULL) counts them. */
int state_cert_prune(state *st, const char *name,
		     const state_prune_policy *policy, time_t now,
		     size_t *removed_out);

/*
 * Removes certificate name from the store: every version (keys included),
 * the current pointer and a pending order.  Absent is 0.  For `apply
 * --prune` of a certificate no longer declared.
 */
int state_cert_delete(state *st, const char *name);

/* ---- Deployments: what was deployed to each target ---- */

typedef enum {
	STATE_DEPLOY_OK = 0,
	STATE_DEPLOY_FAILED = 1
} state_deploy_result;

typedef struct {
	char *target;      /* target identity, chosen by the caller */
	char *certificate; /* certificate name, or NULL */
	char *fingerprint; /* leaf fingerprint deployed (or attempted) */
	char *config_hash; /* hash of the target's configuration */
	time_t time;       /* when */
	state_deploy_result result;
	char *message;     /* error message when failed, or NULL */
	/*
	 * The version the target wrote where it has versions (a vault KV v2
	 * secret), so observation can compare metadata only; 0: none.
	 */
	long long version;
} state_deploy;

/* Loads the record of target; CERTOPS_ENOTFOUND when none. */
int state_deploy_get(state_deploy **out, state *st, const char *target);
/* Stores (replaces) the record of deploy->target. */
int state_deploy_put(state *st, const state_deploy *deploy);
/* Forgets the record of target (a target no longer declared); absent is 0. */
int state_deploy_delete(state *st, const char *target);
/*
 * Loads every deployment record, sorted by target, into *out (*count
 * items; the caller's: state_deploy_list_free).  Unreadable records are
 * skipped with a warning, so one bad file does not hide the others.
 */
int state_deploy_list(state_deploy ***out, size_t *count, state *st);
void state_deploy_list_free(state_deploy **list, size_t count);
void state_deploy_free(state_deploy *deploy);

/* ---- Pending orders: recorded before challenges are answered ---- */

typedef struct {
	char *name;             /* certificate name */
	char *order_url;        /* the ACME order URL */
	char *key_pem;          /* the CSR's key (PEM), or NULL; never log it */
	char *declaration_hash; /* the declaration the order is for */
	time_t created;
} state_order;

/* Loads the pending order of name; CERTOPS_ENOTFOUND when none. */
int state_order_get(state_order **out, state *st, const char *name);
/* Records (replaces) the pending order of order->name. */
int state_order_put(state *st, const state_order *order);
/* Forgets the pending order of name (after the certificate is stored). */
int state_order_delete(state *st, const char *name);
void state_order_free(state_order *order);


/* ---- Reconcile records (docs/state.md, "Reconcile records") ---- */

/*
 * A certificate held back by reconcile's retry backoff after failing:
 * left out of cycles until next_attempt.
 */
typedef struct {
	char *name;          /* certificate name */
	int64_t failures;    /* consecutive failed attempts (>= 1) */
	time_t next_attempt; /* not tried again before this */
	char *last_error;    /* the last failure, or NULL */
} state_backoff;

/*
 * Loads every backoff entry, sorted by name, into *out (*count items; the
 * caller's: state_backoff_array_free).  None recorded: 0 with *count 0.
 */
int state_backoff_list(state_backoff **out, size_t *count, state *st);
/* Replaces the whole set with items[0..count) (count 0 forgets all). */
int state_backoff_replace(state *st, const state_backoff *items, size_t count);
void state_backoff_array_free(state_backoff *items, size_t count);

/* One certificate's result in the last reconcile cycle. */
typedef struct {
	char *name;
	char *result;        /* "ok", "failed", "backoff" */
	int64_t failures;    /* consecutive failures */
	time_t next_attempt; /* 0: not held back */
	char *message;       /* the last failure, or NULL */
	int expiring;        /* the expiry alert was on at the cycle's end */
} state_reconcile_cert;

/* The last reconcile cycle and the loop's counters, for status and metrics. */
typedef struct {
	int64_t cycles, failures, offline_cycles, notify_failures;
	time_t last_run;     /* when the last cycle ended */
	time_t last_success; /* 0: never */
	double duration;     /* seconds the last cycle took */
	char *result;        /* "ok", "partial", "invalid", "error" */
	int offline;         /* the cycle ran on the cached commit */
	int64_t problems;    /* declaration problems found */
	char *commit;        /* full hex, or NULL (a directory) */
	char *url;           /* the source URL (redacted) or directory, or NULL */
	char *ref;           /* or NULL */
	char *message;       /* why it failed, or NULL */
	int has_certs;       /* 1: the engine ran; certs is filled */
	state_reconcile_cert *certs;
	size_t ncerts;
} state_reconcile_status;

/*
 * Loads the recorded status into *out (release: state_reconcile_status_clear);
 * CERTOPS_ENOTFOUND when no cycle was recorded.  Reads without the lock.
 */
int state_reconcile_get(state_reconcile_status *out, state *st);
/* Records (replaces) the status. */
int state_reconcile_put(state *st, const state_reconcile_status *status);
void state_reconcile_status_clear(state_reconcile_status *status);

/* ---- Notification memory: the last status notified per subject ---- */

typedef struct {
	char *subject;       /* "reconcile", "certificate/www", ... */
	char *status;        /* notify_status_name(): "ok", "failing", "expiring" */
} state_notified;

/* Loads every entry, sorted by subject (*out: state_notified_array_free). */
int state_notified_list(state_notified **out, size_t *count, state *st);
/* Records (replaces) the last notified status of subject. */
int state_notified_put(state *st, const char *subject, const char *status);
void state_notified_array_free(state_notified *items, size_t count);

/* ---- The source: last applied commit, and the Git cache ---- */

/*
 * The commit last applied from a Git source (the rollback guard), 40 hex
 * digits + NUL into out; CERTOPS_ENOTFOUND when none is recorded.
 */
int state_applied_commit_get(char out[41], state *st);
/* Records commit (40 lowercase hex digits) as the last applied one. */
int state_applied_commit_put(state *st, const char *commit);

/*
 * Appends the path of the store's cache directory for name ("source"),
 * creating it 0700: a directory the store hands to one module for data it
 * can always rebuild (the Git clone).  The only path under the store that
 * another module may open.
 */
int state_cache_dir(util_buf *out, state *st, const char *name);

#endif
