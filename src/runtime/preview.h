// Downscaled previews for the shared-memory segment: fit a frame inside the preview box (aspect
// kept, never enlarged) with a bilinear filter. The per-column/row tables are built when the sizes
// change; a stable camera resizes without allocating.
#pragma once

#include <cstdint>
#include <vector>

#include "media/image.h"

namespace facepipe::runtime {

// The largest size inside max_width x max_height with the aspect of width x height (≥ 1x1, never
// larger than the source).
void fit_preview_size(int width, int height, int max_width, int max_height, int& out_width, int& out_height);

class PreviewScaler {
 public:
  // Resizes `src` into `dst` (whose size and format are kept; channels swapped when the formats
  // differ). Allocates only when the sizes differ from the last call.
  void resize(media::ConstImageView src, media::ImageView dst);

 private:
  struct Tap {
    int i0, i1;
    uint16_t w1;  // weight of i1 in 1/256
  };
  void build(std::vector<Tap>& taps, int src, int dst);
  std::vector<Tap> x_taps_, y_taps_;
  int src_w_ = 0, src_h_ = 0, dst_w_ = 0, dst_h_ = 0;
};

}  // namespace facepipe::runtime
