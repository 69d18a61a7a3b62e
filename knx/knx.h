/* knx: group addresses, the DPT codec, group APDUs and the knxd link.
 *
 * Everything except knx_link does no I/O. knx_link runs libeibclient on a
 * libuv loop and never blocks it. This header knows nothing about OCPP.
 */
#ifndef OCPPKNX_KNX_H
#define OCPPKNX_KNX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

/* Return codes: 0 is success, every failure is negative. */
enum {
  KNX_OK = 0,
  KNX_EINVAL = -1,       /* malformed input (text, APDU, argument) */
  KNX_ERANGE = -2,       /* value outside what the DPT can carry */
  KNX_ESIZE = -3,        /* payload length does not fit the DPT */
  KNX_EUNSUPPORTED = -4, /* APDU of another service than group value */
  KNX_ENOTCONN = -5,     /* link to knxd is down */
  KNX_EIO = -6,          /* knxd refused or the socket failed */
  KNX_ENOMEM = -7
};

/* Short English text for a KNX_E* code; never NULL. */
const char *knx_strerror(int code);

/* ---- group addresses ---------------------------------------------------- */

#define KNX_GA_STRLEN 16 /* "31/7/255" plus NUL, with room to spare */

/* Parses "main/middle/sub" (0-31/0-7/0-255), "main/sub" (0-31/0-2047) or a
 * free decimal number 0-65535. Leading/trailing blanks are not accepted.
 * Returns 0, or KNX_EINVAL for anything else (empty, out of range, junk). */
int knx_ga_parse(const char *text, uint16_t *ga);

/* Writes the 3-level form of ga into out. */
void knx_ga_format(uint16_t ga, char out[KNX_GA_STRLEN]);

/* ---- datapoint types ---------------------------------------------------- */

typedef enum {
  KNX_DPT_1_001, /* switch */
  KNX_DPT_1_002, /* boolean */
  KNX_DPT_1_003, /* enable */
  KNX_DPT_1_010, /* start/stop */
  KNX_DPT_1_011, /* state */
  KNX_DPT_1_015, /* reset */
  KNX_DPT_5_001, /* percent 0..100, 8 bit scaled */
  KNX_DPT_5_010, /* counter 0..255 */
  KNX_DPT_7_001, /* pulses 0..65535 */
  KNX_DPT_9_001, /* temperature, 2-byte float */
  KNX_DPT_9_021, /* current mA, 2-byte float */
  KNX_DPT_9_024, /* power kW, 2-byte float */
  KNX_DPT_10_001, /* time of day with weekday */
  KNX_DPT_11_001, /* date */
  KNX_DPT_12_001, /* unsigned 32-bit counter */
  KNX_DPT_13_010, /* active energy Wh, signed 32-bit */
  KNX_DPT_13_013, /* active energy kWh, signed 32-bit */
  KNX_DPT_14_019, /* electric current A, IEEE 754 float */
  KNX_DPT_14_056, /* power W, IEEE 754 float */
  KNX_DPT_16_000, /* 14 chars ASCII */
  KNX_DPT_16_001, /* 14 chars ISO 8859-1 */
  KNX_DPT_19_001, /* date and time */
  KNX_DPT_COUNT
} knx_dpt;

/* Flags of DPT 19.001 (octet 7 and 8 of the KNX specification). */
enum {
  KNX_DT_FAULT = 1 << 0,
  KNX_DT_WORKING_DAY = 1 << 1,
  KNX_DT_NO_WORKING_DAY = 1 << 2, /* working-day field not valid */
  KNX_DT_NO_YEAR = 1 << 3,
  KNX_DT_NO_DATE = 1 << 4,        /* month and day not valid */
  KNX_DT_NO_DAY_OF_WEEK = 1 << 5,
  KNX_DT_NO_TIME = 1 << 6,
  KNX_DT_SUMMER_TIME = 1 << 7,
  KNX_DT_EXT_SYNC = 1 << 8,       /* clock quality: external sync signal */
  KNX_DT_RELIABLE_SYNC = 1 << 9   /* sync source reliable (radio, Internet) */
};

typedef struct {
  int year;    /* 11.001: 1990..2089; 19.001: 1900..2155 */
  int month;   /* 1..12 */
  int day;     /* 1..31 */
  int weekday; /* 0 = no day, 1 = Monday .. 7 = Sunday */
  int hour;    /* 0..23 (19.001 also 24 with minute = second = 0) */
  int minute;  /* 0..59 */
  int second;  /* 0..59 */
  unsigned flags; /* KNX_DT_* (19.001 only) */
} knx_datetime;

/* A decoded value. Which member is meaningful follows from the DPT:
 * number for DPT 1 (0/1), 5, 7, 9, 12, 13, 14 (in the DPT's unit, e.g. A for
 * 14.019, mA for 9.021, kW for 9.024, % for 5.001); time for 10, 11, 19;
 * text for 16 (NUL-terminated, at most 14 bytes). */
typedef struct {
  union {
    double number;
    knx_datetime time;
    char text[15];
  };
} knx_value;

/* The data part of a group telegram. DPTs of 6 bits or less travel in the
 * short form: short_form is true, len is 1 and data[0] holds the 6-bit
 * value. Every other DPT travels in the long form with len data bytes. */
typedef struct {
  bool short_form;
  uint8_t len;
  uint8_t data[14];
} knx_payload;

/* Parses "9.021" (also "DPT9.021" and "DPT 9.021", case-insensitive).
 * Returns 0 or KNX_EINVAL (unknown or malformed). */
int knx_dpt_parse(const char *text, knx_dpt *dpt);

/* "9.021" etc.; "?" for an out-of-range value. */
const char *knx_dpt_name(knx_dpt dpt);

/* Encodes v. Numbers are rounded to the nearest representable value (DPT 9:
 * nearest mantissa/exponent pair; DPT 5.001: nearest step of 100/255).
 * Returns 0, KNX_ERANGE (outside the DPT's range, NaN, text too long or with
 * bytes the DPT cannot carry, invalid date/time field) or KNX_EINVAL (dpt). */
int knx_dpt_encode(knx_dpt dpt, const knx_value *v, knx_payload *out);

/* Decodes p. A DPT 1 value is accepted in the short form and as one long
 * data byte (some devices send that). Returns 0, KNX_ESIZE (length does not
 * fit the DPT), KNX_ERANGE (a field holds a value the DPT forbids, e.g. DPT 9
 * 0x7FFF invalid-data marker, month 13) or KNX_EINVAL (dpt). */
int knx_dpt_decode(knx_dpt dpt, const knx_payload *p, knx_value *out);

/* ---- group APDUs (what libeibclient sends and receives) ----------------- */

typedef enum {
  KNX_GROUP_READ,
  KNX_GROUP_RESPONSE,
  KNX_GROUP_WRITE
} knx_service;

#define KNX_APDU_MAX 16 /* 2 header bytes + 14 data bytes */

/* Builds the APDU: 2 bytes for a read or a short-form value, 2 + len for the
 * long form. p is ignored (may be NULL) for KNX_GROUP_READ.
 * Returns 0, KNX_EINVAL (bad service/payload) or KNX_ESIZE (cap too small). */
int knx_apdu_encode(knx_service svc, const knx_payload *p, uint8_t *apdu,
                    size_t cap, size_t *len);

/* Parses an APDU received from knxd. For a read, p->len is 0. A 2-byte
 * write/response yields the short form. Returns 0, KNX_EINVAL (shorter than
 * 2 bytes, longer than KNX_APDU_MAX) or KNX_EUNSUPPORTED (another APCI). */
int knx_apdu_decode(const uint8_t *apdu, size_t len, knx_service *svc,
                    knx_payload *p);

/* ---- the link to knxd --------------------------------------------------- */

typedef struct knx_link knx_link;

typedef enum { KNX_LINK_DOWN, KNX_LINK_UP } knx_link_state;

typedef struct {
  /* Called on every change of the link state. While DOWN the link keeps
   * reconnecting with a backoff (0.5 s doubling to 30 s). */
  void (*on_state)(void *user_data, knx_link_state state);
  /* Called for every group telegram another client put on the bus. */
  void (*on_group)(void *user_data, uint16_t src, uint16_t dst,
                   knx_service svc, const knx_payload *p);
} knx_link_callbacks;

/* Creates the link and starts connecting to url ("local:/run/knx",
 * "ip:127.0.0.1:6720") on loop. The first attempt happens before this
 * returns; a knxd that is absent is not an error (the link retries).
 * *out is set before that attempt, so an on_state(KNX_LINK_UP) called from
 * inside this function can already use it.
 * Returns 0, KNX_EINVAL (url NULL/empty, callbacks NULL) or KNX_ENOMEM. On
 * failure no callback is ever called. */
int knx_link_create(uv_loop_t *loop, const char *url,
                    const knx_link_callbacks *cb, void *user_data,
                    knx_link **out);

/* Sends one group telegram to dst. Returns 0, KNX_EINVAL (link NULL or a
 * payload knx_apdu_encode refuses), KNX_ENOTCONN (link down), or KNX_EIO
 * (the send failed; the link goes DOWN, on_state is called, and it
 * reconnects). */
int knx_link_send(knx_link *link, uint16_t dst, knx_service svc,
                  const knx_payload *p);

knx_link_state knx_link_get_state(const knx_link *link);

/* Text of the last connection problem ("connect local:/run/knx: No such file
 * or directory"), "" if none; it stays after the link is UP again. Valid
 * until the next call into the link. */
const char *knx_link_last_error(const knx_link *link);

/* Closes the link; the memory is freed once libuv has closed the handles,
 * then on_closed(user_data) is called (if not NULL). No callback of the
 * link's is called after this. NULL link is allowed (no-op). */
void knx_link_destroy(knx_link *link, void (*on_closed)(void *user_data));

#endif
