// One-euro filter and per-face smoother.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <random>

#include "common/status.h"
#include "face/tracking/one_euro_filter.h"

namespace facepipe::face {
namespace {

double alpha(double cutoff, double rate) { return 1.0 / (1.0 + rate / (2 * std::numbers::pi * cutoff)); }

TEST(OneEuroFilter, FirstSamplePassesThroughAndConstantStaysConstant) {
  OneEuroFilterBank f(2, {1.0f, 0.5f, 1.0f, 30.0f});
  std::array<float, 2> v{3.5f, -2.0f};
  EXPECT_EQ(f.apply(0.0, 1.0, v), FilterUpdate::kInitialized);
  EXPECT_FLOAT_EQ(v[0], 3.5f);
  for (int i = 1; i < 50; ++i) {
    v = {3.5f, -2.0f};
    EXPECT_EQ(f.apply(i / 30.0, 1.0, v), FilterUpdate::kFiltered);
    EXPECT_FLOAT_EQ(v[0], 3.5f);
    EXPECT_FLOAT_EQ(v[1], -2.0f);
  }
}

TEST(OneEuroFilter, StepResponseFollowsTheAlphaFormula) {
  // beta = 0: a plain exponential smoother with alpha(min_cutoff, rate); the rate comes from the
  // timestamps (here 50 Hz), not from the configured 30 Hz.
  const double min_cutoff = 2.0, rate = 50.0;
  OneEuroFilterBank f(1, {float(min_cutoff), 0.0f, 1.0f, 30.0f});
  std::array<float, 1> v{0.f};
  f.apply(0.0, 1.0, v);
  double expected = 0;
  for (int i = 1; i < 20; ++i) {
    v[0] = 1.f;
    f.apply(i / rate, 1.0, v);
    expected += alpha(min_cutoff, rate) * (1.0 - expected);
    EXPECT_NEAR(v[0], expected, 1e-6) << i;
  }
}

TEST(OneEuroFilter, SpeedRaisesTheCutoff) {
  // A ramp: the larger beta, the smaller the lag.
  auto lag = [](float beta) {
    OneEuroFilterBank f(1, {0.05f, beta, 1.0f, 30.0f});
    std::array<float, 1> v{};
    for (int i = 0; i <= 60; ++i) {
      v[0] = float(i);
      f.apply(i / 30.0, 1.0, v);
    }
    return 60.0 - v[0];
  };
  const double lag0 = lag(0.f), lag1 = lag(0.1f), lag80 = lag(80.f);
  EXPECT_GT(lag0, 30.0);  // min cutoff 0.05 Hz alone hardly moves
  EXPECT_LT(lag1, lag0);
  EXPECT_LT(lag80, 0.5);
}

TEST(OneEuroFilter, ValueScaleMultipliesTheSpeed) {
  // The same ramp with value_scale 2 behaves like a ramp twice as fast with scale 1, in the cutoff:
  // compare against a hand-rolled update.
  const OneEuroParams p{0.5f, 0.3f, 1.5f, 30.0f};
  OneEuroFilterBank f(1, p);
  std::array<float, 1> v{0.f};
  f.apply(0.0, 2.0, v);
  double x = 0, dx = 0, raw = 0;
  for (int i = 1; i < 30; ++i) {
    const double in = std::sin(i * 0.3) * 10;
    v[0] = float(in);
    f.apply(i * 0.04, 2.0, v);
    const double rate = 25.0;
    dx += alpha(p.derivative_cutoff, rate) * ((in - raw) * 2.0 * rate - dx);
    x += alpha(p.min_cutoff + p.beta * std::fabs(dx), rate) * (in - x);
    raw = in;
    EXPECT_NEAR(v[0], x, 1e-4) << i;
  }
}

TEST(OneEuroFilter, RepeatedTimestampPassesThroughWithoutTouchingState) {
  const OneEuroParams p{1.0f, 0.0f, 1.0f, 30.0f};
  OneEuroFilterBank a(1, p), b(1, p);
  std::array<float, 1> va{0.f}, vb{0.f};
  a.apply(0.0, 1.0, va);
  b.apply(0.0, 1.0, vb);
  va = {1.f};
  vb = {1.f};
  a.apply(0.1, 1.0, va);
  b.apply(0.1, 1.0, vb);
  std::array<float, 1> dup{7.f};
  EXPECT_EQ(a.apply(0.1, 1.0, dup), FilterUpdate::kPassedThrough);
  EXPECT_FLOAT_EQ(dup[0], 7.f);
  va = {1.f};
  vb = {1.f};
  a.apply(0.2, 1.0, va);
  b.apply(0.2, 1.0, vb);
  EXPECT_FLOAT_EQ(va[0], vb[0]);
}

TEST(OneEuroFilter, BackwardsTimestampRestarts) {
  OneEuroFilterBank f(1, {1.0f, 0.0f, 1.0f, 30.0f});
  std::array<float, 1> v{0.f};
  f.apply(5.0, 1.0, v);
  v = {1.f};
  f.apply(5.1, 1.0, v);
  EXPECT_LT(v[0], 1.f);
  v = {4.f};
  EXPECT_EQ(f.apply(1.0, 1.0, v), FilterUpdate::kRestarted);
  EXPECT_FLOAT_EQ(v[0], 4.f);
  v = {4.f};
  EXPECT_EQ(f.apply(1.1, 1.0, v), FilterUpdate::kFiltered);
  EXPECT_FLOAT_EQ(v[0], 4.f);
}

TEST(OneEuroFilter, RejectsBadParameters) {
  EXPECT_THROW(OneEuroFilterBank(1, {0.0f, 0.0f, 1.0f, 30.0f}), Error);
  EXPECT_THROW(OneEuroFilterBank(1, {1.0f, -1.0f, 1.0f, 30.0f}), Error);
  EXPECT_THROW(OneEuroFilterBank(1, {1.0f, 0.0f, 0.0f, 30.0f}), Error);
}

std::vector<Landmark> synthetic_face(float cx, float cy, float size) {
  std::vector<Landmark> lm(kNumLandmarks);
  for (int i = 0; i < kNumLandmarks; ++i) {
    const float a = i * 0.7f, r = 0.5f * size * (0.3f + 0.7f * float((i * 37) % 100) / 100.f);
    lm[i] = {cx + r * std::cos(a), cy + r * std::sin(a), 0.1f * r * std::sin(2 * a)};
  }
  return lm;
}

TEST(FaceSmoother, ReducesJitterOfAStillFaceAndIsScaleInvariant) {
  FaceSmootherConfig config;  // MediaPipe's landmark parameters
  std::mt19937 rng(1);
  std::normal_distribution<float> noise(0.f, 1.f);
  auto run = [&](float scale, unsigned seed) {
    rng.seed(seed);
    FaceSmoother smoother(config);
    const auto clean = synthetic_face(300 * scale, 200 * scale, 200 * scale);
    double raw_err = 0, smooth_err = 0;
    std::vector<Landmark> lm;
    std::array<float, kNumBlendshapes> bs{};
    for (int frame = 0; frame < 90; ++frame) {
      lm = clean;
      for (auto& p : lm) {
        p.x += noise(rng) * scale;
        p.y += noise(rng) * scale;
      }
      const auto noisy = lm;
      smoother.apply(frame / 30.0, lm, bs);
      if (frame >= 30) {
        for (int i = 0; i < kNumLandmarks; ++i) {
          raw_err += std::hypot(noisy[i].x - clean[i].x, noisy[i].y - clean[i].y);
          smooth_err += std::hypot(lm[i].x - clean[i].x, lm[i].y - clean[i].y);
        }
      }
    }
    return smooth_err / raw_err;
  };
  const double ratio1 = run(1.f, 5), ratio2 = run(2.f, 5);
  std::printf("  smoothed/raw jitter: %.3f (x1), %.3f (x2 scale)\n", ratio1, ratio2);
  EXPECT_LT(ratio1, 0.7);
  EXPECT_NEAR(ratio1, ratio2, 1e-3);  // speed in object sizes per second: same behaviour at any scale
}

TEST(FaceSmoother, BlendshapesOnlyWhenEnabled) {
  FaceSmootherConfig config;
  auto lm = synthetic_face(100, 100, 80);
  std::array<float, kNumBlendshapes> bs{};
  {
    FaceSmoother off(config);
    off.apply(0.0, lm, bs);
    bs.fill(1.f);
    off.apply(1 / 30.0, lm, bs);
    EXPECT_FLOAT_EQ(bs[9], 1.f);
  }
  config.smooth_blendshapes = true;
  FaceSmoother on(config);
  bs.fill(0.f);
  on.apply(0.0, lm, bs);
  bs.fill(1.f);
  on.apply(1 / 30.0, lm, bs);
  EXPECT_LT(bs[9], 1.f);
  EXPECT_GT(bs[9], 0.f);
}

}  // namespace
}  // namespace facepipe::face
