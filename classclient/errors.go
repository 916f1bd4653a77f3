package classclient

import (
	"errors"
	"fmt"
)

// Kind is what went wrong, in the terms a tray shows the learner.
type Kind int

const (
	// Other is anything the kinds below do not name: a bug, bad input.
	Other Kind = iota
	// NotHub: the link answers, but not as a JupyterHub API does.
	NotHub
	// Unreachable: nothing answers at the link (network, DNS, TLS, hub down).
	Unreachable
	// Refused: the hub refused the login or the token (401/403): it expired,
	// was revoked, or does not allow what was asked.
	Refused
	// HubFailed: the hub answered 5xx.
	HubFailed
	// NoAppLogin: the hub cannot log the app in through the browser (a stock
	// JupyterHub, which has no classhub-desktop client); paste a token.
	NoAppLogin
	// Denied: the learner pressed Deny on the hub's consent page, or the
	// login did not finish (closed tab, timeout, cancelled).
	Denied
	// StartFailed: the hub reported that the server failed to start.
	StartFailed
)

var kindNames = [...]string{"other", "not a hub", "unreachable", "refused", "hub failed", "no app login", "denied", "start failed"}

func (k Kind) String() string {
	if int(k) < len(kindNames) && k >= 0 {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Error is a failure talking to a hub, with what to do about it.
type Error struct {
	Kind Kind
	// Hub is the hub's base URL.
	Hub string
	// Status is the HTTP status the hub answered, 0 if it did not answer.
	Status int
	// Detail is the hub's own message or the network's error text, if any.
	Detail string
	// Err is the underlying error, if any.
	Err error
}

// Error is a sentence that says what happened and what to do.
func (e *Error) Error() string {
	d := ""
	if e.Detail != "" {
		d = " (" + e.Detail + ")"
	}
	switch e.Kind {
	case NotHub:
		return fmt.Sprintf("%s answers, but is not a class hub%s. Check the class link: it is the address of the hub's page, such as https://host:8000/.", e.Hub, d)
	case Unreachable:
		return fmt.Sprintf("%s does not answer%s. Check that this computer is on the class network and that the hub is running, then retry.", e.Hub, d)
	case Refused:
		return fmt.Sprintf("%s refused this app's login%s: it has expired or was revoked, or does not allow this. Join the class again.", e.Hub, d)
	case HubFailed:
		return fmt.Sprintf("%s failed with status %d%s. Retry in a moment; if it goes on, tell whoever runs the hub.", e.Hub, e.Status, d)
	case NoAppLogin:
		return fmt.Sprintf("%s cannot log the classhub app in through the browser%s. Open %s/hub/token, request a token, and paste it (classhub class join %s --token-stdin).", e.Hub, d, e.Hub, e.Hub)
	case Denied:
		return fmt.Sprintf("The login to %s did not finish%s. Join again and press Allow on the hub's page.", e.Hub, d)
	case StartFailed:
		return fmt.Sprintf("Your server on %s failed to start%s. Retry; if it fails again, tell whoever runs the hub.", e.Hub, d)
	}
	if e.Err != nil && e.Detail == "" {
		return fmt.Sprintf("%s: %v", e.Hub, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Hub, e.Detail)
}

func (e *Error) Unwrap() error { return e.Err }

// KindOf is the Kind of the first *Error in err's chain, Other if none.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Other
}
