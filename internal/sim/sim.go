package sim

import (
	"fmt"
	"io"
	"time"

	"github.com/charmbracelet/log"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/hyperstack-go/hyperstack/internal/geyserpb"
	"github.com/hyperstack-go/hyperstack/internal/idl"
	"github.com/hyperstack-go/hyperstack/internal/solana"
)

// The scenario names New accepts.
const (
	ScenarioSPLToken = "spl-token"
	ScenarioOre      = "ore"
)

// Scenarios lists the scenario names, in the order help texts show them.
func Scenarios() []string { return []string{ScenarioSPLToken, ScenarioOre} }

// Chain constants.
const (
	// DefaultStartSlot is the first slot when Options.StartSlot is zero (mainnet reached it in early
	// 2026).
	DefaultStartSlot = 400_000_000
	// SlotDuration is mainnet's target slot time; Run paces slots at it by default.
	SlotDuration = 400 * time.Millisecond

	// A known mainnet point (slot, block time, block height) the simulated clock is anchored to.
	anchorSlot        = 398_202_772
	anchorUnix        = 1_770_287_039
	anchorBlockHeight = 376_320_340

	// Commitment lags: a slot is confirmed one slot after it is processed and finalized 31 slots after
	// it is confirmed, roughly as on mainnet.
	confirmLag  = 1
	finalizeLag = 31

	// The write_version of the first account update (a validator's counter is large and rising).
	firstWriteVersion = 1_650_000_000_000
	validatorCount    = 64
	lookupTableCount  = 16
)

// Options tune a generator. The zero value is valid: scenario defaults, no end.
type Options struct {
	// Logger receives progress at debug level; nil is silent.
	Logger *log.Logger
	// StartSlot is the first slot; 0 means DefaultStartSlot.
	StartSlot uint64
	// Slots is how many slots to generate before Next returns io.EOF; 0 means no end.
	Slots uint64
	// TxPerSlot is the mean number of program transactions per slot (Poisson-distributed); 0 means the
	// scenario's default (spl-token 40, ore 24).
	TxPerSlot float64
	// Interslot adds the FIRST_SHRED_RECEIVED, CREATED_BANK and COMPLETED slot statuses a validator
	// reports besides PROCESSED, CONFIRMED and FINALIZED.
	Interslot bool
	// SkipRate is the probability that a leader skips its slot (no block; the next slot's parent
	// skips it). 0 means none.
	SkipRate float64
	// IDLs are the program IDLs. spl-token uses the built-in SPL Token IDL unless one named
	// "spl_token" (or with the Token program's address) is given; ore needs the ore and entropy IDLs
	// (idl.ParseStack of OreStream.stack.json yields both).
	IDLs []*idl.IDL
	// Population is the largest number of wallets (spl-token) or miners (ore) the scenario creates;
	// 0 means the default (spl-token 50,000, ore 2,000).
	Population int
	// RoundSlots is the length of an ORE round in slots; 0 means 150 (one minute).
	RoundSlots uint64
}

// Stats counts what a generator has produced so far.
type Stats struct {
	Slots              uint64
	Updates            uint64
	AccountUpdates     uint64
	Transactions       uint64
	FailedTransactions uint64
	SlotUpdates        uint64
	BlockMetas         uint64
}

// scenario generates one program's traffic.
type scenario interface {
	// slot adds the transactions of the current slot (s.slot) through s.tx / s.commit.
	slot(s *Sim) error
	// startSlot runs before the slot's transactions (sysvar writes).
	startSlot(s *Sim)
}

type slotRef struct{ slot, parent uint64 }

// Sim generates the update stream of one scenario. It is not safe for concurrent use.
type Sim struct {
	opts     Options
	log      *log.Logger
	scenario string
	scen     scenario
	g        *gen
	progs    programs
	luts     []solana.Pubkey
	leaders  []*account
	owners   map[solana.Pubkey][]byte

	// Chain state of the slot being generated.
	slot, parent    uint64
	nextSlot        uint64
	blockHeight     uint64
	slotStart       int64 // unix nanoseconds
	blockhash       []byte
	blockhashB58    string
	parentHashB58   string
	recentBlockhash []byte
	bankHash        []byte
	prevBankHash    []byte
	txIndex         uint64
	blockFees       uint64
	writeVersion    uint64
	slotUpdates     int64
	unconfirmed     []slotRef
	unfinalized     []slotRef

	queue  []*geyserpb.SubscribeUpdate
	head   int
	done   bool
	err    error
	stats  Stats
	txPool *txn
	slab   slabs
}

// New builds the generator of a scenario ("spl-token" or "ore") for a seed.
func New(scenarioName string, seed uint64, opts Options) (*Sim, error) {
	if opts.SkipRate < 0 || opts.SkipRate >= 1 {
		return nil, fmt.Errorf("skip rate %v: want [0, 1): %w", opts.SkipRate, ErrBadOptions)
	}
	if opts.TxPerSlot < 0 || opts.Population < 0 {
		return nil, fmt.Errorf("negative tx rate or population: %w", ErrBadOptions)
	}
	if opts.StartSlot == 0 {
		opts.StartSlot = DefaultStartSlot
	}
	s := &Sim{
		opts:         opts,
		log:          opts.Logger,
		scenario:     scenarioName,
		g:            newGen(seed, 1),
		progs:        newPrograms(),
		owners:       map[solana.Pubkey][]byte{},
		nextSlot:     opts.StartSlot,
		parent:       opts.StartSlot - 1,
		writeVersion: firstWriteVersion,
		slab:         newSlabs(),
	}
	if s.log == nil {
		s.log = log.New(io.Discard)
	}
	if opts.StartSlot > anchorSlot-anchorBlockHeight {
		s.blockHeight = opts.StartSlot - (anchorSlot - anchorBlockHeight)
	} else {
		s.blockHeight = opts.StartSlot
	}
	s.parentHashB58, s.recentBlockhash = s.newHash()
	s.luts = make([]solana.Pubkey, lookupTableCount)
	for i := range s.luts {
		s.luts[i] = s.g.newKey()
	}
	s.leaders = make([]*account, validatorCount)
	for i := range s.leaders {
		s.leaders[i] = s.g.newWallet(s.g.between(20e9, 2_000e9))
	}
	var err error
	switch scenarioName {
	case ScenarioSPLToken:
		s.scen, err = newSPLToken(s, opts)
	case ScenarioOre:
		s.scen, err = newOre(s, opts)
	default:
		return nil, fmt.Errorf("%q (known: %v): %w", scenarioName, Scenarios(), ErrUnknownScenario)
	}
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Scenario returns the scenario name.
func (s *Sim) Scenario() string { return s.scenario }

// Stats returns the counts so far.
func (s *Sim) Stats() Stats { return s.stats }

// Slot returns the last slot generated (0 before the first).
func (s *Sim) Slot() uint64 { return s.slot }

// Next returns the next update, or io.EOF once Options.Slots slots (and their trailing confirmed and
// finalized statuses) have been produced. An update belongs to the caller; the generator never
// touches it again.
func (s *Sim) Next() (*geyserpb.SubscribeUpdate, error) {
	if !s.fill() {
		if s.err != nil {
			return nil, s.err
		}
		return nil, io.EOF
	}
	u := s.queue[s.head]
	s.queue[s.head] = nil
	s.head++
	return u, nil
}

// fill generates slots until the queue holds an update not handed out yet; false when the
// generator has ended or failed (s.err).
func (s *Sim) fill() bool {
	for s.head >= len(s.queue) {
		if s.err != nil || s.done {
			return false
		}
		s.resetQueue()
		s.step()
	}
	return true
}

// resetQueue empties the queue (dropping its references) for the next slot.
func (s *Sim) resetQueue() {
	clear(s.queue)
	s.queue, s.head = s.queue[:0], 0
}

func (s *Sim) newHash() (string, []byte) {
	h := make([]byte, 32)
	s.g.fill(h)
	var p solana.Pubkey
	copy(p[:], h)
	return p.String(), h
}

// step generates the next slot, or the trailing statuses after the last one.
func (s *Sim) step() {
	if s.opts.Slots > 0 && s.stats.Slots >= s.opts.Slots {
		for _, r := range s.unconfirmed {
			s.emitSlot(r, geyserpb.SlotStatus_SLOT_CONFIRMED)
			s.unfinalized = append(s.unfinalized, r)
		}
		for _, r := range s.unfinalized {
			s.emitSlot(r, geyserpb.SlotStatus_SLOT_FINALIZED)
		}
		s.unconfirmed, s.unfinalized = nil, nil
		s.done = true
		return
	}
	for s.opts.SkipRate > 0 && s.stats.Slots > 0 && s.g.chance(s.opts.SkipRate) {
		s.nextSlot++
	}
	s.slot = s.nextSlot
	s.nextSlot++
	s.slotStart = slotTime(s.slot)
	s.slotUpdates = 0
	s.txIndex = 0
	s.blockFees = 0
	s.blockhashB58, s.blockhash = s.newHash()
	s.bankHash = make([]byte, 32)
	s.g.fill(s.bankHash)
	ref := slotRef{slot: s.slot, parent: s.parent}

	if s.opts.Interslot {
		s.emitSlot(ref, geyserpb.SlotStatus_SLOT_FIRST_SHRED_RECEIVED)
		s.emitSlot(ref, geyserpb.SlotStatus_SLOT_CREATED_BANK)
	}
	s.scen.startSlot(s)
	if err := s.scen.slot(s); err != nil {
		s.err = fmt.Errorf("%s slot %d: %w", s.scenario, s.slot, err)
		return
	}
	if s.opts.Interslot {
		s.emitSlot(ref, geyserpb.SlotStatus_SLOT_COMPLETED)
	}
	s.emitSlot(ref, geyserpb.SlotStatus_SLOT_PROCESSED)
	s.emitBlockMeta()

	s.unconfirmed = append(s.unconfirmed, ref)
	for len(s.unconfirmed) > confirmLag {
		c := s.unconfirmed[0]
		s.unconfirmed = s.unconfirmed[1:]
		s.emitSlot(c, geyserpb.SlotStatus_SLOT_CONFIRMED)
		s.unfinalized = append(s.unfinalized, c)
	}
	for len(s.unfinalized) > finalizeLag {
		f := s.unfinalized[0]
		s.unfinalized = s.unfinalized[1:]
		s.emitSlot(f, geyserpb.SlotStatus_SLOT_FINALIZED)
	}

	s.parent = s.slot
	s.prevBankHash = s.bankHash
	s.parentHashB58 = s.blockhashB58
	s.recentBlockhash = s.blockhash
	s.blockHeight++
	s.stats.Slots++
	if s.stats.Slots%10_000 == 0 {
		s.log.Debug("simulated", "scenario", s.scenario, "slot", s.slot, "updates", s.stats.Updates)
	}
}

// slotTime is the start of a slot in unix nanoseconds on the simulated clock.
func slotTime(slot uint64) int64 {
	return anchorUnix*int64(time.Second) + (int64(slot)-anchorSlot)*int64(SlotDuration)
}

// unixTime is the unix timestamp (Clock::unix_timestamp) of the current slot.
func (s *Sim) unixTime() int64 { return s.slotStart / int64(time.Second) }

// SlotTime returns the wall time the simulated chain assigns to the start of a slot.
func SlotTime(slot uint64) time.Time { return time.Unix(0, slotTime(slot)).UTC() }

// emit queues u with its created_at (ts, allocated with the update) on the slot's clock.
func (s *Sim) emit(u *geyserpb.SubscribeUpdate, ts *timestamppb.Timestamp) {
	off := min(s.slotUpdates*int64(20*time.Microsecond), int64(SlotDuration)-1)
	t := s.slotStart + off
	ts.Seconds, ts.Nanos = t/int64(time.Second), int32(t%int64(time.Second))
	u.CreatedAt = ts
	s.slotUpdates++
	s.queue = append(s.queue, u)
	s.stats.Updates++
}

// slotMsg and accountMsg are the memory of one slot or account update, allocated at once.
type slotMsg struct {
	u      geyserpb.SubscribeUpdate
	w      geyserpb.SubscribeUpdate_Slot
	s      geyserpb.SubscribeUpdateSlot
	ts     timestamppb.Timestamp
	parent uint64
}

type accountMsg struct {
	u  geyserpb.SubscribeUpdate
	w  geyserpb.SubscribeUpdate_Account
	a  geyserpb.SubscribeUpdateAccount
	i  geyserpb.SubscribeUpdateAccountInfo
	ts timestamppb.Timestamp
}

func (s *Sim) emitSlot(r slotRef, st geyserpb.SlotStatus) {
	m := s.slab.slots.one()
	m.parent = r.parent
	m.s.Slot, m.s.Parent, m.s.Status = r.slot, &m.parent, st
	m.w.Slot = &m.s
	m.u.UpdateOneof = &m.w
	s.emit(&m.u, &m.ts)
	s.stats.SlotUpdates++
}

// ownerBytes returns a shared, never-modified byte slice for an owner address.
func (s *Sim) ownerBytes(p solana.Pubkey) []byte {
	// The two owners most account updates carry, without the map.
	switch p {
	case tokenProgramID:
		return tokenProgramID[:]
	case systemProgramID:
		return systemProgramID[:]
	}
	b, ok := s.owners[p]
	if !ok {
		// A copy, so that p does not escape (which would cost every call an allocation).
		b = append([]byte(nil), p[:]...)
		s.owners[p] = b
	}
	return b
}

// emitAccount sends the current state of a, written by the transaction sig (nil: not by a
// transaction).
func (s *Sim) emitAccount(a *account, sig []byte) {
	s.writeVersion++
	m := s.slab.accounts.one()
	i := &m.i
	i.Pubkey, i.Lamports, i.Owner, i.Executable = a.key[:], a.lamports, s.ownerBytes(a.owner), a.executable
	i.RentEpoch, i.Data, i.WriteVersion, i.TxnSignature = a.rentEpoch, a.data, s.writeVersion, sig
	m.a.Slot, m.a.Account = s.slot, &m.i
	m.w.Account = &m.a
	m.u.UpdateOneof = &m.w
	s.emit(&m.u, &m.ts)
	s.stats.AccountUpdates++
}

func (s *Sim) emitBlockMeta() {
	leader := s.leaders[(s.slot/4)%uint64(len(s.leaders))]
	reward := s.blockFees / 2
	leader.lamports += reward
	var rewards []*geyserpb.Reward
	if reward > 0 {
		rewards = []*geyserpb.Reward{{
			Pubkey: leader.base58(), Lamports: int64(reward), PostBalance: leader.lamports,
			RewardType: geyserpb.RewardType_Fee,
		}}
	}
	s.emit(&geyserpb.SubscribeUpdate{UpdateOneof: &geyserpb.SubscribeUpdate_BlockMeta{
		BlockMeta: &geyserpb.SubscribeUpdateBlockMeta{
			Slot:                     s.slot,
			Blockhash:                s.blockhashB58,
			Rewards:                  &geyserpb.Rewards{Rewards: rewards},
			BlockTime:                &geyserpb.UnixTimestamp{Timestamp: s.slotStart / int64(time.Second)},
			BlockHeight:              &geyserpb.BlockHeight{BlockHeight: s.blockHeight},
			ParentSlot:               s.parent,
			ParentBlockhash:          s.parentHashB58,
			ExecutedTransactionCount: s.txIndex,
			EntriesCount:             64 + (s.txIndex+63)/64,
		},
	}}, &timestamppb.Timestamp{})
	s.stats.BlockMetas++
}
