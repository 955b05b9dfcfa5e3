package filter

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"slices"
	"sort"

	"github.com/mr-tron/base58"

	"github.com/hyperstack-go/hyperstack/internal/geyserpb"
)

// Group names the SubscribeRequest map a named filter comes from.
type Group uint8

// The groups, in the order their filters are numbered.
const (
	GroupAccounts Group = iota
	GroupSlots
	GroupTransactions
	GroupTransactionsStatus
	GroupBlocks
	GroupBlocksMeta
	GroupEntry
	numGroups
)

var groupNames = [numGroups]string{"accounts", "slots", "transactions", "transactions_status", "blocks",
	"blocks_meta", "entry"}

// String returns the request field name of the group.
func (g Group) String() string {
	if g < numGroups {
		return groupNames[g]
	}
	return fmt.Sprintf("group(%d)", uint8(g))
}

// Limits bound what a request may ask for. Zero fields take the DefaultLimits value.
type Limits struct {
	// MaxNameLen bounds the length of one filter name (default 128).
	MaxNameLen int
	// MaxNamesTotal bounds the summed length of all filter names (default 4096).
	MaxNamesTotal int
	// MaxMemcmpBytes bounds the decoded data of one memcmp condition (default 128).
	MaxMemcmpBytes int
}

// DefaultLimits are the Geyser server's defaults.
var DefaultLimits = Limits{MaxNameLen: 128, MaxNamesTotal: 4096, MaxMemcmpBytes: 128}

func (l Limits) withDefaults() Limits {
	if l.MaxNameLen <= 0 {
		l.MaxNameLen = DefaultLimits.MaxNameLen
	}
	if l.MaxNamesTotal <= 0 {
		l.MaxNamesTotal = DefaultLimits.MaxNamesTotal
	}
	if l.MaxMemcmpBytes <= 0 {
		l.MaxMemcmpBytes = DefaultLimits.MaxMemcmpBytes
	}
	return l
}

// Filter is a compiled SubscribeRequest. Each named filter has an id in [0, Len()); ids are grouped by
// Group in declaration order and sorted by name inside a group.
type Filter struct {
	commitment geyserpb.CommitmentLevel
	names      []string
	start      [numGroups + 1]int

	accounts []accountFilter
	slots    []slotFilter
	txs      []txFilter
	txStatus []txFilter
	blocks   []blockFilter
	slices   []dataSlice
}

type pubkey = [32]byte

type keySet map[pubkey]struct{}

func (s keySet) hasBytes(b []byte) bool {
	if len(b) != 32 {
		return false
	}
	_, ok := s[pubkey(b)]
	return ok
}

type tri int8 // -1: no constraint, 0: must be false, 1: must be true

func triOf(b *bool) tri {
	switch {
	case b == nil:
		return -1
	case *b:
		return 1
	}
	return 0
}

func (t tri) ok(v bool) bool { return t < 0 || (t == 1) == v }

type accountFilter struct {
	accounts    keySet // nil: any
	owners      keySet // nil: any
	memcmp      []memcmpCond
	datasize    uint64
	hasDatasize bool
	tokenState  bool
	lamports    []lamportsCond
	txnSig      tri
}

type memcmpCond struct {
	offset uint64
	data   []byte
}

type lamportsOp uint8

const (
	lamportsEq lamportsOp = iota
	lamportsNe
	lamportsLt
	lamportsGt
)

type lamportsCond struct {
	op lamportsOp
	v  uint64
}

type slotFilter struct {
	byCommitment bool
	interslot    bool
}

type txFilter struct {
	vote, failed tri
	signature    []byte // nil: any
	include      keySet
	exclude      keySet
	required     []pubkey
	token        int8 // -1: none, 0: all token balance owners, 1: owners whose balance changed
}

type blockFilter struct {
	include                      keySet
	inclTxs, inclAccts, inclEnts bool
}

type dataSlice struct{ offset, length uint64 }

// Compile compiles req with DefaultLimits. A nil request compiles to a filter that matches nothing.
func Compile(req *geyserpb.SubscribeRequest) (*Filter, error) {
	return CompileWithLimits(req, DefaultLimits)
}

// CompileWithLimits compiles req, enforcing lim.
func CompileWithLimits(req *geyserpb.SubscribeRequest, lim Limits) (*Filter, error) {
	lim = lim.withDefaults()
	f := &Filter{}
	if req == nil {
		return f, nil
	}
	f.commitment = req.GetCommitment()
	if _, ok := geyserpb.CommitmentLevel_name[int32(f.commitment)]; !ok {
		return nil, fmt.Errorf("%w: unknown commitment level %d", ErrInvalid, f.commitment)
	}
	total := 0
	addNames := func(g Group, keys []string) error {
		f.start[g] = len(f.names)
		for _, k := range keys {
			if len(k) > lim.MaxNameLen {
				return fmt.Errorf("%w: %s filter name %q exceeds the limit of %d bytes", ErrInvalid, g, k, lim.MaxNameLen)
			}
			total += len(k)
			if total > lim.MaxNamesTotal {
				return fmt.Errorf("%w: the filter names exceed the total limit of %d bytes", ErrInvalid, lim.MaxNamesTotal)
			}
			f.names = append(f.names, k)
		}
		f.start[g+1] = len(f.names)
		return nil
	}

	for _, k := range sortedKeys(req.GetAccounts()) {
		af, err := compileAccounts(req.GetAccounts()[k], lim)
		if err != nil {
			return nil, fmt.Errorf("%w: accounts filter %q: %v", ErrInvalid, k, err)
		}
		f.accounts = append(f.accounts, af)
	}
	if err := addNames(GroupAccounts, sortedKeys(req.GetAccounts())); err != nil {
		return nil, err
	}
	for _, k := range sortedKeys(req.GetSlots()) {
		s := req.GetSlots()[k]
		f.slots = append(f.slots, slotFilter{byCommitment: s.GetFilterByCommitment(), interslot: s.GetInterslotUpdates()})
	}
	if err := addNames(GroupSlots, sortedKeys(req.GetSlots())); err != nil {
		return nil, err
	}
	for _, k := range sortedKeys(req.GetTransactions()) {
		tf, err := compileTx(req.GetTransactions()[k])
		if err != nil {
			return nil, fmt.Errorf("%w: transactions filter %q: %v", ErrInvalid, k, err)
		}
		f.txs = append(f.txs, tf)
	}
	if err := addNames(GroupTransactions, sortedKeys(req.GetTransactions())); err != nil {
		return nil, err
	}
	for _, k := range sortedKeys(req.GetTransactionsStatus()) {
		tf, err := compileTx(req.GetTransactionsStatus()[k])
		if err != nil {
			return nil, fmt.Errorf("%w: transactions_status filter %q: %v", ErrInvalid, k, err)
		}
		f.txStatus = append(f.txStatus, tf)
	}
	if err := addNames(GroupTransactionsStatus, sortedKeys(req.GetTransactionsStatus())); err != nil {
		return nil, err
	}
	for _, k := range sortedKeys(req.GetBlocks()) {
		b := req.GetBlocks()[k]
		inc, err := parseKeys(b.GetAccountInclude())
		if err != nil {
			return nil, fmt.Errorf("%w: blocks filter %q: account_include: %v", ErrInvalid, k, err)
		}
		bf := blockFilter{include: inc, inclTxs: true}
		if b.IncludeTransactions != nil {
			bf.inclTxs = *b.IncludeTransactions
		}
		bf.inclAccts = b.GetIncludeAccounts()
		bf.inclEnts = b.GetIncludeEntries()
		f.blocks = append(f.blocks, bf)
	}
	if err := addNames(GroupBlocks, sortedKeys(req.GetBlocks())); err != nil {
		return nil, err
	}
	if err := addNames(GroupBlocksMeta, sortedKeys(req.GetBlocksMeta())); err != nil {
		return nil, err
	}
	if err := addNames(GroupEntry, sortedKeys(req.GetEntry())); err != nil {
		return nil, err
	}

	for _, s := range req.GetAccountsDataSlice() {
		f.slices = append(f.slices, dataSlice{offset: s.GetOffset(), length: s.GetLength()})
	}
	sort.Slice(f.slices, func(i, j int) bool { return f.slices[i].offset < f.slices[j].offset })
	for i := 1; i < len(f.slices); i++ {
		prev := f.slices[i-1]
		if prev.offset+prev.length > f.slices[i].offset {
			return nil, fmt.Errorf("%w: accounts_data_slice: slices [%d,+%d) and [%d,+%d) overlap", ErrInvalid,
				prev.offset, prev.length, f.slices[i].offset, f.slices[i].length)
		}
	}
	return f, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func parseKey(s string) (pubkey, error) {
	b, err := base58.Decode(s)
	if err != nil || len(b) != 32 {
		return pubkey{}, fmt.Errorf("%q is not a base58 public key", s)
	}
	return pubkey(b), nil
}

func parseKeys(list []string) (keySet, error) {
	if len(list) == 0 {
		return nil, nil
	}
	set := make(keySet, len(list))
	for _, s := range list {
		k, err := parseKey(s)
		if err != nil {
			return nil, err
		}
		set[k] = struct{}{}
	}
	return set, nil
}

func compileAccounts(a *geyserpb.SubscribeRequestFilterAccounts, lim Limits) (accountFilter, error) {
	var af accountFilter
	var err error
	if af.accounts, err = parseKeys(a.GetAccount()); err != nil {
		return af, fmt.Errorf("account: %v", err)
	}
	if af.owners, err = parseKeys(a.GetOwner()); err != nil {
		return af, fmt.Errorf("owner: %v", err)
	}
	af.txnSig = triOf(a.NonemptyTxnSignature)
	for i, c := range a.GetFilters() {
		switch v := c.GetFilter().(type) {
		case *geyserpb.SubscribeRequestFilterAccountsFilter_Memcmp:
			var data []byte
			switch d := v.Memcmp.GetData().(type) {
			case *geyserpb.SubscribeRequestFilterAccountsFilterMemcmp_Bytes:
				data = d.Bytes
			case *geyserpb.SubscribeRequestFilterAccountsFilterMemcmp_Base58:
				if data, err = base58.Decode(d.Base58); err != nil {
					return af, fmt.Errorf("filters[%d].memcmp: bad base58 data: %v", i, err)
				}
			case *geyserpb.SubscribeRequestFilterAccountsFilterMemcmp_Base64:
				if data, err = base64.StdEncoding.DecodeString(d.Base64); err != nil {
					return af, fmt.Errorf("filters[%d].memcmp: bad base64 data: %v", i, err)
				}
			default:
				return af, fmt.Errorf("filters[%d].memcmp: data is missing", i)
			}
			if len(data) > lim.MaxMemcmpBytes {
				return af, fmt.Errorf("filters[%d].memcmp: %d bytes of data exceed the limit of %d", i, len(data),
					lim.MaxMemcmpBytes)
			}
			af.memcmp = append(af.memcmp, memcmpCond{offset: v.Memcmp.GetOffset(), data: data})
		case *geyserpb.SubscribeRequestFilterAccountsFilter_Datasize:
			if af.hasDatasize {
				return af, fmt.Errorf("filters[%d]: datasize used more than once", i)
			}
			af.datasize, af.hasDatasize = v.Datasize, true
		case *geyserpb.SubscribeRequestFilterAccountsFilter_TokenAccountState:
			if !v.TokenAccountState {
				return af, fmt.Errorf("filters[%d]: token_account_state may only be true", i)
			}
			af.tokenState = true
		case *geyserpb.SubscribeRequestFilterAccountsFilter_Lamports:
			switch l := v.Lamports.GetCmp().(type) {
			case *geyserpb.SubscribeRequestFilterAccountsFilterLamports_Eq:
				af.lamports = append(af.lamports, lamportsCond{lamportsEq, l.Eq})
			case *geyserpb.SubscribeRequestFilterAccountsFilterLamports_Ne:
				af.lamports = append(af.lamports, lamportsCond{lamportsNe, l.Ne})
			case *geyserpb.SubscribeRequestFilterAccountsFilterLamports_Lt:
				af.lamports = append(af.lamports, lamportsCond{lamportsLt, l.Lt})
			case *geyserpb.SubscribeRequestFilterAccountsFilterLamports_Gt:
				af.lamports = append(af.lamports, lamportsCond{lamportsGt, l.Gt})
			default:
				return af, fmt.Errorf("filters[%d].lamports: comparison is missing", i)
			}
		default:
			return af, fmt.Errorf("filters[%d]: filter is missing", i)
		}
	}
	return af, nil
}

func compileTx(t *geyserpb.SubscribeRequestFilterTransactions) (txFilter, error) {
	tf := txFilter{vote: triOf(t.Vote), failed: triOf(t.Failed), token: -1}
	if t.Signature != nil {
		b, err := base58.Decode(*t.Signature)
		if err != nil || len(b) != 64 {
			return tf, fmt.Errorf("signature %q is not a base58 signature", *t.Signature)
		}
		tf.signature = b
	}
	var err error
	if tf.include, err = parseKeys(t.GetAccountInclude()); err != nil {
		return tf, fmt.Errorf("account_include: %v", err)
	}
	if tf.exclude, err = parseKeys(t.GetAccountExclude()); err != nil {
		return tf, fmt.Errorf("account_exclude: %v", err)
	}
	for _, s := range t.GetAccountRequired() {
		k, err := parseKey(s)
		if err != nil {
			return tf, fmt.Errorf("account_required: %v", err)
		}
		tf.required = append(tf.required, k)
	}
	if t.TokenAccounts != nil {
		switch *t.TokenAccounts {
		case geyserpb.TokenAccountExpansionControlFlag_ALL:
			tf.token = 0
		case geyserpb.TokenAccountExpansionControlFlag_BALANCE_CHANGED:
			tf.token = 1
		default:
			return tf, fmt.Errorf("unknown token_accounts value %d", *t.TokenAccounts)
		}
	}
	return tf, nil
}

// Commitment returns the request's commitment level (PROCESSED when unset).
func (f *Filter) Commitment() geyserpb.CommitmentLevel { return f.commitment }

// Len returns the number of named filters.
func (f *Filter) Len() int { return len(f.names) }

// Empty reports whether the request held no named filter at all (such a stream receives nothing but
// pings and pongs).
func (f *Filter) Empty() bool { return len(f.names) == 0 }

// Name returns the name of filter id.
func (f *Filter) Name(id int) string { return f.names[id] }

// Names returns the names of the given ids.
func (f *Filter) Names(ids []int) []string {
	if len(ids) == 0 {
		return nil
	}
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = f.names[id]
	}
	return out
}

// GroupOf returns the group of filter id.
func (f *Filter) GroupOf(id int) Group {
	for g := GroupAccounts; g < numGroups; g++ {
		if id < f.start[g+1] {
			return g
		}
	}
	return numGroups
}

// HasDataSlices reports whether accounts_data_slice was set.
func (f *Filter) HasDataSlices() bool { return len(f.slices) > 0 }

// SliceData returns the concatenation of the requested accounts_data_slice ranges of data (data itself
// when none were requested). A range past the end of data contributes what exists of it.
func (f *Filter) SliceData(data []byte) []byte {
	if len(f.slices) == 0 {
		return data
	}
	n := uint64(len(data))
	out := make([]byte, 0, 64)
	for _, s := range f.slices {
		if s.offset >= n {
			continue
		}
		end := s.offset + s.length
		if end > n || end < s.offset {
			end = n
		}
		out = append(out, data[s.offset:end]...)
	}
	return out
}

// Match returns the names of the filters under which u is delivered as is (a transaction update matches
// the transactions filters; see MatchStatus for transactions_status). Nil means "not delivered".
func (f *Filter) Match(u *geyserpb.SubscribeUpdate) []string {
	var buf [8]int
	return f.Names(f.AppendMatch(buf[:0], u))
}

// MatchStatus returns the names of the transactions_status filters matching a transaction update.
func (f *Filter) MatchStatus(u *geyserpb.SubscribeUpdate) []string {
	var buf [8]int
	return f.Names(f.AppendMatchStatus(buf[:0], u))
}

// AppendMatch appends to dst the ids of the filters under which u is delivered, in ascending order.
func (f *Filter) AppendMatch(dst []int, u *geyserpb.SubscribeUpdate) []int {
	switch v := u.GetUpdateOneof().(type) {
	case *geyserpb.SubscribeUpdate_Account:
		info := v.Account.GetAccount()
		if info == nil {
			return dst
		}
		base := f.start[GroupAccounts]
		for i := range f.accounts {
			if f.accounts[i].match(info) {
				dst = append(dst, base+i)
			}
		}
	case *geyserpb.SubscribeUpdate_Slot:
		base := f.start[GroupSlots]
		for i, s := range f.slots {
			if s.match(v.Slot.GetStatus(), f.commitment) {
				dst = append(dst, base+i)
			}
		}
	case *geyserpb.SubscribeUpdate_Transaction:
		info := v.Transaction.GetTransaction()
		if info == nil || len(f.txs) == 0 {
			return dst
		}
		var ta txAccounts
		ta.info = info
		base := f.start[GroupTransactions]
		for i := range f.txs {
			if f.txs[i].match(&ta) {
				dst = append(dst, base+i)
			}
		}
	case *geyserpb.SubscribeUpdate_TransactionStatus:
		base := f.start[GroupTransactionsStatus]
		for i := range f.txStatus {
			if f.txStatus[i].matchStatus(v.TransactionStatus) {
				dst = append(dst, base+i)
			}
		}
	case *geyserpb.SubscribeUpdate_Block:
		base := f.start[GroupBlocks]
		for i := range f.blocks {
			if f.blocks[i].match(v.Block) {
				dst = append(dst, base+i)
			}
		}
	case *geyserpb.SubscribeUpdate_BlockMeta:
		for id := f.start[GroupBlocksMeta]; id < f.start[GroupBlocksMeta+1]; id++ {
			dst = append(dst, id)
		}
	case *geyserpb.SubscribeUpdate_Entry:
		for id := f.start[GroupEntry]; id < f.start[GroupEntry+1]; id++ {
			dst = append(dst, id)
		}
	}
	return dst
}

// AppendMatchStatus appends the ids of the transactions_status filters matching a transaction update.
func (f *Filter) AppendMatchStatus(dst []int, u *geyserpb.SubscribeUpdate) []int {
	info := u.GetTransaction().GetTransaction()
	if info == nil || len(f.txStatus) == 0 {
		return dst
	}
	var ta txAccounts
	ta.info = info
	base := f.start[GroupTransactionsStatus]
	for i := range f.txStatus {
		if f.txStatus[i].match(&ta) {
			dst = append(dst, base+i)
		}
	}
	return dst
}

func (a *accountFilter) match(info *geyserpb.SubscribeUpdateAccountInfo) bool {
	if a.accounts != nil && !a.accounts.hasBytes(info.Pubkey) {
		return false
	}
	if a.owners != nil && !a.owners.hasBytes(info.Owner) {
		return false
	}
	if !a.txnSig.ok(len(info.TxnSignature) > 0) {
		return false
	}
	data := info.Data
	if a.hasDatasize && uint64(len(data)) != a.datasize {
		return false
	}
	for _, m := range a.memcmp {
		if m.offset > uint64(len(data)) || uint64(len(data))-m.offset < uint64(len(m.data)) {
			return false
		}
		if !bytes.Equal(data[m.offset:m.offset+uint64(len(m.data))], m.data) {
			return false
		}
	}
	for _, l := range a.lamports {
		v := info.Lamports
		var ok bool
		switch l.op {
		case lamportsEq:
			ok = v == l.v
		case lamportsNe:
			ok = v != l.v
		case lamportsLt:
			ok = v < l.v
		case lamportsGt:
			ok = v > l.v
		}
		if !ok {
			return false
		}
	}
	if a.tokenState && !IsTokenAccount(data) {
		return false
	}
	return true
}

// IsTokenAccount reports whether data is an initialised SPL Token or Token-2022 account (the
// token_account_state condition): 165 bytes, or longer with the Token-2022 account-type byte set to
// Account (and not the multisig size), with a non-zero state byte.
func IsTokenAccount(data []byte) bool {
	const accountLen, multisigLen, stateOffset, accountTypeAccount = 165, 355, 108, 2
	if len(data) < accountLen {
		return false
	}
	if len(data) > accountLen && (len(data) == multisigLen || data[accountLen] != accountTypeAccount) {
		return false
	}
	return data[stateOffset] != 0
}

func commitmentStatus(c geyserpb.CommitmentLevel) geyserpb.SlotStatus {
	switch c {
	case geyserpb.CommitmentLevel_CONFIRMED:
		return geyserpb.SlotStatus_SLOT_CONFIRMED
	case geyserpb.CommitmentLevel_FINALIZED:
		return geyserpb.SlotStatus_SLOT_FINALIZED
	}
	return geyserpb.SlotStatus_SLOT_PROCESSED
}

func (s slotFilter) match(st geyserpb.SlotStatus, c geyserpb.CommitmentLevel) bool {
	if s.byCommitment {
		return st == commitmentStatus(c)
	}
	switch st {
	case geyserpb.SlotStatus_SLOT_PROCESSED, geyserpb.SlotStatus_SLOT_CONFIRMED, geyserpb.SlotStatus_SLOT_FINALIZED:
		return true
	}
	return s.interslot
}

// txAccounts gives lazy access to the accounts a transaction touches: static keys, then the loaded
// writable and readonly addresses.
type txAccounts struct {
	info         *geyserpb.SubscribeUpdateTransactionInfo
	ownersAll    []pubkey
	ownersChg    []pubkey
	ownersLoaded [2]bool
}

func (t *txAccounts) each(fn func(k []byte) bool) bool {
	for _, k := range t.info.GetTransaction().GetMessage().GetAccountKeys() {
		if fn(k) {
			return true
		}
	}
	meta := t.info.GetMeta()
	for _, k := range meta.GetLoadedWritableAddresses() {
		if fn(k) {
			return true
		}
	}
	for _, k := range meta.GetLoadedReadonlyAddresses() {
		if fn(k) {
			return true
		}
	}
	return false
}

// tokenOwners returns the owners of the transaction's token balances (mode 0: all, 1: only those whose
// amount changed).
func (t *txAccounts) tokenOwners(mode int8) []pubkey {
	if t.ownersLoaded[mode] {
		if mode == 0 {
			return t.ownersAll
		}
		return t.ownersChg
	}
	t.ownersLoaded[mode] = true
	meta := t.info.GetMeta()
	pre := map[uint32]*geyserpb.TokenBalance{}
	for _, b := range meta.GetPreTokenBalances() {
		pre[b.GetAccountIndex()] = b
	}
	post := map[uint32]*geyserpb.TokenBalance{}
	for _, b := range meta.GetPostTokenBalances() {
		post[b.GetAccountIndex()] = b
	}
	var out []pubkey
	add := func(owner string) {
		if k, err := parseKey(owner); err == nil && !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	for _, list := range [][]*geyserpb.TokenBalance{meta.GetPreTokenBalances(), meta.GetPostTokenBalances()} {
		for _, b := range list {
			if mode == 1 {
				p, q := pre[b.GetAccountIndex()], post[b.GetAccountIndex()]
				if p != nil && q != nil && p.GetUiTokenAmount().GetAmount() == q.GetUiTokenAmount().GetAmount() {
					continue
				}
			}
			add(b.GetOwner())
		}
	}
	if mode == 0 {
		t.ownersAll = out
	} else {
		t.ownersChg = out
	}
	return out
}

func (tf *txFilter) touches(ta *txAccounts, set keySet) bool {
	if ta.each(set.hasBytes) {
		return true
	}
	if tf.token >= 0 {
		for _, k := range ta.tokenOwners(tf.token) {
			if _, ok := set[k]; ok {
				return true
			}
		}
	}
	return false
}

func (tf *txFilter) has(ta *txAccounts, k pubkey) bool {
	if ta.each(func(b []byte) bool { return bytes.Equal(b, k[:]) }) {
		return true
	}
	return tf.token >= 0 && slices.Contains(ta.tokenOwners(tf.token), k)
}

func (tf *txFilter) match(ta *txAccounts) bool {
	info := ta.info
	if !tf.vote.ok(info.GetIsVote()) {
		return false
	}
	if !tf.failed.ok(info.GetMeta().GetErr() != nil) {
		return false
	}
	if tf.signature != nil && !bytes.Equal(tf.signature, info.GetSignature()) {
		return false
	}
	if tf.include != nil && !tf.touches(ta, tf.include) {
		return false
	}
	if tf.exclude != nil && tf.touches(ta, tf.exclude) {
		return false
	}
	for _, k := range tf.required {
		if !tf.has(ta, k) {
			return false
		}
	}
	return true
}

// matchStatus matches a published transaction_status update, which names no accounts: filters with
// account_include or account_required never match it.
func (tf *txFilter) matchStatus(s *geyserpb.SubscribeUpdateTransactionStatus) bool {
	if !tf.vote.ok(s.GetIsVote()) || !tf.failed.ok(s.GetErr() != nil) {
		return false
	}
	if tf.signature != nil && !bytes.Equal(tf.signature, s.GetSignature()) {
		return false
	}
	return tf.include == nil && len(tf.required) == 0
}

func (b *blockFilter) match(blk *geyserpb.SubscribeUpdateBlock) bool {
	if b.include == nil {
		return true
	}
	for _, tx := range blk.GetTransactions() {
		if (&txAccounts{info: tx}).each(b.include.hasBytes) {
			return true
		}
	}
	for _, a := range blk.GetAccounts() {
		if b.include.hasBytes(a.GetPubkey()) {
			return true
		}
	}
	return false
}
