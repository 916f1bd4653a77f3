package app

import (
	"cmp"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/classhub/classhub/hub"
	"github.com/classhub/classhub/hub/config"
)

// Mode choices as the settings window words them.
var modeChoices = []string{
	"Class: students join over the network",
	"Personal: only this laptop",
}

func modeChoice(mode string) string {
	if mode == config.ModePersonal {
		return modeChoices[1]
	}
	return modeChoices[0]
}

// HTTPS choices as the settings window words them, and the tls setting
// each writes. The first keeps tls unset, so it follows the address: HTTPS
// whenever students connect over the network.
var tlsChoices = []struct{ label, value string }{
	{"Automatic: HTTPS when students connect over the network", ""},
	{"HTTPS with a certificate classhub makes", config.TLSAuto},
	{"HTTPS with my own certificate and key", config.TLSFiles},
	{"Plain HTTP: passwords cross the network unencrypted", config.TLSOff},
}

func tlsLabels() []string {
	out := make([]string, len(tlsChoices))
	for i, c := range tlsChoices {
		out[i] = c.label
	}
	return out
}

func tlsChoice(cfg config.Config) string {
	for _, c := range tlsChoices {
		if c.value == cfg.TLS {
			return c.label
		}
	}
	return tlsChoices[0].label
}

// Settings edits the data dir's classhub.toml, the file `classhub serve`
// reads too. Settings the window does not show (network, hub port,
// environment…) are kept as the file has them.
type Settings struct {
	path string
	// base is the file as loaded; inForce is what the running hub uses,
	// which the change sentences compare against.
	base, inForce config.Config
	running       bool
	onRestart     func()

	mode                    *widget.RadioGroup
	port, memory, cpu, idle *widget.Entry
	// image is typed or chosen among the engine's notebook images
	// (SetImages), which imageItem's hint describes.
	image                     *widget.SelectEntry
	images                    map[string]hub.LocalImage
	imageItem                 *widget.FormItem
	form                      *widget.Form
	joinCode                  *widget.Entry
	tls                       *widget.Select
	tlsCert, tlsKey           *widget.Entry
	passwords                 *widget.Check
	claim                     *widget.Check
	ghClient, ghSecret        *widget.Entry
	ghUsers, ghOrgs, ghAdmins *widget.Entry
	pull                      *widget.Select
	materials                 *widget.Entry
	imageMode                 *widget.Select // beside the image: how it runs a server
	oidc                      *oidcForm
	result                    *widget.Label
	save, restart             *widget.Button
	content                   fyne.CanvasObject

	// The owner's password, with which they log in from another computer
	// (the projector's, a tablet); the laptop itself uses login links.
	password, confirm *widget.Entry
	setPassword       *widget.Button
	passwordResult    *widget.Label
	// onPassword sets the owner's password in the open hub; nil when no
	// hub is open.
	onPassword func(password string) error
	// onImage changes the open hub's notebook image with no restart; nil
	// when no hub is open.
	onImage func(ref string) (hub.ImageChange, error)
}

// NewSettings builds the settings form for the config file at path.
// onRestart restarts the hub so saved settings take effect.
func NewSettings(path string, onRestart func()) *Settings {
	s := &Settings{path: path, onRestart: onRestart}
	s.mode = widget.NewRadioGroup(modeChoices, nil)
	s.mode.Required = true
	s.port = widget.NewEntry()
	s.image = widget.NewSelectEntry(nil)
	s.image.SetPlaceHolder("e.g. classhub/notebook:classic or a registry image")
	s.image.OnChanged = func(string) { s.describeImage() }
	s.pull = widget.NewSelect([]string{config.PullIfNotPresent, config.PullAlways, config.PullNever}, nil)
	s.imageMode = widget.NewSelect([]string{config.ImageModeAuto, config.ImageModeJupyterHub, config.ImageModeServer}, nil)
	s.memory = widget.NewEntry()
	s.memory.SetPlaceHolder("e.g. 2G; empty for no limit")
	s.cpu = widget.NewEntry()
	s.cpu.SetPlaceHolder("e.g. 1.5; 0 for no limit")
	s.idle = widget.NewEntry()
	s.idle.SetPlaceHolder("e.g. 1h; 0s never stops idle servers")
	s.joinCode = widget.NewEntry()
	s.joinCode.SetPlaceHolder("empty: only the users you add can log in")
	s.tls = widget.NewSelect(tlsLabels(), func(string) { s.showTLSFiles() })
	s.tlsCert = widget.NewEntry()
	s.tlsCert.SetPlaceHolder("e.g. /etc/ssl/class.pem (PEM, with its chain)")
	s.tlsKey = widget.NewEntry()
	s.tlsKey.SetPlaceHolder("e.g. /etc/ssl/class.key (PEM)")
	s.passwords = widget.NewCheck("People can log in with a classhub password", nil)
	// For an informal workshop only: whoever logs in first as a student
	// chooses the password. Never instructors (hub/auth).
	s.claim = widget.NewCheck("Students need no setup code (workshop)", nil)
	s.ghClient = widget.NewEntry()
	s.ghClient.SetPlaceHolder("empty: no GitHub login")
	// The secret shows as dots, as on GitHub's own page.
	s.ghSecret = widget.NewPasswordEntry()
	s.ghUsers = widget.NewEntry()
	s.ghUsers.SetPlaceHolder("GitHub logins, e.g. ada, grace")
	s.ghOrgs = widget.NewEntry()
	s.ghOrgs.SetPlaceHolder("e.g. my-school, my-school:year-9")
	s.ghAdmins = widget.NewEntry()
	s.ghAdmins.SetPlaceHolder("GitHub logins of instructors")
	s.materials = widget.NewEntry()
	s.materials.SetPlaceHolder("e.g. a dataset or slides folder; empty for none")
	s.oidc = newOIDCForm()
	s.result = widget.NewLabel("")
	s.result.Wrapping = fyne.TextWrapWord
	s.save = widget.NewButtonWithIcon("Save", theme.DocumentSaveIcon(), func() { s.Save() })
	s.save.Importance = widget.HighImportance
	s.restart = widget.NewButtonWithIcon("Restart the hub now", theme.ViewRefreshIcon(), func() {
		s.restart.Disable()
		if s.onRestart != nil {
			s.onRestart()
		}
	})
	s.restart.Hide()
	s.password = widget.NewPasswordEntry()
	s.password.SetPlaceHolder(fmt.Sprintf("at least %d characters", hub.MinPasswordLen))
	s.confirm = widget.NewPasswordEntry()
	s.setPassword = widget.NewButton(LabelSetPassword, func() { s.SetPassword() })
	s.passwordResult = widget.NewLabel("To log in to the hub from another computer, give yourself a password.")
	s.passwordResult.Wrapping = fyne.TextWrapWord

	form := widget.NewForm(
		widget.NewFormItem("Mode", s.mode),
		widget.NewFormItem("Port", s.port),
		widget.NewFormItem("Image", container.NewBorder(nil, nil, nil, s.imageMode, s.image)),
		widget.NewFormItem("Pull policy", s.pull),
		widget.NewFormItem("Memory limit", s.memory),
		widget.NewFormItem("CPU limit", s.cpu),
		widget.NewFormItem("Idle timeout", s.idle),
		widget.NewFormItem("Join code", s.joinCode),
		widget.NewFormItem("HTTPS", s.tls),
		widget.NewFormItem("Certificate file", s.tlsCert),
		widget.NewFormItem("Key file", s.tlsKey),
		widget.NewFormItem("Passwords", s.passwords),
		widget.NewFormItem("First login", s.claim),
		widget.NewFormItem("GitHub client ID", s.ghClient),
		widget.NewFormItem("GitHub client secret", s.ghSecret),
		widget.NewFormItem("GitHub users", s.ghUsers),
		widget.NewFormItem("GitHub organizations", s.ghOrgs),
		widget.NewFormItem("GitHub instructors", s.ghAdmins),
		widget.NewFormItem("Materials folder", s.materials),
	)
	s.form, s.imageItem = form, form.Items[2]
	form.Items[1].HintText = "students' browsers connect to this port"
	form.Items[4].HintText = "per server"
	form.Items[6].HintText = "idle servers are stopped after this long"
	form.Items[7].HintText = "login mode: with a code, students can sign up themselves at /hub/signup"
	form.Items[8].HintText = "the dashboard shows the fingerprint students check"
	form.Items[11].HintText = "turn off only with GitHub or school login on; your tray's links always work"
	form.Items[12].HintText = "the first to log in as a student you added picks the password"
	form.Items[13].HintText = "of a GitHub OAuth app; its callback URL: class link + hub/oauth_callback"
	form.Items[15].HintText = "these people may log in with GitHub"
	form.Items[16].HintText = "their members may log in too"
	form.Items[17].HintText = "they log in as instructors"
	form.Items[18].HintText = "servers see it read-only at " + hub.MaterialsDir + ", changes at once"
	where := widget.NewLabel("Saved to " + path + ", which `classhub serve` reads too.")
	where.Wrapping = fyne.TextWrapWord
	s.content = container.NewVScroll(container.NewVBox(
		where,
		form,
		s.oidc.content,
		container.NewHBox(layout.NewSpacer(), s.restart, s.save),
		s.result,
		widget.NewSeparator(),
		widget.NewLabelWithStyle("Your password", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		widget.NewForm(widget.NewFormItem("New password", s.password), widget.NewFormItem("Again", s.confirm)),
		container.NewHBox(layout.NewSpacer(), s.setPassword),
		s.passwordResult,
	))
	return s
}

// LabelSetPassword is the owner's password button.
const LabelSetPassword = "Set my password"

// SetPasswordFunc makes the password form set the owner's password with
// fn, or turns it off when fn is nil (no hub is open).
func (s *Settings) SetPasswordFunc(fn func(password string) error) {
	s.onPassword = fn
	enable(s.setPassword, fn != nil)
}

// SetImageFunc makes saving a changed image apply it to the open hub at
// once through fn, or leaves it to the next start when fn is nil.
func (s *Settings) SetImageFunc(fn func(ref string) (hub.ImageChange, error)) { s.onImage = fn }

// ImageChanged records that the hub runs ref now, chosen here or on the
// admin page: the form shows it unless its image is being edited, so that
// saving other settings never puts the old image back in the file.
func (s *Settings) ImageChanged(ref string) {
	if strings.TrimSpace(s.image.Text) == s.base.Image {
		s.image.SetText(ref)
	}
	s.base.Image, s.inForce.Image = ref, ref
}

// SetPassword sets the owner's password from the form: typed twice, at
// least hub.MinPasswordLen long. The fields are cleared either way.
func (s *Settings) SetPassword() error {
	pw, again := s.password.Text, s.confirm.Text
	s.password.SetText("")
	s.confirm.SetText("")
	var err error
	switch {
	case s.onPassword == nil:
		err = errors.New("the hub is not running; start it, then set your password")
	case pw != again:
		err = errors.New("the two passwords are not the same; type the same password in both fields")
	default:
		err = s.onPassword(pw)
	}
	if err != nil {
		s.passwordResult.Importance = widget.DangerImportance
		s.passwordResult.SetText("Not set: " + err.Error() + ".")
		return err
	}
	s.passwordResult.Importance = widget.MediumImportance
	s.passwordResult.SetText("Your password is set: log in with it from any computer. You were logged out of the hub's pages everywhere.")
	return nil
}

// Content is the settings window's root object.
func (s *Settings) Content() fyne.CanvasObject { return s.content }

// SetImages offers the engine's notebook images in the image's list.
func (s *Settings) SetImages(images []hub.LocalImage) {
	s.images = make(map[string]hub.LocalImage, len(images))
	refs := make([]string, 0, len(images))
	for _, img := range images {
		s.images[img.Ref] = img
		refs = append(refs, img.Ref)
	}
	s.image.SetOptions(refs)
	s.describeImage()
}

// describeImage says under the image what it is: a profile's summary and
// size for an image classhub built, the size of another in the engine, or
// that one not in the engine is pulled at the next start.
func (s *Settings) describeImage() {
	if s.imageItem == nil {
		return
	}
	ref := strings.TrimSpace(s.image.Text)
	img, local := s.images[ref]
	hint := ""
	switch {
	case local && img.Profile != "":
		hint = fmt.Sprintf("%s, %s", img.Profile, hub.Bytes(uint64(img.Size)))
		if p, err := hub.LookupImageProfile(img.Profile); err == nil {
			hint = fmt.Sprintf("%s (%s, %s)", p.Summary, img.Profile, hub.Bytes(uint64(img.Size)))
		}
	case local:
		hint = fmt.Sprintf("in the engine, %s", hub.Bytes(uint64(img.Size)))
	case ref != "" && s.images != nil:
		hint = "not in the engine: it is pulled when a server first starts (`classhub image build` makes classhub's own)"
	}
	if hint != "" {
		hint += "; servers change image at their next start, their files kept"
	}
	if s.imageItem.HintText != hint {
		s.imageItem.HintText = hint
		s.form.Refresh()
	}
}

// Load fills the form from the file; the hub runs with inForce when
// running is true.
func (s *Settings) Load(inForce config.Config, running bool) error {
	s.inForce, s.running = inForce, running
	cfg, err := config.Load(s.path)
	if err != nil {
		s.result.SetText(err.Error())
		return err
	}
	s.base = cfg
	s.mode.SetSelected(modeChoice(cfg.Mode))
	_, port, _ := net.SplitHostPort(cfg.ListenAddr())
	s.port.SetText(port)
	s.image.SetText(cfg.Image)
	s.pull.SetSelected(cfg.PullPolicy)
	s.imageMode.SetSelected(cmp.Or(cfg.ImageMode, config.ImageModeAuto))
	s.memory.SetText(cfg.MemoryLimit)
	s.cpu.SetText(strconv.FormatFloat(cfg.CPULimit, 'f', -1, 64))
	s.idle.SetText(shortDuration(time.Duration(cfg.IdleTimeout)))
	s.joinCode.SetText(cfg.JoinCode)
	s.tls.SetSelected(tlsChoice(cfg))
	s.tlsCert.SetText(cfg.TLSCert)
	s.tlsKey.SetText(cfg.TLSKey)
	s.showTLSFiles()
	s.passwords.SetChecked(cfg.LocalLogins)
	s.claim.SetChecked(cfg.ClaimAccounts)
	s.ghClient.SetText(cfg.GitHub.ClientID)
	s.ghSecret.SetText(string(cfg.GitHub.ClientSecret))
	s.ghUsers.SetText(strings.Join(cfg.GitHub.AllowedUsers, ", "))
	s.ghOrgs.SetText(strings.Join(cfg.GitHub.AllowedOrganizations, ", "))
	s.ghAdmins.SetText(strings.Join(cfg.GitHub.AdminUsers, ", "))
	s.materials.SetText(cfg.Materials)
	s.oidc.load(cfg.OIDC)
	s.result.SetText("")
	s.restart.Hide()
	s.content.Refresh()
	return nil
}

// Save validates the form, writes the file and says what the changes
// need. A new image applies to the running hub at once (servers move to it
// at their next start); other changes wait for a restart. It returns the
// saved config.
func (s *Settings) Save() (config.Config, error) {
	cfg, err := s.formConfig()
	var image *hub.ImageChange
	if err == nil && s.running && s.onImage != nil && cfg.Image != s.inForce.Image {
		var c hub.ImageChange
		if c, err = s.onImage(cfg.Image); err == nil {
			image = &c
			s.inForce.Image = c.Image
		}
	}
	if err == nil {
		err = config.Save(s.path, cfg)
	}
	if err != nil {
		s.result.Importance = widget.DangerImportance
		s.result.SetText("Not saved: " + err.Error())
		s.content.Refresh()
		return cfg, err
	}
	s.base = cfg
	s.oidc.load(cfg.OIDC)
	s.result.Importance = widget.MediumImportance
	msg := "Saved."
	if image != nil {
		msg += " " + image.Sentence()
	}
	if !s.running {
		msg += " The hub uses these settings when it starts."
	} else if changes := SettingsChanges(s.inForce, cfg); len(changes) > 0 {
		msg += " " + strings.Join(changes, " ")
		s.restart.Enable()
		s.restart.Show()
	} else if image == nil {
		msg += " The hub already runs with these settings."
	}
	s.result.SetText(msg)
	s.content.Refresh()
	return cfg, nil
}

// showTLSFiles enables the certificate and key only for "my own".
func (s *Settings) showTLSFiles() {
	own := s.tls.Selected == tlsChoices[2].label
	enable(s.tlsCert, own)
	enable(s.tlsKey, own)
}

// shortDuration writes d as people would: "1h", "30m", "1h30m".
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// formConfig is the file's settings with the form's values over them.
func (s *Settings) formConfig() (config.Config, error) {
	cfg := s.base
	var errs []error
	cfg.Mode = config.ModeClass
	if s.mode.Selected == modeChoices[1] {
		cfg.Mode = config.ModePersonal
	}
	port, err := strconv.Atoi(strings.TrimSpace(s.port.Text))
	if err != nil || port < 1 || port > 65535 {
		errs = append(errs, fmt.Errorf("port %q is not a port: use a number from 1 to 65535, e.g. 8000", s.port.Text))
	} else {
		cfg.Listen = ListenFor(s.base, cfg.Mode, port)
	}
	cfg.Image = strings.TrimSpace(s.image.Text)
	cfg.PullPolicy = s.pull.Selected
	cfg.ImageMode = s.imageMode.Selected
	cfg.MemoryLimit = strings.TrimSpace(s.memory.Text)
	if t := strings.TrimSpace(s.cpu.Text); t == "" {
		cfg.CPULimit = 0
	} else if cfg.CPULimit, err = strconv.ParseFloat(t, 64); err != nil {
		errs = append(errs, fmt.Errorf("CPU limit %q is not a number: write e.g. 1 or 1.5, or 0 for no limit", t))
	}
	if err := cfg.IdleTimeout.UnmarshalText([]byte(strings.TrimSpace(s.idle.Text))); err != nil {
		errs = append(errs, fmt.Errorf("idle timeout: %w", err))
	}
	cfg.JoinCode = strings.TrimSpace(s.joinCode.Text)
	cfg.TLS, cfg.TLSCert, cfg.TLSKey = "", "", ""
	for _, c := range tlsChoices {
		if c.label == s.tls.Selected {
			cfg.TLS = c.value
		}
	}
	if cfg.TLS == config.TLSFiles {
		cfg.TLSCert, cfg.TLSKey = strings.TrimSpace(s.tlsCert.Text), strings.TrimSpace(s.tlsKey.Text)
	}
	cfg.LocalLogins = s.passwords.Checked
	cfg.ClaimAccounts = s.claim.Checked
	cfg.GitHub.ClientID = strings.TrimSpace(s.ghClient.Text)
	cfg.GitHub.ClientSecret = config.Secret(strings.TrimSpace(s.ghSecret.Text))
	cfg.GitHub.AllowedUsers = names(s.ghUsers.Text)
	cfg.GitHub.AllowedOrganizations = names(s.ghOrgs.Text)
	cfg.GitHub.AdminUsers = names(s.ghAdmins.Text)
	cfg.OIDC = s.oidc.apply(s.base.OIDC)
	// A relative path is Validate's to refuse.
	if cfg.Materials = strings.TrimSpace(s.materials.Text); filepath.IsAbs(cfg.Materials) {
		if err := config.CheckMaterials(cfg.Materials, filepath.Dir(s.path), s.path, cfg.TLSKey); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return cfg, errors.Join(errs...)
	}
	return cfg, cfg.Validate()
}

// names reads a list typed as "a, b c": nil when empty, so the file
// leaves it out.
func names(text string) []string {
	return strings.FieldsFunc(text, func(r rune) bool { return r == ',' || unicode.IsSpace(r) })
}

// ListenFor is the listen address for mode and port. A host the file sets
// on purpose is kept; the mode's own default host follows the mode, so
// switching to personal never leaves the hub open to the LAN. The mode's
// default address is written as "" so the file stays short.
func ListenFor(old config.Config, mode string, port int) string {
	defaultHost := func(m string) string {
		h, _, _ := net.SplitHostPort(config.Config{Mode: m}.ListenAddr())
		return h
	}
	host := ""
	if old.Listen != "" {
		host, _, _ = net.SplitHostPort(old.Listen)
	}
	if host == "" || host == defaultHost(old.Mode) {
		host = defaultHost(mode)
	}
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	if addr == (config.Config{Mode: mode}).ListenAddr() {
		return ""
	}
	return addr
}

// SettingsChanges says, one sentence per kind, what the changes from old
// to new need before they take effect. The hub reads its settings when it
// starts, so every change needs a restart; image and limits also need each
// server's container to be recreated, which happens at its next start.
func SettingsChanges(old, new config.Config) []string {
	var restart, recreate []string
	if old.Mode != new.Mode {
		restart = append(restart, "mode")
	}
	if old.ListenAddr() != new.ListenAddr() {
		restart = append(restart, "port")
	}
	if old.IdleTimeout != new.IdleTimeout {
		restart = append(restart, "idle timeout")
	}
	if old.PullPolicy != new.PullPolicy {
		restart = append(restart, "pull policy")
	}
	if old.JoinCode != new.JoinCode {
		restart = append(restart, "join code")
	}
	if old.TLSMode() != new.TLSMode() || old.TLSCert != new.TLSCert || old.TLSKey != new.TLSKey {
		restart = append(restart, "HTTPS")
	}
	if old.LocalLogins != new.LocalLogins || old.ClaimAccounts != new.ClaimAccounts || !sameGitHub(old.GitHub, new.GitHub) {
		restart = append(restart, "logins")
	}
	if oidcChanged(old.OIDC, new.OIDC) {
		restart = append(restart, "school login")
	}
	if old.Image != new.Image {
		recreate = append(recreate, "image")
	}
	if cmp.Or(old.ImageMode, config.ImageModeAuto) != cmp.Or(new.ImageMode, config.ImageModeAuto) {
		recreate = append(recreate, "image mode")
	}
	if old.MemoryLimit != new.MemoryLimit || old.SwapLimit != new.SwapLimit {
		recreate = append(recreate, "memory limit")
	}
	if old.CPULimit != new.CPULimit {
		recreate = append(recreate, "CPU limit")
	}
	if old.Materials != new.Materials {
		recreate = append(recreate, "materials folder")
	}
	var out []string
	if len(restart) > 0 {
		out = append(out, fmt.Sprintf("Changes to the %s take effect when the hub restarts.", andList(restart)))
	}
	if old.Mode != new.Mode || old.ListenAddr() != new.ListenAddr() || (old.TLSMode() == config.TLSOff) != (new.TLSMode() == config.TLSOff) {
		out = append(out, "The class link changes: share the new one with students.")
	}
	if len(recreate) > 0 {
		out = append(out, fmt.Sprintf("Changes to the %s need each server's container to be recreated: after the hub restarts, "+
			"a stopped server gets a new container at its next start; a running one keeps the old settings until it is "+
			"stopped and started again. Work folders are kept.", andList(recreate)))
	}
	return out
}

// sameGitHub reports whether two [github] settings are the same.
func sameGitHub(a, b config.GitHub) bool {
	return a.ClientID == b.ClientID && a.ClientSecret == b.ClientSecret && a.CallbackURL == b.CallbackURL &&
		a.AuthorizeURL == b.AuthorizeURL && a.TokenURL == b.TokenURL && a.APIURL == b.APIURL &&
		slices.Equal(a.AllowedUsers, b.AllowedUsers) && slices.Equal(a.AllowedOrganizations, b.AllowedOrganizations) &&
		slices.Equal(a.AdminUsers, b.AdminUsers)
}

// andList joins words as "a, b and c".
func andList(words []string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}
