/* Internal to lib/apply: the run context shared by the workers. */
#ifndef CERTOPS_APPLY_INTERNAL_H
#define CERTOPS_APPLY_INTERNAL_H

#include <pthread.h>

#include "acme/acme.h"
#include "apply/apply.h"
#include "challenge/challenge.h"
#include "crypto/crypto.h"

/* One ACME issuer's client and account for the run. */
typedef struct {
	const config_issuer *issuer;
	acme_client *client;
	crypto_key *account_key; /* outlives client's use of it */
	int ready;               /* account set on the client */
	pthread_mutex_t lock;    /* creation and account changes */
} apply__issuer;

/* A built-in http-01 responder, shared by every certificate using addr. */
typedef struct {
	char *addr;
	challenge_solver *solver;
} apply__listener;

struct apply_ctx {
	apply_options opts;
	apply__issuer *issuers; /* one per set->issuers[i] */
	size_t nissuers;
	apply__listener *listeners;
	size_t nlisteners;
	pthread_mutex_t lock;   /* listeners, progress */
};

/*
 * The issuer's ACME client with its account set, created (and the account
 * ensured) on first use.  Borrowed.
 */
int apply__client(acme_client **out, apply_ctx *ctx, const config_issuer *issuer);
/* The http-01 responder on addr, started on first use.  Borrowed. */
int apply__listener_get(challenge_solver **out, apply_ctx *ctx, const char *addr);
/* The ACME directory URL of issuer, after the policy allows it. */
int apply__directory(const char **out, apply_ctx *ctx, const config_issuer *issuer);
/* The crypto key type of a declared key type. */
crypto_key_type apply__key_type(config_key_type t);
/* Emits a progress event under the lock. */
void apply__emit(apply_ctx *ctx, const apply_event *ev);

#endif
