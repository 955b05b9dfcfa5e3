package sim

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"testing"

	"google.golang.org/protobuf/proto"
)

// streamDigest generates a whole run and returns the SHA-256 of its deterministic encoding (each
// update length-prefixed) and the number of updates.
func streamDigest(t *testing.T, scenario string, seed uint64, opts Options) ([]byte, int) {
	t.Helper()
	s, err := New(scenario, seed, opts)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	mo := proto.MarshalOptions{Deterministic: true}
	n := 0
	for {
		u, err := s.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		raw, err := mo.Marshal(u)
		if err != nil {
			t.Fatal(err)
		}
		var l [4]byte
		l[0], l[1], l[2], l[3] = byte(len(raw)>>24), byte(len(raw)>>16), byte(len(raw)>>8), byte(len(raw))
		h.Write(l[:])
		h.Write(raw)
		n++
	}
	return h.Sum(nil), n
}

func TestDeterminismSPLToken(t *testing.T) {
	t.Parallel()
	opts := Options{Slots: 300}
	a, na := streamDigest(t, ScenarioSPLToken, 7, opts)
	b, nb := streamDigest(t, ScenarioSPLToken, 7, opts)
	if !bytes.Equal(a, b) || na != nb {
		t.Fatalf("same seed gave different streams: %x (%d updates) vs %x (%d updates)", a, na, b, nb)
	}
	c, _ := streamDigest(t, ScenarioSPLToken, 8, opts)
	if bytes.Equal(a, c) {
		t.Fatal("seeds 7 and 8 gave the same stream")
	}
	if na < 300*3 {
		t.Fatalf("only %d updates for 300 slots", na)
	}
}

func TestDeterminismOre(t *testing.T) {
	t.Parallel()
	idls := oreIDLs(t)
	opts := Options{Slots: 200, RoundSlots: 20, IDLs: idls}
	a, na := streamDigest(t, ScenarioOre, 7, opts)
	b, nb := streamDigest(t, ScenarioOre, 7, opts)
	if !bytes.Equal(a, b) || na != nb {
		t.Fatalf("same seed gave different streams: %x (%d updates) vs %x (%d updates)", a, na, b, nb)
	}
	c, _ := streamDigest(t, ScenarioOre, 8, opts)
	if bytes.Equal(a, c) {
		t.Fatal("seeds 7 and 8 gave the same stream")
	}
}
