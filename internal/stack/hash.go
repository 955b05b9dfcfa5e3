package stack

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// computeHashes recomputes the entity and stack hashes (§1.3 of the format): SHA-256 of the compact
// JSON without content_hash, entities hashed with idl set to the primary IDL snapshot.
func (s *Spec) computeHashes() error {
	var primary *node
	if len(s.IDLSnapshots) > 0 {
		primary = jraw(s.IDLSnapshots[0])
	}
	for i, e := range s.Entities {
		idl := primary
		if idl == nil {
			idl = jraw(e.IDL)
		}
		b, err := appendNode(nil, e.toNode(false, idl), "", false)
		if err != nil {
			return &SpecError{Path: fmt.Sprintf("entities[%d]", i), Err: err}
		}
		e.computedHash = sha256Hex(b)
	}
	b, err := appendNode(nil, s.toNode(false), "", false)
	if err != nil {
		return &SpecError{Err: err}
	}
	s.computedHash = sha256Hex(b)
	return nil
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// VerifyHashes compares every stored content_hash with the recomputed one. A mismatch is a *SpecError
// (path entities[i].content_hash or content_hash) wrapping a *HashMismatchError.
func (s *Spec) VerifyHashes() error {
	for i, e := range s.Entities {
		if e.StoredHash != nil && *e.StoredHash != e.computedHash {
			return &SpecError{
				Path: fmt.Sprintf("entities[%d].content_hash", i),
				Err:  &HashMismatchError{Stored: *e.StoredHash, Computed: e.computedHash},
			}
		}
	}
	if s.StoredHash != nil && *s.StoredHash != s.computedHash {
		return &SpecError{Path: "content_hash", Err: &HashMismatchError{Stored: *s.StoredHash, Computed: s.computedHash}}
	}
	return nil
}

// SetContentHashes stores the recomputed hashes in every entity and then in the stack (whose hash covers
// the entity hashes), so that MarshalPretty writes a file that verifies.
func (s *Spec) SetContentHashes() {
	_ = s.computeHashes() // the model was produced by Decode, so it encodes
	for _, e := range s.Entities {
		h := e.computedHash
		e.StoredHash = &h
	}
	_ = s.computeHashes()
	h := s.computedHash
	s.StoredHash = &h
}
