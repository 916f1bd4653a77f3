package app

import (
	"reflect"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/classhub/classhub/hub/config"
)

// oidcForm is the settings window's part for the school login ([oidc]).
// The client secret is never put back into the window: its entry stays
// empty, keeps the saved secret when left empty and replaces it when typed
// in, so the secret cannot be read off the screen or revealed with the
// entry's eye button.
type oidcForm struct {
	issuer, clientID, secret *widget.Entry
	domains, groups          *widget.Entry
	nameClaim, groupsClaim   *widget.Entry
	adminUsers, adminGroups  *widget.Entry
	title                    *widget.Entry
	content                  fyne.CanvasObject
}

func newOIDCForm() *oidcForm {
	f := &oidcForm{}
	entry := func(placeholder string) *widget.Entry {
		e := widget.NewEntry()
		e.SetPlaceHolder(placeholder)
		return e
	}
	f.issuer = entry("e.g. https://accounts.google.com; empty: off")
	f.clientID = entry("the client id your provider gives classhub")
	f.secret = widget.NewPasswordEntry()
	f.domains = entry("e.g. school.example, comma-separated")
	f.groups = entry("e.g. class-7b, comma-separated")
	f.nameClaim = entry(config.DefaultOIDCUsernameClaim)
	f.groupsClaim = entry(config.DefaultOIDCGroupsClaim)
	f.adminUsers = entry("user names, comma-separated")
	f.adminGroups = entry("groups, comma-separated")
	f.title = entry(config.DefaultOIDCTitle)
	form := widget.NewForm(
		widget.NewFormItem("Issuer URL", f.issuer),
		widget.NewFormItem("Client ID", f.clientID),
		widget.NewFormItem("Client secret", f.secret),
		widget.NewFormItem("E-mail domains", f.domains),
		widget.NewFormItem("Groups", f.groups),
		widget.NewFormItem("Name claim", f.nameClaim),
		widget.NewFormItem("Groups claim", f.groupsClaim),
		widget.NewFormItem("Instructors", f.adminUsers),
		widget.NewFormItem("Admin groups", f.adminGroups),
		widget.NewFormItem("Button", f.title),
	)
	form.Items[0].HintText = "redirect URI to register: the class link + /hub/oauth_callback"
	form.Items[3].HintText = "verified addresses at these domains may log in"
	form.Items[5].HintText = "email (the whole address), preferred_username or sub"
	heading := widget.NewLabelWithStyle("School login (OpenID Connect)", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	f.content = container.NewVBox(heading, form)
	return f
}

// load shows o, except its secret.
func (f *oidcForm) load(o config.OIDC) {
	f.issuer.SetText(o.Issuer)
	f.clientID.SetText(o.ClientID)
	f.secret.SetText("")
	f.secret.SetPlaceHolder("from your provider")
	if o.ClientSecret != "" {
		f.secret.SetPlaceHolder("saved; type a new one to replace it")
	}
	f.domains.SetText(strings.Join(o.AllowedDomains, ", "))
	f.groups.SetText(strings.Join(o.AllowedGroups, ", "))
	f.nameClaim.SetText(o.UsernameClaim)
	f.groupsClaim.SetText(o.GroupsClaim)
	f.adminUsers.SetText(strings.Join(o.AdminUsers, ", "))
	f.adminGroups.SetText(strings.Join(o.AdminGroups, ", "))
	f.title.SetText(o.Title)
}

// apply is old with the form's values over it. Turning the school login
// off (no issuer) forgets the secret, so it does not linger in the file.
func (f *oidcForm) apply(old config.OIDC) config.OIDC {
	o := config.OIDC{
		Issuer:         strings.TrimSpace(f.issuer.Text),
		ClientID:       strings.TrimSpace(f.clientID.Text),
		ClientSecret:   old.ClientSecret,
		UsernameClaim:  strings.TrimSpace(f.nameClaim.Text),
		AllowedDomains: splitList(f.domains.Text),
		GroupsClaim:    strings.TrimSpace(f.groupsClaim.Text),
		AllowedGroups:  splitList(f.groups.Text),
		AdminUsers:     splitList(f.adminUsers.Text),
		AdminGroups:    splitList(f.adminGroups.Text),
		Title:          strings.TrimSpace(f.title.Text),
	}
	if s := strings.TrimSpace(f.secret.Text); s != "" {
		o.ClientSecret = config.Secret(s)
	}
	if o.Issuer == "" {
		o.ClientSecret = ""
	}
	return o
}

// oidcChanged reports whether the school login's settings differ.
func oidcChanged(old, new config.OIDC) bool { return !reflect.DeepEqual(old, new) }

// splitList reads "a, b,c" as [a b c]; nothing is nil, as the file has it.
func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}
