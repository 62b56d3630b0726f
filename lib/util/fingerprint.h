/*
 * Certificate fingerprints as text: the one spelling certops uses (the
 * SHA-256 of the leaf DER as 64 lowercase hex digits, no separators) and
 * the one rule for comparing two of them.  Every module compares
 * fingerprints through these two functions, so a fingerprint recorded as
 * "SHA256:AB:CD:..." by a tool and one computed as "abcd..." by certops
 * are the same, and a malformed one is never equal to anything.
 */
#ifndef CERTOPS_UTIL_FINGERPRINT_H
#define CERTOPS_UTIL_FINGERPRINT_H

#define UTIL_FINGERPRINT_HEX_LEN 64

/*
 * Writes the normalised spelling of fp into out: an optional "sha256:"
 * prefix (any case) is dropped, ':' separators are skipped, hex digits are
 * lowercased.  Returns 0, or CERTOPS_EINVALID (out unspecified, no error
 * recorded) when fp is NULL or not 32 bytes of hex.
 */
int util_fingerprint_norm(char out[UTIL_FINGERPRINT_HEX_LEN + 1], const char *fp);

/*
 * 1 when a and b are both well-formed (util_fingerprint_norm) and name
 * the same fingerprint; 0 otherwise (NULL or malformed on either side).
 */
int util_fingerprint_equal(const char *a, const char *b);

#endif
