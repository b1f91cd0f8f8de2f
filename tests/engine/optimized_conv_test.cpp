// Temporary development test: optimized conv vs a scalar oracle (to be switched to the shared
// reference ops once they land).
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "engine/cpu/optimized/conv.h"
#include "support/test_support.h"

namespace facepipe::engine::cpu {
namespace {

struct Case {
  int n, h, w, c, o, k, s, pad;
};

void naive_conv(const std::vector<float>& x, const std::vector<float>& wt, const std::vector<float>& b, int N, int H,
                int W, int C, int O, int K, int S, int P, int OH, int OW, std::vector<float>& y) {
  for (int n = 0; n < N; ++n)
    for (int oh = 0; oh < OH; ++oh)
      for (int ow = 0; ow < OW; ++ow)
        for (int o = 0; o < O; ++o) {
          double acc = b[o];
          for (int kh = 0; kh < K; ++kh)
            for (int kw = 0; kw < K; ++kw) {
              int ih = oh * S - P + kh, iw = ow * S - P + kw;
              if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
              for (int c = 0; c < C; ++c)
                acc += double(x[((n * H + ih) * W + iw) * C + c]) * wt[((o * K + kh) * K + kw) * C + c];
            }
          y[((n * OH + oh) * OW + ow) * O + o] = float(acc);
        }
}

TEST(OptimizedConvDev, MatchesScalar) {
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(-1, 1);
  ThreadPool pool(2);
  for (auto isa : {opt::Isa::kAvx2, opt::Isa::kAvx512}) {
    for (Case cs : {Case{1, 7, 9, 3, 8, 3, 2, 1}, Case{2, 5, 6, 13, 17, 3, 1, 1}, Case{1, 9, 9, 16, 64, 1, 1, 0},
                    Case{1, 11, 13, 24, 33, 3, 2, 1}, Case{1, 1, 1, 5, 3, 1, 1, 0}, Case{1, 6, 1, 64, 16, 3, 1, 1},
                    Case{1, 20, 20, 64, 32, 3, 1, 1}, Case{1, 8, 8, 128, 80, 3, 1, 1}, Case{1, 8, 8, 7, 50, 5, 2, 2}}) {
      const int OH = (cs.h + 2 * cs.pad - cs.k) / cs.s + 1, OW = (cs.w + 2 * cs.pad - cs.k) / cs.s + 1;
      std::vector<float> x(size_t(cs.n) * cs.h * cs.w * cs.c), wt(size_t(cs.o) * cs.k * cs.k * cs.c), b(cs.o);
      for (auto& v : x) v = u(rng);
      for (auto& v : wt) v = u(rng);
      for (auto& v : b) v = u(rng);
      std::vector<float> ref(size_t(cs.n) * OH * OW * cs.o), out(ref.size() + 64, 12345.f);
      naive_conv(x, wt, b, cs.n, cs.h, cs.w, cs.c, cs.o, cs.k, cs.s, cs.pad, OH, OW, ref);
      ConvAttrs attrs;
      attrs.stride_h = attrs.stride_w = cs.s;
      attrs.padding.top = attrs.padding.left = attrs.padding.bottom = attrs.padding.right = cs.pad;
      TensorView wv{DType::kF32, Shape{cs.o, cs.k, cs.k, cs.c}, wt.data()};
      TensorView bv{DType::kF32, Shape{cs.o}, b.data()};
      TensorDesc in{DType::kF32, Shape{cs.n, cs.h, cs.w, cs.c}}, od{DType::kF32, Shape{cs.n, OH, OW, cs.o}};
      auto k = opt::make_conv2d_kernel(attrs, wv, &bv, in, od, opt::ConvEpilogue{}, isa);
      ASSERT_TRUE(k);
      TensorView ins[3] = {{DType::kF32, in.shape, x.data()}, wv, bv};
      TensorView outs[1] = {{DType::kF32, od.shape, out.data()}};
      ASSERT_TRUE(k->run(ins, outs, nullptr, pool).is_ok());
      auto d = test::compare(out.data(), ref.data(), ref.size());
      EXPECT_LE(d.normalized(), 1e-5) << opt::isa_name(isa) << " case " << cs.c << "->" << cs.o << " k" << cs.k;
      for (size_t i = ref.size(); i < out.size(); ++i) ASSERT_EQ(out[i], 12345.f);
    }
  }
}

}  // namespace
}  // namespace facepipe::engine::cpu
