package idl

import (
	"encoding/binary"
	"sync/atomic"
)

const b58Alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

// b58Radix5 is 58^5, the largest power of 58 below 2^32: the 256-bit number is divided by it once
// per pass, each pass yielding five base58 digits.
const b58Radix5 = 656356768

// appendPubkeyBase58 appends the base58 text of a 32-byte key. It gives the same text as the general
// base58 encoder (checked in tests) at a fraction of its cost, which matters because every decoded
// pubkey becomes a string.
func appendPubkeyBase58(dst []byte, p *[32]byte) []byte {
	zeros := 0
	for zeros < 32 && p[zeros] == 0 {
		zeros++
	}
	var limbs [8]uint32
	for i := range limbs {
		limbs[i] = binary.BigEndian.Uint32(p[i*4:])
	}
	var digits [45]byte // least significant first
	nd := 0
	start := 0
	for start < 8 && limbs[start] == 0 {
		start++
	}
	for start < 8 {
		var rem uint64
		for i := start; i < 8; i++ {
			cur := rem<<32 | uint64(limbs[i])
			limbs[i] = uint32(cur / b58Radix5)
			rem = cur % b58Radix5
		}
		for start < 8 && limbs[start] == 0 {
			start++
		}
		for j := 0; j < 5; j++ {
			digits[nd] = byte(rem % 58)
			rem /= 58
			nd++
		}
	}
	for nd > 0 && digits[nd-1] == 0 {
		nd--
	}
	for i := 0; i < zeros; i++ {
		dst = append(dst, '1')
	}
	for i := nd - 1; i >= 0; i-- {
		dst = append(dst, b58Alphabet[digits[i]])
	}
	return dst
}

// keyCacheSize is the number of slots of a pubkeyCache (a power of two).
const keyCacheSize = 4096

// pubkeyCache remembers the text of recently decoded pubkeys: the same mints, owners and authorities
// recur in almost every update of a program, and a cached string is returned without encoding or
// allocating. It is direct-mapped and lock-free: a slot holds an immutable entry, readers compare the
// whole key, and concurrent writers simply overwrite each other.
type pubkeyCache struct {
	slots [keyCacheSize]atomic.Pointer[keyEntry]
}

type keyEntry struct {
	key  [32]byte
	text any // the base58 string, boxed once
}

// text returns the base58 text of k as a boxed string.
func (c *pubkeyCache) text(k *[32]byte) any {
	slot := &c.slots[binary.LittleEndian.Uint32(k[:4])&(keyCacheSize-1)]
	if e := slot.Load(); e != nil && e.key == *k {
		return e.text
	}
	var buf [44]byte
	e := &keyEntry{key: *k, text: any(string(appendPubkeyBase58(buf[:0], k)))}
	slot.Store(e)
	return e.text
}
