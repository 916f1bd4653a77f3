package core

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/classhub/classhub/hub/spawner"
	"github.com/classhub/classhub/hub/spawner/spawnertest"
	"github.com/classhub/classhub/hub/store"
)

// openStore is the state file alone, as the CLI opens it.
func openStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "state.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// TestUserAdminWithoutAHub: the CLI adds, resets, sets the password of
// and deletes users on the state file, with no Lifecycle.
func TestUserAdminWithoutAHub(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	created, err := AddUsers(ctx, st, []string{" Alice ", "alice", "ta"}, false)
	if err != nil || len(created) != 2 || created[0].Name != "alice" || created[0].SetupCode == "" {
		t.Fatalf("AddUsers = %+v, %v", created, err)
	}
	if again, err := AddUsers(ctx, st, []string{"alice", "bob"}, false); err != nil || len(again) != 1 || again[0].Name != "bob" {
		t.Errorf("AddUsers again = %+v, %v; want only bob", again, err)
	}
	if _, err := AddUsers(ctx, st, []string{"carol", "Carol Smith"}, false); !errors.Is(err, ErrBadName) {
		t.Errorf("AddUsers with a full name = %v, want ErrBadName", err)
	}
	if _, err := st.GetUser(ctx, "carol"); err == nil {
		t.Error("a bad name in the batch still created carol")
	}
	a, err := ResetUser(ctx, st, "alice")
	if err != nil || a.SetupCode == "" || a.SetupCode == created[0].SetupCode {
		t.Errorf("ResetUser = %+v, %v; want a new setup code", a, err)
	}
	if err := SetPassword(ctx, st, "alice", "a long enough password"); err != nil {
		t.Errorf("SetPassword = %v", err)
	}
	if _, err := ResetUser(ctx, st, "nobody"); !errors.Is(err, ErrNoSuchUser) {
		t.Errorf("ResetUser(nobody) = %v, want ErrNoSuchUser", err)
	}

	// Without the engine the user goes and any container stays; with it,
	// the container goes too.
	if err := DeleteUser(ctx, st, nil, "ta"); err != nil {
		t.Fatalf("DeleteUser without a spawner = %v", err)
	}
	sp := spawnertest.New()
	if _, err := sp.Start(ctx, spawner.StartRequest{User: "alice"}); err != nil {
		t.Fatal(err)
	}
	if err := DeleteUser(ctx, st, sp, "alice"); err != nil {
		t.Fatalf("DeleteUser = %v", err)
	}
	if s, _ := sp.Status(ctx, "alice"); s.State != spawner.StateMissing {
		t.Errorf("alice's container after DeleteUser: %+v", s)
	}
	for _, name := range []string{"alice", "ta"} {
		if _, err := st.GetUser(ctx, name); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s after DeleteUser: %v", name, err)
		}
	}
	if err := DeleteUser(ctx, st, sp, "alice"); !errors.Is(err, ErrNoSuchUser) {
		t.Errorf("DeleteUser twice = %v, want ErrNoSuchUser", err)
	}
}
