/*
 * The storage behind state.h: a small table of operations that one backend
 * implements.  The record code (accounts, certificates, deployments,
 * orders, the reconcile records) encodes and decodes JSON documents and
 * calls these; only a backend knows where a document lives.  Internal to
 * lib/state.
 *
 * A record is a JSON object named by its kind and a key (state__kind says
 * which key each kind has).  Writes happen only inside a write session
 * (state__write_begin/end in state.c, which call session_begin/end here)
 * and under the store's lock.
 *
 * Backends:
 *   dir       the embedded directory store (backend_dir.c, docs/state.md):
 *             a file per record, atomic renames, flock, a dirty mark in
 *             state.json around a session.
 *   postgres  (a later issue) rows (kind, key, doc jsonb) in one table, a
 *             serial row, pg_advisory_lock for lock/unlock, a transaction
 *             per write session (session_begin: BEGIN; session_end: bump
 *             the serial, COMMIT), migrations of its own.  state_open picks
 *             it for a location starting with "postgres://" (see
 *             state__backend_for in state.c); nothing above lib/state
 *             changes.
 */
#ifndef CERTOPS_STATE_BACKEND_H
#define CERTOPS_STATE_BACKEND_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "state/state.h"
#include "util/buf.h"

typedef enum {
	STATE__ACCOUNT,      /* key "<issuer>/<hash of the directory URL>" */
	/*
	 * key "<name>/<version>"; the document is the meta plus the PEM
	 * members "chain" and "key", loaded only when get's parts ask
	 * (STATE_CERT_CHAIN, STATE_CERT_KEY).  A version is written once:
	 * put fails with CERTOPS_EEXISTS when it exists, and is complete or
	 * absent after a crash.
	 */
	STATE__CERT_VERSION,
	STATE__CERT_CURRENT, /* key "<name>": the meta of the current version */
	STATE__DEPLOY,       /* key "<hash of the target identity>" */
	STATE__ORDER,        /* key "<certificate name>" */
	/* One document each (key NULL): */
	STATE__RECONCILE,    /* the last reconcile cycle */
	STATE__BACKOFF,      /* {"<certificate>": entry, ...} */
	STATE__NOTIFIED,     /* {"<subject>": "<status>", ...} */
	STATE__APPLIED,      /* {"commit": "<40 hex>"} */
	STATE__NKINDS
} state__kind;

typedef struct state__migration state__migration;

typedef struct {
	const char *name; /* "dir" */

	/*
	 * Opens (creating unless STATE_OPEN_NOCREATE) the store at location,
	 * leaving its private data in st->be_data, and reads the format and
	 * serial into *format_out (a store just created has the current
	 * format).  close releases what open made (also after a failed open).
	 */
	int (*open)(state *st, const char *location, unsigned flags, int64_t *format_out);
	void (*close)(state *st);

	/* Records.  get: CERTOPS_ENOTFOUND when absent; *out is a new ref. */
	int (*get)(json_t **out, state *st, state__kind kind, const char *key,
		   unsigned parts);
	int (*put)(state *st, state__kind kind, const char *key, json_t *doc);
	/* Absent is 0 with *existed 0 (existed may be NULL). */
	int (*del)(state *st, state__kind kind, const char *key, int *existed);
	/*
	 * The keys of kind, sorted: with parent NULL, the first component of
	 * every key (certificate names for STATE__CERT_VERSION); with a
	 * parent, the components that follow "<parent>/" (its versions).
	 */
	int (*list)(char ***out, size_t *count, state *st, state__kind kind,
		    const char *parent);
	/*
	 * Counts (and with remove, removes) what interrupted writes of
	 * certificate name left behind; a transactional backend has none.
	 */
	int (*sweep)(size_t *found, state *st, const char *name, int remove);
	/* Appends where a record lives, for messages ("<dir>/orders/www.json"). */
	void (*where)(util_buf *out, state *st, state__kind kind, const char *key);

	/*
	 * The lock, timeout in ms (0: try once); the caller holds st->mu.  A
	 * failure to get it is CERTOPS_ELOCKED naming the holder.
	 */
	int (*lock)(state *st, int timeout_ms);
	int (*unlock)(state *st);
	int (*holder)(state_lock_holder *out, state *st);

	/* The serial as stored now; st->mu held. */
	int (*serial)(uint64_t *out, state *st);
	/*
	 * Before the first change of a write session (st->dirty 0: sets it);
	 * st->mu held.  session_end, before unlock: ends the open session
	 * (st->dirty), moving the serial by st->changes; no session: 0.
	 */
	int (*session_begin)(state *st);
	int (*session_end)(state *st);
	/* The format as stored now; after the migrations, records this
	 * build's format and moves the serial (the lock held). */
	int (*format)(int64_t *out, state *st);
	int (*format_done)(state *st);

	/* The cache directory for name (state_cache_dir). */
	int (*cache_dir)(util_buf *out, state *st, const char *name);

	/* Upgrade steps for stores of an older format (state__migration). */
	const state__migration *migrations;
} state__backend;

extern const state__backend state__backend_dir;

/* Releases a document that may hold private keys (a "key" member). */
void state__doc_free_secret(json_t *doc);

#endif
