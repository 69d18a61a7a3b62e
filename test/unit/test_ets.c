/* ets: the CSV and XML group-address exports of ETS, as ETS writes them
 * and as they arrive broken. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/ets.h"
#include "notes.h"

static gw_ets *ets;
static gw_conf_diag notes;
static char why[200];

static void finish(void)
{
  gw_ets_destroy(ets);
  ets = NULL;
  gw_conf_diag_finish(&notes);
  why[0] = '\0';
}

TestSuite(csv, .fini = finish);
TestSuite(xml, .fini = finish);
TestSuite(sniff, .fini = finish);

static uint16_t ga3(unsigned m, unsigned mid, unsigned sub)
{
  return (uint16_t)(m << 11 | mid << 8 | sub);
}

static int csv(const char *text)
{
  return gw_ets_parse_csv(text, strlen(text), &ets, &notes, why, sizeof why);
}

static int xml(const char *text)
{
  return gw_ets_parse_xml(text, strlen(text), &ets, &notes, why, sizeof why);
}

static const gw_ets_group *find(uint16_t ga)
{
  for (size_t i = 0; i < gw_ets_count(ets); i++)
    if (gw_ets_group_at(ets, i)->ga == ga)
      return gw_ets_group_at(ets, i);
  return NULL;
}

static bool noted(const char *part)
{
  return notes_have(&notes, part);
}

/* The first group of both sample exports, read from its line. */
static void expect_garage_status(size_t n_groups, int line)
{
  cr_assert_eq(gw_ets_count(ets), n_groups);
  const gw_ets_group *g = gw_ets_group_at(ets, 0);
  cr_assert_eq(g->ga, ga3(9, 7, 0));
  cr_assert_str_eq(g->name, "Wallbox Garage Status");
  cr_assert_str_eq(g->path, "E-Mobilität / Wallbox Garage");
  cr_assert_eq(g->dpt_main, 5);
  cr_assert_eq(g->dpt_sub, 10);
  cr_assert_eq(g->line, line);
  cr_assert_eq(notes.n, 0);
}

#define HEADER "\"Main\";\"Middle\";\"Sub\";\"Address\";\"Central\";\"Unfiltered\";" \
               "\"Description\";\"DatapointType\";\"Security\"\r\n"

static const char export_3_1[] =
  "\xEF\xBB\xBF" HEADER
  "\"E-Mobilität\";\"\";\"\";\"9/-/-\";\"\";\"\";\"\";\"\";\"Auto\"\r\n"
  "\"\";\"Wallbox Garage\";\"\";\"9/7/-\";\"\";\"\";\"\";\"\";\"Auto\"\r\n"
  "\"\";\"\";\"Wallbox Garage Status\";\"9/7/0\";\"\";\"\";\"\";\"DPST-5-10\";\"Auto\"\r\n"
  "\"\";\"\";\"Wallbox Garage Ladestrom\";\"9/7/42\";\"\";\"\";\"Amps\";\"DPT-9\";\"Auto\"\r\n";

/* ---- CSV ----------------------------------------------------------------- */

Test(csv, three_level_export_gives_each_group_with_its_main_and_middle_names)
{
  cr_assert_eq(csv(export_3_1), GW_OK, "%s", why);
  expect_garage_status(2, 4);
}

Test(csv, dpt_with_only_a_main_number_has_no_sub)
{
  cr_assert_eq(csv(export_3_1), GW_OK, "%s", why);
  const gw_ets_group *g = find(ga3(9, 7, 42));
  cr_assert_not_null(g);
  cr_assert_eq(g->dpt_main, 9);
  cr_assert_eq(g->dpt_sub, -1);
}

Test(csv, comma_and_tab_separators_are_found_from_the_header)
{
  cr_assert_eq(csv("\"Main\",\"Middle\",\"Sub\",\"Address\",\"Central\",\"Unfiltered\","
                   "\"Description\",\"DatapointType\",\"Security\"\n"
                   "\"\",\"\",\"Status, Garage\",\"1/2/3\",\"\",\"\",\"\",\"DPST-5-10\",\"\"\n"),
               GW_OK, "%s", why);
  cr_assert_str_eq(gw_ets_group_at(ets, 0)->name, "Status, Garage");
  finish();
  cr_assert_eq(csv("\"Main\"\t\"Middle\"\t\"Sub\"\t\"Address\"\n"
                   "\"\"\t\"\"\t\"Status; Garage\"\t\"1/2/4\"\n"), GW_OK, "%s", why);
  cr_assert_eq(gw_ets_group_at(ets, 0)->ga, ga3(1, 2, 4));
  cr_assert_str_eq(gw_ets_group_at(ets, 0)->name, "Status; Garage");
}

Test(csv, doubled_quotes_and_line_breaks_inside_quotes_are_part_of_the_name)
{
  cr_assert_eq(csv(HEADER "\"\";\"\";\"Wallbox \"\"Nord\"\"\nStatus\";\"1/2/3\"\n"
                   "\"\";\"\";\"Next\";\"1/2/4\"\n"), GW_OK, "%s", why);
  cr_assert_str_eq(gw_ets_group_at(ets, 0)->name, "Wallbox \"Nord\" Status");
  cr_assert_eq(gw_ets_group_at(ets, 1)->line, 4, "the line count goes on after the break");
}

Test(csv, windows_1252_names_become_utf8)
{
  cr_assert_eq(csv(HEADER "\"\";\"\";\"Z\xE4hlerstand \x80\";\"1/2/3\"\n"), GW_OK, "%s", why);
  cr_assert_str_eq(gw_ets_group_at(ets, 0)->name, "Zählerstand €");
}

Test(csv, utf16_with_bom_is_read)
{
  const char *text = HEADER "\"\";\"\";\"Zählerstand\";\"1/2/3\"\r\n";
  /* UTF-8 → UTF-16LE by hand: the text has only 1- and 2-byte sequences. */
  unsigned char buf[1024];
  size_t n = 0;
  buf[n++] = 0xFF, buf[n++] = 0xFE;
  for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
    unsigned cp = *p;
    if (*p >= 0xC0) {
      cp = (unsigned)(p[0] & 0x1F) << 6 | (p[1] & 0x3F);
      p++;
    }
    buf[n++] = (unsigned char)(cp & 0xFF), buf[n++] = (unsigned char)(cp >> 8);
  }
  cr_assert_eq(gw_ets_parse_csv((char *)buf, n, &ets, &notes, why, sizeof why), GW_OK, "%s",
               why);
  cr_assert_str_eq(gw_ets_group_at(ets, 0)->name, "Zählerstand");
  cr_assert_eq(gw_ets_group_at(ets, 0)->ga, ga3(1, 2, 3));
}

Test(csv, without_a_header_the_3_1_column_order_is_taken)
{
  cr_assert_eq(csv("\"Garage\";\"\";\"\";\"9/-/-\";\"\";\"\";\"\";\"\";\"\"\n"
                   "\"\";\"\";\"Status\";\"9/0/1\";\"\";\"\";\"\";\"DPST-5-10\";\"\"\n"),
               GW_OK, "%s", why);
  cr_assert_eq(gw_ets_count(ets), 1);
  cr_assert_str_eq(gw_ets_group_at(ets, 0)->path, "Garage");
  cr_assert_eq(gw_ets_group_at(ets, 0)->dpt_main, 5);
}

Test(csv, one_level_export_has_name_and_address)
{
  cr_assert_eq(csv("\"Group name\";\"Address\";\"Central\";\"Unfiltered\";\"Description\";"
                   "\"DatapointType\";\"Security\"\n"
                   "\"Wallbox Status\";\"1/2/3\";\"\";\"\";\"\";\"DPST-5-10\";\"Auto\"\n"),
               GW_OK, "%s", why);
  cr_assert_str_eq(gw_ets_group_at(ets, 0)->name, "Wallbox Status");
  cr_assert_str_eq(gw_ets_group_at(ets, 0)->path, "");
  cr_assert_eq(gw_ets_group_at(ets, 0)->dpt_sub, 10);
}

Test(csv, two_level_and_free_addresses_are_read)
{
  cr_assert_eq(csv(HEADER "\"\";\"\";\"A\";\"9/1792\"\n\"\";\"\";\"B\";\"40705\"\n"), GW_OK,
               "%s", why);
  cr_assert_eq(gw_ets_group_at(ets, 0)->ga, ga3(9, 7, 0));
  cr_assert_eq(gw_ets_group_at(ets, 1)->ga, 40705);
}

Test(csv, rows_with_bad_addresses_are_skipped_and_named)
{
  cr_assert_eq(csv(HEADER "\"\";\"\";\"A\";\"32/0/0\"\n\"\";\"\";\"B\";\"1/8/0\"\n"
                   "\"\";\"\";\"C\";\"abc\"\n\"\";\"\";\"D\";\"\"\n\"\";\"\";\"E\";\"1/2/3\"\n"),
               GW_OK, "%s", why);
  cr_assert_eq(gw_ets_count(ets), 1);
  cr_assert_str_eq(gw_ets_group_at(ets, 0)->name, "E");
  cr_assert(noted("line 2: \"32/0/0\" is not a group address"));
  cr_assert(noted("line 3: \"1/8/0\""));
  cr_assert(noted("line 4: \"abc\""));
  cr_assert(noted("line 5: \"\""));
}

Test(csv, rows_with_too_few_columns_are_skipped_and_named)
{
  cr_assert_eq(csv(HEADER "\"\";\"\";\"A\"\n\"\";\"\";\"B\";\"1/2/3\"\n"), GW_OK, "%s", why);
  cr_assert_eq(gw_ets_count(ets), 1);
  cr_assert(noted("line 2: 3 fields, no address"));
}

Test(csv, the_broadcast_address_is_skipped)
{
  cr_assert_eq(csv(HEADER "\"\";\"\";\"A\";\"0/0/0\"\n\"\";\"\";\"B\";\"1/2/4\"\n"), GW_OK);
  cr_assert_eq(gw_ets_count(ets), 1);
  cr_assert(noted("line 2: 0/0/0 is the broadcast address"));
}

Test(csv, a_group_without_name_is_skipped)
{
  cr_assert_eq(csv(HEADER "\"\";\"\";\"\";\"1/2/3\"\n\"\";\"\";\"B\";\"1/2/4\"\n"), GW_OK);
  cr_assert_eq(gw_ets_count(ets), 1);
  cr_assert(noted("1/2/3 has no name"));
}

Test(csv, a_second_group_on_one_address_is_skipped)
{
  cr_assert_eq(csv(HEADER "\"\";\"\";\"A\";\"1/2/3\"\n\"\";\"\";\"B\";\"1/2/3\"\n"), GW_OK);
  cr_assert_eq(gw_ets_count(ets), 1);
  cr_assert_str_eq(gw_ets_group_at(ets, 0)->name, "A");
  cr_assert(noted("line 3: 1/2/3 is in the export twice"));
}

Test(csv, a_dpt_that_is_not_understood_is_dropped_with_a_note)
{
  cr_assert_eq(csv(HEADER "\"\";\"\";\"A\";\"1/2/3\";\"\";\"\";\"\";\"DPST-x\"\n"), GW_OK);
  cr_assert_eq(gw_ets_group_at(ets, 0)->dpt_main, -1);
  cr_assert(noted("DPT \"DPST-x\" not understood"));
}

Test(csv, the_last_of_several_dpts_is_the_groups_own)
{
  cr_assert_eq(csv(HEADER "\"\";\"\";\"A\";\"1/2/3\";\"\";\"\";\"\";\"DPST-1-1,DPST-1-10\"\n"),
               GW_OK);
  cr_assert_eq(gw_ets_group_at(ets, 0)->dpt_main, 1);
  cr_assert_eq(gw_ets_group_at(ets, 0)->dpt_sub, 10);
}

Test(csv, a_header_without_address_column_is_no_export)
{
  cr_assert_eq(csv("\"Name\";\"Value\"\n\"a\";\"b\"\n"), GW_EINVAL);
  cr_assert(strstr(why, "no \"Address\" column"), "%s", why);
  cr_assert_null(ets);
}

Test(csv, an_empty_file_is_no_export)
{
  cr_assert_eq(csv(""), GW_EINVAL);
  cr_assert(strstr(why, "empty"), "%s", why);
  cr_assert_eq(gw_ets_parse_csv("\xEF\xBB\xBF", 3, &ets, &notes, why, sizeof why), GW_EINVAL);
}

Test(csv, a_header_without_groups_is_no_export)
{
  cr_assert_eq(csv(HEADER "\"Main\";\"\";\"\";\"1/-/-\"\n"), GW_EINVAL);
  cr_assert(strstr(why, "no group address"), "%s", why);
}

Test(csv, a_huge_row_is_skipped_and_the_rest_is_read)
{
  size_t big = 100 * 1024;
  char *text = malloc(big + 256);
  cr_assert_not_null(text);
  int n = sprintf(text, HEADER "\"\";\"\";\"");
  memset(text + n, 'x', big);
  sprintf(text + n + big, "\";\"1/2/3\"\n\"\";\"\";\"B\";\"1/2/4\"\n");
  int rc = csv(text);
  free(text);
  cr_assert_eq(rc, GW_OK, "%s", why);
  cr_assert_eq(gw_ets_count(ets), 1);
  cr_assert_str_eq(gw_ets_group_at(ets, 0)->name, "B");
  cr_assert(noted("line 2: row longer than"));
}

Test(csv, long_names_are_cut_on_a_character_boundary)
{
  char text[2048];
  int n = sprintf(text, HEADER "\"\";\"\";\"");
  for (int i = 0; i < 300; i++)
    n += sprintf(text + n, "ä");
  sprintf(text + n, "\";\"1/2/3\"\n");
  cr_assert_eq(csv(text), GW_OK, "%s", why);
  const char *name = gw_ets_group_at(ets, 0)->name;
  cr_assert_leq(strlen(name), GW_ETS_MAX_NAME);
  cr_assert_eq(strlen(name) % 2, 0, "no half 'ä' at the end");
}

Test(csv, an_export_above_the_size_cap_is_refused_unread)
{
  static const char small[] = "x";
  cr_assert_eq(gw_ets_parse_csv(small, GW_ETS_MAX_BYTES + 1ul, &ets, &notes, why, sizeof why),
               GW_EINVAL);
  cr_assert(strstr(why, "larger than"), "%s", why);
}

Test(csv, null_arguments_are_einval)
{
  cr_assert_eq(gw_ets_parse_csv(NULL, 0, &ets, NULL, NULL, 0), GW_EINVAL);
  cr_assert_eq(gw_ets_parse_csv("x", 1, NULL, NULL, why, sizeof why), GW_EINVAL);
  cr_assert_eq(gw_ets_count(NULL), 0);
  cr_assert_null(gw_ets_group_at(NULL, 0));
}

/* ---- XML ----------------------------------------------------------------- */

static const char export_xml[] =
  "\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"utf-8\" standalone=\"yes\"?>\r\n"
  "<GroupAddress-Export xmlns=\"http://knx.org/xml/ga-export/01\">\r\n"
  "  <GroupRange Name=\"E-Mobilität\" RangeStart=\"18432\" RangeEnd=\"20479\">\r\n"
  "    <GroupRange Name=\"Wallbox Garage\" RangeStart=\"20224\" RangeEnd=\"20479\">\r\n"
  "      <GroupAddress Name=\"Wallbox Garage Status\" Address=\"9/7/0\" DPTs=\"DPST-5-10\" />\r\n"
  "      <GroupAddress Name=\"Ladestrom\" Address=\"9/7/42\" Central=\"true\" "
  "DPTs=\"DPST-1-1,DPST-9-21\" Security=\"Auto\" />\r\n"
  "    </GroupRange>\r\n"
  "  </GroupRange>\r\n"
  "  <GroupAddress Name=\"Ohne Bereich\" Address=\"1/2/3\" />\r\n"
  "</GroupAddress-Export>\r\n";

Test(xml, nested_ranges_give_each_group_its_path)
{
  cr_assert_eq(xml(export_xml), GW_OK, "%s", why);
  expect_garage_status(3, 5);
}

Test(xml, the_last_dpt_is_the_groups_own_and_none_is_none)
{
  cr_assert_eq(xml(export_xml), GW_OK, "%s", why);
  cr_assert_eq(gw_ets_group_at(ets, 1)->dpt_main, 9);
  cr_assert_eq(gw_ets_group_at(ets, 1)->dpt_sub, 21);
  cr_assert_eq(gw_ets_group_at(ets, 2)->dpt_main, -1, "ETS 4 format: no DPTs");
  cr_assert_str_eq(gw_ets_group_at(ets, 2)->path, "");
}

Test(xml, broken_xml_is_refused_with_expats_reason_and_line)
{
  cr_assert_eq(xml("<GroupAddress-Export>\n<GroupRange Name=\"a\">\n"
                   "<GroupAddress Name=\"x\" Address=\"1/2/3\"/>\n</GroupAddress-Export>\n"),
               GW_EINVAL);
  cr_assert(strstr(why, "broken XML: line 4"), "%s", why);
  cr_assert_null(ets);
}

Test(xml, another_root_element_is_no_export)
{
  cr_assert_eq(xml("<KNX><GroupAddress Name=\"x\" Address=\"1/2/3\"/></KNX>"), GW_EINVAL);
  cr_assert(strstr(why, "<KNX>"), "%s", why);
}

Test(xml, a_document_type_declaration_is_refused)
{
  cr_assert_eq(xml("<?xml version=\"1.0\"?>\n<!DOCTYPE lol [<!ENTITY a \"aaaaaaaaaa\">"
                   "<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">]>\n"
                   "<GroupAddress-Export><GroupAddress Name=\"&b;\" Address=\"1/2/3\"/>"
                   "</GroupAddress-Export>"), GW_EINVAL);
  cr_assert(strstr(why, "document type"), "%s", why);
}

Test(xml, bad_addresses_and_missing_names_are_skipped_and_named)
{
  cr_assert_eq(xml("<GroupAddress-Export>\n<GroupAddress Name=\"a\" Address=\"32/0/0\"/>\n"
                   "<GroupAddress Name=\"b\"/>\n<GroupAddress Address=\"1/2/4\"/>\n"
                   "<GroupAddress Name=\"c\" Address=\"1/2/5\"/>\n</GroupAddress-Export>"),
               GW_OK, "%s", why);
  cr_assert_eq(gw_ets_count(ets), 1);
  cr_assert(noted("line 2: \"32/0/0\" is not a group address"));
  cr_assert(noted("line 3: \"\" is not a group address"));
  cr_assert(noted("line 4: 1/2/4 has no name"));
}

Test(xml, ranges_nested_too_deep_are_refused)
{
  char text[4096];
  size_t n = (size_t)sprintf(text, "<GroupAddress-Export>");
  for (int i = 0; i < 20; i++)
    n += (size_t)sprintf(text + n, "<GroupRange Name=\"r%d\">", i);
  sprintf(text + n, "<GroupAddress Name=\"x\" Address=\"1/2/3\"/>");
  cr_assert_eq(xml(text), GW_EINVAL);
  cr_assert(strstr(why, "nested deeper"), "%s", why);
}

Test(xml, namespace_prefixes_are_accepted)
{
  cr_assert_eq(xml("<ga:GroupAddress-Export xmlns:ga=\"http://knx.org/xml/ga-export/01\">"
                   "<ga:GroupRange Name=\"R\"><ga:GroupAddress Name=\"x\" Address=\"1/2/3\"/>"
                   "</ga:GroupRange></ga:GroupAddress-Export>"), GW_OK, "%s", why);
  cr_assert_str_eq(gw_ets_group_at(ets, 0)->path, "R");
}

Test(xml, windows_1252_and_utf16_documents_are_read)
{
  cr_assert_eq(xml("<?xml version=\"1.0\" encoding=\"windows-1252\"?><GroupAddress-Export>"
                   "<GroupAddress Name=\"Z\xE4hler \x80\" Address=\"1/2/3\"/></GroupAddress-Export>"),
               GW_OK, "%s", why);
  cr_assert_str_eq(gw_ets_group_at(ets, 0)->name, "Zähler €");
  finish();
  const char *ascii = "<GroupAddress-Export><GroupAddress Name=\"x\" Address=\"1/2/3\"/>"
                      "</GroupAddress-Export>";
  char buf[512];
  size_t n = 0;
  buf[n++] = (char)0xFF, buf[n++] = (char)0xFE;
  for (const char *p = ascii; *p; p++)
    buf[n++] = *p, buf[n++] = 0;
  cr_assert_eq(gw_ets_parse_xml(buf, n, &ets, &notes, why, sizeof why), GW_OK, "%s", why);
  cr_assert_eq(gw_ets_group_at(ets, 0)->ga, ga3(1, 2, 3));
}

Test(xml, an_empty_document_is_no_export)
{
  cr_assert_eq(xml(""), GW_EINVAL);
  cr_assert_eq(xml("<GroupAddress-Export/>"), GW_EINVAL);
  cr_assert(strstr(why, "no group address"), "%s", why);
}

/* ---- choosing the reader ------------------------------------------------- */

Test(sniff, a_file_starting_with_a_tag_is_read_as_xml_else_as_csv)
{
  cr_assert_eq(gw_ets_parse(export_xml, strlen(export_xml), &ets, &notes, why, sizeof why),
               GW_OK, "%s", why);
  cr_assert_eq(gw_ets_count(ets), 3);
  finish();
  cr_assert_eq(gw_ets_parse(export_3_1, strlen(export_3_1), &ets, &notes, why, sizeof why),
               GW_OK, "%s", why);
  cr_assert_eq(gw_ets_count(ets), 2);
}
