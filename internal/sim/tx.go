package sim

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"slices"
	"strconv"

	"github.com/hyperstack-go/hyperstack/internal/geyserpb"
	"github.com/hyperstack-go/hyperstack/internal/solana"
)

// Fee and compute constants of mainnet.
const (
	lamportsPerSignature = 5000
	defaultUnitsPerIx    = 200_000
	maxComputeUnits      = 1_400_000
)

// ref is an account as an instruction lists it.
type ref struct {
	a        *account
	writable bool
	signer   bool
}

func w(a *account) ref  { return ref{a: a, writable: true} }
func r(a *account) ref  { return ref{a: a} }
func ws(a *account) ref { return ref{a: a, writable: true, signer: true} }
func rs(a *account) ref { return ref{a: a, signer: true} }

// ixNode is one invocation: a top-level instruction or a CPI. steps interleave the program's own log
// lines with the invocations it makes, in execution order.
type ixNode struct {
	prog     *program
	accounts []*account
	data     []byte
	cu       uint64 // own compute units, children excluded
	ret      []byte // return data this invocation sets
	steps    []step
	failCode uint32 // custom error + 1 when this invocation fails
}

type step struct {
	line  string
	child *ixNode
}

// log appends a "Program log: ..." line.
func (n *ixNode) log(msg string) *ixNode {
	n.steps = append(n.steps, step{line: "Program log: " + msg})
	return n
}

// logData appends a "Program data: <base64>" line (sol_log_data, how programs emit events).
func (n *ixNode) logData(b []byte) *ixNode {
	n.steps = append(n.steps, step{line: "Program data: " + base64.StdEncoding.EncodeToString(b)})
	return n
}

// txn collects one transaction while a scenario builds it.
type txn struct {
	b       *Sim
	keys    []*account
	flags   []uint8 // flagSigner|flagWritable per key
	pre     []uint64
	preTok  []int64 // -1: no token balance before the transaction
	ixs     []*ixNode
	cuLimit uint32
	cuPrice uint64 // micro-lamports per compute unit
	v0      bool
	failed  bool
	failIx  int
}

const (
	flagSigner   = 1
	flagWritable = 2
)

// tx starts a transaction paid for by payer.
func (s *Sim) tx(payer *account) *txn {
	t := s.txPool
	s.txPool = nil
	if t == nil {
		t = &txn{}
	}
	*t = txn{b: s, keys: t.keys[:0], flags: t.flags[:0], pre: t.pre[:0], preTok: t.preTok[:0], ixs: t.ixs[:0]}
	t.use(ws(payer))
	return t
}

// use registers an account reference, capturing its balances the first time the transaction sees it.
func (t *txn) use(rf ref) {
	var f uint8
	if rf.signer {
		f |= flagSigner
	}
	if rf.writable {
		f |= flagWritable
	}
	for i, a := range t.keys {
		if a == rf.a {
			t.flags[i] |= f
			return
		}
	}
	t.keys = append(t.keys, rf.a)
	t.flags = append(t.flags, f)
	t.pre = append(t.pre, rf.a.lamports)
	if rf.a.token != nil && rf.a.data != nil {
		t.preTok = append(t.preTok, int64(rf.a.token.amount))
	} else {
		t.preTok = append(t.preTok, -1)
	}
}

// computeBudget adds SetComputeUnitLimit and SetComputeUnitPrice, as most mainnet transactions do.
func (t *txn) computeBudget(limit uint32, microLamports uint64) {
	cb := t.b.progs.computeBudget
	d := make([]byte, 5)
	d[0] = 2
	binary.LittleEndian.PutUint32(d[1:], limit)
	t.ix(cb, d).cu = 150
	d = make([]byte, 9)
	d[0] = 3
	binary.LittleEndian.PutUint64(d[1:], microLamports)
	t.ix(cb, d).cu = 150
	t.cuLimit, t.cuPrice = limit, microLamports
}

func (t *txn) node(p *program, data []byte, refs []ref) *ixNode {
	t.use(r(p.acct))
	n := &ixNode{prog: p, data: data, accounts: make([]*account, len(refs))}
	for i, rf := range refs {
		t.use(rf)
		n.accounts[i] = rf.a
	}
	return n
}

// ix appends a top-level instruction.
func (t *txn) ix(p *program, data []byte, refs ...ref) *ixNode {
	n := t.node(p, data, refs)
	t.ixs = append(t.ixs, n)
	return n
}

// cpi makes parent invoke p (an inner instruction). An invocation cannot add transaction signers
// (program-derived signers sign inside the runtime), so the signer flags of refs are ignored.
func (t *txn) cpi(parent *ixNode, p *program, data []byte, refs ...ref) *ixNode {
	for i := range refs {
		refs[i].signer = false
	}
	n := t.node(p, data, refs)
	parent.steps = append(parent.steps, step{child: n})
	return n
}

// fail marks the transaction as failed in its last top-level instruction with a custom program error
// (logged as msg). The scenario must not have changed any state for it.
func (t *txn) fail(code uint32, msg string) {
	n := t.ixs[len(t.ixs)-1]
	if msg != "" {
		n.log(msg)
	}
	n.failCode = code + 1
	t.failed = true
	t.failIx = len(t.ixs) - 1
}

// compiled is the message layout: keys in account-index order (static, loaded writable, loaded
// readonly) and the lookup-table part.
type compiled struct {
	order    []*account
	flags    []uint8
	nStatic  int
	header   geyserpb.MessageHeader
	lookups  []*geyserpb.MessageAddressTableLookup
	loadedW  [][]byte
	loadedR  [][]byte
	position map[*account]int
}

func (t *txn) compile() *compiled {
	c := &compiled{}
	n := len(t.keys)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	invoked := map[*account]bool{}
	var mark func(ns []*ixNode)
	mark = func(ns []*ixNode) {
		for _, x := range ns {
			invoked[x.prog.acct] = true
			for _, st := range x.steps {
				if st.child != nil {
					mark([]*ixNode{st.child})
				}
			}
		}
	}
	mark(t.ixs)
	loaded := func(i int) bool {
		return t.v0 && t.flags[i]&flagSigner == 0 && t.keys[i].lut != 0 && !invoked[t.keys[i]]
	}
	group := func(i int) int {
		f := t.flags[i]
		switch {
		case i == 0:
			return 0
		case f&flagSigner != 0 && f&flagWritable != 0:
			return 1
		case f&flagSigner != 0:
			return 2
		case loaded(i) && f&flagWritable != 0:
			return 5
		case loaded(i):
			return 6
		case f&flagWritable != 0:
			return 3
		default:
			return 4
		}
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		ga, gb := group(a), group(b)
		if ga != gb {
			return ga - gb
		}
		if ga >= 5 {
			ka, kb := t.keys[a], t.keys[b]
			if ka.lut != kb.lut {
				return ka.lut - kb.lut
			}
			return int(ka.lutIndex) - int(kb.lutIndex)
		}
		return bytes.Compare(t.keys[a].key[:], t.keys[b].key[:])
	})
	c.position = make(map[*account]int, n)
	var tables []int
	for pos, i := range idx {
		a := t.keys[i]
		c.order = append(c.order, a)
		c.flags = append(c.flags, t.flags[i])
		c.position[a] = pos
		switch g := group(i); g {
		case 5, 6:
			if g == 5 {
				c.loadedW = append(c.loadedW, a.key[:])
			} else {
				c.loadedR = append(c.loadedR, a.key[:])
			}
			if !slices.Contains(tables, a.lut) {
				tables = append(tables, a.lut)
			}
		default:
			c.nStatic++
			f := t.flags[i]
			if f&flagSigner != 0 {
				c.header.NumRequiredSignatures++
				if f&flagWritable == 0 {
					c.header.NumReadonlySignedAccounts++
				}
			} else if f&flagWritable == 0 {
				c.header.NumReadonlyUnsignedAccounts++
			}
		}
	}
	slices.Sort(tables)
	for _, tb := range tables {
		l := &geyserpb.MessageAddressTableLookup{AccountKey: t.b.luts[tb-1][:]}
		for pos := c.nStatic; pos < len(c.order); pos++ {
			a := c.order[pos]
			if a.lut != tb {
				continue
			}
			if c.flags[pos]&flagWritable != 0 {
				l.WritableIndexes = append(l.WritableIndexes, a.lutIndex)
			} else {
				l.ReadonlyIndexes = append(l.ReadonlyIndexes, a.lutIndex)
			}
		}
		c.lookups = append(c.lookups, l)
	}
	return c
}

func (c *compiled) accountIndexes(as []*account) []byte {
	out := make([]byte, len(as))
	for i, a := range as {
		out[i] = byte(c.position[a])
	}
	return out
}

// execLogs renders the log lines of one invocation and returns the compute units it used.
func execLogs(n *ixNode, depth int, remaining uint64, logs []string) ([]string, uint64, bool) {
	p := n.prog
	d := min(depth, len(p.invoke)-1)
	logs = append(logs, p.invoke[d])
	if p.builtin {
		if n.failCode != 0 {
			return append(logs, p.prefix+"failed: custom program error: 0x"+strconv.FormatUint(uint64(n.failCode-1), 16)), n.cu, false
		}
		return append(logs, p.success), n.cu, true
	}
	used := n.cu / 2
	for _, st := range n.steps {
		if st.child == nil {
			logs = append(logs, st.line)
			continue
		}
		var cu uint64
		var ok bool
		logs, cu, ok = execLogs(st.child, depth+1, remaining-used, logs)
		used += cu
		if !ok {
			return logs, used, false
		}
	}
	used += n.cu - n.cu/2
	if used > remaining {
		used = remaining
	}
	logs = append(logs, p.prefix+"consumed "+strconv.FormatUint(used, 10)+" of "+strconv.FormatUint(remaining, 10)+" compute units")
	if n.failCode != 0 {
		return append(logs, p.prefix+"failed: custom program error: 0x"+strconv.FormatUint(uint64(n.failCode-1), 16)), used, false
	}
	if n.ret != nil {
		logs = append(logs, "Program return: "+p.acct.base58()+" "+base64.StdEncoding.EncodeToString(n.ret))
	}
	return append(logs, p.success), used, true
}

// instructionError is the bincode form of TransactionError::InstructionError(index, Custom(code)).
func instructionError(index int, code uint32) []byte {
	b := make([]byte, 13)
	binary.LittleEndian.PutUint32(b[0:], 8) // TransactionError::InstructionError
	b[4] = byte(index)
	binary.LittleEndian.PutUint32(b[5:], 25) // InstructionError::Custom
	binary.LittleEndian.PutUint32(b[9:], code)
	return b
}

// commit finishes the transaction after the scenario has applied its effects: it charges the fee,
// emits an account update for every writable account (only the fee payer for a failed
// transaction), then the transaction update itself.
func (s *Sim) commit(t *txn) {
	c := t.compile()
	payer := t.keys[0]
	nsig := uint64(c.header.NumRequiredSignatures)

	budget := uint64(t.cuLimit)
	if t.cuLimit == 0 {
		for _, n := range t.ixs {
			if n.prog != s.progs.computeBudget {
				budget += defaultUnitsPerIx
			}
		}
		budget = min(budget, maxComputeUnits)
	}
	fee := lamportsPerSignature*nsig + (t.cuPrice*uint64(t.cuLimit)+999_999)/1_000_000
	payer.lamports -= fee
	s.blockFees += fee

	// Logs and inner instructions.
	logs := make([]string, 0, 8*len(t.ixs))
	remaining := budget
	var total uint64
	var inner []*geyserpb.InnerInstructions
	for i, n := range t.ixs {
		var cu uint64
		var ok bool
		logs, cu, ok = execLogs(n, 1, remaining, logs)
		remaining -= cu
		total += cu
		var list []*geyserpb.InnerInstruction
		var flatten func(x *ixNode, h uint32)
		flatten = func(x *ixNode, h uint32) {
			for _, st := range x.steps {
				if st.child == nil {
					continue
				}
				hh := h
				list = append(list, &geyserpb.InnerInstruction{
					ProgramIdIndex: uint32(c.position[st.child.prog.acct]),
					Accounts:       c.accountIndexes(st.child.accounts),
					Data:           st.child.data,
					StackHeight:    &hh,
				})
				flatten(st.child, h+1)
			}
		}
		flatten(n, 2)
		if len(list) > 0 {
			inner = append(inner, &geyserpb.InnerInstructions{Index: uint32(i), Instructions: list})
		}
		if !ok {
			break
		}
	}

	ixs := make([]*geyserpb.CompiledInstruction, len(t.ixs))
	for i, n := range t.ixs {
		ixs[i] = &geyserpb.CompiledInstruction{
			ProgramIdIndex: uint32(c.position[n.prog.acct]),
			Accounts:       c.accountIndexes(n.accounts),
			Data:           n.data,
		}
	}

	sig := make([]byte, solana.SignatureLen)
	s.g.fill(sig)
	sigs := make([][]byte, nsig)
	sigs[0] = sig
	for i := 1; i < len(sigs); i++ {
		sigs[i] = make([]byte, solana.SignatureLen)
		s.g.fill(sigs[i])
	}

	meta := &geyserpb.TransactionStatusMeta{
		Fee:                     fee,
		PreBalances:             make([]uint64, len(c.order)),
		PostBalances:            make([]uint64, len(c.order)),
		InnerInstructions:       inner,
		LogMessages:             logs,
		LoadedWritableAddresses: c.loadedW,
		LoadedReadonlyAddresses: c.loadedR,
		ReturnDataNone:          true,
		ComputeUnitsConsumed:    &total,
	}
	nWritable := uint64(0)
	for pos, a := range c.order {
		i := slices.Index(t.keys, a)
		meta.PreBalances[pos] = t.pre[i]
		meta.PostBalances[pos] = a.lamports
		if c.flags[pos]&flagWritable != 0 {
			nWritable++
		}
		if a.token != nil {
			if t.preTok[i] >= 0 {
				meta.PreTokenBalances = append(meta.PreTokenBalances, tokenBalance(pos, a, uint64(t.preTok[i])))
			}
			if a.data != nil {
				meta.PostTokenBalances = append(meta.PostTokenBalances, tokenBalance(pos, a, a.token.amount))
			}
		}
	}
	cost := 720*nsig + 300*nWritable + budget
	meta.CostUnits = &cost
	if t.failed {
		meta.Err = &geyserpb.TransactionError{Err: instructionError(t.failIx, t.ixs[t.failIx].failCode-1)}
	}

	// The account writes come first, as the validator stores them before it notifies the transaction.
	for pos, a := range c.order {
		if c.flags[pos]&flagWritable == 0 || a.isProgram {
			continue
		}
		if t.failed && pos != 0 {
			continue
		}
		s.emitAccount(a, sig)
	}

	msg := &geyserpb.Message{
		Header:              &c.header,
		AccountKeys:         make([][]byte, c.nStatic),
		RecentBlockhash:     s.recentBlockhash,
		Instructions:        ixs,
		Versioned:           t.v0,
		AddressTableLookups: c.lookups,
	}
	for i := 0; i < c.nStatic; i++ {
		msg.AccountKeys[i] = c.order[i].key[:]
	}
	s.emit(&geyserpb.SubscribeUpdate{UpdateOneof: &geyserpb.SubscribeUpdate_Transaction{
		Transaction: &geyserpb.SubscribeUpdateTransaction{
			Slot: s.slot,
			Transaction: &geyserpb.SubscribeUpdateTransactionInfo{
				Signature:   sig,
				Transaction: &geyserpb.Transaction{Signatures: sigs, Message: msg},
				Meta:        meta,
				Index:       s.txIndex,
			},
		},
	}})
	s.txIndex++
	s.stats.Transactions++
	if t.failed {
		s.stats.FailedTransactions++
	}
	t.b = nil
	s.txPool = t
}

func tokenBalance(pos int, a *account, amount uint64) *geyserpb.TokenBalance {
	h := a.token
	return &geyserpb.TokenBalance{
		AccountIndex: uint32(pos),
		Mint:         h.mintB,
		UiTokenAmount: &geyserpb.UiTokenAmount{
			UiAmount:       uiAmount(amount, h.dec),
			Decimals:       h.dec,
			Amount:         strconv.FormatUint(amount, 10),
			UiAmountString: uiAmountString(amount, h.dec),
		},
		Owner:     h.owner,
		ProgramId: tokenProgramB58,
	}
}

var tokenProgramB58 = tokenProgramID.String()

var pow10 = func() [20]uint64 {
	var p [20]uint64
	p[0] = 1
	for i := 1; i < len(p); i++ {
		p[i] = p[i-1] * 10
	}
	return p
}()

func uiAmount(amount uint64, dec uint32) float64 {
	return float64(amount) / float64(pow10[dec])
}

// uiAmountString formats amount with dec decimals the way the RPC does: no trailing zeros, no
// trailing point.
func uiAmountString(amount uint64, dec uint32) string {
	if dec == 0 {
		return strconv.FormatUint(amount, 10)
	}
	whole, frac := amount/pow10[dec], amount%pow10[dec]
	s := strconv.FormatUint(whole, 10)
	if frac == 0 {
		return s
	}
	f := strconv.FormatUint(frac, 10)
	for len(f) < int(dec) {
		f = "0" + f
	}
	for f[len(f)-1] == '0' {
		f = f[:len(f)-1]
	}
	return s + "." + f
}
