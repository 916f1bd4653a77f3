package web

import (
	"bytes"
	"encoding/base64"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/classhub/classhub/hub/auth"
	"github.com/classhub/classhub/hub/core"
	"github.com/classhub/classhub/hub/roster"
	"github.com/classhub/classhub/hub/scopes"
	"github.com/classhub/classhub/hub/store"
)

// accountsData is the page that shows the first credentials of accounts
// just added or reset, this once: the hub keeps only their hashes.
type accountsData struct {
	Heading string
	Rows    []roster.Handout
	// Skipped counts names that existed already.
	Skipped int
	// Link is where students go: the class's setup page.
	Link string
	// Expires is when the setup codes stop working.
	Expires time.Time
	// CSV is a data: URL of Rows, so they can be saved for printing
	// without the hub keeping them anywhere.
	CSV template.URL
	// Warnings are core.LocalAccountWarning's for these accounts.
	Warnings []string
}

// showAccounts renders accountsData for accounts with a heading.
func (wb *Web) showAccounts(w http.ResponseWriter, r *http.Request, p auth.Principal, heading string, accounts []core.Account, skipped int) {
	d := accountsData{Heading: heading, Rows: roster.AccountHandouts(accounts), Skipped: skipped, Link: wb.classLink(r) + "hub/setup",
		Expires: wb.now().Add(core.SetupCodeTTL)}
	d.CSV = handoutsCSV(d.Rows, wb.classLink(r))
	cfg := wb.hub.Config()
	for _, a := range accounts {
		if warn := core.LocalAccountWarning(cfg, a.Name); warn != "" {
			d.Warnings = append(d.Warnings, sentence(warn))
		}
	}
	v := userView(p, heading, "admin")
	v.Page = d
	wb.render(w, http.StatusOK, "accounts", v)
}

// handoutsCSV is a data: URL of handouts as roster.WriteHandoutsCSV writes
// them. Writing to memory cannot fail, so its error is not looked at.
func handoutsCSV(handouts []roster.Handout, link string) template.URL {
	var buf bytes.Buffer
	_ = roster.WriteHandoutsCSV(&buf, handouts, link)
	return template.URL("data:text/csv;charset=utf-8;base64," + base64.StdEncoding.EncodeToString(buf.Bytes()))
}

// classLink is the hub's address as the browser asking reached it, the one
// to print for students: the admin opens the admin page at the class link.
func (wb *Web) classLink(r *http.Request) string {
	scheme := "http"
	if wb.auth.Secure {
		scheme = "https"
	}
	return scheme + "://" + r.Host + "/"
}

// adminSetupCodes gives every student of the admin page's list (filter q)
// who still waits for a first password a new setup code and sends them
// as a CSV file to print. It changes state and hands out secrets, so it
// is a POST that needs the admin's anti-forgery token, like every admin
// action.
func (wb *Web) adminSetupCodes(w http.ResponseWriter, r *http.Request) {
	p, ok := wb.mustAdmin(w, r)
	if !ok || !wb.checkCSRF(w, r, p) {
		return
	}
	users, _, err := wb.hub.Users(r.Context(), store.ListOptions{NameFilter: strings.TrimSpace(r.PostFormValue("q")), Sort: "name"})
	if err != nil {
		wb.internal(w, r, err)
		return
	}
	var names []string
	for _, u := range users {
		if scopes.Allows(p.Scopes, "admin:users", scopes.OnUser(u.Name)) {
			names = append(names, u.Name)
		}
	}
	renewed, err := wb.hub.RenewSetupCodes(r.Context(), names)
	if err != nil {
		wb.internal(w, r, err)
		return
	}
	if len(renewed) == 0 {
		wb.adminAgain(w, r, p, http.StatusOK, "Every listed student has set up their account already: nobody needs a setup code.", nil)
		return
	}
	var buf bytes.Buffer
	if err := roster.WriteHandoutsCSV(&buf, roster.AccountHandouts(renewed), wb.classLink(r)); err != nil {
		wb.internal(w, r, err)
		return
	}
	wb.log.Printf("web: %s made new setup codes for %s", p.User.Name, plural(len(renewed), "student"))
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="classhub-setup-codes.csv"`)
	h.Set("Cache-Control", "no-store")
	w.Write(buf.Bytes())
}
