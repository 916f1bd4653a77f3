package web

import (
	"net/http"
	"net/url"
	"testing"
)

// TestAdminActionsAskAndRefuse: every action on one user needs a scope on
// them; the ones that cannot be undone ask first and refuse the admin's
// own account; an action the page has no button for is refused.
func TestAdminActionsAskAndRefuse(t *testing.T) {
	for name, a := range adminActions {
		bulk := name == "start-all" || name == "stop-all"
		if bulk != (a.scope == "") {
			t.Errorf("%s: scope %q", name, a.scope)
		}
		if destructive := name == "delete" || name == "reset-password"; destructive != (a.confirm != nil && a.self != "") {
			t.Errorf("%s: asks first %v, refuses the admin's own account %v", name, a.confirm != nil, a.self != "")
		}
		// Whatever can delete files asks first, and deletes them only from
		// the confirmation page's second button.
		if a.wipe != "" && a.confirm == nil {
			t.Errorf("%s can delete files without asking", name)
		}
	}

	e, root := adminEnv(t)
	tok := root.csrf()
	before, err := e.store.GetUser(t.Context(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		form   url.Values
		status int
		body   string
	}{
		{url.Values{"action": {"shutdown"}, "user": {"alice"}}, http.StatusBadRequest, "There is no action &#34;shutdown&#34;"},
		{url.Values{"action": {"reset-password"}, "user": {"root"}, "confirm": {"yes"}}, http.StatusBadRequest, "cannot reset your own password"},
		{url.Values{"action": {"reset-password"}, "user": {"alice"}}, http.StatusOK, "Reset alice&#39;s password?"},
	} {
		tc.form.Set("_xsrf", tok)
		p := root.post("/hub/admin/action", tc.form)
		wantStatus(t, p, tc.status)
		wantBody(t, p, tc.body)
	}
	if after, err := e.store.GetUser(t.Context(), "alice"); err != nil || after.PasswordHash != before.PasswordHash {
		t.Errorf("asking to reset alice's password reset it: %v", err)
	}
}
