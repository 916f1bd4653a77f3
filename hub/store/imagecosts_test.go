package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestImageCostKeepsTheLeastSeen(t *testing.T) {
	st := openTest(t)
	ctx := context.Background()
	if _, err := st.ImageCost(ctx, "sha256:a"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("nothing recorded: err = %v, want ErrNotFound", err)
	}
	at := time.Date(2026, 12, 6, 20, 0, 0, 0, time.UTC)
	for _, step := range []struct {
		memory uint64
		kept   bool
		want   uint64
	}{
		{100 << 20, true, 100 << 20},
		{150 << 20, false, 100 << 20}, // a student had started a kernel
		{90 << 20, true, 90 << 20},
	} {
		kept, err := st.RecordImageCost(ctx, ImageCost{ImageID: "sha256:a", Image: "classhub/notebook:scipy", Memory: step.memory, CPU: 0.5, Measured: at})
		if err != nil {
			t.Fatal(err)
		}
		got, err := st.ImageCost(ctx, "sha256:a")
		if err != nil {
			t.Fatal(err)
		}
		if kept != step.kept || got.Memory != step.want || got.Image != "classhub/notebook:scipy" || !got.Measured.Equal(at) {
			t.Errorf("record %d: kept %v, recorded %+v; want kept %v and %d", step.memory, kept, got, step.kept, step.want)
		}
	}
	if _, err := st.ImageCost(ctx, "sha256:b"); !errors.Is(err, ErrNotFound) {
		t.Errorf("another image: err = %v, want ErrNotFound", err)
	}
}
