// Which vector ISA the optimized kernels use. AVX2+FMA is the baseline the build targets
// (-march=x86-64-v3); AVX-512F variants exist for the compute-bound kernels and are chosen at
// plan time when the CPU has them.
#pragma once

namespace facepipe::engine::cpu::opt {

enum class Isa { kAvx2, kAvx512 };

// The best ISA of this CPU. FACEPIPE_CPU_ISA=avx2 in the environment forces the baseline (for
// comparisons and to test the baseline on AVX-512 machines).
Isa best_isa();
bool isa_supported(Isa isa);
const char* isa_name(Isa isa);

}  // namespace facepipe::engine::cpu::opt
