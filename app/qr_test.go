package app

import (
	"image"
	"testing"

	"fyne.io/fyne/v2"

	"github.com/classhub/classhub/internal/qrtest"
)

func TestQRImageEncodesTheURL(t *testing.T) {
	for _, url := range []string{"http://192.168.1.23:8000/", "http://[fe80::1]:8000/", "http://10.0.0.5:18000/"} {
		img, err := QRImage(url, qrSize)
		if err != nil {
			t.Fatal(err)
		}
		if got := qrtest.Decode(t, img); got != url {
			t.Errorf("QR code reads %q, want %q", got, url)
		}
	}
}

func TestDashboardShowsTheClassURLAsQR(t *testing.T) {
	h := newHarness(t, newFakeHub("teacher"))
	d := h.u.dash
	if d.qr.Image == nil {
		t.Fatal("no QR code shown while the hub runs")
	}
	// Read it back from the window's pixels, as a phone would.
	h.u.win.Resize(fyne.NewSize(1080, 760))
	shot := h.u.win.Canvas().Capture()
	pos := fyne.CurrentApp().Driver().AbsolutePositionForObject(d.qr)
	size := d.qr.Size()
	scale := h.u.win.Canvas().Scale()
	r := image.Rect(int(pos.X*scale), int(pos.Y*scale), int((pos.X+size.Width)*scale), int((pos.Y+size.Height)*scale))
	sub, ok := shot.(interface {
		SubImage(image.Rectangle) image.Image
	})
	if !ok || r.Empty() {
		t.Fatalf("cannot crop the QR code at %v from the capture", r)
	}
	if got := qrtest.Decode(t, sub.SubImage(r)); got != "http://192.0.2.10:8000/" {
		t.Errorf("the dashboard's QR code reads %q, want the class URL", got)
	}

	// Without a hub there is no link to scan.
	h.u.closeHub()
	h.u.render()
	if d.qr.Image != nil {
		t.Error("a QR code is shown without a hub")
	}
}
