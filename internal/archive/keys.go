package archive

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/hyperstack-go/hyperstack/internal/geyserpb"
)

// FormatVersion is the archive format version this build writes and the newest it reads.
const FormatVersion uint32 = 1

// magic is stored under meta/magic and identifies a bbolt file as a hyperstack archive.
const magic = "hyperstack-archive"

// Top-level bucket names. See docs/archive-format.md.
var (
	bucketMeta    = []byte("meta")
	bucketUpdates = []byte("updates")
	bucketSlots   = []byte("slots")
	bucketGaps    = []byte("gaps")
)

// Keys inside the meta bucket.
var (
	keyMagic      = []byte("magic")
	keyVersion    = []byte("format_version")
	keyMeta       = []byte("meta")
	keyCheckpoint = []byte("checkpoint")
	keyCounters   = []byte("counters")
)

// Reserved namespaces for data derived from the recorded stream. Each is a top-level bucket created
// with the archive; callers store keys in it or in nested buckets below it (see KV access in kv.go).
const (
	// NSGoldens holds replay goldens: one nested bucket per stack content hash ("goldens/<hash>"),
	// typically keyed by SlotKey.
	NSGoldens = "goldens"
	// NSResolver holds resolver answers used by a run, so replays can reuse them exactly.
	NSResolver = "resolver"
	// NSStateCheckpoints holds VM/projection state checkpoints, typically keyed by SlotKey.
	NSStateCheckpoints = "state-checkpoints"
)

// Namespaces lists the reserved key-value namespaces.
func Namespaces() []string { return []string{NSGoldens, NSResolver, NSStateCheckpoints} }

func allBuckets() [][]byte {
	bs := [][]byte{bucketMeta, bucketUpdates, bucketSlots, bucketGaps}
	for _, ns := range Namespaces() {
		bs = append(bs, []byte(ns))
	}
	return bs
}

// SlotKey encodes a slot as an 8-byte big-endian key, so that key order is slot order.
func SlotKey(slot uint64) []byte { return binary.BigEndian.AppendUint64(nil, slot) }

// ParseSlotKey decodes a key made by SlotKey.
func ParseSlotKey(k []byte) (uint64, error) {
	if len(k) != 8 {
		return 0, fmt.Errorf("slot key has %d bytes, want 8", len(k))
	}
	return binary.BigEndian.Uint64(k), nil
}

func u64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

// Update value layout (format version 1):
//
//	offset 0  u64 BE  slot (0 when the update carries none)
//	offset 8  u8      kind (geyserpb.UpdateKind)
//	offset 9  u8      flags (bit 0: the update carries a slot)
//	offset 10 i64 BE  receive time, Unix nanoseconds
//	offset 18 ...     the SubscribeUpdate bytes exactly as received
const (
	updateHeaderLen = 18
	flagHasSlot     = 1 << 0
)

func appendUpdateValue(dst []byte, slot uint64, hasSlot bool, kind geyserpb.UpdateKind, at time.Time, raw []byte) []byte {
	dst = binary.BigEndian.AppendUint64(dst, slot)
	var flags byte
	if hasSlot {
		flags |= flagHasSlot
	}
	dst = append(dst, byte(kind), flags)
	dst = binary.BigEndian.AppendUint64(dst, uint64(at.UnixNano()))
	return append(dst, raw...)
}

func decodeUpdateValue(seq uint64, v []byte) (Update, error) {
	u, err := decodeUpdateHeader(seq, v)
	if err == nil {
		u.Raw = append([]byte(nil), v[updateHeaderLen:]...)
	}
	return u, err
}

// decodeUpdateHeader decodes everything but Raw.
func decodeUpdateHeader(seq uint64, v []byte) (Update, error) {
	if len(v) < updateHeaderLen {
		return Update{}, fmt.Errorf("%w: update %d: value has %d bytes, shorter than its %d-byte header",
			ErrCorrupt, seq, len(v), updateHeaderLen)
	}
	u := Update{
		Seq:        seq,
		Slot:       binary.BigEndian.Uint64(v[0:8]),
		Kind:       geyserpb.UpdateKind(v[8]),
		HasSlot:    v[9]&flagHasSlot != 0,
		ReceivedAt: time.Unix(0, int64(binary.BigEndian.Uint64(v[10:18]))).UTC(),
	}
	return u, nil
}

// Slot index value: first seq, last seq, number of updates, each u64 BE.
const slotValueLen = 24

type slotEntry struct{ first, last, count uint64 }

func (s slotEntry) encode() []byte {
	b := make([]byte, 0, slotValueLen)
	b = binary.BigEndian.AppendUint64(b, s.first)
	b = binary.BigEndian.AppendUint64(b, s.last)
	return binary.BigEndian.AppendUint64(b, s.count)
}

func decodeSlotEntry(v []byte) (slotEntry, error) {
	if len(v) != slotValueLen {
		return slotEntry{}, fmt.Errorf("%w: slot index value has %d bytes, want %d", ErrCorrupt, len(v), slotValueLen)
	}
	return slotEntry{
		first: binary.BigEndian.Uint64(v[0:8]),
		last:  binary.BigEndian.Uint64(v[8:16]),
		count: binary.BigEndian.Uint64(v[16:24]),
	}, nil
}
