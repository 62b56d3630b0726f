#ifndef CERTOPS_UTIL_VERSION_H
#define CERTOPS_UTIL_VERSION_H

#define CERTOPS_VERSION "0.1.0-dev"
/* Sent as User-Agent to every peer (RFC 8555 §6.1 asks clients to). */
#define CERTOPS_USER_AGENT "certops/" CERTOPS_VERSION

#endif
