package store

import (
	"context"
	"errors"
	"testing"
)

func TestExternalUsersRememberTheirLogin(t *testing.T) {
	s, _ := openClocked(t)
	ctx := context.Background()
	u, err := s.CreateExternalUser(ctx, NewUser{Name: "octocat", Admin: true}, "github")
	if err != nil || u.Name != "octocat" || !u.Admin || u.PasswordHash != "" || u.MustSetPassword {
		t.Fatalf("created %+v, %v", u, err)
	}
	if p, err := s.ExternalLogin(ctx, "octocat"); p != "github" || err != nil {
		t.Errorf("octocat logs in with %q, %v", p, err)
	}
	if _, err := s.CreateUser(ctx, NewUser{Name: "alice", PasswordHash: "$2a$10$x"}); err != nil {
		t.Fatal(err)
	}
	if p, err := s.ExternalLogin(ctx, "alice"); p != "" || err != nil {
		t.Errorf("alice logs in with %q, %v; want a password", p, err)
	}
	if _, err := s.ExternalLogin(ctx, "nobody"); !errors.Is(err, ErrNotFound) {
		t.Errorf("nobody: %v", err)
	}
	// A taken name makes nothing, not even half an account.
	if _, err := s.CreateExternalUser(ctx, NewUser{Name: "alice"}, "github"); !errors.Is(err, ErrExists) {
		t.Errorf("taken name: %v", err)
	}
	if p, _ := s.ExternalLogin(ctx, "alice"); p != "" {
		t.Errorf("alice became a %s login", p)
	}
	// The login follows a rename and goes with the user.
	name := "octo"
	if _, err := s.UpdateUser(ctx, "octocat", UserUpdate{Name: &name}); err != nil {
		t.Fatal(err)
	}
	if p, _ := s.ExternalLogin(ctx, "octo"); p != "github" {
		t.Errorf("renamed user logs in with %q", p)
	}
	if err := s.DeleteUser(ctx, "octo"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateUser(ctx, NewUser{Name: "octo", MustSetPassword: true}); err != nil {
		t.Fatal(err)
	}
	if p, _ := s.ExternalLogin(ctx, "octo"); p != "" {
		t.Errorf("a new octo inherited the deleted one's %s login", p)
	}
}
