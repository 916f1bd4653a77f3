// Package tlscert makes and keeps the certificates of the hub's HTTPS: a
// local certificate authority kept in the data dir, made once and reused so
// that its fingerprint, which people compare with the projector, stays the
// same; and a server certificate it signs for the laptop's addresses, made
// again when those change or it nears its end. It also reads an
// instructor's own certificate and key. It knows nothing of the hub.
package tlscert

import "time"

// Files inside the folder the hub gives Dir (the data dir's "tls").
const (
	CAFile     = "ca.crt"
	CAKeyFile  = "ca.key"
	ServerFile = "server.crt"
	ServerKey  = "server.key"
)

// Validity. The authority lives long because replacing it changes the
// fingerprint everyone checked and the certificate students installed. The
// server certificate lives a year, under the 398 days browsers accept for a
// server certificate, and is made again a month before its end.
const (
	CAValidity     = 10 * 365 * 24 * time.Hour
	ServerValidity = 365 * 24 * time.Hour
	RenewBefore    = 30 * 24 * time.Hour
	// backdate covers clocks a little behind the laptop's.
	backdate = time.Hour
)
