/*
 * Notifications on failure and recovery: a webhook (an HTTP POST of a JSON
 * body, retried with backoff) sent once per subject per state change, never
 * once per cycle, so a certificate failing for a week is one alert, and its
 * recovery another.
 *
 * The last notified state of every subject is remembered in the state
 * store (state_notified_put; docs/state.md, "Notification memory").  A
 * state is recorded only once its notification was delivered, so a webhook
 * that is down is tried again on the next change check (the next cycle),
 * not lost.
 */
#ifndef CERTOPS_NOTIFY_H
#define CERTOPS_NOTIFY_H

#include <time.h>

#include "state/state.h"

typedef enum {
	NOTIFY_OK = 0,       /* healthy; "recovered" when it was not */
	NOTIFY_FAILING,      /* the last attempt failed */
	NOTIFY_EXPIRING      /* failing and close to expiry: the loud one */
} notify_status;

typedef struct {
	const char *url;        /* the webhook; NULL: track states, send nothing */
	state *st;              /* remembers what was notified; NULL: in memory only */
	const char *ca_bundle;  /* PEM bundle for an https webhook, or NULL */
	int max_attempts;       /* 0: 4 */
	int backoff_ms;         /* first wait between attempts; 0: 1000, doubles */
	long timeout_s;         /* per attempt; 0: 10 */
} notify_opts;

typedef struct notify notify;

/*
 * Loads the last notified states from opts->st (none recorded: an empty
 * set).  opts' strings are copied; opts->st is borrowed and must outlive
 * the handle.  *out is the caller's: notify_free.
 */
int notify_open(notify **out, const notify_opts *opts);
void notify_free(notify *n);

/*
 * Reports subject's current status.  When it differs from the last notified
 * one (a subject seen for the first time counts as "ok"), posts
 *   {"subject":..., "status":"failing"|"recovered"|"expiring",
 *    "previous":..., "message":..., "commit":..., "time":"RFC 3339"}
 * and records the new status.  Returns 1 when a notification was sent, 0
 * when none was due, or a negative code (the state is then not recorded).
 * message and commit may be NULL.
 */
int notify_update(notify *n, const char *subject, notify_status status,
		  const char *message, const char *commit);

/*
 * Posts body (JSON) to opts->url with retries: a connection failure, a 5xx
 * or a 429 is retried after backoff_ms, doubling; a 4xx is not.  Returns 0,
 * or CERTOPS_EPEER / CERTOPS_ERROR with the error set.
 */
int notify_post(const notify_opts *opts, const char *body);

const char *notify_status_name(notify_status s);

/*
 * The threshold of the "expiring" alert: nonzero when less than
 * 1/divisor of the certificate's lifetime [not_before, not_after] remains
 * at now (divisor 0 means 6, the default: for a 90-day certificate, 15
 * days), or when it has expired.  Pure; now is an argument.
 */
int notify_expiring(time_t not_before, time_t not_after, time_t now,
		    unsigned divisor);

#endif
