// Package solana holds the Solana vocabulary every other package shares: public keys, signatures,
// their base58 text form, and program-derived addresses. It imports nothing of ours.
package solana

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"

	"filippo.io/edwards25519"
	"github.com/mr-tron/base58"
)

// PubkeyLen and SignatureLen are the byte lengths of a public key and a transaction signature.
const (
	PubkeyLen    = 32
	SignatureLen = 64
	// MaxSeeds and MaxSeedLen are the limits the runtime places on program-address seeds.
	MaxSeeds   = 16
	MaxSeedLen = 32
)

var (
	// ErrBadLength is returned when decoded bytes do not have the expected length.
	ErrBadLength = errors.New("wrong length")
	// ErrOnCurve is returned by CreateProgramAddress when the hash lands on the ed25519 curve.
	ErrOnCurve = errors.New("program address is on the ed25519 curve")
	// ErrNoBump is returned by FindProgramAddress when no bump seed gives an off-curve address.
	ErrNoBump = errors.New("no viable bump seed")
	// ErrSeeds is returned when there are too many seeds or a seed is too long.
	ErrSeeds = errors.New("invalid seeds")
)

// Pubkey is a 32-byte ed25519 public key or program-derived address.
type Pubkey [PubkeyLen]byte

// Signature is a 64-byte transaction signature.
type Signature [SignatureLen]byte

// ParsePubkey decodes a base58 public key.
func ParsePubkey(s string) (Pubkey, error) {
	var p Pubkey
	b, err := base58.Decode(s)
	if err != nil {
		return p, fmt.Errorf("pubkey %q: %w", s, err)
	}
	if len(b) != PubkeyLen {
		return p, fmt.Errorf("pubkey %q: %d bytes: %w", s, len(b), ErrBadLength)
	}
	copy(p[:], b)
	return p, nil
}

// MustPubkey is ParsePubkey for constants known to be valid; it panics on a bad literal.
func MustPubkey(s string) Pubkey {
	p, err := ParsePubkey(s)
	if err != nil {
		panic(err)
	}
	return p
}

// PubkeyFromBytes copies b into a Pubkey; b must be 32 bytes long.
func PubkeyFromBytes(b []byte) (Pubkey, error) {
	var p Pubkey
	if len(b) != PubkeyLen {
		return p, fmt.Errorf("pubkey: %d bytes: %w", len(b), ErrBadLength)
	}
	copy(p[:], b)
	return p, nil
}

// String returns the base58 form.
func (p Pubkey) String() string { return base58.Encode(p[:]) }

// IsZero reports whether every byte is zero (the system program's id, and "no key" in COption fields).
func (p Pubkey) IsZero() bool { return p == Pubkey{} }

// MarshalText implements encoding.TextMarshaler (base58).
func (p Pubkey) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler (base58).
func (p *Pubkey) UnmarshalText(b []byte) error {
	v, err := ParsePubkey(string(b))
	if err != nil {
		return err
	}
	*p = v
	return nil
}

// ParseSignature decodes a base58 signature.
func ParseSignature(s string) (Signature, error) {
	var sig Signature
	b, err := base58.Decode(s)
	if err != nil {
		return sig, fmt.Errorf("signature %q: %w", s, err)
	}
	if len(b) != SignatureLen {
		return sig, fmt.Errorf("signature %q: %d bytes: %w", s, len(b), ErrBadLength)
	}
	copy(sig[:], b)
	return sig, nil
}

// SignatureFromBytes copies b into a Signature; b must be 64 bytes long.
func SignatureFromBytes(b []byte) (Signature, error) {
	var s Signature
	if len(b) != SignatureLen {
		return s, fmt.Errorf("signature: %d bytes: %w", len(b), ErrBadLength)
	}
	copy(s[:], b)
	return s, nil
}

// String returns the base58 form.
func (s Signature) String() string { return base58.Encode(s[:]) }

// IsZero reports whether every byte is zero.
func (s Signature) IsZero() bool { return s == Signature{} }

// MarshalText implements encoding.TextMarshaler (base58).
func (s Signature) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler (base58).
func (s *Signature) UnmarshalText(b []byte) error {
	v, err := ParseSignature(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// IsOnCurve reports whether the 32 bytes are a valid compressed ed25519 point.
func IsOnCurve(b []byte) bool {
	if len(b) != PubkeyLen {
		return false
	}
	_, err := new(edwards25519.Point).SetBytes(b)
	return err == nil
}

var pdaMarker = []byte("ProgramDerivedAddress")

// CreateProgramAddress derives sha256(seeds... || programID || "ProgramDerivedAddress") and
// refuses a result that lies on the curve, as the runtime does.
func CreateProgramAddress(seeds [][]byte, programID Pubkey) (Pubkey, error) {
	if len(seeds) > MaxSeeds {
		return Pubkey{}, fmt.Errorf("%d seeds: %w", len(seeds), ErrSeeds)
	}
	h := sha256.New()
	for i, s := range seeds {
		if len(s) > MaxSeedLen {
			return Pubkey{}, fmt.Errorf("seed %d is %d bytes: %w", i, len(s), ErrSeeds)
		}
		h.Write(s)
	}
	h.Write(programID[:])
	h.Write(pdaMarker)
	var p Pubkey
	copy(p[:], h.Sum(nil))
	if IsOnCurve(p[:]) {
		return Pubkey{}, ErrOnCurve
	}
	return p, nil
}

// FindProgramAddress searches bump seeds from 255 down for the first off-curve address.
func FindProgramAddress(seeds [][]byte, programID Pubkey) (Pubkey, uint8, error) {
	withBump := make([][]byte, len(seeds)+1)
	copy(withBump, seeds)
	bump := []byte{0}
	for b := 255; b >= 0; b-- {
		bump[0] = byte(b)
		withBump[len(seeds)] = bump
		p, err := CreateProgramAddress(withBump, programID)
		if err == nil {
			return p, uint8(b), nil
		}
		if !errors.Is(err, ErrOnCurve) {
			return Pubkey{}, 0, err
		}
	}
	return Pubkey{}, 0, ErrNoBump
}

// Equal reports whether two byte slices hold the same key; a convenience for raw protobuf fields.
func (p Pubkey) Equal(b []byte) bool { return bytes.Equal(p[:], b) }
