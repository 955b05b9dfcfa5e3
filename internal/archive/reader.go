package archive

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"time"

	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"

	"github.com/hyperstack-go/hyperstack/internal/geyserpb"
)

// Update is one archived SubscribeUpdate, copied out of the file.
type Update struct {
	// Seq is the update's position in the archive, starting at 1, without holes.
	Seq uint64
	// Slot is the update's slot; meaningful only when HasSlot is true (pings and pongs carry none).
	Slot    uint64
	HasSlot bool
	// Kind is the update's case.
	Kind geyserpb.UpdateKind
	// ReceivedAt is when the recorder received the update (UTC).
	ReceivedAt time.Time
	// Raw is the SubscribeUpdate exactly as received. It belongs to the caller.
	Raw []byte
}

// Decode unmarshals Raw.
func (u Update) Decode() (*geyserpb.SubscribeUpdate, error) {
	m := new(geyserpb.SubscribeUpdate)
	if err := proto.Unmarshal(u.Raw, m); err != nil {
		return nil, fmt.Errorf("decode update %d: %w", u.Seq, err)
	}
	return m, nil
}

// Gap records a range of slots the recording could not obtain (for example when the server could not
// replay from the requested slot).
type Gap struct {
	ID         uint64    `json:"id"`
	FromSlot   uint64    `json:"from_slot"`
	ToSlot     uint64    `json:"to_slot"`
	Reason     string    `json:"reason"`
	AfterSeq   uint64    `json:"after_seq"`
	RecordedAt time.Time `json:"recorded_at"`
}

// scanChunk bounds the updates read per read transaction, so a long scan never pins the file's memory
// map for long (a writer growing the file waits for open read transactions).
const scanChunk = 4096

// ScanSeq calls fn for every update with fromSeq ≤ Seq ≤ toSeq, in sequence order. Returning a non-nil
// error from fn stops the scan and returns that error. ctx is checked between updates.
func (a *Archive) ScanSeq(ctx context.Context, fromSeq, toSeq uint64, fn func(Update) error) error {
	return a.scan(ctx, fromSeq, toSeq, nil, false, fn)
}

// Scan calls fn, in sequence (archive) order, for every update whose slot is within [fromSlot, toSlot],
// plus every slot-less update (ping, pong) lying between the first and the last of those. Updates of a
// slot may interleave with other slots' updates in the stream; Scan still returns exactly the updates of
// the range. Scan(ctx, 0, math.MaxUint64, fn) visits every update.
func (a *Archive) Scan(ctx context.Context, fromSlot, toSlot uint64, fn func(Update) error) error {
	return a.scanSlots(ctx, fromSlot, toSlot, false, fn)
}

// ScanBorrowed is Scan for callers that are done with each update when fn returns: u.Raw is only
// valid until then (its memory is reused for later updates), which spares a copy per update on long
// scans such as replay. A caller that keeps Raw must copy it.
func (a *Archive) ScanBorrowed(ctx context.Context, fromSlot, toSlot uint64, fn func(Update) error) error {
	return a.scanSlots(ctx, fromSlot, toSlot, true, fn)
}

func (a *Archive) scanSlots(ctx context.Context, fromSlot, toSlot uint64, borrow bool, fn func(Update) error) error {
	if fromSlot > toSlot {
		return nil
	}
	if fromSlot == 0 && toSlot == math.MaxUint64 {
		return a.scan(ctx, 1, math.MaxUint64, nil, borrow, fn)
	}
	lo, hi, ok, err := a.seqRange(fromSlot, toSlot)
	if err != nil || !ok {
		return err
	}
	keep := func(u Update) bool { return !u.HasSlot || (u.Slot >= fromSlot && u.Slot <= toSlot) }
	return a.scan(ctx, lo, hi, keep, borrow, fn)
}

// seqRange returns the smallest first-seq and largest last-seq over the slots in [fromSlot, toSlot].
func (a *Archive) seqRange(fromSlot, toSlot uint64) (lo, hi uint64, ok bool, err error) {
	lo = math.MaxUint64
	err = a.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketSlots).Cursor()
		end := u64(toSlot)
		for k, v := c.Seek(u64(fromSlot)); k != nil && bytes.Compare(k, end) <= 0; k, v = c.Next() {
			e, err := decodeSlotEntry(v)
			if err != nil {
				return err
			}
			lo, hi, ok = min(lo, e.first), max(hi, e.last), true
		}
		return nil
	})
	return lo, hi, ok, err
}

// scan reads updates in chunks of scanChunk, each in its own read transaction, and calls fn outside
// the transaction. With borrow, the Raw bytes of a chunk share one buffer reused by the next chunk.
func (a *Archive) scan(ctx context.Context, from, to uint64, keep func(Update) bool, borrow bool, fn func(Update) error) error {
	next := from
	var (
		batch []Update
		arena []byte
	)
	if borrow {
		arena = make([]byte, 0, 1<<20)
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		batch, arena = batch[:0], arena[:0]
		done := false
		err := a.view(func(tx *bolt.Tx) error {
			c := tx.Bucket(bucketUpdates).Cursor()
			for k, v := c.Seek(u64(next)); ; k, v = c.Next() {
				if k == nil {
					done = true
					return nil
				}
				seq := binary.BigEndian.Uint64(k)
				if seq > to {
					done = true
					return nil
				}
				if len(batch) == scanChunk {
					next = seq
					return nil
				}
				u, err := decodeUpdateHeader(seq, v)
				if err != nil {
					return err
				}
				if keep == nil || keep(u) {
					raw := v[updateHeaderLen:]
					if borrow {
						start := len(arena)
						arena = append(arena, raw...)
						u.Raw = arena[start:len(arena):len(arena)]
					} else {
						u.Raw = append([]byte(nil), raw...)
					}
					batch = append(batch, u)
				}
				if seq == math.MaxUint64 {
					done = true
					return nil
				}
			}
		})
		if err != nil {
			return err
		}
		for _, u := range batch {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := fn(u); err != nil {
				return err
			}
		}
		if done {
			return nil
		}
	}
}

// Get returns the update with sequence number seq, or ErrNotFound.
func (a *Archive) Get(seq uint64) (Update, error) {
	var u Update
	err := a.view(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketUpdates).Get(u64(seq))
		if v == nil {
			return fmt.Errorf("update %d: %w", seq, ErrNotFound)
		}
		var err error
		u, err = decodeUpdateValue(seq, v)
		return err
	})
	return u, err
}

// SlotInfo describes one slot in the slot index.
type SlotInfo struct {
	Slot uint64 `json:"slot"`
	// FirstSeq and LastSeq are the sequence numbers of the slot's first and last update.
	FirstSeq uint64 `json:"first_seq"`
	LastSeq  uint64 `json:"last_seq"`
	// Count is the number of updates of the slot.
	Count uint64 `json:"count"`
}

// Slots calls fn for each slot in [fromSlot, toSlot] present in the archive, in slot order.
func (a *Archive) Slots(ctx context.Context, fromSlot, toSlot uint64, fn func(SlotInfo) error) error {
	var infos []SlotInfo
	err := a.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketSlots).Cursor()
		end := u64(toSlot)
		for k, v := c.Seek(u64(fromSlot)); k != nil && bytes.Compare(k, end) <= 0; k, v = c.Next() {
			e, err := decodeSlotEntry(v)
			if err != nil {
				return err
			}
			infos = append(infos, SlotInfo{Slot: binary.BigEndian.Uint64(k), FirstSeq: e.first, LastSeq: e.last, Count: e.count})
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, in := range infos {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(in); err != nil {
			return err
		}
	}
	return nil
}

// Gaps returns the gap records in the order they were recorded.
func (a *Archive) Gaps() ([]Gap, error) {
	var gaps []Gap
	err := a.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketGaps).ForEach(func(k, v []byte) error {
			var g Gap
			if err := json.Unmarshal(v, &g); err != nil {
				return fmt.Errorf("%w: gap record %x: %v", ErrCorrupt, k, err)
			}
			gaps = append(gaps, g)
			return nil
		})
	})
	return gaps, err
}
