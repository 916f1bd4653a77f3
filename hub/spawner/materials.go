package spawner

import (
	"fmt"
	"os"

	"github.com/docker/docker/api/types/mount"
)

// MaterialsDir is where every server sees the materials folder
// (config.Materials): beside work/ in the file browser, outside the
// student's volume, so nothing of it is copied into their work.
const MaterialsDir = "/home/jovyan/materials"

// materialsMount shares dir read-only. A bind mount, not a copy: a file
// the instructor adds or changes shows in running servers at once. Mounts
// made inside the container do not propagate back to the host, nor the
// host's into it after the start (rprivate). Symbolic links in the folder
// are followed inside the container, so one pointing at /etc/shadow shows
// the container's own file (which jovyan cannot read), never the host's.
func materialsMount(dir string) mount.Mount {
	return mount.Mount{
		Type: mount.TypeBind, Source: dir, Target: MaterialsDir, ReadOnly: true,
		BindOptions: &mount.BindOptions{Propagation: mount.PropagationRPrivate},
	}
}

// checkMaterials says what to do when the materials folder went away after
// the hub checked it (config.CheckMaterials): the engine's own message
// names neither the setting nor a way out.
func checkMaterials(dir string) error {
	fi, err := os.Stat(dir)
	switch {
	case os.IsNotExist(err):
		return fmt.Errorf("the materials folder %s no longer exists: put it back, or choose another folder (or none) in Settings and restart the hub", dir)
	case err != nil:
		return fmt.Errorf("the materials folder %s cannot be read (%v): fix its permissions, or choose another folder in Settings and restart the hub", dir, err)
	case !fi.IsDir():
		return fmt.Errorf("the materials folder %s is no longer a folder: put the folder back, or choose another in Settings and restart the hub", dir)
	}
	return nil
}
