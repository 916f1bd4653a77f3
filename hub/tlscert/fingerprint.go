package tlscert

import (
	"crypto/sha256"
	"fmt"
	"strings"
)

// Fingerprint is the SHA-256 of a DER certificate written as browsers and
// `openssl x509 -fingerprint -sha256` show it: upper-case hex pairs joined
// by colons.
func Fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02X", b)
	}
	return strings.Join(parts, ":")
}
