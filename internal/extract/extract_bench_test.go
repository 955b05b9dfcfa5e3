package extract

import (
	"encoding/binary"

	"runtime"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/hyperstack-go/hyperstack/internal/event"
	"github.com/hyperstack-go/hyperstack/internal/geyserpb"
	"github.com/hyperstack-go/hyperstack/internal/idl"
	"github.com/hyperstack-go/hyperstack/internal/solana"
)

// The benchmarks come in pairs over the same marshalled updates: the baseline only unmarshals them
// (proto.UnmarshalOptions into one reused SubscribeUpdate, as UpdateBytes does); the other unmarshals,
// extracts and decodes them with the SPL Token IDL. Each reports updates/s and events/s, and
// allocs/event; the ratio of their ns/op is the cost of extraction and decoding over bare unmarshal.
// The cpu-updates/s metric divides by the process CPU time instead of the wall time: run with
// -cpu 1 (GOMAXPROCS=1) it is the rate of one core even on a busy machine.
//
//	go test -run '^$' -bench . -benchmem -cpu 1 ./internal/extract

const benchSetSize = 1024

// tokenAccountUpdates returns marshalled account updates of SPL Token accounts (165 bytes).
func tokenAccountUpdates(tb testing.TB, token *idl.IDL) [][]byte {
	tb.Helper()
	out := make([][]byte, benchSetSize)
	sig := sigOf("writer")
	for i := range out {
		mint, owner := key("mint"+itoa(i%16)), key("owner"+itoa(i))
		data := make([]byte, 165)
		copy(data[0:32], mint[:])
		copy(data[32:64], owner[:])
		binary.LittleEndian.PutUint64(data[64:72], uint64(i)*1_000_003)
		data[108] = 1
		raw, err := proto.Marshal(accountUpdate(key("ata"+itoa(i)), token.Address, data, 300_000_000+uint64(i), uint64(i), &sig))
		if err != nil {
			tb.Fatal(err)
		}
		out[i] = raw
	}
	return out
}

// transferTransactions returns marshalled transactions shaped like a common token transfer: two
// compute-budget instructions, then an SPL Token transfer_checked, with logs.
func transferTransactions(tb testing.TB, token *idl.IDL) [][]byte {
	tb.Helper()
	budget := solana.MustPubkey("ComputeBudget111111111111111111111111111111")
	out := make([][]byte, benchSetSize)
	for i := range out {
		owner, src, dst, mint := key("owner"+itoa(i)), key("src"+itoa(i)), key("dst"+itoa(i)), key("mint"+itoa(i%16))
		data := append([]byte{12}, binary.LittleEndian.AppendUint64(nil, uint64(i)*7919)...)
		data = append(data, 6)
		spec := txSpec{
			sig: sigOf("transfer" + itoa(i)), slot: 300_000_000 + uint64(i/64), index: uint64(i % 64),
			static: []solana.Pubkey{owner, src, dst, mint, token.Address, budget},
			tops: []*geyserpb.CompiledInstruction{
				ix(5, nil, []byte{2, 0xc0, 0x5c, 0x15, 0}),
				ix(5, nil, []byte{3, 0x10, 0x27, 0, 0, 0, 0, 0, 0}),
				ix(4, []byte{1, 3, 2, 0}, data),
			},
			logs: []string{
				"Program ComputeBudget111111111111111111111111111111 invoke [1]",
				"Program ComputeBudget111111111111111111111111111111 success",
				"Program ComputeBudget111111111111111111111111111111 invoke [1]",
				"Program ComputeBudget111111111111111111111111111111 success",
				"Program TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA invoke [1]",
				"Program log: Instruction: TransferChecked",
				"Program TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA consumed 6200 of 399700 compute units",
				"Program TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA success",
			},
		}
		raw, err := proto.Marshal(spec.update())
		if err != nil {
			tb.Fatal(err)
		}
		out[i] = raw
	}
	return out
}

// dp4Transactions returns the real mainnet transaction, wrapped and marshalled, once per slot of the
// set (the same bytes; the benchmark measures a large real transaction).
func dp4Transactions(tb testing.TB) [][]byte {
	tb.Helper()
	raw, err := proto.Marshal(loadDP4(tb))
	if err != nil {
		tb.Fatal(err)
	}
	return [][]byte{raw}
}

// rates reports updates/s (wall time) and, when the CPU time is known, cpu-updates/s.
type rates struct {
	cpu0 time.Duration
}

func startRates() rates { return rates{cpu0: processCPU()} }

func (r rates) report(b *testing.B, updates, events int) {
	secs := b.Elapsed().Seconds()
	b.ReportMetric(float64(updates)/secs, "updates/s")
	if events > 0 {
		b.ReportMetric(float64(events)/secs, "events/s")
	}
	if cpu := processCPU() - r.cpu0; r.cpu0 > 0 && cpu > 0 {
		b.ReportMetric(float64(updates)/cpu.Seconds(), "cpu-updates/s")
	}
}

func benchUnmarshal(b *testing.B, set [][]byte) {
	var msg geyserpb.SubscribeUpdate
	opts := proto.UnmarshalOptions{}
	var bytes int64
	for _, r := range set {
		bytes += int64(len(r))
	}
	b.SetBytes(bytes / int64(len(set)))
	b.ReportAllocs()
	r := startRates()
	i := 0
	for b.Loop() {
		if err := opts.Unmarshal(set[i%len(set)], &msg); err != nil {
			b.Fatal(err)
		}
		i++
	}
	r.report(b, i, 0)
}

func benchExtract(b *testing.B, set [][]byte, reg *idl.Registry) {
	x := New(Config{IDLs: reg})
	var bytes int64
	for _, r := range set {
		bytes += int64(len(r))
	}
	b.SetBytes(bytes / int64(len(set)))
	b.ReportAllocs()
	dst := make([]event.Event, 0, 64)
	var events, decoded int
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	r := startRates()
	i := 0
	for b.Loop() {
		var err error
		dst, err = x.UpdateBytes(set[i%len(set)], uint64(i), dst[:0])
		if err != nil {
			b.Fatal(err)
		}
		events += len(dst)
		for _, ev := range dst {
			if (ev.Account != nil && ev.Account.Decoded != nil) || (ev.Instruction != nil && ev.Instruction.Decoded != nil) {
				decoded++
			}
		}
		i++
	}
	runtime.ReadMemStats(&after)
	if reg != nil && decoded == 0 {
		b.Fatal("nothing decoded")
	}
	r.report(b, i, events)
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(events), "allocs/event")
}

func benchRegistry(tb testing.TB) (*idl.IDL, *idl.Registry) {
	token := splToken(tb)
	return token, idl.NewRegistry(token)
}

func BenchmarkAccountUnmarshal(b *testing.B) {
	token, _ := benchRegistry(b)
	benchUnmarshal(b, tokenAccountUpdates(b, token))
}

func BenchmarkAccountUnmarshalExtract(b *testing.B) {
	token, _ := benchRegistry(b)
	benchExtract(b, tokenAccountUpdates(b, token), nil)
}

func BenchmarkAccountUnmarshalExtractDecode(b *testing.B) {
	token, reg := benchRegistry(b)
	benchExtract(b, tokenAccountUpdates(b, token), reg)
}

func BenchmarkTransferTxUnmarshal(b *testing.B) {
	token, _ := benchRegistry(b)
	benchUnmarshal(b, transferTransactions(b, token))
}

func BenchmarkTransferTxUnmarshalExtract(b *testing.B) {
	token, _ := benchRegistry(b)
	benchExtract(b, transferTransactions(b, token), nil)
}

func BenchmarkTransferTxUnmarshalExtractDecode(b *testing.B) {
	token, reg := benchRegistry(b)
	benchExtract(b, transferTransactions(b, token), reg)
}

func BenchmarkRealTxUnmarshal(b *testing.B) {
	benchUnmarshal(b, dp4Transactions(b))
}

func BenchmarkRealTxUnmarshalExtract(b *testing.B) {
	benchExtract(b, dp4Transactions(b), nil)
}

func BenchmarkRealTxUnmarshalExtractDecode(b *testing.B) {
	_, reg := benchRegistry(b)
	benchExtract(b, dp4Transactions(b), reg)
}

// BenchmarkRealTxExtractDecode measures extraction and decoding alone, from an already unmarshalled
// update.
func BenchmarkRealTxExtractDecode(b *testing.B) {
	_, reg := benchRegistry(b)
	u := loadDP4(b)
	x := New(Config{IDLs: reg})
	dst := make([]event.Event, 0, 64)
	b.ReportAllocs()
	r := startRates()
	n := 0
	for b.Loop() {
		var err error
		if dst, err = x.Update(u, 0, dst[:0]); err != nil {
			b.Fatal(err)
		}
		n++
	}
	r.report(b, n, n*len(dst))
}
