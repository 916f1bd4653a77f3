package app

import (
	"context"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/classhub/classhub/classclient"
)

// Labels of joining and forgetting class hubs; tests and the smoke test
// find the items by them.
const (
	LabelJoinClass  = "Join a class…"
	LabelHubs       = "Hubs"
	LabelLocalHub   = "This laptop's hub"
	LabelForget     = "Forget this class…"
	LabelLoginAgain = "Log in again…"
	LabelTokenPage  = "Open the token page"
)

// joinDialog asks for the class link the instructor handed out.
func (u *ui) joinDialog() {
	link := widget.NewEntry()
	link.SetPlaceHolder("https://host:8000/")
	u.showDashboard()
	dialog.ShowForm(LabelJoinClass, "Join", "Cancel", []*widget.FormItem{
		widget.NewFormItem("Class link", link),
	}, func(ok bool) {
		if ok {
			u.joinClass(link.Text)
		}
	}, u.win)
}

// joinClass logs the app in to the hub at link through the browser, and
// makes it current. A hub that cannot log the app in that way (a stock
// JupyterHub) gets the learner asked for a token from its token page. A
// link that fails changes nothing but the notice.
func (u *ui) joinClass(link string) {
	hubURL, err := classclient.Normalize(link)
	if err != nil {
		u.showError("Could not join the class", err)
		return
	}
	u.notice("Log in to " + hubURL + " in your browser…")
	go func() {
		ctx, cancel := context.WithTimeout(u.ctx, classclient.LoginTimeout)
		defer cancel()
		tok, err := classclient.Login(ctx, hubURL, u.d.openURL)
		u.d.do(func() {
			switch {
			case classclient.KindOf(err) == classclient.NoAppLogin:
				u.pasteTokenDialog(hubURL)
			case err != nil:
				u.showError("Could not join the class", err)
			default:
				u.joined(hubURL, tok)
			}
		})
	}()
}

// pasteTokenDialog asks for a token from the hub's own token page.
func (u *ui) pasteTokenDialog(hubURL string) {
	msg := widget.NewLabel(hubURL + " cannot log this app in through the browser. Open its token page, " +
		"log in, request a new token, and paste it here.")
	msg.Wrapping = fyne.TextWrapWord
	open := widget.NewButton(LabelTokenPage, func() { u.openClassURL(hubURL + "/hub/token") })
	secret := widget.NewPasswordEntry()
	secret.SetPlaceHolder("Token")
	u.showDashboard()
	d := dialog.NewCustomConfirm("Paste a token from "+hubURL, "Join", "Cancel", container.NewVBox(msg, open, secret), func(ok bool) {
		if !ok {
			u.notice("")
			return
		}
		text := secret.Text
		go func() {
			ctx, cancel := context.WithTimeout(u.ctx, time.Minute)
			defer cancel()
			tok, err := classclient.Paste(ctx, hubURL, text)
			u.d.do(func() {
				if err != nil {
					u.showError("Could not join the class", err)
					return
				}
				u.joined(hubURL, tok)
			})
		}()
	}, u.win)
	d.Resize(fyne.NewSize(480, 260))
	d.Show()
}

// joined keeps the hub and its token, and makes it current.
func (u *ui) joined(hubURL string, tok classclient.Token) {
	if err := u.d.classes.Add(classclient.Hub{URL: hubURL}, tok); err != nil {
		u.showError("Could not keep the class's login", err)
		return
	}
	u.reloadClasses()
	hubs, err := u.d.classes.Hubs()
	if err != nil {
		u.showError("Could not read the classes you joined", err)
		return
	}
	h, _ := hubs.Find(hubURL)
	u.notice("Joined " + h.Name + " as " + tok.User + ".")
	u.enterClass(h)
}

// confirmForget asks before forgetting the current class hub: its token
// is revoked on the hub, and this laptop's hub becomes current.
func (u *ui) confirmForget() {
	c := u.st.Class
	if c == nil {
		return
	}
	name, url := c.Name, c.URL
	u.showDashboard()
	dialog.ShowConfirm("Forget "+name+"?", "The app logs out of "+url+" and forgets it.\n"+
		"Your server and files on the hub are not touched; join again with the class link.", func(ok bool) {
		if !ok {
			return
		}
		go func() {
			ctx, cancel := context.WithTimeout(u.ctx, 30*time.Second)
			defer cancel()
			_, err := u.d.classes.Forget(ctx, url)
			u.d.do(func() {
				u.reloadClasses()
				if u.st.Class != nil && u.st.Class.URL == url {
					u.leaveClass()
					u.openHub()
				}
				if err != nil {
					u.showError("Forgot "+name, err)
					return
				}
				u.notice("Forgot " + name + ".")
			})
		}()
	}, u.win)
}
