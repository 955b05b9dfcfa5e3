package source

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDedupSetPrune(t *testing.T) {
	d := newDedupSet()
	key := func(slot uint64, n byte) keyHash {
		return d.hash(append(binary.BigEndian.AppendUint64([]byte{1}, slot), n))
	}
	for s := uint64(100); s < 110; s++ {
		d.add(s, key(s, 1))
		d.add(s, key(s, 2))
	}
	require.Equal(t, 20, d.len())
	require.True(t, d.has(105, key(105, 2)))
	require.False(t, d.has(105, key(105, 3)))
	d.prune(105)
	require.Equal(t, 10, d.len())
	require.False(t, d.has(104, key(104, 1)))
	require.True(t, d.has(105, key(105, 1)))
	d.add(50, key(50, 1)) // below the cutoff: never held
	require.False(t, d.has(50, key(50, 1)))
	d.prune(1_000_000) // a jump far ahead
	require.Equal(t, 0, d.len())
}

func TestDedupCutoffFollowsTheResumeSlot(t *testing.T) {
	resume, ok := uint64(0), false
	y := &Yellowstone{cfg: Config{DedupSlots: 64, ResumeSlot: func() (uint64, bool) { return resume, ok }}}
	require.Equal(t, uint64(936), y.dedupCutoff(1000), "nothing durable yet: keep DedupSlots slots")
	resume, ok = 998, true
	require.Equal(t, uint64(998), y.dedupCutoff(1000), "keys below the resume slot are never replayed")
	resume = 10
	require.Equal(t, uint64(936), y.dedupCutoff(1000), "capped at DedupSlots")
	resume = 5000
	require.Equal(t, uint64(1000), y.dedupCutoff(1000))
	y.cfg.ResumeSlot = nil
	require.Equal(t, uint64(1000), y.dedupCutoff(1000), "resuming from the highest delivered slot")
	require.Equal(t, uint64(0), y.dedupCutoff(0))
}
