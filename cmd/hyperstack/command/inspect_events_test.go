package command

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hyperstack-go/hyperstack/fixtures/fixturestest"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/hyperstack-go/hyperstack/internal/archive"
	"github.com/hyperstack-go/hyperstack/internal/geyserpb"
	"github.com/hyperstack-go/hyperstack/internal/solana"
)

var eventsSharedFixture = fixturestest.Shared

// eventsArchive writes updates into a new archive file and closes it.
func eventsArchive(t *testing.T, raws ...[]byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "events.archive")
	a, err := archive.Create(path, archive.Meta{Source: archive.Source{Kind: archive.SourceImport}}, &archive.Options{NoSync: true})
	require.NoError(t, err)
	w, err := a.NewWriter(archive.WriterConfig{})
	require.NoError(t, err)
	for _, raw := range raws {
		var u geyserpb.SubscribeUpdate
		kind, slot, hasSlot := geyserpb.KindUnknown, uint64(0), false
		if proto.Unmarshal(raw, &u) == nil {
			kind = geyserpb.KindOf(&u)
			slot, hasSlot = geyserpb.SlotOf(&u)
		}
		_, err := w.Append(archive.Incoming{Raw: raw, Kind: kind, Slot: slot, HasSlot: hasSlot, ReceivedAt: time.Unix(1_770_000_000, 0)})
		require.NoError(t, err)
	}
	require.NoError(t, w.Close())
	require.NoError(t, a.Close())
	return path
}

func eventsMarshal(t *testing.T, m proto.Message) []byte {
	t.Helper()
	raw, err := proto.Marshal(m)
	require.NoError(t, err)
	return raw
}

// eventsRealTx wraps the real mainnet transaction fixture in a SubscribeUpdate.
func eventsRealTx(t *testing.T) []byte {
	t.Helper()
	bin, err := os.ReadFile(eventsSharedFixture(t, "yellowstone/dp4-flat-index-tx.bin"))
	require.NoError(t, err)
	var tx geyserpb.SubscribeUpdateTransaction
	require.NoError(t, proto.Unmarshal(bin, &tx))
	return eventsMarshal(t, &geyserpb.SubscribeUpdate{Filters: []string{"txs"},
		UpdateOneof: &geyserpb.SubscribeUpdate_Transaction{Transaction: &tx}})
}

var eventsTokenProgram = solana.MustPubkey("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA")

// eventsTokenAccount is an SPL Token account (165 bytes) holding amount.
func eventsTokenAccount(t *testing.T, slot, amount uint64) []byte {
	t.Helper()
	data := make([]byte, 165)
	data[0], data[32], data[108] = 7, 9, 1
	binary.LittleEndian.PutUint64(data[64:72], amount)
	pk := solana.MustPubkey("So11111111111111111111111111111111111111112")
	return eventsMarshal(t, &geyserpb.SubscribeUpdate{UpdateOneof: &geyserpb.SubscribeUpdate_Account{
		Account: &geyserpb.SubscribeUpdateAccount{Slot: slot, Account: &geyserpb.SubscribeUpdateAccountInfo{
			Pubkey: pk[:], Owner: eventsTokenProgram[:], Lamports: 2039280, Data: data, WriteVersion: 42,
		}},
	}})
}

func runEvents(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	out, errOut := &bytes.Buffer{}, &bytes.Buffer{}
	f := &Factory{
		IO:     IOStreams{In: &bytes.Buffer{}, Out: out, ErrOut: errOut, IsTerminal: func() bool { return false }},
		Getenv: func(string) string { return "" },
		Now:    time.Now,
	}
	code := Run(context.Background(), f, append([]string{"inspect", "events"}, args...))
	return code, out.String(), errOut.String()
}

func eventsJSONLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if l == "" {
			continue
		}
		dec := json.NewDecoder(strings.NewReader(l))
		dec.UseNumber()
		var m map[string]any
		require.NoError(t, dec.Decode(&m), l)
		lines = append(lines, m)
	}
	return lines
}

type eventsTwinInstruction struct {
	IxIndex  []int   `json:"ix_index"`
	RawProg  []int   `json:"program"`
	Accounts [][]int `json:"accounts"`
	Data     []int   `json:"data"`
}

func eventsIntBytes(v []int) []byte {
	b := make([]byte, len(v))
	for i, x := range v {
		b[i] = byte(x)
	}
	return b
}

func TestInspectEventsRealTransactionJSON(t *testing.T) {
	txRaw := eventsRealTx(t)
	twinRaw, err := os.ReadFile(eventsSharedFixture(t, "yellowstone/dp4-flat-index-tx.json"))
	require.NoError(t, err)
	var twin struct {
		Instructions []eventsTwinInstruction `json:"instructions"`
	}
	require.NoError(t, json.Unmarshal(twinRaw, &twin))

	slotRaw := eventsMarshal(t, &geyserpb.SubscribeUpdate{UpdateOneof: &geyserpb.SubscribeUpdate_Slot{
		Slot: &geyserpb.SubscribeUpdateSlot{Slot: 420181274}}})
	path := eventsArchive(t, slotRaw, txRaw, eventsTokenAccount(t, 420181275, 5_000_000))

	code, out, errOut := runEvents(t, path, "--json")
	require.Equal(t, ExitOK, code, errOut)
	lines := eventsJSONLines(t, out)
	require.Len(t, lines, 21)

	transfers := 0
	for i, l := range lines[:20] {
		want := twin.Instructions[i]
		require.Equal(t, "instruction", l["kind"])
		require.Equal(t, json.Number("420181274"), l["slot"])
		require.Equal(t, json.Number("2"), l["seq"], "the transaction is the archive's second update")
		require.Equal(t, "dP4TfbypYZoTkDLFAojCXQHmxyV6vQ3sgbHJtQhMHWpTAEpxGSTTAG63woEqxVvgq9QQLSFhRXpRwii2RkF6xnD", l["signature"])
		for _, k := range []string{"path", "program", "accounts", "data", "type", "decoded"} {
			require.Contains(t, l, k, "line %d", i)
		}
		var path []int
		for _, p := range l["path"].([]any) {
			n, err := p.(json.Number).Int64()
			require.NoError(t, err)
			path = append(path, int(n))
		}
		if len(path) == 1 {
			require.Equal(t, want.IxIndex[0], path[0])
		} else {
			require.Equal(t, want.IxIndex, path)
		}
		prog := solana.Pubkey(eventsIntBytes(want.RawProg))
		require.Equal(t, prog.String(), l["program"])
		var accounts []any
		for _, a := range want.Accounts {
			accounts = append(accounts, solana.Pubkey(eventsIntBytes(a)).String())
		}
		if accounts == nil {
			accounts = []any{}
		}
		require.Equal(t, accounts, l["accounts"], "accounts of %v", path)
		data := eventsIntBytes(want.Data)
		require.Equal(t, base64.StdEncoding.EncodeToString(data), l["data"])

		if prog != eventsTokenProgram {
			require.Nil(t, l["type"], "%v has no IDL", path)
			require.Nil(t, l["decoded"])
			continue
		}
		require.NotNil(t, l["type"], "SPL Token instruction %v must decode", path)
		require.True(t, strings.HasPrefix(l["type"].(string), "spl_token::"))
		if l["type"] == "spl_token::Transfer" {
			transfers++
			dec := l["decoded"].(map[string]any)
			amount := dec["data"].(map[string]any)["amount"].(json.Number)
			require.Equal(t, json.Number(eventsU64Text(binary.LittleEndian.Uint64(data[1:9]))), amount)
			accs := dec["accounts"].(map[string]any)
			require.Equal(t, accounts[0], accs["source"])
			require.Equal(t, accounts[1], accs["destination"])
			require.Equal(t, accounts[2], accs["authority"])
		}
	}
	require.Equal(t, 5, transfers)
	// The router's `Program data:` event is reported on its top-level instruction.
	require.Len(t, lines[2]["events"], 1)
	require.Equal(t, true, lines[19]["cpi_event"])

	acct := lines[20]
	require.Equal(t, "account", acct["kind"])
	require.Equal(t, json.Number("3"), acct["seq"])
	require.Equal(t, "So11111111111111111111111111111111111111112", acct["pubkey"])
	require.Equal(t, eventsTokenProgram.String(), acct["owner"])
	require.Equal(t, json.Number("2039280"), acct["lamports"])
	require.Equal(t, json.Number("42"), acct["write_version"])
	require.Equal(t, "spl_token::Account", acct["type"])
	require.Equal(t, json.Number("5000000"), acct["decoded"].(map[string]any)["amount"])
}

func eventsU64Text(v uint64) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestInspectEventsLimitAndFromSlot(t *testing.T) {
	path := eventsArchive(t,
		eventsTokenAccount(t, 100, 1),
		eventsTokenAccount(t, 101, 2),
		eventsTokenAccount(t, 102, 3),
		eventsTokenAccount(t, 103, 4),
	)
	code, out, errOut := runEvents(t, path, "--json", "--limit", "2")
	require.Equal(t, ExitOK, code, errOut)
	lines := eventsJSONLines(t, out)
	require.Len(t, lines, 2)
	require.Equal(t, json.Number("100"), lines[0]["slot"])

	code, out, errOut = runEvents(t, path, "--json", "--from-slot", "102")
	require.Equal(t, ExitOK, code, errOut)
	lines = eventsJSONLines(t, out)
	require.Len(t, lines, 2)
	require.Equal(t, json.Number("102"), lines[0]["slot"])
	require.Equal(t, json.Number("3"), lines[0]["seq"])
	require.Equal(t, json.Number("3"), lines[0]["decoded"].(map[string]any)["amount"])

	code, _, errOut = runEvents(t, path, "--limit", "-1")
	require.Equal(t, ExitUsage, code)
	require.Contains(t, errOut, "--limit -1")
}

func TestInspectEventsTable(t *testing.T) {
	path := eventsArchive(t, eventsRealTx(t), eventsTokenAccount(t, 420181275, 7))
	code, out, errOut := runEvents(t, path)
	require.Equal(t, ExitOK, code, errOut)
	rows := strings.Split(strings.TrimRight(out, "\n"), "\n")
	require.Len(t, rows, 22, out)
	require.Regexp(t, `^SLOT\s+SEQ\s+KIND\s+WHERE\s+PROGRAM\s+TYPE\s+DETAIL$`, rows[0])
	// Columns are aligned: TYPE starts at the same offset on every row.
	col := strings.Index(rows[0], "TYPE")
	for _, r := range rows[1:] {
		require.GreaterOrEqual(t, len(r), col)
	}
	require.Contains(t, out, "spl_token::Transfer")
	require.Contains(t, out, `{"amount":1035733} source=7RY4evbk… destination=J5a4BoK4… authority=C5uNQsBH…`)
	require.Contains(t, rows[3], "+1 log event(s)")
	require.Contains(t, rows[21], "spl_token::Account")
	require.Contains(t, rows[21], "lamports=2039280 wv=42")

	empty := eventsArchive(t)
	code, out, _ = runEvents(t, empty)
	require.Equal(t, ExitOK, code)
	require.Equal(t, "no events\n", out)
}

func TestInspectEventsStackIDLs(t *testing.T) {
	stackPath := eventsSharedFixture(t, "hyperstack/OreStream.stack.json")
	// A Steel ORE Board account (8-byte discriminator [105,0,...], round_id, start_slot, end_slot, ...).
	ore := solana.MustPubkey("oreV3EG1i9BEgiAJ8b177Z2S2rMarzak4NMv1kULvWv")
	data := make([]byte, 40)
	data[0] = 105
	binary.LittleEndian.PutUint64(data[8:], 77)
	pk := solana.MustPubkey("So11111111111111111111111111111111111111112")
	raw := eventsMarshal(t, &geyserpb.SubscribeUpdate{UpdateOneof: &geyserpb.SubscribeUpdate_Account{
		Account: &geyserpb.SubscribeUpdateAccount{Slot: 5, Account: &geyserpb.SubscribeUpdateAccountInfo{
			Pubkey: pk[:], Owner: ore[:], Data: data, WriteVersion: 1,
		}},
	}})
	path := eventsArchive(t, raw)

	code, out, _ := runEvents(t, path, "--json")
	require.Equal(t, ExitOK, code)
	require.Nil(t, eventsJSONLines(t, out)[0]["type"], "ORE is unknown without the stack")

	code, out, errOut := runEvents(t, path, "--json", "--stack", stackPath)
	require.Equal(t, ExitOK, code, errOut)
	l := eventsJSONLines(t, out)[0]
	require.Equal(t, "ore::Board", l["type"])
	require.Equal(t, json.Number("77"), l["decoded"].(map[string]any)["round_id"])
}

func TestInspectEventsIDLFlag(t *testing.T) {
	prog := solana.MustPubkey("So11111111111111111111111111111111111111112")
	idlPath := filepath.Join(t.TempDir(), "demo.json")
	require.NoError(t, os.WriteFile(idlPath, []byte(`{
  "address": "`+prog.String()+`",
  "metadata": {"name": "demo", "version": "0.1.0", "spec": "0.1.0"},
  "instructions": [],
  "accounts": [{"name": "Counter", "discriminator": [1, 1, 1, 1, 1, 1, 1, 1]}],
  "types": [{"name": "Counter", "type": {"kind": "struct", "fields": [{"name": "count", "type": "u64"}]}}]
}`), 0o600))
	data := append([]byte{1, 1, 1, 1, 1, 1, 1, 1}, binary.LittleEndian.AppendUint64(nil, 9)...)
	raw := eventsMarshal(t, &geyserpb.SubscribeUpdate{UpdateOneof: &geyserpb.SubscribeUpdate_Account{
		Account: &geyserpb.SubscribeUpdateAccount{Slot: 5, Account: &geyserpb.SubscribeUpdateAccountInfo{
			Pubkey: prog[:], Owner: prog[:], Data: data, WriteVersion: 1,
		}},
	}})
	path := eventsArchive(t, raw)
	code, out, errOut := runEvents(t, path, "--json", "--idl", idlPath)
	require.Equal(t, ExitOK, code, errOut)
	l := eventsJSONLines(t, out)[0]
	require.Equal(t, "demo::Counter", l["type"])
	require.Equal(t, map[string]any{"count": json.Number("9")}, l["decoded"])

	noAddr := filepath.Join(t.TempDir(), "noaddr.json")
	require.NoError(t, os.WriteFile(noAddr, []byte(`{"version":"0.1.0","name":"x","instructions":[],"accounts":[]}`), 0o600))
	code, _, errOut = runEvents(t, path, "--idl", noAddr)
	require.Equal(t, ExitUsage, code)
	require.Contains(t, errOut, "names no program address")
}

func TestInspectEventsErrors(t *testing.T) {
	code, _, errOut := runEvents(t, filepath.Join(t.TempDir(), "missing.archive"))
	require.Equal(t, ExitFailure, code)
	require.Contains(t, errOut, "open archive")

	code, _, _ = runEvents(t)
	require.Equal(t, ExitUsage, code)

	// A malformed transaction is reported and skipped; the other updates still print.
	sig := make([]byte, 64)
	sig[0] = 1
	bad := eventsMarshal(t, &geyserpb.SubscribeUpdate{UpdateOneof: &geyserpb.SubscribeUpdate_Transaction{
		Transaction: &geyserpb.SubscribeUpdateTransaction{Slot: 9, Transaction: &geyserpb.SubscribeUpdateTransactionInfo{
			Signature: sig,
			Transaction: &geyserpb.Transaction{Message: &geyserpb.Message{
				AccountKeys:  [][]byte{make([]byte, 32)},
				Instructions: []*geyserpb.CompiledInstruction{{ProgramIdIndex: 0, Accounts: []byte{5}}},
			}},
			Meta: &geyserpb.TransactionStatusMeta{},
		}},
	}})
	path := eventsArchive(t, bad, eventsTokenAccount(t, 10, 1))
	code, out, errOut := runEvents(t, path, "--json")
	require.Equal(t, ExitFailure, code)
	require.Len(t, eventsJSONLines(t, out), 1)
	require.Contains(t, errOut, "instruction [0]: account index out of range")
	require.Contains(t, errOut, "1 update(s) could not be turned into events")
}
