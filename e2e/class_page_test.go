package e2e

import (
	"bytes"
	"fmt"
	"image/png"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/classhub/classhub/hub/tlscert"
	"github.com/classhub/classhub/internal/qrtest"
)

// TestClassPageOnAProjector walks the instructor's class page in Chromium
// at a projector's 1024×768: they log in and land on it, it shows the class
// link, a QR code a phone reads as that link, the join code and the
// certificate's fingerprint, everything on one screen without scrolling,
// and a student signing up with the join code shows in its count without
// a reload.
func TestClassPageOnAProjector(t *testing.T) {
	c := newClassroom(t)
	c.useHTTPS()
	const joinCode = "PLUM-7KQX"
	appendConfig(t, c, fmt.Sprintf("join_code = %q\n", joinCode))
	student, teacher := c.user("student"), c.user("teacher")
	c.addUsers(student)
	teacherPW := c.addUsers(teacher, "--admin")[teacher]
	c.serve()
	hubLogOnFailure(t, c)
	b := newBrowser(t, c.browserTrust()...)

	tb := b.tab(t, teacher)
	tb.run("size the window as a projector", time.Minute, chromedp.EmulateViewport(1024, 768))
	tb.run("open the class page", 2*time.Minute, chromedp.Navigate(c.base+"/hub/class"))
	tb.waitPath("it is for instructors: the login page comes first", time.Minute, "/hub/login")
	formLogin(tb, teacher, teacherPW, "class-00-login")
	tb.waitPath("the login leads back to the class page", time.Minute, "/hub/class")
	fp := tlscert.Fingerprint(c.ca.Raw)
	tb.waitJS("it shows the class link, the join code, the fingerprint and the counts", time.Minute, fmt.Sprintf(
		`document.querySelector("#class-link").textContent === %q && document.querySelector(".class-code").textContent === %q &&
		 document.querySelector("#class-fingerprint").textContent.replace(/\s/g, "").includes(%q) &&
		 document.querySelector("#class-joined").textContent === "0" && document.querySelector("#class-students").textContent === "1"`,
		c.base+"/", joinCode, fp))

	// Readable from the back of the room: nothing needs scrolling, the
	// link and code are large, the QR code is big, the text is black on
	// white.
	layout := eval[projectorLayout](tb, `(() => {
		const px = s => parseFloat(getComputedStyle(document.querySelector(s)).fontSize);
		const de = document.documentElement;
		return {ScrollW: de.scrollWidth, ScrollH: de.scrollHeight, W: innerWidth, H: innerHeight,
			LinkPx: px("#class-link"), CodePx: px(".class-code"),
			QR: document.querySelector("#class-qr").getBoundingClientRect().width,
			Bottom: document.querySelector("#class-fingerprint").getBoundingClientRect().bottom,
			Colour: getComputedStyle(document.querySelector("#class-link")).color,
			Background: getComputedStyle(document.body).backgroundColor,
			Menu: !!document.querySelector("header.top")};
	})()`)
	t.Logf("class page at %dx%d: %+v", layout.W, layout.H, layout)
	if layout.W != 1024 || layout.H != 768 {
		t.Fatalf("the window is %dx%d, want 1024x768", layout.W, layout.H)
	}
	if layout.ScrollW > layout.W || layout.ScrollH > layout.H || layout.Bottom > float64(layout.H) {
		t.Errorf("the class page does not fit 1024x768: %+v", layout)
	}
	if layout.LinkPx < 40 || layout.CodePx < 40 || layout.QR < 300 {
		t.Errorf("the class link (%vpx), the join code (%vpx) or the QR code (%vpx wide) is too small for a room", layout.LinkPx, layout.CodePx, layout.QR)
	}
	if layout.Colour != "rgb(0, 0, 0)" || layout.Background != "rgb(255, 255, 255)" || layout.Menu {
		t.Errorf("the class page is %s on %s (menu shown: %v), want black on white without the menu", layout.Colour, layout.Background, layout.Menu)
	}
	tb.shot("class-01-projector")
	shot, err := os.ReadFile(filepath.Join(tb.b.artifacts, "class-01-projector.png"))
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatal(err)
	}
	if got := qrtest.Decode(t, img); got != c.base+"/" {
		t.Errorf("the QR code on the screen reads %q, want the class link %s/", got, c.base)
	}

	// A student signs up with the join code; the count on the wall moves
	// without the page being loaded again.
	tb.run("mark the page", time.Minute, chromedp.Evaluate[chromedp.Void](`window.classMark = 1`))
	signUp(t, c, c.user("newcomer"), joinCode, "a good long password")
	tb.waitJS("the page counts the newcomer without a reload", time.Minute,
		`window.classMark === 1 && document.querySelector("#class-joined").textContent === "1" &&
		 document.querySelector("#class-students").textContent === "2"`)
	tb.shot("class-02-joined")
}

// projectorLayout is what the class page measures of itself.
type projectorLayout struct {
	ScrollW, ScrollH, W, H int
	LinkPx, CodePx, QR     float64
	Bottom                 float64
	Colour, Background     string
	Menu                   bool
}

// signUp signs name up with the join code through the sign-up form, as a
// student's browser would, without following where it leads (their
// server).
func signUp(t *testing.T, c *classroom, name, code, password string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, Timeout: time.Minute, Transport: c.transport(),
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(c.base + "/hub/signup")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	form := url.Values{"code": {code}, "username": {name}, "password": {password}, "confirm": {password},
		"_xsrf": {hiddenValue(t, string(page), "_xsrf")}}
	resp, err = client.PostForm(c.base+"/hub/signup", form)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || strings.Contains(resp.Header.Get("Location"), "/hub/signup") {
		t.Fatalf("sign up %s: %s %s\n%s", name, resp.Status, resp.Header.Get("Location"), body)
	}
}
