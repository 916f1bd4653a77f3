package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/classhub/classhub/hub/auth"
	"github.com/classhub/classhub/hub/scopes"
	"github.com/classhub/classhub/hub/store"
)

// tokenExpiries are the lifetimes the token page offers, in seconds; 0 is
// never.
var tokenExpiries = []struct {
	Seconds int
	Label   string
}{
	{3600, "1 hour"},
	{86400, "1 day"},
	{7 * 86400, "1 week"},
	{30 * 86400, "30 days"},
	{0, "Never"},
}

// tokenRow is one token on the token page.
type tokenRow struct {
	ID, Kind, Note, Client           string
	Created, LastActivity, ExpiresAt time.Time
}

// tokenData is the token page's.
type tokenData struct {
	Tokens   []tokenRow
	Expiries any
	// NewToken is a token just made, shown this once.
	NewToken string
	NewNote  string
}

func (wb *Web) tokenView(r *http.Request, p auth.Principal) (view, tokenData, error) {
	toks, err := wb.store.ListTokens(r.Context(), p.User.Name)
	if err != nil {
		return view{}, tokenData{}, err
	}
	d := tokenData{Expiries: tokenExpiries}
	for _, t := range toks {
		// A server's own token is the server's business: revoking it
		// would cut a running notebook off from the hub.
		if t.Kind == store.KindServer {
			continue
		}
		d.Tokens = append(d.Tokens, tokenRow{ID: t.APIID(), Kind: t.Kind, Note: t.Note, Client: t.ClientID,
			Created: t.Created, LastActivity: t.LastActivity, ExpiresAt: t.ExpiresAt})
	}
	return userView(p, "Tokens", "token"), d, nil
}

func (wb *Web) tokenPage(w http.ResponseWriter, r *http.Request) {
	p, ok := wb.mustLogin(w, r)
	if !ok {
		return
	}
	v, d, err := wb.tokenView(r, p)
	if err != nil {
		wb.internal(w, r, err)
		return
	}
	if r.URL.Query().Get("revoked") != "" {
		v.Notice = "Token revoked: programs using it can no longer reach the hub."
	}
	v.Page = d
	wb.render(w, http.StatusOK, "token", v)
}

func (wb *Web) tokenPost(w http.ResponseWriter, r *http.Request) {
	p, ok := wb.mustLogin(w, r)
	if !ok || !wb.checkCSRF(w, r, p) {
		return
	}
	me := p.User.Name
	again := func(status int, msg string) {
		v, d, err := wb.tokenView(r, p)
		if err != nil {
			wb.internal(w, r, err)
			return
		}
		v.Error, v.Page = msg, d
		wb.render(w, status, "token", v)
	}
	switch r.PostFormValue("action") {
	case "create":
		if !scopes.Allows(p.Scopes, "tokens", scopes.OnUser(me)) {
			wb.fail(w, r, http.StatusForbidden, "You may not make tokens.")
			return
		}
		secs, err := strconv.Atoi(r.PostFormValue("expires_in"))
		if err != nil || secs < 0 {
			again(http.StatusBadRequest, "Choose how long the token lasts from the list.")
			return
		}
		note := strings.TrimSpace(r.PostFormValue("note"))
		if len(note) > 200 {
			again(http.StatusBadRequest, "The note is too long: keep it under 200 characters.")
			return
		}
		if note == "" {
			note = "Requested via the token page"
		}
		resolved, err := scopes.Resolve([]string{scopes.Inherit}, scopes.Owner{User: me})
		if err != nil {
			wb.internal(w, r, err)
			return
		}
		secret, _, err := wb.store.CreateToken(r.Context(), store.TokenSpec{User: me, Kind: store.KindAPI, Scopes: resolved,
			Note: note, ExpiresIn: time.Duration(secs) * time.Second})
		if err != nil {
			wb.internal(w, r, err)
			return
		}
		v, d, err := wb.tokenView(r, p)
		if err != nil {
			wb.internal(w, r, err)
			return
		}
		d.NewToken, d.NewNote = secret, note
		v.Page = d
		wb.render(w, http.StatusOK, "token", v)
	case "revoke":
		id, err := store.ParseTokenID(r.PostFormValue("id"))
		if err != nil {
			again(http.StatusBadRequest, sentence(err.Error()))
			return
		}
		tok, err := wb.store.GetToken(r.Context(), me, id)
		if errors.Is(err, store.ErrNotFound) {
			again(http.StatusNotFound, "That token does not exist any more.")
			return
		} else if err != nil {
			wb.internal(w, r, err)
			return
		}
		if tok.Kind == store.KindServer {
			again(http.StatusBadRequest, "That token belongs to your notebook server. Stop the server instead.")
			return
		}
		if err := wb.revoke(r, me, tok); err != nil {
			wb.internal(w, r, err)
			return
		}
		http.Redirect(w, r, "/hub/token?revoked=1", http.StatusSeeOther)
	default:
		again(http.StatusBadRequest, "Reload the page and use its buttons.")
	}
}

// revoke deletes tok. Revoking a token an application got through OAuth
// revokes all of the user's tokens for that application, as JupyterHub's
// "revoke application" does: one left behind would keep it logged in.
func (wb *Web) revoke(r *http.Request, me string, tok store.Token) error {
	if tok.Kind != store.KindOAuth || tok.ClientID == "" {
		return wb.store.DeleteToken(r.Context(), me, tok.ID)
	}
	toks, err := wb.store.ListTokens(r.Context(), me)
	if err != nil {
		return err
	}
	for _, t := range toks {
		if t.Kind == store.KindOAuth && t.ClientID == tok.ClientID {
			if err := wb.store.DeleteToken(r.Context(), me, t.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("revoke %s: %w", t.APIID(), err)
			}
		}
	}
	return nil
}
