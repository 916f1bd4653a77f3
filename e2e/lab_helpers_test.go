package e2e

import (
	"fmt"
	"strings"
	"time"

	"github.com/chromedp/chromedp"
)

// labFetch is a script for a page of a Jupyter server that fetches url as
// Lab's own scripts do, with Jupyter's anti-forgery token from its cookie
// (jupyterhub-singleuser 5 wants it on every cookie-authenticated call,
// reads included; a plain server behind the hub's gate ignores it), and
// evaluates to then, an expression of the response r. A fetch Chromium
// drops because the machine's addresses changed (other Docker networks
// come and go) evaluates to failed.
func labFetch(url, init, then, failed string) string {
	return fmt.Sprintf(`(async () => {
  const xsrf = (document.cookie.match(/(?:^|; )_xsrf=([^;]*)/) || [])[1] || "";
  try {
    const r = await fetch(%q, Object.assign({headers: {"Content-Type": "application/json", "X-XSRFToken": decodeURIComponent(xsrf)}}, %s));
    return %s;
  } catch (e) { return %s; }
})()`, url, init, then, failed)
}

// labPutNotebook writes a notebook of content (its JSON) at path in the
// student's server through the contents API, as Lab writes, and fails the
// step unless it is saved.
func labPutNotebook(st *tab, student, path, content string) {
	put := labFetch("/user/"+student+"/api/contents/"+path,
		fmt.Sprintf(`{method: "PUT", body: JSON.stringify({type: "notebook", format: "json", content: %s})}`, content),
		"r.status", "0")
	if status := eval[int](st, put, chromedp.EvalAwaitPromise); status != 201 && status != 200 {
		st.fatalf("writing %s answered %d", path, status)
	}
}

// labOpenNotebook opens the notebook at path in Lab (lab is the student's
// /user/NAME/lab) and waits until its kernel can run a cell: Lab shows the
// kernel idle from the REST API before its websocket is through (the
// server answers the handshake once the kernel replies), and a cell run in
// between can be lost, so it waits until the server counts the connection;
// a cell run before then makes Lab ask which kernel to use, which it
// answers.
func labOpenNotebook(st *tab, base, lab, student, path string) {
	st.run("open the notebook in Lab", 2*time.Minute, chromedp.Navigate(base+lab+"/tree/"+path))
	// The first kernel start of a Lab image makes the student's virtual
	// environment, which takes a while on a busy machine.
	st.waitJS("the notebook's kernel is connected and idle", 3*time.Minute,
		`document.querySelector(".jp-Notebook .jp-Cell") && document.querySelector('.jp-Notebook-ExecutionIndicator[data-status="idle"]')`)
	connected := labFetch("/user/"+student+"/api/kernels", "{}",
		`r.ok && (await r.json()).some(k => k.connections > 0 && k.execution_state === "idle")`, "false")
	for deadline := time.Now().Add(3 * time.Minute); !eval[bool](st, connected, chromedp.EvalAwaitPromise); time.Sleep(time.Second) {
		if time.Now().After(deadline) {
			st.fatalf("the server never counted a connection to an idle kernel")
		}
	}
	if eval[bool](st, `!!document.querySelector(".jp-Dialog .jp-mod-accept")`) {
		st.click("Select the notebook's kernel", ".jp-Dialog .jp-mod-accept")
	}
}

// labWaitSaved waits until the notebook at path, as the server has it
// saved, holds want in its first cell's outputs. It reads it only once
// Lab says the save is done: jupyter_server writes a notebook in place,
// and a read while it writes (slow on a busy machine) finds half a file,
// which the server then sets aside as .invalid, failing the save.
func labWaitSaved(st *tab, student, path, want string) {
	st.waitJS("Lab has saved the notebook", time.Minute, `!document.querySelector(".lm-TabBar-tab.jp-mod-dirty")`)
	saved := labFetch("/user/"+student+"/api/contents/"+path, "{}",
		`r.ok ? JSON.stringify((await r.json()).content.cells[0].outputs) : r.status + ""`, "String(e)")
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(time.Second) {
		got := eval[string](st, saved, chromedp.EvalAwaitPromise)
		if strings.Contains(got, want) {
			return
		}
		if time.Now().After(deadline) {
			st.fatalf("after saving, %s has no %s in its output: %.300s", path, want, got)
		}
	}
}
