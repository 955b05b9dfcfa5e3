package vm

import (
	"encoding/binary"
	"math"
	"sort"
	"strconv"

	"github.com/mr-tron/base58"
	"golang.org/x/crypto/sha3"

	"github.com/hyperstack-go/hyperstack/internal/solana"
)

// ResolverKind names a kind of question the Machine asks outside the event stream.
type ResolverKind string

const (
	// ResolveToken asks for token metadata; the key is the mint (base58) and the answer a JSON object
	// {"decimals","logo_uri","mint","name","symbol"}.
	ResolveToken ResolverKind = "token"
	// ResolveURL asks for a JSON document; the key is "<method> <url>" ("get https://...").
	ResolveURL ResolverKind = "url"
	// ResolveSlotHash asks for the hash of a slot the SlotHashes sysvar did not supply; the key is the
	// slot in decimal and the answer a JSON string (base58).
	ResolveSlotHash ResolverKind = "slot_hash"
	// ResolveBlockTime asks for the unix time of a slot (the ContextTimestamp of computed fields and
	// the timestamp of captures); the key is the slot in decimal and the answer a JSON integer.
	ResolveBlockTime ResolverKind = "block_time"
)

// Resolvers answers the Machine's questions. Resolve must not block for long: it returns what is
// known now, and ok=false when the answer is not available (yet). An answer that becomes available
// later is handed to the Machine with Deliver. Answers are JSON documents.
//
// Resolve is called from the goroutine running the Machine.
type Resolvers interface {
	Resolve(kind ResolverKind, key string) (answer []byte, ok bool)
}

// Answers is a fixed set of answers: kind → key → JSON. It is the Resolvers of a replay that feeds the
// Machine the answers recorded during a live run (see Config.OnResolve).
type Answers map[ResolverKind]map[string][]byte

// Resolve implements Resolvers.
func (a Answers) Resolve(kind ResolverKind, key string) ([]byte, bool) {
	v, ok := a[kind][key]
	return v, ok
}

// Set records an answer.
func (a Answers) Set(kind ResolverKind, key string, answer []byte) {
	m := a[kind]
	if m == nil {
		m = map[string][]byte{}
		a[kind] = m
	}
	m[key] = append([]byte(nil), answer...)
}

// TokenMetadata is what the token resolver knows about a mint.
type TokenMetadata struct {
	Name     string
	Symbol   string
	Decimals uint8
	LogoURI  string
}

// StaticResolvers answers token-metadata questions from a fixed table (mint → metadata) and passes
// every other question to Next (nil: unknown). It works offline and deterministically.
type StaticResolvers struct {
	Tokens map[string]TokenMetadata
	Next   Resolvers
}

// Resolve implements Resolvers.
func (s *StaticResolvers) Resolve(kind ResolverKind, key string) ([]byte, bool) {
	if kind == ResolveToken {
		if t, ok := s.Tokens[key]; ok {
			return TokenAnswer(key, t), true
		}
	}
	if s.Next != nil {
		return s.Next.Resolve(kind, key)
	}
	return nil, false
}

// TokenAnswer renders token metadata as the token resolver's JSON answer (keys sorted, empty strings
// as null).
func TokenAnswer(mint string, t TokenMetadata) []byte {
	obj := map[string]any{"mint": mint, "decimals": uint64(t.Decimals), "name": nil, "symbol": nil, "logo_uri": nil}
	if t.Name != "" {
		obj["name"] = t.Name
	}
	if t.Symbol != "" {
		obj["symbol"] = t.Symbol
	}
	if t.LogoURI != "" {
		obj["logo_uri"] = t.LogoURI
	}
	return appendJSON(nil, obj)
}

// SlotHashesSysvar is the address of the SlotHashes sysvar, whose updates fill the Machine's slot-hash
// cache: a u64 little-endian count, then entries of slot (u64 LE) and hash (32 bytes).
var SlotHashesSysvar = solana.MustPubkey("SysvarS1otHashes111111111111111111111111111")

const slotHashCacheSize = 1000

// slotHashes is a bounded slot → hash cache; when full, the oldest quarter is dropped.
type slotHashes struct {
	m   map[uint64][32]byte
	max uint64
}

func (s *slotHashes) ingest(data []byte) int {
	if len(data) < 8 {
		return 0
	}
	n := binary.LittleEndian.Uint64(data)
	if n > uint64(len(data)-8)/40 {
		n = uint64(len(data)-8) / 40
	}
	if s.m == nil {
		s.m = make(map[uint64][32]byte, slotHashCacheSize)
	}
	added := 0
	for i := uint64(0); i < n; i++ {
		off := 8 + i*40
		slot := binary.LittleEndian.Uint64(data[off:])
		if _, ok := s.m[slot]; ok {
			continue
		}
		var h [32]byte
		copy(h[:], data[off+8:off+40])
		s.m[slot] = h
		if slot > s.max {
			s.max = slot
		}
		added++
	}
	if len(s.m) > slotHashCacheSize {
		s.prune()
	}
	return added
}

// prune drops the oldest slots, keeping the newest three quarters of the cache size.
func (s *slotHashes) prune() {
	slots := make([]uint64, 0, len(s.m))
	for k := range s.m {
		slots = append(slots, k)
	}
	sort.Slice(slots, func(i, j int) bool { return slots[i] < slots[j] })
	keep := slotHashCacheSize * 3 / 4
	for _, k := range slots[:len(slots)-keep] {
		delete(s.m, k)
	}
}

// slotHash returns the hash of slot from the sysvar cache, else from the resolvers.
func (m *Machine) slotHash(slot uint64) ([32]byte, bool) {
	if h, ok := m.hashes.m[slot]; ok {
		return h, true
	}
	// Ask the resolvers at most once per slot of the stream for the same missing hash.
	if m.hashMiss.ok && m.hashMiss.slot == slot && m.hashMiss.at == m.maxSlot && m.hashMiss.gen == m.answerGen {
		return [32]byte{}, false
	}
	ans, ok := m.answer(ResolveSlotHash, strconv.FormatUint(slot, 10))
	if !ok {
		m.hashMiss = missMemo{slot: slot, at: m.maxSlot, gen: m.answerGen, ok: true}
		return [32]byte{}, false
	}
	s, _ := ans.(string)
	b, err := base58.Decode(s)
	if err != nil || len(b) != 32 {
		return [32]byte{}, false
	}
	var h [32]byte
	copy(h[:], b)
	return h, true
}

// blockTime returns the unix time of slot (int64), or nil when unknown.
func (m *Machine) blockTime(slot uint64) any {
	if slot == m.tsSlot && m.tsKnown {
		return m.tsVal
	}
	var v any
	if ans, ok := m.answer(ResolveBlockTime, strconv.FormatUint(slot, 10)); ok {
		if i, ok := asI64(ans); ok {
			v = i
		}
	}
	m.tsSlot, m.tsVal, m.tsKnown = slot, v, true
	return v
}

// builtinResolvers are the resolver functions of computed fields. Arguments are JSON values.
var builtinResolvers = map[string]func(m *Machine, args *[3]any) (any, error){
	"TokenMetadata.ui_amount":  uiAmount,
	"TokenMetadata.raw_amount": rawAmount,
	"SlotHash.slot_hash":       (*Machine).slotHashValue,
	"SlotHash.keccak_rng":      keccakRng,
}

var pow10 = func() (t [256]float64) {
	for i := range t {
		t[i] = math.Pow(10, float64(i))
	}
	return t
}()

func uiAmount(m *Machine, args *[3]any) (any, error) {
	raw, ok1 := optionalF64(args[0])
	dec, ok2 := optionalU8(args[1])
	if !ok1 || !ok2 {
		return nil, nil
	}
	r, ok := uiAmountF64(raw, dec)
	if !ok {
		return nil, cerr("ui_amount is not finite")
	}
	return m.box.f64(r), nil
}

// uiAmountF64 is raw / 10^dec; ok is false when that is not finite.
func uiAmountF64(raw float64, dec uint8) (float64, bool) {
	r := raw / pow10[dec]
	return r, !math.IsNaN(r) && !math.IsInf(r, 0)
}

func rawAmount(_ *Machine, args *[3]any) (any, error) {
	ui, ok1 := optionalF64(args[0])
	dec, ok2 := optionalU8(args[1])
	if !ok1 || !ok2 {
		return nil, nil
	}
	r := math.Round(ui * pow10[dec])
	if math.IsNaN(r) || r < 0 || r > math.MaxUint64 {
		return nil, cerr("raw_amount out of range")
	}
	return uint64(r), nil
}

// slotHashValue is SlotHash.slot_hash: {"bytes": [32 numbers]} or null.
func (m *Machine) slotHashValue(args *[3]any) (any, error) {
	slot, ok := asU64(args[0])
	if !ok || slot == 0 {
		return nil, nil
	}
	h, ok := m.slotHash(slot)
	if !ok {
		return nil, nil
	}
	arr := make([]any, 32)
	for i, b := range h {
		arr[i] = uint64(b)
	}
	return map[string]any{"bytes": arr}, nil
}

// keccakRng is SlotHash.keccak_rng: keccak256(slot_hash ‖ seed ‖ samples LE) folded by XOR of its
// four little-endian u64 words; null unless both byte arrays have 32 entries.
func keccakRng(m *Machine, args *[3]any) (any, error) {
	a0 := args[0]
	if obj, ok := a0.(map[string]any); ok {
		a0 = obj["bytes"]
	}
	hash, ok1 := toBytes(a0)
	seed, ok2 := toBytes(args[1])
	samples, ok3 := asU64(args[2])
	if !ok1 || !ok2 || !ok3 || len(hash) != 32 || len(seed) != 32 {
		return nil, nil
	}
	var in [72]byte
	copy(in[:32], hash)
	copy(in[32:64], seed)
	binary.LittleEndian.PutUint64(in[64:], samples)
	h := sha3.NewLegacyKeccak256()
	h.Write(in[:])
	d := h.Sum(nil)
	r := binary.LittleEndian.Uint64(d[0:]) ^ binary.LittleEndian.Uint64(d[8:]) ^
		binary.LittleEndian.Uint64(d[16:]) ^ binary.LittleEndian.Uint64(d[24:])
	return m.box.u64(r), nil
}

func optionalF64(v any) (float64, bool) {
	switch x := v.(type) {
	case string:
		f, err := strconv.ParseFloat(x, 64)
		return f, err == nil
	}
	return asF64(v)
}

func optionalU8(v any) (uint8, bool) {
	switch x := v.(type) {
	case string:
		u, err := strconv.ParseUint(x, 10, 8)
		return uint8(u), err == nil
	}
	u, ok := asU64(v)
	if !ok || u > 255 {
		return 0, false
	}
	return uint8(u), true
}

// missMemo remembers the last slot hash that could not be found, until the stream moves on or an
// answer is delivered.
type missMemo struct {
	slot, at, gen uint64
	ok            bool
}
