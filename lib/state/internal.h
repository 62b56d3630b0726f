/*
 * Internals of the state store shared by its files; not for other modules.
 */
#ifndef CERTOPS_STATE_INTERNAL_H
#define CERTOPS_STATE_INTERNAL_H

#include <jansson.h>
#include <pthread.h>
#include <sys/types.h>
#include <dirent.h>

#include "state/backend.h"
#include "state/state.h"
#include "util/buf.h"

/* Largest JSON document the store reads (a certificate meta is ~1 KiB). */
#define STATE__JSON_MAX (4u << 20)
/* Largest PEM file the store reads (a long chain is ~10 KiB). */
#define STATE__PEM_MAX (1u << 20)

/* Prefix of a certificate version folder still being written. */
#define STATE__TMP_PREFIX ".tmp-"

/* Striped mutexes for per-certificate read-modify-write (put, prune). */
#define STATE__NAME_LOCKS 16

struct state {
	const state__backend *be; /* the storage (backend.h) */
	void *be_data;           /* the backend's own */
	char *dir;
	int lock_fd;         /* directory backend: <dir>/lock, open while open */
	int locked;          /* this handle holds the flock */
	char *command;       /* recorded as holder; NULL: /proc/self/cmdline */
	pthread_mutex_t mu;  /* guards the lock state and the session */
	uint64_t serial;     /* last serial seen or written */
	time_t created;      /* from state.json */
	int dirty;           /* a write session is open: state.json is dirty */
	int migrating;       /* migrations run: records are written directly */
	uint64_t changes;    /* changes made in the open session */
	pthread_mutex_t name_mu[STATE__NAME_LOCKS];
};

/* A write in progress: see state__write_begin. */
typedef struct {
	int took_lock; /* the lock was taken for this write only */
	int unchanged; /* set by the writer when nothing changed: no bump */
	int partial;   /* set by a writer that failed after changing something */
} state__write;

/*
 * Starts a change: makes sure the process holds the lock (taking it for
 * this write when the caller did not, waiting a short while) and that the
 * write session is marked dirty in state.json before anything changes.
 * Must be paired with state__write_end.
 */
int state__write_begin(state *st, state__write *w);
/* Ends a change: counts it (error 0, not unchanged) for the serial; ends a
 * one-write session.  Returns error, or the session's own error. */
int state__write_end(state *st, state__write *w, int error);

/*
 * One record written (or deleted) through the backend as one change: a
 * write session of its own unless the caller's is open.  delete: absent
 * is 0 and no change.
 */
int state__record_put(state *st, state__kind kind, const char *key, json_t *doc);
int state__record_delete(state *st, state__kind kind, const char *key);

/*
 * The directory backend (backend_dir.c, dir_store.c, lock.c), for its
 * table.  session_recover: after taking the lock, a dirty state.json (its
 * writer died) moves the serial on.  session_end: before releasing it,
 * writes the final serial, clean.
 */
int state__dir_open(state *st, const char *dir, unsigned flags, int64_t *format_out);
void state__dir_close(state *st);
int state__dir_lock(state *st, int timeout_ms);
int state__dir_unlock(state *st);
int state__dir_holder(state_lock_holder *out, state *st);
int state__dir_serial(uint64_t *out, state *st);
int state__dir_session_begin(state *st);
int state__dir_session_end(state *st);
int state__dir_session_recover(state *st);
int state__dir_format(int64_t *out, state *st);
int state__dir_format_done(state *st);

/* The version id current.json names for a certificate (malloc'd). */
int state__cert_current_version(char **out, state *st, const char *name);

/* Serialises the read-modify-write of one certificate name. */
void state__name_lock(state *st, const char *name);
void state__name_unlock(state *st, const char *name);

/*
 * A migration step: upgrades the store in place from format `from` to
 * from + 1.  Runs under the lock; must be safe to run again after a crash
 * (state.json is rewritten with the new format only after every step).
 */
struct state__migration {
	int from;
	int (*fn)(state *st);
};

/* Format 1 to 2: adopts the reconcile, notification and source files. */
int state__migrate_1_to_2(state *st);

extern const state__migration state__dir_migrations[];

/* Replaces the migration table (tests); NULL restores the backend's. */
void state__set_migrations(const state__migration *table);

/* The lock primitives without the mutex (callers hold st->mu); they
 * call the backend's lock, unlock and session_end. */
int state__lock_locked(state *st, int timeout_ms);
int state__unlock_locked(state *st);

/* Records "out of memory" and returns CERTOPS_ENOMEM. */
int state__oom(void);

/* Checks that name is a safe single path component; what names it. */
int state__name_check(const char *name, const char *what);
/* Lowercase hex SHA-256 of s into out (65 bytes). */
int state__sha256_hex(char out[65], const void *data, size_t len);

/* Appends dir/a[/b[/c]] (NULL parts end the list). */
void state__path(util_buf *out, const state *st, const char *a, const char *b,
		 const char *c);

/*
 * Lists the entries of dir that keep() accepts, sorted by name, into *out
 * (an array of malloc'd names the caller frees with state__names_free).  A
 * missing dir is an empty list, not an error.
 */
int state__list_dir(char ***out, size_t *count, const char *dir,
		    int (*keep)(const struct dirent *de));
void state__names_free(char **names, size_t count);

/* Loads a JSON object from path; CERTOPS_ENOTFOUND when absent. */
int state__json_load(json_t **out, const char *path);
/* Writes a JSON document atomically with mode. */
int state__json_write(const char *path, json_t *doc, mode_t mode);

/* Getters that tolerate absence: a copy (malloc) or NULL. */
char *state__json_strdup(json_t *obj, const char *key);
/* An RFC 3339 time field; 0 when absent or invalid. */
time_t state__json_time(json_t *obj, const char *key);
/* Sets key to an RFC 3339 time (nothing when t is 0); 0 or -1. */
int state__json_set_time(json_t *obj, const char *key, time_t t);
/* Sets key to a string (nothing when s is NULL); 0 or -1. */
int state__json_set_str(json_t *obj, const char *key, const char *s);

/* Reads a whole small file into a malloc'd string; ENOTFOUND when absent. */
int state__read_string(char **out, const char *path, size_t max);
/* Removes a directory tree (no symlinks followed); 0 or CERTOPS_ERROR. */
int state__remove_tree(const char *path);

#endif
