package bench

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/docker/docker/api/types/network"

	"github.com/classhub/classhub/hub/config"
)

// spawnLimit only keeps a broken start from hanging the run.
const spawnLimit = 5 * time.Minute

// setupFloor starts the stub hub on the run's bridge gateway, which
// classhub created, and the floor that uses it.
func (l *lab) setupFloor(ctx context.Context) error {
	ins, err := l.docker.NetworkInspect(ctx, l.netw, network.InspectOptions{})
	if err != nil {
		return fmt.Errorf("network %s: %w", l.netw, err)
	}
	gw, err := gatewayOf(ins)
	if err != nil {
		return err
	}
	if l.stub, err = StartStubHub(gw); err != nil {
		return err
	}
	l.floor = &Floor{Docker: l.docker, Network: l.netw, HubURL: l.stub.URL, Image: l.opts.Image, Memory: l.ch.Memory, CPUs: l.ch.CPUs}
	return nil
}

func (l *lab) floorUser(kind string, i int) string {
	return fmt.Sprintf("floor%s%02d%s", kind, i, l.suffix)
}

// spawnClasshub starts one user's server through the REST API and returns
// the time to ready in the API and the time to the server's first answer;
// the server is stopped and removed afterwards.
func (l *lab) spawnClasshub(ctx context.Context, user string) (ready, answered time.Duration, err error) {
	start := time.Now()
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	answer := l.watchAnswer(wctx, user, start)
	created, err := l.ch.StartServer(ctx, l.admin, user)
	if err != nil {
		return 0, 0, err
	}
	if !created {
		_, err = l.ch.WaitReady(ctx, l.admin, []string{user}, start, 50*time.Millisecond, spawnLimit)
	}
	ready = time.Since(start)
	if err == nil {
		select {
		case answered = <-answer:
		case <-time.After(10 * time.Second):
		}
		if answered == 0 {
			err = fmt.Errorf("%s was ready in the API but its server never answered the bench directly", user)
		}
	}
	if serr := l.ch.StopServer(ctx, l.admin, user); err == nil {
		err = serr
	}
	return ready, answered, err
}

// spawnFloor starts one floor server and returns the time to ready; it is
// removed afterwards.
func (l *lab) spawnFloor(ctx context.Context, user string) (time.Duration, error) {
	start := time.Now()
	s, err := l.floor.Start(ctx, user)
	if err == nil {
		err = l.floor.WaitReady(ctx, s, spawnLimit)
	}
	d := time.Since(start)
	if rerr := l.floor.Remove(context.WithoutCancel(ctx), s); err == nil {
		err = rerr
	}
	return d, err
}

// spawn is scenario 3: single starts, alternating which goes first.
func (l *lab) spawn(ctx context.Context) error {
	n := l.rep.Params.SpawnTrials
	var fl, ch, chAnswered, gaps []time.Duration
	for i := 1; i <= n; i++ {
		floor := func() error {
			d, err := l.spawnFloor(ctx, l.floorUser("", i))
			if err != nil {
				return err
			}
			fl = append(fl, d)
			l.log("3 spawn %d/%d: floor    %s", i, n, d.Round(time.Millisecond))
			return nil
		}
		classhub := func() error {
			d, a, err := l.spawnClasshub(ctx, l.spawnUser(i))
			if err != nil {
				return err
			}
			ch, chAnswered, gaps = append(ch, d), append(chAnswered, a), append(gaps, d-a)
			l.log("3 spawn %d/%d: classhub %s (its server answered at %s)", i, n, d.Round(time.Millisecond), a.Round(time.Millisecond))
			return nil
		}
		first, second := floor, classhub
		if i%2 == 0 {
			first, second = classhub, floor
		}
		if err := first(); err != nil {
			return err
		}
		// Let the removal's work finish before the next start is timed.
		time.Sleep(time.Second)
		if err := second(); err != nil {
			return err
		}
		time.Sleep(time.Second)
	}
	l.rep.Spawn = &SpawnResult{Trials: n, Floor: Summarize(fl), Classhub: Summarize(ch), ClasshubAnswered: Summarize(chAnswered), NoticeGap: Summarize(gaps)}
	return nil
}

// burst is scenario 4 (and classhub's memory with servers): the whole
// class through classhub, stopped again, then the same number of bare
// starts.
func (l *lab) burst(ctx context.Context) error {
	n := l.rep.Params.Burst
	res := &BurstResult{Users: n, SpawnConcurrency: config.Default().SpawnConcurrency}
	l.rep.Burst = res
	users := make([]string, n)
	for i := range users {
		users[i] = l.burstUser(i + 1)
	}

	start := time.Now()
	ready, errs, err := startClass(ctx, l.ch, l.admin, users)
	all := time.Since(start)
	l.log("4 burst: classhub, %d servers ready in %s", len(ready), all.Round(time.Millisecond))
	if errs == nil && err == nil {
		res.ClasshubAllMS = ms(slices.Max(values(ready)))
		res.Classhub = Summarize(values(ready))
		if m, err := ReadMem(l.ch.Proc.Pid()); err == nil {
			l.rep.Memory.ClasshubWithServers = m
			l.rep.Memory.Servers = n + 1 // and alice's
		}
	}
	// Stop the class the way an instructor's script would, then make
	// sure nothing of it is left to slow the floor down.
	stopErrs := parallel(n, func(i int) error { return l.ch.StopServer(ctx, l.admin, users[i]) })
	l.log("4 burst: classhub servers stopped")
	if err := errors.Join(errs, err, stopErrs); err != nil {
		return fmt.Errorf("classhub: %w", err)
	}

	servers := make([]FloorServer, n)
	each := make([]time.Duration, n)
	start = time.Now()
	errs = parallel(n, func(i int) error {
		s, err := l.floor.Start(ctx, l.floorUser("burst", i+1))
		servers[i] = s
		if err == nil {
			err = l.floor.WaitReady(ctx, s, spawnLimit*2)
		}
		each[i] = time.Since(start)
		return err
	})
	all = time.Since(start)
	l.log("4 burst: floor, %d servers ready in %s", n, all.Round(time.Millisecond))
	rmErrs := parallel(n, func(i int) error { return l.floor.Remove(context.WithoutCancel(ctx), servers[i]) })
	if err := errors.Join(errs, rmErrs); err != nil {
		return fmt.Errorf("floor: %w", err)
	}
	res.FloorAllMS = ms(slices.Max(each))
	res.Floor = Summarize(each)
	return nil
}

// startClass starts users' servers on ch at once and returns when each
// was ready, from the first POST. A POST answered 201 was ready when it
// returned; only the ones still pending (202) are polled for, so a fast
// server is not timed as late as the slowest POST. errs joins the POSTs'
// errors, err the wait's.
func startClass(ctx context.Context, ch *Classhub, token string, users []string) (ready map[string]time.Duration, errs, err error) {
	start := time.Now()
	readyAt := make([]time.Duration, len(users))
	errs = parallel(len(users), func(i int) error {
		created, err := ch.StartServer(ctx, token, users[i])
		if created {
			readyAt[i] = time.Since(start)
		}
		return err
	})
	ready = map[string]time.Duration{}
	var pending []string
	for i, d := range readyAt {
		if d > 0 {
			ready[users[i]] = d
		} else {
			pending = append(pending, users[i])
		}
	}
	if errs == nil && len(pending) > 0 {
		var late map[string]time.Duration
		late, err = ch.WaitReady(ctx, token, pending, start, 100*time.Millisecond, spawnLimit*2)
		maps.Copy(ready, late)
	}
	return ready, errs, err
}

// parallel runs f(0..n-1) at once and joins their errors.
func parallel(n int, f func(i int) error) error {
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			errs[i] = f(i)
		}(i)
	}
	wg.Wait()
	return errors.Join(errs...)
}

func values(m map[string]time.Duration) []time.Duration {
	out := make([]time.Duration, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}
