package image

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/classhub/classhub/hub/config"
)

// Profile is one kind of notebook image classhub builds: the Debian release
// it comes from, what it installs, and what it leaves out.
type Profile struct {
	// Name is what `classhub image build --profile` takes.
	Name string
	// Summary says in a line what a class gets, for help text and lists.
	Summary string
	// Suite is the Debian release the image is built from.
	Suite string
	// Packages are installed with their dependencies.
	Packages []string
	// Dummies are dependencies satisfied by empty stand-ins (see dummyDeb):
	// what Debian needs to build a package but a running server never
	// loads.
	Dummies []string
	// Exclude are paths dpkg leaves out of the image (dpkg's path-exclude
	// patterns): files a package ships that a running server never reads.
	Exclude []string
	// Env is added to the image's environment.
	Env []string
	// KernelVenv makes the Python kernel run in a virtual environment in
	// the student's work volume (see overlay.go), so %pip install works
	// and what it installs outlives the container.
	KernelVenv bool
	// Check is a command run inside the finished root filesystem; a build
	// whose Check fails is no image.
	Check string
	// JupyterHub is the version of Debian's jupyterhub package in Suite,
	// recorded on the image (engine.LabelJupyterHub) so the hub answers
	// each server's version check with its own version.
	JupyterHub string
}

// LabelProfile is the image label naming the profile it was built with.
const LabelProfile = "org.classhub.image-profile"

// DefaultProfile is the profile built when none is named: what a class of
// today works in.
const DefaultProfile = "scipy"

// labNode are the build-time dependencies of trixie's jupyterlab 4.0
// package: Node.js modules, bundlers and test runners it was built with.
// The package carries its own built bundles in /usr/share/jupyter/lab/static,
// so a server never loads these; installed, they are 900 MB of the image.
var labNode = []string{
	"jest", "webpack", "yarnpkg",
	"node-ajv", "node-babel7", "node-call-bind", "node-codemirror-autocomplete", "node-codemirror-commands",
	"node-codemirror-lang-cpp", "node-codemirror-lang-css", "node-codemirror-lang-html", "node-codemirror-lang-java",
	"node-codemirror-lang-javascript", "node-codemirror-lang-json", "node-codemirror-lang-markdown",
	"node-codemirror-lang-php", "node-codemirror-lang-python", "node-codemirror-lang-rust", "node-codemirror-lang-sql",
	"node-codemirror-lang-wast", "node-codemirror-lang-xml", "node-codemirror-language", "node-codemirror-legacy-modes",
	"node-codemirror-search", "node-codemirror-state", "node-codemirror-view", "node-commander", "node-css-loader",
	"node-deepmerge", "node-fortawesome-fontawesome-free", "node-fetch", "node-fs-extra", "node-get-intrinsic",
	"node-glob", "node-json-schema", "node-json5", "node-lezer-common", "node-lezer-generator", "node-lezer-highlight",
	"node-lezer-markdown", "node-license-webpack-plugin", "node-lodash-packages", "node-long", "node-lumino",
	"node-marked", "node-mathjax-full", "node-mini-css-extract-plugin", "node-minimist", "node-path-browserify",
	"node-playwright-test", "node-process", "node-react", "node-react-dom", "node-react-highlight-words",
	"node-react-json-tree", "node-react-paginate", "node-react-toastify", "node-regexp-match-indices",
	"node-rjsf-core", "node-rjsf-utils", "node-rjsf-validator-ajv8", "node-sanitize-html", "node-semver",
	"node-simulate-event", "node-source-map-loader", "node-stdlib-stats", "node-style-loader", "node-style-mod",
	"node-supports-color", "node-terser-webpack-plugin", "node-ts-jest", "node-typestyle", "node-url-parse",
	"node-vega", "node-vega-embed", "node-vega-lite", "node-vega-statistics", "node-vscode-debugprotocol",
	"node-vscode-jsonrpc", "node-vscode-languageserver-protocol", "node-webpack-merge", "node-worker-loader",
	"node-ws", "node-xterm", "node-xterm-addon-canvas", "node-xterm-addon-fit", "node-xterm-addon-web-links",
	"node-xterm-addon-webgl", "node-yjs", "node-y-protocols",
}

// labPackages are JupyterLab 4 and the real jupyterhub-singleuser 5.2 from
// trixie, with a kernel. python3-venv lets a student's %pip install go into
// a virtual environment of their own instead of Debian's packages.
var labPackages = []string{
	"jupyterlab", "jupyterhub", "python3-jupyter-server", "python3-ipykernel", "python3-venv", "python3-pip", "tini",
}

// labDummies leave out, beside labNode: JupyterHub's proxy (and with it
// Node.js), the classic Notebook 6 jupyterhub depends on but a Lab server
// does not load (it brings 70 MB of JavaScript, MathJax among it), and gdb,
// which ipykernel's debugger only attaches with.
var labDummies = append([]string{"node-configurable-http-proxy", "python3-notebook", "gdb"}, labNode...)

// labExclude leaves out the TypeScript sources of JupyterLab's own packages
// (70 MB in /usr/share/nodejs), which only rebuilding Lab reads; Lab serves
// its built bundles from /usr/share/jupyter/lab/static.
var labExclude = []string{"/usr/share/nodejs/*"}

// labEnv makes Lab what a student lands on (jupyterhub-singleuser 5 serves
// whatever the default URL is) and puts the kernel of overlay.go first.
var labEnv = []string{"JUPYTERHUB_DEFAULT_URL=/lab", "JUPYTER_PATH=" + overlayJupyterPath}

// Profiles are the images `classhub image build` makes.
var Profiles = []Profile{
	{
		Name:    "scipy",
		Summary: "JupyterLab 4 with numpy, pandas, matplotlib, scipy, scikit-learn, seaborn and ipywidgets (Debian 13)",
		Suite:   "trixie",
		Packages: append(append([]string(nil), labPackages...),
			"python3-numpy", "python3-pandas", "python3-matplotlib", "python3-scipy", "python3-sklearn",
			"python3-seaborn", "python3-ipywidgets"),
		Dummies:    labDummies,
		Exclude:    labExclude,
		Env:        labEnv,
		KernelVenv: true,
		JupyterHub: "5.2.1",
		Check:      `jupyterhub-singleuser --version && python3 -c "import jupyterlab, numpy, pandas, matplotlib, scipy, sklearn, seaborn, ipywidgets"`,
	},
	{
		Name:       "lab",
		Summary:    "JupyterLab 4 and Python, nothing more (Debian 13)",
		Suite:      "trixie",
		Packages:   labPackages,
		Dummies:    labDummies,
		Exclude:    labExclude,
		Env:        labEnv,
		KernelVenv: true,
		JupyterHub: "5.2.1",
		Check:      `jupyterhub-singleuser --version && python3 -c "import jupyterlab"`,
	},
	{
		Name:    "classic",
		Summary: "the classic Notebook 6 with jupyterhub-singleuser 3.0, the smallest, for old laptops (Debian 12)",
		Suite:   "bookworm",
		// python3-notebook gives the classic notebook UI (bookworm has no
		// JupyterLab); jupyter-* ship the `jupyter` commands the python3-*
		// packages lack.
		Packages: []string{
			"jupyterhub", "python3-notebook", "python3-jupyter-server", "python3-ipykernel",
			"jupyter-core", "jupyter-notebook", "jupyter-server", "jupyter-client", "tini",
		},
		// jupyterhub depends on its proxy, which pulls Node.js (70 MB) that
		// a single-user server never runs; ipykernel's debugger pulls gdb.
		Dummies: []string{"node-configurable-http-proxy", "gdb"},
		// jupyter_server alone serves no UI on bookworm.
		Env:        []string{"JUPYTERHUB_SINGLEUSER_APP=notebook.notebookapp.NotebookApp"},
		JupyterHub: "3.0.0",
		Check:      "jupyterhub-singleuser --version",
	},
}

// LookupProfile returns the profile called name.
func LookupProfile(name string) (Profile, error) {
	var names []string
	for _, p := range Profiles {
		if p.Name == name {
			return p, nil
		}
		names = append(names, p.Name)
	}
	return Profile{}, fmt.Errorf("there is no image profile %q: choose one of %s", name, strings.Join(names, ", "))
}

// BuildCommand is the command that builds ref from Debian packages:
// `classhub image build` for the default image (the default profile's),
// with --profile for a tag of classhub's own repository that names a
// profile (classhub/notebook:classic), and with --tag for any other name.
func BuildCommand(ref string) string {
	if ref == config.DefaultImage {
		return "classhub image build"
	}
	repo, _ := strings.CutSuffix(config.DefaultImage, ":latest")
	if name, ok := strings.CutPrefix(ref, repo+":"); ok {
		if p, err := LookupProfile(name); err == nil {
			return "classhub image build --profile " + p.Name + " --tag " + ref
		}
	}
	return "classhub image build --tag " + ref
}

// debianName is what Debian allows in a package name (Debian Policy 5.6.1).
var debianName = regexp.MustCompile(`^[a-z0-9][a-z0-9+.-]+$`)

// withPackages returns p installing extra Debian packages as well.
func (p Profile) withPackages(extra []string) (Profile, error) {
	for _, name := range extra {
		if !debianName.MatchString(name) {
			return p, fmt.Errorf("%q is not a Debian package name: name packages as apt does, e.g. python3-sympy", name)
		}
	}
	p.Packages = append(append([]string(nil), p.Packages...), extra...)
	return p, nil
}
