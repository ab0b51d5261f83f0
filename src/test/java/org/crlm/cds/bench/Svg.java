package org.crlm.cds.bench;

import java.util.List;
import java.util.Locale;

/** A small hand-written SVG line chart: p50 latency against record size, log-log. */
final class Svg {

    private Svg() {}

    static String latencyVsSize(List<double[]> rows) {
        int width = 640;
        int height = 400;
        int left = 70;
        int right = 20;
        int top = 30;
        int bottom = 50;
        double minX = Math.log10(rows.get(0)[0]);
        double maxX = Math.log10(rows.get(rows.size() - 1)[0]);
        double minY = Double.MAX_VALUE;
        double maxY = 0;
        for (double[] r : rows) {
            minY = Math.min(minY, Math.min(r[1], r[5]));
            maxY = Math.max(maxY, Math.max(r[1], r[5]));
        }
        double lo = Math.floor(Math.log10(Math.max(0.1, minY)));
        double hi = Math.ceil(Math.log10(maxY));
        StringBuilder svg = new StringBuilder();
        svg.append(String.format(
                Locale.ROOT,
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                        + "font-family=\"sans-serif\" font-size=\"12\">\n",
                width,
                height));
        svg.append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        svg.append("<text x=\"")
                .append(width / 2)
                .append("\" y=\"18\" text-anchor=\"middle\" font-size=\"14\">"
                        + "order-sign p50 latency vs Observations in the record (log-log)</text>\n");
        for (double e = lo; e <= hi; e++) {
            double y = y(e, lo, hi, top, height - bottom);
            svg.append(String.format(
                    Locale.ROOT,
                    "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                            + "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s ms</text>\n",
                    left,
                    width - right,
                    y,
                    y,
                    left - 6,
                    y + 4,
                    label(Math.pow(10, e))));
        }
        for (double[] r : rows) {
            double x = x(Math.log10(r[0]), minX, maxX, left, width - right);
            svg.append(String.format(
                    Locale.ROOT,
                    "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" stroke=\"#ddd\"/>"
                            + "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%.0f</text>\n",
                    x,
                    x,
                    top,
                    height - bottom,
                    x,
                    height - bottom + 18,
                    r[0]));
        }
        svg.append(String.format(
                Locale.ROOT,
                "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">Observations</text>\n",
                width / 2,
                height - 10));
        line(svg, rows, 1, "#0b57d0", minX, maxX, lo, hi, left, width - right, top, height - bottom);
        line(svg, rows, 5, "#c62828", minX, maxX, lo, hi, left, width - right, top, height - bottom);
        // Linear reference: slope 1 from the first prefetch point.
        double[] first = rows.get(0);
        double[] last = rows.get(rows.size() - 1);
        double linearEnd = first[1] * last[0] / first[0];
        svg.append(String.format(
                Locale.ROOT,
                "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#888\" "
                        + "stroke-dasharray=\"4 4\"/>\n",
                x(Math.log10(first[0]), minX, maxX, left, width - right),
                y(Math.log10(first[1]), lo, hi, top, height - bottom),
                x(Math.log10(last[0]), minX, maxX, left, width - right),
                y(Math.log10(Math.min(linearEnd, Math.pow(10, hi))), lo, hi, top, height - bottom)));
        svg.append(String.format(
                Locale.ROOT,
                "<text x=\"%d\" y=\"%d\" fill=\"#0b57d0\">prefetch</text>"
                        + "<text x=\"%d\" y=\"%d\" fill=\"#c62828\">local store</text>"
                        + "<text x=\"%d\" y=\"%d\" fill=\"#888\">linear growth from 10</text>\n",
                left + 10,
                top + 16,
                left + 10,
                top + 32,
                left + 10,
                top + 48));
        return svg.append("</svg>\n").toString();
    }

    private static void line(
            StringBuilder svg,
            List<double[]> rows,
            int column,
            String colour,
            double minX,
            double maxX,
            double lo,
            double hi,
            int x0,
            int x1,
            int y0,
            int y1) {
        StringBuilder points = new StringBuilder();
        for (double[] r : rows) {
            double x = x(Math.log10(r[0]), minX, maxX, x0, x1);
            double y = y(Math.log10(Math.max(0.01, r[column])), lo, hi, y0, y1);
            points.append(String.format(Locale.ROOT, "%.1f,%.1f ", x, y));
            svg.append(String.format(
                    Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>\n", x, y, colour));
        }
        svg.append("<polyline fill=\"none\" stroke=\"")
                .append(colour)
                .append("\" stroke-width=\"2\" points=\"")
                .append(points.toString().trim())
                .append("\"/>\n");
    }

    private static double x(double v, double min, double max, int x0, int x1) {
        return x0 + (v - min) / (max - min) * (x1 - x0);
    }

    private static double y(double v, double lo, double hi, int y0, int y1) {
        return y1 - (v - lo) / (hi - lo) * (y1 - y0);
    }

    private static String label(double v) {
        return v >= 1 ? String.format(Locale.ROOT, "%.0f", v) : String.format(Locale.ROOT, "%.1f", v);
    }
}
