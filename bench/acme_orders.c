/*
 * acme_orders: 50 concurrent orders from one acme_client against a local
 * Pebble (VA always valid, no sleep).  Starting Pebble is the integration
 * harness's job, so this hands over to scripts/bench-acme.sh, which starts
 * it, runs build/tools/acme_smoke --orders 50 and checks the budget.
 */
#include <stdio.h>
#include <unistd.h>

int main(void)
{
	execlp("bash", "bash", "scripts/bench-acme.sh", (char *)NULL);
	perror("acme_orders: running scripts/bench-acme.sh");
	return 1;
}
