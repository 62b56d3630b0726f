/*
 * Internals of the challenge solvers, for their unit tests only.
 */
#ifndef CERTOPS_CHALLENGE_INTERNAL_H
#define CERTOPS_CHALLENGE_INTERNAL_H

#include "challenge/challenge.h"

/*
 * Sets how long a connection to the built-in responder may take in all
 * (default 10 s), for connections accepted from now on, so that a test
 * can watch a silent client being dropped without waiting 10 s.
 */
void challenge__http01_listen_set_timeout(challenge_solver *s, int ms);

#endif
