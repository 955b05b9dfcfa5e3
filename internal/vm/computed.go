package vm

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"strings"

	"golang.org/x/crypto/sha3"

	"github.com/hyperstack-go/hyperstack/internal/stack"
)

// Computed fields are compiled to Go closures over a small typed value domain that follows the Rust
// code the reference generates for them:
//
//	nil       None (and a missing or null JSON field)
//	uint64    u64 (non-negative literals are u64)
//	int64     i64
//	float64   f64
//	bool      bool
//	string    String
//	[]byte    Vec<u8> / byte slices
//	[]any, map[string]any   JSON arrays and objects read from state
//
// Integer arithmetic wraps like a Rust release build; division by zero is an error. An error makes
// the field null (the rest of the section still evaluates).

// computedSection is the computed fields of one section, evaluated together.
type computedSection struct {
	Name   string
	Gates  []string // sections (this one included) that must be objects in state
	Fields []*computedField

	id      int32   // the entity's section id of Name
	gateIDs []int32 // of Gates
}

type computedField struct {
	Leaf  string
	Path  string
	Segs  []string
	Loc   string
	Emit  bool
	ep    *emitPath // when Emit
	slot  int32     // of Leaf in the section's record (see Entity.slotOf)
	eval  cfn
	nvars int
	// reads has a bit per state path the expression reads (see Entity.readPaths); affects has the
	// bits of the read paths this field's own path overlaps. volatile fields depend on the context
	// (slot, block time, slot hashes) and are evaluated on every run.
	reads, affects uint64
	volatile       bool
}

type cfn func(e *cenv) (any, error)

// cenv is the evaluation environment of one computed field.
type cenv struct {
	m     *Machine
	state map[string]any
	vars  []any
	slot  uint64
	// slotAny is slot as an interface value, boxed once per evaluation.
	slotAny any
	ts      any // int64, or nil when the block time is unknown
	old     any // the field's previous value (reused when a result equals it)
	args    [3]any
}

// errComputed marks evaluation failures; they make the field null.
var errComputed = errors.New("computed expression")

func cerr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errComputed, fmt.Sprintf(format, args...))
}

// computedCompiler compiles the expressions of one entity.
type computedCompiler struct {
	ent      *Entity // for section ids; nil gives none
	section  string
	sections map[string]bool
	vars     []string
	maxVars  int
	refs     map[string]bool // sections referenced
	reads    []string        // state paths read (qualified)
	volatile bool            // reads the slot, the block time or slot hashes
}

func (cc *computedCompiler) push(name string) int {
	cc.vars = append(cc.vars, name)
	if len(cc.vars) > cc.maxVars {
		cc.maxVars = len(cc.vars)
	}
	return len(cc.vars) - 1
}

func (cc *computedCompiler) pop() { cc.vars = cc.vars[:len(cc.vars)-1] }

func (cc *computedCompiler) lookupVar(name string) int {
	for i := len(cc.vars) - 1; i >= 0; i-- {
		if cc.vars[i] == name {
			return i
		}
	}
	return -1
}

var resolverArity = map[string]map[string]int{
	"TokenMetadata": {"ui_amount": 2, "raw_amount": 2},
	"SlotHash":      {"slot_hash": 1, "keccak_rng": 3},
}

var knownMethods = map[string]int{
	"unwrap_or": 1, "unwrap_or_default": 0, "is_some": 0, "is_none": 0, "abs": 0, "len": 0,
	"to_string": 0, "min": 1, "max": 1, "saturating_add": 1, "saturating_sub": 1, "map": 1,
}

func (cc *computedCompiler) compile(x stack.Expr) (cfn, error) {
	switch x := x.(type) {
	case *stack.ExprFieldRef:
		segs := strings.Split(x.Path, ".")
		if len(segs) == 1 {
			if i := cc.lookupVar(x.Path); i >= 0 {
				return func(e *cenv) (any, error) { return e.vars[i], nil }, nil
			}
			segs = []string{cc.section, x.Path}
		}
		if cc.sections[segs[0]] {
			cc.refs[segs[0]] = true
		}
		cc.reads = append(cc.reads, strings.Join(segs, "."))
		sec, slot := int32(-1), int32(-1)
		if cc.ent != nil {
			sec, slot = cc.ent.slotOf(segs)
		}
		if sec < 0 {
			return func(e *cenv) (any, error) {
				v, _ := getPath(e.state, segs)
				return v, nil
			}, nil
		}
		return func(e *cenv) (any, error) {
			v, _ := e.m.pathValue(sec, slot, segs) // e.state is the Machine's row
			return v, nil
		}, nil
	case *stack.ExprVar:
		i := cc.lookupVar(x.Name)
		if i < 0 {
			return nil, fmt.Errorf("unknown variable %q", x.Name)
		}
		return func(e *cenv) (any, error) { return e.vars[i], nil }, nil
	case *stack.ExprLet:
		val, err := cc.compile(x.Value)
		if err != nil {
			return nil, err
		}
		i := cc.push(x.Name)
		body, err := cc.compile(x.Body)
		cc.pop()
		if err != nil {
			return nil, err
		}
		return func(e *cenv) (any, error) {
			v, err := val(e)
			if err != nil {
				return nil, err
			}
			e.vars[i] = v
			return body(e)
		}, nil
	case *stack.ExprLiteral:
		v, err := fromSpecValue(x.Value)
		if err != nil {
			return nil, err
		}
		return func(*cenv) (any, error) { return v, nil }, nil
	case *stack.ExprNone:
		return func(*cenv) (any, error) { return nil, nil }, nil
	case *stack.ExprSome:
		return cc.compile(x.Value)
	case *stack.ExprParen:
		return cc.compile(x.Expr)
	case *stack.ExprUnwrapOr:
		inner, err := cc.compile(x.Expr)
		if err != nil {
			return nil, err
		}
		def, err := unwrapOrDefault(x.Default)
		if err != nil {
			return nil, err
		}
		return func(e *cenv) (any, error) {
			v, err := inner(e)
			if err != nil {
				return nil, err
			}
			if i, ok := asI64(v); ok {
				if _, isI64 := v.(int64); isI64 {
					return v, nil
				}
				return e.m.box.i64(i), nil
			}
			if u, ok := v.(uint64); ok {
				return e.m.box.i64(int64(u)), nil
			}
			return def, nil
		}, nil
	case *stack.ExprBinary:
		l, err := cc.compile(x.Left)
		if err != nil {
			return nil, err
		}
		r, err := cc.compile(x.Right)
		if err != nil {
			return nil, err
		}
		op := x.Op
		switch op {
		case stack.BinAnd, stack.BinOr:
			return func(e *cenv) (any, error) {
				a, err := l(e)
				if err != nil {
					return nil, err
				}
				ab, ok := a.(bool)
				if !ok {
					if a == nil {
						return nil, nil
					}
					return nil, cerr("%s needs booleans", op)
				}
				if op == stack.BinAnd && !ab {
					return false, nil
				}
				if op == stack.BinOr && ab {
					return true, nil
				}
				b, err := r(e)
				if err != nil {
					return nil, err
				}
				bb, ok := b.(bool)
				if !ok {
					if b == nil {
						return nil, nil
					}
					return nil, cerr("%s needs booleans", op)
				}
				return bb, nil
			}, nil
		}
		switch op {
		case stack.BinAdd, stack.BinSub, stack.BinMul, stack.BinDiv, stack.BinMod, stack.BinGt, stack.BinLt,
			stack.BinGte, stack.BinLte, stack.BinEq, stack.BinNe, stack.BinXor, stack.BinBitAnd,
			stack.BinBitOr, stack.BinShl, stack.BinShr:
		default:
			return nil, fmt.Errorf("unknown binary operator %q", op)
		}
		return func(e *cenv) (any, error) {
			a, err := l(e)
			if err != nil {
				return nil, err
			}
			b, err := r(e)
			if err != nil {
				return nil, err
			}
			return binop(op, a, b)
		}, nil
	case *stack.ExprUnary:
		inner, err := cc.compile(x.Expr)
		if err != nil {
			return nil, err
		}
		op := x.Op
		if op != stack.UnNot && op != stack.UnReverseBits {
			return nil, fmt.Errorf("unknown unary operator %q", op)
		}
		return func(e *cenv) (any, error) {
			v, err := inner(e)
			if err != nil || v == nil {
				return nil, err
			}
			switch v := v.(type) {
			case bool:
				if op == stack.UnNot {
					return !v, nil
				}
			case uint64:
				if op == stack.UnNot {
					return ^v, nil
				}
				return bits.Reverse64(v), nil
			case int64:
				if op == stack.UnNot {
					return ^v, nil
				}
				return int64(bits.Reverse64(uint64(v))), nil
			}
			return nil, cerr("%s of %s", op, typeName(v))
		}, nil
	case *stack.ExprCast:
		inner, err := cc.compile(x.Expr)
		if err != nil {
			return nil, err
		}
		to := x.ToType
		if !knownCast(to) {
			return nil, fmt.Errorf("unsupported cast to %q", to)
		}
		return func(e *cenv) (any, error) {
			v, err := inner(e)
			if err != nil || v == nil {
				return nil, err
			}
			return castTo(v, to)
		}, nil
	case *stack.ExprIf:
		c, err := cc.compile(x.Condition)
		if err != nil {
			return nil, err
		}
		t, err := cc.compile(x.ThenBranch)
		if err != nil {
			return nil, err
		}
		f, err := cc.compile(x.ElseBranch)
		if err != nil {
			return nil, err
		}
		return func(e *cenv) (any, error) {
			v, err := c(e)
			if err != nil {
				return nil, err
			}
			if b, _ := v.(bool); b {
				return t(e)
			}
			return f(e)
		}, nil
	case *stack.ExprMethodCall:
		return cc.method(x)
	case *stack.ExprResolverComputed:
		methods, ok := resolverArity[x.Resolver]
		if !ok {
			return nil, fmt.Errorf("unknown resolver %q", x.Resolver)
		}
		n, ok := methods[x.Method]
		if !ok {
			return nil, fmt.Errorf("resolver %q has no method %q", x.Resolver, x.Method)
		}
		if n != len(x.Args) {
			return nil, fmt.Errorf("resolver %s.%s takes %d arguments, got %d", x.Resolver, x.Method, n, len(x.Args))
		}
		args := make([]cfn, len(x.Args))
		for i, a := range x.Args {
			f, err := cc.compile(a)
			if err != nil {
				return nil, err
			}
			args[i] = f
		}
		fn := builtinResolvers[x.Resolver+"."+x.Method]
		if x.Resolver == "SlotHash" {
			cc.volatile = true
		}
		return func(e *cenv) (any, error) {
			// Arguments are evaluated into locals first: nested resolver calls use e.args too.
			var a0, a1, a2 any
			for i, a := range args {
				v, err := a(e)
				if err != nil {
					return nil, err
				}
				switch i {
				case 0:
					a0 = toJSONValue(v)
				case 1:
					a1 = toJSONValue(v)
				default:
					a2 = toJSONValue(v)
				}
			}
			e.args = [3]any{a0, a1, a2}
			return fn(e.m, &e.args)
		}, nil
	case *stack.ExprSlice:
		inner, err := cc.compile(x.Expr)
		if err != nil {
			return nil, err
		}
		start, end := x.Start, x.End
		if start < 0 || end < start {
			return nil, fmt.Errorf("bad slice [%d..%d]", start, end)
		}
		return func(e *cenv) (any, error) {
			v, err := inner(e)
			if err != nil || v == nil {
				return nil, err
			}
			switch v := v.(type) {
			case []byte:
				if end > len(v) {
					return nil, cerr("slice [%d..%d] of %d bytes", start, end, len(v))
				}
				return v[start:end], nil
			case []any:
				if end > len(v) {
					return nil, cerr("slice [%d..%d] of %d elements", start, end, len(v))
				}
				return v[start:end], nil
			case string:
				if end > len(v) {
					return nil, cerr("slice [%d..%d] of %d bytes", start, end, len(v))
				}
				return v[start:end], nil
			}
			return nil, cerr("slice of %s", typeName(v))
		}, nil
	case *stack.ExprIndex:
		inner, err := cc.compile(x.Expr)
		if err != nil {
			return nil, err
		}
		idx := x.Index
		return func(e *cenv) (any, error) {
			v, err := inner(e)
			if err != nil || v == nil {
				return nil, err
			}
			switch v := v.(type) {
			case []byte:
				if idx < 0 || idx >= len(v) {
					return nil, cerr("index %d of %d bytes", idx, len(v))
				}
				return uint64(v[idx]), nil
			case []any:
				if idx < 0 || idx >= len(v) {
					return nil, cerr("index %d of %d elements", idx, len(v))
				}
				return v[idx], nil
			}
			return nil, cerr("index into %s", typeName(v))
		}, nil
	case *stack.ExprU64FromLeBytes, *stack.ExprU64FromBeBytes:
		var src stack.Expr
		le := false
		if y, ok := x.(*stack.ExprU64FromLeBytes); ok {
			src, le = y.Bytes, true
		} else {
			src = x.(*stack.ExprU64FromBeBytes).Bytes
		}
		inner, err := cc.compile(src)
		if err != nil {
			return nil, err
		}
		return func(e *cenv) (any, error) {
			v, err := inner(e)
			if err != nil {
				return nil, err
			}
			b, _ := toBytes(v)
			if len(b) != 8 {
				return uint64(0), nil
			}
			if le {
				return binary.LittleEndian.Uint64(b), nil
			}
			return binary.BigEndian.Uint64(b), nil
		}, nil
	case *stack.ExprByteArray:
		b := append([]byte(nil), x.Bytes...)
		return func(*cenv) (any, error) { return b, nil }, nil
	case *stack.ExprJSONToBytes:
		inner, err := cc.compile(x.Expr)
		if err != nil {
			return nil, err
		}
		return func(e *cenv) (any, error) {
			v, err := inner(e)
			if err != nil {
				return nil, err
			}
			arr, ok := v.([]any)
			if !ok {
				if b, ok := v.([]byte); ok {
					return b, nil
				}
				return []byte{}, nil
			}
			out := make([]byte, 0, len(arr))
			for _, el := range arr {
				if u, ok := asU64(el); ok {
					out = append(out, byte(u))
				}
			}
			return out, nil
		}, nil
	case *stack.ExprKeccak256:
		inner, err := cc.compile(x.Expr)
		if err != nil {
			return nil, err
		}
		return func(e *cenv) (any, error) {
			v, err := inner(e)
			if err != nil || v == nil {
				return nil, err
			}
			b, ok := toBytes(v)
			if !ok {
				return nil, cerr("keccak256 of %s", typeName(v))
			}
			h := sha3.NewLegacyKeccak256()
			h.Write(b)
			return h.Sum(nil), nil
		}, nil
	case *stack.ExprContextSlot:
		cc.volatile = true
		return func(e *cenv) (any, error) {
			if e.slotAny == nil {
				e.slotAny = e.m.box.u64(e.slot)
			}
			return e.slotAny, nil
		}, nil
	case *stack.ExprContextTimestamp:
		cc.volatile = true
		return func(e *cenv) (any, error) { return e.ts, nil }, nil
	case *stack.ExprClosure:
		return nil, fmt.Errorf("closure outside map")
	case nil:
		return nil, fmt.Errorf("missing expression")
	}
	return nil, fmt.Errorf("unsupported expression %s", x.Variant())
}

func (cc *computedCompiler) method(x *stack.ExprMethodCall) (cfn, error) {
	n, ok := knownMethods[x.Method]
	if !ok {
		return nil, fmt.Errorf("unsupported method %q", x.Method)
	}
	if n != len(x.Args) {
		return nil, fmt.Errorf("method %s takes %d arguments, got %d", x.Method, n, len(x.Args))
	}
	inner, err := cc.compile(x.Expr)
	if err != nil {
		return nil, err
	}
	if x.Method == "map" {
		cl, ok := x.Args[0].(*stack.ExprClosure)
		if !ok {
			return nil, fmt.Errorf("map takes a closure")
		}
		slot := cc.push(cl.Param)
		body, err := cc.compile(cl.Body)
		cc.pop()
		if err != nil {
			return nil, err
		}
		if containsResolver(cl.Body) {
			// Over an array: each element as f64, elements whose body fails or is null are dropped.
			elem := func(e *cenv, f float64) any {
				e.vars[slot] = e.m.box.f64(f)
				r, err := body(e)
				if err != nil {
					return nil
				}
				return r
			}
			if dec, decOK, ok := uiAmountOfParam(cl); ok {
				// arr.map(|x| ui_amount(x, <literal>)), ORE's per-square amounts: the body
				// evaluated directly, without boxing the element or evaluating the arguments.
				elem = func(e *cenv, f float64) any {
					if !decOK {
						return nil
					}
					r, ok := uiAmountF64(f, dec)
					if !ok {
						return nil
					}
					return e.m.box.f64(r)
				}
			}
			return func(e *cenv) (any, error) {
				v, err := inner(e)
				if err != nil {
					return nil, err
				}
				arr, ok := v.([]any)
				if !ok {
					return nil, nil
				}
				out := make([]any, 0, len(arr))
				for _, el := range arr {
					f, ok := asF64(el)
					if !ok {
						continue
					}
					if r := elem(e, f); r != nil {
						out = append(out, r)
					}
				}
				return out, nil
			}, nil
		}
		// Over a scalar: the value as u64.
		return func(e *cenv) (any, error) {
			v, err := inner(e)
			if err != nil {
				return nil, err
			}
			u, ok := asU64(v)
			if !ok || isFloat(v) {
				return nil, nil
			}
			e.vars[slot] = u
			return body(e)
		}, nil
	}
	var arg cfn
	if n == 1 {
		if arg, err = cc.compile(x.Args[0]); err != nil {
			return nil, err
		}
	}
	method := x.Method
	return func(e *cenv) (any, error) {
		v, err := inner(e)
		if err != nil {
			return nil, err
		}
		var a any
		if arg != nil {
			if a, err = arg(e); err != nil {
				return nil, err
			}
		}
		switch method {
		case "unwrap_or":
			if v == nil {
				return a, nil
			}
			return v, nil
		case "unwrap_or_default":
			if v == nil {
				return uint64(0), nil
			}
			return v, nil
		case "is_some":
			return v != nil, nil
		case "is_none":
			return v == nil, nil
		}
		if v == nil {
			return nil, nil
		}
		switch method {
		case "abs":
			switch v := v.(type) {
			case int64:
				if v < 0 {
					return -v, nil
				}
				return v, nil
			case float64:
				return math.Abs(v), nil
			case uint64:
				return v, nil
			}
		case "len":
			switch v := v.(type) {
			case []byte:
				return uint64(len(v)), nil
			case []any:
				return uint64(len(v)), nil
			case string:
				return uint64(len(v)), nil
			}
			if n, ok := objectLen(v); ok {
				return uint64(n), nil
			}
		case "to_string":
			return displayString(v), nil
		case "min", "max":
			if a == nil {
				return nil, nil
			}
			c, ok := compareNumbers(v, a)
			if !ok {
				break
			}
			if (method == "min") == (c <= 0) {
				return v, nil
			}
			return a, nil
		case "saturating_add", "saturating_sub":
			return saturating(method == "saturating_add", v, a)
		}
		return nil, cerr("%s on %s", method, typeName(v))
	}, nil
}

// uiAmountOfParam recognises a closure |x| TokenMetadata.ui_amount(x, <literal>) and returns the
// literal's decimals as ui_amount reads them (decOK false: every call gives null).
func uiAmountOfParam(cl *stack.ExprClosure) (dec uint8, decOK, ok bool) {
	rc, isRC := cl.Body.(*stack.ExprResolverComputed)
	if !isRC || rc.Resolver != "TokenMetadata" || rc.Method != "ui_amount" || len(rc.Args) != 2 {
		return 0, false, false
	}
	if v, isVar := rc.Args[0].(*stack.ExprVar); !isVar || v.Name != cl.Param {
		return 0, false, false
	}
	lit, isLit := rc.Args[1].(*stack.ExprLiteral)
	if !isLit {
		return 0, false, false
	}
	v, err := fromSpecValue(lit.Value)
	if err != nil {
		return 0, false, false
	}
	dec, decOK = optionalU8(toJSONValue(v))
	return dec, decOK, true
}

func containsResolver(x stack.Expr) bool {
	found := false
	stack.Walk(x, func(e stack.Expr) bool {
		if _, ok := e.(*stack.ExprResolverComputed); ok {
			found = true
		}
		return !found
	})
	return found
}

func unwrapOrDefault(v stack.Value) (any, error) {
	switch v.Kind() {
	case stack.KindUint, stack.KindInt:
		if i, ok := v.Int64(); ok {
			return i, nil
		}
		u, _ := v.Uint64()
		return u, nil
	case stack.KindFloat:
		f, _ := v.Float64()
		return f, nil
	case stack.KindBool:
		if b, _ := v.Bool(); b {
			return int64(1), nil
		}
	}
	return int64(0), nil
}
