package web

import (
	"fmt"
	"strconv"
	"strings"

	qrcode "github.com/skip2/go-qrcode"
)

// qrCode is a QR code drawn as one SVG path, so that it stays sharp at any
// size a projector scales it to: Size is its side in modules, the quiet
// zone included, and Path covers the dark modules in a Size×Size box.
type qrCode struct {
	Size int
	Path string
}

// newQRCode encodes text with the error correction the tray's QR code
// uses (app/qr.go), which a phone reads from the back of a room.
func newQRCode(text string) (qrCode, error) {
	q, err := qrcode.New(text, qrcode.Medium)
	if err != nil {
		return qrCode{}, fmt.Errorf("QR code for %s: %w", text, err)
	}
	bits := q.Bitmap()
	var b strings.Builder
	for y, row := range bits {
		// One rectangle per run of dark modules keeps the path short.
		for x := 0; x < len(row); {
			if !row[x] {
				x++
				continue
			}
			run := 1
			for x+run < len(row) && row[x+run] {
				run++
			}
			n := strconv.Itoa(run)
			b.WriteString("M" + strconv.Itoa(x) + " " + strconv.Itoa(y) + "h" + n + "v1h-" + n + "z")
			x += run
		}
	}
	return qrCode{Size: len(bits), Path: b.String()}, nil
}
