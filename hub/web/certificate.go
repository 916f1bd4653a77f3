package web

import (
	"net/http"
	"strings"
)

// certificateData is the certificate page's.
type certificateData struct {
	// Fingerprint is split in two halves so that each fits a phone's line.
	Fingerprint [2]string
	HTTPS       bool
	// Install offers the local authority for download.
	Install bool
}

// fingerprintHalves splits a colon-separated fingerprint in the middle,
// the first half keeping its colon, as the dashboard shows it.
func fingerprintHalves(fp string) [2]string {
	if fp == "" {
		return [2]string{}
	}
	pairs := strings.Split(fp, ":")
	n := len(pairs) / 2
	return [2]string{strings.Join(pairs[:n], ":") + ":", strings.Join(pairs[n:], ":")}
}

// certificatePage tells students, before they log in, how to check that
// they reach the instructor's laptop and not someone in between, and how
// to install the local authority so that the browser stops warning.
func (wb *Web) certificatePage(w http.ResponseWriter, r *http.Request) {
	d := certificateData{Fingerprint: fingerprintHalves(wb.fingerprint), HTTPS: wb.fingerprint != "", Install: wb.caCert != nil}
	v := view{Title: "This hub's certificate", Page: d}
	if p, ok := wb.session(r); ok {
		v = userView(p, v.Title, "")
		v.Page = d
	}
	wb.render(w, http.StatusOK, "certificate", v)
}

// caCertFile offers the local authority's certificate. The content type is
// the one browsers and phones answer with their "trust this authority"
// dialog.
func (wb *Web) caCertFile(w http.ResponseWriter, r *http.Request) {
	if wb.caCert == nil {
		wb.fail(w, r, http.StatusNotFound, "This hub has no certificate authority to install: it uses the instructor's own certificate, or plain HTTP.")
		return
	}
	w.Header().Set("Content-Type", "application/x-x509-ca-cert")
	w.Header().Set("Content-Disposition", `inline; filename="classhub-ca.crt"`)
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(wb.caCert)
}
