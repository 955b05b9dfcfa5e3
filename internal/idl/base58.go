package idl

import (
	"encoding/binary"
	"sync/atomic"
)

const b58Alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

// b58Radix5 is 58^5, the largest power of 58 below 2^32: the 256-bit number is divided by it once
// per pass, each pass yielding five base58 digits.
const b58Radix5 = 656356768

// b58Table[i][k] is the k-th digit (least significant first) in radix 58^5 of 2^(32*(7-i)), the
// weight of the i-th big-endian 32-bit limb of a key. Every column sums to less than 2^32 · 0.54, so
// the 64-bit column accumulators below cannot overflow.
var b58Table = buildB58Table()

// b58Pairs[v] holds the two base58 digits of v < 58².
var b58Pairs = func() (t [58 * 58][2]byte) {
	for v := range t {
		t[v] = [2]byte{byte(v / 58), byte(v % 58)}
	}
	return t
}()

func buildB58Table() (t [8][8]uint32) {
	var digits [9]uint64
	digits[0] = 1
	for i := 7; i >= 0; i-- {
		for k := 0; k < 8; k++ {
			t[i][k] = uint32(digits[k])
		}
		var carry uint64
		for k := range digits {
			v := digits[k]<<32 + carry
			digits[k] = v % b58Radix5
			carry = v / b58Radix5
		}
	}
	return t
}

// AppendPubkeyBase58 appends the base58 text of a 32-byte key (solana.Pubkey's String form) to dst,
// faster than the general base58 encoder.
func AppendPubkeyBase58(dst []byte, key *[32]byte) []byte { return appendPubkeyBase58(dst, key) }

// appendPubkeyBase58 appends the base58 text of a 32-byte key. It gives the same text as the general
// base58 encoder (checked in tests) without dividing the 256-bit number: the limbs are converted to
// radix 58^5 by multiply-accumulate against b58Table, then carried once.
func appendPubkeyBase58(dst []byte, p *[32]byte) []byte {
	zeros := 0
	for zeros < 32 && p[zeros] == 0 {
		zeros++
	}
	var acc [9]uint64
	for i := 0; i < 8; i++ {
		limb := uint64(binary.BigEndian.Uint32(p[i*4:]))
		if limb == 0 {
			continue
		}
		row := &b58Table[i]
		for k := 0; k < 8; k++ {
			acc[k] += limb * uint64(row[k])
		}
	}
	for k := 0; k < 8; k++ {
		acc[k+1] += acc[k] / b58Radix5
		acc[k] %= b58Radix5
	}
	var digits [45]byte // most significant first
	for k := 0; k < 9; k++ {
		v := uint32(acc[k]) // < 58^5
		base := 44 - 5*k
		lo := v % (58 * 58)
		v /= 58 * 58
		mid := v % (58 * 58)
		digits[base-4] = byte(v / (58 * 58))
		digits[base-3], digits[base-2] = b58Pairs[mid][0], b58Pairs[mid][1]
		digits[base-1], digits[base] = b58Pairs[lo][0], b58Pairs[lo][1]
	}
	first := 0
	for first < 45 && digits[first] == 0 {
		first++
	}
	for i := 0; i < zeros; i++ {
		dst = append(dst, '1')
	}
	for _, d := range digits[first:] {
		dst = append(dst, b58Alphabet[d])
	}
	return dst
}

// keyCacheSize is the number of pubkey slots of a decodeCache (a power of two).
const keyCacheSize = 4096

// decodeCache remembers the text of recently decoded pubkeys: the same mints, owners and authorities
// recur in almost every update of a program, and a cached string is returned without encoding or
// allocating. It also remembers recently decoded short byte arrays (hashes, seeds, bit sets), which
// mostly repeat from one update of an account to the next (often all zeros): a repeated array is
// returned as the same []any. It is direct-mapped and lock-free: a slot holds an immutable entry,
// readers compare the whole key, and concurrent writers simply overwrite each other.
type decodeCache struct {
	slots  [keyCacheSize]atomic.Pointer[keyEntry]
	arrays [arrayCacheSize]atomic.Pointer[arrayEntry]
}

// arrayCacheSize is the number of byte-array slots of a decodeCache (a power of two);
// maxCachedArray the longest byte array cached.
const (
	arrayCacheSize = 1024
	maxCachedArray = 64
)

type arrayEntry struct {
	bytes string
	value any // []any of uint64, boxed once
}

// byteArray returns b as a []any of uint64 (boxed), shared with earlier decodes of the same bytes.
func (c *decodeCache) byteArray(b []byte) any {
	h := uint64(len(b)) * 0x9E3779B97F4A7C15
	i := 0
	for ; i+8 <= len(b); i += 8 {
		h = (h ^ binary.LittleEndian.Uint64(b[i:])) * 0xff51afd7ed558ccd
		h ^= h >> 32
	}
	for ; i < len(b); i++ {
		h = (h ^ uint64(b[i])) * 0x100000001b3
	}
	slot := &c.arrays[(h^h>>29)&(arrayCacheSize-1)]
	if e := slot.Load(); e != nil && e.bytes == string(b) {
		return e.value
	}
	out := make([]any, len(b))
	for j, x := range b {
		out[j] = uint64(x)
	}
	e := &arrayEntry{bytes: string(b), value: out}
	slot.Store(e)
	return e.value
}

type keyEntry struct {
	key  [32]byte
	text any // the base58 string, boxed once
}

// text returns the base58 text of k as a boxed string.
func (c *decodeCache) text(k *[32]byte) any {
	slot := &c.slots[binary.LittleEndian.Uint32(k[:4])&(keyCacheSize-1)]
	if e := slot.Load(); e != nil && e.key == *k {
		return e.text
	}
	var buf [44]byte
	e := &keyEntry{key: *k, text: any(string(appendPubkeyBase58(buf[:0], k)))}
	slot.Store(e)
	return e.text
}
