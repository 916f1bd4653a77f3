// Package imagetest derives notebook images for tests from an image already
// in the engine, with no registry and no Dockerfile builder: a shell script
// runs as root in a container of the base image, and the container's
// filesystem is imported as a new image with the settings the test asks
// for. Import, unlike commit, keeps none of the base's labels, so an image
// derived from classhub's own does not pass for one of classhub's.
//
// Everything it makes carries Label, whose value is one derivation's ID;
// Remove deletes by that label what a derivation (or every derivation)
// left in the engine, containers made from its image included.
package imagetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	dockerimage "github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/classhub/classhub/hub/image"
	"github.com/classhub/classhub/internal/testenv"
)

// Label marks the images imagetest derives and the containers it runs; its
// value is the derivation's ID. It is not one of classhub's org.classhub.*
// labels, which containers would inherit from the image.
const Label = "classhub-test.derived"

// Spec is an image to derive.
type Spec struct {
	// Base is the image to start from, already in the engine.
	Base string
	// Ref tags the new image; "" tags it classhub-test/derived:<id>.
	Ref string
	// Script is run by /bin/sh -c as root in a container of Base with no
	// network; the filesystem it leaves becomes the new image's.
	Script string
	// The new image's settings. Nil (or "") keeps Base's; a non-nil empty
	// Entrypoint or Cmd clears it, as `ENTRYPOINT []` does in a Dockerfile.
	Entrypoint, Cmd  []string
	User, WorkingDir string
	// Env entries (KEY=value) are added to Base's, replacing those of the
	// same name.
	Env []string
	// Labels are the new image's labels besides Label; Base's are never
	// kept.
	Labels map[string]string
}

// Image is a derived image.
type Image struct {
	// Ref is its tag, for the spawner's image setting.
	Ref string
	// ID is the derivation's ID, Label's value on the image and on every
	// container made from it.
	ID string
}

// Derive builds spec's image for t, removes it and its containers when t
// ends, and returns its tag. It fails t on any error.
func Derive(t testing.TB, cli client.APIClient, spec Spec) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	img, err := Build(ctx, cli, spec)
	if img.ID != "" {
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			if err := Remove(ctx, cli, img.ID); err != nil {
				t.Errorf("imagetest: %v", err)
			}
		})
	}
	if err != nil {
		t.Fatalf("imagetest: derive from %s: %v", spec.Base, err)
	}
	return img.Ref
}

// Build derives spec's image. The Image it returns has an ID even on
// error, so that Remove can delete what was left.
func Build(ctx context.Context, cli client.APIClient, spec Spec) (Image, error) {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		return Image{}, err
	}
	img := Image{ID: hex.EncodeToString(b[:]), Ref: spec.Ref}
	if img.Ref == "" {
		img.Ref = "classhub-test/derived:" + img.ID
	}
	base, err := cli.ImageInspect(ctx, spec.Base)
	if err != nil {
		return img, fmt.Errorf("inspect %s: %w", spec.Base, err)
	}
	changes, err := changesFor(base, spec, img.ID)
	if err != nil {
		return img, err
	}
	c, err := cli.ContainerCreate(ctx, &container.Config{
		Image: spec.Base, User: "0:0", WorkingDir: "/",
		Entrypoint: []string{"/bin/sh", "-c"}, Cmd: []string{spec.Script},
		Labels: map[string]string{Label: img.ID},
	}, &container.HostConfig{NetworkMode: "none"}, nil, nil, "")
	if err != nil {
		return img, fmt.Errorf("create a container of %s: %w", spec.Base, err)
	}
	defer cli.ContainerRemove(context.WithoutCancel(ctx), c.ID, container.RemoveOptions{Force: true})
	if err := run(ctx, cli, c.ID); err != nil {
		return img, fmt.Errorf("the script in %s: %w", spec.Base, err)
	}
	fs, err := cli.ContainerExport(ctx, c.ID)
	if err != nil {
		return img, fmt.Errorf("export: %w", err)
	}
	defer fs.Close()
	rc, err := cli.ImageImport(ctx, dockerimage.ImportSource{Source: fs, SourceName: "-"}, img.Ref,
		dockerimage.ImportOptions{Changes: changes, Message: "imagetest from " + spec.Base})
	if err != nil {
		return img, fmt.Errorf("import as %s: %w", img.Ref, err)
	}
	defer rc.Close()
	dec := json.NewDecoder(rc)
	for {
		var msg struct {
			Error string `json:"error"`
		}
		if err := dec.Decode(&msg); err == io.EOF {
			return img, nil
		} else if err != nil {
			return img, fmt.Errorf("import as %s: %w", img.Ref, err)
		}
		if msg.Error != "" {
			return img, fmt.Errorf("import as %s: %s", img.Ref, msg.Error)
		}
	}
}

// run starts the container and waits for it to exit 0; otherwise its
// output says why.
func run(ctx context.Context, cli client.APIClient, id string) error {
	if err := cli.ContainerStart(ctx, id, container.StartOptions{}); err != nil {
		return err
	}
	waitC, errC := cli.ContainerWait(ctx, id, container.WaitConditionNotRunning)
	var code int64
	select {
	case res := <-waitC:
		code = res.StatusCode
	case err := <-errC:
		return err
	}
	if code == 0 {
		return nil
	}
	out := "(no output)"
	if logs, err := cli.ContainerLogs(ctx, id, container.LogsOptions{ShowStdout: true, ShowStderr: true, Tail: "20"}); err == nil {
		var buf strings.Builder
		stdcopy.StdCopy(&buf, &buf, logs)
		logs.Close()
		if s := strings.TrimSpace(buf.String()); s != "" {
			out = s
		}
	}
	return fmt.Errorf("exit code %d: %s", code, out)
}

// changesFor turns spec, over base's settings, into the Dockerfile lines
// the engine's import applies. Imported images carry no settings at all,
// so every one kept from base is written out again.
func changesFor(base dockerimage.InspectResponse, spec Spec, id string) ([]string, error) {
	bc := base.Config
	if bc == nil {
		return nil, fmt.Errorf("%s has no settings to start from", spec.Base)
	}
	env := slices.Clone(bc.Env)
	for _, kv := range spec.Env {
		name, _, ok := strings.Cut(kv, "=")
		if !ok || name == "" {
			return nil, fmt.Errorf("env %q is not KEY=value", kv)
		}
		env = slices.DeleteFunc(env, func(e string) bool { return strings.HasPrefix(e, name+"=") })
		env = append(env, kv)
	}
	var changes []string
	for _, kv := range env {
		name, value, _ := strings.Cut(kv, "=")
		changes = append(changes, "ENV "+name+"="+quote(value))
	}
	pick := func(s, inherited string) string {
		if s != "" {
			return s
		}
		return inherited
	}
	if u := pick(spec.User, bc.User); u != "" {
		changes = append(changes, "USER "+u)
	}
	if w := pick(spec.WorkingDir, bc.WorkingDir); w != "" {
		changes = append(changes, "WORKDIR "+w)
	}
	for _, p := range slices.Sorted(maps.Keys(bc.ExposedPorts)) {
		changes = append(changes, "EXPOSE "+string(p))
	}
	for _, a := range []struct {
		word          string
		spec, inherit []string
	}{{"ENTRYPOINT", spec.Entrypoint, bc.Entrypoint}, {"CMD", spec.Cmd, bc.Cmd}} {
		argv := a.inherit
		if a.spec != nil {
			argv = a.spec
		}
		if argv == nil {
			continue
		}
		j, err := json.Marshal(argv)
		if err != nil {
			return nil, err
		}
		changes = append(changes, a.word+" "+string(j))
	}
	labels := map[string]string{Label: id}
	for k, v := range spec.Labels {
		if k == Label {
			return nil, errors.New("spec.Labels sets imagetest's own label")
		}
		labels[k] = v
	}
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		changes = append(changes, "LABEL "+quote(k)+"="+quote(labels[k]))
	}
	return changes, nil
}

// quote writes s as a double-quoted Dockerfile word, with nothing in it
// expanded.
func quote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, `$`, `\$`)
	return `"` + r.Replace(s) + `"`
}

// Remove deletes the containers and images that carry Label with the value
// id, or any value when id is "": a derivation's leftovers, or every
// derivation's after an interrupted run. Containers go first, so that the
// images are no longer in use.
func Remove(ctx context.Context, cli client.APIClient, id string) error {
	f := filters.NewArgs(filters.Arg("label", Label))
	if id != "" {
		f = filters.NewArgs(filters.Arg("label", Label+"="+id))
	}
	var errs []error
	cs, err := cli.ContainerList(ctx, container.ListOptions{All: true, Filters: f})
	if err != nil {
		return fmt.Errorf("list containers: %w", err)
	}
	for _, c := range cs {
		if err := cli.ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true}); err != nil && !isGone(err) {
			errs = append(errs, fmt.Errorf("remove container %s: %w", c.ID, err))
		}
	}
	imgs, err := cli.ImageList(ctx, dockerimage.ListOptions{All: true, Filters: f})
	if err != nil {
		return errors.Join(append(errs, fmt.Errorf("list images: %w", err))...)
	}
	for _, im := range imgs {
		if _, err := cli.ImageRemove(ctx, im.ID, dockerimage.RemoveOptions{Force: true, PruneChildren: true}); err != nil && !isGone(err) {
			errs = append(errs, fmt.Errorf("remove image %s: %w", im.ID, err))
		}
	}
	return errors.Join(errs...)
}

// isGone reports an object that someone else removed, or is removing,
// meanwhile (another test's cleanup of the same containers).
func isGone(err error) bool { return cerrdefs.IsNotFound(err) || cerrdefs.IsConflict(err) }

// Classic returns the tag of an image classhub built with the classic
// profile, the smallest and so the quickest to derive from, or skips t
// (fails it in CI) when the engine has none.
func Classic(t testing.TB, cli client.APIClient) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	imgs, err := cli.ImageList(ctx, dockerimage.ListOptions{
		Filters: filters.NewArgs(filters.Arg("label", image.LabelProfile+"=classic"))})
	if err != nil {
		t.Fatalf("imagetest: list images: %v", err)
	}
	var tags []string
	for _, im := range imgs {
		tags = append(tags, slices.DeleteFunc(im.RepoTags, func(s string) bool { return s == "<none>:<none>" })...)
	}
	if len(tags) == 0 {
		testenv.Unavailable(t, "no classic notebook image in the engine (`classhub image build --profile classic`)")
	}
	slices.Sort(tags)
	return tags[0]
}
