#include "media/draw.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "common/status.h"
#include "media/font5x7.h"

namespace facepipe::media {

namespace {

// Colour in the image's channel order.
struct Ink {
  uint8_t c[3];
};
Ink ink_for(const ImageView& image, Rgb color) {
  if (image.format == PixelFormat::kBGR8) return {{color.b, color.g, color.r}};
  return {{color.r, color.g, color.b}};
}

// Every drawing entry point asks this first. Drawing writes packed pixels: on an NV12 image it would
// scribble over the luma plane, so that is a caller's error and says so.
bool usable(const ImageView& image) {
  if (!is_packed_rgb(image.format))
    throw Error("draw: cannot draw on an NV12 image (convert it to RGB/BGR first: convert_pixels)");
  return !image.empty();
}

inline void put(const ImageView& image, int x, int y, const Ink& ink) {
  uint8_t* p = image.pixel(x, y);
  p[0] = ink.c[0];
  p[1] = ink.c[1];
  p[2] = ink.c[2];
}

inline void blend(const ImageView& image, int x, int y, const Ink& ink, float coverage) {
  if (coverage >= 1.0f) return put(image, x, y, ink);
  uint8_t* p = image.pixel(x, y);
  for (int i = 0; i < 3; ++i) p[i] = static_cast<uint8_t>(std::lround(p[i] + (ink.c[i] - p[i]) * coverage));
}

// Clamps a real coordinate range to pixel indices [0, limit - 1]; false when nothing is left. Done in
// double before any int conversion, so huge or infinite values cannot overflow.
bool clamp_range(double lo, double hi, int limit, int* first, int* last) {
  if (!(lo <= hi)) return false;  // also rejects NaN
  lo = std::max(lo, 0.0);
  hi = std::min(hi, static_cast<double>(limit - 1));
  if (lo > hi) return false;
  *first = static_cast<int>(std::ceil(lo));
  *last = static_cast<int>(std::floor(hi));
  return *first <= *last;
}

void fill_rect_wide(const ImageView& image, int64_t x, int64_t y, int64_t w, int64_t h, const Ink& ink) {
  const int64_t x0 = std::max<int64_t>(x, 0), y0 = std::max<int64_t>(y, 0);
  const int64_t x1 = std::min<int64_t>(x + w, image.width), y1 = std::min<int64_t>(y + h, image.height);
  for (int64_t yy = y0; yy < y1; ++yy) {
    for (int64_t xx = x0; xx < x1; ++xx) put(image, static_cast<int>(xx), static_cast<int>(yy), ink);
  }
}

// Liang-Barsky: clips the segment to the box [0, w-1] x [0, h-1]; false when it misses the box.
bool clip_segment(double& x0, double& y0, double& x1, double& y1, double w, double h) {
  double t0 = 0, t1 = 1;
  const double dx = x1 - x0, dy = y1 - y0;
  const double p[4] = {-dx, dx, -dy, dy};
  const double q[4] = {x0, (w - 1) - x0, y0, (h - 1) - y0};
  for (int i = 0; i < 4; ++i) {
    if (p[i] == 0) {
      if (q[i] < 0) return false;
      continue;
    }
    const double t = q[i] / p[i];
    if (p[i] < 0) t0 = std::max(t0, t);
    else t1 = std::min(t1, t);
    if (t0 > t1) return false;
  }
  const double ax = x0 + t0 * dx, ay = y0 + t0 * dy;
  x1 = x0 + t1 * dx;
  y1 = y0 + t1 * dy;
  x0 = ax;
  y0 = ay;
  return true;
}

void bresenham(const ImageView& image, PointF from, PointF to, const Ink& ink) {
  double x0 = from.x, y0 = from.y, x1 = to.x, y1 = to.y;
  if (!clip_segment(x0, y0, x1, y1, image.width, image.height)) return;
  int ix = static_cast<int>(std::lround(x0)), iy = static_cast<int>(std::lround(y0));
  const int ex = static_cast<int>(std::lround(x1)), ey = static_cast<int>(std::lround(y1));
  const int dx = std::abs(ex - ix), dy = -std::abs(ey - iy);
  const int sx = ix < ex ? 1 : -1, sy = iy < ey ? 1 : -1;
  int err = dx + dy;
  for (;;) {
    if (ix >= 0 && iy >= 0 && ix < image.width && iy < image.height) put(image, ix, iy, ink);
    if (ix == ex && iy == ey) break;
    const int e2 = 2 * err;
    if (e2 >= dy) err += dy, ix += sx;
    if (e2 <= dx) err += dx, iy += sy;
  }
}

// Round-capped stroke: every pixel whose centre lies within `half` of the segment. Walks rows of the
// clipped bounding box and, per row, only the x-span where the band around the line crosses it, so a
// long diagonal costs O(length * width), not O(bounding box).
void stroke(const ImageView& image, PointF from, PointF to, float thickness, bool antialias, const Ink& ink) {
  const double half = std::max(0.5, 0.5 * static_cast<double>(thickness));
  const double reach = half + 1.0;  // anti-aliased fringe
  const double ax = from.x, ay = from.y, bx = to.x, by = to.y;
  if (!std::isfinite(ax) || !std::isfinite(ay) || !std::isfinite(bx) || !std::isfinite(by)) return;
  int y_first, y_last, x_lo, x_hi;
  if (!clamp_range(std::min(ay, by) - reach, std::max(ay, by) + reach, image.height, &y_first, &y_last)) return;
  if (!clamp_range(std::min(ax, bx) - reach, std::max(ax, bx) + reach, image.width, &x_lo, &x_hi)) return;
  const double dx = bx - ax, dy = by - ay;
  const double len2 = dx * dx + dy * dy;
  const double len = std::sqrt(len2);
  for (int y = y_first; y <= y_last; ++y) {
    int x_first = x_lo, x_last = x_hi;
    if (std::abs(dy) > 1e-9) {
      // Points of this row within `reach` of the infinite line.
      const double xc = ax + (y - ay) * dx / dy;
      const double span = reach * len / std::abs(dy);
      if (!clamp_range(std::max(xc - span, static_cast<double>(x_lo)), std::min(xc + span, static_cast<double>(x_hi)),
                       image.width, &x_first, &x_last)) {
        continue;
      }
    }
    for (int x = x_first; x <= x_last; ++x) {
      // Distance from the pixel centre to the segment.
      double t = len2 > 0 ? ((x - ax) * dx + (y - ay) * dy) / len2 : 0.0;
      t = std::clamp(t, 0.0, 1.0);
      const double ex = x - (ax + t * dx), ey = y - (ay + t * dy);
      const double d = std::sqrt(ex * ex + ey * ey);
      if (antialias) {
        const double coverage = std::clamp(half + 0.5 - d, 0.0, 1.0);
        if (coverage > 0) blend(image, x, y, ink, static_cast<float>(coverage));
      } else if (d <= half) {
        put(image, x, y, ink);
      }
    }
  }
}

}  // namespace

void fill_rect(ImageView image, int x, int y, int width, int height, Rgb color) {
  if (!usable(image) || width <= 0 || height <= 0) return;
  fill_rect_wide(image, x, y, width, height, ink_for(image, color));
}

void draw_rect(ImageView image, int x, int y, int width, int height, Rgb color, int thickness) {
  if (!usable(image) || width <= 0 || height <= 0 || thickness <= 0) return;
  const Ink ink = ink_for(image, color);
  const int64_t t = std::min<int64_t>({thickness, (int64_t{width} + 1) / 2, (int64_t{height} + 1) / 2});
  const int64_t X = x, Y = y, W = width, H = height;
  fill_rect_wide(image, X, Y, W, t, ink);                  // top
  fill_rect_wide(image, X, Y + H - t, W, t, ink);          // bottom
  fill_rect_wide(image, X, Y + t, t, H - 2 * t, ink);      // left
  fill_rect_wide(image, X + W - t, Y + t, t, H - 2 * t, ink);  // right
}

void fill_circle(ImageView image, PointF center, float radius, Rgb color, bool antialias) {
  if (!usable(image) || !(radius > 0) || !std::isfinite(center.x) || !std::isfinite(center.y) ||
      !std::isfinite(radius)) {
    return;
  }
  const Ink ink = ink_for(image, color);
  const double cx = center.x, cy = center.y, r = radius;
  const double reach = r + 1.0;
  int x_first, x_last, y_first, y_last;
  if (!clamp_range(cx - reach, cx + reach, image.width, &x_first, &x_last)) return;
  if (!clamp_range(cy - reach, cy + reach, image.height, &y_first, &y_last)) return;
  // A dot smaller than a pixel still marks the pixel it falls in.
  const double solid = std::max(r, 0.5);
  for (int y = y_first; y <= y_last; ++y) {
    for (int x = x_first; x <= x_last; ++x) {
      const double d = std::hypot(x - cx, y - cy);
      if (antialias) {
        const double coverage = std::clamp(r + 0.5 - d, 0.0, 1.0);
        if (coverage > 0) blend(image, x, y, ink, static_cast<float>(coverage));
      } else if (d <= solid) {
        put(image, x, y, ink);
      }
    }
  }
}

void draw_line(ImageView image, PointF from, PointF to, Rgb color, float thickness, bool antialias) {
  if (!usable(image)) return;
  if (!std::isfinite(from.x) || !std::isfinite(from.y) || !std::isfinite(to.x) || !std::isfinite(to.y)) return;
  const Ink ink = ink_for(image, color);
  if (!antialias && !(thickness > 1.0f)) return bresenham(image, from, to, ink);
  stroke(image, from, to, thickness, antialias, ink);
}

void draw_polyline(ImageView image, std::span<const PointF> points, Rgb color, float thickness, bool closed,
                   bool antialias) {
  if (points.size() == 1) draw_line(image, points[0], points[0], color, thickness, antialias);
  for (size_t i = 1; i < points.size(); ++i) draw_line(image, points[i - 1], points[i], color, thickness, antialias);
  if (closed && points.size() > 2) draw_line(image, points.back(), points.front(), color, thickness, antialias);
}

namespace {
constexpr int kAdvance = detail::kGlyphWidth + 1;  // one blank column between glyphs
constexpr int kLineHeight = detail::kGlyphHeight + 1;
int clamp_scale(int scale) { return std::clamp(scale, 1, 64); }
}  // namespace

void draw_text(ImageView image, int x, int y, std::string_view text, Rgb color, int scale) {
  if (!usable(image)) return;
  scale = clamp_scale(scale);
  const Ink ink = ink_for(image, color);
  // 64-bit pen position: a long string starting near INT_MAX must not overflow.
  int64_t pen_x = x, pen_y = y;
  for (const char c : text) {
    if (c == '\n') {
      pen_x = x;
      pen_y += int64_t{kLineHeight} * scale;
      continue;
    }
    const bool visible = pen_x < image.width && pen_x + int64_t{kAdvance} * scale > 0 && pen_y < image.height &&
                         pen_y + int64_t{kLineHeight} * scale > 0;
    if (visible) {
      const char* const* rows = detail::glyph_rows(c);
      for (int row = 0; row < detail::kGlyphHeight; ++row) {
        for (int col = 0; col < detail::kGlyphWidth; ++col) {
          if (rows[row][col] != '#') continue;
          fill_rect_wide(image, pen_x + int64_t{col} * scale, pen_y + int64_t{row} * scale, scale, scale, ink);
        }
      }
    }
    pen_x += int64_t{kAdvance} * scale;
  }
}

int text_width(std::string_view text, int scale) {
  scale = clamp_scale(scale);
  size_t longest = 0, current = 0;
  for (const char c : text) {
    current = c == '\n' ? 0 : current + 1;
    longest = std::max(longest, current);
  }
  // The trailing blank column of the last glyph is not part of the text.
  return longest == 0 ? 0 : static_cast<int>(longest * kAdvance - 1) * scale;
}

int text_height(std::string_view text, int scale) {
  scale = clamp_scale(scale);
  if (text.empty()) return 0;
  const auto lines = 1 + std::count(text.begin(), text.end(), '\n');
  return static_cast<int>((lines - 1) * kLineHeight + detail::kGlyphHeight) * scale;
}

}  // namespace facepipe::media
