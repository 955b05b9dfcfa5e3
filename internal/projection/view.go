package projection

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Mode is the mode of a view as the protocol names it.
type Mode string

const (
	// ModeState views hold one entity per subscription key.
	ModeState Mode = "state"
	// ModeList views hold every entity of a type.
	ModeList Mode = "list"
	// ModeAppend views are list views whose clients extend appended arrays.
	ModeAppend Mode = "append"
)

// Sort orders a view by the value at a field path. Values order as null < booleans < numbers <
// strings; Desc reverses that order; ties are broken by entity key, ascending. The pseudo-field
// "_seq" orders by the position of an entity's last mutation.
type Sort struct {
	Field []string
	Desc  bool
}

// seqSort is the order of plain list views: the most recently updated entity first.
var seqSort = Sort{Field: []string{"_seq"}, Desc: true}

func (s Sort) isSeq() bool { return len(s.Field) == 1 && s.Field[0] == "_seq" }

// MarshalJSON encodes the sort as the `subscribed` frame's `sort` object.
func (s Sort) MarshalJSON() ([]byte, error) {
	order := "asc"
	if s.Desc {
		order = "desc"
	}
	return json.Marshal(struct {
		Field []string `json:"field"`
		Order string   `json:"order"`
	}{s.Field, order})
}

// CompareOp is a comparison of a Predicate.
type CompareOp string

// The comparisons a Predicate supports.
const (
	OpEq  CompareOp = "eq"
	OpNe  CompareOp = "ne"
	OpGt  CompareOp = "gt"
	OpGte CompareOp = "gte"
	OpLt  CompareOp = "lt"
	OpLte CompareOp = "lte"
)

// Predicate keeps the entities whose value at Field compares with Value as Op says (values ordered
// as in Sort). An entity without the field never matches.
type Predicate struct {
	Field []string
	Op    CompareOp
	// Value is a JSON literal: string, json.Number (or another Go number), bool or nil.
	Value any
}

// ViewDef defines a derived view: the entities of one type, optionally filtered, in sort order,
// served through a window of Limit entities by default.
type ViewDef struct {
	// ID is the view id clients subscribe to, e.g. "OreRound/latest".
	ID string
	// Entity is the entity type the view is derived from, e.g. "OreRound".
	Entity string
	// Mode is the view's mode: ModeList (the default) or ModeState.
	Mode Mode
	// Sort orders the view; nil means by _seq, most recent first.
	Sort *Sort
	// Limit is the default window size; zero means 100.
	Limit int
	// Filter, when set, keeps only matching entities.
	Filter *Predicate
}

// defaultWindow is the window of derived views without a limit, and the default take.
const defaultWindow = 100

func (d *ViewDef) validate() error {
	if d.ID == "" || d.Entity == "" {
		return fmt.Errorf("%w: id and entity are required (id %q, entity %q)", ErrBadView, d.ID, d.Entity)
	}
	if !strings.Contains(d.ID, "/") {
		return fmt.Errorf("%w: view id %q has no '/'", ErrBadView, d.ID)
	}
	for _, m := range []Mode{ModeState, ModeList, ModeAppend} {
		if strings.HasSuffix(d.ID, "/"+string(m)) {
			return fmt.Errorf("%w: view id %q collides with a base view", ErrBadView, d.ID)
		}
	}
	switch d.Mode {
	case "", ModeList, ModeState:
	default:
		return fmt.Errorf("%w: view %q has mode %q (want list or state)", ErrBadView, d.ID, d.Mode)
	}
	if d.Sort != nil && len(d.Sort.Field) == 0 {
		return fmt.Errorf("%w: view %q sorts by an empty field path", ErrBadView, d.ID)
	}
	if d.Limit < 0 {
		return fmt.Errorf("%w: view %q has a negative limit", ErrBadView, d.ID)
	}
	if p := d.Filter; p != nil {
		if len(p.Field) == 0 {
			return fmt.Errorf("%w: view %q filters on an empty field path", ErrBadView, d.ID)
		}
		switch p.Op {
		case OpEq, OpNe, OpGt, OpGte, OpLt, OpLte:
		default:
			return fmt.Errorf("%w: view %q filter has unknown comparison %q", ErrBadView, d.ID, p.Op)
		}
	}
	return nil
}

// sortVal is a comparable form of a JSON value.
type sortVal struct {
	kind uint8 // 0 null/missing, 1 bool, 2 number, 3 string, 4 seq, 5 other (object/array)
	b    bool
	// numbers: exact integers when isInt (neg, mag), otherwise f.
	isInt bool
	neg   bool
	mag   uint64
	f     float64
	s     string
	slot  uint64
	seq   uint64
}

const (
	kindNull uint8 = iota
	kindBool
	kindNumber
	kindString
	kindSeq
	kindOther
)

func toSortVal(v any) sortVal {
	switch x := v.(type) {
	case nil:
		return sortVal{kind: kindNull}
	case bool:
		return sortVal{kind: kindBool, b: x}
	case string:
		return sortVal{kind: kindString, s: x}
	case json.Number:
		return numberVal(string(x))
	case float64:
		return numberVal(strconv.FormatFloat(x, 'g', -1, 64))
	case int:
		return numberVal(strconv.Itoa(x))
	case int64:
		return numberVal(strconv.FormatInt(x, 10))
	case uint64:
		return numberVal(strconv.FormatUint(x, 10))
	default:
		return sortVal{kind: kindOther}
	}
}

func numberVal(lit string) sortVal {
	sv := sortVal{kind: kindNumber}
	digits := lit
	if strings.HasPrefix(digits, "-") {
		sv.neg = true
		digits = digits[1:]
	}
	if u, err := strconv.ParseUint(digits, 10, 64); err == nil {
		sv.isInt, sv.mag = true, u
		if sv.neg && u == 0 {
			sv.neg = false
		}
	}
	f, err := strconv.ParseFloat(lit, 64)
	if err != nil {
		f = math.NaN()
	}
	sv.f = f
	return sv
}

// compareVals orders two values ascending: null < bool < number < string < other; seq values
// compare by (slot, seq).
func compareVals(a, b sortVal) int {
	if a.kind != b.kind {
		return cmp.Compare(a.kind, b.kind)
	}
	switch a.kind {
	case kindBool:
		switch {
		case a.b == b.b:
			return 0
		case !a.b:
			return -1
		default:
			return 1
		}
	case kindNumber:
		if a.isInt && b.isInt {
			switch {
			case a.neg != b.neg:
				if a.neg {
					return -1
				}
				return 1
			case a.neg:
				return cmp.Compare(b.mag, a.mag)
			default:
				return cmp.Compare(a.mag, b.mag)
			}
		}
		return cmp.Compare(a.f, b.f)
	case kindString:
		return strings.Compare(a.s, b.s)
	case kindSeq:
		if c := cmp.Compare(a.slot, b.slot); c != 0 {
			return c
		}
		return cmp.Compare(a.seq, b.seq)
	}
	return 0
}

func (p *Predicate) match(data map[string]any) bool {
	v, ok := lookup(data, p.Field)
	if !ok {
		return false
	}
	c := compareVals(toSortVal(v), toSortVal(p.Value))
	// Values of different kinds only ever satisfy "ne".
	sameKind := toSortVal(v).kind == toSortVal(p.Value).kind
	switch p.Op {
	case OpEq:
		return sameKind && c == 0
	case OpNe:
		return !sameKind || c != 0
	case OpGt:
		return sameKind && c > 0
	case OpGte:
		return sameKind && c >= 0
	case OpLt:
		return sameKind && c < 0
	case OpLte:
		return sameKind && c <= 0
	}
	return false
}

// ParseSeq parses a `_seq` cursor "slot:index".
func ParseSeq(s string) (slot, seq uint64, err error) {
	a, b, ok := strings.Cut(s, ":")
	if !ok {
		return 0, 0, fmt.Errorf("seq cursor %q: want slot:index", s)
	}
	if slot, err = strconv.ParseUint(a, 10, 64); err != nil {
		return 0, 0, fmt.Errorf("seq cursor %q: bad slot", s)
	}
	if seq, err = strconv.ParseUint(b, 10, 64); err != nil {
		return 0, 0, fmt.Errorf("seq cursor %q: bad index", s)
	}
	return slot, seq, nil
}

// FormatSeq formats a mutation position as the protocol's `_seq`: the slot, a colon and the index
// as at least 12 zero-padded digits.
func FormatSeq(slot, seq uint64) string {
	return string(appendSeq(nil, slot, seq))
}

func appendSeq(buf []byte, slot, seq uint64) []byte {
	buf = strconv.AppendUint(buf, slot, 10)
	buf = append(buf, ':')
	var tmp [20]byte
	d := strconv.AppendUint(tmp[:0], seq, 10)
	for i := len(d); i < 12; i++ {
		buf = append(buf, '0')
	}
	return append(buf, d...)
}
