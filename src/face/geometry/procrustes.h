// Weighted orthogonal Procrustes with scale: finds s, R (a proper rotation) and t minimising
// sum_i w_i |s R a_i + t - b_i|^2. The problem statement and the estimates of scale and translation
// are those of MediaPipe's face geometry solver (D. Akca, "Generalized Procrustes analysis and its
// applications in photogrammetry", 2003, section 2.4); the rotation is found with Horn's unit
// quaternion method (the largest eigenvector of a symmetric 4x4 matrix), which gives the same
// reflection-free optimum as the SVD with the sign fix, without an SVD.
//
// Double precision, no allocation: the caller owns every buffer.
#pragma once

#include <array>
#include <span>

#include "common/status.h"

namespace facepipe::face {

// Row-major 4x4: [s*R | t] over [0 0 0 1].
using Matrix4d = std::array<double, 16>;

struct Point3d {
  double x = 0, y = 0, z = 0;
};

// `source`, `target` and `weights` are equally long (> 0); weights are >= 0 with a positive sum.
// Fails (kInvalidArgument) on degenerate input: zero total weight, a design matrix or a scale that
// vanishes (coincident points), mismatched sizes.
Status solve_weighted_orthogonal_procrustes(std::span<const Point3d> source, std::span<const Point3d> target,
                                            std::span<const double> weights, Matrix4d& transform);

// Eigen-decomposition of a symmetric 4x4 matrix by cyclic Jacobi rotations: returns the eigenvector of
// the largest eigenvalue (unit length). Exposed for tests.
std::array<double, 4> largest_eigenvector_symmetric4(const std::array<double, 16>& matrix);

}  // namespace facepipe::face
