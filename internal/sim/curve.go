package sim

import (
	"crypto/sha256"
	"encoding/binary"
	"math/bits"

	"filippo.io/edwards25519/field"

	"github.com/hyperstack-go/hyperstack/internal/solana"
)

// A program address must not be a valid ed25519 point, so deriving one tests candidates against the
// curve. Decompressing a point (solana.IsOnCurve) spends most of its time on a square root; the
// test only needs to know whether x² = (y² - 1) / (d·y² + 1) has a solution, which is the Legendre
// symbol of (y² - 1)·(d·y² + 1) modulo p = 2^255 - 19 (d·y² + 1 is never zero because d is not a
// square). onCurve computes that symbol with a binary GCD-like algorithm instead, about twice as
// fast, and falls back to decompression if the algorithm has not converged within its step budget.

// pLimbs is p = 2^255 - 19 as little-endian 64-bit limbs.
var pLimbs = [4]uint64{0xffffffffffffffed, 0xffffffffffffffff, 0xffffffffffffffff, 0x7fffffffffffffff}

var feOne = new(field.Element).One()

// edD is the curve constant d = -121665/121666.
var edD = func() *field.Element {
	num := new(field.Element).Mult32(feOne, 121665)
	num.Negate(num)
	den := new(field.Element).Mult32(feOne, 121666)
	den.Invert(den)
	return num.Multiply(num, den)
}()

// onCurve reports whether b is the encoding of a point on the ed25519 curve, exactly as
// solana.IsOnCurve does (the sign bit is ignored and y is taken modulo p).
func onCurve(b *[32]byte) bool {
	y, err := new(field.Element).SetBytes(b[:])
	if err != nil {
		return solana.IsOnCurve(b[:])
	}
	var y2, u, v field.Element
	y2.Square(y)
	u.Subtract(&y2, feOne)
	v.Multiply(&y2, edD)
	v.Add(&v, feOne)
	u.Multiply(&u, &v)
	w := u.Bytes()
	var a [4]uint64
	for i := range a {
		a[i] = binary.LittleEndian.Uint64(w[8*i:])
	}
	j, ok := legendreP(a)
	if !ok {
		return solana.IsOnCurve(b[:])
	}
	return j >= 0
}

// legendreP returns the Legendre symbol (a/p) of 0 <= a < p; ok is false when it did not converge
// within its step budget (which random inputs practically never exhaust).
//
// It runs "positive divsteps" on (f, g), starting from (p, a), while keeping the symbol (g/f) up to
// the sign in flip. With δ a step counter, each step is, for odd f:
//
//	g even:         (f, g) → (f, g/2),        δ+1   (2/f) = -1 iff f ≡ 3, 5 (mod 8)
//	g odd, δ ≤ 0:   (f, g) → (f, (g+f)/2),    δ+1   (g/f) = ((g+f)/f), then as above
//	g odd, δ > 0:   (f, g) → (g, (f+g)/2),    1-δ   quadratic reciprocity: the sign flips iff f ≡ g ≡ 3 (mod 4)
//
// f stays odd and both stay positive, so every symbol is a Jacobi symbol with a positive odd modulus; once f = 1 the symbol is 1 and the answer is the accumulated sign. The steps are batched
// 62 at a time on the low 64 bits (which decide each step; after k steps the low 64-k bits are still
// exact), and the batch's 2×2 matrix is then applied to the full numbers.
func legendreP(a [4]uint64) (int, bool) {
	if a[0]|a[1]|a[2]|a[3] == 0 {
		return 0, true
	}
	f, g := pLimbs, a
	delta := int64(1)
	flip := uint64(0)
	for range 40 {
		if f[0] == 1 && f[1]|f[2]|f[3] == 0 {
			if flip&1 != 0 {
				return -1, true
			}
			return 1, true
		}
		// 2^62 · (f', g') = [[u, v], [q, r]] · (f, g), with entries at most 2^62.
		fl, gl := f[0], g[0]
		var u, v, q, r uint64 = 1, 0, 0, 1
		for i := 62; ; {
			// Halve g as often as it is even (at most the steps left).
			zeros := uint(bits.TrailingZeros64(gl | ^uint64(0)<<uint(i)))
			gl >>= zeros
			u, v = u<<zeros, v<<zeros
			delta += int64(zeros)
			i -= int(zeros)
			flip ^= uint64(zeros) & (fl>>1 ^ fl>>2)
			if i == 0 {
				break
			}
			// g is odd: swap when δ > 0 (branch-free: the branch would be unpredictable), then
			// g += f (the next halving completes the step).
			swap := uint64(-delta >> 63)
			x := (fl ^ gl) & swap
			fl, gl = fl^x, gl^x
			x = (u ^ q) & swap
			u, q = u^x, q^x
			x = (v ^ r) & swap
			v, r = v^x, r^x
			delta ^= (delta ^ -delta) & int64(swap)
			flip ^= (fl & gl) >> 1 & swap
			gl += fl
			q, r = q+u, r+v
		}
		f, g = combine62(u, v, f, g), combine62(q, r, f, g)
	}
	return 0, false
}

// combine62 returns (m0·f + m1·g) / 2^62 for a sum that is a multiple of 2^62 and below 2^317.
func combine62(m0, m1 uint64, f, g [4]uint64) [4]uint64 {
	var t [5]uint64
	var c uint64
	for i := range 4 {
		hi, lo := bits.Mul64(m0, f[i])
		var cc uint64
		t[i], cc = bits.Add64(lo, c, 0)
		c = hi + cc
	}
	t[4] = c
	c = 0
	var carry uint64
	for i := range 4 {
		hi, lo := bits.Mul64(m1, g[i])
		var cc uint64
		lo, cc = bits.Add64(lo, c, 0)
		c = hi + cc
		t[i], carry = bits.Add64(t[i], lo, carry)
	}
	t[4], _ = bits.Add64(t[4], c, carry)
	return [4]uint64{
		t[0]>>62 | t[1]<<2,
		t[1]>>62 | t[2]<<2,
		t[2]>>62 | t[3]<<2,
		t[3]>>62 | t[4]<<2,
	}
}

// ataAddress derives the associated token account of wallet for mint: the program address of
// [wallet, token program, mint] under the Associated Token Account program, the same address
// solana.FindProgramAddress finds, without allocating.
func ataAddress(wallet, mint solana.Pubkey) (solana.Pubkey, error) {
	const marker = "ProgramDerivedAddress"
	var buf [3*32 + 1 + 32 + len(marker)]byte
	copy(buf[0:], wallet[:])
	copy(buf[32:], tokenProgramID[:])
	copy(buf[64:], mint[:])
	copy(buf[97:], ataProgramID[:])
	copy(buf[129:], marker)
	for b := 255; b >= 0; b-- {
		buf[96] = byte(b)
		h := sha256.Sum256(buf[:])
		if !onCurve(&h) {
			return h, nil
		}
	}
	return solana.Pubkey{}, solana.ErrNoBump
}
