package config

// Secret is a setting that must never be shown: printed with fmt (%v, %+v,
// %#v, %s) it reads "********", so a config that reaches a log or an error
// message carries no secret. The file holds it as it is.
type Secret string

// String masks the secret.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "********"
}

// GoString masks the secret for %#v.
func (s Secret) GoString() string { return `"` + s.String() + `"` }
