package core

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/classhub/classhub/hub/config"
)

// ErrExternalName is a name that an external login gives someone, which a
// local account (a password or a setup code) would take from them.
var ErrExternalName = errors.New("the username belongs to an external login")

// ExternalName says why a local account named name (normalized) would
// take the name of someone an external login in cfg lets in, with an
// error that is ErrExternalName and reads as a sentence for the person
// signing up, or returns nil. An external login never takes over an
// account that logs in another way (web's externalUser), so once a
// student signs up as the instructor's GitHub login or a school address,
// the real person's login is refused for good. The names it knows: those
// GitHub's allowed_users and admin_users list, those OIDC's admin_users
// list, and, where OIDC names people by their e-mail address, every name
// holding '@'. Members of allowed organizations or groups are not known
// in advance: their names stay first come.
//
// Sign-up by join code checks this; an instructor adding users does not
// (they may mean it) but is warned.
func ExternalName(cfg config.Config, name string) error {
	if cfg.GitHub.Enabled() && (listed(cfg.GitHub.AllowedUsers, name) || listed(cfg.GitHub.AdminUsers, name)) {
		return externalNameError(fmt.Sprintf("The username %s is kept for the GitHub account of that name, which this hub lets in: if it is yours, "+
			"log in with GitHub on the login page; if not, pick another username", name))
	}
	if cfg.OIDC.Enabled() && (listed(cfg.OIDC.AdminUsers, name) || byEmail(cfg.OIDC) && strings.Contains(name, "@")) {
		return externalNameError(fmt.Sprintf("The username %s is kept for someone who logs in with their school account: if it is yours, "+
			"use the school login on the login page; if not, pick a username without @", name))
	}
	return nil
}

// externalNameError is ExternalName's sentence.
type externalNameError string

func (e externalNameError) Error() string      { return string(e) }
func (externalNameError) Is(target error) bool { return target == ErrExternalName }

// byEmail reports whether o names people by their e-mail address.
func byEmail(o config.OIDC) bool {
	return o.UsernameClaim == "" || o.UsernameClaim == "email"
}

// listed reports whether names, as settings spell them, hold name.
func listed(names []string, name string) bool {
	return slices.ContainsFunc(names, func(n string) bool { return NormalizeName(n) == name })
}

// LocalAccountWarning is what an instructor who gives name a local account
// is told when ExternalName keeps the name for an external login, "" when
// nothing goes wrong: they may mean it, but the person's external login
// will be refused.
func LocalAccountWarning(cfg config.Config, name string) string {
	if ExternalName(cfg, name) == nil {
		return ""
	}
	return "The username " + name + " is kept for an external login of this hub: as an account with a password or setup code, " +
		"that person's login with GitHub or their school account will be refused. If you did not mean that, delete the account and let them log in that way"
}
