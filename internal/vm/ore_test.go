package vm

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/bits"
	"strconv"
	"testing"

	"github.com/mr-tron/base58"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/sha3"

	"github.com/hyperstack-go/hyperstack/internal/event"
	"github.com/hyperstack-go/hyperstack/internal/solana"
)

// The ORE scenarios state the entity state they expect, derived by hand from
// ../shared/fixtures/hyperstack/OreStream.stack.json (see design/vm.md §1.14): which mapping writes
// which field, which fields are hidden (emit=false), and how the computed fields are defined.

func oreConfig() *Config {
	return &Config{Resolvers: &StaticResolvers{Tokens: map[string]TokenMetadata{
		oreMint: {Name: "Ore", Symbol: "ORE", Decimals: 11},
	}}}
}

const oreMetadataJSON = `{"decimals":11,"logo_uri":null,"mint":"oreoU2P8bN6jkk3jbaiVxYnG1dCXcYxwhwyK9jSybcp","name":"Ore","symbol":"ORE"}`

func b58of(b byte) string {
	out := make([]byte, 32)
	for i := range out {
		out[i] = b
	}
	return base58.Encode(out)
}

func jsonOf(t testing.TB, v any) string {
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

// round100 is the round every scenario starts from.
func round100() roundFields {
	return roundFields{
		id: 100, expiresAt: 1150, motherlode: 250_000_000_000, topMinerReward: 300_000_000_000,
		totalDeployed: 325_000_000_000, totalMiners: 7, totalVaulted: 1_000_000_000,
		deployed: u64s(25, func(i int) uint64 { return uint64(i+1) * 1_000_000_000 }),
		count:    u64s(25, func(i int) uint64 { return uint64(i) }),
		topMiner: pk("top-miner"), rentPayer: pk("rent-payer"),
	}
}

func seqFloats(n int) string {
	s := "["
	for i := 1; i <= n; i++ {
		if i > 1 {
			s += ","
		}
		s += strconv.Itoa(i) + ".0"
	}
	return s + "]"
}

func TestOreRoundWithDeploysAndCheckpoint(t *testing.T) {
	w := newOreWorld(t, oreConfig())
	r100, varA := pk("round-100"), pk("var")

	muts := w.round(r100, 1000, round100())
	require.Len(t, muts, 1)
	m := muts[0]
	require.Equal(t, "OreRound", m.Export)
	require.Equal(t, "100", string(m.Key), "rounds are keyed by the numeric round id")
	require.Equal(t, "ore::RoundState", m.Handler)
	require.Equal(t, uint64(1000), m.Slot)
	// Floats are written like serde_json: whole numbers keep ".0".
	require.Contains(t, string(m.Patch), `"deployed_per_square_ui":`+seqFloats(25))
	require.Contains(t, string(m.Patch), `"motherlode":2.5,`)
	require.Contains(t, string(m.Patch), `"total_winnings":0.0`)

	// Two deploys in one transaction (instructions 0 and 1) and one in another all count.
	w.deploy(r100, varA, 1001, sig("tx1"), 3, 0)
	w.deploy(r100, varA, 1001, sig("tx1"), 3, 1)
	w.deploy(r100, varA, 1001, sig("tx2"), 4, 0)
	w.checkpoint(r100, 1002, sig("tx3"), 0)
	require.Empty(t, w.errs)

	deployed := u64s(25, func(i int) uint64 { return uint64(i+1) * 1_000_000_000 })
	counts := u64s(25, func(i int) uint64 { return uint64(i) })
	want := fmt.Sprintf(`{
		"id": {"round_id": 100, "round_address": %q},
		"ore_metadata": %s,
		"state": {
			"total_miners": 7,
			"deployed_per_square": %s,
			"count_per_square": %s,
			"deployed_per_square_ui": %s,
			"estimated_expires_at_unix": null,
			"motherlode": 2.5,
			"total_deployed": 325.0,
			"total_vaulted": 1.0,
			"total_winnings": 0.0
		},
		"results": {"top_miner": %q, "rent_payer": %q, "slot_hash": %q},
		"metrics": {"deploy_count": 3, "checkpoint_count": 1}
	}`, r100, oreMetadataJSON, jsonOf(t, deployed), jsonOf(t, counts), seqFloats(25),
		pk("top-miner"), pk("rent-payer"), b58of(0))
	require.JSONEq(t, want, jsonOf(t, w.state("OreRound", "100")))

	// Hidden fields are stored but never emitted.
	row := w.row(0, uint64(100))
	require.Equal(t, uint64(250_000_000_000), row["state"].(map[string]any)["__motherlode_raw"])
	require.Equal(t, uint64(300_000_000_000), row["results"].(map[string]any)["__top_miner_reward_raw"])
	for _, m := range w.muts {
		require.NotContains(t, string(m.Patch), "__", "hidden fields leaked into %s", m.Patch)
	}
	// The deploys registered the entropy var → round PDA mapping.
	seed, ok := w.m.tables[0].pda.Peek(varA.String())
	require.True(t, ok)
	require.Equal(t, r100.String(), seed)
	require.Equal(t, uint64(0), w.m.Stats().Stale)
}

func TestOreUpdatesBeforeTheirMapping(t *testing.T) {
	w := newOreWorld(t, oreConfig())
	r100, varA := pk("round-100"), pk("var")

	// The Var account arrives before any instruction maps it to a round, and a Deploy arrives before
	// the Round account: both wait.
	require.Empty(t, w.entropyVar(varA, 990, sig("var-tx"), varFields{id: 1, samples: 5, startAt: 1000, endAt: 1150, seed: 3, slotHash: 4}))
	require.Empty(t, w.deploy(r100, varA, 995, sig("early-deploy"), 1))
	require.Equal(t, 2, w.m.Stats().PendingNow)

	// The Round account indexes its address: the queued Deploy replays (with its own slot). The
	// Deploy's hook then maps the Var to the round, and the queued Var replays too.
	muts := w.round(r100, 1000, round100())
	require.Len(t, muts, 3)
	require.Equal(t, []string{"ore::RoundState", "ore::DeployIxState", "entropy::VarState"},
		[]string{muts[0].Handler, muts[1].Handler, muts[2].Handler})
	require.Equal(t, []uint64{1000, 995, 990}, []uint64{muts[0].Slot, muts[1].Slot, muts[2].Slot})
	require.Equal(t, `{"metrics":{"deploy_count":1}}`, string(muts[1].Patch))
	require.Equal(t, 0, w.m.Stats().PendingNow)
	// Replays: the Var once when the early Deploy's hook mapped it (the round was still unknown, so it
	// queued again under the round address), then the Deploy and the Var when the round appeared.
	require.Equal(t, uint64(3), w.m.Stats().Replayed)

	st := w.state("OreRound", "100")
	want := fmt.Sprintf(`{
		"entropy_end_at": 1150, "entropy_samples": 5, "entropy_seed": %q, "entropy_slot_hash": %q,
		"entropy_start_at": 1000, "entropy_var_address": %q
	}`, b58of(3), b58of(4), varA)
	require.JSONEq(t, want, jsonOf(t, st["entropy"]))
	require.Equal(t, float64(1150), st["state"].(map[string]any)["expires_at"])
	// With the entropy section present the results section evaluates: the reward uses the token
	// metadata's 11 decimals; rng needs the revealed value bytes, which are not there yet.
	require.JSONEq(t, fmt.Sprintf(`{
		"top_miner": %q, "rent_payer": %q, "slot_hash": %q, "top_miner_reward": 3.0,
		"expires_at_slot_hash": null, "rng": null, "winning_square": null, "did_hit_motherlode": null,
		"pre_reveal_rng": null, "pre_reveal_winning_square": null
	}`, pk("top-miner"), pk("rent-payer"), b58of(0)), jsonOf(t, st["results"]))
}

// rngOf is the spec's results.rng: the XOR of the four little-endian u64 words of the value.
func rngOf(value []byte) uint64 {
	return binary.LittleEndian.Uint64(value[0:]) ^ binary.LittleEndian.Uint64(value[8:]) ^
		binary.LittleEndian.Uint64(value[16:]) ^ binary.LittleEndian.Uint64(value[24:])
}

func TestOreRevealGatesTheEntropyValue(t *testing.T) {
	w := newOreWorld(t, oreConfig())
	r100, varA := pk("round-100"), pk("var")
	w.round(r100, 1000, round100())
	w.deploy(r100, varA, 1001, sig("d"), 0)

	value := make([]byte, 32)
	valueJSON := make([]any, 32)
	for i := range value {
		value[i] = byte(i*7 + 1)
		valueJSON[i] = uint64(value[i])
	}
	vf := varFields{id: 1, samples: 5, startAt: 1000, endAt: 1150, seed: 3, slotHash: 4, value: valueJSON}

	// A revealed value without a Reveal in its transaction is held back.
	muts := w.entropyVar(varA, 1140, sig("no-reveal"), vf)
	require.Len(t, muts, 1)
	require.NotContains(t, string(muts[0].Patch), "entropy_value")
	require.Equal(t, uint64(2), w.m.Stats().Deferred, "entropy_value and entropy_value_bytes wait")

	// The Var update and its Reveal in one transaction: the account comes first, the write waits
	// for the instruction, which applies it with the computed fields it changes.
	require.Len(t, w.entropyVar(varA, 1149, sig("reveal-tx"), vf), 1)
	muts = w.reveal(varA, 3, 1149, sig("reveal-tx"))
	require.Len(t, muts, 1)
	rng := rngOf(value)
	hit := bits.Reverse64(rng)%625 == 0
	require.Equal(t, "entropy::VarState", muts[0].Handler)
	require.JSONEq(t, fmt.Sprintf(`{"entropy":{"entropy_value":%q},"results":{"did_hit_motherlode":%v,"rng":%d,"winning_square":%d}}`,
		base58.Encode(value), hit, rng, rng%25), string(muts[0].Patch))
	require.Contains(t, string(muts[0].Patch), fmt.Sprintf(`"rng":%d`, rng), "u64 values stay exact")
	require.Equal(t, uint64(2), w.m.Stats().WhenApplied)

	// Instruction first, then the account of the same transaction: applied at once.
	value2 := make([]any, 32)
	for i := range value2 {
		value2[i] = uint64(200 - i)
	}
	w.reveal(varA, 3, 1160, sig("reveal-2"))
	vf.value = value2
	muts = w.entropyVar(varA, 1160, sig("reveal-2"), vf)
	require.Len(t, muts, 1)
	v2 := make([]byte, 32)
	for i := range v2 {
		v2[i] = byte(200 - i)
	}
	require.Contains(t, string(muts[0].Patch), fmt.Sprintf(`"entropy_value":%q`, base58.Encode(v2)))
	require.Contains(t, string(muts[0].Patch), fmt.Sprintf(`"rng":%d`, rngOf(v2)))
}

func TestOreResetMovesTreasuryToTheNextRound(t *testing.T) {
	w := newOreWorld(t, oreConfig())
	r100, r101, r102, varA, treasury := pk("round-100"), pk("round-101"), pk("round-102"), pk("var"), pk("treasury")
	w.round(r100, 1000, round100())

	// Before any Reset the Treasury feeds OreTreasury (keyed by its own address) and waits for
	// OreRound.
	muts := w.treasury(treasury, 1001, 5_000_000_000, 100_000_000_000)
	require.Len(t, muts, 1)
	require.Equal(t, "OreTreasury", muts[0].Export)
	require.Equal(t, jsonOf(t, treasury.String()), string(muts[0].Key))
	require.JSONEq(t, fmt.Sprintf(`{
		"id": {"address": %q},
		"state": {"balance": 5000000000, "motherlode": 1.0, "total_refined": 7e-11, "total_staked": 8e-11, "total_unclaimed": 9e-11},
		"treasury_snapshot": {"account_address": %q, "slot": 1001, "signature": %q, "timestamp": null,
			"data": {"balance": 5000000000, "buffer_a": 0, "buffer_b": 0, "motherlode": 100000000000,
				"miner_rewards_factor": {"bits": [0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]},
				"stake_rewards_factor": {"bits": [0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]},
				"total_refined": 7, "total_staked": 8, "total_unclaimed": 9}}
	}`, treasury, treasury, sig("treasury-tx")), string(muts[0].Patch))
	require.Equal(t, 1, w.m.Stats().PendingNow)

	// Round 101 appears; Reset(100 → 101) maps the treasury to round 101 and the queued Treasury
	// update replays there.
	w.round(r101, 1150, roundFields{id: 101, expiresAt: 1300})
	muts = w.reset(r100, r101, treasury, varA, 1151, sig("reset-1"))
	require.Len(t, muts, 1)
	require.Equal(t, "101", string(muts[0].Key))
	require.Equal(t, "ore::TreasuryState", muts[0].Handler)
	require.Equal(t, `{"treasury":{"motherlode":1.0}}`, string(muts[0].Patch))
	require.Equal(t, uint64(100_000_000_000), w.row(0, uint64(101))["treasury"].(map[string]any)["__motherlode_raw"])

	// The stop flag lands on the row keyed by the raw roundNext address (reference behaviour).
	require.Equal(t, map[string]any{"__stop:treasury": map[string]any{"__motherlode_raw": true}}, w.row(0, r101.String()))

	// Later Treasury updates keep writing round 101 until the next Reset.
	muts = w.treasury(treasury, 1200, 6_000_000_000, 150_000_000_000)
	require.Len(t, muts, 2)
	require.Equal(t, "101", string(muts[0].Key))
	require.Equal(t, `{"treasury":{"motherlode":1.5}}`, string(muts[0].Patch))
	require.Equal(t, "OreTreasury", muts[1].Export)

	// Reset(101 → 102) remaps the treasury; round 102 is not known yet, so the next Treasury update
	// waits for it and round 101 keeps 1.5.
	w.reset(r101, r102, treasury, varA, 1301, sig("reset-2"))
	muts = w.treasury(treasury, 1302, 6_000_000_000, 10_000_000_000)
	require.Len(t, muts, 1)
	require.Equal(t, "OreTreasury", muts[0].Export)
	muts = w.round(r102, 1303, roundFields{id: 102, expiresAt: 1450})
	require.Len(t, muts, 2)
	require.Equal(t, "102", string(muts[1].Key))
	require.Equal(t, `{"treasury":{"motherlode":0.1}}`, string(muts[1].Patch))
	require.Equal(t, 1.5, w.state("OreRound", "101")["treasury"].(map[string]any)["motherlode"])
	require.Empty(t, w.errs)
}

func TestOreMinerAndCheckpoint(t *testing.T) {
	w := newOreWorld(t, oreConfig())
	r100, minerAddr, auth, autoAddr := pk("round-100"), pk("miner"), pk("miner-authority"), pk("automation")
	w.round(r100, 1000, round100())

	muts := w.miner(minerAddr, 1001, minerFields{authority: auth, rewardsSol: 11, rewardsOre: 22, refinedOre: 33, roundID: 100, checkpointID: 99, lifeSol: 44})
	require.Len(t, muts, 1)
	require.Equal(t, "OreMiner", muts[0].Export)
	require.Equal(t, jsonOf(t, auth.String()), string(muts[0].Key), "miners are keyed by the base58 authority")
	w.checkpoint(r100, 1002, sig("cp"), 0)
	w.automation(autoAddr, 1003, auth, pk("executor"), 5000)

	st := w.state("OreMiner", jsonOf(t, auth.String()))
	snapshot := st["miner_snapshot"].(map[string]any)
	require.Equal(t, auth.String(), snapshot["data"].(map[string]any)["authority"], "the capture transforms the authority to base58")
	delete(st, "miner_snapshot")
	auto := st["automation_snapshot"].(map[string]any)
	require.Equal(t, pk("executor").String(), auto["data"].(map[string]any)["executor"])
	delete(st, "automation_snapshot")
	require.JSONEq(t, fmt.Sprintf(`{
		"id": {"authority": %q, "miner_address": %q, "automation_address": %q},
		"rewards": {"rewards_sol": 11, "rewards_ore": 22, "refined_ore": 33, "lifetime_rewards_sol": 44,
			"lifetime_rewards_ore": 0, "lifetime_deployed": 123},
		"state": {"round_id": 100, "checkpoint_id": 99, "checkpoint_fee": 10, "last_claim_ore_at": -5,
			"last_claim_sol_at": 1700000000},
		"automation": {"amount": 5000, "balance": 77, "executor": %q, "fee": 1, "strategy": 2,
			"mask": 33554431, "reload": 0}
	}`, auth, minerAddr, autoAddr, pk("executor")), jsonOf(t, st))
	require.Equal(t, float64(1), w.state("OreRound", "100")["metrics"].(map[string]any)["checkpoint_count"])
}

func TestOreSlotHashAndURLResolver(t *testing.T) {
	var recorded []string
	cfg := oreConfig()
	cfg.OnResolve = func(kind, key string, answer []byte) {
		recorded = append(recorded, kind+" "+key+" "+string(answer))
	}
	w := newOreWorld(t, cfg)
	r100, varA := pk("round-100"), pk("var")

	// The SlotHashes sysvar supplies the hash of the round's expiry slot.
	hash := make([]byte, 32)
	for i := range hash {
		hash[i] = byte(0xa0 + i)
	}
	sysvar := make([]byte, 8+2*40)
	binary.LittleEndian.PutUint64(sysvar, 2)
	binary.LittleEndian.PutUint64(sysvar[8:], 1151)
	binary.LittleEndian.PutUint64(sysvar[48:], 1150)
	copy(sysvar[56:], hash)
	require.Empty(t, w.process(&event.Event{Kind: event.KindAccount, Slot: 1152, Account: &event.Account{
		Pubkey: SlotHashesSysvar, Owner: pk("sysvar-owner"), Data: sysvar, Slot: 1152,
	}}))
	require.Equal(t, uint64(1), w.m.Stats().SlotHashUpdates)

	w.round(r100, 1000, round100())
	w.deploy(r100, varA, 1001, sig("d"), 0)
	w.entropyVar(varA, 1002, sig("v"), varFields{id: 1, samples: 5, startAt: 1000, endAt: 1150, seed: 3, slotHash: 4})
	// The URL resolver is scheduled at state.expires_at (1150); nothing asks before that slot.
	require.Empty(t, w.m.Waiting())

	// An event at slot 1150 makes it due: the question waits for an answer.
	w.checkpoint(r100, 1150, sig("cp"), 0)
	url := "get https://entropy-api.onrender.com/var/" + varA.String() + "/seed?samples=5"
	require.Equal(t, [][2]string{{"url", url}}, w.m.Waiting())

	seed := make([]byte, 32)
	seedJSON := make([]any, 32)
	for i := range seed {
		seed[i] = byte(255 - i)
		seedJSON[i] = uint64(seed[i])
	}
	answer := []byte(`{"seed":` + jsonOf(t, seedJSON) + `}`)
	muts, err := w.m.Deliver(ResolveURL, url, answer)
	require.NoError(t, err)
	require.Len(t, muts, 1)

	in := append(append(append([]byte{}, hash...), seed...), 5, 0, 0, 0, 0, 0, 0, 0)
	h := sha3.NewLegacyKeccak256()
	h.Write(in)
	d := h.Sum(nil)
	pre := rngOf(d)
	require.Equal(t, "resolver:url", muts[0].Handler)
	require.JSONEq(t, fmt.Sprintf(`{"entropy":{"resolved_seed":%s},"results":{"pre_reveal_rng":%d,"pre_reveal_winning_square":%d}}`,
		jsonOf(t, seedJSON), pre, pre%25), string(muts[0].Patch))
	// The expiry slot's hash was known from the first evaluation of the results section.
	require.JSONEq(t, fmt.Sprintf(`{"bytes":%s}`, jsonOf(t, toJSONValue(hash))),
		jsonOf(t, w.state("OreRound", "100")["results"].(map[string]any)["expires_at_slot_hash"]))
	require.Empty(t, w.m.Waiting())

	// Every answer that entered the machine was reported, in order.
	require.Equal(t, []string{
		"token " + oreMint + " " + oreMetadataJSON,
		"url " + url + " " + string(answer),
	}, recorded)
}

// oreScenario runs every ORE scenario in one Machine and returns the mutations as JSON lines.
func oreScenario(t testing.TB) []byte {
	w := newOreWorld(t, oreConfig())
	r100, r101, varA, treasury := pk("round-100"), pk("round-101"), pk("var"), pk("treasury")
	w.entropyVar(varA, 990, sig("v0"), varFields{id: 1, samples: 5, startAt: 1000, endAt: 1150, seed: 3, slotHash: 4})
	w.treasury(treasury, 991, 1, 2)
	w.deploy(r100, varA, 995, sig("d0"), 1)
	w.round(r100, 1000, round100())
	for i := 0; i < 20; i++ {
		w.deploy(r100, varA, 1001+uint64(i), sig(fmt.Sprint("d", i)), uint64(i), 0)
		w.miner(pk(fmt.Sprint("miner", i)), 1001+uint64(i), minerFields{authority: pk(fmt.Sprint("auth", i)), rewardsSol: uint64(i)})
	}
	value := u64s(32, func(i int) uint64 { return uint64(i + 9) })
	w.entropyVar(varA, 1149, sig("rv"), varFields{id: 1, samples: 5, startAt: 1000, endAt: 1150, seed: 3, slotHash: 4, value: value})
	w.reveal(varA, 3, 1149, sig("rv"))
	w.round(r101, 1150, roundFields{id: 101, expiresAt: 1300})
	w.reset(r100, r101, treasury, varA, 1151, sig("reset"))
	w.treasury(treasury, 1152, 3, 4)
	w.checkpoint(r100, 1153, sig("cp"), 0)
	require.Empty(t, w.errs)
	var out []byte
	for _, m := range w.muts {
		b, err := json.Marshal(m)
		require.NoError(t, err)
		out = append(append(out, b...), '\n')
	}
	return out
}

var _ = solana.Pubkey{}

func TestOreBlockTimeFeedsTimestamps(t *testing.T) {
	answers := Answers{}
	answers.Set(ResolveToken, oreMint, TokenAnswer(oreMint, TokenMetadata{Name: "Ore", Symbol: "ORE", Decimals: 11}))
	answers.Set(ResolveBlockTime, "1000", []byte("1770000000"))
	w := newOreWorld(t, &Config{Resolvers: answers})
	r100, varA := pk("round-100"), pk("var")
	w.round(r100, 999, round100())
	w.deploy(r100, varA, 999, sig("d"), 0)
	// The Var sets state.expires_at; at slot 1000 the block time is known:
	// estimated_expires_at_unix = 1770000000 + (1150 - 1000) * 400 / 1000.
	muts := w.entropyVar(varA, 1000, sig("v"), varFields{samples: 5, endAt: 1150})
	require.Len(t, muts, 1)
	require.Contains(t, string(muts[0].Patch), `"estimated_expires_at_unix":1770000060`)
	muts = w.treasury(pk("treasury"), 1000, 1, 2)
	require.Contains(t, string(muts[0].Patch), `"timestamp":1770000000`, "captures carry the block time")
	// At a slot without a known block time the field is null again.
	muts = w.checkpoint(r100, 1001, sig("c"), 0)
	require.Contains(t, string(muts[0].Patch), `"estimated_expires_at_unix":null`)
}
