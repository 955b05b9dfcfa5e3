package vm

import (
	"github.com/hyperstack-go/hyperstack/internal/idl"
	"github.com/hyperstack-go/hyperstack/internal/solana"
	"github.com/hyperstack-go/hyperstack/internal/stack"
)

// Instr is one instruction: an opcode and three operands whose meaning the opcode defines.
type Instr struct {
	Op      Opcode
	A, B, C uint32
}

// Program is a compiled stack: the bytecode of every handler, the pools its operands index, the
// routing of event types to handlers, and the decoders of the stack's programs. A Program is immutable
// after Compile and may be shared by any number of Machines.
type Program struct {
	// Name is the stack name.
	Name string
	// Code holds every handler's instructions; a handler is the range [Start, End).
	Code []Instr
	// Locs[pc] is the spec location the instruction at pc was compiled from, e.g.
	// "entities[0].handlers[2].mappings[1]".
	Locs []string
	// Consts is the constant pool (runtime values, see value.go).
	Consts []any
	// Paths is the path pool (event and state paths).
	Paths []Path
	// Targets are the state paths written by field-write opcodes.
	Targets []Target
	// Programs are the on-chain programs of the stack, in IDL order.
	Programs []*ProgramInfo
	// Entities are the state tables, in declaration order (index = state id).
	Entities []*Entity
	// Handlers are the compiled handlers and hooks.
	Handlers []*Handler
	// Routes maps an event type ("ore::RoundState") to what runs for it.
	Routes map[string]*Route
	// Warnings are non-fatal compile findings (ignored conditions, unsupported strategies).
	Warnings []string

	emitPaths []*emitPath // every emitted state path of every entity (index = emitPath.id)
	// evField[pc] is, for an OpLoadEvent of an account handler, 1 + the index of the account field
	// its path starts with, -1 when it starts with no field (the value is absent), 0 to read the path
	// through the event's object.
	evField   []int32
	conds     []condition
	whens     []whenSpec
	resolvers []*resolverSpec
	typeNames []string // event-type ids → names
	typeIDs   map[string]int
}

// Path is an interned dotted path.
type Path struct {
	Segs []string
	Text string
}

// Target is a state path written by a field-write opcode; Emit is false for paths that are stored but
// never appear in patches.
type Target struct {
	Path
	Emit bool
	// Affects has the bits of the entity's computed-field read paths this path overlaps: writing it
	// makes the computed fields that read them stale.
	Affects uint64

	ep   *emitPath // when Emit
	sec  int32     // the entity's section id of Segs[0] when Segs has more than one segment, else -1
	slot int32     // the slot of Segs[1] in that section's record (see Entity.slotOf)
}

// ProgramInfo is one on-chain program of the stack and its decoder.
type ProgramInfo struct {
	// Name is the IDL name used in event types ("ore").
	Name string
	ID   solana.Pubkey
	IDL  *idl.IDL

	accounts map[string]*Route // account name → route
	ixs      map[string]*Route // instruction name → route
	events   map[string]*Route // event name → route
}

// Entity is one state table of the compiled stack.
type Entity struct {
	Name    string
	StateID int
	// PrimaryKey is the dotted path of the primary key ("id.round_id").
	PrimaryKey string
	// Indexes are the lookup indexes ("round_address_lookup_index"), in declaration order.
	Indexes []IndexInfo
	// Computed lists the computed-field paths in evaluation order.
	Computed []string
	// Views lists the view ids the spec declares (evaluated by the server, not the VM).
	Views []string

	sections []*computedSection
	// secIDs numbers the top-level state keys that hold objects of written paths (sections), for the
	// Machine's per-run section cache; secNames is the reverse.
	secIDs     map[string]int32
	secNames   []string
	secShapes  []*secShape     // by section id: the keys of the section record
	readPaths  []string        // state paths computed fields read; bit i of a mask is readPaths[i]
	hasPdaHook map[string]bool // account event types with a PdaReverseLookup resolver hook
	// directField maps account event types with a DirectField resolver hook to the field path that
	// gives their lookup input.
	directField map[string][]string
}

// secID returns the section id of a top-level state key, assigning one.
func (e *Entity) secID(name string) int32 {
	if id, ok := e.secIDs[name]; ok {
		return id
	}
	if e.secIDs == nil {
		e.secIDs = map[string]int32{}
	}
	id := int32(len(e.secNames))
	e.secIDs[name] = id
	e.secNames = append(e.secNames, name)
	e.secShapes = append(e.secShapes, &secShape{index: map[string]int32{}})
	return id
}

// slotOf returns the section id of segs[0] and the slot of segs[1] in its section record, when
// segs has more than one segment; else -1, -1.
func (e *Entity) slotOf(segs []string) (sec, slot int32) {
	if len(segs) < 2 {
		return -1, -1
	}
	sec = e.secID(segs[0])
	return sec, e.secShapes[sec].slot(segs[1])
}

// finishSections orders the keys of the entity's section records; no key can be added after.
func (e *Entity) finishSections() {
	for _, s := range e.secShapes {
		s.finish()
	}
}

// IndexInfo is a lookup index of an entity.
type IndexInfo struct {
	Name  string
	Field string
}

// HandlerKind tells what a Handler is.
type HandlerKind uint8

const (
	// HandlerMapping is a compiled handler of the spec (possibly merged from several).
	HandlerMapping HandlerKind = iota
	// HandlerHookOnly is synthesised from instruction-hook field actions for a type without a handler.
	HandlerHookOnly
	// HandlerPdaHook registers PDA reverse lookups after the event's handlers ran.
	HandlerPdaHook
)

// Handler is a range of Code run for one event type on one entity.
type Handler struct {
	Kind      HandlerKind
	Entity    int
	EventType string
	// Loc is the spec location ("entities[0].handlers[1]").
	Loc        string
	Start, End int
	IsAccount  bool
	Emit       bool

	typeID int
}

// Route is what runs for one event type.
type Route struct {
	EventType string
	// Handlers run in entity order; Hooks run after them.
	Handlers []*Handler
	Hooks    []*Handler
	// When is set when some mapping waits for this instruction type ("when").
	When bool

	typeID    int
	isAccount bool
	program   *ProgramInfo
	ixDef     *idl.InstructionDef
	acct      *idl.AccountDef // account routes
	shape     *recordShape    // of acct's records
	argShape  *recordShape    // of ixDef's argument records
}

// condition compares an event field with a literal.
type condition struct {
	Path  []string
	Text  string
	Op    stack.ComparisonOp
	Value any
	// Logical (And, Or) combines the conditions Subs instead.
	Logical stack.LogicalOp
	Subs    []int
}

// whenSpec is the operand of OpSetWhen.
type whenSpec struct {
	EventType string
	typeID    int
	Cond      int // index into conds, -1 for none
}

// transformation is the C operand of OpTransform / OpObjTransform.
type transformation uint32

const (
	trNone transformation = iota
	trHexEncode
	trHexDecode
	trBase58Encode
	trBase58Decode
	trToString
	trToNumber
)

var transformNames = [...]string{"None", "HexEncode", "HexDecode", "Base58Encode", "Base58Decode", "ToString", "ToNumber"}

func (t transformation) String() string {
	if int(t) < len(transformNames) {
		return transformNames[t]
	}
	return "Transform?"
}

// resolverSpec is a compiled resolver_specs entry.
type resolverSpec struct {
	Loc         string
	Kind        ResolverKind // ResolveToken or ResolveURL
	Method      string       // "get"/"post" for URL resolvers
	Template    []templatePart
	URLPath     []string // URL read from a state path
	Input       any      // input_value
	InputPath   []string
	SetOnce     bool
	Extracts    []extract
	Cond        *stateCond
	Schedule    []string // schedule_at state path
	ExtractPath string

	urlLoc, inputLoc, schedLoc pathLoc
}

type templatePart struct {
	Literal string
	Ref     []string // nil for a literal
	ref     pathLoc
}

// pathLoc locates a state path in a row's section records (see Entity.slotOf).
type pathLoc struct{ sec, slot int32 }

type extract struct {
	Target    Target
	Source    []string // nil: the whole answer
	Transform transformation
}

type stateCond struct {
	Path  []string
	Op    stack.ComparisonOp
	Value any
	loc   pathLoc
}
