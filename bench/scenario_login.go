package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/classhub/classhub/hub/auth"
)

// LoginTarget is the speed target: a class of 30 logging in at
// once is through in 2 seconds on a 2-core machine.
const (
	LoginTargetUsers = 30
	LoginTarget      = 2 * time.Second
)

// LoginResult is scenario 7: a class logging in through the login form at
// once, each with their own name and password, all from 127.0.0.1 as a
// classroom behind one NAT address would. The floor is the same number of
// bcrypt checks at once in the bench's own process, at the cost the hub
// hashes passwords with.
type LoginResult struct {
	Users int `json:"users"`
	// Cost is the bcrypt cost of auth.HashPassword, which the hub uses.
	Cost           int     `json:"bcrypt_cost"`
	ClasshubAllMS  float64 `json:"classhub_all_in_ms"`
	FloorAllMS     float64 `json:"floor_all_checked_ms"`
	PerSecond      float64 `json:"classhub_logins_per_second"`
	FloorPerSecond float64 `json:"floor_checks_per_second"`
	Classhub       Dist    `json:"classhub_each"`
}

// loginUser is the i-th student of the login scenario.
func (l *lab) loginUser(i int) string { return fmt.Sprintf("login%02d%s", i, l.suffix) }

func loginPassword(i int) string { return fmt.Sprintf("bench-password-%02d", i) }

// logins is scenario 7. The students sign up with the class code first
// (the hub hashes their passwords as for any account), then log in
// together.
func (l *lab) logins(ctx context.Context) error {
	n := l.rep.Params.Logins
	browsers := make([]*loginBrowser, n)
	for i := range browsers {
		b, err := newLoginBrowser(l.ch.Base)
		if err != nil {
			return err
		}
		if err := b.signup(ctx, l.ch.JoinCode, l.loginUser(i+1), loginPassword(i+1)); err != nil {
			return err
		}
		browsers[i] = b
	}
	for _, b := range browsers {
		if err := b.loadForm(ctx); err != nil {
			return err
		}
	}
	each := make([]time.Duration, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := time.Now()
	for i, b := range browsers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = b.login(ctx, l.loginUser(i+1), loginPassword(i+1))
			each[i] = time.Since(start)
		}()
	}
	wg.Wait()
	all := time.Since(start)
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	floor, cost, err := bcryptFloor(n)
	if err != nil {
		return err
	}
	r := &LoginResult{Users: n, Cost: cost, ClasshubAllMS: ms(all), FloorAllMS: ms(floor),
		PerSecond: float64(n) / all.Seconds(), FloorPerSecond: float64(n) / floor.Seconds(), Classhub: Summarize(each)}
	l.rep.Logins = r
	l.log("7 logins: %d at once in %.0f ms (%.1f/s); floor %d bcrypt checks (cost %d) in %.0f ms (%.1f/s)",
		n, r.ClasshubAllMS, r.PerSecond, n, cost, r.FloorAllMS, r.FloorPerSecond)
	if cost < bcrypt.DefaultCost {
		return fmt.Errorf("the hub hashes passwords at bcrypt cost %d, weaker than %d", cost, bcrypt.DefaultCost)
	}
	// A machine too busy for the floor to meet the target cannot judge
	// the hub by it; the comparison with the floor still does.
	if n >= LoginTargetUsers && all > LoginTarget && floor <= LoginTarget {
		return fmt.Errorf("a class of %d took %s to log in, over the target of %s, while their bcrypt checks alone took %s",
			n, all.Round(time.Millisecond), LoginTarget, floor.Round(time.Millisecond))
	}
	return nil
}

// bcryptFloor checks n passwords at once against their hashes, made by
// auth.HashPassword, and returns how long that took and the cost.
func bcryptFloor(n int) (time.Duration, int, error) {
	hashes := make([][]byte, n)
	for i := range hashes {
		h, err := auth.HashPassword(loginPassword(i + 1))
		if err != nil {
			return 0, 0, err
		}
		hashes[i] = []byte(h)
	}
	cost, err := bcrypt.Cost(hashes[0])
	if err != nil {
		return 0, 0, err
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := time.Now()
	for i, h := range hashes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = bcrypt.CompareHashAndPassword(h, []byte(loginPassword(i+1)))
		}()
	}
	wg.Wait()
	took := time.Since(start)
	for _, err := range errs {
		if err != nil {
			return 0, 0, fmt.Errorf("bcrypt floor: %w", err)
		}
	}
	return took, cost, nil
}

// loginBrowser is one student's browser: its own cookies, forms posted as
// a browser posts them.
type loginBrowser struct {
	base string
	http *http.Client
	xsrf string
}

func newLoginBrowser(base string) (*loginBrowser, error) {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, err
	}
	return &loginBrowser{base: base, http: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		Transport:     &http.Transport{Proxy: nil},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}, nil
}

var xsrfField = regexp.MustCompile(`name="_xsrf" value="([^"]+)"`)

// get loads a form page and keeps its _xsrf value.
func (b *loginBrowser) get(ctx context.Context, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.base+path, nil)
	if err != nil {
		return err
	}
	resp, err := b.http.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	m := xsrfField.FindSubmatch(body)
	if resp.StatusCode != http.StatusOK || m == nil {
		return fmt.Errorf("GET %s: HTTP %d without a form", path, resp.StatusCode)
	}
	b.xsrf = string(m[1])
	return nil
}

// post sends a form and wants a redirect, as after a login.
func (b *loginBrowser) post(ctx context.Context, path string, form url.Values) error {
	form.Set("_xsrf", b.xsrf)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := b.http.Do(req)
	if err != nil {
		return fmt.Errorf("POST %s: %w", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusFound {
		return fmt.Errorf("POST %s as %s: HTTP %d, Retry-After %q: %.300s", path, form.Get("username"), resp.StatusCode,
			resp.Header.Get("Retry-After"), body)
	}
	return nil
}

func (b *loginBrowser) signup(ctx context.Context, code, name, password string) error {
	if err := b.get(ctx, "/hub/signup"); err != nil {
		return err
	}
	return b.post(ctx, "/hub/signup", url.Values{"code": {code}, "username": {name}, "password": {password}, "confirm": {password}})
}

// loadForm opens the login page in a fresh session, as a student who
// logged out would.
func (b *loginBrowser) loadForm(ctx context.Context) error {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return err
	}
	b.http.Jar = jar
	return b.get(ctx, "/hub/login")
}

func (b *loginBrowser) login(ctx context.Context, name, password string) error {
	return b.post(ctx, "/hub/login", url.Values{"username": {name}, "password": {password}})
}
