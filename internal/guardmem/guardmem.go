//go:build linux || darwin

// Package guardmem allocates test buffers that end exactly at an inaccessible
// (PROT_NONE) page, so a kernel that reads or writes even one byte past the end
// of its input faults instead of silently touching a neighbour's memory. It is
// used by the kernel tests only.
package guardmem

import (
	"fmt"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Bytes returns a slice of n bytes whose last byte is immediately followed by
// a PROT_NONE page, and a function that unmaps it. The memory is zeroed.
func Bytes(n int) ([]byte, func()) {
	page := os.Getpagesize()
	dataPages := (n + page - 1) / page
	if dataPages == 0 {
		dataPages = 1
	}
	mem, err := unix.Mmap(-1, 0, (dataPages+1)*page, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		panic(fmt.Sprintf("guardmem: mmap: %v", err))
	}
	guard := mem[dataPages*page:]
	if err := unix.Mprotect(guard, unix.PROT_NONE); err != nil {
		panic(fmt.Sprintf("guardmem: mprotect: %v", err))
	}
	end := dataPages * page
	return mem[end-n : end : end], func() { _ = unix.Munmap(mem) }
}

// Int64s returns n int64s ending at a guard page (see Bytes).
func Int64s(n int) ([]int64, func()) {
	b, free := Bytes(n * 8)
	return unsafe.Slice((*int64)(unsafe.Pointer(unsafe.SliceData(b))), n), free
}

// Uint64s returns n uint64s ending at a guard page (see Bytes).
func Uint64s(n int) ([]uint64, func()) {
	b, free := Bytes(n * 8)
	return unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(b))), n), free
}

// Float64s returns n float64s ending at a guard page (see Bytes).
func Float64s(n int) ([]float64, func()) {
	b, free := Bytes(n * 8)
	return unsafe.Slice((*float64)(unsafe.Pointer(unsafe.SliceData(b))), n), free
}

// Int32s returns n int32s ending at a guard page (see Bytes).
func Int32s(n int) ([]int32, func()) {
	b, free := Bytes(n * 4)
	return unsafe.Slice((*int32)(unsafe.Pointer(unsafe.SliceData(b))), n), free
}

// Uint32s returns n uint32s ending at a guard page (see Bytes).
func Uint32s(n int) ([]uint32, func()) {
	b, free := Bytes(n * 4)
	return unsafe.Slice((*uint32)(unsafe.Pointer(unsafe.SliceData(b))), n), free
}

// Float32s returns n float32s ending at a guard page (see Bytes).
func Float32s(n int) ([]float32, func()) {
	b, free := Bytes(n * 4)
	return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(b))), n), free
}
