//go:build !purego

package kernels

import "github.com/klauspost/cpuid/v2"

func detectLevels() []Level {
	ls := []Level{Generic}
	if cpuid.CPU.Supports(cpuid.AVX2, cpuid.BMI1, cpuid.BMI2, cpuid.POPCNT) {
		ls = append(ls, AVX2)
		if cpuid.CPU.Supports(cpuid.AVX512F, cpuid.AVX512BW, cpuid.AVX512DQ, cpuid.AVX512VL) {
			ls = append(ls, AVX512)
		}
	}
	return ls
}
