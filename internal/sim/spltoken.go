package sim

// Defaults of the spl-token scenario.
const (
	splDefaultTxPerSlot = 40
	splDefaultWallets   = 50_000
	splMaxMints         = 400
	splInitialMints     = 4
	lamportsPerSOL      = 1_000_000_000
	lowBalance          = 20_000_000 // a wallet below 0.02 SOL gets topped up from an exchange
)

// splToken simulates SPL Token activity: a growing set of mints and wallets, token accounts created on
// first receipt, and transfers, mints and burns whose volume per mint, account and wallet follows a
// power law.
type splToken struct {
	s          *Sim
	tc         *tokenCodec
	txPerSlot  float64
	maxWallets int
	mints      []*mint
	wallets    []*account
	lutFill    int
	exchange   *account
	bootstrapd bool
}

func newSPLToken(s *Sim, opts Options) (scenario, error) {
	tc, err := newTokenCodec(s, opts.IDLs)
	if err != nil {
		return nil, err
	}
	st := &splToken{
		s:          s,
		tc:         tc,
		txPerSlot:  opts.TxPerSlot,
		maxWallets: opts.Population,
	}
	if st.txPerSlot == 0 {
		st.txPerSlot = splDefaultTxPerSlot
	}
	if st.maxWallets == 0 {
		st.maxWallets = splDefaultWallets
	}
	st.exchange = s.g.newWallet(50_000_000 * lamportsPerSOL)
	return st, nil
}

func (st *splToken) startSlot(*Sim) {}

// newWallet adds a wallet; earlier wallets (the active ones under the power law) hold more SOL.
func (st *splToken) newWallet() *account {
	n := len(st.wallets)
	sol := 1 + 20_000/uint64(n+1)
	a := st.s.g.newWallet(sol*lamportsPerSOL + st.s.g.uint64n(lamportsPerSOL))
	st.wallets = append(st.wallets, a)
	return a
}

func (st *splToken) slot(s *Sim) error {
	if !st.bootstrapd {
		st.bootstrapd = true
		for i := 0; i < splInitialMints; i++ {
			st.opCreateMint()
		}
	}
	n := s.g.poisson(st.txPerSlot)
	for i := 0; i < n && st.tc.err == nil; i++ {
		st.op()
	}
	return st.tc.err
}

// begin starts a transaction paid by payer, with a compute budget most of the time and as a v0
// message with lookup tables some of the time.
func (st *splToken) begin(payer *account) *txn {
	g := st.s.g
	if payer.lamports < lowBalance {
		st.topUp(payer)
	}
	t := st.s.tx(payer)
	if g.chance(0.7) {
		limit := uint32(g.between(20, 200)) * 1000
		price := uint64(1000) * uint64(g.powerLaw(5000)+1)
		t.computeBudget(limit, price)
	}
	t.v0 = g.chance(0.3)
	return t
}

// topUp sends SOL from an exchange wallet to a wallet running low (a withdrawal).
func (st *splToken) topUp(to *account) {
	t := st.s.tx(st.exchange)
	amount := st.s.g.between(1, 10) * lamportsPerSOL
	t.ix(st.s.progs.system, systemTransfer(amount), ws(st.exchange), w(to)).cu = 150
	st.exchange.lamports -= amount
	to.lamports += amount
	st.s.commit(t)
}

func (st *splToken) op() {
	g := st.s.g
	if len(st.mints) < splMaxMints && g.chance(0.002) {
		st.opCreateMint()
		return
	}
	m := st.mints[g.powerLaw(len(st.mints))]
	switch x := g.float(); {
	case x < 0.45:
		st.opTransfer(m, false, 1)
	case x < 0.70:
		st.opTransfer(m, true, 1)
	case x < 0.74:
		st.opTransfer(m, false, 2+g.intn(3))
	case x < 0.88:
		st.opMintTo(m)
	default:
		st.opBurn(m)
	}
}

// holder picks a token account of m by the power law.
func (st *splToken) holder(m *mint) *account {
	return m.holders[st.s.g.powerLaw(len(m.holders))]
}

// recipient picks the wallet receiving m: a new wallet while the population grows, else an existing
// holder or (less often) any wallet, which may not hold the mint yet.
func (st *splToken) recipient(m *mint, not *account) *account {
	g := st.s.g
	grow := 0.08 * (1 - float64(len(st.wallets))/float64(st.maxWallets))
	switch {
	case g.chance(grow):
		return st.newWallet()
	case g.chance(0.9) && len(m.holders) > 1:
		for range 4 {
			h := st.holder(m)
			if h.token.ownerKey != not.key {
				return st.walletOf(h)
			}
		}
	}
	for range 4 {
		wlt := st.wallets[g.powerLaw(len(st.wallets))]
		if wlt != not {
			return wlt
		}
	}
	return st.newWallet()
}

func (st *splToken) walletOf(h *account) *account {
	return h.token.wallet
}

// ata returns wallet's token account for m, adding its creation to t when it does not exist yet.
func (st *splToken) ata(t *txn, payer, wallet *account, m *mint) *account {
	if a, ok := m.atas[wallet]; ok {
		return a
	}
	a := st.tc.newTokenAccount(wallet, m)
	a.token.wallet = wallet
	if st.lutFill < lookupTableCount*256 {
		a.lut = st.lutFill%lookupTableCount + 1
		a.lutIndex = uint8(st.lutFill / lookupTableCount)
		st.lutFill++
	}
	st.tc.createATA(t, payer, wallet, a, m)
	if m.atas == nil {
		m.atas = map[*account]*account{}
	}
	m.atas[wallet] = a
	m.holders = append(m.holders, a)
	return a
}

func (st *splToken) opCreateMint() {
	g := st.s.g
	creator := st.newWallet()
	m := &mint{
		acct:      &account{key: g.newKey(), rentEpoch: rentExemptEpoch},
		authority: creator,
		decimals:  []uint32{6, 9, 9, 6, 0, 2, 8, 5}[g.intn(8)],
		index:     len(st.mints),
	}
	st.mints = append(st.mints, m)
	t := st.begin(creator)
	st.tc.createMint(t, creator, m)
	dst := st.ata(t, creator, creator, m)
	st.tc.mintTo(t, m, dst, st.bigAmount(m))
	st.s.commit(t)
}

// bigAmount is an issuance: 1,000 to 1,000,000,000 whole tokens.
func (st *splToken) bigAmount(m *mint) uint64 {
	whole := uint64(1000) * uint64(st.s.g.powerLaw(1_000_000)+1)
	return whole * pow10[m.decimals]
}

// share is a fraction of a balance, small fractions more likely.
func (st *splToken) share(balance uint64) uint64 {
	f := st.s.g.float()
	v := uint64(float64(balance) * f * f * f)
	if v == 0 {
		v = 1
	}
	return v
}

func (st *splToken) opTransfer(m *mint, checked bool, legs int) {
	g := st.s.g
	src := st.holder(m)
	if src.token.amount == 0 {
		st.opMintToAccount(m, src)
		return
	}
	owner := src.token.wallet
	t := st.begin(owner)
	ok := true
	for range legs {
		dw := st.recipient(m, owner)
		dst := st.ata(t, owner, dw, m)
		amount := st.share(src.token.amount / uint64(legs))
		if g.chance(0.02) {
			amount = src.token.amount + 1 + g.uint64n(src.token.amount+1)
		}
		if !st.tc.transfer(t, owner, src, dst, m, amount, checked) {
			ok = false
			break
		}
	}
	if !ok {
		st.rollback(t)
	}
	st.s.commit(t)
}

// rollback undoes the state changes of a failed transaction's earlier instructions (the runtime
// discards them all): ATAs it created and amounts it moved.
func (st *splToken) rollback(t *txn) {
	for i, a := range t.keys {
		a.lamports = t.pre[i]
		if a.token == nil {
			continue
		}
		if t.preTok[i] < 0 {
			// Created in this transaction: forget it.
			a.data, a.owner = nil, systemProgramID
			a.token.amount = 0
			st.forget(a)
			continue
		}
		a.token.amount = uint64(t.preTok[i])
		st.tc.writeTokenAccount(a)
	}
}

func (st *splToken) forget(a *account) {
	m := st.mintOf(a)
	delete(m.atas, a.token.wallet)
	for i, h := range m.holders {
		if h == a {
			m.holders = append(m.holders[:i], m.holders[i+1:]...)
			break
		}
	}
}

func (st *splToken) mintOf(a *account) *mint {
	for _, m := range st.mints {
		if m.acct == a.token.mint {
			return m
		}
	}
	return nil
}

func (st *splToken) opMintTo(m *mint) {
	dw := st.recipient(m, m.authority)
	t := st.begin(m.authority)
	dst := st.ata(t, m.authority, dw, m)
	st.tc.mintTo(t, m, dst, st.share(st.bigAmount(m)/10))
	st.s.commit(t)
}

func (st *splToken) opMintToAccount(m *mint, dst *account) {
	t := st.begin(m.authority)
	st.tc.mintTo(t, m, dst, st.share(st.bigAmount(m)/10))
	st.s.commit(t)
}

func (st *splToken) opBurn(m *mint) {
	src := st.holder(m)
	if src.token.amount == 0 {
		st.opMintToAccount(m, src)
		return
	}
	owner := src.token.wallet
	t := st.begin(owner)
	st.tc.burn(t, owner, src, m, st.share(src.token.amount))
	st.s.commit(t)
}
