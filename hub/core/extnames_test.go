package core

import (
	"errors"
	"testing"

	"github.com/classhub/classhub/hub/config"
)

func TestExternalName(t *testing.T) {
	cfg := config.Default()
	for _, name := range []string{"teacher", "alice", "teacher@school.example"} {
		if err := ExternalName(cfg, name); err != nil {
			t.Errorf("with no external login, %s: %v", name, err)
		}
	}
	cfg.GitHub = config.GitHub{ClientID: "id", AllowedUsers: []string{"Alice"}, AdminUsers: []string{"Teacher"},
		AllowedOrganizations: []string{"maths"}}
	cfg.OIDC = config.OIDC{Issuer: "https://idp.school.example", AdminUsers: []string{"head"}}
	for _, name := range []string{"teacher", "alice", "head", "teacher@school.example", "bob@elsewhere.example"} {
		if err := ExternalName(cfg, name); !errors.Is(err, ErrExternalName) {
			t.Errorf("%s: %v, want ErrExternalName", name, err)
		}
	}
	for _, name := range []string{"bob", "maths", "alice2"} {
		if err := ExternalName(cfg, name); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	// A school login that names people by another claim leaves '@' free.
	cfg.OIDC.UsernameClaim = "preferred_username"
	if err := ExternalName(cfg, "bob@elsewhere.example"); err != nil {
		t.Errorf("with preferred_username: %v", err)
	}
	if err := ExternalName(cfg, "head"); !errors.Is(err, ErrExternalName) {
		t.Errorf("an OIDC admin with preferred_username: %v", err)
	}
}
