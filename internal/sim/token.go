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

// Log lines of the Token and Associated Token Account programs.
const (
	logCreateIdempotent   = "Program log: CreateIdempotent"
	logGetAccountDataSize = "Program log: Instruction: GetAccountDataSize"
	logInitATA            = "Program log: Initialize the associated token account"
	logInitImmutableOwner = "Program log: Instruction: InitializeImmutableOwner"
	logUpgrade2022        = "Program log: Please upgrade to SPL Token 2022 for immutable owner support"
	logInitAccount3       = "Program log: Instruction: InitializeAccount3"
	logTransferChecked    = "Program log: Instruction: TransferChecked"
	logTransfer           = "Program log: Instruction: Transfer"
	logMintTo             = "Program log: Instruction: MintTo"
	logBurn               = "Program log: Instruction: Burn"
	logInitMint2          = "Program log: Instruction: InitializeMint2"
)

// zeroU64 is a boxed 0, shared.
var zeroU64 any = uint64(0)

// tokenCodec encodes SPL Token accounts and instructions through the SPL Token IDL, and builds the
// instructions (with their logs and inner instructions) the way the Token and Associated Token Account
// programs execute them.
type tokenCodec struct {
	s   *Sim
	idl *idl.IDL
	err error
	// Scratch values handed to the encoder, which does not retain them: refilled on every use.
	acctVal, mintVal map[string]any

	// After an account's first encoding, a write that changes only its amount (token account) or
	// supply (mint) patches a copy of the previous bytes at the field's offset, which the IDL
	// encoder's own output locates (see u64Field); the same for the amount of transfer, mint_to and
	// burn (and transfer_checked, per decimals). amountOff/supplyOff are -1 when the IDL's layout
	// does not allow it.
	amountOff, supplyOff         int
	ixTransfer, ixMintTo, ixBurn *amountIx
	ixChecked                    map[uint32]*amountIx
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
	c := &tokenCodec{s: s, idl: p, acctVal: map[string]any{}, mintVal: map[string]any{},
		amountOff: -1, supplyOff: -1, ixChecked: map[uint32]*amountIx{}}
	c.prepare()
	return c, nil
}

// prepare locates the patchable fields through the encoder (on sample values).
func (c *tokenCodec) prepare() {
	var owner, mintKey [32]byte
	owner[0], mintKey[0] = 1, 2
	probe := &account{token: &tokenHolding{mint: &account{key: mintKey}, ownerKey: owner}}
	if off, ok := u64Field(func(v uint64) ([]byte, error) {
		probe.token.amount = v
		return c.encodeTokenAccount(probe)
	}); ok {
		c.amountOff = off
	}
	pm := &mint{acct: &account{}, authority: &account{key: owner}, decimals: 6}
	if off, ok := u64Field(func(v uint64) ([]byte, error) {
		pm.supply = v
		return c.encodeMint(pm)
	}); ok {
		c.supplyOff = off
	}
	args := func(v uint64) map[string]any { return map[string]any{"amount": v} }
	c.ixTransfer = newAmountIx(c, "transfer", args)
	c.ixMintTo = newAmountIx(c, "mint_to", args)
	c.ixBurn = newAmountIx(c, "burn", args)
}

// transferChecked is the transfer_checked instruction for a mint's decimals.
func (c *tokenCodec) transferChecked(decimals uint32) *amountIx {
	a, ok := c.ixChecked[decimals]
	if !ok {
		a = newAmountIx(c, "transfer_checked", func(v uint64) map[string]any {
			return map[string]any{"amount": v, "decimals": uint64(decimals)}
		})
		c.ixChecked[decimals] = a
	}
	return a
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
	// atas maps a wallet to its token account for the mint (spl-token).
	atas  map[*account]*account
	index int
}

func (c *tokenCodec) encodeMint(m *mint) ([]byte, error) {
	var auth any
	if m.authority != nil {
		auth = &m.authority.key
	}
	v := c.mintVal
	v["mint_authority"], v["supply"], v["decimals"] = auth, m.supply, uint64(m.decimals)
	v["is_initialized"], v["freeze_authority"] = true, nil
	return c.idl.EncodeAccount("Mint", v)
}

// writeMint stores the mint's encoding; after the first, only the supply can have changed.
func (c *tokenCodec) writeMint(m *mint) {
	if m.acct.data != nil && c.supplyOff >= 0 {
		m.acct.data = patchU64(m.acct.data, c.supplyOff, m.supply)
		return
	}
	b, err := c.encodeMint(m)
	if err != nil {
		c.fail(err)
		return
	}
	m.acct.data = b
}

func (c *tokenCodec) encodeTokenAccount(a *account) ([]byte, error) {
	h := a.token
	v := c.acctVal
	v["mint"], v["owner"], v["amount"], v["delegate"] = &h.mint.key, &h.ownerKey, h.amount, nil
	v["state"], v["is_native"], v["delegated_amount"], v["close_authority"] = "Initialized", nil, zeroU64, nil
	return c.idl.EncodeAccount("Account", v)
}

// writeTokenAccount stores the token account's encoding; after the first, only the amount can have
// changed.
func (c *tokenCodec) writeTokenAccount(a *account) {
	if a.data != nil && c.amountOff >= 0 {
		a.data = patchU64(a.data, c.amountOff, a.token.amount)
		return
	}
	b, err := c.encodeTokenAccount(a)
	if err != nil {
		c.fail(err)
		return
	}
	a.data = b
}

// newTokenAccount makes the (not yet created) associated token account of owner for m.
func (c *tokenCodec) newTokenAccount(owner *account, m *mint) *account {
	key, err := ataAddress(owner.key, m.acct.key)
	if err != nil {
		c.fail(err)
	}
	// The account and its holding are one allocation.
	ta := &tokenAccount{
		account: account{key: key, owner: systemProgramID, rentEpoch: rentExemptEpoch},
		holding: tokenHolding{mint: m.acct, mintB: m.acct.base58(), owner: owner.base58(), ownerKey: owner.key,
			dec: m.decimals},
	}
	ta.account.token = &ta.holding
	return &ta.account
}

// tokenAccount is a token account's state and holding, allocated together.
type tokenAccount struct {
	account account
	holding tokenHolding
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
	n.line(logCreateIdempotent)
	sz := t.cpi(n, p.token, c.ixData("get_account_data_size", nil), r(m.acct))
	sz.cu = 1_569
	sz.line(logGetAccountDataSize)
	sz.ret = binary.LittleEndian.AppendUint64(nil, tokenAccountSize)
	t.cpi(n, p.system, systemCreate(rent, tokenAccountSize, tokenProgramID), w(payer), w(ata)).cu = 150
	n.line(logInitATA)
	io := t.cpi(n, p.token, c.ixData("initialize_immutable_owner", nil), w(ata))
	io.cu = 1_405
	io.line(logInitImmutableOwner).line(logUpgrade2022)
	ia := t.cpi(n, p.token, c.ixData("initialize_account3", map[string]any{"owner": &wallet.key}), w(ata), r(m.acct))
	ia.cu = 4_188
	ia.line(logInitAccount3)

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
		n = t.ix(p, c.transferChecked(m.decimals).data(c, amount),
			w(src), r(m.acct), w(dst), rs(owner))
		n.cu = 6_200
		n.line(logTransferChecked)
	} else {
		n = t.ix(p, c.ixTransfer.data(c, amount), w(src), w(dst), rs(owner))
		n.cu = 4_644
		n.line(logTransfer)
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
	n := t.cpi(parent, c.s.progs.token, c.ixTransfer.data(c, amount), w(src), w(dst), r(authority))
	n.cu = 4_644
	n.line(logTransfer)
	src.token.amount -= amount
	dst.token.amount += amount
	c.writeTokenAccount(src)
	c.writeTokenAccount(dst)
}

// mintTo adds a MintTo instruction signed by the mint authority and applies it.
func (c *tokenCodec) mintTo(t *txn, m *mint, dst *account, amount uint64) {
	n := t.ix(c.s.progs.token, c.ixMintTo.data(c, amount), w(m.acct), w(dst), rs(m.authority))
	n.cu = 4_492
	n.line(logMintTo)
	m.supply += amount
	dst.token.amount += amount
	c.writeMint(m)
	c.writeTokenAccount(dst)
}

// mintToCPI is MintTo invoked by another program (parent) with a PDA mint authority.
func (c *tokenCodec) mintToCPI(t *txn, parent *ixNode, m *mint, dst *account, amount uint64) {
	n := t.cpi(parent, c.s.progs.token, c.ixMintTo.data(c, amount), w(m.acct), w(dst), r(m.authority))
	n.cu = 4_492
	n.line(logMintTo)
	m.supply += amount
	dst.token.amount += amount
	c.writeMint(m)
	c.writeTokenAccount(dst)
}

// burn adds a Burn instruction signed by the account owner and applies it.
func (c *tokenCodec) burn(t *txn, owner, src *account, m *mint, amount uint64) {
	n := t.ix(c.s.progs.token, c.ixBurn.data(c, amount), w(src), w(m.acct), rs(owner))
	n.cu = 4_753
	n.line(logBurn)
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
	n.line(logInitMint2)
	payer.lamports -= rent
	m.acct.lamports = rent
	m.acct.owner = tokenProgramID
	c.writeMint(m)
}
