package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

func TestCreateAndGetUser(t *testing.T) {
	s, clk := openClocked(t)
	ctx := context.Background()
	u, err := s.CreateUser(ctx, NewUser{Name: "alice", Admin: true, MustSetPassword: true})
	if err != nil {
		t.Fatal(err)
	}
	wantCreated := time.Date(2024, 5, 1, 7, 0, 0, 123456000, time.UTC)
	if u.Name != "alice" || !u.Admin || !u.MustSetPassword || u.PasswordHash != "" || !u.LastActivity.IsZero() {
		t.Errorf("created %+v", u)
	}
	if u.Created != wantCreated {
		t.Errorf("Created = %v (%v), want %v in UTC with microseconds", u.Created, u.Created.Location(), wantCreated)
	}
	got, err := s.GetUser(ctx, "alice")
	if err != nil || got != u {
		t.Errorf("GetUser = %+v, %v; want %+v", got, err, u)
	}

	clk.Advance(time.Second)
	b, err := s.CreateUser(ctx, NewUser{Name: "bob", PasswordHash: "$2a$10$x"})
	if err != nil {
		t.Fatal(err)
	}
	if b.ID <= u.ID || b.PasswordHash != "$2a$10$x" || b.Admin {
		t.Errorf("bob = %+v, alice = %+v", b, u)
	}

	for _, tc := range []struct {
		name string
		err  error
		do   func() error
	}{
		{"duplicate name", ErrExists, func() error { _, err := s.CreateUser(ctx, NewUser{Name: "alice"}); return err }},
		{"missing user", ErrNotFound, func() error { _, err := s.GetUser(ctx, "carol"); return err }},
	} {
		if err := tc.do(); !errors.Is(err, tc.err) {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.err)
		}
	}
	if _, err := s.CreateUser(ctx, NewUser{}); err == nil {
		t.Error("created a user with no name")
	}
}

func TestUpdateUser(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	alice := mustUser(t, s, "alice")
	mustUser(t, s, "bob")
	if _, _, err := s.CreateToken(ctx, TokenSpec{User: "alice", Kind: KindAPI}); err != nil {
		t.Fatal(err)
	}
	name, yes, no := "alicia", true, false

	u, err := s.UpdateUser(ctx, "alice", UserUpdate{Admin: &yes})
	if err != nil || !u.Admin || u.Name != "alice" {
		t.Fatalf("make admin: %+v, %v", u, err)
	}
	u, err = s.UpdateUser(ctx, "alice", UserUpdate{Name: &name})
	if err != nil || u.Name != "alicia" || !u.Admin || u.ID != alice.ID {
		t.Fatalf("rename: %+v, %v", u, err)
	}
	if _, err := s.GetUser(ctx, "alice"); !errors.Is(err, ErrNotFound) {
		t.Errorf("old name still found: %v", err)
	}
	if toks, err := s.ListTokens(ctx, "alicia"); err != nil || len(toks) != 1 || toks[0].User != "alicia" {
		t.Errorf("tokens did not follow the rename: %+v, %v", toks, err)
	}
	u, err = s.UpdateUser(ctx, "alicia", UserUpdate{Admin: &no})
	if err != nil || u.Admin {
		t.Errorf("remove admin: %+v, %v", u, err)
	}
	bob := "bob"
	if _, err := s.UpdateUser(ctx, "alicia", UserUpdate{Name: &bob}); !errors.Is(err, ErrExists) {
		t.Errorf("rename onto bob: %v, want ErrExists", err)
	}
	if _, err := s.UpdateUser(ctx, "carol", UserUpdate{Admin: &yes}); !errors.Is(err, ErrNotFound) {
		t.Errorf("update missing user: %v, want ErrNotFound", err)
	}
	empty := ""
	if _, err := s.UpdateUser(ctx, "alicia", UserUpdate{Name: &empty}); err == nil {
		t.Error("renamed to the empty name")
	}
}

func TestSetPassword(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	u0, err := s.CreateUser(ctx, NewUser{Name: "alice", MustSetPassword: true})
	if err != nil {
		t.Fatal(err)
	}
	mustUser(t, s, "bob")
	secret, sess, err := s.CreateSession(ctx, "alice", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	bobSecret, _, err := s.CreateSession(ctx, "bob", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	viaSession, _, err := s.CreateToken(ctx, TokenSpec{User: "alice", Kind: KindOAuth, SessionID: sess.ID})
	if err != nil {
		t.Fatal(err)
	}
	apiTok, _, err := s.CreateToken(ctx, TokenSpec{User: "alice", Kind: KindAPI})
	if err != nil {
		t.Fatal(err)
	}
	u1, err := s.SetPassword(ctx, "alice", "$2a$10$first")
	if err != nil {
		t.Fatal(err)
	}
	if u1.PasswordHash != "$2a$10$first" || u1.MustSetPassword || u1.ID != u0.ID {
		t.Errorf("after setting: %+v (before %+v)", u1, u0)
	}
	// A new password logs the user out everywhere.
	if _, err := s.LookupSession(ctx, secret); !errors.Is(err, ErrNotFound) {
		t.Errorf("the old login still works: %v", err)
	}
	if _, err := s.LookupToken(ctx, viaSession); !errors.Is(err, ErrNotFound) {
		t.Errorf("a token issued through the old login still works: %v", err)
	}
	if _, err := s.LookupToken(ctx, apiTok); err != nil {
		t.Errorf("an API token went with the password: %v", err)
	}
	if _, err := s.LookupSession(ctx, bobSecret); err != nil {
		t.Errorf("bob's login went with alice's password: %v", err)
	}
	if got, _ := s.GetUser(ctx, "alice"); got != u1 {
		t.Errorf("stored %+v, returned %+v", got, u1)
	}
	u2, err := s.SetPassword(ctx, "alice", "")
	if err != nil {
		t.Fatal(err)
	}
	if u2.PasswordHash != "" || !u2.MustSetPassword {
		t.Errorf("after reset: %+v", u2)
	}
	if _, err := s.SetPassword(ctx, "carol", "x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing user: %v", err)
	}
}

func TestClaimPassword(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	u0, err := s.CreateUser(ctx, NewUser{Name: "alice", MustSetPassword: true})
	if err != nil {
		t.Fatal(err)
	}
	u1, ok, err := s.ClaimPassword(ctx, "alice", "$2a$10$first")
	if err != nil || !ok {
		t.Fatalf("claiming alice = %v, %v", ok, err)
	}
	if u1.PasswordHash != "$2a$10$first" || u1.MustSetPassword || u1.ID != u0.ID {
		t.Errorf("after claiming: %+v (before %+v)", u1, u0)
	}
	if _, ok, err := s.ClaimPassword(ctx, "alice", "$2a$10$second"); err != nil || ok {
		t.Errorf("claiming alice again = %v, %v; want false", ok, err)
	}
	if got, _ := s.GetUser(ctx, "alice"); got != u1 {
		t.Errorf("a second claim changed alice: %+v, want %+v", got, u1)
	}

	// The laptop's owner has no password and is not waiting for one.
	if _, err := s.CreateUser(ctx, NewUser{Name: "owner", Admin: true}); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.ClaimPassword(ctx, "owner", "$2a$10$mine"); err != nil || ok {
		t.Errorf("claiming the owner = %v, %v; want false", ok, err)
	}
	if u, _ := s.GetUser(ctx, "owner"); u.PasswordHash != "" {
		t.Errorf("the owner got a password: %+v", u)
	}
	// An instructor waiting for a password, as users add --admin made
	// them before setup codes, is never claimed.
	if _, err := s.CreateUser(ctx, NewUser{Name: "ta", Admin: true, MustSetPassword: true}); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.ClaimPassword(ctx, "ta", "$2a$10$mine"); err != nil || ok {
		t.Errorf("claiming an instructor = %v, %v; want false", ok, err)
	}
	if u, _ := s.GetUser(ctx, "ta"); u.PasswordHash != "" {
		t.Errorf("the instructor got a password: %+v", u)
	}
	if _, ok, err := s.ClaimPassword(ctx, "nobody", "$2a$10$mine"); err != nil || ok {
		t.Errorf("claiming a missing user = %v, %v; want false", ok, err)
	}
	// Removing the password makes the account claimable again.
	if _, err := s.SetPassword(ctx, "alice", ""); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.ClaimPassword(ctx, "alice", "$2a$10$third"); err != nil || !ok {
		t.Errorf("claiming alice after removing her password = %v, %v", ok, err)
	}
	// An instructor's reset does not: its new setup code is the only way
	// in, or whoever typed her name first would get her files.
	if _, err := s.ResetCredentials(ctx, "alice", Credentials{SetupCode: "code", CodeTTL: time.Hour}); err != nil {
		t.Fatal(err)
	}
	before, _ := s.GetUser(ctx, "alice")
	if !before.MustSetPassword || before.PasswordHash != "" {
		t.Fatalf("after the reset: %+v", before)
	}
	if _, ok, err := s.ClaimPassword(ctx, "alice", "$2a$10$stranger"); err != nil || ok {
		t.Errorf("claiming alice after a reset = %v, %v; want false", ok, err)
	}
	if after, _ := s.GetUser(ctx, "alice"); after != before {
		t.Errorf("a refused claim changed alice: %+v, was %+v", after, before)
	}
}

// TestClaimPasswordRace claims one account from many goroutines at once,
// half of them through a second Store on the same file, as a `classhub`
// command beside the running hub would be: exactly one claim may win, and
// the stored hash must be the winner's.
func TestClaimPasswordRace(t *testing.T) {
	s := openTest(t)
	other, err := Open(s.path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close() })
	ctx := context.Background()
	for round := 0; round < 5; round++ {
		name := fmt.Sprintf("student%d", round)
		if _, err := s.CreateUser(ctx, NewUser{Name: name, MustSetPassword: true}); err != nil {
			t.Fatal(err)
		}
		const claimers = 16
		var wg sync.WaitGroup
		won := make(chan string, claimers)
		start := make(chan struct{})
		for i := range claimers {
			st := s
			if i%2 == 1 {
				st = other
			}
			hash := fmt.Sprintf("$2a$10$claimer%d", i)
			wg.Go(func() {
				<-start
				u, ok, err := st.ClaimPassword(ctx, name, hash)
				if err != nil {
					t.Error(err)
					return
				}
				if ok {
					if u.PasswordHash != hash {
						t.Errorf("the winner got back %q, want %q", u.PasswordHash, hash)
					}
					won <- hash
				}
			})
		}
		close(start)
		wg.Wait()
		close(won)
		var winners []string
		for h := range won {
			winners = append(winners, h)
		}
		if len(winners) != 1 {
			t.Fatalf("%s: %d claims won (%v), want exactly 1", name, len(winners), winners)
		}
		if u, _ := s.GetUser(ctx, name); u.PasswordHash != winners[0] || u.MustSetPassword {
			t.Errorf("%s stored %+v, want the winner's hash %q", name, u, winners[0])
		}
	}
}

// TestDeleteUserCascades gives alice one of everything, lets bob hold a
// token through alice's OAuth client, and checks that deleting alice leaves
// nothing of hers and only bob's unrelated rows.
func TestDeleteUserCascades(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	mustUser(t, s, "alice")
	mustUser(t, s, "bob")
	_, serverTok, err := s.CreateToken(ctx, TokenSpec{User: "alice", Kind: KindServer})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutOAuthClient(ctx, OAuthClient{ID: "jupyterhub-user-alice", RedirectURI: "/user/alice/oauth_callback", Owner: "alice"}, "s"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutServer(ctx, Server{User: "alice", TokenID: serverTok.ID, Started: time.Now()}); err != nil {
		t.Fatal(err)
	}
	_, sess, err := s.CreateSession(ctx, "alice", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for _, spec := range []TokenSpec{
		{User: "alice", Kind: KindAPI},
		{User: "alice", Kind: KindOAuth, ClientID: "jupyterhub-user-alice", SessionID: sess.ID},
		{User: "bob", Kind: KindOAuth, ClientID: "jupyterhub-user-alice"}, // an admin visiting alice's server
		{User: "bob", Kind: KindAPI},
	} {
		if _, _, err := s.CreateToken(ctx, spec); err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range []string{"alice", "bob"} {
		if _, err := s.CreateCode(ctx, CodeSpec{ClientID: "jupyterhub-user-alice", User: u, RedirectURI: "/user/alice/oauth_callback"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.CreateLoginLink(ctx, "alice", time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.CreateSession(ctx, "bob", time.Hour); err != nil {
		t.Fatal(err)
	}

	if err := s.DeleteUser(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	for table, want := range map[string]int{
		// The one client left is the desktop app's, which no user owns.
		"users": 1, "api_tokens": 1, "oauth_clients": 1, "oauth_codes": 0,
		"sessions": 1, "servers": 0, "login_links": 0,
	} {
		if got := count(t, s, "SELECT count(*) FROM "+table); got != want {
			t.Errorf("%s has %d rows after deleting alice, want %d", table, got, want)
		}
	}
	if toks, _ := s.ListTokens(ctx, "bob"); len(toks) != 1 || toks[0].Kind != KindAPI {
		t.Errorf("bob's tokens: %+v, want his API token only", toks)
	}
	if err := s.DeleteUser(ctx, "alice"); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleting alice twice: %v", err)
	}
}

func TestListUsers(t *testing.T) {
	s, clk := openClocked(t)
	ctx := context.Background()
	// id order: carol, alice, bob_1, bobby, dave. last_activity: carol
	// oldest … dave never.
	for _, n := range []string{"carol", "alice", "bob_1", "bobby", "dave"} {
		mustUser(t, s, n)
	}
	for i, n := range []string{"carol", "alice", "bob_1", "bobby"} {
		if err := s.RecordUserActivity(ctx, n, clk.Now().Add(time.Duration(i)*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	// alice: ready; bob_1: spawning; bobby: stopping; carol: stopped row.
	for _, sv := range []Server{
		{User: "alice", Started: clk.Now(), Ready: true, URL: "http://172.18.0.2:8888"},
		{User: "bob_1", Pending: PendingSpawn},
		{User: "bobby", Started: clk.Now(), Pending: PendingStop, Ready: true},
		{User: "carol"},
	} {
		if _, err := s.PutServer(ctx, sv); err != nil {
			t.Fatal(err)
		}
	}

	for _, tc := range []struct {
		name  string
		opt   ListOptions
		want  []string
		total int
	}{
		{"all by id", ListOptions{}, []string{"carol", "alice", "bob_1", "bobby", "dave"}, 5},
		{"page", ListOptions{Offset: 1, Limit: 2}, []string{"alice", "bob_1"}, 5},
		{"past the end", ListOptions{Offset: 10, Limit: 2}, []string{}, 5},
		{"by name", ListOptions{Sort: "name"}, []string{"alice", "bob_1", "bobby", "carol", "dave"}, 5},
		{"by name desc", ListOptions{Sort: "-name", Limit: 2}, []string{"dave", "carol"}, 5},
		{"by id desc", ListOptions{Sort: "-id"}, []string{"dave", "bobby", "bob_1", "alice", "carol"}, 5},
		{"by activity", ListOptions{Sort: "last_activity"}, []string{"dave", "carol", "alice", "bob_1", "bobby"}, 5},
		{"by activity desc", ListOptions{Sort: "-last_activity"}, []string{"bobby", "bob_1", "alice", "carol", "dave"}, 5},
		{"filter", ListOptions{NameFilter: "BOB"}, []string{"bob_1", "bobby"}, 2},
		{"filter underscore is literal", ListOptions{NameFilter: "b_"}, []string{"bob_1"}, 1},
		{"filter percent is literal", ListOptions{NameFilter: "%"}, []string{}, 0},
		{"active", ListOptions{State: StateActive}, []string{"alice", "bob_1", "bobby"}, 3},
		{"ready", ListOptions{State: StateReady}, []string{"alice"}, 1},
		{"inactive", ListOptions{State: StateInactive}, []string{"carol", "dave"}, 2},
		{"active, filtered, paged", ListOptions{State: StateActive, NameFilter: "b", Limit: 1, Offset: 1}, []string{"bobby"}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			users, total, err := s.ListUsers(ctx, tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, u := range users {
				names = append(names, u.Name)
			}
			if names == nil {
				names = []string{}
			}
			if !slices.Equal(names, tc.want) || total != tc.total {
				t.Errorf("got %q (total %d), want %q (total %d)", names, total, tc.want, tc.total)
			}
		})
	}
	for _, bad := range []ListOptions{{State: "running"}, {Sort: "created"}, {Offset: -1}, {Limit: -5}} {
		if _, _, err := s.ListUsers(ctx, bad); err == nil {
			t.Errorf("ListUsers(%+v) accepted bad options", bad)
		}
	}
}
