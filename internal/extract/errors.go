package extract

import (
	"errors"
	"strconv"
	"strings"

	"github.com/hyperstack-go/hyperstack/internal/solana"
)

var (
	// ErrAccountIndex is returned when an instruction names an account index (or program index)
	// outside the transaction's account-index space.
	ErrAccountIndex = errors.New("account index out of range")
	// ErrMissingTransaction is returned for a transaction update without a transaction or message.
	ErrMissingTransaction = errors.New("missing transaction")
	// ErrMissingAccount is returned for an account update without its account.
	ErrMissingAccount = errors.New("missing account")
	// ErrMissingMeta is returned for a transaction update without its status meta.
	ErrMissingMeta = errors.New("missing transaction meta")
	// ErrBadLength is returned when a pubkey is not 32 bytes or a signature not 64.
	ErrBadLength = errors.New("bad length")
	// ErrLookupMismatch is returned when the number of addresses loaded from lookup tables differs
	// from the number of lookup-table indexes in the message.
	ErrLookupMismatch = errors.New("loaded addresses do not match the lookup tables")
	// ErrInnerIndex is returned when an inner-instruction group names a top-level instruction that
	// does not exist.
	ErrInnerIndex = errors.New("inner instructions for a missing top-level instruction")
	// ErrUnmarshal is returned by UpdateBytes when the bytes are not a SubscribeUpdate.
	ErrUnmarshal = errors.New("not a SubscribeUpdate")
)

// Error is an extraction failure with its location: the transaction signature (zero for account
// updates), the account pubkey (account updates), the instruction path (nil when the failure is
// not about one instruction), and a detail. Err is the cause (one of the Err* sentinels).
type Error struct {
	Signature solana.Signature
	Pubkey    solana.Pubkey
	Path      []int
	Detail    string
	Err       error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("extract: ")
	switch {
	case !e.Signature.IsZero():
		b.WriteString("transaction ")
		b.WriteString(e.Signature.String())
	case !e.Pubkey.IsZero():
		b.WriteString("account ")
		b.WriteString(e.Pubkey.String())
	default:
		b.WriteString("update")
	}
	if e.Path != nil {
		b.WriteString(" instruction [")
		for i, p := range e.Path {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(strconv.Itoa(p))
		}
		b.WriteString("]")
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	if e.Detail != "" {
		b.WriteString(" (")
		b.WriteString(e.Detail)
		b.WriteString(")")
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }
