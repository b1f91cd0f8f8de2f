// Drawing on 8-bit RGB/BGR images for overlays (landmarks, boxes, labels). Every function clips to
// the image: any coordinates (negative, huge, NaN) are safe and never write out of bounds.
//
// Coordinates: pixel (x, y) has its centre at integer (x, y), so landmark coordinates in pixels can
// be passed as they are. Colours are always given as RGB; on a BGR image they are swapped.
#pragma once

#include <span>
#include <string_view>

#include "media/image.h"

namespace facepipe::media {

struct Rgb {
  uint8_t r = 0, g = 0, b = 0;
};

struct PointF {
  float x = 0, y = 0;
};

// Axis-aligned rectangle [x, x + width) x [y, y + height).
void fill_rect(ImageView image, int x, int y, int width, int height, Rgb color);
// Outline; the border grows inwards so the rectangle keeps its outer size.
void draw_rect(ImageView image, int x, int y, int width, int height, Rgb color, int thickness = 1);

// Filled disc (landmark dot). With antialias the edge is blended by pixel coverage.
void fill_circle(ImageView image, PointF center, float radius, Rgb color, bool antialias = true);

// thickness <= 1 without antialias: a 1-pixel Bresenham line. Otherwise a round-capped stroke of
// that width, blended by coverage when antialias is set.
void draw_line(ImageView image, PointF from, PointF to, Rgb color, float thickness = 1, bool antialias = false);
void draw_polyline(ImageView image, std::span<const PointF> points, Rgb color, float thickness = 1, bool closed = false,
                   bool antialias = false);

// Built-in 5x7 bitmap font: digits, A-Z (lower case drawn as upper case), space and . : - % / + = , ( ) _
// Other characters draw as a hollow box. (x, y) is the top-left corner; each glyph cell is 6x8 pixels
// times `scale` (1..64); '\n' starts a new line.
void draw_text(ImageView image, int x, int y, std::string_view text, Rgb color, int scale = 1);
int text_width(std::string_view text, int scale = 1);  // of the longest line
int text_height(std::string_view text, int scale = 1);

}  // namespace facepipe::media
