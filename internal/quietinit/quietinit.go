// Package quietinit silences the standard logger while packages initialise.
//
// Fyne's lang package reads the locale in its init and logs "Fyne error:
// Error parsing user locale C" whenever LANG is C or C.UTF-8, which is the
// default on many servers. Every classhub command links Fyne, so without this
// `classhub serve` on a headless server would start with a scary error that
// means nothing. Go initialises packages in import-path order among those
// whose imports are ready (Go 1.21 spec, "Package initialization"), and this
// path sorts before Fyne's locale dependency, so importing it for its side
// effect from main mutes exactly the init-time noise. main calls Restore
// first thing.
package quietinit

import (
	"io"
	"log"
	"os"
)

func init() { log.SetOutput(io.Discard) }

// Restore sends the standard logger back to stderr.
func Restore() { log.SetOutput(os.Stderr) }
