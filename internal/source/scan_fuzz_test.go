package source_test

import (
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/hyperstack-go/hyperstack/internal/geyserpb"
	"github.com/hyperstack-go/hyperstack/internal/source"
	"github.com/hyperstack-go/hyperstack/internal/source/geysertest"
)

// FuzzScan checks that frame scanning never panics and agrees with the decoder on valid input.
func FuzzScan(f *testing.F) {
	for _, u := range []*geyserpb.SubscribeUpdate{
		geysertest.Account(1, geysertest.Key(1), geysertest.Key(2), 1, []byte{1, 2}, 1),
		geysertest.Slot(2, geyserpb.SlotStatus_SLOT_CONFIRMED),
		geysertest.Transaction(3, geysertest.Sig(1), false, []byte{1}, geysertest.Key(1)),
		geysertest.BlockMeta(4, "h", 4),
		geysertest.Entry(5, 1),
	} {
		b, _ := proto.Marshal(u)
		f.Add(b)
	}
	merged, _ := proto.Marshal(geysertest.Account(7, geysertest.Key(3), geysertest.Key(2), 1, nil, 9))
	tail, _ := proto.Marshal(&geyserpb.SubscribeUpdate{UpdateOneof: &geyserpb.SubscribeUpdate_Account{
		Account: &geyserpb.SubscribeUpdateAccount{Account: &geyserpb.SubscribeUpdateAccountInfo{WriteVersion: 11}}}})
	f.Add(append(merged, tail...)) // the account message split in two: protobuf merges
	f.Fuzz(func(t *testing.T, raw []byte) {
		u := source.NewUpdate(raw, time.Time{})
		_, _ = source.DedupKey(u)
		m, err := u.Message()
		if err != nil || u.Kind == geyserpb.KindUnknown {
			return
		}
		if k := geyserpb.KindOf(m); k != u.Kind {
			t.Fatalf("scan says %s, decoder says %s", u.Kind, k)
		}
		if s, _ := geyserpb.SlotOf(m); s != u.Slot {
			t.Fatalf("scan says slot %d, decoder says %d", u.Slot, s)
		}
		// The key of the canonical re-encoding is the key of the frame.
		canon, err := proto.Marshal(m)
		if err != nil {
			return
		}
		k1, ok1 := source.DedupKey(u)
		k2, ok2 := source.DedupKeyOf(canon)
		if ok1 != ok2 || k1 != k2 {
			t.Fatalf("dedup key of the frame %x (%v) differs from its canonical form's %x (%v)", k1, ok1, k2, ok2)
		}
	})
}
