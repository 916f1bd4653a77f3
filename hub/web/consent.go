package web

import (
	"net/http"
	"sort"
	"strings"

	"github.com/classhub/classhub/hub/api"
	"github.com/classhub/classhub/hub/auth"
	"github.com/classhub/classhub/hub/scopes"
)

// consentData is the consent page's.
type consentData struct {
	User, Owner, ServerURL string
	// App is set when the classhub app on the user's computer asks.
	App    bool
	Action string
	Fields []formField
	Scopes []scopeLine
}

type formField struct{ Name, Value string }

// scopeLine is one thing the server gets, in words and as its scope.
type scopeLine struct{ Text, Scope string }

// scopeWords says what the scopes a server's token may carry let it do.
var scopeWords = map[string]string{
	"access:servers":    "use this server as you",
	"servers":           "start and stop your notebook server",
	"read:servers":      "see whether your notebook server is running",
	"read:users:name":   "see your username",
	"read:users:groups": "see which groups you are in",
}

// Consent is hub/api's consent page: it asks p whether to let another
// user's server log them in, and posts the answer back with p's
// anti-forgery token.
func (wb *Web) Consent(w http.ResponseWriter, r *http.Request, p auth.Principal, c api.Consent) {
	d := consentData{User: c.User, Owner: c.Owner, ServerURL: c.ServerURL, App: c.App, Action: api.AuthorizePath}
	names := make([]string, 0, len(c.Form))
	for name := range c.Form {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		for _, v := range c.Form[name] {
			d.Fields = append(d.Fields, formField{name, v})
		}
	}
	for _, s := range c.Scopes {
		text := s
		if parsed, err := scopes.Parse(s); err == nil && scopeWords[parsed.Name] != "" {
			text = scopeWords[parsed.Name]
			if c.App && parsed.Name == "access:servers" {
				text = "open your notebook server"
			}
		}
		d.Scopes = append(d.Scopes, scopeLine{Text: text, Scope: s})
	}
	title := "Open " + c.Owner + "’s server?"
	if c.App {
		title = "Let the classhub app in?"
	}
	v := userView(p, title, "")
	v.Page = d
	// These pages are served under /hub/api, outside Handler: give them
	// the pages' headers, above all the refusal to be framed, which keeps
	// the Allow button from being clicked through a disguise.
	wb.securityHeaders(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c.App {
			// Allow ends at the app's loopback address, on whatever port it
			// listens: the browser checks form-action on that redirect.
			h := w.Header()
			h.Set("Content-Security-Policy", strings.Replace(h.Get("Content-Security-Policy"),
				"form-action 'self'", "form-action 'self' "+appFormAction, 1))
		}
		wb.render(w, http.StatusOK, "consent", v)
	})).ServeHTTP(w, r)
}

// appFormAction is where the app's consent may send the browser: the
// loopback addresses auth.AppRedirect allows, on any port.
const appFormAction = "http://127.0.0.1:* http://[::1]:*"

// Refuse is hub/api's error page for browsers at the authorization
// endpoint; msg may be an error's text, which it makes a sentence.
func (wb *Web) Refuse(w http.ResponseWriter, r *http.Request, status int, msg string) {
	wb.securityHeaders(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		wb.fail(w, r, status, sentence(msg))
	})).ServeHTTP(w, r)
}
