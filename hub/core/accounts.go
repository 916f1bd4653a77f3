package core

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/classhub/classhub/hub/auth"
	"github.com/classhub/classhub/hub/store"
)

// SetupCodeTTL is how long a setup code works: long enough for a roster
// printed a week or two before the first class.
const SetupCodeTTL = 30 * 24 * time.Hour

// Account is a user and the credential to hand them, which exists only
// here, to be shown once: the hub keeps hashes.
type Account struct {
	store.User
	// Password is an instructor's generated password, or the one given.
	Password string
	// Generated marks Password as made up here.
	Generated bool
	// SetupCode is a student's one-time code: their first login chooses
	// their password with it.
	SetupCode string
}

// ErrBadSetupCode is a name and setup code that do not go together: the
// code is wrong, used or expired, or the name is not a student's waiting
// for one.
var ErrBadSetupCode = errors.New("that username and setup code do not match")

// CreateUser adds one user, normalized and valid, to st. Nobody can claim
// the account by typing its name: it gets password if one is given; else
// an instructor gets a generated password and a student a setup code,
// each returned to be handed out. It returns store.ErrExists if the name
// is taken. It needs no running hub: the CLI calls it on the state file.
func CreateUser(ctx context.Context, st *store.Store, name string, admin bool, password string) (Account, error) {
	a := Account{Password: password}
	nu := store.NewUser{Name: name, Admin: admin}
	switch {
	case password != "":
	case admin:
		a.Password, a.Generated = auth.GeneratePassword(), true
	default:
		a.SetupCode = auth.NewSetupCode()
		nu.MustSetPassword, nu.SetupCode, nu.CodeTTL = true, auth.NormalizeSetupCode(a.SetupCode), SetupCodeTTL
	}
	if a.Password != "" {
		hash, err := auth.HashPassword(a.Password)
		if err != nil {
			return Account{}, fmt.Errorf("add user %s: %w", name, err)
		}
		nu.PasswordHash = hash
	}
	u, err := st.CreateUser(ctx, nu)
	if err != nil {
		return Account{}, err
	}
	a.User = u
	return a, nil
}

// CreateUser is the package's CreateUser on the hub's store.
func (h *Lifecycle) CreateUser(ctx context.Context, name string, admin bool, password string) (Account, error) {
	return CreateUser(ctx, h.store, name, admin, password)
}

// ResetUser takes away every way name had in — password, setup code,
// sessions, API and OAuth tokens — and gives them a new credential to
// hand out: a generated password for an instructor, a setup code for a
// student. A running server keeps running with its own token, which the
// next start replaces (see serverToken): revoking it now would cut the
// server off the hub in the middle of the student's work. It needs no
// running hub.
func ResetUser(ctx context.Context, st *store.Store, name string) (Account, error) {
	u, err := getUser(ctx, st, name)
	if err != nil {
		return Account{}, err
	}
	var a Account
	var c store.Credentials
	if u.Admin {
		a.Password, a.Generated = auth.GeneratePassword(), true
		if c.PasswordHash, err = auth.HashPassword(a.Password); err != nil {
			return Account{}, fmt.Errorf("reset %s: %w", name, err)
		}
	} else {
		a.SetupCode = auth.NewSetupCode()
		c.SetupCode, c.CodeTTL = auth.NormalizeSetupCode(a.SetupCode), SetupCodeTTL
	}
	// The store's error names the reset already.
	if a.User, err = st.ResetCredentials(ctx, name, c); err != nil {
		return Account{}, err
	}
	return a, nil
}

// ResetUser is the package's ResetUser on the hub's store.
func (h *Lifecycle) ResetUser(ctx context.Context, name string) (Account, error) {
	return ResetUser(ctx, h.store, name)
}

// SetPassword gives name the password, which must meet the rules (else a
// *auth.PasswordRuleError says which), and ends every session of theirs.
// It needs no running hub.
func SetPassword(ctx context.Context, st *store.Store, name, password string) error {
	if _, err := getUser(ctx, st, name); err != nil {
		return err
	}
	hash, err := auth.HashPassword(password)
	if err != nil {
		return err
	}
	_, err = st.SetPassword(ctx, name, hash)
	return err
}

// SetPassword is the package's SetPassword on the hub's store.
func (h *Lifecycle) SetPassword(ctx context.Context, name, password string) error {
	return SetPassword(ctx, h.store, name, password)
}

// SetUpAccount is a student's first login: with the setup code they were
// handed, they choose their password. A password that breaks the rules
// gives a *auth.PasswordRuleError, a name and code that do not go
// together ErrBadSetupCode; either way nothing changes. The code works
// once, and any session of the account ends.
func (h *Lifecycle) SetUpAccount(ctx context.Context, name, code, password string) (store.User, error) {
	hash, err := auth.HashPassword(password)
	if err != nil {
		return store.User{}, err
	}
	code = auth.NormalizeSetupCode(code)
	if code == "" {
		return store.User{}, ErrBadSetupCode
	}
	u, err := h.store.RedeemSetupCode(ctx, name, code, hash)
	if errors.Is(err, store.ErrBadCode) {
		return store.User{}, ErrBadSetupCode
	}
	return u, err
}

// RenewSetupCodes gives each student of names who still waits for a first
// password a new setup code, replacing the one handed out before (lost,
// or never printed), and returns them with their codes; other names are
// left alone.
func (h *Lifecycle) RenewSetupCodes(ctx context.Context, names []string) ([]Account, error) {
	var out []Account
	for _, name := range names {
		u, err := h.user(ctx, name)
		if err != nil {
			return out, err
		}
		if u.Admin || !u.MustSetPassword || u.PasswordHash != "" {
			continue
		}
		a := Account{User: u, SetupCode: auth.NewSetupCode()}
		if err := h.store.PutSetupCode(ctx, name, auth.NormalizeSetupCode(a.SetupCode), SetupCodeTTL); err != nil {
			return out, err
		}
		out = append(out, a)
	}
	return out, nil
}
