/* "Did you mean": the nearest candidate by edit distance, if near enough. */
#include <string.h>

#include "config/config_internal.h"

#define MAXLEN 64

/* Optimal string alignment distance (transpositions count as one edit),
 * case-insensitive so that "Domains" suggests "domains". */
static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t d[MAXLEN + 1][MAXLEN + 1];

	if (la > MAXLEN || lb > MAXLEN)
		return (size_t)-1;
	for (i = 0; i <= la; i++)
		d[i][0] = i;
	for (j = 0; j <= lb; j++)
		d[0][j] = j;
	for (i = 1; i <= la; i++) {
		for (j = 1; j <= lb; j++) {
			int ca = a[i - 1] | 0x20, cb = b[j - 1] | 0x20;
			size_t cost = ca != cb, v = d[i - 1][j - 1] + cost;

			if (d[i - 1][j] + 1 < v)
				v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && ca == (b[j - 2] | 0x20) &&
			    (a[i - 2] | 0x20) == cb && d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	}
	return d[la][lb];
}

const char *config__suggest(const char *word, const char *const *candidates)
{
	const char *best = NULL;
	size_t best_d = (size_t)-1, limit = strlen(word) / 4 + 1;

	if (limit > 2)
		limit = 2;
	for (; *candidates; candidates++) {
		size_t dd = distance(word, *candidates);

		if (dd < best_d) {
			best_d = dd;
			best = *candidates;
		}
	}
	return best_d <= limit ? best : NULL;
}
