package stack

// decodeExpr decodes a ComputedExpr.
func decodeExpr(n *node, path string) Expr {
	name, payload, pp := tagOf(n, path)
	sub := func(o *obj, key string) Expr { return decodeExpr(o.req(key), o.at(key)) }
	args := func(o *obj, key string) []Expr {
		out := []Expr{}
		o.each(key, false, func(n *node, p string) { out = append(out, decodeExpr(n, p)) })
		return out
	}
	fields := func(keys ...string) *obj { return object(content(name, payload, pp), pp, keys...) }
	switch name {
	case "FieldRef":
		o := fields("path")
		return &ExprFieldRef{Path: o.reqStr("path")}
	case "UnwrapOr":
		o := fields("expr", "default")
		return &ExprUnwrapOr{Expr: sub(o, "expr"), Default: o.reqValue("default")}
	case "Binary":
		o := fields("op", "left", "right")
		return &ExprBinary{
			Op: unitEnum(o.req("op"), o.at("op"), BinAdd, BinSub, BinMul, BinDiv, BinMod, BinGt, BinLt,
				BinGte, BinLte, BinEq, BinNe, BinAnd, BinOr, BinXor, BinBitAnd, BinBitOr, BinShl, BinShr),
			Left:  sub(o, "left"),
			Right: sub(o, "right"),
		}
	case "Cast":
		o := fields("expr", "to_type")
		return &ExprCast{Expr: sub(o, "expr"), ToType: o.reqStr("to_type")}
	case "MethodCall":
		o := fields("expr", "method", "args")
		return &ExprMethodCall{Expr: sub(o, "expr"), Method: o.reqStr("method"), Args: args(o, "args")}
	case "ResolverComputed":
		o := fields("resolver", "method", "args")
		return &ExprResolverComputed{Resolver: o.reqStr("resolver"), Method: o.reqStr("method"), Args: args(o, "args")}
	case "Literal":
		o := fields("value")
		return &ExprLiteral{Value: o.reqValue("value")}
	case "Paren":
		o := fields("expr")
		return &ExprParen{Expr: sub(o, "expr")}
	case "Var":
		o := fields("name")
		return &ExprVar{Name: o.reqStr("name")}
	case "Let":
		o := fields("name", "value", "body")
		return &ExprLet{Name: o.reqStr("name"), Value: sub(o, "value"), Body: sub(o, "body")}
	case "If":
		o := fields("condition", "then_branch", "else_branch")
		return &ExprIf{Condition: sub(o, "condition"), ThenBranch: sub(o, "then_branch"), ElseBranch: sub(o, "else_branch")}
	case "None":
		unit(name, payload, pp)
		return &ExprNone{}
	case "Some":
		o := fields("value")
		return &ExprSome{Value: sub(o, "value")}
	case "Slice":
		o := fields("expr", "start", "end")
		return &ExprSlice{Expr: sub(o, "expr"), Start: o.reqUsize("start"), End: o.reqUsize("end")}
	case "Index":
		o := fields("expr", "index")
		return &ExprIndex{Expr: sub(o, "expr"), Index: o.reqUsize("index")}
	case "U64FromLeBytes":
		o := fields("bytes")
		return &ExprU64FromLeBytes{Bytes: sub(o, "bytes")}
	case "U64FromBeBytes":
		o := fields("bytes")
		return &ExprU64FromBeBytes{Bytes: sub(o, "bytes")}
	case "ByteArray":
		o := fields("bytes")
		return &ExprByteArray{Bytes: o.reqBytes("bytes")}
	case "Closure":
		o := fields("param", "body")
		return &ExprClosure{Param: o.reqStr("param"), Body: sub(o, "body")}
	case "Unary":
		o := fields("op", "expr")
		return &ExprUnary{Op: unitEnum(o.req("op"), o.at("op"), UnNot, UnReverseBits), Expr: sub(o, "expr")}
	case "JsonToBytes":
		o := fields("expr")
		return &ExprJSONToBytes{Expr: sub(o, "expr")}
	case "ContextSlot":
		unit(name, payload, pp)
		return &ExprContextSlot{}
	case "ContextTimestamp":
		unit(name, payload, pp)
		return &ExprContextTimestamp{}
	case "Keccak256":
		o := fields("expr")
		return &ExprKeccak256{Expr: sub(o, "expr")}
	}
	unknownVariant(path, name)
	return nil
}
