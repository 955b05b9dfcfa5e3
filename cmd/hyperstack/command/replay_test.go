package command

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"

	"github.com/hyperstack-go/hyperstack/fixtures"
	"github.com/hyperstack-go/hyperstack/internal/archive"
	"github.com/hyperstack-go/hyperstack/internal/geyserpb"
	"github.com/hyperstack-go/hyperstack/internal/replay"
	"github.com/hyperstack-go/hyperstack/internal/sim"
	"github.com/hyperstack-go/hyperstack/internal/solana"
	"github.com/hyperstack-go/hyperstack/internal/source/geysertest"
	"github.com/hyperstack-go/hyperstack/internal/stack"
)

// replaySimArchive writes slots of simulated SPL Token traffic into a new archive and returns its
// path.
func replaySimArchive(t *testing.T, seed, slots uint64) string {
	t.Helper()
	s, err := sim.New(sim.ScenarioSPLToken, seed, sim.Options{Slots: slots})
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "tokens.archive")
	_, err = s.WriteArchive(context.Background(), path, sim.ArchiveOptions{Seed: seed, NoSync: true})
	require.NoError(t, err)
	return path
}

// replayCmd runs the command line in-process and returns the exit code, stdout and stderr.
func replayCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	f, out, errOut := recordFactory(false)
	code := Run(context.Background(), f, args)
	return code, out.String(), errOut.String()
}

// replayStackFile writes the demo stack to a file; with changed, TokenAccount's
// token.delegated_amount is written to token.delegated instead (and the hashes are recomputed).
func replayStackFile(t *testing.T, changed bool) (path, hash string) {
	t.Helper()
	data := fixtures.SPLTokenStack
	if changed {
		old := []byte(`"target_path": "token.delegated_amount"`)
		require.Equal(t, 1, bytes.Count(data, old))
		spec, err := stack.Decode(bytes.Replace(data, old, []byte(`"target_path": "token.delegated"`), 1))
		require.NoError(t, err)
		spec.SetContentHashes()
		data = spec.MarshalPretty()
	}
	spec, err := stack.Parse(data)
	require.NoError(t, err)
	path = filepath.Join(t.TempDir(), "stack.json")
	require.NoError(t, os.WriteFile(path, data, 0o644))
	return path, spec.ContentHash()
}

func TestReplayCommandIsByteIdenticalAcrossGOMAXPROCS(t *testing.T) {
	path := replaySimArchive(t, 31, 50)
	dir := t.TempDir()
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	var outs [][]byte
	for i, procs := range []int{1, 2, 2} {
		runtime.GOMAXPROCS(procs)
		file := filepath.Join(dir, "out"+strconv.Itoa(i)+".jsonl")
		code, _, errOut := replayCmd(t, "replay", path, "--out", file)
		require.Equal(t, ExitOK, code, errOut)
		b, err := os.ReadFile(file)
		require.NoError(t, err)
		require.NotEmpty(t, b)
		outs = append(outs, b)
	}
	require.True(t, bytes.Equal(outs[0], outs[1]), "GOMAXPROCS 1 and 2 differ")
	require.True(t, bytes.Equal(outs[1], outs[2]), "two runs differ")

	// The default output is stdout, with the same bytes; --json prints a summary instead.
	code, stdout, errOut := replayCmd(t, "replay", path)
	require.Equal(t, ExitOK, code, errOut)
	require.Equal(t, string(outs[0]), stdout)
	code, stdout, errOut = replayCmd(t, "replay", path, "--json")
	require.Equal(t, ExitOK, code, errOut)
	var sum map[string]any
	require.NoError(t, json.Unmarshal([]byte(stdout), &sum))
	require.EqualValues(t, bytes.Count(outs[0], []byte("\n")), sum["mutations"])
}

func TestReplayCommandGoldenVerifyAndChangedStack(t *testing.T) {
	path := replaySimArchive(t, 32, 40)
	stackPath, hash := replayStackFile(t, false)
	changedPath, changedHash := replayStackFile(t, true)
	require.NotEqual(t, hash, changedHash)

	// No golden yet: the message says how to make one.
	code, _, errOut := replayCmd(t, "replay", path, "--stack", stackPath, "--verify")
	require.Equal(t, ExitFailure, code)
	require.Contains(t, errOut, "archive has no goldens")
	require.Contains(t, errOut, "hyperstack replay "+path+" --stack "+stackPath+" --write-golden")

	code, stdout, errOut := replayCmd(t, "replay", path, "--stack", stackPath, "--write-golden")
	require.Equal(t, ExitOK, code, errOut)
	require.Empty(t, stdout, "--write-golden writes no lines unless --out is given")
	require.Contains(t, errOut, "golden stored for stack "+hash)

	code, stdout, errOut = replayCmd(t, "replay", path, "--stack", stackPath, "--verify")
	require.Equal(t, ExitOK, code, errOut)
	require.Contains(t, stdout, "identical")

	// An unknown hash lists the goldens that exist.
	code, _, errOut = replayCmd(t, "replay", path, "--stack", stackPath, "--verify", "--golden", "0123abcd")
	require.Equal(t, ExitFailure, code)
	require.Contains(t, errOut, "no golden for stack hash 0123abcd")
	require.Contains(t, errOut, hash)
	// The changed stack has no golden of its own.
	code, _, errOut = replayCmd(t, "replay", path, "--stack", changedPath, "--verify")
	require.Equal(t, ExitFailure, code)
	require.Contains(t, errOut, "no golden for stack hash "+changedHash)
	require.Contains(t, errOut, "--write-golden")

	// Independently: the first mutation of the original output that writes token.delegated_amount.
	code, lines, errOut := replayCmd(t, "replay", path, "--stack", stackPath)
	require.Equal(t, ExitOK, code, errOut)
	var want *replay.Line
	for _, ln := range strings.Split(strings.TrimSpace(lines), "\n") {
		var l replay.Line
		require.NoError(t, json.Unmarshal([]byte(ln), &l))
		if l.Entity == "TokenAccount" && bytes.Contains(l.Patch, []byte(`"delegated_amount":`)) {
			want = &l
			break
		}
	}
	require.NotNil(t, want)

	// The changed stack against the old golden (by a hash prefix): exit 1 at that slot and key.
	code, stdout, errOut = replayCmd(t, "replay", path, "--stack", changedPath, "--verify", "--golden", hash[:10])
	require.Equal(t, ExitFailure, code, errOut)
	require.Contains(t, stdout, "DIVERGED")
	require.Contains(t, stdout, "first divergence at slot "+strconv.FormatUint(want.Slot, 10))
	require.Contains(t, stdout, "TokenAccount "+string(want.Key))
	require.Contains(t, stdout, "- token.delegated_amount:")
	require.Contains(t, stdout, "+ token.delegated:")

	code, stdout, errOut = replayCmd(t, "replay", path, "--stack", changedPath, "--verify", "--golden", hash, "--json")
	require.Equal(t, ExitFailure, code, errOut)
	var res struct {
		Identical  bool `json:"identical"`
		Divergence struct {
			Slot   uint64          `json:"slot"`
			Entity string          `json:"entity"`
			Key    json.RawMessage `json:"key"`
		} `json:"divergence"`
	}
	require.NoError(t, json.Unmarshal([]byte(stdout), &res))
	require.False(t, res.Identical)
	require.Equal(t, want.Slot, res.Divergence.Slot)
	require.Equal(t, "TokenAccount", res.Divergence.Entity)
	require.Equal(t, string(want.Key), string(res.Divergence.Key))
}

func TestReplayCommandFlagErrors(t *testing.T) {
	path := replaySimArchive(t, 33, 5)
	for _, args := range [][]string{
		{"replay", path, "--golden", "abc"},
		{"replay", path, "--verify", "--write-golden"},
		{"replay", path, "--verify", "--from-slot", "3"},
		{"replay", path, "--speed", "2"},
		{"replay", path, "--serve-geyser", "127.0.0.1:0", "--speed", "fast"},
		{"replay", path, "--from-slot", "10", "--to-slot", "5"},
		{"replay"},
	} {
		code, _, errOut := replayCmd(t, args...)
		require.Equal(t, ExitUsage, code, "%v: %s", args, errOut)
	}
	code, _, errOut := replayCmd(t, "replay", filepath.Join(t.TempDir(), "missing.archive"))
	require.Equal(t, ExitFailure, code)
	require.Contains(t, errOut, "missing.archive")
}

// replayTokenAccounts decodes the archive's SPL Token account updates: pubkey → amount per update.
type replayTokenUpdate struct {
	slot   uint64
	amount uint64
}

func replayTokenAccounts(t *testing.T, path string) map[string][]replayTokenUpdate {
	t.Helper()
	a, err := archive.Open(path, &archive.Options{ReadOnly: true})
	require.NoError(t, err)
	defer a.Close()
	token := solana.MustPubkey("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA")
	out := map[string][]replayTokenUpdate{}
	require.NoError(t, a.ScanSeq(context.Background(), 1, math.MaxUint64, func(u archive.Update) error {
		m, err := u.Decode()
		if err != nil {
			return err
		}
		acc := m.GetAccount().GetAccount()
		if acc == nil || solana.Pubkey(acc.Owner) != token || len(acc.Data) != 165 {
			return nil
		}
		// SPL Token account layout: mint (32), owner (32), amount (u64 LE) at offset 64.
		var amount uint64
		for i := 7; i >= 0; i-- {
			amount = amount<<8 | uint64(acc.Data[64+i])
		}
		key := solana.Pubkey(acc.Pubkey).String()
		out[key] = append(out[key], replayTokenUpdate{slot: u.Slot, amount: amount})
		return nil
	}))
	return out
}

func TestInspectEntityCommand(t *testing.T) {
	path := replaySimArchive(t, 34, 60)
	accounts := replayTokenAccounts(t, path)
	var key string
	for k, us := range accounts {
		if len(us) >= 3 && us[0].slot != us[len(us)-1].slot && (key == "" || k < key) {
			key = k
		}
	}
	require.NotEmpty(t, key)
	us := accounts[key]
	slots := []uint64{us[0].slot, us[len(us)-1].slot - 1, 0}

	inspect := func(at uint64, extra ...string) (replay.EntityState, string) {
		t.Helper()
		args := append([]string{"inspect", "entity", "TokenAccount", key, "--archive", path, "--json", "--history",
			"--at-slot", strconv.FormatUint(at, 10)}, extra...)
		code, stdout, errOut := replayCmd(t, args...)
		require.Equal(t, ExitOK, code, errOut)
		var st replay.EntityState
		require.NoError(t, json.Unmarshal([]byte(stdout), &st))
		return st, errOut
	}
	wantAmount := func(at uint64) string {
		var amount uint64
		for _, u := range us {
			if at == 0 || u.slot <= at {
				amount = u.amount
			}
		}
		return strconv.FormatUint(amount, 10)
	}
	amountOf := func(st replay.EntityState) string {
		tok := st.State["token"].(map[string]any)
		return string(mustJSON(t, tok["amount"]))
	}

	// Without a golden: replayed, with a hint how to make it fast.
	slow := map[uint64]replay.EntityState{}
	for _, at := range slots {
		st, errOut := inspect(at)
		require.False(t, st.FromGolden)
		require.Contains(t, errOut, "hyperstack replay "+path+" --write-golden")
		require.Equal(t, wantAmount(at), amountOf(st), "amount at slot %d", at)
		slow[at] = st
	}
	code, _, errOut := replayCmd(t, "replay", path, "--write-golden")
	require.Equal(t, ExitOK, code, errOut)
	for _, at := range slots {
		st, errOut := inspect(at)
		require.True(t, st.FromGolden)
		require.NotContains(t, errOut, "note:")
		require.Equal(t, wantAmount(at), amountOf(st), "amount at slot %d", at)
		require.Equal(t, slow[at].State, st.State)
		require.Equal(t, slow[at].History, st.History)
		require.NotEmpty(t, st.History)
	}

	// The table form.
	code, stdout, errOut := replayCmd(t, "inspect", "entity", "TokenAccount", key, "--archive", path, "--history")
	require.Equal(t, ExitOK, code, errOut)
	require.Contains(t, stdout, `TokenAccount "`+key+`" as of the end of the archive`)
	require.Contains(t, stdout, `"amount": `+wantAmount(0))
	require.Contains(t, stdout, "SLOT")
	require.Contains(t, stdout, "spl_token::AccountState")

	// Unknown entity, key, and a slot before the account existed.
	code, _, errOut = replayCmd(t, "inspect", "entity", "Nope", key, "--archive", path)
	require.Equal(t, ExitFailure, code)
	require.Contains(t, errOut, "its entities: Mint, TokenAccount")
	code, _, errOut = replayCmd(t, "inspect", "entity", "TokenAccount", "NoSuchKey", "--archive", path)
	require.Equal(t, ExitFailure, code)
	require.Contains(t, errOut, "keys include:")
	require.Contains(t, errOut, `"`)
	code, _, _ = replayCmd(t, "inspect", "entity", "TokenAccount", key)
	require.Equal(t, ExitUsage, code)
}

func TestRecordWithStackThenVerify(t *testing.T) {
	ts := geysertest.Start(t, geysertest.Options{PingInterval: -1})
	stackPath, hash := replayStackFile(t, false)
	out := filepath.Join(t.TempDir(), "live.archive")
	token := solana.MustPubkey("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA")

	// Simulated SPL Token traffic, fed slot by slot; the recording keeps the token accounts.
	s, err := sim.New(sim.ScenarioSPLToken, 35, sim.Options{Slots: 40})
	require.NoError(t, err)
	var updates []*geyserpb.SubscribeUpdate
	for {
		u, err := s.Next()
		if err != nil {
			break
		}
		if acc := u.GetAccount(); acc != nil && solana.Pubkey(acc.Account.Owner) == token {
			u.Filters = nil
			raw, err := proto.Marshal(u)
			require.NoError(t, err)
			var c geyserpb.SubscribeUpdate
			require.NoError(t, proto.Unmarshal(raw, &c))
			updates = append(updates, &c)
		}
	}
	require.Greater(t, len(updates), 200)
	half := len(updates) / 2

	record := func(applied int, feed []*geyserpb.SubscribeUpdate, durable int, args ...string) {
		recordUntil(t, ts, applied, durable, func() { ts.Feed(feed...) }, args...)
	}
	record(1, updates[:half], half, "record", "--endpoint", ts.Endpoint, "--owner", token.String(),
		"--commitment", "processed", "--batch-interval", "5ms", "--stack", stackPath, "--out", out)
	// Resume: the live golden first catches up with what the archive holds.
	record(2, updates[half:], len(updates), "record", "--batch-interval", "5ms", "--stack", stackPath, "--out", out)

	code, stdout, errOut := replayCmd(t, "replay", out, "--stack", stackPath, "--verify", "--json")
	require.Equal(t, ExitOK, code, errOut)
	var res map[string]any
	require.NoError(t, json.Unmarshal([]byte(stdout), &res))
	require.Equal(t, true, res["identical"])
	require.Equal(t, hash, res["golden_hash"])
	require.Greater(t, res["records_compared"].(float64), 0.0)

	a, err := archive.Open(out, &archive.Options{ReadOnly: true})
	require.NoError(t, err)
	defer a.Close()
	g, err := replay.OpenGolden(a, hash)
	require.NoError(t, err)
	require.True(t, g.Info.Live)
	require.EqualValues(t, len(updates), g.Info.LastSeq)
}

func TestReplayCommandServesGeyser(t *testing.T) {
	path := replaySimArchive(t, 36, 20)
	token := solana.MustPubkey("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA")
	want := 0
	for _, us := range replayTokenAccounts(t, path) {
		want += len(us)
	}
	addr := freeAddr(t)
	f, _, errOut := recordFactory(false)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	code := make(chan int, 1)
	go func() {
		code <- Run(ctx, f, []string{"replay", path, "--serve-geyser", addr, "--x-token", "tok", "--speed", "max"})
	}()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	defer conn.Close()
	sctx := metadata.AppendToOutgoingContext(ctx, "x-token", "tok")
	st, err := geyserpb.NewGeyserClient(conn).Subscribe(sctx, grpc.WaitForReady(true))
	require.NoError(t, err)
	require.NoError(t, st.Send(&geyserpb.SubscribeRequest{
		Accounts: map[string]*geyserpb.SubscribeRequestFilterAccounts{"t": {Owner: []string{token.String()}}},
	}))
	got := 0
	for got < want {
		m, err := st.Recv()
		require.NoError(t, err, errOut.String())
		if acc := m.GetAccount(); acc != nil {
			require.Equal(t, token, solana.Pubkey(acc.Account.Owner))
			got++
		}
	}
	cancel()
	require.Equal(t, ExitOK, <-code, errOut.String())
	require.Contains(t, errOut.String(), "serving the archive as a Yellowstone endpoint")
}

func TestRecordImportWithStackThenVerify(t *testing.T) {
	stackPath, hash := replayStackFile(t, false)
	s, err := sim.New(sim.ScenarioSPLToken, 37, sim.Options{Slots: 15})
	require.NoError(t, err)
	var capture bytes.Buffer
	for {
		u, err := s.Next()
		if err != nil {
			break
		}
		raw, err := proto.Marshal(u)
		require.NoError(t, err)
		capture.Write([]byte{byte(len(raw) >> 24), byte(len(raw) >> 16), byte(len(raw) >> 8), byte(len(raw))})
		capture.Write(raw)
	}
	dir := t.TempDir()
	in, out := filepath.Join(dir, "capture.bin"), filepath.Join(dir, "imported.archive")
	require.NoError(t, os.WriteFile(in, capture.Bytes(), 0o644))
	code, _, errOut := replayCmd(t, "record", "--import", in, "--stack", stackPath, "--out", out)
	require.Equal(t, ExitOK, code, errOut)
	require.Contains(t, errOut, "golden stored")
	code, stdout, errOut := replayCmd(t, "replay", out, "--stack", stackPath, "--verify")
	require.Equal(t, ExitOK, code, errOut)
	require.Contains(t, stdout, "identical")
	require.Contains(t, stdout, replay.ShortHash(hash))
}
