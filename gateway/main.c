/* ocppknxd: command line. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gateway/conf.h"
#include "gateway/app.h"
#include "gateway/cli.h"
#include "gateway/control.h"
#include "gateway/log.h"
#include "gateway/store.h"
#include "gateway/web.h"

#define DEFAULT_CONFIG "/etc/ocppknx/ocppknxd.conf"

static void usage(FILE *f)
{
  fprintf(f,
    "Usage: ocppknxd [-c FILE] [--check-config]\n"
    "       ocppknxd [-c FILE] --export-sessions [--from DATE] [--to DATE]\n"
    "       ocppknxd --draft-charger ID [--ets FILE] [--match TEXT]\n"
    "       ocppknxd [-c FILE] --rotate-password ID\n"
    "\n"
    "OCPP 1.6J central system for EV chargers, bridged to KNX through knxd.\n"
    "\n"
    "  -c, --config FILE     main configuration (default " DEFAULT_CONFIG ")\n"
    "      --check-config    check the main file and every charger file, print\n"
    "                        each problem as file:line: message, then exit\n"
    "      --export-sessions print the stored charging sessions as CSV\n"
    "      --from DATE       only sessions starting on/after DATE (YYYY-MM-DD, UTC)\n"
    "      --to DATE         only sessions starting before the end of DATE\n"
    "      --draft-charger ID  print a parameter file for charger ID\n"
    "      --ets FILE        fill its group addresses from an ETS export (CSV, XML)\n"
    "      --match TEXT      the charger's groups: names containing TEXT\n"
    "      --rotate-password ID  give the connected charger ID a new random\n"
    "                        Basic Auth password (asks the running daemon)\n"
    "  -h, --help            this text\n"
    "  -V, --version         print the version and the libraries' versions\n");
}

static int load_config(const char *path, gw_conf **cfg)
{
  gw_conf_diag diag = {0};
  int rc = gw_conf_load(path, cfg, &diag);
  for (size_t i = 0; i < diag.n; i++)
    fprintf(stderr, "%s\n", diag.lines[i]);
  gw_conf_diag_finish(&diag);
  if (rc == GW_ENOMEM)
    fprintf(stderr, "%s: out of memory\n", path);
  return rc;
}

static int export_sessions(const gw_conf *cfg, time_t from, time_t to)
{
  if (from && to && from >= to) {
    fprintf(stderr, "ocppknxd: --from must be a day before or equal to --to\n");
    return 2;
  }
  gw_store *st = NULL;
  int rc = gw_store_open_readonly(cfg->store_dir, &st);
  if (rc != GW_OK) {
    fprintf(stderr, "%s/ocppknx.db: cannot open: %s\n", cfg->store_dir,
            st ? gw_store_last_error(st) : "no such database");
    gw_store_close(st);
    return 1;
  }
  int rows = gw_store_export_csv(st, stdout, from, to);
  if (rows < 0)
    fprintf(stderr, "export failed: %s\n", gw_store_last_error(st));
  gw_store_close(st);
  return rows < 0 ? 1 : 0;
}

/* Asks the running daemon through its control socket; it answers once the
 * charger has, so wait for the call timeout and a little more. */
static int rotate_password(const gw_conf *cfg, const char *id)
{
  char path[4200], answer[GW_CONTROL_LINE_MAX];
  snprintf(path, sizeof path, "%s/%s", cfg->store_dir, GW_CONTROL_SOCKET);
  bool ok = false;
  int rc = gw_control_call(path, "rotate-password", id,
                           (cfg->call_timeout + 5) * 1000, &ok, answer,
                           sizeof answer);
  if (rc == GW_EOPEN)
    fprintf(stderr, "ocppknxd: cannot reach the daemon (%s): is ocppknxd "
            "running with this configuration?\n", answer);
  else if (rc != GW_OK)
    fprintf(stderr, "ocppknxd: %s\n", rc == GW_EINVAL ? "invalid charger id"
                                                       : answer);
  else
    fprintf(ok ? stdout : stderr, "%s: %s\n", id, answer);
  return rc == GW_OK && ok ? 0 : 1;
}

int main(int argc, char **argv)
{
  enum { OPT_CHECK = 256, OPT_EXPORT, OPT_FROM, OPT_TO, OPT_DRAFT, OPT_ETS, OPT_MATCH,
         OPT_ROTATE };
  static const struct option longopts[] = {
    {"config", required_argument, NULL, 'c'},
    {"check-config", no_argument, NULL, OPT_CHECK},
    {"export-sessions", no_argument, NULL, OPT_EXPORT},
    {"from", required_argument, NULL, OPT_FROM},
    {"to", required_argument, NULL, OPT_TO},
    {"draft-charger", required_argument, NULL, OPT_DRAFT},
    {"ets", required_argument, NULL, OPT_ETS},
    {"match", required_argument, NULL, OPT_MATCH},
    {"rotate-password", required_argument, NULL, OPT_ROTATE},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
  };
  const char *config = DEFAULT_CONFIG;
  bool check = false, export = false;
  const char *rotate = NULL;
  time_t from = 0, to = 0;
  const char *draft_id = NULL, *ets_file = NULL, *match = NULL;
  int opt;
  while ((opt = getopt_long(argc, argv, "c:hV", longopts, NULL)) != -1) {
    switch (opt) {
    case 'c': config = optarg; break;
    case OPT_CHECK: check = true; break;
    case OPT_EXPORT: export = true; break;
    case OPT_DRAFT: draft_id = optarg; break;
    case OPT_ETS: ets_file = optarg; break;
    case OPT_MATCH: match = optarg; break;
    case OPT_ROTATE: rotate = optarg; break;
    case OPT_FROM:
    case OPT_TO:
      if (gw_parse_day(optarg, opt == OPT_TO, opt == OPT_FROM ? &from : &to) != GW_OK) {
        fprintf(stderr, "ocppknxd: %s: expected a date YYYY-MM-DD\n", optarg);
        return 2;
      }
      break;
    case 'h': usage(stdout); return 0;
    case 'V': return gw_cli_version();
    default: usage(stderr); return 2;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "ocppknxd: unexpected argument \"%s\"\n", argv[optind]);
    usage(stderr);
    return 2;
  }
  if (draft_id != NULL)
    return gw_cli_draft(draft_id, ets_file, match);
  if (ets_file != NULL || match != NULL) {
    fprintf(stderr, "ocppknxd: --ets and --match go with --draft-charger\n");
    return 2;
  }
  gw_conf *cfg = NULL;
  if (load_config(config, &cfg) != GW_OK) {
    if (check)
      fprintf(stderr, "%s: configuration has errors\n", config);
    return 1;
  }
  int status = 0;
  if (check) {
    printf("%s: configuration OK (%zu chargers)\n", config, cfg->n_chargers);
  } else if (export) {
    status = export_sessions(cfg, from, to);
  } else if (rotate) {
    status = rotate_password(cfg, rotate);
  } else {
    gw_log_init(cfg->log_level);
    status = gw_app_run(cfg) == GW_OK ? 0 : 1;
  }
  gw_conf_destroy(cfg);
  return status;
}
