package auth

import (
	"crypto/rand"
	"strings"
)

// passwordAlphabet leaves out characters people confuse when copying from
// a projector or a printout: 0/o, 1/l/i.
const passwordAlphabet = "abcdefghjkmnpqrstuvwxyz23456789"

// codeAlphabet is passwordAlphabet in capitals, which read out and print
// more clearly: a setup code is copied from paper, not remembered.
const codeAlphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"

// GeneratePassword returns a random password that is easy to read out and
// type, such as "k7mq-x3ph-w9rt": 12 characters from 31, about 59 bits.
func GeneratePassword() string { return generate(passwordAlphabet) }

// NewSetupCode returns a one-time setup code such as "K7MQ-X3PH-W9RT": 12
// characters from 31, about 59 bits, which the login throttle and the
// code's expiry leave no time to guess. NormalizeSetupCode reads it back
// however it was typed.
func NewSetupCode() string { return generate(codeAlphabet) }

// NormalizeSetupCode turns a setup code as typed (lower case, spaces or
// dashes anywhere) into the form stored: its letters and digits in
// capitals.
func NormalizeSetupCode(code string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(code) {
		if r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// generate returns 12 characters of alphabet in three groups of four.
func generate(alphabet string) string {
	var b strings.Builder
	buf := make([]byte, 1)
	for i := 0; i < 12; {
		rand.Read(buf) // never fails; see crypto/rand.Read
		// Reject the top of the byte range so every character is
		// equally likely.
		if int(buf[0]) >= 256-256%len(alphabet) {
			continue
		}
		if i > 0 && i%4 == 0 {
			b.WriteByte('-')
		}
		b.WriteByte(alphabet[int(buf[0])%len(alphabet)])
		i++
	}
	return b.String()
}
