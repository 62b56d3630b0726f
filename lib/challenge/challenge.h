/*
 * Challenge solvers: what makes an ACME challenge answerable.
 *
 * A solver is a small operation table (challenge_ops) behind an opaque
 * handle.  The ACME flow calls present() before telling the CA to validate
 * and cleanup() afterwards, whatever the outcome; freeing a solver cleans up
 * whatever is still presented, so a challenge file or a token never outlives
 * the run even on error paths.  Solvers are safe to call from several
 * threads at once (an apply answers many authorizations in parallel).
 *
 * http-01 comes in two forms (docs/challenges.md):
 *  - webroot: writes <webroot>/.well-known/acme-challenge/<token> (0644,
 *    atomically), for a web server that already serves that directory;
 *  - listen: a built-in HTTP/1.1 responder on ADDR:PORT that serves every
 *    presented token from memory.
 */
#ifndef CERTOPS_CHALLENGE_H
#define CERTOPS_CHALLENGE_H

#include <stddef.h>

typedef struct challenge_solver challenge_solver;

typedef struct {
	const char *type; /* the ACME challenge type it answers: "http-01" */
	const char *kind; /* the form, for messages: "webroot", "listen" */
	/* Makes token answerable with key_authorization for identifier. */
	int (*present)(challenge_solver *s, const char *token,
		       const char *key_authorization, const char *identifier);
	/* Withdraws token; withdrawing an unknown token is not an error. */
	int (*cleanup)(challenge_solver *s, const char *token,
		       const char *key_authorization, const char *identifier);
	/* Cleans up every token still presented, then frees s. */
	void (*free)(challenge_solver *s);
} challenge_ops;

/* Every solver starts with this; the rest is the solver's own. */
struct challenge_solver {
	const challenge_ops *ops;
};

/*
 * Checks a token from the CA: 1 to 256 base64url characters (RFC 8555
 * §8.3 says tokens are base64url), so it can never name another path.
 * Returns 0 or CERTOPS_EINVALID (set).
 */
int challenge_token_check(const char *token);
/* Checks a key authorization: "<token>.<thumbprint>", base64url parts. */
int challenge_key_authorization_check(const char *key_authorization);

/* The operations through the table; each checks the token first. */
int challenge_present(challenge_solver *s, const char *token,
		      const char *key_authorization, const char *identifier);
int challenge_cleanup(challenge_solver *s, const char *token,
		      const char *key_authorization, const char *identifier);
/* Cleans up what is still presented and frees; NULL is fine. */
void challenge_solver_free(challenge_solver *s);
/* "http-01" etc. (borrowed). */
const char *challenge_solver_type(const challenge_solver *s);

/*
 * The webroot http-01 solver.  webroot is the directory the web server
 * serves at "/" for the identifier; missing .well-known/acme-challenge
 * folders are created 0755 and removed again when empty at the end.
 * *out: challenge_solver_free.
 */
int challenge_http01_webroot_new(challenge_solver **out, const char *webroot);

/*
 * The built-in http-01 responder, listening on listen ("127.0.0.1:5002",
 * "[::1]:80", ":5002" for every address; port 0 picks a free one) from this
 * call until challenge_solver_free.  It answers GET and HEAD of
 * /.well-known/acme-challenge/<token> with the key authorization
 * (text/plain), 404 for anything else; requests are bounded in size and
 * time.  Fails with a clear message when the address is taken.
 */
int challenge_http01_listen_new(challenge_solver **out, const char *listen);
/* The port a listen solver is bound to (useful with port 0); -1 if not one. */
int challenge_http01_listen_port(const challenge_solver *s);

#endif
