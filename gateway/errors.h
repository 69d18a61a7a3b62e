/* The gateway's return codes: 0 is success, every failure has its own
 * negative code, shared by the bridge, the store, the loader and the app,
 * like libuv's UV_E*. gw_strerror() names them for the log. */
#ifndef OCPPKNX_GW_ERRORS_H
#define OCPPKNX_GW_ERRORS_H

enum {
  GW_OK = 0,
  GW_EINVAL = -1,     /* bad argument or value */
  GW_ENOMEM = -2,
  GW_ECONFIG = -3,    /* the configuration has problems: see the diagnostics */
  GW_EOPEN = -4,      /* the store cannot be opened or created */
  GW_ESCHEMA = -5,    /* the store has a newer schema than this program */
  GW_EDEFERRED = -6,  /* a disk write failed: kept in memory, retried */
  GW_ENOTFOUND = -7,  /* no such record */
  GW_EIO = -8,        /* reading the store or writing output failed */
  GW_EOCPP = -9,      /* the OCPP listener cannot start */
  GW_EKNX = -10       /* the knxd link cannot be created */
};

/* "invalid argument", "out of memory", ...; never NULL. */
const char *gw_strerror(int code);

#endif
