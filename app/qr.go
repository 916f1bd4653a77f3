package app

import (
	"fmt"
	"image"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	qrcode "github.com/skip2/go-qrcode"
)

// qrSize is the QR code's side in pixels: big enough to scan from a phone
// held at arm's length from the laptop's screen.
const qrSize = 200

// QRImage encodes url as a QR code image of about size pixels, with the
// quiet zone scanners need.
func QRImage(url string, size int) (image.Image, error) {
	q, err := qrcode.New(url, qrcode.Medium)
	if err != nil {
		return nil, fmt.Errorf("QR code for %s: %w", url, err)
	}
	return q.Image(size), nil
}

// newQRCanvas shows a QR code of url; empty url shows nothing. Pixels are
// scaled without smoothing so the modules stay sharp.
func newQRCanvas() *canvas.Image {
	img := canvas.NewImageFromImage(nil)
	img.FillMode = canvas.ImageFillContain
	img.ScaleMode = canvas.ImageScalePixels
	img.SetMinSize(fyne.NewSquareSize(qrSize))
	return img
}

// setQR points img at url's QR code.
func setQR(img *canvas.Image, url string) {
	img.Image = nil
	if url != "" {
		if q, err := QRImage(url, qrSize); err == nil {
			img.Image = q
		}
	}
	img.Refresh()
}
