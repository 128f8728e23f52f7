/* sipcx CLI: account files, one user;password a line as SIPp's -inf takes them (load's --accounts, registrar's --users). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

void cli_accounts_free(struct cli_account *acc, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(acc[i].user);
		free(acc[i].password);
	}
	free(acc);
}

/* user;password per line (or user,password); SEQUENTIAL/RANDOM/USER first lines skipped. */
int cli_accounts_read(const char *cmd, const char *opt, const char *path, struct cli_account **out,
                      size_t *nout)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "sipcx %s: cannot read %s %s: %s\n", cmd, opt, path,
		        strerror(errno));
		return CLI_EXIT_USAGE;
	}
	char line[512];
	struct cli_account *acc = NULL;
	size_t n = 0, cap = 0;
	unsigned long lineno = 0;
	int rc = -1;
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		line[strcspn(line, "\r\n")] = '\0';
		if (!line[0] || line[0] == '#')
			continue;
		if (lineno == 1 && (!strcmp(line, "SEQUENTIAL") || !strcmp(line, "RANDOM") ||
		                    !strcmp(line, "USER")))
			continue;
		char *sep = line + strcspn(line, ";,");
		char *pw = *sep ? sep + 1 : NULL;
		*sep = '\0';
		if (pw)
			pw[strcspn(pw, ";,")] = '\0';
		if (!line[0] || strpbrk(line, " \t<>@:") || n >= CLI_MAX_ACCOUNTS) {
			fprintf(stderr, "sipcx %s: %s %s line %lu: %s\n", cmd, opt, path, lineno,
			        n >= CLI_MAX_ACCOUNTS ? "more than 1000000 accounts"
			                              : "not user;password");
			rc = CLI_EXIT_USAGE;
			break;
		}
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			struct cli_account *a = realloc(acc, ncap * sizeof(*a));
			if (!a) {
				rc = CLI_EXIT_FAIL;
				break;
			}
			acc = a;
			cap = ncap;
		}
		acc[n].user = strdup(line);
		acc[n].password = strdup(pw ? pw : "");
		n++;
		if (!acc[n - 1].user || !acc[n - 1].password) {
			rc = CLI_EXIT_FAIL;
			break;
		}
	}
	fclose(f);
	if (rc < 0 && n == 0) {
		fprintf(stderr, "sipcx %s: %s %s has no account\n", cmd, opt, path);
		rc = CLI_EXIT_USAGE;
	}
	if (rc >= 0) {
		cli_accounts_free(acc, n);
		return rc;
	}
	*out = acc;
	*nout = n;
	return -1;
}
