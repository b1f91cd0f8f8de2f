#include "face/geometry/procrustes.h"

#include <cmath>

namespace facepipe::face {
namespace {
constexpr double kAbsoluteErrorEps = 1e-9;  // MediaPipe's bound for weights, design norm and scale
}

std::array<double, 4> largest_eigenvector_symmetric4(const std::array<double, 16>& matrix) {
  double a[4][4];
  double v[4][4] = {{1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 0}, {0, 0, 0, 1}};
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 4; ++c) a[r][c] = matrix[r * 4 + c];

  for (int sweep = 0; sweep < 64; ++sweep) {
    double off = 0, diag = 0;
    for (int r = 0; r < 4; ++r) {
      diag += a[r][r] * a[r][r];
      for (int c = r + 1; c < 4; ++c) off += a[r][c] * a[r][c];
    }
    if (off <= 1e-30 * (diag + off) || off == 0) break;
    for (int p = 0; p < 3; ++p) {
      for (int q = p + 1; q < 4; ++q) {
        if (a[p][q] == 0) continue;
        // Rotation that zeroes a[p][q] (Golub & Van Loan, symmetric Schur decomposition).
        const double theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
        const double t = (theta >= 0 ? 1.0 : -1.0) / (std::fabs(theta) + std::sqrt(theta * theta + 1));
        const double c = 1 / std::sqrt(t * t + 1);
        const double s = t * c;
        for (int k = 0; k < 4; ++k) {  // A <- A J
          const double akp = a[k][p], akq = a[k][q];
          a[k][p] = c * akp - s * akq;
          a[k][q] = s * akp + c * akq;
        }
        for (int k = 0; k < 4; ++k) {  // A <- J^T A
          const double apk = a[p][k], aqk = a[q][k];
          a[p][k] = c * apk - s * aqk;
          a[q][k] = s * apk + c * aqk;
        }
        for (int k = 0; k < 4; ++k) {  // V <- V J
          const double vkp = v[k][p], vkq = v[k][q];
          v[k][p] = c * vkp - s * vkq;
          v[k][q] = s * vkp + c * vkq;
        }
      }
    }
  }
  int best = 0;
  for (int i = 1; i < 4; ++i)
    if (a[i][i] > a[best][best]) best = i;
  std::array<double, 4> e{v[0][best], v[1][best], v[2][best], v[3][best]};
  const double n = std::sqrt(e[0] * e[0] + e[1] * e[1] + e[2] * e[2] + e[3] * e[3]);
  for (double& x : e) x /= n;
  return e;
}

Status solve_weighted_orthogonal_procrustes(std::span<const Point3d> source, std::span<const Point3d> target,
                                            std::span<const double> weights, Matrix4d& transform) {
  const size_t n = source.size();
  if (n == 0 || target.size() != n || weights.size() != n)
    return Status::error(StatusCode::kInvalidArgument, "procrustes: point and weight counts differ or are zero");

  double total_weight = 0;
  Point3d sc;  // weighted centre of mass of the source
  for (size_t i = 0; i < n; ++i) {
    const double w = weights[i];
    if (!(w >= 0)) return Status::error(StatusCode::kInvalidArgument, "procrustes: negative weight");
    total_weight += w;
    sc.x += w * source[i].x;
    sc.y += w * source[i].y;
    sc.z += w * source[i].z;
  }
  if (!(total_weight > kAbsoluteErrorEps))
    return Status::error(StatusCode::kInvalidArgument, "procrustes: total weight too small");
  sc.x /= total_weight;
  sc.y /= total_weight;
  sc.z /= total_weight;

  // m[j][k] = sum_i w_i (a_i - a_c)_j b_ik: the cross-covariance of centred source and target (only
  // the source needs centring: the centred source sums to zero under the weights).
  double m[3][3] = {};
  double denominator = 0;  // sum_i w_i (a_i - a_c) . a_i
  for (size_t i = 0; i < n; ++i) {
    const double w = weights[i];
    const double a[3] = {source[i].x - sc.x, source[i].y - sc.y, source[i].z - sc.z};
    const double b[3] = {target[i].x, target[i].y, target[i].z};
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 3; ++k) m[j][k] += w * a[j] * b[k];
    denominator += w * (a[0] * source[i].x + a[1] * source[i].y + a[2] * source[i].z);
  }
  double norm2 = 0;
  for (auto& row : m)
    for (double x : row) norm2 += x * x;
  if (!(std::sqrt(norm2) > kAbsoluteErrorEps))
    return Status::error(StatusCode::kInvalidArgument, "procrustes: design matrix norm too small");
  if (!(denominator > kAbsoluteErrorEps))
    return Status::error(StatusCode::kInvalidArgument, "procrustes: scale denominator too small");

  // Horn (1987): the rotation maximising trace(R M^T) is the unit quaternion of the largest
  // eigenvalue of this symmetric matrix.
  const double sxx = m[0][0], sxy = m[0][1], sxz = m[0][2];
  const double syx = m[1][0], syy = m[1][1], syz = m[1][2];
  const double szx = m[2][0], szy = m[2][1], szz = m[2][2];
  const std::array<double, 16> horn = {
      sxx + syy + szz, syz - szy,        szx - sxz,        sxy - syx,         //
      syz - szy,       sxx - syy - szz,  sxy + syx,        szx + sxz,         //
      szx - sxz,       sxy + syx,        -sxx + syy - szz, syz + szy,         //
      sxy - syx,       szx + sxz,        syz + szy,        -sxx - syy + szz};
  const auto q = largest_eigenvector_symmetric4(horn);
  const double q0 = q[0], q1 = q[1], q2 = q[2], q3 = q[3];
  const double r[3][3] = {
      {q0 * q0 + q1 * q1 - q2 * q2 - q3 * q3, 2 * (q1 * q2 - q0 * q3), 2 * (q1 * q3 + q0 * q2)},
      {2 * (q2 * q1 + q0 * q3), q0 * q0 - q1 * q1 + q2 * q2 - q3 * q3, 2 * (q2 * q3 - q0 * q1)},
      {2 * (q3 * q1 - q0 * q2), 2 * (q3 * q2 + q0 * q1), q0 * q0 - q1 * q1 - q2 * q2 + q3 * q3}};

  // Scale: trace(R M^T) / sum w (a - a_c) . a  (Akca, eq. 53).
  double numerator = 0;
  for (int j = 0; j < 3; ++j)
    for (int k = 0; k < 3; ++k) numerator += r[k][j] * m[j][k];
  const double scale = numerator / denominator;
  if (!(scale > kAbsoluteErrorEps)) return Status::error(StatusCode::kInvalidArgument, "procrustes: scale too small");

  // Translation: weighted mean of b - s R a (Akca, eq. 54).
  double t[3] = {};
  for (size_t i = 0; i < n; ++i) {
    const double w = weights[i];
    const double a[3] = {source[i].x, source[i].y, source[i].z};
    const double b[3] = {target[i].x, target[i].y, target[i].z};
    for (int j = 0; j < 3; ++j) t[j] += w * (b[j] - scale * (r[j][0] * a[0] + r[j][1] * a[1] + r[j][2] * a[2]));
  }
  for (int j = 0; j < 3; ++j) {
    for (int k = 0; k < 3; ++k) transform[j * 4 + k] = scale * r[j][k];
    transform[j * 4 + 3] = t[j] / total_weight;
  }
  transform[12] = transform[13] = transform[14] = 0;
  transform[15] = 1;
  return Status::ok();
}

}  // namespace facepipe::face
