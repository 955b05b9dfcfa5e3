package sim

import (
	"encoding/binary"
	"fmt"

	"github.com/hyperstack-go/hyperstack/internal/idl"
	"github.com/hyperstack-go/hyperstack/internal/solana"
)

// Sizes of SPL Token accounts.
const (
	mintSize         = 82
	tokenAccountSize = 165
)

// tokenCodec encodes SPL Token accounts and instructions through the SPL Token IDL, and builds the
// instructions (with their logs and inner instructions) the way the Token and Associated Token Account
// programs execute them.
type tokenCodec struct {
	s   *Sim
	idl *idl.IDL
	err error
}

func findIDL(idls []*idl.IDL, program solana.Pubkey, names ...string) *idl.IDL {
	for _, p := range idls {
		if p.Address == program {
			return p
		}
	}
	for _, p := range idls {
		for _, n := range names {
			if p.Name == n {
				return p
			}
		}
	}
	return nil
}

func newTokenCodec(s *Sim, idls []*idl.IDL) (*tokenCodec, error) {
	p := findIDL(idls, tokenProgramID, "spl_token")
	if p == nil {
		var err error
		if p, err = BuiltinSPLTokenIDL(); err != nil {
			return nil, err
		}
	}
	for _, name := range []string{"Mint", "Account"} {
		if _, ok := p.Account(name); !ok {
			return nil, fmt.Errorf("spl token idl has no account %q: %w", name, ErrMissingIDL)
		}
	}
	return &tokenCodec{s: s, idl: p}, nil
}

func (c *tokenCodec) fail(err error) {
	if c.err == nil {
		c.err = err
	}
}

func (c *tokenCodec) ixData(name string, args map[string]any) []byte {
	b, err := c.idl.EncodeInstruction(name, args)
	if err != nil {
		c.fail(err)
	}
	return b
}

// mint is a token mint: its account and the state the Mint layout holds.
type mint struct {
	acct      *account
	authority *account
	decimals  uint32
	supply    uint64
	// holders are the mint's token accounts in creation order (the power-law picks low indices).
	holders []*account
	index   int
}

func (c *tokenCodec) writeMint(m *mint) {
	var auth any
	if m.authority != nil {
		auth = &m.authority.key
	}
	b, err := c.idl.EncodeAccount("Mint", map[string]any{
		"mint_authority":   auth,
		"supply":           m.supply,
		"decimals":         uint64(m.decimals),
		"is_initialized":   true,
		"freeze_authority": nil,
	})
	if err != nil {
		c.fail(err)
		return
	}
	m.acct.data = b
}

func (c *tokenCodec) writeTokenAccount(a *account) {
	h := a.token
	b, err := c.idl.EncodeAccount("Account", map[string]any{
		"mint":             &h.mint.key,
		"owner":            &h.ownerKey,
		"amount":           h.amount,
		"delegate":         nil,
		"state":            "Initialized",
		"is_native":        nil,
		"delegated_amount": uint64(0),
		"close_authority":  nil,
	})
	if err != nil {
		c.fail(err)
		return
	}
	a.data = b
}

// newTokenAccount makes the (not yet created) associated token account of owner for m.
func (c *tokenCodec) newTokenAccount(owner *account, m *mint) *account {
	key, _, err := solana.FindProgramAddress([][]byte{owner.key[:], tokenProgramID[:], m.acct.key[:]}, ataProgramID)
	if err != nil {
		c.fail(err)
	}
	return &account{
		key:       key,
		owner:     systemProgramID,
		rentEpoch: rentExemptEpoch,
		token: &tokenHolding{mint: m.acct, mintB: m.acct.base58(), owner: owner.base58(), ownerKey: owner.key,
			dec: m.decimals},
	}
}

// systemCreate is the System program's CreateAccount instruction data.
func systemCreate(lamports, space uint64, owner solana.Pubkey) []byte {
	d := make([]byte, 4+8+8+32)
	binary.LittleEndian.PutUint32(d, 0)
	binary.LittleEndian.PutUint64(d[4:], lamports)
	binary.LittleEndian.PutUint64(d[12:], space)
	copy(d[20:], owner[:])
	return d
}

// systemTransfer is the System program's Transfer instruction data.
func systemTransfer(lamports uint64) []byte {
	d := make([]byte, 12)
	binary.LittleEndian.PutUint32(d, 2)
	binary.LittleEndian.PutUint64(d[4:], lamports)
	return d
}

// createATA adds an Associated Token Account CreateIdempotent instruction creating ata (from
// newTokenAccount) for its owner wallet, paid by payer, and applies it.
func (c *tokenCodec) createATA(t *txn, payer, wallet, ata *account, m *mint) {
	p := &c.s.progs
	rent := RentExemptMinimum(tokenAccountSize)
	n := t.ix(p.ata, []byte{1}, ws(payer), w(ata), r(wallet), r(m.acct), r(p.system.acct), r(p.token.acct))
	n.cu = 13_183
	n.log("CreateIdempotent")
	sz := t.cpi(n, p.token, c.ixData("get_account_data_size", nil), r(m.acct))
	sz.cu = 1_569
	sz.log("Instruction: GetAccountDataSize")
	sz.ret = binary.LittleEndian.AppendUint64(nil, tokenAccountSize)
	t.cpi(n, p.system, systemCreate(rent, tokenAccountSize, tokenProgramID), w(payer), w(ata)).cu = 150
	n.log("Initialize the associated token account")
	io := t.cpi(n, p.token, c.ixData("initialize_immutable_owner", nil), w(ata))
	io.cu = 1_405
	io.log("Instruction: InitializeImmutableOwner").log("Please upgrade to SPL Token 2022 for immutable owner support")
	ia := t.cpi(n, p.token, c.ixData("initialize_account3", map[string]any{"owner": &wallet.key}), w(ata), r(m.acct))
	ia.cu = 4_188
	ia.log("Instruction: InitializeAccount3")

	payer.lamports -= rent
	ata.lamports = rent
	ata.owner = tokenProgramID
	c.writeTokenAccount(ata)
}

// transfer adds a Transfer (or TransferChecked) instruction moving amount from src to dst, signed by
// the source's owner, and applies it. If amount exceeds the balance the instruction fails the way
// the Token program fails it and nothing changes.
func (c *tokenCodec) transfer(t *txn, owner, src, dst *account, m *mint, amount uint64, checked bool) bool {
	p := c.s.progs.token
	var n *ixNode
	if checked {
		n = t.ix(p, c.ixData("transfer_checked", map[string]any{"amount": amount, "decimals": uint64(m.decimals)}),
			w(src), r(m.acct), w(dst), rs(owner))
		n.cu = 6_200
		n.log("Instruction: TransferChecked")
	} else {
		n = t.ix(p, c.ixData("transfer", map[string]any{"amount": amount}), w(src), w(dst), rs(owner))
		n.cu = 4_644
		n.log("Instruction: Transfer")
	}
	if amount > src.token.amount {
		t.fail(1, "Error: insufficient funds")
		return false
	}
	src.token.amount -= amount
	dst.token.amount += amount
	c.writeTokenAccount(src)
	c.writeTokenAccount(dst)
	return true
}

// transferCPI is a Transfer invoked by another program (parent) whose PDA owns src.
func (c *tokenCodec) transferCPI(t *txn, parent *ixNode, authority, src, dst *account, amount uint64) {
	n := t.cpi(parent, c.s.progs.token, c.ixData("transfer", map[string]any{"amount": amount}), w(src), w(dst), r(authority))
	n.cu = 4_644
	n.log("Instruction: Transfer")
	src.token.amount -= amount
	dst.token.amount += amount
	c.writeTokenAccount(src)
	c.writeTokenAccount(dst)
}

// mintTo adds a MintTo instruction signed by the mint authority and applies it.
func (c *tokenCodec) mintTo(t *txn, m *mint, dst *account, amount uint64) {
	n := t.ix(c.s.progs.token, c.ixData("mint_to", map[string]any{"amount": amount}), w(m.acct), w(dst), rs(m.authority))
	n.cu = 4_492
	n.log("Instruction: MintTo")
	m.supply += amount
	dst.token.amount += amount
	c.writeMint(m)
	c.writeTokenAccount(dst)
}

// mintToCPI is MintTo invoked by another program (parent) with a PDA mint authority.
func (c *tokenCodec) mintToCPI(t *txn, parent *ixNode, m *mint, dst *account, amount uint64) {
	n := t.cpi(parent, c.s.progs.token, c.ixData("mint_to", map[string]any{"amount": amount}), w(m.acct), w(dst), r(m.authority))
	n.cu = 4_492
	n.log("Instruction: MintTo")
	m.supply += amount
	dst.token.amount += amount
	c.writeMint(m)
	c.writeTokenAccount(dst)
}

// burn adds a Burn instruction signed by the account owner and applies it.
func (c *tokenCodec) burn(t *txn, owner, src *account, m *mint, amount uint64) {
	n := t.ix(c.s.progs.token, c.ixData("burn", map[string]any{"amount": amount}), w(src), w(m.acct), rs(owner))
	n.cu = 4_753
	n.log("Instruction: Burn")
	m.supply -= amount
	src.token.amount -= amount
	c.writeMint(m)
	c.writeTokenAccount(src)
}

// createMint adds CreateAccount + InitializeMint2 for a new mint (the mint keypair co-signs) and
// applies them.
func (c *tokenCodec) createMint(t *txn, payer *account, m *mint) {
	p := &c.s.progs
	rent := RentExemptMinimum(mintSize)
	t.ix(p.system, systemCreate(rent, mintSize, tokenProgramID), ws(payer), ws(m.acct)).cu = 150
	n := t.ix(p.token, c.ixData("initialize_mint2", map[string]any{
		"decimals": uint64(m.decimals), "mint_authority": &m.authority.key, "freeze_authority": nil,
	}), w(m.acct))
	n.cu = 2_967
	n.log("Instruction: InitializeMint2")
	payer.lamports -= rent
	m.acct.lamports = rent
	m.acct.owner = tokenProgramID
	c.writeMint(m)
}
