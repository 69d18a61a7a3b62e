/* gw_tags: the tag list parser, its diagnostics and the lookup. */
#include "gateway/tags.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Diagnostics collected as "line: message". */
static char problems[16][300];
static int n_problems;

static void on_problem(void *ud, int line, const char *message)
{
  cr_assert_str_eq(ud, "ud");
  if (n_problems < 16)
    snprintf(problems[n_problems], sizeof problems[0], "%d: %s", line, message);
  n_problems++;
}

static void reset(void)
{
  n_problems = 0;
  memset(problems, 0, sizeof problems);
}

TestSuite(tags, .init = reset);

static gw_tags *parse_ok(const char *text)
{
  gw_tags *t = NULL;
  int rc = gw_tags_parse(text, strlen(text), &t, on_problem, "ud");
  cr_assert_eq(rc, GW_OK, "rc %d, first problem: %s", rc, problems[0]);
  cr_assert_eq(n_problems, 0);
  return t;
}

/* Parses text that must fail with exactly one problem; returns it. */
static const char *parse_bad(const char *text)
{
  gw_tags *t = (gw_tags *)1;
  int rc = gw_tags_parse(text, strlen(text), &t, on_problem, "ud");
  cr_assert_eq(rc, GW_ECONFIG);
  cr_assert_null(t);
  cr_assert_eq(n_problems, 1, "problems: %d, first: %s", n_problems,
               problems[0]);
  return problems[0];
}

#define DAY 86400
/* 2027-06-30T00:00:00Z */
#define JUNE_30_2027 ((time_t)1814313600)

static const char example[] =
  "# the family's cards\n"
  "04A2B3C4 = Anna\n"
  "0A0B0C0D = Company car, expires 2027-06-30\n"
  "DEADBEEF = Lost card, blocked\n"
  "\n"
  "; a tag known without a name\n"
  "11223344 =\n"
  "55667788 = blocked\n";

Test(tags, example_file_reads_every_line)
{
  gw_tags *t = parse_ok(example);
  cr_expect_eq(gw_tags_count(t), 5);
  const gw_tag *a = gw_tags_find(t, "04A2B3C4", OCPP_TAG_EXACT);
  cr_assert_not_null(a);
  cr_expect_str_eq(a->name, "Anna");
  cr_expect_eq(a->line, 2);
  cr_expect_not(a->blocked);
  cr_expect_eq(a->expiry, 0);
  const gw_tag *c = gw_tags_find(t, "0A0B0C0D", OCPP_TAG_EXACT);
  cr_assert_not_null(c);
  cr_expect_str_eq(c->name, "Company car");
  cr_expect_eq(c->expiry, JUNE_30_2027 + DAY - 1);
  const gw_tag *n = gw_tags_find(t, "11223344", OCPP_TAG_EXACT);
  cr_assert_not_null(n);
  cr_expect_str_eq(n->name, "");
  const gw_tag *b = gw_tags_find(t, "55667788", OCPP_TAG_EXACT);
  cr_assert_not_null(b);
  cr_expect(b->blocked);
  cr_expect_str_eq(b->name, "", "\"blocked\" alone is the state, not a name");
  gw_tags_destroy(t);
}

Test(tags, status_accepted_blocked_expired)
{
  gw_tags *t = parse_ok(example);
  time_t now = JUNE_30_2027 - 100 * DAY;
  cr_expect_eq(gw_tag_status(gw_tags_find(t, "04A2B3C4", OCPP_TAG_EXACT), now),
               OCPP_AUTH_ACCEPTED);
  cr_expect_eq(gw_tag_status(gw_tags_find(t, "DEADBEEF", OCPP_TAG_EXACT), now),
               OCPP_AUTH_BLOCKED);
  cr_expect_eq(gw_tag_status(gw_tags_find(t, "0A0B0C0D", OCPP_TAG_EXACT), now),
               OCPP_AUTH_ACCEPTED);
  cr_expect_eq(gw_tag_status(NULL, now), OCPP_AUTH_INVALID);
  gw_tags_destroy(t);
}

Test(tags, expiry_date_is_valid_through_its_last_second)
{
  gw_tags *t = parse_ok("0A0B0C0D = Company car, expires 2027-06-30\n");
  const gw_tag *c = gw_tags_find(t, "0A0B0C0D", OCPP_TAG_EXACT);
  cr_assert_not_null(c);
  cr_expect_eq(gw_tag_status(c, JUNE_30_2027), OCPP_AUTH_ACCEPTED);
  cr_expect_eq(gw_tag_status(c, JUNE_30_2027 + DAY - 1), OCPP_AUTH_ACCEPTED);
  cr_expect_eq(gw_tag_status(c, JUNE_30_2027 + DAY), OCPP_AUTH_EXPIRED);
  cr_expect_eq(gw_tag_status(c, JUNE_30_2027 + 400 * DAY), OCPP_AUTH_EXPIRED);
  gw_tags_destroy(t);
}

Test(tags, blocked_wins_over_a_valid_expiry_and_fields_come_in_any_order)
{
  gw_tags *t = parse_ok("01020304 = blocked, expires 2099-01-01, Old card\n");
  const gw_tag *g = gw_tags_find(t, "01020304", OCPP_TAG_EXACT);
  cr_assert_not_null(g);
  cr_expect_str_eq(g->name, "Old card");
  cr_expect_eq(gw_tag_status(g, JUNE_30_2027), OCPP_AUTH_BLOCKED);
  gw_tags_destroy(t);
}

Test(tags, verdict_carries_status_expiry_and_name)
{
  gw_tags *t = parse_ok(example);
  ocpp_tag_verdict v;
  memset(&v, 0x55, sizeof v);
  cr_assert(gw_tags_verdict(t, "0A0B0C0D", OCPP_TAG_EXACT, JUNE_30_2027 + DAY, &v));
  cr_expect_eq(v.status, OCPP_AUTH_EXPIRED);
  cr_expect_eq(v.expiry, JUNE_30_2027 + DAY - 1);
  cr_expect_str_eq(v.name, "Company car");
  cr_assert(gw_tags_verdict(t, "DEADBEEF", OCPP_TAG_EXACT, 0, &v));
  cr_expect_eq(v.status, OCPP_AUTH_BLOCKED);
  cr_expect_eq(v.expiry, 0);
  cr_expect_not(gw_tags_verdict(t, "CAFEBABE", OCPP_TAG_EXACT, 0, &v),
                "an unknown tag is left to start_mode and tags");
  cr_expect_not(gw_tags_verdict(NULL, "04A2B3C4", OCPP_TAG_EXACT, 0, &v));
  cr_expect_not(gw_tags_verdict(t, "", OCPP_TAG_EXACT, 0, &v));
  cr_expect_not(gw_tags_verdict(t, NULL, OCPP_TAG_EXACT, 0, &v));
  gw_tags_destroy(t);
}

Test(tags, hex_case_does_not_matter_in_the_file_or_the_tag)
{
  gw_tags *t = parse_ok("04a2b3c4 = Anna\n");
  const gw_tag *a = gw_tags_find(t, "04A2B3C4", OCPP_TAG_EXACT);
  cr_assert_not_null(a);
  cr_expect_str_eq(a->uid, "04a2b3c4", "kept as written");
  cr_expect_eq(gw_tags_find(t, "04a2B3c4", OCPP_TAG_EXACT), a);
  cr_expect_null(gw_tags_find(t, "04A2B3C5", OCPP_TAG_EXACT));
  gw_tags_destroy(t);
}

Test(tags, separators_only_with_relaxed_matching)
{
  gw_tags *t = parse_ok("04-A2-B3-C4 = Anna\n");
  cr_expect_null(gw_tags_find(t, "04A2B3C4", OCPP_TAG_EXACT));
  cr_expect_not_null(gw_tags_find(t, "04A2B3C4", OCPP_TAG_RELAXED));
  cr_expect_not_null(gw_tags_find(t, "04:a2:b3:c4", OCPP_TAG_RELAXED));
  cr_expect_not_null(gw_tags_find(t, "04 A2 B3 C4", OCPP_TAG_REVERSED));
  gw_tags_destroy(t);
}

Test(tags, reversed_matching_takes_the_byte_reversed_uid)
{
  gw_tags *t = parse_ok(example);
  cr_expect_null(gw_tags_find(t, "C4B3A204", OCPP_TAG_EXACT));
  cr_expect_null(gw_tags_find(t, "C4B3A204", OCPP_TAG_RELAXED));
  const gw_tag *a = gw_tags_find(t, "C4B3A204", OCPP_TAG_REVERSED);
  cr_assert_not_null(a);
  cr_expect_str_eq(a->name, "Anna");
  cr_expect_eq(gw_tags_find(t, "c4:b3:a2:04", OCPP_TAG_REVERSED), a);
  cr_expect_eq(gw_tags_find(t, "04A2B3C4", OCPP_TAG_REVERSED), a,
               "as written still matches");
  /* nibbles are not swapped, only bytes */
  cr_expect_null(gw_tags_find(t, "4C3B2A40", OCPP_TAG_REVERSED));
  ocpp_tag_verdict v;
  cr_assert(gw_tags_verdict(t, "EFBEADDE", OCPP_TAG_REVERSED, 0, &v));
  cr_expect_eq(v.status, OCPP_AUTH_BLOCKED);
  gw_tags_destroy(t);
}

Test(tags, a_line_as_written_wins_over_a_reversed_one)
{
  gw_tags *t = parse_ok("C4B3A204 = Reversed twin\n04A2B3C4 = Anna\n");
  const gw_tag *a = gw_tags_find(t, "04A2B3C4", OCPP_TAG_REVERSED);
  cr_assert_not_null(a);
  cr_expect_str_eq(a->name, "Anna");
  gw_tags_destroy(t);
}

Test(tags, reversed_needs_whole_hex_bytes)
{
  gw_tags *t = parse_ok("ABC = odd\nUSER1 = not hex\n");
  cr_expect_null(gw_tags_find(t, "CBA", OCPP_TAG_REVERSED));
  cr_expect_null(gw_tags_find(t, "1RESU", OCPP_TAG_REVERSED));
  cr_expect_not_null(gw_tags_find(t, "user1", OCPP_TAG_REVERSED));
  gw_tags_destroy(t);
}

Test(tags, empty_text_and_only_comments_give_an_empty_list)
{
  gw_tags *t = parse_ok("");
  cr_expect_eq(gw_tags_count(t), 0);
  cr_expect_null(gw_tags_find(t, "04A2B3C4", OCPP_TAG_EXACT));
  gw_tags_destroy(t);
  t = parse_ok("\xEF\xBB\xBF# nothing\n; here\n   \n");
  cr_expect_eq(gw_tags_count(t), 0);
  gw_tags_destroy(t);
}

Test(tags, crlf_lines_and_blanks_around_fields_are_trimmed)
{
  gw_tags *t = parse_ok("\xEF\xBB\xBF  04A2B3C4 =  Anna  ,  expires  2027-06-30 \r\n");
  const gw_tag *a = gw_tags_find(t, "04A2B3C4", OCPP_TAG_EXACT);
  cr_assert_not_null(a);
  cr_expect_str_eq(a->name, "Anna");
  cr_expect_eq(a->expiry, JUNE_30_2027 + DAY - 1);
  gw_tags_destroy(t);
}

Test(tags, line_without_equals_is_reported_with_its_line)
{
  cr_expect_str_eq(parse_bad("04A2B3C4 = Anna\n\nDEADBEEF Lost\n"),
                   "3: expected \"UID = name[, expires YYYY-MM-DD][, blocked]\"");
}

Test(tags, bad_uids_are_reported)
{
  cr_expect_str_eq(parse_bad(" = Anna\n"),
                   "1: UID \"\": 1..20 printable ASCII characters, no ','");
  reset();
  cr_expect_str_eq(parse_bad("0123456789ABCDEF01234 = too long\n"),
                   "1: UID \"0123456789ABCDEF01234\": 1..20 printable ASCII "
                   "characters, no ','");
  reset();
  cr_expect_str_eq(parse_bad("a,b = x\n"),
                   "1: UID \"a,b\": 1..20 printable ASCII characters, no ','");
  reset();
  cr_expect_str_eq(parse_bad("::-- = only separators\n"),
                   "1: UID \"::--\": 1..20 printable ASCII characters, no ','");
  reset();
  cr_expect_str_eq(parse_bad("M\xc3\xbc = umlaut\n"),
                   "1: UID \"M\xc3\xbc\": 1..20 printable ASCII characters, no ','");
}

Test(tags, bad_dates_are_reported)
{
  cr_expect_str_eq(parse_bad("0A0B0C0D = Car, expires 2027-02-30\n"),
                   "1: expires: \"2027-02-30\" is not a date (YYYY-MM-DD)");
  reset();
  cr_expect_str_eq(parse_bad("0A0B0C0D = Car, expires 30.06.2027\n"),
                   "1: expires: \"30.06.2027\" is not a date (YYYY-MM-DD)");
  reset();
  cr_expect_str_eq(parse_bad("0A0B0C0D = Car, expires 2027-6-30\n"),
                   "1: expires: \"2027-6-30\" is not a date (YYYY-MM-DD)");
  reset();
  cr_expect_str_eq(parse_bad("0A0B0C0D = expires 2027-06-30 x\n"),
                   "1: expires: \"2027-06-30 x\" is not a date (YYYY-MM-DD)");
}

Test(tags, a_name_with_a_comma_is_two_names)
{
  cr_expect_str_eq(parse_bad("04A2B3C4 = Smith, Anna\n"),
                   "1: more than one name (\"Smith\", \"Anna\"): a name cannot "
                   "contain ','");
}

Test(tags, repeated_attributes_and_empty_fields_are_reported)
{
  cr_expect_str_eq(parse_bad("04A2B3C4 = Anna, blocked, BLOCKED\n"),
                   "1: \"blocked\" given twice");
  reset();
  cr_expect_str_eq(parse_bad("04A2B3C4 = expires 2027-01-01, expires 2028-01-01\n"),
                   "1: \"expires\" given twice");
  reset();
  cr_expect_str_eq(parse_bad("04A2B3C4 = Anna,\n"),
                   "1: empty field between ','");
}

Test(tags, over_long_name_and_control_characters_are_reported)
{
  char line[200];
  snprintf(line, sizeof line, "04A2B3C4 = %065d\n", 0);
  const char *p = parse_bad(line);
  cr_expect_eq(strncmp(p, "1: name \"", 9), 0, "%s", p);
  cr_expect_neq(strstr(p, "at most 64 bytes"), NULL, "%s", p);
  reset();
  p = parse_bad("04A2B3C4 = An\tna\n");
  cr_expect_neq(strstr(p, "no control characters"), NULL, "%s", p);
}

Test(tags, duplicate_tags_name_the_first_line)
{
  cr_expect_str_eq(parse_bad("04A2B3C4 = Anna\n# x\n04a2b3c4 = Ben\n"),
                   "3: tag \"04a2b3c4\" given twice (first on line 1)");
  reset();
  cr_expect_str_eq(parse_bad("04A2B3C4 = Anna\n04:A2:B3:C4 = Ben\n"),
                   "2: tag \"04:A2:B3:C4\" given twice (first on line 1)");
}

Test(tags, every_bad_line_is_reported_not_only_the_first)
{
  static const char text[] = "bad\n04A2B3C4 = Anna\nalso bad\n04A2B3C4 = Ben\n";
  gw_tags *t = (gw_tags *)1;
  cr_assert_eq(gw_tags_parse(text, strlen(text), &t, on_problem, "ud"),
               GW_ECONFIG);
  cr_expect_null(t);
  cr_assert_eq(n_problems, 3);
  cr_expect_eq(strncmp(problems[0], "1: ", 3), 0);
  cr_expect_eq(strncmp(problems[1], "3: ", 3), 0);
  cr_expect_eq(strncmp(problems[2], "4: ", 3), 0);
}

Test(tags, nul_bytes_and_over_long_lines_are_reported)
{
  static const char text[] = "04A2B3C4 = An\0na\n";
  gw_tags *t = NULL;
  cr_assert_eq(gw_tags_parse(text, sizeof text - 1, &t, on_problem, "ud"),
               GW_ECONFIG);
  cr_expect_str_eq(problems[0], "1: contains a NUL byte");
  reset();
  char *longline = malloc(700);
  memset(longline, 'x', 699);
  longline[699] = '\0';
  cr_assert_eq(gw_tags_parse(longline, 699, &t, on_problem, "ud"), GW_ECONFIG);
  cr_expect_str_eq(problems[0], "1: line longer than 512 characters");
  free(longline);
}

Test(tags, invalid_arguments)
{
  gw_tags *t = NULL;
  cr_expect_eq(gw_tags_parse("x", 1, NULL, NULL, NULL), GW_EINVAL);
  cr_expect_eq(gw_tags_parse(NULL, 3, &t, NULL, NULL), GW_EINVAL);
  cr_expect_eq(gw_tags_parse(NULL, 0, &t, NULL, NULL), GW_OK);
  cr_expect_eq(gw_tags_count(t), 0);
  gw_tags_destroy(t);
  gw_tags_destroy(NULL);
  cr_expect_eq(gw_tags_count(NULL), 0);
  cr_expect_null(gw_tags_find(NULL, "x", OCPP_TAG_EXACT));
  cr_expect_eq(gw_tags_parse("bad\n", 4, &t, NULL, NULL), GW_ECONFIG,
               "problems counted without a callback");
}

Test(tags, load_reads_a_file_and_reports_a_missing_one)
{
  char path[] = "/tmp/gw-tags-test-XXXXXX";
  int fd = mkstemp(path);
  cr_assert_geq(fd, 0);
  cr_assert_eq(write(fd, example, sizeof example - 1), (ssize_t)sizeof example - 1);
  close(fd);
  gw_tags *t = NULL;
  cr_assert_eq(gw_tags_load(path, &t, on_problem, "ud"), GW_OK);
  cr_expect_eq(gw_tags_count(t), 5);
  gw_tags_destroy(t);
  unlink(path);
  cr_expect_eq(gw_tags_load(path, &t, on_problem, "ud"), GW_ECONFIG);
  cr_expect_null(t);
  cr_expect_str_eq(problems[0], "0: No such file or directory");
  reset();
  cr_expect_eq(gw_tags_load("/tmp", &t, on_problem, "ud"), GW_ECONFIG);
  cr_expect_str_eq(problems[0], "0: not a regular file");
}

static gw_tags *list_of(const char *text)
{
  gw_tags *t = NULL;
  cr_assert_eq(gw_tags_parse(text, strlen(text), &t, on_problem, NULL), GW_OK);
  return t;
}

Test(tags, a_tag_removed_blocked_or_expired_is_lost, .init = reset)
{
  time_t now = 1795000000; /* 2026-11-18 */
  gw_tags *before = list_of("04A2B3C4 = Anna\nDEADBEEF = Lost, blocked\n");
  gw_tags *same = list_of("04a2b3c4 = Anna again\n");
  gw_tags *removed = list_of("DEADBEEF = Lost, blocked\n");
  gw_tags *blocked = list_of("04A2B3C4 = Anna, blocked\n");
  gw_tags *expired = list_of("04A2B3C4 = Anna, expires 2026-01-31\n");
  cr_expect(!gw_tags_lost(before, same, OCPP_TAG_EXACT, now),
            "a blocked tag dropped and one renamed lose nothing");
  cr_expect(gw_tags_lost(before, removed, OCPP_TAG_EXACT, now));
  cr_expect(gw_tags_lost(before, blocked, OCPP_TAG_EXACT, now));
  cr_expect(gw_tags_lost(before, expired, OCPP_TAG_EXACT, now));
  cr_expect(gw_tags_lost(before, NULL, OCPP_TAG_EXACT, now), "a list dropped");
  cr_expect(!gw_tags_lost(NULL, removed, OCPP_TAG_EXACT, now), "no list before");
  gw_tags_destroy(before);
  gw_tags_destroy(same);
  gw_tags_destroy(removed);
  gw_tags_destroy(blocked);
  gw_tags_destroy(expired);
}
