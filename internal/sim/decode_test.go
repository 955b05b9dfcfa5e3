package sim

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/hyperstack-go/hyperstack/internal/geyserpb"
	"github.com/hyperstack-go/hyperstack/internal/idl"
	"github.com/hyperstack-go/hyperstack/internal/solana"
)

// collect runs a generator to its end.
func collect(t *testing.T, s *Sim) []*geyserpb.SubscribeUpdate {
	t.Helper()
	var out []*geyserpb.SubscribeUpdate
	for {
		u, err := s.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, u)
	}
}

// ixView is one instruction of a transaction with its accounts resolved.
type ixView struct {
	path     string
	program  solana.Pubkey
	accounts []solana.Pubkey
	data     []byte
	height   uint32
}

// instructions resolves a transaction's top-level and inner instructions through its account keys
// (static, then loaded writable, then loaded readonly addresses).
func instructions(t *testing.T, info *geyserpb.SubscribeUpdateTransactionInfo) ([]ixView, []solana.Pubkey) {
	t.Helper()
	msg, meta := info.GetTransaction().GetMessage(), info.GetMeta()
	var keys []solana.Pubkey
	for _, group := range [][][]byte{msg.GetAccountKeys(), meta.GetLoadedWritableAddresses(), meta.GetLoadedReadonlyAddresses()} {
		for _, k := range group {
			p, err := solana.PubkeyFromBytes(k)
			if err != nil {
				t.Fatal(err)
			}
			keys = append(keys, p)
		}
	}
	key := func(i uint32) solana.Pubkey {
		if int(i) >= len(keys) {
			t.Fatalf("account index %d out of %d keys", i, len(keys))
		}
		return keys[i]
	}
	resolve := func(b []byte) []solana.Pubkey {
		out := make([]solana.Pubkey, len(b))
		for i, x := range b {
			out[i] = key(uint32(x))
		}
		return out
	}
	var out []ixView
	for i, ix := range msg.GetInstructions() {
		out = append(out, ixView{path: strconv.Itoa(i), program: key(ix.GetProgramIdIndex()),
			accounts: resolve(ix.GetAccounts()), data: ix.GetData(), height: 1})
		for _, group := range meta.GetInnerInstructions() {
			if int(group.GetIndex()) != i {
				continue
			}
			for j, in := range group.GetInstructions() {
				if in.GetStackHeight() < 2 {
					t.Fatalf("inner instruction %d.%d has stack height %d", i, j, in.GetStackHeight())
				}
				out = append(out, ixView{path: fmt.Sprintf("%d.%d", i, j), program: key(in.GetProgramIdIndex()),
					accounts: resolve(in.GetAccounts()), data: in.GetData(), height: in.GetStackHeight()})
			}
		}
	}
	return out, keys
}

var invokeRE = regexp.MustCompile(`^Program (\w+) invoke \[(\d+)\]$`)

// checkLogs verifies the log lines nest like the runtime's: every invoke is closed by success or
// failed of the same program, at the depth it announced.
func checkLogs(t *testing.T, logs []string) {
	t.Helper()
	var stack []string
	for _, l := range logs {
		if m := invokeRE.FindStringSubmatch(l); m != nil {
			if d, _ := strconv.Atoi(m[2]); d != len(stack)+1 {
				t.Fatalf("%q at depth %d", l, len(stack)+1)
			}
			stack = append(stack, m[1])
			continue
		}
		if strings.HasSuffix(l, " success") || strings.Contains(l, " failed: ") {
			if len(stack) == 0 || !strings.HasPrefix(l, "Program "+stack[len(stack)-1]+" ") {
				t.Fatalf("%q closes nothing open (open: %v)", l, stack)
			}
			stack = stack[:len(stack)-1]
			if strings.Contains(l, " failed: ") {
				stack = nil
			}
		}
	}
	if len(stack) != 0 {
		t.Fatalf("unclosed invocations %v in %q", stack, logs)
	}
}

// checkStream verifies what every scenario's stream must satisfy: rising write versions, slot
// statuses in commitment order for every slot, block metadata chaining, and well-formed
// transactions (signature count, indexes, logs).
func checkStream(t *testing.T, ups []*geyserpb.SubscribeUpdate) {
	t.Helper()
	var lastWV uint64
	status := map[uint64][]geyserpb.SlotStatus{}
	txsInSlot := map[uint64]uint64{}
	var lastMeta *geyserpb.SubscribeUpdateBlockMeta
	for i, u := range ups {
		if u.GetCreatedAt() == nil {
			t.Fatalf("update %d has no created_at", i)
		}
		switch v := u.GetUpdateOneof().(type) {
		case *geyserpb.SubscribeUpdate_Account:
			info := v.Account.GetAccount()
			if info.GetWriteVersion() <= lastWV {
				t.Fatalf("update %d: write_version %d after %d", i, info.GetWriteVersion(), lastWV)
			}
			lastWV = info.GetWriteVersion()
			if len(info.GetPubkey()) != 32 || len(info.GetOwner()) != 32 {
				t.Fatalf("update %d: bad pubkey/owner length", i)
			}
			if !bytes.Equal(info.GetOwner(), sysvarOwnerID[:]) && len(info.GetData()) > 0 &&
				info.GetLamports() < RentExemptMinimum(len(info.GetData())) {
				t.Fatalf("update %d: %d lamports below the rent-exempt minimum for %d bytes", i,
					info.GetLamports(), len(info.GetData()))
			}
		case *geyserpb.SubscribeUpdate_Slot:
			status[v.Slot.GetSlot()] = append(status[v.Slot.GetSlot()], v.Slot.GetStatus())
		case *geyserpb.SubscribeUpdate_BlockMeta:
			bm := v.BlockMeta
			if lastMeta != nil && (bm.GetParentSlot() != lastMeta.GetSlot() || bm.GetParentBlockhash() != lastMeta.GetBlockhash() ||
				bm.GetBlockHeight().GetBlockHeight() != lastMeta.GetBlockHeight().GetBlockHeight()+1) {
				t.Fatalf("block meta of slot %d does not chain to slot %d", bm.GetSlot(), lastMeta.GetSlot())
			}
			if bm.GetExecutedTransactionCount() != txsInSlot[bm.GetSlot()] {
				t.Fatalf("slot %d: block meta counts %d transactions, stream has %d", bm.GetSlot(),
					bm.GetExecutedTransactionCount(), txsInSlot[bm.GetSlot()])
			}
			lastMeta = bm
		case *geyserpb.SubscribeUpdate_Transaction:
			info := v.Transaction.GetTransaction()
			if info.GetIndex() != txsInSlot[v.Transaction.GetSlot()] {
				t.Fatalf("transaction index %d, want %d", info.GetIndex(), txsInSlot[v.Transaction.GetSlot()])
			}
			txsInSlot[v.Transaction.GetSlot()]++
			tx := info.GetTransaction()
			if uint32(len(tx.GetSignatures())) != tx.GetMessage().GetHeader().GetNumRequiredSignatures() ||
				!bytes.Equal(tx.GetSignatures()[0], info.GetSignature()) {
				t.Fatalf("update %d: signatures do not match the header", i)
			}
			meta := info.GetMeta()
			_, keys := instructions(t, info)
			if len(meta.GetPreBalances()) != len(keys) || len(meta.GetPostBalances()) != len(keys) {
				t.Fatalf("update %d: %d balances for %d keys", i, len(meta.GetPreBalances()), len(keys))
			}
			if len(tx.GetMessage().GetAddressTableLookups()) > 0 && !tx.GetMessage().GetVersioned() {
				t.Fatalf("update %d: a legacy message with address table lookups", i)
			}
			checkLogs(t, meta.GetLogMessages())
		}
	}
	want := []geyserpb.SlotStatus{geyserpb.SlotStatus_SLOT_PROCESSED, geyserpb.SlotStatus_SLOT_CONFIRMED,
		geyserpb.SlotStatus_SLOT_FINALIZED}
	for slot, got := range status {
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("slot %d statuses %v, want %v", slot, got, want)
		}
	}
}

func TestSPLTokenDecodesAndBalances(t *testing.T) {
	t.Parallel()
	slots := uint64(400)
	if testing.Short() {
		slots = 100
	}
	s, err := New(ScenarioSPLToken, 3, Options{Slots: slots, Population: 300})
	if err != nil {
		t.Fatal(err)
	}
	ups := collect(t, s)
	checkStream(t, ups)
	p, err := BuiltinSPLTokenIDL()
	if err != nil {
		t.Fatal(err)
	}

	type tokenState struct {
		mint   string
		amount uint64
	}
	tokens := map[solana.Pubkey]tokenState{}
	supply := map[string]uint64{}
	lastAmount := map[string]uint64{} // "signature/account" -> amount written by that transaction
	ixCounts := map[string]int{}
	var accounts, v0, failed, inner int
	for _, u := range ups {
		if a := u.GetAccount(); a != nil {
			info := a.GetAccount()
			if !tokenProgramID.Equal(info.GetOwner()) {
				continue
			}
			accounts++
			name, v, err := p.DecodeAccount(info.GetData())
			if err != nil {
				t.Fatalf("slot %d: token account %x: %v", a.GetSlot(), info.GetPubkey(), err)
			}
			pk, _ := solana.PubkeyFromBytes(info.GetPubkey())
			switch name {
			case "Mint":
				if len(info.GetData()) != mintSize || info.GetLamports() != RentExemptMinimum(mintSize) {
					t.Fatalf("mint %s: %d bytes, %d lamports", pk, len(info.GetData()), info.GetLamports())
				}
				supply[pk.String()] = v["supply"].(uint64)
			case "Account":
				if len(info.GetData()) != tokenAccountSize || info.GetLamports() != RentExemptMinimum(tokenAccountSize) {
					t.Fatalf("token account %s: %d bytes, %d lamports", pk, len(info.GetData()), info.GetLamports())
				}
				ts := tokenState{mint: v["mint"].(string), amount: v["amount"].(uint64)}
				tokens[pk] = ts
				sig, _ := solana.SignatureFromBytes(info.GetTxnSignature())
				lastAmount[sig.String()+"/"+pk.String()] = ts.amount
			default:
				t.Fatalf("unexpected token account type %s", name)
			}
			continue
		}
		tu := u.GetTransaction()
		if tu == nil {
			continue
		}
		info := tu.GetTransaction()
		if info.GetTransaction().GetMessage().GetVersioned() {
			v0++
		}
		if info.GetMeta().GetErr() != nil {
			failed++
		}
		ixs, keys := instructions(t, info)
		for _, ix := range ixs {
			if ix.height > 1 {
				inner++
			}
			if ix.program != tokenProgramID {
				continue
			}
			def, _, err := p.DecodeInstruction(ix.data)
			if err != nil {
				t.Fatalf("slot %d tx %d instruction %s: %v", tu.GetSlot(), info.GetIndex(), ix.path, err)
			}
			if len(ix.accounts) < len(def.Accounts) {
				t.Fatalf("%s with %d accounts, IDL lists %d", def.Name, len(ix.accounts), len(def.Accounts))
			}
			ixCounts[def.Name]++
		}
		// Post token balances report what the transaction's account writes hold.
		if info.GetMeta().GetErr() == nil {
			sig, _ := solana.SignatureFromBytes(info.GetSignature())
			for _, tb := range info.GetMeta().GetPostTokenBalances() {
				k := keys[tb.GetAccountIndex()]
				got, ok := lastAmount[sig.String()+"/"+k.String()]
				if !ok || strconv.FormatUint(got, 10) != tb.GetUiTokenAmount().GetAmount() {
					t.Fatalf("post token balance of %s is %s, its account update holds %d (%v)", k,
						tb.GetUiTokenAmount().GetAmount(), got, ok)
				}
			}
		}
	}
	for _, name := range []string{"transfer", "transfer_checked", "mint_to", "burn", "initialize_mint2",
		"initialize_account3", "get_account_data_size", "initialize_immutable_owner"} {
		if ixCounts[name] == 0 {
			t.Errorf("no %s instruction in %d slots (%v)", name, slots, ixCounts)
		}
	}
	if v0 == 0 || failed == 0 || inner == 0 || accounts == 0 {
		t.Errorf("v0=%d failed=%d inner=%d token accounts=%d: want all present", v0, failed, inner, accounts)
	}
	// Balances stay consistent: every mint's supply is the sum of its token accounts.
	sum := map[string]uint64{}
	for _, ts := range tokens {
		sum[ts.mint] += ts.amount
	}
	if len(supply) == 0 {
		t.Fatal("no mints")
	}
	for m, sup := range supply {
		if sum[m] != sup {
			t.Errorf("mint %s: supply %d, token accounts hold %d", m, sup, sum[m])
		}
	}
}

func TestSPLTokenActivityIsSkewed(t *testing.T) {
	t.Parallel()
	s, err := New(ScenarioSPLToken, 5, Options{Slots: 300, Population: 2000})
	if err != nil {
		t.Fatal(err)
	}
	writes := map[string]int{}
	total := 0
	for _, u := range collect(t, s) {
		if a := u.GetAccount(); a != nil && tokenProgramID.Equal(a.GetAccount().GetOwner()) && len(a.GetAccount().GetData()) == tokenAccountSize {
			writes[string(a.GetAccount().GetPubkey())]++
			total++
		}
	}
	counts := make([]int, 0, len(writes))
	for _, c := range writes {
		counts = append(counts, c)
	}
	// Power law: the busiest 10% of token accounts carry far more than 10% of the writes.
	top := 0
	for range len(counts) / 10 {
		best := 0
		for i, c := range counts {
			if c > counts[best] {
				best = i
			}
		}
		top += counts[best]
		counts[best] = 0
	}
	if len(writes) < 50 || float64(top) < 0.35*float64(total) {
		t.Fatalf("%d token accounts, top 10%% carry %d of %d writes: not skewed", len(writes), top, total)
	}
}

func TestOreDecodes(t *testing.T) {
	t.Parallel()
	idls := oreIDLs(t)
	slots := uint64(600)
	if testing.Short() {
		slots = 250
	}
	s, err := New(ScenarioOre, 11, Options{Slots: slots, RoundSlots: 30, IDLs: idls, Population: 200})
	if err != nil {
		t.Fatal(err)
	}
	ups := collect(t, s)
	checkStream(t, ups)
	oreIDL := findIDL(idls, OreProgramID)
	entIDL := findIDL(idls, EntropyProgramID)
	token, _ := BuiltinSPLTokenIDL()
	byProgram := map[solana.Pubkey]*idl.IDL{OreProgramID: oreIDL, EntropyProgramID: entIDL, tokenProgramID: token}

	accountTypes := map[string]int{}
	ixTypes := map[string]int{}
	events := map[string]int{}
	for _, u := range ups {
		if a := u.GetAccount(); a != nil {
			info := a.GetAccount()
			owner, _ := solana.PubkeyFromBytes(info.GetOwner())
			p := byProgram[owner]
			if p == nil {
				continue
			}
			name, v, err := p.DecodeAccount(info.GetData())
			if err != nil {
				t.Fatalf("slot %d: %s account %x: %v", a.GetSlot(), p.Name, info.GetPubkey(), err)
			}
			accountTypes[p.Name+"::"+name]++
			pk, _ := solana.PubkeyFromBytes(info.GetPubkey())
			// Every program account sits at the address its seeds derive.
			var want solana.Pubkey
			switch name {
			case "Round":
				if len(info.GetData()) != 568 {
					t.Fatalf("Round is %d bytes, the IDL says 568", len(info.GetData()))
				}
				want, err = OreRoundAddress(v["id"].(uint64))
			case "Miner":
				want, err = OreMinerAddress(solana.MustPubkey(v["authority"].(string)))
			case "Automation":
				want, err = OreAutomationAddress(solana.MustPubkey(v["authority"].(string)))
			default:
				want = pk
			}
			if err != nil || want != pk {
				t.Fatalf("%s at %s, its seeds derive %s (%v)", name, pk, want, err)
			}
			if len(info.GetTxnSignature()) != 64 {
				t.Fatalf("%s update without the writing transaction's signature", name)
			}
			continue
		}
		tu := u.GetTransaction()
		if tu == nil {
			continue
		}
		ixs, _ := instructions(t, tu.GetTransaction())
		for _, ix := range ixs {
			p := byProgram[ix.program]
			if p == nil {
				continue
			}
			def, _, err := p.DecodeInstruction(ix.data)
			if err != nil {
				t.Fatalf("slot %d: %s instruction %s: %v", tu.GetSlot(), p.Name, ix.path, err)
			}
			if len(ix.accounts) != len(def.Accounts) && p != token {
				t.Fatalf("%s::%s with %d accounts, the IDL lists %d", p.Name, def.Name, len(ix.accounts), len(def.Accounts))
			}
			ixTypes[p.Name+"::"+def.Name]++
			if p == oreIDL && def.Name == "log" {
				name, _, err := oreIDL.DecodeEvent(ix.data[1:])
				if err != nil {
					t.Fatalf("event logged by %s: %v", ix.path, err)
				}
				events[name]++
			}
		}
	}
	for _, want := range []string{"ore::Board", "ore::Round", "ore::Miner", "ore::Treasury", "ore::Config",
		"ore::Automation", "entropy::Var", "spl_token::Mint", "spl_token::Account"} {
		if accountTypes[want] == 0 {
			t.Errorf("no %s account update (%v)", want, accountTypes)
		}
	}
	for _, want := range []string{"ore::deploy", "ore::checkpoint", "ore::reset", "ore::log", "ore::automate",
		"ore::claimSol", "entropy::next", "entropy::sample", "entropy::reveal", "spl_token::mint_to"} {
		if ixTypes[want] == 0 {
			t.Errorf("no %s instruction (%v)", want, ixTypes)
		}
	}
	if events["DeployEvent"] == 0 || events["ResetEvent"] == 0 {
		t.Errorf("events %v: want deploy and reset events", events)
	}
}
