#include "media/jfif_color.h"

#include <algorithm>
#include <array>
#include <vector>

extern "C" {
#include <libavutil/pixdesc.h>
}

namespace facepipe::media::detail {

namespace {

constexpr int kScaleBits = 16;
constexpr int kHalf = 1 << (kScaleBits - 1);
constexpr int fixed(double x) { return static_cast<int>(x * (1 << kScaleBits) + 0.5); }

// Per chroma value tables of the JFIF equations (R = Y + 1.402 Cr', G = Y - 0.34414 Cb' - 0.71414 Cr',
// B = Y + 1.772 Cb', with C' = C - 128), rounded as libjpeg rounds them.
struct Tables {
  std::array<int, 256> cr_r{}, cb_b{}, cr_g{}, cb_g{};
  Tables() {
    for (int i = 0; i < 256; ++i) {
      const int c = i - 128;
      cr_r[i] = (fixed(1.40200) * c + kHalf) >> kScaleBits;
      cb_b[i] = (fixed(1.77200) * c + kHalf) >> kScaleBits;
      cr_g[i] = -fixed(0.71414) * c;
      cb_g[i] = -fixed(0.34414) * c + kHalf;  // the rounding term rides on one of the two
    }
  }
};
const Tables& tables() {
  static const Tables t;
  return t;
}

inline uint8_t clamp255(int v) { return static_cast<uint8_t>(std::clamp(v, 0, 255)); }

// Triangle upsampling of one chroma row by 2 horizontally: each output sample is 3/4 of the nearer and
// 1/4 of the farther input sample. `in` holds values scaled by `scale` (1 for h2v1, 16 after the
// vertical pass of h2v2); biases alternate so that rounding does not drift one way.
void upsample_row_h2(const int* in, int in_width, int out_width, int shift, int bias_even, int bias_odd,
                     uint8_t* out) {
  for (int j = 0; j < in_width; ++j) {
    const int left = in[std::max(j - 1, 0)];
    const int right = in[std::min(j + 1, in_width - 1)];
    const int x = 2 * j;
    if (x < out_width) out[x] = static_cast<uint8_t>((3 * in[j] + left + bias_even) >> shift);
    if (x + 1 < out_width) out[x + 1] = static_cast<uint8_t>((3 * in[j] + right + bias_odd) >> shift);
  }
}

}  // namespace

bool jfif_convertible(const AVFrame& frame) {
  const auto f = static_cast<AVPixelFormat>(frame.format);
  const bool jpeg_range = f == AV_PIX_FMT_YUVJ420P || f == AV_PIX_FMT_YUVJ422P || f == AV_PIX_FMT_YUVJ444P;
  const bool plain = f == AV_PIX_FMT_YUV420P || f == AV_PIX_FMT_YUV422P || f == AV_PIX_FMT_YUV444P;
  // JFIF is BT.601; a full-range BT.709 video frame must go through swscale's matrix instead.
  const bool bt601 = frame.colorspace == AVCOL_SPC_BT470BG || frame.colorspace == AVCOL_SPC_SMPTE170M ||
                     frame.colorspace == AVCOL_SPC_UNSPECIFIED;
  return bt601 && (jpeg_range || (plain && frame.color_range == AVCOL_RANGE_JPEG));
}

void jfif_to_rgb(const AVFrame& frame, ImageView dst) {
  const Tables& t = tables();
  const AVPixFmtDescriptor* desc = av_pix_fmt_desc_get(static_cast<AVPixelFormat>(frame.format));
  const int sx = desc->log2_chroma_w, sy = desc->log2_chroma_h;
  const int w = frame.width, h = frame.height;
  const int cw = (w + (1 << sx) - 1) >> sx, ch = (h + (1 << sy) - 1) >> sy;
  const int r_at = dst.format == PixelFormat::kRGB8 ? 0 : 2;
  const int b_at = 2 - r_at;

  std::vector<uint8_t> cb_row(static_cast<size_t>(w)), cr_row(static_cast<size_t>(w));
  std::vector<int> cb_sum(static_cast<size_t>(cw)), cr_sum(static_cast<size_t>(cw));
  for (int y = 0; y < h; ++y) {
    const uint8_t* cb;
    const uint8_t* cr;
    if (sx == 0) {
      const int cy = y;  // 4:4:4
      cb = frame.data[1] + static_cast<ptrdiff_t>(cy) * frame.linesize[1];
      cr = frame.data[2] + static_cast<ptrdiff_t>(cy) * frame.linesize[2];
    } else if (sy == 0) {  // 4:2:2: horizontal triangle only
      const uint8_t* cb_in = frame.data[1] + static_cast<ptrdiff_t>(y) * frame.linesize[1];
      const uint8_t* cr_in = frame.data[2] + static_cast<ptrdiff_t>(y) * frame.linesize[2];
      for (int j = 0; j < cw; ++j) cb_sum[j] = cb_in[j], cr_sum[j] = cr_in[j];
      upsample_row_h2(cb_sum.data(), cw, w, 2, 1, 2, cb_row.data());
      upsample_row_h2(cr_sum.data(), cw, w, 2, 1, 2, cr_row.data());
      cb = cb_row.data();
      cr = cr_row.data();
    } else {  // 4:2:0: vertical triangle (3 near + 1 far) then horizontal, scale 16 in all
      const int near = y >> 1;
      const int far = std::clamp((y & 1) ? near + 1 : near - 1, 0, ch - 1);
      for (int p = 1; p <= 2; ++p) {
        const uint8_t* n = frame.data[p] + static_cast<ptrdiff_t>(near) * frame.linesize[p];
        const uint8_t* f = frame.data[p] + static_cast<ptrdiff_t>(far) * frame.linesize[p];
        int* sum = p == 1 ? cb_sum.data() : cr_sum.data();
        for (int j = 0; j < cw; ++j) sum[j] = 3 * n[j] + f[j];
      }
      upsample_row_h2(cb_sum.data(), cw, w, 4, 8, 7, cb_row.data());
      upsample_row_h2(cr_sum.data(), cw, w, 4, 8, 7, cr_row.data());
      cb = cb_row.data();
      cr = cr_row.data();
    }
    const uint8_t* luma = frame.data[0] + static_cast<ptrdiff_t>(y) * frame.linesize[0];
    uint8_t* out = dst.row(y);
    for (int x = 0; x < w; ++x) {
      const int yy = luma[x];
      out[3 * x + r_at] = clamp255(yy + t.cr_r[cr[x]]);
      out[3 * x + 1] = clamp255(yy + ((t.cb_g[cb[x]] + t.cr_g[cr[x]]) >> kScaleBits));
      out[3 * x + b_at] = clamp255(yy + t.cb_b[cb[x]]);
    }
  }
}

}  // namespace facepipe::media::detail
