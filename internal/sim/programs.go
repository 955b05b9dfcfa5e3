package sim

import (
	"strconv"

	"github.com/hyperstack-go/hyperstack/internal/solana"
)

// Well-known addresses on mainnet.
var (
	systemProgramID   = solana.Pubkey{}
	computeBudgetID   = solana.MustPubkey("ComputeBudget111111111111111111111111111111")
	tokenProgramID    = solana.MustPubkey("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA")
	ataProgramID      = solana.MustPubkey("ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL")
	nativeLoaderID    = solana.MustPubkey("NativeLoader1111111111111111111111111111111")
	bpfLoaderID       = solana.MustPubkey("BPFLoader2111111111111111111111111111111111")
	bpfUpgradeableID  = solana.MustPubkey("BPFLoaderUpgradeab1e11111111111111111111111")
	sysvarSlotHashes  = solana.MustPubkey("SysvarS1otHashes111111111111111111111111111")
	sysvarOwnerID     = solana.MustPubkey("Sysvar1111111111111111111111111111111111111")
	lookupTableProgID = solana.MustPubkey("AddressLookupTab1e1111111111111111111111111")
)

// rentExemptEpoch is the rent_epoch of every rent-exempt account created since rent collection ended.
const rentExemptEpoch = ^uint64(0)

// RentExemptMinimum returns the lamports an account of dataLen bytes must hold to be rent exempt on
// mainnet: (128 + dataLen) bytes × 3480 lamports per byte-year × 2 years.
func RentExemptMinimum(dataLen int) uint64 {
	return uint64(128+dataLen) * 3480 * 2
}

// program is an invocable program: its account (executable, owned by a loader) and the strings its log
// lines are made of, built once.
type program struct {
	acct *account
	name string
	// builtin programs (System, ComputeBudget) log only invoke and success lines, never "consumed".
	builtin bool
	invoke  [5]string // "Program X invoke [d]" for d = 1..4 (index 0 unused)
	success string
	prefix  string // "Program X "
}

func newProgram(id solana.Pubkey, name string, builtin bool, lamports uint64, loader solana.Pubkey) *program {
	b58 := id.String()
	p := &program{
		acct: &account{key: id, b58: b58, lamports: lamports, owner: loader, executable: true,
			rentEpoch: rentExemptEpoch, isProgram: true},
		name:    name,
		builtin: builtin,
		success: "Program " + b58 + " success",
		prefix:  "Program " + b58 + " ",
	}
	for d := 1; d < len(p.invoke); d++ {
		p.invoke[d] = "Program " + b58 + " invoke [" + strconv.Itoa(d) + "]"
	}
	return p
}

// programs are the program accounts shared by every scenario.
type programs struct {
	system, computeBudget, token, ata *program
}

func newPrograms() programs {
	return programs{
		system:        newProgram(systemProgramID, "system", true, 1, nativeLoaderID),
		computeBudget: newProgram(computeBudgetID, "compute-budget", true, 1, nativeLoaderID),
		token:         newProgram(tokenProgramID, "spl-token", false, 4_522_329_612, bpfLoaderID),
		ata:           newProgram(ataProgramID, "associated-token", false, 731_913_600, bpfLoaderID),
	}
}
