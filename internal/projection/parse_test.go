package projection

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

var parseSeeds = []string{
	`{}`, `[]`, `{"a":1}`, ` {"a" : [1, -2.5e+3, 0, true, false, null, "x"]} `, `{"a":{"b":{"c":[[],[{}]]}}}`,
	`"esc\"\\\/\b\f\n\r\t\u0041\u00e9\ud83d\ude00"`, `"\ud800"`, `"\ud800\u0041"`, `"\udc00"`, "\"\xff\xfe\"",
	`18446744073709551616`, `-0`, `0.5`, `1E5`, `{"a":1,}`, `[1,]`, `{"a"}`, `01`, `-`, `1.`, `1e`, `"\x"`,
	`"\u12"`, "\"a\nb\"", `tru`, `nul`, `{"a":1}x`, `[`, `{`, `"abc`, `{"a":1 "b":2}`, `{1:2}`,
	strings.Repeat("[", 600) + strings.Repeat("]", 600),
}

func referenceParse(b []byte) (any, bool) {
	if !json.Valid(b) {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, false
	}
	return v, true
}

func depthOf(b []byte) int {
	d, m := 0, 0
	for _, c := range b {
		switch c {
		case '[', '{':
			d++
			m = max(m, d)
		case ']', '}':
			d--
		}
	}
	return m
}

func checkParse(t *testing.T, b []byte) {
	got, err := parseJSON(b)
	want, ok := referenceParse(b)
	if depthOf(b) > maxDepth-10 {
		if err == nil && !ok {
			t.Fatalf("%q: accepted invalid input", b)
		}
		return
	}
	if ok != (err == nil) {
		t.Fatalf("%q: parse error %v, encoding/json valid %v", b, err, ok)
	}
	if ok && !reflect.DeepEqual(got, want) {
		t.Fatalf("%q: got %#v, want %#v", b, got, want)
	}
}

func TestParseMatchesEncodingJSON(t *testing.T) {
	for _, s := range parseSeeds {
		checkParse(t, []byte(s))
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range parseSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		checkParse(t, b)
		// Whatever parses re-encodes to valid JSON.
		if v, err := parseJSON(b); err == nil && !json.Valid(appendValue(nil, v)) {
			t.Fatalf("%q: re-encoding is not valid JSON: %s", b, appendValue(nil, v))
		}
	})
}
