package archive

import (
	"os"

	bolt "go.etcd.io/bbolt"

	"github.com/hyperstack-go/hyperstack/internal/geyserpb"
)

// Stats summarises an archive. JSON keys are snake_case.
type Stats struct {
	Path          string `json:"path"`
	FormatVersion uint32 `json:"format_version"`
	Meta          Meta   `json:"metadata"`
	// Messages is the number of updates.
	Messages uint64 `json:"messages"`
	// ByKind counts updates per kind name (account, transaction, slot, block_meta, entry, ping, ...);
	// kinds with no update are omitted.
	ByKind map[string]uint64 `json:"by_kind"`
	// RawBytes is the total size of the stored SubscribeUpdate bytes.
	RawBytes uint64 `json:"raw_bytes"`
	// FirstSlot and LastSlot are the lowest and highest slot of any update (both 0 when HasSlots is false).
	FirstSlot uint64 `json:"first_slot"`
	LastSlot  uint64 `json:"last_slot"`
	HasSlots  bool   `json:"has_slots"`
	// Slots is the number of distinct slots.
	Slots uint64 `json:"slots"`
	// Gaps are the recorded gaps, oldest first.
	Gaps       []Gap      `json:"gaps"`
	Checkpoint Checkpoint `json:"checkpoint"`
	// FileSize is the file's size in bytes.
	FileSize int64 `json:"file_size"`
	// Derived counts the entries in each reserved key-value namespace (goldens, resolver, ...),
	// nested buckets included.
	Derived map[string]uint64 `json:"derived"`
}

// Stats computes the archive summary. It is cheap: counters are maintained by the writer.
func (a *Archive) Stats() (Stats, error) {
	st := Stats{Path: a.path, FormatVersion: a.meta.FormatVersion, Meta: a.meta,
		ByKind: map[string]uint64{}, Derived: map[string]uint64{}}
	err := a.view(func(tx *bolt.Tx) error {
		mb := tx.Bucket(bucketMeta)
		ctr, err := decodeCounters(mb.Get(keyCounters))
		if err != nil {
			return err
		}
		if st.Checkpoint, err = decodeCheckpoint(mb.Get(keyCheckpoint)); err != nil {
			return err
		}
		st.Messages, st.RawBytes = ctr.messages, ctr.bytes
		for k, n := range ctr.byKind {
			if n > 0 {
				st.ByKind[geyserpb.UpdateKind(k).String()] += n
			}
		}
		sb := tx.Bucket(bucketSlots)
		st.Slots = uint64(sb.Stats().KeyN)
		c := sb.Cursor()
		if k, _ := c.First(); k != nil {
			st.HasSlots = true
			st.FirstSlot, _ = ParseSlotKey(k)
			k, _ = c.Last()
			st.LastSlot, _ = ParseSlotKey(k)
		}
		for _, ns := range Namespaces() {
			if b := tx.Bucket([]byte(ns)); b != nil {
				bs := b.Stats()
				st.Derived[ns] = uint64(bs.KeyN - bs.BucketN + 1)
			}
		}
		return nil
	})
	if err != nil {
		return st, err
	}
	if st.Gaps, err = a.Gaps(); err != nil {
		return st, err
	}
	if st.Gaps == nil {
		st.Gaps = []Gap{}
	}
	if fi, err := os.Stat(a.path); err == nil {
		st.FileSize = fi.Size()
	}
	return st, nil
}
