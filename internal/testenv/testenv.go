// Package testenv decides what tests may skip. On a developer's machine a
// test whose engine, browser or display is missing skips with the reason; in
// CI (CI is set) the same test fails, because a skipped Docker test counted
// as a pass hides exactly the failures CI exists to catch.
package testenv

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/docker/docker/client"

	"github.com/classhub/classhub/hub/config"
	"github.com/classhub/classhub/hub/engine"
)

// InCI reports whether tests run in CI.
func InCI() bool { return os.Getenv("CI") != "" }

// Unavailable skips t locally and fails it in CI.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	if InCI() {
		t.Fatalf("CI must run this test, but: "+format, args...)
	}
	t.Skipf(format, args...)
}

// Docker returns a client for the real engine, or skips (fails in CI) when
// there is none.
func Docker(t testing.TB) *client.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cli, err := engine.Connect(ctx)
	if err != nil {
		Unavailable(t, "no Docker engine: %v", err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

// NotebookImage is the classic profile's image (Notebook 6 with
// jupyterhub-singleuser 3.0), which the Docker tests and the browser walks
// of the classic UI run, named explicitly as it is not the default.
// `make test` builds it when it is missing.
const NotebookImage = "classhub/notebook:classic"

// LabImage is the default image, config.DefaultImage: the scipy profile's
// JupyterLab 4 and scientific stack with jupyterhub-singleuser 5.2, which
// `make run` serves. CLASSHUB_LAB_IMAGE names another tag of it, for a
// machine whose default tag still holds an older classhub's classic image.
func LabImage() string {
	if ref := os.Getenv("CLASSHUB_LAB_IMAGE"); ref != "" {
		return ref
	}
	return config.DefaultImage
}

// RequireImage skips (fails in CI) when ref is not in the engine.
func RequireImage(t testing.TB, cli *client.Client, ref string) {
	t.Helper()
	if _, err := cli.ImageInspect(context.Background(), ref); err != nil {
		Unavailable(t, "image %s is missing (run `make images`, which builds the images the tests run): %v", ref, err)
	}
}

// labelProfile and defaultProfile are image.LabelProfile and
// image.DefaultProfile, whose package tests import this one.
const (
	labelProfile   = "org.classhub.image-profile"
	defaultProfile = "scipy"
)

// RequireLabImage is RequireImage for LabImage, which must also be the
// scipy profile's: a default tag that still holds the classic image of an
// older classhub would run the Lab tests on Notebook 6.
func RequireLabImage(t testing.TB, cli *client.Client) string {
	t.Helper()
	ref := LabImage()
	RequireImage(t, cli, ref)
	info, err := cli.ImageInspect(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	var labels map[string]string
	if info.Config != nil {
		labels = info.Config.Labels
	}
	if p := labels[labelProfile]; p != defaultProfile {
		t.Fatalf("%s is the %q image of an older classhub, not the %s profile's: rebuild it with `make image`, or name a tag of the %s image in CLASSHUB_LAB_IMAGE",
			ref, p, defaultProfile, defaultProfile)
	}
	return ref
}

// Command returns the path of a program, or skips (fails in CI).
func Command(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		Unavailable(t, "%s is not installed", name)
	}
	return p
}
