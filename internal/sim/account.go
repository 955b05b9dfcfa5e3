package sim

import (
	"strconv"

	"github.com/hyperstack-go/hyperstack/internal/solana"
)

// account is the simulated state of one on-chain account. data is replaced, never modified in place, so
// updates already handed out can share it.
type account struct {
	key        solana.Pubkey
	b58        string
	lamports   uint64
	owner      solana.Pubkey
	data       []byte
	executable bool
	rentEpoch  uint64
	isProgram  bool
	// token is set for SPL token accounts: what the transaction metadata's token balances report.
	token *tokenHolding
	// lut is 1 + the index of the address lookup table that holds this address (0: none), and lutIndex
	// its position in that table.
	lut      int
	lutIndex uint8
	// invoked is the serial of the last transaction that invoked this account as a program (compile
	// scratch).
	invoked uint64
}

// tokenHolding is the part of a token account that shows up in pre/post token balances.
type tokenHolding struct {
	mint     *account
	mintB    string
	owner    string
	ownerKey solana.Pubkey
	wallet   *account
	amount   uint64
	dec      uint32
	// strAmount, amountStr and uiStr cache the decimal forms of an amount for token balances.
	strAmount        uint64
	amountStr, uiStr string
}

// strings returns the decimal and UI forms of amount (cached: a transaction's pre balance is usually
// the previous one's post balance).
func (h *tokenHolding) strings(amount uint64) (string, string) {
	if h.amountStr == "" || h.strAmount != amount {
		// Both forms share one allocation: the decimal digits followed by the UI form.
		var b [64]byte
		d := strconv.AppendUint(b[:0], amount, 10)
		n := len(d)
		both := string(appendUIAmount(d, amount, h.dec))
		h.strAmount, h.amountStr, h.uiStr = amount, both[:n], both[n:]
	}
	return h.amountStr, h.uiStr
}

func (a *account) base58() string {
	if a.b58 == "" {
		a.b58 = a.key.String()
	}
	return a.b58
}

// newKey draws a fresh random address.
func (g *gen) newKey() solana.Pubkey {
	var k solana.Pubkey
	g.fill(k[:])
	return k
}

// newWallet creates a system-owned account holding lamports.
func (g *gen) newWallet(lamports uint64) *account {
	return &account{key: g.newKey(), lamports: lamports, owner: systemProgramID, rentEpoch: rentExemptEpoch}
}
