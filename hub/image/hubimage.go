package image

import (
	"archive/tar"
	"bytes"
	"context"
	"debug/elf"
	"fmt"
	"os"
	"time"

	"github.com/classhub/classhub/hub/engine"
	dockerimage "github.com/docker/docker/api/types/image"
)

// HubImage is the default tag of the image `classhub image build-hub`
// makes, which runs the hub itself as a Swarm service.
const HubImage = "classhub/hub:latest"

// RoleHubImage is LabelRole on the hub's image.
const RoleHubImage = "hub-image"

// HubDataDir is where the hub's image keeps its data dir: the service
// mounts the hub's data there.
const HubDataDir = "/data"

// caBundle is where Debian-like systems keep the authorities the hub
// trusts for GitHub and OIDC logins; the image carries this machine's.
const caBundle = "/etc/ssl/certs/ca-certificates.crt"

// BuildHub makes the hub's own image from the classhub binary at exe,
// which must be statically linked (CGO_ENABLED=0, as bin/classhub-nogui
// is): a root filesystem holding only that binary, the machine's CA
// bundle and empty /tmp and /data, imported with the engine's image import,
// so nothing is pulled and no Dockerfile base is needed (it is FROM
// scratch in all but name). It returns the image's ID.
func BuildHub(ctx context.Context, docker Importer, exe, tag, version string) (string, error) {
	if err := checkStatic(exe); err != nil {
		return "", err
	}
	bin, err := os.ReadFile(exe)
	if err != nil {
		return "", fmt.Errorf("read the classhub binary: %w", err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	now := time.Now()
	dir := func(name string, mode int64) error {
		return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: mode, ModTime: now})
	}
	file := func(name string, mode int64, data []byte) error {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(len(data)), ModTime: now}); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	err = dir("tmp", 0o1777)
	if err == nil {
		err = dir("data", 0o777)
	}
	if err == nil {
		err = file("classhub", 0o755, bin)
	}
	if ca, rerr := os.ReadFile(caBundle); rerr == nil && err == nil {
		if err = dir("etc", 0o755); err == nil {
			if err = dir("etc/ssl", 0o755); err == nil {
				if err = dir("etc/ssl/certs", 0o755); err == nil {
					err = file(caBundle[1:], 0o644, ca)
				}
			}
		}
	}
	if err == nil {
		err = tw.Close()
	}
	if err != nil {
		return "", fmt.Errorf("pack the hub's image: %w", err)
	}
	if version == "" {
		version = "dev"
	}
	changes := []string{
		`ENTRYPOINT ["/classhub"]`,
		`CMD ["serve", "--backend", "swarm", "--data-dir", "` + HubDataDir + `"]`,
		"ENV HOME=" + HubDataDir,
		"WORKDIR " + HubDataDir,
		fmt.Sprintf(`LABEL %s=%s %s=%q org.classhub.built-by="classhub image build-hub"`, engine.LabelRole, RoleHubImage, engine.LabelVersion, version),
	}
	rc, err := docker.ImageImport(ctx, dockerimage.ImportSource{Source: &buf, SourceName: "-"}, tag,
		dockerimage.ImportOptions{Changes: changes, Message: "classhub image build-hub"})
	if err != nil {
		return "", fmt.Errorf("import into Docker: %w", engine.Explain(err))
	}
	defer rc.Close()
	return readImportID(rc)
}

// checkStatic refuses a dynamically linked binary, which would not run in
// an image with no C library.
func checkStatic(exe string) error {
	f, err := elf.Open(exe)
	if err != nil {
		return fmt.Errorf("the classhub binary %s is not a Linux executable (%v): run build-hub with a Linux build of classhub", exe, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("the classhub binary %s is linked against the C library, so it cannot run in the hub's image: build one without cgo (`make bin/classhub-nogui`, i.e. CGO_ENABLED=0 go build -tags ci) and run build-hub with it", exe)
		}
	}
	return nil
}
