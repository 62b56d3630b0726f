/* Time formatting for the deploy targets (deploy_internal.h). */
#include <time.h>

#include "deploy_internal.h"

void target__rfc3339(char out[21], time_t t)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
