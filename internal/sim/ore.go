package sim

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"strconv"

	"golang.org/x/crypto/sha3"

	"github.com/hyperstack-go/hyperstack/internal/idl"
	"github.com/hyperstack-go/hyperstack/internal/solana"
)

// ORE program constants (regolith-labs/ore v3).
const (
	oreDefaultTxPerSlot = 24
	oreDefaultMiners    = 2_000
	oreRoundSlots       = 150    // a round lasts one minute
	oreIntermission     = 35     // slots between a round's end and its reset
	oreOneDaySlots      = 216000 // a round account expires one day after its end
	oneORE              = 100_000_000_000
	oreDecimals         = 11
	oreCheckpointFee    = 10_000
	oreSquares          = 25
	slotHashesMax       = 512
	// entropyChainLen is how many rounds one precomputed seed chain of the entropy provider covers.
	entropyChainLen = 4096
)

// Program ids and fixed addresses of the ORE deployment.
var (
	OreProgramID     = solana.MustPubkey("oreV3EG1i9BEgiAJ8b177Z2S2rMarzak4NMv1kULvWv")
	EntropyProgramID = solana.MustPubkey("3jSkUuYBoJzQPMEzTvkDFXCZUBksPamrVhrnHR9igu2X")
	oreMintID        = solana.MustPubkey("oreoU2P8bN6jkk3jbaiVxYnG1dCXcYxwhwyK9jSybcp")
	oreMintProgramID = solana.MustPubkey("mintzxW6Kckmeyh1h6Zfdj9QcYgCzhPSGiC8ChZ6fCx")
	oreSplitAddress  = solana.MustPubkey("SpLiT11111111111111111111111111111111111112")
)

// OreAddresses are the program-derived addresses of the ORE singletons, derived with the seeds the
// ORE IDL documents.
type OreAddresses struct {
	Board, Config, Treasury, TreasuryTokens, Var solana.Pubkey
}

// DeriveOreAddresses derives the ORE singleton addresses: board ["board"], config ["config"], treasury
// ["treasury"] under the ORE program; the treasury's associated ORE token account; and the entropy
// Var ["var", board, 0u64 LE] under the entropy program.
func DeriveOreAddresses() (OreAddresses, error) {
	var a OreAddresses
	var err error
	find := func(prog solana.Pubkey, seeds ...[]byte) solana.Pubkey {
		if err != nil {
			return solana.Pubkey{}
		}
		var p solana.Pubkey
		p, _, err = solana.FindProgramAddress(seeds, prog)
		return p
	}
	a.Board = find(OreProgramID, []byte("board"))
	a.Config = find(OreProgramID, []byte("config"))
	a.Treasury = find(OreProgramID, []byte("treasury"))
	a.TreasuryTokens = find(ataProgramID, a.Treasury[:], tokenProgramID[:], oreMintID[:])
	a.Var = find(EntropyProgramID, []byte("var"), a.Board[:], le64(0))
	return a, err
}

// OreRoundAddress derives the Round PDA ["round", id u64 LE].
func OreRoundAddress(id uint64) (solana.Pubkey, error) {
	p, _, err := solana.FindProgramAddress([][]byte{[]byte("round"), le64(id)}, OreProgramID)
	return p, err
}

// OreMinerAddress derives the Miner PDA ["miner", authority].
func OreMinerAddress(authority solana.Pubkey) (solana.Pubkey, error) {
	p, _, err := solana.FindProgramAddress([][]byte{[]byte("miner"), authority[:]}, OreProgramID)
	return p, err
}

// OreAutomationAddress derives the Automation PDA ["automation", authority].
func OreAutomationAddress(authority solana.Pubkey) (solana.Pubkey, error) {
	p, _, err := solana.FindProgramAddress([][]byte{[]byte("automation"), authority[:]}, OreProgramID)
	return p, err
}

func le64(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }

type oreRound struct {
	id            uint64
	acct          *account
	deployed      [oreSquares]uint64
	count         [oreSquares]uint64
	slotHash      [32]byte
	expiresAt     uint64
	motherlode    uint64
	rentPayer     solana.Pubkey
	topMiner      solana.Pubkey
	topReward     uint64
	totalDeployed uint64
	totalMiners   uint64
	totalVaulted  uint64
	totalWinnings uint64
	rent          uint64
	closed        bool
}

func (r *oreRound) rng() (uint64, bool) {
	var zero, ones [32]byte
	for i := range ones {
		ones[i] = 0xff
	}
	if r.slotHash == zero || r.slotHash == ones {
		return 0, false
	}
	h := r.slotHash[:]
	return binary.LittleEndian.Uint64(h[0:]) ^ binary.LittleEndian.Uint64(h[8:]) ^
		binary.LittleEndian.Uint64(h[16:]) ^ binary.LittleEndian.Uint64(h[24:]), true
}

type oreAutomation struct {
	amount, balance, fee, strategy, mask, reload uint64
	executor                                     *account
}

type oreMiner struct {
	authority                                  *account
	acct                                       *account
	automation                                 *account
	auto                                       *oreAutomation
	deployed                                   [oreSquares]uint64
	cumulative                                 [oreSquares]uint64
	checkpointFee, checkpointID, roundID       uint64
	lastClaimOre, lastClaimSol                 int64
	rewardsSol, rewardsOre, refinedOre         uint64
	lifetimeSol, lifetimeOre, lifetimeDeployed uint64
	exists                                     bool
	ata                                        *account
	deployedRound                              uint64 // round of the last deploy (0: none)
}

type entropyVar struct {
	commit, seed, slotHash, value [32]byte
	samples, isAuto, startAt      uint64
	endAt                         uint64
}

// ore simulates the ORE mining game and its entropy provider.
type ore struct {
	s                        *Sim
	ore, entropy             *idl.IDL
	tc                       *tokenCodec
	progOre, progEnt, progMt *program
	known                    map[solana.Pubkey]*account
	err                      error

	board, config, treasury, treasuryTokens, varAcct *account
	feeCollector, admin, provider, mintAuthority     *account
	cranker, slotHashes                              *account
	mint                                             *mint
	executors                                        []*account
	hashes                                           [][40]byte // SlotHashes entries, newest first

	roundID, boardStart, endSlot, epochID uint64
	round                                 *oreRound
	rounds                                map[uint64]*oreRound
	sampled, revealed                     bool

	tBalance, tBufA, tMotherlode, tBufB         uint64
	tRefined, tStaked, tUnclaimed               uint64
	minerFactor, stakeFactor                    [16]byte
	v                                           entropyVar
	varID                                       uint64
	chain                                       [][32]byte
	chainPos                                    int
	miners                                      []*oreMiner
	pendingCheckpoint                           []*oreMiner
	txPerSlot                                   float64
	maxMiners                                   int
	roundSlots, intermission, expiry            uint64
	roundsOpened, resets, deploys, checkpointed uint64
}

func newOre(s *Sim, opts Options) (scenario, error) {
	o := &ore{s: s, rounds: map[uint64]*oreRound{}, known: map[solana.Pubkey]*account{}}
	o.ore = findIDL(opts.IDLs, OreProgramID, "ore")
	o.entropy = findIDL(opts.IDLs, EntropyProgramID, "entropy")
	if o.ore == nil || o.entropy == nil {
		return nil, fmt.Errorf("ore scenario needs the ore and entropy IDLs (give the ORE stack or both IDL files): %w", ErrMissingIDL)
	}
	for _, need := range []struct {
		p    *idl.IDL
		acct []string
		ix   []string
	}{
		{o.ore, []string{"Board", "Config", "Treasury", "Round", "Miner", "Automation"},
			[]string{"deploy", "checkpoint", "reset", "claimSol", "claimOre", "automate", "close", "log"}},
		{o.entropy, []string{"Var"}, []string{"next", "sample", "reveal"}},
	} {
		for _, a := range need.acct {
			if _, ok := need.p.Account(a); !ok {
				return nil, fmt.Errorf("%s idl has no account %q: %w", need.p.Name, a, ErrMissingIDL)
			}
		}
		for _, ix := range need.ix {
			if _, ok := need.p.Instruction(ix); !ok {
				return nil, fmt.Errorf("%s idl has no instruction %q: %w", need.p.Name, ix, ErrMissingIDL)
			}
		}
	}
	tc, err := newTokenCodec(s, opts.IDLs)
	if err != nil {
		return nil, err
	}
	o.tc = tc
	o.txPerSlot = opts.TxPerSlot
	if o.txPerSlot == 0 {
		o.txPerSlot = oreDefaultTxPerSlot
	}
	o.maxMiners = opts.Population
	if o.maxMiners == 0 {
		o.maxMiners = oreDefaultMiners
	}
	o.roundSlots = opts.RoundSlots
	if o.roundSlots == 0 {
		o.roundSlots = oreRoundSlots
	}
	o.intermission = max(3, (o.roundSlots*oreIntermission+oreRoundSlots-1)/oreRoundSlots)
	o.expiry = o.roundSlots * (oreOneDaySlots / oreRoundSlots)

	g := s.g
	addrs, err := DeriveOreAddresses()
	if err != nil {
		return nil, err
	}
	o.progOre = newProgram(OreProgramID, "ore", false, 1_141_440, bpfUpgradeableID)
	o.progEnt = newProgram(EntropyProgramID, "entropy", false, 1_141_440, bpfUpgradeableID)
	o.progMt = newProgram(oreMintProgramID, "ore-mint", false, 1_141_440, bpfUpgradeableID)
	for _, p := range []*program{o.progOre, o.progEnt, o.progMt, s.progs.system, s.progs.token, s.progs.ata} {
		o.known[p.acct.key] = p.acct
	}
	o.slotHashes = &account{key: sysvarSlotHashes, lamports: 143_487_360, owner: sysvarOwnerID, rentEpoch: rentExemptEpoch}
	o.known[sysvarSlotHashes] = o.slotHashes
	for i := uint64(1); i <= slotHashesMax; i++ {
		var e [40]byte
		binary.LittleEndian.PutUint64(e[:8], s.opts.StartSlot-i)
		g.fill(e[8:])
		o.hashes = append(o.hashes, e)
	}

	pda := func(k solana.Pubkey) *account {
		return &account{key: k, owner: OreProgramID, rentEpoch: rentExemptEpoch}
	}
	o.board, o.config, o.treasury = pda(addrs.Board), pda(addrs.Config), pda(addrs.Treasury)
	o.varAcct = &account{key: addrs.Var, owner: EntropyProgramID, rentEpoch: rentExemptEpoch}
	o.admin = g.newWallet(g.between(5, 50) * lamportsPerSOL)
	o.feeCollector = g.newWallet(g.between(100, 5_000) * lamportsPerSOL)
	o.provider = g.newWallet(g.between(50, 200) * lamportsPerSOL)
	o.cranker = g.newWallet(g.between(20, 100) * lamportsPerSOL)
	for range 4 {
		o.executors = append(o.executors, g.newWallet(g.between(10, 100)*lamportsPerSOL))
	}
	mintAuth, _, err := solana.FindProgramAddress([][]byte{[]byte("mint_authority")}, oreMintProgramID)
	if err != nil {
		return nil, err
	}
	o.mintAuthority = &account{key: mintAuth, lamports: RentExemptMinimum(0), owner: oreMintProgramID, rentEpoch: rentExemptEpoch}
	o.mint = &mint{
		acct:      &account{key: oreMintID, lamports: RentExemptMinimum(mintSize), owner: tokenProgramID, rentEpoch: rentExemptEpoch},
		authority: o.mintAuthority,
		decimals:  oreDecimals,
		supply:    (3_000_000 + g.uint64n(1_000_000)) * oneORE,
	}
	o.known[oreMintID] = o.mint.acct
	o.treasuryTokens = &account{key: addrs.TreasuryTokens, lamports: RentExemptMinimum(tokenAccountSize),
		owner: tokenProgramID, rentEpoch: rentExemptEpoch,
		token: &tokenHolding{mint: o.mint.acct, mintB: o.mint.acct.base58(), owner: o.treasury.base58(),
			ownerKey: o.treasury.key, dec: oreDecimals, amount: (200_000 + g.uint64n(100_000)) * oneORE}}
	o.tc.writeMint(o.mint)
	o.tc.writeTokenAccount(o.treasuryTokens)

	// The program has been running for a while: a board on some round waiting for its first deploy,
	// a funded treasury, and a Var holding the previous round's seed.
	o.roundID = 20_000 + g.uint64n(40_000)
	o.boardStart, o.endSlot = s.opts.StartSlot, ^uint64(0)
	o.epochID = o.roundID / 1440
	o.tBalance = g.between(500, 5_000) * lamportsPerSOL
	o.tMotherlode = g.between(10, 300) * oneORE
	o.tRefined = g.between(1_000, 50_000) * oneORE
	o.tStaked = g.between(100_000, 900_000) * oneORE
	o.tUnclaimed = g.between(10_000, 90_000) * oneORE
	g.fill(o.minerFactor[:8])
	g.fill(o.stakeFactor[:8])
	o.newChain()
	o.v.seed = o.chain[0]
	o.chainPos = 1
	o.v.samples = 1 << 40
	o.v.isAuto = 0
	o.v.startAt = s.opts.StartSlot - 200
	o.v.endAt = s.opts.StartSlot - 40
	g.fill(o.v.slotHash[:])
	o.v.value = keccak(o.v.slotHash[:], o.v.seed[:])
	o.v.commit = keccak(o.v.seed[:])

	o.writeBoard()
	o.writeConfig()
	o.writeTreasury()
	o.writeVar()
	o.board.lamports = RentExemptMinimum(len(o.board.data))
	o.config.lamports = RentExemptMinimum(len(o.config.data))
	o.treasury.lamports = o.tBalance + RentExemptMinimum(len(o.treasury.data))
	o.varAcct.lamports = RentExemptMinimum(len(o.varAcct.data))
	r, err := o.newRound(o.roundID, o.cranker.key)
	if err != nil {
		return nil, err
	}
	r.acct.lamports = r.rent
	o.writeRound(r)
	o.round = r
	return o, o.err
}

func keccak(parts ...[]byte) [32]byte {
	h := sha3.NewLegacyKeccak256()
	for _, p := range parts {
		h.Write(p)
	}
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// newChain precomputes the provider's seed chain: each revealed seed hashes to the commit, and the
// next commit is the revealed seed (entropy's `next` "resets the commit to the previous seed").
func (o *ore) newChain() {
	o.chain = make([][32]byte, entropyChainLen+1)
	o.s.g.fill(o.chain[entropyChainLen][:])
	for i := entropyChainLen - 1; i >= 0; i-- {
		o.chain[i] = keccak(o.chain[i+1][:])
	}
	o.chainPos = 0
}

func (o *ore) fail(err error) {
	if o.err == nil && err != nil {
		o.err = err
	}
}

func (o *ore) encode(p *idl.IDL, name string, v map[string]any) []byte {
	b, err := p.EncodeAccount(name, v)
	o.fail(err)
	return b
}

func (o *ore) writeBoard() {
	o.board.data = o.encode(o.ore, "Board", map[string]any{
		"round_id": o.roundID, "start_slot": o.boardStart, "end_slot": o.endSlot, "epoch_id": o.epochID,
	})
}

func (o *ore) writeConfig() {
	o.config.data = o.encode(o.ore, "Config", map[string]any{
		"admin": &o.admin.key, "buffer_a": &o.feeCollector.key, "buffer_b": &o.provider.key,
		"buffer_c": &o.varAcct.key, "buffer_d": solana.Pubkey{}, "buffer_e": uint64(0),
	})
}

func (o *ore) writeTreasury() {
	o.treasury.data = o.encode(o.ore, "Treasury", map[string]any{
		"balance": o.tBalance, "buffer_a": o.tBufA, "motherlode": o.tMotherlode,
		"miner_rewards_factor": map[string]any{"bits": o.minerFactor[:]},
		"stake_rewards_factor": map[string]any{"bits": o.stakeFactor[:]},
		"buffer_b":             o.tBufB, "total_refined": o.tRefined, "total_staked": o.tStaked,
		"total_unclaimed": o.tUnclaimed,
	})
}

func (o *ore) writeVar() {
	v := &o.v
	o.varAcct.data = o.encode(o.entropy, "Var", map[string]any{
		"authority": &o.board.key, "id": o.varID, "provider": &o.provider.key,
		"commit": v.commit[:], "seed": v.seed[:], "slot_hash": v.slotHash[:], "value": v.value[:],
		"samples": v.samples, "is_auto": v.isAuto, "start_at": v.startAt, "end_at": v.endAt,
	})
}

func (o *ore) writeRound(r *oreRound) {
	r.acct.data = o.encode(o.ore, "Round", map[string]any{
		"id": r.id, "deployed": r.deployed[:], "slot_hash": r.slotHash[:], "count": r.count[:],
		"expires_at": r.expiresAt, "motherlode": r.motherlode, "rent_payer": &r.rentPayer,
		"top_miner": &r.topMiner, "top_miner_reward": r.topReward, "total_deployed": r.totalDeployed,
		"total_miners": r.totalMiners, "total_vaulted": r.totalVaulted, "total_winnings": r.totalWinnings,
	})
}

func (o *ore) writeMiner(m *oreMiner) {
	m.acct.data = o.encode(o.ore, "Miner", map[string]any{
		"authority": &m.authority.key, "deployed": m.deployed[:], "cumulative": m.cumulative[:],
		"checkpoint_fee": m.checkpointFee, "checkpoint_id": m.checkpointID,
		"last_claim_ore_at": m.lastClaimOre, "last_claim_sol_at": m.lastClaimSol,
		"rewards_factor": map[string]any{"bits": o.minerFactor[:]},
		"rewards_sol":    m.rewardsSol, "rewards_ore": m.rewardsOre, "refined_ore": m.refinedOre,
		"round_id": m.roundID, "lifetime_rewards_sol": m.lifetimeSol, "lifetime_rewards_ore": m.lifetimeOre,
		"lifetime_deployed": m.lifetimeDeployed,
	})
}

func (o *ore) writeAutomation(m *oreMiner) {
	a := m.auto
	if a == nil {
		m.automation.data = nil
		return
	}
	m.automation.data = o.encode(o.ore, "Automation", map[string]any{
		"amount": a.amount, "authority": &m.authority.key, "balance": a.balance, "executor": &a.executor.key,
		"fee": a.fee, "strategy": a.strategy, "mask": a.mask, "reload": a.reload,
	})
}

// newRound makes the account of round id (not yet on chain unless the caller funds it).
func (o *ore) newRound(id uint64, rentPayer solana.Pubkey) (*oreRound, error) {
	k, err := OreRoundAddress(id)
	if err != nil {
		return nil, err
	}
	r := &oreRound{id: id, acct: &account{key: k, owner: OreProgramID, rentEpoch: rentExemptEpoch},
		expiresAt: ^uint64(0), rentPayer: rentPayer}
	o.writeRound(r)
	r.rent = RentExemptMinimum(len(r.acct.data))
	r.acct.data = nil
	o.rounds[id] = r
	return r, nil
}

// refs lists an instruction's accounts in the IDL's order with the IDL's writable/signer flags;
// named gives the accounts by IDL name, fixed addresses resolve to known program/sysvar accounts.
func (o *ore) refs(p *idl.IDL, ix string, named map[string]*account) []ref {
	def, _ := p.Instruction(ix)
	out := make([]ref, len(def.Accounts))
	for i, m := range def.Accounts {
		a := named[m.Name]
		if a == nil && m.Address != "" {
			if k, err := solana.ParsePubkey(m.Address); err == nil {
				a = o.known[k]
			}
		}
		if a == nil {
			o.fail(fmt.Errorf("%s.%s: no account for %q", p.Name, ix, m.Name))
			a = o.s.progs.system.acct
		}
		out[i] = ref{a: a, writable: m.Writable, signer: m.Signer}
	}
	return out
}

func (o *ore) ixData(p *idl.IDL, name string, args map[string]any) []byte {
	b, err := p.EncodeInstruction(name, args)
	o.fail(err)
	return b
}

// logEvent makes parent emit an ORE event through the program's `log` instruction (a self-CPI signed
// by the board), as ORE's program_log does.
func (o *ore) logEvent(t *txn, parent *ixNode, event string, v map[string]any) {
	ev, err := o.ore.EncodeEvent(event, v)
	o.fail(err)
	data := append(o.ixData(o.ore, "log", nil), ev...)
	n := t.cpi(parent, o.progOre, data, o.refs(o.ore, "log", map[string]*account{"board": o.board})...)
	n.cu = 1_200
	n.logData(ev)
}

func (o *ore) startSlot(s *Sim) {
	// The bank writes its parent's hash into the SlotHashes sysvar before any transaction runs.
	if s.stats.Slots > 0 {
		var e [40]byte
		binary.LittleEndian.PutUint64(e[:8], s.parent)
		copy(e[8:], s.prevBankHash)
		copy(o.hashes[1:], o.hashes[:len(o.hashes)-1])
		o.hashes[0] = e
	}
	data := make([]byte, 8, 8+40*len(o.hashes))
	binary.LittleEndian.PutUint64(data, uint64(len(o.hashes)))
	for _, h := range o.hashes {
		data = append(data, h[:]...)
	}
	o.slotHashes.data = data
	s.emitAccount(o.slotHashes, nil)
}

// slotHashOf returns the hash SlotHashes holds for slot (or the nearest earlier one).
func (o *ore) slotHashOf(slot uint64) [32]byte {
	var h [32]byte
	for _, e := range o.hashes {
		if binary.LittleEndian.Uint64(e[:8]) <= slot {
			copy(h[:], e[8:])
			return h
		}
	}
	o.s.g.fill(h[:])
	return h
}

func (o *ore) slot(s *Sim) error {
	slot := s.slot
	open := o.endSlot == ^uint64(0) || slot < o.endSlot
	switch {
	case open:
		n := s.g.poisson(o.txPerSlot)
		if o.endSlot == ^uint64(0) {
			n = max(n, 1) // someone always opens the round
		}
		o.automatedDeploys()
		for i := 0; i < n && o.err == nil; i++ {
			o.activity(true)
		}
	default:
		switch {
		case !o.sampled:
			o.sample()
		case !o.revealed:
			o.reveal()
		case slot >= o.endSlot+o.intermission:
			o.reset()
		}
		n := s.g.poisson(o.txPerSlot / 4)
		for i := 0; i < n && o.err == nil; i++ {
			o.activity(false)
		}
	}
	o.closeExpired()
	return o.err
}

// activity is one user transaction: mostly deploys while a round is open, otherwise checkpoints and
// claims.
func (o *ore) activity(open bool) {
	g := o.s.g
	x := g.float()
	switch {
	case open && x < 0.80:
		o.deploy(o.pickMiner(), nil)
	case x < 0.88 && len(o.pendingCheckpoint) > 0:
		i := g.intn(len(o.pendingCheckpoint))
		m := o.pendingCheckpoint[i]
		o.pendingCheckpoint = append(o.pendingCheckpoint[:i], o.pendingCheckpoint[i+1:]...)
		if m.exists && m.checkpointID != m.roundID && m.roundID != o.roundID {
			t := o.begin(m.authority)
			o.checkpoint(t, m.authority, m)
			o.s.commit(t)
		}
	case x < 0.94:
		if m := o.someMiner(); m != nil && m.rewardsSol > 0 {
			o.claimSol(m)
		}
	case x < 0.98:
		if m := o.someMiner(); m != nil && m.rewardsOre > 0 {
			o.claimOre(m)
		}
	default:
		if m := o.someMiner(); m != nil && m.auto == nil {
			o.automate(m)
		}
	}
}

func (o *ore) someMiner() *oreMiner {
	if len(o.miners) == 0 {
		return nil
	}
	m := o.miners[o.s.g.powerLaw(len(o.miners))]
	if !m.exists {
		return nil
	}
	return m
}

// pickMiner returns a miner to deploy: a new one while the population grows.
func (o *ore) pickMiner() *oreMiner {
	g := o.s.g
	if len(o.miners) == 0 || g.chance(0.15*(1-float64(len(o.miners))/float64(o.maxMiners))) {
		auth := g.newWallet(g.between(1, 500)*lamportsPerSOL + g.uint64n(lamportsPerSOL))
		mk, err := OreMinerAddress(auth.key)
		o.fail(err)
		ak, err := OreAutomationAddress(auth.key)
		o.fail(err)
		m := &oreMiner{
			authority:  auth,
			acct:       &account{key: mk, owner: systemProgramID, rentEpoch: rentExemptEpoch},
			automation: &account{key: ak, owner: systemProgramID, rentEpoch: rentExemptEpoch},
		}
		o.miners = append(o.miners, m)
		return m
	}
	return o.miners[g.powerLaw(len(o.miners))]
}

func (o *ore) begin(payer *account) *txn {
	g := o.s.g
	if payer.lamports < lowBalance {
		payer.lamports += 10 * lamportsPerSOL // an off-stream top-up keeps simulated users solvent
	}
	t := o.s.tx(payer)
	t.computeBudget(uint32(g.between(100, 1_400))*1000, 1000*uint64(g.powerLaw(20_000)+1))
	return t
}

// automatedDeploys runs the executors' deploys for automated miners early in each round.
func (o *ore) automatedDeploys() {
	for _, m := range o.miners {
		if o.err != nil {
			return
		}
		if m.auto == nil || m.deployedRound == o.roundID || !o.s.g.chance(0.3) {
			continue
		}
		o.deploy(m, m.auto.executor)
	}
}

func (o *ore) deploy(m *oreMiner, executor *account) {
	g := o.s.g
	r := o.round
	signer := m.authority
	if executor != nil {
		signer = executor
	}
	amount := 10_000 * uint64(g.powerLaw(10_000)+1)
	var mask uint32
	if executor != nil {
		mask = uint32(m.auto.mask)
		amount = m.auto.amount
	} else {
		for k := g.between(1, oreSquares); k > 0; k-- {
			mask |= 1 << g.intn(oreSquares)
		}
	}
	// Squares this miner has not deployed to yet this round.
	fresh := m.roundID != r.id
	var squares []int
	for i := 0; i < oreSquares; i++ {
		if mask&(1<<i) != 0 && (fresh || m.deployed[i] == 0) {
			squares = append(squares, i)
		}
	}
	if len(squares) == 0 {
		return
	}
	if executor != nil {
		need := uint64(len(squares))*amount + m.auto.fee
		if m.auto.balance < need {
			return
		}
	} else if signer.lamports < uint64(len(squares))*amount+lowBalance {
		signer.lamports += 10 * lamportsPerSOL
	}

	t := o.begin(signer)
	if m.exists && m.roundID != r.id && m.checkpointID != m.roundID {
		o.checkpoint(t, signer, m)
	}
	n := t.ix(o.progOre, o.ixData(o.ore, "deploy", map[string]any{"amount": amount, "squares": uint64(mask)}),
		o.refs(o.ore, "deploy", map[string]*account{
			"signer": signer, "authority": m.authority, "automation": m.automation, "board": o.board,
			"config": o.config, "miner": m.acct, "round": r.acct, "entropyVar": o.varAcct,
		})...)
	n.cu = 24_000 + uint64(len(squares))*900

	slot := o.s.slot
	if o.endSlot == ^uint64(0) {
		// The first deploy opens the round and bumps the entropy var to sample its end slot.
		o.boardStart, o.endSlot = slot, slot+o.roundSlots
		r.expiresAt = o.endSlot + o.expiry
		o.sampled, o.revealed = false, false
		nx := t.cpi(n, o.progEnt, o.ixData(o.entropy, "next", map[string]any{"endAt": o.endSlot}),
			o.refs(o.entropy, "next", map[string]*account{"signer": o.board, "var": o.varAcct})...)
		nx.cu = 2_400
		o.v.commit = o.v.seed
		o.v.seed, o.v.slotHash, o.v.value = [32]byte{}, [32]byte{}, [32]byte{}
		o.v.startAt, o.v.endAt = slot, o.endSlot
		o.writeVar()
		o.writeBoard()
		o.roundsOpened++
	}
	if !m.exists {
		o.writeMiner(m) // for its size
		rent := RentExemptMinimum(len(m.acct.data))
		t.cpi(n, o.s.progs.system, systemCreate(rent, uint64(len(m.acct.data)), OreProgramID), w(signer), w(m.acct)).cu = 150
		signer.lamports -= rent
		m.acct.lamports += rent
		m.acct.owner = OreProgramID
		m.exists = true
	}
	if m.roundID != r.id {
		m.deployed = [oreSquares]uint64{}
		m.cumulative = r.deployed
		m.roundID = r.id
		r.totalMiners++
	}
	var total uint64
	for _, i := range squares {
		m.cumulative[i] = r.deployed[i]
		m.deployed[i] = amount
		r.deployed[i] += amount
		r.totalDeployed += amount
		r.count[i]++
		total += amount
	}
	if m.checkpointFee == 0 {
		m.checkpointFee = oreCheckpointFee
		t.cpi(n, o.s.progs.system, systemTransfer(oreCheckpointFee), w(signer), w(m.acct)).cu = 150
		signer.lamports -= oreCheckpointFee
		m.acct.lamports += oreCheckpointFee
	}
	strategy := uint64(0)
	if executor != nil {
		a := m.auto
		a.balance -= total + a.fee
		m.automation.lamports -= total + a.fee
		r.acct.lamports += total
		signer.lamports += a.fee
		strategy = a.strategy
		if a.balance < a.amount+a.fee {
			// Too little left for another square: the automation closes, rent goes to the authority.
			m.authority.lamports += m.automation.lamports
			m.automation.lamports = 0
			m.automation.owner = systemProgramID
			m.auto = nil
		}
		o.writeAutomation(m)
	} else {
		t.cpi(n, o.s.progs.system, systemTransfer(total), w(signer), w(r.acct)).cu = 150
		signer.lamports -= total
		r.acct.lamports += total
	}
	m.lifetimeDeployed += total
	m.deployedRound = r.id
	n.log("Round #" + strconv.FormatUint(r.id, 10) + ": deploying " + solString(amount) + " SOL to " +
		strconv.Itoa(len(squares)) + " squares")
	o.logEvent(t, n, "DeployEvent", map[string]any{
		"disc": uint64(2), "authority": &m.authority.key, "amount": amount, "mask": uint64(mask),
		"round_id": r.id, "signer": &signer.key, "strategy": strategy, "total_squares": uint64(len(squares)),
		"ts": o.s.unixTime(),
	})
	o.writeMiner(m)
	o.writeRound(r)
	o.s.commit(t)
	o.deploys++
}

// solString formats lamports as SOL the way lamports_to_sol's f64 prints.
func solString(lamports uint64) string {
	return strconv.FormatFloat(float64(lamports)/lamportsPerSOL, 'f', -1, 64)
}

// checkpoint settles m's last round (ORE checkpoint), as its own instruction in t.
func (o *ore) checkpoint(t *txn, signer *account, m *oreMiner) {
	r := o.rounds[m.roundID]
	if r == nil {
		return
	}
	n := t.ix(o.progOre, o.ixData(o.ore, "checkpoint", nil), o.refs(o.ore, "checkpoint", map[string]*account{
		"signer": signer, "board": o.board, "miner": m.acct, "round": r.acct, "treasury": o.treasury,
	})...)
	n.cu = 9_000
	o.checkpointed++
	defer func() {
		o.writeMiner(m)
		o.writeTreasury()
	}()
	if r.closed {
		n.log("Round account is empty")
		m.checkpointID = m.roundID
		return
	}
	n.log("Round ID: " + strconv.FormatUint(r.id, 10))
	if o.s.slot >= r.expiresAt {
		n.log("Round expired")
		m.checkpointID = m.roundID
		return
	}
	var rewardsSol, rewardsOre uint64
	if rng, ok := r.rng(); ok {
		win := int(rng % oreSquares)
		if d := m.deployed[win]; d > 0 {
			fee := max(d/100, 1)
			rewardsSol = d - fee + mulDiv(r.totalWinnings, d, r.deployed[win])
			n.log("Base rewards: " + solString(rewardsSol) + " SOL")
			if r.topMiner == oreSplitAddress {
				rewardsOre = mulDiv(r.topReward, d, r.deployed[win])
			} else {
				sample := bits.Reverse64(rng) % r.deployed[win]
				if sample >= m.cumulative[win] && sample < m.cumulative[win]+d {
					rewardsOre = r.topReward
					r.topMiner = m.authority.key
					o.writeRound(r)
				}
			}
			if r.motherlode > 0 {
				rewardsOre += mulDiv(r.motherlode, d, r.deployed[win])
			}
		}
	} else {
		for _, d := range m.deployed {
			rewardsSol += d
		}
		n.log("Refunding " + solString(rewardsSol) + " SOL")
	}
	m.checkpointID = r.id
	m.rewardsOre += rewardsOre
	m.lifetimeOre += rewardsOre
	m.rewardsSol += rewardsSol
	m.lifetimeSol += rewardsSol
	o.tUnclaimed += rewardsOre
	if rewardsSol > r.acct.lamports-r.rent {
		rewardsSol = r.acct.lamports - r.rent
	}
	r.acct.lamports -= rewardsSol
	m.acct.lamports += rewardsSol
}

// mulDiv returns a*b/c computed in 128 bits, as ORE does with u128; it saturates when the quotient
// does not fit 64 bits.
func mulDiv(a, b, c uint64) uint64 {
	if c == 0 {
		return 0
	}
	hi, lo := bits.Mul64(a, b)
	if hi >= c {
		return ^uint64(0)
	}
	q, _ := bits.Div64(hi, lo, c)
	return q
}

func (o *ore) sample() {
	t := o.begin(o.provider)
	n := t.ix(o.progEnt, o.ixData(o.entropy, "sample", nil), o.refs(o.entropy, "sample", map[string]*account{
		"signer": o.provider, "var": o.varAcct,
	})...)
	n.cu = 3_100
	o.v.slotHash = o.slotHashOf(o.v.endAt)
	if o.v.samples > 0 {
		o.v.samples--
	}
	o.writeVar()
	o.s.commit(t)
	o.sampled = true
}

func (o *ore) reveal() {
	if o.chainPos > entropyChainLen {
		o.newChain()
	}
	seed := o.chain[o.chainPos]
	o.chainPos++
	t := o.begin(o.provider)
	n := t.ix(o.progEnt, o.ixData(o.entropy, "reveal", map[string]any{"seed": seed[:]}),
		o.refs(o.entropy, "reveal", map[string]*account{"signer": o.provider, "var": o.varAcct})...)
	n.cu = 4_800
	o.v.seed = seed
	o.v.value = keccak(o.v.slotHash[:], seed[:])
	o.writeVar()
	o.s.commit(t)
	o.revealed = true
}

// reset finalizes the current round and opens the next (ORE reset).
func (o *ore) reset() {
	r := o.round
	next, err := o.newRound(r.id+1, o.cranker.key)
	if err != nil {
		o.fail(err)
		return
	}
	t := o.begin(o.cranker)
	n := t.ix(o.progOre, o.ixData(o.ore, "reset", nil), o.refs(o.ore, "reset", map[string]*account{
		"signer": o.cranker, "board": o.board, "config": o.config, "feeCollector": o.feeCollector,
		"round": r.acct, "roundNext": next.acct, "topMiner": o.s.progs.system.acct, "treasury": o.treasury,
		"treasuryTokens": o.treasuryTokens, "entropyVar": o.varAcct, "mintAuthority": o.mintAuthority,
	})...)
	n.cu = 52_000
	n.log("Ore accounts: 14").log("Entropy accounts: 4")

	// Open the next round account.
	o.writeRound(next)
	t.cpi(n, o.s.progs.system, systemCreate(next.rent, uint64(len(next.acct.data)), OreProgramID), w(o.cranker), w(next.acct)).cu = 150
	o.cranker.lamports -= next.rent
	next.acct.lamports = next.rent

	r.slotHash = o.v.value
	n.log("var value: " + solana.Pubkey(o.v.value).String())
	adminFee := r.totalDeployed / 100
	var minted, vault, winSq uint64
	var rng uint64
	if x, ok := r.rng(); ok {
		rng = x
		win := int(rng % oreSquares)
		winSq = uint64(win)
		if r.deployed[win] == 0 {
			vault = r.totalDeployed - adminFee
			r.totalVaulted = vault
		} else {
			var winnings uint64
			for i, d := range r.deployed {
				if i != win {
					winnings += d
				}
			}
			winnings -= winnings / 100
			vault = winnings / 10
			r.totalWinnings = winnings - vault
			r.totalVaulted = vault
			r.topReward = oneORE
			o.mintORE(t, n, oneORE)
			minted += oneORE
			if isSplit(rng) {
				r.topMiner = oreSplitAddress
			}
			if bits.Reverse64(rng)%625 == 0 {
				r.motherlode = o.tMotherlode
				o.tMotherlode = 0
			}
			o.mintORE(t, n, oneORE/5)
			minted += oneORE / 5
			o.tMotherlode += oneORE / 5
		}
	} else {
		winSq = ^uint64(0)
		r.totalVaulted, r.totalWinnings, r.totalDeployed = 0, 0, 0
	}
	o.tBalance += vault
	o.logEvent(t, n, "ResetEvent", map[string]any{
		"disc": uint64(0), "round_id": r.id, "start_slot": o.boardStart, "end_slot": o.endSlot,
		"winning_square": winSq, "top_miner": &r.topMiner, "num_winners": countAt(r, winSq),
		"motherlode": r.motherlode, "total_deployed": r.totalDeployed, "total_vaulted": r.totalVaulted,
		"total_winnings": r.totalWinnings, "total_minted": minted, "ts": o.s.unixTime(), "rng": rng,
		"deployed_winning_square": deployedAt(r, winSq),
	})
	if r.acct.lamports >= r.rent+adminFee+vault {
		r.acct.lamports -= adminFee + vault
		o.feeCollector.lamports += adminFee
		o.treasury.lamports += vault
	}
	o.writeRound(r)
	o.writeTreasury()

	o.roundID = r.id + 1
	o.boardStart, o.endSlot = o.s.slot+1, ^uint64(0)
	o.epochID = o.roundID / 1440
	o.writeBoard()
	o.s.commit(t)
	o.round = next
	o.resets++
	for _, m := range o.miners {
		if m.roundID == r.id {
			o.pendingCheckpoint = append(o.pendingCheckpoint, m)
		}
	}
	if extra := len(o.pendingCheckpoint) - 4*o.maxMiners; extra > 0 {
		o.pendingCheckpoint = o.pendingCheckpoint[extra:]
	}
}

func countAt(r *oreRound, sq uint64) uint64 {
	if sq < oreSquares {
		return r.count[sq]
	}
	return 0
}

func deployedAt(r *oreRound, sq uint64) uint64 {
	if sq < oreSquares {
		return r.deployed[sq]
	}
	return 0
}

// isSplit is ORE's one-in-two split of the top-miner reward.
func isSplit(rng uint64) bool {
	x := bits.Reverse64(rng)
	v := uint16(x) ^ uint16(x>>16) ^ uint16(x>>32) ^ uint16(x>>48)
	return v%2 == 0
}

// mintORE mints amount into the treasury token account through the ORE mint program.
func (o *ore) mintORE(t *txn, parent *ixNode, amount uint64) {
	d := append([]byte{1}, le64(amount)...)
	mp := t.cpi(parent, o.progMt, d, w(o.mint.acct), w(o.treasuryTokens), w(o.mintAuthority), r(o.s.progs.token.acct))
	mp.cu = 3_000
	o.tc.mintToCPI(t, mp, o.mint, o.treasuryTokens, amount)
}

func (o *ore) claimSol(m *oreMiner) {
	t := o.begin(m.authority)
	n := t.ix(o.progOre, o.ixData(o.ore, "claimSol", nil), o.refs(o.ore, "claimSol", map[string]*account{
		"signer": m.authority, "miner": m.acct,
	})...)
	n.cu = 3_800
	amt := m.rewardsSol
	n.log("Claiming " + solString(amt) + " SOL")
	m.rewardsSol = 0
	m.lastClaimSol = o.s.unixTime()
	m.acct.lamports -= amt
	m.authority.lamports += amt
	o.writeMiner(m)
	o.s.commit(t)
}

func (o *ore) claimOre(m *oreMiner) {
	t := o.begin(m.authority)
	if m.ata == nil {
		m.ata = o.tc.newTokenAccount(m.authority, o.mint)
		m.ata.token.wallet = m.authority
		o.tc.createATA(t, m.authority, m.authority, m.ata, o.mint)
	}
	n := t.ix(o.progOre, o.ixData(o.ore, "claimOre", nil), o.refs(o.ore, "claimOre", map[string]*account{
		"signer": m.authority, "miner": m.acct, "recipient": m.ata, "treasury": o.treasury,
		"treasuryTokens": o.treasuryTokens,
	})...)
	n.cu = 12_000
	amt := m.rewardsOre
	m.refinedOre = 0
	m.rewardsOre = 0
	m.lastClaimOre = o.s.unixTime()
	if amt > o.treasuryTokens.token.amount {
		amt = o.treasuryTokens.token.amount
	}
	o.tc.transferCPI(t, n, o.treasury, o.treasuryTokens, m.ata, amt)
	if o.tUnclaimed >= amt {
		o.tUnclaimed -= amt
	}
	o.writeMiner(m)
	o.writeTreasury()
	o.s.commit(t)
}

func (o *ore) automate(m *oreMiner) {
	g := o.s.g
	a := &oreAutomation{
		amount:   10_000 * uint64(g.powerLaw(1000)+1),
		fee:      5_000,
		strategy: 0,
		mask:     uint64(1)<<g.intn(oreSquares) | uint64(1)<<g.intn(oreSquares) | uint64(1)<<g.intn(oreSquares),
		reload:   0,
		executor: o.executors[g.intn(len(o.executors))],
	}
	deposit := a.amount * 3 * 20
	a.balance = deposit
	if m.authority.lamports < deposit+lowBalance {
		m.authority.lamports += deposit + lamportsPerSOL
	}
	t := o.begin(m.authority)
	n := t.ix(o.progOre, o.ixData(o.ore, "automate", map[string]any{
		"amount": a.amount, "deposit": deposit, "fee": a.fee, "mask": a.mask, "strategy": a.strategy,
		"reload": a.reload,
	}), o.refs(o.ore, "automate", map[string]*account{
		"signer": m.authority, "automation": m.automation, "executor": a.executor, "miner": m.acct,
	})...)
	n.cu = 8_000
	m.auto = a
	o.writeAutomation(m)
	rent := RentExemptMinimum(len(m.automation.data))
	t.cpi(n, o.s.progs.system, systemCreate(rent, uint64(len(m.automation.data)), OreProgramID), w(m.authority), w(m.automation)).cu = 150
	t.cpi(n, o.s.progs.system, systemTransfer(deposit), w(m.authority), w(m.automation)).cu = 150
	m.authority.lamports -= rent + deposit
	m.automation.lamports = rent + deposit
	m.automation.owner = OreProgramID
	o.s.commit(t)
}

// closeExpired closes round accounts past their expiry, returning the rent to the payer.
func (o *ore) closeExpired() {
	var oldest *oreRound
	for _, r := range o.rounds {
		if r.closed || r == o.round || r.expiresAt == ^uint64(0) || o.s.slot < r.expiresAt {
			continue
		}
		if oldest == nil || r.id < oldest.id {
			oldest = r
		}
	}
	if oldest != nil {
		o.closeRound(oldest) // at most one per slot
	}
}

func (o *ore) closeRound(r *oreRound) {
	t := o.begin(o.cranker)
	payer := o.cranker // every round's rent payer is the crank that opened it
	n := t.ix(o.progOre, o.ixData(o.ore, "close", nil), o.refs(o.ore, "close", map[string]*account{
		"signer": o.cranker, "board": o.board, "rentPayer": payer, "round": r.acct, "treasury": o.treasury,
	})...)
	n.cu = 4_000
	payer.lamports += r.rent
	o.treasury.lamports += r.acct.lamports - r.rent
	o.tBalance += r.acct.lamports - r.rent
	r.acct.lamports = 0
	r.acct.data = nil
	r.acct.owner = systemProgramID
	r.closed = true
	o.writeTreasury()
	o.s.commit(t)
}
