/*
 * config: the desired state.  Loads every *.yaml / *.yml below a directory
 * (sorted, deterministic; multi-document files) with libyaml into the typed
 * declarations below, validates them, and reports every problem at once as
 * "file:line:col: field.path: message" through a util_diags list.
 *
 * Ownership: everything reachable from a config_set (objects, strings,
 * arrays) lives in the set's arena and is freed by config_set_free; every
 * pointer handed out by this module is borrowed from the set.
 *
 * Loading does no network I/O and reads nothing but the YAML files: secret
 * references and {env: NAME} values are recorded, not resolved.  Kinds and
 * fields are documented in docs/declarations.md; JSON Schemas in schemas/.
 */
#ifndef CERTOPS_CONFIG_CONFIG_H
#define CERTOPS_CONFIG_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

/* Where a thing was written: 1-based line and column; file is borrowed. */
typedef struct {
	const char *file;
	unsigned line, column;
} config_pos;

/* The position of each key present in an object (value position). */
typedef struct {
	const char *key;
	config_pos pos;
} config_field;

typedef struct {
	config_field *items;
	size_t count;
} config_fields;

/* A string with the place it came from (list items). */
typedef struct {
	const char *value;
	config_pos pos;
} config_string;

typedef struct {
	config_string *items;
	size_t count;
} config_strings;

/*
 * A secret reference: {env: NAME} or {file: PATH}.  A literal secret in a
 * declaration is an error; the value is read only at apply time.
 */
typedef enum {
	CONFIG_SECRET_NONE = 0, /* not given */
	CONFIG_SECRET_ENV,
	CONFIG_SECRET_FILE
} config_secret_source;

typedef struct {
	config_secret_source source;
	const char *ref; /* env name or absolute file path */
	config_pos pos;
} config_secret;

/*
 * A non-secret string given literally, or as {env: NAME, default: V} so
 * that the same repo can point at a CA or port chosen by the host (the
 * quickstart points its Issuer at a Pebble on a random port this way).
 * Both literal and env NULL: not given.
 */
typedef struct {
	const char *literal;
	const char *env;
	const char *fallback; /* the "default:" of an env value, or NULL */
	config_pos pos;
} config_value;

typedef enum {
	CONFIG_KEY_ECDSA_P256 = 0, /* the default */
	CONFIG_KEY_ECDSA_P384,
	CONFIG_KEY_RSA_2048,
	CONFIG_KEY_RSA_3072,
	CONFIG_KEY_RSA_4096,
	CONFIG_KEY_ED25519
} config_key_type;

/* ---- Issuer ---- */

typedef enum {
	CONFIG_ISSUER_ACME = 1,
	CONFIG_ISSUER_CA
} config_issuer_type;

struct config_issuer;

typedef struct {
	config_fields field_pos; /* of the keys inside "acme" */
	config_value directory;  /* required: the ACME directory URL */
	config_strings emails;   /* account contacts (without "mailto:") */
	int has_eab;
	const char *eab_key_id;
	config_secret eab_hmac_key;
	const char *preferred_chain; /* NULL: the CA's default chain */
	const char *profile;         /* NULL: the CA's default profile */
	config_key_type account_key;
	config_strings fallback;     /* issuer names, in order */
	struct config_issuer **fallback_refs; /* resolved; count as fallback */
	config_value ca_bundle;      /* PEM file trusted for the directory */
	int64_t request_timeout;     /* seconds; default 30 */
	int64_t order_timeout;       /* seconds; default 300 */
} config_acme;

typedef struct {
	config_fields field_pos; /* of the keys inside "ca" */
	config_secret key;  /* both NONE: generated, kept in the state store */
	config_secret cert;
	const char *common_name; /* of a generated CA; default "certops <name>" */
	config_key_type key_type; /* of a generated CA */
	int64_t lifetime;   /* of issued certificates; default 90d */
} config_local_ca;

typedef struct config_issuer {
	config_pos pos;
	config_fields field_pos;
	const char *name;
	config_issuer_type type;
	config_acme acme; /* when type == CONFIG_ISSUER_ACME */
	config_local_ca ca; /* when type == CONFIG_ISSUER_CA */
} config_issuer;

/* ---- Challenges and Solver ---- */

typedef enum {
	CONFIG_CHALLENGE_NONE = 0,
	CONFIG_CHALLENGE_HTTP01,
	CONFIG_CHALLENGE_DNS01,
	CONFIG_CHALLENGE_TLSALPN01
} config_challenge_type;

typedef enum {
	CONFIG_DNS01_RFC2136 = 1,
	CONFIG_DNS01_EXEC
} config_dns01_type;

typedef struct {
	config_pos pos;
	config_fields field_pos;
	config_challenge_type type;
	struct {
		const char *webroot;  /* absolute directory, or NULL */
		config_value listen;  /* "host:port" of the built-in responder */
	} http01;
	struct {
		config_dns01_type type;
		const char *server;   /* rfc2136: "host:port" */
		const char *zone;
		const char *tsig_name;      /* NULL: unsigned updates */
		const char *tsig_algorithm; /* default hmac-sha256 */
		config_secret tsig_secret;
		config_strings command;     /* exec: argv */
		int64_t timeout;            /* exec: seconds, default 60 */
		int64_t propagation_timeout;/* seconds, default 120 */
	} dns01;
	struct {
		config_value listen;
	} tlsalpn01;
} config_challenge;

typedef struct config_solver {
	config_pos pos;
	config_fields field_pos;
	const char *name;
	int is_default; /* used by certificates that name no challenge */
	config_challenge challenge;
} config_solver;

/* ---- Deploy targets and verify probes ---- */

/* Small and dense on purpose: the target layer indexes an ops table by it. */
typedef enum {
	CONFIG_TARGET_FILES = 0,
	CONFIG_TARGET_PKCS12,
	CONFIG_TARGET_EXEC,
	CONFIG_TARGET_VAULT,
	CONFIG_TARGET__COUNT
} config_target_type;

typedef struct {
	config_pos pos;
	config_fields field_pos;
	config_target_type type;
	unsigned index; /* position in the certificate's deploy list */
	struct {
		const char *dir; /* absolute */
		/* File names inside dir; NULL: not written.  With none given,
		 * fullchain "fullchain.pem" and key "privkey.pem". */
		const char *cert, *chain, *fullchain, *key, *combined;
		unsigned mode; /* of key/combined; certificates are 0644 */
		const char *owner, *group; /* NULL: unchanged */
	} files;
	struct {
		const char *path;
		config_secret password;
		int legacy; /* 0: AES-256/PBKDF2 ("modern"), 1: 3DES + SHA-1 MAC (crypto/pkcs12.h) */
		const char *friendly_name;
		unsigned mode; /* default 0600 */
	} pkcs12;
	struct {
		config_strings command; /* argv, no shell */
		int64_t timeout;        /* seconds, default 60 */
	} exec;
	struct {
		const char *address, *mount, *path, *namespace_;
		config_secret token;
		const char *ca_bundle;
		/* Key names inside the secret; defaults certificate,
		 * chain, fullchain, private_key (issue 7; the target also
		 * writes not_after and fingerprint). */
		const char *field_cert, *field_chain, *field_fullchain,
			*field_key;
	} vault;
} config_target;

typedef enum { CONFIG_VERIFY_TLS = 0 } config_verify_type;

typedef struct {
	config_pos pos;
	config_fields field_pos;
	config_verify_type type;
	const char *connect;     /* "host:port" */
	const char *server_name; /* NULL: the first domain */
	int64_t timeout;         /* seconds, default 10 */
} config_verify;

typedef struct {
	const char *key, *value;
} config_label;

/* ---- Certificate ---- */

typedef struct config_certificate {
	config_pos pos;
	config_fields field_pos;
	const char *name;
	const char *issuer;            /* name, as written */
	config_issuer *issuer_ref;     /* resolved by validation */
	config_strings domains;        /* lowercased; "*.x" wildcards */
	config_strings ip_addresses;   /* canonical text form */
	const char *common_name;       /* NULL: none */
	config_key_type key_type;
	int key_reuse;
	/* Exactly one of the two: a fixed duration before expiry, or a
	 * fraction of the lifetime (default 1/3). */
	int64_t renew_before;
	double renew_fraction;
	config_challenge challenge;    /* type NONE: from the solver */
	const char *solver;            /* name, or NULL */
	config_solver *solver_ref;     /* resolved (explicit or default) */
	/* Resolved: own challenge, named or default solver's; NULL for a
	 * local CA issuer (nothing to prove) or when unresolved. */
	const config_challenge *effective_challenge;
	config_target *deploy;
	size_t ndeploy;
	config_verify *verify;
	size_t nverify;
	config_label *labels;
	size_t nlabels;
} config_certificate;

/* ---- The set ---- */

typedef struct config_arena config_arena;

typedef struct {
	config_issuer **issuers;
	size_t nissuers;
	config_solver **solvers;
	size_t nsolvers;
	config_certificate **certificates;
	size_t ncertificates;
	size_t nfiles; /* YAML files read */
	/* private */
	config_arena *arena;
	size_t aissuers, asolvers, acertificates;
	/* sorted by name by config_set_validate, for lookups */
	config_issuer **issuers_by_name;
	config_solver **solvers_by_name;
	config_certificate **certificates_by_name;
} config_set;

int config_set_new(config_set **out);
void config_set_free(config_set *set);

/*
 * Loads every *.yaml / *.yml below dir (hidden entries skipped) in sorted
 * order, or dir itself when it is a regular file, then validates the whole set (config_set_validate).  Problems with
 * the declarations go to diags; returns 0 when there were none,
 * CERTOPS_EINVALID when diags got any, or another negative code (error set)
 * when the directory could not be read.  *out is set in the first two cases
 * and is the caller's (config_set_free).  File names in positions are dir
 * joined with the relative path ("examples/quickstart/certops.yaml"), a
 * leading "./" dropped.
 */
int config_load_dir(config_set **out, util_diags *diags, const char *dir);
/*
 * The same for a directory that comes from a Git checkout: a symbolic link
 * (file or directory) whose real path leaves dir is not opened; it gets a
 * CERTOPS_EPOLICY diagnostic naming the link and where it points.  A
 * repository can never make certops read host files.
 */
int config_load_dir_confined(config_set **out, util_diags *diags, const char *dir);

/*
 * Adds the documents of one YAML text to the set, under the file name name
 * (used in positions; copied).  Problems go to diags.  Returns 0, or
 * CERTOPS_ENOMEM.  Call config_set_validate after the last one.
 */
int config_set_add_buffer(config_set *set, util_diags *diags, const char *name,
			  const char *data, size_t len);
/* The same for a file on disk; an unreadable file is a diagnostic. */
int config_set_add_file(config_set *set, util_diags *diags, const char *path,
			const char *name);
/*
 * Checks what spans documents: duplicate names, references to unknown
 * issuers and solvers, fallback cycles, deploy targets shared by two
 * certificates; resolves references (issuer_ref, solver_ref, ...).
 * Returns 0, or CERTOPS_ENOMEM.
 */
int config_set_validate(config_set *set, util_diags *diags);

/* Lookups by name; NULL when absent. */
config_issuer *config_find_issuer(const config_set *set, const char *name);
config_solver *config_find_solver(const config_set *set, const char *name);
config_certificate *config_find_certificate(const config_set *set,
					    const char *name);

/* The position of field key of an object, or the object's own position. */
config_pos config_field_pos_of(const config_fields *f, config_pos obj,
			       const char *key);

/*
 * The current value of v: the literal, else the environment variable, else
 * the default.  *out is borrowed (from the set or the environment).
 * Returns 0, or CERTOPS_ENOTFOUND (error set, with v's position) when the
 * variable is unset and there is no default.
 */
int config_value_get(const char **out, const config_value *v);

const char *config_key_type_name(config_key_type t);
const char *config_target_type_name(config_target_type t);
const char *config_challenge_type_name(config_challenge_type t);

/*
 * Stable content hashes, lowercase hex SHA-256 of a canonical text form.
 * The certificate hash covers what goes into the certificate (issuer name,
 * sorted identifiers, common name, key type and reuse); changing the
 * challenge, renewal policy, deploy list or labels leaves it unchanged.
 * The target hash covers the whole configuration of one deploy target.
 * The planner compares them with the state store to detect a changed
 * declaration.  Return 0, or CERTOPS_ENOMEM.
 */
#define CONFIG_HASH_HEX_LEN 64
int config_certificate_hash(char out[CONFIG_HASH_HEX_LEN + 1],
			    const config_certificate *cert);
int config_target_hash(char out[CONFIG_HASH_HEX_LEN + 1],
		       const config_target *target);
/*
 * The issuer settings that change what a certificate from it is: type,
 * ACME directory (as declared: a literal, or the env name and default),
 * EAB key id, profile, preferred chain; for a local CA its key/cert
 * references, common name, key type and lifetime.  Contacts, timeouts,
 * CA bundle and fallback order leave it unchanged.
 */
int config_issuer_hash(char out[CONFIG_HASH_HEX_LEN + 1],
		       const config_issuer *issuer);
#endif
