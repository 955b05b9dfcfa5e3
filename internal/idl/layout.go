package idl

import (
	"fmt"
	"strconv"
	"strings"
)

// Internal node kinds beyond the public Kind values.
const (
	kindStruct Kind = 200 + iota
	kindEnum
)

// node is a resolved layout: a type expression with every defined reference, generic parameter and
// serialization decision already applied, so decoding and encoding never look anything up.
type node struct {
	kind  Kind
	tname string // the type as reported in errors
	elem  *node  // option, coption, vec, array, hashSet element; hashMap value
	key   *node  // hashMap key
	n     int    // array length; coption: offset of the value after the tag

	fields   []nfield   // kindStruct
	tuple    bool       // kindStruct: positional fields, decoded as []any
	variants []nvariant // kindEnum
	unitEnum bool       // kindEnum: every variant is a unit variant

	cLayout   bool // zero-copy (bytemuck) layout: fields at offsets, fixed size
	boolAsNum bool // bytemuck bool: decoded as a 0/1 number

	size      int  // fixed encoded size in bytes, -1 when variable
	align     int  // alignment in the C layout
	minSize   int  // fewest bytes any value of the type encodes to
	byteArray bool // a short [u8; N], decoded through the decode cache
	boxes     int  // uint64/int64/float64 leaves of a value (slab sizing; exact for fixed sizes)
	listElems int  // []any elements of a value (arrays; exact for fixed sizes)
	lists     int  // []any values of a value
	done      bool
}

type nfield struct {
	key  string
	name string
	node *node
	off  int // offset within the struct (C layout only)
}

type nvariant struct {
	name    string
	nameAny any      // name as an interface, boxed once
	fields  []nfield // named fields of a struct variant
	tuple   bool     // tuple variant (fields decoded as []any)
	unit    bool
}

type layoutMode uint8

const (
	modeBorsh layoutMode = iota
	modeC
)

// u128Align is the alignment of u128/i128 in zero-copy layouts. Solana programs are built for the
// SBF target, whose 128-bit integers are 8-aligned; layouts written to be portable pad explicitly.
const u128Align = 8

type resolver struct {
	p     *IDL
	memo  map[string]*node
	depth int
}

// resolve builds the layouts of every account, instruction and event.
func (p *IDL) resolve() error {
	r := &resolver{p: p, memo: make(map[string]*node)}
	for i := range p.Accounts {
		a := &p.Accounts[i]
		td, ok := p.Type(a.Name)
		if !ok {
			return fmt.Errorf("%w: account %s: no type definition", ErrBadIDL, a.Name)
		}
		a.Type = td
		n, err := r.resolve(Type{Kind: KindDefined, Name: a.Name}, nil, modeBorsh)
		if err != nil {
			return fmt.Errorf("%w: account %s: %v", ErrBadIDL, a.Name, err)
		}
		if n.kind != kindStruct || n.tuple {
			return fmt.Errorf("%w: account %s: type is not a struct with named fields", ErrBadIDL, a.Name)
		}
		a.layout = n
		a.fieldNames = fieldKeys(n)
	}
	for i := range p.Instructions {
		ix := &p.Instructions[i]
		n, err := r.structOf(ix.Name, ix.Args, nil, modeBorsh, nil)
		if err != nil {
			return fmt.Errorf("%w: instruction %s: %v", ErrBadIDL, ix.Name, err)
		}
		ix.layout = n
		ix.argNames = fieldKeys(n)
	}
	for i := range p.Events {
		ev := &p.Events[i]
		var n *node
		var err error
		if td, ok := p.Type(ev.Name); ok && td.Kind == TypeDefStruct && sameFields(td.Fields, ev.Fields) {
			n, err = r.resolve(Type{Kind: KindDefined, Name: ev.Name}, nil, modeBorsh)
		} else {
			n, err = r.structOf(ev.Name, ev.Fields, nil, modeBorsh, nil)
		}
		if err != nil {
			return fmt.Errorf("%w: event %s: %v", ErrBadIDL, ev.Name, err)
		}
		ev.layout = n
		if len(ev.Fields) > 0 && (ev.Fields[0].Name == "disc" || ev.Fields[0].Name == "discriminator") &&
			len(n.fields) > 0 && n.fields[0].node.size == len(ev.Discriminator) && len(ev.Discriminator) > 0 {
			ev.DiscriminatorInPayload = true
		}
	}
	p.buildMatchTables()
	p.keys = new(decodeCache)
	return nil
}

func sameFields(a, b []Field) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Name != b[i].Name || a[i].Type.String() != b[i].Type.String() {
			return false
		}
	}
	return true
}

type genericEnv map[string]GenericArg

func (r *resolver) resolve(t Type, env genericEnv, mode layoutMode) (*node, error) {
	r.depth++
	defer func() { r.depth-- }()
	if r.depth > 64 {
		return nil, fmt.Errorf("type nesting deeper than 64 at %s", t)
	}
	switch t.Kind {
	case KindGeneric:
		arg, ok := env[t.Name]
		if !ok || arg.Type == nil {
			return nil, fmt.Errorf("unbound generic type parameter %s", t.Name)
		}
		return r.resolve(*arg.Type, nil, mode)
	case KindDefined:
		return r.defined(t, env, mode)
	case KindOption, KindCOption, KindVec, KindHashSet, KindArray:
		if t.Elem == nil {
			return nil, fmt.Errorf("%s without element type", t.Kind)
		}
		elem, err := r.resolve(*t.Elem, env, mode)
		if err != nil {
			return nil, err
		}
		n := &node{kind: t.Kind, elem: elem, done: true}
		switch t.Kind {
		case KindOption:
			n.tname = "Option<" + elem.tname + ">"
			n.size, n.minSize, n.align = -1, 1, 1
			if mode == modeC {
				return nil, fmt.Errorf("%s cannot be part of a zero-copy layout", n.tname)
			}
		case KindCOption:
			n.tname = "COption<" + elem.tname + ">"
			n.align = max(4, elem.align)
			n.n = 4 // offset of the value after the tag
			if mode == modeC {
				n.n = alignUp(4, elem.align)
			}
			if elem.size >= 0 {
				if mode == modeC {
					n.size = alignUp(n.n+elem.size, n.align)
				} else {
					n.size = 4 + elem.size
				}
				n.minSize = n.size
				n.boxes = elem.boxes
				n.listElems = elem.listElems
				n.lists = elem.lists
			} else {
				n.size, n.minSize = -1, 4
			}
		case KindVec, KindHashSet:
			n.tname = "Vec<" + elem.tname + ">"
			if t.Kind == KindHashSet {
				n.tname = "HashSet<" + elem.tname + ">"
			}
			n.size, n.minSize, n.align = -1, 4, 1
			if mode == modeC {
				return nil, fmt.Errorf("%s cannot be part of a zero-copy layout", n.tname)
			}
		case KindArray:
			length := t.Len
			if t.LenGeneric != "" {
				arg, ok := env[t.LenGeneric]
				if !ok || arg.Type != nil {
					return nil, fmt.Errorf("unbound generic length %s", t.LenGeneric)
				}
				v, err := strconv.ParseUint(strings.TrimSpace(arg.Value), 10, 31)
				if err != nil {
					return nil, fmt.Errorf("generic length %s = %q: %v", t.LenGeneric, arg.Value, err)
				}
				length = int(v)
			}
			n.n = length
			n.tname = "[" + elem.tname + "; " + strconv.Itoa(length) + "]"
			n.align = elem.align
			if elem.size >= 0 {
				n.size = elem.size * length
				if n.size > 1<<30 {
					return nil, fmt.Errorf("%s is too large", n.tname)
				}
				n.minSize = n.size
				n.boxes = elem.boxes * length
				n.listElems = length + elem.listElems*length
				n.lists = 1 + elem.lists*length
				if elem.kind == KindU8 && elem.size == 1 && length > 0 && length <= maxCachedArray {
					// Short byte arrays come from the decode cache, not the slabs.
					n.byteArray = true
					n.listElems, n.lists = 0, 0
				}
			} else {
				n.size = -1
				n.minSize = elem.minSize * length
			}
		}
		return n, nil
	case KindHashMap:
		if t.Key == nil || t.Elem == nil {
			return nil, fmt.Errorf("hashMap without key or value type")
		}
		if mode == modeC {
			return nil, fmt.Errorf("hashMap cannot be part of a zero-copy layout")
		}
		key, err := r.resolve(*t.Key, env, mode)
		if err != nil {
			return nil, err
		}
		val, err := r.resolve(*t.Elem, env, mode)
		if err != nil {
			return nil, err
		}
		return &node{kind: KindHashMap, key: key, elem: val, tname: "HashMap<" + key.tname + ", " + val.tname + ">",
			size: -1, minSize: 4, align: 1, done: true}, nil
	case KindString, KindBytes:
		if mode == modeC {
			return nil, fmt.Errorf("%s cannot be part of a zero-copy layout", t.Kind)
		}
		return &node{kind: t.Kind, tname: t.Kind.String(), size: -1, minSize: 4, align: 1, done: true}, nil
	}
	size, align, boxes := primitiveSize(t.Kind)
	if size == 0 {
		return nil, fmt.Errorf("unsupported type kind %s", t.Kind)
	}
	n := &node{kind: t.Kind, tname: t.Kind.String(), size: size, minSize: size, align: align, boxes: boxes, done: true}
	if t.Kind == KindBool && mode == modeC {
		n.boolAsNum = true
	}
	return n, nil
}

func primitiveSize(k Kind) (size, align, boxes int) {
	switch k {
	case KindBool, KindU8, KindI8:
		return 1, 1, 0
	case KindU16, KindI16:
		return 2, 2, 1
	case KindU32, KindI32, KindF32:
		return 4, 4, 1
	case KindU64, KindI64, KindF64:
		return 8, 8, 1
	case KindU128, KindI128:
		return 16, u128Align, 0
	case KindU256, KindI256:
		return 32, u128Align, 0
	case KindPubkey:
		return 32, 1, 0
	}
	return 0, 0, 0
}

func alignUp(off, a int) int {
	if a <= 1 {
		return off
	}
	return (off + a - 1) / a * a
}

func (r *resolver) defined(t Type, env genericEnv, mode layoutMode) (*node, error) {
	td, ok := r.p.Type(t.Name)
	if !ok {
		return nil, fmt.Errorf("undefined type %s", t.Name)
	}
	if td.Serialization != SerializationBorsh {
		mode = modeC
	}
	// Bind generic arguments (themselves resolved in the caller's environment).
	var inner genericEnv
	var keyb strings.Builder
	keyb.WriteString(t.Name)
	if mode == modeC {
		keyb.WriteString("#c")
	}
	if len(td.Generics) > 0 {
		if len(t.Generics) != len(td.Generics) {
			return nil, fmt.Errorf("type %s takes %d generic arguments, got %d", t.Name, len(td.Generics), len(t.Generics))
		}
		inner = make(genericEnv, len(td.Generics))
		for i, gp := range td.Generics {
			arg := t.Generics[i]
			if arg.Type != nil {
				bound := substitute(*arg.Type, env)
				arg = GenericArg{Type: &bound}
				keyb.WriteString("|" + bound.String())
			} else {
				keyb.WriteString("|" + arg.Value)
			}
			inner[gp.Name] = arg
		}
	}
	key := keyb.String()
	if n, ok := r.memo[key]; ok {
		if !n.done && mode == modeC {
			return nil, fmt.Errorf("type %s contains itself in a zero-copy layout", t.Name)
		}
		return n, nil
	}
	n := &node{tname: t.Name, size: -1, minSize: 0, align: 1}
	r.memo[key] = n
	switch td.Kind {
	case TypeDefAlias:
		if td.Alias == nil {
			return nil, fmt.Errorf("alias %s without target", t.Name)
		}
		target, err := r.resolve(*td.Alias, inner, mode)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", t.Name, err)
		}
		*n = *target
		n.done = true
		return n, nil
	case TypeDefStruct:
		built, err := r.structOf(t.Name, td.Fields, inner, mode, td.Repr)
		if err != nil {
			return nil, err
		}
		*n = *built
	case TypeDefTupleStruct:
		fields := make([]Field, len(td.Tuple))
		for i, ft := range td.Tuple {
			fields[i] = Field{Name: strconv.Itoa(i), Key: strconv.Itoa(i), Type: ft}
		}
		built, err := r.structOf(t.Name, fields, inner, mode, td.Repr)
		if err != nil {
			return nil, err
		}
		*n = *built
		n.tuple = true
	case TypeDefEnum:
		if err := r.enumOf(n, td, inner, mode); err != nil {
			return nil, err
		}
	}
	n.done = true
	return n, nil
}

// substitute replaces generic parameters in t with their bindings in env.
func substitute(t Type, env genericEnv) Type {
	if len(env) == 0 {
		return t
	}
	switch t.Kind {
	case KindGeneric:
		if arg, ok := env[t.Name]; ok && arg.Type != nil {
			return *arg.Type
		}
	case KindOption, KindCOption, KindVec, KindHashSet, KindArray, KindHashMap:
		c := t
		if t.Elem != nil {
			e := substitute(*t.Elem, env)
			c.Elem = &e
		}
		if t.Key != nil {
			k := substitute(*t.Key, env)
			c.Key = &k
		}
		if t.LenGeneric != "" {
			if arg, ok := env[t.LenGeneric]; ok && arg.Type == nil {
				if v, err := strconv.Atoi(strings.TrimSpace(arg.Value)); err == nil {
					c.Len, c.LenGeneric = v, ""
				}
			}
		}
		return c
	case KindDefined:
		c := t
		c.Generics = make([]GenericArg, len(t.Generics))
		for i, g := range t.Generics {
			if g.Type != nil {
				s := substitute(*g.Type, env)
				c.Generics[i] = GenericArg{Type: &s}
			} else {
				c.Generics[i] = g
				if arg, ok := env[g.Value]; ok && arg.Type == nil {
					c.Generics[i] = arg
				}
			}
		}
		return c
	}
	return t
}

func (r *resolver) structOf(name string, fields []Field, env genericEnv, mode layoutMode, repr *Repr) (*node, error) {
	n := &node{kind: kindStruct, tname: name, fields: make([]nfield, len(fields)), align: 1, done: true}
	packed := repr != nil && repr.Packed
	fixed := true
	off := 0
	for i, f := range fields {
		fn, err := r.resolve(f.Type, env, mode)
		if err != nil {
			return nil, fmt.Errorf("%s.%s: %v", name, f.Name, err)
		}
		n.fields[i] = nfield{key: f.Key, name: f.Name, node: fn}
		if fn.size < 0 {
			fixed = false
		}
		n.minSize += fn.minSize
		n.boxes += fn.boxes
		n.listElems += fn.listElems
		n.lists += fn.lists
		if mode == modeC {
			a := fn.align
			if packed {
				a = 1
			}
			if fn.size < 0 {
				return nil, fmt.Errorf("%s.%s: %s has no fixed size for a zero-copy layout", name, f.Name, fn.tname)
			}
			off = alignUp(off, a)
			n.fields[i].off = off
			off += fn.size
			n.align = max(n.align, a)
		}
	}
	if mode == modeC {
		if repr != nil && repr.Align > n.align {
			n.align = repr.Align
		}
		n.cLayout = true
		n.size = alignUp(off, n.align)
		n.minSize = n.size
		return n, nil
	}
	if fixed {
		n.size = n.minSize
	} else {
		n.size = -1
	}
	return n, nil
}

func (r *resolver) enumOf(n *node, td *TypeDef, env genericEnv, mode layoutMode) error {
	n.kind = kindEnum
	n.variants = make([]nvariant, len(td.Variants))
	n.unitEnum = true
	payloadSize := -2
	minPayload := -1
	for i, v := range td.Variants {
		nv := nvariant{name: v.Name, nameAny: v.Name}
		var fields []Field
		switch {
		case v.Fields != nil && len(v.Fields) > 0:
			fields = v.Fields
		case len(v.Tuple) > 0:
			nv.tuple = true
			fields = make([]Field, len(v.Tuple))
			for j, ft := range v.Tuple {
				fields[j] = Field{Name: strconv.Itoa(j), Key: strconv.Itoa(j), Type: ft}
			}
		default:
			nv.unit = true
		}
		size := 0
		msize := 0
		if !nv.unit {
			n.unitEnum = false
			if mode == modeC {
				return fmt.Errorf("enum %s has data variants and cannot be part of a zero-copy layout", td.Name)
			}
			sn, err := r.structOf(td.Name+"::"+v.Name, fields, env, mode, nil)
			if err != nil {
				return err
			}
			nv.fields = sn.fields
			size, msize = sn.size, sn.minSize
		}
		if payloadSize == -2 {
			payloadSize = size
		} else if payloadSize != size {
			payloadSize = -1
		}
		if minPayload < 0 || msize < minPayload {
			minPayload = msize
		}
		n.variants[i] = nv
	}
	n.align = 1
	if payloadSize >= 0 {
		n.size = 1 + payloadSize
	} else {
		n.size = -1
	}
	if minPayload < 0 {
		minPayload = 0
	}
	n.minSize = 1 + minPayload
	return nil
}
