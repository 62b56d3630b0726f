/*
 * Internal to lib/crypto: the OpenSSL object behind a crypto_key, for the
 * CSR and certificate code beside it.  Not for other modules.
 */
#ifndef CERTOPS_CRYPTO_INTERNAL_H
#define CERTOPS_CRYPTO_INTERNAL_H

#include <openssl/evp.h>

#include "crypto/crypto.h"

/* Borrowed; valid while key lives. */
const EVP_PKEY *crypto__key_pkey(const crypto_key *key);
crypto_key_type crypto__pkey_type(const EVP_PKEY *pkey);

#endif
