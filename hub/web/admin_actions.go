package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/classhub/classhub/hub/auth"
	"github.com/classhub/classhub/hub/core"
	"github.com/classhub/classhub/hub/scopes"
	"github.com/classhub/classhub/hub/spawner"
	"github.com/classhub/classhub/hub/store"
)

// confirmData asks before a destructive admin action without JavaScript
// (the admin page's script asks with a dialog instead).
type confirmData struct {
	Action, User, Query string
	Question, Button    string
	// WipeButton, if set, offers to delete the user's files too, for
	// good, with their name typed again.
	WipeButton string
}

// actionForm is an admin action as posted, with the answers it can give.
type actionForm struct {
	wb        *Web
	w         http.ResponseWriter
	r         *http.Request
	p         auth.Principal
	action    string
	user      string
	query     string
	confirmed bool
	// wipe asks to delete the user's files too; typed is their name typed
	// again, which wiping needs.
	wipe  bool
	typed string
}

// back redirects to the admin page, keeping its filter, with v saying
// what was done (see doneSentence).
func (f *actionForm) back(v url.Values) {
	if f.query != "" {
		v.Set("q", f.query)
	}
	http.Redirect(f.w, f.r, "/hub/admin?"+v.Encode(), http.StatusSeeOther)
}

// ask shows a page asking to confirm the action.
func (f *actionForm) ask(question, button string) { f.askOrWipe(question, button, "") }

// askOrWipe is ask with a second button, wipe, that deletes the user's
// files too once their name is typed again; "" shows none.
func (f *actionForm) askOrWipe(question, button, wipe string) {
	v := userView(f.p, "Are you sure?", "admin")
	v.Page = confirmData{Action: f.action, User: f.user, Query: f.query, Question: question, Button: button,
		WipeButton: strings.ReplaceAll(wipe, "NAME", f.user)}
	f.wb.render(f.w, http.StatusOK, "confirm", v)
}

// adminAction is what one of the admin page's buttons does.
type adminAction struct {
	// scope is needed on the user's server. The bulk actions need none:
	// they act on the servers the admin holds theirs on.
	scope string
	// self, if set, refuses the action on the admin's own account and
	// says why.
	self string
	// confirm, if set, asks before the action on user, with the question
	// and the button's label.
	confirm func(user string) (question, button string)
	// wipe, if set, is the label of the confirmation page's second
	// button, which deletes the user's files too (NAME is the user); it
	// needs their name typed again and the admin:servers scope.
	wipe string
	// do acts, and answers unless it fails: its error is shown on the
	// admin page.
	do func(f *actionForm) error
}

// adminActions are the admin page's actions, by the form's action field.
var adminActions = map[string]adminAction{
	"start": {scope: "servers", do: func(f *actionForm) error {
		if err := f.wb.startMany(f.r, []string{f.user})[0].Err; err != nil {
			return err
		}
		f.back(url.Values{"done": {"start"}, "user": {f.user}})
		return nil
	}},
	"stop": {scope: "delete:servers", do: func(f *actionForm) error {
		if err := f.wb.hub.Stop(f.r.Context(), f.user, false); err != nil {
			return err
		}
		f.back(url.Values{"done": {"stop"}, "user": {f.user}})
		return nil
	}},
	"delete": {scope: "delete:users", self: "You cannot delete yourself.",
		confirm: func(user string) (string, string) {
			return "Delete " + user + "? Their server is stopped and removed and they can no longer log in. Their files are kept, " +
				"listed under Kept files, and a new user named " + user + " does not get them.", "Delete " + user + ", keep their files"
		},
		wipe: "Delete NAME and their files",
		do: func(f *actionForm) error {
			if f.wipe {
				if err := f.wb.hub.DeleteUserAndFiles(f.r.Context(), f.user, f.typed); err != nil {
					return err
				}
				f.back(url.Values{"done": {"delete-wipe"}, "user": {f.user}})
				return nil
			}
			if err := f.wb.hub.DeleteUser(f.r.Context(), f.user); err != nil {
				return err
			}
			f.back(url.Values{"done": {"delete"}, "user": {f.user}})
			return nil
		}},
	"reset": {scope: "delete:servers",
		confirm: func(user string) (string, string) {
			return "Reset " + user + "'s server? It is stopped and removed, and their next start makes a new one. Unsaved work in open notebooks is lost; " +
				"the files in their work folder are kept.", "Reset, keep their files"
		},
		wipe: "Reset and delete NAME's files",
		do: func(f *actionForm) error {
			if err := f.wb.hub.ResetServer(f.r.Context(), f.user, f.wipe, f.typed); err != nil {
				return err
			}
			done := "reset"
			if f.wipe {
				done = "reset-wipe"
			}
			f.back(url.Values{"done": {done}, "user": {f.user}})
			return nil
		}},
	"reset-password": {scope: "admin:users",
		self: "You cannot reset your own password here: you would be logged out with no way back in. Ask another instructor.",
		confirm: func(user string) (string, string) {
			return "Reset " + user + "'s password? Their password, logins and tokens stop working at once; their running server keeps running. " +
				"You get a new setup code to hand them (an instructor: a new password).", "Reset " + user + "'s password"
		},
		do: func(f *actionForm) error {
			acct, err := f.wb.hub.ResetUser(f.r.Context(), f.user)
			if err != nil {
				return err
			}
			f.wb.log.Printf("web: %s reset %s", f.p.User.Name, f.user)
			f.wb.showAccounts(f.w, f.r, f.p, "Reset "+f.user+"'s password", []core.Account{acct}, 0)
			return nil
		}},
	"start-all": {do: bulkAction},
	"stop-all":  {do: bulkAction},
}

func (wb *Web) adminAction(w http.ResponseWriter, r *http.Request) {
	p, ok := wb.mustAdmin(w, r)
	if !ok || !wb.checkCSRF(w, r, p) {
		return
	}
	f := &actionForm{wb: wb, w: w, r: r, p: p, action: r.PostFormValue("action"), user: r.PostFormValue("user"),
		query: strings.TrimSpace(r.PostFormValue("q")), confirmed: r.PostFormValue("confirm") == "yes",
		wipe: r.PostFormValue("wipe") == "yes", typed: r.PostFormValue("typed")}
	a, ok := adminActions[f.action]
	switch {
	case !ok:
		wb.adminAgain(w, r, p, http.StatusBadRequest, fmt.Sprintf("There is no action %q. Reload the page and use its buttons.", f.action), nil)
	case a.scope != "" && !scopes.Allows(p.Scopes, a.scope, scopes.OnServer(f.user, "")):
		wb.adminAgain(w, r, p, http.StatusForbidden, "This needs the "+a.scope+" permission on "+f.user+".", nil)
	case f.wipe && a.wipe == "":
		wb.adminAgain(w, r, p, http.StatusBadRequest, "This action deletes no files. Reload the page and use its buttons.", nil)
	case f.wipe && !scopes.Allows(p.Scopes, "admin:servers", scopes.OnServer(f.user, "")):
		wb.adminAgain(w, r, p, http.StatusForbidden, "Deleting "+f.user+"'s files needs the admin:servers permission on "+f.user+".", nil)
	case a.self != "" && f.user == p.User.Name:
		wb.adminAgain(w, r, p, http.StatusBadRequest, a.self, nil)
	case a.confirm != nil && !f.confirmed:
		question, button := a.confirm(f.user)
		f.askOrWipe(question, button, a.wipe)
	default:
		if err := a.do(f); err != nil {
			wb.actionFailed(w, r, p, err)
		}
	}
}

// bulkAction starts or stops the servers of the admin page's users for
// its filter, those the admin may start or stop. It answers even when
// listing them fails, which is no error of the action's to show.
func bulkAction(f *actionForm) error {
	wb := f.wb
	names, err := wb.bulkTargets(f.r, f.p, f.action, f.query)
	if err != nil {
		wb.internal(f.w, f.r, err)
		return nil
	}
	if f.action == "stop-all" && !f.confirmed && len(names) > 0 {
		f.ask(fmt.Sprintf("Stop %s? Starts still under way are cancelled. Unsaved work in open notebooks is lost; files are kept.", plural(len(names), "server")),
			"Stop "+plural(len(names), "server"))
		return nil
	}
	// Past the laptop's capacity, a question with the numbers, not a
	// refusal; the admin page's script asks the same before it starts.
	if f.action == "start-all" && !f.confirmed {
		if q := wb.hub.StartAllQuestion(f.r.Context(), len(names)); q != "" {
			f.ask(q, "Start "+plural(len(names), "server"))
			return nil
		}
	}
	var outcomes []core.Outcome
	if f.action == "start-all" {
		outcomes = wb.startMany(f.r, names)
	} else {
		outcomes = wb.hub.StopMany(context.WithoutCancel(f.r.Context()), names)
	}
	for _, o := range outcomes {
		if o.Err != nil {
			wb.log.Printf("web: %s: %v", f.action, o.Err)
		}
	}
	f.back(url.Values{"done": {f.action}, "n": {strconv.Itoa(len(names))}, "failed": {strconv.Itoa(core.Failed(outcomes))}})
	return nil
}

// startMany asks for the servers of names to start and waits for them
// as long as the spawn page would, so that a start that fails at once is
// reported and a slow one is not waited for.
func (wb *Web) startMany(r *http.Request, names []string) []core.Outcome {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), wb.spawnWait)
	defer cancel()
	return wb.hub.StartMany(ctx, names)
}

func (wb *Web) actionFailed(w http.ResponseWriter, r *http.Request, p auth.Principal, err error) {
	status := http.StatusInternalServerError
	switch {
	case errors.Is(err, core.ErrNoSuchUser):
		status = http.StatusNotFound
	case errors.Is(err, core.ErrPending), errors.Is(err, spawner.ErrInUse), errors.Is(err, spawner.ErrHasFiles):
		status = http.StatusConflict
	case errors.Is(err, core.ErrConfirm), errors.Is(err, core.ErrNotKept):
		status = http.StatusBadRequest
	default:
		wb.log.Printf("web: admin %s %s: %v", r.PostFormValue("action"), r.PostFormValue("user"), err)
	}
	wb.adminAgain(w, r, p, status, sentence(err.Error()), nil)
}

// bulkTargets lists the users of the admin page for filter q whose
// servers action would start (the stopped ones) or stop (the running
// ones).
func (wb *Web) bulkTargets(r *http.Request, p auth.Principal, action, q string) ([]string, error) {
	users, _, err := wb.hub.Users(r.Context(), store.ListOptions{NameFilter: q, Sort: "name"})
	if err != nil {
		return nil, err
	}
	var names []string
	for _, u := range users {
		switch st := stateOf(u.Server); {
		case action == "start-all" && (st == stateStopped || st == stateFailed) &&
			scopes.Allows(p.Scopes, "servers", scopes.OnServer(u.Name, "")):
			names = append(names, u.Name)
		case action == "stop-all" && (st == stateRunning || st == stateStarting) && scopes.Allows(p.Scopes, "delete:servers", scopes.OnServer(u.Name, "")):
			names = append(names, u.Name)
		}
	}
	return names, nil
}
