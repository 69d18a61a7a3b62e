/* Commands of the ocppknxd command line besides running the daemon, each
 * returning the exit status (main.c parses the options). */
#ifndef OCPPKNX_GW_CLI_H
#define OCPPKNX_GW_CLI_H

/* --draft-charger ID [--ets FILE] [--match TEXT]: the drafted file on
 * stdout, the notes on stderr. 0, 1 (unreadable or unusable export), 2
 * (ID cannot be an identity). */
int gw_cli_draft(const char *id, const char *ets_file, const char *match);

/* --version: one "name version (source)" line each. Returns 0. */
int gw_cli_version(void);

#endif
