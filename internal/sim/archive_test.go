package sim

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/hyperstack-go/hyperstack/fixtures"
	"github.com/hyperstack-go/hyperstack/internal/archive"
	"github.com/hyperstack-go/hyperstack/internal/geyserpb"
)

func writeArchive(t *testing.T, path string, seed uint64) Stats {
	t.Helper()
	s, err := New(ScenarioSPLToken, seed, Options{Slots: 120, TxPerSlot: 3})
	if err != nil {
		t.Fatal(err)
	}
	st, err := s.WriteArchive(context.Background(), path, ArchiveOptions{Seed: seed, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestWriteArchiveIsByteIdentical(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a, b, c := filepath.Join(dir, "a.db"), filepath.Join(dir, "b.db"), filepath.Join(dir, "c.db")
	st := writeArchive(t, a, 1)
	writeArchive(t, b, 1)
	writeArchive(t, c, 2)
	da, _ := os.ReadFile(a)
	db, _ := os.ReadFile(b)
	dc, _ := os.ReadFile(c)
	if !bytes.Equal(da, db) {
		t.Fatal("the same seed gave different archive files")
	}
	if bytes.Equal(da, dc) {
		t.Fatal("seeds 1 and 2 gave the same archive file")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 3 {
		t.Fatalf("temporary files left behind: %v", entries)
	}

	// The archive holds the stream, update for update, with the slot index and kinds.
	ar, err := archive.Open(a, &archive.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ar.Close()
	if m := ar.Meta(); m.Source.Kind != SourceKind || !m.CreatedAt.Equal(SlotTime(DefaultStartSlot)) {
		t.Errorf("metadata %+v", m)
	}
	s, err := New(ScenarioSPLToken, 1, Options{Slots: 120, TxPerSlot: 3})
	if err != nil {
		t.Fatal(err)
	}
	want := collect(t, s)
	n := 0
	err = ar.Scan(context.Background(), 0, math.MaxUint64, func(u archive.Update) error {
		if n >= len(want) {
			t.Fatalf("archive holds more than the %d updates generated", len(want))
		}
		raw, err := proto.MarshalOptions{Deterministic: true}.Marshal(want[n])
		if err != nil {
			return err
		}
		if !bytes.Equal(u.Raw, raw) {
			t.Fatalf("update %d differs from the generated one", n)
		}
		if slot, _ := geyserpb.SlotOf(want[n]); u.Slot != slot {
			t.Fatalf("update %d indexed at slot %d, want %d", n, u.Slot, slot)
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if uint64(n) != st.Updates || n != len(want) {
		t.Fatalf("archive holds %d updates, generated %d", n, st.Updates)
	}

	s2, err := New(ScenarioSPLToken, 1, Options{Slots: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s2.WriteArchive(context.Background(), a, ArchiveOptions{}); err == nil {
		t.Fatal("WriteArchive replaced an existing file")
	}
}

// TestDemoArchiveIsUpToDate regenerates the bundled demo archive (fixtures/demo-spl-token.db, `make
// demo-archive`) and compares it byte for byte: a change to the generator must come with a
// regenerated demo.
func TestDemoArchiveIsUpToDate(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("regenerates 2,000 slots")
	}
	root := moduleRoot(t)
	want, err := os.ReadFile(filepath.Join(root, "fixtures", fixtures.DemoArchive))
	if err != nil {
		t.Fatalf("the demo archive is missing (make demo-archive): %v", err)
	}
	s, err := New(ScenarioSPLToken, 1, Options{Slots: 2000, TxPerSlot: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), fixtures.DemoArchive)
	if _, err := s.WriteArchive(context.Background(), path, ArchiveOptions{Seed: 1, NoSync: true}); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("fixtures/" + fixtures.DemoArchive + " is stale: run make demo-archive")
	}
}
