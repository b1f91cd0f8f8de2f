#include "engine/cpu/optimized/isa.h"

#include <cstdlib>
#include <cstring>

namespace facepipe::engine::cpu::opt {

bool isa_supported(Isa isa) {
  switch (isa) {
    case Isa::kAvx2: return true;  // the build's baseline
    case Isa::kAvx512: return __builtin_cpu_supports("avx512f");
  }
  return false;
}

Isa best_isa() {
  static const Isa best = [] {
    const char* forced = std::getenv("FACEPIPE_CPU_ISA");
    if (forced && std::strcmp(forced, "avx2") == 0) return Isa::kAvx2;
    return isa_supported(Isa::kAvx512) ? Isa::kAvx512 : Isa::kAvx2;
  }();
  return best;
}

const char* isa_name(Isa isa) { return isa == Isa::kAvx512 ? "avx512" : "avx2"; }

}  // namespace facepipe::engine::cpu::opt
