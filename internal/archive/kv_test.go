package archive_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hyperstack-go/hyperstack/internal/archive"
	"github.com/hyperstack-go/hyperstack/internal/archive/archivetest"
)

func TestKV(t *testing.T) {
	a := archivetest.MustCreate(t, nil)
	ctx := context.Background()

	require.NoError(t, a.UpdateKV(func(tx *archive.KVTx) error {
		for _, slot := range []uint64{100, 105, 110, 120} {
			if err := tx.Put("state-checkpoints", archive.SlotKey(slot), []byte{byte(slot)}); err != nil {
				return err
			}
		}
		for _, h := range []string{"bbb", "aaa"} {
			if err := tx.Put("goldens/"+h, archive.SlotKey(1), []byte(h)); err != nil {
				return err
			}
		}
		return tx.Put("resolver", []byte("token-metadata/xyz"), []byte(`{"decimals":9}`))
	}))

	hashes, err := a.Buckets(archive.NSGoldens)
	require.NoError(t, err)
	require.Equal(t, []string{"aaa", "bbb"}, hashes)

	var slots []uint64
	require.NoError(t, a.ForEachSlot(ctx, archive.NSStateCheckpoints, 101, 110, func(s uint64, v []byte) error {
		require.Equal(t, []byte{byte(s)}, v)
		slots = append(slots, s)
		return nil
	}))
	require.Equal(t, []uint64{105, 110}, slots)

	k, v, err := a.Floor(archive.NSStateCheckpoints, archive.SlotKey(119))
	require.NoError(t, err)
	require.Equal(t, archive.SlotKey(110), k)
	require.Equal(t, []byte{110}, v)
	k, _, err = a.Floor(archive.NSStateCheckpoints, archive.SlotKey(500))
	require.NoError(t, err)
	require.Equal(t, archive.SlotKey(120), k)
	k, _, err = a.Floor(archive.NSStateCheckpoints, archive.SlotKey(110))
	require.NoError(t, err)
	require.Equal(t, archive.SlotKey(110), k)
	_, _, err = a.Floor(archive.NSStateCheckpoints, archive.SlotKey(99))
	require.ErrorIs(t, err, archive.ErrNotFound)

	val, err := a.GetKV(archive.NSResolver, []byte("token-metadata/xyz"))
	require.NoError(t, err)
	require.JSONEq(t, `{"decimals":9}`, string(val))
	_, err = a.GetKV(archive.NSResolver, []byte("missing"))
	require.ErrorIs(t, err, archive.ErrNotFound)
	_, err = a.GetKV("goldens/nope", []byte("x"))
	require.ErrorIs(t, err, archive.ErrNotFound)

	for _, bad := range []string{"", "updates", "meta", "goldens//x", "/goldens"} {
		require.ErrorIs(t, a.Put(bad, []byte("k"), []byte("v")), archive.ErrBadBucket, bad)
	}
	require.ErrorIs(t, a.Put(archive.NSResolver, nil, []byte("v")), archive.ErrBadBucket)

	var keys []string
	require.NoError(t, a.ForEach(ctx, archive.NSGoldens, nil, nil, func(k, v []byte) error {
		keys = append(keys, string(k))
		return nil
	}))
	require.Empty(t, keys, "nested buckets are skipped")

	st, err := a.Stats()
	require.NoError(t, err)
	require.Equal(t, uint64(4), st.Derived[archive.NSStateCheckpoints])
	require.Equal(t, uint64(1), st.Derived[archive.NSResolver])

	require.NoError(t, a.UpdateKV(func(tx *archive.KVTx) error {
		if err := tx.Delete(archive.NSResolver, []byte("token-metadata/xyz")); err != nil {
			return err
		}
		return tx.DeleteBucket("goldens/aaa")
	}))
	hashes, err = a.Buckets(archive.NSGoldens)
	require.NoError(t, err)
	require.Equal(t, []string{"bbb"}, hashes)
	require.ErrorIs(t, a.UpdateKV(func(tx *archive.KVTx) error { return tx.DeleteBucket(archive.NSGoldens) }), archive.ErrBadBucket)
}
