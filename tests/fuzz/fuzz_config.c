/*
 * libFuzzer target for the declaration loader: any bytes, as one YAML file,
 * through parsing, decoding, cross-document validation, the content hashes
 * and the default policy check.  Built by scripts/fuzz.sh with
 * clang -fsanitize=fuzzer,address,undefined; seeds are the corpora.
 */
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "config/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	util_diags diags = UTIL_DIAGS_INIT;
	config_set *set = NULL;
	config_policy *policy = NULL;
	char hash[CONFIG_HASH_HEX_LEN + 1];
	size_t i, j;

	if (config_set_new(&set) < 0)
		return 0;
	if (config_set_add_buffer(set, &diags, "fuzz.yaml", (const char *)data,
				  size) == 0 &&
	    config_set_validate(set, &diags) == 0) {
		for (i = 0; i < set->ncertificates; i++) {
			const config_certificate *c = set->certificates[i];

			config_certificate_hash(hash, c);
			for (j = 0; j < c->ndeploy; j++)
				config_target_hash(hash, &c->deploy[j]);
		}
		if (config_policy_default(&policy, "/var/lib/certops") == 0)
			config_policy_check(policy, set, &diags);
	}
	util_diags_sort(&diags);
	config_policy_free(policy);
	config_set_free(set);
	util_diags_release(&diags);
	/* The policy parser shares the YAML layer; give it the same bytes. */
	if (config_policy_parse(&policy, &diags, "policy.yaml",
				(const char *)data, size, NULL) == 0)
		config_policy_free(policy);
	util_diags_release(&diags);
	return 0;
}
