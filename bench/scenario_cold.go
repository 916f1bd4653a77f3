package bench

import (
	"context"
	"fmt"
	"path/filepath"
	"time"
)

// coldStart is scenario 5 (and JupyterHub's half of 6): each hub started
// ColdTrials times after one untimed warm-up, alternating, each to
// /hub/api answering. JupyterHub's memory is read on its last start, once
// it has settled.
func (l *lab) coldStart(ctx context.Context) error {
	n := l.rep.Params.ColdTrials
	jh, err := NewJupyterHub(filepath.Join(l.dir, "jupyterhub"))
	if err != nil {
		return err
	}
	l.jh = jh
	var chTimes, jhTimes []time.Duration
	classhub := func(i int) error {
		d, err := l.ch.Start(ctx)
		l.ch.Stop()
		if err != nil {
			return err
		}
		if i > 0 {
			chTimes = append(chTimes, d)
		}
		l.log("5 cold start: classhub %d/%d: %s", i, n, d.Round(time.Millisecond))
		return nil
	}
	jupyterhub := func(i int) error {
		d, err := jh.Start(ctx, l.jhBin, i)
		if err == nil && i == n {
			time.Sleep(2 * time.Second)
			l.rep.Memory.JupyterHubIdle, _, err = TreeMem(jh.Proc.Pid())
			if err == nil {
				l.rep.Memory.JupyterHubOnly, err = ReadMem(jh.Proc.Pid())
			}
		}
		jh.Stop()
		if err != nil {
			return err
		}
		if i > 0 {
			jhTimes = append(jhTimes, d)
		}
		l.log("5 cold start: JupyterHub %d/%d: %s", i, n, d.Round(time.Millisecond))
		return nil
	}
	for i := 0; i <= n; i++ {
		first, second := classhub, jupyterhub
		if i%2 == 1 {
			first, second = jupyterhub, classhub
		}
		if err := first(i); err != nil {
			return fmt.Errorf("start %d: %w", i, err)
		}
		if err := second(i); err != nil {
			return fmt.Errorf("start %d: %w", i, err)
		}
	}
	l.jh = nil
	l.rep.Cold = &ColdResult{Trials: n, Classhub: Summarize(chTimes), JupyterHub: Summarize(jhTimes)}
	return nil
}

// startHub starts the classhub that serves every later scenario and reads
// its idle memory.
func (l *lab) startHub(ctx context.Context) error {
	if _, err := l.ch.Start(ctx); err != nil {
		return err
	}
	time.Sleep(2 * time.Second)
	m, err := ReadMem(l.ch.Proc.Pid())
	if err != nil {
		return err
	}
	l.rep.Memory.ClasshubIdle = m
	l.log("classhub serve is up (pid %d, %.1f MiB idle)", l.ch.Proc.Pid(), mib(m.RSS))
	return nil
}
