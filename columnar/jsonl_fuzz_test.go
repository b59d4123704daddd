package columnar

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzParseJSONObject checks the flat-object parser against encoding/json:
// it never panics, and every line encoding/json decodes as a flat object
// with distinct keys parses to the same keys and values.
func FuzzParseJSONObject(f *testing.F) {
	for _, s := range []string{
		`{"a": 1, "b": "x\u00e9\n", "c": true, "d": null, "e": -2.5e3}`,
		`{}`, ` { "k" : "\"q\"" } `, `{"a":[1]}`, `{"a":1,}`, `{"😀":"日本語"}`, `{"a":"\ud83d\ude00"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		got, err := parseJSONObject(line, nil)
		var want map[string]any
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.UseNumber()
		if !json.Valid(line) || dec.Decode(&want) != nil || !isFlat(want) {
			return // not a flat object for encoding/json: any error will do
		}
		if bytes.Count(line, []byte(`"`)) > 0 && hasDuplicateKeys(line) {
			return
		}
		if err != nil {
			t.Fatalf("encoding/json accepts %q but parse fails: %v", line, err)
		}
		if len(got) != len(want) {
			t.Fatalf("%q: %d fields, encoding/json has %d", line, len(got), len(want))
		}
		for _, g := range got {
			w, ok := want[g.key]
			if !ok {
				t.Fatalf("%q: key %q not in encoding/json's result", line, g.key)
			}
			switch wv := w.(type) {
			case nil:
				ok = g.kind == jsonNull
			case bool:
				ok = g.kind == jsonBool && g.b == wv
			case string:
				ok = g.kind == jsonString && g.text == wv
			case json.Number:
				ok = g.kind == jsonNumber && g.text == string(wv)
			}
			if !ok {
				t.Fatalf("%q: key %q parsed as %v %q, encoding/json has %#v", line, g.key, g.kind, g.text, w)
			}
		}
	})
}

func isFlat(m map[string]any) bool {
	if m == nil {
		return false
	}
	for _, v := range m {
		switch v.(type) {
		case map[string]any, []any:
			return false
		}
	}
	return true
}

// hasDuplicateKeys reports whether our parser sees a key twice (encoding/json
// silently keeps the last one).
func hasDuplicateKeys(line []byte) bool {
	fields, err := parseJSONObject(line, nil)
	if err != nil {
		return false
	}
	seen := map[string]bool{}
	for _, f := range fields {
		if seen[f.key] {
			return true
		}
		seen[f.key] = true
	}
	return false
}
