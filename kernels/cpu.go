package kernels

import (
	"sort"

	"github.com/klauspost/cpuid/v2"
)

// CPUModel returns the processor's brand string (empty when unknown, e.g.
// under emulation).
func CPUModel() string { return cpuid.CPU.BrandName }

// CPUFeatures lists the SIMD-related CPU features detected, sorted.
func CPUFeatures() []string {
	var out []string
	for _, f := range []cpuid.FeatureID{
		cpuid.SSE2, cpuid.SSE4, cpuid.SSE42, cpuid.POPCNT, cpuid.BMI1, cpuid.BMI2,
		cpuid.AVX, cpuid.AVX2, cpuid.FMA3, cpuid.AVX512F, cpuid.AVX512BW, cpuid.AVX512DQ,
		cpuid.AVX512VL, cpuid.AVX512CD, cpuid.AVX512VBMI, cpuid.AVX512VBMI2, cpuid.AVX512IFMA,
		cpuid.AVX512VPOPCNTDQ, cpuid.AVX512BITALG, cpuid.ASIMD, cpuid.SVE,
	} {
		if cpuid.CPU.Supports(f) {
			out = append(out, f.String())
		}
	}
	sort.Strings(out)
	return out
}
