/*
 * The solver operation table's front door: token checks happen here once,
 * so no solver can be handed a token that names another path.
 */
#include "challenge/challenge.h"

#include <string.h>

#include "util/error.h"

#define TOKEN_MAX 256

static int is_b64url(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_';
}

int challenge_token_check(const char *token)
{
	size_t i, len = token ? strlen(token) : 0;

	if (len == 0 || len > TOKEN_MAX)
		return util_error_set(CERTOPS_EINVALID,
			"challenge token must have 1 to %d characters", TOKEN_MAX);
	for (i = 0; i < len; i++)
		if (!is_b64url(token[i]))
			return util_error_set(CERTOPS_EINVALID,
				"challenge token has a character outside base64url at "
				"offset %zu", i);
	return 0;
}

int challenge_key_authorization_check(const char *ka)
{
	size_t i, len = ka ? strlen(ka) : 0, dots = 0;

	if (len == 0 || len > 2 * TOKEN_MAX)
		return util_error_set(CERTOPS_EINVALID, "key authorization has a bad length");
	for (i = 0; i < len; i++) {
		if (ka[i] == '.')
			dots++;
		else if (!is_b64url(ka[i]))
			return util_error_set(CERTOPS_EINVALID,
				"key authorization has a character outside base64url at "
				"offset %zu", i);
	}
	if (dots != 1 || ka[0] == '.' || ka[len - 1] == '.')
		return util_error_set(CERTOPS_EINVALID,
			"key authorization is not '<token>.<thumbprint>'");
	return 0;
}

int challenge_present(challenge_solver *s, const char *token,
		      const char *key_authorization, const char *identifier)
{
	int error;

	if ((error = challenge_token_check(token)) < 0 ||
	    (error = challenge_key_authorization_check(key_authorization)) < 0)
		return error;
	return s->ops->present(s, token, key_authorization, identifier);
}

int challenge_cleanup(challenge_solver *s, const char *token,
		      const char *key_authorization, const char *identifier)
{
	int error;

	if ((error = challenge_token_check(token)) < 0)
		return error;
	return s->ops->cleanup(s, token, key_authorization, identifier);
}

void challenge_solver_free(challenge_solver *s)
{
	if (s)
		s->ops->free(s);
}

const char *challenge_solver_type(const challenge_solver *s)
{
	return s->ops->type;
}
