package app

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/classhub/classhub/hub"
)

// DashboardActions are what the dashboard's buttons do.
type DashboardActions struct {
	// Per user.
	Start, Stop, Delete, Reset, Select func(user string)
	// For the class.
	StartAll, StopAll, AddUsers, ImportRoster, SetupCodes func()
	// Handout and Collect hand a folder out to every student and gather
	// it back; KeptFiles shows the files kept of deleted students.
	Handout, Collect, KeptFiles                     func()
	CopyClassLink, ClassPage, Settings, Retry, Logs func()
	// HubLog shows the hub's own log; SaveLogs saves what the log pane
	// shows, whole, to a file.
	HubLog, SaveLogs func()
	// JoinClass makes the app a learner's client of a class hub.
	JoinClass func()
}

// Labels of the log pane.
const (
	LabelHubLogTitle = "The hub's log (click a user above for their server's)"
	LabelHubLog      = "Hub log"
	LabelSaveLogs    = "Save a copy…"
)

// logTail is how many lines of a log the dashboard shows.
const logTail = 200

// Dashboard is the instructor's window: the hub's addresses and class
// link with its QR code, Docker and the image, the users with their
// servers, and one server's logs. It renders State and nothing else.
type Dashboard struct {
	act DashboardActions
	now func() time.Time

	banner       *fyne.Container
	bannerTitle  *widget.Label
	bannerDetail *widget.Label
	retry        *widget.Button

	hubLine   *widget.Label
	classLink *widget.Hyperlink
	copyLink  *widget.Button
	classPage *widget.Button
	qr        *canvas.Image
	qrURL     string
	addrs     *widget.Label
	https     *widget.Label
	bridge    *widget.Label
	docker    *widget.Label
	// protection lists the doctor's weak checks: what leaves students or
	// the laptop less protected than classhub can, and what to do. Its
	// row shows only while there is one.
	protection, protectionKey *widget.Label
	image                     *widget.Label
	imageBar                  *widget.ProgressBar
	// capacity says how many students the laptop holds, capacityDetail
	// where the figures come from.
	capacity, capacityDetail *widget.Label

	startAll, stopAll, addUsers, importRoster, setupCodes, settings *widget.Button
	handout, collect, keptFiles                                     *widget.Button

	table *widget.Table
	rows  []UserRow
	owner string

	logsTitle *widget.Label
	logs      *widget.Label
	logScroll *container.Scroll
	logsBtn   *widget.Button
	hubLogBtn *widget.Button
	saveLogs  *widget.Button
	notice    *widget.Label

	content fyne.CanvasObject
}

// Table columns.
const (
	colName = iota
	colState
	colActivity
	colCPU
	colMemory
	colActions
	numCols
)

// Labels of a row's Stop button: while the server starts it cancels the
// start, as the tray's LabelCancelStartMine does for the owner.
const (
	LabelStop        = "Stop"
	LabelCancelStart = "Cancel start"
)

var colTitles = [numCols]string{"User", "Server", "Last activity", "CPU", "Memory", ""}
var colWidths = [numCols]float32{170, 250, 120, 70, 144, 380}

// NewDashboard builds the dashboard; now gives the time "last activity"
// is counted from.
func NewDashboard(act DashboardActions, now func() time.Time) *Dashboard {
	d := &Dashboard{act: act, now: now}

	d.bannerTitle = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	d.bannerTitle.Importance = widget.DangerImportance
	d.bannerTitle.Wrapping = fyne.TextWrapWord
	d.bannerDetail = widget.NewLabel("")
	d.bannerDetail.Wrapping = fyne.TextWrapWord
	d.retry = widget.NewButtonWithIcon(LabelRetry, theme.ViewRefreshIcon(), act.Retry)
	d.retry.Importance = widget.HighImportance
	d.banner = container.NewVBox(d.bannerTitle, d.bannerDetail, container.NewHBox(d.retry), widget.NewSeparator())
	d.banner.Hide()

	d.hubLine = widget.NewLabel("")
	d.classLink = widget.NewHyperlink("", nil)
	d.copyLink = widget.NewButtonWithIcon(LabelCopyLink, theme.ContentCopyIcon(), act.CopyClassLink)
	d.classPage = widget.NewButtonWithIcon(LabelClassPage, theme.ComputerIcon(), act.ClassPage)
	d.qr = newQRCanvas()
	d.addrs = widget.NewLabel("")
	d.https = widget.NewLabel("")
	d.https.Wrapping = fyne.TextWrapWord
	d.bridge = widget.NewLabel("")
	d.docker = widget.NewLabel("")
	d.docker.Wrapping = fyne.TextWrapWord
	d.protection = widget.NewLabel("")
	d.protection.Wrapping = fyne.TextWrapWord
	d.protection.Importance = widget.WarningImportance
	d.image = widget.NewLabel("")
	d.image.Wrapping = fyne.TextWrapWord
	d.imageBar = widget.NewProgressBar()
	d.imageBar.Hide()
	d.capacity = widget.NewLabel("")
	d.capacityDetail = widget.NewLabel("")
	d.capacityDetail.Wrapping = fyne.TextWrapWord
	d.capacityDetail.SizeName = theme.SizeNameCaptionText

	key := func(s string) *widget.Label {
		return widget.NewLabelWithStyle(s, fyne.TextAlignTrailing, fyne.TextStyle{Bold: true})
	}
	d.protectionKey = key("To improve")
	d.protectionKey.Hide()
	d.protection.Hide()
	facts := container.New(layout.NewFormLayout(),
		key("Hub"), d.hubLine,
		key("Class link"), container.NewBorder(nil, nil, nil, container.NewHBox(d.copyLink, d.classPage), d.classLink),
		key("Listening on"), d.addrs,
		key("HTTPS"), d.https,
		key("Containers"), d.bridge,
		key("Docker"), d.docker,
		d.protectionKey, d.protection,
		key("Image"), container.NewVBox(d.image, d.imageBar),
		key("Capacity"), container.NewVBox(d.capacity, d.capacityDetail),
	)
	status := container.NewBorder(nil, nil, nil, d.qr, facts)

	d.startAll = widget.NewButtonWithIcon(LabelStartAll, theme.MediaPlayIcon(), act.StartAll)
	d.stopAll = widget.NewButtonWithIcon(LabelStopAll, theme.MediaStopIcon(), act.StopAll)
	d.addUsers = widget.NewButtonWithIcon("Add users…", theme.ContentAddIcon(), act.AddUsers)
	d.importRoster = widget.NewButtonWithIcon("Import roster…", theme.FolderOpenIcon(), act.ImportRoster)
	d.setupCodes = widget.NewButtonWithIcon(LabelSetupCodes, theme.AccountIcon(), act.SetupCodes)
	d.settings = widget.NewButtonWithIcon(LabelSettings, theme.SettingsIcon(), act.Settings)
	d.handout = widget.NewButtonWithIcon(LabelHandOutFolder, theme.UploadIcon(), act.Handout)
	d.collect = widget.NewButtonWithIcon(LabelCollectFolder, theme.DownloadIcon(), act.Collect)
	d.keptFiles = widget.NewButtonWithIcon(LabelKeptFiles, theme.HistoryIcon(), act.KeptFiles)
	// The class's buttons wrap onto a second row in a narrow window.
	toolbar := container.NewBorder(nil, nil, nil, container.NewVBox(d.settings), container.New(layout.NewRowWrapLayout(),
		widget.NewLabelWithStyle("Users", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		d.startAll, d.stopAll, d.addUsers, d.importRoster, d.setupCodes, d.handout, d.collect, d.keptFiles))

	d.table = d.newTable()

	d.logsTitle = widget.NewLabelWithStyle(LabelHubLogTitle, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	d.logsBtn = widget.NewButtonWithIcon("Refresh logs", theme.ViewRefreshIcon(), act.Logs)
	d.hubLogBtn = widget.NewButtonWithIcon(LabelHubLog, theme.ListIcon(), act.HubLog)
	d.saveLogs = widget.NewButtonWithIcon(LabelSaveLogs, theme.DocumentSaveIcon(), act.SaveLogs)
	d.logs = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
	d.logs.Selectable = true
	d.logScroll = container.NewScroll(d.logs)
	logs := container.NewBorder(container.NewHBox(d.logsTitle, layout.NewSpacer(), d.hubLogBtn, d.saveLogs, d.logsBtn), nil, nil, nil, d.logScroll)

	d.notice = widget.NewLabel("")
	d.notice.Wrapping = fyne.TextWrapWord

	split := container.NewVSplit(d.table, logs)
	split.SetOffset(0.6)
	// Joining a class hub makes this laptop a learner's: a way out of the
	// instructor's dashboard, at its foot.
	join := widget.NewButtonWithIcon(LabelJoinClass, theme.LoginIcon(), act.JoinClass)
	d.content = container.NewBorder(
		container.NewVBox(d.banner, status, widget.NewSeparator(), toolbar),
		container.NewBorder(nil, nil, nil, join, d.notice), nil, nil, split)
	return d
}

// Content is the dashboard's root object.
func (d *Dashboard) Content() fyne.CanvasObject { return d.content }

func (d *Dashboard) newTable() *widget.Table {
	t := widget.NewTableWithHeaders(
		func() (int, int) { return len(d.rows), numCols },
		func() fyne.CanvasObject {
			l := widget.NewLabel("")
			l.Truncation = fyne.TextTruncateEllipsis
			start := widget.NewButtonWithIcon("Start", theme.MediaPlayIcon(), nil)
			stop := widget.NewButtonWithIcon(LabelStop, theme.MediaStopIcon(), nil)
			del := widget.NewButtonWithIcon("Delete", theme.DeleteIcon(), nil)
			reset := widget.NewButtonWithIcon(LabelReset, theme.AccountIcon(), nil)
			return container.NewStack(l, container.NewHBox(start, stop, del, reset))
		},
		d.updateCell,
	)
	t.ShowHeaderColumn = false
	t.CreateHeader = func() fyne.CanvasObject {
		return widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	}
	t.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		if id.Col >= 0 && id.Col < numCols {
			o.(*widget.Label).SetText(colTitles[id.Col])
		}
	}
	for i, w := range colWidths {
		t.SetColumnWidth(i, w)
	}
	t.OnSelected = func(id widget.TableCellID) {
		if id.Row >= 0 && id.Row < len(d.rows) && d.act.Select != nil {
			d.act.Select(d.rows[id.Row].Name)
		}
	}
	return t
}

func (d *Dashboard) updateCell(id widget.TableCellID, o fyne.CanvasObject) {
	stack := o.(*fyne.Container)
	l := stack.Objects[0].(*widget.Label)
	btns := stack.Objects[1].(*fyne.Container)
	if id.Row < 0 || id.Row >= len(d.rows) {
		return
	}
	r := d.rows[id.Row]
	if id.Col == colActions {
		l.Hide()
		btns.Show()
		start, stop, del := btns.Objects[0].(*widget.Button), btns.Objects[1].(*widget.Button), btns.Objects[2].(*widget.Button)
		reset := btns.Objects[3].(*widget.Button)
		name := r.Name
		start.OnTapped = func() { d.act.Start(name) }
		stop.OnTapped = func() { d.act.Stop(name) }
		del.OnTapped = func() { d.act.Delete(name) }
		reset.OnTapped = func() { d.act.Reset(name) }
		// Resetting yourself would log you out with nothing to log in
		// with: the owner sets a password in Settings instead.
		enable(reset, name != d.owner && d.act.Reset != nil)
		enable(start, r.Phase == ServerStopped || r.Phase == ServerFailed)
		// A start stuck in the queue or on a slow image can be stopped:
		// the hub cancels it.
		stopText := LabelStop
		if r.Phase == ServerStarting {
			stopText = LabelCancelStart
		}
		if stop.Text != stopText {
			stop.SetText(stopText)
			btns.Refresh() // lay out the wider or narrower button
		}
		enable(stop, r.Phase == ServerReady || r.Phase == ServerStarting)
		enable(del, !r.Phase.Busy())
		return
	}
	btns.Hide()
	l.Show()
	l.SetText(cellText(r, id.Col, d.owner, d.now()))
}

func enable(w fyne.Disableable, on bool) {
	if on {
		w.Enable()
	} else {
		w.Disable()
	}
}

// cellText is what the users table shows in column col for r.
func cellText(r UserRow, col int, owner string, now time.Time) string {
	switch col {
	case colName:
		name := r.Name
		if r.Name == owner {
			name += " (you)"
		} else if r.Admin {
			name += " (admin)"
		}
		return name
	case colState:
		s := r.Phase.String()
		switch {
		case r.Phase == ServerStarting && r.Progress > 0:
			s = fmt.Sprintf("%s %d%%", s, r.Progress)
			if r.Detail != "" {
				s += " · " + r.Detail
			}
		case r.Phase == ServerFailed && r.Detail != "":
			s += ": " + firstLine(r.Detail)
		}
		return s
	case colActivity:
		return Ago(now, r.LastActivity)
	case colCPU:
		if !r.HasStats {
			return "–"
		}
		return fmt.Sprintf("%.0f%%", r.Stats.CPUPercent)
	case colMemory:
		if !r.HasStats {
			return "–"
		}
		return hub.Bytes(r.Stats.MemoryBytes) + " / " + hub.Bytes(r.Stats.MemoryLimit)
	}
	return ""
}

// Ago says how long before now t was, the way people say it.
func Ago(now, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d/time.Minute))
	case d < 24*time.Hour:
		return fmt.Sprintf("%d h ago", int(d/time.Hour))
	}
	return t.Local().Format("2 Jan 15:04")
}

// Update renders s.
func (d *Dashboard) Update(s *State) {
	d.updateBanner(s)
	running := s.Hub == HubRunning

	switch s.Hub {
	case HubRunning:
		d.hubLine.SetText("running")
	case HubStarting:
		d.hubLine.SetText("starting…")
	case HubError:
		d.hubLine.SetText("not running")
	default:
		d.hubLine.SetText("stopped")
	}

	link := s.ClassURL
	if !running {
		link = ""
	}
	if link == "" {
		d.classLink.SetText("none yet")
		d.classLink.SetURL(nil)
	} else {
		u, _ := url.Parse(link)
		d.classLink.SetText(link)
		d.classLink.SetURL(u)
	}
	enable(d.copyLink, link != "")
	enable(d.classPage, link != "" && d.act.ClassPage != nil)
	if link != d.qrURL {
		d.qrURL = link
		setQR(d.qr, link)
	}

	text, warn := httpsLine(s)
	d.https.SetText(text)
	d.https.Importance = widget.MediumImportance
	if warn {
		d.https.Importance = widget.DangerImportance
	}
	d.https.Refresh()

	if running {
		d.addrs.SetText(s.PublicAddr + " (students and browsers)")
		n := s.Network
		d.bridge.SetText(fmt.Sprintf("network %s (%s), bridge %s; servers call the hub at %s", n.Name, n.Subnet, n.Gateway, s.InternalAddr))
	} else {
		d.addrs.SetText("–")
		d.bridge.SetText("–")
	}
	d.docker.SetText(dockerLine(s))
	if weak := weakLines(s); weak != "" {
		d.protection.SetText(weak)
		d.protectionKey.Show()
		d.protection.Show()
	} else {
		d.protectionKey.Hide()
		d.protection.Hide()
	}
	d.image.SetText(imageLine(s.Image))
	if s.Image.Busy {
		if s.Image.Progress >= 0 {
			d.imageBar.SetValue(s.Image.Progress)
		}
		d.imageBar.Show()
	} else {
		d.imageBar.Hide()
	}

	for _, b := range []*widget.Button{d.startAll, d.stopAll, d.addUsers, d.importRoster, d.setupCodes, d.handout, d.collect} {
		enable(b, running)
	}
	enable(d.keptFiles, running && d.act.KeptFiles != nil)
	if running && s.Capacity != "" {
		d.capacity.SetText(s.Capacity)
		// A swarm's machines under the figures, one a line: the
		// instructor owns the laptop and sees every student's name.
		d.capacityDetail.SetText(strings.Join(append([]string{s.CapacityDetail}, s.Nodes...), "\n"))
	} else {
		d.capacity.SetText("–")
		d.capacityDetail.SetText("")
	}

	d.owner = s.Owner
	d.rows = append(d.rows[:0], s.Users...)
	d.table.Refresh()

	if s.Selected == "" {
		// The hub's log is a file: there is something to read even
		// when the hub did not open, when it is needed most.
		d.logsTitle.SetText(LabelHubLogTitle)
		enable(d.logsBtn, true)
		enable(d.hubLogBtn, false)
	} else {
		d.logsTitle.SetText("Logs of " + s.Selected + "'s server")
		enable(d.logsBtn, running)
		enable(d.hubLogBtn, d.act.HubLog != nil)
	}
	enable(d.saveLogs, d.act.SaveLogs != nil && (s.Selected == "" || running))
	if d.logs.Text != s.Logs {
		d.logs.SetText(s.Logs)
		// The newest lines matter most. The scroll sizes its content on
		// Refresh, and only then knows where the bottom is.
		d.logScroll.Refresh()
		d.logScroll.ScrollToBottom()
	}
	d.notice.SetText(s.Notice)
	if s.NoticeFailed {
		d.notice.Importance = widget.WarningImportance
	} else {
		d.notice.Importance = widget.MediumImportance
	}
	d.notice.Refresh()
	// The banner, progress bar and wrapped lines change heights: lay the
	// window out again.
	d.content.Refresh()
}

func (d *Dashboard) updateBanner(s *State) {
	var title, detail string
	trouble, bad := s.Trouble()
	switch {
	case s.Hub == HubError:
		title = "classhub could not start"
		detail = s.Problem
		// Docker's own checks explain a failed start best; others (the
		// LAN, the firewall) did not stop the hub from opening.
		if bad && trouble.Advice != "" && dockerChecks[trouble.Name] {
			detail = strings.TrimSpace(trouble.Detail + "\nTo fix it: " + trouble.Advice)
		}
	case bad:
		title = "Check " + trouble.Name + ": " + trouble.Detail
		if trouble.Advice != "" {
			detail = "To fix it: " + trouble.Advice
		}
	}
	if title == "" {
		d.banner.Hide()
		return
	}
	d.bannerTitle.SetText(title)
	d.bannerDetail.SetText(detail)
	if s.Hub == HubError {
		d.retry.Show()
	} else {
		d.retry.Hide()
	}
	d.banner.Show()
}

// dockerChecks are the doctor's checks of Docker itself.
var dockerChecks = map[string]bool{"docker": true, "engine": true, "engine version": true}

// httpsLine says how the hub serves and what people check; warn is true
// when passwords cross the network in clear.
func httpsLine(s *State) (text string, warn bool) {
	switch {
	case s.Hub != HubRunning:
		return "–", false
	case s.Fingerprint != "":
		// Two lines of 16 pairs, as the class page shows it.
		fp := s.Fingerprint
		if i := len(fp) / 2; len(fp) > 40 && fp[i] == ':' {
			fp = fp[:i+1] + "\n" + fp[i+1:]
		}
		return "on; students check this certificate fingerprint (SHA-256) against what their browser shows:\n" + fp, false
	case s.Exposed:
		return "off. Passwords cross the network unencrypted: turn on HTTPS in Settings.", true
	}
	return "off (only this laptop connects)", false
}

func dockerLine(s *State) string {
	if c, ok := s.DoctorLine("engine version"); ok && c.OK {
		return c.Detail
	}
	if c, ok := s.DoctorLine("engine"); ok && !c.OK {
		return "not usable: " + c.Detail
	}
	if c, ok := s.DoctorLine("docker"); ok && !c.OK {
		return "not installed"
	}
	if s.Hub == HubRunning {
		return "running (checking…)"
	}
	return "checking…"
}

// weakLines lists, a line each, the doctor's checks that passed but are
// weak, with what to do; "" when there is none, or the doctor has not run.
func weakLines(s *State) string {
	if s.Doctor == nil {
		return ""
	}
	var weak []string
	for _, c := range s.Doctor.Checks {
		if c.OK && c.Weak {
			weak = append(weak, c.Name+": "+c.Detail+"; "+c.Advice+".")
		}
	}
	return strings.Join(weak, "\n")
}

func imageLine(im ImageStatus) string {
	switch {
	case im.Busy:
		return im.Ref + ": " + im.Detail
	case !im.Checked && im.Detail != "":
		return im.Ref + ": " + im.Detail
	case !im.Checked:
		return im.Ref
	case im.Present:
		return im.Detail
	}
	return im.Ref + " is missing: run `" + hub.ImageBuildCommand(im.Ref) + "`"
}
