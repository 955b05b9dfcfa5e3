package vm

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hyperstack-go/hyperstack/internal/stack"
)

// arr.map(|x| ui_amount(x, 9)) has a direct implementation; it must give what the general closure
// evaluation gives (here forced by parenthesising the literal) for every kind of element.
func TestUiAmountMapMatchesGeneralEvaluation(t *testing.T) {
	for _, decimals := range []string{"9", "0", "255", "256", `"6"`, "null", "-1", "2.5"} {
		lit, err := stack.NewValue([]byte(decimals))
		require.NoError(t, err)
		mapExpr := func(arg stack.Expr) stack.Expr {
			return &stack.ExprMethodCall{Expr: &stack.ExprFieldRef{Path: "s.arr"}, Method: "map", Args: []stack.Expr{
				&stack.ExprClosure{Param: "x", Body: &stack.ExprResolverComputed{Resolver: "TokenMetadata", Method: "ui_amount",
					Args: []stack.Expr{&stack.ExprVar{Name: "x"}, arg}}}}}
		}
		ent := &Entity{}
		compile := func(x stack.Expr) cfn {
			cc := &computedCompiler{ent: ent, section: "s", sections: map[string]bool{"s": true}, refs: map[string]bool{}}
			fn, err := cc.compile(x)
			require.NoError(t, err)
			return fn
		}
		fast := compile(mapExpr(&stack.ExprLiteral{Value: lit}))
		general := compile(mapExpr(&stack.ExprParen{Expr: &stack.ExprLiteral{Value: lit}}))
		_, _, recognised := uiAmountOfParam(mapExpr(&stack.ExprLiteral{Value: lit}).(*stack.ExprMethodCall).Args[0].(*stack.ExprClosure))
		require.True(t, recognised)

		for _, arr := range []any{
			[]any{uint64(0), uint64(1), uint64(123_456_789_000), uint64(math.MaxUint64), int64(-5), 1.5, math.NaN(),
				math.Inf(1), "7", nil, true, []any{}, map[string]any{}},
			[]any{},
			"not an array",
			nil,
		} {
			m := &Machine{secs: make([]secEntry, len(ent.secNames))}
			m.state = map[string]any{"s": map[string]any{"arr": arr}}
			env := func() *cenv {
				m.secGen++
				return &cenv{m: m, state: m.state, vars: make([]any, 1)}
			}
			a, errA := fast(env())
			b, errB := general(env())
			require.Equal(t, errB, errA)
			require.Equal(t, string(appendJSON(nil, toJSONValue(b))), string(appendJSON(nil, toJSONValue(a))), "decimals %s, %v", decimals, arr)
		}
	}
}
