// Command gen draws classhub's icons: the app icon and one tray icon per hub
// state. Run `go run ./assets/gen` from the repository root after changing
// the drawing; the PNGs are committed because Linux trays need PNG bytes.
package main

import (
	"image"
	"image/color"
	"image/png"
	"log"
	"math"
	"os"
	"path/filepath"
)

// icons maps each file to the colour of its status dot; the app icon has
// none.
var icons = map[string]color.RGBA{
	"icon.png":          {},
	"tray-stopped.png":  {R: 0x9e, G: 0x9e, B: 0x9e, A: 0xff},
	"tray-starting.png": {R: 0xf5, G: 0xa6, B: 0x23, A: 0xff},
	"tray-running.png":  {R: 0x2e, G: 0xb8, B: 0x4b, A: 0xff},
	"tray-error.png":    {R: 0xe0, G: 0x3c, B: 0x31, A: 0xff},
}

func main() {
	for name, dot := range icons {
		size := 64
		if name == "icon.png" {
			size = 256
		}
		img := draw(size, dot)
		f, err := os.Create(filepath.Join("assets", name))
		if err != nil {
			log.Fatal(err)
		}
		if err := png.Encode(f, img); err != nil {
			log.Fatal(err)
		}
		f.Close()
	}
}

// draw paints a notebook: an orange rounded page with three ruled lines,
// and a status dot in the lower right corner when dot is not transparent.
func draw(size int, dot color.RGBA) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, size, size))
	s := float64(size)
	page := color.RGBA{R: 0xf3, G: 0x76, B: 0x26, A: 0xff}
	white := color.RGBA{R: 0xff, G: 0xff, B: 0xff, A: 0xff}
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			fx, fy := (float64(x)+0.5)/s, (float64(y)+0.5)/s
			if inRounded(fx, fy, 0.12, 0.06, 0.88, 0.94, 0.12) {
				img.Set(x, y, page)
				for _, ly := range []float64{0.32, 0.5, 0.68} {
					if fx > 0.27 && fx < 0.73 && math.Abs(fy-ly) < 0.035 {
						img.Set(x, y, white)
					}
				}
			}
			if dot.A != 0 {
				d := math.Hypot(fx-0.76, fy-0.76)
				if d < 0.22 {
					img.Set(x, y, white)
				}
				if d < 0.17 {
					img.Set(x, y, dot)
				}
			}
		}
	}
	return img
}

func inRounded(x, y, x0, y0, x1, y1, r float64) bool {
	if x < x0 || x > x1 || y < y0 || y > y1 {
		return false
	}
	cx := math.Min(math.Max(x, x0+r), x1-r)
	cy := math.Min(math.Max(y, y0+r), y1-r)
	return math.Hypot(x-cx, y-cy) <= r
}
