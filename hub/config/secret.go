package config

// Secret is a setting that must never be shown: printed with fmt (%v, %+v,
// %#v, %s) it reads "********", so a config that reaches a log or an error
// message carries no secret. Only the TOML file holds the value.
type Secret string

const masked = "********"

// String masks the secret.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return masked
}

// GoString masks the secret for %#v.
func (s Secret) GoString() string { return s.String() }

// Reveal returns the secret itself, for the one place that sends it.
func (s Secret) Reveal() string { return string(s) }

// MarshalText writes the secret to the config file.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s), nil }

// UnmarshalText reads the secret from the config file.
func (s *Secret) UnmarshalText(b []byte) error { *s = Secret(b); return nil }
