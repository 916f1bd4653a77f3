package core

import (
	"context"
	"errors"

	"golang.org/x/sync/errgroup"
)

// Outcome is what an operation on one user came to.
type Outcome struct {
	User string
	// Err is why it failed, nil if it did not.
	Err error
}

// Each runs fn for every name, at most limit at a time (every one at
// once if limit < 1), and returns their outcomes in the order of names.
// One failure does not stop the others: a class's starts and stops are
// independent, and whoever asked wants to know about all of them. It is
// the one bounded fan-out of the hub, the tray and the web pages, so that
// none of them writes its own semaphore.
func Each(ctx context.Context, names []string, limit int, fn func(ctx context.Context, name string) error) []Outcome {
	out := make([]Outcome, len(names))
	var g errgroup.Group
	if limit > 0 {
		g.SetLimit(limit)
	}
	for i, name := range names {
		out[i].User = name
		g.Go(func() error {
			out[i].Err = fn(ctx, name)
			return nil
		})
	}
	g.Wait()
	return out
}

// Failed counts the outcomes that failed.
func Failed(outcomes []Outcome) int {
	n := 0
	for _, o := range outcomes {
		if o.Err != nil {
			n++
		}
	}
	return n
}

// Errors joins the errors of the outcomes that failed, nil if none did;
// each error names its user already.
func Errors(outcomes []Outcome) error {
	var errs []error
	for _, o := range outcomes {
		if o.Err != nil {
			errs = append(errs, o.Err)
		}
	}
	return errors.Join(errs...)
}
