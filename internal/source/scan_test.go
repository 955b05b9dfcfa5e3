package source_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/hyperstack-go/hyperstack/internal/geyserpb"
	"github.com/hyperstack-go/hyperstack/internal/source"
	"github.com/hyperstack-go/hyperstack/internal/source/geysertest"
)

func enc(t *testing.T, u *geyserpb.SubscribeUpdate) []byte {
	t.Helper()
	b, err := proto.Marshal(u)
	require.NoError(t, err)
	return b
}

func TestNewUpdateReadsKindAndSlot(t *testing.T) {
	cases := []struct {
		u    *geyserpb.SubscribeUpdate
		kind geyserpb.UpdateKind
		slot uint64
	}{
		{geysertest.Account(11, geysertest.Key(1), geysertest.Key(2), 1, []byte{1}, 3), geyserpb.KindAccount, 11},
		{geysertest.Slot(12, geyserpb.SlotStatus_SLOT_DEAD), geyserpb.KindSlot, 12},
		{geysertest.Transaction(13, geysertest.Sig(1), false, nil, geysertest.Key(1)), geyserpb.KindTransaction, 13},
		{geysertest.BlockMeta(14, "h", 2), geyserpb.KindBlockMeta, 14},
		{geysertest.Entry(15, 3), geyserpb.KindEntry, 15},
		{&geyserpb.SubscribeUpdate{UpdateOneof: &geyserpb.SubscribeUpdate_Block{Block: &geyserpb.SubscribeUpdateBlock{Slot: 16}}}, geyserpb.KindBlock, 16},
		{&geyserpb.SubscribeUpdate{UpdateOneof: &geyserpb.SubscribeUpdate_TransactionStatus{TransactionStatus: &geyserpb.SubscribeUpdateTransactionStatus{Slot: 17}}}, geyserpb.KindTransactionStatus, 17},
		{&geyserpb.SubscribeUpdate{Filters: []string{"x"}, UpdateOneof: &geyserpb.SubscribeUpdate_Ping{Ping: &geyserpb.SubscribeUpdatePing{}}}, geyserpb.KindPing, 0},
		{&geyserpb.SubscribeUpdate{UpdateOneof: &geyserpb.SubscribeUpdate_Pong{Pong: &geyserpb.SubscribeUpdatePong{Id: 4}}}, geyserpb.KindPong, 0},
		{&geyserpb.SubscribeUpdate{CreatedAt: timestamppb.Now()}, geyserpb.KindUnknown, 0},
	}
	for _, tc := range cases {
		t.Run(tc.kind.String(), func(t *testing.T) {
			u := source.NewUpdate(enc(t, tc.u), time.Unix(5, 0))
			require.Equal(t, tc.kind, u.Kind)
			require.Equal(t, tc.slot, u.Slot)
			require.Equal(t, geyserpb.KindOf(tc.u), u.Kind, "agrees with the decoder")
			m, err := u.Message()
			require.NoError(t, err)
			require.True(t, proto.Equal(tc.u, m))
		})
	}
}

func TestMalformedUpdate(t *testing.T) {
	raw := enc(t, geysertest.Account(11, geysertest.Key(1), geysertest.Key(2), 1, []byte{1, 2, 3}, 3))
	for cut := 1; cut < len(raw); cut += 7 {
		u := source.NewUpdate(raw[:cut], time.Time{})
		_, ok := source.DedupKey(u)
		if u.Kind == geyserpb.KindUnknown {
			require.False(t, ok)
		}
		_, err := u.Message()
		if err != nil {
			require.Contains(t, err.Error(), "decode subscribe update")
		}
	}
	u := source.NewUpdate([]byte{0xff, 0xff, 0xff}, time.Time{})
	require.Equal(t, geyserpb.KindUnknown, u.Kind)
	_, err := u.Message()
	require.Error(t, err)
}

func TestDedupKey(t *testing.T) {
	key := func(u *geyserpb.SubscribeUpdate) string {
		k, ok := source.DedupKeyOf(enc(t, u))
		require.True(t, ok)
		return k
	}
	a := geysertest.Account(10, geysertest.Key(1), geysertest.Key(2), 5, []byte{1}, 100)
	aOther := geysertest.Account(10, geysertest.Key(1), geysertest.Key(2), 6, []byte{2}, 100)
	aOther.Filters = []string{"f"}
	require.Equal(t, key(a), key(aOther), "pubkey+slot+write_version only")
	require.NotEqual(t, key(a), key(geysertest.Account(10, geysertest.Key(1), geysertest.Key(2), 5, []byte{1}, 101)))
	require.NotEqual(t, key(a), key(geysertest.Account(11, geysertest.Key(1), geysertest.Key(2), 5, []byte{1}, 100)))
	require.NotEqual(t, key(a), key(geysertest.Account(10, geysertest.Key(3), geysertest.Key(2), 5, []byte{1}, 100)))

	tx := geysertest.Transaction(10, geysertest.Sig(1), false, nil, geysertest.Key(1))
	require.Equal(t, key(tx), key(geysertest.Transaction(10, geysertest.Sig(1), true, []byte{1}, geysertest.Key(9))))
	require.NotEqual(t, key(tx), key(geysertest.Transaction(10, geysertest.Sig(2), false, nil, geysertest.Key(1))))
	require.NotEqual(t, key(tx), key(geysertest.Transaction(11, geysertest.Sig(1), false, nil, geysertest.Key(1))))

	s := geysertest.Slot(10, geyserpb.SlotStatus_SLOT_CONFIRMED)
	require.Equal(t, key(s), key(geysertest.Slot(10, geyserpb.SlotStatus_SLOT_CONFIRMED)))
	require.NotEqual(t, key(s), key(geysertest.Slot(10, geyserpb.SlotStatus_SLOT_FINALIZED)))
	require.NotEqual(t, key(geysertest.Entry(10, 1)), key(geysertest.Entry(10, 2)))
	require.Equal(t, key(geysertest.BlockMeta(10, "a", 1)), key(geysertest.BlockMeta(10, "a", 1)))

	all := map[string]bool{}
	for _, u := range []*geyserpb.SubscribeUpdate{a, tx, s, geysertest.Entry(10, 1), geysertest.BlockMeta(10, "a", 1)} {
		all[key(u)] = true
	}
	require.Len(t, all, 5, "kinds never collide")

	_, ok := source.DedupKeyOf(enc(t, &geyserpb.SubscribeUpdate{UpdateOneof: &geyserpb.SubscribeUpdate_Ping{Ping: &geyserpb.SubscribeUpdatePing{}}}))
	require.False(t, ok)
}
