// Package asm holds Velo's raw assembly routines and their //go:noescape Go
// stubs, with no policy: the generated amd64 AVX2 and AVX-512 files (produced
// by the avo programs in _gen/, one directory per kernel family, reproduced
// byte for byte by `make gen`) and the hand-written arm64 NEON files. Package
// kernels decides which routine runs; nothing else should call these
// directly. Building with -tags purego compiles none of them.
package asm
