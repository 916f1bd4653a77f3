package classclient

import (
	"fmt"
	"time"
)

// Token is a hub's API token for one user, as the app keeps it.
type Token struct {
	// Secret is the token itself. It is never logged: String and the %v
	// verbs leave it out.
	Secret string `json:"secret"`
	// ID is the hub's id of the token ("a42"), which Revoke deletes; ""
	// when the hub has not said it yet.
	ID string `json:"id,omitempty"`
	// User is whose token it is.
	User string `json:"user,omitempty"`
	// Scopes are what the hub said the token may do, if it said.
	Scopes []string `json:"scopes,omitempty"`
	// Expires is when the token stops working; zero for never.
	Expires time.Time `json:"expires,omitzero"`
	// Minted is set when Paste had the hub make this token for the app in
	// place of the pasted one, which the learner may delete on the hub's
	// token page.
	Minted bool `json:"minted,omitempty"`
}

// String names the token without its secret.
func (t Token) String() string {
	id := t.ID
	if id == "" {
		id = "?"
	}
	return fmt.Sprintf("token %s of %s", id, t.User)
}

// GoString keeps the secret out of %#v too.
func (t Token) GoString() string { return t.String() }
