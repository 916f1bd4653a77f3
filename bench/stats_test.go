package bench

import (
	"math/rand/v2"
	"testing"
	"time"
)

func TestSummarizeNearestRank(t *testing.T) {
	// 1..100 ms shuffled: the nearest-rank p-th percentile is p ms.
	var ds []time.Duration
	for i := 1; i <= 100; i++ {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	rand.Shuffle(len(ds), func(i, j int) { ds[i], ds[j] = ds[j], ds[i] })
	d := Summarize(ds)
	if d.N != 100 || d.Min != 1 || d.Max != 100 || d.P50 != 50 || d.P90 != 90 || d.P99 != 99 || d.Mean != 50.5 {
		t.Errorf("Summarize(1..100 ms) = %+v", d)
	}
}

func TestSummarizeSmallSamples(t *testing.T) {
	one := Summarize([]time.Duration{7 * time.Millisecond})
	if one.P50 != 7 || one.P99 != 7 || one.N != 1 {
		t.Errorf("one sample: %+v", one)
	}
	// With two samples the median is the lower one and p99 the upper.
	two := Summarize([]time.Duration{9 * time.Millisecond, 3 * time.Millisecond})
	if two.P50 != 3 || two.P99 != 9 {
		t.Errorf("two samples: %+v", two)
	}
	if (Summarize(nil) != Dist{}) {
		t.Errorf("empty sample is not the zero Dist")
	}
}

func TestRatio(t *testing.T) {
	if r := Ratio(3, 2); r != 1.5 {
		t.Errorf("Ratio(3, 2) = %v", r)
	}
	if r := Ratio(3, 0); r != 0 {
		t.Errorf("Ratio(3, 0) = %v, want 0 (undefined)", r)
	}
}

func TestMedian(t *testing.T) {
	if m := Median([]time.Duration{5, 1, 3}); m != 3 {
		t.Errorf("Median(5,1,3) = %v", m)
	}
	if m := Median(nil); m != 0 {
		t.Errorf("Median(nil) = %v", m)
	}
}
