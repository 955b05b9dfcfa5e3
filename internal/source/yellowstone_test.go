package source_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/hyperstack-go/hyperstack/internal/geyserpb"
	"github.com/hyperstack-go/hyperstack/internal/source"
	"github.com/hyperstack-go/hyperstack/internal/source/geysertest"
)

func TestRunDeliversRawFramesByteExact(t *testing.T) {
	ts := geysertest.Start(t, geysertest.Options{})
	y := newSource(t, ts, nil)
	c := newCollector()
	running(t, y, c)
	ctx := testCtx(t)
	require.NoError(t, ts.WaitApplied(ctx, 1))

	owner := geysertest.Key(1000)
	acc := geysertest.Account(10, geysertest.Key(1), owner, 42, []byte("hello"), 7)
	raw, err := proto.Marshal(acc)
	require.NoError(t, err)
	ts.FeedRaw(raw)
	ts.Feed(geysertest.Slot(10, geyserpb.SlotStatus_SLOT_PROCESSED), geysertest.Slot(10, geyserpb.SlotStatus_SLOT_CONFIRMED))
	c.waitUntil(t, ctx, "3 updates", func() bool { return len(c.data()) >= 3 })

	got := c.data()
	require.Equal(t, geyserpb.KindSlot, got[0].Kind) // processed slot status goes out at once
	require.Equal(t, geyserpb.KindAccount, got[1].Kind)
	require.Equal(t, uint64(10), got[1].Slot)
	// The account reached the confirmed stream with the "account_owners" filter name prepended.
	want := append(protoFilters(source.FilterAccountOwners), raw...)
	require.True(t, bytes.Equal(want, got[1].Raw), "raw frame differs")
	m, err := got[1].Message()
	require.NoError(t, err)
	require.Equal(t, []string{source.FilterAccountOwners}, m.Filters)
	require.Equal(t, []byte("hello"), m.GetAccount().GetAccount().GetData())
	require.Equal(t, geyserpb.SlotStatus_SLOT_CONFIRMED, mustMsg(t, got[2]).GetSlot().GetStatus())
}

func protoFilters(names ...string) []byte {
	m := &geyserpb.SubscribeUpdate{Filters: names}
	b, _ := proto.Marshal(m)
	return b
}

func mustMsg(t *testing.T, u *source.Update) *geyserpb.SubscribeUpdate {
	t.Helper()
	m, err := u.Message()
	require.NoError(t, err)
	return m
}

// The handler owns Raw: frames kept by the handler stay intact while later frames, small and large
// (grpc pools the buffers of large messages), arrive after them.
func TestKeptRawFramesStayIntact(t *testing.T) {
	ts := geysertest.Start(t, geysertest.Options{PingInterval: -1})
	y := newSource(t, ts, func(c *source.Config) { c.Commitment = "processed" })
	c := newCollector()
	running(t, y, c)
	ctx := testCtx(t)
	require.NoError(t, ts.WaitApplied(ctx, 1))

	owner := geysertest.Key(1000)
	var want [][]byte
	for i := range 300 {
		size := []int{5, 900, 1100, 4000, 70_000}[i%5]
		data := bytes.Repeat([]byte{byte(i)}, size)
		acc := geysertest.Account(uint64(1+i/10), geysertest.Key(i), owner, uint64(i), data, uint64(i))
		raw, err := proto.Marshal(acc)
		require.NoError(t, err)
		want = append(want, append(protoFilters(source.FilterAccountOwners), raw...))
		ts.FeedRaw(raw)
	}
	c.waitUntil(t, ctx, "every update", func() bool { return len(c.data()) >= len(want) })
	got := c.data()
	for i := range want {
		require.True(t, bytes.Equal(want[i], got[i].Raw), "frame %d (%d bytes) changed after delivery", i, len(want[i]))
	}
}
