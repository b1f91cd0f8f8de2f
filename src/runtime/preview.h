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
  // differ). Allocates only when the sizes differ from the last call. `src` may be NV12 (a camera
  // capturing for the GPU pipeline whose preview is made here): Y and the chroma of each tap are
  // blended with the same weights and converted once per output pixel with the GPU pipeline's
  // BT.601 formula, about what converting first and then scaling would give, at preview cost.
  // `dst` must be packed RGB8/BGR8 (an NV12 dst is left untouched).
  void resize(media::ConstImageView src, media::ImageView dst);

 private:
  struct Tap {
    int i0, i1;
    uint16_t w1;  // weight of i1 in 1/256
  };
  void build(std::vector<Tap>& taps, int src, int dst);
  void resize_nv12(media::ConstImageView src, media::ImageView dst) const;
  std::vector<Tap> x_taps_, y_taps_;
  int src_w_ = 0, src_h_ = 0, dst_w_ = 0, dst_h_ = 0;
};

}  // namespace facepipe::runtime
