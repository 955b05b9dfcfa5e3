package vm

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hyperstack-go/hyperstack/internal/stack"
)

func TestIntegerBinops(t *testing.T) {
	cases := []struct {
		op   stack.BinaryOp
		a, b any
		want any
	}{
		{stack.BinAdd, uint64(math.MaxUint64), uint64(2), uint64(1)}, // wraps
		{stack.BinSub, uint64(1), uint64(2), uint64(math.MaxUint64)},
		{stack.BinMul, uint64(6), uint64(7), uint64(42)},
		{stack.BinDiv, uint64(7), uint64(2), uint64(3)},
		{stack.BinMod, uint64(7), uint64(2), uint64(1)},
		{stack.BinShl, uint64(1), uint64(65), uint64(2)}, // shift count modulo 64
		{stack.BinShr, uint64(8), uint64(3), uint64(1)},
		{stack.BinXor, uint64(6), uint64(3), uint64(5)},
		{stack.BinBitAnd, uint64(6), uint64(3), uint64(2)},
		{stack.BinBitOr, uint64(6), uint64(3), uint64(7)},
		{stack.BinGt, uint64(2), uint64(1), true},
		{stack.BinLte, uint64(2), uint64(1), false},
		// One signed operand: signed arithmetic, u64 reinterpreted.
		{stack.BinSub, int64(1), uint64(2), int64(-1)},
		{stack.BinAdd, int64(math.MaxInt64), int64(1), int64(math.MinInt64)},
		{stack.BinDiv, int64(-7), int64(2), int64(-3)},
		{stack.BinMod, int64(-7), int64(2), int64(-1)},
		{stack.BinShr, int64(-8), int64(1), int64(-4)},
		{stack.BinLt, int64(-1), uint64(0), true},
	}
	for _, c := range cases {
		got, err := binop(c.op, c.a, c.b)
		require.NoError(t, err, "%v %s %v", c.a, c.op, c.b)
		assert.Equal(t, c.want, got, "%v %s %v", c.a, c.op, c.b)
	}

	errs := []struct {
		op   stack.BinaryOp
		a, b any
		want string
	}{
		{stack.BinDiv, uint64(1), uint64(0), "division by zero"},
		{stack.BinMod, uint64(1), uint64(0), "remainder by zero"},
		{stack.BinDiv, int64(1), int64(0), "division overflow"},
		{stack.BinDiv, int64(math.MinInt64), int64(-1), "division overflow"},
		{stack.BinMod, int64(math.MinInt64), int64(-1), "remainder overflow"},
	}
	for _, c := range errs {
		_, err := binop(c.op, c.a, c.b)
		require.Error(t, err, "%v %s %v", c.a, c.op, c.b)
		assert.Contains(t, err.Error(), c.want)
	}
}
