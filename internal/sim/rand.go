package sim

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
)

// gen is the scenario's source of randomness: one PCG stream seeded from the user's seed, so a run is
// a pure function of it.
type gen struct {
	pcg *rand.PCG
	r   *rand.Rand
	// logs caches log(n+1) for powerLaw, direct-mapped by n (most calls repeat a few sizes).
	logs [64]struct {
		n int
		l float64
	}
}

func newGen(seed uint64, stream uint64) *gen {
	p := rand.NewPCG(seed, stream^0x9e3779b97f4a7c15)
	return &gen{pcg: p, r: rand.New(p)}
}

// fill writes random bytes into b.
func (g *gen) fill(b []byte) {
	for len(b) >= 8 {
		binary.LittleEndian.PutUint64(b, g.pcg.Uint64())
		b = b[8:]
	}
	if len(b) > 0 {
		v := g.pcg.Uint64()
		for i := range b {
			b[i] = byte(v >> (8 * i))
		}
	}
}

func (g *gen) intn(n int) int          { return g.r.IntN(n) }
func (g *gen) uint64n(n uint64) uint64 { return g.r.Uint64N(n) }
func (g *gen) float() float64          { return g.r.Float64() }
func (g *gen) chance(p float64) bool   { return g.r.Float64() < p }

// between returns a uniform integer in [lo, hi].
func (g *gen) between(lo, hi uint64) uint64 {
	if hi <= lo {
		return lo
	}
	return lo + g.r.Uint64N(hi-lo+1)
}

// powerLaw returns an index in [0, n) with P(i) proportional to 1/(i+1) (Zipf with exponent 1), so
// low indices — the oldest, best-known accounts — carry most of the activity. It works for any n,
// which matters because populations grow.
func (g *gen) powerLaw(n int) int {
	if n <= 1 {
		return 0
	}
	c := &g.logs[n%len(g.logs)]
	if c.n != n {
		c.n, c.l = n, math.Log(float64(n)+1)
	}
	i := int(math.Exp(g.r.Float64()*c.l)) - 1
	if i < 0 {
		i = 0
	}
	if i >= n {
		i = n - 1
	}
	return i
}

// poisson draws from a Poisson distribution with the given mean.
func (g *gen) poisson(mean float64) int {
	if mean <= 0 {
		return 0
	}
	if mean > 30 {
		v := math.Round(mean + math.Sqrt(mean)*g.r.NormFloat64())
		if v < 0 {
			return 0
		}
		return int(v)
	}
	l := math.Exp(-mean)
	k, p := 0, 1.0
	for {
		p *= g.r.Float64()
		if p <= l {
			return k
		}
		k++
	}
}
