package sim

import (
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/hyperstack-go/hyperstack/internal/solana"
)

func TestOnCurveMatchesDecompression(t *testing.T) {
	t.Parallel()
	n := 20_000
	if testing.Short() {
		n = 2_000
	}
	g := newGen(11, 3)
	check := func(b [32]byte) {
		t.Helper()
		if got, want := onCurve(&b), solana.IsOnCurve(b[:]); got != want {
			t.Fatalf("onCurve(%x) = %v, decompression says %v", b, got, want)
		}
	}
	on := 0
	for range n {
		var b [32]byte
		g.fill(b[:])
		check(b)
		if onCurve(&b) {
			on++
		}
	}
	// About half of all encodings are points.
	if on < n*4/10 || on > n*6/10 {
		t.Fatalf("%d of %d random encodings on the curve", on, n)
	}
	// Values near 0, near p (non-canonical encodings of y = 0..18 included) and near 2^256, with
	// and without the sign bit.
	p := [32]byte{0: 0xed, 31: 0x7f}
	for i := 1; i < 31; i++ {
		p[i] = 0xff
	}
	for k := range 256 {
		var lo [32]byte
		lo[0], lo[1] = byte(k), byte(k>>8)
		check(lo)
		lo[31] = 0x80
		check(lo)
		hi := [32]byte{}
		for i := range hi {
			hi[i] = 0xff
		}
		hi[0] = byte(0xff - k)
		check(hi)
		hi[31] = 0x7f
		check(hi)
		near := p
		near[0] = byte(0xed - k%0xed)
		check(near)
		near[0] = byte(0xed + k%0x13)
		check(near)
		near[31] |= 0x80
		check(near)
	}
}

// TestLegendreMatchesJacobi checks the batched algorithm against math/big.
func TestLegendreMatchesJacobi(t *testing.T) {
	t.Parallel()
	pb := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 255), big.NewInt(19))
	r := rand.New(rand.NewPCG(5, 6))
	n := 5_000
	if testing.Short() {
		n = 500
	}
	for i := range n {
		var a [4]uint64
		for j := range a {
			a[j] = r.Uint64()
		}
		// Mix full-size values with small ones and values just below p.
		switch i % 4 {
		case 1:
			a[1], a[2], a[3] = 0, 0, 0
		case 2:
			a = pLimbs
			a[0] -= uint64(1 + i%1000)
		default:
			a[3] &= 0x3fffffffffffffff
		}
		x := new(big.Int)
		for j := 3; j >= 0; j-- {
			x.Lsh(x, 64).Or(x, new(big.Int).SetUint64(a[j]))
		}
		want := big.Jacobi(x, pb)
		got, ok := legendreP(a)
		if !ok {
			t.Fatalf("legendreP(%v) did not converge", x)
		}
		if got != want {
			t.Fatalf("legendreP(%v) = %d, want %d", x, got, want)
		}
	}
	if got, ok := legendreP([4]uint64{}); !ok || got != 0 {
		t.Fatalf("legendreP(0) = %d, %v", got, ok)
	}
}

func TestATAAddressMatchesFindProgramAddress(t *testing.T) {
	t.Parallel()
	g := newGen(12, 4)
	for range 2_000 {
		wallet, mint := g.newKey(), g.newKey()
		want, _, err := solana.FindProgramAddress([][]byte{wallet[:], tokenProgramID[:], mint[:]}, ataProgramID)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ataAddress(wallet, mint)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("ata of %s for %s: %s, want %s", wallet, mint, got, want)
		}
	}
}
