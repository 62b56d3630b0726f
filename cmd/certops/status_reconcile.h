/*
 * The last reconcile cycle, as `certops reconcile` records it in
 * <state>/reconcile/status.json, for `certops status`.
 */
#ifndef CERTOPS_CMD_STATUS_RECONCILE_H
#define CERTOPS_CMD_STATUS_RECONCILE_H

#include "util/buf.h"

/*
 * Appends the last cycle in text ("Last reconcile cycle: ..." and a line
 * per failing certificate) to out; nothing when no cycle was recorded.
 */
void status_reconcile_text(util_buf *out, const char *state_dir);

/*
 * Appends the recorded status as a JSON value (the object reconcile wrote,
 * or null when none) to out.
 */
void status_reconcile_json(util_buf *out, const char *state_dir);

#endif
