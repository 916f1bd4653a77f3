package app

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// ClassPanelActions are what the class panel's buttons do.
type ClassPanelActions struct {
	Open, Start, Stop, Retry func()
	Join, Forget, UseLocal   func()
}

// ClassPanel is the window while a class hub is current: the learner's
// server there, as the tray shows it, with room for the sentence that says
// what went wrong. Nothing of the instructor's dashboard is in it.
type ClassPanel struct {
	title, status, detail    *widget.Label
	progress                 *widget.ProgressBar
	open, start, stop, retry *widget.Button
	content                  fyne.CanvasObject
}

// NewClassPanel builds the panel; Update fills it.
func NewClassPanel(act ClassPanelActions) *ClassPanel {
	p := &ClassPanel{
		title:    widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		status:   widget.NewLabel(""),
		detail:   widget.NewLabel(""),
		progress: widget.NewProgressBar(),
		open:     widget.NewButtonWithIcon(LabelOpenNotebook, theme.ComputerIcon(), act.Open),
		start:    widget.NewButtonWithIcon(LabelStartMine, theme.MediaPlayIcon(), act.Start),
		stop:     widget.NewButtonWithIcon(LabelStopMine, theme.MediaStopIcon(), act.Stop),
		retry:    widget.NewButtonWithIcon(LabelRetry, theme.ViewRefreshIcon(), act.Retry),
	}
	p.detail.Wrapping = fyne.TextWrapWord
	p.progress.Max = 100
	hubs := container.NewHBox(
		widget.NewButtonWithIcon(LabelJoinClass, theme.ContentAddIcon(), act.Join),
		widget.NewButtonWithIcon(LabelLocalHub, theme.HomeIcon(), act.UseLocal),
		widget.NewButtonWithIcon(LabelForget, theme.DeleteIcon(), act.Forget),
	)
	p.content = container.NewBorder(
		container.NewVBox(p.title, p.status, p.progress, container.NewHBox(p.open, p.start, p.stop, p.retry)),
		hubs, nil, nil, p.detail)
	return p
}

// Content is the panel's root object.
func (p *ClassPanel) Content() fyne.CanvasObject { return p.content }

// Update shows s's current class; the labels and enabled buttons are the
// tray's.
func (p *ClassPanel) Update(s *State) {
	c := s.Class
	if c == nil {
		return
	}
	k := classControlsFor(c)
	p.title.SetText(c.Name + " (" + c.URL + "), as " + c.User)
	p.status.SetText(classStatus(c))
	p.detail.SetText(c.Detail)
	p.progress.SetValue(float64(c.Progress))
	p.progress.Hidden = c.Phase != ClassStarting
	p.open.SetText(k.open)
	p.start.SetText(k.start)
	p.stop.SetText(k.stop)
	enable(p.open, k.canOpen)
	enable(p.start, k.canStart)
	enable(p.stop, k.canStop)
	p.retry.SetText(LabelRetry)
	if c.Phase == ClassExpired {
		p.retry.SetText(LabelLoginAgain)
	}
	p.retry.Hidden = !c.Phase.Trouble()
	p.content.Refresh()
}
