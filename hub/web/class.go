package web

import (
	"net/http"
	"strings"
	"time"

	"github.com/classhub/classhub/hub/core"
	"github.com/classhub/classhub/hub/events"
	"github.com/classhub/classhub/hub/sse"
)

// classPoll is how often the class page's stream counts again: logins
// publish no event, so joins are found by counting.
const classPoll = 5 * time.Second

// classData is the class page's: what a room needs to come in, read from
// the projector. It shows no student's name or credential; the join code
// is there because it is meant to be read out.
type classData struct {
	// URL is the class link and QR its code.
	URL string
	QR  qrCode
	// JoinCode, when sign-up is on, and where to use it.
	JoinCode  string
	SignupURL string
	// Fingerprint is the certificate's, in halves, when on HTTPS.
	Fingerprint [2]string
	HTTPS       bool
	Counts      classCounts
}

// classCounts is how far the class has come in, as the page and its
// stream show it.
type classCounts struct {
	Students int `json:"students"`
	Joined   int `json:"joined"`
	Running  int `json:"running"`
}

func countsOf(c core.Class) classCounts {
	return classCounts{Students: c.Students, Joined: c.Joined, Running: c.Running}
}

// classURL is the class link: the hub's, which is the LAN address even
// when the instructor opened the page on loopback from the tray, else
// the address the page was asked at.
func (wb *Web) classURL(r *http.Request) string {
	if wb.classURLOf != nil {
		if u := wb.classURLOf(); u != "" {
			return u
		}
	}
	return wb.classLink(r)
}

// classPage is the page the instructor puts on the projector: the class
// link, large, with its QR code, the join code and the certificate's
// fingerprint, and how many have joined, kept current by class.js. It is
// for instructors only, as the join code lets anyone who reads it sign
// up, and like every page it may not be framed (securityHeaders).
func (wb *Web) classPage(w http.ResponseWriter, r *http.Request) {
	p, ok := wb.mustAdmin(w, r)
	if !ok {
		return
	}
	link := wb.classURL(r)
	qr, err := newQRCode(link)
	if err != nil {
		wb.internal(w, r, err)
		return
	}
	c, err := wb.hub.Class(r.Context())
	if err != nil {
		wb.internal(w, r, err)
		return
	}
	d := classData{URL: link, QR: qr, JoinCode: wb.joinCode, Counts: countsOf(c),
		Fingerprint: fingerprintHalves(wb.fingerprint), HTTPS: wb.fingerprint != ""}
	if d.JoinCode != "" {
		d.SignupURL = strings.TrimSuffix(link, "/") + "/hub/signup"
	}
	v := userView(p, "Join the class", "")
	v.Bare = true
	v.Page = d
	wb.render(w, http.StatusOK, "class", v)
}

// classEvents streams the class page's counts, as server-sent events of
// classCounts: at once, then whenever they change, found on a server's
// state change or by counting every classPoll. Like the admin page's
// feed it needs the page's anti-forgery token and ends with the login.
func (wb *Web) classEvents(w http.ResponseWriter, r *http.Request) {
	_, release, ok := wb.openInstructorStream(w, r, "class page")
	if !ok {
		return
	}
	defer release()
	sub := wb.hub.Bus().Subscribe(64, false, func(e events.Event) bool {
		// A deleted user is a notice; a server coming or going, a state.
		return e.Kind == events.ServerState || e.Kind == events.Notice
	})
	defer sub.Close()
	shutdown := wb.shutdownSignal(r)
	stream := sse.Open(w)
	var last *classCounts
	send := func() error {
		c, err := wb.hub.Class(r.Context())
		if err != nil {
			return err
		}
		now := countsOf(c)
		if last != nil && *last == now {
			return nil
		}
		last = &now
		return stream.Send(now)
	}
	if send() != nil {
		return
	}
	sse.Follow(r.Context(), stream, sse.Loop{Shutdown: shutdown, KeepAlive: wb.keepAlive, Alive: wb.stillAdmin(r),
		Every: wb.classPoll, Tick: send},
		sub.C, func(events.Event) error { return send() })
}
