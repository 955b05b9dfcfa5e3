package stack

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzParse feeds arbitrary bytes to the loader (seed corpus in testdata/fuzz/FuzzParse). It must never
// panic, must fail only with *SpecError, and whatever it accepts must survive a write/read round trip
// unchanged (same canonical text, same content hashes).
func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"stack_name":"S","entities":[]}`))
	f.Add([]byte(`{"ast_version":"0.0.1","stack_name":"S","program_ids":[],"idls":[],"entities":[],"pdas":{},"instructions":[]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, err := Parse(data); err != nil {
			var se *SpecError
			if !errors.As(err, &se) {
				t.Fatalf("Parse error is %T, not *SpecError: %v", err, err)
			}
		}
		s, err := Decode(data)
		if err != nil {
			var se *SpecError
			if !errors.As(err, &se) {
				t.Fatalf("Decode error is %T, not *SpecError: %v", err, err)
			}
			if se.Error() == "" {
				t.Fatal("empty error text")
			}
			return
		}
		out := s.MarshalPretty()
		s2, err := Decode(out)
		if err != nil {
			t.Fatalf("re-decoding the canonical form failed: %v\n%s", err, out)
		}
		if again := s2.MarshalPretty(); !bytes.Equal(out, again) {
			t.Fatalf("canonical form is not stable:\n%s\n---\n%s", out, again)
		}
		if s.ContentHash() != s2.ContentHash() {
			t.Fatalf("stack hash changed over a round trip: %s vs %s", s.ContentHash(), s2.ContentHash())
		}
		for i := range s.Entities {
			if s.Entities[i].ContentHash() != s2.Entities[i].ContentHash() {
				t.Fatalf("entity %d hash changed over a round trip", i)
			}
		}
		compact, err := s.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Decode(compact); err != nil {
			t.Fatalf("compact form does not decode: %v", err)
		}
		_ = s.VerifyHashes()
		_ = s.IDLRefs()
		for _, typ := range s.EventTypes() {
			_ = s.HandlersFor(typ)
		}
	})
}
