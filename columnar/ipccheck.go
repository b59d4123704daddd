package columnar

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Arrow Go v17 decodes IPC schemas from flatbuffers without checking vector
// lengths: a corrupt count makes it allocate Go slices of that many fields,
// which can exhaust memory before anything can fail gracefully. These checks
// walk the schema flatbuffer first and reject counts that cannot fit in the
// buffer, so corrupt files fail with an error.

var errCorruptFB = errors.New("corrupt IPC metadata flatbuffer")

type fbuf []byte

func (b fbuf) u32(pos uint64) (uint32, error) {
	if pos+4 > uint64(len(b)) {
		return 0, errCorruptFB
	}
	return binary.LittleEndian.Uint32(b[pos:]), nil
}

func (b fbuf) u16(pos uint64) (uint16, error) {
	if pos+2 > uint64(len(b)) {
		return 0, errCorruptFB
	}
	return binary.LittleEndian.Uint16(b[pos:]), nil
}

// field returns the position of slot k of the table at t, or 0 if absent.
func (b fbuf) field(t uint64, k int) (uint64, error) {
	so, err := b.u32(t)
	if err != nil {
		return 0, err
	}
	vt := int64(t) - int64(int32(so))
	if vt < 0 {
		return 0, errCorruptFB
	}
	vsize, err := b.u16(uint64(vt))
	if err != nil {
		return 0, err
	}
	slot := uint64(4 + 2*k)
	if slot+2 > uint64(vsize) {
		return 0, nil
	}
	voff, err := b.u16(uint64(vt) + slot)
	if err != nil || voff == 0 {
		return 0, err
	}
	return t + uint64(voff), nil
}

// deref follows the offset stored at pos (a table, vector or string).
func (b fbuf) deref(pos uint64) (uint64, error) {
	u, err := b.u32(pos)
	if err != nil {
		return 0, err
	}
	target := pos + uint64(u)
	if target >= uint64(len(b)) {
		return 0, errCorruptFB
	}
	return target, nil
}

// vector checks the vector in slot k of table t, whose elements take elem
// bytes, and returns its element start and length (0, 0 if absent).
func (b fbuf) vector(t uint64, k int, elem uint64) (uint64, uint64, error) {
	f, err := b.field(t, k)
	if err != nil || f == 0 {
		return 0, 0, err
	}
	v, err := b.deref(f)
	if err != nil {
		return 0, 0, err
	}
	n, err := b.u32(v)
	if err != nil {
		return 0, 0, err
	}
	if uint64(n)*elem > uint64(len(b))-(v+4) {
		return 0, 0, fmt.Errorf("%w: vector of %d elements in %d bytes", errCorruptFB, n, len(b))
	}
	return v + 4, uint64(n), nil
}

// tables calls fn for each table of the table vector in slot k of table t.
func (b fbuf) tables(t uint64, k int, fn func(uint64) error) error {
	start, n, err := b.vector(t, k, 4)
	if err != nil {
		return err
	}
	for i := uint64(0); i < n; i++ {
		e, err := b.deref(start + 4*i)
		if err != nil {
			return err
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}

func (b fbuf) checkKeyValues(t uint64, k int) error {
	return b.tables(t, k, func(kv uint64) error {
		if _, _, err := b.vector(kv, 0, 1); err != nil {
			return err
		}
		_, _, err := b.vector(kv, 1, 1)
		return err
	})
}

const fbTypeUnion = 14 // org.apache.arrow.flatbuf.Type.Union

func (b fbuf) checkField(t uint64, depth int) error {
	if depth > 64 {
		return fmt.Errorf("%w: fields nested too deep", errCorruptFB)
	}
	if _, _, err := b.vector(t, 0, 1); err != nil { // name
		return err
	}
	tt, err := b.field(t, 2) // type_type
	if err != nil {
		return err
	}
	if tt != 0 && tt < uint64(len(b)) && b[tt] == fbTypeUnion {
		f, err := b.field(t, 3)
		if err != nil {
			return err
		}
		if f != 0 {
			u, err := b.deref(f)
			if err != nil {
				return err
			}
			if _, _, err := b.vector(u, 1, 4); err != nil { // typeIds
				return err
			}
		}
	}
	if err := b.tables(t, 5, func(c uint64) error { return b.checkField(c, depth+1) }); err != nil {
		return err
	}
	return b.checkKeyValues(t, 6)
}

func (b fbuf) checkSchema(t uint64) error {
	if err := b.tables(t, 1, func(f uint64) error { return b.checkField(f, 0) }); err != nil {
		return err
	}
	if err := b.checkKeyValues(t, 2); err != nil {
		return err
	}
	_, _, err := b.vector(t, 3, 8) // features
	return err
}

// checkIPCFooter validates the footer of an IPC file before Arrow decodes
// it. Inputs whose trailer is not an Arrow footer are left for Arrow to
// reject with its own error.
func checkIPCFooter(r io.ReaderAt, size int64) error {
	const tail = 10 // int32 footer length + "ARROW1"
	if size < tail {
		return nil
	}
	var t [tail]byte
	if _, err := r.ReadAt(t[:], size-tail); err != nil || !bytes.Equal(t[4:], []byte("ARROW1")) {
		return nil
	}
	n := int64(binary.LittleEndian.Uint32(t[:4]))
	if n <= 0 || n > size-tail {
		return nil
	}
	b := make(fbuf, n)
	if _, err := r.ReadAt(b, size-tail-n); err != nil {
		return nil
	}
	root, err := b.deref(0)
	if err != nil {
		return err
	}
	f, err := b.field(root, 1) // Footer.schema
	if err != nil || f == 0 {
		return err
	}
	s, err := b.deref(f)
	if err != nil {
		return err
	}
	if err := b.checkSchema(s); err != nil {
		return err
	}
	if _, _, err := b.vector(root, 2, 24); err != nil { // dictionaries
		return err
	}
	if _, _, err := b.vector(root, 3, 24); err != nil { // recordBatches
		return err
	}
	return b.checkKeyValues(root, 4)
}

// maxSchemaMessage bounds the schema message of an IPC stream.
const maxSchemaMessage = 64 << 20

// checkIPCStreamSchema validates the first (schema) message of an IPC
// stream and returns a reader that still yields the whole stream.
func checkIPCStreamSchema(r io.Reader) (io.Reader, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	hdr, err := br.Peek(8)
	if err != nil {
		return br, nil // too short: Arrow reports it
	}
	start, n := 4, binary.LittleEndian.Uint32(hdr)
	if n == 0xFFFFFFFF { // continuation marker
		start, n = 8, binary.LittleEndian.Uint32(hdr[4:])
	}
	if n > maxSchemaMessage {
		return nil, fmt.Errorf("%w: schema message of %d bytes", errCorruptFB, n)
	}
	if start+int(n) > br.Size() {
		br = bufio.NewReaderSize(br, start+int(n))
	}
	msg, err := br.Peek(start + int(n))
	if err != nil {
		return br, nil
	}
	b := fbuf(msg[start:])
	root, err := b.deref(0)
	if err != nil {
		return nil, err
	}
	ht, err := b.field(root, 1) // Message.header_type
	if err != nil {
		return nil, err
	}
	if ht == 0 || ht >= uint64(len(b)) || b[ht] != 1 { // not a Schema message
		return br, nil
	}
	h, err := b.field(root, 2)
	if err != nil || h == 0 {
		return br, err
	}
	s, err := b.deref(h)
	if err != nil {
		return nil, err
	}
	return br, b.checkSchema(s)
}
