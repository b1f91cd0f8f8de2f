#include "media/draw.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

namespace facepipe::media {
namespace {

constexpr Rgb kRed{255, 0, 0};
constexpr uint8_t kSentinel = 0xA5;

// An image view inside a larger, sentinel-filled buffer: anything drawn outside the view's bounds
// shows up as a changed sentinel, even without a sanitizer.
class GuardedCanvas {
 public:
  GuardedCanvas(int w, int h) : outer_(w + 2 * kMargin, h + 2 * kMargin), w_(w), h_(h) {
    for (int y = 0; y < outer_.height(); ++y)
      for (int x = 0; x < outer_.width() * 3; ++x) outer_.row(y)[x] = kSentinel;
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w * 3; ++x) view().row(y)[x] = 0;
  }
  ImageView view() {
    ImageView v = outer_.view();
    v.data = outer_.pixel(kMargin, kMargin);
    v.width = w_;
    v.height = h_;
    return v;
  }
  bool guard_intact() const {
    for (int y = 0; y < outer_.height(); ++y)
      for (int x = 0; x < outer_.width(); ++x) {
        const bool inside = x >= kMargin && x < kMargin + w_ && y >= kMargin && y < kMargin + h_;
        if (inside) continue;
        for (int c = 0; c < 3; ++c)
          if (outer_.pixel(x, y)[c] != kSentinel) return false;
      }
    return true;
  }
  int count(Rgb color) {
    int n = 0;
    for (int y = 0; y < h_; ++y)
      for (int x = 0; x < w_; ++x) {
        const uint8_t* p = view().pixel(x, y);
        n += p[0] == color.r && p[1] == color.g && p[2] == color.b;
      }
    return n;
  }
  int inked() {  // pixels that are not black
    int n = 0;
    for (int y = 0; y < h_; ++y)
      for (int x = 0; x < w_; ++x) n += (view().pixel(x, y)[0] | view().pixel(x, y)[1] | view().pixel(x, y)[2]) != 0;
    return n;
  }

 private:
  static constexpr int kMargin = 8;
  Image outer_;
  int w_, h_;
};

TEST(Draw, FilledCircleArea) {
  GuardedCanvas canvas(64, 64);
  fill_circle(canvas.view(), {32, 32}, 10, kRed, /*antialias=*/false);
  EXPECT_NEAR(canvas.count(kRed), M_PI * 100, 20);
  EXPECT_EQ(canvas.view().pixel(32, 32)[0], 255);
  EXPECT_EQ(canvas.view().pixel(32, 43)[0], 0);
  GuardedCanvas dot(8, 8);
  fill_circle(dot.view(), {3.2f, 4.4f}, 0.3f, kRed, false);  // sub-pixel dot still marks its pixel
  EXPECT_EQ(dot.count(kRed), 1);
  EXPECT_EQ(dot.view().pixel(3, 4)[0], 255);
}

TEST(Draw, AntialiasedCircleBlendsItsEdge) {
  GuardedCanvas canvas(32, 32);
  fill_circle(canvas.view(), {16.3f, 16}, 6.5f, kRed, true);  // edge falls between pixel centres
  EXPECT_EQ(canvas.view().pixel(16, 16)[0], 255);
  int partial = 0;
  for (int x = 0; x < 32; ++x) {
    const int v = canvas.view().pixel(x, 16)[0];
    partial += v > 0 && v < 255;
  }
  EXPECT_GE(partial, 1);
  EXPECT_TRUE(canvas.guard_intact());
}

TEST(Draw, BresenhamLineEndpointsAndLength) {
  GuardedCanvas canvas(32, 32);
  draw_line(canvas.view(), {2, 3}, {20, 12}, kRed);
  EXPECT_EQ(canvas.view().pixel(2, 3)[0], 255);
  EXPECT_EQ(canvas.view().pixel(20, 12)[0], 255);
  EXPECT_EQ(canvas.count(kRed), 19);  // one pixel per column of an x-major line
  GuardedCanvas point(4, 4);
  draw_line(point.view(), {1, 1}, {1, 1}, kRed);
  EXPECT_EQ(point.count(kRed), 1);
}

TEST(Draw, ThickLineCoversItsWidth) {
  GuardedCanvas canvas(64, 32);
  draw_line(canvas.view(), {10, 16}, {50, 16}, kRed, 5.0f);
  for (int y = 14; y <= 18; ++y) EXPECT_EQ(canvas.view().pixel(30, y)[0], 255) << y;
  EXPECT_EQ(canvas.view().pixel(30, 12)[0], 0);
  EXPECT_EQ(canvas.view().pixel(30, 20)[0], 0);
  GuardedCanvas aa(64, 64);
  draw_line(aa.view(), {5, 7}, {58, 40}, kRed, 3.0f, true);
  EXPECT_GT(aa.inked(), 100);
  EXPECT_TRUE(aa.guard_intact());
}

TEST(Draw, RectOutlineAndPolyline) {
  GuardedCanvas canvas(40, 30);
  draw_rect(canvas.view(), 5, 5, 20, 10, kRed, 2);
  // Perimeter band of width 2 inside a 20x10 box: 20*10 - 16*6.
  EXPECT_EQ(canvas.count(kRed), 200 - 96);
  EXPECT_EQ(canvas.view().pixel(15, 10)[0], 0);  // hollow
  GuardedCanvas poly(40, 30);
  const PointF square[] = {{5, 5}, {25, 5}, {25, 20}, {5, 20}};
  draw_polyline(poly.view(), square, kRed, 1, /*closed=*/true);
  EXPECT_EQ(poly.count(kRed), 2 * 21 + 2 * 14);
}

TEST(Draw, TextRendersGlyphsAndMeasures) {
  EXPECT_EQ(text_width("FPS 30.0", 1), 8 * 6 - 1);
  EXPECT_EQ(text_width("AB\nC", 2), (2 * 6 - 1) * 2);
  EXPECT_EQ(text_height("A", 3), 21);
  EXPECT_EQ(text_height("A\nB", 1), 15);
  GuardedCanvas canvas(40, 12);
  draw_text(canvas.view(), 1, 1, "1", kRed, 1);
  // The '1' glyph: a stem in column 2 of the cell, a base 3 wide.
  for (int row = 0; row < 7; ++row) EXPECT_EQ(canvas.view().pixel(1 + 2, 1 + row)[0], 255) << row;
  EXPECT_EQ(canvas.view().pixel(1 + 1, 1 + 6)[0], 255);
  EXPECT_EQ(canvas.view().pixel(1 + 0, 1 + 3)[0], 0);
  EXPECT_EQ(canvas.count(kRed), 10);
  GuardedCanvas scaled(40, 40);
  draw_text(scaled.view(), 0, 0, "1", kRed, 3);
  EXPECT_EQ(scaled.count(kRed), 90);
  GuardedCanvas all(400, 30);
  draw_text(all.view(), 0, 0, "0123456789 ABCDEFGHIJKLMNOPQRSTUVWXYZ .:-%", kRed);
  draw_text(all.view(), 0, 10, "lower case too, and unknown: ~", kRed);
  EXPECT_TRUE(all.guard_intact());
}

TEST(Draw, BgrImagesGetTheSameColour) {
  Image bgr(4, 4, PixelFormat::kBGR8);
  fill_rect(bgr.view(), 0, 0, 4, 4, Rgb{10, 20, 30});
  EXPECT_EQ(bgr.pixel(1, 1)[0], 30);
  EXPECT_EQ(bgr.pixel(1, 1)[2], 10);
}

// Everything far outside, partly outside, huge, NaN or infinite must clip and never write out of
// bounds (the sentinel border checks that; the ASan build checks it again).
TEST(Draw, ClipsAnythingOutsideTheImage) {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float coords[] = {-1e9f, -1e4f, -50.5f, -1, 0, 7, 15.5f, 16, 17, 300, 1e6f, 3e9f, inf, -inf, nan};
  GuardedCanvas canvas(16, 12);
  ImageView v = canvas.view();
  for (float a : coords)
    for (float b : coords) {
      draw_line(v, {a, b}, {b, a}, kRed);
      draw_line(v, {a, 5}, {b, 6}, kRed, 4.0f, true);
      draw_line(v, {3, a}, {b, 9}, kRed, 2.5f, false);
      fill_circle(v, {a, b}, 7.0f, kRed, true);
      fill_circle(v, {a, b}, 3.0f, kRed, false);
      fill_circle(v, {5, 5}, std::fabs(a), kRed, true);
    }
  const int ints[] = {std::numeric_limits<int>::min(), -100000, -20, -1, 0, 5, 15, 16, 100000,
                      std::numeric_limits<int>::max()};
  for (int a : ints)
    for (int b : ints) {
      fill_rect(v, a, b, b, a, kRed);
      draw_rect(v, a, b, std::abs(b / 2) + 1, 30, kRed, 3);
      draw_rect(v, a, a, std::numeric_limits<int>::max(), std::numeric_limits<int>::max(), kRed, 1000);
      draw_text(v, a, b, "Clip 99%", kRed, 2);
      draw_text(v, a, b, "Z", kRed, 1000);  // scale clamped
    }
  const std::vector<PointF> far = {{-1e9f, 0}, {1e9f, 1e9f}, {nan, 3}, {5, 5}, {-3, 40}};
  draw_polyline(v, far, kRed, 3, true, true);
  draw_polyline(v, far, kRed, 1, true, false);
  draw_polyline(v, {}, kRed);
  EXPECT_TRUE(canvas.guard_intact());
  EXPECT_GT(canvas.count(kRed), 0);
  draw_line(ImageView{}, {0, 0}, {5, 5}, kRed);  // empty image: nothing happens
  draw_text(ImageView{}, 0, 0, "x", kRed);
}

}  // namespace
}  // namespace facepipe::media
