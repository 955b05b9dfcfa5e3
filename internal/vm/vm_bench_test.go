package vm

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hyperstack-go/hyperstack/internal/event"
	"github.com/hyperstack-go/hyperstack/internal/solana"
)

// oreTraffic is a cycle of ORE-like events: per deploy transaction a Deploy instruction, the Round
// account it changes, the deployer's Miner account and, for every fourth, its Automation account;
// a Var update every 50 deploys; a Reset and a Treasury update when a round ends.
type oreTraffic struct {
	events []event.Event
}

func buildOreTraffic(tb testing.TB, w *oreWorld) *oreTraffic {
	const (
		rounds          = 4
		deploysPerRound = 250
		miners          = 512
		roundVariants   = 16
	)
	tr := &oreTraffic{}
	varA, treasury := pk("bench-var"), pk("bench-treasury")
	enc := func(name string, v map[string]any) []byte {
		p := w.ore
		if name == "Var" {
			p = w.entropy
		}
		data, err := p.EncodeAccount(name, v)
		require.NoError(tb, err)
		return data
	}
	account := func(owner, addr solana.Pubkey, data []byte) event.Event {
		return event.Event{Kind: event.KindAccount, Account: &event.Account{Pubkey: addr, Owner: owner, Data: data, TxnSignature: sig("bench")}}
	}
	ix := func(prog solana.Pubkey, accounts []solana.Pubkey, data []byte, s solana.Signature) event.Event {
		return event.Event{Kind: event.KindInstruction, Instruction: &event.Instruction{ProgramID: prog, Accounts: accounts, Data: data, Path: []int{0}, Signature: s}}
	}
	deployDef, _ := w.ore.Instruction("deploy")
	resetDef, _ := w.ore.Instruction("reset")
	deployData, err := w.ore.EncodeInstruction("deploy", map[string]any{"amount": uint64(1_000_000), "squares": uint64(7)})
	require.NoError(tb, err)
	resetData, err := w.ore.EncodeInstruction("reset", nil)
	require.NoError(tb, err)
	numeric := map[string]any{"bits": u64s(16, func(int) uint64 { return 0 })}

	for r := 0; r < rounds; r++ {
		roundAddr := pk(fmt.Sprint("bench-round-", r))
		next := pk(fmt.Sprint("bench-round-", (r+1)%rounds))
		variants := make([][]byte, roundVariants)
		for v := range variants {
			variants[v] = enc("Round", map[string]any{
				"id": uint64(5000 + r), "deployed": u64s(25, func(i int) uint64 { return uint64(v*1_000_000 + i*12_345_678) }),
				"slot_hash": bytes32(0), "count": u64s(25, func(i int) uint64 { return uint64(v + i) }),
				"expires_at": uint64(2_000_000 + r*150), "motherlode": uint64(123_456_789_000), "rent_payer": pk("payer").String(),
				"top_miner": pk("top").String(), "top_miner_reward": uint64(0), "total_deployed": uint64(v * 25_000_000),
				"total_miners": uint64(v), "total_vaulted": uint64(v * 1000), "total_winnings": uint64(0),
			})
		}
		tr.events = append(tr.events, account(w.oreID, roundAddr, variants[0]))
		for d := 0; d < deploysPerRound; d++ {
			mi := (r*deploysPerRound + d) % miners
			minerAddr, auth := pk(fmt.Sprint("bench-miner-", mi)), pk(fmt.Sprint("bench-auth-", mi))
			accs := make([]solana.Pubkey, len(deployDef.Accounts))
			for i := range accs {
				accs[i] = pk(fmt.Sprint("bench-acc-", i))
			}
			accs[1], accs[5], accs[6], accs[9] = auth, minerAddr, roundAddr, varA
			tr.events = append(tr.events, ix(w.oreID, accs, deployData, sig(fmt.Sprint("bench-deploy-", r, d))))
			tr.events = append(tr.events, account(w.oreID, roundAddr, variants[d%roundVariants]))
			tr.events = append(tr.events, account(w.oreID, minerAddr, enc("Miner", map[string]any{
				"authority": auth.String(), "deployed": u64s(25, func(i int) uint64 { return uint64(d * i) }),
				"cumulative": u64s(25, func(i int) uint64 { return uint64(d + i) }), "checkpoint_fee": uint64(10),
				"checkpoint_id": uint64(r), "last_claim_ore_at": int64(1_700_000_000), "last_claim_sol_at": int64(1_700_000_000),
				"rewards_factor": numeric, "rewards_sol": uint64(d * 1000), "rewards_ore": uint64(d * 10),
				"refined_ore": uint64(d), "round_id": uint64(5000 + r), "lifetime_rewards_sol": uint64(d * 5000),
				"lifetime_rewards_ore": uint64(d * 50), "lifetime_deployed": uint64(d * 1_000_000),
			})))
			if d%4 == 0 {
				tr.events = append(tr.events, account(w.oreID, pk(fmt.Sprint("bench-auto-", mi)), enc("Automation", map[string]any{
					"amount": uint64(d), "authority": auth.String(), "balance": uint64(77), "executor": pk("exec").String(),
					"fee": uint64(1), "strategy": uint64(2), "mask": uint64(0x1ffffff), "reload": uint64(0),
				})))
			}
			if d%50 == 0 {
				tr.events = append(tr.events, account(w.entropyID, varA, enc("Var", map[string]any{
					"authority": pk("var-auth").String(), "id": uint64(0), "provider": pk("provider").String(),
					"commit": bytes32(1), "seed": bytes32(2), "slot_hash": bytes32(3), "value": bytes32(0),
					"samples": uint64(5), "is_auto": uint64(0), "start_at": uint64(1), "end_at": uint64(2_000_000 + r*150),
				})))
			}
		}
		accs := make([]solana.Pubkey, len(resetDef.Accounts))
		for i := range accs {
			accs[i] = pk(fmt.Sprint("bench-reset-acc-", i))
		}
		accs[5], accs[6], accs[8], accs[14] = roundAddr, next, treasury, varA
		tr.events = append(tr.events, ix(w.oreID, accs, resetData, sig(fmt.Sprint("bench-reset-", r))))
		tr.events = append(tr.events, account(w.oreID, treasury, enc("Treasury", map[string]any{
			"balance": uint64(r), "buffer_a": uint64(0), "motherlode": uint64(r * 1000), "miner_rewards_factor": numeric,
			"stake_rewards_factor": numeric, "buffer_b": uint64(0), "total_refined": uint64(1), "total_staked": uint64(2),
			"total_unclaimed": uint64(3),
		})))
	}
	return tr
}

// at returns event i of an endless stream: the cycle with monotonic slots, write versions and
// transaction indexes.
func (tr *oreTraffic) at(i int) *event.Event {
	ev := &tr.events[i%len(tr.events)]
	ev.Slot = 10_000_000 + uint64(i/8)
	if ev.Account != nil {
		ev.Account.Slot, ev.Account.WriteVersion = ev.Slot, uint64(i)
	} else {
		ev.Instruction.Slot, ev.Instruction.TxnIndex = ev.Slot, uint64(i%8)
	}
	return ev
}

// BenchmarkOreTraffic measures decoding plus the VM on ORE-like traffic, one core.
func BenchmarkOreTraffic(b *testing.B) {
	w := newOreWorld(b, oreConfig())
	tr := buildOreTraffic(b, w)
	m, err := NewMachine(w.p, oreConfig())
	require.NoError(b, err)
	// Warm the tables with one cycle.
	for i := 0; i < len(tr.events); i++ {
		_, _ = m.Process(tr.at(i))
	}
	b.ReportAllocs()
	b.ResetTimer()
	start, cpu := time.Now(), processCPU()
	muts, patchBytes := 0, 0
	for i := 0; i < b.N; i++ {
		out, err := m.Process(tr.at(len(tr.events) + i))
		if err != nil {
			b.Fatal(err)
		}
		muts += len(out)
		for j := range out {
			patchBytes += len(out[j].Patch)
		}
	}
	el := time.Since(start).Seconds()
	b.ReportMetric(float64(b.N)/el, "events/s")
	if c := (processCPU() - cpu).Seconds(); c > 0 {
		// Events per second of CPU time (GC included): the one-core rate on an idle machine.
		b.ReportMetric(float64(b.N)/c, "events/cpu-s")
	}
	b.ReportMetric(float64(muts)/float64(b.N), "mutations/event")
	b.ReportMetric(float64(patchBytes)/float64(b.N), "patch-bytes/event")
}

// BenchmarkOreDecodeOnly measures the IDL decoding of the same traffic, for comparison.
func BenchmarkOreDecodeOnly(b *testing.B) {
	w := newOreWorld(b, oreConfig())
	tr := buildOreTraffic(b, w)
	b.ReportAllocs()
	b.ResetTimer()
	start, cpu := time.Now(), processCPU()
	for i := 0; i < b.N; i++ {
		ev := tr.at(i)
		if ev.Account != nil {
			info := w.m.byID[ev.Account.Owner]
			_, _, _ = info.IDL.DecodeAccount(ev.Account.Data)
		} else {
			_, _, _ = w.ore.DecodeInstruction(ev.Instruction.Data)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
	if c := (processCPU() - cpu).Seconds(); c > 0 {
		b.ReportMetric(float64(b.N)/c, "events/cpu-s")
	}
}
