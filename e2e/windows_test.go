package e2e

import (
	"debug/pe"
	bin "encoding/binary"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/classhub/classhub/internal/testenv"
)

// Resource types and the subsystem a Windows desktop program is linked for.
const (
	rtIcon       = 3
	rtGroupIcon  = 14
	rtVersion    = 16
	rtManifest   = 24
	subsystemGUI = 2 // IMAGE_SUBSYSTEM_WINDOWS_GUI
)

// TestWindowsBinaryIsADesktopApp reads the header of the Windows binary
// `make windows` cross-builds (CLASSHUB_WINDOWS_BIN): a 64-bit program for
// the GUI subsystem, so no console window opens behind the tray; linked to
// OpenGL, so it is Fyne's real driver and not the headless one; with the
// icon, version and manifest of FyneApp.toml among its resources.
func TestWindowsBinaryIsADesktopApp(t *testing.T) {
	path := os.Getenv("CLASSHUB_WINDOWS_BIN")
	if path == "" {
		testenv.Unavailable(t, "CLASSHUB_WINDOWS_BIN is not set (`make windows` builds bin/classhub.exe)")
	}
	f, err := pe.Open(path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	defer f.Close()
	if f.Machine != pe.IMAGE_FILE_MACHINE_AMD64 {
		t.Errorf("machine = %#x, want amd64", f.Machine)
	}
	oh, ok := f.OptionalHeader.(*pe.OptionalHeader64)
	if !ok {
		t.Fatalf("optional header is %T, want a PE32+ one", f.OptionalHeader)
	}
	if oh.Subsystem != subsystemGUI {
		t.Errorf("subsystem = %d, want %d (GUI): link with -H windowsgui", oh.Subsystem, subsystemGUI)
	}
	// debug/pe leaves ImportedLibraries empty; each imported symbol names
	// its DLL ("wglCreateContext:OPENGL32.dll").
	syms, err := f.ImportedSymbols()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(syms, func(s string) bool { return strings.HasSuffix(strings.ToLower(s), ":opengl32.dll") }) {
		t.Errorf("imports nothing from opengl32.dll (%d symbols): the binary lacks Fyne's GL driver (was it built without cgo?)", len(syms))
	}
	types := resourceTypes(t, f)
	for _, want := range []uint32{rtIcon, rtGroupIcon, rtVersion, rtManifest} {
		if !types[want] {
			t.Errorf("no resource of type %d among %v: is the .syso from go-winres in the main package's folder?", want, types)
		}
	}
}

// resourceTypes reads the type IDs at the root of the binary's resource
// directory (.rsrc): an IMAGE_RESOURCE_DIRECTORY of 16 bytes, its named
// and then its ID entries of 8 bytes each.
func resourceTypes(t *testing.T, f *pe.File) map[uint32]bool {
	t.Helper()
	s := f.Section(".rsrc")
	if s == nil {
		t.Fatal("no .rsrc section: the binary has no resources")
	}
	data, err := s.Data()
	if err != nil {
		t.Fatal(err)
	}
	if len(data) < 16 {
		t.Fatalf(".rsrc is %d bytes", len(data))
	}
	named := int(bin.LittleEndian.Uint16(data[12:]))
	ids := int(bin.LittleEndian.Uint16(data[14:]))
	types := map[uint32]bool{}
	for i := named; i < named+ids; i++ {
		off := 16 + 8*i
		if off+8 > len(data) {
			t.Fatalf(".rsrc directory entry %d is past its end", i)
		}
		types[bin.LittleEndian.Uint32(data[off:])] = true
	}
	return types
}
