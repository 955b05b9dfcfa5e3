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
