package idl

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"

	"github.com/mr-tron/base58"

	"github.com/hyperstack-go/hyperstack/internal/solana"
)

func splTokenAccountBytes() []byte {
	mint := solana.MustPubkey("So11111111111111111111111111111111111111112")
	owner := solana.MustPubkey("oreV3EG1i9BEgiAJ8b177Z2S2rMarzak4NMv1kULvWv")
	acc := make([]byte, 0, 165)
	acc = append(acc, mint[:]...)
	acc = append(acc, owner[:]...)
	acc = binary.LittleEndian.AppendUint64(acc, 1_234_567_890_123)
	acc = append(acc, 1, 0, 0, 0)
	acc = append(acc, owner[:]...)
	acc = append(acc, 1)
	acc = append(acc, 0, 0, 0, 0)
	acc = binary.LittleEndian.AppendUint64(acc, 0)
	acc = binary.LittleEndian.AppendUint64(acc, 500_000)
	acc = append(acc, 0, 0, 0, 0)
	acc = append(acc, make([]byte, 32)...)
	return acc
}

func benchDecodeAccount(b *testing.B, p *IDL, data []byte) {
	b.Helper()
	if _, _, err := p.DecodeAccount(data); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		if _, _, err := p.DecodeAccount(data); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "decodes/s")
}

func BenchmarkDecodeAccountSPLToken(b *testing.B) {
	benchDecodeAccount(b, loadSPLToken(b), splTokenAccountBytes())
}

// BenchmarkDecodeAccountSPLTokenDistinctKeys decodes 16,384 token accounts with distinct mints,
// owners and delegates in turn, so most pubkeys miss the text cache.
func BenchmarkDecodeAccountSPLTokenDistinctKeys(b *testing.B) {
	p := loadSPLToken(b)
	r := rand.New(rand.NewPCG(3, 4))
	accounts := make([][]byte, 16384)
	for i := range accounts {
		acc := splTokenAccountBytes()
		for j := 0; j < 64; j++ { // mint and owner
			acc[j] = byte(r.IntN(256))
		}
		for j := 76; j < 108; j++ { // delegate
			acc[j] = byte(r.IntN(256))
		}
		accounts[i] = acc
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, _, err := p.DecodeAccount(accounts[i&(len(accounts)-1)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "decodes/s")
}

func oreAccountBytes(b *testing.B, p *IDL, name string) []byte {
	a, ok := p.Account(name)
	if !ok {
		b.Fatalf("no account %s", name)
	}
	data := make([]byte, len(a.Discriminator)+a.layout.size)
	copy(data, a.Discriminator)
	// Realistic values: large lamport amounts and non-zero keys.
	for i := len(a.Discriminator); i+8 <= len(data); i += 8 {
		binary.LittleEndian.PutUint64(data[i:], uint64(i)*1_000_003_333)
	}
	return data
}

func BenchmarkDecodeAccountOreRound(b *testing.B) {
	p, err := ParseFile(sharedFixture(b, "hyperstack/ore.idl.json"))
	if err != nil {
		b.Fatal(err)
	}
	benchDecodeAccount(b, p, oreAccountBytes(b, p, "Round"))
}

func BenchmarkDecodeAccountOreMiner(b *testing.B) {
	p, err := ParseFile(sharedFixture(b, "hyperstack/ore.idl.json"))
	if err != nil {
		b.Fatal(err)
	}
	benchDecodeAccount(b, p, oreAccountBytes(b, p, "Miner"))
}

func BenchmarkDecodeInstructionSPLTransfer(b *testing.B) {
	p := loadSPLToken(b)
	data := binary.LittleEndian.AppendUint64([]byte{3}, 1_000_000)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := p.DecodeInstruction(data); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "decodes/s")
}

func BenchmarkEncodeAccountSPLToken(b *testing.B) {
	p := loadSPLToken(b)
	_, v, err := p.DecodeAccount(splTokenAccountBytes())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.EncodeAccount("Account", v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPubkeyBase58(b *testing.B) {
	pk := solana.MustPubkey("oreV3EG1i9BEgiAJ8b177Z2S2rMarzak4NMv1kULvWv")
	b.Run("fixed32", func(b *testing.B) {
		b.ReportAllocs()
		var buf [44]byte
		for b.Loop() {
			_ = appendPubkeyBase58(buf[:0], (*[32]byte)(&pk))
		}
	})
	b.Run("general", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = base58.Encode(pk[:])
		}
	})
}
