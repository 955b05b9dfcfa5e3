package vm

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hyperstack-go/hyperstack/internal/event"
	"github.com/hyperstack-go/hyperstack/internal/solana"
)

// TestStateMemoryBounded runs millions of ORE events, every deploy by a new miner and a new round
// every 500 deploys, through a Machine with small capacities, and checks that the live heap stays
// bounded by them. It is opt-in (it takes minutes):
//
//	HYPERSTACK_VM_MEMORY_EVENTS=10000000 go test ./internal/vm -run TestStateMemoryBounded -v
//
// It logs VmRSS and the live heap after a collection every million events and at the end.
func TestStateMemoryBounded(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("HYPERSTACK_VM_MEMORY_EVENTS"))
	if n <= 0 {
		t.Skip("set HYPERSTACK_VM_MEMORY_EVENTS (e.g. 10000000) to run the state memory test")
	}
	w := newOreWorld(t, oreConfig())
	cfg := oreConfig()
	cfg.StateCapacity, cfg.LookupCapacity, cfg.VersionCapacity = 1000, 1000, 1000
	cfg.PendingKeys, cfg.DedupCapacity, cfg.RecentTxCapacity, cfg.ResolverCacheCapacity = 100, 200, 200, 1000
	m, err := NewMachine(w.p, cfg)
	require.NoError(t, err)

	// Templates; the varying keys are written into copies of them.
	auth0, auth1 := pk("mem-auth-0"), pk("mem-auth-1")
	miner := func(auth solana.Pubkey) []byte {
		data, err := w.ore.EncodeAccount("Miner", map[string]any{
			"authority": auth.String(), "deployed": u64s(25, func(i int) uint64 { return uint64(i * 1000) }),
			"cumulative": u64s(25, func(i int) uint64 { return uint64(i) }), "checkpoint_fee": uint64(10),
			"checkpoint_id": uint64(1), "last_claim_ore_at": int64(1), "last_claim_sol_at": int64(1),
			"rewards_factor": map[string]any{"bits": u64s(16, func(int) uint64 { return 0 })}, "rewards_sol": uint64(5),
			"rewards_ore": uint64(6), "refined_ore": uint64(7), "round_id": uint64(1), "lifetime_rewards_sol": uint64(8),
			"lifetime_rewards_ore": uint64(9), "lifetime_deployed": uint64(10),
		})
		require.NoError(t, err)
		return data
	}
	round := func(id uint64) []byte {
		data, err := w.ore.EncodeAccount("Round", map[string]any{
			"id": id, "deployed": u64s(25, func(i int) uint64 { return uint64(i) * 1_000_000 }), "slot_hash": bytes32(0),
			"count": u64s(25, func(i int) uint64 { return uint64(i) }), "expires_at": uint64(3_000_000), "motherlode": uint64(1 << 40),
			"rent_payer": pk("payer").String(), "top_miner": pk("top").String(), "top_miner_reward": uint64(0),
			"total_deployed": uint64(1 << 30), "total_miners": uint64(3), "total_vaulted": uint64(5), "total_winnings": uint64(0),
		})
		require.NoError(t, err)
		return data
	}
	minerData := miner(auth0)
	authAt := bytes.Index(minerData, auth0[:])
	require.Equal(t, authAt, bytes.Index(miner(auth1), auth1[:]))
	roundData, idAt := round(1), diffAt(round(1), round(2))
	deployDef, _ := w.ore.Instruction("deploy")
	deployData, err := w.ore.EncodeInstruction("deploy", map[string]any{"amount": uint64(1000), "squares": uint64(3)})
	require.NoError(t, err)
	key := func(kind byte, i uint64) (k solana.Pubkey) {
		k[0] = kind
		binary.LittleEndian.PutUint64(k[8:], i)
		k[31] = 0x5a
		return k
	}

	var evs [3]event.Event
	checkpoint := func(done int) (rss, live uint64) {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		rss = vmRSS()
		s := m.Stats()
		t.Logf("%d events: VmRSS %.1f MiB, live heap %.1f MiB, %d objects; evictions %d, pending %d, mutations %d",
			done, float64(rss)/(1<<20), float64(ms.HeapAlloc)/(1<<20), ms.HeapObjects, s.Evictions, s.PendingNow, s.Mutations)
		return rss, ms.HeapAlloc
	}
	var liveAt1M uint64
	done := 0
	for tx := uint64(0); done < n; tx++ {
		r := tx / 500
		auth, minerAddr, roundAddr := key(1, tx), key(2, tx), key(3, r)
		slot := 10_000_000 + tx/4
		accounts := make([]solana.Pubkey, len(deployDef.Accounts))
		accounts[1], accounts[5], accounts[6], accounts[9] = auth, minerAddr, roundAddr, pk("mem-var")
		s := sig(strconv.FormatUint(tx, 10))
		evs[0] = event.Event{Kind: event.KindInstruction, Slot: slot, Instruction: &event.Instruction{
			ProgramID: w.oreID, Accounts: accounts, Data: deployData, Path: []int{0}, Signature: s, Slot: slot, TxnIndex: tx % 8}}
		rd := append([]byte(nil), roundData...)
		binary.LittleEndian.PutUint64(rd[idAt:], 1000+r)
		md := append([]byte(nil), minerData...)
		copy(md[authAt:], auth[:])
		evs[1] = event.Event{Kind: event.KindAccount, Slot: slot, Account: &event.Account{Pubkey: roundAddr, Owner: w.oreID, Data: rd, Slot: slot, WriteVersion: 3 * tx, TxnSignature: s}}
		evs[2] = event.Event{Kind: event.KindAccount, Slot: slot, Account: &event.Account{Pubkey: minerAddr, Owner: w.oreID, Data: md, Slot: slot, WriteVersion: 3*tx + 1, TxnSignature: s}}
		for i := range evs {
			if _, err := m.Process(&evs[i]); err != nil {
				t.Fatal(err)
			}
			done++
			if done%1_000_000 == 0 && done < n {
				if _, l := checkpoint(done); done == 1_000_000 {
					liveAt1M = l
				}
			}
		}
	}
	_, live := checkpoint(done)
	require.NotZero(t, m.Stats().Evictions, "the capacities were reached")
	if liveAt1M > 0 {
		require.Less(t, live, liveAt1M+liveAt1M/2+8<<20, "the live heap grew past the state bounds")
	}
}

// diffAt returns the first offset where a and b differ.
func diffAt(a, b []byte) int {
	for i := range a {
		if a[i] != b[i] {
			return i
		}
	}
	return -1
}

// vmRSS is the process's resident set size from /proc/self/status (0 where unavailable).
func vmRSS() uint64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line := sc.Text(); strings.HasPrefix(line, "VmRSS:") {
			var kb uint64
			if _, err := fmt.Sscanf(strings.TrimSpace(strings.TrimPrefix(line, "VmRSS:")), "%d kB", &kb); err == nil {
				return kb << 10
			}
		}
	}
	return 0
}
