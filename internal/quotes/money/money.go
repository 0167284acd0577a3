// Package money does quote arithmetic exactly: amounts are int64 fen (分),
// quantities are int64 thousandths of a unit, discounts and tax rates are
// int64 basis points (1 bp = 0.01 %). Every operation that could leave the
// int64 range says so with ErrOverflow instead of wrapping.
//
// The rounding rule (one rule, applied everywhere, documented for customers
// and finance alike):
//
//  1. line amount = round_half_up(quantity × unit price × (1 − line discount)),
//     computed exactly and rounded once, to the fen;
//  2. subtotal = Σ line amounts (already rounded);
//  3. the overall discount is applied to the subtotal and rounded once:
//     net = round_half_up(subtotal × (1 − overall discount)); the discount
//     (subtotal − net) is spread over the lines in proportion to their
//     amounts by the largest-remainder method, so the lines' net amounts
//     add up to net exactly;
//  4. tax per line = round_half_up(line net × the line's tax rate); tax = Σ;
//  5. grand total = net + tax = Σ (line net + line tax).
//
// So a total always equals the sum of its rounded parts; nothing is
// rounded twice. Halves round away from zero (四舍五入).
package money

import (
	"errors"
	"math"
	"math/big"
	"math/bits"
)

// ErrOverflow reports a result outside the supported range.
var ErrOverflow = errors.New("money: amount out of range")

// Scales of the fixed-point inputs.
const (
	QtyScale = 1000  // quantities are thousandths of a unit
	BPScale  = 10000 // discounts and rates are basis points: 10000 = 100 %
)

// Add returns a + b or ErrOverflow.
func Add(a, b int64) (int64, error) {
	s := a + b
	if (s > a) != (b > 0) {
		return 0, ErrOverflow
	}
	return s, nil
}

// Sub returns a − b or ErrOverflow.
func Sub(a, b int64) (int64, error) {
	if b == math.MinInt64 {
		return 0, ErrOverflow
	}
	return Add(a, -b)
}

// Mul returns a × b or ErrOverflow.
func Mul(a, b int64) (int64, error) {
	if a == 0 || b == 0 {
		return 0, nil
	}
	neg := (a < 0) != (b < 0)
	ua, ub := abs(a), abs(b)
	hi, lo := bits.Mul64(ua, ub)
	if hi != 0 {
		return 0, ErrOverflow
	}
	if neg {
		if lo > 1<<63 {
			return 0, ErrOverflow
		}
		return -int64(lo), nil
	}
	if lo > math.MaxInt64 {
		return 0, ErrOverflow
	}
	return int64(lo), nil
}

func abs(a int64) uint64 {
	if a < 0 {
		return uint64(-(a + 1)) + 1
	}
	return uint64(a)
}

// Sum adds amounts or reports ErrOverflow.
func Sum(xs ...int64) (int64, error) {
	var s int64
	var err error
	for _, x := range xs {
		if s, err = Add(s, x); err != nil {
			return 0, err
		}
	}
	return s, nil
}

// RoundDiv returns round_half_up(num / den) for den > 0 (halves away from
// zero), or ErrOverflow if the quotient leaves int64.
func RoundDiv(num, den *big.Int) (int64, error) {
	q, r := new(big.Int).QuoRem(num, den, new(big.Int))
	// |r| * 2 >= den → move away from zero.
	r2 := new(big.Int).Abs(r)
	r2.Lsh(r2, 1)
	if r2.Cmp(den) >= 0 {
		if num.Sign() < 0 {
			q.Sub(q, big.NewInt(1))
		} else {
			q.Add(q, big.NewInt(1))
		}
	}
	if !q.IsInt64() {
		return 0, ErrOverflow
	}
	return q.Int64(), nil
}

var (
	bigQtyBP = big.NewInt(QtyScale * BPScale)
	bigBP    = big.NewInt(BPScale)
)

// LineAmount is rule 1: round_half_up(qty/1000 × unit × (1 − discount/10000)).
func LineAmount(qtyMilli, unitFen, discountBP int64) (int64, error) {
	n := new(big.Int).Mul(big.NewInt(qtyMilli), big.NewInt(unitFen))
	n.Mul(n, big.NewInt(BPScale-discountBP))
	return RoundDiv(n, bigQtyBP)
}

// Extend is round_half_up(qty/1000 × unit) (a line before discount, or its cost).
func Extend(qtyMilli, unitFen int64) (int64, error) {
	return RoundDiv(new(big.Int).Mul(big.NewInt(qtyMilli), big.NewInt(unitFen)), big.NewInt(QtyScale))
}

// ApplyBP is round_half_up(amount × bp / 10000) (a tax, or a share).
func ApplyBP(amount, bp int64) (int64, error) {
	return RoundDiv(new(big.Int).Mul(big.NewInt(amount), big.NewInt(bp)), bigBP)
}

// Line is one quote line's inputs.
type Line struct {
	QtyMilli   int64
	UnitFen    int64
	DiscountBP int64
	TaxRateBP  int64
	// CostFen is the unit cost, or −1 when unknown (free-text lines).
	CostFen int64
}

// LineResult is one line's rounded parts.
type LineResult struct {
	Gross    int64 // qty × unit, rounded (before the line discount)
	Amount   int64 // rule 1
	Net      int64 // after its share of the overall discount
	Tax      int64
	Total    int64 // Net + Tax
	CostFen  int64 // qty × unit cost, rounded (−1 when unknown)
	Discount int64 // Gross − Amount
}

// Totals are a quote's rounded totals.
type Totals struct {
	Lines           []LineResult
	Gross           int64 // Σ line gross (list value before any discount)
	Subtotal        int64 // Σ line amounts
	OverallDiscount int64 // subtotal − net
	Net             int64 // excluding tax
	Tax             int64
	Total           int64 // Net + Tax
	// Cost is Σ line costs; CostKnown is false if any line's cost is unknown.
	Cost      int64
	CostKnown bool
	// MarginBP is (Net − Cost) / Net in basis points (0 when Net is 0 or
	// the cost is unknown).
	MarginBP int64
}

// Compute applies the rounding rule to lines and an overall discount.
func Compute(lines []Line, overallDiscountBP int64) (*Totals, error) {
	t := &Totals{Lines: make([]LineResult, len(lines)), CostKnown: true}
	var err error
	for i, l := range lines {
		r := &t.Lines[i]
		if r.Gross, err = Extend(l.QtyMilli, l.UnitFen); err != nil {
			return nil, err
		}
		if r.Amount, err = LineAmount(l.QtyMilli, l.UnitFen, l.DiscountBP); err != nil {
			return nil, err
		}
		if r.Discount, err = Sub(r.Gross, r.Amount); err != nil {
			return nil, err
		}
		if t.Gross, err = Add(t.Gross, r.Gross); err != nil {
			return nil, err
		}
		if t.Subtotal, err = Add(t.Subtotal, r.Amount); err != nil {
			return nil, err
		}
		r.CostFen = -1
		if l.CostFen >= 0 {
			if r.CostFen, err = Extend(l.QtyMilli, l.CostFen); err != nil {
				return nil, err
			}
			if t.Cost, err = Add(t.Cost, r.CostFen); err != nil {
				return nil, err
			}
		} else {
			t.CostKnown = false
		}
	}
	if t.Net, err = LineAmount(QtyScale, t.Subtotal, overallDiscountBP); err != nil {
		return nil, err
	}
	t.OverallDiscount = t.Subtotal - t.Net
	shares, err := Allocate(t.OverallDiscount, amounts(t.Lines))
	if err != nil {
		return nil, err
	}
	for i := range t.Lines {
		r := &t.Lines[i]
		r.Net = r.Amount - shares[i]
		if r.Tax, err = ApplyBP(r.Net, lines[i].TaxRateBP); err != nil {
			return nil, err
		}
		if r.Total, err = Add(r.Net, r.Tax); err != nil {
			return nil, err
		}
		if t.Tax, err = Add(t.Tax, r.Tax); err != nil {
			return nil, err
		}
	}
	if t.Total, err = Add(t.Net, t.Tax); err != nil {
		return nil, err
	}
	if t.CostKnown && t.Net != 0 {
		if t.MarginBP, err = RoundDiv(new(big.Int).Mul(big.NewInt(t.Net-t.Cost), bigBP), big.NewInt(t.Net)); err != nil {
			return nil, err
		}
	}
	return t, nil
}

func amounts(ls []LineResult) []int64 {
	out := make([]int64, len(ls))
	for i, l := range ls {
		out[i] = l.Amount
	}
	return out
}

// Allocate splits total (≥ 0) over weights (≥ 0) in proportion, by the
// largest-remainder method: each share is floor(total × w / Σw) and the fen
// left over go one each to the largest remainders (earlier lines first on a
// tie). The shares add up to total exactly and no share exceeds its weight
// when total ≤ Σw.
func Allocate(total int64, weights []int64) ([]int64, error) {
	out := make([]int64, len(weights))
	if total == 0 || len(weights) == 0 {
		return out, nil
	}
	sum, err := Sum(weights...)
	if err != nil {
		return nil, err
	}
	if sum <= 0 {
		return nil, ErrOverflow
	}
	type rem struct {
		i int
		r *big.Int
	}
	rems := make([]rem, len(weights))
	bsum, btotal := big.NewInt(sum), big.NewInt(total)
	var given int64
	for i, w := range weights {
		q, r := new(big.Int).QuoRem(new(big.Int).Mul(btotal, big.NewInt(w)), bsum, new(big.Int))
		out[i] = q.Int64()
		given += out[i]
		rems[i] = rem{i, r}
	}
	left := total - given // < len(weights)
	// Stable selection of the largest remainders.
	for k := int64(0); k < left; k++ {
		best := -1
		for j := range rems {
			if rems[j].r == nil {
				continue
			}
			if best < 0 || rems[j].r.Cmp(rems[best].r) > 0 {
				best = j
			}
		}
		out[rems[best].i]++
		rems[best].r = nil
	}
	return out, nil
}
