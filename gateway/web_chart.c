/* The energy chart of the status page, drawn as SVG by the daemon: one
 * stacked bar per month, one colour per series (charger or tag), a
 * legend under it. Pure: JSON in, text out; labels escaped. */
#include "gateway/web.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHART_W 360
#define PLOT_X 36
#define PLOT_TOP 16
#define PLOT_H 130
#define LEGEND_TOP 172
#define LEGEND_ROW 16
#define LEGEND_COLS 3

static const char *const palette[] = {"#1f77b4", "#ff7f0e", "#2ca02c",
                                      "#d62728", "#9467bd", "#8c564b",
                                      "#e377c2", "#7f7f7f", "#bcbd22",
                                      "#17becf"};
#define PALETTE_N (sizeof palette / sizeof palette[0])

static const char *const month_names[] = {"Jan", "Feb", "Mar", "Apr", "May",
                                          "Jun", "Jul", "Aug", "Sep", "Oct",
                                          "Nov", "Dec"};

static double wh_at(const json_t *series, size_t month)
{
  double v = json_number_value(json_array_get(json_object_get(series, "wh"),
                                              month));
  return isfinite(v) && v > 0 ? v : 0;
}

static double month_total(const json_t *all, size_t month)
{
  double t = 0;
  size_t i;
  const json_t *s;
  json_array_foreach(all, i, s)
    t += wh_at(s, month);
  return t;
}

/* A top of the scale a reader can use: 1, 2 or 5 times a power of ten
 * kWh, at least the largest bar. */
static double scale_top_kwh(double max_wh)
{
  double kwh = max_wh / 1000.0;
  double p = pow(10, floor(log10(kwh)));
  static const double steps[] = {1, 2, 5, 10};
  for (size_t i = 0; i < 4; i++)
    if (steps[i] * p >= kwh)
      return steps[i] * p;
  return 10 * p;
}

static void put_month_label(FILE *f, const char *label, double x)
{
  int m = label && strlen(label) == 7 ? atoi(label + 5) : 0;
  fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>",
          x, PLOT_TOP + PLOT_H + 14,
          m >= 1 && m <= 12 ? month_names[m - 1] : "?");
}

static void put_bars(FILE *f, const json_t *months, const json_t *series,
                     double top_wh)
{
  size_t n = json_array_size(months);
  double slot = (double)(CHART_W - PLOT_X - 4) / (double)(n ? n : 1);
  for (size_t m = 0; m < n; m++) {
    const char *label = json_string_value(json_array_get(months, m));
    double x = PLOT_X + slot * (double)m;
    double y = PLOT_TOP + PLOT_H;
    size_t i;
    const json_t *s;
    json_array_foreach(series, i, s) {
      double wh = wh_at(s, m);
      if (wh <= 0)
        continue;
      double h = wh / top_wh * PLOT_H;
      y -= h;
      fprintf(f, "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
              "height=\"%.1f\" fill=\"%s\" data-month=\"", x + slot * 0.15,
              y, slot * 0.7, h < 0.5 ? 0.5 : h, palette[i % PALETTE_N]);
      gw_html_escape(f, label);
      fputs("\" data-series=\"", f);
      gw_html_escape(f, json_string_value(json_object_get(s, "label")));
      fprintf(f, "\" data-wh=\"%.0f\"><title>", wh);
      gw_html_escape(f, json_string_value(json_object_get(s, "label")));
      fputs(" ", f);
      gw_html_escape(f, label);
      fprintf(f, ": %.1f kWh</title></rect>", wh / 1000.0);
    }
    put_month_label(f, label, x + slot / 2);
  }
}

static void put_legend(FILE *f, const json_t *series)
{
  size_t i;
  const json_t *s;
  int col_w = (CHART_W - 8) / LEGEND_COLS;
  json_array_foreach(series, i, s) {
    int x = 4 + (int)(i % LEGEND_COLS) * col_w;
    int y = LEGEND_TOP + (int)(i / LEGEND_COLS) * LEGEND_ROW;
    fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"10\" height=\"10\" "
            "fill=\"%s\"/><text x=\"%d\" y=\"%d\">", x, y - 9,
            palette[i % PALETTE_N], x + 14, y);
    /* long names would run into the next column */
    const char *label = json_string_value(json_object_get(s, "label"));
    char cut[20];
    snprintf(cut, sizeof cut, "%s", label ? label : "?");
    if (label && strlen(label) >= sizeof cut)
      memcpy(cut + sizeof cut - 4, "...", 4);
    gw_html_escape(f, cut);
    fputs("</text>", f);
  }
}

typedef struct {
  const json_t *months, *series;
  const char *title;
} chart_args;

static void put_chart(FILE *f, const void *arg)
{
  const chart_args *a = arg;
  const json_t *months = a->months, *series = a->series;
  double max = 0;
  for (size_t m = 0; m < json_array_size(months); m++)
    max = fmax(max, month_total(series, m));
  size_t rows = (json_array_size(series) + LEGEND_COLS - 1) / LEGEND_COLS;
  int height = LEGEND_TOP + (int)rows * LEGEND_ROW;
  fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
          "font-size=\"10\" role=\"img\" aria-label=\"", CHART_W, height);
  gw_html_escape(f, a->title);
  fputs("\"><title>", f);
  gw_html_escape(f, a->title);
  fputs("</title>", f);
  fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#999\"/>",
          PLOT_X, PLOT_TOP + PLOT_H, CHART_W - 4, PLOT_TOP + PLOT_H);
  if (max <= 0) {
    fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">no energy "
            "recorded</text>", CHART_W / 2, PLOT_TOP + PLOT_H / 2);
    put_bars(f, months, series, 1);
  } else {
    double top = scale_top_kwh(max);
    fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%g</text>"
            "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">0</text>"
            "<text x=\"%d\" y=\"%d\">kWh</text>"
            "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#ddd\"/>",
            PLOT_X - 4, PLOT_TOP + 4, top, PLOT_X - 4, PLOT_TOP + PLOT_H,
            PLOT_X, PLOT_TOP - 6, PLOT_X, PLOT_TOP, CHART_W - 4, PLOT_TOP);
    put_bars(f, months, series, top * 1000.0);
  }
  put_legend(f, series);
  fputs("</svg>", f);
}

char *gw_chart_svg(const json_t *chart, const char *title)
{
  chart_args a = {json_object_get(chart, "months"),
                  json_object_get(chart, "series"), title};
  if (!json_is_array(a.months) || !json_is_array(a.series))
    return NULL;
  return gw_html_render(put_chart, &a);
}
