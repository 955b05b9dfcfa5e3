package geyserserver_test

import (
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/hyperstack-go/hyperstack/internal/geyserpb"
	"github.com/hyperstack-go/hyperstack/internal/geyserserver"
	"github.com/hyperstack-go/hyperstack/internal/source/geysertest"
)

// FuzzPublishRaw feeds arbitrary bytes to Publish: it must reject or accept them, never panic.
func FuzzPublishRaw(f *testing.F) {
	for _, u := range []*geyserpb.SubscribeUpdate{
		geysertest.Account(1, k1, prog, 1, []byte{1, 2}, 1),
		geysertest.Slot(2, geyserpb.SlotStatus_SLOT_CONFIRMED),
		geysertest.Transaction(3, geysertest.Sig(1), false, []byte{1}, k1),
		geysertest.BlockMeta(4, "h", 4),
	} {
		u.Filters = []string{"x"}
		b, _ := proto.Marshal(u)
		f.Add(b)
	}
	f.Add([]byte{0x0a, 0x80})
	srv := geyserserver.New(geyserserver.Config{PingInterval: -1, RingSize: 64})
	f.Fuzz(func(t *testing.T, raw []byte) {
		_ = srv.Publish(nil, raw)
	})
}
