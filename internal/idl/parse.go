package idl

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"strconv"

	"github.com/hyperstack-go/hyperstack/internal/solana"
)

// The raw JSON shapes of every accepted dialect. Field aliases (isMut/writable, isSigner/signer,
// isOptional/optional) are all read and merged.
type rawIDL struct {
	Version          string            `json:"version"`
	Name             string            `json:"name"`
	Address          string            `json:"address"`
	ProgramID        *string           `json:"program_id"`
	Metadata         *rawMeta          `json:"metadata"`
	Instructions     []rawInstruction  `json:"instructions"`
	Accounts         []rawAccount      `json:"accounts"`
	Types            []rawTypeDef      `json:"types"`
	Events           []rawEvent        `json:"events"`
	Errors           []rawError        `json:"errors"`
	DiscriminantSize *int              `json:"discriminant_size"`
	Idls             []json.RawMessage `json:"idls"`
}

type rawMeta struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Spec    string `json:"spec"`
	Origin  string `json:"origin"`
	Address string `json:"address"`
}

type rawDiscriminant struct {
	Type  string      `json:"type"`
	Value json.Number `json:"value"`
}

type rawInstruction struct {
	Name          string           `json:"name"`
	Discriminator json.RawMessage  `json:"discriminator"`
	Discriminant  *rawDiscriminant `json:"discriminant"`
	Docs          []string         `json:"docs"`
	Accounts      []rawIxAccount   `json:"accounts"`
	Args          []rawField       `json:"args"`
}

type rawIxAccount struct {
	Name       string         `json:"name"`
	IsMut      bool           `json:"isMut"`
	IsSigner   bool           `json:"isSigner"`
	IsOptional bool           `json:"isOptional"`
	Writable   bool           `json:"writable"`
	Signer     bool           `json:"signer"`
	Optional   bool           `json:"optional"`
	Address    *string        `json:"address"`
	Docs       []string       `json:"docs"`
	Accounts   []rawIxAccount `json:"accounts"`
}

type rawField struct {
	Name string          `json:"name"`
	Type json.RawMessage `json:"type"`
	Docs []string        `json:"docs"`
}

type rawRepr struct {
	Kind   string `json:"kind"`
	Packed bool   `json:"packed"`
	Align  int    `json:"align"`
}

type rawGeneric struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
}

type rawTypeBody struct {
	Kind     string          `json:"kind"`
	Fields   json.RawMessage `json:"fields"`
	Variants []rawVariant    `json:"variants"`
	Alias    json.RawMessage `json:"alias"`
}

type rawVariant struct {
	Name   string          `json:"name"`
	Fields json.RawMessage `json:"fields"`
}

type rawTypeDef struct {
	Name          string       `json:"name"`
	Docs          []string     `json:"docs"`
	Serialization *string      `json:"serialization"`
	Repr          *rawRepr     `json:"repr"`
	Generics      []rawGeneric `json:"generics"`
	Type          *rawTypeBody `json:"type"`
}

type rawAccount struct {
	Name          string          `json:"name"`
	Discriminator json.RawMessage `json:"discriminator"`
	Size          int             `json:"size"`
	Docs          []string        `json:"docs"`
	Serialization *string         `json:"serialization"`
	Repr          *rawRepr        `json:"repr"`
	Type          *rawTypeBody    `json:"type"`
	Fields        []rawField      `json:"fields"`
}

type rawEvent struct {
	Name          string          `json:"name"`
	Discriminator json.RawMessage `json:"discriminator"`
	Fields        []rawField      `json:"fields"`
	Docs          []string        `json:"docs"`
}

type rawError struct {
	Code uint32 `json:"code"`
	Name string `json:"name"`
	Msg  string `json:"msg"`
}

// ParseFile reads and parses an IDL document (see Parse).
func ParseFile(path string) (*IDL, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	p, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// Parse parses an IDL document in any accepted dialect — legacy Anchor, Anchor 0.30+, Steel, or an
// IDL snapshot as embedded in a stack.json (`idls[i]`) — and resolves every layout. Given a whole
// stack.json it parses the first snapshot of `idls` (use ParseStack for all of them).
func Parse(data []byte) (*IDL, error) {
	var raw rawIDL
	if err := strictUnmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadIDL, err)
	}
	if len(raw.Idls) > 0 {
		return parseSnapshotAt(raw.Idls, 0)
	}
	return build(&raw)
}

// ParseStack parses every IDL snapshot of a stack.json document (`idls`), in order.
func ParseStack(data []byte) ([]*IDL, error) {
	var top struct {
		Idls []json.RawMessage `json:"idls"`
	}
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadIDL, err)
	}
	out := make([]*IDL, 0, len(top.Idls))
	for i := range top.Idls {
		p, err := parseSnapshotAt(top.Idls, i)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

func parseSnapshotAt(idls []json.RawMessage, i int) (*IDL, error) {
	var raw rawIDL
	if err := strictUnmarshal(idls[i], &raw); err != nil {
		return nil, fmt.Errorf("%w: idls[%d]: %v", ErrBadIDL, i, err)
	}
	p, err := build(&raw)
	if err != nil {
		return nil, fmt.Errorf("idls[%d]: %w", i, err)
	}
	return p, nil
}

func strictUnmarshal(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	return dec.Decode(v)
}

func build(raw *rawIDL) (*IDL, error) {
	p := &IDL{Name: raw.Name, Version: raw.Version}
	meta := raw.Metadata
	if meta == nil {
		meta = &rawMeta{}
	}
	switch {
	case raw.ProgramID != nil || raw.DiscriminantSize != nil:
		p.Format = FormatSnapshot
	case meta.Origin == "steel":
		p.Format = FormatSteel
	case raw.Address != "" && meta.Spec != "":
		p.Format = FormatAnchor
	default:
		p.Format = FormatAnchorLegacy
	}
	if p.Name == "" {
		p.Name = meta.Name
	}
	if p.Name == "" {
		p.Name = "unknown"
	}
	if p.Version == "" {
		p.Version = meta.Version
	}
	addr := raw.Address
	if addr == "" && raw.ProgramID != nil {
		addr = *raw.ProgramID
	}
	if addr == "" {
		addr = meta.Address
	}
	if addr != "" {
		pk, err := solana.ParsePubkey(addr)
		if err != nil {
			return nil, fmt.Errorf("%w: address: %v", ErrBadIDL, err)
		}
		p.Address = pk
	}

	p.typeIndex = make(map[string]int, len(raw.Types))
	for i := range raw.Types {
		td, err := convertTypeDef(&raw.Types[i])
		if err != nil {
			return nil, fmt.Errorf("%w: types[%d] (%s): %v", ErrBadIDL, i, raw.Types[i].Name, err)
		}
		if _, dup := p.typeIndex[td.Name]; dup {
			continue // first definition wins
		}
		p.typeIndex[td.Name] = len(p.Types)
		p.Types = append(p.Types, td)
	}

	// Accounts: fields inline (legacy, Steel: `type`; snapshot: `fields`) or in types (Anchor 0.30+).
	for i := range raw.Accounts {
		ra := &raw.Accounts[i]
		ad := AccountDef{Name: ra.Name, Size: ra.Size, Docs: ra.Docs}
		disc, present, err := parseBytes(ra.Discriminator)
		if err != nil {
			return nil, fmt.Errorf("%w: accounts[%d] (%s).discriminator: %v", ErrBadIDL, i, ra.Name, err)
		}
		if present {
			ad.Discriminator = disc
		} else {
			ad.Discriminator = sighash("account", ra.Name)
		}
		if ra.Size < 0 {
			return nil, fmt.Errorf("%w: accounts[%d] (%s).size: negative", ErrBadIDL, i, ra.Name)
		}
		var inline *rawTypeBody
		switch {
		case ra.Type != nil:
			inline = ra.Type
		case len(ra.Fields) > 0:
			b, _ := json.Marshal(ra.Fields)
			inline = &rawTypeBody{Kind: "struct", Fields: b}
		}
		if ti, ok := p.typeIndex[ra.Name]; ok {
			td := &p.Types[ti]
			if ra.Serialization != nil && td.Serialization == SerializationBorsh {
				s, err := parseSerialization(*ra.Serialization)
				if err != nil {
					return nil, fmt.Errorf("%w: accounts[%d] (%s): %v", ErrBadIDL, i, ra.Name, err)
				}
				td.Serialization = s
			}
		} else {
			rt := rawTypeDef{Name: ra.Name, Docs: ra.Docs, Serialization: ra.Serialization, Repr: ra.Repr, Type: inline}
			if inline == nil {
				return nil, fmt.Errorf("%w: accounts[%d] (%s): no fields and no type definition", ErrBadIDL, i, ra.Name)
			}
			td, err := convertTypeDef(&rt)
			if err != nil {
				return nil, fmt.Errorf("%w: accounts[%d] (%s): %v", ErrBadIDL, i, ra.Name, err)
			}
			if p.inline == nil {
				p.inline = make(map[string]*TypeDef)
			}
			if _, dup := p.inline[td.Name]; !dup {
				p.inline[td.Name] = &td
			}
		}
		p.Accounts = append(p.Accounts, ad)
	}

	for i := range raw.Instructions {
		ri := &raw.Instructions[i]
		ix := InstructionDef{Name: ri.Name, Docs: ri.Docs}
		disc, present, err := parseBytes(ri.Discriminator)
		if err != nil {
			return nil, fmt.Errorf("%w: instructions[%d] (%s).discriminator: %v", ErrBadIDL, i, ri.Name, err)
		}
		switch {
		case present && len(disc) > 0:
			ix.Discriminator = disc
		case ri.Discriminant != nil:
			v, err := strconv.ParseUint(ri.Discriminant.Value.String(), 10, 8)
			if err != nil {
				return nil, fmt.Errorf("%w: instructions[%d] (%s).discriminant: %v", ErrBadIDL, i, ri.Name, err)
			}
			ix.Discriminator = []byte{byte(v)}
		default:
			ix.Discriminator = sighash("global", SnakeCase(ri.Name))
		}
		ix.Accounts = flattenAccounts(ri.Accounts, nil)
		ix.Args, err = convertFields(ri.Args)
		if err != nil {
			return nil, fmt.Errorf("%w: instructions[%d] (%s).args: %v", ErrBadIDL, i, ri.Name, err)
		}
		p.Instructions = append(p.Instructions, ix)
	}

	for i := range raw.Events {
		re := &raw.Events[i]
		ev := EventDef{Name: re.Name, Docs: re.Docs}
		disc, present, err := parseBytes(re.Discriminator)
		if err != nil {
			return nil, fmt.Errorf("%w: events[%d] (%s).discriminator: %v", ErrBadIDL, i, re.Name, err)
		}
		if present && len(disc) > 0 {
			ev.Discriminator = disc
		} else {
			ev.Discriminator = sighash("event", re.Name)
		}
		if len(re.Fields) > 0 {
			ev.Fields, err = convertFields(re.Fields)
			if err != nil {
				return nil, fmt.Errorf("%w: events[%d] (%s).fields: %v", ErrBadIDL, i, re.Name, err)
			}
		} else if td, ok := p.Type(re.Name); ok && td.Kind == TypeDefStruct {
			ev.Fields = td.Fields
		}
		p.Events = append(p.Events, ev)
	}

	for _, re := range raw.Errors {
		p.Errors = append(p.Errors, ErrorDef(re))
	}

	if raw.DiscriminantSize != nil && (*raw.DiscriminantSize == 1 || *raw.DiscriminantSize == 8) {
		p.DiscriminantSize = *raw.DiscriminantSize
	} else {
		p.DiscriminantSize = 8
		if len(p.Instructions) > 0 {
			one := true
			for i := range p.Instructions {
				if len(p.Instructions[i].Discriminator) != 1 {
					one = false
					break
				}
			}
			if one {
				p.DiscriminantSize = 1
			}
		}
	}

	if err := p.resolve(); err != nil {
		return nil, err
	}
	return p, nil
}

// sighash is Anchor's discriminator: the first 8 bytes of sha256("<namespace>:<name>").
func sighash(namespace, name string) []byte {
	h := sha256.Sum256([]byte(namespace + ":" + name))
	out := make([]byte, 8)
	copy(out, h[:8])
	return out
}

// AnchorDiscriminator returns sha256(namespace + ":" + name)[:8], the discriminator Anchor derives for
// accounts ("account", PascalCase name), instructions ("global", snake_case name) and events ("event").
func AnchorDiscriminator(namespace, name string) []byte { return sighash(namespace, name) }

// parseBytes reads a JSON array of byte values; present is false for an absent or null value.
func parseBytes(raw json.RawMessage) (b []byte, present bool, err error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, false, nil
	}
	var nums []json.Number
	if err := json.Unmarshal(raw, &nums); err != nil {
		return nil, true, err
	}
	b = make([]byte, len(nums))
	for i, n := range nums {
		v, err := strconv.ParseUint(n.String(), 10, 8)
		if err != nil {
			return nil, true, fmt.Errorf("[%d]: %v", i, err)
		}
		b[i] = byte(v)
	}
	return b, true, nil
}

func flattenAccounts(in []rawIxAccount, out []AccountMeta) []AccountMeta {
	for _, a := range in {
		if len(a.Accounts) > 0 {
			out = flattenAccounts(a.Accounts, out)
			continue
		}
		m := AccountMeta{
			Name:     a.Name,
			Writable: a.IsMut || a.Writable,
			Signer:   a.IsSigner || a.Signer,
			Optional: a.IsOptional || a.Optional,
			Docs:     a.Docs,
		}
		if a.Address != nil {
			m.Address = *a.Address
		}
		out = append(out, m)
	}
	return out
}

func parseSerialization(s string) (Serialization, error) {
	switch s {
	case "", "borsh":
		return SerializationBorsh, nil
	case "bytemuck":
		return SerializationBytemuck, nil
	case "bytemuckunsafe", "bytemuckUnsafe":
		return SerializationBytemuckUnsafe, nil
	}
	return 0, fmt.Errorf("unknown serialization %q", s)
}

func convertTypeDef(rt *rawTypeDef) (TypeDef, error) {
	td := TypeDef{Name: rt.Name, Docs: rt.Docs}
	if rt.Serialization != nil {
		s, err := parseSerialization(*rt.Serialization)
		if err != nil {
			return td, err
		}
		td.Serialization = s
	}
	if rt.Repr != nil {
		td.Repr = &Repr{Kind: rt.Repr.Kind, Packed: rt.Repr.Packed, Align: rt.Repr.Align}
	}
	for _, g := range rt.Generics {
		td.Generics = append(td.Generics, GenericParam{Name: g.Name, Const: g.Kind == "const"})
	}
	if rt.Type == nil {
		return td, fmt.Errorf("missing type")
	}
	switch rt.Type.Kind {
	case "struct", "":
		named, tuple, err := convertFieldList(rt.Type.Fields)
		if err != nil {
			return td, err
		}
		if tuple != nil {
			td.Kind = TypeDefTupleStruct
			td.Tuple = tuple
		} else {
			td.Kind = TypeDefStruct
			td.Fields = named
		}
	case "enum":
		td.Kind = TypeDefEnum
		if len(rt.Type.Variants) > 256 {
			return td, fmt.Errorf("enum has %d variants (Borsh allows 256)", len(rt.Type.Variants))
		}
		for i, rv := range rt.Type.Variants {
			v := Variant{Name: rv.Name}
			named, tuple, err := convertFieldList(rv.Fields)
			if err != nil {
				return td, fmt.Errorf("variants[%d] (%s): %v", i, rv.Name, err)
			}
			v.Fields, v.Tuple = named, tuple
			td.Variants = append(td.Variants, v)
		}
	case "type", "alias":
		td.Kind = TypeDefAlias
		t, err := parseType(rt.Type.Alias)
		if err != nil {
			return td, fmt.Errorf("alias: %v", err)
		}
		td.Alias = &t
	default:
		return td, fmt.Errorf("unknown type kind %q", rt.Type.Kind)
	}
	return td, nil
}

// convertFieldList reads a `fields` array that is either named fields or bare types (tuple).
func convertFieldList(raw json.RawMessage) (named []Field, tuple []Type, err error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, nil, fmt.Errorf("fields: %v", err)
	}
	if len(items) == 0 {
		return []Field{}, nil, nil
	}
	isNamed := func(item json.RawMessage) bool {
		var probe struct {
			Name *string         `json:"name"`
			Type json.RawMessage `json:"type"`
		}
		if item = bytes.TrimSpace(item); len(item) == 0 || item[0] != '{' {
			return false
		}
		if json.Unmarshal(item, &probe) != nil {
			return false
		}
		return probe.Name != nil && len(probe.Type) > 0
	}
	if isNamed(items[0]) {
		var rf []rawField
		if err := json.Unmarshal(raw, &rf); err != nil {
			return nil, nil, fmt.Errorf("fields: %v", err)
		}
		named, err = convertFields(rf)
		return named, nil, err
	}
	tuple = make([]Type, 0, len(items))
	for i, item := range items {
		t, err := parseType(item)
		if err != nil {
			return nil, nil, fmt.Errorf("fields[%d]: %v", i, err)
		}
		tuple = append(tuple, t)
	}
	return nil, tuple, nil
}

func convertFields(rf []rawField) ([]Field, error) {
	out := make([]Field, 0, len(rf))
	for i, f := range rf {
		t, err := parseType(f.Type)
		if err != nil {
			return nil, fmt.Errorf("[%d] (%s): %v", i, f.Name, err)
		}
		out = append(out, Field{Name: f.Name, Key: SnakeCase(f.Name), Type: t, Docs: f.Docs})
	}
	return out, nil
}

var simpleTypes = map[string]Kind{
	"bool": KindBool, "u8": KindU8, "i8": KindI8, "u16": KindU16, "i16": KindI16, "u32": KindU32,
	"i32": KindI32, "u64": KindU64, "i64": KindI64, "u128": KindU128, "i128": KindI128,
	"u256": KindU256, "i256": KindI256, "f32": KindF32, "f64": KindF64, "string": KindString,
	"bytes": KindBytes, "pubkey": KindPubkey, "publicKey": KindPubkey,
	// Rust spellings found in generated specs.
	"Pubkey": KindPubkey, "solana_pubkey::Pubkey": KindPubkey, "solana_program::pubkey::Pubkey": KindPubkey,
	"String": KindString,
}

// parseType reads one type expression.
func parseType(raw json.RawMessage) (Type, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return Type{}, fmt.Errorf("missing type")
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return Type{}, err
		}
		if k, ok := simpleTypes[s]; ok {
			return Type{Kind: k}, nil
		}
		if s == "" {
			return Type{}, fmt.Errorf("empty type name")
		}
		// A bare name that is no primitive refers to a defined type (seen in array elements).
		return Type{Kind: KindDefined, Name: s}, nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return Type{}, fmt.Errorf("type: %v", err)
	}
	if len(obj) != 1 {
		// {"defined": {...}} with siblings, or {"kind":..}: take the first known key.
		for _, k := range []string{"defined", "option", "coption", "vec", "array", "hashMap", "bTreeMap", "hashSet", "bTreeSet", "generic"} {
			if v, ok := obj[k]; ok {
				obj = map[string]json.RawMessage{k: v}
				break
			}
		}
		if len(obj) != 1 {
			return Type{}, fmt.Errorf("unrecognised type %s", truncate(raw))
		}
	}
	for k, v := range obj {
		switch k {
		case "option", "coption", "vec", "hashSet", "bTreeSet":
			elem, err := parseType(v)
			if err != nil {
				return Type{}, fmt.Errorf("%s: %v", k, err)
			}
			kind := map[string]Kind{"option": KindOption, "coption": KindCOption, "vec": KindVec, "hashSet": KindHashSet, "bTreeSet": KindHashSet}[k]
			return Type{Kind: kind, Elem: &elem}, nil
		case "array":
			var parts []json.RawMessage
			if err := json.Unmarshal(v, &parts); err != nil || len(parts) != 2 {
				return Type{}, fmt.Errorf("array: want [type, length], got %s", truncate(v))
			}
			elem, err := parseType(parts[0])
			if err != nil {
				return Type{}, fmt.Errorf("array: %v", err)
			}
			t := Type{Kind: KindArray, Elem: &elem}
			lenRaw := bytes.TrimSpace(parts[1])
			if len(lenRaw) > 0 && lenRaw[0] == '{' {
				var g struct {
					Generic string `json:"generic"`
				}
				if err := json.Unmarshal(lenRaw, &g); err != nil || g.Generic == "" {
					return Type{}, fmt.Errorf("array: bad length %s", truncate(lenRaw))
				}
				t.LenGeneric = g.Generic
				return t, nil
			}
			n, err := strconv.ParseUint(string(lenRaw), 10, 31)
			if err != nil {
				return Type{}, fmt.Errorf("array: bad length %s", truncate(lenRaw))
			}
			t.Len = int(n)
			return t, nil
		case "hashMap", "bTreeMap":
			var parts []json.RawMessage
			if err := json.Unmarshal(v, &parts); err != nil || len(parts) != 2 {
				return Type{}, fmt.Errorf("%s: want [key, value], got %s", k, truncate(v))
			}
			key, err := parseType(parts[0])
			if err != nil {
				return Type{}, fmt.Errorf("%s key: %v", k, err)
			}
			val, err := parseType(parts[1])
			if err != nil {
				return Type{}, fmt.Errorf("%s value: %v", k, err)
			}
			return Type{Kind: KindHashMap, Key: &key, Elem: &val}, nil
		case "defined":
			v = bytes.TrimSpace(v)
			if len(v) > 0 && v[0] == '"' {
				var name string
				if err := json.Unmarshal(v, &name); err != nil || name == "" {
					return Type{}, fmt.Errorf("defined: bad name %s", truncate(v))
				}
				return Type{Kind: KindDefined, Name: name}, nil
			}
			var d struct {
				Name     string `json:"name"`
				Generics []struct {
					Kind  string          `json:"kind"`
					Type  json.RawMessage `json:"type"`
					Value json.RawMessage `json:"value"`
				} `json:"generics"`
			}
			if err := json.Unmarshal(v, &d); err != nil || d.Name == "" {
				return Type{}, fmt.Errorf("defined: bad reference %s", truncate(v))
			}
			t := Type{Kind: KindDefined, Name: d.Name}
			for i, g := range d.Generics {
				if g.Kind == "const" || (len(g.Value) > 0 && len(g.Type) == 0) {
					var s string
					if json.Unmarshal(g.Value, &s) != nil {
						s = string(bytes.TrimSpace(g.Value))
					}
					t.Generics = append(t.Generics, GenericArg{Value: s})
					continue
				}
				gt, err := parseType(g.Type)
				if err != nil {
					return Type{}, fmt.Errorf("defined %s generics[%d]: %v", d.Name, i, err)
				}
				t.Generics = append(t.Generics, GenericArg{Type: &gt})
			}
			return t, nil
		case "generic":
			var name string
			if err := json.Unmarshal(v, &name); err != nil || name == "" {
				return Type{}, fmt.Errorf("generic: bad name %s", truncate(v))
			}
			return Type{Kind: KindGeneric, Name: name}, nil
		}
	}
	return Type{}, fmt.Errorf("unrecognised type %s", truncate(raw))
}

func truncate(b []byte) string {
	if len(b) > 80 {
		return string(b[:80]) + "…"
	}
	return string(b)
}
