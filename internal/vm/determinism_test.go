package vm

import (
	"errors"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hyperstack-go/hyperstack/internal/event"
	"github.com/hyperstack-go/hyperstack/internal/solana"
)

func TestDeterministicAcrossGOMAXPROCS(t *testing.T) {
	prev := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(prev)
	one := oreScenario(t)
	again := oreScenario(t)
	runtime.GOMAXPROCS(2)
	two := oreScenario(t)
	require.NotEmpty(t, one)
	require.Equal(t, string(one), string(again), "two runs at GOMAXPROCS=1 differ")
	require.Equal(t, string(one), string(two), "GOMAXPROCS=1 and GOMAXPROCS=2 differ")
}

// FuzzProcess feeds the ORE machine accounts and instructions with arbitrary data: nothing panics,
// and the only errors are handler RuntimeErrors.
func FuzzProcess(f *testing.F) {
	w := newOreWorld(f, oreConfig())
	// Seeds: every ORE account encoded properly, plus truncations.
	seedAccounts := map[string]map[string]any{}
	_ = seedAccounts
	for _, name := range []string{"Round", "Treasury", "Miner", "Automation"} {
		def, ok := w.ore.Account(name)
		require.True(f, ok)
		f.Add(byte(0), byte(0), append(append([]byte{}, def.Discriminator...), make([]byte, 600)...))
		f.Add(byte(0), byte(0), append([]byte{}, def.Discriminator...))
	}
	f.Add(byte(0), byte(1), make([]byte, 8+300))
	f.Add(byte(1), byte(0), []byte{6, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})
	f.Add(byte(1), byte(0), []byte{9})
	f.Add(byte(1), byte(1), []byte{4, 1, 2})
	f.Add(byte(1), byte(0), []byte{0xe4, 0x45, 0xa5, 0x2e, 0x51, 0xcb, 0x9a, 0x1d, 0, 0, 0, 0, 0, 0, 0, 0, 1})
	f.Add(byte(2), byte(0), []byte{2, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0})

	f.Fuzz(func(t *testing.T, kind, prog byte, data []byte) {
		m, err := NewMachine(w.p, oreConfig())
		require.NoError(t, err)
		owner := w.oreID
		if prog%2 == 1 {
			owner = w.entropyID
		}
		accounts := make([]solana.Pubkey, int(prog)%20)
		for i := range accounts {
			accounts[i] = pk(string(rune('a' + i%3)))
		}
		var ev *event.Event
		switch kind % 3 {
		case 0:
			ev = &event.Event{Kind: event.KindAccount, Slot: 5, Account: &event.Account{Pubkey: pk("acct"), Owner: owner, Data: data, WriteVersion: 1}}
		case 1:
			ev = &event.Event{Kind: event.KindInstruction, Slot: 5, Instruction: &event.Instruction{ProgramID: owner, Accounts: accounts, Data: data, Path: []int{0}, Signature: sig("f")}}
		default:
			ev = &event.Event{Kind: event.KindAccount, Slot: 5, Account: &event.Account{Pubkey: SlotHashesSysvar, Data: data}}
		}
		for i := 0; i < 2; i++ {
			_, err := m.Process(ev)
			if err != nil {
				var re *RuntimeError
				require.True(t, errors.As(err, &re), "unexpected error %v", err)
			}
		}
	})
}
