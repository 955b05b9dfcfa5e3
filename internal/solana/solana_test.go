package solana

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestPubkeyRoundTrip(t *testing.T) {
	const s = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"
	p, err := ParsePubkey(s)
	require.NoError(t, err)
	require.Equal(t, s, p.String())
	_, err = ParsePubkey("abc")
	require.ErrorIs(t, err, ErrBadLength)
	_, err = ParsePubkey("0OIl")
	require.Error(t, err)
}

func TestFindProgramAddressKnown(t *testing.T) {
	// The associated token account of a well-known wallet/mint pair, as computed by the
	// associated-token-account program: seeds [wallet, token program, mint].
	ata := MustPubkey("ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL")
	wallet := MustPubkey("9WzDXwBbmkg8ZTbNMqUxvQRAyrZzDsGYdLVL9zYtAWWM")
	token := MustPubkey("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA")
	mint := MustPubkey("EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v")
	addr, bump, err := FindProgramAddress([][]byte{wallet[:], token[:], mint[:]}, ata)
	require.NoError(t, err)
	require.False(t, IsOnCurve(addr[:]))
	// Re-deriving with the bump found must give the same address.
	again, err := CreateProgramAddress([][]byte{wallet[:], token[:], mint[:], {bump}}, ata)
	require.NoError(t, err)
	require.Equal(t, addr, again)
}

func TestIsOnCurve(t *testing.T) {
	// A real wallet key is a curve point.
	w := MustPubkey("9WzDXwBbmkg8ZTbNMqUxvQRAyrZzDsGYdLVL9zYtAWWM")
	require.True(t, IsOnCurve(w[:]))
	require.False(t, IsOnCurve([]byte{1, 2, 3}))
}

func TestSeedLimits(t *testing.T) {
	_, err := CreateProgramAddress([][]byte{make([]byte, 33)}, Pubkey{})
	require.ErrorIs(t, err, ErrSeeds)
}
