package columnar

import (
	"bytes"
	"testing"

	"github.com/apache/arrow/go/v17/arrow/memory"
)

// fuzzTextRoundTrip reads data as format f with schema inference; when that
// succeeds, writing the records back and reading them with the inferred
// schema must give the same values. It never panics or leaks.
func fuzzTextRoundTrip(t *testing.T, f Format, data []byte) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	r, err := NewReader(bytes.NewReader(data), f, mem, WithInferRows(4), WithBatchSize(3))
	if err != nil {
		return
	}
	schema := r.Schema()
	recs, err := readAll(t, r)
	defer releaseAll(recs)
	if err != nil {
		return
	}
	var buf bytes.Buffer
	w, err := NewWriter(&buf, f, schema, mem)
	if err != nil {
		t.Fatalf("writer for inferred schema %s: %v", schema, err)
	}
	for _, rec := range recs {
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r2, err := NewReader(bytes.NewReader(buf.Bytes()), f, mem, WithSchema(schema))
	if err != nil {
		t.Fatalf("re-reading %q: %v", buf.String(), err)
	}
	back, err := readAll(t, r2)
	defer releaseAll(back)
	if err != nil {
		t.Fatalf("re-reading %q: %v", buf.String(), err)
	}
	want, got := tableValues(t, recs), tableValues(t, back)
	if len(recs) == 0 {
		return
	}
	for c := range want {
		if len(want[c]) != len(got[c]) {
			t.Fatalf("column %d: %d rows back, want %d (written %q)", c, len(got[c]), len(want[c]), buf.String())
		}
		for i := range want[c] {
			if want[c][i] != got[c][i] {
				t.Fatalf("column %d row %d: %#v back, want %#v (written %q)", c, i, got[c][i], want[c][i], buf.String())
			}
		}
	}
}

func FuzzCSVRoundTrip(f *testing.F) {
	for _, s := range []string{
		"a,b,c\n1,2.5,x\n,NaN,\"y,z\"\n-3,+Inf,\n",
		"t,f\ntrue,FALSE\n,True\n",
		"x\n\"\"\n1\n",
		"s\n\" lead\"\n\"quo\"\"te\"\n\"multi\nline\"\n",
		"n\n0x1p-2\n+5\n1e400\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { fuzzTextRoundTrip(t, FormatCSV, data) })
}

func FuzzJSONLRoundTrip(f *testing.F) {
	for _, s := range []string{
		`{"a":1,"b":2.5,"c":"x","d":true}` + "\n" + `{"a":null,"b":"NaN","e":"\u00e9"}`,
		`{"f":1e308}` + "\n" + `{"f":-0.0}`,
		`{}` + "\n" + `{"x":"tab\there"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { fuzzTextRoundTrip(t, FormatJSONL, data) })
}
