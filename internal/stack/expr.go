package stack

// Expr is a node of a computed-field expression (ComputedExpr). Each variant is one struct; Variant
// returns the serialized tag.
type Expr interface {
	isExpr()
	Variant() string
}

// BinaryOp is an operator of ExprBinary.
type BinaryOp string

// Binary operators.
const (
	BinAdd    BinaryOp = "Add"
	BinSub    BinaryOp = "Sub"
	BinMul    BinaryOp = "Mul"
	BinDiv    BinaryOp = "Div"
	BinMod    BinaryOp = "Mod"
	BinGt     BinaryOp = "Gt"
	BinLt     BinaryOp = "Lt"
	BinGte    BinaryOp = "Gte"
	BinLte    BinaryOp = "Lte"
	BinEq     BinaryOp = "Eq"
	BinNe     BinaryOp = "Ne"
	BinAnd    BinaryOp = "And"
	BinOr     BinaryOp = "Or"
	BinXor    BinaryOp = "Xor"
	BinBitAnd BinaryOp = "BitAnd"
	BinBitOr  BinaryOp = "BitOr"
	BinShl    BinaryOp = "Shl"
	BinShr    BinaryOp = "Shr"
)

// UnaryOp is an operator of ExprUnary.
type UnaryOp string

// Unary operators.
const (
	UnNot         UnaryOp = "Not"
	UnReverseBits UnaryOp = "ReverseBits"
)

// ExprFieldRef reads a state field: "section.field" (a bare name belongs to the field's own section).
type ExprFieldRef struct{ Path string }

// ExprUnwrapOr is expr.unwrap_or(default).
type ExprUnwrapOr struct {
	Expr    Expr
	Default Value
}

// ExprBinary is left op right.
type ExprBinary struct {
	Op          BinaryOp
	Left, Right Expr
}

// ExprCast is expr as to_type.
type ExprCast struct {
	Expr   Expr
	ToType string
}

// ExprMethodCall is expr.method(args).
type ExprMethodCall struct {
	Expr   Expr
	Method string
	Args   []Expr
}

// ExprResolverComputed is a built-in resolver computation, e.g. TokenMetadata.ui_amount(raw, decimals).
type ExprResolverComputed struct {
	Resolver string
	Method   string
	Args     []Expr
}

// ExprLiteral is a literal JSON value.
type ExprLiteral struct{ Value Value }

// ExprParen is a parenthesized expression.
type ExprParen struct{ Expr Expr }

// ExprVar references a let binding or closure parameter.
type ExprVar struct{ Name string }

// ExprLet is let name = value; body.
type ExprLet struct {
	Name  string
	Value Expr
	Body  Expr
}

// ExprIf is if condition { then } else { else }.
type ExprIf struct {
	Condition  Expr
	ThenBranch Expr
	ElseBranch Expr
}

// ExprNone is Option::None.
type ExprNone struct{}

// ExprSome is Some(value).
type ExprSome struct{ Value Expr }

// ExprSlice is expr[start..end].
type ExprSlice struct {
	Expr       Expr
	Start, End int
}

// ExprIndex is expr[index].
type ExprIndex struct {
	Expr  Expr
	Index int
}

// ExprU64FromLeBytes reads a little-endian u64.
type ExprU64FromLeBytes struct{ Bytes Expr }

// ExprU64FromBeBytes reads a big-endian u64.
type ExprU64FromBeBytes struct{ Bytes Expr }

// ExprByteArray is a byte array literal.
type ExprByteArray struct{ Bytes []byte }

// ExprClosure is |param| body (only as the argument of map).
type ExprClosure struct {
	Param string
	Body  Expr
}

// ExprUnary is op expr.
type ExprUnary struct {
	Op   UnaryOp
	Expr Expr
}

// ExprJSONToBytes converts a JSON number array to bytes.
type ExprJSONToBytes struct{ Expr Expr }

// ExprContextSlot is the slot of the triggering update (__slot).
type ExprContextSlot struct{}

// ExprContextTimestamp is the timestamp of the triggering update (__timestamp).
type ExprContextTimestamp struct{}

// ExprKeccak256 hashes a byte array.
type ExprKeccak256 struct{ Expr Expr }

func (*ExprFieldRef) isExpr()         {}
func (*ExprUnwrapOr) isExpr()         {}
func (*ExprBinary) isExpr()           {}
func (*ExprCast) isExpr()             {}
func (*ExprMethodCall) isExpr()       {}
func (*ExprResolverComputed) isExpr() {}
func (*ExprLiteral) isExpr()          {}
func (*ExprParen) isExpr()            {}
func (*ExprVar) isExpr()              {}
func (*ExprLet) isExpr()              {}
func (*ExprIf) isExpr()               {}
func (*ExprNone) isExpr()             {}
func (*ExprSome) isExpr()             {}
func (*ExprSlice) isExpr()            {}
func (*ExprIndex) isExpr()            {}
func (*ExprU64FromLeBytes) isExpr()   {}
func (*ExprU64FromBeBytes) isExpr()   {}
func (*ExprByteArray) isExpr()        {}
func (*ExprClosure) isExpr()          {}
func (*ExprUnary) isExpr()            {}
func (*ExprJSONToBytes) isExpr()      {}
func (*ExprContextSlot) isExpr()      {}
func (*ExprContextTimestamp) isExpr() {}
func (*ExprKeccak256) isExpr()        {}

// Variant implements Expr.
func (*ExprFieldRef) Variant() string { return "FieldRef" }

// Variant implements Expr.
func (*ExprUnwrapOr) Variant() string { return "UnwrapOr" }

// Variant implements Expr.
func (*ExprBinary) Variant() string { return "Binary" }

// Variant implements Expr.
func (*ExprCast) Variant() string { return "Cast" }

// Variant implements Expr.
func (*ExprMethodCall) Variant() string { return "MethodCall" }

// Variant implements Expr.
func (*ExprResolverComputed) Variant() string { return "ResolverComputed" }

// Variant implements Expr.
func (*ExprLiteral) Variant() string { return "Literal" }

// Variant implements Expr.
func (*ExprParen) Variant() string { return "Paren" }

// Variant implements Expr.
func (*ExprVar) Variant() string { return "Var" }

// Variant implements Expr.
func (*ExprLet) Variant() string { return "Let" }

// Variant implements Expr.
func (*ExprIf) Variant() string { return "If" }

// Variant implements Expr.
func (*ExprNone) Variant() string { return "None" }

// Variant implements Expr.
func (*ExprSome) Variant() string { return "Some" }

// Variant implements Expr.
func (*ExprSlice) Variant() string { return "Slice" }

// Variant implements Expr.
func (*ExprIndex) Variant() string { return "Index" }

// Variant implements Expr.
func (*ExprU64FromLeBytes) Variant() string { return "U64FromLeBytes" }

// Variant implements Expr.
func (*ExprU64FromBeBytes) Variant() string { return "U64FromBeBytes" }

// Variant implements Expr.
func (*ExprByteArray) Variant() string { return "ByteArray" }

// Variant implements Expr.
func (*ExprClosure) Variant() string { return "Closure" }

// Variant implements Expr.
func (*ExprUnary) Variant() string { return "Unary" }

// Variant implements Expr.
func (*ExprJSONToBytes) Variant() string { return "JsonToBytes" }

// Variant implements Expr.
func (*ExprContextSlot) Variant() string { return "ContextSlot" }

// Variant implements Expr.
func (*ExprContextTimestamp) Variant() string { return "ContextTimestamp" }

// Variant implements Expr.
func (*ExprKeccak256) Variant() string { return "Keccak256" }

// Children returns the direct sub-expressions of e, in field order.
func Children(e Expr) []Expr {
	switch x := e.(type) {
	case *ExprUnwrapOr:
		return []Expr{x.Expr}
	case *ExprBinary:
		return []Expr{x.Left, x.Right}
	case *ExprCast:
		return []Expr{x.Expr}
	case *ExprMethodCall:
		return append([]Expr{x.Expr}, x.Args...)
	case *ExprResolverComputed:
		return append([]Expr(nil), x.Args...)
	case *ExprParen:
		return []Expr{x.Expr}
	case *ExprLet:
		return []Expr{x.Value, x.Body}
	case *ExprIf:
		return []Expr{x.Condition, x.ThenBranch, x.ElseBranch}
	case *ExprSome:
		return []Expr{x.Value}
	case *ExprSlice:
		return []Expr{x.Expr}
	case *ExprIndex:
		return []Expr{x.Expr}
	case *ExprU64FromLeBytes:
		return []Expr{x.Bytes}
	case *ExprU64FromBeBytes:
		return []Expr{x.Bytes}
	case *ExprClosure:
		return []Expr{x.Body}
	case *ExprUnary:
		return []Expr{x.Expr}
	case *ExprJSONToBytes:
		return []Expr{x.Expr}
	case *ExprKeccak256:
		return []Expr{x.Expr}
	}
	return nil
}

// Walk calls fn for e and, while fn returns true, for its sub-expressions depth-first in field order.
func Walk(e Expr, fn func(Expr) bool) {
	if e == nil || !fn(e) {
		return
	}
	for _, c := range Children(e) {
		Walk(c, fn)
	}
}

// FieldRefs returns the paths of every ExprFieldRef in e, in walk order, without duplicates.
func FieldRefs(e Expr) []string {
	var out []string
	seen := map[string]bool{}
	Walk(e, func(x Expr) bool {
		if r, ok := x.(*ExprFieldRef); ok && !seen[r.Path] {
			seen[r.Path] = true
			out = append(out, r.Path)
		}
		return true
	})
	return out
}
