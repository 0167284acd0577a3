package money

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

func TestCheckedArithmetic(t *testing.T) {
	if _, err := Add(math.MaxInt64, 1); err != ErrOverflow {
		t.Error("MaxInt64 + 1 did not overflow")
	}
	if _, err := Add(math.MinInt64, -1); err != ErrOverflow {
		t.Error("MinInt64 − 1 did not overflow")
	}
	if _, err := Sub(0, math.MinInt64); err != ErrOverflow {
		t.Error("0 − MinInt64 did not overflow")
	}
	if _, err := Mul(math.MaxInt64/2+1, 2); err != ErrOverflow {
		t.Error("Mul did not overflow")
	}
	if v, err := Mul(math.MinInt64/2, 2); err != nil || v != math.MinInt64 {
		t.Errorf("Mul(MinInt64/2, 2) = %d, %v", v, err)
	}
	if v, err := Mul(-3, 4); err != nil || v != -12 {
		t.Errorf("Mul(-3, 4) = %d, %v", v, err)
	}
	if _, err := LineAmount(1_000_000_000_000, math.MaxInt64/1000, 0); err != ErrOverflow {
		t.Error("a huge line did not overflow")
	}
}

func TestRoundingRule(t *testing.T) {
	for _, c := range []struct {
		qty, unit, disc, want int64
	}{
		{1000, 100, 0, 100},      // 1 × 1.00
		{1500, 333, 0, 500},      // 1.5 × 3.33 = 4.995 → 5.00 (half up)
		{1000, 1, 5000, 1},       // 0.01 × 50 % = 0.005 → 0.01
		{1000, 3, 5000, 2},       // 0.015 → 0.02
		{333, 100, 0, 33},        // 0.333 × 1.00 = 0.333 → 0.33
		{1000, 999, 1000, 899},   // 9.99 × 90 % = 8.991 → 8.99
		{3000, 3333, 1250, 8749}, // 3 × 33.33 × 87.5 % = 87.49125 → 87.49
		{1000, 12345, 10000, 0},  // 100 % discount
		{2000, 150, 3333, 200},   // 3.00 × 66.67 % = 2.0001 → 2.00
	} {
		got, err := LineAmount(c.qty, c.unit, c.disc)
		if err != nil || got != c.want {
			t.Errorf("LineAmount(%d, %d, %d) = %d, %v; want %d", c.qty, c.unit, c.disc, got, err, c.want)
		}
	}
	if v, _ := ApplyBP(-5, 1000); v != -1 { // −0.5 fen rounds away from zero
		t.Errorf("ApplyBP(-5, 10 %%) = %d", v)
	}
}

// exact is round_half_up of a rational, computed with big.Rat: an
// independent check of the big.Int rounding.
func exact(r *big.Rat) int64 {
	n, d := new(big.Int).Set(r.Num()), r.Denom()
	twice := new(big.Int).Mul(n, big.NewInt(2))
	twice.Add(twice, d)
	twice.Div(twice, new(big.Int).Mul(d, big.NewInt(2))) // floor((2n + d) / 2d) = floor(n/d + 1/2)
	return twice.Int64()
}

// Property: for random quotes, every total is the sum of its rounded parts,
// each line is the exactly rounded product, the overall discount is rounded
// once, and no line's share of it exceeds the line.
func TestTotalsAddUp(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	rates := []int64{1300, 900, 600, 0}
	for iter := range 3000 {
		n := 1 + r.IntN(60)
		lines := make([]Line, n)
		for i := range lines {
			lines[i] = Line{QtyMilli: 1 + r.Int64N(5_000_000), UnitFen: r.Int64N(100_000_000), DiscountBP: r.Int64N(10001),
				TaxRateBP: rates[r.IntN(len(rates))], CostFen: r.Int64N(100_000_000) - 1}
			if iter%5 == 0 {
				lines[i].DiscountBP = 0
			}
		}
		overall := r.Int64N(10001)
		if iter%3 == 0 {
			overall = 0
		}
		tot, err := Compute(lines, overall)
		if err != nil {
			t.Fatal(err)
		}
		var sumAmount, sumNet, sumTax, sumTotal, sumGross int64
		costKnown := true
		for i, l := range lines {
			lr := tot.Lines[i]
			want := exact(new(big.Rat).SetFrac(new(big.Int).Mul(new(big.Int).Mul(big.NewInt(l.QtyMilli), big.NewInt(l.UnitFen)), big.NewInt(BPScale-l.DiscountBP)),
				big.NewInt(QtyScale*BPScale)))
			if lr.Amount != want {
				t.Fatalf("line %d amount %d, exact %d", i, lr.Amount, want)
			}
			if lr.Net < 0 || lr.Net > lr.Amount {
				t.Fatalf("line %d net %d outside [0, %d]", i, lr.Net, lr.Amount)
			}
			if lr.Tax != exact(new(big.Rat).SetFrac(big.NewInt(lr.Net*l.TaxRateBP), big.NewInt(BPScale))) {
				t.Fatalf("line %d tax %d", i, lr.Tax)
			}
			if lr.Total != lr.Net+lr.Tax || lr.Discount != lr.Gross-lr.Amount {
				t.Fatalf("line %d parts do not add up: %+v", i, lr)
			}
			sumAmount += lr.Amount
			sumNet += lr.Net
			sumTax += lr.Tax
			sumTotal += lr.Total
			sumGross += lr.Gross
			costKnown = costKnown && l.CostFen >= 0
		}
		if tot.Subtotal != sumAmount || tot.Net != sumNet || tot.Tax != sumTax || tot.Total != sumTotal || tot.Total != tot.Net+tot.Tax || tot.Gross != sumGross {
			t.Fatalf("totals do not add up: %+v vs Σ amount %d net %d tax %d total %d", tot, sumAmount, sumNet, sumTax, sumTotal)
		}
		if want := exact(new(big.Rat).SetFrac(big.NewInt(tot.Subtotal*(BPScale-overall)), big.NewInt(BPScale))); tot.Net != want {
			t.Fatalf("net %d, want %d", tot.Net, want)
		}
		if tot.OverallDiscount != tot.Subtotal-tot.Net || tot.CostKnown != costKnown {
			t.Fatalf("overall discount / cost known wrong: %+v", tot)
		}
	}
}

func TestAllocateLargestRemainder(t *testing.T) {
	got, err := Allocate(10, []int64{1, 1, 1})
	if err != nil || got[0]+got[1]+got[2] != 10 || got[0] != 4 || got[1] != 3 || got[2] != 3 {
		t.Fatalf("Allocate(10, 1:1:1) = %v, %v", got, err)
	}
	got, _ = Allocate(0, []int64{5, 0})
	if got[0] != 0 || got[1] != 0 {
		t.Fatalf("Allocate(0) = %v", got)
	}
	got, _ = Allocate(3, []int64{0, 2, 2})
	if got[0] != 0 || got[1]+got[2] != 3 {
		t.Fatalf("a zero-weight line got a share: %v", got)
	}
}

func TestMargin(t *testing.T) {
	tot, err := Compute([]Line{{QtyMilli: 2000, UnitFen: 10000, TaxRateBP: 1300, CostFen: 6000}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Net 200.00, cost 120.00 → 40 % margin; tax 26.00.
	if tot.Net != 20000 || tot.Cost != 12000 || tot.MarginBP != 4000 || tot.Tax != 2600 || tot.Total != 22600 {
		t.Fatalf("%+v", tot)
	}
	tot, _ = Compute([]Line{{QtyMilli: 1000, UnitFen: 100, CostFen: -1}}, 0)
	if tot.CostKnown {
		t.Fatal("a line without cost made the cost known")
	}
}

func FuzzCompute(f *testing.F) {
	f.Add(int64(1500), int64(333), int64(1000), int64(1300), int64(500))
	f.Fuzz(func(t *testing.T, qty, unit, disc, rate, overall int64) {
		if qty <= 0 || unit < 0 || disc < 0 || disc > BPScale || rate < 0 || rate > BPScale || overall < 0 || overall > BPScale {
			return
		}
		lines := []Line{{QtyMilli: qty, UnitFen: unit, DiscountBP: disc, TaxRateBP: rate, CostFen: -1}, {QtyMilli: qty, UnitFen: unit / 3, TaxRateBP: rate, CostFen: -1}}
		tot, err := Compute(lines, overall)
		if err != nil {
			return // overflow is reported, never wrapped
		}
		if tot.Total != tot.Lines[0].Total+tot.Lines[1].Total || tot.Net != tot.Lines[0].Net+tot.Lines[1].Net {
			t.Fatalf("%+v", tot)
		}
	})
}
