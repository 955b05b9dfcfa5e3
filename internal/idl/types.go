package idl

import (
	"strconv"
	"strings"

	"github.com/hyperstack-go/hyperstack/internal/solana"
)

// Kind is the kind of an IDL type expression.
type Kind uint8

// The type kinds. KindDefined refers to a TypeDef by name; KindGeneric to a generic parameter of the
// enclosing type definition (substituted when the layout is resolved).
const (
	KindInvalid Kind = iota
	KindBool
	KindU8
	KindI8
	KindU16
	KindI16
	KindU32
	KindI32
	KindU64
	KindI64
	KindU128
	KindI128
	KindU256
	KindI256
	KindF32
	KindF64
	KindString
	KindBytes
	KindPubkey
	KindOption
	KindCOption
	KindVec
	KindArray
	KindHashMap
	KindHashSet
	KindDefined
	KindGeneric
)

var kindNames = [...]string{
	KindInvalid: "invalid", KindBool: "bool", KindU8: "u8", KindI8: "i8", KindU16: "u16", KindI16: "i16",
	KindU32: "u32", KindI32: "i32", KindU64: "u64", KindI64: "i64", KindU128: "u128", KindI128: "i128",
	KindU256: "u256", KindI256: "i256", KindF32: "f32", KindF64: "f64", KindString: "string",
	KindBytes: "bytes", KindPubkey: "pubkey", KindOption: "option", KindCOption: "coption",
	KindVec: "vec", KindArray: "array", KindHashMap: "hashMap", KindHashSet: "hashSet",
	KindDefined: "defined", KindGeneric: "generic",
}

// String returns the IDL spelling of the kind ("u64", "pubkey", "option", ...).
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Type is an IDL type expression.
type Type struct {
	Kind Kind
	// Elem is the element type of option, coption, vec, array and hashSet, and the value type of hashMap.
	Elem *Type
	// Key is the key type of hashMap.
	Key *Type
	// Len is the length of an array; LenGeneric names a const generic parameter giving it instead.
	Len        int
	LenGeneric string
	// Name is the referenced type for KindDefined and the parameter name for KindGeneric.
	Name string
	// Generics are the arguments of a KindDefined reference to a generic type definition.
	Generics []GenericArg
}

// GenericArg is one argument of a generic type reference: a type, or a const value (array lengths).
type GenericArg struct {
	Type  *Type
	Value string
}

// String renders the type in a compact Rust-like form ("u64", "Option<Pubkey>", "[u8; 32]").
func (t Type) String() string {
	var b strings.Builder
	t.write(&b)
	return b.String()
}

func (t Type) write(b *strings.Builder) {
	elem := func() {
		if t.Elem != nil {
			t.Elem.write(b)
		} else {
			b.WriteString("?")
		}
	}
	switch t.Kind {
	case KindOption:
		b.WriteString("Option<")
		elem()
		b.WriteString(">")
	case KindCOption:
		b.WriteString("COption<")
		elem()
		b.WriteString(">")
	case KindVec:
		b.WriteString("Vec<")
		elem()
		b.WriteString(">")
	case KindHashSet:
		b.WriteString("HashSet<")
		elem()
		b.WriteString(">")
	case KindArray:
		b.WriteString("[")
		elem()
		b.WriteString("; ")
		if t.LenGeneric != "" {
			b.WriteString(t.LenGeneric)
		} else {
			b.WriteString(strconv.Itoa(t.Len))
		}
		b.WriteString("]")
	case KindHashMap:
		b.WriteString("HashMap<")
		if t.Key != nil {
			t.Key.write(b)
		}
		b.WriteString(", ")
		elem()
		b.WriteString(">")
	case KindDefined, KindGeneric:
		b.WriteString(t.Name)
		if len(t.Generics) > 0 {
			b.WriteString("<")
			for i, g := range t.Generics {
				if i > 0 {
					b.WriteString(", ")
				}
				if g.Type != nil {
					g.Type.write(b)
				} else {
					b.WriteString(g.Value)
				}
			}
			b.WriteString(">")
		}
	default:
		b.WriteString(t.Kind.String())
	}
}

// Field is a named field of a struct, an instruction argument, or a field of a struct enum variant.
// Name is the name as written in the IDL; Key is the key the field has in decoded values (the
// snake_case of Name, see SnakeCase).
type Field struct {
	Name string
	Key  string
	Type Type
	Docs []string
}

// TypeDefKind tells the shape of a TypeDef.
type TypeDefKind uint8

// The type definition shapes.
const (
	TypeDefStruct TypeDefKind = iota
	TypeDefTupleStruct
	TypeDefEnum
	TypeDefAlias
)

// Serialization is how a type definition is laid out in bytes.
type Serialization uint8

// The serializations: Borsh (the default), and bytemuck zero-copy (C layout, alignment and padding).
// BytemuckUnsafe is laid out exactly like Bytemuck.
const (
	SerializationBorsh Serialization = iota
	SerializationBytemuck
	SerializationBytemuckUnsafe
)

// String returns the IDL spelling.
func (s Serialization) String() string {
	switch s {
	case SerializationBytemuck:
		return "bytemuck"
	case SerializationBytemuckUnsafe:
		return "bytemuckunsafe"
	default:
		return "borsh"
	}
}

// Repr is a type definition's declared memory representation (`repr` in the IDL).
type Repr struct {
	// Kind is "rust", "c" or "transparent".
	Kind   string
	Packed bool
	// Align is an explicit alignment (repr(align(N))), 0 when not given.
	Align int
}

// TypeDef is a named type of the IDL: a struct, tuple struct, enum or alias.
type TypeDef struct {
	Name          string
	Kind          TypeDefKind
	Fields        []Field   // TypeDefStruct
	Tuple         []Type    // TypeDefTupleStruct
	Variants      []Variant // TypeDefEnum
	Alias         *Type     // TypeDefAlias
	Serialization Serialization
	Repr          *Repr
	// Generics are the generic parameters, in order; const parameters have Const set.
	Generics []GenericParam
	Docs     []string
}

// GenericParam is a generic parameter of a type definition.
type GenericParam struct {
	Name  string
	Const bool
}

// Variant is an enum variant: a unit variant (no fields), a struct variant (Fields) or a tuple
// variant (Tuple).
type Variant struct {
	Name   string
	Fields []Field
	Tuple  []Type
}

// AccountDef is an account type of the program.
type AccountDef struct {
	Name string
	// Discriminator is the prefix that identifies the account's data. It is empty for programs whose
	// accounts carry none (SPL Token); such accounts are identified by Size.
	Discriminator []byte
	// Size, when non-zero, is the exact data length of the account. An account with an empty
	// discriminator matches data of exactly this length.
	Size int
	// Type is the struct the data after the discriminator holds.
	Type *TypeDef
	Docs []string

	layout     *node
	fieldNames []string // see FieldNames
}

// AccountMeta is one account an instruction takes, in order.
type AccountMeta struct {
	Name     string
	Writable bool
	Signer   bool
	Optional bool
	// Address is the fixed address of the account when the IDL gives one.
	Address string
	Docs    []string
}

// InstructionDef is an instruction of the program.
type InstructionDef struct {
	Name          string
	Discriminator []byte
	Accounts      []AccountMeta
	Args          []Field
	Docs          []string

	layout   *node
	argNames []string // see ArgNames
}

// EventDef is an event the program emits.
type EventDef struct {
	Name          string
	Discriminator []byte
	Fields        []Field
	// DiscriminatorInPayload is set when the event struct itself starts with its discriminator (a
	// first field named "disc" or "discriminator" as wide as the discriminator, as Steel programs
	// declare them): the payload is then decoded from the start of the data, discriminator included.
	DiscriminatorInPayload bool
	Docs                   []string

	layout *node
}

// ErrorDef is a custom program error.
type ErrorDef struct {
	Code uint32
	Name string
	Msg  string
}

// Format tells which IDL dialect a document was parsed from.
type Format uint8

// The IDL dialects Parse accepts.
const (
	FormatAnchorLegacy Format = iota
	FormatAnchor
	FormatSteel
	FormatSnapshot
)

// String names the format.
func (f Format) String() string {
	switch f {
	case FormatAnchor:
		return "anchor"
	case FormatSteel:
		return "steel"
	case FormatSnapshot:
		return "snapshot"
	default:
		return "anchor-legacy"
	}
}

// IDL is a parsed program interface with its layouts resolved, ready to decode and encode.
// An IDL is immutable after Parse and safe for concurrent use.
type IDL struct {
	// Name is the program name (`name`, else `metadata.name`, else "unknown").
	Name    string
	Version string
	// Address is the program id (zero when the document gives none).
	Address      solana.Pubkey
	Format       Format
	Accounts     []AccountDef
	Instructions []InstructionDef
	Events       []EventDef
	Types        []TypeDef
	Errors       []ErrorDef
	// DiscriminantSize is 1 when instructions are told apart by a single byte (Steel, SPL Token)
	// and 8 otherwise, as recorded in stack.json snapshots.
	DiscriminantSize int
	// PadShortArgs makes DecodeInstruction retry, when the arguments end early, with the data
	// zero-padded to 256 bytes (the reference runtime's tolerance for truncated arguments). Off by
	// default: short arguments are a DecodeError.
	PadShortArgs bool
	// Strict makes DecodeAccount, DecodeInstruction and DecodeEvent reject bytes left after the
	// decoded value (an ErrTrailingBytes DecodeError). Off by default, as on chain.
	Strict bool

	typeIndex map[string]int
	inline    map[string]*TypeDef // account structs declared inline (legacy, Steel, snapshots)
	match     matchTables
	keys      *decodeCache
}

// Type returns the named type definition: one of Types, else the struct of an account declared
// inline (legacy Anchor, Steel and snapshot IDLs declare account fields on the account itself).
func (p *IDL) Type(name string) (*TypeDef, bool) {
	if i, ok := p.typeIndex[name]; ok {
		return &p.Types[i], true
	}
	td, ok := p.inline[name]
	return td, ok
}

// Account returns the named account definition.
func (p *IDL) Account(name string) (*AccountDef, bool) {
	for i := range p.Accounts {
		if p.Accounts[i].Name == name {
			return &p.Accounts[i], true
		}
	}
	return nil, false
}

// Instruction returns the named instruction definition.
func (p *IDL) Instruction(name string) (*InstructionDef, bool) {
	for i := range p.Instructions {
		if p.Instructions[i].Name == name {
			return &p.Instructions[i], true
		}
	}
	return nil, false
}

// Event returns the named event definition.
func (p *IDL) Event(name string) (*EventDef, bool) {
	for i := range p.Events {
		if p.Events[i].Name == name {
			return &p.Events[i], true
		}
	}
	return nil, false
}

// SnakeCase converts an IDL name to the key used in decoded values: every upper-case letter becomes
// "_" plus its lower-case form (no "_" at the very start), everything else is kept. So "isAuto" →
// "is_auto", "LbPair" → "lb_pair", "end_at" → "end_at", "MyIDL" → "my_i_d_l".
func SnakeCase(s string) string {
	needs := false
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			needs = true
			break
		}
	}
	if !needs {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 4)
	for _, r := range s {
		if r >= 'A' && r <= 'Z' || (r > 127 && strings.ToLower(string(r)) != string(r)) {
			if b.Len() > 0 {
				b.WriteByte('_')
			}
			b.WriteString(strings.ToLower(string(r)))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// PascalCase converts an instruction name to the form used in event-type strings: split on "_",
// capitalise the first letter of each part ("claimSol" → "ClaimSol", "transfer_checked" →
// "TransferChecked").
func PascalCase(s string) string {
	var b strings.Builder
	for _, part := range strings.Split(s, "_") {
		if part == "" {
			continue
		}
		r := []rune(part)
		b.WriteString(strings.ToUpper(string(r[0])))
		b.WriteString(string(r[1:]))
	}
	return b.String()
}
