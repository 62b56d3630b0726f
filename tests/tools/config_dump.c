/*
 * config_dump FILE...: loads the given declaration files as one set (no
 * policy) and prints every diagnostic as "file:line:col: field: message",
 * then one line per certificate with its content hash.  For writing
 * corpus .expect files and for debugging; exits 65 when invalid.
 */
#include <stdio.h>

#include "config/config.h"

int main(int argc, char **argv)
{
	util_diags diags = UTIL_DIAGS_INIT;
	util_buf b = UTIL_BUF_INIT;
	config_set *set = NULL;
	char hash[CONFIG_HASH_HEX_LEN + 1];
	int i, rc = 0;
	size_t k;

	if (config_set_new(&set) < 0)
		return 1;
	for (i = 1; i < argc; i++)
		if (config_set_add_file(set, &diags, argv[i], argv[i]) < 0)
			rc = 1;
	if (!rc && config_set_validate(set, &diags) < 0)
		rc = 1;
	util_diags_sort(&diags);
	for (k = 0; k < diags.count; k++) {
		util_buf_clear(&b);
		util_error_format(&b, &diags.items[k]);
		printf("%s\n", b.ptr);
	}
	for (k = 0; !diags.count && k < set->ncertificates; k++) {
		if (config_certificate_hash(hash, set->certificates[k]) == 0)
			printf("certificate %s %s\n", set->certificates[k]->name,
			       hash);
	}
	if (!rc && diags.count)
		rc = 65;
	util_buf_release(&b);
	util_diags_release(&diags);
	config_set_free(set);
	return rc;
}
