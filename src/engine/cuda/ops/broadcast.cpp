#include "engine/cuda/ops/broadcast.h"

namespace facepipe::engine::cuda {

BroadcastIndex collapse_broadcast(const Shape& out, const Shape& a, const Shape& b) {
  struct Dim {
    int64_t size;
    bool a_bc, b_bc;
  };
  Dim dims[Shape::kMaxRank];
  int n = 0;
  const int r = out.rank();
  for (int d = 0; d < r; ++d) {
    if (out[d] == 1) continue;
    const int ia = d - (r - a.rank()), ib = d - (r - b.rank());
    const bool a_bc = ia < 0 || a[ia] == 1;
    const bool b_bc = ib < 0 || b[ib] == 1;
    if (n > 0 && dims[n - 1].a_bc == a_bc && dims[n - 1].b_bc == b_bc) {
      dims[n - 1].size *= out[d];
    } else {
      dims[n++] = Dim{out[d], a_bc, b_bc};
    }
  }
  BroadcastIndex bi;
  bi.rank = n;
  int64_t sa = 1, sb = 1;
  for (int j = n - 1; j >= 0; --j) {
    bi.dims[j] = static_cast<int32_t>(dims[j].size);
    bi.a_strides[j] = dims[j].a_bc ? 0 : static_cast<int32_t>(sa);
    bi.b_strides[j] = dims[j].b_bc ? 0 : static_cast<int32_t>(sb);
    if (!dims[j].a_bc) sa *= dims[j].size;
    if (!dims[j].b_bc) sb *= dims[j].size;
  }
  return bi;
}

}  // namespace facepipe::engine::cuda
