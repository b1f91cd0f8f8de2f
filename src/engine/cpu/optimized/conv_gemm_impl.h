// The conv-as-GEMM tile loop and micro-kernel, templated on the ISA traits. Included by
// conv_gemm_avx2.cpp and conv_gemm_avx512.cpp only; everything here is a template on the traits
// type so that the two instantiations never share a symbol.
//
// Needs ConvGemmPlan (conv_gemm.h) and vec_math.h to be visible.

// The micro-kernel: rows x (NV vectors) outputs of one column group.
//   ptrs: [seg_count][MR] segment pointers (rows past `rows` point at zeros)
//   b:    the column group's packed weights, [k][NV * lanes]
//   y, residual: the tile's first output pixel at this group's first channel; row stride out_c
//   last_lanes: valid lanes of the last vector (lanes for a full group)
template <class I, int MR, int NV>
inline void conv_micro_kernel(const ConvGemmPlan& p, const float* const* ptrs, const float* b,
                              const float* bias, const float* prelu, float* y, const float* residual, int rows,
                              int last_lanes) {
  using V = typename I::V;
  constexpr int L = I::kLanes;
  V acc[MR][NV];
#pragma GCC unroll 4
  for (int v = 0; v < NV; ++v) {
    const V bv = I::load(bias + v * L);
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) acc[i][v] = bv;
  }
  const int seg_len = p.seg_len;
  for (int s = 0; s < p.seg_count; ++s) {
    const float* a[MR];
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) a[i] = ptrs[s * MR + i];
    for (int c = 0; c < seg_len; ++c) {
      V w[NV];
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) w[v] = I::load(b + v * L);
#pragma GCC unroll 16
      for (int i = 0; i < MR; ++i) {
        const V x = I::bcast(a[i] + c);
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) acc[i][v] = I::fmadd(x, w[v], acc[i][v]);
      }
      b += NV * L;
    }
  }
  // Epilogue: + residual, activation, PReLU, store.
  const int64_t ldc = p.out_c;
  const V alpha = I::set1(p.activation_alpha);
#pragma GCC unroll 4
  for (int v = 0; v < NV; ++v) {
    const bool partial = v == NV - 1 && last_lanes != L;
    const V slope = prelu ? I::load(prelu + v * L) : I::zero();
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      if (i >= rows) break;
      V out = acc[i][v];
      float* dst = y + i * ldc + v * L;
      if (residual) {
        const float* r = residual + i * ldc + v * L;
        out = I::add(out, partial ? I::load_partial(r, last_lanes) : I::load(r));
      }
      out = activate<I>(out, p.activation, alpha);
      if (prelu) out = I::select_neg(out, I::mul(out, slope), out);
      if (partial) {
        I::store_partial(dst, out, last_lanes);
      } else {
        I::store(dst, out);
      }
    }
  }
}

// Fills ptrs[seg_count][MR] for output pixels m0 .. m0+rows-1. Plan fields are copied to locals:
// the pointer stores below could alias them, and reloading them per store triples the cost.
template <class I, int MR>
inline void conv_tile_pointers(const ConvGemmPlan& p, const float* x, int64_t m0, int rows, const float** ptrs,
                               float* scratch) {
  using Segments = ConvGemmPlan::Segments;
  const int64_t C = p.in_c;
  const float* const zeros = p.zeros;
  if (p.segments == Segments::kPointwise) {
    for (int i = 0; i < MR; ++i) ptrs[i] = i < rows ? x + (m0 + i) * C : zeros;
    return;
  }
  const Segments mode = p.segments;
  const int64_t in_h = p.in_h, in_w = p.in_w, out_h = p.out_h, out_w = p.out_w;
  const int kernel_h = p.kernel_h, kernel_w = p.kernel_w, seg_count = p.seg_count, seg_len = p.seg_len;
  const int64_t stride_h = p.stride_h, stride_w = p.stride_w, dilation_h = p.dilation_h, dilation_w = p.dilation_w;
  const int64_t pad_top = p.pad_top, pad_left = p.pad_left;
  const int64_t plane = out_h * out_w;
  int64_t n = m0 / plane;
  int64_t oh = (m0 - n * plane) / out_w;
  int64_t ow = m0 - n * plane - oh * out_w;
  // Common case: the whole tile lies in one output row, away from the left/right border, so each
  // segment's pointers are an arithmetic progression.
  if (rows == MR && ow + MR <= out_w && mode == Segments::kRows) {
    const int64_t iw0 = ow * stride_w - pad_left;
    const int64_t iw_last = (ow + MR - 1) * stride_w - pad_left;
    if (iw0 >= 0 && iw_last + kernel_w <= in_w) {
      const float* image = x + n * in_h * in_w * C;
      const int64_t ih0 = oh * stride_h - pad_top;
      const int64_t step = stride_w * C;
      for (int kh = 0; kh < kernel_h; ++kh) {
        const int64_t ih = ih0 + kh * dilation_h;
        const float** dst = ptrs + kh * MR;
        if (ih < 0 || ih >= in_h) {
          for (int i = 0; i < MR; ++i) dst[i] = zeros;
        } else {
          const float* first = image + (ih * in_w + iw0) * C;
          for (int i = 0; i < MR; ++i) dst[i] = first + i * step;
        }
      }
      return;
    }
  }
  for (int i = 0; i < MR; ++i) {
    if (i >= rows) {
      for (int s = 0; s < seg_count; ++s) ptrs[s * MR + i] = zeros;
      continue;
    }
    const int64_t ih0 = oh * stride_h - pad_top;
    const int64_t iw0 = ow * stride_w - pad_left;
    const float* image = x + n * in_h * in_w * C;
    if (mode == Segments::kRows) {
      const bool inside_w = iw0 >= 0 && iw0 + kernel_w <= in_w;
      for (int kh = 0; kh < kernel_h; ++kh) {
        const int64_t ih = ih0 + kh * dilation_h;
        const float* dst;
        if (ih < 0 || ih >= in_h) {
          dst = zeros;
        } else if (inside_w) {
          dst = image + (ih * in_w + iw0) * C;
        } else {
          float* copy = scratch + (i * kernel_h + kh) * seg_len;
          const float* row = image + ih * in_w * C;
          for (int kw = 0; kw < kernel_w; ++kw) {
            const int64_t iw = iw0 + kw;
            float* to = copy + kw * C;
            if (iw < 0 || iw >= in_w) {
              for (int64_t c = 0; c < C; ++c) to[c] = 0.f;
            } else {
              const float* from = row + iw * C;
              for (int64_t c = 0; c < C; ++c) to[c] = from[c];
            }
          }
          dst = copy;
        }
        ptrs[kh * MR + i] = dst;
      }
    } else {  // kTaps
      for (int kh = 0; kh < kernel_h; ++kh) {
        const int64_t ih = ih0 + kh * dilation_h;
        const bool inside_h = ih >= 0 && ih < in_h;
        for (int kw = 0; kw < kernel_w; ++kw) {
          const int64_t iw = iw0 + kw * dilation_w;
          const bool inside = inside_h && iw >= 0 && iw < in_w;
          ptrs[(kh * kernel_w + kw) * MR + i] = inside ? image + (ih * in_w + iw) * C : zeros;
        }
      }
    }
    if (++ow == out_w) {
      ow = 0;
      if (++oh == out_h) {
        oh = 0;
        ++n;
      }
    }
  }
}

template <class I, int MR, int NV>
void conv_run_tiles(const ConvGemmPlan& p, const float* x, const float* residual, float* y, int64_t tile_begin,
                    int64_t tile_end) {
  constexpr int L = I::kLanes;
  const float* ptrs[kConvMaxSegments * MR];
  alignas(64) float row_scratch[kConvRowScratchFloats];  // kRows border copies (stack, no allocation)
  const int64_t pixels = p.pixels();
  const int64_t group_width = int64_t{NV} * L;
  const int64_t groups = (p.out_c + group_width - 1) / group_width;
  for (int64_t t = tile_begin; t < tile_end; ++t) {
    const int64_t m0 = t * MR;
    const int rows = static_cast<int>(pixels - m0 < MR ? pixels - m0 : MR);
    conv_tile_pointers<I, MR>(p, x, m0, rows, ptrs, row_scratch);
    for (int64_t g = 0; g < groups; ++g) {
      const int64_t c0 = g * group_width;
      const float* b = p.packed + c0 * p.k;
      float* yt = y + m0 * p.out_c + c0;
      const float* rt = residual ? residual + m0 * p.out_c + c0 : nullptr;
      const float* slope = p.prelu ? p.prelu + c0 : nullptr;
      const int64_t remaining = p.out_c - c0;
      if (remaining >= group_width) {
        conv_micro_kernel<I, MR, NV>(p, ptrs, b, p.bias + c0, slope, yt, rt, rows, L);
        continue;
      }
      const int vecs = static_cast<int>((remaining + L - 1) / L);
      const int last = static_cast<int>(remaining - int64_t{vecs - 1} * L);
      // A narrower last group: the packing stored it with width vecs * lanes.
      if constexpr (NV >= 2) {
        if (vecs == 1) {
          conv_micro_kernel<I, MR, 1>(p, ptrs, b, p.bias + c0, slope, yt, rt, rows, last);
          continue;
        }
      }
      if constexpr (NV >= 3) {
        if (vecs == 2) {
          conv_micro_kernel<I, MR, 2>(p, ptrs, b, p.bias + c0, slope, yt, rt, rows, last);
          continue;
        }
      }
      if constexpr (NV >= 4) {
        if (vecs == 3) {
          conv_micro_kernel<I, MR, 3>(p, ptrs, b, p.bias + c0, slope, yt, rt, rows, last);
          continue;
        }
      }
      if (vecs == NV) conv_micro_kernel<I, MR, NV>(p, ptrs, b, p.bias + c0, slope, yt, rt, rows, last);
    }
  }
}
