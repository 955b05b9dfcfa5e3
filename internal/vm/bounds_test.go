package vm

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestStateTablesAreBounded(t *testing.T) {
	cfg := oreConfig()
	cfg.StateCapacity = 10
	w := newOreWorld(t, cfg)
	for i := 0; i < 50; i++ {
		w.miner(pk(fmt.Sprint("m", i)), 100+uint64(i), minerFields{authority: pk(fmt.Sprint("a", i))})
	}
	require.Equal(t, 10, w.m.tables[2].rows.Len())
	require.Equal(t, uint64(40), w.m.Stats().Evictions)
	// The oldest miners were evicted, the newest kept.
	require.Nil(t, w.row(2, pk("a0").String()))
	require.NotNil(t, w.row(2, pk("a49").String()))
}

func TestPendingQueueBoundsAndExpiry(t *testing.T) {
	cfg := oreConfig()
	cfg.PendingPerKey = 3
	cfg.PendingTTLSlots = 100
	w := newOreWorld(t, cfg)
	r100, varA := pk("round-100"), pk("var")

	// Five deploys for a round not seen yet: the queue keeps the newest three.
	for i := 0; i < 5; i++ {
		w.deploy(r100, varA, 1000+uint64(i), sig(fmt.Sprint("d", i)), 0)
	}
	s := w.m.Stats()
	require.Equal(t, uint64(5), s.Queued)
	require.Equal(t, uint64(2), s.Dropped)
	require.Equal(t, 3, s.PendingNow)
	w.round(r100, 1010, round100())
	require.Equal(t, float64(3), w.state("OreRound", "100")["metrics"].(map[string]any)["deploy_count"])

	// A Var update waiting for a mapping expires after PendingTTLSlots of stream time.
	require.Empty(t, w.entropyVar(pk("other-var"), 1020, sig("v"), varFields{samples: 1}))
	require.Equal(t, 1, w.m.Stats().PendingNow)
	w.checkpoint(r100, 1100, sig("c1"), 0)
	require.Equal(t, 1, w.m.Stats().PendingNow, "not expired yet")
	w.checkpoint(r100, 1200, sig("c2"), 0)
	require.Equal(t, 0, w.m.Stats().PendingNow)
	require.Equal(t, uint64(1), w.m.Stats().Expired)
}

func TestDeferredWhenWritesExpire(t *testing.T) {
	cfg := oreConfig()
	cfg.WhenTTLSlots = 50
	w := newOreWorld(t, cfg)
	r100, varA := pk("round-100"), pk("var")
	w.round(r100, 1000, round100())
	w.deploy(r100, varA, 1001, sig("d"), 0)
	value := u64s(32, func(i int) uint64 { return uint64(i + 1) })
	w.entropyVar(varA, 1002, sig("late-reveal"), varFields{samples: 5, endAt: 1150, value: value})
	require.Len(t, w.m.deferred, 1)
	w.checkpoint(r100, 1100, sig("c"), 0) // 98 slots later: swept
	require.Empty(t, w.m.deferred)
	require.Empty(t, w.reveal(varA, 1, 1101, sig("late-reveal")), "the expired write is gone")
	require.Nil(t, w.state("OreRound", "100")["entropy"].(map[string]any)["entropy_value"])
}

func TestNewMachineRejectsBadConfig(t *testing.T) {
	p := loadTestSpec(t, "counter.stack.json")
	_, err := NewMachine(p, &Config{StateCapacity: -1})
	require.ErrorIs(t, err, ErrConfig)
	_, err = NewMachine(nil, nil)
	require.ErrorIs(t, err, ErrConfig)
	m, err := NewMachine(p, nil)
	require.NoError(t, err)
	require.Equal(t, DefaultStateCapacity, m.cfg.StateCapacity)
}

func TestReplayBudget(t *testing.T) {
	cfg := oreConfig()
	cfg.ReplayBudget = 2
	w := newOreWorld(t, cfg)
	r100, varA := pk("round-100"), pk("var")
	for i := 0; i < 3; i++ {
		w.deploy(r100, varA, 1000+uint64(i), sig(fmt.Sprint("d", i)), 0)
	}
	w.round(r100, 1010, round100())
	require.Equal(t, uint64(2), w.m.Stats().Replayed)
	require.Equal(t, uint64(1), w.m.Stats().Dropped)
	require.Equal(t, float64(2), w.state("OreRound", "100")["metrics"].(map[string]any)["deploy_count"])
}
