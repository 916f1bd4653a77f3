package web

import (
	"archive/zip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/classhub/classhub/hub/auth"
	"github.com/classhub/classhub/hub/core"
	"github.com/classhub/classhub/hub/events"
	"github.com/classhub/classhub/hub/scopes"
	"github.com/classhub/classhub/hub/sse"
)

// The admin page hands out a zip file the instructor uploads: a browser
// cannot send a folder of the instructor's machine as one thing, and the
// hub may be opened from another machine than the one it runs on, so a
// path typed in would name a folder the instructor cannot see. Collect
// answers with a zip of every student's folder and the manifest.

// maxHandoutZip bounds an uploaded zip and what it unpacks to; a bigger
// folder is handed out with `classhub handout` on the hub's machine.
const maxHandoutZip = 1 << 30

// handoutRow is one student's result as the page shows it.
type handoutRow struct {
	User, Summary, Err string
	Kept               []string
}

type handoutData struct {
	Folder, To, CollectDir string
	Rows                   []handoutRow
}

func (wb *Web) adminHandout(w http.ResponseWriter, r *http.Request) {
	p, ok := wb.mustAdminOfAll(w, r, handoutRefusal)
	if !ok {
		return
	}
	wb.handoutPage(w, p, http.StatusOK, "", handoutData{})
}

func (wb *Web) handoutPage(w http.ResponseWriter, p auth.Principal, status int, errMsg string, d handoutData) {
	v := userView(p, "Hand out and collect", "admin")
	v.Error, v.Page = errMsg, d
	wb.render(w, status, "handout", v)
}

// adminHandoutPost unpacks the uploaded zip into a folder named for it
// and hands that out, then shows each student's result.
func (wb *Web) adminHandoutPost(w http.ResponseWriter, r *http.Request) {
	p, ok := wb.mustAdminOfAll(w, r, handoutRefusal)
	if !ok {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxHandoutZip+64<<10)
	if err := r.ParseMultipartForm(32 << 20); err != nil {
		wb.fail(w, r, http.StatusBadRequest, "The zip file could not be read ("+err.Error()+"). Use a zip of at most 1 GB, or `classhub handout` on the hub's machine.")
		return
	}
	defer r.MultipartForm.RemoveAll()
	if !wb.checkCSRF(w, r, p) {
		return
	}
	d := handoutData{Folder: strings.TrimSpace(r.PostFormValue("folder")), To: r.PostFormValue("to")}
	file, hdr, err := r.FormFile("zip")
	if err != nil {
		wb.handoutPage(w, p, http.StatusBadRequest, "Choose a zip file of the folder to hand out.", d)
		return
	}
	defer file.Close()
	if d.Folder == "" {
		d.Folder = strings.TrimSuffix(path.Base(strings.ReplaceAll(hdr.Filename, `\`, "/")), ".zip")
	}
	if err := core.FolderName(d.Folder); err != nil {
		wb.handoutPage(w, p, http.StatusBadRequest, sentence(err.Error()), d)
		return
	}
	tmp, err := os.MkdirTemp("", "classhub-handout-")
	if err != nil {
		wb.handoutPage(w, p, http.StatusInternalServerError, sentence(err.Error()), d)
		return
	}
	defer os.RemoveAll(tmp)
	src := filepath.Join(tmp, d.Folder)
	if err := unzipFolder(file, hdr.Size, src, d.Folder); err != nil {
		wb.handoutPage(w, p, http.StatusBadRequest, sentence(err.Error()), d)
		return
	}
	rs, err := wb.hub.Handout(withJob(r), src, core.SplitNames(d.To), nil)
	if err != nil {
		status := http.StatusBadRequest
		if errors.Is(err, core.ErrNoFolders) {
			status = http.StatusServiceUnavailable
		}
		wb.handoutPage(w, p, status, sentence(strings.ReplaceAll(err.Error(), tmp+string(filepath.Separator), "")), d)
		return
	}
	for _, res := range rs {
		row := handoutRow{User: res.User}
		if res.Err != nil {
			row.Err = sentence(res.Err.Error())
		} else {
			row.Summary = res.Summary()
			for _, f := range res.Files {
				switch f.Outcome {
				case "kept":
					row.Kept = append(row.Kept, f.Path+": the new version is beside it as "+f.Beside)
				case "failed":
					row.Kept = append(row.Kept, f.Path+": "+f.Beside)
				}
			}
		}
		d.Rows = append(d.Rows, row)
	}
	wb.handoutPage(w, p, http.StatusOK, "", d)
}

// withJob is r's context with the run named by the form's job field, as
// the hand-out page's events follow it.
func withJob(r *http.Request) context.Context {
	return core.WithJob(r.Context(), jobName(r.PostFormValue("job")))
}

// jobName is a run's name as the page made it (letters, digits and '-',
// at most 64), "" for anything else: the name only sorts rows between
// pages, and every instructor who may open the feed may see every run.
func jobName(s string) string {
	if len(s) > 64 || strings.IndexFunc(s, func(c rune) bool {
		return !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-')
	}) >= 0 {
		return ""
	}
	return s
}

// handoutRefusal answers whoever may not hand out or collect.
const handoutRefusal = "Handing out and collecting folders is for instructors who may manage every user."

// adminHandoutEvents streams, as server-sent events, each student's
// result of a hand-out or a collect as soon as it is done (the event
// bus's JSON), so that the hand-out page shows their rows while the
// others are still copied: the form's answer, the final page or the zip,
// comes only when all are done. Without JavaScript the page does without
// it. The page passes its anti-forgery token as ?_xsrf=, and the name it
// gave its run (the form's job field) as ?job=, so that it gets that
// run's rows only.
func (wb *Web) adminHandoutEvents(w http.ResponseWriter, r *http.Request) {
	p, release, ok := wb.openInstructorStream(w, r, "hand-out page")
	if !ok {
		return
	}
	defer release()
	ofAll := func(p auth.Principal) bool { return scopes.Allows(p.Scopes, "admin:users", scopes.Target{}) }
	if !ofAll(p) {
		wb.fail(w, r, http.StatusForbidden, handoutRefusal)
		return
	}
	job := jobName(r.URL.Query().Get("job"))
	sub := wb.hub.Bus().Subscribe(256, false, func(e events.Event) bool {
		return (e.Kind == events.HandoutProgress || e.Kind == events.CollectProgress) && (job == "" || e.Job == job)
	})
	defer sub.Close()
	shutdown := wb.shutdownSignal(r)
	stream := sse.Open(w)
	alive := func() bool {
		p, ok := wb.session(r)
		return ok && ofAll(p)
	}
	sse.Follow(r.Context(), stream, sse.Loop{Shutdown: shutdown, KeepAlive: wb.keepAlive, Alive: alive},
		sub.C, func(e events.Event) error { return stream.Send(e) })
}

// adminCollect gathers every student's folder and answers with a zip of
// it. The files are a download, never shown by the hub.
func (wb *Web) adminCollect(w http.ResponseWriter, r *http.Request) {
	p, ok := wb.mustAdminOfAll(w, r, handoutRefusal)
	if !ok || !wb.checkCSRF(w, r, p) {
		return
	}
	d := handoutData{CollectDir: strings.TrimSpace(r.PostFormValue("dir")), To: r.PostFormValue("to")}
	if err := core.FolderName(d.CollectDir); err != nil {
		wb.handoutPage(w, p, http.StatusBadRequest, sentence(err.Error()), d)
		return
	}
	tmp, err := os.MkdirTemp("", "classhub-collect-")
	if err != nil {
		wb.handoutPage(w, p, http.StatusInternalServerError, sentence(err.Error()), d)
		return
	}
	defer os.RemoveAll(tmp)
	out := filepath.Join(tmp, "out")
	if _, err := wb.hub.Collect(withJob(r), d.CollectDir, out, core.SplitNames(d.To), nil); err != nil {
		status := http.StatusBadRequest
		if errors.Is(err, core.ErrNoFolders) {
			status = http.StatusServiceUnavailable
		}
		wb.handoutPage(w, p, status, sentence(strings.ReplaceAll(err.Error(), out, "the download")), d)
		return
	}
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": d.CollectDir + "-collected.zip"}))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if err := zipFolder(w, out, d.CollectDir); err != nil {
		wb.log.Printf("web: collect %s: %v", d.CollectDir, err)
	}
}

// unzipFolder writes the plain files of the zip into dst, a new folder,
// within os.Root; a zip made of one folder named name gives its contents.
// Links, names that leave the folder and more than maxHandoutZip
// unpacked are refused.
func unzipFolder(r io.ReaderAt, size int64, dst, name string) error {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return fmt.Errorf("the upload is not a zip file (%v): zip the folder and upload the zip", err)
	}
	strip := name + "/"
	for _, f := range zr.File {
		if !strings.HasPrefix(f.Name, strip) && !strings.HasPrefix(f.Name, "__MACOSX/") {
			strip = ""
			break
		}
	}
	if err := os.Mkdir(dst, 0o755); err != nil {
		return err
	}
	root, err := os.OpenRoot(dst)
	if err != nil {
		return err
	}
	defer root.Close()
	var total int64
	for _, f := range zr.File {
		rel := strings.TrimPrefix(f.Name, strip)
		if strings.HasPrefix(f.Name, "__MACOSX/") || rel == "" || strings.HasSuffix(rel, "/") {
			continue
		}
		if !filepath.IsLocal(filepath.FromSlash(rel)) || strings.Contains(rel, `\`) {
			return fmt.Errorf("the zip holds %q, a name outside its folder: zip the folder again", f.Name)
		}
		if !f.Mode().IsRegular() {
			return fmt.Errorf("the zip holds %q, which is not a plain file (a link?): zip a folder of plain files", f.Name)
		}
		rel = filepath.FromSlash(rel)
		if d := filepath.Dir(rel); d != "." {
			if err := root.MkdirAll(d, 0o755); err != nil {
				return err
			}
		}
		if err := unzipFile(root, f, rel, &total); err != nil {
			return err
		}
	}
	return nil
}

func unzipFile(root *os.Root, f *zip.File, rel string, total *int64) error {
	in, err := f.Open()
	if err != nil {
		return fmt.Errorf("read %s from the zip: %w", f.Name, err)
	}
	defer in.Close()
	out, err := root.OpenFile(rel, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("the zip holds %s twice, or a file where a folder is: %w", f.Name, err)
	}
	n, err := io.Copy(out, io.LimitReader(in, maxHandoutZip-*total+1))
	*total += n
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("read %s from the zip: %w", f.Name, err)
	}
	if *total > maxHandoutZip {
		return errors.New("the zip unpacks to more than 1 GB: hand it out with `classhub handout` on the hub's machine")
	}
	return nil
}

// zipFolder writes the files under dir into a zip, their names starting
// with top. Only what Collect wrote is there: plain files and folders.
func zipFolder(w io.Writer, dir, top string) error {
	zw := zip.NewWriter(w)
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil || !e.Type().IsRegular() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		info, err := e.Info()
		if err != nil {
			return err
		}
		h, err := zip.FileInfoHeader(info)
		if err != nil {
			return err
		}
		h.Name, h.Method = top+"/"+filepath.ToSlash(rel), zip.Deflate
		zf, err := zw.CreateHeader(h)
		if err != nil {
			return err
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		_, err = io.Copy(zf, in)
		return err
	})
	if cerr := zw.Close(); err == nil {
		err = cerr
	}
	return err
}
