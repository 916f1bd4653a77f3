package store

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"
)

func TestPutAndGetServer(t *testing.T) {
	s, clk := openClocked(t)
	ctx := context.Background()
	mustUser(t, s, "alice")
	_, tok, err := s.CreateToken(ctx, TokenSpec{User: "alice", Kind: KindServer})
	if err != nil {
		t.Fatal(err)
	}
	started := clk.Now().UTC().Truncate(time.Microsecond)
	in := Server{
		User: "alice", Started: clk.Now(), LastActivity: clk.Now(), URL: "http://172.18.0.5:8888",
		Pending: PendingSpawn, State: json.RawMessage(`{"object_id":"abc123","object_name":"classhub-alice"}`), TokenID: tok.ID,
	}
	sv, err := s.PutServer(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if sv.User != "alice" || sv.Name != "" || sv.Started != started || sv.LastActivity != started || sv.URL != in.URL ||
		sv.Pending != PendingSpawn || sv.Ready || string(sv.State) != string(in.State) || sv.TokenID != tok.ID || !sv.Active() {
		t.Errorf("stored %+v", sv)
	}
	got, err := s.GetServer(ctx, "alice", "")
	if err != nil || !equalServer(got, sv) {
		t.Errorf("GetServer = %+v, %v; want %+v", got, err, sv)
	}

	// Ready; a stale copy must not move last_activity back.
	clk.Advance(time.Minute)
	if err := s.RecordActivity(ctx, "alice", "", clk.Now()); err != nil {
		t.Fatal(err)
	}
	in.Pending, in.Ready = "", true
	sv, err = s.PutServer(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if sv.Pending != "" || !sv.Ready || sv.LastActivity != started.Add(time.Minute) {
		t.Errorf("after ready %+v", sv)
	}

	// Stopped, keeping the row: no URL, no start, state kept, no token.
	sv, err = s.PutServer(ctx, Server{User: "alice", LastActivity: sv.LastActivity, State: sv.State})
	if err != nil {
		t.Fatal(err)
	}
	if sv.Active() || sv.URL != "" || !sv.Started.IsZero() || sv.TokenID != 0 || string(sv.State) != string(in.State) {
		t.Errorf("after stop %+v", sv)
	}
	if sv, err = s.PutServer(ctx, Server{User: "alice"}); err != nil || string(sv.State) != "{}" {
		t.Errorf("nil state stored as %q, %v", sv.State, err)
	}

	for _, tc := range []struct {
		name string
		sv   Server
		err  error
	}{
		{"missing user", Server{User: "bob"}, ErrNotFound},
		{"missing token", Server{User: "alice", TokenID: 999}, ErrNotFound},
		{"bad pending", Server{User: "alice", Pending: "start"}, nil},
		{"bad state", Server{User: "alice", State: json.RawMessage(`{"a":`)}, nil},
	} {
		if _, err := s.PutServer(ctx, tc.sv); err == nil || (tc.err != nil && !errors.Is(err, tc.err)) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	if _, err := s.GetServer(ctx, "alice", "other"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing server: %v", err)
	}
}

func equalServer(a, b Server) bool { return reflect.DeepEqual(a, b) }

func TestListAndDeleteServers(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	for _, n := range []string{"bob", "alice"} {
		mustUser(t, s, n)
	}
	serverSecret, serverTok, err := s.CreateToken(ctx, TokenSpec{User: "alice", Kind: KindServer})
	if err != nil {
		t.Fatal(err)
	}
	apiSecret, apiTok, err := s.CreateToken(ctx, TokenSpec{User: "bob", Kind: KindAPI})
	if err != nil {
		t.Fatal(err)
	}
	for _, sv := range []Server{
		{User: "bob", TokenID: apiTok.ID},
		{User: "alice", Name: "gpu"},
		{User: "alice", TokenID: serverTok.ID},
	} {
		if _, err := s.PutServer(ctx, sv); err != nil {
			t.Fatal(err)
		}
	}
	names := func(user string) []string {
		t.Helper()
		list, err := s.ListServers(ctx, user)
		if err != nil {
			t.Fatal(err)
		}
		out := []string{}
		for _, sv := range list {
			out = append(out, sv.User+"/"+sv.Name)
		}
		return out
	}
	if got := names(""); !equalStrings(got, []string{"alice/", "alice/gpu", "bob/"}) {
		t.Errorf("all servers: %q", got)
	}
	if got := names("alice"); !equalStrings(got, []string{"alice/", "alice/gpu"}) {
		t.Errorf("alice's servers: %q", got)
	}
	if got := names("carol"); len(got) != 0 {
		t.Errorf("carol's servers: %q", got)
	}

	// Deleting a server revokes its server token …
	if err := s.DeleteServer(ctx, "alice", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.LookupToken(ctx, serverSecret); !errors.Is(err, ErrNotFound) {
		t.Errorf("the deleted server's token still works: %v", err)
	}
	// … but never a token of another kind.
	if err := s.DeleteServer(ctx, "bob", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.LookupToken(ctx, apiSecret); err != nil {
		t.Errorf("deleting bob's server took his API token: %v", err)
	}
	if err := s.DeleteServer(ctx, "bob", ""); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleting twice: %v", err)
	}
	if got := names(""); !equalStrings(got, []string{"alice/gpu"}) {
		t.Errorf("left: %q", got)
	}

	// Revoking a server's token leaves the server without one.
	_, tok, err := s.CreateToken(ctx, TokenSpec{User: "alice", Kind: KindServer})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutServer(ctx, Server{User: "alice", Name: "gpu", TokenID: tok.ID}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteToken(ctx, "alice", tok.ID); err != nil {
		t.Fatal(err)
	}
	if sv, err := s.GetServer(ctx, "alice", "gpu"); err != nil || sv.TokenID != 0 {
		t.Errorf("after revoking its token: %+v, %v", sv, err)
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
