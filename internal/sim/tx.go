package sim

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"slices"
	"strconv"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/hyperstack-go/hyperstack/internal/geyserpb"
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
// lines with the invocations it makes, in execution order. Nodes are reused by their transaction;
// only data outlives a commit.
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

// log appends a "Program log: <msg>" line.
func (n *ixNode) log(msg string) *ixNode {
	n.steps = append(n.steps, step{line: "Program log: " + msg})
	return n
}

// line appends a complete log line (a constant, to spare the concatenation).
func (n *ixNode) line(l string) *ixNode {
	n.steps = append(n.steps, step{line: l})
	return n
}

// logData appends a "Program data: <base64>" line (sol_log_data, how programs emit events).
func (n *ixNode) logData(b []byte) *ixNode {
	n.steps = append(n.steps, step{line: "Program data: " + base64.StdEncoding.EncodeToString(b)})
	return n
}

// txn collects one transaction while a scenario builds it. A txn is reused after its commit.
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

	nodes []*ixNode // node pool
	nodeN int
	comp  compiled // compile scratch
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
	t.b = s
	t.keys, t.flags, t.pre, t.preTok, t.ixs = t.keys[:0], t.flags[:0], t.pre[:0], t.preTok[:0], t.ixs[:0]
	t.cuLimit, t.cuPrice, t.v0, t.failed, t.failIx, t.nodeN = 0, 0, false, false, 0, 0
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
	d := t.b.slab.bytes.take(14)
	d[0] = 2
	binary.LittleEndian.PutUint32(d[1:], limit)
	d[5] = 3
	binary.LittleEndian.PutUint64(d[6:], microLamports)
	t.ix(cb, d[:5:5]).cu = 150
	t.ix(cb, d[5:]).cu = 150
	t.cuLimit, t.cuPrice = limit, microLamports
}

func (t *txn) node(p *program, data []byte, refs []ref) *ixNode {
	t.use(r(p.acct))
	var n *ixNode
	if t.nodeN < len(t.nodes) {
		n = t.nodes[t.nodeN]
		*n = ixNode{accounts: n.accounts[:0], steps: n.steps[:0]}
	} else {
		n = &ixNode{}
		t.nodes = append(t.nodes, n)
	}
	t.nodeN++
	n.prog, n.data = p, data
	for _, rf := range refs {
		t.use(rf)
		n.accounts = append(n.accounts, rf.a)
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
// readonly) and the lookup-table part. order and flags are scratch reused by the next compile.
type compiled struct {
	order   []*account
	flags   []uint8
	idx     []int
	group   []int8
	nStatic int
	header  geyserpb.MessageHeader
	lookups []*geyserpb.MessageAddressTableLookup
	loadedW [][]byte
	loadedR [][]byte
}

// position is a key's account index (transactions hold a few dozen keys at most).
func (c *compiled) position(a *account) int {
	for i, o := range c.order {
		if o == a {
			return i
		}
	}
	return -1
}

func markInvoked(x *ixNode, gen uint64) {
	x.prog.acct.invoked = gen
	for _, st := range x.steps {
		if st.child != nil {
			markInvoked(st.child, gen)
		}
	}
}

func (t *txn) compile() *compiled {
	c := &t.comp
	n := len(t.keys)
	gen := t.b.stats.Transactions + 1
	for _, x := range t.ixs {
		markInvoked(x, gen)
	}
	c.idx, c.group = c.idx[:0], c.group[:0]
	for i := range n {
		c.idx = append(c.idx, i)
		f := t.flags[i]
		a := t.keys[i]
		loaded := t.v0 && f&flagSigner == 0 && a.lut != 0 && a.invoked != gen
		var g int8
		switch {
		case i == 0:
			g = 0
		case f&flagSigner != 0 && f&flagWritable != 0:
			g = 1
		case f&flagSigner != 0:
			g = 2
		case loaded && f&flagWritable != 0:
			g = 5
		case loaded:
			g = 6
		case f&flagWritable != 0:
			g = 3
		default:
			g = 4
		}
		c.group = append(c.group, g)
	}
	slices.SortStableFunc(c.idx, func(a, b int) int {
		ga, gb := c.group[a], c.group[b]
		if ga != gb {
			return int(ga) - int(gb)
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
	c.order, c.flags = c.order[:0], c.flags[:0]
	c.nStatic = 0
	c.header.NumRequiredSignatures, c.header.NumReadonlySignedAccounts, c.header.NumReadonlyUnsignedAccounts = 0, 0, 0
	c.lookups, c.loadedW, c.loadedR = nil, nil, nil
	var tables [lookupTableCount + 1]bool
	for _, i := range c.idx {
		a := t.keys[i]
		c.order = append(c.order, a)
		c.flags = append(c.flags, t.flags[i])
		switch g := c.group[i]; g {
		case 5, 6:
			if g == 5 {
				c.loadedW = append(c.loadedW, a.key[:])
			} else {
				c.loadedR = append(c.loadedR, a.key[:])
			}
			tables[a.lut] = true
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
	for tb, used := range tables {
		if !used {
			continue
		}
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

// accountIndexes appends the account indexes of as to buf and returns the (capacity-limited) slice
// holding them.
func (c *compiled) accountIndexes(buf *[]byte, as []*account) []byte {
	start := len(*buf)
	for _, a := range as {
		*buf = append(*buf, byte(c.position(a)))
	}
	return (*buf)[start:len(*buf):len(*buf)]
}

// execLogs renders the log lines of one invocation and returns the compute units it used.
func execLogs(sl *slabs, n *ixNode, depth int, remaining uint64, logs []string) ([]string, uint64, bool) {
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
		logs, cu, ok = execLogs(sl, st.child, depth+1, remaining-used, logs)
		used += cu
		if !ok {
			return logs, used, false
		}
	}
	used += n.cu - n.cu/2
	if used > remaining {
		used = remaining
	}
	var b [128]byte
	l := append(b[:0], p.prefix...)
	l = append(l, "consumed "...)
	l = strconv.AppendUint(l, used, 10)
	l = append(l, " of "...)
	l = strconv.AppendUint(l, remaining, 10)
	l = append(l, " compute units"...)
	logs = append(logs, sl.string(l))
	if n.failCode != 0 {
		return append(logs, p.prefix+"failed: custom program error: 0x"+strconv.FormatUint(uint64(n.failCode-1), 16)), used, false
	}
	if n.ret != nil {
		logs = append(logs, "Program return: "+p.acct.base58()+" "+base64.StdEncoding.EncodeToString(n.ret))
	}
	return append(logs, p.success), used, true
}

// logLines is the number of log lines execLogs renders for n when it succeeds (an upper bound when
// it fails).
func logLines(n *ixNode) int {
	if n.prog.builtin {
		return 2
	}
	k := 3 // invoke, consumed, success
	if n.ret != nil {
		k++
	}
	for _, st := range n.steps {
		if st.child == nil {
			k++
		} else {
			k += logLines(st.child)
		}
	}
	return k
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

// txMsg is the memory of one transaction update, allocated at once.
type txMsg struct {
	u    geyserpb.SubscribeUpdate
	w    geyserpb.SubscribeUpdate_Transaction
	tu   geyserpb.SubscribeUpdateTransaction
	info geyserpb.SubscribeUpdateTransactionInfo
	tx   geyserpb.Transaction
	msg  geyserpb.Message
	hdr  geyserpb.MessageHeader
	meta geyserpb.TransactionStatusMeta
	ts   timestamppb.Timestamp
	cu   uint64
	cost uint64
	sig  [64]byte
	sigs [1][]byte
}

// commit finishes the transaction after the scenario has applied its effects: it charges the fee,
// emits an account update for every writable account (only the fee payer for a failed
// transaction), then the transaction update itself.
func (s *Sim) commit(t *txn) {
	c := t.compile()
	payer := t.keys[0]
	nsig := uint64(c.header.NumRequiredSignatures)
	m := s.slab.txs.one()

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

	// Instructions, inner instructions and logs.
	sl := &s.slab
	nodes, nIndexes := t.nodeN, 0
	for _, n := range t.nodes[:nodes] {
		nIndexes += len(n.accounts)
	}
	indexes := sl.bytes.take(nIndexes)[:0]
	ixArr := sl.ixs.take(len(t.ixs))
	ixs := sl.ixPtrs.take(len(t.ixs))
	var innerArr []geyserpb.InnerInstruction
	var heights []uint32
	if inner := nodes - len(t.ixs); inner > 0 {
		innerArr = sl.inner.take(inner)[:0]
		heights = sl.u32s.take(inner)[:0]
	}
	nlogs := 0
	for _, n := range t.ixs {
		nlogs += logLines(n)
	}
	logs := sl.strs.take(nlogs)[:0]
	remaining := budget
	var total uint64
	var inner []*geyserpb.InnerInstructions
	var flatten func(x *ixNode, h uint32)
	flatten = func(x *ixNode, h uint32) {
		for _, st := range x.steps {
			if st.child == nil {
				continue
			}
			heights = append(heights, h)
			innerArr = append(innerArr, geyserpb.InnerInstruction{
				ProgramIdIndex: uint32(c.position(st.child.prog.acct)),
				Accounts:       c.accountIndexes(&indexes, st.child.accounts),
				Data:           st.child.data,
				StackHeight:    &heights[len(heights)-1],
			})
			flatten(st.child, h+1)
		}
	}
	for i, n := range t.ixs {
		ixArr[i] = geyserpb.CompiledInstruction{
			ProgramIdIndex: uint32(c.position(n.prog.acct)),
			Accounts:       c.accountIndexes(&indexes, n.accounts),
			Data:           n.data,
		}
		ixs[i] = &ixArr[i]
	}
	ok := true
	for i, n := range t.ixs {
		if !ok {
			break
		}
		var cu uint64
		logs, cu, ok = execLogs(sl, n, 1, remaining, logs)
		remaining -= cu
		total += cu
		start := len(innerArr)
		flatten(n, 2)
		if len(innerArr) > start {
			list := sl.innerPtrs.take(len(innerArr) - start)
			for j := range list {
				list[j] = &innerArr[start+j]
			}
			inner = append(inner, &geyserpb.InnerInstructions{Index: uint32(i), Instructions: list})
		}
	}

	s.g.fill(m.sig[:])
	sig := m.sig[:]
	sigs := m.sigs[:]
	if nsig > 1 {
		sigs = sl.keys.take(int(nsig))
		extra := sl.bytes.take(64 * int(nsig-1))
		s.g.fill(extra)
		for i := 1; i < len(sigs); i++ {
			sigs[i] = extra[64*(i-1) : 64*i : 64*i]
		}
	}
	sigs[0] = sig

	meta := &m.meta
	meta.Fee = fee
	balances := sl.u64s.take(2 * len(c.order))
	meta.PreBalances, meta.PostBalances = balances[:len(c.order):len(c.order)], balances[len(c.order):]
	meta.InnerInstructions = inner
	meta.LogMessages = logs
	meta.LoadedWritableAddresses = c.loadedW
	meta.LoadedReadonlyAddresses = c.loadedR
	meta.ReturnDataNone = true
	m.cu = total
	meta.ComputeUnitsConsumed = &m.cu

	nWritable, nTok, nPreTok := uint64(0), 0, 0
	for pos, a := range c.order {
		i := c.idx[pos]
		meta.PreBalances[pos] = t.pre[i]
		meta.PostBalances[pos] = a.lamports
		if c.flags[pos]&flagWritable != 0 {
			nWritable++
		}
		if a.token != nil {
			nTok++
			if t.preTok[i] >= 0 {
				nPreTok++
			}
		}
	}
	if nTok > 0 {
		tb := sl.balances.take(nTok + nPreTok)[:0]
		ui := sl.amounts.take(nTok + nPreTok)[:0]
		ptrs := sl.balancePtrs.take(nTok + nPreTok)
		pre, post := ptrs[:0:nPreTok], ptrs[nPreTok:nPreTok]
		add := func(pos int, a *account, amount uint64) *geyserpb.TokenBalance {
			h := a.token
			amt, uis := h.strings(amount)
			ui = append(ui, geyserpb.UiTokenAmount{
				UiAmount: uiAmount(amount, h.dec), Decimals: h.dec, Amount: amt, UiAmountString: uis,
			})
			tb = append(tb, geyserpb.TokenBalance{
				AccountIndex: uint32(pos), Mint: h.mintB, UiTokenAmount: &ui[len(ui)-1], Owner: h.owner,
				ProgramId: tokenProgramB58,
			})
			return &tb[len(tb)-1]
		}
		for pos, a := range c.order {
			if a.token == nil {
				continue
			}
			i := c.idx[pos]
			if t.preTok[i] >= 0 {
				pre = append(pre, add(pos, a, uint64(t.preTok[i])))
			}
			if a.data != nil {
				post = append(post, add(pos, a, a.token.amount))
			}
		}
		if len(pre) > 0 {
			meta.PreTokenBalances = pre
		}
		if len(post) > 0 {
			meta.PostTokenBalances = post
		}
	}
	m.cost = 720*nsig + 300*nWritable + budget
	meta.CostUnits = &m.cost
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

	m.hdr.NumRequiredSignatures = c.header.NumRequiredSignatures
	m.hdr.NumReadonlySignedAccounts = c.header.NumReadonlySignedAccounts
	m.hdr.NumReadonlyUnsignedAccounts = c.header.NumReadonlyUnsignedAccounts
	msg := &m.msg
	msg.Header = &m.hdr
	msg.AccountKeys = sl.keys.take(c.nStatic)
	msg.RecentBlockhash = s.recentBlockhash
	msg.Instructions = ixs
	msg.Versioned = t.v0
	msg.AddressTableLookups = c.lookups
	for i := 0; i < c.nStatic; i++ {
		msg.AccountKeys[i] = c.order[i].key[:]
	}
	m.tx.Signatures, m.tx.Message = sigs, msg
	m.info.Signature, m.info.Transaction, m.info.Meta, m.info.Index = sig, &m.tx, meta, s.txIndex
	m.tu.Slot, m.tu.Transaction = s.slot, &m.info
	m.w.Transaction = &m.tu
	m.u.UpdateOneof = &m.w
	s.emit(&m.u, &m.ts)
	s.txIndex++
	s.stats.Transactions++
	if t.failed {
		s.stats.FailedTransactions++
	}
	t.b = nil
	s.txPool = t
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

// appendUIAmount appends amount with dec decimals the way the RPC formats it (no trailing zeros, no
// trailing point) to s.
func appendUIAmount(s []byte, amount uint64, dec uint32) []byte {
	if dec == 0 {
		return strconv.AppendUint(s, amount, 10)
	}
	whole, frac := amount/pow10[dec], amount%pow10[dec]
	var d [24]byte
	s = strconv.AppendUint(s, whole, 10)
	if frac == 0 {
		return s
	}
	s = append(s, '.')
	digits := strconv.AppendUint(d[:0], frac, 10)
	for i := len(digits); i < int(dec); i++ {
		s = append(s, '0')
	}
	for len(digits) > 0 && digits[len(digits)-1] == '0' {
		digits = digits[:len(digits)-1]
	}
	return append(s, digits...)
}
