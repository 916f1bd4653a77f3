// Package bench measures classhub against the physical floor (the same
// notebook server reached or started with nothing in between) and against
// JupyterHub's own proxy and hub, in one run on one machine, and reports
// every figure as a ratio against a baseline of that run. Machines are
// noisy, so only ratios within a run mean anything.
//
// It drives the real classhub binary, the real Docker engine, Debian's
// configurable-http-proxy and jupyterhub, and wrk, all on loopback and on
// a bridge network it creates; it removes everything it starts, also when
// it fails or is interrupted.
package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/docker/docker/client"

	"github.com/classhub/classhub/hub/engine"
	"github.com/classhub/classhub/hub/image"
)

// ClassicImage is the notebook image a run measures unless told
// otherwise: the classic profile's, whose jupyterhub-singleuser 3.0
// matches Debian's JupyterHub 3.0 that the scenarios compare classhub with,
// and the stub hub's version.
const ClassicImage = "classhub/notebook:classic"

// Params sizes a run.
type Params struct {
	// Levels are the concurrencies of scenario 1.
	Levels []int `json:"concurrency_levels"`
	// LoadDuration is how long each path is loaded at each level in each
	// of ProxyRounds rounds.
	LoadDuration time.Duration `json:"-"`
	LoadSeconds  float64       `json:"load_seconds"`
	ProxyRounds  int           `json:"proxy_rounds"`
	// Executes is the number of kernel round trips per path (scenario 2),
	// split over Rounds interleaved rounds.
	Executes int `json:"executes"`
	Rounds   int `json:"rounds"`
	// SpawnTrials is the number of single spawns of each kind (scenario 3).
	SpawnTrials int `json:"spawn_trials"`
	// Burst is the class size of scenario 4.
	Burst int `json:"burst_users"`
	// ColdTrials is the number of timed starts of each hub (scenario 5).
	ColdTrials int `json:"cold_trials"`
	// Logins is the class size of scenario 7.
	Logins int `json:"login_users"`
	// HandoutStudents and HandoutMiB size scenario 9: a folder of
	// HandoutMiB handed out to and collected from HandoutStudents.
	HandoutStudents int `json:"handout_students"`
	HandoutMiB      int `json:"handout_mib"`
	// Deadline bounds the whole run, so a hang cannot outlive CI's patience.
	Deadline time.Duration `json:"-"`
}

// QuickParams is `make bench-quick`: a minute or two, for CI.
func QuickParams() Params {
	return Params{Levels: []int{1, 10}, LoadDuration: 2 * time.Second, ProxyRounds: 1, Executes: 150, Rounds: 3,
		SpawnTrials: 1, Burst: 5, ColdTrials: 2, Logins: 10, HandoutStudents: 3, HandoutMiB: 5, Deadline: 8 * time.Minute}
}

// FullParams is `make bench`.
func FullParams() Params {
	return Params{Levels: []int{1, 10, 50}, LoadDuration: 4 * time.Second, ProxyRounds: 3, Executes: 1000, Rounds: 4,
		SpawnTrials: 5, Burst: 30, ColdTrials: 5, Logins: LoginTargetUsers, HandoutStudents: 30, HandoutMiB: 50, Deadline: 16 * time.Minute}
}

func (p Params) String() string {
	return fmt.Sprintf("concurrency %v for %s each in %d rounds; %d executes in %d rounds; %d spawn trials; burst of %d; %d cold starts; %d logins; %d MiB handed out to %d",
		p.Levels, p.LoadDuration, max(p.ProxyRounds, 1), p.Executes, p.Rounds, p.SpawnTrials, p.Burst, p.ColdTrials, p.Logins, p.HandoutMiB, p.HandoutStudents)
}

// Options configure Run.
type Options struct {
	Params Params
	Quick  bool
	// Classhub is the classhub binary to measure.
	Classhub string
	// Image is the notebook image; it must be in the engine (ClassicImage
	// unless the run is told otherwise).
	Image string
	// Only, when not empty, names the scenarios to run by their numbers
	// ("9" for the hand-out); the rest are left out of the report.
	Only []string
	// WorkDir is where the run's temporary directory is made ("" for the
	// system's).
	WorkDir string
	// Log receives progress lines; nil discards them.
	Log io.Writer
}

// lab is one run's world: what it started and what it must remove.
type lab struct {
	opts   Options
	rep    *Report
	log    func(format string, args ...any)
	docker *client.Client
	dir    string
	suffix string // ends every user name of this run
	netw   string

	loader         Loader
	chpPath, jhBin string

	ch    *Classhub
	chp   *CHP
	jh    *JupyterHub
	stub  *StubHub
	floor *Floor

	admin, alice, aliceTok string
	aliceIP                string
	aliceOrigin            string // her server's own origin on classhub
	closed                 bool
	// madeSwarm: scenario 10 made the engine's swarm, which close leaves;
	// madeGateway: that swarm made docker_gwbridge, which close removes.
	madeSwarm, madeGateway bool
}

// Run runs every scenario and returns the report, also when some failed
// (their errors are in Report.Failures and joined in the error).
func Run(ctx context.Context, opts Options) (*Report, error) {
	p := opts.Params
	p.LoadSeconds = p.LoadDuration.Seconds()
	rep := &Report{Date: time.Now(), Quick: opts.Quick, Only: opts.Only, Machine: ReadMachine(), Params: p,
		Contention: Contention{LoadBefore: LoadAvg()}}
	began := time.Now()
	defer func() { rep.WallSeconds = time.Since(began).Seconds() }()
	logw := opts.Log
	if logw == nil {
		logw = io.Discard
	}
	l := &lab{opts: opts, rep: rep, log: func(format string, args ...any) {
		fmt.Fprintf(logw, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
	}}
	ctx, cancel := context.WithTimeout(ctx, p.Deadline)
	defer cancel()

	// close runs before the verdict, so that leftovers fail the run; the
	// deferred call covers a panic.
	defer l.close()
	if err := l.prepare(ctx); err != nil {
		l.close()
		return rep, err
	}
	l.scenarios(ctx)
	rep.Contention.LoadAfter = LoadAvg()
	l.close()
	if len(rep.Failures) > 0 {
		return rep, fmt.Errorf("%d scenario(s) failed: %s", len(rep.Failures), strings.Join(rep.Failures, "; "))
	}
	return rep, nil
}

// prepare finds the tools, connects to Docker and makes the run's dir,
// hub config, users and tokens. Nothing runs yet.
func (l *lab) prepare(ctx context.Context) error {
	o := l.opts
	var err error
	if o.Classhub == "" {
		return errors.New("say which classhub binary to measure (--classhub)")
	}
	// Processes run in their own directories.
	if l.opts.Classhub, err = filepath.Abs(o.Classhub); err != nil {
		return err
	}
	o = l.opts
	if l.chpPath, err = exec.LookPath("configurable-http-proxy"); err != nil {
		return errors.New("configurable-http-proxy is not installed: run `scripts/deps.sh bench` (Debian package node-configurable-http-proxy)")
	}
	if l.jhBin, err = exec.LookPath("jupyterhub"); err != nil {
		return errors.New("jupyterhub is not installed: run `scripts/deps.sh bench` (Debian package jupyterhub)")
	}
	if l.docker, err = engine.Connect(ctx); err != nil {
		return err
	}
	if _, err := l.docker.ImageInspect(ctx, o.Image); err != nil {
		return fmt.Errorf("the notebook image %s is not in the engine: build it with `%s` (nothing can be pulled)", o.Image, image.BuildCommand(o.Image))
	}
	if l.dir, err = os.MkdirTemp(o.WorkDir, "classhub-bench-"); err != nil {
		return fmt.Errorf("work dir: %w", err)
	}
	if wrk, err := exec.LookPath("wrk"); err == nil {
		l.loader = WrkLoader{Path: wrk, Dir: l.dir}
	} else {
		l.loader = GoLoader{}
		l.log("wrk is missing; using the Go load generator (install wrk with `scripts/deps.sh bench`)")
	}
	wrkPath := ""
	if w, ok := l.loader.(WrkLoader); ok {
		wrkPath = w.Path
	}
	b := make([]byte, 3)
	rand.Read(b)
	l.suffix = "-b" + hex.EncodeToString(b)
	l.netw = "classhub-bench" + l.suffix
	l.rep.Versions = ReadVersions(ctx, l.docker, o.Classhub, l.jhBin, l.chpPath, wrkPath, o.Image)
	l.rep.Contention.OtherContainers = otherContainers(ctx, l.docker, l.suffix)
	l.log("run %s in %s; network %s; load generator %s", l.suffix, l.dir, l.netw, l.loader.Name())

	if l.ch, err = NewClasshub(o.Classhub, filepath.Join(l.dir, "classhub"), l.dir, l.netw); err != nil {
		return err
	}
	l.alice, l.admin = "alice"+l.suffix, "teacher"+l.suffix
	students := []string{l.alice}
	for i := 1; i <= l.rep.Params.SpawnTrials; i++ {
		students = append(students, l.spawnUser(i))
	}
	for i := 1; i <= l.rep.Params.Burst; i++ {
		students = append(students, l.burstUser(i))
	}
	for i := 1; i <= l.rep.Params.HandoutStudents; i++ {
		students = append(students, l.handoutUser(i))
	}
	if _, err := l.ch.CLI(ctx, append([]string{"users", "add"}, students...)...); err != nil {
		return err
	}
	if _, err := l.ch.CLI(ctx, "users", "add", l.admin, "--admin"); err != nil {
		return err
	}
	if l.admin, err = l.tokenFor(ctx, l.admin); err != nil {
		return err
	}
	if l.aliceTok, err = l.tokenFor(ctx, l.alice); err != nil {
		return err
	}
	return nil
}

func (l *lab) tokenFor(ctx context.Context, name string) (string, error) {
	tok, err := l.ch.Token(ctx, name)
	if err != nil || len(tok) < 16 || strings.ContainsAny(tok, " \t") {
		return "", fmt.Errorf("token for %s: %q %v", name, tok, err)
	}
	return tok, nil
}

func (l *lab) spawnUser(i int) string { return fmt.Sprintf("spawn%02d%s", i, l.suffix) }
func (l *lab) burstUser(i int) string { return fmt.Sprintf("s%02d%s", i, l.suffix) }

// fail records a scenario's failure and goes on with the next.
func (l *lab) fail(scenario string, err error) {
	l.log("FAILED %s: %v", scenario, err)
	l.rep.Failures = append(l.rep.Failures, scenario+": "+err.Error())
}

// scenarios runs them in an order that needs each hub only once: cold
// starts first (nothing running), then one long-lived classhub for the
// rest. Once ctx ends nothing new starts.
func (l *lab) scenarios(ctx context.Context) {
	run := func(name string, f func(context.Context) error) bool {
		if ctx.Err() != nil {
			return false
		}
		if err := f(ctx); err != nil {
			if ctx.Err() != nil {
				err = fmt.Errorf("interrupted (%w)", ctx.Err())
			}
			l.fail(name, err)
			return false
		}
		return true
	}
	defer func() {
		if ctx.Err() != nil {
			l.fail("run", fmt.Errorf("stopped before the last scenario: %w", ctx.Err()))
		}
	}()
	if l.wants("5") {
		run("5 cold start", l.coldStart)
	}
	// Through the CLI, while no hub and no server runs: copying is the
	// disk's work, and nothing else uses it.
	if l.wants("9") {
		run("9 handout", l.handouts)
	}
	if !l.wants("1", "2", "3", "4", "7", "8") || !run("classhub serve", l.startHub) {
		return
	}
	// Before any server runs, so the logins have the machine to
	// themselves as in a class's first minute.
	if l.wants("7") {
		run("7 logins", l.logins)
	}
	if l.wants("1", "2") && run("1 and 2 proxy setup", l.startAlice) {
		run("1 proxy", l.proxyLoad)
		run("2 websocket", l.websockets)
		l.memAfterLoad()
	}
	if !l.wants("3", "4", "8", "10") || !run("3 and 4 floor setup", l.setupFloor) {
		return
	}
	if l.wants("3") {
		run("3 spawn", l.spawn)
	}
	if l.wants("4") {
		run("4 burst", l.burst)
	}
	if l.wants("10") {
		run("10 swarm", l.swarmScenario)
	}
	if l.wants("8") {
		run("8 images", l.images)
	}
}

// wants reports whether the run includes any of the scenarios numbered
// nums: every one unless Options.Only names some.
func (l *lab) wants(nums ...string) bool {
	if len(l.opts.Only) == 0 {
		return true
	}
	for _, n := range nums {
		if slices.Contains(l.opts.Only, n) {
			return true
		}
	}
	return false
}

// close stops every process and removes every Docker object of the run,
// with its own deadline: it runs after Ctrl+C and after the run's
// deadline too.
func (l *lab) close() {
	if l.closed {
		return
	}
	l.closed = true
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if l.chp != nil {
		l.chp.Stop()
	}
	if l.jh != nil {
		l.jh.Stop()
	}
	if l.ch != nil {
		l.ch.Stop()
	}
	if l.stub != nil {
		l.stub.Close()
	}
	if l.docker != nil && l.suffix != "" {
		if l.rep.Swarm != nil && l.rep.Swarm.Skipped == "" {
			if err := removeServices(ctx, l.docker, l.suffix, l.swarmNet()+"-swarm"); err != nil {
				l.fail("cleanup", err)
			}
		}
		if err := removeRun(ctx, l.docker, l.suffix, l.netw); err != nil {
			l.fail("cleanup", err)
		}
		if l.madeSwarm {
			if err := engine.LeaveSwarm(ctx, l.docker, l.madeGateway); err != nil {
				l.fail("cleanup", fmt.Errorf("the swarm the bench made: %w", err))
			}
		}
		n, err := leftovers(ctx, l.docker, l.suffix, l.netw)
		l.rep.Leftovers = n
		if err != nil || n > 0 {
			l.fail("cleanup", fmt.Errorf("%d Docker objects of run %s are left (%v): `docker ps -a --filter label=org.classhub.managed=true` lists them (users ending in %s)", n, l.suffix, err, l.suffix))
		}
		l.docker.Close()
	}
	if l.dir != "" {
		if len(l.rep.Failures) > 0 {
			l.log("logs kept in %s", l.dir)
		} else {
			os.RemoveAll(l.dir)
		}
	}
}
