// The window geometry of a convolution-like op (NHWC input and output sizes, kernel, strides,
// dilations, resolved padding), written into a kernel's parameter struct: Conv2D's implicit GEMM
// (ConvParams) and the depthwise kernel (DwParams) name these fields alike.
#pragma once

#include "engine/ir/op.h"
#include "engine/ir/tensor_view.h"
#include "engine/plan/shape_inference.h"

namespace facepipe::engine::cuda {

// x [N, H, W, C], w [.., KH, KW, ..], y [N, OH, OW, OC]. Returns the resolved padding.
template <typename Params>
Padding set_window_geometry(Params& p, const ConvAttrs& a, const TensorView& x, const TensorView& w,
                            const TensorView& y) {
  const Padding pad = resolve_padding(a.padding, x.shape[1], x.shape[2], static_cast<int32_t>(w.shape[1]),
                                      static_cast<int32_t>(w.shape[2]), a.stride_h, a.stride_w, a.dilation_h,
                                      a.dilation_w);
  p.H = static_cast<int>(x.shape[1]);
  p.W = static_cast<int>(x.shape[2]);
  p.C = static_cast<int>(x.shape[3]);
  p.OH = static_cast<int>(y.shape[1]);
  p.OW = static_cast<int>(y.shape[2]);
  p.OC = static_cast<int>(y.shape[3]);
  if constexpr (requires { p.KH; }) p.KH = static_cast<int>(w.shape[1]);  // the GEMM folds KH into K
  p.KW = static_cast<int>(w.shape[2]);
  p.SH = a.stride_h;
  p.SW = a.stride_w;
  p.DH = a.dilation_h;
  p.DW = a.dilation_w;
  p.PT = static_cast<int>(pad.top);
  p.PL = static_cast<int>(pad.left);
  return pad;
}

}  // namespace facepipe::engine::cuda
